//! atomics.cas / swap: a swap fails if any write reached the key since the handle was made
//! (versions, not values: A -> B -> A fails), and a failure hands back a fresh handle and the
//! current value: draft3's cas-failed carries it, draft2's fresh handle reads it with `current`,
//! which reads the value now, not at the handle's making.

use test_programs::*;

#[track_caller]
fn swap_ok<V: CasVersion>(cas: V::Cas, value: &[u8], what: &str) {
    match V::swap(cas, value) {
        Ok(()) => {}
        Err(SwapError::CasFailed(_, current)) => panic!(
            "{what}: expected swap to succeed, got cas-failed (current value {:?})",
            current.as_ref().map(show)
        ),
        Err(SwapError::Store(e)) => {
            panic!("{what}: expected swap to succeed, got store-error {e:?}")
        }
    }
}

/// Asserts the swap fails with cas-failed and the key's value `now`; returns the fresh handle.
#[track_caller]
fn swap_fails<V: CasVersion>(cas: V::Cas, value: &[u8], now: Option<&[u8]>, what: &str) -> V::Cas {
    match V::swap(cas, value) {
        Ok(()) => panic!("{what}: expected swap to fail with cas-failed, but it succeeded"),
        Err(SwapError::CasFailed(fresh, got)) => {
            assert!(
                got.as_deref() == now,
                "{what}: cas-failed must come with the current value {:?}, got {:?}",
                now.map(show),
                got.as_ref().map(show)
            );
            fresh
        }
        Err(SwapError::Store(e)) => {
            panic!("{what}: expected cas-failed, got store-error {e:?}")
        }
    }
}

/// Asserts that draft2's `cas.current()` reads `expected` (`None`: absent). draft3's handles
/// have no `current`: there this checks nothing.
#[track_caller]
fn assert_current<V: CasVersion>(cas: &V::Cas, expected: Option<&[u8]>, what: &str) {
    if let Some(got) = V::cas_current(cas) {
        let got = ok(got, &format!("{what}: cas.current()"));
        assert!(
            got.as_deref() == expected,
            "{what}: cas.current() expected {:?}, got {:?}",
            expected.map(show),
            got.as_ref().map(show)
        );
    }
}

fn cas<V: CasVersion>() {
    let b = Bucket::<V>::open_default();

    // Untouched: the swap succeeds.
    b.set("k1", b"a");
    let c = b.cas("k1");
    assert_current::<V>(&c, Some(b"a"), "untouched key");
    assert_current::<V>(&c, Some(b"a"), "current read twice");
    swap_ok::<V>(c, b"b", "untouched key");
    b.assert_value("k1", Some(b"b"), "after a successful swap");

    // A handle made with the value read returns the current value (or none) and swaps like new.
    let (c, v) = b.cas_with_read("k1");
    assert_eq!(
        v.as_deref(),
        Some(&b"b"[..]),
        "new-with-read must return the current value"
    );
    swap_ok::<V>(c, b"c", "untouched key after new-with-read");
    b.assert_value("k1", Some(b"c"), "after swap of a new-with-read handle");
    let (c, v) = b.cas_with_read("absent1");
    assert_eq!(v, None, "new-with-read of a missing key must return none");
    drop(c);
    b.assert_value("absent1", None, "dropping a handle writes nothing");
    drop(b.cas("dropped"));
    b.assert_value("dropped", None, "after dropping an unused handle");

    // A set between: cas-failed with the current value; the fresh handle then swaps. current is
    // a read of the value now, not of the snapshot; the write still fails the swap.
    b.set("k2", b"a");
    let c = b.cas("k2");
    b.set("k2", b"x");
    assert_current::<V>(&c, Some(b"x"), "current after a set since new");
    let fresh = swap_fails::<V>(c, b"y", Some(b"x"), "set between handle and swap");
    b.assert_value("k2", Some(b"x"), "a failed swap must not write");
    swap_ok::<V>(fresh, b"z", "fresh handle from cas-failed");
    b.assert_value("k2", Some(b"z"), "after swap of the fresh handle");

    // A fresh handle is itself invalidated by a later write, and hands out another.
    let c = b.cas("k2");
    b.set("k2", b"1");
    let fresh = swap_fails::<V>(c, b"no", Some(b"1"), "first retry round");
    b.set("k2", b"2");
    let fresh = swap_fails::<V>(fresh, b"no", Some(b"2"), "fresh handle after another set");
    swap_ok::<V>(fresh, b"3", "second fresh handle");
    b.assert_value("k2", Some(b"3"), "after the retry chain");

    // Versions, not values: A -> B -> A fails, and so does rewriting the same value.
    b.set("aba", b"A");
    let c = b.cas("aba");
    b.set("aba", b"B");
    b.set("aba", b"A");
    assert_current::<V>(&c, Some(b"A"), "current after A -> B -> A");
    let fresh = swap_fails::<V>(c, b"C", Some(b"A"), "A -> B -> A between handle and swap");
    b.assert_value("aba", Some(b"A"), "after the failed A-B-A swap");
    swap_ok::<V>(fresh, b"C", "the fresh handle after A -> B -> A");
    b.assert_value("aba", Some(b"C"), "after the fresh handle's swap");
    let c = b.cas("aba");
    b.set("aba", b"C");
    swap_fails::<V>(
        c,
        b"D",
        Some(b"C"),
        "set of the same value between handle and swap",
    );

    // A delete between fails with none; the fresh handle recreates the key.
    b.set("del", b"a");
    let c = b.cas("del");
    b.delete("del");
    assert_current::<V>(&c, None, "current after a delete since new");
    let fresh = swap_fails::<V>(c, b"b", None, "delete between handle and swap");
    b.assert_value(
        "del",
        None,
        "a failed swap after delete must not recreate the key",
    );
    swap_ok::<V>(fresh, b"back", "fresh handle on a deleted key");
    b.assert_value(
        "del",
        Some(b"back"),
        "fresh handle recreated the deleted key",
    );

    // A delete and re-set between fails.
    let c = b.cas("del");
    b.delete("del");
    b.set("del", b"back");
    swap_fails::<V>(
        c,
        b"no",
        Some(b"back"),
        "delete then set of the same value between",
    );

    // An increment between fails, even by 0.
    b.set("inc", b"1");
    let c = b.cas("inc");
    b.increment("inc", 1);
    swap_fails::<V>(c, b"100", Some(b"2"), "increment between handle and swap");
    b.assert_value("inc", Some(b"2"), "after failed swap over an increment");
    let c = b.cas("inc");
    b.increment("inc", 0);
    swap_fails::<V>(
        c,
        b"100",
        Some(b"2"),
        "increment by 0 between handle and swap (a write even if the value stays)",
    );

    // Batch writes are writes.
    b.set("batch", b"a");
    let c = b.cas("batch");
    b.set_many(&pairs(&[("batch", "m")]));
    swap_fails::<V>(c, b"no", Some(b"m"), "set-many between handle and swap");
    let c = b.cas("batch");
    b.delete_many(&strings(&["batch"]));
    swap_fails::<V>(c, b"no", None, "delete-many between handle and swap");

    // A handle made while the key is absent creates it.
    let c = b.cas("created");
    assert_current::<V>(&c, None, "handle on an absent key");
    swap_ok::<V>(c, b"new", "handle on an absent key");
    b.assert_value(
        "created",
        Some(b"new"),
        "swap of an absent-key handle creates the key",
    );

    // ... unless someone created it meanwhile.
    let c = b.cas("raced");
    b.set("raced", b"first");
    let fresh = swap_fails::<V>(
        c,
        b"second",
        Some(b"first"),
        "absent-key handle, key created between",
    );
    b.assert_value(
        "raced",
        Some(b"first"),
        "the creator's value survives the failed swap",
    );
    swap_ok::<V>(fresh, b"second", "fresh handle after losing a create race");
    b.assert_value("raced", Some(b"second"), "after fresh handle swap");

    // ... and a created-then-deleted key still counts as written.
    let c = b.cas("flicker");
    b.set("flicker", b"x");
    b.delete("flicker");
    swap_fails::<V>(
        c,
        b"no",
        None,
        "absent-key handle, key created and deleted between",
    );
    b.assert_value(
        "flicker",
        None,
        "after the failed swap over a created-and-deleted key",
    );

    // Deleting an absent key is a no-op and does not invalidate the handle.
    let c = b.cas("still-absent");
    b.delete("still-absent");
    b.delete_many(&strings(&["still-absent"]));
    swap_ok::<V>(
        c,
        b"made",
        "absent-key handle with deletes of the absent key between",
    );
    b.assert_value(
        "still-absent",
        Some(b"made"),
        "after swap over no-op deletes",
    );

    // Reads do not invalidate a handle, nor does another handle's read.
    let c = b.cas("k1");
    b.get("k1");
    b.exists("k1");
    b.list_all();
    b.get_many(&strings(&["k1"]));
    let (other, _) = b.cas_with_read("k1");
    drop(other);
    swap_ok::<V>(c, b"after reads", "reads between handle and swap");

    // Two handles from one version: the first swap wins, the second fails.
    b.set("two", b"base");
    let first = b.cas("two");
    let (second, v) = b.cas_with_read("two");
    assert_eq!(v.as_deref(), Some(&b"base"[..]), "new-with-read of \"two\"");
    swap_ok::<V>(first, b"first", "first of two handles");
    swap_fails::<V>(
        second,
        b"second",
        Some(b"first"),
        "second of two handles from the same version",
    );
    b.assert_value("two", Some(b"first"), "the first swap's value stands");

    // Same race on an absent key: one creator wins.
    let first = b.cas("two-absent");
    let second = b.cas("two-absent");
    swap_ok::<V>(second, b"second", "first swap of two absent-key handles");
    swap_fails::<V>(
        first,
        b"first",
        Some(b"second"),
        "second swap of two absent-key handles",
    );

    // An empty value is a value for CAS too.
    let (c, v) = b.cas_with_read("empty");
    assert_eq!(v, None, "new-with-read of a missing key");
    swap_ok::<V>(c, b"", "swap in an empty value");
    let (c, v) = b.cas_with_read("empty");
    assert_eq!(
        v,
        Some(Vec::new()),
        "new-with-read of an empty value must be Some([])"
    );
    assert_current::<V>(&c, Some(b""), "current of an empty value");
    swap_ok::<V>(c, b"full", "swap over an empty value");
    b.assert_value("empty", Some(b"full"), "after swap over an empty value");

    // Handles are per bucket: a write to the same key in another bucket does not interfere.
    let named = Bucket::<V>::open("other");
    b.set("iso", b"default");
    let c = b.cas("iso");
    named.set("iso", b"named");
    assert_current::<V>(&c, Some(b"default"), "current reads its own bucket");
    swap_ok::<V>(
        c,
        b"swapped",
        "write to the same key in another bucket between",
    );
    named.assert_value(
        "iso",
        Some(b"named"),
        "other bucket's key after swap in the default bucket",
    );
    let c = named.cas("iso");
    b.set("iso", b"again");
    swap_ok::<V>(c, b"named swapped", "swap in a named bucket");
    named.assert_value("iso", Some(b"named swapped"), "named bucket after its swap");

    // An oversized value is a store-error(other), and the key is unchanged.
    b.set("big", b"small");
    let c = b.cas("big");
    let huge = vec![7u8; MAX_VALUE_BYTES + 1];
    match V::swap(c, &huge) {
        Err(SwapError::Store(Error::Other(_))) => {}
        Err(SwapError::Store(e)) => {
            panic!("oversized swap: expected store-error(other), got store-error {e:?}")
        }
        Err(SwapError::CasFailed(..)) => {
            panic!("oversized swap: expected store-error(other), got cas-failed")
        }
        Ok(()) => panic!("oversized swap: expected store-error(other), got Ok"),
    }
    drop(huge);
    b.assert_value("big", Some(b"small"), "after a refused oversized swap");
}

fn main() {
    match version_arg() {
        VersionArg::Draft3 => cas::<Draft3>(),
        VersionArg::Draft2 => cas::<Draft2>(),
        VersionArg::Draft => panic!("wasi:keyvalue@0.2.0-draft has no compare-and-swap"),
    }
}
