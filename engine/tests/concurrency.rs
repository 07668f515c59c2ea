//! Many writers on one directory: threads (each with its own `Store`, as separate instances are)
//! and OS processes (this test binary re-run as a worker). No write may be lost.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::thread;

use virt_store_engine::{Bucket, Durability, Options, Store};

fn bucket(dir: &Path, durability: Durability) -> Bucket {
    Store::open(dir, Options { durability })
        .expect("open store")
        .bucket("")
        .expect("open bucket")
}

/// Increments `key` by 1, `count` times, with a CAS loop (read, swap, retry on conflict).
fn cas_increments(bucket: &Bucket, key: &str, count: u64) -> u64 {
    let mut conflicts = 0;
    for _ in 0..count {
        loop {
            let (version, value) = bucket.read_versioned(key).expect("cas read");
            let n: u64 = value.map_or(0, |v| {
                String::from_utf8(v)
                    .expect("utf-8")
                    .parse()
                    .expect("number")
            });
            if bucket
                .swap(key, version, (n + 1).to_string().as_bytes())
                .expect("swap")
            {
                break;
            }
            conflicts += 1;
        }
    }
    conflicts
}

fn on_threads(threads: usize, work: impl Fn(usize) + Send + Sync + 'static) {
    let work = Arc::new(work);
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let (work, start) = (work.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                work(i)
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("worker thread panicked");
    }
}

#[test]
fn increments_from_many_threads_are_all_counted() {
    for durability in [Durability::NoSync, Durability::Sync] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let (threads, each) = (
            8,
            if durability == Durability::Sync {
                40
            } else {
                250
            },
        );
        on_threads(threads, move |_| {
            let bucket = bucket(&path, durability);
            for _ in 0..each {
                bucket.increment("hits", 1).expect("increment");
            }
        });
        let total = bucket(dir.path(), durability).get("hits").unwrap();
        assert_eq!(
            total,
            Some((threads * each).to_string().into_bytes()),
            "{durability:?}"
        );
    }
}

#[test]
fn cas_loops_from_many_threads_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    on_threads(4, move |_| {
        cas_increments(&bucket(&path, Durability::NoSync), "n", 150);
    });
    assert_eq!(
        bucket(dir.path(), Durability::NoSync).get("n").unwrap(),
        Some(b"600".to_vec())
    );
}

#[test]
fn sets_increments_and_cas_on_one_key_interleave_without_loss() {
    // Half the threads increment, half run CAS loops, and one keeps overwriting another key in
    // the same shard-free way: the counter ends at the exact sum.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    on_threads(6, move |i| {
        let bucket = bucket(&path, Durability::NoSync);
        match i % 3 {
            0 => (0..100).for_each(|_| {
                bucket.increment("mixed", 1).expect("increment");
            }),
            1 => {
                cas_increments(&bucket, "mixed", 100);
            }
            _ => (0..100).for_each(|n| bucket.set("other", n.to_string().as_bytes()).expect("set")),
        }
    });
    let bucket = bucket(dir.path(), Durability::NoSync);
    assert_eq!(bucket.get("mixed").unwrap(), Some(b"400".to_vec()));
    assert_eq!(bucket.get("other").unwrap(), Some(b"99".to_vec()));
}

#[test]
fn exactly_one_first_write_wins_a_race_on_a_new_key() {
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let wins = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = wins.clone();
        let key = format!("new-{round}");
        // Every thread reads the key as absent before any of them swaps.
        let read = Arc::new(Barrier::new(8));
        on_threads(8, move |i| {
            let bucket = bucket(&path, Durability::NoSync);
            let version = bucket.version(&key).expect("version");
            read.wait();
            if bucket
                .swap(&key, version, format!("writer {i}").as_bytes())
                .expect("swap")
            {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        assert_eq!(
            wins.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "round {round}"
        );
    }
}

#[test]
fn a_listing_sees_every_stable_key_once_while_others_write() {
    let dir = tempfile::tempdir().unwrap();
    let stable: BTreeSet<String> = (0..2500).map(|i| format!("stable-{i}")).collect();
    let setup = bucket(dir.path(), Durability::NoSync);
    let entries: Vec<(String, Vec<u8>)> =
        stable.iter().map(|k| (k.clone(), b"v".to_vec())).collect();
    for chunk in entries.chunks(1000) {
        setup.set_many(chunk).unwrap();
    }
    let path = dir.path().to_path_buf();
    let writer = thread::spawn(move || {
        let bucket = bucket(&path, Durability::NoSync);
        for i in 0..1500 {
            bucket.set(&format!("churn-{}", i % 300), b"x").unwrap();
            bucket
                .delete(&format!("churn-{}", (i + 150) % 300))
                .unwrap();
        }
    });
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = setup.list_keys(cursor.as_deref()).unwrap();
        assert!(page.keys.len() <= virt_store_engine::limits::MAX_PAGE_KEYS);
        seen.extend(page.keys.into_iter().filter(|k| k.starts_with("stable-")));
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    writer.join().unwrap();
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "a stable key was listed twice");
    assert_eq!(unique, stable);
}

/// Worker entry point for the process tests: does nothing unless run by them.
#[test]
fn worker() {
    let Ok(spec) = std::env::var("ENGINE_TEST_WORKER") else {
        return;
    };
    let [dir, mode, key, count]: [&str; 4] = spec
        .split('|')
        .collect::<Vec<_>>()
        .try_into()
        .expect("worker spec");
    let count: u64 = count.parse().unwrap();
    let bucket = bucket(Path::new(dir), Durability::NoSync);
    match mode {
        "increment" => (0..count).for_each(|_| {
            bucket.increment(key, 1).expect("increment");
        }),
        "cas" => {
            cas_increments(&bucket, key, count);
        }
        other => panic!("unknown worker mode {other}"),
    }
}

fn spawn_workers(dir: &Path, mode: &str, key: &str, processes: usize, count: u64) {
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..processes)
        .map(|_| {
            Command::new(&exe)
                .args(["--exact", "worker", "--test-threads", "1"])
                .env(
                    "ENGINE_TEST_WORKER",
                    format!("{}|{mode}|{key}|{count}", dir.display()),
                )
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("spawn worker process")
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a worker process failed");
    }
}

#[test]
fn increments_and_cas_from_many_processes_are_all_counted() {
    let dir = tempfile::tempdir().unwrap();
    spawn_workers(dir.path(), "increment", "p", 4, 200);
    spawn_workers(dir.path(), "cas", "q", 4, 100);
    let bucket = bucket(dir.path(), Durability::NoSync);
    assert_eq!(bucket.get("p").unwrap(), Some(b"800".to_vec()));
    assert_eq!(bucket.get("q").unwrap(), Some(b"400".to_vec()));
}
