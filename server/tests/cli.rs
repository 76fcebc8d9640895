//! The `tarn` command line. (Having integration tests also makes
//! `cargo test --workspace` build the binary the end-to-end tests run.)

use std::process::Command;

fn tarn() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tarn"))
}

#[test]
fn help_lists_every_option() {
    let out = tarn().arg("--help").output().expect("run tarn");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for opt in [
        "--host",
        "--port",
        "--data-dir",
        "--durability",
        "--in-memory",
        "--log-level",
        "--region",
        "--account-id",
    ] {
        assert!(text.contains(opt), "--help lacks {opt}: {text}");
    }
}

#[test]
fn unknown_options_and_bad_values_fail() {
    let out = tarn().arg("--no-such-option").output().expect("run tarn");
    assert!(!out.status.success());
    let out = tarn()
        .args(["--durability", "sometimes"])
        .output()
        .expect("run tarn");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sometimes"));
}

#[test]
fn an_unusable_data_directory_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").expect("write");
    let out = tarn()
        .args(["--port", "0", "--data-dir"])
        .arg(&file)
        .output()
        .expect("run tarn");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open data directory"));
}

#[test]
fn unknown_log_levels_are_refused() {
    for bad in ["loud", "tarn=loud", "debug,loud", ""] {
        let out = tarn()
            .args(["--in-memory", "--port", "0", "--log-level", bad])
            .output()
            .expect("run tarn");
        assert!(!out.status.success(), "--log-level {bad:?} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("invalid value")
                && err.contains("--log-level")
                && err.contains("expected error, warn, info, debug, trace or off"),
            "--log-level {bad:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "it started: {:?}", out.stdout);
    }
}
