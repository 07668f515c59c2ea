//! wasmtime's own keyvalue test (`crates/test-programs/src/bin/keyvalue_main.rs`), on a store
//! preset with `hello` = "world" and `atomics_key` = "5": increment, list-keys, set / get /
//! exists / delete, then set-many, delete-many and get-many.
//!
//! It must pass unchanged on wasmtime's in-memory host (preset through its `in_memory_data`)
//! and through the provider (preset on disk), so it asserts nothing either may do differently:
//! it collects `list-keys` pages until the cursor is `none` (wasmtime's host returns one page),
//! and opens one bucket handle (each of that host's `open("")` starts from the preset again).

use test_programs::draft::*;

fn main() {
    let bucket = open_default();

    assert_eq!(
        ok(
            atomics::increment(&bucket, "atomics_key", 1),
            "increment(\"atomics_key\", 1)"
        ),
        6,
        "the preset atomics_key (5) incremented by 1"
    );
    assert_value(
        &bucket,
        "atomics_key",
        Some(b"6"),
        "the counter, as decimal text",
    );

    let mut keys = list_all(&bucket);
    keys.sort();
    assert_eq!(
        keys,
        ["atomics_key", "hello"],
        "list-keys returns exactly the preset keys"
    );
    assert_value(&bucket, "hello", Some(b"world"), "the preset hello");

    set(&bucket, "hello", b"world");
    assert_eq!(
        get(&bucket, "hello").map(String::from_utf8),
        Some(Ok("world".to_string())),
        "get(\"hello\") after set"
    );
    assert!(exists(&bucket, "hello"), "exists(\"hello\") after set");
    delete(&bucket, "hello");
    assert!(!exists(&bucket, "hello"), "exists(\"hello\") after delete");
    assert_eq!(get(&bucket, "hello"), None, "get(\"hello\") after delete");

    let entries = [("a1", "v1"), ("b1", "v1"), ("c1", "v1")]
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()));
    ok(batch::set_many(&bucket, &entries), "set-many of a1, b1, c1");
    ok(
        batch::delete_many(&bucket, &["a1".to_string(), "c1".to_string()]),
        "delete-many of a1, c1",
    );
    let values = ok(
        batch::get_many(
            &bucket,
            &["a1".to_string(), "b1".to_string(), "c1".to_string()],
        ),
        "get-many of a1, b1, c1",
    );
    assert_eq!(
        values,
        vec![None, Some(("b1".to_string(), b"v1".to_vec())), None],
        "get-many after delete-many: none, some, none"
    );
}
