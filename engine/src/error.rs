//! The one error type of the engine: every failure a caller or the disk can cause.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::limits::{MAX_BATCH_KEYS, MAX_KEY_BYTES, MAX_VALUE_BYTES};

/// An engine operation failed; the message names the path or key and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store's root directory is missing.
    #[error("store directory `{}` does not exist", path.display())]
    RootMissing {
        /// The root that was looked for.
        path: PathBuf,
    },
    /// The store's root exists but cannot be written (and was never initialised).
    #[error("store directory `{}` is read-only or not writable: {source}", path.display())]
    ReadOnly {
        /// The directory that could not be written.
        path: PathBuf,
        /// What the filesystem said.
        source: io::Error,
    },
    /// The root holds something that is not a store of this format version.
    #[error("`{}` is not a virt-store store of format 1 or 2 (its marker reads `{found}`); point the store at an empty or virt-store directory, or use the virt-store release that wrote it", path.display())]
    UnknownFormat {
        /// The marker file.
        path: PathBuf,
        /// What it contains (first line, trimmed).
        found: String,
    },
    /// A bucket identifier outside the allowlist.
    #[error("invalid bucket identifier `{id}`: {reason}; use \"\" for the default bucket, or 1 to 63 characters of a-z, 0-9, `_` and `-` starting with a letter or digit")]
    InvalidBucket {
        /// The identifier as given (escaped).
        id: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A key longer than [`MAX_KEY_BYTES`].
    #[error("key {key} of {len} bytes is longer than the limit of {MAX_KEY_BYTES} bytes")]
    KeyTooLong {
        /// The key, shortened.
        key: KeyDisplay,
        /// The key's length in bytes.
        len: usize,
    },
    /// A value larger than [`MAX_VALUE_BYTES`].
    #[error(
        "value of {len} bytes for key {key} is larger than the limit of {MAX_VALUE_BYTES} bytes"
    )]
    ValueTooLarge {
        /// The key (shortened for display).
        key: KeyDisplay,
        /// The value's length in bytes.
        len: usize,
    },
    /// A batch of more than [`MAX_BATCH_KEYS`] keys.
    #[error("batch of {len} keys is larger than the limit of {MAX_BATCH_KEYS} keys; split it into smaller batches")]
    BatchTooLarge {
        /// The number of keys in the batch.
        len: usize,
    },
    /// `increment` on a value that is not a base-10 integer of the counter's range.
    #[error("cannot increment key {key}: its value is not {expected} in base-10 text that fits in 64 bits (it is left unchanged)")]
    NotANumber {
        /// The key (shortened for display).
        key: KeyDisplay,
        /// What the counter must hold ("an integer", "a non-negative integer").
        expected: &'static str,
    },
    /// `increment` would leave the counter's 64-bit range.
    #[error("cannot increment key {key} by {delta}: the result does not fit the 64-bit counter (the value is left unchanged)")]
    Overflow {
        /// The key (shortened for display).
        key: KeyDisplay,
        /// The delta that overflowed.
        delta: i128,
    },
    /// A `list-keys` cursor that this engine did not produce.
    #[error("invalid list-keys cursor `{cursor}`: pass back a cursor returned by list-keys, or none to start over")]
    InvalidCursor {
        /// The cursor as given (shortened).
        cursor: String,
    },
    /// A file of the store does not decode.
    #[error("corrupt store file `{}`: {reason}; run `virt-store fsck` on the store directory", path.display())]
    Corrupt {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Two keys hash to the same name (SHA-256 collision): never seen, but checked.
    #[error("keys {key} and {stored} have the same SHA-256 hash; the store cannot hold both")]
    Collision {
        /// The key asked for.
        key: KeyDisplay,
        /// The key stored under the same hash.
        stored: KeyDisplay,
    },
    /// Other writers kept winning the race for one key.
    #[error("gave up on key {key} after {attempts} attempts lost to concurrent writers; retry the operation")]
    Contention {
        /// The key (shortened for display).
        key: KeyDisplay,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The system gave no randomness for a new file name.
    #[error(
        "the system's random number source failed ({reason}); the write was not made, retry it"
    )]
    Random {
        /// What the source said.
        reason: String,
    },
    /// An I/O error from the filesystem.
    #[error("cannot {op} `{}`: {source}", path.display())]
    Io {
        /// What the engine was doing ("read", "create", "rename", ...).
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// What the filesystem said.
        source: io::Error,
    },
}

/// A key as shown in messages: quoted, escaped, and shortened to 64 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDisplay(String);

impl KeyDisplay {
    pub(crate) fn new(key: &str) -> Self {
        let escaped: String = key.escape_debug().collect();
        let mut shown: String = escaped.chars().take(64).collect();
        if shown.len() < escaped.len() {
            shown.push('…');
        }
        KeyDisplay(shown)
    }
}

impl fmt::Display for KeyDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0)
    }
}

/// Shorthand for engine results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attaches the operation and path to an `io::Error`.
pub(crate) fn io_err(
    op: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { op, path, source }
}
