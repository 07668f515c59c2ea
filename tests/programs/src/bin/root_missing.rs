//! Run with VIRT_STORE_DIR=/nonexistent/store: opening any bucket is an error::other that
//! names the path and the fix, never a trap.

use test_programs::*;

fn root_missing<V: Version>() {
    let dir = std::env::var("VIRT_STORE_DIR").unwrap_or_default();
    assert_eq!(
        dir, "/nonexistent/store",
        "this program must run with VIRT_STORE_DIR=/nonexistent/store"
    );

    for id in ["", "named"] {
        let what = format!("open({id:?}) with a missing store root");
        let msg = expect_other(Bucket::<V>::try_open(id), "/nonexistent/store", &what);
        assert!(
            msg.contains("--dir"),
            "{what}: the message must suggest `--dir`, got {msg:?}"
        );
        assert!(
            msg.contains("VIRT_STORE_DIR"),
            "{what}: the message must mention VIRT_STORE_DIR, got {msg:?}"
        );
    }
    // Failing does not create anything or change the answer.
    expect_other(
        Bucket::<V>::try_open(""),
        "/nonexistent/store",
        "second open(\"\") with a missing store root",
    );
    // A bad identifier still gets a clear error (either about the identifier or about the root).
    assert!(
        Bucket::<V>::try_open("Bad").is_err(),
        "open(\"Bad\") with a missing store root must fail"
    );
}

fn main() {
    match version_arg() {
        VersionArg::Draft3 => root_missing::<Draft3>(),
        VersionArg::Draft2 => root_missing::<Draft2>(),
        VersionArg::Draft => root_missing::<Draft>(),
    }
}
