//! The provider component: exports `wasi:keyvalue` at `0.2.0-draft3`, `0.2.0-draft2` and
//! `0.2.0-draft` and serves them all from the engine, whose files
//! live under a directory of the guest's filesystem (a host directory preopened by the runtime).
//!
//! Configuration, read from the environment the runtime gives the composed component:
//! - `VIRT_STORE_DIR`: the store's directory inside the guest (default `/data`);
//! - `VIRT_STORE_SYNC`: `on` (default) syncs every acknowledged write, `off` does not.
//!
//! It also exports `wasi:filesystem/preopens`, which plugging wires to the app: the host's
//! preopens less the store's (`preopens.rs`), so that the app cannot reach the store's files.

mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "provider",
        // The exported preopens hand out the host's own descriptors: the same Rust types as the
        // imports that `wasi_fs.rs` and `preopens.rs` call, from the `wasip2` crate.
        with: {
            "wasi:filesystem/types@0.2.4": wasip2::filesystem::types,
            "wasi:io/streams@0.2.4": wasip2::io::streams,
            "wasi:io/error@0.2.4": wasip2::io::error,
            "wasi:io/poll@0.2.4": wasip2::io::poll,
            "wasi:clocks/wall-clock@0.2.4": wasip2::clocks::wall_clock,
        },
        generate_all,
    });
}

mod draft;
mod draft2;
mod draft3;
mod preopens;
mod versions;
mod wasi_fs;

use std::sync::{Arc, OnceLock};

use versions::{Bucket, Cas};
use virt_store_engine::{Durability, FileSystem, Options, Store};

/// Where the store lives when `VIRT_STORE_DIR` is not set.
const DEFAULT_DIR: &str = "/data";

struct Provider;

bindings::export!(Provider with_types_in bindings);

/// A store problem, as the message that every version's `error::other` carries.
struct Failure(String);

impl From<virt_store_engine::Error> for Failure {
    fn from(e: virt_store_engine::Error) -> Self {
        let hint = match &e {
            virt_store_engine::Error::RootMissing { .. } => {
                " (give the runtime a host directory there, for example `wasmtime run --dir ./data::/data app.wasm`, or set `VIRT_STORE_DIR` to a directory the runtime preopens)"
            }
            virt_store_engine::Error::ReadOnly { .. } => {
                " (preopen the store directory read-write, or point `VIRT_STORE_DIR` at a writable one)"
            }
            _ => "",
        };
        Failure(format!("{e}{hint}"))
    }
}

/// The store's directory inside the guest: `VIRT_STORE_DIR`, or [`DEFAULT_DIR`].
fn store_dir() -> String {
    std::env::var("VIRT_STORE_DIR").unwrap_or_else(|_| DEFAULT_DIR.to_owned())
}

/// The store of this instance, made on first use (a bad setting fails every call);
/// its directory is checked as buckets are opened.
fn store() -> Result<&'static Store, Failure> {
    static STORE: OnceLock<Store> = OnceLock::new();
    if let Some(store) = STORE.get() {
        return Ok(store);
    }
    let dir = store_dir();
    let durability = match std::env::var("VIRT_STORE_SYNC").as_deref() {
        Err(_) | Ok("on") => Durability::Sync,
        Ok("off") => Durability::NoSync,
        Ok(other) => {
            return Err(Failure(format!("`VIRT_STORE_SYNC` is `{other}`: set it to `on` (sync every write, the default) or `off`")))
        }
    };
    let fs: Arc<dyn FileSystem> = match wasi_fs::WasiFs::for_root(&dir) {
        Some(fs) => Arc::new(fs),
        None => Arc::new(wasi_fs::NoPreopen),
    };
    // The format is checked when a bucket is created: opening an existing one costs one `stat`.
    let store = Store::open_deferred(fs, dir, Options { durability });
    Ok(STORE.get_or_init(|| store))
}
