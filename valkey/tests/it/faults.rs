//! Concurrency and crashes: exact counts from racing incrementers, and every acknowledged write
//! still there after the server is SIGKILLed and restarted on the same data directory.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use virt_store_valkey::{Error, Options, Store};

use crate::ops::open;
use virt_store_test_servers::{Kind, Server};

pub fn concurrent_increments(kind: Kind) {
    let server = Server::start(kind);
    let (threads, each) = (4, 150);
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            // Each thread its own connection, so the scripts truly race on the server; one
            // shared store as well, whose calls take turns on its connection.
            let own = open(&server).bucket("").unwrap();
            std::thread::spawn(move || {
                for _ in 0..each {
                    own.increment("signed", if t % 2 == 0 { 3 } else { -1 })
                        .unwrap();
                    own.increment_unsigned("unsigned", 1).unwrap();
                }
            })
        })
        .collect();
    let shared = open(&server).bucket("").unwrap();
    let also: Vec<_> = (0..2)
        .map(|_| {
            let b = shared.clone();
            std::thread::spawn(move || {
                for _ in 0..each {
                    b.increment_unsigned("unsigned", 1).unwrap();
                }
            })
        })
        .collect();
    for w in workers.into_iter().chain(also) {
        w.join().unwrap();
    }
    let b = open(&server).bucket("").unwrap();
    assert_eq!(b.increment("signed", 0).unwrap(), (2 * 3 - 2) * each);
    assert_eq!(
        b.increment_unsigned("unsigned", 0).unwrap(),
        (threads as u64 + 2) * each as u64
    );
}

/// A writer sets keys and bumps a counter until the server dies under it; after a restart on the
/// same directory every acknowledged write is there, and the one in flight (if any) is either.
pub fn kill_and_restart(kind: Kind) {
    let mut server = Server::start(kind);
    let url = server.url();
    let acked = Arc::new(AtomicU64::new(0));
    let counter_acked = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let failure: Arc<Mutex<Option<String>>> = Arc::default();
    let writer = {
        let (acked, counter_acked, stop, failure) = (
            acked.clone(),
            counter_acked.clone(),
            stop.clone(),
            failure.clone(),
        );
        let options = Options {
            timeout: Duration::from_secs(2),
        };
        let b = Store::open(&url, options).unwrap().bucket("").unwrap();
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let result = b
                    .set(&format!("k{i}"), &i.to_le_bytes())
                    .and_then(|()| b.increment_unsigned("count", 1));
                match result {
                    Ok(count) => {
                        acked.store(i + 1, Ordering::SeqCst);
                        counter_acked.store(count, Ordering::SeqCst);
                        i += 1;
                    }
                    Err(e) => {
                        *failure.lock().unwrap() = Some(e.to_string());
                        return;
                    }
                }
            }
        })
    };
    while acked.load(Ordering::SeqCst) < 300 {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill();
    // The writer's next call fails: a write cut off (outcome unknown), a read cut off (the
    // read-versioned of an increment), or a refused reconnect. It never retries a write.
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let failure = failure.lock().unwrap().clone();
    let message = failure.expect("the writer saw the server die");
    assert!(
        message.contains("is unknown")
            || message.contains("failed while read-versioned")
            || message.contains("cannot connect"),
        "{message}"
    );

    server.restart();
    let b = open(&server).bucket("").unwrap();
    let acked = acked.load(Ordering::SeqCst);
    let keys: Vec<String> = (0..acked).map(|i| format!("k{i}")).collect();
    for (i, value) in b.get_many(&keys).unwrap().into_iter().enumerate() {
        assert_eq!(value, Some((i as u64).to_le_bytes().to_vec()), "k{i} lost");
    }
    let count = b.increment_unsigned("count", 0).unwrap();
    let counted = counter_acked.load(Ordering::SeqCst);
    assert!(
        count == counted || count == counted + 1,
        "counter {count}, acknowledged {counted}"
    );
    // The store works as before: versions continue, never repeating one from before the crash.
    let v = b.version("k0").unwrap();
    assert!(v.0 > 0);
    b.set("k0", b"again").unwrap();
    assert!(b.version("k0").unwrap().0 > 2 * acked);
}

/// `AUTH` with a password or a user, `SELECT` of a database, and refusals as clean errors.
pub fn login(kind: Kind) {
    let server = Server::start_with(kind, &["--requirepass", "s3cret"]);
    let port = server.port;
    let err = Store::open(&server.url(), Options::default())
        .unwrap()
        .bucket("")
        .unwrap()
        .get("k")
        .unwrap_err();
    assert!(matches!(err, Error::Server { .. }), "{err}");
    let err = Store::open(
        &format!("redis://:wrong@127.0.0.1:{port}"),
        Options::default(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Login { what: "AUTH", .. }), "{err}");
    assert!(!err.to_string().contains("wrong"), "{err}");

    let db0 = Store::open(
        &format!("redis://:s3cret@127.0.0.1:{port}"),
        Options::default(),
    )
    .unwrap();
    db0.bucket("").unwrap().set("k", b"db0").unwrap();
    let db3 = Store::open(
        &format!("redis://:s3cret@127.0.0.1:{port}/3"),
        Options::default(),
    )
    .unwrap();
    assert_eq!(db3.bucket("").unwrap().get("k").unwrap(), None);
    db3.bucket("").unwrap().set("k", b"db3").unwrap();
    assert_eq!(
        db0.bucket("").unwrap().get("k").unwrap().as_deref(),
        Some(&b"db0"[..])
    );
    let err = Store::open(
        &format!("redis://:s3cret@127.0.0.1:{port}/99"),
        Options::default(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Login { what: "SELECT", .. }), "{err}");

    // An ACL user with its own password.
    server.cli(&[
        "-a",
        "s3cret",
        "--no-auth-warning",
        "ACL",
        "SETUSER",
        "ann",
        "on",
        ">p@ss:word",
        "~*",
        "+@all",
    ]);
    let ann = Store::open(
        &format!("redis://ann:p%40ss%3Aword@127.0.0.1:{port}/3"),
        Options::default(),
    )
    .unwrap();
    assert_eq!(
        ann.bucket("").unwrap().get("k").unwrap().as_deref(),
        Some(&b"db3"[..])
    );
}
