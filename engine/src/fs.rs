//! The engine's one way to the filesystem: the [`FileSystem`] trait, which a store is given when
//! it is opened, and [`StdFs`], its implementation on `std::fs`.
//!
//! Every call the engine makes is a method here, so an implementation sees the whole protocol:
//! the provider implements it on `wasi:filesystem` directly (resolving every path once against
//! the store's preopen), and the power-loss tests on an in-memory filesystem that keeps written
//! bytes apart from synced ones. Paths are the store's root joined with names the engine makes;
//! an implementation may rely on that.

use std::fmt::Debug;
use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::SystemTime;

/// What a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Anything but a directory.
    File,
    /// A directory.
    Dir,
}

/// The filesystem calls the engine makes. Each must mean what the `std::fs` call of the same
/// name means, with the same [`io::ErrorKind`]s: the protocol branches on them (`NotFound` on a
/// lost commit, `AlreadyExists` on a lost first write).
pub trait FileSystem: Debug + Send + Sync {
    /// At most the first `limit` bytes of the file at `path` (all of them for `usize::MAX`).
    fn read(&self, path: &Path, limit: usize) -> io::Result<Vec<u8>>;
    /// At most `len` bytes of the file at `path` from `offset` on (fewer where it ends). The
    /// default reads the file's first `offset + len` bytes; an implementation that can read at
    /// an offset should (a batch's values share one file, and a read wants one of them).
    fn read_range(&self, path: &Path, offset: u64, len: u64) -> io::Result<Vec<u8>> {
        let end = offset.saturating_add(len).try_into().unwrap_or(usize::MAX);
        let mut bytes = self.read(path, end)?;
        bytes.drain(..bytes.len().min(offset.try_into().unwrap_or(usize::MAX)));
        Ok(bytes)
    }
    /// Creates `path`, which must not exist, with `bytes`; syncs it before returning when `sync`
    /// is set.
    fn write_new(&self, path: &Path, bytes: &[u8], sync: bool) -> io::Result<()>;
    /// Syncs the data and metadata of the file at `path`.
    fn sync_file(&self, path: &Path) -> io::Result<()>;
    /// Syncs the directory at `path`: the names created, renamed or removed in it become durable.
    fn sync_dir(&self, path: &Path) -> io::Result<()>;
    /// Renames `from` to `to`, replacing a file (or an empty directory) there.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Makes `to` a second name of the file `from`; fails with `AlreadyExists` if `to` exists.
    fn hard_link(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes the file `path`.
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Removes the empty directory `path`.
    fn remove_dir(&self, path: &Path) -> io::Result<()>;
    /// Removes `path` and everything under it.
    fn remove_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Creates the directory `path`, whose parent must exist.
    fn create_dir(&self, path: &Path) -> io::Result<()>;
    /// Creates the directory `path` and its missing parents.
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;
    /// The names in directory `dir`, without `.`, `..` and names that are not UTF-8 (never the
    /// engine's); an entry that vanished while listing is an `Err` of kind `NotFound` in its place.
    fn list(&self, dir: &Path) -> io::Result<Vec<io::Result<String>>>;
    /// Whether `path` is a file or a directory (following symbolic links).
    fn kind(&self, path: &Path) -> io::Result<Kind>;
    /// The size of the file at `path`.
    fn len(&self, path: &Path) -> io::Result<u64>;
    /// When `path` was last modified.
    fn modified(&self, path: &Path) -> io::Result<SystemTime>;
}

/// The engine's filesystem on `std::fs`: the host's filesystem natively, and `wasi:filesystem`
/// through wasi-libc inside a component.
#[derive(Debug, Default, Clone, Copy)]
pub struct StdFs;

impl FileSystem for StdFs {
    fn read(&self, path: &Path, limit: usize) -> io::Result<Vec<u8>> {
        if limit == usize::MAX {
            return fs::read(path);
        }
        let mut bytes = Vec::with_capacity(limit.min(1 << 16));
        fs::File::open(path)?
            .take(limit as u64)
            .read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    fn read_range(&self, path: &Path, offset: u64, len: u64) -> io::Result<Vec<u8>> {
        use std::io::{Seek, SeekFrom};
        let mut file = fs::File::open(path)?;
        file.seek(SeekFrom::Start(offset))?;
        let mut bytes = Vec::with_capacity(len.min(1 << 16) as usize);
        file.take(len).read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    fn write_new(&self, path: &Path, bytes: &[u8], sync: bool) -> io::Result<()> {
        let mut file = fs::File::create_new(path)?;
        file.write_all(bytes)?;
        if sync {
            file.sync_all()?;
        }
        Ok(())
    }

    fn sync_file(&self, path: &Path) -> io::Result<()> {
        fs::OpenOptions::new().write(true).open(path)?.sync_all()
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        fs::File::open(path)?.sync_all()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn hard_link(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::hard_link(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        fs::remove_dir(path)
    }

    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        fs::remove_dir_all(path)
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        fs::create_dir(path)
    }

    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        fs::create_dir_all(path)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<io::Result<String>>> {
        let mut names = Vec::new();
        for item in fs::read_dir(dir)? {
            match item {
                Ok(item) => names.extend(item.file_name().into_string().ok().map(Ok)),
                Err(e) => names.push(Err(e)),
            }
        }
        Ok(names)
    }

    fn kind(&self, path: &Path) -> io::Result<Kind> {
        let meta = fs::metadata(path)?;
        Ok(if meta.is_dir() { Kind::Dir } else { Kind::File })
    }

    fn len(&self, path: &Path) -> io::Result<u64> {
        Ok(fs::metadata(path)?.len())
    }

    fn modified(&self, path: &Path) -> io::Result<SystemTime> {
        fs::metadata(path)?.modified()
    }
}
