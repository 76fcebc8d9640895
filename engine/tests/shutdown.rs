//! Dropping the last engine stops its threads: nothing of an engine runs on
//! after it is gone (the engine_model fuzz target's leak check found the TTL
//! sweeper sleeping on past its engine). Its own test binary, so that no
//! other test's engine is running alongside.

use tarn_engine::{Durability, Engine, Options};

/// Threads of this process whose name is `name`.
fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == name)
        .count()
}

#[test]
#[cfg(target_os = "linux")]
fn dropping_the_engine_stops_the_ttl_sweeper_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(Options {
        data_dir: Some(dir.path().to_path_buf()),
        durability: Durability::Sync,
        // Far longer than the test: a sweeper that only notices the drop
        // when it wakes would still be there.
        ttl_sweep_interval_ms: 600_000,
        ..Options::default()
    })
    .expect("open");
    // A thread names itself once it runs: give it up to a second.
    for _ in 0..200 {
        if threads_named("tarn-ttl") == 1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(threads_named("tarn-ttl"), 1);
    let clone = engine.clone();
    drop(engine);
    assert_eq!(threads_named("tarn-ttl"), 1, "a clone still holds it");
    drop(clone);
    assert_eq!(threads_named("tarn-ttl"), 0);
}
