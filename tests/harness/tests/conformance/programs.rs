//! One test per behaviour-area guest program (tests/programs/src/bin/<name>.rs), each on a
//! fresh store directory. Test names equal program names so `foreach_program!` can check that
//! every program has a test (`pub` so that the crate root may name them).

use tempfile::TempDir;

/// Runs `program` with a fresh empty directory preopened as `/data`; it must exit with 0.
fn run_fresh(program: &str) {
    let dir = TempDir::new().expect("create a temporary store directory");
    harness::run_ok(program, dir.path(), &[]);
}

#[test]
pub fn store_basic() {
    run_fresh("store_basic");
}

#[test]
pub fn keys_awkward() {
    run_fresh("keys_awkward");
}

#[test]
pub fn buckets() {
    run_fresh("buckets");
}

#[test]
pub fn list_keys_paging() {
    run_fresh("list_keys_paging");
}

#[test]
pub fn increment() {
    run_fresh("increment");
}

#[test]
pub fn cas() {
    run_fresh("cas");
}

#[test]
pub fn batch() {
    run_fresh("batch");
}

#[test]
pub fn limits() {
    run_fresh("limits");
}

#[test]
pub fn root_missing() {
    let dir = TempDir::new().expect("create a temporary directory");
    let out = harness::run(
        "root_missing",
        dir.path(),
        &[],
        &[("VIRT_STORE_DIR", "/nonexistent/store")],
    )
    .expect("run root_missing");
    assert_eq!(
        out.status, 0,
        "root_missing failed\n--- stdout\n{}\n--- stderr\n{}",
        out.stdout, out.stderr
    );
}

#[test]
pub fn draft2_store() {
    run_fresh("draft2_store");
}

#[test]
pub fn draft2_cas() {
    run_fresh("draft2_cas");
}

#[test]
pub fn draft2_atomics_batch() {
    run_fresh("draft2_atomics_batch");
}

#[test]
pub fn draft_store() {
    run_fresh("draft_store");
}

#[test]
pub fn draft_increment() {
    run_fresh("draft_increment");
}

#[test]
pub fn draft_batch() {
    run_fresh("draft_batch");
}

/// wasmtime's own keyvalue scenario, on a store preset as wasmtime's in-memory host is preset
/// in the differential suite.
#[test]
pub fn draft_wasmtime_scenario() {
    let dir = TempDir::new().expect("create a temporary store directory");
    harness::preset(dir.path(), &[("hello", "world"), ("atomics_key", "5")])
        .expect("preset the store");
    harness::run_ok("draft_wasmtime_scenario", dir.path(), &[]);
}

/// What an app on `0.2.0-draft` writes, a later app on draft3 and draft2 reads from the same
/// store.
#[test]
pub fn cross_version() {
    let dir = TempDir::new().expect("create a temporary store directory");
    harness::run_ok("cross_version", dir.path(), &["write"]);
    harness::run_ok("cross_version", dir.path(), &["read"]);
}
