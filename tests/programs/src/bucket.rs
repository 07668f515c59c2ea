//! [`Bucket`]: a bucket of any [`Version`], whose calls assert that they succeed (the `try_*`
//! ones return the result instead), with the assertions the scenarios share.

use crate::{ok, show, CasVersion, Error, Found, Version, MAX_PAGE_KEYS};
use std::collections::HashSet;
use std::fmt;

/// An open bucket of version `V`.
pub struct Bucket<V: Version> {
    raw: V::Bucket,
}

/// One page of a `list-keys` listing.
#[derive(Debug)]
pub struct Page<Cursor> {
    pub keys: Vec<String>,
    /// Where the next page starts; `None` when the listing is complete.
    pub cursor: Option<Cursor>,
}

impl<V: Version> fmt::Debug for Bucket<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.raw.fmt(f)
    }
}

impl<V: Version> Bucket<V> {
    /// `store.open(identifier)`.
    pub fn try_open(identifier: &str) -> Result<Self, Error> {
        V::open(identifier).map(|raw| Bucket { raw })
    }

    /// Opens a bucket, panicking with the error if the provider refuses.
    #[track_caller]
    pub fn open(identifier: &str) -> Self {
        match Self::try_open(identifier) {
            Ok(bucket) => bucket,
            Err(e) => panic!("expected open({identifier:?}) to succeed, got {e:?}"),
        }
    }

    /// Opens the default bucket (`open("")`).
    #[track_caller]
    pub fn open_default() -> Self {
        Self::open("")
    }

    pub fn try_get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        V::get(&self.raw, key)
    }

    #[track_caller]
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        ok(self.try_get(key), &format!("get({})", show(key)))
    }

    pub fn try_set(&self, key: &str, value: impl AsRef<[u8]>) -> Result<(), Error> {
        V::set(&self.raw, key, value.as_ref())
    }

    #[track_caller]
    pub fn set(&self, key: &str, value: impl AsRef<[u8]>) {
        ok(self.try_set(key, value), &format!("set({})", show(key)))
    }

    pub fn try_delete(&self, key: &str) -> Result<(), Error> {
        V::delete(&self.raw, key)
    }

    #[track_caller]
    pub fn delete(&self, key: &str) {
        ok(self.try_delete(key), &format!("delete({})", show(key)))
    }

    pub fn try_exists(&self, key: &str) -> Result<bool, Error> {
        V::exists(&self.raw, key)
    }

    #[track_caller]
    pub fn exists(&self, key: &str) -> bool {
        ok(self.try_exists(key), &format!("exists({})", show(key)))
    }

    /// Asserts that `key` holds exactly `expected` (`None`: absent), via both get and exists.
    #[track_caller]
    pub fn assert_value(&self, key: &str, expected: Option<&[u8]>, context: &str) {
        let got = self.get(key);
        assert!(
            got.as_deref() == expected,
            "{context}: get({}) expected {:?}, got {:?}",
            show(key),
            expected.map(show),
            got.as_ref().map(show)
        );
        let present = self.exists(key);
        assert_eq!(
            present,
            expected.is_some(),
            "{context}: exists({}) expected {}, got {present}",
            show(key),
            expected.is_some()
        );
    }

    pub fn try_list_page(&self, cursor: Option<&V::Cursor>) -> Result<Page<V::Cursor>, Error> {
        V::list_keys(&self.raw, cursor)
    }

    /// One `list-keys` call, which must succeed and return at most [`MAX_PAGE_KEYS`] keys.
    #[track_caller]
    pub fn list_page(&self, cursor: Option<&V::Cursor>) -> Page<V::Cursor> {
        let page = ok(
            self.try_list_page(cursor),
            &format!("list-keys(cursor {cursor:?})"),
        );
        // The differential suite recognises wasmtime's unpaged listing by "a page holds".
        assert!(
            page.keys.len() <= MAX_PAGE_KEYS,
            "list-keys pages hold at most {MAX_PAGE_KEYS} keys, but a page holds {} keys",
            page.keys.len()
        );
        page
    }

    /// Asserts that listing from the start gives one empty page and no cursor.
    #[track_caller]
    pub fn assert_lists_nothing(&self, context: &str) {
        let page = self.list_page(None);
        assert!(
            page.keys.is_empty(),
            "{context}: expected no keys, listed {:?}",
            page.keys
        );
        assert!(
            page.cursor.is_none(),
            "{context}: expected a `none` cursor, got {:?}",
            page.cursor
        );
    }

    /// Lists every key page by page, asserting bounded pages and no key twice.
    #[track_caller]
    pub fn list_all(&self) -> Vec<String> {
        let mut keys = Vec::new();
        let mut seen = HashSet::new();
        let mut cursor = None;
        for _ in 0..1_000_000 {
            let page = self.list_page(cursor.as_ref());
            for key in page.keys {
                assert!(
                    seen.insert(key.clone()),
                    "list-keys returned key {} twice in one listing",
                    show(&key)
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

    /// Lists every key as a set.
    #[track_caller]
    pub fn list_set(&self) -> HashSet<String> {
        self.list_all().into_iter().collect()
    }

    /// Asserts that a full listing is exactly `expected`.
    #[track_caller]
    pub fn assert_keys<'a>(&self, expected: impl IntoIterator<Item = &'a str>, context: &str) {
        let expected: HashSet<String> = expected.into_iter().map(str::to_owned).collect();
        let got = self.list_set();
        let missing: Vec<String> = expected.difference(&got).map(show).collect();
        let extra: Vec<String> = got.difference(&expected).map(show).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{context}: list-keys expected exactly {} keys; missing {missing:?}, unexpected {extra:?}",
            expected.len()
        );
    }

    pub fn try_increment(&self, key: &str, delta: i128) -> Result<i128, Error> {
        V::increment(&self.raw, key, delta)
    }

    #[track_caller]
    pub fn increment(&self, key: &str, delta: i128) -> i128 {
        ok(
            self.try_increment(key, delta),
            &format!("increment({}, {delta})", show(key)),
        )
    }

    pub fn try_get_many(&self, keys: &[String]) -> Result<Found, Error> {
        V::get_many(&self.raw, keys)
    }

    /// `get-many`, which must succeed with one entry per requested key.
    #[track_caller]
    pub fn get_many(&self, keys: &[String]) -> Found {
        let got = ok(
            self.try_get_many(keys),
            &format!("get-many of {} keys", keys.len()),
        );
        assert_eq!(
            got.len(),
            keys.len(),
            "get-many must return one entry per requested key"
        );
        got
    }

    pub fn try_set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), Error> {
        V::set_many(&self.raw, entries)
    }

    #[track_caller]
    pub fn set_many(&self, entries: &[(String, Vec<u8>)]) {
        ok(
            self.try_set_many(entries),
            &format!("set-many of {} entries", entries.len()),
        )
    }

    pub fn try_delete_many(&self, keys: &[String]) -> Result<(), Error> {
        V::delete_many(&self.raw, keys)
    }

    #[track_caller]
    pub fn delete_many(&self, keys: &[String]) {
        ok(
            self.try_delete_many(keys),
            &format!("delete-many of {} keys", keys.len()),
        )
    }
}

impl<V: CasVersion> Bucket<V> {
    pub fn try_cas(&self, key: &str) -> Result<V::Cas, Error> {
        V::cas_new(&self.raw, key)
    }

    /// `cas.new(key)`, which must succeed.
    #[track_caller]
    pub fn cas(&self, key: &str) -> V::Cas {
        ok(self.try_cas(key), &format!("cas.new({})", show(key)))
    }

    pub fn try_cas_with_read(&self, key: &str) -> Result<(V::Cas, Option<Vec<u8>>), Error> {
        V::cas_new_with_read(&self.raw, key)
    }

    /// A handle on `key` and its value ([`CasVersion::cas_new_with_read`]), which must succeed.
    #[track_caller]
    pub fn cas_with_read(&self, key: &str) -> (V::Cas, Option<Vec<u8>>) {
        ok(
            self.try_cas_with_read(key),
            &format!("cas.new-with-read({})", show(key)),
        )
    }
}
