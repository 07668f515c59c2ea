//! The store: a server URL, one connection shared by its buckets, and the bucket namespaces.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::bucket::Bucket;
use crate::conn::{Conn, Failure};
use crate::error::{Error, Result};
use crate::resp::Reply;
use crate::url::ServerUrl;

/// Every key the store writes starts with this.
pub const KEY_PREFIX: &str = "vs:";

/// The hash tag of the default bucket `""`: it starts with `_`, which no bucket identifier may,
/// and a tag cannot be empty (`{}` would hash the whole key, scattering the bucket over slots).
pub const DEFAULT_BUCKET_TAG: &str = "_default";

/// How a store connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// How long one connect, read or write may wait before the operation fails.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(5),
        }
    }
}

/// A store on a Valkey or Redis server. Cheap to clone; clones share one connection.
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    url: ServerUrl,
    options: Options,
    /// `None` after a failure: the next call reconnects.
    conn: Mutex<Option<Conn>>,
}

/// Whether a command writes: a write whose reply is lost has an unknown outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Read,
    Write,
}

impl Store {
    /// Parses `url` and connects (logging in and selecting the database if it says so).
    pub fn open(url: &str, options: Options) -> Result<Store> {
        let url = ServerUrl::parse(url)?;
        let conn = Conn::open(&url, options.timeout)?;
        Ok(Store {
            shared: Arc::new(Shared {
                url,
                options,
                conn: Mutex::new(Some(conn)),
            }),
        })
    }

    /// The server, password hidden.
    pub fn url(&self) -> String {
        self.shared.url.to_string()
    }

    /// The bucket `id`: `""` for the default one, else an identifier the engine would accept.
    pub fn bucket(&self, id: &str) -> Result<Bucket> {
        virt_store_engine::validate_bucket_id(id)?;
        let tag = if id.is_empty() {
            DEFAULT_BUCKET_TAG
        } else {
            id
        };
        Ok(Bucket::new(
            self.shared.clone(),
            format!("{KEY_PREFIX}{{{tag}}}:"),
        ))
    }
}

impl Store {
    /// The identifiers of the buckets that were ever written, sorted (`""` for the default one).
    /// Found with `SCAN` (which may return a key twice: duplicates are dropped); for the host
    /// tools, not for apps.
    pub fn buckets(&self) -> Result<Vec<String>> {
        let pattern = format!("{KEY_PREFIX}{{*}}:seq");
        let mut cursor = b"0".to_vec();
        let mut found = std::collections::BTreeSet::new();
        loop {
            let reply = self.shared.call(
                "scan",
                Kind::Read,
                &[
                    b"SCAN",
                    &cursor,
                    b"MATCH",
                    pattern.as_bytes(),
                    b"COUNT",
                    b"1000",
                ],
            )?;
            let bad = |reply: &Reply| self.shared.unexpected("scan", reply);
            let Reply::Array(Some(parts)) = &reply else {
                return Err(bad(&reply));
            };
            let [Reply::Bulk(Some(next)), Reply::Array(Some(names))] = &parts[..] else {
                return Err(bad(&reply));
            };
            for name in names {
                let Reply::Bulk(Some(name)) = name else {
                    return Err(bad(name));
                };
                let tag = name
                    .strip_prefix(format!("{KEY_PREFIX}{{").as_bytes())
                    .and_then(|rest| rest.strip_suffix(b"}:seq"))
                    .and_then(|tag| std::str::from_utf8(tag).ok());
                match tag {
                    Some(DEFAULT_BUCKET_TAG) => {
                        found.insert(String::new());
                    }
                    // Only identifiers the engine accepts are buckets; anything else is not ours.
                    Some(id)
                        if !id.is_empty() && virt_store_engine::validate_bucket_id(id).is_ok() =>
                    {
                        found.insert(id.to_owned());
                    }
                    _ => {}
                }
            }
            if next.as_slice() == b"0" {
                return Ok(found.into_iter().collect());
            }
            cursor = next.clone();
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.shared.url)
    }
}

impl Shared {
    /// Runs `script` with `keys` and `args`, reconnecting first if the last call failed.
    pub(crate) fn eval(
        &self,
        op: &'static str,
        kind: Kind,
        script: &str,
        keys: &[&[u8]],
        args: &[&[u8]],
    ) -> Result<Reply> {
        let numkeys = keys.len().to_string();
        let mut request: Vec<&[u8]> = Vec::with_capacity(3 + keys.len() + args.len());
        request.extend([&b"EVAL"[..], script.as_bytes(), numkeys.as_bytes()]);
        request.extend_from_slice(keys);
        request.extend_from_slice(args);
        self.call(op, kind, &request)
    }

    /// Sends one command, reconnecting first if the last call failed.
    pub(crate) fn call(&self, op: &'static str, kind: Kind, request: &[&[u8]]) -> Result<Reply> {
        // A poisoned lock only means another thread panicked mid-call; its connection is dropped.
        let mut guard = self.conn.lock().unwrap_or_else(|poisoned| {
            let mut guard = poisoned.into_inner();
            *guard = None;
            guard
        });
        let conn = match &mut *guard {
            Some(conn) => conn,
            None => guard.insert(Conn::open(&self.url, self.options.timeout)?),
        };
        let result = conn.exchange(&self.url, self.options.timeout, op, request);
        match result {
            Ok(Reply::Error(message)) => Err(Error::Server {
                url: self.url.to_string(),
                op,
                message,
            }),
            Ok(reply) => Ok(reply),
            Err(failure) => {
                // Whatever is left on the wire belongs to the failed exchange.
                *guard = None;
                Err(match (failure, kind) {
                    (Failure::Lost { cause, .. }, Kind::Write) => Error::OutcomeUnknown {
                        url: self.url.to_string(),
                        op,
                        cause,
                    },
                    (Failure::Lost { error, .. } | Failure::Error(error), _) => error,
                })
            }
        }
    }

    /// A reply that is not what the script returns.
    pub(crate) fn unexpected(&self, op: &'static str, reply: &Reply) -> Error {
        let shown: String = format!("{reply:?}").chars().take(200).collect();
        Error::Protocol {
            url: self.url.to_string(),
            op,
            reason: format!("the script returned {shown}"),
        }
    }
}
