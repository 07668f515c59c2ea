//! `wasi:keyvalue@0.2.0-draft` (wasmtime's `-S keyvalue`, wasmCloud): no CAS, an unsigned
//! `increment`, and a `u64` `list-keys` cursor.

wit_bindgen::generate!({
    world: "wasi:keyvalue/imports@0.2.0-draft",
    path: "../../wit/deps/keyvalue-0.2.0-draft",
    generate_all,
});

pub use self::wasi::keyvalue::{atomics, batch, store};
use crate::{Error, Page, Version};

/// `wasi:keyvalue@0.2.0-draft`.
pub struct Draft;

error_from_store!();

impl Version for Draft {
    const COUNTER_MIN: i128 = 0;
    const COUNTER_MAX: i128 = u64::MAX as i128;
    type Cursor = u64;

    store_and_batch!();

    fn list_keys(bucket: &store::Bucket, cursor: Option<&u64>) -> Result<Page<u64>, Error> {
        let page = bucket.list_keys(cursor.copied())?;
        Ok(Page {
            keys: page.keys,
            cursor: page.cursor,
        })
    }

    fn foreign_cursors() -> Vec<u64> {
        Vec::new()
    }

    fn increment(bucket: &store::Bucket, key: &str, delta: i128) -> Result<i128, Error> {
        let delta = u64::try_from(delta).expect("test bug: draft's increment takes a u64");
        Ok(atomics::increment(bucket, key, delta)?.into())
    }
}
