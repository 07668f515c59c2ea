//! One store behind three versions: run `cross_version write`, then `cross_version read` on the
//! same store. `write` uses `wasi:keyvalue@0.2.0-draft` alone; `read` finds its data through
//! draft3 and draft2, counts on in every version (counters are decimal text everywhere, but
//! draft's are unsigned), continues a draft3 listing with a draft2 cursor and back, and sees a
//! CAS handle of one version invalidated by a write through another.

use std::collections::HashSet;
use test_programs::*;

/// Keys of the bucket whose listing is continued across versions.
const LISTED: usize = 1500;

fn listed_key(i: usize) -> String {
    format!("listed-{i:05}")
}

/// Only draft calls: what an app built against wasmtime's `-S keyvalue` writes.
fn write() {
    let b = Bucket::<Draft>::open_default();
    let counter = b.increment("shared-counter", 7);
    assert_eq!(counter, 7, "draft increment of a missing counter by 7");
    b.set("shared", b"from draft");
    let top = b.increment("u64-counter", u64::MAX.into());
    assert_eq!(
        top,
        u64::MAX.into(),
        "draft increment of a missing counter by u64::MAX"
    );

    Bucket::<Draft>::open("cross").set("k", b"named, from draft");

    let listed = Bucket::<Draft>::open("listed");
    let entries: Vec<(String, Vec<u8>)> = (0..LISTED)
        .map(|i| (listed_key(i), b"v".to_vec()))
        .collect();
    for chunk in entries.chunks(1000) {
        listed.set_many(chunk);
    }
}

fn read() {
    let b3 = Bucket::<Draft3>::open_default();
    let b2 = Bucket::<Draft2>::open_default();
    let b1 = Bucket::<Draft>::open_default();

    // What draft wrote reads the same through draft3 and draft2.
    b3.assert_value(
        "shared",
        Some(b"from draft"),
        "draft's set, read through draft3",
    );
    b2.assert_value(
        "shared",
        Some(b"from draft"),
        "draft's set, read through draft2",
    );
    b3.assert_value(
        "shared-counter",
        Some(b"7"),
        "draft's counter, through draft3",
    );
    b2.assert_value(
        "shared-counter",
        Some(b"7"),
        "draft's counter, through draft2",
    );
    Bucket::<Draft3>::open("cross").assert_value(
        "k",
        Some(b"named, from draft"),
        "draft's named bucket, through draft3",
    );

    // The counter counts on in every version, signed or not, and each sees the others' sums.
    let n = b3.increment("shared-counter", -2);
    assert_eq!(n, 5, "draft's 7, incremented by -2 through draft3");
    b2.assert_value(
        "shared-counter",
        Some(b"5"),
        "after draft3's -2, through draft2",
    );
    assert_eq!(b2.increment("shared-counter", 1), 6, "5 + 1 through draft2");
    assert_eq!(
        b1.increment("shared-counter", 1),
        7,
        "6 + 1 back through draft"
    );
    b3.assert_value("shared-counter", Some(b"7"), "after a round of all three");

    // A negative draft3 counter is no u64: draft refuses it and leaves it alone.
    let n = b3.increment("negative", -3);
    assert_eq!(n, -3, "a missing counter incremented by -3 through draft3");
    expect_other(
        b1.try_increment("negative", 1),
        "",
        "draft increment of a negative counter",
    );
    b3.assert_value(
        "negative",
        Some(b"-3"),
        "after draft refused the negative counter",
    );

    // A draft counter above i64::MAX is no s64: draft3 and draft2 refuse it and leave it alone.
    let top = u64::MAX.to_string();
    expect_other(
        b3.try_increment("u64-counter", -1),
        "",
        "draft3 increment of a counter above i64::MAX",
    );
    expect_other(
        b2.try_increment("u64-counter", -1),
        "",
        "draft2 increment of a counter above i64::MAX",
    );
    b1.assert_value(
        "u64-counter",
        Some(top.as_bytes()),
        "after draft3 and draft2 refused",
    );

    // A write through any version invalidates a CAS handle of another: draft3's cas-failed
    // carries the value, draft2's fresh handle reads it with current.
    let cas = b3.cas("shared");
    b1.set("shared", b"rewritten by draft");
    match Draft3::swap(cas, b"draft3 swap") {
        Err(SwapError::CasFailed(_, current)) => assert_eq!(
            current.as_deref(),
            Some(&b"rewritten by draft"[..]),
            "draft3 cas-failed carries draft's value"
        ),
        Ok(()) => panic!("draft3 swap after a draft set must be cas-failed, got Ok"),
        Err(SwapError::Store(e)) => {
            panic!("draft3 swap after a draft set must be cas-failed, got store-error {e:?}")
        }
    }
    let cas = b2.cas("shared-counter");
    b1.increment("shared-counter", 1);
    match Draft2::swap(cas, b"100") {
        Err(SwapError::CasFailed(fresh, now)) => {
            assert_eq!(
                now.as_deref(),
                Some(&b"8"[..]),
                "the fresh draft2 handle reads draft's sum"
            );
            assert!(
                Draft2::swap(fresh, b"100").is_ok(),
                "the fresh draft2 handle must swap: nothing was written since it was made"
            );
        }
        Ok(()) => panic!("draft2 swap after a draft increment must be cas-failed, got Ok"),
        Err(SwapError::Store(e)) => {
            panic!("draft2 swap after a draft increment must be cas-failed, got store-error {e:?}")
        }
    }
    assert_eq!(
        b1.increment("shared-counter", 1),
        101,
        "draft counts on from draft2's swap"
    );

    // Cursors of draft3 and draft2 are one format: a listing continues across them, both ways,
    // and draft lists the same keys with its own.
    let expected: HashSet<String> = (0..LISTED).map(listed_key).collect();
    let l3 = Bucket::<Draft3>::open("listed");
    let l2 = Bucket::<Draft2>::open("listed");
    for (start_in_draft3, what) in [(true, "draft3 then draft2"), (false, "draft2 then draft3")] {
        let mut seen = HashSet::new();
        let mut cursor: Option<String> = None;
        let mut from_draft3 = start_in_draft3;
        let mut pages = 0;
        loop {
            let page = if from_draft3 {
                l3.list_page(cursor.as_ref())
            } else {
                l2.list_page(cursor.as_ref())
            };
            pages += 1;
            assert!(pages <= LISTED + 1, "{what}: the listing never ended");
            for k in page.keys {
                assert!(seen.insert(k.clone()), "{what}: {} listed twice", show(&k));
            }
            match page.cursor {
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
    let through_draft = Bucket::<Draft>::open("listed").list_set();
    assert!(
        through_draft == expected,
        "draft's listing must hold exactly the {LISTED} keys"
    );
}

fn main() {
    let args = args(1, 1, "cross_version write|read");
    match args[0].as_str() {
        "write" => write(),
        "read" => read(),
        other => panic!("usage: cross_version write|read (got {other:?})"),
    }
}
