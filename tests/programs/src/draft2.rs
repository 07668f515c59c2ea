//! `wasi:keyvalue@0.2.0-draft2` (upstream main): draft3's store, batch and increment, and a CAS
//! whose handle reads the current value with `current` and whose failure carries only a fresh
//! handle.

wit_bindgen::generate!({
    world: "wasi:keyvalue/imports@0.2.0-draft2",
    path: "../../wit/deps/keyvalue-0.2.0-draft2",
    generate_all,
});

pub use self::wasi::keyvalue::{atomics, batch, store};
use crate::{CasVersion, Error, Page, SwapError, Version};

/// `wasi:keyvalue@0.2.0-draft2`.
pub struct Draft2;

error_from_store!();

impl Version for Draft2 {
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
        let delta = i64::try_from(delta).expect("test bug: draft2's increment takes an s64");
        Ok(atomics::increment(bucket, key, delta)?.into())
    }
}

impl CasVersion for Draft2 {
    type Cas = atomics::Cas;

    fn cas_new(bucket: &store::Bucket, key: &str) -> Result<atomics::Cas, Error> {
        Ok(atomics::Cas::new(bucket, key)?)
    }

    fn cas_new_with_read(
        bucket: &store::Bucket,
        key: &str,
    ) -> Result<(atomics::Cas, Option<Vec<u8>>), Error> {
        let cas = atomics::Cas::new(bucket, key)?;
        let value = cas.current()?;
        Ok((cas, value))
    }

    fn cas_current(cas: &atomics::Cas) -> Option<Result<Option<Vec<u8>>, Error>> {
        Some(cas.current().map_err(Error::from))
    }

    fn swap(cas: atomics::Cas, value: &[u8]) -> Result<(), SwapError<atomics::Cas>> {
        atomics::swap(cas, value).map_err(|e| match e {
            atomics::CasError::StoreError(e) => SwapError::Store(e.into()),
            atomics::CasError::CasFailed(fresh) => {
                let current = match fresh.current() {
                    Ok(current) => current,
                    Err(e) => panic!("cas-failed's fresh handle: current() failed: {e:?}"),
                };
                SwapError::CasFailed(fresh, current)
            }
        })
    }
}
