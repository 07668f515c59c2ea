//! Keys that are hard to map onto file names: all round-trip, stay distinct and list exactly;
//! one byte over the limit is refused. wasmtime's in-memory host has no key limit, so there
//! this program fails at its last part.

use std::collections::HashSet;
use test_programs::*;

fn awkward_keys() -> Vec<String> {
    let mut keys: Vec<String> = [
        // Empty, path syntax and traversal.
        "",
        "/",
        "//",
        "..",
        ".",
        "...",
        "a/b/../c",
        "../escape",
        "../../../../etc/passwd",
        "/abs",
        "a/",
        "a//b",
        "./a",
        "a/.",
        "a/..",
        "\\",
        "a\\b",
        "..\\x",
        "C:\\x",
        "c:",
        "a:b",
        // NUL and other control characters.
        "\0",
        "a\0b",
        "\0\0",
        "\n",
        "\r\n",
        "\t",
        "\x1b[31m",
        "\x7f",
        "\u{1}",
        "\u{1f}",
        "\u{85}",
        // Windows-reserved names and trailing dots/spaces.
        "CON",
        "con",
        "nul.txt",
        "NUL",
        "AUX",
        "PRN",
        "COM1",
        "LPT9",
        "x. ",
        "x.",
        "x ",
        " x",
        " ",
        "<>:\"|?*",
        // Case and Unicode normalization must not fold keys together.
        "Key",
        "key",
        "KEY",
        "\u{e9}",
        "e\u{301}",
        "\u{c5}",
        "\u{212b}",
        "\u{fb01}",
        "fi",
        "\u{1f600}",
        "\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}",
        "\u{feff}",
        "\u{200b}",
        "\u{fffd}",
        "\u{10ffff}",
        "\u{4e2d}\u{6587}",
        // Keys that look like escapes or encodings of other keys.
        "%",
        "%%",
        "%2F",
        "%2f",
        "%00",
        "%2E%2E",
        "a%2Fb",
        "%25",
        "%252F",
        "+",
        "a+b",
        "a b",
        "~",
        "~1",
        "_",
        "__",
        "-",
        "=",
        "==",
        "a2V5",
        "a2V5=",
        "6b6579",
        "6B6579",
        "00",
        "ff",
        "FF",
        "deadbeef",
        "0x00",
        "2f",
        "2e2e",
        // Names an engine might use for its own files.
        ".tmp",
        "tmp",
        "x.tmp",
        ".lock",
        "lock",
        ".meta",
        "meta",
        "data",
        "keys",
        "index",
        "#",
        ".#x",
        "x~",
        ".DS_Store",
        "Thumbs.db",
    ]
    .iter()
    .map(|k| k.to_string())
    .collect();

    // Lengths around common file-name limits and the key limit, in bytes.
    keys.push("a".repeat(255));
    keys.push("a".repeat(256));
    keys.push("b".repeat(1024));
    keys.push(format!("{}a", "\u{e9}".repeat(127))); // 255 bytes, 128 chars
    keys.push("\u{e9}".repeat(128)); // 256 bytes
    keys.push("/".repeat(300));
    keys.push("a/".repeat(2000)); // deep "paths"
    keys.push("../".repeat(100));
    keys.push("k".repeat(MAX_KEY_BYTES));
    keys.push("\u{e9}".repeat(MAX_KEY_BYTES / 2)); // 8192 bytes, 4096 chars
    keys.push("\u{1f600}".repeat(MAX_KEY_BYTES / 4)); // 8192 bytes, 2048 chars
    keys.push(format!("{}\u{e9}", "k".repeat(MAX_KEY_BYTES - 2))); // 8192 bytes ending multibyte
    keys.push("\0".repeat(MAX_KEY_BYTES));
    keys.push("%2F".repeat(100));
    for k in &keys {
        assert!(
            k.len() <= MAX_KEY_BYTES,
            "test bug: key {} too long",
            show(k)
        );
    }
    keys
}

fn value_for(i: usize) -> Vec<u8> {
    format!("value #{i}").into_bytes()
}

fn keys_awkward<V: Version>() {
    let keys = awkward_keys();
    let distinct: HashSet<&str> = keys.iter().map(String::as_str).collect();
    assert_eq!(
        distinct.len(),
        keys.len(),
        "test bug: duplicate awkward keys"
    );

    // The count, for docs/RELIABILITY.md (read by the harness).
    println!("awkward keys: {}", keys.len());
    let bucket = Bucket::<V>::open_default();
    for key in &keys {
        bucket.assert_value(key, None, "fresh store");
    }

    // Every key gets its own value; reading each back proves no two keys share a file.
    for (i, key) in keys.iter().enumerate() {
        bucket.set(key, value_for(i));
        bucket.assert_value(key, Some(&value_for(i)), "right after set");
    }
    for (i, key) in keys.iter().enumerate() {
        bucket.assert_value(key, Some(&value_for(i)), "after setting every awkward key");
    }
    bucket.assert_keys(
        keys.iter().map(String::as_str),
        "listing of every awkward key",
    );

    // Listing returns the keys byte-for-byte (not normalized, not case-folded, not decoded).
    let listed = bucket.list_all();
    assert_eq!(
        listed.len(),
        keys.len(),
        "listing must return one entry per key"
    );

    // Overwrite and delete every other key; the rest must be untouched.
    for (i, key) in keys.iter().enumerate() {
        if i % 2 == 0 {
            bucket.delete(key);
        } else {
            bucket.set(key, format!("second {i}"));
        }
    }
    for (i, key) in keys.iter().enumerate() {
        let expected = if i % 2 == 0 {
            None
        } else {
            Some(format!("second {i}").into_bytes())
        };
        bucket.assert_value(
            key,
            expected.as_deref(),
            "after deleting even / overwriting odd keys",
        );
    }
    bucket.assert_keys(
        keys.iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .map(|(_, k)| k.as_str()),
        "listing after deleting every other awkward key",
    );

    // One byte over the limit is refused by every single-key operation, and nothing is stored.
    let too_long = [
        "k".repeat(MAX_KEY_BYTES + 1),
        format!("{}\u{e9}", "k".repeat(MAX_KEY_BYTES - 1)), // 8193 bytes, 8192 chars
        "\u{1f600}".repeat(MAX_KEY_BYTES / 2),              // 16384 bytes, 4096 chars
    ];
    for key in &too_long {
        let what = |op: &str| format!("{op} of a {}-byte key", key.len());
        expect_other(bucket.try_get(key), "key", &what("get"));
        expect_other(bucket.try_set(key, b"v"), "key", &what("set"));
        expect_other(bucket.try_delete(key), "key", &what("delete"));
        expect_other(bucket.try_exists(key), "key", &what("exists"));
    }
    let after = bucket.list_set();
    assert!(
        too_long.iter().all(|k| !after.contains(k)),
        "a refused over-long key must not appear in list-keys"
    );
}

fn main() {
    match version_arg() {
        VersionArg::Draft3 => keys_awkward::<Draft3>(),
        VersionArg::Draft2 => keys_awkward::<Draft2>(),
        VersionArg::Draft => keys_awkward::<Draft>(),
    }
}
