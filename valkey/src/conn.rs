//! One TCP connection to the server: connect, log in, send a command, read its reply.
//!
//! Plain `std::net::TcpStream`, which wasi-libc maps onto wasi:sockets on wasm32-wasip2. Every
//! read and write waits at most the store's timeout. On wasm32-wasip2 an expired read returns
//! `WouldBlock` rather than `TimedOut`; both are a timeout here.

use std::io::{self, BufReader, ErrorKind, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::resp::{self, DecodeError, Reply};
use crate::url::ServerUrl;

/// An open, logged-in connection.
pub(crate) struct Conn {
    stream: BufReader<TcpStream>,
}

/// How a failed exchange ended, before the caller decides whether its outcome is unknown.
pub(crate) enum Failure {
    /// The whole exchange failed with this error (nothing is in doubt, or it is already said).
    Error(Error),
    /// The connection broke or timed out once the request was (perhaps partly) sent.
    Lost {
        /// What happened, for a message.
        cause: String,
        /// The error to report if the request did not write anything.
        error: Error,
    },
}

impl Conn {
    /// Connects to `url`, then sends `AUTH` and `SELECT` if the URL asks for them.
    pub(crate) fn open(url: &ServerUrl, timeout: Duration) -> Result<Conn> {
        let connect_err = |source: io::Error| {
            if source.kind() == ErrorKind::PermissionDenied {
                Error::NetworkDenied {
                    url: url.to_string(),
                    source,
                }
            } else {
                Error::Connect {
                    url: url.to_string(),
                    source,
                }
            }
        };
        let addrs: Vec<SocketAddr> = (url.host.as_str(), url.port)
            .to_socket_addrs()
            .map_err(connect_err)?
            .collect();
        let mut last = io::Error::new(ErrorKind::NotFound, "the host name resolves to no address");
        let mut stream = None;
        for addr in addrs {
            match connect(&addr, timeout) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = e,
            }
        }
        let stream = stream.ok_or_else(|| connect_err(last))?;
        let setup = |e| connect_err(e);
        stream.set_read_timeout(Some(timeout)).map_err(setup)?;
        stream.set_write_timeout(Some(timeout)).map_err(setup)?;
        // Requests are written whole; Nagle would only delay them.
        let _ = stream.set_nodelay(true);
        let mut conn = Conn {
            stream: BufReader::with_capacity(64 * 1024, stream),
        };
        if let Some(password) = &url.password {
            let mut args: Vec<&[u8]> = vec![b"AUTH"];
            if let Some(user) = &url.user {
                args.push(user.as_bytes());
            }
            args.push(password.as_bytes());
            conn.login(url, timeout, "AUTH", &args)?;
        }
        if url.db != 0 {
            let db = url.db.to_string();
            conn.login(url, timeout, "SELECT", &[b"SELECT", db.as_bytes()])?;
        }
        Ok(conn)
    }

    fn login(
        &mut self,
        url: &ServerUrl,
        timeout: Duration,
        what: &'static str,
        args: &[&[u8]],
    ) -> Result<()> {
        let op = if what == "AUTH" {
            "logging in"
        } else {
            "selecting the database"
        };
        match self.exchange(url, timeout, op, args) {
            Ok(Reply::Status(_)) => Ok(()),
            Ok(Reply::Error(message)) => Err(Error::Login {
                url: url.to_string(),
                what,
                message,
            }),
            Ok(other) => Err(Error::Protocol {
                url: url.to_string(),
                op,
                reason: format!("expected a status, got {other:?}"),
            }),
            Err(Failure::Error(e) | Failure::Lost { error: e, .. }) => Err(e),
        }
    }

    /// Sends one command and reads its reply. Any failure leaves the connection unusable: the
    /// caller drops it.
    pub(crate) fn exchange(
        &mut self,
        url: &ServerUrl,
        timeout: Duration,
        op: &'static str,
        args: &[&[u8]],
    ) -> std::result::Result<Reply, Failure> {
        let request = resp::encode(args);
        let lost = |source: io::Error| {
            let timed_out = matches!(source.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock);
            let cause = if timed_out {
                format!("no reply within {}s", timeout.as_secs_f64())
            } else {
                format!("the connection failed ({source})")
            };
            let error = if timed_out {
                Error::Timeout {
                    url: url.to_string(),
                    op,
                    after: timeout,
                }
            } else {
                Error::Io {
                    url: url.to_string(),
                    op,
                    source,
                }
            };
            Failure::Lost { cause, error }
        };
        // `write_all` loops over short writes (a component's stream takes 4096 bytes at a time).
        self.stream.get_mut().write_all(&request).map_err(lost)?;
        self.stream.get_mut().flush().map_err(lost)?;
        match resp::decode(&mut self.stream) {
            Ok(reply) => Ok(reply),
            Err(DecodeError::Io(e)) => Err(lost(e)),
            Err(DecodeError::Truncated) => Err(lost(io::Error::new(
                ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ))),
            Err(DecodeError::Malformed(reason)) => Err(Failure::Error(Error::Protocol {
                url: url.to_string(),
                op,
                reason,
            })),
        }
    }
}

/// A connect that waits at most `timeout`. On wasm32-wasip2 `connect_timeout` returned `Ok` even
/// for a closed port (Rust 1.95, wasmtime 49): the failure shows only once the socket is used. So
/// the peer's address is asked for, which a socket whose connect failed does not have.
fn connect(addr: &SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(addr, timeout)?;
    if cfg!(target_os = "wasi") {
        stream.peer_addr().map_err(|_| {
            // The real cause (refused, unreachable) is not kept by the socket: a plain connect
            // asks again and reports it, at once for a refusal.
            TcpStream::connect(addr).err().unwrap_or_else(|| {
                io::Error::new(ErrorKind::ConnectionRefused, "the connection was refused")
            })
        })?;
    }
    Ok(stream)
}
