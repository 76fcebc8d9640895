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
