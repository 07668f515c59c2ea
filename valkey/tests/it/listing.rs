//! list-keys: bounded pages, opaque cursors, every stable key exactly once while others write.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use virt_store_engine::limits::{MAX_KEY_BYTES, MAX_PAGE_BYTES, MAX_PAGE_KEYS};
use virt_store_engine::Error as EngineError;
use virt_store_valkey::{Bucket, Error};

use crate::ops::open;
use virt_store_test_servers::{Kind, Server};

/// Lists the whole bucket, checking each page's bounds.
fn list_all(b: &Bucket) -> (Vec<String>, usize) {
    let mut keys = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = b.list_keys(cursor.as_deref()).unwrap();
        pages += 1;
        assert!(page.keys.len() <= MAX_PAGE_KEYS);
        let bytes: usize = page.keys.iter().map(String::len).sum();
        assert!(bytes <= MAX_PAGE_BYTES + MAX_KEY_BYTES, "{bytes} bytes");
        keys.extend(page.keys);
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => return (keys, pages),
        }
    }
}

/// The order both backends list in: by the SHA-256 of the key, then by the key.
pub fn sort_by_hash(keys: &mut [String]) {
    use sha2::Digest;
    keys.sort_by_cached_key(|key| (sha2::Sha256::digest(key.as_bytes()), key.clone()));
}

pub fn pages(kind: Kind) {
    let server = Server::start(kind);
    let b = open(&server).bucket("list").unwrap();
    assert_eq!(b.list_keys(None).unwrap().keys, Vec::<String>::new());
    assert_eq!(b.list_keys(None).unwrap().cursor, None);

    let mut expected: Vec<String> = (0..2500).map(|i| format!("key/{i:05}")).collect();
    expected.extend(["", "κ", "z\u{0}", "{list}"].map(String::from));
    let entries: Vec<(String, Vec<u8>)> = expected.iter().map(|k| (k.clone(), vec![1])).collect();
    b.set_many(&entries).unwrap();
    b.delete_many(&["key/00007".into()]).unwrap();
    expected.retain(|k| k != "key/00007");
    sort_by_hash(&mut expected);
    let (keys, pages) = list_all(&b);
    assert_eq!(keys, expected, "the engine's order (by SHA-256), each once");
    assert_eq!(pages, 3);
    // `0.2.0-draft`'s u64 cursor: the same keys, pages and order.
    let (mut numeric, mut cursor, mut numeric_pages) = (Vec::new(), None, 0);
    loop {
        let (page, next) = b.list_keys_numeric(cursor).unwrap();
        numeric.extend(page);
        numeric_pages += 1;
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(numeric, expected);
    assert_eq!(numeric_pages, 3);
    assert_eq!(b.list_keys_numeric(Some(u64::MAX)).unwrap(), (vec![], None));
    // Another bucket's keys stay out.
    open(&server)
        .bucket("")
        .unwrap()
        .set("key/1", b"x")
        .unwrap();
    assert_eq!(list_all(&b).0.len(), expected.len());

    // Long keys end a page by bytes: 300 keys of 8 KiB are 2.4 MiB.
    let big = open(&server).bucket("big").unwrap();
    let long: Vec<(String, Vec<u8>)> = (0..300)
        .map(|i| (format!("{i:04}{}", "x".repeat(MAX_KEY_BYTES - 4)), vec![]))
        .collect();
    big.set_many(&long).unwrap();
    let first = big.list_keys(None).unwrap();
    assert!(first.keys.len() < 300 && first.cursor.is_some());
    let (keys, pages) = list_all(&big);
    assert_eq!(keys.len(), 300);
    assert!(pages >= 3, "{pages} pages");

    for bad in ["nope", "v1.zz", "v1.abc", "v9.00"] {
        let err = b.list_keys(Some(bad)).unwrap_err();
        assert!(
            matches!(err, Error::Rejected(EngineError::InvalidCursor { .. })),
            "{err}"
        );
        assert!(err.to_string().contains(bad), "{err}");
    }
}

/// Stable keys are listed exactly once while another thread writes and deletes keys between
/// them, and while the listing's own last key is deleted under its cursor.
pub fn exactly_once_under_writes(kind: Kind) {
    let server = Server::start(kind);
    let store = open(&server);
    let b = store.bucket("").unwrap();
    let stable: Vec<String> = (0..3000).map(|i| format!("s{i:05}")).collect();
    let entries: Vec<(String, Vec<u8>)> = stable.iter().map(|k| (k.clone(), vec![])).collect();
    b.set_many(&entries).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        // Its own connection, so its writes interleave with the listing's pages.
        let w = open(&server).bucket("").unwrap();
        std::thread::spawn(move || {
            let mut round = 0u64;
            while !stop.load(Ordering::Relaxed) {
                for i in (0..3000).step_by(97) {
                    let key = format!("s{i:05}-churn{}", round % 3);
                    w.set(&key, b"x").unwrap();
                    w.delete(&format!("s{i:05}-churn{}", (round + 1) % 3))
                        .unwrap();
                }
                round += 1;
            }
            round
        })
    };
    for _ in 0..5 {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = b.list_keys(cursor.as_deref()).unwrap();
            // Deleting the page's last key does not invalidate the cursor.
            if let Some(last) = page.keys.last().filter(|k| k.contains("churn")) {
                b.delete(last).unwrap();
            }
            for key in page.keys {
                *seen.entry(key).or_default() += 1;
            }
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        for key in &stable {
            assert_eq!(seen.get(key), Some(&1), "{key}");
        }
        assert!(seen.values().all(|&n| n == 1), "a key was listed twice");
    }
    stop.store(true, Ordering::Relaxed);
    let rounds = writer.join().unwrap();
    assert!(rounds > 0);
}
