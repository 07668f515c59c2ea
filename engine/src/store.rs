//! A store: a root directory holding a format marker and one directory per bucket.

use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::bucket::Bucket;
use crate::error::{io_err, Error, Result};
use crate::fs::{FileSystem, Kind, StdFs};
use crate::names::{temp_name, TMP1_DIR, TMP_DIR};
use crate::sync::{sync_dir, sync_file, Durability};

/// Name of the marker file in the root.
pub const FORMAT_FILE: &str = "virt-store-format";
/// Content of the marker file for this format version.
pub const FORMAT_MARKER: &str = "virt-store format 2\n";
/// Content of the marker file of format 1, which this engine reads and converts as it writes.
pub const FORMAT1_MARKER: &str = "virt-store format 1\n";
/// Directory of the buckets, in the root.
pub const BUCKETS_DIR: &str = "buckets";
/// Directory name of the default bucket (`""`), which no identifier can spell.
pub const DEFAULT_BUCKET_DIR: &str = "_default";

/// How a store is opened.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Whether writes are synced before they are acknowledged.
    pub durability: Durability,
}

/// An open store: a root directory. Opening is O(1) in the store's size.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    options: Options,
    fs: Arc<dyn FileSystem>,
}

impl Store {
    /// Opens the store at `root` on `std::fs`, initialising an empty directory as a store.
    pub fn open(root: impl Into<PathBuf>, options: Options) -> Result<Store> {
        Store::open_on(Arc::new(StdFs), root, options)
    }

    /// Opens the store at `root` on the filesystem `fs`, initialising an empty directory as a
    /// store. Every call the store and its buckets make goes to `fs`.
    pub fn open_on(
        fs: Arc<dyn FileSystem>,
        root: impl Into<PathBuf>,
        options: Options,
    ) -> Result<Store> {
        let store = Store::open_deferred(fs, root, options);
        store.check_format()?;
        Ok(store)
    }

    /// The store at `root`, checked as it is used: opening a bucket that exists costs one `stat`
    /// of its `tmp2/` directory, which only a store of this format has (FORMAT.md, "Layout"; a
    /// format-1 bucket costs a second `stat`, of its `tmp/`), and
    /// the format marker is read (or written, in an empty directory) only when a bucket is
    /// created. For a host that opens the store in every short-lived instance, as the provider
    /// does in every `wasmtime serve` request; errors about the root come with the first bucket.
    pub fn open_deferred(
        fs: Arc<dyn FileSystem>,
        root: impl Into<PathBuf>,
        options: Options,
    ) -> Store {
        Store {
            root: root.into(),
            options,
            fs,
        }
    }

    /// Reads the format marker; initialises the root when it has none.
    fn check_format(&self) -> Result<()> {
        let marker = self.root.join(FORMAT_FILE);
        match self.fs.read(&marker, usize::MAX) {
            Ok(found) if found == FORMAT_MARKER.as_bytes() => Ok(()),
            Ok(found) if found == FORMAT1_MARKER.as_bytes() => Ok(()),
            Ok(found) => Err(unknown_format(marker, &found)),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                init(&*self.fs, &self.root, &marker, self.options.durability)
            }
            Err(e) => Err(root_error(&self.root, "read", e)),
        }
    }

    /// The format version the store's marker says: 1 for a store that no format-2 engine has
    /// written yet (its buckets are all still format 1), 2 once one has. For host tools
    /// (`virt-store inspect`); [`Bucket::is_format1`] and [`Bucket::stats`] say the same of
    /// each bucket and its keys.
    pub fn format_version(&self) -> Result<u32> {
        let marker = self.root.join(FORMAT_FILE);
        let found = self
            .fs
            .read(&marker, usize::MAX)
            .map_err(|e| root_error(&self.root, "read", e))?;
        if found == FORMAT_MARKER.as_bytes() {
            Ok(2)
        } else if found == FORMAT1_MARKER.as_bytes() {
            Ok(1)
        } else {
            Err(unknown_format(marker, &found))
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The filesystem the store is on.
    pub(crate) fn fs(&self) -> &dyn FileSystem {
        &*self.fs
    }

    /// Opens a bucket, creating it if needed. `""` is the default bucket.
    pub fn bucket(&self, id: &str) -> Result<Bucket> {
        validate_bucket_id(id)?;
        let dir = self.bucket_dir(id);
        let tmp = dir.join(TMP_DIR);
        let durability = self.options.durability;
        // A bucket exists once its tmp2 directory does; that is the only check on the hot path.
        let Err(e) = self.fs.kind(&tmp) else {
            return Ok(Bucket::new(self.fs.clone(), dir, durability, false));
        };
        // A format-1 bucket: read as it is, converted by its first write (a second `stat`).
        if e.kind() == ErrorKind::NotFound && self.fs.kind(&dir.join(TMP1_DIR)).is_ok() {
            return Ok(Bucket::new(self.fs.clone(), dir, durability, true));
        }
        // The root's own errors (missing, foreign) say more than the bucket's.
        self.check_format()?;
        if e.kind() != ErrorKind::NotFound {
            return Err(io_err("open bucket", &dir)(e));
        }
        // A format-1 provider that does not find a bucket reads the marker: it must say 2 before
        // a format-2 bucket exists.
        upgrade_marker(&*self.fs, &self.root, durability)?;
        self.fs
            .create_dir_all(&tmp)
            .map_err(|e| writable_error(&dir, "create bucket", e))?;
        if durability != Durability::NoSync {
            sync_dir(&*self.fs, &dir)?;
            sync_dir(&*self.fs, &self.root.join(BUCKETS_DIR))?;
        }
        Ok(Bucket::new(self.fs.clone(), dir, durability, false))
    }

    /// The directory of bucket `id` (which must be valid).
    pub fn bucket_dir(&self, id: &str) -> PathBuf {
        let name = if id.is_empty() {
            DEFAULT_BUCKET_DIR
        } else {
            id
        };
        self.root.join(BUCKETS_DIR).join(name)
    }
}

/// Checks a bucket identifier against the allowlist: `""`, or 1 to 63 bytes of `[a-z0-9_-]`
/// starting with `[a-z0-9]`. Lowercase only, so that case-insensitive filesystems cannot merge two
/// buckets.
pub fn validate_bucket_id(id: &str) -> Result<()> {
    let reason = if id.is_empty() {
        return Ok(());
    } else if id.len() > 63 {
        "longer than 63 bytes"
    } else if !id
        .bytes()
        .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
    {
        "it has a character other than a-z, 0-9, `_` and `-`"
    } else if !id.as_bytes()[0].is_ascii_alphanumeric() {
        "it starts with `_` or `-`"
    } else {
        return Ok(());
    };
    let shown: String = id.escape_debug().take(80).collect();
    Err(Error::InvalidBucket { id: shown, reason })
}

/// Makes the marker of a format-1 store say format 2 (atomically: a temporary renamed over it),
/// before the store gets its first format-2 bucket. A marker that says 2 already is left alone.
pub(crate) fn upgrade_marker(
    fs: &dyn FileSystem,
    root: &Path,
    durability: Durability,
) -> Result<()> {
    let marker = root.join(FORMAT_FILE);
    let found = fs
        .read(&marker, usize::MAX)
        .map_err(io_err("read", &marker))?;
    if found == FORMAT_MARKER.as_bytes() {
        return Ok(());
    }
    if found != FORMAT1_MARKER.as_bytes() {
        return Err(unknown_format(marker, &found));
    }
    let temp = root.join(format!(".{FORMAT_FILE}.{}", temp_name()?));
    let sync = durability != Durability::NoSync;
    let written = fs
        .write_new(&temp, FORMAT_MARKER.as_bytes(), sync)
        .and_then(|()| fs.rename(&temp, &marker));
    if let Err(e) = written {
        let _ = fs.remove_file(&temp);
        return Err(writable_error(root, "upgrade the format marker of", e));
    }
    if sync {
        crate::sync::count();
        sync_dir(fs, root)?;
    }
    Ok(())
}

/// Writes the marker (atomically: a temporary then a link, so a half-written marker is never
/// seen) and the buckets directory.
fn init(fs: &dyn FileSystem, root: &Path, marker: &Path, durability: Durability) -> Result<()> {
    match fs.kind(root) {
        Ok(Kind::Dir) => {}
        Ok(_) => {
            return Err(io_err("use as store directory", root)(io::Error::other(
                "not a directory",
            )))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(Error::RootMissing {
                path: root.to_path_buf(),
            })
        }
        Err(e) => return Err(root_error(root, "open", e)),
    }
    let temp = root.join(format!(".{FORMAT_FILE}.{}", temp_name()?));
    let written = fs
        .write_new(&temp, FORMAT_MARKER.as_bytes(), false)
        .map_err(|e| writable_error(root, "initialise", e));
    if let Err(e) = written {
        let _ = fs.remove_file(&temp);
        return Err(e);
    }
    if durability != Durability::NoSync {
        sync_file(fs, &temp)?;
    }
    let linked = fs.hard_link(&temp, marker);
    let _ = fs.remove_file(&temp);
    match linked {
        Ok(()) => {}
        // Another instance initialised the store first; check what it wrote.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            let found = fs
                .read(marker, usize::MAX)
                .map_err(io_err("read", marker))?;
            if found != FORMAT_MARKER.as_bytes() {
                return Err(unknown_format(marker.to_path_buf(), &found));
            }
        }
        Err(e) => return Err(writable_error(root, "initialise", e)),
    }
    let buckets = root.join(BUCKETS_DIR);
    match fs.create_dir(&buckets) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(writable_error(root, "create", e)),
    }
    if durability != Durability::NoSync {
        sync_dir(fs, root)?;
    }
    Ok(())
}

fn unknown_format(path: PathBuf, found: &[u8]) -> Error {
    let text = String::from_utf8_lossy(found);
    let first = text.lines().next().unwrap_or("").trim();
    Error::UnknownFormat {
        path,
        found: first.chars().take(80).collect(),
    }
}

fn root_error(root: &Path, op: &'static str, e: io::Error) -> Error {
    match e.kind() {
        ErrorKind::NotFound => Error::RootMissing {
            path: root.to_path_buf(),
        },
        _ => io_err(op, root)(e),
    }
}

/// Maps the errors of a first write into a directory: permission problems say "read-only".
fn writable_error(dir: &Path, op: &'static str, e: io::Error) -> Error {
    match e.kind() {
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => Error::ReadOnly {
            path: dir.to_path_buf(),
            source: e,
        },
        ErrorKind::NotFound => Error::RootMissing {
            path: dir.to_path_buf(),
        },
        _ => io_err(op, dir)(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allowlist() {
        for ok in ["", "a", "0", "notes", "a_b-c", &"a".repeat(63)] {
            assert!(validate_bucket_id(ok).is_ok(), "{ok:?} refused");
        }
        for bad in [
            "A",
            "Bad",
            "../x",
            "a/b",
            "-x",
            "_x",
            ".",
            "..",
            "a.b",
            "é",
            "a b",
            "\0",
            &"a".repeat(64),
        ] {
            let err = validate_bucket_id(bad).unwrap_err().to_string();
            assert!(err.contains("bucket identifier"), "{bad:?}: {err}");
        }
    }
}
