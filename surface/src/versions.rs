//! `store` and `batch`, whose WIT differs between versions only in the type of the `list-keys`
//! cursor: one macro implements them for each version.

/// Implements `store` and `batch` of one version for [`crate::Provider`]; `$cursor` names how its
/// `list-keys` cursor maps onto the storage (`string_cursor` or `numeric_cursor`).
macro_rules! store_and_batch {
    ($version:ident, $cursor:ident) => {
        mod store_and_batch {
            use $crate::bindings::exports::wasi::$version::batch;
            use $crate::bindings::exports::wasi::$version::store::{self, Error, KeyResponse};
            use $crate::{Bucket, BucketHandle, Failure, Provider, Storage};

            impl From<Failure> for Error {
                fn from(Failure(message): Failure) -> Self {
                    Error::Other(message)
                }
            }

            impl<S: Storage> store::Guest for Provider<S> {
                type Bucket = BucketHandle<S::Bucket>;

                fn open(identifier: String) -> Result<store::Bucket, Error> {
                    Ok(store::Bucket::new(BucketHandle(S::bucket(&identifier)?)))
                }
            }

            impl<B: Bucket> store::GuestBucket for BucketHandle<B> {
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

                $crate::versions::store_and_batch!(@list_keys $cursor);
            }

            impl<S: Storage> batch::Guest for Provider<S> {
                fn get_many(
                    bucket: store::BucketBorrow<'_>,
                    keys: Vec<String>,
                ) -> Result<Vec<Option<(String, Vec<u8>)>>, Error> {
                    let values = bucket.get::<BucketHandle<S::Bucket>>().0.get_many(&keys)?;
                    Ok(keys
                        .into_iter()
                        .zip(values)
                        .map(|(key, value)| value.map(|v| (key, v)))
                        .collect())
                }

                fn set_many(
                    bucket: store::BucketBorrow<'_>,
                    key_values: Vec<(String, Vec<u8>)>,
                ) -> Result<(), Error> {
                    Ok(bucket.get::<BucketHandle<S::Bucket>>().0.set_many(&key_values)?)
                }

                fn delete_many(
                    bucket: store::BucketBorrow<'_>,
                    keys: Vec<String>,
                ) -> Result<(), Error> {
                    Ok(bucket.get::<BucketHandle<S::Bucket>>().0.delete_many(&keys)?)
                }
            }
        }
    };
    (@list_keys string_cursor) => {
        fn list_keys(&self, cursor: Option<String>) -> Result<KeyResponse, Error> {
            let (keys, cursor) = self.0.list_keys(cursor.as_deref())?;
            Ok(KeyResponse { keys, cursor })
        }
    };
    (@list_keys numeric_cursor) => {
        fn list_keys(&self, cursor: Option<u64>) -> Result<KeyResponse, Error> {
            let (keys, cursor) = self.0.list_keys_numeric(cursor)?;
            Ok(KeyResponse { keys, cursor })
        }
    };
}

pub(crate) use store_and_batch;
