//! batch: get-many order and none for missing, set-many / delete-many, duplicates, empty
//! lists, and the 10,000-key limit (over it: error::other and nothing done).

use test_programs::draft3::*;

fn strings(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

fn pairs(kvs: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    kvs.iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect()
}

fn get_many(bucket: &Bucket, keys: &[String]) -> Vec<Option<(String, Vec<u8>)>> {
    let got = ok(
        batch::get_many(bucket, keys),
        &format!("get-many of {} keys", keys.len()),
    );
    assert_eq!(
        got.len(),
        keys.len(),
        "get-many must return one entry per requested key"
    );
    got
}

/// Asserts get-many of `keys` returns exactly `expected`, entry by entry, in request order.
fn assert_get_many(bucket: &Bucket, keys: &[&str], expected: &[Option<&str>], what: &str) {
    let got = get_many(bucket, &strings(keys));
    for (i, (key, want)) in keys.iter().zip(expected).enumerate() {
        let entry = &got[i];
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

fn main() {
    let b = open_default();

    // Empty lists are fine and do nothing.
    assert!(
        get_many(&b, &[]).is_empty(),
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

    // set-many then get / get-many, including awkward keys and empty values.
    ok(
        batch::set_many(
            &b,
            &pairs(&[
                ("x", "10"),
                ("y", "20"),
                ("", "empty key"),
                ("a/b/../c", "path"),
                ("z", ""),
            ]),
        ),
        "set-many of five keys",
    );
    assert_value(&b, "x", Some(b"10"), "after set-many");
    assert_value(&b, "y", Some(b"20"), "after set-many");
    assert_value(&b, "", Some(b"empty key"), "after set-many");
    assert_value(&b, "a/b/../c", Some(b"path"), "after set-many");
    assert_value(&b, "z", Some(b""), "empty value via set-many");
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
    ok(
        batch::set_many(
            &b,
            &pairs(&[
                ("x", "first"),
                ("dup", "1"),
                ("x", "second"),
                ("dup", "2"),
                ("dup", "3"),
            ]),
        ),
        "set-many with duplicate keys",
    );
    assert_value(
        &b,
        "x",
        Some(b"second"),
        "duplicate key in set-many: the last one wins",
    );
    assert_value(
        &b,
        "dup",
        Some(b"3"),
        "triplicate key in set-many: the last one wins",
    );

    // delete-many skips missing keys and tolerates repeats.
    ok(
        batch::delete_many(&b, &strings(&["x", "missing", "y", "x", "never-there", ""])),
        "delete-many with missing and repeated keys",
    );
    assert_value(&b, "x", None, "deleted by delete-many");
    assert_value(&b, "y", None, "deleted by delete-many");
    assert_value(&b, "", None, "deleted by delete-many");
    assert_value(&b, "a", Some(b"1"), "not named in delete-many");
    assert_keys(
        &b,
        ["a", "c", "e", "a/b/../c", "z", "dup"],
        "after delete-many",
    );

    // Batches are per bucket.
    let named = open("batch");
    ok(
        batch::set_many(&named, &pairs(&[("a", "named")])),
        "set-many in a named bucket",
    );
    assert_get_many(
        &b,
        &["a"],
        &[Some("1")],
        "default bucket after set-many in a named bucket",
    );
    ok(
        batch::delete_many(&named, &strings(&["a", "c"])),
        "delete-many in a named bucket",
    );
    assert_get_many(
        &b,
        &["a", "c"],
        &[Some("1"), Some("3")],
        "default bucket after delete-many in a named bucket",
    );

    // Exactly 10,000 keys is allowed for get-many and delete-many (1,000 present, 9,000
    // missing). set-many's boundary is not exercised: 10,000 real writes take minutes with
    // a sync per write under a debug-built host.
    let big = open("big");
    let present = 1_000;
    let kvs: Vec<(String, Vec<u8>)> = (0..present)
        .map(|i| (format!("k{i}"), format!("value {i}").into_bytes()))
        .collect();
    ok(batch::set_many(&big, &kvs), "set-many of 1,000 keys");
    let keys: Vec<String> = (0..MAX_BATCH_KEYS).map(|i| format!("k{i}")).collect();
    let got = get_many(&big, &keys);
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
        list_all(&big).len(),
        present,
        "listing after set-many of 1,000 keys"
    );
    ok(
        batch::delete_many(&big, &keys),
        "delete-many of exactly 10,000 keys",
    );
    assert_keys(&big, [], "after delete-many of 10,000 keys");

    // 10,001 keys: error::other and nothing done.
    let over = open("over");
    let keys: Vec<String> = (0..=MAX_BATCH_KEYS).map(|i| format!("k{i}")).collect();
    let kvs: Vec<(String, Vec<u8>)> = keys.iter().map(|k| (k.clone(), b"v".to_vec())).collect();
    expect_other(batch::set_many(&over, &kvs), "", "set-many of 10,001 keys");
    assert_keys(
        &over,
        [],
        "nothing may be written by a refused set-many of 10,001 keys",
    );
    for key in keys.iter().step_by(97).chain(keys.last()) {
        assert!(
            !exists(&over, key),
            "{key} must not exist after a refused set-many of 10,001 keys"
        );
    }
    expect_other(batch::get_many(&over, &keys), "", "get-many of 10,001 keys");
    // delete-many over the limit deletes nothing, even keys that exist.
    ok(batch::set_many(&over, &kvs[..100]), "set-many of 100 keys");
    expect_other(
        batch::delete_many(&over, &keys),
        "",
        "delete-many of 10,001 keys",
    );
    assert_eq!(
        list_all(&over).len(),
        100,
        "a refused delete-many of 10,001 keys must delete nothing"
    );
    for (key, _) in &kvs[..100] {
        assert_value(
            &over,
            key,
            Some(b"v"),
            "after a refused delete-many of 10,001 keys",
        );
    }
    // A duplicate-laden list still counts its entries: 10,001 copies of one key are refused.
    let same: Vec<(String, Vec<u8>)> =
        vec![("same".to_string(), b"v".to_vec()); MAX_BATCH_KEYS + 1];
    expect_other(
        batch::set_many(&over, &same),
        "",
        "set-many of 10,001 entries for one key",
    );
    assert_value(
        &over,
        "same",
        None,
        "after a refused set-many of 10,001 copies of one key",
    );
}
