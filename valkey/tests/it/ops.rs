//! Every operation's semantics, run against a real server of each kind.

use std::collections::HashSet;

use virt_store_engine::limits::{MAX_BATCH_KEYS, MAX_KEY_BYTES, MAX_VALUE_BYTES};
use virt_store_engine::Error as EngineError;
use virt_store_valkey::{Bucket, CasVersion, Error, Options, Store};

use virt_store_test_servers::{Kind, Server};

pub fn open(server: &Server) -> Store {
    Store::open(&server.url(), Options::default()).expect("open the store")
}

fn bucket(server: &Server, id: &str) -> Bucket {
    open(server).bucket(id).expect("bucket")
}

pub fn basics(kind: Kind) {
    let server = Server::start(kind);
    let b = bucket(&server, "");
    assert_eq!(b.get("k").unwrap(), None);
    assert!(!b.exists("k").unwrap());
    b.set("k", b"v1").unwrap();
    assert_eq!(b.get("k").unwrap().as_deref(), Some(&b"v1"[..]));
    assert!(b.exists("k").unwrap());
    b.set("k", b"").unwrap();
    assert_eq!(b.get("k").unwrap().as_deref(), Some(&b""[..]));
    assert!(b.exists("k").unwrap(), "an empty value is a value");
    b.delete("k").unwrap();
    assert_eq!(b.get("k").unwrap(), None);
    assert!(!b.exists("k").unwrap());
    b.delete("k").unwrap();
    // Keys of any bytes a string can hold, including the hash tag's braces and the prefix.
    for key in ["", "{x}", "vs:{_default}:seq", "a\r\nb", "κλειδί", "\0"] {
        b.set(key, key.as_bytes()).unwrap();
        assert_eq!(b.get(key).unwrap().as_deref(), Some(key.as_bytes()));
    }

    // Buckets are separate namespaces.
    let other = bucket(&server, "other-1");
    assert_eq!(other.get("{x}").unwrap(), None);
    other.set("{x}", b"other").unwrap();
    assert_eq!(b.get("{x}").unwrap().as_deref(), Some(&b"{x}"[..]));
    let err = open(&server).bucket("Bad!").unwrap_err();
    assert!(
        matches!(err, Error::Rejected(EngineError::InvalidBucket { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("invalid bucket identifier `Bad!`"));
    let err = open(&server).bucket("_default").unwrap_err();
    assert!(
        matches!(err, Error::Rejected(EngineError::InvalidBucket { .. })),
        "{err}"
    );

    // Batches, a repeated key ending with its last value.
    let keys: Vec<String> = ["a", "b", "a", "c"].map(String::from).to_vec();
    let entries: Vec<(String, Vec<u8>)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.clone(), vec![i as u8]))
        .collect();
    b.set_many(&entries).unwrap();
    assert_eq!(
        b.get_many(&keys).unwrap(),
        vec![Some(vec![2]), Some(vec![1]), Some(vec![2]), Some(vec![3])]
    );
    b.delete_many(&["a".into(), "zz".into()]).unwrap();
    assert_eq!(
        b.get_many(&["a".into(), "b".into(), "zz".into()]).unwrap(),
        vec![None, Some(vec![1]), None]
    );
    assert_eq!(b.get_many(&[]).unwrap(), Vec::<Option<Vec<u8>>>::new());
    b.set_many(&[]).unwrap();
    b.delete_many(&[]).unwrap();
}

pub fn versions(kind: Kind) {
    let server = Server::start(kind);
    let b = bucket(&server, "cas");
    assert_eq!(b.version("k").unwrap(), CasVersion(0));
    assert_eq!(b.read_versioned("k").unwrap(), (CasVersion(0), None));

    // A→B→A is a change.
    b.set("k", b"A").unwrap();
    let (stale, value) = b.read_versioned("k").unwrap();
    assert_eq!(value.as_deref(), Some(&b"A"[..]));
    assert_eq!(b.version("k").unwrap(), stale);
    b.set("k", b"B").unwrap();
    b.set("k", b"A").unwrap();
    assert!(!b.swap("k", stale, b"C").unwrap(), "A→B→A must fail a swap");
    assert_eq!(b.get("k").unwrap().as_deref(), Some(&b"A"[..]));
    let fresh = b.version("k").unwrap();
    assert!(b.swap("k", fresh, b"C").unwrap());
    assert!(!b.swap("k", fresh, b"D").unwrap(), "a swap is a write too");
    assert_eq!(b.get("k").unwrap().as_deref(), Some(&b"C"[..]));

    // Versions never repeat across delete and re-create, and deletes of absent keys change none.
    let mut seen = HashSet::new();
    for round in 0..20 {
        let before_delete = b.version("k").unwrap();
        assert!(
            seen.insert(before_delete),
            "version repeated in round {round}"
        );
        b.delete("k").unwrap();
        let tombstone = b.version("k").unwrap();
        assert_ne!(tombstone, before_delete);
        assert!(seen.insert(tombstone), "version repeated in round {round}");
        b.delete("k").unwrap();
        assert_eq!(b.version("k").unwrap(), tombstone);
        assert!(!b.swap("k", before_delete, b"x").unwrap());
        b.set("k", format!("{round}").as_bytes()).unwrap();
    }

    // A swap on a never-written key creates it, once; on a deleted one, from its tombstone.
    assert!(b.swap("new", CasVersion(0), b"1").unwrap());
    assert!(!b.swap("new", CasVersion(0), b"2").unwrap());
    b.delete("new").unwrap();
    assert!(!b.swap("new", CasVersion(0), b"3").unwrap());
    let tomb = b.version("new").unwrap();
    assert!(b.swap("new", tomb, b"4").unwrap());
    assert_eq!(b.get("new").unwrap().as_deref(), Some(&b"4"[..]));
    let mut both = vec!["k".to_owned(), "new".to_owned()];
    crate::listing::sort_by_hash(&mut both);
    assert_eq!(b.list_keys(None).unwrap().keys, both);

    // Another bucket's writes do not touch this bucket's versions.
    let v = b.version("k").unwrap();
    bucket(&server, "elsewhere").set("k", b"x").unwrap();
    assert!(b.swap("k", v, b"y").unwrap());
}

pub fn increments(kind: Kind) {
    let server = Server::start(kind);
    let b = bucket(&server, "");
    assert_eq!(b.increment("n", 5).unwrap(), 5);
    assert_eq!(b.get("n").unwrap().as_deref(), Some(&b"5"[..]));
    assert_eq!(b.increment("n", -7).unwrap(), -2);
    assert_eq!(b.get("n").unwrap().as_deref(), Some(&b"-2"[..]));

    // Rust's parsers: `+5`, `012` and (signed only) `-0` are numbers.
    for (stored, delta, expected) in [("+5", 1, 6), ("012", 1, 13), ("-0", 1, 1)] {
        b.set("s", stored.as_bytes()).unwrap();
        assert_eq!(b.increment("s", delta).unwrap(), expected, "{stored}");
        assert_eq!(b.get("s").unwrap(), Some(expected.to_string().into_bytes()));
    }
    for (stored, expected) in [("+5", 6), ("012", 13)] {
        b.set("u", stored.as_bytes()).unwrap();
        assert_eq!(b.increment_unsigned("u", 1).unwrap(), expected, "{stored}");
    }
    b.set("u", u64::MAX.to_string().as_bytes()).unwrap();
    assert_eq!(b.increment_unsigned("u", 0).unwrap(), u64::MAX);
    assert_eq!(b.increment_unsigned("fresh", 3).unwrap(), 3);

    // Errors change nothing.
    let refuse = |key: &str, stored: &[u8], signed: Option<i64>, unsigned: Option<u64>| {
        b.set(key, stored).unwrap();
        let version = b.version(key).unwrap();
        let err = match (signed, unsigned) {
            (Some(delta), _) => b.increment(key, delta).unwrap_err(),
            (_, Some(delta)) => b.increment_unsigned(key, delta).unwrap_err(),
            _ => unreachable!(),
        };
        assert_eq!(b.get(key).unwrap().as_deref(), Some(stored), "{err}");
        assert_eq!(b.version(key).unwrap(), version, "{err}");
        err
    };
    for stored in [&b"abc"[..], b"", b" 1", b"1.0", b"0x10", b"\xff"] {
        let err = refuse("bad", stored, Some(1), None);
        assert!(
            matches!(err, Error::Rejected(EngineError::NotANumber { .. })),
            "{err}"
        );
        assert!(err.to_string().contains("\"bad\""), "{err}");
        let err = refuse("bad", stored, None, Some(1));
        assert!(
            matches!(err, Error::Rejected(EngineError::NotANumber { .. })),
            "{err}"
        );
    }
    let err = refuse("bad", b"-0", None, Some(1));
    assert!(
        matches!(err, Error::Rejected(EngineError::NotANumber { .. })),
        "{err}"
    );
    let err = refuse("bad", b"-1", None, Some(1));
    assert!(
        matches!(err, Error::Rejected(EngineError::NotANumber { .. })),
        "{err}"
    );
    let err = refuse("bad", u64::MAX.to_string().as_bytes(), Some(0), None);
    assert!(
        matches!(err, Error::Rejected(EngineError::NotANumber { .. })),
        "{err}"
    );
    let err = refuse("big", i64::MAX.to_string().as_bytes(), Some(1), None);
    assert!(
        matches!(err, Error::Rejected(EngineError::Overflow { .. })),
        "{err}"
    );
    let err = refuse("big", i64::MIN.to_string().as_bytes(), Some(-1), None);
    assert!(
        matches!(err, Error::Rejected(EngineError::Overflow { .. })),
        "{err}"
    );
    let err = refuse("big", u64::MAX.to_string().as_bytes(), None, Some(1));
    assert!(
        matches!(err, Error::Rejected(EngineError::Overflow { .. })),
        "{err}"
    );
    let err = refuse("big", b"1", None, Some(u64::MAX));
    assert!(
        matches!(err, Error::Rejected(EngineError::Overflow { .. })),
        "{err}"
    );
    let err = b.increment_unsigned("absent", u64::MAX).unwrap();
    assert_eq!(err, u64::MAX);
    // Values past 2^53 stay exact (no Lua doubles anywhere).
    b.set("exact", b"9007199254740993").unwrap();
    assert_eq!(b.increment("exact", 2).unwrap(), 9007199254740995);
    assert_eq!(
        b.get("exact").unwrap().as_deref(),
        Some(&b"9007199254740995"[..])
    );
}

pub fn limits(kind: Kind) {
    let server = Server::start(kind);
    let b = bucket(&server, "");
    let long_key = "k".repeat(MAX_KEY_BYTES + 1);
    for err in [
        b.get(&long_key).unwrap_err(),
        b.set(&long_key, b"v").unwrap_err(),
        b.increment(&long_key, 1).unwrap_err(),
        b.version(&long_key).unwrap_err(),
        b.get_many(std::slice::from_ref(&long_key)).unwrap_err(),
    ] {
        assert!(
            matches!(err, Error::Rejected(EngineError::KeyTooLong { .. })),
            "{err}"
        );
        assert!(err
            .to_string()
            .contains("longer than the limit of 8192 bytes"));
    }
    let max_key = "k".repeat(MAX_KEY_BYTES);
    b.set(&max_key, b"v").unwrap();
    assert!(b.exists(&max_key).unwrap());

    let too_big = vec![0u8; MAX_VALUE_BYTES + 1];
    let err = b.set("v", &too_big).unwrap_err();
    assert!(
        matches!(err, Error::Rejected(EngineError::ValueTooLarge { .. })),
        "{err}"
    );
    let err = b.swap("v", CasVersion(0), &too_big).unwrap_err();
    assert!(
        matches!(err, Error::Rejected(EngineError::ValueTooLarge { .. })),
        "{err}"
    );
    assert_eq!(b.get("v").unwrap(), None);

    let keys: Vec<String> = (0..=MAX_BATCH_KEYS).map(|i| i.to_string()).collect();
    let err = b.get_many(&keys).unwrap_err();
    assert!(
        matches!(err, Error::Rejected(EngineError::BatchTooLarge { len }) if len == MAX_BATCH_KEYS + 1)
    );
    let err = b.delete_many(&keys).unwrap_err();
    assert!(
        matches!(err, Error::Rejected(EngineError::BatchTooLarge { .. })),
        "{err}"
    );
    // A full batch goes through.
    let entries: Vec<(String, Vec<u8>)> = keys[..MAX_BATCH_KEYS]
        .iter()
        .map(|k| (k.clone(), k.as_bytes().to_vec()))
        .collect();
    b.set_many(&entries).unwrap();
    let values = b.get_many(&keys[..MAX_BATCH_KEYS]).unwrap();
    assert!(values
        .iter()
        .zip(&keys)
        .all(|(v, k)| v.as_deref() == Some(k.as_bytes())));
}

pub fn large_values(kind: Kind) {
    let server = Server::start(kind);
    let b = bucket(&server, "");
    // Every byte value, CRLFs and RESP markers included, in a pattern that is not periodic.
    let mut state = 0x9e3779b97f4a7c15u64;
    let value: Vec<u8> = (0..6 * 1024 * 1024 + 13)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    b.set("big", &value).unwrap();
    assert!(b.get("big").unwrap() == Some(value.clone()));
    let (version, read) = b.read_versioned("big").unwrap();
    assert!(read == Some(value.clone()));
    let mut changed = value.clone();
    changed.reverse();
    assert!(b.swap("big", version, &changed).unwrap());
    let many = b.get_many(&["big".into(), "none".into()]).unwrap();
    assert!(many == vec![Some(changed), None]);
    // The largest value allowed, as one batch among others (sent as several scripts).
    let max = vec![b'\r'; MAX_VALUE_BYTES];
    b.set_many(&[("a".into(), max.clone()), ("b".into(), value.clone())])
        .unwrap();
    assert!(b.get("a").unwrap() == Some(max));
    assert!(b.get("b").unwrap() == Some(value));
}

/// What the docs promise a person with redis-cli sees.
pub fn layout(kind: Kind) {
    let server = Server::start(kind);
    let b = bucket(&server, "");
    b.set("greeting", b"hello").unwrap();
    bucket(&server, "photos").set("cat", b"meow").unwrap();
    let hget = |key: &str, field: &str| server.cli(&["HGET", key, field]).trim().to_owned();
    assert_eq!(hget("vs:{_default}:v:greeting", "val"), "hello");
    assert_eq!(hget("vs:{_default}:v:greeting", "ver"), "1");
    assert_eq!(hget("vs:{photos}:v:cat", "val"), "meow");
    assert_eq!(
        server
            .cli(&["ZRANGE", "vs:{_default}:keys", "0", "-1"])
            .trim(),
        // The first 64 bits of SHA-256("greeting"), then the key.
        "18f6b0200b6fd32cgreeting"
    );
    assert_eq!(server.cli(&["GET", "vs:{photos}:seq"]).trim(), "1");
    b.delete("greeting").unwrap();
    assert_eq!(
        server
            .cli(&["HGETALL", "vs:{_default}:v:greeting"])
            .split_whitespace()
            .collect::<Vec<_>>(),
        vec!["ver", "2"]
    );
}
