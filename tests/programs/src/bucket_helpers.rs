//! The per-version helpers the programs not yet written over [`crate::Version`] call.

/// The helpers every version's module offers, written once over the names `Bucket`, `Error`,
/// `KeyResponse` and `store` of the module that invokes it.
///
/// Versions differ only in the type of the `list-keys` cursor: `$cursor` is the type a page
/// returns, `$arg` the type `list-keys` takes, and `$pass` turns one into the other.
macro_rules! bucket_helpers {
    (cursor: $cursor:ty, arg: $arg:ty, pass: $pass:expr) => {
        /// Opens a bucket, panicking with the error if the provider refuses.
        #[track_caller]
        pub fn open(identifier: &str) -> Bucket {
            match store::open(identifier) {
                Ok(bucket) => bucket,
                Err(e) => panic!("expected open({identifier:?}) to succeed, got {e:?}"),
            }
        }

        /// Opens the default bucket (`open("")`).
        #[track_caller]
        pub fn open_default() -> Bucket {
            open("")
        }

        /// Asserts that `result` is `Err(error::other(msg))` with `needle` in `msg` (ASCII case
        /// ignored) and returns `msg`. `what` names the operation in the failure message.
        #[track_caller]
        pub fn expect_other<T: std::fmt::Debug>(
            result: Result<T, Error>,
            needle: &str,
            what: &str,
        ) -> String {
            match result {
                Err(Error::Other(msg)) => {
                    assert!(
                        msg.to_ascii_lowercase().contains(&needle.to_ascii_lowercase()),
                        "{what}: expected error::other whose message mentions {needle:?}, got message {msg:?}"
                    );
                    msg
                }
                Err(e) => panic!("{what}: expected error::other mentioning {needle:?}, got {e:?}"),
                Ok(v) => panic!(
                    "{what}: expected error::other mentioning {needle:?}, got Ok({})",
                    $crate::short_debug(&v)
                ),
            }
        }

        /// Unwraps `result`, panicking with `what` and the error otherwise.
        #[track_caller]
        pub fn ok<T>(result: Result<T, Error>, what: &str) -> T {
            match result {
                Ok(v) => v,
                Err(e) => panic!("{what}: expected success, got {e:?}"),
            }
        }

        /// `bucket.get(key)`, which must succeed.
        #[track_caller]
        pub fn get(bucket: &Bucket, key: &str) -> Option<Vec<u8>> {
            ok(bucket.get(key), &format!("get({})", $crate::show(key)))
        }

        /// `bucket.set(key, value)`, which must succeed.
        #[track_caller]
        pub fn set(bucket: &Bucket, key: &str, value: impl AsRef<[u8]>) {
            ok(
                bucket.set(key, value.as_ref()),
                &format!("set({})", $crate::show(key)),
            )
        }

        /// `bucket.delete(key)`, which must succeed.
        #[track_caller]
        pub fn delete(bucket: &Bucket, key: &str) {
            ok(bucket.delete(key), &format!("delete({})", $crate::show(key)))
        }

        /// `bucket.exists(key)`, which must succeed.
        #[track_caller]
        pub fn exists(bucket: &Bucket, key: &str) -> bool {
            ok(bucket.exists(key), &format!("exists({})", $crate::show(key)))
        }

        /// Asserts that `key` holds exactly `expected` (`None`: absent), via both get and exists.
        #[track_caller]
        pub fn assert_value(bucket: &Bucket, key: &str, expected: Option<&[u8]>, context: &str) {
            let got = get(bucket, key);
            assert!(
                got.as_deref() == expected,
                "{context}: get({}) expected {:?}, got {:?}",
                $crate::show(key),
                expected.map($crate::show),
                got.as_ref().map($crate::show)
            );
            let present = exists(bucket, key);
            assert_eq!(
                present,
                expected.is_some(),
                "{context}: exists({}) expected {}, got {present}",
                $crate::show(key),
                expected.is_some()
            );
        }

        /// One `list-keys` call, which must succeed and return at most
        /// [`MAX_PAGE_KEYS`](crate::MAX_PAGE_KEYS) keys.
        #[track_caller]
        pub fn list_page(bucket: &Bucket, cursor: Option<$arg>) -> KeyResponse {
            let page = ok(
                bucket.list_keys(cursor),
                &format!("list-keys(cursor {cursor:?})"),
            );
            // The differential suite recognises wasmtime's unpaged listing by "a page holds".
            assert!(
                page.keys.len() <= $crate::MAX_PAGE_KEYS,
                "list-keys pages hold at most {} keys, but a page holds {} keys",
                $crate::MAX_PAGE_KEYS,
                page.keys.len()
            );
            page
        }

        /// Lists every key of `bucket` page by page, asserting bounded pages and no key twice.
        #[track_caller]
        pub fn list_all(bucket: &Bucket) -> Vec<String> {
            let pass: fn(&Option<$cursor>) -> Option<$arg> = $pass;
            let mut keys = Vec::new();
            let mut seen = std::collections::HashSet::new();
            let mut cursor: Option<$cursor> = None;
            for _ in 0..1_000_000 {
                let page = list_page(bucket, pass(&cursor));
                for key in page.keys {
                    assert!(
                        seen.insert(key.clone()),
                        "list-keys returned key {} twice in one listing",
                        $crate::show(&key)
                    );
                    keys.push(key);
                }
                match page.cursor {
                    Some(c) => cursor = Some(c),
                    None => return keys,
                }
            }
            panic!("list-keys never returned a `none` cursor (1,000,000 pages)")
        }

        /// Lists every key of `bucket` as a set.
        #[track_caller]
        pub fn list_set(bucket: &Bucket) -> std::collections::HashSet<String> {
            list_all(bucket).into_iter().collect()
        }

        /// Asserts that a full listing of `bucket` is exactly `expected`.
        #[track_caller]
        pub fn assert_keys<'a>(
            bucket: &Bucket,
            expected: impl IntoIterator<Item = &'a str>,
            context: &str,
        ) {
            let expected: std::collections::HashSet<String> =
                expected.into_iter().map(str::to_owned).collect();
            let got = list_set(bucket);
            let missing: Vec<String> = expected.difference(&got).map($crate::show).collect();
            let extra: Vec<String> = got.difference(&expected).map($crate::show).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{context}: list-keys expected exactly {} keys; missing {missing:?}, unexpected {extra:?}",
                expected.len()
            );
        }
    };
}
