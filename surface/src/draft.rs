//! `wasi:keyvalue@0.2.0-draft` (wasmtime's `-S keyvalue`): a `u64` cursor, unsigned
//! `increment`, and no CAS.

use crate::bindings::exports::wasi::keyvalue0_2_0_draft::atomics;
use crate::bindings::exports::wasi::keyvalue0_2_0_draft::store::{self, Error};
use crate::{Bucket, BucketHandle, Provider, Storage};

crate::versions::store_and_batch!(keyvalue0_2_0_draft, numeric_cursor);

impl<S: Storage> atomics::Guest for Provider<S> {
    fn increment(bucket: store::BucketBorrow<'_>, key: String, delta: u64) -> Result<u64, Error> {
        let bucket = &bucket.get::<BucketHandle<S::Bucket>>().0;
        Ok(bucket.increment_unsigned(&key, delta)?)
    }
}
