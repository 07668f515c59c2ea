//! The default bucket and named buckets are isolated; bad identifiers are refused; reopening
//! a bucket sees its data.

use test_programs::*;

/// Valid names, several of which an engine might also use for its own directories or files,
/// or for the default bucket.
const NAMED: &[&str] = &[
    "a", "b-1", "c_2", "0", "9lives", "default", "data", "buckets", "bucket", "keys", "tmp",
    "lock", "meta", "a-", "a_", "con", "nul",
];

fn buckets<V: Version>() {
    let open = Bucket::<V>::open;
    let default = Bucket::<V>::open_default();

    // Every bucket holds the same key with its own value.
    default.set("k", b"default");
    default.set("only-default", b"x");
    for name in NAMED {
        let bucket = open(name);
        bucket.assert_keys(
            [],
            &format!("fresh bucket {name:?} (after writes to the default bucket)"),
        );
        bucket.assert_value("k", None, &format!("fresh bucket {name:?}"));
        bucket.set("k", format!("in {name}"));
        bucket.set(&format!("only-{name}"), b"x");
    }
    let longest = "z".repeat(63);
    let bucket = open(&longest);
    bucket.set("k", b"longest");
    drop(bucket);

    default.assert_value(
        "k",
        Some(b"default"),
        "default bucket after writes to named buckets",
    );
    default.assert_keys(
        ["k", "only-default"],
        "default bucket must not list named buckets' keys or directories",
    );
    for name in NAMED {
        let bucket = open(name);
        let value = format!("in {name}");
        bucket.assert_value("k", Some(value.as_bytes()), &format!("bucket {name:?}"));
        let own = format!("only-{name}");
        bucket.assert_keys(
            ["k", own.as_str()],
            &format!("bucket {name:?} lists only its own keys"),
        );
    }
    open(&longest).assert_value("k", Some(b"longest"), "63-byte bucket name");

    // Deleting in one bucket leaves the others alone.
    open("a").delete("k");
    open("a").assert_value("k", None, "bucket a after delete");
    open("b-1").assert_value("k", Some(b"in b-1"), "bucket b-1 after deleting k in a");
    default.assert_value(
        "k",
        Some(b"default"),
        "default bucket after deleting k in a",
    );
    default.delete("k");
    open("default").assert_value(
        "k",
        Some(b"in default"),
        "bucket \"default\" after deleting k in the default bucket",
    );

    // Two live handles to one named bucket share data.
    let first = open("c_2");
    let second = open("c_2");
    first.set("shared", b"1");
    second.assert_value("shared", Some(b"1"), "second handle to bucket c_2");
    drop(first);
    drop(second);
    open("c_2").assert_value("shared", Some(b"1"), "reopened bucket c_2");

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
            Bucket::<V>::try_open(id),
            "bucket identifier",
            &format!("open({})", show(id)),
        );
    }

    // Refused identifiers create nothing visible.
    default.assert_keys(["only-default"], "default bucket after refused opens");
}

fn main() {
    match version_arg() {
        VersionArg::Draft3 => buckets::<Draft3>(),
        VersionArg::Draft2 => buckets::<Draft2>(),
        VersionArg::Draft => buckets::<Draft>(),
    }
}
