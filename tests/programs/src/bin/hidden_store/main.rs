//! The store's directory is hidden from the app it is plugged into: run as
//! `hidden_store hidden /data [MORE...] visible /pub [MORE...]`, it tries to list, read, write and
//! delete under every hidden path through `std::fs` and must fail, does all four in every visible
//! directory, then counts its runs in wasi:keyvalue (its own data, which it can still reach).

#[path = "probe.rs"]
mod probe;

use test_programs::*;

fn main() {
    let (hidden, visible) =
        probe::parse(std::env::args().skip(1)).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !hidden.is_empty(),
        "usage: hidden_store hidden DIR... [visible DIR...]"
    );
    match probe::probe(&hidden, &visible) {
        Ok(report) => print!("{report}"),
        Err(e) => panic!("{e}"),
    }
    let bucket = Bucket::<Draft3>::open_default();
    let runs = bucket.increment("probe-runs", 1);
    let mine = bucket
        .get("probe-runs")
        .map(|v| String::from_utf8_lossy(&v).into_owned());
    assert_eq!(
        mine,
        Some(runs.to_string()),
        "the store must read back what this app wrote"
    );
    println!("probe-runs: {runs}");
}
