//! File names inside a bucket: key directories, version pointers, value files and temporaries.
//! `docs/FORMAT.md` describes the same layout.

use crate::error::{Error, Result};

use sha2::{Digest, Sha256};

/// Directory of temporary files in each bucket.
pub const TMP_DIR: &str = "tmp";
/// Prefix of a version pointer: `cur.<seq>.<nonce>`, an empty file.
pub const CUR_PREFIX: &str = "cur.";
/// Prefix of a value file: `val.<seq>.<nonce>`.
pub const VAL_PREFIX: &str = "val.";

/// The version of a key: which write produced its current state.
///
/// `seq` counts the writes to the key's directory (1 for the first); `nonce` is random per write,
/// so a version is never produced twice, and 0 marks a deletion (a tombstone, with no value file).
/// `Version::ABSENT` is a key whose directory does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Version {
    pub(crate) seq: u64,
    pub(crate) nonce: u64,
}

impl Version {
    /// A key that was never written.
    pub const ABSENT: Version = Version { seq: 0, nonce: 0 };

    /// Whether this version holds no value (never written, or deleted).
    pub fn is_tombstone(&self) -> bool {
        self.nonce == 0
    }

    pub(crate) fn cur_name(&self) -> String {
        format!("{CUR_PREFIX}{:016x}.{:016x}", self.seq, self.nonce)
    }

    pub(crate) fn val_name(&self) -> String {
        format!("{VAL_PREFIX}{:016x}.{:016x}", self.seq, self.nonce)
    }

    /// Parses the `<seq>.<nonce>` part after a prefix.
    fn parse(rest: &str) -> Option<Version> {
        let (seq, nonce) = rest.split_once('.')?;
        if seq.len() != 16 || nonce.len() != 16 {
            return None;
        }
        Some(Version {
            seq: u64::from_str_radix(seq, 16).ok()?,
            nonce: u64::from_str_radix(nonce, 16).ok()?,
        })
    }
}

/// What a name inside a key directory is.
#[derive(Debug, PartialEq, Eq)]
pub enum Entry {
    /// `cur.<seq>.<nonce>`: the key's current version.
    Cur(Version),
    /// `val.<seq>.<nonce>`: the value written by that version.
    Val(Version),
    /// Anything else (never written by the engine).
    Other,
}

/// Classifies a file name inside a key directory.
pub fn entry(name: &str) -> Entry {
    if let Some(rest) = name.strip_prefix(CUR_PREFIX) {
        Version::parse(rest).map_or(Entry::Other, Entry::Cur)
    } else if let Some(rest) = name.strip_prefix(VAL_PREFIX) {
        Version::parse(rest).map_or(Entry::Other, Entry::Val)
    } else {
        Entry::Other
    }
}

/// The name of a key: the hex SHA-256 of its bytes (64 characters).
pub fn key_hash(key: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut name = String::with_capacity(64);
    for byte in Sha256::digest(key.as_bytes()) {
        name.push(char::from(HEX[usize::from(byte >> 4)]));
        name.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    name
}

/// Whether `name` is a key directory name (64 lowercase hex digits).
pub fn is_key_hash(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `name` is a shard directory name (2 lowercase hex digits).
pub fn is_shard(name: &str) -> bool {
    name.len() == 2 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A random, non-zero 64-bit number from the system's randomness (`wasi:random` inside the
/// provider): different on every call, in this or any other process.
pub fn nonce() -> Result<u64> {
    Ok(getrandom::u64().map_err(random_error)?.max(1))
}

/// A fresh name for a temporary file or directory: 128 random bits.
pub fn temp_name() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(random_error)?;
    Ok(format!("{:032x}", u128::from_le_bytes(bytes)))
}

fn random_error(e: getrandom::Error) -> Error {
    Error::Random {
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let v = Version {
            seq: 7,
            nonce: 0xdead_beef,
        };
        assert_eq!(v.cur_name(), "cur.0000000000000007.00000000deadbeef");
        assert_eq!(entry(&v.cur_name()), Entry::Cur(v));
        assert_eq!(entry(&v.val_name()), Entry::Val(v));
        for other in [
            "cur.7.1",
            "val.",
            "x",
            "cur.000000000000000g.0000000000000000",
            "tmp",
        ] {
            assert_eq!(entry(other), Entry::Other, "{other}");
        }
    }

    #[test]
    fn nonces_differ_and_are_never_zero() {
        let set: std::collections::HashSet<u64> = (0..10_000).map(|_| nonce().unwrap()).collect();
        assert_eq!(set.len(), 10_000);
        assert!(!set.contains(&0));
    }

    #[test]
    fn key_hash_is_a_fixed_length_hex_name() {
        for key in ["", "..", "/", "a/b", "\0", "CON", &"x".repeat(8192)] {
            let h = key_hash(key);
            assert!(is_key_hash(&h), "{h}");
        }
        assert_eq!(
            key_hash(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            key_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // NFC and NFD spellings of é are different keys.
        assert_ne!(key_hash("\u{e9}"), key_hash("e\u{301}"));
    }
}
