//! The limits the engine enforces, and the rules of keys, values, batches and counters that every
//! backend (the engine, the Valkey one) applies alike, with the same errors. `docs/FORMAT.md`
//! states the same numbers; a test keeps them equal.

use crate::error::{Error, KeyDisplay, Result};

/// Longest key, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 8 * 1024;

/// Largest value, in bytes. Values cross the component boundary twice (into the app and the
/// provider), so both linear memories hold a copy.
pub const MAX_VALUE_BYTES: usize = 32 * 1024 * 1024;

/// Most keys in one `get-many`, `set-many` or `delete-many`.
pub const MAX_BATCH_KEYS: usize = 10_000;

/// Most keys in one `list-keys` page.
pub const MAX_PAGE_KEYS: usize = 1_000;

/// Most key bytes in one `list-keys` page (a page ends early once it holds this much).
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// Most key directories one `list-keys` call examines, counting deleted keys, before it returns a
/// shorter page with a cursor (bounds the work of a call over a store full of tombstones).
pub const MAX_PAGE_SCAN: usize = 10_000;

/// How often a write retries after losing the race for a key before it gives up.
pub const MAX_ATTEMPTS: u32 = 100_000;

/// Refuses a key longer than [`MAX_KEY_BYTES`] (every backend checks keys so).
pub fn check_key(key: &str) -> Result<()> {
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::KeyTooLong {
            key: KeyDisplay::new(key),
            len: key.len(),
        });
    }
    Ok(())
}

/// Refuses a value larger than [`MAX_VALUE_BYTES`].
pub fn check_value(key: &str, value: &[u8]) -> Result<()> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(Error::ValueTooLarge {
            key: KeyDisplay::new(key),
            len: value.len(),
        });
    }
    Ok(())
}

/// Refuses a batch of more than [`MAX_BATCH_KEYS`] keys.
pub fn check_batch(len: usize) -> Result<()> {
    if len > MAX_BATCH_KEYS {
        return Err(Error::BatchTooLarge { len });
    }
    Ok(())
}

/// The error of a write that lost the race for `key` [`MAX_ATTEMPTS`] times.
pub fn contention(key: &str) -> Error {
    Error::Contention {
        key: KeyDisplay::new(key),
        attempts: MAX_ATTEMPTS,
    }
}

/// The rules of a counter, the same for every backend: a value of ASCII base-10 text (absent
/// counts as 0), parsed by Rust's own parser for the counter's type (which takes `+5` and `012`,
/// and refuses `-0` for an unsigned counter, as wasmtime's host does), and a sum that must stay
/// in the type's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// `i64`: `increment` of `0.2.0-draft2` and `0.2.0-draft3`.
    Signed,
    /// `u64`: `increment` of `0.2.0-draft`.
    Unsigned,
}

impl Counter {
    /// The counter at `key`, whose value is `current`, plus `delta`; an error naming the key if
    /// the value is not a number of the counter's type or the sum leaves its range.
    pub fn add(self, key: &str, current: Option<&[u8]>, delta: i128) -> Result<i128> {
        let (parsed, range, expected) = match self {
            Counter::Signed => (
                current.map(|bytes| {
                    std::str::from_utf8(bytes)
                        .ok()
                        .and_then(|t| t.parse::<i64>().ok())
                        .map(i128::from)
                }),
                i128::from(i64::MIN)..=i128::from(i64::MAX),
                "an integer",
            ),
            Counter::Unsigned => (
                current.map(|bytes| {
                    std::str::from_utf8(bytes)
                        .ok()
                        .and_then(|t| t.parse::<u64>().ok())
                        .map(i128::from)
                }),
                0..=i128::from(u64::MAX),
                "a non-negative integer",
            ),
        };
        let current = match parsed {
            None => 0,
            Some(Some(n)) => n,
            Some(None) => {
                return Err(Error::NotANumber {
                    key: KeyDisplay::new(key),
                    expected,
                })
            }
        };
        let new = current + delta;
        if !range.contains(&new) {
            return Err(Error::Overflow {
                key: KeyDisplay::new(key),
                delta,
            });
        }
        Ok(new)
    }
}
