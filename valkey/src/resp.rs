//! A small RESP2 codec: requests are arrays of bulk strings, replies the five RESP2 types.
//!
//! Written by hand after trying both crates on wasm32-wasip2 (`cargo build --target
//! wasm32-wasip2`): `redis` 1.8.1 builds there without default features but brings `url` with the
//! ICU/IDNA tables, `combine` and about forty crates into a component that needs `EVAL` and
//! `AUTH`. `redis-protocol` 6.0.0 builds only with its default features (`std` + `resp2` alone does
//! not compile: its RESP2 module names RESP3 types), bringing nom, cookie-factory, crc16 and log;
//! and its decoder takes a complete buffer, answering "incomplete" until the whole reply is in
//! memory, so a reader loop of our own would re-parse a 10 000-value `get-many` reply from the
//! start each time more bytes arrive. RESP2 is small: the five types below, with typed errors for
//! bad input and truncation, decoded straight from the socket. Every server since Redis 2 speaks
//! it by default.
//!
//! The decoder never trusts a length: bulk strings are read as they arrive (no allocation sized by
//! the server), lines and nesting are bounded, and every malformed reply is an error, not a panic.

use std::io::{self, BufRead, Read};

/// Longest bulk string accepted: the server's own default `proto-max-bulk-len` (512 MiB).
pub const MAX_BULK_BYTES: usize = 512 * 1024 * 1024;

/// Longest status, error or length line accepted.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Deepest nesting of arrays accepted (the scripts return at most two levels).
pub const MAX_DEPTH: usize = 8;

/// Most elements in one array reply (a `get-many` returns at most 10 000).
pub const MAX_ARRAY_LEN: usize = 1 << 20;

/// One RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`
    Status(String),
    /// `-ERR ...`: the server refused the command.
    Error(String),
    /// `:42`
    Integer(i64),
    /// `$3\r\nabc`, or `$-1` for nil.
    Bulk(Option<Vec<u8>>),
    /// `*2\r\n...`, or `*-1` for nil.
    Array(Option<Vec<Reply>>),
}

/// Why a reply could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The stream failed (or timed out) before the reply was complete.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The stream ended in the middle of a reply.
    #[error("the connection closed in the middle of a reply")]
    Truncated,
    /// The bytes are not RESP2.
    #[error("{0}")]
    Malformed(String),
}

/// Encodes one command as a RESP2 array of bulk strings.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let size: usize = args.iter().map(|a| a.len() + 16).sum::<usize>() + 16;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Reads one complete reply from `input`.
pub fn decode(input: &mut impl BufRead) -> Result<Reply, DecodeError> {
    decode_at(input, 0)
}

fn decode_at(input: &mut impl BufRead, depth: usize) -> Result<Reply, DecodeError> {
    let line = read_line(input)?;
    let (kind, rest) = line
        .split_first()
        .ok_or_else(|| malformed("an empty line"))?;
    let text = || String::from_utf8_lossy(rest).into_owned();
    match kind {
        b'+' => Ok(Reply::Status(text())),
        b'-' => Ok(Reply::Error(text())),
        b':' => Ok(Reply::Integer(parse_int(rest)?)),
        b'$' => {
            let Some(len) = parse_len(rest, MAX_BULK_BYTES)? else {
                return Ok(Reply::Bulk(None));
            };
            let mut data = Vec::new();
            // `take` + `read_to_end` grows the buffer as bytes arrive, never by the header's claim.
            let got = input.by_ref().take(len as u64).read_to_end(&mut data)?;
            if got < len {
                return Err(DecodeError::Truncated);
            }
            let mut crlf = [0; 2];
            read_exact(input, &mut crlf)?;
            if &crlf != b"\r\n" {
                return Err(malformed("a bulk string not followed by CRLF"));
            }
            Ok(Reply::Bulk(Some(data)))
        }
        b'*' => {
            let Some(len) = parse_len(rest, MAX_ARRAY_LEN)? else {
                return Ok(Reply::Array(None));
            };
            if depth >= MAX_DEPTH {
                return Err(malformed("arrays nested too deep"));
            }
            let mut items = Vec::with_capacity(len.min(1024));
            for _ in 0..len {
                items.push(decode_at(input, depth + 1)?);
            }
            Ok(Reply::Array(Some(items)))
        }
        other => Err(malformed(&format!(
            "a reply starting with byte 0x{other:02x}"
        ))),
    }
}

/// One CRLF-terminated line, without the CRLF.
fn read_line(input: &mut impl BufRead) -> Result<Vec<u8>, DecodeError> {
    let mut line = Vec::new();
    let got = input
        .by_ref()
        .take(MAX_LINE_BYTES as u64 + 2)
        .read_until(b'\n', &mut line)?;
    if got == 0 || line.last() != Some(&b'\n') {
        return Err(if got > MAX_LINE_BYTES {
            malformed("a line longer than 64 KiB")
        } else {
            DecodeError::Truncated
        });
    }
    line.pop();
    if line.pop() != Some(b'\r') {
        return Err(malformed("a line ending in LF without CR"));
    }
    Ok(line)
}

fn read_exact(input: &mut impl Read, buf: &mut [u8]) -> Result<(), DecodeError> {
    input.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => DecodeError::Truncated,
        _ => DecodeError::Io(e),
    })
}

fn parse_int(digits: &[u8]) -> Result<i64, DecodeError> {
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| malformed("an integer that is not a 64-bit number"))
}

/// A length header: `-1` is nil, anything else must be from 0 to `max`.
fn parse_len(digits: &[u8], max: usize) -> Result<Option<usize>, DecodeError> {
    match parse_int(digits)? {
        -1 => Ok(None),
        n if n >= 0 && (n as u64) <= max as u64 => Ok(Some(n as usize)),
        n => Err(malformed(&format!("a length of {n}"))),
    }
}

fn malformed(what: &str) -> DecodeError {
    DecodeError::Malformed(format!("malformed reply: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_bytes(bytes: &[u8]) -> Result<Reply, DecodeError> {
        decode(&mut &bytes[..])
    }

    #[test]
    fn encodes_binary_arguments() {
        assert_eq!(
            encode(&[b"SET", b"k", b"a\r\nb"]),
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n"
        );
    }

    #[test]
    fn decodes_every_type() {
        let input = b"*6\r\n+OK\r\n-ERR no\r\n:-42\r\n$4\r\na\r\nb\r\n$-1\r\n*1\r\n*-1\r\n";
        assert_eq!(
            decode_bytes(input).unwrap(),
            Reply::Array(Some(vec![
                Reply::Status("OK".into()),
                Reply::Error("ERR no".into()),
                Reply::Integer(-42),
                Reply::Bulk(Some(b"a\r\nb".to_vec())),
                Reply::Bulk(None),
                Reply::Array(Some(vec![Reply::Array(None)])),
            ]))
        );
    }

    #[test]
    fn decodes_a_large_bulk_read_in_pieces() {
        let value = vec![7u8; 3 * 1024 * 1024];
        let mut input = format!("${}\r\n", value.len()).into_bytes();
        input.extend_from_slice(&value);
        input.extend_from_slice(b"\r\n");
        let mut reader = io::BufReader::with_capacity(4096, &input[..]);
        assert_eq!(decode(&mut reader).unwrap(), Reply::Bulk(Some(value)));
    }

    #[test]
    fn truncation_is_an_error() {
        for input in [
            &b""[..],
            b"+OK",
            b"+OK\r",
            b"$5\r\nab",
            b"$2\r\nab",
            b"*2\r\n:1\r\n",
        ] {
            assert!(
                matches!(decode_bytes(input), Err(DecodeError::Truncated)),
                "{input:?}"
            );
        }
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for input in [
            &b"?\r\n"[..],
            b"\r\n",
            b":12x\r\n",
            b":99999999999999999999\r\n",
            b"$-2\r\n",
            b"$99999999999\r\n",
            b"*-5\r\n",
            b"$2\r\nabcd\r\n",
            b"+OK\n",
            b"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
        ] {
            assert!(
                matches!(decode_bytes(input), Err(DecodeError::Malformed(_))),
                "{input:?}"
            );
        }
        let long = vec![b'+'; MAX_LINE_BYTES + 10];
        assert!(matches!(
            decode_bytes(&long),
            Err(DecodeError::Malformed(_))
        ));
    }
}
