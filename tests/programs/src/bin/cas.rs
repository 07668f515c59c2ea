//! atomics.cas / swap: a swap fails if any write reached the key since the handle was made
//! (versions, not values), and a failure hands back a fresh handle and the current value.

use test_programs::draft3::*;

fn new(bucket: &Bucket, key: &str) -> Cas {
    ok(Cas::new(bucket, key), &format!("cas.new({key:?})"))
}

fn new_with_read(bucket: &Bucket, key: &str) -> (Cas, Option<Vec<u8>>) {
    ok(
        Cas::new_with_read(bucket, key),
        &format!("cas.new-with-read({key:?})"),
    )
}

fn swap_ok(cas: Cas, value: &[u8], what: &str) {
    match atomics::swap(cas, value) {
        Ok(()) => {}
        Err(CasError::CasFailed((_, current))) => panic!(
            "{what}: expected swap to succeed, got cas-failed (current value {:?})",
            current.as_ref().map(show)
        ),
        Err(CasError::StoreError(e)) => {
            panic!("{what}: expected swap to succeed, got store-error {e:?}")
        }
    }
}

/// Asserts the swap fails with cas-failed carrying `current`; returns the fresh handle.
fn swap_fails(cas: Cas, value: &[u8], current: Option<&[u8]>, what: &str) -> Cas {
    match atomics::swap(cas, value) {
        Ok(()) => panic!("{what}: expected swap to fail with cas-failed, but it succeeded"),
        Err(CasError::CasFailed((fresh, got))) => {
            assert!(
                got.as_deref() == current,
                "{what}: cas-failed must carry the current value {:?}, got {:?}",
                current.map(show),
                got.as_ref().map(show)
            );
            fresh
        }
        Err(CasError::StoreError(e)) => {
            panic!("{what}: expected cas-failed, got store-error {e:?}")
        }
    }
}

fn main() {
    let b = open_default();

    // Untouched: the swap succeeds.
    set(&b, "k1", b"a");
    let c = new(&b, "k1");
    swap_ok(c, b"b", "untouched key");
    assert_value(&b, "k1", Some(b"b"), "after a successful swap");

    // new-with-read returns the current value (or none) and swaps like new.
    let (c, v) = new_with_read(&b, "k1");
    assert_eq!(
        v.as_deref(),
        Some(&b"b"[..]),
        "new-with-read must return the current value"
    );
    swap_ok(c, b"c", "untouched key after new-with-read");
    assert_value(&b, "k1", Some(b"c"), "after swap of a new-with-read handle");
    let (c, v) = new_with_read(&b, "absent1");
    assert_eq!(v, None, "new-with-read of a missing key must return none");
    drop(c);
    assert_value(&b, "absent1", None, "dropping a handle writes nothing");

    // A set between: cas-failed with the current value; the fresh handle then swaps.
    set(&b, "k2", b"a");
    let c = new(&b, "k2");
    set(&b, "k2", b"x");
    let fresh = swap_fails(c, b"y", Some(b"x"), "set between handle and swap");
    assert_value(&b, "k2", Some(b"x"), "a failed swap must not write");
    swap_ok(fresh, b"z", "fresh handle from cas-failed");
    assert_value(&b, "k2", Some(b"z"), "after swap of the fresh handle");

    // A fresh handle is itself invalidated by a later write, and hands out another.
    let c = new(&b, "k2");
    set(&b, "k2", b"1");
    let fresh = swap_fails(c, b"no", Some(b"1"), "first retry round");
    set(&b, "k2", b"2");
    let fresh = swap_fails(fresh, b"no", Some(b"2"), "fresh handle after another set");
    swap_ok(fresh, b"3", "second fresh handle");
    assert_value(&b, "k2", Some(b"3"), "after the retry chain");

    // Versions, not values: A -> B -> A fails, and so does rewriting the same value.
    set(&b, "aba", b"A");
    let c = new(&b, "aba");
    set(&b, "aba", b"B");
    set(&b, "aba", b"A");
    swap_fails(c, b"C", Some(b"A"), "A -> B -> A between handle and swap");
    assert_value(&b, "aba", Some(b"A"), "after the failed A-B-A swap");
    let c = new(&b, "aba");
    set(&b, "aba", b"A");
    swap_fails(
        c,
        b"C",
        Some(b"A"),
        "set of the same value between handle and swap",
    );

    // A delete between fails with none; the fresh handle recreates the key.
    set(&b, "del", b"a");
    let c = new(&b, "del");
    delete(&b, "del");
    let fresh = swap_fails(c, b"b", None, "delete between handle and swap");
    assert_value(
        &b,
        "del",
        None,
        "a failed swap after delete must not recreate the key",
    );
    swap_ok(fresh, b"back", "fresh handle on a deleted key");
    assert_value(
        &b,
        "del",
        Some(b"back"),
        "fresh handle recreated the deleted key",
    );

    // A delete and re-set between fails.
    let c = new(&b, "del");
    delete(&b, "del");
    set(&b, "del", b"back");
    swap_fails(
        c,
        b"no",
        Some(b"back"),
        "delete then set of the same value between",
    );

    // An increment between fails.
    set(&b, "inc", b"1");
    let c = new(&b, "inc");
    ok(atomics::increment(&b, "inc", 1), "increment between");
    swap_fails(c, b"100", Some(b"2"), "increment between handle and swap");
    assert_value(&b, "inc", Some(b"2"), "after failed swap over an increment");
    let c = new(&b, "inc");
    ok(atomics::increment(&b, "inc", 0), "increment by 0 between");
    swap_fails(
        c,
        b"100",
        Some(b"2"),
        "increment by 0 between handle and swap (a write even if the value stays)",
    );

    // Batch writes are writes.
    set(&b, "batch", b"a");
    let c = new(&b, "batch");
    ok(
        batch::set_many(&b, &[("batch".to_string(), b"m".to_vec())]),
        "set-many between",
    );
    swap_fails(c, b"no", Some(b"m"), "set-many between handle and swap");
    let c = new(&b, "batch");
    ok(
        batch::delete_many(&b, &["batch".to_string()]),
        "delete-many between",
    );
    swap_fails(c, b"no", None, "delete-many between handle and swap");

    // A handle made while the key is absent creates it.
    let c = new(&b, "created");
    swap_ok(c, b"new", "handle on an absent key");
    assert_value(
        &b,
        "created",
        Some(b"new"),
        "swap of an absent-key handle creates the key",
    );

    // ... unless someone created it meanwhile.
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
    assert_value(&b, "raced", Some(b"second"), "after fresh handle swap");

    // ... and a created-then-deleted key still counts as written.
    let c = new(&b, "flicker");
    set(&b, "flicker", b"x");
    delete(&b, "flicker");
    swap_fails(
        c,
        b"no",
        None,
        "absent-key handle, key created and deleted between",
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
        "after swap over no-op deletes",
    );

    // Reads do not invalidate a handle.
    let c = new(&b, "k1");
    get(&b, "k1");
    exists(&b, "k1");
    list_all(&b);
    ok(batch::get_many(&b, &["k1".to_string()]), "get-many between");
    let (other, _) = new_with_read(&b, "k1");
    drop(other);
    swap_ok(c, b"after reads", "reads between handle and swap");

    // Two handles from one version: the first swap wins, the second fails.
    set(&b, "two", b"base");
    let first = new(&b, "two");
    let (second, v) = new_with_read(&b, "two");
    assert_eq!(v.as_deref(), Some(&b"base"[..]), "new-with-read of \"two\"");
    swap_ok(first, b"first", "first of two handles");
    swap_fails(
        second,
        b"second",
        Some(b"first"),
        "second of two handles from the same version",
    );
    assert_value(&b, "two", Some(b"first"), "the first swap's value stands");

    // Same race on an absent key: one creator wins.
    let first = new(&b, "two-absent");
    let second = new(&b, "two-absent");
    swap_ok(second, b"second", "first swap of two absent-key handles");
    swap_fails(
        first,
        b"first",
        Some(b"second"),
        "second swap of two absent-key handles",
    );

    // An empty value is a value for CAS too.
    let (c, v) = new_with_read(&b, "empty");
    assert_eq!(v, None, "new-with-read of a missing key");
    swap_ok(c, b"", "swap in an empty value");
    let (c, v) = new_with_read(&b, "empty");
    assert_eq!(
        v,
        Some(Vec::new()),
        "new-with-read of an empty value must be Some([])"
    );
    swap_ok(c, b"full", "swap over an empty value");
    assert_value(&b, "empty", Some(b"full"), "after swap over an empty value");

    // Handles are per bucket: a write to the same key in another bucket does not interfere.
    let named = open("other");
    set(&b, "iso", b"default");
    let c = new(&b, "iso");
    set(&named, "iso", b"named");
    swap_ok(
        c,
        b"swapped",
        "write to the same key in another bucket between",
    );
    assert_value(
        &named,
        "iso",
        Some(b"named"),
        "other bucket's key after swap in the default bucket",
    );
    let c = new(&named, "iso");
    set(&b, "iso", b"again");
    swap_ok(c, b"named swapped", "swap in a named bucket");
    assert_value(
        &named,
        "iso",
        Some(b"named swapped"),
        "named bucket after its swap",
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
