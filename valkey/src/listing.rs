//! `list-keys`: bounded pages in the order of the keys' hashes, from the bucket's sorted set.
//!
//! `SCAN` may return a key twice (or, over a rehash, in any order), so the keys live in a sorted
//! set kept in step with the values by the same scripts, all with score 0, each as a member made
//! of its hash prefix and itself (`index_member`), and a page is a `ZRANGEBYLEX` strictly after the
//! last member listed. The cursor is that member, hex-encoded (opaque, and safe for any key
//! bytes): a position, not a handle, so it stays valid whatever others write.
//! A key present for the whole listing lies either at or before every cursor, or after it, and is
//! listed exactly once; keys written or deleted meanwhile may or may not appear.

use virt_store_engine::limits::{MAX_KEY_BYTES, MAX_PAGE_BYTES, MAX_PAGE_KEYS};
use virt_store_engine::KeyPage;

use crate::bucket::{Bucket, HASH_DIGITS};
use crate::error::{Error, Result};
use crate::resp::Reply;
use crate::scripts;
use crate::store::Kind;

/// Cursors start with this, so that a later layout can change them.
const CURSOR_PREFIX: &str = "v1.";

impl Bucket {
    /// Lists keys from `cursor` (none: from the start): at most [`MAX_PAGE_KEYS`] keys and about
    /// [`MAX_PAGE_BYTES`] of them per page.
    pub fn list_keys(&self, cursor: Option<&str>) -> Result<KeyPage> {
        let after = cursor.map(parse_cursor).transpose()?;
        // `(` makes the bound exclusive; `-` is the start of the set.
        let bound = match &after {
            Some(member) => [&b"("[..], member].concat(),
            None => b"-".to_vec(),
        };
        let (keys, last) = self.page(&bound, 0)?;
        let cursor = last.map(|member| format!("{CURSOR_PREFIX}{}", hex(&member)));
        Ok(KeyPage { keys, cursor })
    }

    /// [`Bucket::list_keys`] with `0.2.0-draft`'s `u64` cursor: the first 64 bits of the last
    /// key's hash, as the engine's. A page never ends between two keys whose hashes share them.
    pub fn list_keys_numeric(&self, cursor: Option<u64>) -> Result<(Vec<String>, Option<u64>)> {
        let bound = match cursor {
            None => b"-".to_vec(),
            Some(u64::MAX) => return Ok((Vec::new(), None)),
            // Every member at the next position or later.
            Some(position) => format!("[{:016x}", position + 1).into_bytes(),
        };
        let (keys, last) = self.page(&bound, HASH_DIGITS)?;
        let cursor = last.map(|member| {
            // Every member starts with HASH_DIGITS hex digits (checked by `page`).
            let digits = std::str::from_utf8(&member[..HASH_DIGITS]).unwrap_or("0");
            u64::from_str_radix(digits, 16).unwrap_or(0)
        });
        Ok((keys, cursor))
    }

    /// One page of keys after `bound` (a `ZRANGEBYLEX` bound), never ending between members
    /// whose first `width` bytes agree; and the last member, unless the listing is complete.
    fn page(&self, bound: &[u8], width: usize) -> Result<(Vec<String>, Option<Vec<u8>>)> {
        let (limit, max_bytes) = (MAX_PAGE_KEYS.to_string(), MAX_PAGE_BYTES.to_string());
        let width_arg = width.to_string();
        let op = "list-keys";
        let index = self.index();
        let reply = self.shared().eval(
            op,
            Kind::Read,
            scripts::LIST,
            &[index.as_bytes()],
            &[
                bound,
                limit.as_bytes(),
                max_bytes.as_bytes(),
                width_arg.as_bytes(),
            ],
        )?;
        let bad = |reply: &Reply| self.shared().unexpected(op, reply);
        let Reply::Array(Some(parts)) = reply else {
            return Err(bad(&reply));
        };
        let (more, members) = match &parts[..] {
            [Reply::Integer(more), Reply::Array(Some(members))] => (*more == 1, members),
            _ => return Err(bad(&Reply::Array(Some(parts)))),
        };
        let mut keys = Vec::with_capacity(members.len());
        let mut last = None;
        for member in members {
            // Only the scripts add members, and only as `index_member` makes them.
            let Reply::Bulk(Some(bytes)) = member else {
                return Err(bad(member));
            };
            let key = (bytes.len() >= HASH_DIGITS
                && bytes[..HASH_DIGITS].iter().all(u8::is_ascii_hexdigit))
            .then(|| std::str::from_utf8(&bytes[HASH_DIGITS..]).ok())
            .flatten()
            .ok_or_else(|| bad(member))?;
            keys.push(key.to_owned());
            last = Some(bytes);
        }
        Ok((keys, last.filter(|_| more).cloned()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The index member a cursor points after; anything this module did not produce is an error.
fn parse_cursor(cursor: &str) -> Result<Vec<u8>> {
    let invalid = || -> Error {
        virt_store_engine::Error::InvalidCursor {
            cursor: cursor.escape_debug().take(80).collect(),
        }
        .into()
    };
    let digits = cursor.strip_prefix(CURSOR_PREFIX).ok_or_else(invalid)?;
    // `from_str_radix` alone would take a sign (`+1`).
    if digits.len() % 2 != 0
        || digits.len() > 2 * (HASH_DIGITS + MAX_KEY_BYTES)
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
    // A hash prefix, then a key (a string): other bytes were not made here.
    if bytes.len() < HASH_DIGITS
        || !bytes[..HASH_DIGITS]
            .iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(invalid());
    }
    std::str::from_utf8(&bytes[HASH_DIGITS..]).map_err(|_| invalid())?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let member = crate::bucket::index_member("a/κ\u{0}z");
        let cursor = format!("{CURSOR_PREFIX}{}", hex(&member));
        assert_eq!(parse_cursor(&cursor).unwrap(), member);
        for bad in [
            "", "v1.6", "v1.zz", "v2.61", "61", "v1.ff", "v1.+1", "v1.61",
        ] {
            let err = parse_cursor(bad).unwrap_err().to_string();
            assert!(err.starts_with("invalid list-keys cursor"), "{bad}: {err}");
        }
    }
}
