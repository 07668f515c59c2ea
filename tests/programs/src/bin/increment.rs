//! atomics.increment: creation, decimal text storage, negatives, refusals that leave the value
//! unchanged, and overflow.

use test_programs::draft3::*;

fn inc(bucket: &Bucket, key: &str, delta: i64) -> i64 {
    ok(
        atomics::increment(bucket, key, delta),
        &format!("increment({key:?}, {delta})"),
    )
}

fn expect_refused(bucket: &Bucket, key: &str, stored: &[u8], delta: i64) {
    set(bucket, key, stored);
    expect_other(
        atomics::increment(bucket, key, delta),
        "",
        &format!("increment({key:?}, {delta}) of value {}", show(stored)),
    );
    assert_value(
        bucket,
        key,
        Some(stored),
        &format!("value {} after a refused increment", show(stored)),
    );
}

fn main() {
    let bucket = open_default();

    // A missing key starts from zero: it is created holding the delta, as decimal text.
    assert_eq!(
        inc(&bucket, "n", 5),
        5,
        "increment of a missing key returns the delta"
    );
    assert_value(
        &bucket,
        "n",
        Some(b"5"),
        "increment stores ASCII decimal text",
    );
    assert_eq!(inc(&bucket, "n", 1), 6, "5 + 1");
    assert_value(&bucket, "n", Some(b"6"), "after 5 + 1");
    assert_eq!(inc(&bucket, "n", 0), 6, "6 + 0");
    assert_value(&bucket, "n", Some(b"6"), "after 6 + 0");

    // Negative deltas and negative values.
    assert_eq!(inc(&bucket, "n", -8), -2, "6 - 8");
    assert_value(
        &bucket,
        "n",
        Some(b"-2"),
        "negative values are stored with a minus sign",
    );
    assert_eq!(
        inc(&bucket, "neg", -7),
        -7,
        "increment of a missing key by -7"
    );
    assert_value(&bucket, "neg", Some(b"-7"), "missing key incremented by -7");
    assert_eq!(
        inc(&bucket, "zero", 0),
        0,
        "increment of a missing key by 0"
    );
    assert_value(
        &bucket,
        "zero",
        Some(b"0"),
        "missing key incremented by 0 is created holding 0",
    );

    // Values written as text by set are counters too.
    set(&bucket, "t", b"41");
    assert_eq!(inc(&bucket, "t", 1), 42, "\"41\" + 1");
    assert_value(&bucket, "t", Some(b"42"), "after incrementing text \"41\"");
    // Whatever str::parse::<i64> accepts: a plus sign and leading zeros.
    set(&bucket, "plus", b"+5");
    assert_eq!(inc(&bucket, "plus", 1), 6, "\"+5\" + 1");
    assert_value(
        &bucket,
        "plus",
        Some(b"6"),
        "the result is stored canonically",
    );
    set(&bucket, "zeros", b"007");
    assert_eq!(inc(&bucket, "zeros", 1), 8, "\"007\" + 1");
    assert_value(
        &bucket,
        "zeros",
        Some(b"8"),
        "the result is stored canonically",
    );
    set(&bucket, "mzero", b"-0");
    assert_eq!(inc(&bucket, "mzero", 3), 3, "\"-0\" + 3");

    // Values that are not decimal i64 text are refused and left as they were.
    for stored in [
        &b"abc"[..],
        b"",
        b" 5",
        b"5 ",
        b"5\n",
        b"1.5",
        b"1e3",
        b"0x10",
        b"--1",
        b"+",
        b"-",
        b"\xff",
        b"5\0",
        b"\xef\xbc\x95",         // fullwidth digit five
        b"9223372036854775808",  // i64::MAX + 1
        b"-9223372036854775809", // i64::MIN - 1
        b"99999999999999999999999999",
    ] {
        expect_refused(&bucket, "bad", stored, 1);
    }

    // Overflow in either direction is refused and leaves the value unchanged.
    expect_refused(&bucket, "max", i64::MAX.to_string().as_bytes(), 1);
    expect_refused(&bucket, "max", i64::MAX.to_string().as_bytes(), i64::MAX);
    expect_refused(&bucket, "min", i64::MIN.to_string().as_bytes(), -1);
    expect_refused(&bucket, "min", i64::MIN.to_string().as_bytes(), i64::MIN);
    expect_refused(&bucket, "one", b"1", i64::MAX);
    expect_refused(&bucket, "mone", b"-2", i64::MIN);

    // The extremes themselves are fine.
    set(&bucket, "edge", (i64::MAX - 1).to_string());
    assert_eq!(inc(&bucket, "edge", 1), i64::MAX, "i64::MAX - 1 + 1");
    assert_value(
        &bucket,
        "edge",
        Some(i64::MAX.to_string().as_bytes()),
        "i64::MAX stored",
    );
    assert_eq!(inc(&bucket, "edge", i64::MIN), -1, "i64::MAX + i64::MIN");
    assert_eq!(
        inc(&bucket, "low", i64::MIN),
        i64::MIN,
        "missing key incremented by i64::MIN"
    );
    assert_value(
        &bucket,
        "low",
        Some(i64::MIN.to_string().as_bytes()),
        "i64::MIN stored",
    );
    assert_eq!(inc(&bucket, "low", i64::MAX), -1, "i64::MIN + i64::MAX");

    // Many increments in one instance add up exactly.
    for i in 1..=200 {
        assert_eq!(inc(&bucket, "loop", 1), i, "increment number {i}");
    }
    assert_value(&bucket, "loop", Some(b"200"), "after 200 increments");

    // Increment works in named buckets and does not touch the default bucket's key.
    let named = open("counters");
    assert_eq!(
        inc(&named, "n", 100),
        100,
        "increment of missing key in a named bucket"
    );
    assert_value(
        &bucket,
        "n",
        Some(b"-2"),
        "default bucket's counter after incrementing a named bucket's",
    );

    // A deleted counter starts again from zero.
    delete(&bucket, "n");
    assert_eq!(
        inc(&bucket, "n", 3),
        3,
        "increment after delete starts from zero"
    );
}
