//! The one error type of the Valkey backend: every failure a caller, the network or the server
//! can cause. Messages name the server (password hidden) or the key, and say what to do.

use std::fmt;
use std::io;
use std::time::Duration;

use virt_store_engine::limits::{MAX_BATCH_KEYS, MAX_KEY_BYTES, MAX_VALUE_BYTES};

/// A Valkey backend operation failed; the message names the server or key and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server URL does not parse.
    #[error(
        "invalid server url `{url}`: {reason}; expected redis://[user:password@]host:port[/db]"
    )]
    InvalidUrl {
        /// The URL as given (password hidden, shortened).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A bucket identifier outside the engine's allowlist.
    #[error(transparent)]
    InvalidBucket(virt_store_engine::Error),
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
    /// A `list-keys` cursor that this backend did not produce.
    #[error("invalid list-keys cursor `{cursor}`: pass back a cursor returned by list-keys, or none to start over")]
    InvalidCursor {
        /// The cursor as given (shortened).
        cursor: String,
    },
    /// Other writers kept winning the race for one key.
    #[error("gave up on key {key} after {attempts} attempts lost to concurrent writers; retry the operation")]
    Contention {
        /// The key (shortened for display).
        key: KeyDisplay,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The runtime refused the connection: a component without network access.
    #[error("not allowed to connect to {url}: {source}; grant the component network access (e.g. `wasmtime run -S inherit-network`)")]
    NetworkDenied {
        /// The server (password hidden).
        url: String,
        /// What the system said.
        source: io::Error,
    },
    /// The server could not be reached.
    #[error("cannot connect to {url}: {source}; check that the server is running and the host and port are right")]
    Connect {
        /// The server (password hidden).
        url: String,
        /// What the system said.
        source: io::Error,
    },
    /// The server did not answer in time; nothing was being written.
    #[error("no reply from {url} within {}s while {op}; check that the server is up and not overloaded", after.as_secs_f64())]
    Timeout {
        /// The server (password hidden).
        url: String,
        /// What the backend was doing.
        op: &'static str,
        /// The timeout that expired.
        after: Duration,
    },
    /// The connection failed while reading; nothing was being written.
    #[error("connection to {url} failed while {op}: {source}; the next call reconnects")]
    Io {
        /// The server (password hidden).
        url: String,
        /// What the backend was doing.
        op: &'static str,
        /// What the system said.
        source: io::Error,
    },
    /// A write was sent but its reply was lost: it may or may not have taken effect.
    #[error("the outcome of {op} on {url} is unknown: {cause} after the request was sent, so the write may or may not have happened; read the key before retrying")]
    OutcomeUnknown {
        /// The server (password hidden).
        url: String,
        /// The write ("set", "swap", ...).
        op: &'static str,
        /// What went wrong (a timeout, a closed connection).
        cause: String,
    },
    /// `AUTH` or `SELECT` was refused.
    #[error(
        "{url} refused {what}: {message}; check the user, password and database number in the url"
    )]
    Login {
        /// The server (password hidden).
        url: String,
        /// `AUTH` or `SELECT`.
        what: &'static str,
        /// The server's error.
        message: String,
    },
    /// The server answered with an error (out of memory, a cluster redirect, ...).
    #[error("{url} refused {op}: {message}")]
    Server {
        /// The server (password hidden).
        url: String,
        /// What the backend asked for.
        op: &'static str,
        /// The server's error line.
        message: String,
    },
    /// The server's reply does not decode, or is not what the script returns.
    #[error("unexpected reply from {url} to {op}: {reason}; is it a Valkey or Redis server, and is the store's data intact?")]
    Protocol {
        /// The server (password hidden).
        url: String,
        /// What the backend asked for.
        op: &'static str,
        /// What is wrong with the reply.
        reason: String,
    },
}

/// A key as shown in messages: quoted, escaped, and shortened to 64 characters (as the engine's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDisplay(String);

impl KeyDisplay {
    /// Shortens and escapes `key` for a message.
    pub fn new(key: &str) -> Self {
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

/// Shorthand for Valkey backend results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
