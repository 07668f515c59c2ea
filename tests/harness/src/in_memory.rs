//! The reference: an unplugged test program on wasmtime's own in-memory `wasi:keyvalue` host.
//!
//! wasmtime ships a host implementation of `wasi:keyvalue@0.2.0-draft` (crate
//! `wasmtime-wasi-keyvalue`, what `wasmtime run -S keyvalue` links). Running a program's
//! `0.2.0-draft` pass on it as well as through the provider tells whether a behaviour is the
//! proposal's or ours.

use crate::{output, Cache, Output};
use anyhow::{Context, Result};
use std::sync::OnceLock;
use virt_store::Status;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, ResourceTable, ResourceType};
use wasmtime::{Cache as CodeCache, CacheConfig, Engine, Store};
use wasmtime_wasi::p2::bindings::sync::CommandPre;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{I32Exit, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_keyvalue::{WasiKeyValue, WasiKeyValueCtx, WasiKeyValueCtxBuilder};

/// At most this much of each of stdout and stderr is kept.
const CAPTURE_LIMIT: usize = 64 << 20;

/// Runs the unplugged `program` on wasmtime's in-memory `wasi:keyvalue@0.2.0-draft` host, with
/// `preset` as the initial contents of its store and `args` as its `argv[1..]`.
///
/// A scenario program binds every version but calls only the one its argument names, so the
/// imports of the other versions, which that host lacks, are linked to functions that trap: a
/// call to one fails the run.
///
/// That host keeps its data in memory only: nothing persists between runs, and every
/// `store::open("")` starts from its own copy of `preset`. It has no filesystem and no
/// environment to offer, so the program gets neither.
pub fn run_in_memory(program: &str, preset: &[(&str, &str)], args: &[&str]) -> Result<Output> {
    let pre = compiled(program)?;

    let stdout = MemoryOutputPipe::new(CAPTURE_LIMIT);
    let stderr = MemoryOutputPipe::new(CAPTURE_LIMIT);
    let mut wasi = WasiCtxBuilder::new();
    wasi.allow_blocking_current_thread(true)
        .arg(program)
        .args(args)
        .stdout(stdout.clone())
        .stderr(stderr.clone());
    let host = Host {
        wasi: wasi.build(),
        table: ResourceTable::new(),
        keyvalue: WasiKeyValueCtxBuilder::new()
            .in_memory_data(preset.iter().copied())
            .build(),
    };
    let mut store = Store::new(pre.engine(), host);
    let command = pre
        .instantiate(&mut store)
        .map_err(wasmtime_error)
        .with_context(|| format!("cannot instantiate `{program}` on the in-memory host"))?;
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
    Ok(output(&status, &stdout.contents(), &stderr.contents()))
}

/// The unplugged `program`, compiled and linked against WASI and the in-memory keyvalue host.
fn compiled(program: &str) -> Result<CommandPre<Host>> {
    static COMPILED: Cache<CommandPre<Host>> = Cache::new();
    COMPILED.get_or_try_init(program, || {
        let path = crate::program_path(program)?;
        let (engine, linker) = linker()?;
        let component = Component::from_file(engine, path)
            .map_err(wasmtime_error)
            .with_context(|| format!("cannot compile `{path}`"))?;
        let mut linker = linker.clone();
        link_other_versions_to_traps(&mut linker, &component).map_err(wasmtime_error)?;
        let pre = linker
            .instantiate_pre(&component)
            .and_then(CommandPre::new)
            .map_err(wasmtime_error)
            .with_context(|| {
                format!("cannot link `{program}` with WASI and the in-memory keyvalue host")
            })?;
        Ok(pre)
    })
}

/// Links the `wasi:keyvalue` imports of versions other than `0.2.0-draft`, which this host
/// lacks, to functions that trap.
fn link_other_versions_to_traps(
    linker: &mut Linker<Host>,
    component: &Component,
) -> wasmtime::Result<()> {
    let engine = linker.engine().clone();
    for (name, import) in component.component_type().imports(&engine) {
        let ComponentItem::ComponentInstance(instance) = import.ty else {
            continue;
        };
        if !name.starts_with("wasi:keyvalue/") || name.ends_with("@0.2.0-draft") {
            continue;
        }
        let mut stubs = linker.instance(name)?;
        for (item, export) in instance.exports(&engine) {
            match export.ty {
                ComponentItem::ComponentFunc(_) => {
                    let what = format!("{name}#{item}");
                    stubs.func_new(item, move |_, _, _, _| {
                        wasmtime::bail!("`{what}` is not served by the in-memory host")
                    })?;
                }
                // One type for them all: where an interface `use`s another's resource, the
                // component requires the two to be the same type.
                ComponentItem::Resource(_) => {
                    stubs.resource(item, ResourceType::host::<()>(), |_, _| Ok(()))?
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The engine and linker of the in-memory host, made once per process.
///
/// The engine's configuration is [`virt_store::Runtime::with_cache`]'s, and so is the on-disk
/// cache of compiled code it shares with [`crate::run`]'s runtime.
fn linker() -> Result<&'static (Engine, Linker<Host>)> {
    static LINKER: OnceLock<(Engine, Linker<Host>)> = OnceLock::new();
    if let Some(linker) = LINKER.get() {
        return Ok(linker);
    }
    let mut cache = CacheConfig::new();
    cache.with_directory(crate::CODE_CACHE_DIR);
    let mut config = wasmtime::Config::new();
    config.cache(Some(CodeCache::new(cache).map_err(wasmtime_error)?));
    let engine = Engine::new(&config).map_err(wasmtime_error)?;
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(wasmtime_error)?;
    wasmtime_wasi_keyvalue::add_to_linker(&mut linker, |host: &mut Host| {
        WasiKeyValue::new(&host.keyvalue, &mut host.table)
    })
    .map_err(wasmtime_error)?;
    Ok(LINKER.get_or_init(|| (engine, linker)))
}

/// The store's data: the WASI context and the in-memory keyvalue context of one run.
struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
    keyvalue: WasiKeyValueCtx,
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

/// Renders a trap with its causes, the trap itself first, as `virt_store` does.
fn describe(error: &wasmtime::Error) -> String {
    let mut chain: Vec<String> = error.chain().map(|cause| cause.to_string()).collect();
    if let Some(root) = chain.pop() {
        chain.insert(0, root);
    }
    chain.join("\n")
}
