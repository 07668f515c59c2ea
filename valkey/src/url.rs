//! The server URL: `redis://[user:password@]host[:port][/db]` (`valkey://` too).
//!
//! Parsed by hand: the grammar is this small, and the `url` crate would bring IDNA tables into the
//! component for nothing. The password is kept out of every message: [`ServerUrl`]'s `Display`
//! shows it as `***`.

use std::fmt;

use crate::error::{Error, Result};

/// The port of a URL without one (Redis' and Valkey's default).
pub const DEFAULT_PORT: u16 = 6379;

/// A parsed server URL.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerUrl {
    /// The host name or IP address (IPv6 without brackets).
    pub host: String,
    /// The TCP port.
    pub port: u16,
    /// The ACL user, if any (`AUTH user password`).
    pub user: Option<String>,
    /// The password, if any (`AUTH password`, or with the user).
    pub password: Option<String>,
    /// The logical database (`SELECT db`), if not 0.
    pub db: u32,
}

impl ServerUrl {
    /// Parses and validates `url`; the error names it, password hidden.
    pub fn parse(url: &str) -> Result<ServerUrl> {
        parse(url).map_err(|reason| Error::InvalidUrl {
            url: redact(url),
            reason: reason.to_owned(),
        })
    }
}

fn parse(url: &str) -> Result<ServerUrl, &'static str> {
    let rest = url
        .strip_prefix("redis://")
        .or_else(|| url.strip_prefix("valkey://"))
        .ok_or("it must start with redis://")?;
    if rest.contains(['?', '#']) {
        return Err("query strings and fragments are not supported");
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let (user, password) = match userinfo {
        None => (None, None),
        Some(info) => {
            let (user, password) = info
                .split_once(':')
                .ok_or("a user needs a password (user:password@)")?;
            let user = percent_decode(user)?;
            let password = percent_decode(password)?;
            if password.is_empty() {
                return Err("the password after `:` is empty");
            }
            ((!user.is_empty()).then_some(user), Some(password))
        }
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("an IPv6 host lacks its `]`")?;
        match after {
            "" => (host, None),
            _ => (
                host,
                Some(after.strip_prefix(':').ok_or("junk after the IPv6 host")?),
            ),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err("the host is missing");
    }
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'))
    {
        return Err("the host has a character other than letters, digits, `.`, `-`, `_`");
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(text) => match text.parse::<u16>() {
            Ok(port) if port != 0 && text.bytes().all(|b| b.is_ascii_digit()) => port,
            _ => return Err("the port is not a number from 1 to 65535"),
        },
    };
    let db = match path {
        None | Some("") => 0,
        Some(db) if db.bytes().all(|b| b.is_ascii_digit()) => {
            db.parse().map_err(|_| "the database number is too large")?
        }
        Some(_) => return Err("the path must be a database number, like /0"),
    };
    Ok(ServerUrl {
        host: host.to_owned(),
        port,
        user,
        password,
        db,
    })
}

/// Decodes `%XX` escapes (passwords may hold `@`, `:` or `/`).
fn percent_decode(text: &str) -> Result<String, &'static str> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("a `%` in the user or password is not followed by two hex digits")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the user or password is not UTF-8 once decoded")
}

/// `url` as shown in messages: the password replaced by `***`, escaped and shortened.
fn redact(url: &str) -> String {
    let shown = match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let info = &url[scheme + 3..at];
            match info.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    };
    let escaped: String = shown.escape_debug().collect();
    let mut out: String = escaped.chars().take(200).collect();
    if out.len() < escaped.len() {
        out.push('…');
    }
    out
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("redis://")?;
        match (&self.user, &self.password) {
            (Some(user), _) => write!(f, "{user}:***@")?,
            (None, Some(_)) => f.write_str(":***@")?,
            _ => {}
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)?;
        } else {
            write!(f, "{}:{}", self.host, self.port)?;
        }
        if self.db != 0 {
            write!(f, "/{}", self.db)?;
        }
        Ok(())
    }
}

impl fmt::Debug for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_part() {
        let url = ServerUrl::parse("redis://ann:p%40ss@db.example:6380/3").unwrap();
        assert_eq!(url.host, "db.example");
        assert_eq!(url.port, 6380);
        assert_eq!(url.user.as_deref(), Some("ann"));
        assert_eq!(url.password.as_deref(), Some("p@ss"));
        assert_eq!(url.db, 3);
        assert_eq!(url.to_string(), "redis://ann:***@db.example:6380/3");
        let url = ServerUrl::parse("redis://:secret@127.0.0.1:7000").unwrap();
        assert_eq!((url.user, url.password.as_deref()), (None, Some("secret")));
        let url = ServerUrl::parse("valkey://[::1]/").unwrap();
        assert_eq!((url.host.as_str(), url.port, url.db), ("::1", 6379, 0));
    }

    #[test]
    fn rejects_malformed_urls_naming_them_without_the_password() {
        for bad in [
            "http://localhost:6379",
            "redis://",
            "redis://host:port",
            "redis://host:0",
            "redis://host:70000",
            "redis://host:6379/x",
            "redis://host:6379/99999999999",
            "redis://user@host",
            "redis://u:p%zz@host",
            "redis://u:p%+1@host",
            "redis://host:6379?x=1",
            "redis://ho st:1",
            "redis://[::1",
        ] {
            let err = ServerUrl::parse(bad).unwrap_err().to_string();
            assert!(err.starts_with("invalid server url `"), "{bad}: {err}");
        }
        let err = ServerUrl::parse("redis://u:hunter2@host:x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("redis://u:***@host:x"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}
