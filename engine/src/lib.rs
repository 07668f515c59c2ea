//! The storage engine of virt-store: buckets of keys and values in a directory, over plain
//! `std::fs`, safe to share between threads, instances and processes without locks.
//!
//! It compiles natively (for host tools and tests) and for `wasm32-wasip2` (inside the provider
//! component, where `std::fs` is `wasi:filesystem`). Every filesystem call goes through one
//! private module, `vfs`, which the `simulation` feature can point at an in-memory filesystem
//! that loses unsynced writes (`engine::sim`, for power-loss tests), and where an embedder can
//! install a shorter way to the hot calls ([`install_backend`]; the provider does, on
//! `wasi:filesystem`). `docs/FORMAT.md` describes the
//! files it writes; `docs/DESIGN.md` why every operation is linearizable and crash-safe.
//!
//! ```no_run
//! let store = engine::Store::open("data", engine::Options::default())?;
//! let bucket = store.bucket("")?;
//! bucket.set("greeting", b"hello")?;
//! assert_eq!(bucket.get("greeting")?.as_deref(), Some(&b"hello"[..]));
//! assert_eq!(bucket.increment("visits", 1)?, 1);
//! # Ok::<(), engine::Error>(())
//! ```

#![deny(missing_docs)]

mod bucket;
mod error;
mod fsck;
pub mod hash;
mod keydir;
pub mod limits;
mod listing;
pub mod names;
pub mod record;
mod store;
mod sync;
mod vfs;
#[cfg(feature = "simulation")]
pub mod sim;

pub use bucket::{Bucket, CasVersion, SWEEP_AGE, SWEEP_ONE_IN};
pub use fsck::{BucketStats, FsckReport, Problem, ProblemKind, LOST_AND_FOUND_DIR};
pub use error::{Error, KeyDisplay, Result};
pub use listing::KeyPage;
pub use store::{validate_bucket_id, Options, Store, BUCKETS_DIR, DEFAULT_BUCKET_DIR, FORMAT_FILE, FORMAT_MARKER};
pub use sync::{sync_count, Durability};
pub use vfs::{install_backend, Backend, Kind};
