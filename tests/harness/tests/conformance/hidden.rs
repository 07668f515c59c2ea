//! The store's directory is hidden from the app it is plugged into. The `hidden_store` program
//! (Rust, `std::fs`) tries to list, read, write and delete under it, and to reach it with `..` and
//! through a symlink from another preopen, and must fail at each; it must succeed at all four in
//! an ordinary directory, and still reach its own data through wasi:keyvalue. It runs on the
//! embedded wasmtime (`virt-store run`'s runtime) and on the real `wasmtime run` of what the real
//! `wac plug` and `wac compose compose.wac` make.

use crate::wac_cli::{provider_file, wac, COMPOSE_WAC};
use crate::wasmtime_cli::check_cli;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The store at `/data`, an ordinary directory at `/pub` (with a symlink `escape` to the store),
/// and the store's directory again at `/alias`: the setup the README promises about.
struct Dirs {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    public: PathBuf,
}

impl Dirs {
    fn new() -> Dirs {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let public = tmp.path().join("pub");
        std::fs::create_dir(&data).unwrap();
        std::fs::create_dir(&public).unwrap();
        // The host resolves symlinks, and refuses one that leaves the preopen.
        #[cfg(unix)]
        std::os::unix::fs::symlink(&data, public.join("escape")).unwrap();
        Dirs {
            _tmp: tmp,
            data,
            public,
        }
    }

    /// The probe's arguments: everything that must fail, then the one directory that must work.
    fn args(&self) -> Vec<&'static str> {
        let mut args = vec!["hidden", "/data", "/alias", "/pub/../data"];
        if cfg!(unix) {
            args.push("/pub/escape");
        }
        args.extend(["visible", "/pub"]);
        args
    }

    /// Fails unless the store is as the provider left it: its marker there, nothing of the app's.
    #[track_caller]
    fn assert_store_untouched(&self) {
        assert!(
            self.data.join("virt-store-format").is_file(),
            "the store's marker is gone"
        );
        assert!(
            self.data.join("buckets").is_dir(),
            "the store's buckets are gone"
        );
        assert!(
            !self.data.join("intruder").exists(),
            "the app wrote into the store's directory"
        );
    }
}

#[test]
fn embedded_wasmtime_hides_the_store_and_a_second_preopen_of_it() {
    let dirs = Dirs::new();
    let extra = [
        (dirs.public.as_path(), "/pub"),
        (dirs.data.as_path(), "/alias"),
    ];
    for run in 1..=2 {
        let output = virt_store_harness::run_with_dirs(
            "hidden_store",
            &dirs.data,
            &extra,
            &dirs.args(),
            &[],
        )
        .unwrap();
        assert_eq!(output.status, 0, "{output}");
        assert!(output.stdout.contains("hidden /alias: list: "), "{output}");
        assert!(
            output.stdout.contains(&format!("probe-runs: {run}\n")),
            "{output}"
        );
        dirs.assert_store_untouched();
    }
}

#[test]
fn a_store_below_a_preopen_hides_the_whole_preopen() {
    let dirs = Dirs::new();
    std::fs::create_dir(dirs.data.join("kv")).unwrap();
    std::fs::write(dirs.data.join("virt-store-format"), "not the store's").unwrap();
    let output = virt_store_harness::run(
        "hidden_store",
        &dirs.data,
        &["hidden", "/data", "/data/kv"],
        &[("VIRT_STORE_DIR", "/data/kv")],
    )
    .unwrap();
    assert_eq!(output.status, 0, "{output}");
    assert!(dirs.data.join("kv/virt-store-format").is_file(), "{output}");
    let beside = std::fs::read_to_string(dirs.data.join("virt-store-format")).unwrap();
    assert_eq!(
        beside, "not the store's",
        "the app reached a file beside the store"
    );
}

#[test]
fn preopens_inside_the_store_and_under_a_relative_name_are_hidden() {
    let dirs = Dirs::new();
    // A first run makes the store, so that its `buckets` can be preopened on its own.
    virt_store_harness::run_ok("hidden_store", &dirs.data, &["hidden", "/data"]);
    let buckets = dirs.data.join("buckets");
    let extra = [
        (buckets.as_path(), "/data/buckets"),
        (dirs.public.as_path(), "/pub"),
    ];
    let output = virt_store_harness::run_with_dirs(
        "hidden_store",
        &dirs.data,
        &extra,
        &["hidden", "/data", "/data/buckets", "visible", "/pub"],
        &[],
    )
    .unwrap();
    assert_eq!(output.status, 0, "{output}");
    assert!(output.stdout.contains("probe-runs: 2\n"), "{output}");

    // `.` (as `wasmtime run --dir .` names it) holds a relative store directory.
    let dot = dirs.public.join("dot");
    std::fs::create_dir_all(dot.join("kv")).unwrap();
    let output = virt_store_harness::run_with_dirs(
        "hidden_store",
        &dirs.data,
        &[(dot.as_path(), ".")],
        &["hidden", ".", "kv", "/kv", "visible", "/data"],
        &[("VIRT_STORE_DIR", "kv")],
    )
    .unwrap();
    assert_eq!(output.status, 0, "{output}");
    assert!(dot.join("kv/virt-store-format").is_file(), "{output}");
}

/// `wasmtime run` of `component` with the three preopens of [`Dirs`] and `args`: its stdout.
fn wasmtime_run(dirs: &Dirs, component: &Path) -> String {
    check_cli();
    let output = Command::new("wasmtime")
        .arg("run")
        .arg("--dir")
        .arg(format!("{}::/data", dirs.data.display()))
        .arg("--dir")
        .arg(format!("{}::/pub", dirs.public.display()))
        .arg("--dir")
        .arg(format!("{}::/alias", dirs.data.display()))
        .arg(component)
        .args(dirs.args())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "`wasmtime run` of `{}` failed ({}):\n--- stdout\n{}--- stderr\n{}",
        component.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn wac_plug_output_hides_the_store_and_its_alias_on_wasmtime_run() {
    let dirs = Dirs::new();
    let tmp = tempfile::tempdir().unwrap();
    let provider = provider_file(tmp.path());
    let out = tmp.path().join("hidden_store.kv.wasm");
    let app = virt_store_harness::artifacts::HIDDEN_STORE;
    wac(&[
        "plug",
        "--plug",
        &provider,
        app,
        "-o",
        out.to_str().unwrap(),
    ]);
    let ours = virt_store::plug(&std::fs::read(app).unwrap(), virt_store::PROVIDER).unwrap();
    assert!(
        std::fs::read(&out).unwrap() == ours,
        "`wac plug` and `virt-store plug` differ"
    );

    let first = wasmtime_run(&dirs, &out);
    assert!(first.contains("hidden /data: list: NotFound"), "{first}");
    assert!(first.contains("hidden /alias: list: NotFound"), "{first}");
    assert!(
        first.contains("visible /pub: list, read, write, delete ok"),
        "{first}"
    );
    assert!(first.contains("probe-runs: 1\n"), "{first}");
    assert!(wasmtime_run(&dirs, &out).contains("probe-runs: 2\n"));
    dirs.assert_store_untouched();
}

#[test]
fn compose_wac_hides_the_store_on_wasmtime_run() {
    let dirs = Dirs::new();
    let tmp = tempfile::tempdir().unwrap();
    let provider = format!("virt-store:provider={}", provider_file(tmp.path()));
    let app = format!("app:app={}", virt_store_harness::artifacts::HIDDEN_STORE);
    let out = tmp.path().join("hidden_store.kv.wasm");
    wac(&[
        "compose",
        COMPOSE_WAC,
        "--dep",
        &provider,
        "--dep",
        &app,
        "-o",
        out.to_str().unwrap(),
    ]);
    let output = wasmtime_run(&dirs, &out);
    assert!(output.contains("hidden /data: list: NotFound"), "{output}");
    assert!(output.contains("probe-runs: 1\n"), "{output}");
    dirs.assert_store_untouched();

    // The line the README gives for WAC tools whose spread matches names exactly: the app's
    // import by its own version, the provider's export by its.
    let explicit = tmp.path().join("explicit.wac");
    let compose = std::fs::read_to_string(COMPOSE_WAC).unwrap().replace(
        "new app:app { ...store, ... }",
        r#"new app:app { "wasi:filesystem/preopens@0.2.6": store["wasi:filesystem/preopens@0.2.4"], ...store, ... }"#,
    );
    assert!(
        compose.contains("wasi:filesystem/preopens@0.2.6"),
        "compose.wac changed: {compose}"
    );
    std::fs::write(&explicit, compose).unwrap();
    let out = tmp.path().join("explicit.kv.wasm");
    wac(&[
        "compose",
        explicit.to_str().unwrap(),
        "--dep",
        &provider,
        "--dep",
        &app,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(wasmtime_run(&dirs, &out).contains("probe-runs: 2\n"));
    dirs.assert_store_untouched();
}
