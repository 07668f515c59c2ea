//! The storage engine of virt-store: buckets of keys and values in a directory, over plain
//! `std::fs`, safe to share between threads, instances and processes without locks.
//!
//! It compiles natively (for host tools and tests) and for `wasm32-wasip2` (inside the provider
//! component). Every filesystem call goes through the [`FileSystem`] a store is opened on:
//! [`StdFs`] by default, `wasi:filesystem` directly in the provider, and an in-memory filesystem
//! that loses unsynced writes in the power-loss tests. `docs/FORMAT.md` describes the
//! files it writes; `docs/DESIGN.md` why every operation is linearizable and crash-safe.
//!
//! ```no_run
//! let store = virt_store_engine::Store::open("data", virt_store_engine::Options::default())?;
//! let bucket = store.bucket("")?;
//! bucket.set("greeting", b"hello")?;
//! assert_eq!(bucket.get("greeting")?.as_deref(), Some(&b"hello"[..]));
//! assert_eq!(bucket.increment("visits", 1)?, 1);
//! # Ok::<(), virt_store_engine::Error>(())
//! ```

#![deny(missing_docs)]

mod bucket;
mod error;
mod fs;
mod fsck;
mod keydir;
pub mod limits;
mod listing;
mod names;
mod record;
mod store;
mod sync;

pub use bucket::{Bucket, CasVersion, SWEEP_AGE, SWEEP_ONE_IN};
pub use error::{Error, KeyDisplay, Result};
pub use fs::{FileSystem, Kind, StdFs};
pub use fsck::{BucketStats, FsckReport, Problem, ProblemKind, LOST_AND_FOUND_DIR};
pub use listing::KeyPage;
pub use store::{
    validate_bucket_id, Options, Store, BUCKETS_DIR, DEFAULT_BUCKET_DIR, FORMAT1_MARKER,
    FORMAT_FILE, FORMAT_MARKER,
};
pub use sync::{sync_count, Durability};

/// The format's internals, for the engine's own tests (which write damaged and half-written
/// files on purpose); not part of the API.
#[doc(hidden)]
pub mod internals {
    pub use crate::names::{
        b64_encode, key_hash, nonce, set_inline_limit, temp_name, MAX_INLINE_KEY, MAX_INLINE_VALUE,
        TMP1_DIR, TMP_DIR,
    };
    pub use crate::record::{decode, encode, DecodeError, HEADER_LEN, MAGIC};
}
