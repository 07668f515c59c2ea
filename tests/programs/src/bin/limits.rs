//! Size limits: values up to 32 MiB (4 MiB round-tripped here), 32 MiB + 1 refused by set,
//! set-many and swap; keys up to 8192 bytes, 8193 refused by every operation that takes a key.

use test_programs::*;

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

fn limits<V: Version>(b: &Bucket<V>) {
    // Large values round-trip exactly, through every write path.
    let four_mib = pattern(4 * 1024 * 1024, 1);
    b.set("big", &four_mib);
    assert!(
        b.get("big").as_deref() == Some(&four_mib[..]),
        "a 4 MiB value must round-trip through set/get"
    );
    let other = pattern(4 * 1024 * 1024 + 3, 2);
    b.set_many(&[("big2".to_string(), other.clone())]);
    let got = b.get_many(&strings(&["big2"]));
    assert!(
        matches!(&got[..], [Some((k, v))] if k == "big2" && *v == other),
        "a 4 MiB value must round-trip through set-many/get-many"
    );
    drop((four_mib, other));

    // Exactly 32 MiB is accepted (stored once, read back once: the other paths use 4 MiB).
    let at_limit = pattern(MAX_VALUE_BYTES, 4);
    b.set("at-limit", &at_limit);
    assert!(
        b.get("at-limit").as_deref() == Some(&at_limit[..]),
        "a value of exactly 32 MiB must round-trip through set/get"
    );
    b.delete("at-limit");
    drop(at_limit);

    // One byte over 32 MiB is refused everywhere, and the key keeps its old value.
    b.set("limit", b"old");
    let too_big = vec![0xabu8; MAX_VALUE_BYTES + 1];
    expect_other(
        b.try_set("limit", &too_big),
        "",
        "set of a 32 MiB + 1 byte value",
    );
    b.assert_value("limit", Some(b"old"), "after a refused oversized set");
    expect_other(
        b.try_set("fresh", &too_big),
        "",
        "set of a 32 MiB + 1 byte value to a new key",
    );
    b.assert_value(
        "fresh",
        None,
        "a refused oversized set must not create the key",
    );
    expect_other(
        b.try_set_many(&[("limit".to_string(), too_big)]),
        "",
        "set-many of a 32 MiB + 1 byte value",
    );
    b.assert_value("limit", Some(b"old"), "after a refused oversized set-many");

    // Keys: 8192 bytes accepted by every operation, 8193 refused by every operation.
    let longest = "k".repeat(MAX_KEY_BYTES);
    b.set(&longest, b"v");
    b.assert_value(&longest, Some(b"v"), "8192-byte key");
    assert_eq!(
        b.increment(&"i".repeat(MAX_KEY_BYTES), 2),
        2,
        "increment of an 8192-byte key"
    );
    b.set_many(&[(longest.clone(), b"m".to_vec())]);
    let got = b.get_many(std::slice::from_ref(&longest));
    assert!(
        matches!(&got[..], [Some((k, v))] if *k == longest && v == b"m"),
        "get-many of an 8192-byte key"
    );
    assert!(
        b.list_set().contains(&longest),
        "an 8192-byte key must be listed whole"
    );
    b.delete_many(std::slice::from_ref(&longest));
    b.assert_value(&longest, None, "after delete-many of an 8192-byte key");

    let too_long = "k".repeat(MAX_KEY_BYTES + 1);
    let k = too_long.as_str();
    expect_other(b.try_get(k), "key", "get of an 8193-byte key");
    expect_other(b.try_set(k, b"v"), "key", "set of an 8193-byte key");
    expect_other(b.try_delete(k), "key", "delete of an 8193-byte key");
    expect_other(b.try_exists(k), "key", "exists of an 8193-byte key");
    expect_other(
        b.try_increment(k, 1),
        "key",
        "increment of an 8193-byte key",
    );
    expect_other(
        b.try_get_many(std::slice::from_ref(&too_long)),
        "key",
        "get-many with an 8193-byte key",
    );
    expect_other(
        b.try_set_many(&[(too_long.clone(), b"v".to_vec())]),
        "key",
        "set-many with an 8193-byte key",
    );
    expect_other(
        b.try_delete_many(std::slice::from_ref(&too_long)),
        "key",
        "delete-many with an 8193-byte key",
    );
    assert!(
        !b.list_set().contains(&too_long),
        "a refused 8193-byte key must not be listed"
    );
}

/// The same limits for compare-and-swap.
fn cas_limits<V: CasVersion>(b: &Bucket<V>) {
    let c = b.cas("big");
    let third = pattern(4 * 1024 * 1024 - 5, 3);
    if let Err(e) = V::swap(c, &third) {
        panic!("swap of a 4 MiB value must succeed, got {e:?}");
    }
    let (c, v) = b.cas_with_read("big");
    assert!(
        v.as_deref() == Some(&third[..]),
        "a 4 MiB value must round-trip through swap/new-with-read"
    );
    drop((c, third));

    b.set("limit", b"old");
    let c = b.cas("limit");
    match V::swap(c, &vec![0xabu8; MAX_VALUE_BYTES + 1]) {
        Err(SwapError::Store(Error::Other(_))) => {}
        Err(SwapError::Store(e)) => {
            panic!("oversized swap: expected store-error(other), got store-error {e:?}")
        }
        Err(SwapError::CasFailed(..)) => {
            panic!("oversized swap: expected store-error(other), got cas-failed")
        }
        Ok(()) => panic!("oversized swap: expected store-error(other), got Ok"),
    }
    b.assert_value("limit", Some(b"old"), "after a refused oversized swap");

    let longest = "k".repeat(MAX_KEY_BYTES);
    let c = b.cas(&longest);
    assert!(
        V::swap(c, b"w").is_ok(),
        "swap on an 8192-byte key must succeed"
    );
    let (c, v) = b.cas_with_read(&longest);
    assert_eq!(
        v.as_deref(),
        Some(&b"w"[..]),
        "new-with-read of an 8192-byte key"
    );
    drop(c);

    let too_long = "k".repeat(MAX_KEY_BYTES + 1);
    expect_other(b.try_cas(&too_long), "key", "cas.new of an 8193-byte key");
    expect_other(
        b.try_cas_with_read(&too_long),
        "key",
        "cas.new-with-read of an 8193-byte key",
    );
    assert!(
        !b.list_set().contains(&too_long),
        "a refused 8193-byte key must not be listed"
    );
}

fn main() {
    match version_arg() {
        VersionArg::Draft3 => {
            let bucket = Bucket::open_default();
            limits::<Draft3>(&bucket);
            cas_limits::<Draft3>(&bucket);
        }
        VersionArg::Draft2 => {
            let bucket = Bucket::open_default();
            limits::<Draft2>(&bucket);
            cas_limits::<Draft2>(&bucket);
        }
        VersionArg::Draft => limits::<Draft>(&Bucket::open_default()),
    }
}
