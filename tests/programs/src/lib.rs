//! Shared bindings and helpers for the guest conformance programs.
//!
//! Each program in `src/bin/` is a plain `fn main()` that asserts one area of `wasi:keyvalue`
//! behaviour; a failed assertion panics, which traps the component and gives the harness a
//! nonzero exit status with the message on stderr.
//!
//! The three versions are bound in [`draft3`], [`draft2`] and [`draft`], each with a marker type
//! ([`Draft3`], [`Draft2`], [`Draft`]) that implements [`Version`], and [`CasVersion`] for the two
//! that have compare-and-swap. A behaviour's scenario is written once, generic over the version,
//! and its program runs it for the version its one argument names (see [`version_arg`]): each
//! version gets a fresh store, and the `0.2.0-draft` pass alone can run on wasmtime's own host.
//! A program links only the interfaces it calls, so one that calls a single version plugs
//! against that version alone.

use std::fmt::Debug;

#[macro_use]
mod impl_version;
mod bucket;
pub mod draft;
pub mod draft2;
pub mod draft3;

pub use bucket::{Bucket, Page};
pub use draft::Draft;
pub use draft2::Draft2;
pub use draft3::Draft3;

/// Largest key the contract accepts, in bytes.
pub const MAX_KEY_BYTES: usize = 8192;
/// Largest value the contract accepts, in bytes (32 MiB).
pub const MAX_VALUE_BYTES: usize = 32 * 1024 * 1024;
/// Largest page `list-keys` may return.
pub const MAX_PAGE_KEYS: usize = 1000;
/// Largest number of keys one batch call accepts.
pub const MAX_BATCH_KEYS: usize = 10_000;

/// What `get-many` returns: for each requested key, in order, the key and its value, or none.
pub type Found = Vec<Option<(String, Vec<u8>)>>;

/// `wasi:keyvalue/store`'s `error`, which every version spells the same.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    NoSuchStore,
    AccessDenied,
    Other(String),
}

/// One version's `store`, `batch` and `increment`, as the scenarios call them. [`Bucket`] wraps
/// these in calls that assert success.
pub trait Version {
    /// The smallest counter `increment` reaches: `s64` in draft3 and draft2, `u64` in draft.
    const COUNTER_MIN: i128;
    /// The largest counter `increment` reaches.
    const COUNTER_MAX: i128;
    /// The `bucket` resource.
    type Bucket: Debug;
    /// The `list-keys` cursor: `string` in draft3 and draft2, `u64` in draft.
    type Cursor: Clone + Debug;

    /// `store.open`.
    fn open(identifier: &str) -> Result<Self::Bucket, Error>;
    /// `bucket.get`.
    fn get(bucket: &Self::Bucket, key: &str) -> Result<Option<Vec<u8>>, Error>;
    /// `bucket.set`.
    fn set(bucket: &Self::Bucket, key: &str, value: &[u8]) -> Result<(), Error>;
    /// `bucket.delete`.
    fn delete(bucket: &Self::Bucket, key: &str) -> Result<(), Error>;
    /// `bucket.exists`.
    fn exists(bucket: &Self::Bucket, key: &str) -> Result<bool, Error>;
    /// `bucket.list-keys`: one page and the cursor of the next, if any.
    fn list_keys(
        bucket: &Self::Bucket,
        cursor: Option<&Self::Cursor>,
    ) -> Result<Page<Self::Cursor>, Error>;
    /// Cursors the provider never issued, which `list-keys` must refuse; none in draft, where
    /// every `u64` names a position.
    fn foreign_cursors() -> Vec<Self::Cursor>;
    /// `atomics.increment`. `delta` must fit the version's delta type (panics otherwise).
    fn increment(bucket: &Self::Bucket, key: &str, delta: i128) -> Result<i128, Error>;
    /// `batch.get-many`.
    fn get_many(bucket: &Self::Bucket, keys: &[String]) -> Result<Found, Error>;
    /// `batch.set-many`.
    fn set_many(bucket: &Self::Bucket, entries: &[(String, Vec<u8>)]) -> Result<(), Error>;
    /// `batch.delete-many`.
    fn delete_many(bucket: &Self::Bucket, keys: &[String]) -> Result<(), Error>;
}

/// Compare-and-swap, which draft3 and draft2 have and draft lacks.
pub trait CasVersion: Version {
    /// The `cas` resource.
    type Cas: Debug;
    /// `cas.new`.
    fn cas_new(bucket: &Self::Bucket, key: &str) -> Result<Self::Cas, Error>;
    /// A handle and the key's value when it was made: draft3's `cas.new-with-read`; draft2 has
    /// none, so `cas.new`, then `current`.
    fn cas_new_with_read(
        bucket: &Self::Bucket,
        key: &str,
    ) -> Result<(Self::Cas, Option<Vec<u8>>), Error>;
    /// draft2's `cas.current`, the key's value now; `None` in draft3, which has no such call.
    fn cas_current(cas: &Self::Cas) -> Option<Result<Option<Vec<u8>>, Error>>;
    /// `atomics.swap`. A cas-failed comes with the key's value: the one draft3's carries, or what
    /// `current` of draft2's fresh handle reads (which must succeed).
    fn swap(cas: Self::Cas, value: &[u8]) -> Result<(), SwapError<Self::Cas>>;
}

/// Why a [`CasVersion::swap`] failed.
#[derive(Debug)]
pub enum SwapError<Cas> {
    /// `store-error`.
    Store(Error),
    /// `cas-failed`: a fresh handle, and the key's value at the failure.
    CasFailed(Cas, Option<Vec<u8>>),
}

/// The version a scenario program runs, named by its one argument.
pub enum VersionArg {
    Draft3,
    Draft2,
    Draft,
}

/// The program's one argument, `draft3`, `draft2` or `draft`.
pub fn version_arg() -> VersionArg {
    let program = std::env::args().next().unwrap_or_default();
    let usage = format!("{program} draft3|draft2|draft");
    match args(1, 1, &usage)[0].as_str() {
        "draft3" => VersionArg::Draft3,
        "draft2" => VersionArg::Draft2,
        "draft" => VersionArg::Draft,
        other => panic!("usage: {usage} (got {other:?})"),
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

/// Asserts that `result` is `Err(error::other(msg))` with `needle` in `msg` (ASCII case ignored)
/// and returns `msg`. `what` names the operation in the failure message.
#[track_caller]
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

/// `v`'s debug form, cut to 200 characters, for assertion messages.
pub fn short_debug(v: &impl Debug) -> String {
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

/// `keys` as owned strings, as the batch calls take them.
pub fn strings(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

/// `entries` as owned pairs, as `set-many` takes them.
pub fn pairs(entries: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect()
}
