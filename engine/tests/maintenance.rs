//! `Store::buckets`, `Bucket::stats` and `Store::fsck` as host tools use them: every kind of
//! damage is reported at its path and repaired without touching a healthy key, repairs never let
//! a compare-and-swap handle from before them succeed, and `fsck --repair` can run while apps
//! write. (`fsck.rs` next to this file has the first cases; these add the rest.)
//!
//! The last six tests reproduce defects that a review of `engine/src/fsck.rs` found, now fixed:
//! an empty key directory swept uncounted, the real value swept beside a stray newer pointer
//! (without `--repair`), one unreadable file ending the whole check, `stats` failing on a file
//! named like a shard, a pointerless repair moving foreign files, and a pointerless repair
//! recreating a tombstone name a stale CAS handle could win.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, SystemTime};

use virt_store_engine::internals::encode;
use virt_store_engine::internals::key_hash;
use virt_store_engine::{
    Bucket, Durability, FsckReport, Options, ProblemKind, Store, LOST_AND_FOUND_DIR, SWEEP_AGE,
};

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

fn key_dir(bucket: &Bucket, key: &str) -> PathBuf {
    let hash = key_hash(key);
    bucket.dir().join(&hash[..2]).join(hash)
}

/// The names in `dir` that start with `prefix`.
fn names(dir: &Path, prefix: &str) -> Vec<String> {
    let mut found: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(prefix))
        .collect();
    found.sort();
    found
}

/// The one file in `dir` whose name starts with `prefix`.
fn one(dir: &Path, prefix: &str) -> PathBuf {
    let found = names(dir, prefix);
    assert_eq!(found.len(), 1, "{prefix} in {dir:?}: {found:?}");
    dir.join(&found[0])
}

/// The `seq` of a key's current pointer.
fn seq(key_dir: &Path) -> u64 {
    let pointer = one(key_dir, "p.");
    u64::from_str_radix(&pointer.file_name().unwrap().to_str().unwrap()[2..18], 16).unwrap()
}

/// Each problem as (path, variant name), sorted.
fn found(report: &FsckReport) -> Vec<(PathBuf, String)> {
    let mut found: Vec<(PathBuf, String)> = report
        .problems
        .iter()
        .map(|p| {
            (
                p.path.clone(),
                format!("{:?}", p.kind)
                    .split('(')
                    .next()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    found.sort();
    found
}

/// Every file at or under `path` with its bytes (none if it does not exist).
fn files(path: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    if path.is_file() {
        out.insert(path.to_path_buf(), fs::read(path).unwrap());
    } else if let Ok(entries) = fs::read_dir(path) {
        for entry in entries {
            out.extend(files(&entry.unwrap().path()));
        }
    }
    out
}

fn set_age(path: &Path, age: Duration) {
    fs::File::open(path)
        .unwrap()
        .set_modified(SystemTime::now() - age)
        .unwrap();
}

/// A store with healthy keys `a`, `b`, a deleted key `gone` and bucket `other` with `k`.
fn healthy(dir: &Path) -> (Store, Bucket) {
    let store = store(dir);
    let bucket = store.bucket("").unwrap();
    bucket.set("a", b"apple").unwrap();
    bucket.set("b", b"banana").unwrap();
    bucket.set("b", b"blueberry").unwrap();
    bucket.set("gone", b"x").unwrap();
    bucket.delete("gone").unwrap();
    store.bucket("other").unwrap().set("k", b"v").unwrap();
    (store, bucket)
}

fn assert_healthy_keys_read(store: &Store) {
    let bucket = store.bucket("").unwrap();
    assert_eq!(bucket.get("a").unwrap().as_deref(), Some(&b"apple"[..]));
    assert_eq!(bucket.get("b").unwrap().as_deref(), Some(&b"blueberry"[..]));
    assert_eq!(bucket.get("gone").unwrap(), None);
    assert_eq!(
        store.bucket("other").unwrap().get("k").unwrap().as_deref(),
        Some(&b"v"[..])
    );
}

/// Damages one key of each kind fsck knows; returns what it must report, as [`found`] lists it.
fn damage_every_kind(bucket: &Bucket) -> Vec<(PathBuf, String)> {
    for key in [
        "misplaced",
        "no-pointer",
        "two-pointers",
        "missing",
        "bad-magic",
        "truncated",
        "bad-crc",
        "wrong-key",
    ] {
        bucket
            .set(key, format!("value of {key}").as_bytes())
            .unwrap();
    }
    let mut expected = Vec::new();
    let mut expect = |path: PathBuf, kind: &str| expected.push((path, kind.to_owned()));

    let hash = key_hash("misplaced");
    let shard = if &hash[..2] == "00" { "01" } else { "00" };
    fs::create_dir_all(bucket.dir().join(shard)).unwrap();
    let misplaced = bucket.dir().join(shard).join(&hash);
    fs::rename(key_dir(bucket, "misplaced"), &misplaced).unwrap();
    expect(misplaced, "Misplaced");

    fs::remove_file(one(&key_dir(bucket, "no-pointer"), "p.")).unwrap();
    expect(key_dir(bucket, "no-pointer"), "NoPointer");

    fs::write(
        key_dir(bucket, "two-pointers").join("cur.0000000000000000.0000000000000001"),
        b"",
    )
    .unwrap();
    expect(key_dir(bucket, "two-pointers"), "SeveralPointers");

    fs::remove_file(one(&key_dir(bucket, "missing"), "val.")).unwrap();
    expect(key_dir(bucket, "missing"), "MissingValue");

    let value = one(&key_dir(bucket, "bad-magic"), "val.");
    let mut bytes = fs::read(&value).unwrap();
    bytes[..4].copy_from_slice(b"XXXX");
    fs::write(&value, bytes).unwrap();
    expect(key_dir(bucket, "bad-magic"), "CorruptValue");

    let value = one(&key_dir(bucket, "truncated"), "val.");
    let len = fs::metadata(&value).unwrap().len();
    fs::File::options()
        .write(true)
        .open(&value)
        .unwrap()
        .set_len(len - 3)
        .unwrap();
    expect(key_dir(bucket, "truncated"), "CorruptValue");

    let value = one(&key_dir(bucket, "bad-crc"), "val.");
    let mut bytes = fs::read(&value).unwrap();
    *bytes.last_mut().unwrap() ^= 0x01;
    fs::write(&value, bytes).unwrap();
    expect(key_dir(bucket, "bad-crc"), "CorruptValue");

    fs::write(
        one(&key_dir(bucket, "wrong-key"), "val."),
        encode("intruder", b"not mine"),
    )
    .unwrap();
    expect(key_dir(bucket, "wrong-key"), "WrongKey");

    expected.sort();
    expected
}

#[test]
fn a_clean_store_has_no_problems_and_exact_stats() {
    let dir = tempfile::tempdir().unwrap();
    let (store, bucket) = healthy(dir.path());
    store.bucket("z-9").unwrap();
    assert_eq!(store.buckets().unwrap(), ["", "other", "z-9"]);

    let stats = bucket.stats().unwrap();
    assert_eq!(stats.keys, 2, "{stats:?}");
    assert_eq!(stats.tombstones, 1, "{stats:?}");
    // Only current values count: `b` was overwritten, and `gone` deleted.
    assert_eq!(
        stats.value_bytes,
        ("apple".len() + "blueberry".len()) as u64,
        "{stats:?}"
    );
    assert_eq!(stats.key_bytes, 2, "{stats:?}");
    assert_eq!(stats.temps, 0, "{stats:?}");
    let value_files = (encode("a", b"apple").len() + encode("b", b"blueberry").len()) as u64;
    assert_eq!(
        stats.disk_bytes, value_files,
        "pointers are empty files: {stats:?}"
    );
    let other = store.bucket("other").unwrap().stats().unwrap();
    assert_eq!((other.keys, other.value_bytes, other.tombstones), (1, 1, 0));
    assert_eq!(
        store.bucket("z-9").unwrap().stats().unwrap(),
        virt_store_engine::BucketStats::default()
    );

    let report = store.fsck(false).unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
    assert_eq!(
        (report.buckets, report.keys_checked, report.swept),
        (3, 4, 0)
    );
    let report = store.fsck(true).unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
    assert_healthy_keys_read(&store);
}

#[test]
fn every_kind_of_damage_is_reported_at_its_path_then_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let (store, bucket) = healthy(dir.path());
    let expected = damage_every_kind(&bucket);

    let report = store.fsck(false).unwrap();
    assert_eq!(found(&report), expected);
    assert!(
        report.problems.iter().all(|p| !p.repaired),
        "a check repairs nothing: {report:?}"
    );
    for problem in &report.problems {
        let text = problem.kind.to_string();
        assert!(
            text.starts_with(|c: char| c.is_lowercase() || c.is_ascii_digit()),
            "{text}"
        );
        if let ProblemKind::CorruptValue(reason) = &problem.kind {
            let name = problem.path.file_name().unwrap().to_str().unwrap();
            let why = if name == key_hash("bad-magic") {
                "magic"
            } else if name == key_hash("truncated") {
                "truncated"
            } else {
                "checksum"
            };
            assert!(reason.contains(why), "{name}: {reason}");
        }
    }
    assert_eq!(
        found(&store.fsck(false).unwrap()),
        expected,
        "a check changes nothing"
    );

    let report = store.fsck(true).unwrap();
    assert_eq!(found(&report), expected);
    assert!(report.problems.iter().all(|p| p.repaired), "{report:?}");
    let again = store.fsck(false).unwrap();
    assert!(again.problems.is_empty(), "{again:?}");

    assert_eq!(
        bucket.get("two-pointers").unwrap().as_deref(),
        Some(&b"value of two-pointers"[..])
    );
    for key in [
        "misplaced",
        "no-pointer",
        "missing",
        "bad-magic",
        "truncated",
        "bad-crc",
        "wrong-key",
    ] {
        assert_eq!(bucket.get(key).unwrap(), None, "{key} reads as deleted");
        bucket.set(key, b"fresh").unwrap();
        assert_eq!(
            bucket.get(key).unwrap().as_deref(),
            Some(&b"fresh"[..]),
            "{key} is writable again"
        );
    }
    // lost+found holds the damaged entries and is never read as keys.
    assert!(!names(&bucket.dir().join(LOST_AND_FOUND_DIR), "").is_empty());
    let mut listed = bucket.list_keys(None).unwrap().keys;
    listed.sort();
    let mut keys: Vec<&str> = vec![
        "a",
        "b",
        "misplaced",
        "no-pointer",
        "two-pointers",
        "missing",
    ];
    keys.extend(["bad-magic", "truncated", "bad-crc", "wrong-key"]);
    keys.sort();
    assert_eq!(listed, keys);
    assert!(store.fsck(false).unwrap().problems.is_empty());
    assert_healthy_keys_read(&store);
}

#[test]
fn repair_never_touches_a_healthy_key() {
    let dir = tempfile::tempdir().unwrap();
    let (store, bucket) = healthy(dir.path());
    let other = store.bucket("other").unwrap();
    let healthy_dirs = [
        key_dir(&bucket, "a"),
        key_dir(&bucket, "b"),
        key_dir(&bucket, "gone"),
        key_dir(&other, "k"),
    ];
    let before: Vec<_> = healthy_dirs.iter().map(|d| files(d)).collect();
    damage_every_kind(&bucket);

    store.fsck(true).unwrap();
    let after: Vec<_> = healthy_dirs.iter().map(|d| files(d)).collect();
    assert_eq!(before, after, "healthy key directories changed");
    assert_healthy_keys_read(&store);
}

#[test]
fn foreign_entries_at_every_level_are_reported_at_their_path_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (store, bucket) = healthy(dir.path());
    let buckets = dir.path().join("buckets");
    let a = key_dir(&bucket, "a");
    let shard = a.parent().unwrap().to_path_buf();
    // (path, whether it is a directory)
    let table = [
        (buckets.join("README"), false),         // a file where buckets are
        (buckets.join("Bad-Name"), true),        // a directory no identifier names
        (buckets.join("_x"), true),              // nor this one
        (bucket.dir().join("notes"), true),      // a directory in a bucket
        (bucket.dir().join("notes.txt"), false), // a file in a bucket
        (bucket.dir().join("AB"), true),         // an upper-case shard
        (bucket.dir().join("0g"), true),         // not hex
        (shard.join("not-a-hash"), true),        // a name in a shard that is no key hash
        (shard.join(key_hash("a").to_uppercase()), true), // upper-case hex
        (a.join("cur.7.1"), false),              // a short, unparsable pointer name
        (a.join("editor.swp"), false),           // a stray file in a key directory
    ];
    for (path, is_dir) in &table {
        if *is_dir {
            fs::create_dir_all(path).unwrap();
            fs::write(path.join("inside"), b"mine").unwrap();
        } else {
            fs::write(path, b"mine").unwrap();
        }
    }
    let foreign: Vec<PathBuf> = table.into_iter().map(|(path, _)| path).collect();
    let before: BTreeMap<_, _> = foreign.iter().map(|p| (p.clone(), files(p))).collect();

    for repair in [false, true] {
        let report = store.fsck(repair).unwrap();
        let mut expected: Vec<(PathBuf, String)> = foreign
            .iter()
            .map(|p| (p.clone(), "Foreign".to_owned()))
            .collect();
        expected.sort();
        assert_eq!(found(&report), expected, "repair: {repair}");
        assert!(report.problems.iter().all(|p| !p.repaired), "{report:?}");
    }
    for path in &foreign {
        assert!(path.exists(), "{path:?} was removed");
    }
    let after: BTreeMap<_, _> = foreign.iter().map(|p| (p.clone(), files(p))).collect();
    assert_eq!(before, after);
    assert_eq!(store.buckets().unwrap(), ["", "other"]);
    assert_eq!(bucket.stats().unwrap().keys, 2);
    assert_healthy_keys_read(&store);
}

#[test]
fn cas_handles_taken_before_a_repair_fail_after_it() {
    // A repair that moved the damaged key's directory away would let the key's history start
    // again at seq 1: a handle taken while it was absent would then win its first write, and a
    // handle taken at a deletion (`cur.<seq>.0`: no random part) would win once the new history
    // reached the same seq. A repair by deletion on top of the current version allows neither.
    let dir = tempfile::tempdir().unwrap();
    let (store, bucket) = healthy(dir.path());
    let never_written = bucket.version("k").unwrap();
    bucket.set("k", b"1").unwrap();
    bucket.delete("k").unwrap();
    let deleted = bucket.version("k").unwrap();
    bucket.set("k", b"3").unwrap();
    let before_damage = bucket.version("k").unwrap();
    fs::write(one(&key_dir(&bucket, "k"), "val."), b"garbage").unwrap();

    let report = store.fsck(true).unwrap();
    assert_eq!(
        found(&report),
        [(key_dir(&bucket, "k"), "CorruptValue".to_owned())]
    );
    assert!(report.problems[0].repaired);
    assert!(
        !bucket.swap("k", never_written, b"stale").unwrap(),
        "a handle from before the first write won"
    );
    assert!(!bucket.swap("k", before_damage, b"stale").unwrap());
    // Walk the key through as many versions again as it had when `deleted` was taken.
    for _ in 0..3 {
        bucket.set("k", b"again").unwrap();
        bucket.delete("k").unwrap();
    }
    assert!(
        !bucket.swap("k", deleted, b"stale").unwrap(),
        "a handle taken at a deletion won"
    );
    assert_eq!(bucket.get("k").unwrap(), None);
    assert_healthy_keys_read(&store);
}

#[test]
fn old_temporaries_are_swept_and_young_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (store, bucket) = healthy(dir.path());
    let tmp = bucket.dir().join(virt_store_engine::internals::TMP_DIR);
    let old_file = tmp.join("00000000000000010000000000000001");
    let old_build = tmp.join("00000000000000020000000000000002.d");
    let young_file = tmp.join("00000000000000030000000000000003");
    let young_build = tmp.join("00000000000000040000000000000004.d");
    for build in [&old_build, &young_build] {
        fs::create_dir(build).unwrap();
        fs::write(
            build.join("val.0000000000000001.0000000000000001"),
            encode("new", b"v"),
        )
        .unwrap();
        fs::write(build.join("cur.0000000000000001.0000000000000001"), b"").unwrap();
    }
    fs::write(&old_file, b"staged").unwrap();
    fs::write(&young_file, b"staged").unwrap();
    let old = SWEEP_AGE + Duration::from_secs(60);
    set_age(&old_file, old);
    set_age(&old_build, old);
    // Just younger than the limit: may still belong to a live (if slow) writer.
    set_age(&young_file, SWEEP_AGE - Duration::from_secs(60));
    assert_eq!(bucket.stats().unwrap().temps, 4);

    let report = store.fsck(false).unwrap();
    assert!(
        report.problems.is_empty(),
        "temporaries are not damage: {report:?}"
    );
    assert_eq!(report.swept, 2);
    assert!(!old_file.exists() && !old_build.exists());
    assert!(
        young_file.exists()
            && young_build
                .join("cur.0000000000000001.0000000000000001")
                .exists()
    );
    assert_eq!(bucket.stats().unwrap().temps, 2);
    assert_eq!(store.fsck(true).unwrap().swept, 0);
    assert_eq!(
        bucket.get("new").unwrap(),
        None,
        "a build directory is never read"
    );
    assert_healthy_keys_read(&store);
}

#[test]
fn fsck_alongside_live_writers_reports_nothing_and_loses_no_write() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    store(&root)
        .bucket("")
        .unwrap()
        .set("flip", b"start")
        .unwrap();
    let (writers, each) = (3, 150);
    let done = Arc::new(AtomicBool::new(false));
    let checker = {
        let (root, done) = (root.clone(), done.clone());
        thread::spawn(move || {
            let store = store(&root);
            let mut runs = 0;
            let mut problems = Vec::new();
            while !done.load(Ordering::SeqCst) || runs == 0 {
                problems.extend(store.fsck(true).expect("fsck alongside writers").problems);
                runs += 1;
            }
            (runs, problems)
        })
    };
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let root = root.clone();
            thread::spawn(move || {
                let bucket = store(&root).bucket("").unwrap();
                for i in 0..each {
                    bucket.increment("shared", 1).expect("increment");
                    bucket.increment(&format!("own-{w}"), 1).expect("increment");
                    if i % 2 == 0 {
                        bucket
                            .set("flip", format!("{w}.{i}").as_bytes())
                            .expect("set");
                    } else {
                        bucket.delete("flip").expect("delete");
                    }
                    let (version, _) = bucket.read_versioned(&format!("cas-{w}")).expect("read");
                    assert!(bucket
                        .swap(&format!("cas-{w}"), version, i.to_string().as_bytes())
                        .expect("swap"));
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("writer panicked");
    }
    done.store(true, Ordering::SeqCst);
    let (runs, problems) = checker.join().expect("checker panicked");
    assert!(runs > 0);
    assert!(
        problems.is_empty(),
        "fsck saw damage in a healthy store being written: {problems:?}"
    );

    let bucket = store(&root).bucket("").unwrap();
    assert_eq!(
        bucket.get("shared").unwrap(),
        Some((writers * each).to_string().into_bytes())
    );
    for w in 0..writers {
        assert_eq!(
            bucket.get(&format!("own-{w}")).unwrap(),
            Some(each.to_string().into_bytes())
        );
        assert_eq!(
            bucket.get(&format!("cas-{w}")).unwrap(),
            Some((each - 1).to_string().into_bytes())
        );
    }
    let report = store(&root).fsck(false).unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
}

// Defects of `engine/src/fsck.rs` found in review. Each test fails on the current code.

#[test]
fn an_empty_key_directory_is_counted_as_swept() {
    let dir = tempfile::tempdir().unwrap();
    let (store, bucket) = healthy(dir.path());
    let empty = key_dir(&bucket, "never");
    fs::create_dir_all(&empty).unwrap();
    let report = store.fsck(false).unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
    assert!(!empty.exists());
    assert_eq!(report.swept, 1, "{report:?}");
}

#[test]
fn a_stray_newer_pointer_never_costs_the_real_value() {
    // A pointer newer than the real one, with no value file (a hand edit, or a restore from a
    // backup). Reads use the newest pointer, so the key reads as damaged; the real value file is
    // the only copy of the data: a check must leave it, a repair must keep it in lost+found.
    let dir = tempfile::tempdir().unwrap();
    let (store, bucket) = healthy(dir.path());
    let kd = key_dir(&bucket, "b");
    let value = one(&kd, "val.");
    let bytes = fs::read(&value).unwrap();
    fs::write(
        kd.join(format!("cur.{:016x}.00000000000000bb", seq(&kd) + 1)),
        b"",
    )
    .unwrap();

    let report = store.fsck(false).unwrap();
    assert!(
        found(&report).contains(&(kd.clone(), "SeveralPointers".to_owned())),
        "{report:?}"
    );
    assert!(
        value.exists(),
        "a check without --repair removed the only copy of the value"
    );

    store.fsck(true).unwrap();
    let kept = files(&bucket.dir().join(LOST_AND_FOUND_DIR));
    assert!(
        kept.values().any(|b| *b == bytes),
        "the real value was not kept: {kept:?}"
    );
    assert!(store.fsck(false).unwrap().problems.is_empty());
}

#[test]
fn an_unreadable_value_file_is_reported_and_the_check_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (store, bucket) = healthy(dir.path());
    // A directory where the current value file should be: reading it fails with "is a directory"
    // (as a file without read permission would, for a user other than root).
    let value = one(&key_dir(&bucket, "a"), "val.");
    fs::remove_file(&value).unwrap();
    fs::create_dir(&value).unwrap();
    // Damage in a bucket checked after this one must still be found.
    let later = store.bucket("zz").unwrap();
    later.set("k", b"v").unwrap();
    fs::remove_file(one(&key_dir(&later, "k"), "val.")).unwrap();

    for repair in [false, true] {
        let report = store.fsck(repair).unwrap();
        let paths: Vec<&Path> = report.problems.iter().map(|p| p.path.as_path()).collect();
        assert!(
            paths.iter().any(|p| p.starts_with(key_dir(&bucket, "a"))),
            "{report:?}"
        );
        assert!(
            paths.contains(&key_dir(&later, "k").as_path()),
            "{report:?}"
        );
    }
}

#[test]
fn stats_skip_files_shaped_like_shards_and_key_directories() {
    let dir = tempfile::tempdir().unwrap();
    let (store, bucket) = healthy(dir.path());
    let clean = bucket.stats().unwrap();
    // A file with a key's name in its shard, and a file named like an unused shard.
    let stray = key_dir(&bucket, "stray");
    fs::create_dir_all(stray.parent().unwrap()).unwrap();
    fs::write(&stray, b"not a directory").unwrap();
    let unused = (0..=0xffu32)
        .map(|s| format!("{s:02x}"))
        .find(|s| !bucket.dir().join(s).exists())
        .unwrap();
    fs::write(bucket.dir().join(&unused), b"not a shard").unwrap();

    let stats = bucket
        .stats()
        .expect("inspect works on a store with stray files");
    assert_eq!(
        (stats.keys, stats.tombstones, stats.value_bytes),
        (clean.keys, clean.tombstones, clean.value_bytes)
    );
    let report = store.fsck(false).unwrap();
    let mut expected = vec![
        (bucket.dir().join(unused), "Foreign".to_owned()),
        (stray, "Foreign".to_owned()),
    ];
    expected.sort();
    assert_eq!(found(&report), expected);
}

#[test]
fn a_pointerless_repair_leaves_foreign_files_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (store, bucket) = healthy(dir.path());
    let kd = key_dir(&bucket, "a");
    fs::remove_file(one(&kd, "p.")).unwrap();
    let notes = kd.join("notes.txt");
    fs::write(&notes, b"mine").unwrap();

    let report = store.fsck(true).unwrap();
    assert!(
        found(&report).contains(&(kd.clone(), "NoPointer".to_owned())),
        "{report:?}"
    );
    assert!(
        found(&report).contains(&(notes.clone(), "Foreign".to_owned())),
        "{report:?}"
    );
    assert_eq!(
        fs::read(&notes).unwrap(),
        b"mine",
        "a foreign file was moved"
    );
    assert_eq!(bucket.get("a").unwrap(), None);
}

#[test]
fn a_pointerless_repair_never_recreates_an_old_pointer_name() {
    // Tombstone pointers have no random part, so `cur.<seq>.0` is made again whenever a key
    // reaches the same seq by a deletion. History of `k`: set (1), set (2), delete (3, a handle
    // is taken here), set (4), delete (5). A writer that read version 1 and was killed after
    // moving its value `val.2.<nonce>` in leaves that file; then the pointer `cur.5.0` is lost.
    // The repair must not create `cur.3.0` again: the stale handle would win its swap although
    // two writes happened since it was taken.
    let dir = tempfile::tempdir().unwrap();
    let (store, bucket) = healthy(dir.path());
    let kd = key_dir(&bucket, "k");
    bucket.set("k", b"1").unwrap();
    bucket.set("k", b"2").unwrap();
    bucket.delete("k").unwrap();
    let handle = bucket.version("k").unwrap();
    let deleted_at = seq(&kd);
    bucket.set("k", b"4").unwrap();
    bucket.delete("k").unwrap();
    fs::write(
        kd.join(format!("val.{:016x}.00000000000000aa", deleted_at - 1)),
        encode("k", b"relic"),
    )
    .unwrap();
    fs::remove_file(one(&kd, "p.")).unwrap();

    let report = store.fsck(true).unwrap();
    assert_eq!(found(&report), [(kd.clone(), "NoPointer".to_owned())]);
    assert!(
        !bucket.swap("k", handle, b"stale").unwrap(),
        "a handle from before two writes won its swap"
    );
    assert_eq!(bucket.get("k").unwrap(), None);
}
