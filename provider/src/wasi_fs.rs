//! The engine's hot filesystem calls on `wasi:filesystem` directly, relative to the preopened
//! directory that holds the store.
//!
//! Through Rust's `std::fs` (wasi-libc underneath), reading a small value file takes an
//! `open-at`, a `stat` for the size hint, an input stream, two reads and three drops; listing a
//! directory adds a `metadata-hash-at` per entry, and `metadata` one more call, for wasi-libc's
//! inode numbers. Here a read is `open-at`, one `read` and a drop; a listing is `open-at`,
//! `read-directory` and one call per entry; telling a file from a directory is one `stat-at`. The
//! protocol is the same: the same names are created, read and synced in the same order
//! (`engine::Backend`).
//!
//! Paths are resolved as wasi-libc resolves them for this component (whose working directory is
//! `/` and never changes): the preopen with the longest name that is a prefix of the store's
//! directory. When that is not clear-cut (a preopen with a relative name, two with the same name,
//! a `..` in the path), no backend is installed and `std::fs` does everything.

use std::io::{self, ErrorKind};
use std::path::{Component, Path, PathBuf};

use engine::Kind;
use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{Descriptor, DescriptorFlags, DescriptorType, ErrorCode, OpenFlags, PathFlags};

/// Bytes asked of a file's first `read`: wasmtime allocates and zeroes a buffer of the size
/// asked, so small values (and the key at the head of any value file) should not pay for 64 KiB.
const FIRST_READ: usize = 16 << 10;
/// Bytes asked of each later `read`: wasmtime answers at most 64 KiB per call.
const READ_CHUNK: usize = 64 << 10;
/// Entries of one listing that may fail (vanished, or not UTF-8) before the listing gives up.
const MAX_ENTRY_ERRORS: usize = 10_000;

/// The store's directory as a preopen and a path inside it.
pub struct WasiFs {
    /// The store's directory as the engine names it.
    root: PathBuf,
    /// The preopen that holds it.
    preopen: Descriptor,
    /// The store's directory relative to `preopen` (empty when it is the preopen itself).
    inside: String,
}

impl WasiFs {
    /// The backend for a store at `root`, or `None` when the preopen that holds it is not
    /// clear-cut (then `std::fs` serves every call).
    pub fn for_root(root: &Path) -> Option<WasiFs> {
        let wanted = normal_components(root)?;
        let mut best: Option<(Descriptor, usize)> = None;
        let mut tie = false;
        for (preopen, name) in get_directories() {
            // A relative preopen name (`.`, as `wasmtime run --dir .` gives) is resolved by
            // wasi-libc with rules of its own: leave such setups to it.
            if !name.starts_with('/') {
                return None;
            }
            let Some(prefix) = normal_components(Path::new(&name)) else { return None };
            if !wanted.starts_with(&prefix) {
                continue;
            }
            match &best {
                Some((_, len)) if *len > prefix.len() => {}
                Some((_, len)) if *len == prefix.len() => tie = true,
                _ => {
                    tie = false;
                    best = Some((preopen, prefix.len()));
                }
            }
        }
        let (preopen, len) = best?;
        if tie {
            return None;
        }
        Some(WasiFs { root: root.to_path_buf(), preopen, inside: wanted[len..].join("/") })
    }

    /// `path` relative to the preopen, or `None` for a path outside the store.
    fn relative(&self, path: &Path) -> Option<String> {
        let rest = path.strip_prefix(&self.root).ok()?;
        let mut relative = self.inside.clone();
        for component in rest.components() {
            let Component::Normal(name) = component else { return None };
            if !relative.is_empty() {
                relative.push('/');
            }
            relative.push_str(name.to_str()?);
        }
        if relative.is_empty() {
            relative.push('.');
        }
        Some(relative)
    }

    fn open(&self, path: &str, open: OpenFlags, flags: DescriptorFlags) -> io::Result<Descriptor> {
        self.preopen.open_at(PathFlags::SYMLINK_FOLLOW, path, open, flags).map_err(io_error)
    }
}

impl engine::Backend for WasiFs {
    fn read(&self, path: &Path, limit: usize) -> Option<io::Result<Vec<u8>>> {
        let path = self.relative(path)?;
        Some((|| {
            let file = self.open(&path, OpenFlags::empty(), DescriptorFlags::READ)?;
            let mut bytes = Vec::new();
            loop {
                let ask = if bytes.is_empty() { FIRST_READ } else { READ_CHUNK };
                let want = (limit - bytes.len()).min(ask);
                if want == 0 {
                    break;
                }
                let (chunk, end) = file.read(want as u64, bytes.len() as u64).map_err(io_error)?;
                bytes.extend_from_slice(&chunk);
                // A read of a regular file comes back short only at its end (as `pread` does),
                // so a small value takes one call. Were a runtime to answer short mid-file, the
                // value's length and checksum would turn it into a corrupt-value error, never a
                // wrong value.
                if end || chunk.len() < want {
                    break;
                }
            }
            Ok(bytes)
        })())
    }

    fn write_new(&self, path: &Path, bytes: &[u8], sync: bool) -> Option<io::Result<()>> {
        let path = self.relative(path)?;
        Some((|| {
            let file = self.open(&path, OpenFlags::CREATE | OpenFlags::EXCLUSIVE, DescriptorFlags::WRITE)?;
            let mut written = 0;
            while written < bytes.len() {
                let n = file.write(&bytes[written..], written as u64).map_err(io_error)?;
                if n == 0 {
                    return Err(io::Error::new(ErrorKind::WriteZero, "the runtime wrote nothing"));
                }
                written += n as usize;
            }
            if sync {
                file.sync().map_err(io_error)?;
            }
            Ok(())
        })())
    }

    fn list(&self, dir: &Path) -> Option<io::Result<Vec<io::Result<String>>>> {
        let path = self.relative(dir)?;
        Some((|| {
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
        })())
    }

    fn kind(&self, path: &Path) -> Option<io::Result<Kind>> {
        let path = self.relative(path)?;
        Some(match self.preopen.stat_at(PathFlags::SYMLINK_FOLLOW, &path) {
            Ok(stat) if stat.type_ == DescriptorType::Directory => Ok(Kind::Dir),
            Ok(_) => Ok(Kind::File),
            Err(code) => Err(io_error(code)),
        })
    }
}

/// The components of `path` as the guest resolves it (relative paths from `/`), or `None` when
/// it has a `..`.
fn normal_components(path: &Path) -> Option<Vec<String>> {
    let mut names = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(name) => names.push(name.to_str()?.to_owned()),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(names)
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
