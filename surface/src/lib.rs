//! The `wasi:keyvalue` surface every provider shares: the exports of `0.2.0-draft3`,
//! `0.2.0-draft2` and `0.2.0-draft`, their bucket and CAS handles, the shape each version gives
//! cursors, increments and CAS conflicts, and the errors apps see. What is stored where is a
//! [`Storage`]: the filesystem engine in `provider/`, a Valkey server in `provider-valkey/`.
//!
//! A provider crate (a `cdylib`) implements [`Storage`] and exports the surface over it:
//!
//! ```ignore
//! type Provider = virt_store_surface::Provider<MyStorage>;
//! virt_store_surface::export!(Provider);
//! ```

#![deny(missing_docs)]

#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "keyvalue",
        pub_export_macro: true,
        default_bindings_module: "virt_store_surface::bindings",
    });
}

mod draft;
mod draft2;
mod draft3;
mod versions;

use std::marker::PhantomData;

#[doc(inline)]
pub use bindings::export;

/// A storage backend: where one instance's store is, and how it opens a bucket.
pub trait Storage: 'static {
    /// A bucket of the store.
    type Bucket: Bucket;

    /// Opens bucket `identifier` (`""` is the default bucket), making the store on first use from
    /// the instance's configuration; a bad setting is an error naming it and the fix.
    fn bucket(identifier: &str) -> Result<Self::Bucket, Failure>;
}

/// The operations of one bucket. Every one is atomic; the limits (key length, value size, keys
/// per batch) are the backend's to enforce, with its own messages.
pub trait Bucket: Clone + 'static {
    /// What a CAS handle remembers of the key: a version that no later write repeats.
    type Version: Clone + 'static;

    /// The value of `key`, if any.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Failure>;
    /// Whether `key` has a value.
    fn exists(&self, key: &str) -> Result<bool, Failure>;
    /// Sets `key` to `value`.
    fn set(&self, key: &str, value: &[u8]) -> Result<(), Failure>;
    /// Deletes `key`; deleting an absent key succeeds.
    fn delete(&self, key: &str) -> Result<(), Failure>;
    /// The value of each key, in order.
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, Failure>;
    /// Sets every key (not atomically as a whole: each key is).
    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), Failure>;
    /// Deletes every key.
    fn delete_many(&self, keys: &[String]) -> Result<(), Failure>;
    /// One bounded page of keys after `cursor` (none: from the start), and the cursor of the next
    /// page (none: the listing is complete). A key present throughout is listed exactly once.
    fn list_keys(&self, cursor: Option<&str>) -> Result<(Vec<String>, Option<String>), Failure>;
    /// [`Bucket::list_keys`] with `0.2.0-draft`'s `u64` cursor.
    fn list_keys_numeric(&self, cursor: Option<u64>)
        -> Result<(Vec<String>, Option<u64>), Failure>;
    /// Adds `delta` to the signed 64-bit decimal counter at `key` (absent: 0).
    fn increment(&self, key: &str, delta: i64) -> Result<i64, Failure>;
    /// Adds `delta` to the unsigned 64-bit decimal counter at `key` (absent: 0).
    fn increment_unsigned(&self, key: &str, delta: u64) -> Result<u64, Failure>;
    /// The current version of `key`.
    fn version(&self, key: &str) -> Result<Self::Version, Failure>;
    /// The current version and value of `key`, read together.
    fn read_versioned(&self, key: &str) -> Result<(Self::Version, Option<Vec<u8>>), Failure>;
    /// Sets `key` to `value` if it is still at version `expected`; false (nothing changed) if
    /// another write reached it since.
    fn swap(&self, key: &str, expected: Self::Version, value: &[u8]) -> Result<bool, Failure>;
}

/// A store problem, as the message every version's `error::other` carries. Any error that can be
/// displayed converts into one, so backends use `?`.
#[derive(Debug)]
pub struct Failure(pub String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

/// The exports, over storage `S`: name it with a type alias and pass the alias to [`export!`].
pub struct Provider<S>(PhantomData<S>);

/// A bucket handle (one type serves every version).
pub struct BucketHandle<B>(B);

/// A CAS handle: the key, and the version of it that the handle saw.
pub struct Cas<B: Bucket> {
    bucket: B,
    key: String,
    version: B::Version,
}

impl<B: Bucket> Cas<B> {
    fn new(bucket: &B, key: String) -> Result<Self, Failure> {
        let version = bucket.version(&key)?;
        Ok(Cas {
            bucket: bucket.clone(),
            key,
            version,
        })
    }

    fn new_with_read(bucket: &B, key: String) -> Result<(Self, Option<Vec<u8>>), Failure> {
        let (version, current) = bucket.read_versioned(&key)?;
        let cas = Cas {
            bucket: bucket.clone(),
            key,
            version,
        };
        Ok((cas, current))
    }

    /// Swaps in `value` if no write reached the key since the handle was made; false if one did,
    /// and then the caller makes the fresh handle its version's `cas-failed` carries.
    fn swap(&self, value: &[u8]) -> Result<bool, Failure> {
        self.bucket.swap(&self.key, self.version.clone(), value)
    }
}
