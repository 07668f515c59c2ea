//! The interop matrix: apps in several languages, plugged with `virt-store plug`, run on several
//! runtimes, with their data read back by `virt-store get` and carried from one runtime to the
//! other. Each cell of the README's matrix is one entry of [`CELLS`]; a check keeps the README
//! equal to it (`BLESS=1` rewrites the README's table). The same apps plugged with the Valkey
//! provider share one real valkey-server (`virt-store-test-servers`) across the runtimes instead.
//!
//! `scripts/test` installs the toolchains: `npm ci` in `examples/js` (jco,
//! componentize-js, preview2-shim) and `pip install componentize-py==0.25.1`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use virt_store_test_servers::{Kind, Server as Valkey};

const VIRT_STORE: &str = env!("CARGO_BIN_EXE_virt-store");
const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// One cell: runtime, language, `wasi:keyvalue` version, and the test that exercises it.
struct Cell {
    runtime: &'static str,
    language: &'static str,
    version: &'static str,
    app: &'static str,
    /// Whether the app can reach the store's directory (README, "The store's files").
    hidden: &'static str,
    test: &'static str,
}

/// The app opens no files: it imports no `wasi:filesystem/preopens`.
const NO_FILES: &str = "no file access";
/// The store's preopen is hidden, and so is another preopen of the same host directory.
const HIDDEN: &str = "hidden, and a second preopen of it";
/// The store's preopen is hidden; jco's shim cannot tell a second preopen of it.
const HIDDEN_NOT_ALIAS: &str = "hidden; a second preopen of it is not";
/// Plugged with the Valkey provider: the store is a server, the app's preopens are the host's.
const ON_SERVER: &str = "none: a Valkey server (`--backend valkey`)";

const CELLS: &[Cell] = &[
    Cell { runtime: "wasmtime run 49.0.3", language: "Rust", version: "0.2.0-draft3", app: "examples/counter", hidden: NO_FILES, test: "virt-store/tests/interop.rs: rust_counter_on_jco_and_wasmtime_share_a_store" },
    Cell { runtime: "wasmtime run 49.0.3", language: "Rust", version: "0.2.0-draft", app: "tests/programs draft_wasmtime_scenario", hidden: NO_FILES, test: "tests/harness/tests/conformance/wasmtime_cli.rs" },
    Cell { runtime: "wasmtime run 49.0.3", language: "Rust (std::fs)", version: "0.2.0-draft3", app: "tests/programs hidden_store", hidden: HIDDEN, test: "tests/harness/tests/conformance/hidden.rs" },
    Cell { runtime: "wasmtime serve 49.0.3", language: "Rust", version: "0.2.0-draft3", app: "examples/http-counter", hidden: NO_FILES, test: "tests/harness/tests/conformance/serve.rs" },
    Cell { runtime: "wasmtime serve 49.0.3", language: "Rust (std::fs)", version: "0.2.0-draft3", app: "tests/programs hidden_store_http", hidden: HIDDEN, test: "tests/harness/tests/conformance/serve.rs: hidden_store_http_under_wasmtime_serve_sees_no_store" },
    Cell { runtime: "virt-store run (wasmtime 48.0.8 embedded)", language: "Rust", version: "0.2.0-draft3, 0.2.0-draft2, 0.2.0-draft", app: "tests/programs (all)", hidden: NO_FILES, test: "tests/harness/tests/conformance/programs.rs" },
    Cell { runtime: "virt-store run (wasmtime 48.0.8 embedded)", language: "Rust (std::fs)", version: "0.2.0-draft3", app: "tests/programs hidden_store", hidden: HIDDEN, test: "virt-store/tests/cli.rs: run_hides_the_store_and_refuses_a_dir_that_reaches_it" },
    Cell { runtime: "jco 1.35.0 transpile, Node 20, preview2-shim 0.26.1", language: "Rust", version: "0.2.0-draft3", app: "examples/counter", hidden: NO_FILES, test: "virt-store/tests/interop.rs: rust_counter_on_jco_and_wasmtime_share_a_store" },
    Cell { runtime: "jco 1.35.0 transpile, Node 20, preview2-shim 0.26.1", language: "Rust (std::fs)", version: "0.2.0-draft3", app: "tests/programs hidden_store", hidden: HIDDEN_NOT_ALIAS, test: "virt-store/tests/interop.rs: rust_std_fs_app_on_jco_cannot_reach_the_store" },
    Cell { runtime: "wasmtime run 49.0.3", language: "Python (componentize-py 0.25.1)", version: "0.2.0-draft3", app: "examples/python", hidden: HIDDEN, test: "virt-store/tests/interop.rs: python_app_on_wasmtime_and_jco_shares_a_store" },
    Cell { runtime: "jco 1.35.0 transpile, Node 20, preview2-shim 0.26.1", language: "Python (componentize-py 0.25.1)", version: "0.2.0-draft3", app: "examples/python", hidden: HIDDEN_NOT_ALIAS, test: "virt-store/tests/interop.rs: python_app_on_wasmtime_and_jco_shares_a_store" },
    Cell { runtime: "wasmtime run 49.0.3", language: "JavaScript (jco componentize 1.35.0, componentize-js 0.23.0)", version: "0.2.0-draft3", app: "examples/js", hidden: HIDDEN, test: "virt-store/tests/interop.rs: javascript_app_on_wasmtime_and_jco_shares_a_store" },
    Cell { runtime: "jco 1.35.0 transpile, Node 20, preview2-shim 0.26.1", language: "JavaScript (jco componentize 1.35.0, componentize-js 0.23.0)", version: "0.2.0-draft3", app: "examples/js", hidden: HIDDEN_NOT_ALIAS, test: "virt-store/tests/interop.rs: javascript_app_on_wasmtime_and_jco_shares_a_store" },
    Cell { runtime: "wasmtime run 49.0.3 -S inherit-network", language: "Rust", version: "0.2.0-draft3", app: "examples/counter", hidden: ON_SERVER, test: "virt-store/tests/interop.rs: rust_counter_on_jco_and_wasmtime_share_a_valkey_server" },
    Cell { runtime: "jco 1.35.0 transpile, Node 20, preview2-shim 0.26.1", language: "Rust", version: "0.2.0-draft3", app: "examples/counter", hidden: ON_SERVER, test: "virt-store/tests/interop.rs: rust_counter_on_jco_and_wasmtime_share_a_valkey_server" },
    Cell { runtime: "wasmtime run 49.0.3 -S inherit-network", language: "Python (componentize-py 0.25.1)", version: "0.2.0-draft3", app: "examples/python", hidden: ON_SERVER, test: "virt-store/tests/interop.rs: python_app_on_wasmtime_and_jco_shares_a_valkey_server" },
    Cell { runtime: "jco 1.35.0 transpile, Node 20, preview2-shim 0.26.1", language: "Python (componentize-py 0.25.1)", version: "0.2.0-draft3", app: "examples/python", hidden: ON_SERVER, test: "virt-store/tests/interop.rs: python_app_on_wasmtime_and_jco_shares_a_valkey_server" },
    Cell { runtime: "wasmtime run 49.0.3 -S inherit-network", language: "JavaScript (jco componentize 1.35.0, componentize-js 0.23.0)", version: "0.2.0-draft3", app: "examples/js", hidden: ON_SERVER, test: "virt-store/tests/interop.rs: javascript_app_on_wasmtime_and_jco_shares_a_valkey_server" },
    Cell { runtime: "jco 1.35.0 transpile, Node 20, preview2-shim 0.26.1", language: "JavaScript (jco componentize 1.35.0, componentize-js 0.23.0)", version: "0.2.0-draft3", app: "examples/js", hidden: ON_SERVER, test: "virt-store/tests/interop.rs: javascript_app_on_wasmtime_and_jco_shares_a_valkey_server" },
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

/// Runs a command that must fail; returns its stderr.
#[track_caller]
fn fails(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        !output.status.success(),
        "{command:?} succeeded:\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stderr).unwrap()
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

/// `virt-store plug --backend valkey APP -o OUT`: the store on the server `VIRT_STORE_URL` names.
fn plug_valkey(app: &Path, out: &Path) {
    ok(Command::new(VIRT_STORE)
        .args(["plug", "--backend", "valkey"])
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
        self.run_with_dirs(&[], data, args)
    }

    /// Like [`Transpiled::run`], with `--dir HOST::GUEST` for each of `dirs`.
    fn run_with_dirs(&self, dirs: &[(&Path, &str)], data: &Path, args: &[&str]) -> String {
        ok(&mut self.command(dirs, data.as_os_str(), args))
    }

    /// `VIRT_STORE_URL=URL node run-on-node.mjs [--dir HOST::GUEST]... app.js - ARGS...` (the
    /// Valkey provider: no `/data` preopen): stdout.
    fn run_on_server(&self, url: &str, dirs: &[(&Path, &str)], args: &[&str]) -> String {
        ok(self
            .command(dirs, "-".as_ref(), args)
            .env("VIRT_STORE_URL", url))
    }

    /// `node run-on-node.mjs [--dir HOST::GUEST]... app.js DATA ARGS...`.
    fn command(&self, dirs: &[(&Path, &str)], data: &std::ffi::OsStr, args: &[&str]) -> Command {
        let module = self.dir.path().join("app.js");
        let mut command = Command::new("node");
        command
            .current_dir(examples_js())
            .arg(EXTENDED_CONST)
            .arg("run-on-node.mjs");
        for (host, guest) in dirs {
            command
                .arg("--dir")
                .arg(format!("{}::{guest}", host.display()));
        }
        command.arg(module).arg(data).args(args);
        command
    }
}

/// `wasmtime run --dir DATA::/data --invoke 'run([ARGS])' APP`: the `ok(...)` it prints.
fn wasmtime_invoke(data: &Path, app: &Path, args: &[&str]) -> String {
    wasmtime_invoke_with_dirs(&[], data, app, args)
}

/// Like [`wasmtime_invoke`], with `--dir HOST::GUEST` for each of `dirs`.
fn wasmtime_invoke_with_dirs(
    dirs: &[(&Path, &str)],
    data: &Path,
    app: &Path,
    args: &[&str],
) -> String {
    let list: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
    let mut command = Command::new("wasmtime");
    command
        .arg("run")
        .arg("--dir")
        .arg(format!("{}::/data", data.display()));
    for (host, guest) in dirs {
        command
            .arg("--dir")
            .arg(format!("{}::{guest}", host.display()));
    }
    ok(command
        .arg("--invoke")
        .arg(format!("run([{}])", list.join(", ")))
        .arg(app))
}

/// `wasmtime run -S inherit-network --env VIRT_STORE_URL=URL [--dir HOST::GUEST]...`, to which
/// the caller adds the component (the Valkey provider: no `/data`).
fn wasmtime_on_server(url: &str, dirs: &[(&Path, &str)]) -> Command {
    let mut command = Command::new("wasmtime");
    command
        .args(["run", "-S", "inherit-network", "--env"])
        .arg(format!("VIRT_STORE_URL={url}"));
    for (host, guest) in dirs {
        command
            .arg("--dir")
            .arg(format!("{}::{guest}", host.display()));
    }
    command
}

/// [`wasmtime_on_server`] with `--invoke 'run([ARGS])' APP`: the `ok(...)` it prints.
fn wasmtime_invoke_on_server(
    url: &str,
    dirs: &[(&Path, &str)],
    app: &Path,
    args: &[&str],
) -> String {
    let list: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
    ok(wasmtime_on_server(url, dirs)
        .arg("--invoke")
        .arg(format!("run([{}])", list.join(", ")))
        .arg(app))
}

/// The store at `url` as the host reads it, with the `virt-store-valkey` client.
fn native(url: &str) -> virt_store_valkey::Bucket {
    virt_store_valkey::Store::open(url, Default::default())
        .and_then(|store| store.bucket(""))
        .unwrap_or_else(|e| panic!("open {url}: {e}"))
}

/// `key`'s value at `url`, read natively, as text.
fn native_get(url: &str, key: &str) -> Option<String> {
    native(url)
        .get(key)
        .unwrap_or_else(|e| panic!("get {key} at {url}: {e}"))
        .map(|value| String::from_utf8(value).unwrap())
}

/// What the interop app's `files DIR` answers when DIR is out of its reach, and when it can do
/// everything there.
const DENIED: &str = "list=error read=error write=error delete=error";
const ALLOWED: &str = "list=ok read=ok write=ok delete=ok";

/// A directory for `/pub`, holding a file of the store marker's name so that every attempt of
/// `files /pub` has something to act on.
fn public_dir(dir: &Path) -> PathBuf {
    let public = dir.join("pub");
    std::fs::create_dir(&public).unwrap();
    std::fs::write(public.join("virt-store-format"), "not a store").unwrap();
    public
}

/// Fails unless the store at `data` is as the provider left it.
#[track_caller]
fn assert_store_untouched(data: &Path) {
    assert!(
        data.join("virt-store-format").is_file(),
        "the store's marker is gone"
    );
    assert!(
        !data.join("intruder").exists(),
        "the app wrote into the store's directory"
    );
}

/// Plugs the interop app (examples/interop-wit/app.wit) built in some language, then runs it on
/// `wasmtime run` and on jco in Node against one store, and reads the store on the host. On each
/// runtime the app tries to list, read, write and delete in the store's directory and fails
/// (also where a second preopen shows it again, on wasmtime), then reads its own data.
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
        "err(\"usage: visit NAME | note TEXT | show | files DIR\")\n"
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

    let public = public_dir(dir);
    let on_wasmtime = |args: &[&str]| {
        wasmtime_invoke_with_dirs(
            &[(public.as_path(), "/pub"), (data.as_path(), "/alias")],
            &data,
            &composed,
            args,
        )
    };
    assert_eq!(
        on_wasmtime(&["files", "/data"]),
        format!("ok({DENIED:?})\n")
    );
    assert_eq!(
        on_wasmtime(&["files", "/alias"]),
        format!("ok({DENIED:?})\n")
    );
    assert_eq!(
        on_node.run_with_dirs(&[(public.as_path(), "/pub")], &data, &["files", "/data"]),
        format!("{DENIED}\n")
    );
    assert_eq!(
        on_wasmtime(&["files", "/pub"]),
        format!("ok({ALLOWED:?})\n")
    );
    std::fs::write(public.join("virt-store-format"), "not a store").unwrap();
    assert_eq!(
        on_node.run_with_dirs(&[(public.as_path(), "/pub")], &data, &["files", "/pub"]),
        format!("{ALLOWED}\n")
    );
    assert_store_untouched(&data);
    assert_eq!(
        on_node.run(&data, &["show"]),
        "visits=2 last=bob notes=hello|from node\n"
    );
    assert_eq!(
        wasmtime_invoke(&data, &composed, &["show"]),
        "ok(\"visits=2 last=bob notes=hello|from node\")\n"
    );

    // `compose.wac` wires the app's preopens too, although its version is not the provider's.
    let provider = dir.join("provider.wasm");
    ok(Command::new(VIRT_STORE)
        .arg("provider")
        .arg("-o")
        .arg(&provider));
    let composed_by_wac = dir.join("app.wac.wasm");
    let compose_wac = Path::new(REPO).join("compose.wac");
    ok(Command::new("wac")
        .arg("compose")
        .arg(compose_wac)
        .arg("--dep")
        .arg(format!("virt-store:provider={}", provider.display()))
        .arg("--dep")
        .arg(format!("app:app={}", app.display()))
        .arg("-o")
        .arg(&composed_by_wac));
    let on_wac = |args: &[&str]| {
        wasmtime_invoke_with_dirs(&[(data.as_path(), "/alias")], &data, &composed_by_wac, args)
    };
    assert_eq!(on_wac(&["files", "/data"]), format!("ok({DENIED:?})\n"));
    assert_eq!(on_wac(&["files", "/alias"]), format!("ok({DENIED:?})\n"));
    assert_eq!(
        on_wac(&["show"]),
        "ok(\"visits=2 last=bob notes=hello|from node\")\n"
    );
    assert_store_untouched(&data);

    // jco's shim compares descriptors as JavaScript objects, so a second preopen of the store's
    // directory is shown to the app (README, "The store's files"); a throwaway store shows it.
    let throwaway = dir.join("throwaway");
    std::fs::create_dir(&throwaway).unwrap();
    let seen = on_node.run_with_dirs(
        &[(throwaway.as_path(), "/alias")],
        &throwaway,
        &["files", "/alias"],
    );
    assert_eq!(
        seen,
        format!("{ALLOWED}\n"),
        "jco now tells a second preopen of the store: update the README"
    );
}

/// Plugs the interop app with the Valkey provider, then runs it on `wasmtime run -S
/// inherit-network` and on jco in Node (no `/data` preopen) against one real valkey-server, and
/// reads and writes the store natively: what each writes, the others read. The app's own preopens
/// reach the host's directories unchanged on both runtimes.
fn interop_app_shares_a_valkey_server_across_runtimes(app: &Path, dir: &Path) {
    let composed = dir.join("app.valkey.wasm");
    plug_valkey(app, &composed);
    let server = Valkey::start(Kind::Valkey);
    // Database 3: both runtimes must take the whole URL, not only the address.
    let url = format!("{}/3", server.url());
    let on_wasmtime = |args: &[&str]| wasmtime_invoke_on_server(&url, &[], &composed, args);

    assert_eq!(on_wasmtime(&["visit", "ada"]), "ok(\"visit 1 by ada\")\n");
    assert_eq!(on_wasmtime(&["note", "hello"]), "ok(\"note 1\")\n");
    let on_node = Transpiled::new(&composed);
    assert_eq!(
        on_node.run_on_server(&url, &[], &["visit", "bob"]),
        "visit 2 by bob\n"
    );
    assert_eq!(
        on_node.run_on_server(&url, &[], &["note", "from node"]),
        "note 2\n"
    );
    assert_eq!(
        on_wasmtime(&["show"]),
        "ok(\"visits=2 last=bob notes=hello|from node\")\n"
    );
    assert_eq!(native_get(&url, "visits").as_deref(), Some("2"));
    assert_eq!(native_get(&url, "last").as_deref(), Some("bob"));
    assert_eq!(native_get(&url, "note:1").as_deref(), Some("hello"));
    assert_eq!(native_get(&url, "note:2").as_deref(), Some("from node"));
    assert_eq!(
        native(&server.url()).key_count().unwrap(),
        0,
        "something wrote to database 0"
    );

    // The host writes; both runtimes read it.
    native(&url).set("note:3", b"from the host").unwrap();
    assert_eq!(
        on_node.run_on_server(&url, &[], &["show"]),
        "visits=2 last=bob notes=hello|from node|from the host\n"
    );
    assert_eq!(
        on_wasmtime(&["show"]),
        "ok(\"visits=2 last=bob notes=hello|from node|from the host\")\n"
    );

    // The provider hides no directory: the app's preopens are the host's, and `-` maps no /data.
    let public = public_dir(dir);
    let dirs = [(public.as_path(), "/pub")];
    assert_eq!(
        wasmtime_invoke_on_server(&url, &dirs, &composed, &["files", "/pub"]),
        format!("ok({ALLOWED:?})\n")
    );
    std::fs::write(public.join("virt-store-format"), "not a store").unwrap();
    assert_eq!(
        on_node.run_on_server(&url, &dirs, &["files", "/pub"]),
        format!("{ALLOWED}\n")
    );
    assert_eq!(
        on_node.run_on_server(&url, &dirs, &["files", "/data"]),
        format!("{DENIED}\n")
    );
}

/// Writes `name`, built by `build` into the directory it is given, into `dir`. Built once per test
/// process: the file- and the Valkey-provider tests plug the same app.
fn built_once(
    cell: &'static OnceLock<Vec<u8>>,
    dir: &Path,
    name: &str,
    build: impl FnOnce(&Path) -> PathBuf,
) -> PathBuf {
    let bytes = cell.get_or_init(|| {
        let scratch = tempfile::tempdir().unwrap();
        std::fs::read(build(scratch.path())).unwrap()
    });
    let app = dir.join(name);
    std::fs::write(&app, bytes).unwrap();
    app
}

/// The interop app in JavaScript, componentized by jco, in `dir`.
fn javascript_app(dir: &Path) -> PathBuf {
    static APP: OnceLock<Vec<u8>> = OnceLock::new();
    built_once(&APP, dir, "js-app.wasm", componentize_javascript)
}

/// The interop app in Python, componentized by componentize-py, in `dir`.
fn python_app(dir: &Path) -> PathBuf {
    static APP: OnceLock<Vec<u8>> = OnceLock::new();
    built_once(&APP, dir, "py-app.wasm", componentize_python)
}

fn componentize_javascript(dir: &Path) -> PathBuf {
    let app = dir.join("js-app.wasm");
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
    app
}

fn componentize_python(dir: &Path) -> PathBuf {
    let version = Command::new("componentize-py").arg("--version").output();
    assert!(
        version.as_ref().is_ok_and(|v| String::from_utf8_lossy(&v.stdout).contains("0.25.1")),
        "componentize-py 0.25.1 is not installed ({version:?}); run `scripts/test`, which installs it (pip install componentize-py==0.25.1)"
    );
    let app = dir.join("py-app.wasm");
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
    app
}

#[test]
fn javascript_app_on_wasmtime_and_jco_shares_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let app = javascript_app(dir.path());
    interop_app_shares_a_store_across_runtimes(&app, dir.path());
}

#[test]
fn python_app_on_wasmtime_and_jco_shares_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let app = python_app(dir.path());
    interop_app_shares_a_store_across_runtimes(&app, dir.path());
}

#[test]
fn javascript_app_on_wasmtime_and_jco_shares_a_valkey_server() {
    let dir = tempfile::tempdir().unwrap();
    let app = javascript_app(dir.path());
    interop_app_shares_a_valkey_server_across_runtimes(&app, dir.path());
}

#[test]
fn python_app_on_wasmtime_and_jco_shares_a_valkey_server() {
    let dir = tempfile::tempdir().unwrap();
    let app = python_app(dir.path());
    interop_app_shares_a_valkey_server_across_runtimes(&app, dir.path());
}

#[test]
fn rust_counter_on_jco_and_wasmtime_share_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let composed = dir.path().join("counter.kv.wasm");
    plug(Path::new(virt_store_harness::artifacts::COUNTER), &composed);
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

#[test]
fn rust_counter_on_jco_and_wasmtime_share_a_valkey_server() {
    let dir = tempfile::tempdir().unwrap();
    let composed = dir.path().join("counter.valkey.wasm");
    plug_valkey(Path::new(virt_store_harness::artifacts::COUNTER), &composed);
    let server = Valkey::start(Kind::Valkey);
    let url = server.url();

    let on_node = Transpiled::new(&composed);
    let noted = on_node.run_on_server(&url, &[], &["note", "written on node"]);
    assert!(noted.contains("saved note:000001"), "{noted}");
    let first = on_node.run_on_server(&url, &[], &[]);
    assert!(first.contains("run #1"), "{first}");
    let on_wasmtime = ok(wasmtime_on_server(&url, &[]).arg(&composed));
    assert!(on_wasmtime.contains("run #2"), "{on_wasmtime}");
    assert!(on_wasmtime.contains("written on node"), "{on_wasmtime}");
    // The run log is appended with compare-and-swap, by each runtime in turn.
    let third = on_node.run_on_server(&url, &[], &[]);
    assert!(third.contains("run #3"), "{third}");
    assert!(third.contains("runs so far: 1,2,3"), "{third}");
    assert_eq!(native_get(&url, "visits").as_deref(), Some("3"));
    assert_eq!(native_get(&url, "runs").as_deref(), Some("1,2,3"));
    assert_eq!(
        native_get(&url, "note:000001").as_deref(),
        Some("written on node")
    );

    // Without `VIRT_STORE_URL` (run-on-node passes the host's), the provider says what to set.
    let unset = fails(
        on_node
            .command(&[], "-".as_ref(), &[])
            .env_remove("VIRT_STORE_URL"),
    );
    assert!(unset.contains("`VIRT_STORE_URL` is not set"), "{unset}");
    assert_eq!(native_get(&url, "visits").as_deref(), Some("3"));
}

#[test]
fn rust_std_fs_app_on_jco_cannot_reach_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let composed = dir.path().join("hidden_store.kv.wasm");
    plug(
        Path::new(virt_store_harness::artifacts::HIDDEN_STORE),
        &composed,
    );
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let public = public_dir(dir.path());
    #[cfg(unix)]
    std::os::unix::fs::symlink(&data, public.join("escape")).unwrap();

    let on_node = Transpiled::new(&composed);
    let args = [
        "hidden",
        "/data",
        "/pub/../data",
        "/pub/escape",
        "visible",
        "/pub",
    ];
    let args = if cfg!(unix) {
        &args[..]
    } else {
        &["hidden", "/data", "/pub/../data", "visible", "/pub"][..]
    };
    let first = on_node.run_with_dirs(&[(public.as_path(), "/pub")], &data, args);
    assert!(first.contains("hidden /data: list: NotFound"), "{first}");
    assert!(
        first.contains("visible /pub: list, read, write, delete ok"),
        "{first}"
    );
    assert!(first.ends_with("probe-runs: 1\n"), "{first}");
    let second = on_node.run_with_dirs(&[(public.as_path(), "/pub")], &data, args);
    assert!(second.ends_with("probe-runs: 2\n"), "{second}");
    assert_store_untouched(&data);
    assert_eq!(get(&data, "probe-runs"), "2");
}

const BEGIN: &str = "<!-- interop:begin -->\n";
const END: &str = "<!-- interop:end -->";

fn matrix() -> String {
    let mut table = String::from("| runtime | language | `wasi:keyvalue` | app | the store's directory | tested by |\n|---|---|---|---|---|---|\n");
    for cell in CELLS {
        table.push_str(&format!(
            "| {} | {} | {} | `{}` | {} | `{}` |\n",
            cell.runtime, cell.language, cell.version, cell.app, cell.hidden, cell.test
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
