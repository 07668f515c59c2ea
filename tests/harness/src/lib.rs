//! Composes the guest test programs with the provider and runs them on the embedded wasmtime.
//!
//! `build.rs` builds one component per `tests/programs/src/bin/*.rs` and per example; this crate
//! plugs the provider that `virt-store` embeds into a program with [`virt_store::plug`], compiles
//! the result once per process, and runs it with a host directory preopened at `/data`, capturing
//! its output.
//! [`run_in_memory`] runs the same program unplugged on wasmtime's in-memory host instead, the
//! reference for `wasi:keyvalue@0.2.0-draft`.
#![deny(missing_docs)]

mod in_memory;

pub use in_memory::run_in_memory;

use anyhow::{anyhow, Context, Result};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use virt_store::{Access, Program, RunConfig, Runtime, Status};

/// Paths of the built artifacts, and the `foreach_program!` macro.
pub mod artifacts {
    include!(concat!(env!("OUT_DIR"), "/artifacts.rs"));
}

/// Where the store's directory appears inside the guest: the provider's default root.
pub const GUEST_DATA_DIR: &str = "/data";

/// Where wasmtime keeps compiled code between test processes: a debug build of Cranelift takes
/// seconds per program.
const CODE_CACHE_DIR: &str = concat!(env!("OUT_DIR"), "/wasmtime-cache");

/// Writes `entries` into the default bucket of the store at `dir`, natively through the engine
/// the provider runs on; creates the store if `dir` is empty.
pub fn preset(dir: &Path, entries: &[(&str, &str)]) -> Result<()> {
    let store = virt_store_engine::Store::open(dir, virt_store_engine::Options::default())
        .with_context(|| format!("cannot open the store at `{}`", dir.display()))?;
    let bucket = store.bucket("")?;
    for (key, value) in entries {
        bucket
            .set(key, value.as_bytes())
            .with_context(|| format!("cannot preset `{key}` in `{}`", dir.display()))?;
    }
    Ok(())
}

/// The test program `program` with the provider plugged in. Plugged once per process.
pub fn composed(program: &str) -> Result<Arc<Vec<u8>>> {
    composed_with(program, Provider::Files)
}

/// Which provider a program is plugged into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    /// The filesystem provider (`virt_store::PROVIDER`).
    Files,
    /// The Valkey provider (`virt_store::PROVIDER_VALKEY`).
    Valkey,
}

/// The test program `program` with `provider` plugged in. Plugged once per process.
pub fn composed_with(program: &str, provider: Provider) -> Result<Arc<Vec<u8>>> {
    static COMPOSED: Cache<Arc<Vec<u8>>> = Cache::new();
    COMPOSED.get_or_try_init(&format!("{program} {provider:?}"), || {
        let path = program_path(program)?;
        let app = std::fs::read(path).with_context(|| format!("cannot read `{path}`"))?;
        let component = match provider {
            Provider::Files => virt_store::PROVIDER,
            Provider::Valkey => virt_store::PROVIDER_VALKEY,
        };
        let composed = virt_store::plug(&app, component)
            .with_context(|| format!("cannot plug the {provider:?} provider into `{program}`"))?;
        Ok(Arc::new(composed))
    })
}

/// Runs `program` plugged into the Valkey provider, with `VIRT_STORE_URL=url` (a loopback
/// `redis://127.0.0.1:PORT[/DB]`), TCP to that port only, `args` and `env`.
pub fn run_on_server(
    program: &str,
    url: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<Output> {
    let compiled = compiled_with(program, Provider::Valkey)?;
    let port: u16 = url
        .strip_prefix("redis://127.0.0.1:")
        .and_then(|rest| rest.split('/').next())
        .and_then(|port| port.parse().ok())
        .ok_or_else(|| anyhow!("`{url}` is not redis://127.0.0.1:PORT[/DB]"))?;
    let config = RunConfig::new(program)
        .args(args.iter().copied())
        .env("VIRT_STORE_URL", url)
        .tcp_to([std::net::SocketAddr::from(([127, 0, 0, 1], port))]);
    run_compiled(program, &compiled, config, env)
}

/// Like [`run_on_server`] with no more environment, but panics with the program's output unless
/// it exits with 0.
#[track_caller]
pub fn run_ok_on_server(program: &str, url: &str, args: &[&str]) -> Output {
    succeeded(run_on_server(program, url, args, &[]), program, args)
}

/// The output of a run of `program` with `args` that must have exited with 0; panics otherwise.
#[track_caller]
fn succeeded(output: Result<Output>, program: &str, args: &[&str]) -> Output {
    let output = output.unwrap_or_else(|e| panic!("{e:?}"));
    assert!(
        output.status == 0,
        "`{program} {}` failed: {output}",
        args.join(" ")
    );
    output
}

/// An app importing `wasi:keyvalue/batch@0.2.0-draft2` with just a `get-many` whose result is
/// `result<list<ELEMENT>, error>`; `element` is WAT over `$bytes` (`list<u8>`) and `$pair`
/// (`tuple<string, list<u8>>`).
pub fn app_importing_draft2_get_many(element: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(component
            (import "wasi:keyvalue/batch@0.2.0-draft2" (instance
                (export "bucket" (type $bucket (sub resource)))
                (type $error (variant (case "no-such-store") (case "access-denied") (case "other" string)))
                (export "error" (type $error' (eq $error)))
                (type $bytes (list u8))
                (type $pair (tuple string $bytes))
                (type $element {element})
                (type $many (result (list $element) (error $error')))
                (export "get-many" (func
                    (param "bucket" (borrow $bucket))
                    (param "keys" (list string))
                    (result $many)))))
        )"#
    ))
    .expect("the WAT above is valid for any element type")
}

/// How a program run ended, and what it wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// The exit status: 0 for success, [`virt_store::TRAP_EXIT_CODE`] for a trap (a failed `assert!`).
    pub status: i32,
    /// Everything written to stdout (invalid UTF-8 replaced).
    pub stdout: String,
    /// Everything written to stderr, followed by the trap message if the guest trapped.
    pub stderr: String,
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "status {}", self.status)?;
        writeln!(f, "--- stdout\n{}", self.stdout.trim_end())?;
        write!(f, "--- stderr\n{}", self.stderr.trim_end())
    }
}

/// Runs the composed `program` with `data` preopened read-write at `/data`, `args` as its
/// `argv[1..]` (`argv[0]` is the program's name) and `env` as its whole environment.
pub fn run(program: &str, data: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<Output> {
    run_with(program, data, Access::ReadWrite, &[], args, env)
}

/// Like [`run`], with more host directories preopened read-write beside `/data`, as
/// `(host, guest)` pairs.
pub fn run_with_dirs(
    program: &str,
    data: &Path,
    dirs: &[(&Path, &str)],
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<Output> {
    run_with(program, data, Access::ReadWrite, dirs, args, env)
}

/// Like [`run`] with no environment, but panics with the program's output unless it exits with 0.
#[track_caller]
pub fn run_ok(program: &str, data: &Path, args: &[&str]) -> Output {
    succeeded(run(program, data, args, &[]), program, args)
}

/// Like [`run`] with no environment, with `data` preopened read-only.
pub fn run_readonly(program: &str, data: &Path, args: &[&str]) -> Result<Output> {
    run_with(program, data, Access::ReadOnly, &[], args, &[])
}

fn run_with(
    program: &str,
    data: &Path,
    access: Access,
    dirs: &[(&Path, &str)],
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<Output> {
    let compiled = compiled(program)?;
    let mut config =
        RunConfig::new(program)
            .args(args.iter().copied())
            .dir(data, GUEST_DATA_DIR, access);
    for (host, guest) in dirs {
        config = config.dir(host, *guest, Access::ReadWrite);
    }
    run_compiled(program, &compiled, config, env)
}

/// Runs `compiled` with `config`, `env` added and its output captured.
fn run_compiled(
    program: &str,
    compiled: &Program,
    mut config: RunConfig,
    env: &[(&str, &str)],
) -> Result<Output> {
    for (key, value) in env {
        config = config.env(*key, *value);
    }
    let outcome = compiled
        .run(&config.capture_output())
        .with_context(|| format!("cannot run `{program}`"))?;
    Ok(output(&outcome.status, &outcome.stdout, &outcome.stderr))
}

/// The [`Output`] of a run that ended with `status`, having written `stdout` and `stderr`.
fn output(status: &Status, stdout: &[u8], stderr: &[u8]) -> Output {
    let mut stderr = String::from_utf8_lossy(stderr).into_owned();
    if let Status::Trapped(trap) = status {
        if !stderr.is_empty() && !stderr.ends_with('\n') {
            stderr.push('\n');
        }
        stderr.push_str(trap);
    }
    Output {
        status: status.code(),
        stdout: String::from_utf8_lossy(stdout).into_owned(),
        stderr,
    }
}

/// The composed `program`, compiled. Compiled once per process: compiling is the slow part.
fn compiled(program: &str) -> Result<Program> {
    compiled_with(program, Provider::Files)
}

fn compiled_with(program: &str, provider: Provider) -> Result<Program> {
    static COMPILED: Cache<Program> = Cache::new();
    COMPILED.get_or_try_init(&format!("{program} {provider:?}"), || {
        let composed = composed_with(program, provider)?;
        runtime()?
            .compile(&composed)
            .with_context(|| format!("cannot compile the composed `{program}`"))
    })
}

/// The one wasmtime runtime of this process; its compiled code is also kept in [`CODE_CACHE_DIR`].
fn runtime() -> Result<&'static Runtime> {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let runtime = Runtime::with_cache(CODE_CACHE_DIR)?;
    Ok(RUNTIME.get_or_init(|| runtime))
}

fn program_path(program: &str) -> Result<&'static str> {
    artifacts::PROGRAMS
        .iter()
        .find(|(name, _)| *name == program)
        .map(|(_, path)| *path)
        .ok_or_else(|| {
            let known: Vec<&str> = artifacts::PROGRAMS.iter().map(|(name, _)| *name).collect();
            anyhow!(
                "no test program `{program}` (known: {}); add `tests/programs/src/bin/{program}.rs`",
                known.join(", ")
            )
        })
}

/// Values computed at most once per name, each behind its own lock so that different names are
/// computed in parallel while the same name is computed once. Failures are not cached.
struct Cache<T> {
    cells: Mutex<BTreeMap<String, Arc<Mutex<Option<T>>>>>,
}

impl<T: Clone> Cache<T> {
    const fn new() -> Self {
        Self {
            cells: Mutex::new(BTreeMap::new()),
        }
    }

    fn get_or_try_init(&self, name: &str, init: impl FnOnce() -> Result<T>) -> Result<T> {
        let cell = {
            let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(cells.entry(name.to_owned()).or_default())
        };
        let mut value = cell.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(value) = &*value {
            return Ok(value.clone());
        }
        let computed = init()?;
        *value = Some(computed.clone());
        Ok(computed)
    }
}
