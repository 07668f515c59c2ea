//! get / set / overwrite / delete / exists on single keys, missing keys and empty values; then
//! a second handle and a reopened bucket, which wasmtime's in-memory host cannot give (each of
//! its `open("")` starts from its own copy of the data), so they come last.

use test_programs::*;

fn store_basic<V: Version>() {
    let bucket = Bucket::<V>::open_default();

    // A fresh store holds nothing, and removing nothing is fine.
    bucket.assert_value("a", None, "fresh store");
    bucket.delete("a");
    bucket.assert_value("a", None, "after deleting a missing key");

    // Set, then overwrite with a longer and then a shorter value: no stale tail may survive.
    bucket.set("a", b"1");
    bucket.assert_value("a", Some(b"1"), "after set a=1");
    bucket.set("a", b"a much longer second value");
    bucket.assert_value(
        "a",
        Some(b"a much longer second value"),
        "after overwrite with a longer value",
    );
    bucket.set("a", b"s");
    bucket.assert_value("a", Some(b"s"), "after overwrite with a shorter value");

    // Keys are independent.
    bucket.set("b", b"bee");
    bucket.delete("a");
    bucket.assert_value("a", None, "after delete a");
    bucket.assert_value("b", Some(b"bee"), "b after deleting a");
    bucket.delete("a");
    bucket.assert_value("a", None, "after deleting a twice");

    // A deleted key can be set again.
    bucket.set("a", b"again");
    bucket.assert_value("a", Some(b"again"), "after re-setting a deleted key");

    // An empty value is a value, not an absent key.
    bucket.set("empty", b"");
    assert_eq!(
        bucket.get("empty"),
        Some(Vec::new()),
        "an empty value must read back as Some([]), not None"
    );
    assert!(
        bucket.exists("empty"),
        "a key holding an empty value must exist"
    );
    assert!(
        bucket.list_set().contains("empty"),
        "a key holding an empty value must be listed"
    );
    bucket.set("empty", b"now full");
    bucket.set("empty", b"");
    bucket.assert_value(
        "empty",
        Some(b""),
        "after overwriting a value with an empty one",
    );
    bucket.delete("empty");
    bucket.assert_value("empty", None, "after deleting an empty value");

    // Values are bytes: every byte value, and non-UTF-8, round-trips exactly.
    let all_bytes: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    bucket.set("bytes", &all_bytes);
    bucket.assert_value("bytes", Some(&all_bytes), "value of all 256 byte values");
    bucket.assert_keys(["a", "b", "bytes"], "listing of the single keys");

    // A second handle to the same bucket reads this instance's writes, in both directions.
    let other = Bucket::<V>::open_default();
    other.assert_value(
        "b",
        Some(b"bee"),
        "second handle reads first handle's write",
    );
    other.set("c", b"sea");
    bucket.assert_value(
        "c",
        Some(b"sea"),
        "first handle reads second handle's write",
    );
    other.delete("b");
    bucket.assert_value("b", None, "first handle sees second handle's delete");
    drop(other);

    // Dropping and reopening the bucket keeps the data.
    drop(bucket);
    let bucket = Bucket::<V>::open_default();
    bucket.assert_value("a", Some(b"again"), "after reopening the default bucket");
    bucket.assert_keys(["a", "bytes", "c"], "final listing");
}

fn main() {
    match version_arg() {
        VersionArg::Draft3 => store_basic::<Draft3>(),
        VersionArg::Draft2 => store_basic::<Draft2>(),
        VersionArg::Draft => store_basic::<Draft>(),
    }
}
