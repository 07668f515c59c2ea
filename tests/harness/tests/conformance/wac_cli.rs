//! The README's compositions with the real `wac` CLI: `wac plug` and `wac compose compose.wac`,
//! each run on the real `wasmtime run`. `scripts/test` installs both CLIs.

use crate::wasmtime_cli::check_cli;
use std::path::Path;
use std::process::Command;

/// How to get the CLI, for the failure messages.
const INSTALL: &str =
    "run `scripts/test`, which installs it (`cargo install --locked wac-cli@0.12.0 --no-default-features`)";

/// The repository's `compose.wac`.
pub(crate) const COMPOSE_WAC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../compose.wac");

/// Runs `wac ARGS`, which must succeed.
pub(crate) fn wac(args: &[&str]) {
    let output = Command::new("wac")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `wac` ({e}); {INSTALL}"));
    assert!(
        output.status.success(),
        "`wac {}` failed ({}):\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs `wasmtime run --dir DATA::/data APP`, which must succeed; returns its stdout.
fn wasmtime_run(data: &Path, app: &Path) -> String {
    check_cli();
    let output = Command::new("wasmtime")
        .arg("run")
        .arg("--dir")
        .arg(format!("{}::/data", data.display()))
        .arg(app)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "`wasmtime run` of `{}` failed ({}):\n{}",
        app.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Writes the embedded provider beside the app, as `virt-store provider -o` does.
pub(crate) fn provider_file(dir: &Path) -> String {
    let path = dir.join("provider.wasm");
    std::fs::write(&path, virt_store::PROVIDER).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn wac_plug_output_runs_on_wasmtime_and_equals_virt_store_plug() {
    let dir = tempfile::tempdir().unwrap();
    let provider = provider_file(dir.path());
    let out = dir.path().join("counter.kv.wasm");
    let app = virt_store_harness::artifacts::COUNTER;
    wac(&[
        "plug",
        "--plug",
        &provider,
        app,
        "-o",
        out.to_str().unwrap(),
    ]);

    let composed = std::fs::read(&out).unwrap();
    let ours = virt_store::plug(&std::fs::read(app).unwrap(), virt_store::PROVIDER).unwrap();
    assert!(composed == ours, "`wac plug` and `virt-store plug` differ");

    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    assert!(wasmtime_run(&data, &out).contains("run #1"));
    assert!(wasmtime_run(&data, &out).contains("run #2"));
}

#[test]
fn compose_wac_composes_a_command_and_an_http_handler() {
    let dir = tempfile::tempdir().unwrap();
    let provider = provider_file(dir.path());
    let provider_dep = format!("virt-store:provider={provider}");

    let counter = dir.path().join("counter.kv.wasm");
    let app_dep = format!("app:app={}", virt_store_harness::artifacts::COUNTER);
    wac(&[
        "compose",
        COMPOSE_WAC,
        "--dep",
        &provider_dep,
        "--dep",
        &app_dep,
        "-o",
        counter.to_str().unwrap(),
    ]);
    let imports = virt_store::imports(&std::fs::read(&counter).unwrap()).unwrap();
    assert!(
        !imports.iter().any(|i| virt_store::is_keyvalue(i)),
        "{imports:?}"
    );
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    assert!(wasmtime_run(&data, &counter).contains("run #1"));
    // The same store as `virt-store plug`'s output: they are one provider on one format.
    let plugged = dir.path().join("plugged.wasm");
    let app = std::fs::read(virt_store_harness::artifacts::COUNTER).unwrap();
    std::fs::write(
        &plugged,
        virt_store::plug(&app, virt_store::PROVIDER).unwrap(),
    )
    .unwrap();
    assert!(wasmtime_run(&data, &plugged).contains("run #2"));

    let http = dir.path().join("http.kv.wasm");
    let app_dep = format!("app:app={}", virt_store_harness::artifacts::HTTP_COUNTER);
    wac(&[
        "compose",
        COMPOSE_WAC,
        "--dep",
        &provider_dep,
        "--dep",
        &app_dep,
        "-o",
        http.to_str().unwrap(),
    ]);
    let composed = std::fs::read(&http).unwrap();
    let imports = virt_store::imports(&composed).unwrap();
    assert!(
        !imports.iter().any(|i| virt_store::is_keyvalue(i)),
        "{imports:?}"
    );
    let exports = virt_store::exports(&composed).unwrap();
    assert!(
        exports
            .iter()
            .any(|e| e.starts_with("wasi:http/incoming-handler@")),
        "{exports:?}"
    );
}
