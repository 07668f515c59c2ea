//! Durability: whether writes are synced, and the syncs issued (counted, for tests and benchmarks).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{io_err, Result};
use crate::fs::FileSystem;

/// Whether an acknowledged write survives an OS crash or power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Every acknowledged write is synced (file, then directory) before it returns: it survives an
    /// OS crash or power loss.
    #[default]
    Sync,
    /// Writes are atomic and survive the writer being killed, but an OS crash or power loss may
    /// lose the most recent ones.
    NoSync,
}

static SYNCS: AtomicU64 = AtomicU64::new(0);

/// How many `fsync`s this process has issued through the engine.
pub fn sync_count() -> u64 {
    SYNCS.load(Ordering::Relaxed)
}

/// Counts one sync (for the calls that sync as part of another, like `FileSystem::write_new`).
pub(crate) fn count() {
    SYNCS.fetch_add(1, Ordering::Relaxed);
}

/// Syncs a file's data and metadata.
pub(crate) fn sync_file(fs: &dyn FileSystem, path: &Path) -> Result<()> {
    count();
    fs.sync_file(path).map_err(io_err("sync", path))
}

/// Syncs a directory, so that names created, renamed or removed in it are durable.
pub(crate) fn sync_dir(fs: &dyn FileSystem, path: &Path) -> Result<()> {
    count();
    fs.sync_dir(path).map_err(io_err("sync directory", path))
}
