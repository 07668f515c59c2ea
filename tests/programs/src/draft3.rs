//! `wasi:keyvalue@0.2.0-draft3`: a `string` cursor, a signed `increment`, and a CAS whose
//! `new-with-read` reads the value and whose failure carries a fresh handle and the value.

wit_bindgen::generate!({
    world: "wasi:keyvalue/imports@0.2.0-draft3",
    path: "../../wit/deps/keyvalue-0.2.0-draft3",
    generate_all,
});

pub use self::wasi::keyvalue::{atomics, batch, store};
pub use crate::{
    args, parse_counter, show, MAX_BATCH_KEYS, MAX_KEY_BYTES, MAX_PAGE_KEYS, MAX_VALUE_BYTES,
};
use crate::{CasVersion, Error, Page, SwapError, Version};

/// `wasi:keyvalue@0.2.0-draft3`.
pub struct Draft3;

error_from_store!();

impl Version for Draft3 {
    const COUNTER_MIN: i128 = i64::MIN as i128;
    const COUNTER_MAX: i128 = i64::MAX as i128;
    type Cursor = String;

    store_and_batch!();

    fn list_keys(bucket: &store::Bucket, cursor: Option<&String>) -> Result<Page<String>, Error> {
        let page = bucket.list_keys(cursor.map(String::as_str))?;
        Ok(Page {
            keys: page.keys,
            cursor: page.cursor,
        })
    }

    fn foreign_cursors() -> Vec<String> {
        vec!["garbage".into(), "\0\u{fffd}not a cursor".into()]
    }

    fn increment(bucket: &store::Bucket, key: &str, delta: i128) -> Result<i128, Error> {
        let delta = i64::try_from(delta).expect("test bug: draft3's increment takes an s64");
        Ok(atomics::increment(bucket, key, delta)?.into())
    }
}

impl CasVersion for Draft3 {
    type Cas = atomics::Cas;

    fn cas_new(bucket: &store::Bucket, key: &str) -> Result<atomics::Cas, Error> {
        Ok(atomics::Cas::new(bucket, key)?)
    }

    fn cas_new_with_read(
        bucket: &store::Bucket,
        key: &str,
    ) -> Result<(atomics::Cas, Option<Vec<u8>>), Error> {
        Ok(atomics::Cas::new_with_read(bucket, key)?)
    }

    fn cas_current(_: &atomics::Cas) -> Option<Result<Option<Vec<u8>>, Error>> {
        None
    }

    fn swap(cas: atomics::Cas, value: &[u8]) -> Result<(), SwapError<atomics::Cas>> {
        atomics::swap(cas, value).map_err(|e| match e {
            atomics::CasError::StoreError(e) => SwapError::Store(e.into()),
            atomics::CasError::CasFailed((fresh, current)) => SwapError::CasFailed(fresh, current),
        })
    }
}
