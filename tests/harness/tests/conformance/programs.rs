//! One test per behaviour-area guest program (tests/programs/src/bin/<name>.rs), each on a
//! fresh store directory. Test names equal program names so `foreach_program!` can check that
//! every program has a test (`pub` so that the crate root may name them).
//!
//! A scenario program runs for the `wasi:keyvalue` version its argument names; its test runs it
//! for every version that has the operations it calls, each on a store of its own.

use tempfile::TempDir;

/// Every version the provider serves, as the scenario programs name them.
const EVERY_VERSION: &[&str] = &["draft3", "draft2", "draft"];
/// The versions with compare-and-swap.
const CAS_VERSIONS: &[&str] = &["draft3", "draft2"];

/// Runs `check(version)` for each of `versions` at once, each on a thread named `PROGRAM
/// VERSION` (a failure's panic message is printed under that name); fails if any failed.
fn for_each_version(program: &str, versions: &[&str], check: impl Fn(&str) + Sync) {
    let failed: Vec<&str> = std::thread::scope(|scope| {
        let runs: Vec<_> = versions
            .iter()
            .map(|version| {
                let run = std::thread::Builder::new()
                    .name(format!("{program} {version}"))
                    .spawn_scoped(scope, || check(version))
                    .expect("spawn a thread");
                (*version, run)
            })
            .collect();
        runs.into_iter()
            .filter_map(|(version, run)| run.join().is_err().then_some(version))
            .collect()
    });
    assert!(
        failed.is_empty(),
        "`{program}` failed for {failed:?} (see each failure above)"
    );
}

/// Runs `program VERSION` for each of `versions`, each with a fresh empty directory preopened as
/// `/data`; each must exit with 0.
fn run_fresh(program: &str, versions: &[&str]) {
    for_each_version(program, versions, |version| {
        let dir = TempDir::new().expect("create a temporary store directory");
        virt_store_harness::run_ok(program, dir.path(), &[version]);
    });
}

#[test]
pub fn store_basic() {
    run_fresh("store_basic", EVERY_VERSION);
}

#[test]
pub fn keys_awkward() {
    for_each_version("keys_awkward", EVERY_VERSION, |version| {
        let dir = TempDir::new().expect("create a temporary store directory");
        let output = virt_store_harness::run_ok("keys_awkward", dir.path(), &[version]);
        assert!(output.stdout.contains("awkward keys: "), "{output}");
        let count = output.stdout.lines().next().unwrap_or_default();
        eprintln!("{version}: {count}");
        // Nothing was written outside the bucket, and every name on disk is one the engine
        // makes: no key ever became a path.
        assert_only_engine_names(dir.path());
    });
}

/// Walks a store directory and fails on any name the engine does not write (FORMAT.md's layout).
fn assert_only_engine_names(root: &std::path::Path) {
    let hex = |s: &str, len: usize| {
        s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let version = |s: &str| {
        s.split_once('.')
            .is_some_and(|(seq, nonce)| hex(seq, 16) && hex(nonce, 16))
    };
    let base64url = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    // `p.<seq>.<nonce>.<payload>`: the value in the name (`i...`), in a file (`f`, or a part of a
    // batch's file, `f<offset>.<length>`), or none (`d`).
    let pointer = |s: &str| {
        s.get(..33).is_some_and(version)
            && s[33..].strip_prefix('.').is_some_and(|payload| {
                payload == "d"
                    || payload.strip_prefix('i').is_some_and(base64url)
                    || payload.strip_prefix('f').is_some_and(|at| {
                        at.is_empty()
                            || at.split_once('.').is_some_and(|(offset, len)| {
                                [offset, len].iter().all(|h| {
                                    !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit())
                                })
                            })
                    })
            })
    };
    let mut stack = vec![root.to_path_buf()];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(root).unwrap();
            let parts: Vec<&str> = relative
                .iter()
                .map(|p| p.to_str().expect("a name that is not UTF-8"))
                .collect();
            let ok = match parts[..] {
                ["virt-store-format"] | ["buckets"] | ["buckets", "_default"] => true,
                ["buckets", _, "tmp2"] => true,
                ["buckets", _, "tmp2", _] => true,
                ["buckets", _, shard] => hex(shard, 2),
                ["buckets", _, shard, key] => key.starts_with(shard) && hex(key, 64),
                ["buckets", _, _, _, "key"] => true,
                ["buckets", _, _, _, file] => {
                    file.strip_prefix("val.").is_some_and(version)
                        || file.strip_prefix("p.").is_some_and(pointer)
                        || file.strip_prefix("k.").is_some_and(base64url)
                }
                _ => false,
            };
            assert!(
                ok,
                "a name the engine never writes: `{}`",
                relative.display()
            );
            files += 1;
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    assert!(files > 100, "the walk saw only {files} entries");
}

#[test]
pub fn buckets() {
    run_fresh("buckets", EVERY_VERSION);
}

#[test]
pub fn list_keys_paging() {
    run_fresh("list_keys_paging", EVERY_VERSION);
}

#[test]
pub fn increment() {
    run_fresh("increment", EVERY_VERSION);
}

#[test]
pub fn cas() {
    run_fresh("cas", CAS_VERSIONS);
}

#[test]
pub fn batch() {
    run_fresh("batch", EVERY_VERSION);
}

#[test]
pub fn limits() {
    run_fresh("limits", EVERY_VERSION);
}

#[test]
pub fn root_missing() {
    for_each_version("root_missing", EVERY_VERSION, |version| {
        let dir = TempDir::new().expect("create a temporary directory");
        let out = virt_store_harness::run(
            "root_missing",
            dir.path(),
            &[version],
            &[("VIRT_STORE_DIR", "/nonexistent/store")],
        )
        .expect("run root_missing");
        assert_eq!(out.status, 0, "`root_missing {version}` failed: {out}");
    });
}

/// wasmtime's own keyvalue scenario, on a store preset as wasmtime's in-memory host is preset
/// in the differential suite.
#[test]
pub fn draft_wasmtime_scenario() {
    let dir = TempDir::new().expect("create a temporary store directory");
    virt_store_harness::preset(dir.path(), &[("hello", "world"), ("atomics_key", "5")])
        .expect("preset the store");
    virt_store_harness::run_ok("draft_wasmtime_scenario", dir.path(), &[]);
}

/// What an app on `0.2.0-draft` writes, a later app on draft3 and draft2 reads from the same
/// store.
#[test]
pub fn cross_version() {
    let dir = TempDir::new().expect("create a temporary store directory");
    virt_store_harness::run_ok("cross_version", dir.path(), &["write"]);
    virt_store_harness::run_ok("cross_version", dir.path(), &["read"]);
}
