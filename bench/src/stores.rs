//! The stores the cases run on, filled beforehand with `pre:<i>` keys of 100-byte values.
//!
//! Filling a big store through the component would take hours, so the engine's directory is
//! filled natively with durability off (the on-disk format is the same) and SQLite's file in one
//! transaction, once per size, under `target/bench-stores/`, and reused by later runs. Cases write
//! fresh keys of their own into the engine's store, which therefore grows; it is rebuilt once the
//! keys the benchmarks added exceed 10% of its size. SQLite's file is copied for every case.

use crate::native::{options, Sqlite};
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use virt_store_engine::Store;

/// Bytes of each preset value.
pub const PRESET_VALUE: usize = 100;

/// The cache of populated stores.
pub struct Stores {
    root: PathBuf,
    /// Stores populated during this run: `(what, keys, time)`.
    pub populated: Mutex<Vec<(&'static str, usize, Duration)>>,
}

impl Stores {
    /// The cache at `root`; clears what an interrupted run left in its scratch directory.
    pub fn new(root: PathBuf) -> Result<Self> {
        let scratch = root.join("scratch");
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch)
                .with_context(|| format!("cannot clear `{}`", scratch.display()))?;
        }
        std::fs::create_dir_all(&scratch)
            .with_context(|| format!("cannot create `{}`", scratch.display()))?;
        let root = root.canonicalize()?;
        Ok(Self {
            root,
            populated: Mutex::new(Vec::new()),
        })
    }

    /// Fails now, rather than hours into a run, if the stores of `sizes` that are not built yet
    /// would not fit on the disk.
    pub fn preflight(&self, sizes: &[usize]) -> Result<()> {
        let missing: usize = sizes
            .iter()
            .filter(|keys| read_manifest(&self.root.join(format!("engine-{keys}"))).is_none())
            .sum();
        check_space(&self.root, missing)
    }

    /// Fails if the disk cannot take `bytes` more (a case's writes).
    pub fn check_free(&self, bytes: u64, what: &str) -> Result<()> {
        check_free(&self.root, bytes, what)
    }

    /// A scratch directory on the same disk as the stores, removed when dropped.
    pub fn scratch(&self) -> Result<tempfile::TempDir> {
        Ok(tempfile::tempdir_in(self.root.join("scratch"))?)
    }

    /// The engine store of `keys` preset keys, (re)built first if it is missing, was left
    /// incomplete, or has grown by more than 10% through earlier cases.
    pub fn engine(&self, keys: usize) -> Result<PathBuf> {
        let dir = self.root.join(format!("engine-{keys}"));
        let store = dir.join("store");
        if let Some(extra) = read_manifest(&dir) {
            if extra * 10 <= keys {
                return Ok(store);
            }
            eprintln!("bench: the {keys}-key store has grown by {extra} keys; rebuilding it");
        }
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot remove `{}`", dir.display()))?;
        }
        check_space(&self.root, keys)?;
        eprintln!(
            "bench: populating {keys} keys natively into `{}`",
            store.display()
        );
        let started = Instant::now();
        populate_engine(&store, keys)?;
        self.populated
            .lock()
            .expect("not poisoned")
            .push(("engine", keys, started.elapsed()));
        write_manifest(&dir, 0)?;
        Ok(store)
    }

    /// Records that `new_keys` keys were added to the engine store of `keys` keys.
    pub fn charge(&self, keys: usize, new_keys: usize) -> Result<()> {
        let dir = self.root.join(format!("engine-{keys}"));
        let extra = read_manifest(&dir).unwrap_or(0);
        write_manifest(&dir, extra + new_keys)
    }

    /// A fresh copy at `dest` of the SQLite database of `keys` preset keys (built once).
    pub fn sqlite(&self, keys: usize, dest: &Path) -> Result<()> {
        let pristine = self.root.join(format!("sqlite-{keys}.db"));
        let done = self.root.join(format!("sqlite-{keys}.complete"));
        if !done.exists() {
            let _ = std::fs::remove_file(&pristine);
            eprintln!(
                "bench: populating {keys} keys into `{}`",
                pristine.display()
            );
            let started = Instant::now();
            Sqlite::open(&pristine, false)?.populate(keys, &[b'p'; PRESET_VALUE])?;
            self.populated
                .lock()
                .expect("not poisoned")
                .push(("SQLite", keys, started.elapsed()));
            std::fs::write(&done, "")?;
        }
        std::fs::copy(&pristine, dest).with_context(|| {
            format!(
                "cannot copy `{}` to `{}`",
                pristine.display(),
                dest.display()
            )
        })?;
        Ok(())
    }
}

/// Disk a populated key takes: its directory and a value file of one block each (measured on
/// ext4: 817 MiB for 100k keys), and a margin.
pub const BYTES_PER_KEY: u64 = 9 * 1024;

/// Refuses to populate `keys` keys where the disk cannot hold them, rather than fill it.
fn check_space(root: &Path, keys: usize) -> Result<()> {
    check_free(
        root,
        keys as u64 * BYTES_PER_KEY,
        &format!("{keys} keys to populate"),
    )
}

/// Fails if the disk of `root` has less than `needed` bytes free (`what` says for what).
/// Skipped where `df` is missing or says something else.
pub fn check_free(root: &Path, needed: u64, what: &str) -> Result<()> {
    let Ok(output) = std::process::Command::new("df")
        .arg("-Pk")
        .arg(root)
        .output()
    else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let free = text
        .lines()
        .nth(1)
        .and_then(|line| line.split_whitespace().nth(3))
        .and_then(|kib| kib.parse::<u64>().ok());
    match free {
        Some(kib) if kib * 1024 < needed => anyhow::bail!(
            "{what} need about {:.1} GB on disk and `{}` has {:.1} GB free; free some space, or leave sizes out (`--sizes`, `--values`)",
            needed as f64 / 1e9,
            root.display(),
            (kib * 1024) as f64 / 1e9
        ),
        _ => Ok(()),
    }
}

/// The in-memory host's preset: the same keys and values.
pub fn in_memory_preset(keys: usize) -> HashMap<String, Vec<u8>> {
    (0..keys)
        .map(|i| (format!("pre:{i}"), vec![b'p'; PRESET_VALUE]))
        .collect()
}

/// Fills a new engine store at `dir`, on as many threads as there are cores.
fn populate_engine(dir: &Path, keys: usize) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let store = Store::open(dir, options(false))?;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    std::thread::scope(|scope| -> Result<()> {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let bucket = store.bucket("")?;
                Ok(scope.spawn(move || -> Result<()> {
                    let value = [b'p'; PRESET_VALUE];
                    for i in (t..keys).step_by(threads) {
                        bucket.set(&format!("pre:{i}"), &value)?;
                    }
                    Ok(())
                }))
            })
            .collect::<Result<_>>()?;
        for worker in workers {
            worker
                .join()
                .map_err(|_| anyhow::anyhow!("a populating thread panicked"))??;
        }
        Ok(())
    })
}

/// Keys added since the store was built; `None` if it is missing, incomplete or of another
/// format.
fn read_manifest(dir: &Path) -> Option<usize> {
    let text = std::fs::read_to_string(dir.join("manifest")).ok()?;
    let (format, extra) = text.split_once('\n')?;
    if format != virt_store_engine::FORMAT_MARKER.trim_end() {
        return None;
    }
    extra.trim().strip_prefix("extra ")?.parse().ok()
}

fn write_manifest(dir: &Path, extra: usize) -> Result<()> {
    let text = format!(
        "{}\nextra {extra}\n",
        virt_store_engine::FORMAT_MARKER.trim_end()
    );
    std::fs::write(dir.join("manifest"), text)
        .with_context(|| format!("cannot write `{}`", dir.join("manifest").display()))
}
