//! How many syncs each write issues, counted by the engine (`sync_count`), in each durability
//! mode: the costs FORMAT.md and DESIGN.md state. One test in this binary, so that no other
//! test's syncs are counted with it.

use virt_store_engine::{sync_count, Bucket, Durability, Options, Store};

fn syncs(f: impl FnOnce()) -> u64 {
    let before = sync_count();
    f();
    sync_count() - before
}

fn bucket(dir: &std::path::Path, durability: Durability) -> Bucket {
    Store::open(dir, Options { durability })
        .unwrap()
        .bucket("")
        .unwrap()
}

#[test]
fn each_write_issues_the_syncs_the_format_promises() {
    let batch = |prefix: &str, n: usize, len: usize| -> Vec<(String, Vec<u8>)> {
        (0..n)
            .map(|i| (format!("{prefix}{i}"), vec![b'v'; len]))
            .collect()
    };
    for durability in [Durability::Sync, Durability::SyncJournal] {
        let dir = tempfile::tempdir().unwrap();
        let b = bucket(dir.path(), durability);
        let journal = durability == Durability::SyncJournal;
        b.set("k", b"first").unwrap();
        b.set("n", b"0").unwrap();
        // A new key in an existing shard: its built directory and its shard, or one sync.
        let new_key = syncs(|| b.set("k2-in-a-fresh-shard-or-not", b"v").unwrap());
        assert!(
            if journal {
                new_key == 1
            } else {
                (2..=3).contains(&new_key)
            },
            "{durability:?}: new key {new_key}"
        );
        for (what, n) in [
            ("overwrite", syncs(|| b.set("k", &[b'o'; 100]).unwrap())),
            (
                "increment",
                syncs(|| {
                    b.increment("n", 1).unwrap();
                }),
            ),
            (
                "increment",
                syncs(|| {
                    b.increment("n", 1).unwrap();
                }),
            ),
            ("delete", syncs(|| b.delete("k").unwrap())),
            (
                "delete of an absent key",
                syncs(|| b.delete("k").unwrap()) + 1,
            ),
        ] {
            assert_eq!(n, 1, "{durability:?}: {what}");
        }
        // A large value: its file, then its directory (a new key's: built directory and shard,
        // and the bucket's when the shard is new).
        let first = syncs(|| b.set("big", &[b'b'; 1000]).unwrap());
        assert!(
            if journal {
                first == 2
            } else {
                (3..=4).contains(&first)
            },
            "{durability:?}: new key with a large value {first}"
        );
        assert_eq!(syncs(|| b.set("big", &[b'c'; 1000]).unwrap()), 2);

        let small = batch("s", 100, 100);
        b.set_many(&small).unwrap();
        let overwrite = syncs(|| b.set_many(&small).unwrap());
        assert_eq!(overwrite, if journal { 1 } else { 100 }, "{durability:?}");
        let large = batch("s", 100, 1000);
        let shared = syncs(|| b.set_many(&large).unwrap());
        assert_eq!(shared, if journal { 2 } else { 101 }, "{durability:?}");
        let deletes: Vec<String> = small.iter().map(|(k, _)| k.clone()).collect();
        let deleted = syncs(|| b.delete_many(&deletes).unwrap());
        assert_eq!(deleted, if journal { 1 } else { 100 }, "{durability:?}");
        assert_eq!(b.get("s7").unwrap(), None);
        assert_eq!(b.get("n").unwrap(), Some(b"2".to_vec()));
    }
    let dir = tempfile::tempdir().unwrap();
    let b = bucket(dir.path(), Durability::NoSync);
    assert_eq!(
        syncs(|| {
            b.set("k", b"v").unwrap();
            b.set_many(&batch("b", 10, 1000)).unwrap();
        }),
        0
    );
}
