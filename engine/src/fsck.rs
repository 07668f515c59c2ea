//! Looking after a store from the host: the buckets it holds, their size, and `fsck`, which
//! verifies every entry and repairs what can be repaired while apps keep running.
//!
//! Everything here is safe alongside live writers. It only removes what no writer can need
//! (temporaries older than [`SWEEP_AGE`], value files of versions older than the current one) and
//! repairs a damaged key the way a writer would: by committing a deletion on top of its current
//! version, so versions keep growing and no compare-and-swap handle can be fooled. Damaged files
//! are kept in the bucket's `lost+found/` first, for a person to look at: moved there, or, for a
//! damaged current value, copied there before a deletion is committed on top of it.

use std::path::{Path, PathBuf};

use crate::bucket::{Bucket, SWEEP_AGE};
use crate::error::{io_err, Result};
use crate::fs::{FileSystem, Kind};
use crate::keydir::list_names;
use crate::names::{
    entry, is_key_hash, is_shard, key_hash, temp_name, Entry, Payload, Version, KEY_FILE, TMP1_DIR,
    TMP_DIR,
};
use crate::record::{self, HEADER_LEN};
use crate::store::{validate_bucket_id, Store, BUCKETS_DIR, DEFAULT_BUCKET_DIR};

/// Directory in each bucket where `fsck --repair` keeps copies of damaged entries. It can never
/// be a shard (two hex digits) or a temporaries directory, so nothing in it is ever read as a key.
pub const LOST_AND_FOUND_DIR: &str = "lost+found";

/// How often a key directory is listed again before a state that a concurrent rename could
/// explain (no pointer, two pointers) is called damage.
const RELISTS: u32 = 20;

/// How far past the newest version its files name a pointerless key's repair tombstone goes.
/// The lost pointer may have been newer than every file left, and a tombstone's name has no
/// random part (`cur.<seq>.0000000000000000`), so `seq + 1` could be a name the key had, which a
/// stale compare-and-swap handle would win. Files older than the current version are removed
/// by the second commit after them, so the key cannot have gone this far past them.
const POINTERLESS_SEQ_SKIP: u64 = 1 << 32;

/// The size of a bucket, as [`Bucket::stats`] counts it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BucketStats {
    /// Keys with a value.
    pub keys: u64,
    /// Bytes of those values.
    pub value_bytes: u64,
    /// Bytes of those keys.
    pub key_bytes: u64,
    /// Deleted keys whose directory remains (a tombstone keeps their version growing).
    pub tombstones: u64,
    /// Entries in `tmp2/` (and a format-1 `tmp/`): writes in progress, or debris of killed writers.
    pub temps: u64,
    /// Bytes of every file in the bucket (a batch's shared value file counted once per key
    /// that links to it).
    pub disk_bytes: u64,
    /// Key directories (keys and tombstones) still in format 1: a `cur.` pointer, the value in
    /// its own file. Each becomes format 2 when it is next written.
    pub format1_keys: u64,
    /// Key directories (keys and tombstones) in format 2: a `p.` pointer.
    pub format2_keys: u64,
}

/// What [`Store::fsck`] found and did.
#[derive(Debug, Default)]
pub struct FsckReport {
    /// Buckets checked.
    pub buckets: u64,
    /// Key directories checked (keys and tombstones).
    pub keys_checked: u64,
    /// Everything found wrong.
    pub problems: Vec<Problem>,
    /// Leftovers of killed writers removed: old temporaries and superseded value files.
    pub swept: u64,
}

/// One thing found wrong.
#[derive(Debug)]
pub struct Problem {
    /// The file or directory.
    pub path: PathBuf,
    /// What is wrong.
    pub kind: ProblemKind,
    /// Whether `fsck --repair` fixed it.
    pub repaired: bool,
}

/// What can be wrong in a store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemKind {
    /// Something the engine never writes, where it keeps its files. Never touched.
    #[error("not written by virt-store; move it out of the store directory")]
    Foreign,
    /// A key directory in another shard than its hash says: no read can reach it.
    #[error("key directory in the wrong shard; --repair moves it to lost+found")]
    Misplaced,
    /// A key directory with files but no version pointer: the key cannot be read or written.
    #[error(
        "no version pointer; --repair makes the key deleted and keeps the files in lost+found"
    )]
    NoPointer,
    /// A key directory with several version pointers.
    #[error("{0} version pointers; --repair keeps the newest")]
    SeveralPointers(usize),
    /// The current version's value file is missing.
    #[error("the current value file is missing; --repair makes the key deleted")]
    MissingValue,
    /// The current version's value file does not decode.
    #[error(
        "corrupt value file ({0}); --repair makes the key deleted and keeps the file in lost+found"
    )]
    CorruptValue(String),
    /// The value file holds a key whose hash is not its directory's name.
    #[error("the value file holds another key; --repair makes this key deleted and keeps the file in lost+found")]
    WrongKey,
    /// A file or directory that cannot be read (permissions, a disk error, a directory where a
    /// file belongs). Never repaired: the key may be healthy underneath.
    #[error("cannot be read ({0}); fix its permissions or the disk, then run fsck again")]
    Unreadable(String),
}

impl Store {
    /// The identifiers of the buckets in this store, sorted; `""` is the default bucket.
    pub fn buckets(&self) -> Result<Vec<String>> {
        let dir = self.root().join(BUCKETS_DIR);
        let mut ids: Vec<String> = list_names(self.fs(), &dir)?
            .unwrap_or_default()
            .into_iter()
            .filter_map(|name| bucket_id(&name))
            .filter(|id| {
                let dir = self.bucket_dir(id);
                is_dir(self.fs(), &dir.join(TMP_DIR)) || is_dir(self.fs(), &dir.join(TMP1_DIR))
            })
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Verifies every entry of every bucket, sweeps the leftovers of killed writers, and with
    /// `repair` fixes what it found (see [`ProblemKind`] for what each repair does).
    pub fn fsck(&self, repair: bool) -> Result<FsckReport> {
        let mut report = FsckReport::default();
        let dir = self.root().join(BUCKETS_DIR);
        for name in sorted(list_names(self.fs(), &dir)?.unwrap_or_default()) {
            let path = dir.join(&name);
            match bucket_id(&name) {
                Some(id) if is_dir(self.fs(), &path) => {
                    report.buckets += 1;
                    self.bucket(&id)?.check(repair, &mut report)?;
                }
                _ => report.problems.push(Problem {
                    path,
                    kind: ProblemKind::Foreign,
                    repaired: false,
                }),
            }
        }
        Ok(report)
    }
}

impl Bucket {
    /// Counts the bucket's keys and bytes by walking its directories: O(keys), for host tools.
    /// [`BucketStats::format1_keys`] and [`BucketStats::format2_keys`] say which format its keys
    /// are in, and [`Bucket::is_format1`] the bucket's own layout.
    pub fn stats(&self) -> Result<BucketStats> {
        let mut stats = BucketStats::default();
        for tmp in [TMP_DIR, TMP1_DIR] {
            let tmp = self.dir().join(tmp);
            for name in list_names(self.fs(), &tmp)?.unwrap_or_default() {
                stats.temps += 1;
                stats.disk_bytes += self.fs().len(&tmp.join(name)).unwrap_or(0);
            }
        }
        for key_dir in self.key_dirs()? {
            let names = match list_names(self.fs(), &key_dir) {
                Ok(Some(names)) => names,
                // A file with a key directory's name is foreign (fsck reports it), not a key.
                Ok(None) => continue,
                Err(_) if !is_dir(self.fs(), &key_dir) => continue,
                Err(e) => return Err(e),
            };
            let state = State::of(&names);
            for name in &names {
                stats.disk_bytes += self.fs().len(&key_dir.join(name)).unwrap_or(0);
            }
            let Some((v, payload, pointer)) = state.current() else {
                continue;
            };
            if crate::keydir::is_format2(pointer) {
                stats.format2_keys += 1;
            } else {
                stats.format1_keys += 1;
            }
            let lengths = match payload {
                Payload::Tombstone => {
                    stats.tombstones += 1;
                    continue;
                }
                Payload::Inline(value) => {
                    let key_len = match &state.key_name {
                        Some(key) => Some(key.len() as u64),
                        None => header(self.fs(), &key_dir.join(KEY_FILE), 0).map(|h| h.0),
                    };
                    key_len.map(|k| (k, value.len() as u64))
                }
                Payload::File { offset, .. } => {
                    header(self.fs(), &key_dir.join(v.val_name()), *offset)
                }
            };
            if let Some((key_len, value_len)) = lengths {
                stats.keys += 1;
                stats.key_bytes += key_len;
                stats.value_bytes += value_len;
            }
        }
        Ok(stats)
    }

    fn check(&self, repair: bool, report: &mut FsckReport) -> Result<()> {
        let dir = self.dir().to_path_buf();
        for name in sorted(list_names(self.fs(), &dir)?.unwrap_or_default()) {
            let path = dir.join(&name);
            if name == TMP_DIR || name == TMP1_DIR {
                report.swept += self.sweep_temps(SWEEP_AGE)? as u64;
            } else if is_shard(&name) && is_dir(self.fs(), &path) {
                let keys = match list_names(self.fs(), &path) {
                    Ok(keys) => keys.unwrap_or_default(),
                    Err(e) => {
                        report.problems.push(unreadable(path, &e));
                        continue;
                    }
                };
                for key in sorted(keys) {
                    let key_dir = path.join(&key);
                    if !is_key_hash(&key) || !is_dir(self.fs(), &key_dir) {
                        report.problems.push(Problem {
                            path: key_dir,
                            kind: ProblemKind::Foreign,
                            repaired: false,
                        });
                    } else if key[..2] != name {
                        let repaired = repair && self.quarantine(&key_dir, &key)?;
                        report.problems.push(Problem {
                            path: key_dir,
                            kind: ProblemKind::Misplaced,
                            repaired,
                        });
                    } else {
                        report.keys_checked += 1;
                        self.check_key(&key_dir, &key, repair, report)?;
                    }
                }
            } else if name != LOST_AND_FOUND_DIR {
                report.problems.push(Problem {
                    path,
                    kind: ProblemKind::Foreign,
                    repaired: false,
                });
            }
        }
        Ok(())
    }

    fn check_key(
        &self,
        key_dir: &Path,
        hash: &str,
        repair: bool,
        report: &mut FsckReport,
    ) -> Result<()> {
        // States a concurrent rename can fake in one listing (no pointer, two pointers, a value
        // file just superseded) must last through several listings to count as damage.
        let mut last = None;
        for _ in 0..RELISTS {
            let names = match list_names(self.fs(), key_dir) {
                Ok(Some(names)) => names,
                Ok(None) => return Ok(()),
                Err(e) => {
                    report.problems.push(unreadable(key_dir.to_path_buf(), &e));
                    return Ok(());
                }
            };
            let state = State::of(&names);
            let healthy = state.pointers.len() == 1 || state.names.is_empty();
            last = Some(state);
            if healthy {
                break;
            }
        }
        let Some(state) = last else { return Ok(()) };
        let problem = |kind, repaired| Problem {
            path: key_dir.to_path_buf(),
            kind,
            repaired,
        };

        let Some((current, payload, pointer)) = state.current() else {
            if state.names.is_empty() {
                // The debris of a first write cut short by an OS crash (FORMAT.md, invariant 6):
                // it reads as absent and the next first write replaces it. Not damage. Removing it
                // is safe alongside a first writer: `remove_dir` fails once its rename filled it.
                if self.fs().remove_dir(key_dir).is_ok() {
                    report.swept += 1;
                }
                return Ok(());
            }
            let repaired = repair && self.tombstone_pointerless(key_dir, hash, &state)?;
            report
                .problems
                .push(problem(ProblemKind::NoPointer, repaired));
            report_foreign(key_dir, &state, report);
            return Ok(());
        };
        let (current, payload, pointer) = (*current, payload.clone(), pointer.clone());
        if state.pointers.len() > 1 {
            let mut repaired = repair;
            if repair {
                for (v, _, name) in state.pointers.iter().filter(|p| p.2 != pointer) {
                    let path = key_dir.join(name);
                    repaired &= self.fs().remove_file(&path).is_ok() || !exists(self.fs(), &path);
                    // Its value may be the last good copy of the key's data: keep it for a
                    // person. The pointer went first, so no writer can make it current again.
                    self.keep_in_lost_and_found(key_dir, hash, &v.val_name())?;
                }
            }
            report.problems.push(problem(
                ProblemKind::SeveralPointers(state.pointers.len()),
                repaired,
            ));
        }
        // Value files of versions up to the current one, other than the current one, are
        // garbage for good: versions only grow, and an in-flight writer's file is newer. Those of
        // other pointers are not: with several pointers, which one is right is a guess.
        for v in state.values.iter().filter(|v| {
            v.seq <= current.seq && **v != current && !state.pointers.iter().any(|p| p.0 == **v)
        }) {
            if self.fs().remove_file(&key_dir.join(v.val_name())).is_ok() {
                report.swept += 1;
            }
        }
        report_foreign(key_dir, &state, report);
        let value_path = key_dir.join(current.val_name());
        let (kind, bad_key_entry) = match &payload {
            Payload::Tombstone => return Ok(()),
            // The value is the name itself; what can be wrong is the key's name beside it.
            Payload::Inline(_) => match (&state.key_name, state.key_file) {
                (Some(key), _) if key_hash(key) != hash => (
                    ProblemKind::WrongKey,
                    Some(crate::names::key_name(key).unwrap_or_default()),
                ),
                (Some(_), _) => return Ok(()),
                (None, true) => {
                    let path = key_dir.join(KEY_FILE);
                    match self.fs().read(&path, usize::MAX) {
                        Err(e) => {
                            report.problems.push(Problem {
                                path,
                                kind: ProblemKind::Unreadable(e.to_string()),
                                repaired: false,
                            });
                            return Ok(());
                        }
                        Ok(bytes) => match record::decode(&bytes) {
                            Err(e) => (
                                ProblemKind::CorruptValue(format!("key file: {e}")),
                                Some(KEY_FILE.to_owned()),
                            ),
                            Ok(r) if key_hash(r.key) != hash => {
                                (ProblemKind::WrongKey, Some(KEY_FILE.to_owned()))
                            }
                            Ok(_) => return Ok(()),
                        },
                    }
                }
                (None, false) => (ProblemKind::CorruptValue("no key name".into()), None),
            },
            Payload::File { offset, len } => {
                let read = match len {
                    None => self.fs().read(&value_path, usize::MAX),
                    Some(len) => self.fs().read_range(&value_path, *offset, *len),
                };
                match read {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        // Superseded since the listing, or really missing: only the pointer can
                        // tell.
                        if !exists(self.fs(), &key_dir.join(&pointer)) {
                            return Ok(());
                        }
                        (ProblemKind::MissingValue, None)
                    }
                    Err(e) => {
                        report.problems.push(Problem {
                            path: value_path,
                            kind: ProblemKind::Unreadable(e.to_string()),
                            repaired: false,
                        });
                        return Ok(());
                    }
                    Ok(bytes) => match record::decode(&bytes) {
                        Err(e) => (ProblemKind::CorruptValue(e.to_string()), None),
                        Ok(record) if key_hash(record.key) != hash => (ProblemKind::WrongKey, None),
                        Ok(_) => return Ok(()),
                    },
                }
            }
        };
        let repaired = repair
            && self.tombstone_damaged(
                key_dir,
                hash,
                current,
                &pointer,
                bad_key_entry.as_deref(),
            )?;
        report.problems.push(problem(kind, repaired));
        Ok(())
    }

    /// Keeps a copy of the current value file (and moves away a key name that is not this
    /// key's), then commits a deletion on top of `current`. Returns true once the key no longer
    /// holds the damaged version (a writer may have beaten us to it, which heals it as well).
    fn tombstone_damaged(
        &self,
        key_dir: &Path,
        hash: &str,
        current: Version,
        pointer: &str,
        bad_key_entry: Option<&str>,
    ) -> Result<bool> {
        let value = key_dir.join(current.val_name());
        if let Ok(bytes) = self.fs().read(&value, usize::MAX) {
            let kept = self.lost_and_found(&format!("{hash}.{}", current.val_name()))?;
            self.fs()
                .write_new(&kept, &bytes, false)
                .map_err(io_err("copy to lost+found", &value))?;
        }
        if let Some(name) = bad_key_entry {
            self.keep_in_lost_and_found(key_dir, hash, name)?;
        }
        self.delete_version(key_dir, current)?;
        Ok(!exists(self.fs(), &key_dir.join(pointer)))
    }

    /// A directory with files but no pointer can be neither read nor written (a first write
    /// cannot rename over a non-empty directory). Moves its value files to lost+found and gives
    /// it a tombstone pointer far newer than any version its files name (see
    /// [`POINTERLESS_SEQ_SKIP`]). Foreign files stay: they are not ours.
    fn tombstone_pointerless(&self, key_dir: &Path, hash: &str, state: &State) -> Result<bool> {
        let newest = state.values.iter().map(|v| v.seq).max().unwrap_or(0);
        let seq = newest.saturating_add(POINTERLESS_SEQ_SKIP);
        let tombstone = Version { seq, nonce: 0 };
        // A format-1 bucket keeps format-1 names until its first write converts it.
        let pointer = key_dir.join(if self.is_format1() {
            tombstone.cur_name()
        } else {
            tombstone.ptr_name(&Payload::Tombstone)
        });
        self.fs()
            .write_new(&pointer, b"", false)
            .map_err(io_err("create", &pointer))?;
        for v in &state.values {
            self.keep_in_lost_and_found(key_dir, hash, &v.val_name())?;
        }
        Ok(true)
    }

    /// Moves file `name` of `key_dir` to lost+found, if it is still there.
    fn keep_in_lost_and_found(&self, key_dir: &Path, hash: &str, name: &str) -> Result<()> {
        let from = key_dir.join(name);
        if !exists(self.fs(), &from) {
            return Ok(());
        }
        let to = self.lost_and_found(&format!("{hash}.{name}"))?;
        match self.fs().rename(&from, &to) {
            // Removed meanwhile by a writer that found it superseded: nothing left to keep.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other.map_err(io_err("move to lost+found", &from)),
        }
    }

    /// Moves a whole key directory into lost+found (for one that no read can reach anyway).
    fn quarantine(&self, key_dir: &Path, hash: &str) -> Result<bool> {
        let to = self.lost_and_found(hash)?;
        self.fs()
            .rename(key_dir, &to)
            .map_err(io_err("move to lost+found", key_dir))?;
        Ok(true)
    }

    /// A fresh path in the bucket's lost+found directory, named after `what`.
    fn lost_and_found(&self, what: &str) -> Result<PathBuf> {
        let dir = self.dir().join(LOST_AND_FOUND_DIR);
        self.fs()
            .create_dir_all(&dir)
            .map_err(io_err("create", &dir))?;
        Ok(dir.join(format!("{what}.{}", temp_name()?)))
    }

    /// Every key directory path of the bucket (shards and names as the engine writes them).
    fn key_dirs(&self) -> Result<Vec<PathBuf>> {
        let mut dirs = Vec::new();
        for shard in sorted(list_names(self.fs(), self.dir())?.unwrap_or_default()) {
            if !is_shard(&shard) || !is_dir(self.fs(), &self.dir().join(&shard)) {
                continue;
            }
            let shard_dir = self.dir().join(&shard);
            for key in sorted(list_names(self.fs(), &shard_dir)?.unwrap_or_default()) {
                if is_key_hash(&key) && key.starts_with(&shard) {
                    dirs.push(shard_dir.join(key));
                }
            }
        }
        Ok(dirs)
    }
}

/// One listing of a key directory, sorted out.
#[derive(Debug, PartialEq, Eq)]
struct State {
    names: Vec<String>,
    /// Each pointer's version, payload and name.
    pointers: Vec<(Version, Payload, String)>,
    values: Vec<Version>,
    key_name: Option<String>,
    key_file: bool,
    foreign: Vec<String>,
}

impl State {
    fn of(names: &[String]) -> State {
        let mut state = State {
            names: names.to_vec(),
            pointers: Vec::new(),
            values: Vec::new(),
            key_name: None,
            key_file: false,
            foreign: Vec::new(),
        };
        state.names.sort();
        for name in &state.names {
            match entry(name) {
                Entry::Cur(v, p) => state.pointers.push((v, p, name.clone())),
                Entry::Val(v) => state.values.push(v),
                Entry::KeyName(key) if state.key_name.is_none() => state.key_name = Some(key),
                Entry::KeyFile => state.key_file = true,
                _ => state.foreign.push(name.clone()),
            }
        }
        state
    }

    /// The newest pointer: the one reads use.
    fn current(&self) -> Option<&(Version, Payload, String)> {
        self.pointers.iter().max_by_key(|p| p.0.seq)
    }
}

fn report_foreign(key_dir: &Path, state: &State, report: &mut FsckReport) {
    for name in &state.foreign {
        report.problems.push(Problem {
            path: key_dir.join(name),
            kind: ProblemKind::Foreign,
            repaired: false,
        });
    }
}

fn unreadable(path: PathBuf, error: &crate::error::Error) -> Problem {
    Problem {
        path,
        kind: ProblemKind::Unreadable(error.to_string()),
        repaired: false,
    }
}

/// The identifier of bucket directory `name`, if it is one.
fn bucket_id(name: &str) -> Option<String> {
    if name == DEFAULT_BUCKET_DIR {
        Some(String::new())
    } else {
        validate_bucket_id(name).ok().map(|()| name.to_owned())
    }
}

/// The key and value lengths from the header of the record at `offset` of a file, if it has one.
fn header(fs: &dyn FileSystem, path: &Path, offset: u64) -> Option<(u64, u64)> {
    let header = record::header(&fs.read_range(path, offset, HEADER_LEN as u64).ok()?).ok()?;
    Some((header.key_len as u64, header.value_len))
}

fn is_dir(fs: &dyn FileSystem, path: &Path) -> bool {
    fs.kind(path).is_ok_and(|kind| kind == Kind::Dir)
}

fn exists(fs: &dyn FileSystem, path: &Path) -> bool {
    fs.kind(path).is_ok()
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}
