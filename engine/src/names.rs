//! File names inside a bucket: key directories, version pointers, value files and temporaries.
//! `docs/FORMAT.md` describes the same layout.

use crate::error::{Error, Result};

use sha2::{Digest, Sha256};

/// Directory of temporary files in each format-2 bucket.
pub const TMP_DIR: &str = "tmp2";
/// Directory of temporary files in a format-1 bucket: its presence is how format-1 providers
/// recognise their format, so a format-2 bucket never has it (FORMAT.md, "Format 1").
pub const TMP1_DIR: &str = "tmp";
/// Prefix of a format-1 version pointer: `cur.<seq>.<nonce>`, an empty file.
pub const CUR_PREFIX: &str = "cur.";
/// Prefix of a format-2 version pointer: `p.<seq>.<nonce>.<payload>`, an empty file.
pub const PTR_PREFIX: &str = "p.";
/// Prefix of a value file: `val.<seq>.<nonce>`.
pub const VAL_PREFIX: &str = "val.";
/// Prefix of a format-2 key name: `k.<base64url of the key>`, an empty file.
pub const KEY_PREFIX: &str = "k.";
/// A format-2 key too long for a name: a record of the key and an empty value.
pub const KEY_FILE: &str = "key";

/// Longest value kept in its pointer's name (a name is at most 255 bytes).
pub const MAX_INLINE_VALUE: usize = 163;
/// Longest key kept in a `k.` name.
pub const MAX_INLINE_KEY: usize = 189;

static INLINE_LIMIT: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(MAX_INLINE_VALUE);

/// Values up to this many bytes are kept in the pointer's name.
pub fn inline_limit() -> usize {
    INLINE_LIMIT.load(std::sync::atomic::Ordering::Relaxed)
}

/// Lowers the inline limit for this process (tests that damage value files use 0, so that every
/// value has one); at most [`MAX_INLINE_VALUE`].
pub fn set_inline_limit(limit: usize) {
    INLINE_LIMIT.store(
        limit.min(MAX_INLINE_VALUE),
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// Where a format-2 pointer's value is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// A deletion (`d`, nonce 0).
    Tombstone,
    /// In the name itself (`i<base64url>`).
    Inline(Vec<u8>),
    /// In the value file `val.<seq>.<nonce>`: the whole file (`f`, and every format-1 value), or
    /// `len` bytes from `offset` (`f<offset>.<len>`, hex: a batch's shared file).
    File {
        /// Where the record starts.
        offset: u64,
        /// Its length, `None` for the whole file.
        len: Option<u64>,
    },
}

impl Payload {
    fn suffix(&self) -> String {
        match self {
            Payload::Tombstone => "d".into(),
            Payload::Inline(value) => format!("i{}", b64_encode(value)),
            Payload::File { len: None, .. } => "f".into(),
            Payload::File {
                offset,
                len: Some(len),
            } => format!("f{offset:x}.{len:x}"),
        }
    }

    fn parse(text: &str) -> Option<Payload> {
        let (kind, rest) = text.split_at_checked(1)?;
        match kind {
            "d" if rest.is_empty() => Some(Payload::Tombstone),
            "i" => b64_decode(rest).map(Payload::Inline),
            "f" if rest.is_empty() => Some(Payload::File {
                offset: 0,
                len: None,
            }),
            "f" => {
                let (offset, len) = rest.split_once('.')?;
                Some(Payload::File {
                    offset: parse_hex(offset)?,
                    len: Some(parse_hex(len)?),
                })
            }
            _ => None,
        }
    }
}

fn parse_hex(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 16 || text.starts_with('+') {
        return None;
    }
    u64::from_str_radix(text, 16).ok()
}

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

    /// The format-2 pointer of this version holding `payload`.
    pub(crate) fn ptr_name(&self, payload: &Payload) -> String {
        format!(
            "{PTR_PREFIX}{:016x}.{:016x}.{}",
            self.seq,
            self.nonce,
            payload.suffix()
        )
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
    /// `cur.<seq>.<nonce>` (format 1) or `p.<seq>.<nonce>.<payload>` (format 2): the key's
    /// current version, and where its value is.
    Cur(Version, Payload),
    /// `val.<seq>.<nonce>`: the value written by that version.
    Val(Version),
    /// `k.<base64url>`: the key, in a name.
    KeyName(String),
    /// `key`: the key, in a file.
    KeyFile,
    /// Anything else (never written by the engine).
    Other,
}

/// Classifies a file name inside a key directory.
pub fn entry(name: &str) -> Entry {
    if let Some(rest) = name.strip_prefix(CUR_PREFIX) {
        match Version::parse(rest) {
            Some(v) if v.is_tombstone() => Entry::Cur(v, Payload::Tombstone),
            Some(v) => Entry::Cur(
                v,
                Payload::File {
                    offset: 0,
                    len: None,
                },
            ),
            None => Entry::Other,
        }
    } else if let Some(rest) = name.strip_prefix(PTR_PREFIX) {
        let Some((version, payload)) = rest.get(..33).zip(rest.get(33..)) else {
            return Entry::Other;
        };
        let parsed = payload
            .strip_prefix('.')
            .and_then(Payload::parse)
            .zip(Version::parse(version));
        match parsed {
            Some((p, v)) if (p == Payload::Tombstone) == v.is_tombstone() => Entry::Cur(v, p),
            _ => Entry::Other,
        }
    } else if let Some(rest) = name.strip_prefix(VAL_PREFIX) {
        Version::parse(rest).map_or(Entry::Other, Entry::Val)
    } else if let Some(rest) = name.strip_prefix(KEY_PREFIX) {
        b64_decode(rest)
            .and_then(|key| String::from_utf8(key).ok())
            .map_or(Entry::Other, Entry::KeyName)
    } else if name == KEY_FILE {
        Entry::KeyFile
    } else {
        Entry::Other
    }
}

/// The `k.` name of `key`, if it is short enough for one.
pub fn key_name(key: &str) -> Option<String> {
    (key.len() <= MAX_INLINE_KEY).then(|| format!("{KEY_PREFIX}{}", b64_encode(key.as_bytes())))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// base64url without padding (RFC 4648, section 5): names stay within `[A-Za-z0-9_-]`.
pub fn b64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(B64[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// The bytes of a [`b64_encode`]d text; `None` for anything it cannot have produced.
pub fn b64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            let d = B64.iter().position(|b| b == c)? as u32;
            n |= d << (18 - 6 * i);
        }
        let bytes = chunk.len() - 1;
        // The bits past the last byte must be zero, so that each value has one spelling.
        if n & ((1 << (24 - 8 * bytes)) - 1) != 0 {
            return None;
        }
        out.extend((0..bytes).map(|i| (n >> (16 - 8 * i)) as u8));
    }
    Some(out)
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
        let whole = Payload::File {
            offset: 0,
            len: None,
        };
        assert_eq!(entry(&v.cur_name()), Entry::Cur(v, whole.clone()));
        assert_eq!(entry(&v.val_name()), Entry::Val(v));
        for payload in [
            whole,
            Payload::File {
                offset: 0x1234,
                len: Some(7),
            },
            Payload::Inline(vec![]),
            Payload::Inline((0..=255).take(MAX_INLINE_VALUE).collect()),
        ] {
            let name = v.ptr_name(&payload);
            assert!(name.len() <= 255, "{name}");
            assert_eq!(entry(&name), Entry::Cur(v, payload));
        }
        let gone = Version { seq: 8, nonce: 0 };
        assert_eq!(
            entry(&gone.ptr_name(&Payload::Tombstone)),
            Entry::Cur(gone, Payload::Tombstone)
        );
        let key = "k".repeat(MAX_INLINE_KEY);
        let name = key_name(&key).unwrap();
        assert!(name.len() <= 255, "{name}");
        assert_eq!(entry(&name), Entry::KeyName(key));
        assert_eq!(key_name(&"k".repeat(MAX_INLINE_KEY + 1)), None);
        for other in [
            "p.0000000000000007.00000000deadbeef.d",
            "p.0000000000000007.0000000000000000.i",
            "p.0000000000000007.00000000deadbeef.iA",
            "p.0000000000000007.00000000deadbeef.f1",
            "p.0000000000000007.00000000deadbeef",
            "k.A",
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
    fn base64url_round_trips_and_has_one_spelling() {
        for len in 0..40usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 97 + 13) as u8).collect();
            let text = b64_encode(&bytes);
            assert_eq!(text.len(), (len * 4).div_ceil(3));
            assert_eq!(b64_decode(&text), Some(bytes));
        }
        assert_eq!(b64_encode(b"\xfb\xff"), "-_8");
        assert_eq!(b64_decode("AB"), None, "non-zero bits past the last byte");
        assert_eq!(b64_decode("A=="), None);
        assert_eq!(b64_decode("A"), None);
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
