//! Size limits: values up to 32 MiB (4 MiB round-tripped here), 32 MiB + 1 refused by set,
//! set-many and swap; keys up to 8192 bytes, 8193 refused by every operation that takes a key.

use test_programs::draft3::*;

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    // A cheap non-repeating byte stream, so a misplaced or truncated chunk shows up.
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn main() {
    let b = open_default();

    // Large values round-trip exactly, through every write path.
    let four_mib = pattern(4 * 1024 * 1024, 1);
    set(&b, "big", &four_mib);
    assert!(
        get(&b, "big").as_deref() == Some(&four_mib[..]),
        "a 4 MiB value must round-trip through set/get"
    );
    let other = pattern(4 * 1024 * 1024 + 3, 2);
    ok(
        batch::set_many(&b, &[("big2".to_string(), other.clone())]),
        "set-many of a 4 MiB value",
    );
    let got = ok(
        batch::get_many(&b, &["big2".to_string()]),
        "get-many of a 4 MiB value",
    );
    assert!(
        matches!(&got[..], [Some((k, v))] if k == "big2" && *v == other),
        "a 4 MiB value must round-trip through set-many/get-many"
    );
    let c = ok(Cas::new(&b, "big"), "cas.new(big)");
    let third = pattern(4 * 1024 * 1024 - 5, 3);
    if let Err(e) = atomics::swap(c, &third) {
        panic!(
            "swap of a 4 MiB value must succeed, got {}",
            match e {
                CasError::StoreError(e) => format!("store-error {e:?}"),
                CasError::CasFailed(_) => "cas-failed".to_string(),
            }
        );
    }
    let (c, v) = ok(Cas::new_with_read(&b, "big"), "cas.new-with-read(big)");
    assert!(
        v.as_deref() == Some(&third[..]),
        "a 4 MiB value must round-trip through swap/new-with-read"
    );
    drop(c);
    drop((four_mib, other, third));

    // Exactly 32 MiB is accepted (stored once, read back once: the other paths use 4 MiB).
    let at_limit = pattern(MAX_VALUE_BYTES, 4);
    set(&b, "at-limit", &at_limit);
    assert!(
        get(&b, "at-limit").as_deref() == Some(&at_limit[..]),
        "a value of exactly 32 MiB must round-trip through set/get"
    );
    delete(&b, "at-limit");
    drop(at_limit);

    // One byte over 32 MiB is refused everywhere, and the key keeps its old value.
    set(&b, "limit", b"old");
    let too_big = vec![0xabu8; MAX_VALUE_BYTES + 1];
    expect_other(
        b.set("limit", &too_big),
        "",
        "set of a 32 MiB + 1 byte value",
    );
    assert_value(&b, "limit", Some(b"old"), "after a refused oversized set");
    expect_other(
        b.set("fresh", &too_big),
        "",
        "set of a 32 MiB + 1 byte value to a new key",
    );
    assert_value(
        &b,
        "fresh",
        None,
        "a refused oversized set must not create the key",
    );
    expect_other(
        batch::set_many(&b, &[("limit".to_string(), too_big.clone())]),
        "",
        "set-many of a 32 MiB + 1 byte value",
    );
    assert_value(
        &b,
        "limit",
        Some(b"old"),
        "after a refused oversized set-many",
    );
    let c = ok(Cas::new(&b, "limit"), "cas.new(limit)");
    match atomics::swap(c, &too_big) {
        Err(CasError::StoreError(Error::Other(_))) => {}
        Err(CasError::StoreError(e)) => {
            panic!("oversized swap: expected store-error(other), got store-error {e:?}")
        }
        Err(CasError::CasFailed(_)) => {
            panic!("oversized swap: expected store-error(other), got cas-failed")
        }
        Ok(()) => panic!("oversized swap: expected store-error(other), got Ok"),
    }
    assert_value(&b, "limit", Some(b"old"), "after a refused oversized swap");
    drop(too_big);

    // Keys: 8192 bytes accepted by every operation, 8193 refused by every operation.
    let longest = "k".repeat(MAX_KEY_BYTES);
    set(&b, &longest, b"v");
    assert_value(&b, &longest, Some(b"v"), "8192-byte key");
    assert_eq!(
        ok(
            atomics::increment(&b, &"i".repeat(MAX_KEY_BYTES), 2),
            "increment of an 8192-byte key"
        ),
        2
    );
    let c = ok(Cas::new(&b, &longest), "cas.new of an 8192-byte key");
    assert!(
        atomics::swap(c, b"w").is_ok(),
        "swap on an 8192-byte key must succeed"
    );
    let (c, v) = ok(
        Cas::new_with_read(&b, &longest),
        "cas.new-with-read of an 8192-byte key",
    );
    assert_eq!(
        v.as_deref(),
        Some(&b"w"[..]),
        "new-with-read of an 8192-byte key"
    );
    drop(c);
    ok(
        batch::set_many(&b, &[(longest.clone(), b"m".to_vec())]),
        "set-many with an 8192-byte key",
    );
    let got = ok(
        batch::get_many(&b, std::slice::from_ref(&longest)),
        "get-many with an 8192-byte key",
    );
    assert!(
        matches!(&got[..], [Some((k, v))] if *k == longest && v == b"m"),
        "get-many of an 8192-byte key"
    );
    assert!(
        list_set(&b).contains(&longest),
        "an 8192-byte key must be listed whole"
    );
    ok(
        batch::delete_many(&b, std::slice::from_ref(&longest)),
        "delete-many with an 8192-byte key",
    );
    assert_value(&b, &longest, None, "after delete-many of an 8192-byte key");

    let too_long = "k".repeat(MAX_KEY_BYTES + 1);
    let k = too_long.as_str();
    expect_other(b.get(k), "key", "get of an 8193-byte key");
    expect_other(b.set(k, b"v"), "key", "set of an 8193-byte key");
    expect_other(b.delete(k), "key", "delete of an 8193-byte key");
    expect_other(b.exists(k), "key", "exists of an 8193-byte key");
    expect_other(
        atomics::increment(&b, k, 1),
        "key",
        "increment of an 8193-byte key",
    );
    expect_other(Cas::new(&b, k), "key", "cas.new of an 8193-byte key");
    expect_other(
        Cas::new_with_read(&b, k),
        "key",
        "cas.new-with-read of an 8193-byte key",
    );
    expect_other(
        batch::get_many(&b, std::slice::from_ref(&too_long)),
        "key",
        "get-many with an 8193-byte key",
    );
    expect_other(
        batch::set_many(&b, &[(too_long.clone(), b"v".to_vec())]),
        "key",
        "set-many with an 8193-byte key",
    );
    expect_other(
        batch::delete_many(&b, std::slice::from_ref(&too_long)),
        "key",
        "delete-many with an 8193-byte key",
    );
    assert!(
        !list_set(&b).contains(&too_long),
        "a refused 8193-byte key must not be listed"
    );
}
