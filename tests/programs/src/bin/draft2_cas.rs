//! `wasi:keyvalue@0.2.0-draft2` CAS: `new` snapshots the key's version and `current` reads the
//! value now; `swap` fails after any write since `new` (versions, not values: A -> B -> A fails)
//! with a fresh handle, which swaps; a delete of an absent key writes nothing.

use test_programs::draft2::*;

#[track_caller]
fn new(bucket: &Bucket, key: &str) -> Cas {
    ok(Cas::new(bucket, key), &format!("cas.new({key:?})"))
}

#[track_caller]
fn current(cas: &Cas, what: &str) -> Option<Vec<u8>> {
    ok(cas.current(), &format!("{what}: cas.current()"))
}

/// Asserts that `cas.current()` reads `expected` (`None`: absent).
#[track_caller]
fn assert_current(cas: &Cas, expected: Option<&[u8]>, what: &str) {
    let got = current(cas, what);
    assert!(
        got.as_deref() == expected,
        "{what}: cas.current() expected {:?}, got {:?}",
        expected.map(show),
        got.as_ref().map(show)
    );
}

#[track_caller]
fn swap_ok(cas: Cas, value: &[u8], what: &str) {
    match atomics::swap(cas, value) {
        Ok(()) => {}
        Err(CasError::CasFailed(fresh)) => panic!(
            "{what}: expected swap to succeed, got cas-failed (current value {:?})",
            fresh.current().map(|v| v.as_ref().map(show))
        ),
        Err(CasError::StoreError(e)) => {
            panic!("{what}: expected swap to succeed, got store-error {e:?}")
        }
    }
}

/// Asserts the swap fails with cas-failed; returns the fresh handle, whose `current` must read
/// `now` (the key's value at the failure).
#[track_caller]
fn swap_fails(cas: Cas, value: &[u8], now: Option<&[u8]>, what: &str) -> Cas {
    match atomics::swap(cas, value) {
        Ok(()) => panic!("{what}: expected swap to fail with cas-failed, but it succeeded"),
        Err(CasError::CasFailed(fresh)) => {
            assert_current(&fresh, now, &format!("{what}: the fresh handle"));
            fresh
        }
        Err(CasError::StoreError(e)) => {
            panic!("{what}: expected cas-failed, got store-error {e:?}")
        }
    }
}

fn main() {
    let b = open_default();

    // Untouched: current reads the value and the swap succeeds.
    set(&b, "k1", b"a");
    let c = new(&b, "k1");
    assert_current(&c, Some(b"a"), "untouched key");
    assert_current(&c, Some(b"a"), "current read twice");
    swap_ok(c, b"b", "untouched key");
    assert_value(&b, "k1", Some(b"b"), "after a successful swap");

    // current is a read of the value now, not of the snapshot; the write still fails the swap.
    let c = new(&b, "k1");
    set(&b, "k1", b"x");
    assert_current(&c, Some(b"x"), "current after a set since new");
    let fresh = swap_fails(c, b"y", Some(b"x"), "set between new and swap");
    assert_value(&b, "k1", Some(b"x"), "a failed swap must not write");
    swap_ok(fresh, b"z", "the fresh handle from cas-failed");
    assert_value(&b, "k1", Some(b"z"), "after the fresh handle's swap");

    // A fresh handle is itself invalidated by a later write, and hands out another.
    let c = new(&b, "k1");
    set(&b, "k1", b"1");
    let fresh = swap_fails(c, b"no", Some(b"1"), "first retry round");
    set(&b, "k1", b"2");
    let fresh = swap_fails(fresh, b"no", Some(b"2"), "fresh handle after another set");
    swap_ok(fresh, b"3", "second fresh handle");
    assert_value(&b, "k1", Some(b"3"), "after the retry chain");

    // Versions, not values: A -> B -> A fails, and so does rewriting the same value.
    set(&b, "aba", b"A");
    let c = new(&b, "aba");
    set(&b, "aba", b"B");
    set(&b, "aba", b"A");
    assert_current(&c, Some(b"A"), "current after A -> B -> A");
    let fresh = swap_fails(c, b"C", Some(b"A"), "A -> B -> A between new and swap");
    assert_value(&b, "aba", Some(b"A"), "after the failed A-B-A swap");
    swap_ok(fresh, b"C", "the fresh handle after A -> B -> A");
    assert_value(&b, "aba", Some(b"C"), "after the fresh handle's swap");
    let c = new(&b, "aba");
    set(&b, "aba", b"C");
    swap_fails(
        c,
        b"D",
        Some(b"C"),
        "set of the same value between new and swap",
    );

    // A delete between fails; the fresh handle reads none and recreates the key.
    set(&b, "del", b"a");
    let c = new(&b, "del");
    delete(&b, "del");
    assert_current(&c, None, "current after a delete since new");
    let fresh = swap_fails(c, b"b", None, "delete between new and swap");
    assert_value(
        &b,
        "del",
        None,
        "a failed swap after a delete must not recreate the key",
    );
    swap_ok(fresh, b"back", "fresh handle on a deleted key");
    assert_value(
        &b,
        "del",
        Some(b"back"),
        "the fresh handle recreated the key",
    );
    let c = new(&b, "del");
    delete(&b, "del");
    set(&b, "del", b"back");
    swap_fails(
        c,
        b"no",
        Some(b"back"),
        "delete then set of the same value between",
    );

    // An increment between fails, even by 0.
    set(&b, "inc", b"1");
    let c = new(&b, "inc");
    ok(atomics::increment(&b, "inc", 1), "increment between");
    swap_fails(c, b"100", Some(b"2"), "increment between new and swap");
    assert_value(
        &b,
        "inc",
        Some(b"2"),
        "after a failed swap over an increment",
    );
    let c = new(&b, "inc");
    ok(atomics::increment(&b, "inc", 0), "increment by 0 between");
    swap_fails(
        c,
        b"100",
        Some(b"2"),
        "increment by 0 between (a write even if the value stays)",
    );

    // Batch writes are writes.
    set(&b, "batch", b"a");
    let c = new(&b, "batch");
    ok(
        batch::set_many(&b, &[("batch".to_string(), b"m".to_vec())]),
        "set-many between",
    );
    swap_fails(c, b"no", Some(b"m"), "set-many between new and swap");
    let c = new(&b, "batch");
    ok(
        batch::delete_many(&b, &["batch".to_string()]),
        "delete-many between",
    );
    swap_fails(c, b"no", None, "delete-many between new and swap");

    // A handle made while the key is absent reads none and creates it.
    let c = new(&b, "created");
    assert_current(&c, None, "handle on an absent key");
    swap_ok(c, b"new", "handle on an absent key");
    assert_value(
        &b,
        "created",
        Some(b"new"),
        "swap of an absent-key handle creates the key",
    );

    // ... unless someone created it meanwhile, or created and deleted it.
    let c = new(&b, "raced");
    set(&b, "raced", b"first");
    let fresh = swap_fails(
        c,
        b"second",
        Some(b"first"),
        "absent-key handle, key created between",
    );
    assert_value(
        &b,
        "raced",
        Some(b"first"),
        "the creator's value survives the failed swap",
    );
    swap_ok(fresh, b"second", "fresh handle after losing a create race");
    assert_value(
        &b,
        "raced",
        Some(b"second"),
        "after the fresh handle's swap",
    );
    let c = new(&b, "flicker");
    set(&b, "flicker", b"x");
    delete(&b, "flicker");
    swap_fails(
        c,
        b"no",
        None,
        "absent-key handle, key created and deleted between",
    );
    assert_value(
        &b,
        "flicker",
        None,
        "after the failed swap over a created-and-deleted key",
    );

    // Deleting an absent key is a no-op and does not invalidate the handle.
    let c = new(&b, "still-absent");
    delete(&b, "still-absent");
    ok(
        batch::delete_many(&b, &["still-absent".to_string()]),
        "delete-many of an absent key",
    );
    swap_ok(
        c,
        b"made",
        "absent-key handle with deletes of the absent key between",
    );
    assert_value(
        &b,
        "still-absent",
        Some(b"made"),
        "after a swap over no-op deletes",
    );

    // Reads do not invalidate a handle, nor does another handle's current.
    let c = new(&b, "k1");
    get(&b, "k1");
    exists(&b, "k1");
    list_all(&b);
    ok(batch::get_many(&b, &["k1".to_string()]), "get-many between");
    let other = new(&b, "k1");
    current(&other, "another handle");
    drop(other);
    swap_ok(c, b"after reads", "reads between new and swap");

    // Two handles: the first swap wins, the second fails; on an absent key one creator wins.
    set(&b, "two", b"base");
    let first = new(&b, "two");
    let second = new(&b, "two");
    swap_ok(first, b"first", "first of two handles");
    swap_fails(second, b"second", Some(b"first"), "second of two handles");
    assert_value(&b, "two", Some(b"first"), "the first swap's value stands");
    let first = new(&b, "two-absent");
    let second = new(&b, "two-absent");
    swap_ok(second, b"second", "first swap of two absent-key handles");
    swap_fails(
        first,
        b"first",
        Some(b"second"),
        "second swap of two absent-key handles",
    );

    // Dropping a handle writes nothing; an empty value is a value for CAS too.
    drop(new(&b, "dropped"));
    assert_value(&b, "dropped", None, "after dropping an unused handle");
    let c = new(&b, "empty");
    swap_ok(c, b"", "swap in an empty value");
    let c = new(&b, "empty");
    assert_current(&c, Some(b""), "current of an empty value");
    swap_ok(c, b"full", "swap over an empty value");
    assert_value(
        &b,
        "empty",
        Some(b"full"),
        "after a swap over an empty value",
    );

    // Handles are per bucket: a write to the same key in another bucket does not interfere.
    let named = open("cas-other");
    set(&b, "iso", b"default");
    let c = new(&b, "iso");
    set(&named, "iso", b"named");
    assert_current(&c, Some(b"default"), "current reads its own bucket");
    swap_ok(
        c,
        b"swapped",
        "write to the same key in another bucket between",
    );
    assert_value(
        &named,
        "iso",
        Some(b"named"),
        "the other bucket's key after the swap",
    );

    // An oversized value is a store-error(other), and the key is unchanged.
    set(&b, "big", b"small");
    let c = new(&b, "big");
    let huge = vec![7u8; MAX_VALUE_BYTES + 1];
    match atomics::swap(c, &huge) {
        Err(CasError::StoreError(Error::Other(_))) => {}
        Err(CasError::StoreError(e)) => {
            panic!("oversized swap: expected store-error(other), got store-error {e:?}")
        }
        Err(CasError::CasFailed(_)) => {
            panic!("oversized swap: expected store-error(other), got cas-failed")
        }
        Ok(()) => panic!("oversized swap: expected store-error(other), got Ok"),
    }
    drop(huge);
    assert_value(&b, "big", Some(b"small"), "after a refused oversized swap");
}
