//! The engine's filesystem on `wasi:filesystem` directly: every call, resolved against the
//! preopened directory that holds the store.
//!
//! Through Rust's `std::fs` (wasi-libc underneath), reading a small value file takes an
//! `open-at`, a `stat` for the size hint, an input stream, two reads and three drops; listing a
//! directory adds a `metadata-hash-at` per entry, and `metadata` one more call, for wasi-libc's
//! inode numbers. Here a read is `open-at`, one `read` and a drop; a listing is `open-at`,
//! `read-directory` and one call per entry; telling a file from a directory is one `stat-at`. The
//! protocol is the same: the same names are created, read, renamed and synced in the same order
//! (`virt_store_engine::FileSystem`).
//!
//! The preopen is chosen once, as wasi-libc would choose it for this component (whose working
//! directory is `/` and never changes): the one with the longest name that is a prefix of the
//! store's directory, the last of equals, `.` included (`preopens::holder`, which also decides
//! what the app does not see). With no preopen there, every call fails as a missing directory
//! would ([`NoPreopen`]), which the engine reports as a missing store directory. The provider
//! makes no file call through wasi-libc, so none of its file code is linked in.

use std::io::{self, ErrorKind};
use std::path::{Component, Path, PathBuf};

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use virt_store_engine::{FileSystem, Kind};
use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{
    Descriptor, DescriptorFlags, DescriptorType, ErrorCode, OpenFlags, PathFlags,
};

/// Bytes asked of a file's first `read`: wasmtime allocates and zeroes a buffer of the size
/// asked, so small values (and the key at the head of any value file) should not pay for 64 KiB.
const FIRST_READ: usize = 16 << 10;
/// Bytes asked of each later `read`: wasmtime answers at most 64 KiB per call.
const READ_CHUNK: usize = 64 << 10;
/// Entries of one listing that may fail (vanished, or not UTF-8) before the listing gives up.
const MAX_ENTRY_ERRORS: usize = 10_000;

/// The store's directory as a preopen and a path inside it.
#[derive(Debug)]
pub struct WasiFs {
    /// The store's directory as the engine names it.
    root: PathBuf,
    /// The preopen that holds it.
    preopen: Descriptor,
    /// The store's directory relative to `preopen` (empty when it is the preopen itself).
    inside: String,
}

impl WasiFs {
    /// The filesystem for a store at `root`, on the preopen that holds it (chosen as wasi-libc
    /// would choose it: `preopens::holder`), or `None` when no preopen does.
    pub fn for_root(root: &str) -> Option<WasiFs> {
        let mut preopens = get_directories();
        let names: Vec<&str> = preopens.iter().map(|(_, name)| name.as_str()).collect();
        let (index, inside) = crate::preopens::holder(&names, root)?;
        let (preopen, _) = preopens.swap_remove(index);
        Some(WasiFs {
            root: PathBuf::from(root),
            preopen,
            inside,
        })
    }

    /// `path` relative to the preopen. The engine only names paths under the store's root.
    fn relative(&self, path: &Path) -> io::Result<String> {
        let outside = || {
            io::Error::new(
                ErrorKind::InvalidInput,
                format!("`{}` is outside the store", path.display()),
            )
        };
        let rest = path.strip_prefix(&self.root).map_err(|_| outside())?;
        let mut relative = self.inside.clone();
        for component in rest.components() {
            let Component::Normal(name) = component else {
                return Err(outside());
            };
            if !relative.is_empty() {
                relative.push('/');
            }
            relative.push_str(name.to_str().ok_or_else(outside)?);
        }
        if relative.is_empty() {
            relative.push('.');
        }
        Ok(relative)
    }

    fn open(&self, path: &str, open: OpenFlags, flags: DescriptorFlags) -> io::Result<Descriptor> {
        self.preopen
            .open_at(PathFlags::SYMLINK_FOLLOW, path, open, flags)
            .map_err(io_error)
    }

    /// At most `limit` bytes of the file at `path` from `offset` on (fewer where it ends).
    fn read_at(&self, path: &Path, offset: u64, limit: usize) -> io::Result<Vec<u8>> {
        let path = self.relative(path)?;
        let file = self.open(&path, OpenFlags::empty(), DescriptorFlags::READ)?;
        let mut bytes = Vec::new();
        loop {
            let ask = if bytes.is_empty() {
                FIRST_READ
            } else {
                READ_CHUNK
            };
            let want = (limit - bytes.len()).min(ask);
            if want == 0 {
                break;
            }
            let (chunk, end) = file
                .read(want as u64, offset + bytes.len() as u64)
                .map_err(io_error)?;
            bytes.extend_from_slice(&chunk);
            // A read of a regular file comes back short only at its end (as `pread` does), so a
            // small value takes one call. Were a runtime to answer short mid-file, the value's
            // length and checksum would turn it into a corrupt-value error, never a wrong value.
            if end || chunk.len() < want {
                break;
            }
        }
        Ok(bytes)
    }
}

impl FileSystem for WasiFs {
    fn read(&self, path: &Path, limit: usize) -> io::Result<Vec<u8>> {
        self.read_at(path, 0, limit)
    }

    /// A batch's values share one file: a read of one of them starts at its offset.
    fn read_range(&self, path: &Path, offset: u64, len: u64) -> io::Result<Vec<u8>> {
        self.read_at(path, offset, usize::try_from(len).unwrap_or(usize::MAX))
    }

    fn write_new(&self, path: &Path, bytes: &[u8], sync: bool) -> io::Result<()> {
        let path = self.relative(path)?;
        {
            let file = self.open(
                &path,
                OpenFlags::CREATE | OpenFlags::EXCLUSIVE,
                DescriptorFlags::WRITE,
            )?;
            let mut written = 0;
            while written < bytes.len() {
                let n = file
                    .write(&bytes[written..], written as u64)
                    .map_err(io_error)?;
                if n == 0 {
                    return Err(io::Error::new(
                        ErrorKind::WriteZero,
                        "the runtime wrote nothing",
                    ));
                }
                written += n as usize;
            }
            if sync {
                file.sync().map_err(io_error)?;
            }
            Ok(())
        }
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<io::Result<String>>> {
        let path = self.relative(dir)?;
        {
            let dir = self.open(&path, OpenFlags::DIRECTORY, DescriptorFlags::READ)?;
            let entries = dir.read_directory().map_err(io_error)?;
            let mut names = Vec::new();
            let mut errors = 0;
            loop {
                let entry = entries.read_directory_entry();
                if entry.is_err() {
                    // Never loop for ever on a runtime that keeps failing at one place.
                    errors += 1;
                    if errors > MAX_ENTRY_ERRORS {
                        names.push(Err(io::Error::other("listing failed on too many entries")));
                        break;
                    }
                }
                match entry {
                    Ok(Some(entry)) if entry.name == "." || entry.name == ".." => {}
                    Ok(Some(entry)) => names.push(Ok(entry.name)),
                    Ok(None) => break,
                    // wasmtime looks each entry up as it lists; one renamed meanwhile is gone.
                    Err(ErrorCode::NoEntry) => names.push(Err(io_error(ErrorCode::NoEntry))),
                    // A name that is not UTF-8 is never the engine's (std::fs skips it too).
                    Err(ErrorCode::IllegalByteSequence) => {}
                    Err(code) => {
                        names.push(Err(io_error(code)));
                        break;
                    }
                }
            }
            Ok(names)
        }
    }

    fn kind(&self, path: &Path) -> io::Result<Kind> {
        let stat = self.stat(path)?;
        Ok(if stat.type_ == DescriptorType::Directory {
            Kind::Dir
        } else {
            Kind::File
        })
    }

    fn len(&self, path: &Path) -> io::Result<u64> {
        Ok(self.stat(path)?.size)
    }

    fn modified(&self, path: &Path) -> io::Result<SystemTime> {
        let time = self.stat(path)?.data_modification_timestamp;
        let time = time.ok_or_else(|| {
            io::Error::new(
                ErrorKind::Unsupported,
                "the runtime gives no modification time",
            )
        })?;
        Ok(UNIX_EPOCH + Duration::new(time.seconds, time.nanoseconds))
    }

    fn sync_file(&self, path: &Path) -> io::Result<()> {
        let path = self.relative(path)?;
        self.open(&path, OpenFlags::empty(), DescriptorFlags::WRITE)?
            .sync()
            .map_err(io_error)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        let path = self.relative(path)?;
        self.open(&path, OpenFlags::DIRECTORY, DescriptorFlags::READ)?
            .sync()
            .map_err(io_error)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let (from, to) = (self.relative(from)?, self.relative(to)?);
        self.preopen
            .rename_at(&from, &self.preopen, &to)
            .map_err(io_error)
    }

    fn hard_link(&self, from: &Path, to: &Path) -> io::Result<()> {
        let (from, to) = (self.relative(from)?, self.relative(to)?);
        self.preopen
            .link_at(PathFlags::empty(), &from, &self.preopen, &to)
            .map_err(io_error)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let path = self.relative(path)?;
        self.preopen.unlink_file_at(&path).map_err(io_error)
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        let path = self.relative(path)?;
        self.preopen.remove_directory_at(&path).map_err(io_error)
    }

    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        if self.kind(path)? == Kind::File {
            return self.remove_file(path);
        }
        for name in self.list(path)? {
            // An entry that vanished meanwhile is one less to remove.
            let Ok(name) = name else { continue };
            let child = path.join(name);
            match self.kind(&child) {
                Ok(Kind::Dir) => self.remove_dir_all(&child)?,
                Ok(Kind::File) => self.remove_file(&child)?,
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        self.remove_dir(path)
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        let path = self.relative(path)?;
        self.preopen.create_directory_at(&path).map_err(io_error)
    }

    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        let path = self.relative(path)?;
        let mut at = String::new();
        for name in path.split('/').filter(|name| *name != ".") {
            if !at.is_empty() {
                at.push('/');
            }
            at.push_str(name);
            match self.preopen.create_directory_at(&at) {
                Ok(()) | Err(ErrorCode::Exist) => {}
                Err(code) => return Err(io_error(code)),
            }
        }
        Ok(())
    }
}

impl WasiFs {
    fn stat(&self, path: &Path) -> io::Result<wasip2::filesystem::types::DescriptorStat> {
        let path = self.relative(path)?;
        self.preopen
            .stat_at(PathFlags::SYMLINK_FOLLOW, &path)
            .map_err(io_error)
    }
}

/// A `wasi:filesystem` error as the `io::Error` that `std::fs` would have given: the engine
/// branches on the kinds.
fn io_error(code: ErrorCode) -> io::Error {
    let kind = match code {
        ErrorCode::NoEntry => ErrorKind::NotFound,
        ErrorCode::Exist => ErrorKind::AlreadyExists,
        ErrorCode::NotDirectory => ErrorKind::NotADirectory,
        ErrorCode::IsDirectory => ErrorKind::IsADirectory,
        ErrorCode::Access | ErrorCode::NotPermitted => ErrorKind::PermissionDenied,
        ErrorCode::ReadOnly => ErrorKind::ReadOnlyFilesystem,
        ErrorCode::NotEmpty => ErrorKind::DirectoryNotEmpty,
        ErrorCode::InsufficientSpace => ErrorKind::StorageFull,
        ErrorCode::Interrupted => ErrorKind::Interrupted,
        ErrorCode::Invalid => ErrorKind::InvalidInput,
        ErrorCode::Unsupported => ErrorKind::Unsupported,
        _ => ErrorKind::Other,
    };
    io::Error::new(kind, format!("{kind} (wasi:filesystem `{}`)", code.name()))
}

/// The filesystem of a store under no preopen: every call finds nothing, so the store's first
/// use reports its directory missing, with the fix.
#[derive(Debug)]
pub struct NoPreopen;

impl NoPreopen {
    fn missing<T>(path: &Path) -> io::Result<T> {
        Err(io::Error::new(
            ErrorKind::NotFound,
            format!("no preopened directory holds `{}`", path.display()),
        ))
    }
}

impl FileSystem for NoPreopen {
    fn read(&self, path: &Path, _limit: usize) -> io::Result<Vec<u8>> {
        Self::missing(path)
    }
    fn write_new(&self, path: &Path, _bytes: &[u8], _sync: bool) -> io::Result<()> {
        Self::missing(path)
    }
    fn sync_file(&self, path: &Path) -> io::Result<()> {
        Self::missing(path)
    }
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        Self::missing(path)
    }
    fn rename(&self, from: &Path, _to: &Path) -> io::Result<()> {
        Self::missing(from)
    }
    fn hard_link(&self, from: &Path, _to: &Path) -> io::Result<()> {
        Self::missing(from)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        Self::missing(path)
    }
    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        Self::missing(path)
    }
    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        Self::missing(path)
    }
    fn create_dir(&self, path: &Path) -> io::Result<()> {
        Self::missing(path)
    }
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        Self::missing(path)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<io::Result<String>>> {
        Self::missing(dir)
    }
    fn kind(&self, path: &Path) -> io::Result<Kind> {
        Self::missing(path)
    }
    fn len(&self, path: &Path) -> io::Result<u64> {
        Self::missing(path)
    }
    fn modified(&self, path: &Path) -> io::Result<SystemTime> {
        Self::missing(path)
    }
}
