//! What format 2 promises about its files, with the default inline limit: a small value is its
//! pointer's name (no value file is made or removed), a large one a file written in place, a
//! batch's large values one shared file linked into each key, and damage to a key's name is
//! found and repaired by fsck like damage to a value.

use std::fs;
use std::path::{Path, PathBuf};

use virt_store_engine::internals::{b64_encode, key_hash, MAX_INLINE_KEY, MAX_INLINE_VALUE};
use virt_store_engine::{Bucket, Durability, Options, ProblemKind, Store};

fn store(dir: &Path) -> Store {
    Store::open(
        dir,
        Options {
            durability: Durability::NoSync,
        },
    )
    .unwrap()
}

fn key_dir(bucket: &Bucket, key: &str) -> PathBuf {
    let hash = key_hash(key);
    bucket.dir().join(&hash[..2]).join(hash)
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn a_small_value_is_its_pointers_name_and_writes_make_no_value_file() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = store(dir.path()).bucket("").unwrap();
    let small = vec![7u8; MAX_INLINE_VALUE];
    bucket.set("k", &small).unwrap();
    bucket.set("k", b"").unwrap();
    bucket.set("k", &small).unwrap();
    assert_eq!(bucket.increment("n", 41).unwrap(), 41);
    assert_eq!(bucket.increment("n", 1).unwrap(), 42);
    let kd = key_dir(&bucket, "k");
    let found = names(&kd);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0], format!("k.{}", b64_encode(b"k")));
    assert!(
        found[1].starts_with("p.0000000000000003.") && found[1].ends_with(&b64_encode(&small)),
        "{found:?}"
    );
    assert_eq!(bucket.get("k").unwrap(), Some(small));
    assert_eq!(bucket.get("n").unwrap(), Some(b"42".to_vec()));
    assert!(names(&bucket.dir().join("tmp2")).is_empty());

    // One byte more goes to a file of its own, written in place, and back again.
    let large = vec![8u8; MAX_INLINE_VALUE + 1];
    bucket.set("k", &large).unwrap();
    assert!(names(&kd).iter().any(|n| n.starts_with("val.")));
    assert_eq!(bucket.get("k").unwrap(), Some(large));
    bucket.set("k", b"small again").unwrap();
    assert!(!names(&kd).iter().any(|n| n.starts_with("val.")));
    let handle = bucket.version("k").unwrap();
    bucket.set("k", b"B").unwrap();
    bucket.set("k", b"small again").unwrap();
    assert!(!bucket.swap("k", handle, b"stale").unwrap(), "A->B->A");
    assert_eq!(bucket.get("k").unwrap(), Some(b"small again".to_vec()));
}

#[test]
fn a_key_is_named_by_its_first_value_in_a_name_and_by_its_records_before() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let bucket = store.bucket("").unwrap();
    let large = vec![9u8; 10 * 1024];
    let long = "z".repeat(MAX_INLINE_KEY + 1);
    for key in ["f", long.as_str()] {
        bucket.set(key, &large).unwrap();
        bucket.set(key, &large).unwrap();
        let found = names(&key_dir(&bucket, key));
        assert_eq!(
            found.len(),
            2,
            "a pointer and its value file, no name: {found:?}"
        );
        assert!(
            found[0].starts_with("p.") && found[1].starts_with("val."),
            "{found:?}"
        );
        assert!(bucket.exists(key).unwrap());
    }
    bucket
        .set_many(&[("g".to_string(), large.clone())])
        .unwrap();
    assert!(!names(&key_dir(&bucket, "g"))
        .iter()
        .any(|n| n.starts_with("k.")));
    let mut listed = bucket.list_keys(None).unwrap().keys;
    listed.sort();
    assert_eq!(
        listed,
        ["f", "g", long.as_str()],
        "listed from their records"
    );

    // The first value in a name names the key; the name stays for later values in files.
    bucket.set("f", b"small").unwrap();
    bucket.set(&long, b"small").unwrap();
    assert_eq!(
        names(&key_dir(&bucket, "f"))[0],
        format!("k.{}", b64_encode(b"f"))
    );
    assert!(names(&key_dir(&bucket, &long)).contains(&"key".to_string()));
    bucket.set("f", &large).unwrap();
    assert_eq!(names(&key_dir(&bucket, "f")).len(), 3);
    assert_eq!(bucket.get("f").unwrap(), Some(large));
    assert_eq!(bucket.get(&long).unwrap(), Some(b"small".to_vec()));
    assert!(store.fsck(false).unwrap().problems.is_empty());
}

#[test]
fn keys_too_long_for_a_name_are_kept_in_a_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = store(dir.path()).bucket("b").unwrap();
    let fits = "x".repeat(MAX_INLINE_KEY);
    let long = "y".repeat(MAX_INLINE_KEY + 1);
    for key in [&fits, &long] {
        bucket.set(key, b"v").unwrap();
        bucket.set(key, b"w").unwrap();
        assert_eq!(bucket.get(key).unwrap(), Some(b"w".to_vec()));
    }
    assert!(names(&key_dir(&bucket, &fits))[0].starts_with("k."));
    assert!(names(&key_dir(&bucket, &long)).contains(&"key".to_string()));
    let mut listed = bucket.list_keys(None).unwrap().keys;
    listed.sort();
    assert_eq!(listed, [fits, long]);
}

#[cfg(unix)]
#[test]
fn a_batchs_large_values_share_one_file_linked_into_each_key() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let bucket = store.bucket("").unwrap();
    let entries: Vec<(String, Vec<u8>)> = (0..5)
        .map(|i| (format!("big-{i}"), vec![i as u8; 1000 + i]))
        .chain([("small".to_string(), b"s".to_vec())])
        .collect();
    bucket.set_many(&entries).unwrap();
    for (key, value) in &entries {
        assert_eq!(bucket.get(key).unwrap().as_ref(), Some(value), "{key}");
    }
    let value_file = |key: &str| {
        let kd = key_dir(&bucket, key);
        let name = names(&kd)
            .into_iter()
            .find(|n| n.starts_with("val."))
            .unwrap();
        fs::metadata(kd.join(name)).unwrap()
    };
    let first = value_file("big-0");
    assert_eq!(first.nlink(), 5, "one file, a link in each key");
    assert!((1..5).all(|i| value_file(&format!("big-{i}")).ino() == first.ino()));
    assert!(names(&bucket.dir().join("tmp2")).is_empty());
    // Overwriting the keys one by one frees the shared file with its last link.
    for i in 0..4 {
        bucket.set(&format!("big-{i}"), b"done").unwrap();
    }
    assert_eq!(value_file("big-4").nlink(), 1);
    assert_eq!(bucket.get("big-4").unwrap(), Some(vec![4; 1004]));
    assert!(store.fsck(false).unwrap().problems.is_empty());
}

#[test]
fn damage_to_a_keys_name_is_found_and_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let bucket = store.bucket("").unwrap();
    let long = "z".repeat(MAX_INLINE_KEY + 10);
    for key in ["renamed", "nameless", "healthy", long.as_str()] {
        bucket.set(key, b"value").unwrap();
    }
    // `renamed` names another key; `nameless` names none; the long key's file is damaged.
    let kd = key_dir(&bucket, "renamed");
    fs::rename(
        kd.join(format!("k.{}", b64_encode(b"renamed"))),
        kd.join(format!("k.{}", b64_encode(b"other"))),
    )
    .unwrap();
    let nameless = key_dir(&bucket, "nameless");
    fs::remove_file(nameless.join(format!("k.{}", b64_encode(b"nameless")))).unwrap();
    let key_file = key_dir(&bucket, &long).join("key");
    let mut bytes = fs::read(&key_file).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    fs::write(&key_file, bytes).unwrap();

    assert!(
        bucket.get("renamed").is_err(),
        "another key's name is a collision"
    );
    assert!(bucket.get("nameless").is_err());
    assert!(bucket.get(&long).is_err());
    let mut kinds: Vec<(PathBuf, String)> = store
        .fsck(false)
        .unwrap()
        .problems
        .into_iter()
        .map(|p| (p.path, format!("{:?}", p.kind)))
        .collect();
    kinds.sort();
    let mut expected = vec![
        (kd.clone(), format!("{:?}", ProblemKind::WrongKey)),
        (
            nameless.clone(),
            format!("{:?}", ProblemKind::CorruptValue("no key name".into())),
        ),
        (
            key_dir(&bucket, &long),
            format!(
                "{:?}",
                ProblemKind::CorruptValue("key file: checksum mismatch".into())
            ),
        ),
    ];
    expected.sort();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    for ((path, kind), (want_path, want_kind)) in kinds.iter().zip(&expected) {
        assert_eq!(path, want_path);
        let variant = |k: &str| k.split('(').next().unwrap().to_owned();
        assert_eq!(variant(kind), variant(want_kind), "{path:?}: {kind}");
    }
    let report = store.fsck(true).unwrap();
    assert!(report.problems.iter().all(|p| p.repaired), "{report:?}");
    assert!(store.fsck(false).unwrap().problems.is_empty());
    for key in ["renamed", "nameless", long.as_str()] {
        assert_eq!(bucket.get(key).unwrap(), None, "repaired as a deletion");
        bucket.set(key, b"again").unwrap();
        assert_eq!(bucket.get(key).unwrap(), Some(b"again".to_vec()));
    }
    assert_eq!(bucket.get("healthy").unwrap(), Some(b"value".to_vec()));
    assert_eq!(bucket.list_keys(None).unwrap().keys.len(), 4);
    assert!(store.fsck(false).unwrap().problems.is_empty());
}
