//! The guest workload on wasmtime: plugged with the provider (the filesystem one or the Valkey
//! one), or unplugged on wasmtime's in-memory `wasi:keyvalue` host.
//!
//! Both run on one engine configured as `virt_store::Runtime` configures its own (wasmtime's
//! defaults, WASI 0.2 linked synchronously, `allow_blocking_current_thread`). The provider's
//! linker differs in one way: `descriptor.sync` and `descriptor.sync-data` of `wasi:filesystem`
//! are wrapped to count the calls, so the syncs a durable operation issues inside the component
//! are counted at the boundary, per instance, rather than assumed from the native engine.
//!
//! The Valkey provider runs on that same linker; its instance is granted TCP to the server and
//! nothing else, as `virt-store run --store URL` grants it (`RunConfig::tcp_to`).

use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use wasmtime::component::{Component, Linker, Resource, ResourceTable};
use wasmtime::{Engine, Store, StoreContextMut};
use wasmtime_wasi::filesystem::WasiFilesystemView;
use wasmtime_wasi::p2::bindings::sync::filesystem::types as fs;
use wasmtime_wasi::p2::bindings::sync::CommandPre;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_keyvalue::{WasiKeyValue, WasiKeyValueCtx, WasiKeyValueCtxBuilder};

/// The workload on `wasi:keyvalue@0.2.0-draft` (both stores serve it).
pub const WORKLOAD_DRAFT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/workload_draft.wasm"));
/// The workload on `wasi:keyvalue@0.2.0-draft3` (for CAS, which `draft` lacks).
pub const WORKLOAD_DRAFT3: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/workload_draft3.wasm"));
/// The counter example, for the composed-size figure.
pub const COUNTER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/counter.wasm"));

/// The `wasi:filesystem` version wasmtime-wasi 48 links; the provider's imports resolve to it by
/// semver. If it changes, the sync counter counts nothing, which [`Wasm::new`] detects.
const FILESYSTEM_TYPES: &str = "wasi:filesystem/types@0.2.12";

/// At most this much of each of stdout and stderr is kept.
const CAPTURE_LIMIT: usize = 256 << 20;

/// Which program, on which store.
#[derive(Clone, Copy, Debug)]
pub enum Program {
    /// The `draft` workload plugged with the provider.
    Provider,
    /// The `draft3` workload plugged with the provider.
    ProviderDraft3,
    /// The `draft` workload unplugged, on the in-memory host.
    InMemory,
    /// The `draft` workload plugged with the Valkey provider.
    Valkey,
    /// The `draft3` workload plugged with the Valkey provider.
    ValkeyDraft3,
}

/// A Valkey server the Valkey provider may reach.
#[derive(Clone, Debug)]
pub struct Server {
    /// `VIRT_STORE_URL`.
    pub url: String,
    /// The one address the instance may connect to.
    pub addr: SocketAddr,
}

/// One invocation of the workload.
pub struct Invocation<'a> {
    /// `argv[1..]`.
    pub args: Vec<String>,
    /// `VIRT_STORE_SYNC`, for the provider.
    pub durable: bool,
    /// The store's directory, preopened at `/data` (the provider's default).
    pub data: Option<&'a Path>,
    /// The in-memory host's initial contents.
    pub preset: Option<&'a HashMap<String, Vec<u8>>>,
    /// The server of the Valkey provider: `VIRT_STORE_URL`, and TCP to it alone.
    pub server: Option<&'a Server>,
    /// When given, called between instantiation and the run (to start instances together).
    pub start: Option<&'a (dyn Fn() + Sync)>,
}

/// What one invocation printed and cost.
pub struct Outcome {
    /// The workload's stdout.
    pub stdout: String,
    /// `sync` and `sync-data` calls the instance made.
    pub syncs: u64,
    /// Time to instantiate the component (host side).
    pub instantiate: Duration,
}

/// The compiled workloads.
pub struct Wasm {
    provider: CommandPre<Host>,
    provider_draft3: CommandPre<Host>,
    in_memory: CommandPre<Host>,
    valkey: CommandPre<Host>,
    valkey_draft3: CommandPre<Host>,
}

impl Wasm {
    /// Plugs the providers into the workload, compiles the five programs, and checks that the
    /// sync counter counts (one durable `set` in a scratch store must sync).
    pub fn new() -> Result<Self> {
        let engine = Engine::new(&wasmtime::Config::new()).map_err(wasmtime_error)?;
        let mut linker = Linker::<Host>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(wasmtime_error)?;
        count_syncs(&mut linker).map_err(wasmtime_error)?;
        let mut in_memory_linker = Linker::<Host>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut in_memory_linker).map_err(wasmtime_error)?;
        wasmtime_wasi_keyvalue::add_to_linker(&mut in_memory_linker, |host: &mut Host| {
            WasiKeyValue::new(&host.keyvalue, &mut host.table)
        })
        .map_err(wasmtime_error)?;

        let compile =
            |linker: &Linker<Host>, bytes: &[u8], what: &str| -> Result<CommandPre<Host>> {
                let component = Component::new(&engine, bytes)
                    .map_err(wasmtime_error)
                    .with_context(|| format!("cannot compile {what}"))?;
                let pre = linker.instantiate_pre(&component).and_then(CommandPre::new);
                pre.map_err(wasmtime_error)
                    .with_context(|| format!("cannot link {what}"))
            };
        let plug = |app: &[u8]| {
            virt_store::plug(app, virt_store::PROVIDER)
                .context("cannot plug the provider into the workload")
        };
        let plug_valkey = |app: &[u8]| {
            virt_store::plug(app, virt_store::PROVIDER_VALKEY)
                .context("cannot plug the Valkey provider into the workload")
        };
        let wasm = Self {
            provider: compile(
                &linker,
                &plug(WORKLOAD_DRAFT)?,
                "the plugged draft workload",
            )?,
            provider_draft3: compile(
                &linker,
                &plug(WORKLOAD_DRAFT3)?,
                "the plugged draft3 workload",
            )?,
            in_memory: compile(
                &in_memory_linker,
                WORKLOAD_DRAFT,
                "the draft workload on the in-memory host",
            )?,
            valkey: compile(
                &linker,
                &plug_valkey(WORKLOAD_DRAFT)?,
                "the draft workload plugged with the Valkey provider",
            )?,
            valkey_draft3: compile(
                &linker,
                &plug_valkey(WORKLOAD_DRAFT3)?,
                "the draft3 workload plugged with the Valkey provider",
            )?,
        };

        let scratch = tempfile::tempdir()?;
        let args = ["--ops", "set", "--count", "1"].map(String::from).to_vec();
        let outcome = wasm.run(
            Program::Provider,
            Invocation {
                args,
                durable: true,
                data: Some(scratch.path()),
                preset: None,
                server: None,
                start: None,
            },
        )?;
        if outcome.syncs == 0 {
            bail!("a durable set through the provider counted no syncs: is `{FILESYSTEM_TYPES}` still the version wasmtime-wasi links?");
        }
        Ok(wasm)
    }

    /// Runs `program` once, in a fresh instance; fails with its stderr unless it exits with 0.
    pub fn run(&self, program: Program, invocation: Invocation<'_>) -> Result<Outcome> {
        let pre = match program {
            Program::Provider => &self.provider,
            Program::ProviderDraft3 => &self.provider_draft3,
            Program::InMemory => &self.in_memory,
            Program::Valkey => &self.valkey,
            Program::ValkeyDraft3 => &self.valkey_draft3,
        };
        let stdout = MemoryOutputPipe::new(CAPTURE_LIMIT);
        let stderr = MemoryOutputPipe::new(CAPTURE_LIMIT);
        let mut instantiate = Duration::ZERO;
        let prepared = (|| -> Result<_> {
            let mut wasi = WasiCtxBuilder::new();
            // Before the preopens, which take the setting when they are added (see run.rs).
            wasi.allow_blocking_current_thread(true);
            wasi.arg("workload")
                .args(&invocation.args)
                .stdout(stdout.clone())
                .stderr(stderr.clone());
            wasi.env(
                "VIRT_STORE_SYNC",
                if invocation.durable { "on" } else { "off" },
            );
            if let Some(dir) = invocation.data {
                wasi.preopened_dir(dir, "/data", FsPerms::ReadWrite)
                    .map_err(wasmtime_error)
                    .with_context(|| format!("cannot preopen `{}`", dir.display()))?;
            }
            if let Some(server) = invocation.server {
                wasi.env("VIRT_STORE_URL", &server.url);
                let allowed = server.addr;
                // A connect first binds the socket to the wildcard address, port 0 (an implicit
                // bind): that is allowed, and a connect to the server; nothing else.
                wasi.allow_tcp(true).socket_addr_check(move |addr, usage| {
                    let ok = match usage {
                        SocketAddrUse::TcpConnect => addr == allowed,
                        SocketAddrUse::TcpBind => addr.ip().is_unspecified() && addr.port() == 0,
                        _ => false,
                    };
                    Box::pin(async move { ok })
                });
            }
            let mut keyvalue = WasiKeyValueCtxBuilder::new();
            if let Some(preset) = invocation.preset {
                keyvalue = keyvalue.in_memory_data(preset.clone());
            }
            let host = Host {
                wasi: wasi.build(),
                table: ResourceTable::new(),
                keyvalue: keyvalue.build(),
                syncs: 0,
            };
            let mut store = Store::new(pre.engine(), host);
            let started = Instant::now();
            let command = pre.instantiate(&mut store);
            instantiate = started.elapsed();
            let command = command
                .map_err(wasmtime_error)
                .context("cannot instantiate the workload")?;
            Ok((store, command))
        })();
        // Called even after a failure, so that no other instance waits forever.
        if let Some(start) = invocation.start {
            start();
        }
        let (mut store, command) = prepared?;
        let result = command.wasi_cli_run().call_run(&mut store);
        let syncs = store.data().syncs;
        drop(store);
        let stdout = String::from_utf8_lossy(&stdout.contents()).into_owned();
        let stderr = String::from_utf8_lossy(&stderr.contents()).into_owned();
        let failure = match result {
            Ok(Ok(())) => None,
            Ok(Err(())) => Some("exited with 1".to_owned()),
            Err(e) => match e.downcast_ref::<I32Exit>() {
                Some(I32Exit(0)) => None,
                Some(I32Exit(code)) => Some(format!("exited with {code}")),
                None => Some(format!("trapped: {e:?}")),
            },
        };
        if let Some(failure) = failure {
            bail!(
                "the workload ({program:?} {}) {failure}: {}",
                invocation.args.join(" "),
                stderr.trim_end()
            );
        }
        Ok(Outcome {
            stdout,
            syncs,
            instantiate,
        })
    }
}

/// Wraps `descriptor.sync` and `descriptor.sync-data` with a count in the store's data; each
/// still calls wasmtime-wasi's own implementation.
fn count_syncs(linker: &mut Linker<Host>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut types = linker.instance(FILESYSTEM_TYPES)?;
    for (name, data_only) in [
        ("[method]descriptor.sync", false),
        ("[method]descriptor.sync-data", true),
    ] {
        types.func_wrap(
            name,
            move |mut store: StoreContextMut<'_, Host>, (fd,): (Resource<fs::Descriptor>,)| {
                let host = store.data_mut();
                host.syncs += 1;
                let mut view = host.filesystem();
                let result = if data_only {
                    fs::HostDescriptor::sync_data(&mut view, fd)
                } else {
                    fs::HostDescriptor::sync(&mut view, fd)
                };
                Ok((match result {
                    Ok(()) => Ok(()),
                    Err(e) => Err(fs::Host::convert_error_code(&mut view, e)?),
                },))
            },
        )?;
    }
    linker.allow_shadowing(false);
    Ok(())
}

/// The store's data: one instance's WASI context, its in-memory keyvalue context (empty for
/// the provider), and the syncs it issued.
pub struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
    keyvalue: WasiKeyValueCtx,
    syncs: u64,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// wasmtime 48 has its own error type; make it an `anyhow` one, causes included.
fn wasmtime_error(error: wasmtime::Error) -> anyhow::Error {
    anyhow::Error::from_boxed(error.into_boxed_dyn_error())
}
