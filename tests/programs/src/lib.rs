//! Shared bindings and helpers for the guest conformance programs.
//!
//! Each program in `src/bin/` is a plain `fn main()` that asserts one area of
//! `wasi:keyvalue@0.2.0-draft3` behaviour; a failed assertion panics, which traps the
//! component and gives the harness a nonzero exit status with the message on stderr.

wit_bindgen::generate!({
    world: "wasi:keyvalue/imports@0.2.0-draft3",
    path: "../../wit/deps/keyvalue-0.2.0-draft3",
    generate_all,
});

pub use wasi::keyvalue::atomics::{self, Cas, CasError};
pub use wasi::keyvalue::batch;
pub use wasi::keyvalue::store::{self, Bucket, Error, KeyResponse};

use std::collections::HashSet;
use std::fmt::Debug;

/// Largest key the contract accepts, in bytes.
pub const MAX_KEY_BYTES: usize = 8192;
/// Largest value the contract accepts, in bytes (32 MiB).
pub const MAX_VALUE_BYTES: usize = 32 * 1024 * 1024;
/// Largest page `list-keys` may return.
pub const MAX_PAGE_KEYS: usize = 1000;
/// Largest number of keys one batch call accepts.
pub const MAX_BATCH_KEYS: usize = 10_000;

/// Opens a bucket, panicking with the error if the provider refuses.
pub fn open(identifier: &str) -> Bucket {
    match store::open(identifier) {
        Ok(bucket) => bucket,
        Err(e) => panic!("expected open({identifier:?}) to succeed, got {e:?}"),
    }
}

/// Opens the default bucket (`open("")`).
pub fn open_default() -> Bucket {
    open("")
}

/// A short printable form of a key or value for assertion messages (long ones are cut).
pub fn show(s: impl AsRef<[u8]>) -> String {
    let bytes = s.as_ref();
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(48)]);
    if bytes.len() > 48 {
        format!("{text:?}... ({} bytes)", bytes.len())
    } else {
        format!("{text:?}")
    }
}

fn short_debug(v: &impl Debug) -> String {
    let s = format!("{v:?}");
    if s.len() > 200 {
        let mut end = 200;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}... ({} chars)", &s[..end], s.len())
    } else {
        s
    }
}

/// Asserts that `result` is `Err(error::other(msg))` with `needle` in `msg` (ASCII case
/// ignored) and returns `msg`. `what` names the operation in the failure message.
pub fn expect_other<T: Debug>(result: Result<T, Error>, needle: &str, what: &str) -> String {
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
            short_debug(&v)
        ),
    }
}

/// Unwraps `result`, panicking with `what` and the error otherwise.
pub fn ok<T>(result: Result<T, Error>, what: &str) -> T {
    match result {
        Ok(v) => v,
        Err(e) => panic!("{what}: expected success, got {e:?}"),
    }
}

/// `bucket.get(key)`, which must succeed.
pub fn get(bucket: &Bucket, key: &str) -> Option<Vec<u8>> {
    ok(bucket.get(key), &format!("get({})", show(key)))
}

/// `bucket.set(key, value)`, which must succeed.
pub fn set(bucket: &Bucket, key: &str, value: impl AsRef<[u8]>) {
    ok(
        bucket.set(key, value.as_ref()),
        &format!("set({})", show(key)),
    )
}

/// `bucket.delete(key)`, which must succeed.
pub fn delete(bucket: &Bucket, key: &str) {
    ok(bucket.delete(key), &format!("delete({})", show(key)))
}

/// `bucket.exists(key)`, which must succeed.
pub fn exists(bucket: &Bucket, key: &str) -> bool {
    ok(bucket.exists(key), &format!("exists({})", show(key)))
}

/// Asserts that `key` holds exactly `expected` (`None`: absent), via both get and exists.
pub fn assert_value(bucket: &Bucket, key: &str, expected: Option<&[u8]>, context: &str) {
    let got = get(bucket, key);
    assert!(
        got.as_deref() == expected,
        "{context}: get({}) expected {:?}, got {:?}",
        show(key),
        expected.map(show),
        got.as_ref().map(show)
    );
    let present = exists(bucket, key);
    assert_eq!(
        present,
        expected.is_some(),
        "{context}: exists({}) expected {}, got {present}",
        show(key),
        expected.is_some()
    );
}

/// One `list-keys` call, which must succeed and return at most [`MAX_PAGE_KEYS`] keys.
pub fn list_page(bucket: &Bucket, cursor: Option<&str>) -> KeyResponse {
    let page = ok(
        bucket.list_keys(cursor),
        &format!("list-keys(cursor {cursor:?})"),
    );
    assert!(
        page.keys.len() <= MAX_PAGE_KEYS,
        "list-keys page must hold at most {MAX_PAGE_KEYS} keys, got {}",
        page.keys.len()
    );
    page
}

/// Lists every key of `bucket` page by page, asserting bounded pages and no key twice.
pub fn list_all(bucket: &Bucket) -> Vec<String> {
    let mut keys = Vec::new();
    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1_000_000 {
        let page = list_page(bucket, cursor.as_deref());
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

/// Lists every key of `bucket` as a set.
pub fn list_set(bucket: &Bucket) -> HashSet<String> {
    list_all(bucket).into_iter().collect()
}

/// Asserts that a full listing of `bucket` is exactly `expected`.
pub fn assert_keys<'a>(
    bucket: &Bucket,
    expected: impl IntoIterator<Item = &'a str>,
    context: &str,
) {
    let expected: HashSet<String> = expected.into_iter().map(str::to_owned).collect();
    let got = list_set(bucket);
    let missing: Vec<String> = expected.difference(&got).map(show).collect();
    let extra: Vec<String> = got.difference(&expected).map(show).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{context}: list-keys expected exactly {} keys; missing {missing:?}, unexpected {extra:?}",
        expected.len()
    );
}

/// Parses a decimal value as `increment` stores it.
pub fn parse_counter(value: &[u8]) -> i64 {
    let text = std::str::from_utf8(value)
        .unwrap_or_else(|_| panic!("counter value {} is not UTF-8", show(value)));
    text.parse()
        .unwrap_or_else(|_| panic!("counter value {} is not a decimal i64", show(value)))
}

/// Command-line arguments after the program name, checked against a usage line.
pub fn args(min: usize, max: usize, usage: &str) -> Vec<String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    assert!(
        (min..=max).contains(&args.len()),
        "usage: {usage} (got {} arguments: {args:?})",
        args.len()
    );
    args
}
