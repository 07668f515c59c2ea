//! The `virt-store` command line, end to end: every subcommand and every refusal, run as the
//! built binary on the example app and the test programs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const VIRT_STORE: &str = env!("CARGO_BIN_EXE_virt-store");

/// Runs `virt-store ARGS` in `cwd` with `stdin` as its input; returns the finished process.
fn virt_store_in(cwd: &Path, args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(VIRT_STORE)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// A finished `virt-store` run, with its output as text.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn text(output: Output) -> Run {
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A scratch directory to run commands in.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `virt-store ARGS` in the scratch directory, whatever its exit code.
    fn run(&self, args: &[&str]) -> Run {
        text(virt_store_in(self.dir.path(), args, b""))
    }

    /// `virt-store ARGS`, which must succeed.
    #[track_caller]
    fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(
            run.code,
            Some(0),
            "`virt-store {}`: {run:?}",
            args.join(" ")
        );
        run
    }

    /// `virt-store ARGS`, which must fail with exit code 1 and say `message` on stderr.
    #[track_caller]
    fn fails(&self, args: &[&str], message: &str) -> Run {
        let run = self.run(args);
        assert_eq!(
            run.code,
            Some(1),
            "`virt-store {}`: {run:?}",
            args.join(" ")
        );
        assert!(
            run.stderr.contains(message),
            "`virt-store {}` should say {message:?}: {run:?}",
            args.join(" ")
        );
        run
    }

    /// Writes a component from WAT and returns its file name.
    fn wat(&self, name: &str, wat: &str) -> String {
        std::fs::write(self.path(name), wat::parse_str(wat).unwrap()).unwrap();
        name.to_owned()
    }
}

fn counter() -> &'static str {
    virt_store_harness::artifacts::COUNTER
}

#[test]
fn plug_writes_a_component_that_imports_no_keyvalue() {
    let s = Scratch::new();
    let run = s.ok(&["plug", counter(), "-o", "counter.kv.wasm"]);
    for interface in ["store", "atomics", "batch"] {
        let line = format!("wired `wasi:keyvalue/{interface}@0.2.0-draft3`");
        assert!(run.stdout.contains(&line), "{run:?}");
    }
    assert!(run.stdout.contains("wrote `counter.kv.wasm` ("), "{run:?}");
    let composed = std::fs::read(s.path("counter.kv.wasm")).unwrap();
    let imports = virt_store::imports(&composed).unwrap();
    assert!(
        !imports.iter().any(|i| virt_store::is_keyvalue(i)),
        "{imports:?}"
    );
    assert!(
        imports
            .iter()
            .any(|i| i.starts_with("wasi:filesystem/preopens@")),
        "{imports:?}"
    );
    // The library's composition, byte for byte.
    let app = std::fs::read(counter()).unwrap();
    assert_eq!(
        composed,
        virt_store::plug(&app, virt_store::PROVIDER).unwrap()
    );
}

#[test]
fn plug_to_a_pipe_writes_the_component_there_and_reports_on_stderr() {
    let s = Scratch::new();
    let output = virt_store_in(s.dir.path(), &["plug", counter()], b"");
    assert!(output.status.success(), "{:?}", text(output));
    let app = std::fs::read(counter()).unwrap();
    assert_eq!(
        output.stdout,
        virt_store::plug(&app, virt_store::PROVIDER).unwrap()
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("wired `wasi:keyvalue/store@0.2.0-draft3`"),
        "{stderr}"
    );
}

#[test]
fn plug_refuses_an_app_without_keyvalue() {
    let s = Scratch::new();
    let app = s.wat(
        "plain.wasm",
        r#"(component (import "wasi:cli/environment@0.2.0" (instance)))"#,
    );
    s.fails(
        &["plug", &app, "-o", "out.wasm"],
        "the app imports no `wasi:keyvalue` interface, so there is nothing to plug (it imports `wasi:cli/environment@0.2.0`)",
    );
    assert!(
        !s.path("out.wasm").exists(),
        "nothing is written on failure"
    );
}

#[test]
fn plug_refuses_a_version_the_provider_does_not_export() {
    let s = Scratch::new();
    let app = s.wat(
        "old.wasm",
        r#"(component (import "wasi:keyvalue/store@0.1.0" (instance)))"#,
    );
    let run = s.fails(
        &["plug", &app, "-o", "out.wasm"],
        "the app would still import `wasi:keyvalue/store@0.1.0` after plugging",
    );
    assert!(
        run.stderr.contains("`wasi:keyvalue/store@0.2.0-draft3`"),
        "names what it offers: {run:?}"
    );
}

#[test]
fn plug_refuses_a_keyvalue_import_that_would_remain() {
    // A draft3 app that also imports an interface the provider has no export for.
    let s = Scratch::new();
    let app = s.wat(
        "extra.wasm",
        r#"(component
            (import "wasi:keyvalue/store@0.2.0-draft3" (instance))
            (import "wasi:keyvalue/watcher@0.2.0-draft3" (instance)))"#,
    );
    s.fails(
        &["plug", &app, "-o", "out.wasm"],
        "the app would still import `wasi:keyvalue/watcher@0.2.0-draft3` after plugging",
    );
}

#[test]
fn plug_refuses_spins_draft2_with_what_to_rebuild_against() {
    let s = Scratch::new();
    let spin = s.path("spin.wasm");
    std::fs::write(
        &spin,
        virt_store_harness::app_importing_draft2_get_many("(tuple string (option $bytes))"),
    )
    .unwrap();
    s.fails(
        &["plug", spin.to_str().unwrap(), "-o", "out.wasm"],
        "rebuild the app against upstream wasi:keyvalue@0.2.0-draft2 or draft3",
    );
}

#[test]
fn plug_reports_an_unreadable_app() {
    let s = Scratch::new();
    s.fails(
        &["plug", "missing.wasm", "-o", "out.wasm"],
        "cannot read the app `missing.wasm`",
    );
    std::fs::write(s.path("notes.txt"), "# not wasm").unwrap();
    let run = s.fails(
        &["plug", "notes.txt", "-o", "out.wasm"],
        "the input is not a WebAssembly file (it does not start with `\\0asm`)",
    );
    assert_eq!(run.stderr.lines().count(), 1, "one readable line: {run:?}");
    std::fs::write(s.path("module.wasm"), wat::parse_str("(module)").unwrap()).unwrap();
    s.fails(
        &["plug", "module.wasm", "-o", "out.wasm"],
        "not a component",
    );
}

#[test]
fn provider_writes_the_embedded_provider() {
    let s = Scratch::new();
    let run = s.ok(&["provider", "-o", "provider.wasm"]);
    assert!(run.stdout.contains("wrote `provider.wasm`"), "{run:?}");
    assert_eq!(
        std::fs::read(s.path("provider.wasm")).unwrap(),
        virt_store::PROVIDER
    );
    // And a provider given with `--provider` is the one plugged.
    s.ok(&[
        "plug",
        counter(),
        "--provider",
        "provider.wasm",
        "-o",
        "a.wasm",
    ]);
    s.ok(&["plug", counter(), "-o", "b.wasm"]);
    assert_eq!(
        std::fs::read(s.path("a.wasm")).unwrap(),
        std::fs::read(s.path("b.wasm")).unwrap()
    );
}

#[test]
fn check_lists_imports_versions_and_what_the_host_must_give() {
    let s = Scratch::new();
    let run = s.ok(&["check", counter()]);
    assert!(
        run.stdout
            .contains("wasi:keyvalue@0.2.0-draft3  atomics, batch, store"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("wasi:keyvalue: needs 0.2.0-draft3; the provider serves it"),
        "{run:?}"
    );
    let (_, after) = run
        .stdout
        .split_once("after `virt-store plug`, the component imports from the host:")
        .unwrap_or_else(|| panic!("{run:?}"));
    assert!(
        after.contains("wasi:filesystem@"),
        "the provider's needs: {run:?}"
    );
    assert!(!after.contains("wasi:keyvalue"), "{run:?}");
}

#[test]
fn check_and_plug_say_the_store_is_hidden_from_an_app_that_opens_files() {
    let s = Scratch::new();
    let app = virt_store_harness::artifacts::HIDDEN_STORE;
    let run = s.ok(&["check", app]);
    assert!(
        run.stdout
            .contains("files: the store's directory is hidden from the app"),
        "{run:?}"
    );
    let run = s.ok(&["plug", app, "-o", "hidden.kv.wasm"]);
    assert!(
        run.stdout.contains(
            "wired `wasi:filesystem/preopens@0.2.6`: the store's directory is hidden from the app"
        ),
        "{run:?}"
    );
    let run = s.ok(&["check", counter()]);
    assert!(
        run.stdout
            .contains("files: the app imports no `wasi:filesystem/preopens`"),
        "{run:?}"
    );
}

#[test]
fn plug_refuses_to_leave_an_apps_preopens_to_the_host_beside_a_file_store() {
    let s = Scratch::new();
    let app = s.wat(
        "app.wasm",
        r#"(component
            (import "wasi:keyvalue/store@0.2.0-draft3" (instance))
            (import "wasi:filesystem/preopens@0.2.9" (instance)))"#,
    );
    // A provider that keeps its store in files but does not hide them.
    let provider = s.wat(
        "provider.wasm",
        r#"(component
            (import "wasi:filesystem/types@0.2.4" (instance))
            (instance $store)
            (export "wasi:keyvalue/store@0.2.0-draft3" (instance $store)))"#,
    );
    s.fails(
        &["plug", &app, "--provider", &provider, "-o", "out.wasm"],
        "the app imports `wasi:filesystem/preopens@0.2.9`, and the provider exports no \
         `wasi:filesystem/preopens` it could be wired to (it exports \
         `wasi:keyvalue/store@0.2.0-draft3`), so the app would see the store's directory",
    );
    assert!(!s.path("out.wasm").exists());
}

#[test]
fn check_says_why_an_app_cannot_be_plugged() {
    let s = Scratch::new();
    let app = s.wat(
        "old.wasm",
        r#"(component (import "wasi:keyvalue/store@0.1.0" (instance)))"#,
    );
    let run = s.run(&["check", &app]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout.contains("needs 0.1.0; the provider lacks 0.1.0"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("cannot plug: the app would still import"),
        "{run:?}"
    );

    let plain = s.wat(
        "plain.wasm",
        r#"(component (import "wasi:cli/stdout@0.2.0" (instance)))"#,
    );
    let run = s.run(&["check", &plain]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout
            .contains("none imported, so there is nothing to plug"),
        "{run:?}"
    );
}

#[test]
fn run_keeps_data_in_the_default_directory_and_says_so() {
    let s = Scratch::new();
    let first = s.ok(&["run", counter(), "--", "note", "hello from the CLI"]);
    assert!(first.stderr.contains("the store is in `data`"), "{first:?}");
    assert!(s.path("data/virt-store-format").is_file());
    let second = s.ok(&["run", counter()]);
    assert!(second.stdout.contains("run #1"), "{second:?}");
    assert!(second.stdout.contains("hello from the CLI"), "{second:?}");
    let third = s.ok(&["run", counter(), "--data", "data"]);
    assert!(third.stdout.contains("run #2"), "{third:?}");
}

#[test]
fn run_keeps_compiled_code_in_its_cache_directory() {
    let s = Scratch::new();
    let cache = s.path("cache");
    let output = Command::new(VIRT_STORE)
        .args(["run", counter()])
        .current_dir(s.dir.path())
        .env("VIRT_STORE_CACHE_DIR", &cache)
        .output()
        .unwrap();
    assert!(output.status.success(), "{:?}", text(output));
    let files = std::fs::read_dir(&cache).map(|d| d.count()).unwrap_or(0);
    assert!(files > 0, "nothing was cached in `{}`", cache.display());
    // An empty setting turns the cache off; the run still works.
    let output = Command::new(VIRT_STORE)
        .args(["run", counter()])
        .current_dir(s.dir.path())
        .env("VIRT_STORE_CACHE_DIR", "")
        .output()
        .unwrap();
    assert!(output.status.success(), "{:?}", text(output));
}

#[test]
fn run_exits_with_the_apps_code_and_passes_env_and_dirs() {
    let s = Scratch::new();
    // The app reports the store error and exits 1.
    let run = s.run(&["run", counter(), "--env", "VIRT_STORE_DIR=/nowhere"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("/nowhere"), "{run:?}");
    // The store may live under another preopen.
    std::fs::create_dir_all(s.path("elsewhere/kv")).unwrap();
    s.ok(&[
        "run",
        counter(),
        "--dir",
        "elsewhere::/other",
        "--env",
        "VIRT_STORE_DIR=/other/kv",
    ]);
    assert!(s.path("elsewhere/kv/virt-store-format").is_file());
    // The provider resolves the store's preopen itself, as wasi-libc would: the store may be the
    // preopen itself, or under a preopen with a relative name such as `.`; both keep the data.
    for (dir, env, marker) in [
        (
            "whole::/whole",
            "VIRT_STORE_DIR=/whole",
            "whole/virt-store-format",
        ),
        ("dot::.", "VIRT_STORE_DIR=kv", "dot/kv/virt-store-format"),
    ] {
        std::fs::create_dir_all(s.path(marker).parent().unwrap()).unwrap();
        s.ok(&["run", counter(), "--dir", dir, "--env", env]);
        let second = s.ok(&["run", counter(), "--dir", dir, "--env", env]);
        assert!(second.stdout.contains("run #2"), "{dir}: {second:?}");
        assert!(s.path(marker).is_file(), "{dir}: no `{marker}`");
    }
    // `--dir` may not hide the store.
    s.fails(
        &["run", counter(), "--dir", "x::/data"],
        "use `--data x` instead",
    );
}

#[test]
fn run_hides_the_store_and_refuses_a_dir_that_reaches_it() {
    let s = Scratch::new();
    let app = virt_store_harness::artifacts::HIDDEN_STORE;
    std::fs::create_dir(s.path("pub")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(s.path("data"), s.path("pub/escape")).unwrap();
    let mut args = vec![
        "run",
        app,
        "--dir",
        "pub::/pub",
        "--",
        "hidden",
        "/data",
        "/pub/../data",
    ];
    if cfg!(unix) {
        args.push("/pub/escape");
    }
    args.extend(["visible", "/pub"]);
    let run = s.ok(&args);
    assert!(run.stderr.contains("hidden from the app"), "{run:?}");
    assert!(
        run.stdout.contains("hidden /data: list: NotFound"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("visible /pub: list, read, write, delete ok"),
        "{run:?}"
    );
    assert!(run.stdout.ends_with("probe-runs: 1\n"), "{run:?}");
    assert!(s.path("data/virt-store-format").is_file());
    assert!(!s.path("data/intruder").exists());

    // The provider cannot see where a host directory lies; `run` can, and refuses one that
    // reaches the store's files around it.
    let probe = ["--", "hidden", "/data"];
    let refuse = |dir: &str, message: &str| {
        let args: Vec<&str> = ["run", app, "--dir", dir]
            .into_iter()
            .chain(probe)
            .collect();
        s.fails(&args, message);
    };
    refuse(
        ".::/",
        "refusing to run: `.::/` would give the app the store's directory",
    );
    refuse(
        "data::/alias",
        "refusing to run: `data::/alias` is the store's directory again",
    );
    refuse(
        "data/buckets::/b",
        "refusing to run: `data/buckets::/b` lies inside the store's directory",
    );
    // Also where `VIRT_STORE_DIR` puts the store under another preopen.
    std::fs::create_dir_all(s.path("elsewhere/kv")).unwrap();
    s.fails(
        &[
            "run",
            app,
            "--dir",
            "elsewhere::/other",
            "--dir",
            "elsewhere/kv::/kv",
            "--env",
            "VIRT_STORE_DIR=/other/kv",
        ],
        "refusing to run: `elsewhere/kv::/kv` is the store's directory again",
    );
    assert!(!s.path("elsewhere/kv/virt-store-format").exists());
}

#[test]
fn store_tools_read_and_write_what_apps_see() {
    let s = Scratch::new();
    s.ok(&["run", counter()]);
    assert_eq!(s.ok(&["get", "visits"]).stdout, "1");
    s.ok(&["set", "visits", "41"]);
    assert!(s.ok(&["run", counter()]).stdout.contains("run #42"));

    // Values from a file and from stdin, in a named bucket.
    std::fs::write(s.path("value.bin"), [0u8, 159, 146, 150]).unwrap();
    s.ok(&["set", "--bucket", "files", "blob", "--file", "value.bin"]);
    let piped = virt_store_in(
        s.dir.path(),
        &["set", "-b", "files", "piped"],
        b"from stdin\n",
    );
    assert!(piped.status.success(), "{:?}", text(piped));
    let blob = virt_store_in(s.dir.path(), &["get", "-b", "files", "blob"], b"");
    assert_eq!(blob.stdout, [0u8, 159, 146, 150], "exact bytes to a pipe");
    assert_eq!(
        s.ok(&["get", "-b", "files", "piped"]).stdout,
        "from stdin\n"
    );

    let keys = s.ok(&["list"]).stdout;
    assert!(keys.lines().any(|k| k == "visits"), "{keys}");
    assert_eq!(s.ok(&["list", "--bucket", "files"]).stdout, "blob\npiped\n");

    s.ok(&["delete", "-b", "files", "blob", "never-there"]);
    assert_eq!(s.ok(&["list", "--bucket", "files"]).stdout, "piped\n");
    s.fails(
        &["get", "-b", "files", "blob"],
        "no key `blob` in bucket `files` of `data`",
    );
    s.fails(
        &["list", "--bucket", "nope"],
        "there is no bucket `nope` in `data` (it has the default bucket, bucket `files`)",
    );
    s.fails(&["get", "--bucket", "Bad!", "k"], "bucket");
}

#[test]
fn store_tools_refuse_a_directory_that_is_not_a_store() {
    let s = Scratch::new();
    s.fails(
        &["list"],
        "there is no store at `data`: the directory does not exist",
    );
    std::fs::create_dir(s.path("empty")).unwrap();
    s.fails(
        &["inspect", "--data", "empty"],
        "`empty` is not a virt-store store",
    );
    assert!(
        !s.path("empty/virt-store-format").exists(),
        "reading never creates a store"
    );
}

#[test]
fn export_and_import_round_trip_every_bucket() {
    let s = Scratch::new();
    s.ok(&["run", counter(), "--", "note", "ünïcode \"quoted\"\ttab"]);
    std::fs::write(s.path("bin"), [255u8, 0, 1]).unwrap();
    s.ok(&["set", "-b", "other", "binary", "--file", "bin"]);

    let exported = s.ok(&["export"]).stdout;
    assert!(
        exported.contains(r#"{"bucket":"other","key":"binary","base64":"/wAB"}"#),
        "{exported}"
    );
    assert!(
        exported.contains(r#"ünïcode \"quoted\"\ttab"#),
        "{exported}"
    );
    s.ok(&["export", "-o", "dump.jsonl"]);
    assert_eq!(
        std::fs::read_to_string(s.path("dump.jsonl")).unwrap(),
        exported
    );
    let only = s.ok(&["export", "--bucket", "other"]).stdout;
    assert_eq!(only.lines().count(), 1, "{only}");

    let run = s.ok(&["import", "--data", "copy", "dump.jsonl"]);
    assert!(run.stdout.contains("into 2 buckets"), "{run:?}");
    assert_eq!(s.ok(&["export", "--data", "copy"]).stdout, exported);
    // The copy is a working store for the app: its note is there.
    let run = s.ok(&["run", counter(), "--data", "copy"]);
    assert!(run.stdout.contains("ünïcode \"quoted\"\ttab"), "{run:?}");

    // Bad input is refused whole, naming the line.
    let bad = format!("{}{{\"bucket\":\"\",\"key\":\"k\"}}\n", exported);
    let line = exported.lines().count() + 1;
    let output = virt_store_in(s.dir.path(), &["import", "--data", "fresh"], bad.as_bytes());
    let run = text(output);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains(&format!("line {line}")), "{run:?}");
    assert!(
        s.ok(&["export", "--data", "fresh"]).stdout.is_empty(),
        "nothing imported"
    );
}

#[test]
fn inspect_describes_buckets() {
    let s = Scratch::new();
    s.ok(&["run", counter(), "--", "note", "one"]);
    s.ok(&["set", "-b", "other", "k", "v"]);
    s.ok(&["set", "-b", "other", "gone", "v"]);
    s.ok(&["delete", "-b", "other", "gone"]);
    let run = s.ok(&["inspect"]);
    assert!(run.stdout.contains("virt-store format 2"), "{run:?}");
    assert!(
        run.stdout
            .contains("1 deleted keys remembered, 0 temporary files; format 2\n"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("bucket `other`: 1 keys, 1 B of values"),
        "{run:?}"
    );
    assert!(run.stdout.contains("1 deleted keys remembered"), "{run:?}");
    assert!(run.stdout.contains("the default bucket: "), "{run:?}");
}

#[test]
fn fsck_finds_damage_and_repairs_it() {
    let s = Scratch::new();
    s.ok(&["set", "good", "kept"]);
    // Longer than a pointer's name holds (163 bytes), so that it has a value file to damage.
    s.ok(&["set", "bad", &"to be damaged ".repeat(20)]);
    let clean = s.ok(&["fsck"]);
    assert!(
        clean
            .stdout
            .contains("checked 2 keys in 1 buckets: 0 problems"),
        "{clean:?}"
    );

    // Flip a byte of `bad`'s value file.
    let hash = virt_store_engine::internals::key_hash("bad");
    let key_dir = s.path("data/buckets/_default").join(&hash[..2]).join(&hash);
    let value = std::fs::read_dir(&key_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with("val."))
        .unwrap();
    let mut bytes = std::fs::read(&value).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    std::fs::write(&value, bytes).unwrap();

    let found = s.run(&["fsck"]);
    assert_eq!(found.code, Some(1), "{found:?}");
    assert!(found.stdout.contains("found: "), "{found:?}");
    assert!(
        found.stdout.contains(&hash),
        "names the damaged entry: {found:?}"
    );
    assert!(
        found.stdout.contains("--repair"),
        "says how to fix: {found:?}"
    );

    let repaired = s.ok(&["fsck", "--repair"]);
    assert!(repaired.stdout.contains("repaired: "), "{repaired:?}");
    let again = s.ok(&["fsck"]);
    assert!(again.stdout.contains("0 problems"), "{again:?}");
    assert_eq!(s.ok(&["get", "good"]).stdout, "kept");
}

/// The Valkey backend from the CLI, on a real valkey-server: `run --store` (twice: the second run
/// sees the first), the store tools with `--store`, and a store moved from a directory to the
/// server and back with `export | import`.
#[test]
fn run_and_the_store_tools_work_on_a_server_with_store() {
    let server = virt_store_test_servers::Server::start(virt_store_test_servers::Kind::Valkey);
    let url = server.url();
    let s = Scratch::new();
    s.ok(&[
        "run",
        "--store",
        &url,
        counter(),
        "--",
        "note",
        "on the server",
    ]);
    let second = s.ok(&["run", "--store", &url, counter()]);
    assert!(second.stdout.contains("run #1"), "{second:?}");
    assert!(
        second.stdout.contains("note:000001: on the server"),
        "{second:?}"
    );
    assert!(s.path("data").read_dir().is_err(), "no directory is made");
    let listed = s.ok(&["list", "--store", &url]);
    assert_eq!(listed.stdout, "note:000001\nnotes:count\nruns\nvisits\n");
    assert_eq!(s.ok(&["get", "--store", &url, "visits"]).stdout, "1");
    s.ok(&["set", "--store", &url, "-b", "other", "k", "v"]);
    let inspect = s.ok(&["inspect", "--store", &url]);
    assert!(
        inspect
            .stdout
            .contains("the default bucket: 4 keys\nbucket `other`: 1 keys"),
        "{inspect:?}"
    );
    s.fails(
        &["get", "--store", &url, "-b", "nowhere", "k"],
        "there is no bucket `nowhere` in `redis://127.0.0.1:",
    );
    let both = s.run(&["list", "--store", &url, "--data", "d"]);
    assert_eq!(both.code, Some(2), "a usage error: {both:?}");
    assert!(both.stderr.contains("cannot be used with"), "{both:?}");

    // To a directory and back: the same keys and values, and the app goes on counting.
    let exported = s.ok(&["export", "--store", &url, "-o", "store.jsonl"]);
    assert!(
        exported.stderr.contains("exported 5 keys from 2 buckets"),
        "{exported:?}"
    );
    s.ok(&["import", "--data", "moved", "store.jsonl"]);
    let on_disk = s.ok(&["run", "--data", "moved", counter()]);
    assert!(on_disk.stdout.contains("run #2"), "{on_disk:?}");
    assert_eq!(
        s.ok(&["get", "--data", "moved", "-b", "other", "k"]).stdout,
        "v"
    );
}

/// `run --store` grants TCP to the server's address and nothing else: `--env` cannot point the
/// provider elsewhere, and a plain `run` grants no network at all.
#[test]
fn run_grants_the_network_only_to_the_store() {
    let server = virt_store_test_servers::Server::start(virt_store_test_servers::Kind::Valkey);
    let url = server.url();
    let s = Scratch::new();
    s.fails(
        &[
            "run",
            "--store",
            &url,
            "--env",
            "VIRT_STORE_URL=redis://127.0.0.1:1",
            counter(),
        ],
        "both name the server",
    );
    // The Valkey provider run without `--store`: no network, and the message says how to grant it.
    s.ok(&["provider", "--backend", "valkey", "-o", "valkey.wasm"]);
    let no_network = s.run(&[
        "run",
        "--provider",
        "valkey.wasm",
        "--env",
        &format!("VIRT_STORE_URL={url}"),
        counter(),
    ]);
    assert_ne!(no_network.code, Some(0), "{no_network:?}");
    assert!(
        no_network
            .stderr
            .contains("not allowed to connect to redis://127.0.0.1:"),
        "{no_network:?}"
    );
}

/// The Valkey provider reaches its server over wasi:sockets and opens no file: it imports no
/// `wasi:filesystem`, and exports every version's `wasi:keyvalue` but no preopens.
#[test]
fn the_valkey_provider_imports_sockets_and_no_filesystem() {
    let imports = virt_store::imports(virt_store::PROVIDER_VALKEY).unwrap();
    assert!(
        imports.iter().any(|i| i.starts_with("wasi:sockets/tcp@")),
        "{imports:?}"
    );
    assert!(
        !imports.iter().any(|i| i.starts_with("wasi:filesystem/")),
        "{imports:?}"
    );
    let exports = virt_store::exports(virt_store::PROVIDER_VALKEY).unwrap();
    assert_eq!(
        exports,
        virt_store::exports(virt_store::PROVIDER)
            .unwrap()
            .into_iter()
            .filter(|e| virt_store::is_keyvalue(e))
            .collect::<Vec<_>>()
    );
    assert_eq!(exports.len(), 9, "{exports:?}");
}

/// Copies `from` to `to`, making again the empty `tmp/` of each bucket that git does not keep.
fn copy_store(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_store(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
    if to.parent().and_then(Path::file_name) == Some("buckets".as_ref()) {
        std::fs::create_dir_all(to.join("tmp")).unwrap();
    }
}

/// A store the format-1 release wrote (the engine's committed fixture) works through the new
/// provider and the CLI with no step by the user: every key, value and bucket reads as written,
/// takes writes (which convert it), and `inspect` says which format each bucket is in.
#[test]
fn a_format1_store_works_through_the_provider_and_the_cli() {
    let s = Scratch::new();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/fixtures/format1");
    copy_store(&fixture, &s.path("data"));
    let data = s.path("data");
    let get = |key: &str, bucket: &str| {
        let out = virt_store_harness::run_ok("kv_get", &data, &[key, bucket]);
        out.stdout.trim_end_matches('\n').to_owned()
    };

    let before = s.ok(&["inspect"]);
    assert!(before.stdout.contains("virt-store format 1"), "{before:?}");
    assert!(
        before.stdout.contains("bucket `notes`: 8 keys")
            && before
                .stdout
                .contains("format 1 (converted on its first write)"),
        "{before:?}"
    );
    s.ok(&["fsck"]);

    // Read through the composed provider, as the app wrote them.
    assert_eq!(get("hundred", ""), "h".repeat(100));
    assert_eq!(get("counter", ""), "21");
    assert_eq!(get("overwritten", ""), "second");
    assert_eq!(get("k", "z-9"), "v");
    assert_eq!(get("a/b", "notes"), "value of \"a/b\"");
    assert_eq!(get(&"x".repeat(300), "notes"), "a 300-byte key");
    // And by the CLI.
    let big: Vec<u8> = (0..100 * 1024u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(
        virt_store_in(s.dir.path(), &["get", "big"], b"").stdout,
        big
    );
    assert_eq!(
        s.ok(&["list", "-b", "notes"]).stdout.lines().count(),
        8,
        "every key of the bucket"
    );

    // Writes: through the provider and the CLI.
    virt_store_harness::run_ok("kv_set", &data, &["hundred", "rewritten"]);
    virt_store_harness::run_ok("increment_loop", &data, &["counter", "4"]);
    s.ok(&["set", "-b", "z-9", "k", "new value"]);
    assert_eq!(get("hundred", ""), "rewritten");
    assert_eq!(get("counter", ""), "25");
    assert_eq!(get("k", "z-9"), "new value");
    assert_eq!(get("\u{e9}", "notes"), "value of \"\u{e9}\"");

    let after = s.ok(&["inspect"]);
    assert!(after.stdout.contains("virt-store format 2"), "{after:?}");
    assert!(
        after
            .stdout
            .contains("of its keys still in format 1 (converted as they are written)"),
        "{after:?}"
    );
    assert!(
        after
            .stdout
            .contains("format 1 (converted on its first write)"),
        "`notes` was only read: {after:?}"
    );
    s.ok(&["fsck"]);
}
