//! A bucket: the public operations on keys, each a thin loop over the key-directory protocol.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::error::{io_err, Result};
use crate::fs::{FileSystem, Kind};
use crate::keydir::{KeyDir, KeyEntry, NewValue, Read, Snapshot, Syncs};
use crate::limits::{check_batch, check_key, check_value, contention, Counter, MAX_ATTEMPTS};
use crate::names::{inline_limit, key_hash, temp_name, Version, TMP1_DIR, TMP_DIR};
use crate::record;
use crate::sync::{self, Durability};

/// Sets (one per key of a `set_many`) and increments sweep `tmp2/` (and a format-1 `tmp/`) once
/// in this many, on average; deletes and swaps never do (a swap that fails leaves nothing behind,
/// and deletes stage nothing).
pub const SWEEP_ONE_IN: u64 = 256;

/// Age past which a temporary is debris.
pub const SWEEP_AGE: Duration = Duration::from_secs(15 * 60);

/// A key's version as seen by a compare-and-swap handle: a swap succeeds only if no write reached
/// the key since. Versions are never reused, so A→B→A is a change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CasVersion {
    version: Version,
    /// The exact name of the pointer that the handle saw (`None`: the key had none). A pointer's
    /// name also carries its value, so the version alone does not spell it; kept, it lets a
    /// swap rename it without listing the directory first.
    pointer: Option<String>,
    /// How the key was named then: a swap names it only if it was not.
    key_entry: KeyEntry,
}

impl CasVersion {
    fn of(snapshot: &Snapshot) -> CasVersion {
        CasVersion {
            version: snapshot.version,
            pointer: snapshot.pointer.clone(),
            key_entry: snapshot.key_entry.clone(),
        }
    }
}

/// A bucket of a store: a directory of keys.
#[derive(Debug, Clone)]
pub struct Bucket {
    fs: Arc<dyn FileSystem>,
    dir: PathBuf,
    tmp: PathBuf,
    durability: Durability,
    /// Still laid out as format 1 (`tmp/`): converted before its first write.
    format1: Arc<AtomicBool>,
}

impl Bucket {
    pub(crate) fn new(
        fs: Arc<dyn FileSystem>,
        dir: PathBuf,
        durability: Durability,
        format1: bool,
    ) -> Bucket {
        let tmp = dir.join(TMP_DIR);
        Bucket {
            fs,
            dir,
            tmp,
            durability,
            format1: Arc::new(AtomicBool::new(format1)),
        }
    }

    /// Whether the bucket is still a format-1 bucket, which no format-2 write has reached
    /// (its first write converts it: FORMAT.md, "Format 1").
    pub fn is_format1(&self) -> bool {
        self.format1.load(Ordering::Relaxed)
    }

    /// Converts a format-1 bucket before its first write: the store's marker says format 2,
    /// then `tmp/` becomes `tmp2/`, so that a format-1 provider, which takes a bucket with
    /// `tmp/` for its own, finds none and reads the marker instead (and refuses the store).
    fn writable(&self) -> Result<()> {
        if !self.is_format1() {
            return Ok(());
        }
        let root = self
            .dir
            .parent()
            .and_then(Path::parent)
            .unwrap_or(&self.dir);
        crate::store::upgrade_marker(self.fs(), root, self.durability)?;
        let old = self.dir.join(TMP1_DIR);
        match self.fs.rename(&old, &self.tmp) {
            Ok(()) => {
                if self.durability != Durability::NoSync {
                    sync::sync_dir(self.fs(), &self.dir)?;
                }
            }
            // Another instance converted it first. A `tmp/` beside `tmp2/` can only be a format-1
            // provider's, made in the moment of the first conversion (FORMAT.md, "Format 1"):
            // removed when empty, so that it stops taking the bucket for a format-1 one.
            Err(_) if self.fs.kind(&self.tmp).is_ok_and(|k| k == Kind::Dir) => {
                let _ = self.fs.remove_dir(&old);
            }
            Err(e) => return Err(io_err("convert to format 2", &self.dir)(e)),
        }
        self.format1.store(false, Ordering::Relaxed);
        Ok(())
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
        check_value(key, value)?;
        let mut syncs = self.syncs();
        self.set_with(key, NewValue::Bytes(value), &mut syncs)?;
        syncs.finish(self.fs())
    }

    /// Deletes `key`; deleting an absent key does nothing (and changes no version).
    pub fn delete(&self, key: &str) -> Result<()> {
        let mut syncs = self.syncs();
        self.delete_with(key, &mut syncs)?;
        syncs.finish(self.fs())
    }

    /// Adds `delta` to the base-10 integer stored at `key` (absent counts as 0) and returns the
    /// new value, stored as ASCII base-10 text.
    pub fn increment(&self, key: &str, delta: i64) -> Result<i64> {
        self.add(key, i128::from(delta), Counter::Signed)
            .map(|n| n as i64)
    }

    /// [`Bucket::increment`] for counters that are never negative (`wasi:keyvalue@0.2.0-draft`):
    /// the stored value must be a base-10 integer from 0 to `u64::MAX`.
    pub fn increment_unsigned(&self, key: &str, delta: u64) -> Result<u64> {
        self.add(key, i128::from(delta), Counter::Unsigned)
            .map(|n| n as u64)
    }

    /// Adds `delta` to the counter at `key`, by `counter`'s rules.
    fn add(&self, key: &str, delta: i128, counter: Counter) -> Result<i128> {
        let key_dir = self.key_dir(key)?;
        let mut syncs = self.syncs();
        for _ in 0..MAX_ATTEMPTS {
            let snapshot = key_dir.snapshot(Read::Value)?;
            let new = counter.add(key, snapshot.value.as_deref(), delta)?;
            self.writable()?;
            let text = new.to_string();
            if key_dir.commit(
                &snapshot,
                NewValue::Bytes(text.as_bytes()),
                &self.tmp,
                &mut syncs,
            )? {
                syncs.finish(self.fs())?;
                self.maybe_sweep();
                return Ok(new);
            }
        }
        Err(contention(key))
    }

    /// The current version and value of `key`, for a compare-and-swap.
    pub fn read_versioned(&self, key: &str) -> Result<(CasVersion, Option<Vec<u8>>)> {
        let snapshot = self.key_dir(key)?.snapshot(Read::Value)?;
        Ok((CasVersion::of(&snapshot), snapshot.value))
    }

    /// The current version of `key`, for a compare-and-swap (cheaper: no value read).
    pub fn version(&self, key: &str) -> Result<CasVersion> {
        Ok(CasVersion::of(&self.key_dir(key)?.snapshot(Read::Version)?))
    }

    /// Sets `key` to `value` if its version is still `expected`. Returns false, changing
    /// nothing, if any write reached the key since.
    pub fn swap(&self, key: &str, expected: CasVersion, value: &[u8]) -> Result<bool> {
        let key_dir = self.key_dir(key)?;
        check_value(key, value)?;
        self.writable()?;
        // The rename of exactly the pointer that the handle saw is the compare-and-swap: that
        // name exists only while its version is current, so nothing needs listing first.
        let Some(snapshot) =
            key_dir.as_seen(expected.version, expected.pointer, expected.key_entry)
        else {
            return Ok(false);
        };
        let mut syncs = self.syncs();
        let swapped = key_dir.commit(&snapshot, NewValue::Bytes(value), &self.tmp, &mut syncs)?;
        syncs.finish(self.fs())?;
        Ok(swapped)
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
    /// on error, earlier keys stay set. Values too large for a name go into one shared file,
    /// written and synced once, which each key's value file is a hard link to; every key is
    /// committed, then the changed directories are synced (group commit: one sync each, or one
    /// in all with [`Durability::SyncJournal`]).
    pub fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<()> {
        check_batch(entries.len())?;
        for (key, value) in entries {
            check_key(key)?;
            check_value(key, value)?;
        }
        self.writable()?;
        let mut syncs = self.syncs();
        let mut pack = Vec::new();
        let mut places = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            if value.len() > inline_limit() {
                let record = record::encode(key, value);
                places.push(Some((pack.len() as u64, record.len() as u64)));
                pack.extend_from_slice(&record);
            } else {
                places.push(None);
            }
        }
        let pack_path = self.tmp.join(temp_name()?);
        if !pack.is_empty() {
            self.fs
                .write_new(&pack_path, &pack, syncs.files())
                .map_err(io_err("write", &pack_path))?;
            if syncs.files() {
                sync::count();
            }
        }
        let written = entries
            .iter()
            .zip(places)
            .try_for_each(|((key, value), place)| {
                let new = match place {
                    Some((offset, len)) => NewValue::Packed {
                        pack: &pack_path,
                        offset,
                        len,
                    },
                    None => NewValue::Bytes(value),
                };
                self.set_with(key, new, &mut syncs)
            });
        if !pack.is_empty() {
            // Each key's value file is a link of its own; this name is no longer needed.
            let _ = self.fs.remove_file(&pack_path);
        }
        written?;
        syncs.finish(self.fs())
    }

    /// Deletes each key; absent keys are skipped. Not atomic as a whole.
    pub fn delete_many(&self, keys: &[String]) -> Result<()> {
        check_batch(keys.len())?;
        for key in keys {
            check_key(key)?;
        }
        let mut syncs = self.syncs();
        for key in keys {
            self.delete_with(key, &mut syncs)?;
        }
        syncs.finish(self.fs())
    }

    /// Removes temporaries older than `older_than` from the bucket's `tmp2/` (and a format-1
    /// `tmp/`): the debris of writers killed mid-write. Returns how many it removed. Live
    /// writers' temporaries are younger than any sensible age (a write takes milliseconds); sets
    /// and increments call this with probability 1/[`SWEEP_ONE_IN`] and an age of [`SWEEP_AGE`].
    pub fn sweep_temps(&self, older_than: Duration) -> Result<usize> {
        let now = SystemTime::now();
        let mut removed = 0;
        let mut names = Vec::new();
        for tmp in [&self.tmp, &self.dir.join(TMP1_DIR)] {
            match self.fs.list(tmp) {
                // A temporary removed by another sweeper while listing is one less to remove.
                Ok(listing) => names.extend(listing.into_iter().flatten().map(|n| tmp.join(n))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err("list", tmp)(e)),
            }
        }
        for path in names {
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

    /// Sweeps `tmp2/` on one set or increment in [`SWEEP_ONE_IN`], so debris never accumulates
    /// and no single open or write pays for a scan. A failed sweep does not fail the write.
    fn maybe_sweep(&self) {
        if crate::names::nonce().is_ok_and(|n| n.is_multiple_of(SWEEP_ONE_IN)) {
            let _ = self.sweep_temps(SWEEP_AGE);
        }
    }

    /// Commits a deletion on top of `version` of the key directory `dir`, as a writer would,
    /// without knowing its key (for `fsck`, on keys whose value file is damaged). Returns false if
    /// another write got there first.
    pub(crate) fn delete_version(&self, dir: &Path, version: Version) -> Result<bool> {
        self.writable()?;
        let shard = dir.parent().unwrap_or(&self.dir).to_path_buf();
        let key_dir = KeyDir {
            fs: self.fs(),
            key: None,
            shard,
            dir: dir.to_path_buf(),
        };
        let snapshot = key_dir.snapshot(Read::Version)?;
        if snapshot.version != version {
            return Ok(false);
        }
        let mut syncs = self.syncs();
        let deleted = key_dir.commit(&snapshot, NewValue::Delete, &self.tmp, &mut syncs)?;
        syncs.finish(self.fs())?;
        Ok(deleted)
    }

    pub(crate) fn key_dir<'a>(&'a self, key: &'a str) -> Result<KeyDir<'a>> {
        check_key(key)?;
        let hash = key_hash(key);
        let shard = self.dir.join(&hash[..2]);
        let dir = shard.join(&hash);
        Ok(KeyDir {
            fs: self.fs(),
            key: Some(key),
            shard,
            dir,
        })
    }

    /// Sets `key` to `new`, retrying from a fresh read until a commit wins.
    fn set_with(&self, key: &str, new: NewValue<'_>, syncs: &mut Syncs) -> Result<()> {
        let key_dir = self.key_dir(key)?;
        self.writable()?;
        for _ in 0..MAX_ATTEMPTS {
            let snapshot = key_dir.snapshot(Read::Version)?;
            if key_dir.commit(&snapshot, new, &self.tmp, syncs)? {
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
            if snapshot.version.is_tombstone() {
                return Ok(());
            }
            self.writable()?;
            if key_dir.commit(&snapshot, NewValue::Delete, &self.tmp, syncs)? {
                return Ok(());
            }
        }
        Err(contention(key))
    }

    fn syncs(&self) -> Syncs {
        Syncs::new(self.durability)
    }
}
