//! Many instances at once on one store directory, one thread each: no lost updates.

use std::path::Path;
use tempfile::TempDir;
use virt_store_harness::run_ok;

/// Runs `work(i)` for `i` in `0..threads`, each on its own thread, and waits for all.
fn on_threads(threads: usize, work: impl Fn(usize) + Sync) {
    std::thread::scope(|scope| {
        for i in 0..threads {
            let work = &work;
            scope.spawn(move || work(i));
        }
    });
}

/// The value of `key` in `bucket` ("" for the default bucket), as `kv_get` prints it.
fn value(dir: &Path, key: &str, bucket: &str) -> String {
    run_ok("kv_get", dir, &[key, bucket])
        .stdout
        .trim_end()
        .to_owned()
}

#[test]
fn increment_loop_from_4_threads_loses_nothing() {
    let dir = TempDir::new().unwrap();
    on_threads(4, |_| {
        run_ok("increment_loop", dir.path(), &["counter", "250"]);
    });
    assert_eq!(value(dir.path(), "counter", ""), "1000");
}

#[test]
fn cas_increment_loop_from_4_threads_loses_nothing() {
    let dir = TempDir::new().unwrap();
    on_threads(4, |_| {
        run_ok("cas_increment_loop", dir.path(), &["counter", "100"]);
    });
    assert_eq!(value(dir.path(), "counter", ""), "400");
}

#[test]
fn mixed_increments_on_one_key_lose_nothing() {
    let dir = TempDir::new().unwrap();
    on_threads(4, |i| {
        if i % 2 == 0 {
            run_ok("increment_loop", dir.path(), &["counter", "150"]);
        } else {
            run_ok("cas_increment_loop", dir.path(), &["counter", "100"]);
        }
    });
    assert_eq!(value(dir.path(), "counter", ""), "500");
}

#[test]
fn increments_in_two_buckets_stay_apart() {
    let dir = TempDir::new().unwrap();
    on_threads(4, |i| {
        let bucket = if i % 2 == 0 { "" } else { "other" };
        run_ok("increment_loop", dir.path(), &["counter", "100", bucket]);
    });
    assert_eq!(value(dir.path(), "counter", ""), "200");
    assert_eq!(value(dir.path(), "counter", "other"), "200");
}
