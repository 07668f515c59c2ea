//! The one error type of the Valkey backend: every failure a caller, the network or the server
//! can cause. Messages name the server (password hidden) or the key, and say what to do.

use std::io;
use std::time::Duration;

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
    /// Input the engine would refuse too, with the engine's own error and message: a bucket
    /// identifier outside the allowlist, a key, value or batch over the limits, a counter that is
    /// not a number or would overflow, a cursor this backend did not make, or a write that lost
    /// the race for its key too many times.
    #[error(transparent)]
    Rejected(#[from] virt_store_engine::Error),
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

/// Shorthand for Valkey backend results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
