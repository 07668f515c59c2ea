//! Failures that need no real server: bad URLs, closed ports, and servers that go silent or
//! hang up mid-reply. Each is an error naming the server, in bounded time.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use virt_store_valkey::{Error, Options, Store};

use virt_store_test_servers::free_port;

const SHORT: Options = Options {
    timeout: Duration::from_millis(500),
};

#[test]
fn malformed_url_is_a_typed_error_naming_it() {
    for url in [
        "localhost:6379",
        "redis://h:99999",
        "redis://h:1/x",
        "redis://u@h",
    ] {
        let err = Store::open(url, Options::default()).unwrap_err();
        assert!(matches!(err, Error::InvalidUrl { .. }), "{url}: {err}");
        assert!(err.to_string().contains(url), "{err}");
    }
}

#[test]
fn unreachable_port_is_an_error_not_a_hang() {
    let port = free_port();
    let started = Instant::now();
    let err = Store::open(&format!("redis://127.0.0.1:{port}"), SHORT).unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// A listener that accepts and reads but never answers: reads time out after the store's
/// timeout, and a write's outcome is reported unknown, not retried.
#[test]
fn silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = std::thread::spawn(move || {
        let mut held = Vec::new();
        // Accept both connections (the second after the first call dropped its own), read,
        // never write.
        for _ in 0..3 {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
            let mut buf = [0; 4096];
            let _ = stream.read(&mut buf);
            held.push(stream);
        }
        std::thread::sleep(Duration::from_secs(3));
    });
    let store = Store::open(&format!("redis://127.0.0.1:{port}"), SHORT).unwrap();
    let bucket = store.bucket("").unwrap();

    let started = Instant::now();
    let err = bucket.get("k").unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("within 0.5s"), "{err}");
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_secs(2),
        "{took:?}"
    );

    let started = Instant::now();
    let err = bucket.increment("n", 1).unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "a read first: {err}");
    assert!(started.elapsed() < Duration::from_secs(2));

    let err = bucket.set("k", b"v").unwrap_err();
    assert!(
        matches!(err, Error::OutcomeUnknown { op: "set", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("may or may not"), "{err}");
    holder.join().unwrap();
}

/// A server that hangs up halfway through a reply.
#[test]
fn truncated_reply_is_an_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        for reply in [&b"$10\r\nabc"[..], b"*2\r\n:0\r\n", b"%7\r\n"] {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(reply);
        }
    });
    let bucket = Store::open(&format!("redis://127.0.0.1:{port}"), SHORT)
        .unwrap()
        .bucket("")
        .unwrap();
    let err = bucket.get("k").unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    let err = bucket.delete("k").unwrap_err();
    assert!(matches!(err, Error::OutcomeUnknown { .. }), "{err}");
    let err = bucket.exists("k").unwrap_err();
    assert!(matches!(err, Error::Protocol { .. }), "{err}");
    server.join().unwrap();
}
