//! Preopens that would let an app around the provider to the store's files.
//!
//! The provider hides the preopen that holds the store (and, where the runtime can tell, other
//! preopens of the same host directory), but it cannot see where the host directories of the
//! other preopens lie: one that contains the store's directory (`--dir .::/` beside
//! `--data ./data`) or lies inside it reaches the store's files by another path. A host that
//! knows both sides, such as `virt-store run`, refuses those.

use std::path::{Component, Path, PathBuf};
use thiserror::Error;

/// Where the provider looks for the store unless `VIRT_STORE_DIR` says otherwise.
const DEFAULT_STORE_DIR: &str = "/data";

/// A preopen that would give the app the store's files.
#[derive(Debug, Error)]
pub enum StoreDirError {
    /// The preopen's host directory contains the store's.
    #[error("`{host}::{guest}` would give the app the store's directory `{store}` (it is inside `{host}`); give the app a directory outside the store", host = .host.display(), store = .store.display())]
    Contains {
        /// The preopen's host directory.
        host: PathBuf,
        /// Where the app would see it.
        guest: String,
        /// The store's host directory.
        store: PathBuf,
    },
    /// The preopen's host directory is the store's.
    #[error("`{host}::{guest}` is the store's directory again: the app would reach the store's files at `{guest}`; drop it (the app reaches its data through wasi:keyvalue)", host = .host.display())]
    Same {
        /// The preopen's host directory.
        host: PathBuf,
        /// Where the app would see it.
        guest: String,
    },
    /// The preopen's host directory lies inside the store's.
    #[error("`{host}::{guest}` lies inside the store's directory `{store}`: the app could change the store's files; give the app a directory outside the store", host = .host.display(), store = .store.display())]
    Inside {
        /// The preopen's host directory.
        host: PathBuf,
        /// Where the app would see it.
        guest: String,
        /// The store's host directory.
        store: PathBuf,
    },
}

/// Checks the preopens of a run, `(host, guest)` pairs, against the store that the provider
/// will find through them (at `VIRT_STORE_DIR` if `env` sets it, else at `/data`): every preopen
/// other than the one that holds the store must be neither the store's host directory, nor
/// contain it, nor lie inside it. Without a preopen that holds the store there is nothing to
/// check (the provider reports the missing store itself).
pub fn check_preopens(
    preopens: &[(PathBuf, String)],
    env: &[(String, String)],
) -> Result<(), StoreDirError> {
    let store_dir = env
        .iter()
        .rev()
        .find(|(key, _)| key == "VIRT_STORE_DIR")
        .map_or(DEFAULT_STORE_DIR, |(_, value)| value.as_str());
    let Some(wanted) = components(store_dir) else {
        return Ok(());
    };
    // The provider's libc picks the preopen with the longest name that holds the path, and the
    // last of equals.
    let mut holder: Option<(usize, Vec<&str>)> = None;
    for (i, (_, guest)) in preopens.iter().enumerate() {
        let Some(prefix) = components(guest) else {
            continue;
        };
        if wanted.starts_with(&prefix)
            && holder
                .as_ref()
                .is_none_or(|(_, best)| prefix.len() >= best.len())
        {
            holder = Some((i, prefix));
        }
    }
    let Some((holder, prefix)) = holder else {
        return Ok(());
    };
    let store = wanted[prefix.len()..]
        .iter()
        .fold(real(&preopens[holder].0), |path, name| path.join(name));
    for (i, (host, guest)) in preopens.iter().enumerate() {
        if i == holder {
            continue;
        }
        let other = real(host);
        let (host, guest) = (host.clone(), guest.clone());
        if other == store {
            return Err(StoreDirError::Same { host, guest });
        }
        if store.starts_with(&other) {
            return Err(StoreDirError::Contains { host, guest, store });
        }
        if other.starts_with(&store) {
            return Err(StoreDirError::Inside { host, guest, store });
        }
    }
    Ok(())
}

/// The components of a guest path from the working directory `/`, or `None` with a `..`.
fn components(path: &str) -> Option<Vec<&str>> {
    let mut names = Vec::new();
    for name in path.split('/') {
        match name {
            "" | "." => {}
            ".." => return None,
            name => names.push(name),
        }
    }
    Some(names)
}

/// `path` with symbolic links resolved as far as it exists, and the rest appended as written:
/// a directory that is still to be created compares as where it will be.
fn real(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            return rest.iter().rev().fold(real, |path, name| path.join(name));
        }
        match (existing.parent(), existing.components().next_back()) {
            (Some(parent), Some(Component::Normal(name))) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(pairs: &[(&Path, &str)]) -> Vec<(PathBuf, String)> {
        pairs
            .iter()
            .map(|(host, guest)| (host.to_path_buf(), guest.to_string()))
            .collect()
    }

    #[test]
    fn refuses_a_preopen_that_reaches_the_store() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let data = root.join("data");
        let other = root.join("pub");
        std::fs::create_dir(&other).unwrap();
        // The store's directory need not exist yet.
        check_preopens(&dirs(&[(&data, "/data"), (&other, "/pub")]), &[]).unwrap();
        let err = check_preopens(&dirs(&[(&data, "/data"), (root, "/")]), &[]).unwrap_err();
        assert!(matches!(err, StoreDirError::Contains { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains("give the app a directory outside the store"),
            "{err}"
        );
        let err = check_preopens(&dirs(&[(&data, "/data"), (&data.join("."), "/alias")]), &[])
            .unwrap_err();
        assert!(matches!(err, StoreDirError::Same { .. }), "{err:?}");
        let err = check_preopens(
            &dirs(&[(&data, "/data"), (&data.join("buckets"), "/b")]),
            &[],
        )
        .unwrap_err();
        assert!(matches!(err, StoreDirError::Inside { .. }), "{err:?}");
    }

    #[test]
    fn follows_virt_store_dir_to_the_preopen_that_holds_the_store() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let (data, elsewhere) = (root.join("data"), root.join("elsewhere"));
        let env = [("VIRT_STORE_DIR".to_owned(), "/other/kv".to_owned())];
        // The store is `elsewhere/kv`: the data directory is an ordinary one now.
        check_preopens(&dirs(&[(&data, "/data"), (&elsewhere, "/other")]), &env).unwrap();
        let err = check_preopens(
            &dirs(&[(&data, "/data"), (&elsewhere, "/other"), (root, "/r")]),
            &env,
        )
        .unwrap_err();
        assert!(matches!(err, StoreDirError::Contains { .. }), "{err:?}");
        // No preopen holds the store: the provider says so itself.
        let env = [("VIRT_STORE_DIR".to_owned(), "/nowhere".to_owned())];
        check_preopens(&dirs(&[(&data, "/data"), (root, "/r")]), &env).unwrap();
    }
}
