//! What every version shares: the bucket and CAS handles, and `store` and `batch`, whose WIT
//! differs between versions only in the type of the `list-keys` cursor.

use crate::Failure;

/// A bucket handle (the same type serves every version).
pub struct Bucket(pub virt_store_engine::Bucket);

/// A CAS handle: the key and the version it saw.
pub struct Cas {
    pub bucket: virt_store_engine::Bucket,
    pub key: String,
    version: virt_store_engine::CasVersion,
}

impl Cas {
    pub fn new(bucket: &virt_store_engine::Bucket, key: String) -> Result<Cas, Failure> {
        let version = bucket.version(&key)?;
        Ok(Cas {
            bucket: bucket.clone(),
            key,
            version,
        })
    }

    pub fn new_with_read(
        bucket: &virt_store_engine::Bucket,
        key: String,
    ) -> Result<(Cas, Option<Vec<u8>>), Failure> {
        let (version, current) = bucket.read_versioned(&key)?;
        Ok((
            Cas {
                bucket: bucket.clone(),
                key,
                version,
            },
            current,
        ))
    }

    /// Swaps in `value` if no write reached the key since the handle was made; false if one
    /// did, and then the caller makes the fresh handle its version's `cas-failed` carries.
    pub fn swap(&self, value: &[u8]) -> Result<bool, Failure> {
        Ok(self.bucket.swap(&self.key, self.version, value)?)
    }
}

/// Implements `store` and `batch` of one version, over [`Bucket`]; `$cursor` names how its
/// `list-keys` cursor maps onto the engine (`string_cursor` or `numeric_cursor`).
#[macro_export]
macro_rules! store_and_batch {
    ($version:ident, $cursor:ident) => {
        mod store_and_batch {
            use $crate::bindings::exports::wasi::$version::batch;
            use $crate::bindings::exports::wasi::$version::store::{self, Error, KeyResponse};
            use $crate::{store as open_store, Bucket, Failure, Provider};

            impl From<Failure> for Error {
                fn from(Failure(message): Failure) -> Self {
                    Error::Other(message)
                }
            }

            impl From<virt_store_engine::Error> for Error {
                fn from(e: virt_store_engine::Error) -> Self {
                    Failure::from(e).into()
                }
            }

            impl store::Guest for Provider {
                type Bucket = Bucket;

                fn open(identifier: String) -> Result<store::Bucket, Error> {
                    Ok(store::Bucket::new(Bucket(open_store()?.bucket(&identifier)?)))
                }
            }

            impl store::GuestBucket for Bucket {
                fn get(&self, key: String) -> Result<Option<Vec<u8>>, Error> {
                    Ok(self.0.get(&key)?)
                }

                fn set(&self, key: String, value: Vec<u8>) -> Result<(), Error> {
                    Ok(self.0.set(&key, &value)?)
                }

                fn delete(&self, key: String) -> Result<(), Error> {
                    Ok(self.0.delete(&key)?)
                }

                fn exists(&self, key: String) -> Result<bool, Error> {
                    Ok(self.0.exists(&key)?)
                }

                $crate::store_and_batch!(@list_keys $cursor);
            }

            impl batch::Guest for Provider {
                fn get_many(
                    bucket: store::BucketBorrow<'_>,
                    keys: Vec<String>,
                ) -> Result<Vec<Option<(String, Vec<u8>)>>, Error> {
                    let values = bucket.get::<Bucket>().0.get_many(&keys)?;
                    Ok(keys.into_iter().zip(values).map(|(key, value)| value.map(|v| (key, v))).collect())
                }

                fn set_many(bucket: store::BucketBorrow<'_>, key_values: Vec<(String, Vec<u8>)>) -> Result<(), Error> {
                    Ok(bucket.get::<Bucket>().0.set_many(&key_values)?)
                }

                fn delete_many(bucket: store::BucketBorrow<'_>, keys: Vec<String>) -> Result<(), Error> {
                    Ok(bucket.get::<Bucket>().0.delete_many(&keys)?)
                }
            }
        }
    };
    (@list_keys string_cursor) => {
        fn list_keys(&self, cursor: Option<String>) -> Result<KeyResponse, Error> {
            let page = self.0.list_keys(cursor.as_deref())?;
            Ok(KeyResponse { keys: page.keys, cursor: page.cursor })
        }
    };
    (@list_keys numeric_cursor) => {
        fn list_keys(&self, cursor: Option<u64>) -> Result<KeyResponse, Error> {
            let (keys, cursor) = self.0.list_keys_numeric(cursor)?;
            Ok(KeyResponse { keys, cursor })
        }
    };
}
