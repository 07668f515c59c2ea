//! The app's `wasi:filesystem/preopens`: the host's preopens less those that reach the store.
//!
//! Plugging wires the app's `preopens` import to this export, while its `wasi:filesystem/types`
//! stays the host's: the descriptors handed out here are the host's own, so every file call the
//! app makes goes straight to the host, and none passes through the provider.
//!
//! Hidden are:
//! - the preopen that holds the store's directory, chosen as wasi-libc chooses it for the
//!   provider's own file calls (the longest preopen name that is a prefix of the path, compared
//!   byte by byte on whole components; the working directory is `/`). When the store is a
//!   subdirectory of a preopen, that whole preopen is hidden: the store cannot be cut out of it.
//!   Preopens of the same name are all hidden (wasi-libc would pick the last);
//! - any preopen named inside the store's directory (`/data/buckets` beside `/data`), which
//!   wasi-libc would pick for the store's files below it;
//! - any other preopen whose descriptor `is-same-object` as a hidden one: the store's host
//!   directory again under another name. Runtimes that cannot tell (jco's shim compares
//!   JavaScript objects) show it.
//!
//! A preopen that contains the store's directory further down (the host's `.` at `/` while the
//! store is `./data`) is not hidden: the provider cannot see where a host directory lies. The
//! README says how to run safely.
//!
//! The list is computed on every call from the host's list: each call hands out fresh owned
//! descriptors, and the hidden ones are dropped here.

use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::Descriptor;

use crate::bindings::exports::wasi::filesystem::preopens::Guest;

impl Guest for crate::Provider {
    fn get_directories() -> Vec<(Descriptor, String)> {
        visible(get_directories(), &crate::store_dir())
    }
}

/// `preopens` in the host's order, less the ones that reach the store at `store`.
fn visible(preopens: Vec<(Descriptor, String)>, store: &str) -> Vec<(Descriptor, String)> {
    let names: Vec<&str> = preopens.iter().map(|(_, name)| name.as_str()).collect();
    let by_name = hidden_by_name(&names, store);
    let mut hidden = Vec::new();
    let mut shown = Vec::new();
    for (preopen, hide) in preopens.into_iter().zip(by_name) {
        if hide {
            hidden.push(preopen);
        } else {
            shown.push(preopen);
        }
    }
    // One host call per pair; hosts have a handful of preopens.
    shown.retain(|(descriptor, _)| {
        !hidden
            .iter()
            .any(|(store, _)| descriptor.is_same_object(store))
    });
    shown
}

/// The preopen that holds the store's directory `store`, as wasi-libc picks it for a path (the
/// longest matching name, the last of equals), and the store's path inside it (empty when it is
/// the preopen itself). The provider's own file calls (`wasi_fs.rs`) go through this preopen.
pub(crate) fn holder(names: &[&str], store: &str) -> Option<(usize, String)> {
    let absolute = absolute(store);
    let target = strip_leading(&absolute);
    let len = holder_len(names, target)?;
    let index = names.iter().rposition(|name| {
        strip_prefixes(name).len() == len && prefix_matches(strip_prefixes(name), target)
    })?;
    let inside = target[len..].trim_matches('/').to_owned();
    Some((index, inside))
}

/// The length of the longest preopen prefix (as wasi-libc registers names) matching `target`.
fn holder_len(names: &[&str], target: &str) -> Option<usize> {
    names
        .iter()
        .map(|name| strip_prefixes(name))
        .filter(|prefix| prefix_matches(prefix, target))
        .map(str::len)
        .max()
}

/// For each preopen name, whether its name alone says it reaches the store's directory `store`.
fn hidden_by_name(names: &[&str], store: &str) -> Vec<bool> {
    let absolute = absolute(store);
    let target = strip_leading(&absolute);
    let prefixes: Vec<&str> = names.iter().map(|name| strip_prefixes(name)).collect();
    // wasi-libc's choice: the longest matching prefix (and, among equals, the last; all of them
    // are hidden here).
    let holder = holder_len(names, target);
    prefixes
        .iter()
        .map(|prefix| {
            let holds = holder == Some(prefix.len()) && prefix_matches(prefix, target);
            let inside = prefix_matches(target, strip_leading(prefix));
            holds || inside
        })
        .collect()
}

/// `path` made absolute from the working directory `/`, as wasi-libc's `make_absolute` does.
fn absolute(path: &str) -> String {
    if path.starts_with('/') {
        return path.to_owned();
    }
    if path.is_empty() || path == "." || path == "./" {
        return "/".to_owned();
    }
    format!("/{}", path.strip_prefix("./").unwrap_or(path))
}

/// `path` without its leading slashes.
fn strip_leading(path: &str) -> &str {
    path.trim_start_matches('/')
}

/// A preopen name as wasi-libc registers it: without leading `/` and `./`, and `.` as empty.
fn strip_prefixes(mut name: &str) -> &str {
    loop {
        if let Some(rest) = name.strip_prefix('/') {
            name = rest;
        } else if let Some(rest) = name.strip_prefix("./") {
            name = rest;
        } else if name == "." {
            name = "";
        } else {
            return name;
        }
    }
}

/// Whether `prefix` names `path` or a directory above it, on whole components (wasi-libc's
/// `prefix_matches`: the empty prefix matches every path, and trailing slashes are ignored).
fn prefix_matches(prefix: &str, path: &str) -> bool {
    if prefix.is_empty() {
        return true;
    }
    let Some(rest) = path.as_bytes().strip_prefix(prefix.as_bytes()) else {
        return false;
    };
    let trimmed = prefix.trim_end_matches('/');
    // A prefix that ended in slashes has already matched its separator.
    matches!(rest.first(), None | Some(b'/')) || trimmed.len() < prefix.len()
}
