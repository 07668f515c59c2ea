//! `list-keys`: bounded pages in key-hash order, with a cursor that is a position, not a handle.
//!
//! Keys are listed in the order of their hashes (shard `00` to `ff`, names sorted within a shard).
//! The cursor is the hash of the last key directory examined, so it stays valid whatever others
//! write: a key present for the whole listing lies either before or after every cursor and is
//! listed exactly once; keys written or deleted meanwhile may or may not appear. The numeric cursor
//! of `wasi:keyvalue@0.2.0-draft` is the same position cut to 64 bits.

use crate::bucket::Bucket;
use crate::error::{Error, Result};
use crate::keydir::{list_names, Read};
use crate::limits::{MAX_PAGE_BYTES, MAX_PAGE_KEYS, MAX_PAGE_SCAN};
use crate::names::{is_key_hash, is_shard};

/// Cursors start with this, so that a later format can change them.
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
        let after = match cursor {
            None => None,
            Some(cursor) => Some(parse_cursor(cursor)?),
        };
        let (keys, last) = self.page(after.as_deref(), 64)?;
        Ok(KeyPage {
            keys,
            cursor: last.map(|hash| format!("{CURSOR_PREFIX}{hash}")),
        })
    }

    /// [`Bucket::list_keys`] with a numeric cursor (`wasi:keyvalue@0.2.0-draft`): the position is
    /// the first 64 bits of the last key hash listed, and a page never ends between two keys that
    /// share them, so a key present for the whole listing still appears exactly once.
    pub fn list_keys_numeric(&self, cursor: Option<u64>) -> Result<(Vec<String>, Option<u64>)> {
        let after = cursor.map(|c| format!("{c:016x}"));
        let (keys, last) = self.page(after.as_deref(), 16)?;
        // `last` is 16 hex digits here, so it always parses.
        Ok((
            keys,
            last.and_then(|prefix| u64::from_str_radix(&prefix, 16).ok()),
        ))
    }

    /// One page of keys whose hash, cut to `width` hex digits, comes after `after` (of that
    /// width); returns the page and, unless the listing is complete, the position of the last key
    /// directory examined, `width` digits long.
    fn page(&self, after: Option<&str>, width: usize) -> Result<(Vec<String>, Option<String>)> {
        let first_shard = after.map_or(0, |hash| shard_index(&hash[..2]));
        let mut keys = Vec::new();
        let mut bytes = 0;
        let mut scanned = 0;
        // Once a page is full, it still takes the keys that share the last position.
        let mut closing: Option<String> = None;
        for shard in first_shard..=0xff {
            let shard_dir = self.dir().join(format!("{shard:02x}"));
            let Some(mut names) = list_names(self.fs(), &shard_dir)? else {
                continue;
            };
            names.retain(|name| is_key_hash(name) && after.is_none_or(|a| &name[..width] > a));
            names.sort_unstable();
            for name in names {
                let position = &name[..width];
                if let Some(last) = &closing {
                    if last != position {
                        return Ok((keys, closing));
                    }
                }
                let key_dir = crate::keydir::KeyDir {
                    fs: self.fs(),
                    key: None,
                    shard: shard_dir.clone(),
                    dir: shard_dir.join(&name),
                };
                let snapshot = key_dir.snapshot(Read::Key)?;
                scanned += 1;
                if let Some(key) = snapshot.key {
                    bytes += key.len();
                    keys.push(key);
                }
                if keys.len() >= MAX_PAGE_KEYS
                    || bytes >= MAX_PAGE_BYTES
                    || scanned >= MAX_PAGE_SCAN
                {
                    closing = Some(position.to_owned());
                }
            }
            if closing.is_some() {
                return Ok((keys, closing));
            }
        }
        Ok((keys, None))
    }
}

fn parse_cursor(cursor: &str) -> Result<String> {
    match cursor.strip_prefix(CURSOR_PREFIX) {
        Some(hash) if is_key_hash(hash) => Ok(hash.to_owned()),
        _ => Err(Error::InvalidCursor {
            cursor: cursor.escape_debug().take(80).collect(),
        }),
    }
}

fn shard_index(shard: &str) -> u32 {
    debug_assert!(is_shard(shard));
    u32::from_str_radix(shard, 16).unwrap_or(0)
}
