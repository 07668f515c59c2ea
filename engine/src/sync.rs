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
    ///
    /// Each directory that a write changed is synced on its own, so this holds on any POSIX
    /// filesystem (ext4, xfs, btrfs, ...): a durable overwrite costs one sync, a batch one per
    /// key directory it changed.
    #[default]
    Sync,
    /// Writes are atomic and survive the writer being killed, but an OS crash or power loss may
    /// lose the most recent ones.
    NoSync,
    /// As [`Durability::Sync`], on a filesystem whose directory sync commits one journal for the
    /// whole filesystem, making every rename done before it durable in any directory (ext4:
    /// measured, and what its journal does). A write or a whole batch then ends with one
    /// directory sync. **Only for ext4**: on a filesystem where each directory's sync stands
    /// alone (btrfs, for one), acknowledged writes of a batch may be lost on a power cut.
    SyncJournal,
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
