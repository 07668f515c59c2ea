//! `wasi:keyvalue@0.2.0-draft2`: CAS with `current`, and `cas-failed` carrying a fresh handle.

use crate::bindings::exports::wasi::keyvalue0_2_0_draft2::atomics::{self, CasError};
use crate::bindings::exports::wasi::keyvalue0_2_0_draft2::store::{self, Error};
use crate::{Bucket, BucketHandle, Cas, Provider, Storage};

crate::versions::store_and_batch!(keyvalue0_2_0_draft2, string_cursor);

impl<S: Storage> atomics::Guest for Provider<S> {
    type Cas = Cas<S::Bucket>;

    fn increment(bucket: store::BucketBorrow<'_>, key: String, delta: i64) -> Result<i64, Error> {
        let bucket = &bucket.get::<BucketHandle<S::Bucket>>().0;
        Ok(bucket.increment(&key, delta)?)
    }

    fn swap(cas: atomics::Cas, value: Vec<u8>) -> Result<(), CasError> {
        let cas = cas.into_inner::<Cas<S::Bucket>>();
        // draft2's `cas-failed` carries only a handle: no value is read for it.
        let conflict = match cas.swap(&value) {
            Ok(true) => return Ok(()),
            Ok(false) => Cas::new(&cas.bucket, cas.key),
            Err(e) => Err(e),
        };
        match conflict {
            Ok(fresh) => Err(CasError::CasFailed(atomics::Cas::new(fresh))),
            Err(e) => Err(CasError::StoreError(e.into())),
        }
    }
}

impl<B: Bucket> atomics::GuestCas for Cas<B> {
    fn new(bucket: store::BucketBorrow<'_>, key: String) -> Result<atomics::Cas, Error> {
        let bucket = &bucket.get::<BucketHandle<B>>().0;
        Ok(atomics::Cas::new(Cas::new(bucket, key)?))
    }

    /// The key's value now (a fresh read): if it differs from what the handle saw, `swap` fails.
    fn current(&self) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.bucket.get(&self.key)?)
    }
}
