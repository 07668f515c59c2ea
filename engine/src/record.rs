//! The value file: one key and its value, with lengths and a checksum.
//!
//! ```text
//! offset  size  field
//! 0       4     magic "VSV1"
//! 4       4     key length K (u32, little-endian)
//! 8       8     value length V (u64, little-endian)
//! 16      4     CRC-32 (IEEE) of bytes 4..16, the key and the value
//! 20      K     key (UTF-8)
//! 20+K    V     value
//! ```
//!
//! A value file only ever appears under its final name with complete content (it is written under
//! a temporary name first), so a decode error means damage from outside: an OS crash with syncing
//! off, a disk fault, or a hand edit.

use crate::limits::{MAX_KEY_BYTES, MAX_VALUE_BYTES};

/// The first four bytes of every value file.
pub const MAGIC: [u8; 4] = *b"VSV1";

/// Bytes before the key.
pub const HEADER_LEN: usize = 20;

/// A decoded value file.
#[derive(Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// The key, as stored.
    pub key: &'a str,
    /// The value.
    pub value: &'a [u8],
}

/// Why a value file does not decode.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Shorter than its header says.
    #[error("truncated: {len} bytes, expected {expected}")]
    Truncated {
        /// Bytes present.
        len: usize,
        /// Bytes the header calls for.
        expected: u64,
    },
    /// Longer than its header says.
    #[error("{extra} trailing bytes after the value")]
    Trailing {
        /// Bytes past the end of the value.
        extra: u64,
    },
    /// The magic is not `VSV1`.
    #[error("bad magic {found:02x?}, expected \"VSV1\"")]
    BadMagic {
        /// The first bytes found.
        found: Vec<u8>,
    },
    /// A length beyond the engine's limits.
    #[error("length out of range: key {key_len} bytes, value {value_len} bytes")]
    LengthOutOfRange {
        /// Key length from the header.
        key_len: u64,
        /// Value length from the header.
        value_len: u64,
    },
    /// The checksum does not match.
    #[error("checksum mismatch: stored {stored:08x}, computed {computed:08x}")]
    Checksum {
        /// From the header.
        stored: u32,
        /// Over the bytes read.
        computed: u32,
    },
    /// The key bytes are not UTF-8.
    #[error("key is not UTF-8")]
    KeyNotUtf8,
}

/// Encodes `key` and `value` as a value file.
pub fn encode(key: &str, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + key.len() + value.len());
    out.extend_from_slice(&MAGIC);
    // Key and value lengths are bounded by the limits, checked before any write.
    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
    out.extend_from_slice(&(value.len() as u64).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(value);
    let crc = checksum(&out[4..16], &out[HEADER_LEN..]);
    out[16..20].copy_from_slice(&crc.to_le_bytes());
    out
}

/// The lengths a value file's header gives, checked against the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Bytes of key.
    pub key_len: usize,
    /// Bytes of value.
    pub value_len: u64,
}

/// Decodes the header at the start of `bytes` (a whole value file, or a prefix of one).
pub fn header(bytes: &[u8]) -> Result<Header, DecodeError> {
    if bytes.len() < HEADER_LEN {
        return Err(DecodeError::Truncated {
            len: bytes.len(),
            expected: HEADER_LEN as u64,
        });
    }
    if bytes[..4] != MAGIC {
        return Err(DecodeError::BadMagic {
            found: bytes[..4].to_vec(),
        });
    }
    let key_len = u64::from(u32::from_le_bytes(array(&bytes[4..8])));
    let value_len = u64::from_le_bytes(array(&bytes[8..16]));
    if key_len > MAX_KEY_BYTES as u64 || value_len > MAX_VALUE_BYTES as u64 {
        return Err(DecodeError::LengthOutOfRange { key_len, value_len });
    }
    // Within the limits, so it fits in usize.
    Ok(Header {
        key_len: key_len as usize,
        value_len,
    })
}

/// The key stored in a value file, from a prefix of it that holds the header and the key (the
/// value is neither read nor checked: listings do not pay for values).
pub fn decode_key(prefix: &[u8]) -> Result<&str, DecodeError> {
    let Header { key_len, .. } = header(prefix)?;
    let key = prefix
        .get(HEADER_LEN..HEADER_LEN + key_len)
        .ok_or(DecodeError::Truncated {
            len: prefix.len(),
            expected: (HEADER_LEN + key_len) as u64,
        })?;
    std::str::from_utf8(key).map_err(|_| DecodeError::KeyNotUtf8)
}

/// Decodes a whole value file.
pub fn decode(bytes: &[u8]) -> Result<Record<'_>, DecodeError> {
    let Header { key_len, value_len } = header(bytes)?;
    let expected = HEADER_LEN as u64 + key_len as u64 + value_len;
    let len = bytes.len() as u64;
    if len < expected {
        return Err(DecodeError::Truncated {
            len: bytes.len(),
            expected,
        });
    }
    if len > expected {
        return Err(DecodeError::Trailing {
            extra: len - expected,
        });
    }
    let stored = u32::from_le_bytes(array(&bytes[16..20]));
    let computed = checksum(&bytes[4..16], &bytes[HEADER_LEN..]);
    if stored != computed {
        return Err(DecodeError::Checksum { stored, computed });
    }
    let key_end = HEADER_LEN + key_len;
    let key =
        std::str::from_utf8(&bytes[HEADER_LEN..key_end]).map_err(|_| DecodeError::KeyNotUtf8)?;
    Ok(Record {
        key,
        value: &bytes[key_end..],
    })
}

fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut a = [0; N];
    a.copy_from_slice(bytes);
    a
}

/// CRC-32 (IEEE, as zlib and PNG use it) of the lengths and the body.
fn checksum(lengths: &[u8], body: &[u8]) -> u32 {
    let mut crc = crc32fast::Hasher::new();
    crc.update(lengths);
    crc.update(body);
    crc.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(checksum(b"1234", b"56789"), 0xcbf4_3926);
    }

    #[test]
    fn round_trip() {
        for (key, value) in [("", &b""[..]), ("k", b"v"), ("ключ/..", &[0u8, 255, 7][..])] {
            let bytes = encode(key, value);
            assert_eq!(bytes.len(), HEADER_LEN + key.len() + value.len());
            assert_eq!(decode(&bytes), Ok(Record { key, value }));
        }
    }

    #[test]
    fn every_truncation_is_detected() {
        let bytes = encode("key", b"value");
        for len in 0..bytes.len() {
            assert!(decode(&bytes[..len]).is_err(), "truncated to {len} decoded");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode(&longer), Err(DecodeError::Trailing { extra: 1 }));
    }

    #[test]
    fn every_single_bit_flip_is_detected() {
        let bytes = encode("key", b"value");
        for i in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[i / 8] ^= 1 << (i % 8);
            assert!(decode(&flipped).is_err(), "flip of bit {i} decoded");
        }
    }

    #[test]
    fn zero_filled_file_is_bad_magic() {
        assert!(matches!(
            decode(&[0; 64]),
            Err(DecodeError::BadMagic { .. })
        ));
    }
}
