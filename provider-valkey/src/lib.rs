//! The Valkey provider component: the `wasi:keyvalue` surface (`virt-store-surface`: three
//! versions) served from a Valkey or Redis server (`virt-store-valkey`), reached over
//! wasi:sockets. It imports no wasi:filesystem: the same app, re-plugged with it, shares its data
//! with every other instance on every host that reaches the server.
//!
//! Configuration, read from the environment the runtime gives the composed component:
//! - `VIRT_STORE_URL`: `redis://[user:password@]host[:port][/db]` (required);
//! - `VIRT_STORE_TIMEOUT_MS`: how long one connect, read or write may wait (default 5000).

use std::sync::Mutex;
use std::time::Duration;

use virt_store_surface::Failure;
use virt_store_valkey::{Options, Store};

/// The provider's storage: a server.
struct Server;

type Provider = virt_store_surface::Provider<Server>;

virt_store_surface::export!(Provider);

/// What an app's runtime must grant, said in every error about reaching the server.
const NETWORK_HINT: &str =
    "the runtime must let the component connect to it (`wasmtime run -S inherit-network`, or `virt-store run --store redis://HOST:PORT`)";

impl virt_store_surface::Storage for Server {
    type Bucket = ServerBucket;

    fn bucket(identifier: &str) -> Result<ServerBucket, Failure> {
        Ok(ServerBucket(store()?.bucket(identifier)?))
    }
}

/// The store of this instance, connected on first use. A failed connect is not kept: the next
/// call tries again, so an app that outlives a server restart recovers.
fn store() -> Result<Store, Failure> {
    static STORE: Mutex<Option<Store>> = Mutex::new(None);
    let mut guard = STORE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(store) = &*guard {
        return Ok(store.clone());
    }
    let url = std::env::var("VIRT_STORE_URL").map_err(|_| {
        Failure(format!(
            "`VIRT_STORE_URL` is not set: set it to the server's address, for example `wasmtime run -S inherit-network --env VIRT_STORE_URL=redis://127.0.0.1:6379 app.wasm`; {NETWORK_HINT}"
        ))
    })?;
    let timeout = match std::env::var("VIRT_STORE_TIMEOUT_MS") {
        Err(_) => Options::default().timeout,
        Ok(ms) => match ms.parse::<u64>() {
            Ok(ms) if ms > 0 => Duration::from_millis(ms),
            _ => {
                return Err(Failure(format!(
                    "`VIRT_STORE_TIMEOUT_MS` is `{ms}`: set it to a number of milliseconds above 0, or unset it for 5000"
                )))
            }
        },
    };
    let store = Store::open(&url, Options { timeout }).map_err(|e| match e {
        virt_store_valkey::Error::Connect { .. } | virt_store_valkey::Error::Timeout { .. } => {
            Failure(format!("{e}; {NETWORK_HINT}"))
        }
        other => Failure::from(other),
    })?;
    Ok(guard.insert(store).clone())
}

/// A bucket on the server.
#[derive(Clone)]
struct ServerBucket(virt_store_valkey::Bucket);

impl virt_store_surface::Bucket for ServerBucket {
    type Version = virt_store_valkey::CasVersion;

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Failure> {
        Ok(self.0.get(key)?)
    }
    fn exists(&self, key: &str) -> Result<bool, Failure> {
        Ok(self.0.exists(key)?)
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), Failure> {
        Ok(self.0.set(key, value)?)
    }
    fn delete(&self, key: &str) -> Result<(), Failure> {
        Ok(self.0.delete(key)?)
    }
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, Failure> {
        Ok(self.0.get_many(keys)?)
    }
    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), Failure> {
        Ok(self.0.set_many(entries)?)
    }
    fn delete_many(&self, keys: &[String]) -> Result<(), Failure> {
        Ok(self.0.delete_many(keys)?)
    }
    fn list_keys(&self, cursor: Option<&str>) -> Result<(Vec<String>, Option<String>), Failure> {
        let page = self.0.list_keys(cursor)?;
        Ok((page.keys, page.cursor))
    }
    fn list_keys_numeric(
        &self,
        cursor: Option<u64>,
    ) -> Result<(Vec<String>, Option<u64>), Failure> {
        Ok(self.0.list_keys_numeric(cursor)?)
    }
    fn increment(&self, key: &str, delta: i64) -> Result<i64, Failure> {
        Ok(self.0.increment(key, delta)?)
    }
    fn increment_unsigned(&self, key: &str, delta: u64) -> Result<u64, Failure> {
        Ok(self.0.increment_unsigned(key, delta)?)
    }
    fn version(&self, key: &str) -> Result<Self::Version, Failure> {
        Ok(self.0.version(key)?)
    }
    fn read_versioned(&self, key: &str) -> Result<(Self::Version, Option<Vec<u8>>), Failure> {
        Ok(self.0.read_versioned(key)?)
    }
    fn swap(&self, key: &str, expected: Self::Version, value: &[u8]) -> Result<bool, Failure> {
        Ok(self.0.swap(key, expected, value)?)
    }
}
