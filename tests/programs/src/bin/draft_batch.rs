//! `wasi:keyvalue@0.2.0-draft` batch: get-many in request order with none for missing keys,
//! set-many (the last duplicate wins), delete-many (missing keys skipped), empty lists, 10,000
//! keys per call; and last, the provider's limit: 10,001 keys are refused with nothing done.
//!
//! Runs on wasmtime's in-memory host too (the differential suite), with one bucket handle.
//! That host has no batch limit, so there this program fails at its last part, on purpose.

use test_programs::draft::*;

fn strings(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

fn pairs(kvs: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    kvs.iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect()
}

/// Asserts get-many of `keys` returns exactly `expected`, entry by entry, in request order.
#[track_caller]
fn assert_get_many(bucket: &Bucket, keys: &[&str], expected: &[Option<&str>], what: &str) {
    let got = ok(batch::get_many(bucket, &strings(keys)), what);
    assert_eq!(got.len(), keys.len(), "{what}: one entry per requested key");
    for (i, ((key, want), entry)) in keys.iter().zip(expected).zip(&got).enumerate() {
        match (entry, want) {
            (None, None) => {}
            (Some((k, v)), Some(w)) if k == key && v == w.as_bytes() => {}
            _ => panic!(
                "{what}: get-many entry {i} ({key:?}) expected {want:?}, got {:?}",
                entry.as_ref().map(|(k, v)| (k.clone(), show(v)))
            ),
        }
    }
}

fn main() {
    let b = open_default();

    // Empty lists are fine and do nothing.
    assert!(
        ok(batch::get_many(&b, &[]), "get-many of no keys").is_empty(),
        "get-many of no keys returns an empty list"
    );
    ok(batch::set_many(&b, &[]), "set-many of an empty list");
    ok(batch::delete_many(&b, &[]), "delete-many of an empty list");
    assert_keys(&b, [], "after empty batch calls");

    // get-many: one entry per key, in request order, none for missing, repeats repeated.
    set(&b, "a", b"1");
    set(&b, "c", b"3");
    set(&b, "e", b"");
    assert_get_many(
        &b,
        &["c", "missing", "a", "e", "a", "", "b"],
        &[Some("3"), None, Some("1"), Some(""), Some("1"), None, None],
        "get-many in request order",
    );
    assert_get_many(
        &b,
        &["nope", "nada"],
        &[None, None],
        "get-many of only missing keys",
    );

    // set-many writes every pair, overwrites, and a key given twice ends with its last value.
    ok(
        batch::set_many(
            &b,
            &pairs(&[
                ("x", "first"),
                ("", "empty key"),
                ("a/b/../c", "path"),
                ("dup", "1"),
                ("x", "second"),
                ("dup", "2"),
                ("dup", "3"),
                ("z", ""),
            ]),
        ),
        "set-many with duplicate keys",
    );
    assert_value(
        &b,
        "x",
        Some(b"second"),
        "a duplicate key in set-many: the last one wins",
    );
    assert_value(
        &b,
        "dup",
        Some(b"3"),
        "a triplicate key in set-many: the last one wins",
    );
    assert_value(&b, "", Some(b"empty key"), "the empty key via set-many");
    assert_value(
        &b,
        "a/b/../c",
        Some(b"path"),
        "a path-like key via set-many",
    );
    assert_value(&b, "z", Some(b""), "an empty value via set-many");
    assert_get_many(
        &b,
        &["z", "x", "a/b/../c", "", "dup"],
        &[
            Some(""),
            Some("second"),
            Some("path"),
            Some("empty key"),
            Some("3"),
        ],
        "get-many after set-many",
    );

    // delete-many skips missing keys and tolerates repeats.
    ok(
        batch::delete_many(&b, &strings(&["x", "missing", "", "x", "never-there"])),
        "delete-many with missing and repeated keys",
    );
    assert_value(&b, "x", None, "deleted by delete-many");
    assert_value(&b, "", None, "deleted by delete-many");
    assert_value(&b, "a", Some(b"1"), "not named in delete-many");
    assert_keys(
        &b,
        ["a", "c", "e", "a/b/../c", "dup", "z"],
        "after delete-many",
    );
    ok(
        batch::delete_many(&b, &strings(&["a", "c", "e", "a/b/../c", "dup", "z"])),
        "delete-many of every key",
    );
    assert_keys(&b, [], "after deleting every key with delete-many");

    // Exactly 10,000 keys per call (1,000 present, 9,000 missing).
    let kvs: Vec<(String, Vec<u8>)> = (0..1000)
        .map(|i| (format!("k{i}"), format!("value {i}").into_bytes()))
        .collect();
    ok(batch::set_many(&b, &kvs), "set-many of 1,000 keys");
    let keys: Vec<String> = (0..MAX_BATCH_KEYS).map(|i| format!("k{i}")).collect();
    let got = ok(
        batch::get_many(&b, &keys),
        "get-many of exactly 10,000 keys",
    );
    assert_eq!(
        got.len(),
        MAX_BATCH_KEYS,
        "get-many of 10,000 keys: one entry per key"
    );
    for (i, (key, entry)) in keys.iter().zip(&got).enumerate() {
        let want = kvs.get(i).map(|(k, v)| (k, v));
        assert!(
            entry.as_ref().map(|(k, v)| (k, v)) == want,
            "get-many of 10,000 keys: {key} expected {:?}, got {:?}",
            want.map(|(_, v)| show(v)),
            entry.as_ref().map(|(k, v)| (k.clone(), show(v)))
        );
    }
    ok(
        batch::delete_many(&b, &keys),
        "delete-many of exactly 10,000 keys",
    );
    assert_keys(&b, [], "after delete-many of 10,000 keys");

    // The provider's limit (wasmtime's in-memory host has none): 10,001 keys are refused and
    // nothing is done.
    let keys: Vec<String> = (0..=MAX_BATCH_KEYS).map(|i| format!("k{i}")).collect();
    let kvs: Vec<(String, Vec<u8>)> = keys.iter().map(|k| (k.clone(), b"v".to_vec())).collect();
    expect_other(batch::set_many(&b, &kvs), "", "set-many of 10,001 keys");
    assert_keys(
        &b,
        [],
        "nothing written by a refused set-many of 10,001 keys",
    );
    expect_other(batch::get_many(&b, &keys), "", "get-many of 10,001 keys");
    ok(batch::set_many(&b, &kvs[..100]), "set-many of 100 keys");
    expect_other(
        batch::delete_many(&b, &keys),
        "",
        "delete-many of 10,001 keys",
    );
    assert_eq!(
        list_all(&b).len(),
        100,
        "a refused delete-many of 10,001 keys must delete nothing"
    );
}
