//! Property-based state machine: random operations against the engine and a `HashMap` model,
//! with reopen steps (a fresh `Store` on the same directory, as a new instance would be).

use std::collections::{BTreeSet, HashMap};

use proptest::prelude::*;
use virt_store_engine::{Bucket, Durability, Options, Store};

/// Keys that stress the encoding: separators, dots, NUL, case, NFC/NFD, empty, long.
fn key_pool() -> Vec<String> {
    vec![
        String::new(),
        "a".into(),
        "A".into(),
        "/".into(),
        "..".into(),
        "a/b/../c".into(),
        "\0".into(),
        "CON".into(),
        "\u{e9}".into(),
        "e\u{301}".into(),
        "x".repeat(8192),
        "counter".into(),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Set(usize, Vec<u8>),
    Get(usize),
    Delete(usize),
    Exists(usize),
    Increment(usize, i64),
    Swap(usize, Vec<u8>),
    StaleSwap(usize, Vec<u8>, Vec<u8>),
    SetMany(Vec<(usize, Vec<u8>)>),
    DeleteMany(Vec<usize>),
    GetMany(Vec<usize>),
    List,
    ListNumeric,
    IncrementUnsigned(usize, u64),
    Reopen,
    /// A writer of this key killed mid-write (after its value file moved in, before its commit),
    /// then a fresh instance: the key keeps its value, and the debris is invisible.
    Crash(usize, Vec<u8>),
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0..key_pool().len();
    // Mostly values that fit in a pointer's name, some that need a file of their own.
    let value = prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..40),
        1 => prop::collection::vec(any::<u8>(), 150..260),
    ];
    prop_oneof![
        4 => (key.clone(), value.clone()).prop_map(|(k, v)| Op::Set(k, v)),
        3 => key.clone().prop_map(Op::Get),
        2 => key.clone().prop_map(Op::Delete),
        1 => key.clone().prop_map(Op::Exists),
        3 => (key.clone(), -1000i64..1000).prop_map(|(k, d)| Op::Increment(k, d)),
        2 => (key.clone(), value.clone()).prop_map(|(k, v)| Op::Swap(k, v)),
        1 => (key.clone(), value.clone(), value.clone()).prop_map(|(k, a, b)| Op::StaleSwap(k, a, b)),
        1 => prop::collection::vec((key.clone(), value.clone()), 0..6).prop_map(Op::SetMany),
        1 => prop::collection::vec(key.clone(), 0..6).prop_map(Op::DeleteMany),
        1 => prop::collection::vec(key.clone(), 0..6).prop_map(Op::GetMany),
        1 => Just(Op::List),
        1 => Just(Op::ListNumeric),
        2 => (key.clone(), prop_oneof![0u64..1000, Just(u64::MAX)]).prop_map(|(k, d)| Op::IncrementUnsigned(k, d)),
        1 => Just(Op::Reopen),
        1 => (key, value).prop_map(|(k, v)| Op::Crash(k, v)),
    ]
}

fn open(dir: &std::path::Path, durability: Durability) -> Bucket {
    let store = Store::open(dir, Options { durability }).expect("open store");
    store.bucket("model").expect("open bucket")
}

fn list_all(bucket: &Bucket) -> Vec<String> {
    let mut keys = Vec::new();
    let mut cursor = None;
    loop {
        let page = bucket.list_keys(cursor.as_deref()).expect("list-keys");
        keys.extend(page.keys);
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => return keys,
        }
    }
}

/// What writers of `key` killed before their commit leave: a temporary (a batch's shared file, a
/// first write's directory), and the value file of the next version, written in place, with no
/// pointer to it.
fn leave_killed_writers_debris(bucket_dir: &std::path::Path, key: &str, value: &[u8]) {
    let hash = virt_store_engine::internals::key_hash(key);
    let key_dir = bucket_dir.join(&hash[..2]).join(&hash);
    std::fs::write(
        bucket_dir
            .join(virt_store_engine::internals::TMP_DIR)
            .join(virt_store_engine::internals::temp_name().unwrap()),
        virt_store_engine::internals::encode(key, value),
    )
    .expect("temp");
    let Ok(entries) = std::fs::read_dir(&key_dir) else {
        return;
    };
    for entry in entries {
        let name = entry
            .expect("entry")
            .file_name()
            .into_string()
            .expect("utf-8");
        if let Some(version) = name.strip_prefix("p.") {
            let seq = u64::from_str_radix(&version[..16], 16).expect("seq");
            let next = key_dir.join(format!(
                "val.{:016x}.{:016x}",
                seq + 1,
                virt_store_engine::internals::nonce().unwrap()
            ));
            std::fs::write(next, virt_store_engine::internals::encode(key, value)).expect("debris");
        }
    }
}

fn run(ops: Vec<Op>, durability: Durability) -> Result<(), TestCaseError> {
    let keys = key_pool();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bucket = open(dir.path(), durability);
    let mut model: HashMap<String, Vec<u8>> = HashMap::new();
    for op in ops {
        match op {
            Op::Set(k, v) => {
                bucket.set(&keys[k], &v).expect("set");
                model.insert(keys[k].clone(), v);
            }
            Op::Get(k) => prop_assert_eq!(
                bucket.get(&keys[k]).expect("get"),
                model.get(&keys[k]).cloned()
            ),
            Op::Delete(k) => {
                bucket.delete(&keys[k]).expect("delete");
                model.remove(&keys[k]);
            }
            Op::Exists(k) => prop_assert_eq!(
                bucket.exists(&keys[k]).expect("exists"),
                model.contains_key(&keys[k])
            ),
            Op::Increment(k, delta) => {
                let current = model.get(&keys[k]).map(|v| {
                    std::str::from_utf8(v)
                        .ok()
                        .and_then(|s| s.parse::<i64>().ok())
                });
                let result = bucket.increment(&keys[k], delta);
                match current {
                    None => {
                        prop_assert_eq!(result.expect("increment of absent"), delta);
                        model.insert(keys[k].clone(), delta.to_string().into_bytes());
                    }
                    Some(Some(n)) => {
                        prop_assert_eq!(result.expect("increment of a number"), n + delta);
                        model.insert(keys[k].clone(), (n + delta).to_string().into_bytes());
                    }
                    Some(None) => {
                        let not_a_number =
                            matches!(result, Err(virt_store_engine::Error::NotANumber { .. }));
                        prop_assert!(not_a_number, "increment of a non-number: {:?}", result);
                    }
                }
            }
            Op::Swap(k, v) => {
                let (version, current) = bucket.read_versioned(&keys[k]).expect("cas read");
                prop_assert_eq!(current, model.get(&keys[k]).cloned());
                prop_assert!(bucket.swap(&keys[k], version, &v).expect("swap"));
                model.insert(keys[k].clone(), v);
            }
            Op::StaleSwap(k, a, b) => {
                // Any write between the read and the swap fails it, even one that writes the same value.
                let (version, current) = bucket.read_versioned(&keys[k]).expect("cas read");
                let same = current.unwrap_or_default();
                bucket.set(&keys[k], &same).expect("set");
                prop_assert!(!bucket.swap(&keys[k], version, &a).expect("stale swap"));
                let fresh = bucket.version(&keys[k]).expect("version");
                prop_assert!(bucket.swap(&keys[k], fresh, &b).expect("fresh swap"));
                model.insert(keys[k].clone(), b);
            }
            Op::SetMany(entries) => {
                let entries: Vec<(String, Vec<u8>)> = entries
                    .into_iter()
                    .map(|(k, v)| (keys[k].clone(), v))
                    .collect();
                bucket.set_many(&entries).expect("set-many");
                for (k, v) in entries {
                    model.insert(k, v);
                }
            }
            Op::DeleteMany(ks) => {
                let ks: Vec<String> = ks.into_iter().map(|k| keys[k].clone()).collect();
                bucket.delete_many(&ks).expect("delete-many");
                for k in &ks {
                    model.remove(k);
                }
            }
            Op::GetMany(ks) => {
                let ks: Vec<String> = ks.into_iter().map(|k| keys[k].clone()).collect();
                let got = bucket.get_many(&ks).expect("get-many");
                let want: Vec<Option<Vec<u8>>> = ks.iter().map(|k| model.get(k).cloned()).collect();
                prop_assert_eq!(got, want);
            }
            Op::List => {
                let listed = list_all(&bucket);
                let unique: BTreeSet<&String> = listed.iter().collect();
                prop_assert_eq!(unique.len(), listed.len(), "a key was listed twice");
                let want: BTreeSet<&String> = model.keys().collect();
                prop_assert_eq!(unique, want);
            }
            Op::ListNumeric => {
                let mut listed = Vec::new();
                let mut cursor = None;
                loop {
                    let (keys, next) = bucket
                        .list_keys_numeric(cursor)
                        .expect("list-keys (numeric)");
                    listed.extend(keys);
                    match next {
                        Some(next) => cursor = Some(next),
                        None => break,
                    }
                }
                let unique: BTreeSet<&String> = listed.iter().collect();
                prop_assert_eq!(unique.len(), listed.len(), "a key was listed twice");
                prop_assert_eq!(unique, model.keys().collect::<BTreeSet<_>>());
            }
            Op::IncrementUnsigned(k, delta) => {
                let current = model.get(&keys[k]).map(|v| {
                    std::str::from_utf8(v)
                        .ok()
                        .and_then(|s| s.parse::<u64>().ok())
                });
                let result = bucket.increment_unsigned(&keys[k], delta);
                let expected = match current {
                    None => Some(delta),
                    Some(Some(n)) => n.checked_add(delta),
                    Some(None) => None,
                };
                match expected {
                    Some(n) => {
                        prop_assert_eq!(result.expect("unsigned increment"), n);
                        model.insert(keys[k].clone(), n.to_string().into_bytes());
                    }
                    None => prop_assert!(
                        result.is_err(),
                        "unsigned increment should fail: {:?}",
                        result
                    ),
                }
            }
            Op::Reopen => bucket = open(dir.path(), durability),
            Op::Crash(k, v) => {
                leave_killed_writers_debris(bucket.dir(), &keys[k], &v);
                bucket = open(dir.path(), durability);
            }
        }
    }
    // Whatever happened, no internal file is ever listed and the final state matches.
    let listed: BTreeSet<String> = list_all(&bucket).into_iter().collect();
    prop_assert_eq!(listed, model.keys().cloned().collect::<BTreeSet<_>>());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn engine_matches_a_hashmap(ops in prop::collection::vec(op(), 1..60)) {
        run(ops, Durability::NoSync)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn engine_matches_a_hashmap_with_syncing(ops in prop::collection::vec(op(), 1..40)) {
        run(ops, Durability::Sync)?;
    }
}
