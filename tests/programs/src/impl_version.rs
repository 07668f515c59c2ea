//! What the three versions' bindings share: `store` and `batch` have the same shape in each.

/// Inside a version's module, converts its `store::Error` into [`crate::Error`].
macro_rules! error_from_store {
    () => {
        impl From<store::Error> for $crate::Error {
            fn from(error: store::Error) -> Self {
                match error {
                    store::Error::NoSuchStore => $crate::Error::NoSuchStore,
                    store::Error::AccessDenied => $crate::Error::AccessDenied,
                    store::Error::Other(msg) => $crate::Error::Other(msg),
                }
            }
        }
    };
}

/// Inside an `impl Version` in a version's module, the methods over its `store` and `batch`,
/// which are the same in every version.
macro_rules! store_and_batch {
    () => {
        type Bucket = store::Bucket;

        fn open(identifier: &str) -> Result<store::Bucket, $crate::Error> {
            Ok(store::open(identifier)?)
        }

        fn get(bucket: &store::Bucket, key: &str) -> Result<Option<Vec<u8>>, $crate::Error> {
            Ok(bucket.get(key)?)
        }

        fn set(bucket: &store::Bucket, key: &str, value: &[u8]) -> Result<(), $crate::Error> {
            Ok(bucket.set(key, value)?)
        }

        fn delete(bucket: &store::Bucket, key: &str) -> Result<(), $crate::Error> {
            Ok(bucket.delete(key)?)
        }

        fn exists(bucket: &store::Bucket, key: &str) -> Result<bool, $crate::Error> {
            Ok(bucket.exists(key)?)
        }

        fn get_many(
            bucket: &store::Bucket,
            keys: &[String],
        ) -> Result<$crate::Found, $crate::Error> {
            Ok(batch::get_many(bucket, keys)?)
        }

        fn set_many(
            bucket: &store::Bucket,
            entries: &[(String, Vec<u8>)],
        ) -> Result<(), $crate::Error> {
            Ok(batch::set_many(bucket, entries)?)
        }

        fn delete_many(bucket: &store::Bucket, keys: &[String]) -> Result<(), $crate::Error> {
            Ok(batch::delete_many(bucket, keys)?)
        }
    };
}
