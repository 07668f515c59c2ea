//! `list-keys`: bounded pages in byte order of the key names, from the bucket's sorted set.
//!
//! `SCAN` may return a key twice (or, over a rehash, in any order), so the names live in a sorted
//! set kept in step with the values by the same scripts, all with score 0, and a page is a
//! `ZRANGEBYLEX` strictly after the last name listed. The cursor is that name, hex-encoded (opaque,
//! and safe for any key bytes): a position, not a handle, so it stays valid whatever others write.
//! A key present for the whole listing lies either at or before every cursor, or after it, and is
//! listed exactly once; keys written or deleted meanwhile may or may not appear.

use virt_store_engine::limits::{MAX_KEY_BYTES, MAX_PAGE_BYTES, MAX_PAGE_KEYS};

use crate::bucket::Bucket;
use crate::error::{Error, Result};
use crate::resp::Reply;
use crate::scripts;
use crate::store::Kind;

/// Cursors start with this, so that a later layout can change them.
const CURSOR_PREFIX: &str = "v1.";

/// One page of keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPage {
    /// The keys of this page.
    pub keys: Vec<String>,
    /// Where to continue, or `None` when the listing is complete.
    pub cursor: Option<String>,
}

impl Bucket {
    /// Lists keys from `cursor` (none: from the start): at most [`MAX_PAGE_KEYS`] keys and about
    /// [`MAX_PAGE_BYTES`] of them per page.
    pub fn list_keys(&self, cursor: Option<&str>) -> Result<KeyPage> {
        let after = cursor.map(parse_cursor).transpose()?;
        // `(` makes the bound exclusive; `-` is the start of the set.
        let bound = match &after {
            Some(key) => [&b"("[..], key].concat(),
            None => b"-".to_vec(),
        };
        let (limit, max_bytes) = (MAX_PAGE_KEYS.to_string(), MAX_PAGE_BYTES.to_string());
        let op = "list-keys";
        let index = self.index();
        let reply = self.shared().eval(
            op,
            Kind::Read,
            scripts::LIST,
            &[index.as_bytes()],
            &[&bound, limit.as_bytes(), max_bytes.as_bytes()],
        )?;
        let bad = |reply: &Reply| self.shared().unexpected(op, reply);
        let Reply::Array(Some(parts)) = reply else {
            return Err(bad(&reply));
        };
        let (more, names) = match &parts[..] {
            [Reply::Integer(more), Reply::Array(Some(names))] => (*more == 1, names),
            _ => return Err(bad(&Reply::Array(Some(parts)))),
        };
        let mut keys = Vec::with_capacity(names.len());
        for name in names {
            match name {
                // Only the scripts add names, and only from Rust strings.
                Reply::Bulk(Some(bytes)) => match std::str::from_utf8(bytes) {
                    Ok(key) => keys.push(key.to_owned()),
                    Err(_) => return Err(bad(name)),
                },
                other => return Err(bad(other)),
            }
        }
        let cursor = match keys.last() {
            Some(last) if more => Some(format!("{CURSOR_PREFIX}{}", hex(last.as_bytes()))),
            _ => None,
        };
        Ok(KeyPage { keys, cursor })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key a cursor points after; anything this module did not produce is an error.
fn parse_cursor(cursor: &str) -> Result<Vec<u8>> {
    let invalid = || Error::InvalidCursor {
        cursor: cursor.escape_debug().take(80).collect(),
    };
    let digits = cursor.strip_prefix(CURSOR_PREFIX).ok_or_else(invalid)?;
    // `from_str_radix` alone would take a sign (`+1`).
    // `v1.` alone is the position after the empty key.
    if digits.len() % 2 != 0
        || digits.len() > 2 * MAX_KEY_BYTES
        || !digits.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(invalid());
    }
    let bytes = digits
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(invalid)?;
    // Keys are strings: a cursor that decodes to other bytes was not made here.
    std::str::from_utf8(&bytes).map_err(|_| invalid())?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let key = "a/κ\u{0}z";
        let cursor = format!("{CURSOR_PREFIX}{}", hex(key.as_bytes()));
        assert_eq!(parse_cursor(&cursor).unwrap(), key.as_bytes());
        for bad in ["", "v1.6", "v1.zz", "v2.61", "61", "v1.ff", "v1.+1"] {
            let err = parse_cursor(bad).unwrap_err().to_string();
            assert!(err.starts_with("invalid list-keys cursor"), "{bad}: {err}");
        }
    }
}
