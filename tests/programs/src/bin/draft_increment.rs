//! `wasi:keyvalue@0.2.0-draft` increment is unsigned: absent counts as 0, the stored value must
//! be text that Rust's `u64` parser accepts ("-5" and "abc" are refused), a sum beyond u64::MAX
//! is refused, refusals leave the value unchanged, and results are stored as decimal text.
//!
//! Runs on wasmtime's in-memory host too (the differential suite), with one bucket handle.

use test_programs::draft::*;

#[track_caller]
fn inc(bucket: &Bucket, key: &str, delta: u64) -> u64 {
    ok(
        atomics::increment(bucket, key, delta),
        &format!("increment({key:?}, {delta})"),
    )
}

#[track_caller]
fn expect_refused(bucket: &Bucket, key: &str, stored: &[u8], delta: u64) {
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
    let b = open_default();

    // A missing key counts as 0: it is created holding the delta, as decimal text.
    assert_eq!(
        inc(&b, "n", 5),
        5,
        "increment of a missing key returns the delta"
    );
    assert_value(&b, "n", Some(b"5"), "increment stores ASCII decimal text");
    assert_eq!(inc(&b, "n", 1), 6, "5 + 1");
    assert_eq!(inc(&b, "n", 0), 6, "6 + 0");
    assert_value(&b, "n", Some(b"6"), "after 6 + 0");
    assert_eq!(inc(&b, "zero", 0), 0, "increment of a missing key by 0");
    assert_value(
        &b,
        "zero",
        Some(b"0"),
        "a missing key incremented by 0 holds 0",
    );

    // Text written by set counts, as Rust's u64 parser reads it; results are canonical.
    set(&b, "t", b"41");
    assert_eq!(inc(&b, "t", 1), 42, "\"41\" + 1");
    assert_value(&b, "t", Some(b"42"), "after incrementing text \"41\"");
    set(&b, "plus", b"+5");
    assert_eq!(inc(&b, "plus", 1), 6, "\"+5\" + 1");
    assert_value(&b, "plus", Some(b"6"), "the result is stored canonically");
    set(&b, "zeros", b"007");
    assert_eq!(inc(&b, "zeros", 1), 8, "\"007\" + 1");
    assert_value(&b, "zeros", Some(b"8"), "the result is stored canonically");

    // Counters are u64, not i64: values and deltas above i64::MAX are fine.
    let above_i64 = (i64::MAX as u64 + 1).to_string();
    set(&b, "wide", &above_i64);
    assert_eq!(
        inc(&b, "wide", 1),
        i64::MAX as u64 + 2,
        "i64::MAX + 1, plus 1"
    );
    assert_value(
        &b,
        "wide",
        Some((i64::MAX as u64 + 2).to_string().as_bytes()),
        "a counter above i64::MAX",
    );
    assert_eq!(
        inc(&b, "wide-delta", 1 << 63),
        1 << 63,
        "a missing key incremented by 2^63"
    );

    // Anything a u64 parser refuses is refused, and left as it was.
    for stored in [
        &b"-5"[..],
        b"abc",
        b"-1",
        b"",
        b" 5",
        b"5 ",
        b"5\n",
        b"1.5",
        b"1e3",
        b"0x10",
        b"++1",
        b"+",
        b"\xff",
        b"5\0",
        b"18446744073709551616", // u64::MAX + 1
        b"99999999999999999999999999",
    ] {
        expect_refused(&b, "bad", stored, 1);
    }

    // A sum beyond u64::MAX is refused and leaves the value; u64::MAX itself is reachable.
    expect_refused(&b, "max", u64::MAX.to_string().as_bytes(), 1);
    expect_refused(&b, "max", u64::MAX.to_string().as_bytes(), u64::MAX);
    expect_refused(&b, "one", b"1", u64::MAX);
    set(&b, "near", (u64::MAX - 3).to_string());
    assert_eq!(inc(&b, "near", 3), u64::MAX, "u64::MAX - 3 + 3");
    assert_value(
        &b,
        "near",
        Some(b"18446744073709551615"),
        "u64::MAX stored as decimal text",
    );
    assert_eq!(inc(&b, "near", 0), u64::MAX, "u64::MAX + 0");
    expect_other(
        atomics::increment(&b, "near", 1),
        "",
        "increment of a counter that reached u64::MAX",
    );
    assert_value(
        &b,
        "near",
        Some(b"18446744073709551615"),
        "after the refused overflow",
    );
    assert_eq!(
        inc(&b, "top", u64::MAX),
        u64::MAX,
        "a missing key incremented by u64::MAX"
    );
    assert_value(&b, "top", Some(b"18446744073709551615"), "u64::MAX stored");

    // Many increments add up exactly; a deleted counter starts again from zero.
    for i in 1..=100 {
        assert_eq!(inc(&b, "loop", 1), i, "increment number {i}");
    }
    assert_value(&b, "loop", Some(b"100"), "after 100 increments");
    delete(&b, "loop");
    assert_eq!(
        inc(&b, "loop", 3),
        3,
        "increment after a delete starts from zero"
    );

    // "-0" is where reading the text as a signed number and then checking its range differs
    // from a u64 parser, which refuses any sign but "+" (and so does wasmtime's host).
    expect_refused(&b, "minus-zero", b"-0", 1);
    expect_refused(&b, "minus-zero", b"-00", 1);
}
