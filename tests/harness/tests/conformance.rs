//! The conformance suite: the test programs, composed with the provider, run on wasmtime.
//!
//! Every program in `tests/programs/src/bin/` must be run by some test; the check at the bottom
//! makes a program without one a compile error.

// A test crate's root looks for modules beside itself; these live in `conformance/`.
#[path = "conformance/composition.rs"]
mod composition;
#[path = "conformance/concurrency.rs"]
mod concurrency;
#[path = "conformance/differential.rs"]
mod differential;
#[path = "conformance/hidden.rs"]
mod hidden;
#[path = "conformance/kill.rs"]
mod kill;
#[path = "conformance/persistence.rs"]
mod persistence;
#[path = "conformance/programs.rs"]
mod programs;
#[path = "conformance/serve.rs"]
mod serve;
#[path = "conformance/valkey.rs"]
mod valkey;
#[path = "conformance/wac_cli.rs"]
mod wac_cli;
#[path = "conformance/wasmtime_cli.rs"]
mod wasmtime_cli;

/// Fails to compile unless the test program `$name` has a test: a `pub fn $name` in `programs`
/// (a `#[test]` of the same name; `pub` so that this module may name it), or an entry in the
/// list of utility programs below.
///
/// Utility programs are tools that other tests drive, not tests of their own; each entry names
/// the tests that run it.
macro_rules! assert_test_exists {
    // concurrency::increment_loop_*, concurrency::mixed_increments_on_one_key
    (increment_loop) => {};
    // concurrency::cas_increment_loop_*, concurrency::mixed_increments_on_one_key
    (cas_increment_loop) => {};
    // hidden::*, and virt-store/tests/{cli,interop}.rs
    (hidden_store) => {};
    // serve::hidden_store_http_under_wasmtime_serve_sees_no_store
    (hidden_store_http) => {};
    // kill::*
    (kill_workload) => {};
    // persistence::*
    (kv_get) => {};
    // persistence::*
    (kv_set) => {};
    ($name:ident) => {
        const _: fn() = programs::$name;
    };
}

virt_store_harness::foreach_program!(assert_test_exists);
