//! One store behind three versions: run `cross_version write`, then `cross_version read` on the
//! same store. `write` uses `wasi:keyvalue@0.2.0-draft` alone; `read` finds its data through
//! draft3 and draft2, counts on in every version (counters are decimal text everywhere, but
//! draft's are unsigned), continues a draft3 listing with a draft2 cursor and back, and sees a
//! CAS handle of one version invalidated by a write through another.

use std::collections::HashSet;
use test_programs::draft3;
use test_programs::{draft, draft2, show};

/// Keys of the bucket whose listing is continued across versions.
const LISTED: usize = 1500;

fn listed_key(i: usize) -> String {
    format!("listed-{i:05}")
}

/// Only draft calls: what an app built against wasmtime's `-S keyvalue` writes.
fn write() {
    let b = draft::open_default();
    let counter = draft::ok(
        draft::atomics::increment(&b, "shared-counter", 7),
        "draft increment of a missing counter",
    );
    assert_eq!(counter, 7, "draft increment of a missing counter by 7");
    draft::set(&b, "shared", b"from draft");
    let top = draft::ok(
        draft::atomics::increment(&b, "u64-counter", u64::MAX),
        "draft increment to u64::MAX",
    );
    assert_eq!(
        top,
        u64::MAX,
        "draft increment of a missing counter by u64::MAX"
    );

    let named = draft::open("cross");
    draft::set(&named, "k", b"named, from draft");

    let listed = draft::open("listed");
    let entries: Vec<(String, Vec<u8>)> = (0..LISTED)
        .map(|i| (listed_key(i), b"v".to_vec()))
        .collect();
    for chunk in entries.chunks(1000) {
        draft::ok(draft::batch::set_many(&listed, chunk), "draft set-many");
    }
}

fn read() {
    let b3 = draft3::open_default();
    let b2 = draft2::open_default();
    let b1 = draft::open_default();

    // What draft wrote reads the same through draft3 and draft2.
    draft3::assert_value(
        &b3,
        "shared",
        Some(b"from draft"),
        "draft's set, read through draft3",
    );
    draft2::assert_value(
        &b2,
        "shared",
        Some(b"from draft"),
        "draft's set, read through draft2",
    );
    draft3::assert_value(
        &b3,
        "shared-counter",
        Some(b"7"),
        "draft's counter, through draft3",
    );
    draft2::assert_value(
        &b2,
        "shared-counter",
        Some(b"7"),
        "draft's counter, through draft2",
    );
    draft3::assert_value(
        &draft3::open("cross"),
        "k",
        Some(b"named, from draft"),
        "draft's named bucket, through draft3",
    );

    // The counter counts on in every version, signed or not, and each sees the others' sums.
    let n = draft3::ok(
        draft3::atomics::increment(&b3, "shared-counter", -2),
        "draft3 -2",
    );
    assert_eq!(n, 5, "draft's 7, incremented by -2 through draft3");
    draft2::assert_value(
        &b2,
        "shared-counter",
        Some(b"5"),
        "after draft3's -2, through draft2",
    );
    let n = draft2::ok(
        draft2::atomics::increment(&b2, "shared-counter", 1),
        "draft2 +1",
    );
    assert_eq!(n, 6, "5 + 1 through draft2");
    let n = draft::ok(
        draft::atomics::increment(&b1, "shared-counter", 1),
        "draft +1",
    );
    assert_eq!(n, 7, "6 + 1 back through draft");
    draft3::assert_value(
        &b3,
        "shared-counter",
        Some(b"7"),
        "after a round of all three",
    );

    // A negative draft3 counter is no u64: draft refuses it and leaves it alone.
    let n = draft3::ok(draft3::atomics::increment(&b3, "negative", -3), "draft3 -3");
    assert_eq!(n, -3, "a missing counter incremented by -3 through draft3");
    draft::expect_other(
        draft::atomics::increment(&b1, "negative", 1),
        "",
        "draft increment of a negative counter",
    );
    draft3::assert_value(
        &b3,
        "negative",
        Some(b"-3"),
        "after draft refused the negative counter",
    );

    // A draft counter above i64::MAX is no s64: draft3 and draft2 refuse it and leave it alone.
    let top = u64::MAX.to_string();
    draft3::expect_other(
        draft3::atomics::increment(&b3, "u64-counter", -1),
        "",
        "draft3 increment of a counter above i64::MAX",
    );
    draft2::expect_other(
        draft2::atomics::increment(&b2, "u64-counter", -1),
        "",
        "draft2 increment of a counter above i64::MAX",
    );
    draft::assert_value(
        &b1,
        "u64-counter",
        Some(top.as_bytes()),
        "after draft3 and draft2 refused",
    );

    // A write through any version invalidates a CAS handle of another.
    let cas = draft3::ok(draft3::Cas::new(&b3, "shared"), "draft3 cas.new");
    draft::set(&b1, "shared", b"rewritten by draft");
    match draft3::atomics::swap(cas, b"draft3 swap") {
        Err(draft3::CasError::CasFailed((_, current))) => assert_eq!(
            current.as_deref(),
            Some(&b"rewritten by draft"[..]),
            "draft3 cas-failed carries draft's value"
        ),
        Ok(()) => panic!("draft3 swap after a draft set must be cas-failed, got Ok"),
        Err(draft3::CasError::StoreError(e)) => {
            panic!("draft3 swap after a draft set must be cas-failed, got store-error {e:?}")
        }
    }
    let cas = draft2::ok(draft2::Cas::new(&b2, "shared-counter"), "draft2 cas.new");
    draft::ok(
        draft::atomics::increment(&b1, "shared-counter", 1),
        "draft increment",
    );
    match draft2::atomics::swap(cas, b"100") {
        Err(draft2::CasError::CasFailed(fresh)) => {
            let now = draft2::ok(fresh.current(), "current of the fresh draft2 handle");
            assert_eq!(
                now.as_deref(),
                Some(&b"8"[..]),
                "the fresh draft2 handle reads draft's sum"
            );
            assert!(
                draft2::atomics::swap(fresh, b"100").is_ok(),
                "the fresh draft2 handle must swap: nothing was written since it was made"
            );
        }
        Ok(()) => panic!("draft2 swap after a draft increment must be cas-failed, got Ok"),
        Err(draft2::CasError::StoreError(e)) => {
            panic!("draft2 swap after a draft increment must be cas-failed, got store-error {e:?}")
        }
    }
    let n = draft::ok(
        draft::atomics::increment(&b1, "shared-counter", 1),
        "draft increment",
    );
    assert_eq!(n, 101, "draft counts on from draft2's swap");

    // Cursors of draft3 and draft2 are one format: a listing continues across them, both ways,
    // and draft lists the same keys with its own.
    let expected: HashSet<String> = (0..LISTED).map(listed_key).collect();
    let l3 = draft3::open("listed");
    let l2 = draft2::open("listed");
    for (start_in_draft3, what) in [(true, "draft3 then draft2"), (false, "draft2 then draft3")] {
        let mut seen = HashSet::new();
        let mut cursor: Option<String> = None;
        let mut from_draft3 = start_in_draft3;
        let mut pages = 0;
        loop {
            let (keys, next) = if from_draft3 {
                let page = draft3::list_page(&l3, cursor.as_deref());
                (page.keys, page.cursor)
            } else {
                let page = draft2::list_page(&l2, cursor.as_deref());
                (page.keys, page.cursor)
            };
            pages += 1;
            assert!(pages <= LISTED + 1, "{what}: the listing never ended");
            for k in keys {
                assert!(seen.insert(k.clone()), "{what}: {} listed twice", show(&k));
            }
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
            from_draft3 = !from_draft3;
        }
        assert!(pages >= 2, "{what}: {LISTED} keys cannot fit in one page");
        assert!(
            seen == expected,
            "{what}: the listing must hold exactly the {LISTED} keys written"
        );
    }
    let through_draft: HashSet<String> = draft::list_set(&draft::open("listed"));
    assert!(
        through_draft == expected,
        "draft's listing must hold exactly the {LISTED} keys"
    );
}

fn main() {
    let args = draft3::args(1, 1, "cross_version write|read");
    match args[0].as_str() {
        "write" => write(),
        "read" => read(),
        other => panic!("usage: cross_version write|read (got {other:?})"),
    }
}
