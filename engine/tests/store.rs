//! The store's edges: missing or foreign roots, debris left by killed writers, damaged files,
//! limits, CAS versions, and the promise that nothing is written outside a bucket.

use std::fs;
use std::path::{Path, PathBuf};

use virt_store_engine::internals::key_hash;
use virt_store_engine::limits::{MAX_BATCH_KEYS, MAX_KEY_BYTES, MAX_PAGE_KEYS, MAX_VALUE_BYTES};
use virt_store_engine::{Bucket, Durability, Error, Options, Store};

/// Every value in a value file (none in a pointer's name), for the tests that damage them.
fn open(dir: &Path) -> Bucket {
    virt_store_engine::internals::set_inline_limit(0);
    Store::open(
        dir,
        Options {
            durability: Durability::NoSync,
        },
    )
    .unwrap()
    .bucket("")
    .unwrap()
}

fn key_dir(root: &Path, key: &str) -> PathBuf {
    let hash = key_hash(key);
    root.join("buckets/_default").join(&hash[..2]).join(hash)
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        }
        out.push(path);
    }
    out
}

#[test]
fn a_missing_root_is_an_error_naming_it() {
    let err = Store::open("/nonexistent/virt-store-root", Options::default()).unwrap_err();
    assert!(matches!(err, Error::RootMissing { .. }), "{err:?}");
    assert!(
        err.to_string().contains("/nonexistent/virt-store-root"),
        "{err}"
    );
}

#[test]
fn a_foreign_marker_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join(virt_store_engine::FORMAT_FILE),
        "something else\n",
    )
    .unwrap();
    let err = Store::open(dir.path(), Options::default()).unwrap_err();
    assert!(matches!(err, Error::UnknownFormat { .. }), "{err:?}");
}

#[test]
fn a_deferred_store_checks_its_root_when_a_bucket_is_created() {
    let options = Options {
        durability: Durability::NoSync,
    };
    let err = Store::open_deferred(
        std::sync::Arc::new(virt_store_engine::StdFs),
        "/nonexistent/virt-store-root",
        options,
    )
    .bucket("")
    .unwrap_err();
    assert!(matches!(err, Error::RootMissing { .. }), "{err:?}");

    let foreign = tempfile::tempdir().unwrap();
    fs::write(
        foreign.path().join(virt_store_engine::FORMAT_FILE),
        "something else\n",
    )
    .unwrap();
    let err = Store::open_deferred(
        std::sync::Arc::new(virt_store_engine::StdFs),
        foreign.path(),
        options,
    )
    .bucket("")
    .unwrap_err();
    assert!(matches!(err, Error::UnknownFormat { .. }), "{err:?}");
    assert!(
        !foreign.path().join("buckets").exists(),
        "nothing is written into a foreign directory"
    );

    let empty = tempfile::tempdir().unwrap();
    let store = Store::open_deferred(
        std::sync::Arc::new(virt_store_engine::StdFs),
        empty.path(),
        options,
    );
    assert!(
        !empty.path().join(virt_store_engine::FORMAT_FILE).exists(),
        "making the handle touches nothing"
    );
    store.bucket("notes").unwrap().set("k", b"v").unwrap();
    assert_eq!(
        fs::read_to_string(empty.path().join(virt_store_engine::FORMAT_FILE)).unwrap(),
        virt_store_engine::FORMAT_MARKER
    );
    // An existing bucket is found by its `tmp2/` alone; a new one still checks the marker.
    fs::write(
        empty.path().join(virt_store_engine::FORMAT_FILE),
        "virt-store format 3\n",
    )
    .unwrap();
    assert_eq!(
        store.bucket("notes").unwrap().get("k").unwrap(),
        Some(b"v".to_vec())
    );
    let err = store.bucket("other").unwrap_err();
    assert!(matches!(err, Error::UnknownFormat { .. }), "{err:?}");
}

#[test]
fn debris_of_killed_writers_is_invisible_and_swept() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = open(dir.path());
    bucket.set("k", b"old").unwrap();
    let kd = key_dir(dir.path(), "k");
    // A writer killed after writing its value file in place but before its commit, one killed
    // while writing a batch's shared file, and one killed while building a new key's directory.
    let pointer = fs::read_dir(&kd)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| n.starts_with("p."))
        .unwrap();
    let seq = &pointer["p.".len().."p.".len() + 16];
    let next = format!("{:016x}", u64::from_str_radix(seq, 16).unwrap() + 1);
    fs::write(
        kd.join(format!("val.{next}.00000000000000aa")),
        virt_store_engine::internals::encode("k", b"lost"),
    )
    .unwrap();
    fs::write(
        bucket.dir().join("tmp2/0123456789abcdef0123456789abcdef"),
        b"half a value",
    )
    .unwrap();
    fs::create_dir(bucket.dir().join("tmp2/00000000000000000000000000000001.d")).unwrap();

    assert_eq!(bucket.get("k").unwrap(), Some(b"old".to_vec()));
    assert_eq!(bucket.list_keys(None).unwrap().keys, vec!["k".to_string()]);
    bucket.set("k", b"new").unwrap();
    bucket.set("k", b"newer").unwrap();
    assert_eq!(bucket.get("k").unwrap(), Some(b"newer".to_vec()));
    // The temporaries are young, so a sweep by age keeps them; at age zero they are debris.
    assert_eq!(
        bucket
            .sweep_temps(std::time::Duration::from_secs(3600))
            .unwrap(),
        0
    );
    assert_eq!(bucket.sweep_temps(std::time::Duration::ZERO).unwrap(), 2);
    assert_eq!(
        fs::read_dir(bucket.dir().join(virt_store_engine::internals::TMP_DIR))
            .unwrap()
            .count(),
        0
    );
    let left: Vec<String> = fs::read_dir(&kd)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    // Values in files (this binary's inline limit is 0): the records hold the key, so no name.
    assert_eq!(
        left.len(),
        2,
        "only the pointer and the current value remain: {left:?}"
    );
}

#[test]
fn an_empty_key_directory_left_by_an_os_crash_reads_as_absent_and_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = open(dir.path());
    let kd = key_dir(dir.path(), "k");
    fs::create_dir_all(&kd).unwrap();
    assert_eq!(bucket.get("k").unwrap(), None);
    bucket.set("k", b"v").unwrap();
    assert_eq!(bucket.get("k").unwrap(), Some(b"v".to_vec()));
}

#[test]
fn a_damaged_value_is_an_error_that_a_write_repairs() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = open(dir.path());
    bucket.set("k", b"v").unwrap();
    let kd = key_dir(dir.path(), "k");
    let val = fs::read_dir(&kd)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with("val."))
        .unwrap();
    // What an OS crash with syncing off can leave: the name, with zeroes for content.
    fs::write(&val, [0u8; 24]).unwrap();
    let err = bucket.get("k").unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("fsck"), "{err}");
    assert!(matches!(
        bucket.increment("k", 1),
        Err(Error::Corrupt { .. })
    ));
    // Set and delete do not read the old value, so they still work.
    bucket.set("k", b"fresh").unwrap();
    assert_eq!(bucket.get("k").unwrap(), Some(b"fresh".to_vec()));
}

#[test]
fn a_key_directory_without_a_pointer_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = open(dir.path());
    let kd = key_dir(dir.path(), "k");
    fs::create_dir_all(&kd).unwrap();
    fs::write(
        kd.join("val.0000000000000001.0000000000000001"),
        virt_store_engine::internals::encode("k", b"v"),
    )
    .unwrap();
    assert!(matches!(bucket.get("k"), Err(Error::Corrupt { .. })));
}

#[test]
fn limits_are_clean_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = open(dir.path());
    let long = "k".repeat(MAX_KEY_BYTES);
    bucket.set(&long, b"v").unwrap();
    assert_eq!(bucket.get(&long).unwrap(), Some(b"v".to_vec()));
    let longer = "k".repeat(MAX_KEY_BYTES + 1);
    assert!(matches!(
        bucket.set(&longer, b"v"),
        Err(Error::KeyTooLong { .. })
    ));
    assert!(matches!(bucket.get(&longer), Err(Error::KeyTooLong { .. })));
    let big = vec![1u8; MAX_VALUE_BYTES];
    bucket.set("big", &big).unwrap();
    assert_eq!(
        bucket.get("big").unwrap().map(|v| v.len()),
        Some(MAX_VALUE_BYTES)
    );
    let bigger = vec![1u8; MAX_VALUE_BYTES + 1];
    assert!(matches!(
        bucket.set("big", &bigger),
        Err(Error::ValueTooLarge { .. })
    ));
    let batch: Vec<(String, Vec<u8>)> = (0..=MAX_BATCH_KEYS)
        .map(|i| (format!("b{i}"), vec![]))
        .collect();
    assert!(matches!(
        bucket.set_many(&batch),
        Err(Error::BatchTooLarge { .. })
    ));
    assert_eq!(
        bucket.get("b0").unwrap(),
        None,
        "a refused batch writes nothing"
    );
}

#[test]
fn cas_compares_versions_not_values() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = open(dir.path());
    bucket.set("k", b"A").unwrap();
    let seen = bucket.version("k").unwrap();
    bucket.set("k", b"B").unwrap();
    bucket.set("k", b"A").unwrap();
    assert!(
        !bucket.swap("k", seen, b"C").unwrap(),
        "A->B->A must fail the swap"
    );
    // A delete of an absent key changes nothing, so it does not fail a handle.
    let absent = bucket.version("gone").unwrap();
    bucket.delete("gone").unwrap();
    assert!(bucket.swap("gone", absent, b"here").unwrap());
    // After a real delete, a handle on the tombstone recreates the key.
    bucket.delete("gone").unwrap();
    let tombstone = bucket.version("gone").unwrap();
    assert!(bucket.swap("gone", tombstone, b"again").unwrap());
    assert_eq!(bucket.get("gone").unwrap(), Some(b"again".to_vec()));
}

#[test]
fn pages_are_bounded_and_bad_cursors_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = open(dir.path());
    let entries: Vec<(String, Vec<u8>)> = (0..2500).map(|i| (format!("key-{i}"), vec![])).collect();
    bucket.set_many(&entries).unwrap();
    let (mut total, mut pages, mut cursor) = (0, 0, None);
    loop {
        let page = bucket.list_keys(cursor.as_deref()).unwrap();
        assert!(page.keys.len() <= MAX_PAGE_KEYS);
        total += page.keys.len();
        pages += 1;
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!((total, pages), (2500, 3));
    let (mut numeric, mut cursor) = (std::collections::BTreeSet::new(), None);
    loop {
        let (keys, next) = bucket.list_keys_numeric(cursor).unwrap();
        assert!(keys.len() <= MAX_PAGE_KEYS);
        for key in keys {
            assert!(numeric.insert(key), "listed twice");
        }
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(numeric.len(), 2500);
    for bad in [
        "",
        "garbage",
        "v1.",
        "v1.zz",
        &format!("v2.{}", "0".repeat(64)),
    ] {
        assert!(
            matches!(
                bucket.list_keys(Some(bad)),
                Err(Error::InvalidCursor { .. })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn hostile_keys_stay_inside_their_bucket_and_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        dir.path(),
        Options {
            durability: Durability::NoSync,
        },
    )
    .unwrap();
    let bucket = store.bucket("hostile").unwrap();
    let keys: Vec<String> = [
        "",
        ".",
        "..",
        "../..",
        "/",
        "/etc/passwd",
        "a/../../b",
        "\\",
        "..\\..\\x",
        "\0",
        "a\0b",
        "\n",
        "\u{7f}",
        "CON",
        "con",
        "NUL",
        "COM1",
        "LPT1.txt",
        "trailing.",
        "trailing ",
        "Key",
        "key",
        "KEY",
        "\u{e9}",
        "e\u{301}",
        "%2F",
        "%00",
        "%2e%2e",
        "0x2f",
        "tmp",
        "cur.0000000000000001.0000000000000001",
        "buckets",
        "_default",
    ]
    .iter()
    .map(|k| k.to_string())
    .chain([255, 256, 8192].map(|n| "x".repeat(n)))
    .collect();
    for (i, key) in keys.iter().enumerate() {
        bucket.set(key, i.to_string().as_bytes()).unwrap();
    }
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(
            bucket.get(key).unwrap(),
            Some(i.to_string().into_bytes()),
            "{key:?}"
        );
    }
    let listed: std::collections::BTreeSet<String> =
        bucket.list_keys(None).unwrap().keys.into_iter().collect();
    assert_eq!(listed, keys.iter().cloned().collect());
    let outside: Vec<PathBuf> = files_under(dir.path())
        .into_iter()
        .filter(|p| {
            !p.starts_with(bucket.dir())
                && p.parent() != Some(dir.path())
                && p.as_path() != dir.path().join("buckets")
        })
        .collect();
    assert!(
        outside.is_empty(),
        "written outside the bucket: {outside:?}"
    );
}
