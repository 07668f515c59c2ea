//! wasmtime's own keyvalue test (`crates/test-programs/src/bin/keyvalue_main.rs`), on a store
//! preset with `hello` = "world" and `atomics_key` = "5": increment, list-keys, set / get /
//! exists / delete, then set-many, delete-many and get-many.
//!
//! It must pass unchanged on wasmtime's in-memory host (preset through its `in_memory_data`)
//! and through the provider (preset on disk), so it asserts nothing either may do differently:
//! it collects `list-keys` pages until the cursor is `none` (wasmtime's host returns one page),
//! and opens one bucket handle (each of that host's `open("")` starts from the preset again).

use test_programs::*;

fn main() {
    let bucket = Bucket::<Draft>::open_default();

    assert_eq!(
        bucket.increment("atomics_key", 1),
        6,
        "the preset atomics_key (5) incremented by 1"
    );
    bucket.assert_value("atomics_key", Some(b"6"), "the counter, as decimal text");

    let mut keys = bucket.list_all();
    keys.sort();
    assert_eq!(
        keys,
        ["atomics_key", "hello"],
        "list-keys returns exactly the preset keys"
    );
    bucket.assert_value("hello", Some(b"world"), "the preset hello");

    bucket.set("hello", b"world");
    assert_eq!(
        bucket.get("hello").map(String::from_utf8),
        Some(Ok("world".to_string())),
        "get(\"hello\") after set"
    );
    assert!(bucket.exists("hello"), "exists(\"hello\") after set");
    bucket.delete("hello");
    assert!(!bucket.exists("hello"), "exists(\"hello\") after delete");
    assert_eq!(bucket.get("hello"), None, "get(\"hello\") after delete");

    bucket.set_many(&pairs(&[("a1", "v1"), ("b1", "v1"), ("c1", "v1")]));
    bucket.delete_many(&strings(&["a1", "c1"]));
    assert_eq!(
        bucket.get_many(&strings(&["a1", "b1", "c1"])),
        vec![None, Some(("b1".to_string(), b"v1".to_vec())), None],
        "get-many after delete-many: none, some, none"
    );
}
