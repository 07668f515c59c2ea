//! One key's directory, and the protocol that makes every write to it linearizable without locks.
//!
//! A key directory holds exactly one pointer, `cur.<seq>.<nonce>`, naming the current version, and
//! the value file `val.<seq>.<nonce>` of that version (none for a tombstone, nonce 0). A write
//! from version `v` to `w`:
//!
//! 1. moves a fully written temporary file to `val.<w>` (a name no one else can pick: the nonce
//!    is random);
//! 2. renames `cur.<v>` to `cur.<w>`. This is the commit: `cur.<v>` exists only while `v` is
//!    current and its name is never made again, so of all writers that read `v`, exactly one
//!    rename succeeds and the others fail with "not found", however late they come;
//! 3. removes the value files of `v` and older versions.
//!
//! A key's first write builds the directory (value file and pointer) under `tmp/` and renames it
//! into place, which fails if the directory already exists. Nothing is ever locked, so a writer
//! killed at any step leaves nothing that blocks others: at worst an unreferenced temporary or
//! value file, which later writers and `fsck` remove.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::error::{io_err, Error, KeyDisplay, Result};
use crate::fs::FileSystem;
use crate::limits::MAX_ATTEMPTS;
use crate::names::{entry, temp_name, Entry, Version};
use crate::record::{self, HEADER_LEN};
use crate::sync::{self, sync_dir, sync_file};

/// How many listings in a row may lack a pointer before the key directory is called corrupt.
/// A healthy directory always has one, so only a listing torn by a concurrent rename misses it.
const MAX_POINTERLESS_LISTINGS: u32 = 100;

/// What to read besides the version.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// The version only (one directory listing).
    Version,
    /// The version and the key stored in the value file (for listings).
    Key,
    /// The version and the value, checksum verified.
    Value,
}

/// A key's state at one instant.
pub(crate) struct Snapshot {
    pub version: Version,
    /// The stored key, when asked for and the version is not a tombstone.
    pub key: Option<String>,
    /// The value, when asked for and the version is not a tombstone.
    pub value: Option<Vec<u8>>,
    /// Value files seen that belong to this version's predecessors: garbage once a newer version
    /// is committed on top of this one.
    pub old_values: Vec<Version>,
}

impl Snapshot {
    /// The state a compare-and-swap handle remembers: just the version.
    pub fn at(version: Version) -> Snapshot {
        Snapshot {
            version,
            key: None,
            value: None,
            old_values: Vec::new(),
        }
    }
}

/// Where the directory syncs of a write go.
pub(crate) enum Syncs {
    /// Durability off.
    Off,
    /// Sync each directory as soon as the write is committed.
    Now,
    /// Collect the directories; the caller syncs each once (a batch's group commit).
    Later(Vec<PathBuf>),
}

impl Syncs {
    fn dir(&mut self, fs: &dyn FileSystem, path: &Path) -> Result<()> {
        match self {
            Syncs::Off => Ok(()),
            Syncs::Now => sync_dir(fs, path),
            Syncs::Later(dirs) => {
                dirs.push(path.to_path_buf());
                Ok(())
            }
        }
    }

    fn enabled(&self) -> bool {
        !matches!(self, Syncs::Off)
    }
}

/// A value file written under `tmp/`, ready to be moved into a key directory.
pub(crate) struct Staged<'a> {
    fs: &'a dyn FileSystem,
    path: PathBuf,
}

impl<'a> Staged<'a> {
    /// Writes `key` and `value` as a value file under `tmp`, synced when `sync` is set.
    pub fn write(
        fs: &'a dyn FileSystem,
        tmp: &Path,
        key: &str,
        value: &[u8],
        sync: bool,
    ) -> Result<Staged<'a>> {
        let path = tmp.join(temp_name()?);
        let staged = Staged { fs, path };
        let bytes = record::encode(key, value);
        fs.write_new(&staged.path, &bytes, sync)
            .map_err(io_err("write", &staged.path))?;
        if sync {
            sync::count();
        }
        Ok(staged)
    }

    /// Syncs the staged file (for batches that write all files before syncing any).
    pub fn sync(&self) -> Result<()> {
        sync_file(self.fs, &self.path)
    }
}

impl Drop for Staged<'_> {
    fn drop(&mut self) {
        // Gone already when it was committed; otherwise it is ours to clean up.
        let _ = self.fs.remove_file(&self.path);
    }
}

/// A key's directory inside a bucket.
pub(crate) struct KeyDir<'a> {
    pub fs: &'a dyn FileSystem,
    pub key: &'a str,
    pub shard: PathBuf,
    pub dir: PathBuf,
}

impl KeyDir<'_> {
    /// Reads the key's current version (and, if asked, its key or value). Linearizes at the
    /// listing that found the pointer: a pointer name exists only while its version is current.
    pub fn snapshot(&self, read: Read) -> Result<Snapshot> {
        let mut pointerless = 0;
        let mut missing_value: Option<Version> = None;
        loop {
            let Some(names) = list_names(self.fs, &self.dir)? else {
                return Ok(absent());
            };
            let empty = names.is_empty();
            let mut current: Option<Version> = None;
            let mut values = Vec::new();
            for name in &names {
                match entry(name) {
                    Entry::Cur(v) if current.is_none_or(|c| v.seq > c.seq) => current = Some(v),
                    Entry::Val(v) => values.push(v),
                    _ => {}
                }
            }
            let Some(version) = current else {
                // An empty directory is the debris of a first write cut short by an OS crash:
                // the key is absent, and the next first write renames over it.
                if empty {
                    return Ok(absent());
                }
                pointerless += 1;
                if pointerless >= MAX_POINTERLESS_LISTINGS {
                    return Err(self.corrupt(&self.dir, "no `cur.` version pointer".into()));
                }
                continue;
            };
            let old_values = values
                .into_iter()
                .filter(|v| v.seq <= version.seq && *v != version)
                .collect();
            let mut snapshot = Snapshot {
                version,
                key: None,
                value: None,
                old_values,
            };
            if read == Read::Version || version.is_tombstone() {
                return Ok(snapshot);
            }
            let path = self.dir.join(version.val_name());
            match self.read_value_file(&path, read) {
                Ok((key, value)) => {
                    snapshot.key = Some(key);
                    snapshot.value = value;
                    return Ok(snapshot);
                }
                // Superseded and removed since the listing: list again. A value file is only
                // removed after its version stopped being current, so the same pointer with
                // the value still missing means damage, not a race.
                Err(Error::Io { source, .. }) if source.kind() == ErrorKind::NotFound => {
                    if missing_value == Some(version) {
                        return Err(self
                            .corrupt(&path, "the current version's value file is missing".into()));
                    }
                    missing_value = Some(version);
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn read_value_file(&self, path: &Path, read: Read) -> Result<(String, Option<Vec<u8>>)> {
        if read == Read::Key {
            // Only the header and the key: listings do not pay for values.
            let prefix = self
                .fs
                .read(path, HEADER_LEN + crate::limits::MAX_KEY_BYTES)
                .map_err(io_err("read", path))?;
            let key = record::decode_key(&prefix).map_err(|e| self.corrupt(path, e.to_string()))?;
            return Ok((key.to_owned(), None));
        }
        let bytes = self
            .fs
            .read(path, usize::MAX)
            .map_err(io_err("read", path))?;
        let record = record::decode(&bytes).map_err(|e| self.corrupt(path, e.to_string()))?;
        if record.key != self.key {
            return Err(Error::Collision {
                key: KeyDisplay::new(self.key),
                stored: KeyDisplay::new(record.key),
            });
        }
        Ok((record.key.to_owned(), Some(record.value.to_vec())))
    }

    fn corrupt(&self, path: &Path, reason: String) -> Error {
        Error::Corrupt {
            path: path.to_path_buf(),
            reason,
        }
    }

    /// Tries to move the key from version `from` to a new version holding `staged` (a value) or
    /// nothing (a tombstone). Returns false if another write got there first; `staged` is then
    /// consumed either way and the caller stages again to retry.
    pub fn commit(
        &self,
        from: &Snapshot,
        staged: Option<Staged<'_>>,
        tmp: &Path,
        syncs: &mut Syncs,
    ) -> Result<bool> {
        let seq = from
            .version
            .seq
            .checked_add(1)
            .ok_or_else(|| self.corrupt(&self.dir, "version counter exhausted".into()))?;
        let new = Version {
            seq,
            nonce: if staged.is_some() {
                crate::names::nonce()?
            } else {
                0
            },
        };
        if from.version == Version::ABSENT {
            return match staged {
                Some(staged) => self.create(new, staged, tmp, syncs),
                // Deleting a key that was never written changes nothing.
                None => Ok(true),
            };
        }
        let val_path = self.dir.join(new.val_name());
        if let Some(staged) = &staged {
            self.fs
                .rename(&staged.path, &val_path)
                .map_err(io_err("move value into", &self.dir))?;
        }
        let cur_from = self.dir.join(from.version.cur_name());
        match self.fs.rename(&cur_from, &self.dir.join(new.cur_name())) {
            Ok(()) => {}
            Err(e) => {
                if staged.is_some() {
                    let _ = self.fs.remove_file(&val_path);
                }
                return if e.kind() == ErrorKind::NotFound {
                    Ok(false)
                } else {
                    Err(io_err("commit", &cur_from)(e))
                };
            }
        }
        syncs.dir(self.fs, &self.dir)?;
        // The new version is committed; the old values are unreachable. A failure to remove one
        // leaves garbage that the next writer or fsck removes, so it is not an error.
        let old = from
            .old_values
            .iter()
            .copied()
            .chain((!from.version.is_tombstone()).then_some(from.version));
        for version in old {
            let _ = self.fs.remove_file(&self.dir.join(version.val_name()));
        }
        Ok(true)
    }

    /// A first write: builds the directory under `tmp/` and renames it into place, which fails
    /// if the key directory exists (and is not empty) by then.
    fn create(
        &self,
        new: Version,
        staged: Staged<'_>,
        tmp: &Path,
        syncs: &mut Syncs,
    ) -> Result<bool> {
        let build = tmp.join(format!("{}.d", temp_name()?));
        self.fs
            .create_dir(&build)
            .map_err(io_err("create", &build))?;
        let result = self.create_from(&build, new, &staged, syncs);
        if !matches!(result, Ok(true)) {
            let _ = self.fs.remove_dir_all(&build);
        }
        result
    }

    fn create_from(
        &self,
        build: &Path,
        new: Version,
        staged: &Staged<'_>,
        syncs: &mut Syncs,
    ) -> Result<bool> {
        self.fs
            .rename(&staged.path, &build.join(new.val_name()))
            .map_err(io_err("move value into", build))?;
        let cur = build.join(new.cur_name());
        self.fs
            .write_new(&cur, b"", false)
            .map_err(io_err("create", &cur))?;
        if syncs.enabled() {
            // The directory's entries must be durable before it becomes visible.
            sync_dir(self.fs, build)?;
        }
        match self.fs.create_dir(&self.shard) {
            Ok(()) => {
                if let Some(bucket) = self.shard.parent() {
                    syncs.dir(self.fs, bucket)?;
                }
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_err("create", &self.shard)(e)),
        }
        match self.fs.rename(build, &self.dir) {
            Ok(()) => {
                syncs.dir(self.fs, &self.shard)?;
                Ok(true)
            }
            // Whatever the error (exists, not empty, ...), a directory there now means we lost.
            Err(_) if self.fs.kind(&self.dir).is_ok() => Ok(false),
            Err(e) => Err(io_err("create", &self.dir)(e)),
        }
    }
}

/// The names in directory `dir`, or `None` if it does not exist or is not a directory.
/// wasmtime-wasi looks up each entry as it lists, so an entry renamed by another writer meanwhile
/// surfaces as "not found": such a torn listing is taken again.
pub(crate) fn list_names(fs: &dyn FileSystem, dir: &Path) -> Result<Option<Vec<String>>> {
    'listing: for _ in 0..MAX_ATTEMPTS {
        let listing = match fs.list(dir) {
            Ok(listing) => listing,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            // A file where a shard or key directory belongs is not the engine's: no keys there
            // (fsck reports it as foreign).
            Err(e) if e.kind() == ErrorKind::NotADirectory => return Ok(None),
            Err(e) => return Err(io_err("list", dir)(e)),
        };
        let mut names = Vec::new();
        for item in listing {
            match item {
                Ok(name) => names.push(name),
                Err(e) if e.kind() == ErrorKind::NotFound => continue 'listing,
                Err(e) => return Err(io_err("list", dir)(e)),
            }
        }
        return Ok(Some(names));
    }
    Err(io_err("list", dir)(std::io::Error::other(
        "entries kept vanishing while listing",
    )))
}

fn absent() -> Snapshot {
    Snapshot::at(Version::ABSENT)
}
