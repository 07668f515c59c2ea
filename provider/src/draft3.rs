//! `wasi:keyvalue@0.2.0-draft3`: store, atomics (increment, CAS with `new-with-read`) and batch.

use crate::bindings::exports::wasi::keyvalue::atomics::{self, CasError};
use crate::bindings::exports::wasi::keyvalue::batch;
use crate::bindings::exports::wasi::keyvalue::store::{self, Error, KeyResponse};
use crate::{store, Failure, Provider};

type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Failure> for Error {
    fn from(Failure(message): Failure) -> Self {
        Error::Other(message)
    }
}

impl From<engine::Error> for Error {
    fn from(e: engine::Error) -> Self {
        Failure::from(e).into()
    }
}

/// A bucket handle.
pub struct Bucket(engine::Bucket);

/// A CAS handle: the key and the version it saw.
pub struct Cas {
    bucket: engine::Bucket,
    key: String,
    version: engine::CasVersion,
}

impl store::Guest for Provider {
    type Bucket = Bucket;

    fn open(identifier: String) -> Result<store::Bucket> {
        Ok(store::Bucket::new(Bucket(store()?.bucket(&identifier)?)))
    }
}

impl store::GuestBucket for Bucket {
    fn get(&self, key: String) -> Result<Option<Vec<u8>>> {
        Ok(self.0.get(&key)?)
    }

    fn set(&self, key: String, value: Vec<u8>) -> Result<()> {
        Ok(self.0.set(&key, &value)?)
    }

    fn delete(&self, key: String) -> Result<()> {
        Ok(self.0.delete(&key)?)
    }

    fn exists(&self, key: String) -> Result<bool> {
        Ok(self.0.exists(&key)?)
    }

    fn list_keys(&self, cursor: Option<String>) -> Result<KeyResponse> {
        let page = self.0.list_keys(cursor.as_deref())?;
        Ok(KeyResponse { keys: page.keys, cursor: page.cursor })
    }
}

impl atomics::Guest for Provider {
    type Cas = Cas;

    fn increment(bucket: store::BucketBorrow<'_>, key: String, delta: i64) -> Result<i64> {
        Ok(bucket.get::<Bucket>().0.increment(&key, delta)?)
    }

    fn swap(cas: atomics::Cas, value: Vec<u8>) -> Result<(), CasError> {
        let Cas { bucket, key, version } = cas.into_inner::<Cas>();
        let store_error = |e: engine::Error| CasError::StoreError(e.into());
        if bucket.swap(&key, version, &value).map_err(store_error)? {
            return Ok(());
        }
        let (version, current) = bucket.read_versioned(&key).map_err(store_error)?;
        Err(CasError::CasFailed((atomics::Cas::new(Cas { bucket, key, version }), current)))
    }
}

impl atomics::GuestCas for Cas {
    fn new(bucket: store::BucketBorrow<'_>, key: String) -> Result<atomics::Cas> {
        let bucket = bucket.get::<Bucket>().0.clone();
        let version = bucket.version(&key)?;
        Ok(atomics::Cas::new(Cas { bucket, key, version }))
    }

    fn new_with_read(bucket: store::BucketBorrow<'_>, key: String) -> Result<(atomics::Cas, Option<Vec<u8>>)> {
        let bucket = bucket.get::<Bucket>().0.clone();
        let (version, current) = bucket.read_versioned(&key)?;
        Ok((atomics::Cas::new(Cas { bucket, key, version }), current))
    }
}

impl batch::Guest for Provider {
    fn get_many(bucket: store::BucketBorrow<'_>, keys: Vec<String>) -> Result<Vec<Option<(String, Vec<u8>)>>> {
        let values = bucket.get::<Bucket>().0.get_many(&keys)?;
        Ok(keys.into_iter().zip(values).map(|(key, value)| value.map(|v| (key, v))).collect())
    }

    fn set_many(bucket: store::BucketBorrow<'_>, key_values: Vec<(String, Vec<u8>)>) -> Result<()> {
        Ok(bucket.get::<Bucket>().0.set_many(&key_values)?)
    }

    fn delete_many(bucket: store::BucketBorrow<'_>, keys: Vec<String>) -> Result<()> {
        Ok(bucket.get::<Bucket>().0.delete_many(&keys)?)
    }
}
