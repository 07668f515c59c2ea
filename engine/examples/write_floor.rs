//! The write floor (issue 15): µs and syncs per operation for get, set of a new key, overwrite,
//! increment, delete and a set-many of 1,000 keys (100-byte values), with durability off and on,
//! natively on a directory. `SyncJournal` relies on ext4's journal (FORMAT.md, "What is assumed
//! of the filesystem"): measure it on ext4 only.
//!
//! `cargo run --release -p virt-store-engine --example write_floor [DIR]` (DIR defaults to a
//! temporary directory; pass one on the disk you care about). `VALUE_SIZE=10240` writes values of
//! that many bytes instead of 100.

use std::time::Instant;

use virt_store_engine::{sync_count, Durability, Options, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let temp = tempfile::tempdir()?;
    let root = std::env::args()
        .nth(1)
        .map_or_else(|| temp.path().to_path_buf(), Into::into);
    println!("| operation | durability | µs/op | syncs/op |");
    println!("|---|---|---:|---:|");
    let modes = [
        (Durability::NoSync, 2000),
        (Durability::Sync, 200),
        (Durability::SyncJournal, 200),
    ];
    for (durability, n) in modes {
        let dir = root.join(format!("{durability:?}"));
        std::fs::create_dir_all(&dir)?;
        let bucket = Store::open(&dir, Options { durability })?.bucket("")?;
        let size: usize = std::env::var("VALUE_SIZE")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(100);
        let value = vec![b'v'; size];
        let other = vec![b'w'; size];
        let report = |name: &str,
                      ops: usize,
                      f: &mut dyn FnMut(usize) -> virt_store_engine::Result<()>|
         -> virt_store_engine::Result<()> {
            let syncs = sync_count();
            let start = Instant::now();
            for i in 0..ops {
                f(i)?;
            }
            let micros = start.elapsed().as_secs_f64() * 1e6 / ops as f64;
            let per = (sync_count() - syncs) as f64 / ops as f64;
            println!("| {name} | {durability:?} | {micros:.1} | {per:.2} |");
            Ok(())
        };
        report("set (new key)", n, &mut |i| {
            bucket.set(&format!("k{i}"), &value)
        })?;
        report("get", n, &mut |i| bucket.get(&format!("k{i}")).map(drop))?;
        report("set (overwrite)", n, &mut |i| {
            bucket.set(&format!("k{i}"), &other)
        })?;
        report("increment", n, &mut |_| {
            bucket.increment("counter", 1).map(drop)
        })?;
        report("delete", n, &mut |i| bucket.delete(&format!("k{i}")))?;
        let batch: Vec<(String, Vec<u8>)> = (0..1000)
            .map(|i| (format!("b{i}"), value.clone()))
            .collect();
        report("set-many of 1,000 new keys (one call)", 1, &mut |_| {
            bucket.set_many(&batch)
        })?;
        let batch: Vec<(String, Vec<u8>)> = (0..1000)
            .map(|i| (format!("b{i}"), other.clone()))
            .collect();
        report("set-many of 1,000 overwrites (one call)", 1, &mut |_| {
            bucket.set_many(&batch)
        })?;
    }
    Ok(())
}
