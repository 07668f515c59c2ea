//! `Store::buckets`, `Bucket::stats` and `Store::fsck`: what host tools see of a store, and how
//! damage is found and repaired without harming healthy keys or fooling CAS handles.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use virt_store_engine::internals::key_hash;
use virt_store_engine::{Durability, Options, ProblemKind, Store, LOST_AND_FOUND_DIR, SWEEP_AGE};

/// Every value in a value file (none in a pointer's name), so that each kind of damage to one
/// can be made.
fn store(dir: &Path) -> Store {
    virt_store_engine::internals::set_inline_limit(0);
    Store::open(
        dir,
        Options {
            durability: Durability::NoSync,
        },
    )
    .unwrap()
}

fn key_dir(root: &Path, key: &str) -> PathBuf {
    let hash = key_hash(key);
    root.join("buckets/_default").join(&hash[..2]).join(hash)
}

/// The single file in `key_dir` whose name starts with `prefix`.
fn file(key_dir: &Path, prefix: &str) -> PathBuf {
    let mut found: Vec<PathBuf> = fs::read_dir(key_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found.pop().unwrap()
}

/// A store with healthy keys in two buckets; returns it with the keys of the default bucket.
fn healthy(dir: &Path) -> Store {
    let store = store(dir);
    let default = store.bucket("").unwrap();
    default.set("a", b"apple").unwrap();
    default.set("b", b"banana").unwrap();
    default.set("gone", b"x").unwrap();
    default.delete("gone").unwrap();
    store.bucket("other").unwrap().set("k", b"v").unwrap();
    store
}

fn assert_healthy_keys_intact(store: &Store) {
    let default = store.bucket("").unwrap();
    assert_eq!(default.get("a").unwrap().as_deref(), Some(&b"apple"[..]));
    assert_eq!(
        store.bucket("other").unwrap().get("k").unwrap().as_deref(),
        Some(&b"v"[..])
    );
}

#[test]
fn buckets_and_stats_of_a_healthy_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = healthy(dir.path());
    assert_eq!(store.buckets().unwrap(), ["", "other"]);
    let stats = store.bucket("").unwrap().stats().unwrap();
    assert_eq!((stats.keys, stats.tombstones, stats.temps), (2, 1, 0));
    assert_eq!(stats.value_bytes, 5 + 6);
    assert_eq!(stats.key_bytes, 2);
    assert!(
        stats.disk_bytes >= stats.value_bytes + stats.key_bytes,
        "{stats:?}"
    );

    let report = store.fsck(false).unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
    assert_eq!(
        (report.buckets, report.keys_checked, report.swept),
        (2, 4, 0)
    );
}

#[test]
fn a_corrupt_value_is_found_then_repaired_as_a_deletion_kept_in_lost_and_found() {
    let dir = tempfile::tempdir().unwrap();
    let store = healthy(dir.path());
    let bucket = store.bucket("").unwrap();
    let handle = bucket.version("b").unwrap();
    let value = file(&key_dir(dir.path(), "b"), "val.");
    let mut bytes = fs::read(&value).unwrap();
    *bytes.last_mut().unwrap() ^= 0xff;
    fs::write(&value, &bytes).unwrap();

    let report = store.fsck(false).unwrap();
    assert_eq!(report.problems.len(), 1, "{report:?}");
    let problem = &report.problems[0];
    assert!(
        matches!(problem.kind, ProblemKind::CorruptValue(_)),
        "{problem:?}"
    );
    assert_eq!(problem.path, key_dir(dir.path(), "b"));
    assert!(!problem.repaired);
    assert!(bucket.get("b").is_err(), "still damaged without --repair");

    let report = store.fsck(true).unwrap();
    assert!(report.problems[0].repaired, "{report:?}");
    assert_eq!(bucket.get("b").unwrap(), None);
    assert!(store.fsck(false).unwrap().problems.is_empty());
    // The damaged bytes are kept for a person, outside every key's directory.
    let kept: Vec<_> = fs::read_dir(bucket.dir().join(LOST_AND_FOUND_DIR))
        .unwrap()
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(fs::read(kept[0].as_ref().unwrap().path()).unwrap(), bytes);
    // The repair was a write: a CAS handle from before it fails, and the key works again.
    assert!(!bucket.swap("b", handle, b"stale").unwrap());
    bucket.set("b", b"again").unwrap();
    assert_eq!(bucket.get("b").unwrap().as_deref(), Some(&b"again"[..]));
    assert_eq!(
        bucket.list_keys(None).unwrap().keys.len(),
        2,
        "lost+found is not listed"
    );
    assert_healthy_keys_intact(&store);
}

#[test]
fn a_missing_value_and_a_value_of_another_key_are_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let store = healthy(dir.path());
    fs::remove_file(file(&key_dir(dir.path(), "a"), "val.")).unwrap();
    // `b`'s value file replaced by one that holds the key `x`.
    let b_value = file(&key_dir(dir.path(), "b"), "val.");
    fs::write(
        &b_value,
        virt_store_engine::internals::encode("x", b"intruder"),
    )
    .unwrap();

    let kinds: Vec<ProblemKind> = store
        .fsck(false)
        .unwrap()
        .problems
        .into_iter()
        .map(|p| p.kind)
        .collect();
    assert!(kinds.contains(&ProblemKind::MissingValue), "{kinds:?}");
    assert!(kinds.contains(&ProblemKind::WrongKey), "{kinds:?}");
    let report = store.fsck(true).unwrap();
    assert!(report.problems.iter().all(|p| p.repaired), "{report:?}");
    let bucket = store.bucket("").unwrap();
    assert_eq!(bucket.get("a").unwrap(), None);
    assert_eq!(bucket.get("b").unwrap(), None);
    assert!(store.fsck(false).unwrap().problems.is_empty());
}

#[test]
fn pointer_damage_is_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let store = healthy(dir.path());
    let bucket = store.bucket("").unwrap();
    // `a` loses its pointer: neither readable nor writable until repaired.
    fs::remove_file(file(&key_dir(dir.path(), "a"), "p.")).unwrap();
    assert!(bucket.get("a").is_err());
    // `b` gains an older second pointer.
    fs::write(
        key_dir(dir.path(), "b").join("cur.0000000000000000.0000000000000001"),
        b"",
    )
    .unwrap();

    let mut kinds: Vec<String> = store
        .fsck(false)
        .unwrap()
        .problems
        .into_iter()
        .map(|p| format!("{:?}", p.kind))
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["NoPointer", "SeveralPointers(2)"]);
    let report = store.fsck(true).unwrap();
    assert!(report.problems.iter().all(|p| p.repaired), "{report:?}");
    assert_eq!(bucket.get("a").unwrap(), None);
    bucket.set("a", b"writable again").unwrap();
    assert_eq!(bucket.get("b").unwrap().as_deref(), Some(&b"banana"[..]));
    assert!(store.fsck(false).unwrap().problems.is_empty());
}

#[test]
fn misplaced_and_foreign_entries_are_reported_and_foreign_ones_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = healthy(dir.path());
    let bucket_dir = store.bucket("").unwrap().dir().to_path_buf();
    // A key directory moved into another shard, a stray file, a directory that is no bucket.
    let a = key_dir(dir.path(), "a");
    let other_shard = if &key_hash("a")[..2] == "00" {
        "01"
    } else {
        "00"
    };
    fs::create_dir_all(bucket_dir.join(other_shard)).unwrap();
    let misplaced = bucket_dir.join(other_shard).join(key_hash("a"));
    fs::rename(&a, &misplaced).unwrap();
    fs::write(bucket_dir.join("notes.txt"), b"mine").unwrap();
    fs::create_dir(dir.path().join("buckets/Not-A-Bucket")).unwrap();

    let report = store.fsck(true).unwrap();
    let find = |path: &Path| {
        report
            .problems
            .iter()
            .find(|p| p.path == path)
            .unwrap_or_else(|| panic!("{path:?}: {report:?}"))
    };
    assert_eq!(find(&misplaced).kind, ProblemKind::Misplaced);
    assert!(find(&misplaced).repaired);
    assert_eq!(
        find(&bucket_dir.join("notes.txt")).kind,
        ProblemKind::Foreign
    );
    assert!(!find(&bucket_dir.join("notes.txt")).repaired);
    assert_eq!(
        find(&dir.path().join("buckets/Not-A-Bucket")).kind,
        ProblemKind::Foreign
    );
    assert_eq!(
        fs::read(bucket_dir.join("notes.txt")).unwrap(),
        b"mine",
        "foreign files are never touched"
    );
    assert!(!misplaced.exists());
    assert_eq!(store.buckets().unwrap(), ["", "other"]);
}

#[test]
fn leftovers_of_killed_writers_are_swept_and_young_temps_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = healthy(dir.path());
    let bucket = store.bucket("").unwrap();
    let tmp = bucket.dir().join(virt_store_engine::internals::TMP_DIR);
    let old = tmp.join("00000000000000010000000000000001");
    let young = tmp.join("00000000000000020000000000000002");
    fs::write(&old, b"old").unwrap();
    fs::write(&young, b"young").unwrap();
    let past = SystemTime::now() - SWEEP_AGE - Duration::from_secs(60);
    fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(past)
        .unwrap();
    // A superseded value file that a killed writer did not get to remove, and an in-flight one
    // (newer than the current version) that a live writer is about to commit.
    let kd = key_dir(dir.path(), "a");
    let current = file(&kd, "p.");
    let seq =
        u64::from_str_radix(&current.file_name().unwrap().to_str().unwrap()[2..18], 16).unwrap();
    let stale = kd.join(format!("val.{:016x}.00000000000000aa", seq));
    let in_flight = kd.join(format!("val.{:016x}.00000000000000bb", seq + 1));
    fs::write(&stale, virt_store_engine::internals::encode("a", b"stale")).unwrap();
    fs::write(
        &in_flight,
        virt_store_engine::internals::encode("a", b"next"),
    )
    .unwrap();

    assert_eq!(bucket.stats().unwrap().temps, 2);
    let report = store.fsck(false).unwrap();
    assert!(
        report.problems.is_empty(),
        "leftovers are not damage: {report:?}"
    );
    assert_eq!(report.swept, 2);
    assert!(!old.exists() && !stale.exists());
    assert!(young.exists() && in_flight.exists());
    assert_healthy_keys_intact(&store);
}

#[test]
fn an_empty_key_directory_is_not_damage() {
    let dir = tempfile::tempdir().unwrap();
    let store = healthy(dir.path());
    let hash = key_hash("never");
    let empty = store.bucket("").unwrap().dir().join(&hash[..2]).join(&hash);
    fs::create_dir_all(&empty).unwrap();
    let report = store.fsck(false).unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
    assert!(
        !empty.exists(),
        "removed, as the next first write would have replaced it"
    );
}

#[test]
fn files_named_like_shards_or_keys_do_not_break_listing() {
    let dir = tempfile::tempdir().unwrap();
    let store = healthy(dir.path());
    let bucket = store.bucket("").unwrap();
    let hash = key_hash("a");
    let other_shard = if &hash[..2] == "00" { "01" } else { "00" };
    fs::write(bucket.dir().join(other_shard), b"junk").unwrap();
    fs::write(bucket.dir().join(&hash[..2]).join("f".repeat(64)), b"junk").unwrap();
    let mut keys = bucket.list_keys(None).unwrap().keys;
    keys.sort();
    assert_eq!(keys, ["a", "b"]);
    assert_eq!(bucket.stats().unwrap().keys, 2);
    let report = store.fsck(false).unwrap();
    assert_eq!(report.problems.len(), 2, "{report:?}");
    assert!(
        report
            .problems
            .iter()
            .all(|p| p.kind == ProblemKind::Foreign),
        "{report:?}"
    );
}
