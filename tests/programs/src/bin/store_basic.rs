//! get / set / overwrite / delete / exists on single keys, missing keys and empty values.

use test_programs::draft3::*;

fn main() {
    let bucket = open_default();

    // A fresh store holds nothing, and removing nothing is fine.
    assert_value(&bucket, "a", None, "fresh store");
    delete(&bucket, "a");
    assert_value(&bucket, "a", None, "after deleting a missing key");

    // Set, then overwrite with a longer and then a shorter value: no stale tail may survive.
    set(&bucket, "a", b"1");
    assert_value(&bucket, "a", Some(b"1"), "after set a=1");
    set(&bucket, "a", b"a much longer second value");
    assert_value(
        &bucket,
        "a",
        Some(b"a much longer second value"),
        "after overwrite with a longer value",
    );
    set(&bucket, "a", b"s");
    assert_value(
        &bucket,
        "a",
        Some(b"s"),
        "after overwrite with a shorter value",
    );

    // Keys are independent.
    set(&bucket, "b", b"bee");
    delete(&bucket, "a");
    assert_value(&bucket, "a", None, "after delete a");
    assert_value(&bucket, "b", Some(b"bee"), "b after deleting a");
    delete(&bucket, "a");
    assert_value(&bucket, "a", None, "after deleting a twice");

    // A deleted key can be set again.
    set(&bucket, "a", b"again");
    assert_value(
        &bucket,
        "a",
        Some(b"again"),
        "after re-setting a deleted key",
    );

    // An empty value is a value, not an absent key.
    set(&bucket, "empty", b"");
    let got = get(&bucket, "empty");
    assert_eq!(
        got,
        Some(Vec::new()),
        "an empty value must read back as Some([]), not None"
    );
    assert!(
        exists(&bucket, "empty"),
        "a key holding an empty value must exist"
    );
    assert!(
        list_set(&bucket).contains("empty"),
        "a key holding an empty value must be listed"
    );
    set(&bucket, "empty", b"now full");
    set(&bucket, "empty", b"");
    assert_value(
        &bucket,
        "empty",
        Some(b""),
        "after overwriting a value with an empty one",
    );
    delete(&bucket, "empty");
    assert_value(&bucket, "empty", None, "after deleting an empty value");

    // Values are bytes: every byte value, and non-UTF-8, round-trips exactly.
    let all_bytes: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    set(&bucket, "bytes", &all_bytes);
    assert_value(
        &bucket,
        "bytes",
        Some(&all_bytes),
        "value of all 256 byte values",
    );

    // A second handle to the same bucket reads this instance's writes, in both directions.
    let other = open_default();
    assert_value(
        &other,
        "b",
        Some(b"bee"),
        "second handle reads first handle's write",
    );
    set(&other, "c", b"sea");
    assert_value(
        &bucket,
        "c",
        Some(b"sea"),
        "first handle reads second handle's write",
    );
    delete(&other, "b");
    assert_value(
        &bucket,
        "b",
        None,
        "first handle sees second handle's delete",
    );
    drop(other);

    // Dropping and reopening the bucket keeps the data.
    drop(bucket);
    let bucket = open_default();
    assert_value(
        &bucket,
        "a",
        Some(b"again"),
        "after reopening the default bucket",
    );
    assert_keys(&bucket, ["a", "bytes", "c"], "final listing");
}
