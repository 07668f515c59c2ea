//! Running a command component (`wasi:cli/run`) on an embedded wasmtime.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use thiserror::Error;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Cache, CacheConfig, Engine, Store};
use wasmtime_wasi::p2::bindings::sync::CommandPre;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// The exit status reported for a guest that trapped: what a process killed by `SIGABRT` reports,
/// as `wasmtime run` does.
pub const TRAP_EXIT_CODE: i32 = if cfg!(windows) { 3 } else { 134 };

/// At most this much of each of stdout and stderr is kept when output is captured; a guest that
/// writes more sees its stream closed.
const CAPTURE_LIMIT: usize = 64 << 20;

/// A boxed error from wasmtime, whose error type is not part of this crate's API.
type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error setting up the runtime.
#[derive(Debug, Error)]
pub enum RuntimeError {
    /// wasmtime could not create its engine or link WASI.
    #[error("the wasmtime runtime could not be set up")]
    Setup {
        /// wasmtime's error.
        #[source]
        source: Source,
    },
}

/// An error compiling a component into a runnable [`Program`].
#[derive(Debug, Error)]
pub enum CompileError {
    /// The bytes are not a component wasmtime can compile.
    #[error("the component could not be compiled")]
    Compile {
        /// wasmtime's error.
        #[source]
        source: Source,
    },
    /// The component imports something other than the WASI 0.2 interfaces this runtime provides.
    #[error("the component imports something this runtime does not provide (only WASI 0.2 interfaces are available)")]
    Link {
        /// wasmtime's error, which names the import.
        #[source]
        source: Source,
    },
    /// The component does not export `wasi:cli/run`.
    #[error("the component is not a command: it does not export `wasi:cli/run@0.2.x`")]
    NotACommand {
        /// wasmtime's error.
        #[source]
        source: Source,
    },
}

/// An error starting a run. A guest that fails or traps is not an error: see [`Status`].
#[derive(Debug, Error)]
pub enum RunError {
    /// A host directory could not be opened for preopening.
    #[error("cannot preopen host directory `{host}` as `{guest}`; does it exist?", host = .host.display())]
    Preopen {
        /// The host directory.
        host: PathBuf,
        /// The guest path it was to appear at.
        guest: String,
        /// wasmtime's error.
        #[source]
        source: Source,
    },
    /// The component could not be instantiated.
    #[error("the component could not be instantiated")]
    Instantiate {
        /// wasmtime's error.
        #[source]
        source: Source,
    },
}

/// One wasmtime engine with WASI 0.2 linked in; compiles components into [`Program`]s.
///
/// Cheap to share: compile each component once and run the [`Program`] as often as needed, from
/// as many threads as needed.
pub struct Runtime {
    engine: Engine,
    linker: Linker<Host>,
}

impl Runtime {
    /// Creates an engine with wasmtime's default configuration and links the WASI 0.2 interfaces.
    pub fn new() -> Result<Self, RuntimeError> {
        Self::with_config(wasmtime::Config::new())
    }

    /// Like [`Runtime::new`], and keeps compiled code in the directory `cache` (an absolute
    /// path), keyed by the component's bytes and the compiler's settings, so that later processes
    /// skip compiling. wasmtime bounds the directory's size.
    pub fn with_cache(cache: impl Into<PathBuf>) -> Result<Self, RuntimeError> {
        let mut cache_config = CacheConfig::new();
        cache_config.with_directory(cache);
        let cache = Cache::new(cache_config).map_err(setup_error)?;
        let mut config = wasmtime::Config::new();
        config.cache(Some(cache));
        Self::with_config(config)
    }

    fn with_config(config: wasmtime::Config) -> Result<Self, RuntimeError> {
        let engine = Engine::new(&config).map_err(setup_error)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(setup_error)?;
        Ok(Self { engine, linker })
    }

    /// Compiles a command component; the slow step, done once per component.
    pub fn compile(&self, component: &[u8]) -> Result<Program, CompileError> {
        let component =
            Component::new(&self.engine, component).map_err(|e| CompileError::Compile {
                source: e.into_boxed_dyn_error(),
            })?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| CompileError::Link {
                source: e.into_boxed_dyn_error(),
            })?;
        let pre = CommandPre::new(pre).map_err(|e| CompileError::NotACommand {
            source: e.into_boxed_dyn_error(),
        })?;
        Ok(Program { pre })
    }
}

/// A compiled, linked command component, ready to run many times, concurrently if need be.
///
/// Each run gets a fresh instance in its own store; runs share nothing but the compiled code.
#[derive(Clone)]
pub struct Program {
    pre: CommandPre<Host>,
}

impl Program {
    /// Instantiates the component and calls its `wasi:cli/run` export, on the calling thread.
    pub fn run(&self, config: &RunConfig) -> Result<Outcome, RunError> {
        let mut wasi = WasiCtxBuilder::new();
        // Must come before the preopens, which take the setting when they are added. Without it
        // every filesystem call hops to a worker thread (about 20 times slower).
        wasi.allow_blocking_current_thread(true);
        wasi.args(&config.args).envs(&config.env);
        for dir in &config.dirs {
            let perms = match dir.access {
                Access::ReadOnly => FsPerms::ReadOnly,
                Access::ReadWrite => FsPerms::ReadWrite,
            };
            wasi.preopened_dir(&dir.host, &dir.guest, perms)
                .map_err(|e| RunError::Preopen {
                    host: dir.host.clone(),
                    guest: dir.guest.clone(),
                    source: e.into_boxed_dyn_error(),
                })?;
        }
        if !config.tcp.is_empty() {
            let allowed = config.tcp.clone();
            // A connect first binds the socket to the wildcard address, port 0 (an implicit
            // bind): that is allowed; an explicit bind elsewhere, a listen, UDP are not.
            wasi.allow_tcp(true).socket_addr_check(move |addr, usage| {
                let ok = match usage {
                    SocketAddrUse::TcpConnect => allowed.contains(&addr),
                    SocketAddrUse::TcpBind => addr.ip().is_unspecified() && addr.port() == 0,
                    _ => false,
                };
                Box::pin(async move { ok })
            });
        }
        wasi.allow_ip_name_lookup(config.name_lookup);
        let captured = config.capture.then(|| {
            let stdout = MemoryOutputPipe::new(CAPTURE_LIMIT);
            let stderr = MemoryOutputPipe::new(CAPTURE_LIMIT);
            wasi.stdout(stdout.clone()).stderr(stderr.clone());
            (stdout, stderr)
        });
        if captured.is_none() {
            wasi.inherit_stdio();
        }

        let host = Host {
            wasi: wasi.build(),
            table: ResourceTable::new(),
        };
        let mut store = Store::new(self.pre.engine(), host);
        let command = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| RunError::Instantiate {
                source: e.into_boxed_dyn_error(),
            })?;
        let status = match command.wasi_cli_run().call_run(&mut store) {
            Ok(Ok(())) => Status::Exited(0),
            Ok(Err(())) => Status::Exited(1),
            Err(e) => match e.downcast_ref::<I32Exit>() {
                Some(exit) => Status::Exited(exit.0),
                None => Status::Trapped(describe(&e)),
            },
        };
        // The store holds the pipes' other ends; drop it so the buffers are complete.
        drop(store);
        let (stdout, stderr) = match captured {
            Some((stdout, stderr)) => (stdout.contents().to_vec(), stderr.contents().to_vec()),
            None => (Vec::new(), Vec::new()),
        };
        Ok(Outcome {
            status,
            stdout,
            stderr,
        })
    }
}

/// How a guest sees a preopened directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Reading only: every write fails with a WASI error.
    ReadOnly,
    /// Reading and writing.
    ReadWrite,
}

/// A preopened directory.
#[derive(Clone, Debug)]
struct Preopen {
    host: PathBuf,
    guest: String,
    access: Access,
}

/// What one run of a [`Program`] sees: arguments, environment, directories, and where its output goes.
#[derive(Clone, Debug)]
pub struct RunConfig {
    args: Vec<String>,
    env: Vec<(String, String)>,
    dirs: Vec<Preopen>,
    tcp: Vec<SocketAddr>,
    name_lookup: bool,
    capture: bool,
}

impl RunConfig {
    /// A run with `argv[0]` set to `program`, no other arguments, an empty environment, no
    /// directories, and the host's stdin, stdout and stderr.
    pub fn new(program: impl Into<String>) -> Self {
        Self {
            args: vec![program.into()],
            env: Vec::new(),
            dirs: Vec::new(),
            tcp: Vec::new(),
            name_lookup: false,
            capture: false,
        }
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets one environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Makes the host directory `host` visible to the guest at `guest`.
    pub fn dir(mut self, host: impl AsRef<Path>, guest: impl Into<String>, access: Access) -> Self {
        self.dirs.push(Preopen {
            host: host.as_ref().to_path_buf(),
            guest: guest.into(),
            access,
        });
        self
    }

    /// Lets the guest open TCP connections to `addrs`, and to nothing else: no listening, no
    /// UDP, no other address (by default the guest has no network at all).
    pub fn tcp_to(mut self, addrs: impl IntoIterator<Item = SocketAddr>) -> Self {
        self.tcp.extend(addrs);
        self
    }

    /// Lets the guest resolve host names (`wasi:sockets/ip-name-lookup`), which a
    /// `redis://NAME:PORT` URL needs; off by default.
    pub fn name_lookup(mut self, allow: bool) -> Self {
        self.name_lookup = allow;
        self
    }

    /// Captures stdout and stderr into the [`Outcome`] instead of passing them to the host's,
    /// and gives the guest an empty stdin.
    pub fn capture_output(mut self) -> Self {
        self.capture = true;
        self
    }
}

/// How a run ended, and its output when captured.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// How the guest ended.
    pub status: Status,
    /// Everything written to stdout, when captured (see [`RunConfig::capture_output`]).
    pub stdout: Vec<u8>,
    /// Everything written to stderr, when captured.
    pub stderr: Vec<u8>,
}

/// How a guest ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// It returned from `run` (0 for `ok`, 1 for `err`) or called `wasi:cli/exit` with this code.
    Exited(i32),
    /// It trapped (a Rust guest's panic ends this way); the message says where and why.
    Trapped(String),
}

impl Status {
    /// The process exit code this status maps to: the guest's own, or [`TRAP_EXIT_CODE`].
    pub fn code(&self) -> i32 {
        match self {
            Status::Exited(code) => *code,
            Status::Trapped(_) => TRAP_EXIT_CODE,
        }
    }

    /// Whether the guest exited with code 0.
    pub fn success(&self) -> bool {
        *self == Status::Exited(0)
    }
}

/// The store's data: the WASI context of one run.
struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn setup_error(error: wasmtime::Error) -> RuntimeError {
    RuntimeError::Setup {
        source: error.into_boxed_dyn_error(),
    }
}

/// Renders a trap with its causes: the trap itself first, then where it happened.
fn describe(error: &wasmtime::Error) -> String {
    let mut chain: Vec<String> = error.chain().map(|cause| cause.to_string()).collect();
    if let Some(root) = chain.pop() {
        chain.insert(0, root);
    }
    chain.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A command whose `run` executes `body` (core wasm instructions leaving an `i32`: 0 for
    /// `ok`, 1 for `err`), with `wasi:cli/exit`'s `exit` callable as `$exit`.
    fn command(body: &str) -> Vec<u8> {
        wat::parse_str(format!(
            r#"(component
                (import "wasi:cli/exit@0.2.0" (instance $exit
                    (export "exit" (func (param "status" (result))))))
                (core func $exit (canon lower (func $exit "exit")))
                (core module $m
                    (import "host" "exit" (func $exit (param i32)))
                    (func (export "run") (result i32) {body}))
                (core instance $i (instantiate $m
                    (with "host" (instance (export "exit" (func $exit))))))
                (func $run (result (result)) (canon lift (core func $i "run")))
                (instance $cli (export "run" (func $run)))
                (export "wasi:cli/run@0.2.0" (instance $cli))
            )"#
        ))
        .unwrap()
    }

    fn status(body: &str) -> Status {
        let runtime = Runtime::new().unwrap();
        let program = runtime.compile(&command(body)).unwrap();
        program
            .run(&RunConfig::new("t").capture_output())
            .unwrap()
            .status
    }

    #[test]
    fn exit_statuses() {
        assert_eq!(status("i32.const 0"), Status::Exited(0));
        assert_eq!(status("i32.const 1"), Status::Exited(1));
        assert_eq!(
            status("i32.const 1 call $exit unreachable"),
            Status::Exited(1)
        );
        match status("unreachable") {
            Status::Trapped(message) => assert!(message.contains("unreachable"), "{message}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(Status::Trapped(String::new()).code(), TRAP_EXIT_CODE);
    }

    #[test]
    fn one_program_runs_on_many_threads() {
        let runtime = Runtime::new().unwrap();
        let program = runtime.compile(&command("i32.const 0")).unwrap();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    let outcome = program.run(&RunConfig::new("t").capture_output()).unwrap();
                    assert!(outcome.status.success());
                });
            }
        });
    }

    #[test]
    fn refuses_what_it_cannot_run() {
        let runtime = Runtime::new().unwrap();
        let not_a_command = wat::parse_str("(component)").unwrap();
        let err = runtime.compile(&not_a_command).err().unwrap();
        assert!(matches!(err, CompileError::NotACommand { .. }), "{err:?}");

        let foreign =
            wat::parse_str(r#"(component (import "my:own/thing" (instance (export "f" (func)))))"#)
                .unwrap();
        let err = runtime.compile(&foreign).err().unwrap();
        assert!(matches!(err, CompileError::Link { .. }), "{err:?}");

        let err = runtime.compile(b"junk").err().unwrap();
        assert!(matches!(err, CompileError::Compile { .. }), "{err:?}");
    }

    #[test]
    fn a_missing_host_directory_is_an_error() {
        let runtime = Runtime::new().unwrap();
        let program = runtime.compile(&command("i32.const 0")).unwrap();
        let config = RunConfig::new("t").dir("/no/such/dir", "/data", Access::ReadOnly);
        let err = program.run(&config).err().unwrap();
        assert!(matches!(err, RunError::Preopen { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "cannot preopen host directory `/no/such/dir` as `/data`; does it exist?"
        );
    }
}
