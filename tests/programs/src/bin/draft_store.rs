//! `wasi:keyvalue@0.2.0-draft` store: single keys and empty values, then `list-keys` with its
//! `u64` cursor over 2,500 keys: pages of at most 1,000, every key exactly once, also with writes
//! between pages.
//!
//! Runs on wasmtime's in-memory host too (the differential suite): one bucket handle only, since
//! each of that host's `open("")` starts from its own copy of the data.

use std::collections::{HashMap, HashSet};
use test_programs::draft::*;

const TOTAL: usize = 2500;

fn key(i: usize) -> String {
    format!("key-{i:05}")
}

/// The pages of one full listing, asserting each holds at most 1,000 keys; `between` runs
/// after every page that has a successor, with the number of pages listed so far.
fn list_pages(bucket: &Bucket, mut between: impl FnMut(usize)) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut cursor: Option<u64> = None;
    loop {
        let page = list_page(bucket, cursor);
        pages.push(page.keys);
        assert!(
            pages.len() <= 100_000,
            "a listing never returned a `none` cursor"
        );
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => return pages,
        }
        between(pages.len());
    }
}

fn main() {
    let bucket = open_default();

    // A fresh store lists one empty page with no cursor.
    let page = list_page(&bucket, None);
    assert!(page.keys.is_empty(), "a fresh store listed {:?}", page.keys);
    assert_eq!(
        page.cursor, None,
        "a fresh store must return a `none` cursor"
    );

    // Single keys.
    assert_value(&bucket, "a", None, "fresh store");
    delete(&bucket, "a");
    set(&bucket, "a", b"1");
    assert_value(&bucket, "a", Some(b"1"), "after set a=1");
    set(&bucket, "a", b"a much longer second value");
    set(&bucket, "a", b"s");
    assert_value(
        &bucket,
        "a",
        Some(b"s"),
        "after overwrite with a shorter value",
    );
    delete(&bucket, "a");
    assert_value(&bucket, "a", None, "after delete");
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
    let awkward = [
        "", "/", "..", "a/b/../c", "\0", "Key", "key", "\u{e9}", "e\u{301}",
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
    let mut expected = vec!["empty", "bytes"];
    expected.extend(awkward);
    assert_keys(
        &bucket,
        expected.iter().copied(),
        "listing of the single keys",
    );

    // Emptied by deletes, the store lists like a fresh one.
    for k in &expected {
        delete(&bucket, k);
    }
    let page = list_page(&bucket, None);
    assert!(
        page.keys.is_empty(),
        "a store emptied by deletes listed {:?}",
        page.keys
    );
    assert_eq!(
        page.cursor, None,
        "a store emptied by deletes must return a `none` cursor"
    );

    // 2,500 keys: bounded pages, each key exactly once.
    let all: HashSet<String> = (0..TOTAL).map(key).collect();
    let entries: Vec<(String, Vec<u8>)> = (0..TOTAL).map(|i| (key(i), b"v".to_vec())).collect();
    for chunk in entries.chunks(1000) {
        ok(
            batch::set_many(&bucket, chunk),
            "set-many of up to 1,000 keys",
        );
    }
    let pages = list_pages(&bucket, |_| {});
    assert!(
        pages.len() >= 3,
        "{TOTAL} keys in {} pages of at most 1,000",
        pages.len()
    );
    let mut counts: HashMap<&String, usize> = HashMap::new();
    for k in pages.iter().flatten() {
        *counts.entry(k).or_default() += 1;
    }
    let twice: Vec<String> = counts
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| show(k))
        .collect();
    assert!(twice.is_empty(), "keys listed more than once: {twice:?}");
    assert_keys(
        &bucket,
        all.iter().map(String::as_str),
        "full listing of 2,500 keys",
    );

    // Writes between pages: keys present throughout appear exactly once (also when rewritten),
    // keys deleted or added during the listing at most once.
    let stable: Vec<String> = (0..TOTAL).filter(|i| i % 10 >= 2).map(key).collect();
    let overwritten: Vec<String> = (0..TOTAL).filter(|i| i % 10 == 0).map(key).collect();
    let deleted: Vec<String> = (0..TOTAL).filter(|i| i % 10 == 1).map(key).collect();
    let added: Vec<String> = (0..300).map(|i| format!("added-{i:05}")).collect();
    let pages = list_pages(&bucket, |step| {
        let slice = |group: &[String]| -> Vec<String> {
            let n = group.len().div_ceil(3);
            group.iter().skip((step - 1) * n).take(n).cloned().collect()
        };
        let rewrite: Vec<(String, Vec<u8>)> = slice(&overwritten)
            .into_iter()
            .map(|k| (k, b"rewritten".to_vec()))
            .collect();
        ok(batch::set_many(&bucket, &rewrite), "rewrite between pages");
        ok(
            batch::delete_many(&bucket, &slice(&deleted)),
            "delete between pages",
        );
        let add: Vec<(String, Vec<u8>)> = slice(&added)
            .into_iter()
            .map(|k| (k, b"added".to_vec()))
            .collect();
        ok(batch::set_many(&bucket, &add), "add between pages");
    });
    let mut counts: HashMap<&String, usize> = HashMap::new();
    for k in pages.iter().flatten() {
        *counts.entry(k).or_default() += 1;
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
            "a listing with writes between pages returned unknown key {}",
            show(k)
        );
    }
}
