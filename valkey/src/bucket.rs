//! A bucket: the public operations on keys, each one Lua script (increments a loop of two).

use std::sync::Arc;

use virt_store_engine::limits::{
    check_batch, check_key, check_value, contention, Counter, MAX_ATTEMPTS,
};

use crate::error::Result;
use crate::resp::Reply;
use crate::scripts;
use crate::store::{Kind, Shared};

/// Most value bytes sent in one `set_many` script: bigger batches go as several scripts, so no
/// request grows past what a server buffers comfortably (`set_many` is not atomic as a whole).
const SET_CHUNK_BYTES: usize = 8 * 1024 * 1024;

/// A key's version as seen by a compare-and-swap handle: a swap succeeds only if no write reached
/// the key since. Versions come from a per-bucket counter and are never reused, so A→B→A is a
/// change; 0 is the version of a key that was never written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CasVersion(pub u64);

/// A bucket of a store: a namespace of keys on the server, all in one cluster slot.
#[derive(Clone)]
pub struct Bucket {
    shared: Arc<Shared>,
    /// `vs:{tag}:`, the start of every server key of the bucket.
    prefix: String,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bucket({})", self.prefix)
    }
}

impl Bucket {
    pub(crate) fn new(shared: Arc<Shared>, prefix: String) -> Bucket {
        Bucket { shared, prefix }
    }

    /// The value of `key`, if any.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        check_key(key)?;
        let mut values = self.get_unchecked(&[key])?;
        Ok(values.pop().flatten())
    }

    /// Whether `key` has a value.
    pub fn exists(&self, key: &str) -> Result<bool> {
        let entry = self.entry(key)?;
        match self
            .shared
            .eval("exists", Kind::Read, scripts::EXISTS, &[&entry], &[])?
        {
            Reply::Integer(n) => Ok(n == 1),
            other => Err(self.shared.unexpected("exists", &other)),
        }
    }

    /// Sets `key` to `value`.
    pub fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        check_key(key)?;
        check_value(key, value)?;
        self.set_unchecked("set", &[(key, value)])
    }

    /// Deletes `key`; deleting an absent key does nothing (and changes no version).
    pub fn delete(&self, key: &str) -> Result<()> {
        check_key(key)?;
        self.delete_unchecked("delete", &[key])
    }

    /// The values of `keys`, in order, read in one script (one consistent snapshot).
    pub fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        check_batch(keys.len())?;
        for key in keys {
            check_key(key)?;
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.get_unchecked(&keys)
    }

    /// Sets each key in order (a repeated key ends with its last value). Batches past a few MiB go
    /// as several scripts: on error, earlier keys stay set, as with the engine.
    pub fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<()> {
        check_batch(entries.len())?;
        for (key, value) in entries {
            check_key(key)?;
            check_value(key, value)?;
        }
        let mut chunk: Vec<(&str, &[u8])> = Vec::new();
        let mut bytes = 0;
        for (key, value) in entries {
            if !chunk.is_empty() && bytes + key.len() + value.len() > SET_CHUNK_BYTES {
                self.set_unchecked("set-many", &chunk)?;
                chunk.clear();
                bytes = 0;
            }
            chunk.push((key, value));
            bytes += key.len() + value.len();
        }
        if chunk.is_empty() {
            return Ok(());
        }
        self.set_unchecked("set-many", &chunk)
    }

    /// Deletes each key, in one script; absent keys are skipped.
    pub fn delete_many(&self, keys: &[String]) -> Result<()> {
        check_batch(keys.len())?;
        for key in keys {
            check_key(key)?;
        }
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.delete_unchecked("delete-many", &keys)
    }

    /// The current version and value of `key`, for a compare-and-swap.
    pub fn read_versioned(&self, key: &str) -> Result<(CasVersion, Option<Vec<u8>>)> {
        let entry = self.entry(key)?;
        let op = "read-versioned";
        let reply = self
            .shared
            .eval(op, Kind::Read, scripts::READ, &[&entry], &[])?;
        match reply {
            Reply::Array(Some(items)) if items.len() == 2 => {
                let mut items = items.into_iter();
                let (Some(version), Some(value)) = (items.next(), items.next()) else {
                    return Err(self.shared.unexpected(op, &Reply::Array(None)));
                };
                let version = self.parse_version(op, version)?;
                match value {
                    Reply::Bulk(value) => Ok((version, value)),
                    other => Err(self.shared.unexpected(op, &other)),
                }
            }
            other => Err(self.shared.unexpected(op, &other)),
        }
    }

    /// The current version of `key`, for a compare-and-swap (the value stays on the server).
    pub fn version(&self, key: &str) -> Result<CasVersion> {
        let entry = self.entry(key)?;
        let reply = self
            .shared
            .eval("version", Kind::Read, scripts::VERSION, &[&entry], &[])?;
        self.parse_version("version", reply)
    }

    /// Sets `key` to `value` if its version is still `expected`. Returns false, changing
    /// nothing, if any write reached the key since.
    pub fn swap(&self, key: &str, expected: CasVersion, value: &[u8]) -> Result<bool> {
        let entry = self.entry(key)?;
        check_value(key, value)?;
        let expected = expected.0.to_string();
        let reply = self.shared.eval(
            "swap",
            Kind::Write,
            scripts::SWAP,
            &[self.index().as_bytes(), self.counter().as_bytes(), &entry],
            &[&index_member(key), expected.as_bytes(), value],
        )?;
        match reply {
            Reply::Integer(1) => Ok(true),
            Reply::Integer(0) => Ok(false),
            other => Err(self.shared.unexpected("swap", &other)),
        }
    }

    /// Adds `delta` to the base-10 integer stored at `key` (absent counts as 0) and returns the
    /// new value, stored as ASCII base-10 text.
    pub fn increment(&self, key: &str, delta: i64) -> Result<i64> {
        self.add(key, i128::from(delta), Counter::Signed)
            .map(|n| n as i64)
    }

    /// [`Bucket::increment`] for counters that are never negative: the stored value must be a
    /// base-10 integer from 0 to `u64::MAX` (`-0` is refused, as Rust's `u64` parser does).
    pub fn increment_unsigned(&self, key: &str, delta: u64) -> Result<u64> {
        self.add(key, i128::from(delta), Counter::Unsigned)
            .map(|n| n as u64)
    }

    /// Adds `delta` to the counter at `key` by the engine's rules (`Counter`). A loop of
    /// read-versioned and swap, each one script: parsing stays in Rust (Lua's numbers are
    /// doubles), and a lost swap retries. A swap whose reply is lost is never retried: its error
    /// says the outcome is unknown.
    fn add(&self, key: &str, delta: i128, counter: Counter) -> Result<i128> {
        check_key(key)?;
        for _ in 0..MAX_ATTEMPTS {
            let (version, value) = self.read_versioned(key)?;
            let new = counter.add(key, value.as_deref(), delta)?;
            if self.swap(key, version, new.to_string().as_bytes())? {
                return Ok(new);
            }
        }
        Err(contention(key).into())
    }

    fn get_unchecked(&self, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>> {
        let entries: Vec<Vec<u8>> = keys.iter().map(|key| self.entry_name(key)).collect();
        let entries: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        let op = if keys.len() == 1 { "get" } else { "get-many" };
        match self
            .shared
            .eval(op, Kind::Read, scripts::GET, &entries, &[])?
        {
            Reply::Array(Some(items)) if items.len() == keys.len() => items
                .into_iter()
                .map(|item| match item {
                    Reply::Bulk(value) => Ok(value),
                    other => Err(self.shared.unexpected(op, &other)),
                })
                .collect(),
            other => Err(self.shared.unexpected(op, &other)),
        }
    }

    fn set_unchecked(&self, op: &'static str, entries: &[(&str, &[u8])]) -> Result<()> {
        let names: Vec<Vec<u8>> = entries
            .iter()
            .map(|(key, _)| self.entry_name(key))
            .collect();
        let (index, counter) = (self.index(), self.counter());
        let mut keys: Vec<&[u8]> = vec![index.as_bytes(), counter.as_bytes()];
        keys.extend(names.iter().map(Vec::as_slice));
        let members: Vec<Vec<u8>> = entries.iter().map(|(key, _)| index_member(key)).collect();
        let mut args: Vec<&[u8]> = Vec::with_capacity(entries.len() * 2);
        for ((_, value), member) in entries.iter().zip(&members) {
            args.push(member);
            args.push(value);
        }
        match self
            .shared
            .eval(op, Kind::Write, scripts::SET, &keys, &args)?
        {
            Reply::Integer(_) => Ok(()),
            other => Err(self.shared.unexpected(op, &other)),
        }
    }

    fn delete_unchecked(&self, op: &'static str, keys: &[&str]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let names: Vec<Vec<u8>> = keys.iter().map(|key| self.entry_name(key)).collect();
        let (index, counter) = (self.index(), self.counter());
        let mut script_keys: Vec<&[u8]> = vec![index.as_bytes(), counter.as_bytes()];
        script_keys.extend(names.iter().map(Vec::as_slice));
        let members: Vec<Vec<u8>> = keys.iter().map(|key| index_member(key)).collect();
        let args: Vec<&[u8]> = members.iter().map(Vec::as_slice).collect();
        match self
            .shared
            .eval(op, Kind::Write, scripts::DELETE, &script_keys, &args)?
        {
            Reply::Integer(_) => Ok(()),
            other => Err(self.shared.unexpected(op, &other)),
        }
    }

    fn parse_version(&self, op: &'static str, reply: Reply) -> Result<CasVersion> {
        match reply {
            Reply::Bulk(None) => Ok(CasVersion(0)),
            Reply::Bulk(Some(text)) => std::str::from_utf8(&text)
                .ok()
                .and_then(|text| text.parse().ok())
                .map(CasVersion)
                .ok_or_else(|| self.shared.unexpected(op, &Reply::Bulk(Some(text)))),
            other => Err(self.shared.unexpected(op, &other)),
        }
    }

    /// The server key of `key`'s entry, after checking the key's length.
    fn entry(&self, key: &str) -> Result<Vec<u8>> {
        check_key(key)?;
        Ok(self.entry_name(key))
    }

    fn entry_name(&self, key: &str) -> Vec<u8> {
        [self.prefix.as_bytes(), b"v:", key.as_bytes()].concat()
    }

    /// How many keys have a value (the size of the bucket's index).
    pub fn key_count(&self) -> Result<u64> {
        let index = self.index();
        match self
            .shared
            .call("count", Kind::Read, &[b"ZCARD", index.as_bytes()])?
        {
            Reply::Integer(n) => Ok(n.max(0) as u64),
            other => Err(self.shared.unexpected("count", &other)),
        }
    }

    /// The sorted set of the bucket's key names.
    pub(crate) fn index(&self) -> String {
        format!("{}keys", self.prefix)
    }

    fn counter(&self) -> String {
        format!("{}seq", self.prefix)
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }
}

/// Hex digits of the key's hash that start its name in the bucket's index.
pub(crate) const HASH_DIGITS: usize = 16;

/// A key's name in the bucket's index: the first 64 bits of the SHA-256 of its bytes, in
/// [`HASH_DIGITS`] lowercase hex digits, then the key. The index is ordered as the filesystem
/// engine lists (by hash), and `0.2.0-draft`'s `u64` cursor is a position in it.
pub(crate) fn index_member(key: &str) -> Vec<u8> {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(key.as_bytes());
    let mut member = Vec::with_capacity(HASH_DIGITS + key.len());
    for byte in &hash[..HASH_DIGITS / 2] {
        member.extend_from_slice(format!("{byte:02x}").as_bytes());
    }
    member.extend_from_slice(key.as_bytes());
    member
}
