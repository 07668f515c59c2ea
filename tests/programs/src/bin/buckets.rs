//! The default bucket and named buckets are isolated; bad identifiers are refused; reopening
//! a bucket sees its data.

use test_programs::draft3::*;

/// Valid names, several of which an engine might also use for its own directories or files,
/// or for the default bucket.
const NAMED: &[&str] = &[
    "a", "b-1", "c_2", "0", "9lives", "default", "data", "buckets", "bucket", "keys", "tmp",
    "lock", "meta", "a-", "a_", "con", "nul",
];

fn main() {
    let default = open_default();

    // Every bucket holds the same key with its own value.
    set(&default, "k", b"default");
    set(&default, "only-default", b"x");
    for name in NAMED {
        let bucket = open(name);
        assert_keys(
            &bucket,
            [],
            &format!("fresh bucket {name:?} (after writes to the default bucket)"),
        );
        assert_value(&bucket, "k", None, &format!("fresh bucket {name:?}"));
        set(&bucket, "k", format!("in {name}"));
        set(&bucket, &format!("only-{name}"), b"x");
    }
    let longest = "z".repeat(63);
    let bucket = open(&longest);
    set(&bucket, "k", b"longest");
    drop(bucket);

    assert_value(
        &default,
        "k",
        Some(b"default"),
        "default bucket after writes to named buckets",
    );
    assert_keys(
        &default,
        ["k", "only-default"],
        "default bucket must not list named buckets' keys or directories",
    );
    for name in NAMED {
        let bucket = open(name);
        let value = format!("in {name}");
        assert_value(
            &bucket,
            "k",
            Some(value.as_bytes()),
            &format!("bucket {name:?}"),
        );
        let own = format!("only-{name}");
        assert_keys(
            &bucket,
            ["k", own.as_str()],
            &format!("bucket {name:?} lists only its own keys"),
        );
    }
    assert_value(
        &open(&longest),
        "k",
        Some(b"longest"),
        "63-byte bucket name",
    );

    // Deleting in one bucket leaves the others alone.
    delete(&open("a"), "k");
    assert_value(&open("a"), "k", None, "bucket a after delete");
    assert_value(
        &open("b-1"),
        "k",
        Some(b"in b-1"),
        "bucket b-1 after deleting k in a",
    );
    assert_value(
        &default,
        "k",
        Some(b"default"),
        "default bucket after deleting k in a",
    );
    delete(&default, "k");
    assert_value(
        &open("default"),
        "k",
        Some(b"in default"),
        "bucket \"default\" after deleting k in the default bucket",
    );

    // Two live handles to one named bucket share data.
    let first = open("c_2");
    let second = open("c_2");
    set(&first, "shared", b"1");
    assert_value(&second, "shared", Some(b"1"), "second handle to bucket c_2");
    drop(first);
    drop(second);
    assert_value(&open("c_2"), "shared", Some(b"1"), "reopened bucket c_2");

    // Identifiers outside 1..=63 bytes of [a-z0-9_-] starting with [a-z0-9] are refused.
    let bad = [
        "Bad".to_string(),
        "A".into(),
        "../x".into(),
        "..".into(),
        ".".into(),
        "a/b".into(),
        "/".into(),
        "/a".into(),
        "a\\b".into(),
        "-x".into(),
        "_x".into(),
        "a.b".into(),
        "a b".into(),
        " a".into(),
        "a\0".into(),
        "\0".into(),
        "é".into(),
        "caf\u{e9}".into(),
        "a:b".into(),
        "%2e".into(),
        "z".repeat(64),
        "z".repeat(1000),
    ];
    for id in &bad {
        expect_other(
            store::open(id),
            "bucket identifier",
            &format!("open({})", show(id)),
        );
    }

    // Refused identifiers create nothing visible.
    assert_keys(
        &default,
        ["only-default"],
        "default bucket after refused opens",
    );
}
