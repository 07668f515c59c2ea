//! A Valkey/Redis storage backend for virt-store: buckets of keys and values on a server reached
//! over TCP, with the same operations, limits and error wording as the filesystem
//! [engine](virt_store_engine).
//!
//! It compiles natively (for host tools and tests) and for `wasm32-wasip2`, where `std::net`
//! goes through wasi:sockets. Every operation is one Lua script run atomically by the server, so
//! it is linearizable on one primary; `increment` is a loop of two. `docs/VALKEY.md` describes the
//! keys it writes and why.
//!
//! ```no_run
//! let store = virt_store_valkey::Store::open("redis://127.0.0.1:6379", Default::default())?;
//! let bucket = store.bucket("")?;
//! bucket.set("greeting", b"hello")?;
//! assert_eq!(bucket.get("greeting")?.as_deref(), Some(&b"hello"[..]));
//! assert_eq!(bucket.increment("visits", 1)?, 1);
//! # Ok::<(), virt_store_valkey::Error>(())
//! ```

#![deny(missing_docs)]

mod bucket;
mod conn;
mod error;
mod listing;
mod resp;
mod scripts;
mod store;
mod url;

pub use bucket::{Bucket, CasVersion};
pub use error::{Error, Result};
pub use store::{Options, Store, DEFAULT_BUCKET_TAG, KEY_PREFIX};
pub use url::{ServerUrl, DEFAULT_PORT};
/// One page of keys: the engine's own type, so both backends page alike.
pub use virt_store_engine::KeyPage;
