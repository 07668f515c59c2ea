//! The filesystem provider component: the `wasi:keyvalue` surface (`virt-store-surface`: three
//! versions) served from the engine, whose files live under a directory of the guest's
//! filesystem (a host directory preopened by the runtime).
//!
//! Configuration, read from the environment the runtime gives the composed component:
//! - `VIRT_STORE_DIR`: the store's directory inside the guest (default `/data`);
//! - `VIRT_STORE_SYNC`: `on` (default) syncs every acknowledged write, `off` does not, and
//!   `ext4-journal` syncs each write or batch once, relying on ext4's journal.
//!
//! It also exports `wasi:filesystem/preopens`, which plugging wires to the app: the host's
//! preopens less the store's (`preopens.rs`), so that the app cannot reach the store's files.

mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "hidden-store",
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

mod preopens;
mod wasi_fs;

use std::sync::{Arc, OnceLock};

use virt_store_engine::{Durability, FileSystem, Options, Store};
use virt_store_surface::Failure;

/// Where the store lives when `VIRT_STORE_DIR` is not set.
const DEFAULT_DIR: &str = "/data";

/// The provider's storage: the engine, on the guest's filesystem.
struct Files;

type Provider = virt_store_surface::Provider<Files>;

virt_store_surface::export!(Provider);
bindings::export!(Provider with_types_in bindings);

impl virt_store_surface::Storage for Files {
    type Bucket = FileBucket;

    fn bucket(identifier: &str) -> Result<FileBucket, Failure> {
        Ok(FileBucket(store()?.bucket(identifier).map_err(fail)?))
    }
}

/// A bucket of the engine.
#[derive(Clone)]
struct FileBucket(virt_store_engine::Bucket);

impl virt_store_surface::Bucket for FileBucket {
    type Version = virt_store_engine::CasVersion;

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Failure> {
        self.0.get(key).map_err(fail)
    }
    fn exists(&self, key: &str) -> Result<bool, Failure> {
        self.0.exists(key).map_err(fail)
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), Failure> {
        self.0.set(key, value).map_err(fail)
    }
    fn delete(&self, key: &str) -> Result<(), Failure> {
        self.0.delete(key).map_err(fail)
    }
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, Failure> {
        self.0.get_many(keys).map_err(fail)
    }
    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), Failure> {
        self.0.set_many(entries).map_err(fail)
    }
    fn delete_many(&self, keys: &[String]) -> Result<(), Failure> {
        self.0.delete_many(keys).map_err(fail)
    }
    fn list_keys(&self, cursor: Option<&str>) -> Result<(Vec<String>, Option<String>), Failure> {
        let page = self.0.list_keys(cursor).map_err(fail)?;
        Ok((page.keys, page.cursor))
    }
    fn list_keys_numeric(
        &self,
        cursor: Option<u64>,
    ) -> Result<(Vec<String>, Option<u64>), Failure> {
        self.0.list_keys_numeric(cursor).map_err(fail)
    }
    fn increment(&self, key: &str, delta: i64) -> Result<i64, Failure> {
        self.0.increment(key, delta).map_err(fail)
    }
    fn increment_unsigned(&self, key: &str, delta: u64) -> Result<u64, Failure> {
        self.0.increment_unsigned(key, delta).map_err(fail)
    }
    fn version(&self, key: &str) -> Result<Self::Version, Failure> {
        self.0.version(key).map_err(fail)
    }
    fn read_versioned(&self, key: &str) -> Result<(Self::Version, Option<Vec<u8>>), Failure> {
        self.0.read_versioned(key).map_err(fail)
    }
    fn swap(&self, key: &str, expected: Self::Version, value: &[u8]) -> Result<bool, Failure> {
        self.0.swap(key, expected, value).map_err(fail)
    }
}

/// An engine error as the app sees it, with the fix for the two that the runtime's setup causes.
fn fail(e: virt_store_engine::Error) -> Failure {
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
        Ok("ext4-journal") => Durability::SyncJournal,
        Ok(other) => {
            return Err(Failure(format!("`VIRT_STORE_SYNC` is `{other}`: set it to `on` (sync every write, the default), `off`, or `ext4-journal` (one sync per write or batch, on ext4 only)")))
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
