//! The engine's one way to the filesystem: every call the engine makes goes through here.
//!
//! In production each function is the `std::fs` call of the same name (inside the provider,
//! `wasi:filesystem`). With the `simulation` feature, a thread that has installed a
//! [`crate::sim::SimFs`] gets that instead: an in-memory filesystem that keeps written bytes
//! apart from synced ones and can lose, tear or reorder the unsynced ones at a crash
//! (`engine/tests/power_loss.rs`).
//!
//! An embedder may also install a [`Backend`] that takes the calls of every hot path (reading
//! a file, listing a directory, writing a new file, telling a file from a directory) by a shorter
//! way than `std::fs`: the provider installs one that calls `wasi:filesystem` directly, because on
//! `wasm32-wasip2` each `std::fs` call costs several host calls more than it needs (a `stat` for
//! the size hint, a stream per read, a metadata hash per directory entry). The backend changes no
//! step of the protocol: the same names are created, renamed and synced in the same order.

use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::OnceLock;
use std::time::SystemTime;

/// A shorter way to the filesystem for the calls on every operation's path. Each method may
/// decline a path by returning `None` (for example one outside the directory it knows), which
/// then goes to `std::fs`; an answer must mean what the `std::fs` call would have meant, with
/// the same [`io::ErrorKind`]s.
pub trait Backend: Send + Sync {
    /// At most the first `limit` bytes of the file at `path` (all of them for `usize::MAX`).
    fn read(&self, path: &Path, limit: usize) -> Option<io::Result<Vec<u8>>>;
    /// Creates `path`, which must not exist, with `bytes`; syncs it first when `sync` is set.
    fn write_new(&self, path: &Path, bytes: &[u8], sync: bool) -> Option<io::Result<()>>;
    /// The names in directory `dir`, without `.`, `..` and names that are not UTF-8 (never the
    /// engine's); an entry that vanished while listing is an `Err` of kind `NotFound` in its place.
    fn list(&self, dir: &Path) -> Option<io::Result<Vec<io::Result<String>>>>;
    /// Whether `path` is a file or a directory (following symbolic links).
    fn kind(&self, path: &Path) -> Option<io::Result<Kind>>;
}

static BACKEND: OnceLock<Box<dyn Backend>> = OnceLock::new();

/// Sends the engine's hot filesystem calls to `backend` from now on, in this process. Only the
/// first call has an effect; it returns false when a backend was installed already.
pub fn install_backend(backend: Box<dyn Backend>) -> bool {
    BACKEND.set(backend).is_ok()
}

macro_rules! backend {
    ($method:ident($($arg:expr),*)) => {
        if let Some(answer) = BACKEND.get().and_then(|backend| backend.$method($($arg),*)) {
            return answer;
        }
    };
}

/// What a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Anything but a directory.
    File,
    /// A directory.
    Dir,
}

#[cfg(feature = "simulation")]
macro_rules! simulated {
    ($method:ident($($arg:expr),*)) => {
        if let Some(sim) = crate::sim::current() {
            return sim.$method($($arg),*);
        }
    };
}

#[cfg(not(feature = "simulation"))]
macro_rules! simulated {
    ($($t:tt)*) => {};
}

/// Creates `path`, which must not exist, with `bytes`; syncs it first when `sync` is set.
pub(crate) fn write_new(path: &Path, bytes: &[u8], sync: bool) -> io::Result<()> {
    simulated!(write_new(path, bytes, sync));
    backend!(write_new(path, bytes, sync));
    let mut file = fs::File::create_new(path)?;
    file.write_all(bytes)?;
    if sync {
        file.sync_all()?;
    }
    Ok(())
}

/// The whole content of `path`.
pub(crate) fn read(path: &Path) -> io::Result<Vec<u8>> {
    simulated!(read(path));
    backend!(read(path, usize::MAX));
    fs::read(path)
}

/// At most the first `limit` bytes of `path`.
pub(crate) fn read_prefix(path: &Path, limit: usize) -> io::Result<Vec<u8>> {
    simulated!(read_prefix(path, limit));
    backend!(read(path, limit));
    let mut bytes = Vec::with_capacity(limit.min(1 << 16));
    fs::File::open(path)?.take(limit as u64).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Syncs the data of the file at `path`.
pub(crate) fn sync_file(path: &Path) -> io::Result<()> {
    simulated!(sync_file(path));
    fs::OpenOptions::new().write(true).open(path)?.sync_all()
}

/// Syncs the directory at `path`: the names created, renamed or removed in it become durable.
pub(crate) fn sync_dir(path: &Path) -> io::Result<()> {
    simulated!(sync_dir(path));
    fs::File::open(path)?.sync_all()
}

/// Renames `from` to `to`, replacing a file (or an empty directory) there.
pub(crate) fn rename(from: &Path, to: &Path) -> io::Result<()> {
    simulated!(rename(from, to));
    fs::rename(from, to)
}

/// Makes `to` a second name of the file `from`; fails if `to` exists.
pub(crate) fn hard_link(from: &Path, to: &Path) -> io::Result<()> {
    simulated!(hard_link(from, to));
    fs::hard_link(from, to)
}

/// Removes the file `path`.
pub(crate) fn remove_file(path: &Path) -> io::Result<()> {
    simulated!(remove_file(path));
    fs::remove_file(path)
}

/// Removes the empty directory `path`.
pub(crate) fn remove_dir(path: &Path) -> io::Result<()> {
    simulated!(remove_dir(path));
    fs::remove_dir(path)
}

/// Removes `path` and everything under it.
pub(crate) fn remove_dir_all(path: &Path) -> io::Result<()> {
    simulated!(remove_dir_all(path));
    fs::remove_dir_all(path)
}

/// Creates the directory `path`, whose parent must exist.
pub(crate) fn create_dir(path: &Path) -> io::Result<()> {
    simulated!(create_dir(path));
    fs::create_dir(path)
}

/// Creates the directory `path` and its missing parents.
pub(crate) fn create_dir_all(path: &Path) -> io::Result<()> {
    simulated!(create_dir_all(path));
    fs::create_dir_all(path)
}

/// The names in directory `dir`; an entry that vanished while listing is an error of its own.
pub(crate) fn list(dir: &Path) -> io::Result<Vec<io::Result<String>>> {
    simulated!(list(dir));
    backend!(list(dir));
    let mut names = Vec::new();
    for item in fs::read_dir(dir)? {
        // Names that are not UTF-8 are never the engine's.
        match item {
            Ok(item) => names.extend(item.file_name().into_string().ok().map(Ok)),
            Err(e) => names.push(Err(e)),
        }
    }
    Ok(names)
}

/// Whether `path` is a file or a directory.
pub(crate) fn kind(path: &Path) -> io::Result<Kind> {
    simulated!(kind(path));
    backend!(kind(path));
    let meta = fs::metadata(path)?;
    Ok(if meta.is_dir() { Kind::Dir } else { Kind::File })
}

/// The size of the file at `path`.
pub(crate) fn len(path: &Path) -> io::Result<u64> {
    simulated!(len(path));
    Ok(fs::metadata(path)?.len())
}

/// When `path` was last modified.
pub(crate) fn modified(path: &Path) -> io::Result<SystemTime> {
    simulated!(modified(path));
    fs::metadata(path)?.modified()
}
