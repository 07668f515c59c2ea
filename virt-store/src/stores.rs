//! The stores the host tools work on: a directory (the engine, natively) or a Valkey or Redis
//! server (the same backend as the Valkey provider's). Both keep the same buckets, keys and
//! values, so `export` from one and `import` into the other moves a store between them.

use thiserror::Error;
use virt_store_engine::KeyPage;

/// A store: a directory or a server.
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// A store directory, opened with the engine.
    Dir(virt_store_engine::Store),
    /// A store on a Valkey or Redis server.
    Server(virt_store_valkey::Store),
}

/// A bucket of an [`AnyStore`].
#[derive(Debug, Clone)]
pub enum AnyBucket {
    /// A bucket of a store directory.
    Dir(virt_store_engine::Bucket),
    /// A bucket on a server.
    Server(virt_store_valkey::Bucket),
}

/// A store operation failed; the message is the backend's.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The engine's error.
    #[error(transparent)]
    Engine(#[from] virt_store_engine::Error),
    /// The Valkey backend's error.
    #[error(transparent)]
    Server(#[from] virt_store_valkey::Error),
}

/// Dispatches `$call` to whichever store or bucket `$self` holds.
macro_rules! each {
    ($self:expr, $kind:ident, $inner:ident => $call:expr) => {
        match $self {
            $kind::Dir($inner) => Ok($call?),
            $kind::Server($inner) => Ok($call?),
        }
    };
}

impl AnyStore {
    /// The buckets of the store, sorted (`""` is the default one).
    pub fn buckets(&self) -> Result<Vec<String>, StoreError> {
        each!(self, AnyStore, store => store.buckets())
    }

    /// Bucket `id`, made on its first write.
    pub fn bucket(&self, id: &str) -> Result<AnyBucket, StoreError> {
        match self {
            AnyStore::Dir(store) => Ok(AnyBucket::Dir(store.bucket(id)?)),
            AnyStore::Server(store) => Ok(AnyBucket::Server(store.bucket(id)?)),
        }
    }
}

impl AnyBucket {
    /// The value of `key`, if any.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        each!(self, AnyBucket, bucket => bucket.get(key))
    }

    /// Sets `key` to `value`.
    pub fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        each!(self, AnyBucket, bucket => bucket.set(key, value))
    }

    /// The values of `keys`, in order.
    pub fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        each!(self, AnyBucket, bucket => bucket.get_many(keys))
    }

    /// Sets every key.
    pub fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        each!(self, AnyBucket, bucket => bucket.set_many(entries))
    }

    /// Deletes every key.
    pub fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        each!(self, AnyBucket, bucket => bucket.delete_many(keys))
    }

    /// One page of keys after `cursor`, with the next page's cursor.
    pub fn list_keys(&self, cursor: Option<&str>) -> Result<KeyPage, StoreError> {
        each!(self, AnyBucket, bucket => bucket.list_keys(cursor))
    }
}
