//! A bucket: the public operations on keys, each a thin loop over the key-directory protocol.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::error::{io_err, Error, KeyDisplay, Result};
use crate::fs::{FileSystem, Kind};
use crate::keydir::{KeyDir, Read, Snapshot, Staged, Syncs};
use crate::limits::{MAX_ATTEMPTS, MAX_BATCH_KEYS, MAX_KEY_BYTES, MAX_VALUE_BYTES};
use crate::names::{key_hash, Version, TMP_DIR};
use crate::sync::{sync_dir, Durability};

/// Sets (one per key of a `set_many`) and increments sweep `tmp/` once in this many, on average;
/// deletes and swaps never do (a swap that fails leaves nothing behind, and deletes stage nothing).
pub const SWEEP_ONE_IN: u64 = 256;

/// Age past which a temporary is debris.
pub const SWEEP_AGE: Duration = Duration::from_secs(15 * 60);

/// A key's version as seen by a compare-and-swap handle: a swap succeeds only if no write reached
/// the key since. Versions are never reused, so A→B→A is a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CasVersion(pub(crate) Version);

/// A bucket of a store: a directory of keys.
#[derive(Debug, Clone)]
pub struct Bucket {
    fs: Arc<dyn FileSystem>,
    dir: PathBuf,
    tmp: PathBuf,
    durability: Durability,
}

impl Bucket {
    pub(crate) fn new(fs: Arc<dyn FileSystem>, dir: PathBuf, durability: Durability) -> Bucket {
        let tmp = dir.join(TMP_DIR);
        Bucket {
            fs,
            dir,
            tmp,
            durability,
        }
    }

    /// The filesystem the bucket is on.
    pub(crate) fn fs(&self) -> &dyn FileSystem {
        &*self.fs
    }

    /// The bucket's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The value of `key`, if any.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.key_dir(key)?.snapshot(Read::Value)?.value)
    }

    /// Whether `key` has a value.
    pub fn exists(&self, key: &str) -> Result<bool> {
        Ok(!self
            .key_dir(key)?
            .snapshot(Read::Version)?
            .version
            .is_tombstone())
    }

    /// Sets `key` to `value`.
    pub fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        self.set_with(key, value, None, &mut self.syncs_now())
    }

    /// Deletes `key`; deleting an absent key does nothing (and changes no version).
    pub fn delete(&self, key: &str) -> Result<()> {
        let mut syncs = self.syncs_now();
        self.delete_with(key, &mut syncs)
    }

    /// Adds `delta` to the base-10 integer stored at `key` (absent counts as 0) and returns the
    /// new value, stored as ASCII base-10 text.
    pub fn increment(&self, key: &str, delta: i64) -> Result<i64> {
        let parse = |text: &str| text.parse::<i64>().ok().map(i128::from);
        self.add(
            key,
            i128::from(delta),
            parse,
            i128::from(i64::MIN)..=i128::from(i64::MAX),
            "an integer",
        )
        .map(|n| n as i64)
    }

    /// [`Bucket::increment`] for counters that are never negative (`wasi:keyvalue@0.2.0-draft`):
    /// the stored value must be a base-10 integer from 0 to `u64::MAX`.
    pub fn increment_unsigned(&self, key: &str, delta: u64) -> Result<u64> {
        // Rust's u64 parser, as wasmtime's host uses: "-0" is refused, not read as 0.
        let parse = |text: &str| text.parse::<u64>().ok().map(i128::from);
        self.add(
            key,
            i128::from(delta),
            parse,
            0..=i128::from(u64::MAX),
            "a non-negative integer",
        )
        .map(|n| n as u64)
    }

    /// Adds `delta` to the integer at `key`, read by `parse`; the sum must lie in `range`.
    fn add(
        &self,
        key: &str,
        delta: i128,
        parse: impl Fn(&str) -> Option<i128>,
        range: RangeInclusive<i128>,
        expected: &'static str,
    ) -> Result<i128> {
        let key_dir = self.key_dir(key)?;
        let mut syncs = self.syncs_now();
        for _ in 0..MAX_ATTEMPTS {
            let snapshot = key_dir.snapshot(Read::Value)?;
            let current = match &snapshot.value {
                None => 0,
                Some(bytes) => std::str::from_utf8(bytes)
                    .ok()
                    .and_then(&parse)
                    .ok_or_else(|| Error::NotANumber {
                        key: KeyDisplay::new(key),
                        expected,
                    })?,
            };
            let new = current + delta;
            if !range.contains(&new) {
                return Err(Error::Overflow {
                    key: KeyDisplay::new(key),
                    delta,
                });
            }
            let staged = Staged::write(
                self.fs(),
                &self.tmp,
                key,
                new.to_string().as_bytes(),
                self.syncs_files(),
            )?;
            if key_dir.commit(&snapshot, Some(staged), &self.tmp, &mut syncs)? {
                self.maybe_sweep();
                return Ok(new);
            }
        }
        Err(contention(key))
    }

    /// The current version and value of `key`, for a compare-and-swap.
    pub fn read_versioned(&self, key: &str) -> Result<(CasVersion, Option<Vec<u8>>)> {
        let snapshot = self.key_dir(key)?.snapshot(Read::Value)?;
        Ok((CasVersion(snapshot.version), snapshot.value))
    }

    /// The current version of `key`, for a compare-and-swap (cheaper: no value read).
    pub fn version(&self, key: &str) -> Result<CasVersion> {
        Ok(CasVersion(
            self.key_dir(key)?.snapshot(Read::Version)?.version,
        ))
    }

    /// Sets `key` to `value` if its version is still `expected`. Returns false, changing
    /// nothing, if any write reached the key since.
    pub fn swap(&self, key: &str, expected: CasVersion, value: &[u8]) -> Result<bool> {
        let key_dir = self.key_dir(key)?;
        check_value(key, value)?;
        let staged = Staged::write(self.fs(), &self.tmp, key, value, self.syncs_files())?;
        key_dir.commit(
            &Snapshot::at(expected.0),
            Some(staged),
            &self.tmp,
            &mut self.syncs_now(),
        )
    }

    /// The values of `keys`, in order.
    pub fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        check_batch(keys.len())?;
        for key in keys {
            check_key(key)?;
        }
        keys.iter().map(|key| self.get(key)).collect()
    }

    /// Sets each key in order (a repeated key ends with its last value). Not atomic as a whole:
    /// on error, earlier keys stay set. With syncing on, all value files are synced together and
    /// each touched directory once, after all the writes (group commit).
    pub fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<()> {
        check_batch(entries.len())?;
        for (key, value) in entries {
            check_key(key)?;
            check_value(key, value)?;
        }
        if self.durability == Durability::NoSync {
            return entries
                .iter()
                .try_for_each(|(key, value)| self.set(key, value));
        }
        // Group commit: write every value file, sync them one after the other, commit every key,
        // then sync each touched directory once.
        let staged = entries
            .iter()
            .map(|(key, value)| Staged::write(self.fs(), &self.tmp, key, value, false))
            .collect::<Result<Vec<_>>>()?;
        for file in &staged {
            file.sync()?;
        }
        let mut syncs = Syncs::Later(Vec::new());
        for ((key, value), file) in entries.iter().zip(staged) {
            self.set_with(key, value, Some(file), &mut syncs)?;
        }
        self.finish_group(syncs)
    }

    /// Deletes each key; absent keys are skipped. Not atomic as a whole.
    pub fn delete_many(&self, keys: &[String]) -> Result<()> {
        check_batch(keys.len())?;
        for key in keys {
            check_key(key)?;
        }
        let mut syncs = match self.durability {
            Durability::Sync => Syncs::Later(Vec::new()),
            Durability::NoSync => Syncs::Off,
        };
        for key in keys {
            self.delete_with(key, &mut syncs)?;
        }
        self.finish_group(syncs)
    }

    /// Removes temporaries older than `older_than` from the bucket's `tmp/` directory: the debris
    /// of writers killed mid-write. Returns how many it removed. Live writers' temporaries are
    /// younger than any sensible age (a write takes milliseconds); sets and increments call this with
    /// probability 1/[`SWEEP_ONE_IN`] and an age of [`SWEEP_AGE`].
    pub fn sweep_temps(&self, older_than: Duration) -> Result<usize> {
        let now = SystemTime::now();
        let mut removed = 0;
        for name in self.fs.list(&self.tmp).map_err(io_err("list", &self.tmp))? {
            // A temporary removed by another sweeper while listing is one less to remove.
            let Ok(name) = name else { continue };
            let path = self.tmp.join(name);
            let Ok(modified) = self.fs.modified(&path) else {
                continue;
            };
            if now
                .duration_since(modified)
                .is_ok_and(|age| age >= older_than)
            {
                let gone = match self.fs.kind(&path) {
                    Ok(Kind::Dir) => self.fs.remove_dir_all(&path),
                    _ => self.fs.remove_file(&path),
                };
                if gone.is_ok() {
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// Sweeps `tmp/` on one set or increment in [`SWEEP_ONE_IN`], so debris never accumulates and no
    /// single open or write pays for a scan. A failed sweep does not fail the write.
    fn maybe_sweep(&self) {
        if crate::names::nonce().is_ok_and(|n| n.is_multiple_of(SWEEP_ONE_IN)) {
            let _ = self.sweep_temps(SWEEP_AGE);
        }
    }

    /// Commits a deletion on top of `version` of the key directory `dir`, as a writer would,
    /// without knowing its key (for `fsck`, on keys whose value file is damaged). Returns false if
    /// another write got there first.
    pub(crate) fn delete_version(&self, dir: &Path, version: Version) -> Result<bool> {
        let shard = dir.parent().unwrap_or(&self.dir).to_path_buf();
        let key_dir = KeyDir {
            fs: self.fs(),
            key: "",
            shard,
            dir: dir.to_path_buf(),
        };
        key_dir.commit(
            &Snapshot::at(version),
            None,
            &self.tmp,
            &mut self.syncs_now(),
        )
    }

    pub(crate) fn key_dir<'a>(&'a self, key: &'a str) -> Result<KeyDir<'a>> {
        check_key(key)?;
        let hash = key_hash(key);
        let shard = self.dir.join(&hash[..2]);
        let dir = shard.join(&hash);
        Ok(KeyDir {
            fs: self.fs(),
            key,
            shard,
            dir,
        })
    }

    /// Sets `key`, committing `staged` first if given (already written and synced), then fresh
    /// value files for each retry.
    fn set_with(
        &self,
        key: &str,
        value: &[u8],
        mut staged: Option<Staged<'_>>,
        syncs: &mut Syncs,
    ) -> Result<()> {
        let key_dir = self.key_dir(key)?;
        check_value(key, value)?;
        for _ in 0..MAX_ATTEMPTS {
            let staged = match staged.take() {
                Some(staged) => staged,
                None => Staged::write(self.fs(), &self.tmp, key, value, self.syncs_files())?,
            };
            let snapshot = key_dir.snapshot(Read::Version)?;
            if key_dir.commit(&snapshot, Some(staged), &self.tmp, syncs)? {
                self.maybe_sweep();
                return Ok(());
            }
        }
        Err(contention(key))
    }

    fn delete_with(&self, key: &str, syncs: &mut Syncs) -> Result<()> {
        let key_dir = self.key_dir(key)?;
        for _ in 0..MAX_ATTEMPTS {
            let snapshot = key_dir.snapshot(Read::Version)?;
            if snapshot.version.is_tombstone()
                || key_dir.commit(&snapshot, None, &self.tmp, syncs)?
            {
                return Ok(());
            }
        }
        Err(contention(key))
    }

    fn finish_group(&self, syncs: Syncs) -> Result<()> {
        if let Syncs::Later(mut dirs) = syncs {
            dirs.sort();
            dirs.dedup();
            for dir in &dirs {
                sync_dir(self.fs(), dir)?;
            }
        }
        Ok(())
    }

    fn syncs_now(&self) -> Syncs {
        match self.durability {
            Durability::Sync => Syncs::Now,
            Durability::NoSync => Syncs::Off,
        }
    }

    fn syncs_files(&self) -> bool {
        self.durability == Durability::Sync
    }
}

pub(crate) fn check_key(key: &str) -> Result<()> {
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::KeyTooLong {
            key: KeyDisplay::new(key),
            len: key.len(),
        });
    }
    Ok(())
}

fn check_value(key: &str, value: &[u8]) -> Result<()> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(Error::ValueTooLarge {
            key: KeyDisplay::new(key),
            len: value.len(),
        });
    }
    Ok(())
}

fn check_batch(len: usize) -> Result<()> {
    if len > MAX_BATCH_KEYS {
        return Err(Error::BatchTooLarge { len });
    }
    Ok(())
}

fn contention(key: &str) -> Error {
    Error::Contention {
        key: KeyDisplay::new(key),
        attempts: MAX_ATTEMPTS,
    }
}
