//! Data outlives the instance that wrote it, and lives in the host directory.

use std::path::Path;
use tempfile::TempDir;
use virt_store_harness::run_ok;

/// What `kv_get` prints for a key that is absent.
const NONE: &str = "<none>";

fn get(dir: &Path, args: &[&str]) -> String {
    run_ok("kv_get", dir, args).stdout.trim_end().to_owned()
}

/// Counts the regular files under `dir`, at any depth.
fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .map(|path| if path.is_dir() { files_under(&path) } else { 1 })
        .sum()
}

#[test]
fn a_value_set_by_one_instance_is_read_by_a_fresh_one() {
    let dir = TempDir::new().unwrap();
    assert_eq!(get(dir.path(), &["greeting"]), NONE);
    run_ok("kv_set", dir.path(), &["greeting", "hello, world"]);
    assert_eq!(get(dir.path(), &["greeting"]), "hello, world");
}

#[test]
fn the_data_is_in_the_host_directory() {
    let dir = TempDir::new().unwrap();
    run_ok("kv_set", dir.path(), &["k", "v"]);
    assert!(
        files_under(dir.path()) > 0,
        "no file appeared under the store directory"
    );

    let elsewhere = TempDir::new().unwrap();
    assert_eq!(
        get(elsewhere.path(), &["k"]),
        NONE,
        "another directory is another store"
    );
}

#[test]
fn an_overwrite_persists() {
    let dir = TempDir::new().unwrap();
    run_ok("kv_set", dir.path(), &["k", "first"]);
    run_ok("kv_set", dir.path(), &["k", "second"]);
    assert_eq!(get(dir.path(), &["k"]), "second");
}

#[test]
fn a_named_bucket_persists_apart_from_the_default_one() {
    let dir = TempDir::new().unwrap();
    run_ok("kv_set", dir.path(), &["k", "in-bucket", "mine"]);
    assert_eq!(get(dir.path(), &["k", "mine"]), "in-bucket");
    assert_eq!(get(dir.path(), &["k"]), NONE);
}

#[test]
fn a_read_only_directory_gets_no_store_and_a_clear_error() {
    let dir = TempDir::new().unwrap();
    let out = virt_store_harness::run_readonly("kv_set", dir.path(), &["k", "v"]).unwrap();
    assert_ne!(
        out.status, 0,
        "kv_set through a read-only preopen succeeded: {out}"
    );
    assert!(
        out.stderr.contains("read-only") || out.stderr.contains("not writable"),
        "the error should say the directory is read-only: {out}"
    );
    assert_eq!(
        files_under(dir.path()),
        0,
        "something was written through a read-only preopen"
    );
}

#[test]
fn a_directory_of_another_format_is_refused_and_left_alone() {
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("virt-store-format"),
        "virt-store format 3\n",
    )
    .unwrap();
    let out = virt_store_harness::run("kv_set", dir.path(), &["k", "v"], &[]).unwrap();
    assert_ne!(
        out.status, 0,
        "kv_set into a format-3 directory succeeded: {out}"
    );
    assert!(
        out.stderr
            .contains("is not a virt-store store of format 1 or 2")
            && out.stderr.contains("virt-store format 3"),
        "the error should name the format found: {out}"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        ["virt-store-format"],
        "something was written into a directory of another format"
    );
}

#[test]
fn a_store_preset_natively_is_read_by_the_provider() {
    let dir = TempDir::new().unwrap();
    virt_store_harness::preset(dir.path(), &[("greeting", "hello"), ("n", "5")]).unwrap();
    assert_eq!(get(dir.path(), &["greeting"]), "hello");
    assert_eq!(get(dir.path(), &["n"]), "5");
    assert_eq!(get(dir.path(), &["greeting", "other"]), NONE);
}

/// `VIRT_STORE_SYNC` takes `on`, `off` and `ext4-journal`, each keeping what it wrote; anything
/// else fails every call with a message that lists them, and writes nothing.
#[test]
fn every_sync_mode_keeps_its_writes_and_a_bad_one_says_the_choices() {
    for mode in ["on", "off", "ext4-journal"] {
        let dir = TempDir::new().unwrap();
        let env = [("VIRT_STORE_SYNC", mode)];
        let set = virt_store_harness::run("kv_set", dir.path(), &["k", mode], &env).unwrap();
        assert_eq!(set.status, 0, "{mode}: {set}");
        let get = virt_store_harness::run("kv_get", dir.path(), &["k"], &env).unwrap();
        assert_eq!(get.stdout, format!("{mode}\n"), "{mode}: {get}");
    }
    let dir = TempDir::new().unwrap();
    let env = [("VIRT_STORE_SYNC", "always")];
    let out = virt_store_harness::run("kv_set", dir.path(), &["k", "v"], &env).unwrap();
    assert_ne!(out.status, 0, "{out}");
    assert!(
        out.stderr
            .contains("`VIRT_STORE_SYNC` is `always`: set it to `on` (sync every write, the default), `off`, or `ext4-journal`"),
        "{out}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
