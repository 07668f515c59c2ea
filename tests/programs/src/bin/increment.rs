//! atomics.increment: creation, decimal text storage, refusals that leave the value unchanged,
//! overflow at the counter's type's ends (s64 in draft3 and draft2, u64 in draft), negatives
//! where they exist; last, counters in a named bucket, which wasmtime's in-memory host cannot
//! open.

use test_programs::*;

#[track_caller]
fn expect_refused<V: Version>(bucket: &Bucket<V>, key: &str, stored: &[u8], delta: i128) {
    bucket.set(key, stored);
    expect_other(
        bucket.try_increment(key, delta),
        "",
        &format!("increment({key:?}, {delta}) of value {}", show(stored)),
    );
    bucket.assert_value(
        key,
        Some(stored),
        &format!("value {} after a refused increment", show(stored)),
    );
}

fn increment<V: Version>() {
    let b = Bucket::<V>::open_default();
    let (min, max) = (V::COUNTER_MIN, V::COUNTER_MAX);
    let text = |n: i128| n.to_string().into_bytes();

    // A missing key starts from zero: it is created holding the delta, as decimal text.
    assert_eq!(
        b.increment("n", 5),
        5,
        "increment of a missing key returns the delta"
    );
    b.assert_value("n", Some(b"5"), "increment stores ASCII decimal text");
    assert_eq!(b.increment("n", 1), 6, "5 + 1");
    b.assert_value("n", Some(b"6"), "after 5 + 1");
    assert_eq!(b.increment("n", 0), 6, "6 + 0");
    b.assert_value("n", Some(b"6"), "after 6 + 0");
    assert_eq!(b.increment("zero", 0), 0, "increment of a missing key by 0");
    b.assert_value(
        "zero",
        Some(b"0"),
        "missing key incremented by 0 is created holding 0",
    );

    // Values written as text by set are counters too, as the version's integer parser reads
    // them: a plus sign and leading zeros. The result is stored canonically.
    b.set("t", b"41");
    assert_eq!(b.increment("t", 1), 42, "\"41\" + 1");
    b.assert_value("t", Some(b"42"), "after incrementing text \"41\"");
    b.set("plus", b"+5");
    assert_eq!(b.increment("plus", 1), 6, "\"+5\" + 1");
    b.assert_value("plus", Some(b"6"), "the result is stored canonically");
    b.set("zeros", b"007");
    assert_eq!(b.increment("zeros", 1), 8, "\"007\" + 1");
    b.assert_value("zeros", Some(b"8"), "the result is stored canonically");

    // Values that are not decimal text of the counter's type are refused and left as they were.
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
        b"++1",
        b"+",
        b"-",
        b"\xff",
        b"5\0",
        b"\xef\xbc\x95", // fullwidth digit five
        b"99999999999999999999999999",
        &text(max + 1),
        &text(min - 1),
    ] {
        expect_refused(&b, "bad", stored, 1);
    }

    // Overflow is refused and leaves the value unchanged; the extremes themselves are fine.
    expect_refused(&b, "max", &text(max), 1);
    expect_refused(&b, "max", &text(max), max);
    expect_refused(&b, "one", b"1", max);
    b.set("edge", text(max - 1));
    assert_eq!(b.increment("edge", 1), max, "the largest counter - 1, + 1");
    b.assert_value("edge", Some(&text(max)), "the largest counter stored");
    assert_eq!(b.increment("edge", 0), max, "the largest counter + 0");
    expect_other(
        b.try_increment("edge", 1),
        "",
        "increment of a counter that reached the largest",
    );
    b.assert_value("edge", Some(&text(max)), "after the refused overflow");
    assert_eq!(
        b.increment("top", max),
        max,
        "a missing key incremented by the largest delta"
    );
    b.assert_value("top", Some(&text(max)), "the largest counter stored");

    if min < 0 {
        // Negative deltas and negative values.
        assert_eq!(b.increment("n", -8), -2, "6 - 8");
        b.assert_value(
            "n",
            Some(b"-2"),
            "negative values are stored with a minus sign",
        );
        assert_eq!(
            b.increment("neg", -7),
            -7,
            "increment of a missing key by -7"
        );
        b.assert_value("neg", Some(b"-7"), "missing key incremented by -7");
        b.set("mzeros", b"-007");
        assert_eq!(b.increment("mzeros", 1), -6, "\"-007\" + 1");
        b.assert_value("mzeros", Some(b"-6"), "the result is stored canonically");
        b.set("mzero", b"-0");
        assert_eq!(b.increment("mzero", 3), 3, "\"-0\" + 3");

        // Overflow downwards, and the smallest counter.
        expect_refused(&b, "min", &text(min), -1);
        expect_refused(&b, "min", &text(min), min);
        expect_refused(&b, "mtwo", b"-2", min);
        assert_eq!(b.increment("edge", min), -1, "the largest + the smallest");
        assert_eq!(
            b.increment("low", min),
            min,
            "missing key incremented by the smallest delta"
        );
        b.assert_value("low", Some(&text(min)), "the smallest counter stored");
        assert_eq!(b.increment("low", max), -1, "the smallest + the largest");
    } else {
        // Counters are u64, not i64: values and deltas above i64::MAX are fine.
        let above_i64 = i64::MAX as i128 + 1;
        b.set("wide", text(above_i64));
        assert_eq!(
            b.increment("wide", 1),
            above_i64 + 1,
            "i64::MAX + 1, plus 1"
        );
        b.assert_value(
            "wide",
            Some(&text(above_i64 + 1)),
            "a counter above i64::MAX",
        );
        assert_eq!(
            b.increment("wide-delta", above_i64),
            above_i64,
            "a missing key incremented by 2^63"
        );

        // A u64 parser refuses any sign but "+", even on zero: "-0" is where reading the text as
        // a signed number and then checking its range would differ (wasmtime's host refuses it).
        for stored in [&b"-5"[..], b"-0", b"-00"] {
            expect_refused(&b, "minus", stored, 1);
        }
    }

    // Many increments in one instance add up exactly.
    for i in 1..=200 {
        assert_eq!(b.increment("loop", 1), i, "increment number {i}");
    }
    b.assert_value("loop", Some(b"200"), "after 200 increments");

    // A deleted counter starts again from zero.
    b.delete("n");
    assert_eq!(
        b.increment("n", 3),
        3,
        "increment after delete starts from zero"
    );

    // Increment works in named buckets and does not touch the default bucket's key.
    let named = Bucket::<V>::open("counters");
    assert_eq!(
        named.increment("n", 100),
        100,
        "increment of missing key in a named bucket"
    );
    b.assert_value(
        "n",
        Some(b"3"),
        "default bucket's counter after incrementing a named bucket's",
    );
}

fn main() {
    match version_arg() {
        VersionArg::Draft3 => increment::<Draft3>(),
        VersionArg::Draft2 => increment::<Draft2>(),
        VersionArg::Draft => increment::<Draft>(),
    }
}
