//! One key's directory, and the protocol that makes every write to it linearizable without locks.
//!
//! A key directory holds exactly one pointer naming the current version:
//! `p.<seq>.<nonce>.<payload>` in format 2, `cur.<seq>.<nonce>` in format 1 (read, and replaced
//! by the next write). A format-2 pointer carries a small value in its own name; a larger one is
//! in the value file `val.<seq>.<nonce>`, written in place before the commit (a name no one else
//! can pick: the nonce is random). The key itself is named once, by `k.<base64url>` or a `key`
//! file. A write from version `v` to `w`:
//!
//! 1. writes `val.<w>` if the value is too large for a name (and, once, the key's name);
//! 2. renames the pointer of `v` to the pointer of `w`. This is the commit: a pointer name
//!    exists only while its version is current and is never made again, so of all writers that
//!    read `v`, exactly one rename succeeds and the others fail with "not found", however late;
//! 3. removes the value files of `v` and older versions.
//!
//! A key's first write builds the directory (key name, pointer, value file) under `tmp2/` and
//! renames it into place, which fails if the directory already exists. Nothing is ever locked,
//! so a writer killed at any step leaves nothing that blocks others.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::error::{io_err, Error, KeyDisplay, Result};
use crate::fs::FileSystem;
use crate::limits::MAX_ATTEMPTS;
use crate::names::{
    entry, inline_limit, key_name, temp_name, Entry, Payload, Version, KEY_FILE, PTR_PREFIX,
};
use crate::record::{self, HEADER_LEN};
use crate::sync::{self, sync_dir, Durability};

/// How many listings in a row may lack a pointer before the key directory is called corrupt.
/// A healthy directory always has one, so only a listing torn by a concurrent rename misses it.
const MAX_POINTERLESS_LISTINGS: u32 = 100;

/// What to read besides the version.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// The version only (one directory listing).
    Version,
    /// The version and the stored key (for listings).
    Key,
    /// The version and the value, checked.
    Value,
}

/// How a key directory names its key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum KeyEntry {
    /// Not at all (format 1, or a tombstone made by fsck).
    None,
    /// `k.<base64url>`.
    Name(String),
    /// The `key` file.
    File,
}

/// A key's state at one instant.
pub(crate) struct Snapshot {
    pub version: Version,
    /// The exact name of the current pointer (`None` when the key was never written).
    pub pointer: Option<String>,
    /// Where the current value is.
    pub payload: Payload,
    /// How the directory names its key.
    pub key_entry: KeyEntry,
    /// The stored key, when asked for and the version is not a tombstone.
    pub key: Option<String>,
    /// The value, when asked for and the version is not a tombstone.
    pub value: Option<Vec<u8>>,
    /// Value files seen that belong to this version's predecessors: garbage once a newer version
    /// is committed on top of this one.
    pub old_values: Vec<Version>,
}

/// What a write puts in place of the current version.
#[derive(Clone, Copy)]
pub(crate) enum NewValue<'v> {
    /// A deletion.
    Delete,
    /// A value: in the pointer's name up to the inline limit, else in a value file.
    Bytes(&'v [u8]),
    /// A record already written (and synced) at `offset` of the shared file `pack`: the value
    /// file is a hard link to it.
    Packed {
        pack: &'v Path,
        offset: u64,
        len: u64,
    },
}

/// Which directories a write must sync before it is acknowledged, and how.
pub(crate) struct Syncs {
    durability: Durability,
    dirs: Vec<PathBuf>,
}

impl Syncs {
    pub fn new(durability: Durability) -> Syncs {
        Syncs {
            durability,
            dirs: Vec::new(),
        }
    }

    /// Whether file data is synced before its name is committed.
    pub fn files(&self) -> bool {
        self.durability != Durability::NoSync
    }

    /// `dir` changed: it is synced by [`Syncs::finish`].
    pub fn dir(&mut self, dir: &Path) {
        if self.durability != Durability::NoSync {
            self.dirs.push(dir.to_path_buf());
        }
    }

    /// A directory built under `tmp2/` is about to become visible by a rename. Where each
    /// directory's sync stands alone, its entries are synced first, so that no crash can show
    /// it with some of them; on a journal (ext4), the rename cannot outlive the creations before
    /// it, and the one sync at the end covers both.
    pub fn before_visible(&self, fs: &dyn FileSystem, dir: &Path) -> Result<()> {
        if self.durability == Durability::Sync {
            sync_dir(fs, dir)?;
        }
        Ok(())
    }

    /// Makes the write durable: each changed directory synced once ([`Durability::Sync`]), or one
    /// sync, which commits the journal and with it every rename before it
    /// ([`Durability::SyncJournal`]).
    pub fn finish(&mut self, fs: &dyn FileSystem) -> Result<()> {
        let mut dirs = std::mem::take(&mut self.dirs);
        match self.durability {
            Durability::NoSync => {}
            Durability::Sync => {
                dirs.sort();
                dirs.dedup();
                for dir in &dirs {
                    sync_dir(fs, dir)?;
                }
            }
            Durability::SyncJournal => {
                if let Some(dir) = dirs.last() {
                    sync_dir(fs, dir)?;
                }
            }
        }
        Ok(())
    }
}

/// A key's directory inside a bucket.
pub(crate) struct KeyDir<'a> {
    pub fs: &'a dyn FileSystem,
    /// The key (`None` when unknown: fsck and listings, which never write a value).
    pub key: Option<&'a str>,
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
            let mut current: Option<(Version, Payload, &String)> = None;
            let mut values = Vec::new();
            let mut key_entry = KeyEntry::None;
            for name in &names {
                match entry(name) {
                    Entry::Cur(v, p) if current.as_ref().is_none_or(|c| v.seq > c.0.seq) => {
                        current = Some((v, p, name))
                    }
                    Entry::Val(v) => values.push(v),
                    Entry::KeyName(key) => key_entry = KeyEntry::Name(key),
                    Entry::KeyFile if key_entry == KeyEntry::None => key_entry = KeyEntry::File,
                    _ => {}
                }
            }
            let Some((version, payload, pointer)) = current else {
                // An empty directory is the debris of a first write cut short by an OS crash:
                // the key is absent, and the next first write renames over it.
                if empty {
                    return Ok(absent());
                }
                pointerless += 1;
                if pointerless >= MAX_POINTERLESS_LISTINGS {
                    return Err(self.corrupt(&self.dir, "no version pointer".into()));
                }
                continue;
            };
            let old_values = values
                .into_iter()
                .filter(|v| v.seq <= version.seq && *v != version)
                .collect();
            let mut snapshot = Snapshot {
                version,
                pointer: Some(pointer.clone()),
                payload,
                key_entry,
                key: None,
                value: None,
                old_values,
            };
            if read == Read::Version || version.is_tombstone() {
                return Ok(snapshot);
            }
            match self.read_current(&snapshot, read) {
                Ok((key, value)) => {
                    snapshot.key = key;
                    snapshot.value = value;
                    return Ok(snapshot);
                }
                // Superseded and removed since the listing: list again. A value file is only
                // removed after its version stopped being current, so the same pointer with
                // the value still missing means damage, not a race.
                Err(Error::Io { source, path, .. }) if source.kind() == ErrorKind::NotFound => {
                    if missing_value == Some(version) {
                        return Err(self.corrupt(
                            &path,
                            "the current version's value or key file is missing".into(),
                        ));
                    }
                    missing_value = Some(version);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The snapshot that a compare-and-swap handle took, as far as a commit on top of it needs
    /// (`None` if the pointer does not name that version). Which older value files were left is
    /// not kept: they stay for the next writer or fsck to remove. A key named since is named
    /// again, which leaves the name as it is.
    pub fn as_seen(
        &self,
        version: Version,
        pointer: Option<String>,
        key_entry: KeyEntry,
    ) -> Option<Snapshot> {
        let Some(pointer) = pointer else {
            return (version == Version::ABSENT).then(absent);
        };
        let Entry::Cur(v, payload) = entry(&pointer) else {
            return None;
        };
        (v == version).then(|| Snapshot {
            version,
            pointer: Some(pointer),
            payload,
            key_entry,
            key: None,
            value: None,
            old_values: Vec::new(),
        })
    }

    /// The stored key and (for [`Read::Value`]) the value of a snapshot's current version.
    fn read_current(
        &self,
        snapshot: &Snapshot,
        read: Read,
    ) -> Result<(Option<String>, Option<Vec<u8>>)> {
        let stored_key = |s: &Self| -> Result<Option<String>> {
            Ok(match &snapshot.key_entry {
                KeyEntry::Name(key) => Some(key.clone()),
                KeyEntry::File => Some(s.read_key_file()?),
                KeyEntry::None => None,
            })
        };
        match &snapshot.payload {
            Payload::Tombstone => Ok((None, None)),
            Payload::Inline(value) => {
                let key = stored_key(self)?.ok_or_else(|| {
                    self.corrupt(&self.dir, "a value without its key's name".into())
                })?;
                if read == Read::Value {
                    self.check_key(&key)?;
                }
                Ok((Some(key), (read == Read::Value).then(|| value.clone())))
            }
            Payload::File { offset, len } => {
                let path = self.dir.join(snapshot.version.val_name());
                if read == Read::Key {
                    if let KeyEntry::Name(key) = &snapshot.key_entry {
                        return Ok((Some(key.clone()), None));
                    }
                    // Only the header and the key: listings do not pay for values.
                    let limit = (HEADER_LEN + crate::limits::MAX_KEY_BYTES) as u64;
                    let prefix = self
                        .fs
                        .read_range(&path, *offset, len.unwrap_or(limit).min(limit))
                        .map_err(io_err("read", &path))?;
                    let key = record::decode_key(&prefix)
                        .map_err(|e| self.corrupt(&path, e.to_string()))?;
                    return Ok((Some(key.to_owned()), None));
                }
                let bytes = match len {
                    None => self.fs.read(&path, usize::MAX),
                    Some(len) => self.fs.read_range(&path, *offset, *len),
                }
                .map_err(io_err("read", &path))?;
                let record =
                    record::decode(&bytes).map_err(|e| self.corrupt(&path, e.to_string()))?;
                self.check_key(record.key)?;
                Ok((Some(record.key.to_owned()), Some(record.value.to_vec())))
            }
        }
    }

    /// The key in the `key` file.
    fn read_key_file(&self) -> Result<String> {
        let path = self.dir.join(KEY_FILE);
        let bytes = self
            .fs
            .read(&path, usize::MAX)
            .map_err(io_err("read", &path))?;
        let record = record::decode(&bytes).map_err(|e| self.corrupt(&path, e.to_string()))?;
        Ok(record.key.to_owned())
    }

    /// A stored key other than the one asked for is a hash collision: an error, never its value.
    fn check_key(&self, stored: &str) -> Result<()> {
        if let Some(key) = self.key.filter(|key| *key != stored) {
            return Err(Error::Collision {
                key: KeyDisplay::new(key),
                stored: KeyDisplay::new(stored),
            });
        }
        Ok(())
    }

    /// The key, for a write that stores it (only writers that know it write values).
    fn writer_key(&self) -> Result<&str> {
        self.key.ok_or_else(|| {
            self.corrupt(
                &self.dir,
                "internal error: a value written without its key; nothing was written".into(),
            )
        })
    }

    fn corrupt(&self, path: &Path, reason: String) -> Error {
        Error::Corrupt {
            path: path.to_path_buf(),
            reason,
        }
    }

    /// Tries to move the key from the version of `from` to a new version holding `new`.
    /// Returns false if another write got there first (nothing of this attempt is left).
    pub fn commit(
        &self,
        from: &Snapshot,
        new: NewValue<'_>,
        tmp: &Path,
        syncs: &mut Syncs,
    ) -> Result<bool> {
        let seq = from
            .version
            .seq
            .checked_add(1)
            .ok_or_else(|| self.corrupt(&self.dir, "version counter exhausted".into()))?;
        let nonce = match new {
            NewValue::Delete => 0,
            _ => crate::names::nonce()?,
        };
        let next = Version { seq, nonce };
        let Some(pointer) = &from.pointer else {
            return match new {
                // Deleting a key that was never written changes nothing.
                NewValue::Delete => Ok(true),
                _ => self.create(next, new, tmp, syncs),
            };
        };
        let val_path = self.dir.join(next.val_name());
        let payload = self.place(&self.dir, next, new, syncs)?;
        let made_file = matches!(payload, Payload::File { .. });
        // Only a value in a name needs the key's name beside it: a value file's record holds
        // the key, and a name more is a file more to create and list.
        let named = if matches!(payload, Payload::Inline(_)) && from.key_entry == KeyEntry::None {
            self.name_key(&self.dir, tmp, syncs, true)
        } else {
            Ok(())
        };
        let committed = named.and_then(|()| {
            self.fs
                .rename(
                    &self.dir.join(pointer),
                    &self.dir.join(next.ptr_name(&payload)),
                )
                .map_err(io_err("commit", self.dir.join(pointer)))
        });
        if let Err(e) = committed {
            if made_file {
                let _ = self.fs.remove_file(&val_path);
            }
            return match e {
                Error::Io { source, .. } if source.kind() == ErrorKind::NotFound => Ok(false),
                e => Err(e),
            };
        }
        syncs.dir(&self.dir);
        // The new version is committed; the old values are unreachable. A failure to remove one
        // leaves garbage that the next writer or fsck removes, so it is not an error.
        let current = matches!(from.payload, Payload::File { .. }).then_some(from.version);
        for version in from.old_values.iter().copied().chain(current) {
            let _ = self.fs.remove_file(&self.dir.join(version.val_name()));
        }
        Ok(true)
    }

    /// Puts the new value where its pointer will say: nowhere (a deletion), the name, or the
    /// value file `val.<next>` in `dir`, written in place (synced when durability is on).
    fn place(
        &self,
        dir: &Path,
        next: Version,
        new: NewValue<'_>,
        syncs: &Syncs,
    ) -> Result<Payload> {
        let path = dir.join(next.val_name());
        Ok(match new {
            NewValue::Delete => Payload::Tombstone,
            NewValue::Bytes(value) if value.len() <= inline_limit() => {
                Payload::Inline(value.to_vec())
            }
            NewValue::Bytes(value) => {
                self.fs
                    .write_new(
                        &path,
                        &record::encode(self.writer_key()?, value),
                        syncs.files(),
                    )
                    .map_err(io_err("write", &path))?;
                if syncs.files() {
                    sync::count();
                }
                Payload::File {
                    offset: 0,
                    len: None,
                }
            }
            NewValue::Packed { pack, offset, len } => {
                self.fs
                    .hard_link(pack, &path)
                    .map_err(io_err("link value into", dir))?;
                Payload::File {
                    offset,
                    len: Some(len),
                }
            }
        })
    }

    /// Names the key in `dir`: `k.<base64url>`, or a `key` file for a long key (complete before
    /// its name appears: written in `tmp` and renamed, unless `dir` is still being built).
    fn name_key(&self, dir: &Path, tmp: &Path, syncs: &Syncs, live: bool) -> Result<()> {
        let key = self.writer_key()?;
        if let Some(name) = key_name(key) {
            let path = dir.join(name);
            return match self.fs.write_new(&path, b"", false) {
                Err(e) if e.kind() != ErrorKind::AlreadyExists => Err(io_err("create", &path)(e)),
                _ => Ok(()),
            };
        }
        let staged = if live {
            tmp.join(temp_name()?)
        } else {
            dir.join(KEY_FILE)
        };
        self.fs
            .write_new(&staged, &record::encode(key, b""), syncs.files())
            .map_err(io_err("write", &staged))?;
        if syncs.files() {
            sync::count();
        }
        if live {
            let moved = self.fs.rename(&staged, &dir.join(KEY_FILE));
            if let Err(e) = moved {
                let _ = self.fs.remove_file(&staged);
                return Err(io_err("move key into", dir)(e));
            }
        }
        Ok(())
    }

    /// A first write: builds the directory under `tmp2/` and renames it into place, which fails
    /// if the key directory exists (and is not empty) by then.
    fn create(
        &self,
        next: Version,
        new: NewValue<'_>,
        tmp: &Path,
        syncs: &mut Syncs,
    ) -> Result<bool> {
        let build = tmp.join(format!("{}.d", temp_name()?));
        self.fs
            .create_dir(&build)
            .map_err(io_err("create", &build))?;
        let result = self.create_from(&build, next, new, tmp, syncs);
        if !matches!(result, Ok(true)) {
            let _ = self.fs.remove_dir_all(&build);
        }
        result
    }

    fn create_from(
        &self,
        build: &Path,
        next: Version,
        new: NewValue<'_>,
        tmp: &Path,
        syncs: &mut Syncs,
    ) -> Result<bool> {
        let payload = self.place(build, next, new, syncs)?;
        if matches!(payload, Payload::Inline(_)) {
            self.name_key(build, tmp, syncs, false)?;
        }
        let pointer = build.join(next.ptr_name(&payload));
        self.fs
            .write_new(&pointer, b"", false)
            .map_err(io_err("create", &pointer))?;
        syncs.before_visible(self.fs, build)?;
        match self.fs.create_dir(&self.shard) {
            Ok(()) => {
                if let Some(bucket) = self.shard.parent() {
                    syncs.dir(bucket);
                }
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_err("create", &self.shard)(e)),
        }
        match self.fs.rename(build, &self.dir) {
            Ok(()) => {
                syncs.dir(&self.shard);
                Ok(true)
            }
            // Whatever the error (exists, not empty, ...), a directory there now means we lost.
            Err(_) if self.fs.kind(&self.dir).is_ok() => Ok(false),
            Err(e) => Err(io_err("create", &self.dir)(e)),
        }
    }
}

/// Whether a pointer name is of format 2.
pub(crate) fn is_format2(pointer: &str) -> bool {
    pointer.starts_with(PTR_PREFIX)
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
    Snapshot {
        version: Version::ABSENT,
        pointer: None,
        payload: Payload::Tombstone,
        key_entry: KeyEntry::None,
        key: None,
        value: None,
        old_values: Vec::new(),
    }
}
