//! The interop matrix: apps in several languages, plugged with `virt-store plug`, run on several
//! runtimes, with their data read back by `virt-store get` and carried from one runtime to the
//! other. Each cell of the README's matrix is one entry of [`CELLS`]; a check keeps the README
//! equal to it (`BLESS=1` rewrites the README's table).
//!
//! `scripts/test` installs the toolchains: `npm ci` in `examples/js` (jco,
//! componentize-js, preview2-shim) and `pip install componentize-py==0.25.1`.

use std::path::{Path, PathBuf};
use std::process::Command;

const VIRT_STORE: &str = env!("CARGO_BIN_EXE_virt-store");
const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// One cell: runtime, language, `wasi:keyvalue` version, and the test that exercises it.
struct Cell {
    runtime: &'static str,
    language: &'static str,
    version: &'static str,
    app: &'static str,
    test: &'static str,
}

const CELLS: &[Cell] = &[
    Cell {
        runtime: "wasmtime run 49.0.3",
        language: "Rust",
        version: "0.2.0-draft3",
        app: "examples/counter",
        test: "virt-store/tests/interop.rs: rust_counter_on_jco_and_wasmtime_share_a_store",
    },
    Cell {
        runtime: "wasmtime run 49.0.3",
        language: "Rust",
        version: "0.2.0-draft",
        app: "tests/programs draft_wasmtime_scenario",
        test: "tests/harness/tests/conformance/wasmtime_cli.rs",
    },
    Cell {
        runtime: "wasmtime serve 49.0.3",
        language: "Rust",
        version: "0.2.0-draft3",
        app: "examples/http-counter",
        test: "tests/harness/tests/conformance/serve.rs",
    },
    Cell {
        runtime: "virt-store run (wasmtime 48.0.8 embedded)",
        language: "Rust",
        version: "0.2.0-draft3, 0.2.0-draft2, 0.2.0-draft",
        app: "tests/programs (all)",
        test: "tests/harness/tests/conformance/programs.rs",
    },
    Cell {
        runtime: "jco 1.35.0 transpile, Node 20, preview2-shim 0.26.1",
        language: "Rust",
        version: "0.2.0-draft3",
        app: "examples/counter",
        test: "virt-store/tests/interop.rs: rust_counter_on_jco_and_wasmtime_share_a_store",
    },
    Cell {
        runtime: "wasmtime run 49.0.3",
        language: "Python (componentize-py 0.25.1)",
        version: "0.2.0-draft3",
        app: "examples/python",
        test: "virt-store/tests/interop.rs: python_app_on_wasmtime_and_jco_shares_a_store",
    },
    Cell {
        runtime: "jco 1.35.0 transpile, Node 20, preview2-shim 0.26.1",
        language: "Python (componentize-py 0.25.1)",
        version: "0.2.0-draft3",
        app: "examples/python",
        test: "virt-store/tests/interop.rs: python_app_on_wasmtime_and_jco_shares_a_store",
    },
    Cell {
        runtime: "wasmtime run 49.0.3",
        language: "JavaScript (jco componentize 1.35.0, componentize-js 0.23.0)",
        version: "0.2.0-draft3",
        app: "examples/js",
        test: "virt-store/tests/interop.rs: javascript_app_on_wasmtime_and_jco_shares_a_store",
    },
    Cell {
        runtime: "jco 1.35.0 transpile, Node 20, preview2-shim 0.26.1",
        language: "JavaScript (jco componentize 1.35.0, componentize-js 0.23.0)",
        version: "0.2.0-draft3",
        app: "examples/js",
        test: "virt-store/tests/interop.rs: javascript_app_on_wasmtime_and_jco_shares_a_store",
    },
];

/// componentize-py's CPython uses extended constant expressions, which Node 20 compiles only
/// with this flag (later Node versions by default).
const EXTENDED_CONST: &str = "--experimental-wasm-extended-const";

fn examples_js() -> PathBuf {
    Path::new(REPO).join("examples/js")
}

/// Runs a command that must succeed; returns its stdout.
#[track_caller]
fn ok(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n--- stdout\n{}--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// `node` with jco's CLI; preview2-shim 0.26 starts with no preopens, and jco's own tools read
/// their inputs through it, so `preopen-root.mjs` gives them the host's root.
fn jco(args: &[&str]) -> Command {
    let js = examples_js();
    assert!(
        js.join("node_modules/@bytecodealliance/jco").is_dir(),
        "jco is not installed; run `scripts/test`, which installs it in examples/js from the lockfile"
    );
    let mut command = Command::new("node");
    command
        .current_dir(&js)
        .arg(EXTENDED_CONST)
        .arg("--import")
        .arg("./preopen-root.mjs")
        .arg("node_modules/@bytecodealliance/jco/dist/jco.js")
        .args(args);
    command
}

/// `virt-store plug APP -o OUT`.
fn plug(app: &Path, out: &Path) {
    ok(Command::new(VIRT_STORE)
        .arg("plug")
        .arg(app)
        .arg("-o")
        .arg(out));
}

/// `virt-store get --data DATA KEY`.
fn get(data: &Path, key: &str) -> String {
    ok(Command::new(VIRT_STORE)
        .args(["get", "--data"])
        .arg(data)
        .arg(key))
}

/// Transpiles a composed component for Node under `examples/js/.transpiled/` (where the
/// transpiled code finds preview2-shim) and returns the module's path.
struct Transpiled {
    dir: tempfile::TempDir,
}

impl Transpiled {
    fn new(component: &Path) -> Transpiled {
        let parent = examples_js().join(".transpiled");
        std::fs::create_dir_all(&parent).unwrap();
        let dir = tempfile::tempdir_in(parent).unwrap();
        ok(&mut jco(&[
            "transpile",
            component.to_str().unwrap(),
            "-o",
            dir.path().to_str().unwrap(),
            "--name",
            "app",
        ]));
        Transpiled { dir }
    }

    /// `node run-on-node.mjs app.js DATA ARGS...`: stdout.
    fn run(&self, data: &Path, args: &[&str]) -> String {
        let module = self.dir.path().join("app.js");
        ok(Command::new("node")
            .current_dir(examples_js())
            .arg(EXTENDED_CONST)
            .arg("run-on-node.mjs")
            .arg(module)
            .arg(data)
            .args(args))
    }
}

/// `wasmtime run --dir DATA::/data --invoke 'run([ARGS])' APP`: the `ok(...)` it prints.
fn wasmtime_invoke(data: &Path, app: &Path, args: &[&str]) -> String {
    let list: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
    ok(Command::new("wasmtime")
        .arg("run")
        .arg("--dir")
        .arg(format!("{}::/data", data.display()))
        .arg("--invoke")
        .arg(format!("run([{}])", list.join(", ")))
        .arg(app))
}

/// Plugs the interop app (examples/interop-wit/app.wit) built in some language, then runs it on
/// `wasmtime run` and on jco in Node against one store, and reads the store on the host.
fn interop_app_shares_a_store_across_runtimes(app: &Path, dir: &Path) {
    let composed = dir.join("app.kv.wasm");
    plug(app, &composed);
    let data = dir.join("data");
    std::fs::create_dir(&data).unwrap();

    assert_eq!(
        wasmtime_invoke(&data, &composed, &["visit", "ada"]),
        "ok(\"visit 1 by ada\")\n"
    );
    assert_eq!(
        wasmtime_invoke(&data, &composed, &["note", "hello"]),
        "ok(\"note 1\")\n"
    );
    assert_eq!(
        wasmtime_invoke(&data, &composed, &["bogus"]),
        "err(\"usage: visit NAME | note TEXT | show\")\n"
    );
    let on_node = Transpiled::new(&composed);
    assert_eq!(on_node.run(&data, &["visit", "bob"]), "visit 2 by bob\n");
    assert_eq!(on_node.run(&data, &["note", "from node"]), "note 2\n");
    assert_eq!(
        wasmtime_invoke(&data, &composed, &["show"]),
        "ok(\"visits=2 last=bob notes=hello|from node\")\n"
    );
    assert_eq!(get(&data, "visits"), "2");
    assert_eq!(get(&data, "last"), "bob");
    assert_eq!(get(&data, "note:2"), "from node");
}

#[test]
fn javascript_app_on_wasmtime_and_jco_shares_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("js-app.wasm");
    ok(&mut jco(&[
        "componentize",
        "app.js",
        "--wit",
        "../interop-wit",
        "--world-name",
        "app",
        // StarlingMonkey imports wasi:http for `fetch` unless told not to; `wasmtime run` has none.
        "--disable",
        "http",
        "fetch-event",
        "-o",
        app.to_str().unwrap(),
    ]));
    interop_app_shares_a_store_across_runtimes(&app, dir.path());
}

#[test]
fn python_app_on_wasmtime_and_jco_shares_a_store() {
    let version = Command::new("componentize-py").arg("--version").output();
    assert!(
        version.as_ref().is_ok_and(|v| String::from_utf8_lossy(&v.stdout).contains("0.25.1")),
        "componentize-py 0.25.1 is not installed ({version:?}); run `scripts/test`, which installs it (pip install componentize-py==0.25.1)"
    );
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("py-app.wasm");
    ok(Command::new("componentize-py")
        .current_dir(Path::new(REPO).join("examples/python"))
        .args([
            "-d",
            "../interop-wit",
            "-w",
            "app",
            "componentize",
            "app",
            "-o",
        ])
        .arg(&app));
    interop_app_shares_a_store_across_runtimes(&app, dir.path());
}

#[test]
fn rust_counter_on_jco_and_wasmtime_share_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let composed = dir.path().join("counter.kv.wasm");
    plug(Path::new(harness::artifacts::COUNTER), &composed);
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();

    let on_node = Transpiled::new(&composed);
    assert!(on_node
        .run(&data, &["note", "written on node"])
        .contains("saved note:000001"));
    assert!(on_node.run(&data, &[]).contains("run #1"));
    let on_wasmtime = ok(Command::new("wasmtime")
        .arg("run")
        .arg("--dir")
        .arg(format!("{}::/data", data.display()))
        .arg(&composed));
    assert!(on_wasmtime.contains("run #2"), "{on_wasmtime}");
    assert!(on_wasmtime.contains("written on node"), "{on_wasmtime}");
    assert!(on_node.run(&data, &[]).contains("run #3"));
    assert_eq!(get(&data, "visits"), "3");
}

const BEGIN: &str = "<!-- interop:begin -->\n";
const END: &str = "<!-- interop:end -->";

fn matrix() -> String {
    let mut table = String::from(
        "| runtime | language | `wasi:keyvalue` | app | tested by |\n|---|---|---|---|---|\n",
    );
    for cell in CELLS {
        table.push_str(&format!(
            "| {} | {} | {} | `{}` | `{}` |\n",
            cell.runtime, cell.language, cell.version, cell.app, cell.test
        ));
    }
    table
}

#[test]
fn readme_matrix_is_the_tested_cells() {
    let path = Path::new(REPO).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme
        .find(BEGIN)
        .expect("README.md has no interop matrix markers")
        + BEGIN.len();
    let end = readme
        .find(END)
        .expect("README.md has no interop matrix end marker");
    let table = matrix();
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(
            &path,
            format!("{}{table}{}", &readme[..start], &readme[end..]),
        )
        .unwrap();
        return;
    }
    assert_eq!(
        readme[start..end],
        table,
        "the README's interop matrix is stale; rerun with BLESS=1"
    );
}
