//! Stores written by the format-1 engine keep working: a copy of `fixtures/format1/` (written by
//! that engine, see its README) is read, checked and written by this one, with no step by the
//! user; fsck is clean before and after, and the on-disk facts a format-1 provider relies on to
//! refuse a converted bucket hold (FORMAT.md, "Format 1").

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use virt_store_engine::internals::{TMP1_DIR, TMP_DIR};
use virt_store_engine::{Durability, Options, Store, FORMAT1_MARKER, FORMAT_FILE, FORMAT_MARKER};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/format1");

/// Copies the fixture, making again the empty `tmp/` of each bucket that git does not keep.
fn copy(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
    if to.parent().and_then(Path::file_name) == Some("buckets".as_ref()) {
        fs::create_dir_all(to.join(TMP1_DIR)).unwrap();
    }
}

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy(Path::new(FIXTURE), dir.path());
    dir
}

fn open(dir: &Path) -> Store {
    Store::open(
        dir,
        Options {
            durability: Durability::Sync,
        },
    )
    .unwrap()
}

fn big() -> Vec<u8> {
    (0..100 * 1024u32).map(|i| (i % 251) as u8).collect()
}

/// What the fixture holds: (bucket, key, value).
fn contents() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut all = vec![
        ("", String::new(), b"the empty key".to_vec()),
        ("", "empty".into(), Vec::new()),
        ("", "hundred".into(), vec![b'h'; 100]),
        ("", "big".into(), big()),
        ("", "counter".into(), b"21".to_vec()),
        ("", "overwritten".into(), b"second".to_vec()),
        ("z-9", "k".into(), b"v".to_vec()),
    ];
    for key in ["..", "a/b", "\0", "\u{e9}", "e\u{301}", "CON", "tmp"] {
        all.push((
            "notes",
            key.into(),
            format!("value of {key:?}").into_bytes(),
        ));
    }
    all.push(("notes", "x".repeat(300), b"a 300-byte key".to_vec()));
    all
}

fn listed(store: &Store, bucket: &str) -> BTreeSet<String> {
    let bucket = store.bucket(bucket).unwrap();
    let mut keys = BTreeSet::new();
    let mut cursor = None;
    loop {
        let page = bucket.list_keys(cursor.as_deref()).unwrap();
        for key in page.keys {
            assert!(keys.insert(key), "listed twice");
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return keys,
        }
    }
}

fn assert_clean(store: &Store) {
    let report = store.fsck(false).unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
}

#[test]
fn a_format1_store_reads_as_written_and_reading_changes_nothing() {
    let dir = fixture();
    let store = open(dir.path());
    assert_eq!(store.format_version().unwrap(), 1);
    assert_eq!(store.buckets().unwrap(), ["", "notes", "z-9"]);
    assert_clean(&store);
    for (bucket, key, value) in contents() {
        let b = store.bucket(bucket).unwrap();
        assert!(b.is_format1());
        assert_eq!(b.get(&key).unwrap(), Some(value), "{bucket:?} {key:?}");
        assert!(b.exists(&key).unwrap());
    }
    let default = store.bucket("").unwrap();
    assert_eq!(default.get("gone").unwrap(), None, "a tombstone");
    let mut numeric = BTreeSet::new();
    let mut cursor = None;
    loop {
        let (keys, next) = default.list_keys_numeric(cursor).unwrap();
        numeric.extend(keys);
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    for bucket in ["", "notes", "z-9"] {
        let expected: BTreeSet<String> = contents()
            .into_iter()
            .filter(|(b, _, _)| *b == bucket)
            .map(|(_, k, _)| k)
            .collect();
        assert_eq!(listed(&store, bucket), expected, "{bucket:?}");
        if bucket.is_empty() {
            assert_eq!(numeric, expected);
        }
        let stats = store.bucket(bucket).unwrap().stats().unwrap();
        assert_eq!(stats.format2_keys, 0, "{stats:?}");
        assert_eq!(stats.keys, expected.len() as u64, "{stats:?}");
    }
    let stats = default.stats().unwrap();
    assert_eq!((stats.format1_keys, stats.tombstones), (7, 1), "{stats:?}");
    let values: u64 = contents()
        .iter()
        .filter(|(b, _, _)| b.is_empty())
        .map(|(_, _, v)| v.len() as u64)
        .sum();
    assert_eq!(stats.value_bytes, values);
    // Reads and checks leave the store as a format-1 provider wrote it.
    assert_eq!(
        fs::read_to_string(dir.path().join(FORMAT_FILE)).unwrap(),
        FORMAT1_MARKER
    );
    for bucket in ["_default", "notes", "z-9"] {
        let bucket = dir.path().join("buckets").join(bucket);
        assert!(bucket.join(TMP1_DIR).is_dir() && !bucket.join(TMP_DIR).exists());
    }
}

#[test]
fn a_format1_store_takes_every_kind_of_write_and_converts_what_it_writes() {
    let dir = fixture();
    let store = open(dir.path());
    let default = store.bucket("").unwrap();
    let stale = default.version("hundred").unwrap();
    let on_tombstone = default.version("gone").unwrap();

    assert_eq!(store.format_version().unwrap(), 1);
    default.set("hundred", &[b'H'; 100]).unwrap();
    assert!(!default.is_format1());
    assert_eq!(store.format_version().unwrap(), 2);
    assert!(
        !default.swap("hundred", stale, b"stale").unwrap(),
        "a handle from before the conversion fails"
    );
    assert_eq!(default.increment("counter", 1).unwrap(), 22);
    default.delete("empty").unwrap();
    assert!(default.swap("gone", on_tombstone, b"back").unwrap());
    let fresh = default.version("big").unwrap();
    let bigger: Vec<u8> = big().into_iter().rev().collect();
    assert!(default.swap("big", fresh, &bigger).unwrap());
    default.set("", b"still the empty key").unwrap();
    default.set("new", b"a new key").unwrap();
    default
        .set_many(&[
            ("overwritten".into(), b"third".to_vec()),
            ("batch".into(), vec![b'b'; 1000]),
        ])
        .unwrap();
    default.delete_many(&["new".into()]).unwrap();

    // The converted bucket: the marker says 2 and `tmp/` is gone, so a format-1 provider finds
    // no `tmp/`, reads the marker, and refuses the store instead of misreading it.
    assert_eq!(
        fs::read_to_string(dir.path().join(FORMAT_FILE)).unwrap(),
        FORMAT_MARKER
    );
    let default_dir = dir.path().join("buckets/_default");
    assert!(!default_dir.join(TMP1_DIR).exists() && default_dir.join(TMP_DIR).is_dir());
    // Buckets nobody wrote stay format 1, readable by both engines.
    assert!(store.bucket("notes").unwrap().is_format1());
    assert!(dir.path().join("buckets/notes").join(TMP1_DIR).is_dir());

    let stats = default.stats().unwrap();
    assert_eq!(
        (stats.format1_keys, stats.format2_keys),
        (0, 9),
        "the 7 keys of the fixture were each written, and 2 are new: {stats:?}"
    );
    assert_clean(&store);

    // A fresh store on the same directory sees every write.
    let again = open(dir.path());
    let default = again.bucket("").unwrap();
    assert!(!default.is_format1());
    let expect = [
        ("", Some(b"still the empty key".to_vec())),
        ("empty", None),
        ("hundred", Some(vec![b'H'; 100])),
        ("big", Some(bigger)),
        ("counter", Some(b"22".to_vec())),
        ("overwritten", Some(b"third".to_vec())),
        ("gone", Some(b"back".to_vec())),
        ("new", None),
        ("batch", Some(vec![b'b'; 1000])),
    ];
    for (key, value) in &expect {
        assert_eq!(&default.get(key).unwrap(), value, "{key:?}");
    }
    let expected: BTreeSet<String> = expect
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| k.to_string())
        .collect();
    assert_eq!(listed(&again, ""), expected);

    // The other buckets take writes too, each converted by its first.
    let notes = again.bucket("notes").unwrap();
    notes.set("..", b"rewritten").unwrap();
    notes.set(&"x".repeat(300), b"long key, rewritten").unwrap();
    assert_eq!(notes.increment("tally", 5).unwrap(), 5);
    assert_eq!(
        notes.get("a/b").unwrap(),
        Some(b"value of \"a/b\"".to_vec())
    );
    assert_eq!(
        notes.get(&"x".repeat(300)).unwrap(),
        Some(b"long key, rewritten".to_vec())
    );
    assert_eq!(listed(&again, "notes").len(), 9);
    assert_clean(&again);
    assert!(again.fsck(true).unwrap().problems.is_empty());
}

#[test]
fn instances_converting_one_format1_store_at_once_lose_no_write() {
    let dir = fixture();
    let (threads, each) = (4, 40);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let root = dir.path().to_path_buf();
            std::thread::spawn(move || {
                // Each thread is a fresh instance that found the store in format 1.
                let store = Store::open(
                    &root,
                    Options {
                        durability: Durability::NoSync,
                    },
                )
                .unwrap();
                let bucket = store.bucket("").unwrap();
                let notes = store.bucket("notes").unwrap();
                for i in 0..each {
                    bucket.increment("counter", 1).expect("increment");
                    notes.increment("tally", 1).expect("increment");
                    bucket
                        .set(&format!("own-{t}"), i.to_string().as_bytes())
                        .expect("set");
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("a writer panicked");
    }
    let store = open(dir.path());
    let bucket = store.bucket("").unwrap();
    assert_eq!(
        bucket.get("counter").unwrap(),
        Some((21 + threads * each).to_string().into_bytes())
    );
    assert_eq!(
        store.bucket("notes").unwrap().get("tally").unwrap(),
        Some((threads * each).to_string().into_bytes())
    );
    for t in 0..threads {
        assert_eq!(
            bucket.get(&format!("own-{t}")).unwrap(),
            Some((each - 1).to_string().into_bytes())
        );
    }
    assert_eq!(
        bucket.get("big").unwrap(),
        Some(big()),
        "untouched keys stay"
    );
    assert_clean(&store);
}

#[test]
fn fsck_finds_and_repairs_damage_in_a_format1_bucket() {
    let dir = fixture();
    let store = open(dir.path());
    let notes = store.bucket("notes").unwrap();
    let hash = virt_store_engine::internals::key_hash("a/b");
    let key_dir = notes.dir().join(&hash[..2]).join(&hash);
    let value = fs::read_dir(&key_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with("val."))
        .unwrap();
    let mut bytes = fs::read(&value).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    fs::write(&value, &bytes).unwrap();

    let report = store.fsck(false).unwrap();
    assert_eq!(report.problems.len(), 1, "{report:?}");
    assert_eq!(report.problems[0].path, key_dir);
    assert!(matches!(
        report.problems[0].kind,
        virt_store_engine::ProblemKind::CorruptValue(_)
    ));
    assert!(
        store.bucket("notes").unwrap().is_format1(),
        "a check changes nothing"
    );
    let report = store.fsck(true).unwrap();
    assert!(report.problems[0].repaired, "{report:?}");
    assert_clean(&store);
    let notes = store.bucket("notes").unwrap();
    assert!(
        !notes.is_format1(),
        "the repair was a write: it converted the bucket"
    );
    assert_eq!(notes.get("a/b").unwrap(), None);
    assert_eq!(notes.get("..").unwrap(), Some(b"value of \"..\"".to_vec()));
    notes.set("a/b", b"fresh").unwrap();
    assert_eq!(notes.get("a/b").unwrap(), Some(b"fresh".to_vec()));
    let stats = notes.stats().unwrap();
    assert_eq!(
        (stats.format1_keys, stats.format2_keys),
        (7, 1),
        "{stats:?}"
    );
}

#[test]
fn a_format1_tmp_made_beside_a_converted_buckets_tmp2_is_removed_by_the_next_conversion() {
    let dir = fixture();
    let store = open(dir.path());
    let notes = store.bucket("notes").unwrap();
    assert!(notes.is_format1());
    // Meanwhile another instance converts the bucket and is writing in `tmp2/`, and a format-1
    // provider that read the old marker makes `tmp/` again.
    let bucket_dir = notes.dir().to_path_buf();
    fs::rename(bucket_dir.join(TMP1_DIR), bucket_dir.join(TMP_DIR)).unwrap();
    fs::write(bucket_dir.join(TMP_DIR).join("in-flight"), b"x").unwrap();
    fs::create_dir(bucket_dir.join(TMP1_DIR)).unwrap();

    notes.set("..", b"written").unwrap();
    assert!(
        !bucket_dir.join(TMP1_DIR).exists(),
        "format-1 providers would take the bucket for theirs"
    );
    assert!(bucket_dir.join(TMP_DIR).join("in-flight").exists());
    assert_eq!(notes.get("..").unwrap(), Some(b"written".to_vec()));
}
