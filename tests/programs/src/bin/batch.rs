//! batch: get-many order and none for missing, set-many / delete-many, duplicates, empty
//! lists, 10,000 keys per call; then the provider's limit (over 10,000 keys: error::other and
//! nothing done) and batches in a named bucket.
//!
//! wasmtime's in-memory host has no batch limit, so there this program fails at the limit;
//! what comes before runs on both.

use test_programs::*;

/// Asserts get-many of `keys` returns exactly `expected`, entry by entry, in request order.
#[track_caller]
fn assert_get_many<V: Version>(
    bucket: &Bucket<V>,
    keys: &[&str],
    expected: &[Option<&str>],
    what: &str,
) {
    let got = bucket.get_many(&strings(keys));
    for (i, ((key, want), entry)) in keys.iter().zip(expected).zip(&got).enumerate() {
        match (entry, want) {
            (None, None) => {}
            (Some((k, v)), Some(w)) => {
                assert_eq!(
                    k, key,
                    "{what}: get-many entry {i} must name the requested key"
                );
                assert!(
                    v == w.as_bytes(),
                    "{what}: get-many entry {i} ({key:?}) expected {w:?}, got {}",
                    show(v)
                );
            }
            _ => panic!(
                "{what}: get-many entry {i} ({key:?}) expected {want:?}, got {:?}",
                entry.as_ref().map(|(k, v)| (k.clone(), show(v)))
            ),
        }
    }
}

fn batch<V: Version>() {
    let b = Bucket::<V>::open_default();

    // Empty lists are fine and do nothing.
    assert!(
        b.get_many(&[]).is_empty(),
        "get-many of no keys returns an empty list"
    );
    b.set_many(&[]);
    b.delete_many(&[]);
    b.assert_keys([], "after empty batch calls");

    // get-many: one entry per key, in request order, none for missing, repeats repeated.
    b.set("a", b"1");
    b.set("c", b"3");
    b.set("e", b"");
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

    // set-many then get / get-many, including awkward keys and empty values.
    b.set_many(&pairs(&[
        ("x", "10"),
        ("y", "20"),
        ("", "empty key"),
        ("a/b/../c", "path"),
        ("z", ""),
    ]));
    b.assert_value("x", Some(b"10"), "after set-many");
    b.assert_value("y", Some(b"20"), "after set-many");
    b.assert_value("", Some(b"empty key"), "after set-many");
    b.assert_value("a/b/../c", Some(b"path"), "after set-many");
    b.assert_value("z", Some(b""), "empty value via set-many");
    assert_get_many(
        &b,
        &["z", "y", "x", "a/b/../c", ""],
        &[
            Some(""),
            Some("20"),
            Some("10"),
            Some("path"),
            Some("empty key"),
        ],
        "get-many after set-many",
    );

    // set-many overwrites existing keys; a key given twice ends with its last value.
    b.set_many(&pairs(&[
        ("x", "first"),
        ("dup", "1"),
        ("x", "second"),
        ("dup", "2"),
        ("dup", "3"),
    ]));
    b.assert_value(
        "x",
        Some(b"second"),
        "duplicate key in set-many: the last one wins",
    );
    b.assert_value(
        "dup",
        Some(b"3"),
        "triplicate key in set-many: the last one wins",
    );
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
        "get-many after set-many with duplicates",
    );

    // delete-many skips missing keys and tolerates repeats.
    b.delete_many(&strings(&["x", "missing", "y", "x", "never-there", ""]));
    b.assert_value("x", None, "deleted by delete-many");
    b.assert_value("y", None, "deleted by delete-many");
    b.assert_value("", None, "deleted by delete-many");
    b.assert_value("a", Some(b"1"), "not named in delete-many");
    b.assert_keys(["a", "c", "e", "a/b/../c", "z", "dup"], "after delete-many");
    b.delete_many(&strings(&["a", "c", "e", "a/b/../c", "z", "dup"]));
    b.assert_keys([], "after deleting every key with delete-many");

    // Exactly 10,000 keys is allowed for get-many and delete-many (1,000 present, 9,000
    // missing). set-many's boundary is not exercised: 10,000 real writes take minutes with
    // a sync per write under a debug-built host.
    let present = 1_000;
    let kvs: Vec<(String, Vec<u8>)> = (0..present)
        .map(|i| (format!("k{i}"), format!("value {i}").into_bytes()))
        .collect();
    b.set_many(&kvs);
    let keys: Vec<String> = (0..MAX_BATCH_KEYS).map(|i| format!("k{i}")).collect();
    let got = b.get_many(&keys);
    for (i, (key, entry)) in keys.iter().zip(&got).enumerate() {
        match entry {
            Some((k, v)) if i < present => {
                assert_eq!(
                    k, key,
                    "get-many of 10,000 keys: entry names the requested key"
                );
                assert!(
                    *v == kvs[i].1,
                    "get-many of 10,000 keys: {key} expected {}, got {}",
                    show(&kvs[i].1),
                    show(v)
                );
            }
            None if i >= present => {}
            _ => panic!(
                "get-many of 10,000 keys: {key} expected {}, got {:?}",
                if i < present { "a value" } else { "none" },
                entry.as_ref().map(|(k, v)| (k.clone(), show(v)))
            ),
        }
    }
    assert_eq!(
        b.list_all().len(),
        present,
        "listing after set-many of 1,000 keys"
    );
    b.delete_many(&keys);
    b.assert_keys([], "after delete-many of 10,000 keys");

    // 10,001 keys: error::other and nothing done.
    let keys: Vec<String> = (0..=MAX_BATCH_KEYS).map(|i| format!("k{i}")).collect();
    let kvs: Vec<(String, Vec<u8>)> = keys.iter().map(|k| (k.clone(), b"v".to_vec())).collect();
    expect_other(b.try_set_many(&kvs), "", "set-many of 10,001 keys");
    b.assert_keys(
        [],
        "nothing may be written by a refused set-many of 10,001 keys",
    );
    for key in keys.iter().step_by(97).chain(keys.last()) {
        assert!(
            !b.exists(key),
            "{key} must not exist after a refused set-many of 10,001 keys"
        );
    }
    expect_other(b.try_get_many(&keys), "", "get-many of 10,001 keys");
    // delete-many over the limit deletes nothing, even keys that exist.
    b.set_many(&kvs[..100]);
    expect_other(b.try_delete_many(&keys), "", "delete-many of 10,001 keys");
    assert_eq!(
        b.list_all().len(),
        100,
        "a refused delete-many of 10,001 keys must delete nothing"
    );
    for (key, _) in &kvs[..100] {
        b.assert_value(
            key,
            Some(b"v"),
            "after a refused delete-many of 10,001 keys",
        );
    }
    // A duplicate-laden list still counts its entries: 10,001 copies of one key are refused.
    let same: Vec<(String, Vec<u8>)> =
        vec![("same".to_string(), b"v".to_vec()); MAX_BATCH_KEYS + 1];
    expect_other(
        b.try_set_many(&same),
        "",
        "set-many of 10,001 entries for one key",
    );
    b.assert_value(
        "same",
        None,
        "after a refused set-many of 10,001 copies of one key",
    );

    // Batches are per bucket.
    b.set_many(&pairs(&[("a", "1"), ("c", "3")]));
    let named = Bucket::<V>::open("batch");
    named.set_many(&pairs(&[("a", "named")]));
    assert_get_many(
        &b,
        &["a"],
        &[Some("1")],
        "default bucket after set-many in a named bucket",
    );
    named.delete_many(&strings(&["a", "c"]));
    assert_get_many(
        &b,
        &["a", "c"],
        &[Some("1"), Some("3")],
        "default bucket after delete-many in a named bucket",
    );
}

fn main() {
    match version_arg() {
        VersionArg::Draft3 => batch::<Draft3>(),
        VersionArg::Draft2 => batch::<Draft2>(),
        VersionArg::Draft => batch::<Draft>(),
    }
}
