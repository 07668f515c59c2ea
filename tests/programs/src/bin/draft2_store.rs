//! `wasi:keyvalue@0.2.0-draft2` store: single keys, empty values, handles and buckets, the key
//! limit, and `list-keys` with its string cursor over 1,500 keys (bounded pages, every key once,
//! also with writes between pages; a cursor never issued is refused).

use std::collections::{HashMap, HashSet};
use test_programs::draft2::*;

const TOTAL: usize = 1500;

fn key(i: usize) -> String {
    format!("key-{i:05}")
}

fn main() {
    let bucket = open_default();

    // A fresh store holds nothing, and removing nothing is fine.
    assert_value(&bucket, "a", None, "fresh store");
    delete(&bucket, "a");
    assert_value(&bucket, "a", None, "after deleting a missing key");

    // Set, overwrite longer then shorter, delete, set again.
    set(&bucket, "a", b"1");
    assert_value(&bucket, "a", Some(b"1"), "after set a=1");
    set(&bucket, "a", b"a much longer second value");
    assert_value(
        &bucket,
        "a",
        Some(b"a much longer second value"),
        "after overwrite with a longer value",
    );
    set(&bucket, "a", b"s");
    assert_value(
        &bucket,
        "a",
        Some(b"s"),
        "after overwrite with a shorter value",
    );
    delete(&bucket, "a");
    assert_value(&bucket, "a", None, "after delete");
    set(&bucket, "a", b"again");
    assert_value(
        &bucket,
        "a",
        Some(b"again"),
        "after re-setting a deleted key",
    );

    // An empty value is a value, not an absent key; values are bytes.
    set(&bucket, "empty", b"");
    assert_eq!(
        get(&bucket, "empty"),
        Some(Vec::new()),
        "an empty value must read back as Some([]), not None"
    );
    assert_value(&bucket, "empty", Some(b""), "empty value");
    let all_bytes: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    set(&bucket, "bytes", &all_bytes);
    assert_value(
        &bucket,
        "bytes",
        Some(&all_bytes),
        "value of all 256 byte values",
    );

    // Keys are any UTF-8 string: these stay distinct and round-trip.
    let awkward = [
        "",
        "/",
        "..",
        "a/b/../c",
        "\0",
        "CON",
        "x. ",
        "Key",
        "key",
        "\u{e9}",
        "e\u{301}",
        "\u{1f600}",
    ];
    for (i, k) in awkward.iter().enumerate() {
        set(&bucket, k, format!("awkward {i}"));
    }
    for (i, k) in awkward.iter().enumerate() {
        assert_value(
            &bucket,
            k,
            Some(format!("awkward {i}").as_bytes()),
            "awkward key",
        );
    }
    let longest = "k".repeat(MAX_KEY_BYTES);
    set(&bucket, &longest, b"longest");
    assert_value(&bucket, &longest, Some(b"longest"), "8192-byte key");
    let too_long = "k".repeat(MAX_KEY_BYTES + 1);
    expect_other(
        bucket.set(&too_long, b"v"),
        "key",
        "set of an 8193-byte key",
    );
    expect_other(bucket.get(&too_long), "key", "get of an 8193-byte key");
    let mut expected: Vec<&str> = vec!["a", "empty", "bytes", longest.as_str()];
    expected.extend(awkward);
    assert_keys(&bucket, expected.iter().copied(), "default bucket listing");

    // A second handle on the same bucket reads the first one's writes, in both directions.
    let other = open_default();
    assert_value(
        &other,
        "a",
        Some(b"again"),
        "second handle reads the first's write",
    );
    set(&other, "c", b"sea");
    assert_value(
        &bucket,
        "c",
        Some(b"sea"),
        "first handle reads the second's write",
    );
    delete(&other, "c");
    assert_value(&bucket, "c", None, "first handle sees the second's delete");
    drop(other);

    // Buckets: bad identifiers are refused; named buckets are isolated from the default one.
    let too_long_name = "z".repeat(64);
    for bad in [
        "Bad",
        "../x",
        "a/b",
        "-x",
        ".",
        too_long_name.as_str(),
        "\u{e9}",
    ] {
        expect_other(
            store::open(bad),
            "bucket identifier",
            &format!("open({bad:?})"),
        );
    }
    let named = open("draft2-named");
    assert_keys(&named, [], "fresh named bucket");
    set(&named, "a", b"named");
    assert_value(
        &bucket,
        "a",
        Some(b"again"),
        "default bucket after a named bucket's write",
    );
    assert_value(&named, "a", Some(b"named"), "named bucket");
    drop(named);
    assert_value(
        &open("draft2-named"),
        "a",
        Some(b"named"),
        "reopened named bucket",
    );

    // list-keys: an empty bucket is one empty page with no cursor.
    let paged = open("paged");
    let page = list_page(&paged, None);
    assert!(page.keys.is_empty(), "empty bucket listed {:?}", page.keys);
    assert_eq!(
        page.cursor, None,
        "empty bucket must return a `none` cursor"
    );

    // 1,500 keys, page by page.
    let entries: Vec<(String, Vec<u8>)> = (0..TOTAL)
        .map(|i| (key(i), i.to_string().into_bytes()))
        .collect();
    for chunk in entries.chunks(1000) {
        ok(
            batch::set_many(&paged, chunk),
            "set-many of up to 1,000 keys",
        );
    }
    let expected: HashSet<String> = (0..TOTAL).map(key).collect();
    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = list_page(&paged, cursor.as_deref());
        pages += 1;
        assert!(
            pages <= TOTAL + 1,
            "listing {TOTAL} keys took more than {} pages",
            TOTAL + 1
        );
        for k in page.keys {
            assert!(
                expected.contains(&k),
                "listing returned unknown key {}",
                show(&k)
            );
            assert!(
                seen.insert(k.clone()),
                "listing returned {} twice",
                show(&k)
            );
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert!(
        pages >= 2,
        "{TOTAL} keys cannot fit in one page of at most {MAX_PAGE_KEYS}"
    );
    assert_eq!(
        seen.len(),
        TOTAL,
        "a full listing must return every one of the {TOTAL} keys"
    );
    assert_keys(
        &paged,
        expected.iter().map(String::as_str),
        "second full listing",
    );

    // Writes between pages: keys present throughout appear exactly once (also when rewritten),
    // keys deleted or added during the listing at most once.
    let stable: Vec<String> = (0..TOTAL).filter(|i| i % 10 >= 2).map(key).collect();
    let overwritten: Vec<String> = (0..TOTAL).filter(|i| i % 10 == 0).map(key).collect();
    let deleted: Vec<String> = (0..TOTAL).filter(|i| i % 10 == 1).map(key).collect();
    let added: Vec<String> = (0..150).map(|i| format!("added-{i:05}")).collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut cursor: Option<String> = None;
    let mut step = 0;
    loop {
        let page = list_page(&paged, cursor.as_deref());
        for k in page.keys {
            *counts.entry(k).or_default() += 1;
        }
        let Some(c) = page.cursor else { break };
        cursor = Some(c);
        step += 1;
        assert!(
            step <= 10_000,
            "a listing with writes between pages never ended"
        );
        let slice = |group: &[String]| -> Vec<(String, Vec<u8>)> {
            let n = group.len().div_ceil(2);
            group
                .iter()
                .skip((step - 1) * n)
                .take(n)
                .map(|k| (k.clone(), b"written during the listing".to_vec()))
                .collect()
        };
        ok(
            batch::set_many(&paged, &slice(&overwritten)),
            "rewrite between pages",
        );
        let gone: Vec<String> = slice(&deleted).into_iter().map(|(k, _)| k).collect();
        ok(batch::delete_many(&paged, &gone), "delete between pages");
        ok(batch::set_many(&paged, &slice(&added)), "add between pages");
    }
    for k in stable.iter().chain(&overwritten) {
        let n = counts.get(k).copied().unwrap_or(0);
        assert_eq!(n, 1, "{k} was present for the whole listing, so it must be listed exactly once (listed {n} times)");
    }
    for k in deleted.iter().chain(&added) {
        let n = counts.get(k).copied().unwrap_or(0);
        assert!(
            n <= 1,
            "{k} was deleted or added during the listing; listed {n} times"
        );
    }
    for k in counts.keys() {
        assert!(
            k.starts_with("key-") || k.starts_with("added-"),
            "listing with writes between pages returned unknown key {}",
            show(k)
        );
    }

    // A cursor the provider never issued is an error::other, not a trap or a restart.
    expect_other(
        paged.list_keys(Some("garbage")),
        "",
        "list-keys with cursor \"garbage\"",
    );
}
