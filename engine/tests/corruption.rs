//! Fuzzing, as property tests: the value-file decoder on arbitrary and damaged bytes, and whole
//! store directories damaged at random (bytes flipped, files truncated, deleted or added). Damage
//! must be reported, never a panic, never another key's value; `fsck --repair` must leave every
//! key readable. `PROPTEST_CASES=N` runs longer (docs/RELIABILITY.md).

use std::fs;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use virt_store_engine::internals::{decode, encode};
use virt_store_engine::{Durability, Options, ProblemKind, Store};

proptest! {
    #[test]
    fn the_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode(&bytes);
    }

    #[test]
    fn any_damage_to_a_value_file_is_detected(
        key in ".{0,20}",
        value in proptest::collection::vec(any::<u8>(), 0..100),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
        cut in any::<prop::sample::Index>(),
    ) {
        let good = encode(&key, &value);
        let record = decode(&good).unwrap();
        prop_assert_eq!((record.key, record.value), (key.as_str(), value.as_slice()));
        let mut flipped = good.clone();
        flipped[at.index(good.len())] ^= flip;
        prop_assert!(decode(&flipped).is_err(), "a flipped byte went unnoticed");
        prop_assert!(decode(&good[..cut.index(good.len())]).is_err(), "a truncation went unnoticed");
    }
}

/// One way of damaging a store.
#[derive(Clone, Debug)]
enum Damage {
    Flip {
        file: prop::sample::Index,
        at: prop::sample::Index,
    },
    Truncate {
        file: prop::sample::Index,
        to: prop::sample::Index,
    },
    Remove {
        file: prop::sample::Index,
    },
    Junk {
        dir: prop::sample::Index,
        name: String,
    },
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<prop::sample::Index>(), any::<prop::sample::Index>())
            .prop_map(|(file, at)| Damage::Flip { file, at }),
        (any::<prop::sample::Index>(), any::<prop::sample::Index>())
            .prop_map(|(file, to)| Damage::Truncate { file, to }),
        any::<prop::sample::Index>().prop_map(|file| Damage::Remove { file }),
        (any::<prop::sample::Index>(), "[a-z0-9._-]{1,12}")
            .prop_map(|(dir, name)| Damage::Junk { dir, name }),
    ]
}

/// Every file and directory under `dir`, sorted.
fn walk(dir: &Path, files: &mut Vec<PathBuf>, dirs: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            dirs.push(path.clone());
            walk(&path, files, dirs);
        } else {
            files.push(path);
        }
    }
}

fn apply(root: &Path, damage: &Damage) {
    let (mut files, mut dirs) = (Vec::new(), vec![root.to_path_buf()]);
    walk(root, &mut files, &mut dirs);
    match damage {
        Damage::Flip { file, at } if !files.is_empty() => {
            let path = &files[file.index(files.len())];
            let mut bytes = fs::read(path).unwrap();
            if !bytes.is_empty() {
                let i = at.index(bytes.len());
                bytes[i] ^= 0x5a;
                fs::write(path, bytes).unwrap();
            }
        }
        Damage::Truncate { file, to } if !files.is_empty() => {
            let path = &files[file.index(files.len())];
            let len = fs::metadata(path).unwrap().len() as usize;
            fs::File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_len(to.index(len.max(1)) as u64)
                .unwrap();
        }
        Damage::Remove { file } if !files.is_empty() => {
            fs::remove_file(&files[file.index(files.len())]).unwrap()
        }
        Damage::Junk { dir, name } => {
            let _ = fs::write(dirs[dir.index(dirs.len())].join(name), b"junk");
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64), ..ProptestConfig::default() })]

    #[test]
    fn a_damaged_store_reports_damage_and_fsck_repairs_it(damages in proptest::collection::vec(damage(), 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        let keys: Vec<(String, Vec<u8>)> = (0..12).map(|i| (format!("key-{i}"), format!("value of {i}").into_bytes())).collect();
        {
            let store = Store::open(dir.path(), Options { durability: Durability::NoSync }).unwrap();
            let bucket = store.bucket("").unwrap();
            bucket.set_many(&keys).unwrap();
            bucket.delete("key-0").unwrap();
            store.bucket("other").unwrap().set("k", b"v").unwrap();
        }
        for d in &damages {
            apply(dir.path(), d);
        }
        // Opening may refuse a damaged marker; it must not panic.
        let Ok(store) = Store::open(dir.path(), Options { durability: Durability::NoSync }) else { return Ok(()) };
        let Ok(bucket) = store.bucket("") else { return Ok(()) };
        for (key, value) in &keys[1..] {
            // A value read is the key's own, whole; damage is an error or a lost key.
            if let Ok(Some(read)) = bucket.get(key) {
                prop_assert_eq!(&read, value);
            }
        }
        let _ = bucket.list_keys(None);
        // Damage is reported, never an error that ends the check.
        let repaired = store.fsck(true);
        prop_assert!(repaired.is_ok(), "fsck --repair failed: {:?}", repaired);
        let report = store.fsck(false).unwrap();
        prop_assert!(
            report.problems.iter().all(|p| p.kind == ProblemKind::Foreign),
            "problems left after repair: {:?}", report.problems
        );
        for (key, value) in &keys[1..] {
            let read = bucket.get(key);
            prop_assert!(read.is_ok(), "`{}` unreadable after repair: {:?}", key, read);
            if let Ok(Some(read)) = read {
                prop_assert_eq!(&read, value);
            }
        }
    }
}
