//! `wasi:keyvalue@0.2.0-draft2` increment (signed, as in draft3: decimal text, refusals and
//! overflow leave the value unchanged) and batch (request order, last duplicate wins, missing
//! keys skipped, 10,000 keys at most per call).

use test_programs::draft2::*;

#[track_caller]
fn inc(bucket: &Bucket, key: &str, delta: i64) -> i64 {
    ok(
        atomics::increment(bucket, key, delta),
        &format!("increment({key:?}, {delta})"),
    )
}

#[track_caller]
fn expect_refused(bucket: &Bucket, key: &str, stored: &[u8], delta: i64) {
    set(bucket, key, stored);
    expect_other(
        atomics::increment(bucket, key, delta),
        "",
        &format!("increment({key:?}, {delta}) of value {}", show(stored)),
    );
    assert_value(
        bucket,
        key,
        Some(stored),
        &format!("value {} after a refused increment", show(stored)),
    );
}

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

fn increments(b: &Bucket) {
    // A missing key starts from zero and is stored as decimal text.
    assert_eq!(
        inc(b, "n", 5),
        5,
        "increment of a missing key returns the delta"
    );
    assert_value(b, "n", Some(b"5"), "increment stores ASCII decimal text");
    assert_eq!(inc(b, "n", 1), 6, "5 + 1");
    assert_eq!(inc(b, "n", 0), 6, "6 + 0");
    assert_eq!(inc(b, "n", -8), -2, "6 - 8");
    assert_value(
        b,
        "n",
        Some(b"-2"),
        "negative values are stored with a minus sign",
    );
    assert_eq!(inc(b, "neg", -7), -7, "increment of a missing key by -7");
    assert_eq!(inc(b, "zero", 0), 0, "increment of a missing key by 0");
    assert_value(
        b,
        "zero",
        Some(b"0"),
        "a missing key incremented by 0 holds 0",
    );

    // Whatever str::parse::<i64> accepts counts; the result is stored canonically.
    set(b, "t", b"41");
    assert_eq!(inc(b, "t", 1), 42, "\"41\" + 1");
    set(b, "plus", b"+5");
    assert_eq!(inc(b, "plus", 1), 6, "\"+5\" + 1");
    assert_value(b, "plus", Some(b"6"), "the result is stored canonically");
    set(b, "zeros", b"-007");
    assert_eq!(inc(b, "zeros", 1), -6, "\"-007\" + 1");
    assert_value(b, "zeros", Some(b"-6"), "the result is stored canonically");

    // Anything else is refused and left as it was.
    for stored in [
        &b"abc"[..],
        b"",
        b" 5",
        b"5\n",
        b"1.5",
        b"0x10",
        b"--1",
        b"\xff",
        b"9223372036854775808",
        b"-9223372036854775809",
    ] {
        expect_refused(b, "bad", stored, 1);
    }

    // Overflow either way is refused and leaves the value; the extremes themselves are fine.
    expect_refused(b, "max", i64::MAX.to_string().as_bytes(), 1);
    expect_refused(b, "min", i64::MIN.to_string().as_bytes(), -1);
    expect_refused(b, "one", b"1", i64::MAX);
    expect_refused(b, "mtwo", b"-2", i64::MIN);
    set(b, "edge", (i64::MAX - 1).to_string());
    assert_eq!(inc(b, "edge", 1), i64::MAX, "i64::MAX - 1 + 1");
    assert_value(
        b,
        "edge",
        Some(i64::MAX.to_string().as_bytes()),
        "i64::MAX stored",
    );
    assert_eq!(inc(b, "edge", i64::MIN), -1, "i64::MAX + i64::MIN");
    assert_eq!(
        inc(b, "low", i64::MIN),
        i64::MIN,
        "a missing key incremented by i64::MIN"
    );
    assert_value(
        b,
        "low",
        Some(i64::MIN.to_string().as_bytes()),
        "i64::MIN stored",
    );

    // Many increments add up exactly; a deleted counter starts again from zero.
    for i in 1..=100 {
        assert_eq!(inc(b, "loop", 1), i, "increment number {i}");
    }
    delete(b, "loop");
    assert_eq!(
        inc(b, "loop", 3),
        3,
        "increment after a delete starts from zero"
    );
}

fn batches(b: &Bucket) {
    // Empty lists are fine and do nothing.
    assert!(
        ok(batch::get_many(b, &[]), "get-many of no keys").is_empty(),
        "get-many of no keys returns an empty list"
    );
    ok(batch::set_many(b, &[]), "set-many of an empty list");
    ok(batch::delete_many(b, &[]), "delete-many of an empty list");
    assert_keys(b, [], "after empty batch calls");

    // get-many: one entry per key, in request order, none for missing, repeats repeated.
    set(b, "a", b"1");
    set(b, "c", b"3");
    set(b, "e", b"");
    assert_get_many(
        b,
        &["c", "missing", "a", "e", "a", "", "b"],
        &[Some("3"), None, Some("1"), Some(""), Some("1"), None, None],
        "get-many in request order",
    );

    // set-many writes every pair and overwrites; a key given twice ends with its last value.
    ok(
        batch::set_many(
            b,
            &pairs(&[
                ("x", "first"),
                ("", "empty key"),
                ("dup", "1"),
                ("x", "second"),
                ("dup", "2"),
                ("z", ""),
            ]),
        ),
        "set-many with duplicate keys",
    );
    assert_value(
        b,
        "x",
        Some(b"second"),
        "a duplicate key in set-many: the last one wins",
    );
    assert_value(
        b,
        "dup",
        Some(b"2"),
        "a duplicate key in set-many: the last one wins",
    );
    assert_value(b, "", Some(b"empty key"), "the empty key via set-many");
    assert_value(b, "z", Some(b""), "an empty value via set-many");

    // delete-many skips missing keys and tolerates repeats.
    ok(
        batch::delete_many(b, &strings(&["x", "missing", "", "x", "never-there"])),
        "delete-many with missing and repeated keys",
    );
    assert_value(b, "x", None, "deleted by delete-many");
    assert_value(b, "", None, "deleted by delete-many");
    assert_keys(b, ["a", "c", "e", "dup", "z"], "after delete-many");

    // Exactly 10,000 keys are allowed (1,000 present, 9,000 missing).
    let big = open("draft2-big");
    let kvs: Vec<(String, Vec<u8>)> = (0..1000)
        .map(|i| (format!("k{i}"), format!("value {i}").into_bytes()))
        .collect();
    ok(batch::set_many(&big, &kvs), "set-many of 1,000 keys");
    let keys: Vec<String> = (0..MAX_BATCH_KEYS).map(|i| format!("k{i}")).collect();
    let got = ok(
        batch::get_many(&big, &keys),
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
        batch::delete_many(&big, &keys),
        "delete-many of exactly 10,000 keys",
    );
    assert_keys(&big, [], "after delete-many of 10,000 keys");

    // 10,001 keys: error::other and nothing done.
    let keys: Vec<String> = (0..=MAX_BATCH_KEYS).map(|i| format!("k{i}")).collect();
    let kvs: Vec<(String, Vec<u8>)> = keys.iter().map(|k| (k.clone(), b"v".to_vec())).collect();
    expect_other(batch::set_many(&big, &kvs), "", "set-many of 10,001 keys");
    assert_keys(
        &big,
        [],
        "nothing written by a refused set-many of 10,001 keys",
    );
    expect_other(batch::get_many(&big, &keys), "", "get-many of 10,001 keys");
    ok(batch::set_many(&big, &kvs[..100]), "set-many of 100 keys");
    expect_other(
        batch::delete_many(&big, &keys),
        "",
        "delete-many of 10,001 keys",
    );
    assert_eq!(
        list_all(&big).len(),
        100,
        "a refused delete-many of 10,001 keys must delete nothing"
    );
}

fn main() {
    increments(&open_default());
    batches(&open("draft2-batch"));
}
