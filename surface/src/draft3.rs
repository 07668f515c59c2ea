//! `wasi:keyvalue@0.2.0-draft3`: CAS with `new-with-read`, and `cas-failed` carrying the value.

use crate::bindings::exports::wasi::keyvalue0_2_0_draft3::atomics::{self, CasError};
use crate::bindings::exports::wasi::keyvalue0_2_0_draft3::store::{self, Error};
use crate::{Bucket, BucketHandle, Cas, Provider, Storage};

crate::versions::store_and_batch!(keyvalue0_2_0_draft3, string_cursor);

impl<S: Storage> atomics::Guest for Provider<S> {
    type Cas = Cas<S::Bucket>;

    fn increment(bucket: store::BucketBorrow<'_>, key: String, delta: i64) -> Result<i64, Error> {
        let bucket = &bucket.get::<BucketHandle<S::Bucket>>().0;
        Ok(bucket.increment(&key, delta)?)
    }

    fn swap(cas: atomics::Cas, value: Vec<u8>) -> Result<(), CasError> {
        let cas = cas.into_inner::<Cas<S::Bucket>>();
        let conflict = match cas.swap(&value) {
            Ok(true) => return Ok(()),
            Ok(false) => Cas::new_with_read(&cas.bucket, cas.key),
            Err(e) => Err(e),
        };
        match conflict {
            Ok((fresh, current)) => Err(CasError::CasFailed((atomics::Cas::new(fresh), current))),
            Err(e) => Err(CasError::StoreError(e.into())),
        }
    }
}

impl<B: Bucket> atomics::GuestCas for Cas<B> {
    fn new(bucket: store::BucketBorrow<'_>, key: String) -> Result<atomics::Cas, Error> {
        let bucket = &bucket.get::<BucketHandle<B>>().0;
        Ok(atomics::Cas::new(Cas::new(bucket, key)?))
    }

    fn new_with_read(
        bucket: store::BucketBorrow<'_>,
        key: String,
    ) -> Result<(atomics::Cas, Option<Vec<u8>>), Error> {
        let bucket = &bucket.get::<BucketHandle<B>>().0;
        let (cas, current) = Cas::new_with_read(bucket, key)?;
        Ok((atomics::Cas::new(cas), current))
    }
}
