//! list-keys: empty store, bounded pages over 3000 keys, listings with writes between pages,
//! and refused cursors.

use std::collections::{HashMap, HashSet};
use test_programs::draft3::*;

const TOTAL: usize = 3000;

fn key(i: usize) -> String {
    format!("key-{i:05}")
}

fn main() {
    let bucket = open_default();

    // Empty store: one empty page and no cursor.
    let page = list_page(&bucket, None);
    assert!(
        page.keys.is_empty(),
        "empty store must list no keys, got {:?}",
        page.keys
    );
    assert_eq!(page.cursor, None, "empty store must return a `none` cursor");

    // 3000 keys, listed page by page.
    // Filled with set-many in chunks of 1,000, which is far cheaper than 3,000 sets.
    let all: Vec<(String, Vec<u8>)> = (0..TOTAL)
        .map(|i| (key(i), i.to_string().into_bytes()))
        .collect();
    for chunk in all.chunks(1000) {
        ok(batch::set_many(&bucket, chunk), "set-many of 1,000 keys");
    }
    let expected: HashSet<String> = (0..TOTAL).map(key).collect();
    let mut pages = 0;
    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = list_page(&bucket, cursor.as_deref());
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
        pages >= TOTAL / MAX_PAGE_KEYS,
        "{TOTAL} keys cannot fit in {pages} pages of at most {MAX_PAGE_KEYS}"
    );
    assert_eq!(
        seen.len(),
        TOTAL,
        "a full listing must return every one of the {TOTAL} keys"
    );

    // The same listing again gives the same set (a cursor is not consumed state).
    assert_keys(
        &bucket,
        expected.iter().map(String::as_str),
        "second full listing",
    );

    // A listing with writes between pages. Keys are split into groups:
    //   stable:      present throughout, never written    -> exactly once
    //   overwritten: present throughout, rewritten         -> exactly once
    //   deleted:     deleted during the listing            -> at most once
    //   added:       created during the listing            -> at most once
    let stable: Vec<String> = (0..TOTAL).filter(|i| i % 10 >= 2).map(key).collect();
    let overwritten: Vec<String> = (0..TOTAL).filter(|i| i % 10 == 0).map(key).collect();
    let deleted: Vec<String> = (0..TOTAL).filter(|i| i % 10 == 1).map(key).collect();
    let added: Vec<String> = (0..300).map(|i| format!("added-{i:05}")).collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut cursor: Option<String> = None;
    let mut step = 0usize;
    let mut pages = 0;
    loop {
        let page = list_page(&bucket, cursor.as_deref());
        pages += 1;
        assert!(
            pages <= 20_000,
            "listing with concurrent writes never ended"
        );
        for k in page.keys {
            *counts.entry(k).or_default() += 1;
        }
        let Some(c) = page.cursor else { break };
        cursor = Some(c);
        // Between pages: rewrite, delete and add a slice of each group.
        let slice = |v: &Vec<String>| {
            let n = v.len().div_ceil(3);
            v.iter().skip(step * n).take(n).cloned().collect::<Vec<_>>()
        };
        for k in slice(&overwritten) {
            set(&bucket, &k, b"rewritten during listing");
        }
        for k in slice(&deleted) {
            delete(&bucket, &k);
        }
        for k in slice(&added) {
            set(&bucket, &k, b"added during listing");
        }
        step += 1;
    }
    // Whatever was not done between pages is done now, so the final state is known.
    for k in &overwritten {
        set(&bucket, k, b"rewritten during listing");
    }
    for k in &deleted {
        delete(&bucket, k);
    }
    for k in &added {
        set(&bucket, k, b"added during listing");
    }
    for k in stable.iter().chain(&overwritten) {
        let n = counts.get(k).copied().unwrap_or(0);
        assert_eq!(n, 1, "key {k} was present for the whole listing, so it must be listed exactly once (listed {n} times)");
    }
    for k in deleted.iter().chain(&added) {
        let n = counts.get(k).copied().unwrap_or(0);
        assert!(n <= 1, "key {k} was deleted or added during the listing; it may be listed once or not at all, but was listed {n} times");
    }
    let known: HashSet<&String> = stable
        .iter()
        .chain(&overwritten)
        .chain(&deleted)
        .chain(&added)
        .collect();
    for k in counts.keys() {
        assert!(
            known.contains(k),
            "listing with concurrent writes returned unknown key {}",
            show(k)
        );
    }
    assert_keys(
        &bucket,
        stable
            .iter()
            .chain(&overwritten)
            .chain(&added)
            .map(String::as_str),
        "full listing after the concurrent writes",
    );

    // A cursor that the provider never issued is an error::other, not a trap or a restart.
    expect_other(
        bucket.list_keys(Some("garbage")),
        "",
        "list-keys with cursor \"garbage\"",
    );
    expect_other(
        bucket.list_keys(Some("\0\u{fffd}not a cursor")),
        "",
        "list-keys with a binary-looking cursor",
    );

    // A bucket emptied by deletes lists like an empty one.
    let emptied = open("emptied");
    for i in 0..5 {
        set(&emptied, &key(i), b"v");
    }
    for i in 0..5 {
        delete(&emptied, &key(i));
    }
    let page = list_page(&emptied, None);
    assert!(
        page.keys.is_empty(),
        "a bucket emptied by deletes must list no keys, got {:?}",
        page.keys
    );
    assert_eq!(
        page.cursor, None,
        "a bucket emptied by deletes must return a `none` cursor"
    );
}
