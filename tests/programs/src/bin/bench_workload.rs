//! Utility for `bench/`: `bench_workload N SIZE` runs N of each `wasi:keyvalue@0.2.0-draft3`
//! operation with SIZE-byte values, timing each, and prints `OP COUNT MEDIAN_NS P99_NS TOTAL_NS`.

use test_programs::bench::{workload_args, Samples};
use test_programs::*;

const BATCH: usize = 100;

fn main() {
    let (n, size) = workload_args("bench_workload N SIZE");
    let value = vec![b'v'; size];
    let keys: Vec<String> = (0..n).map(|i| format!("bench:{i}")).collect();

    let mut open = Samples::new("open");
    let bucket = open.time(|| store::open("").expect("open"));
    open.report();

    let mut s = Samples::new("set");
    for key in &keys {
        s.time(|| bucket.set(key, &value).expect("set"));
    }
    s.report();
    let mut s = Samples::new("get");
    for key in &keys {
        s.time(|| bucket.get(key).expect("get"));
    }
    s.report();
    let mut s = Samples::new("exists");
    for key in &keys {
        s.time(|| bucket.exists(key).expect("exists"));
    }
    s.report();
    let mut s = Samples::new("increment");
    for _ in 0..n {
        s.time(|| atomics::increment(&bucket, "bench:counter", 1).expect("increment"));
    }
    s.report();
    let mut s = Samples::new("cas");
    for _ in 0..n {
        s.time(|| {
            let cas = Cas::new(&bucket, "bench:cas").expect("cas new");
            atomics::swap(cas, &value).map_err(|_| ()).expect("uncontended swap")
        });
    }
    s.report();
    let mut s = Samples::new("list");
    let listed = s.time(|| {
        let (mut count, mut cursor) = (0, None::<String>);
        loop {
            let page = bucket.list_keys(cursor.as_deref()).expect("list-keys");
            count += page.keys.len();
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => break count,
            }
        }
    });
    s.report();
    println!("listed {listed}");
    let mut s = Samples::new("set-many-100");
    for chunk in keys.chunks(BATCH) {
        let entries: Vec<(String, Vec<u8>)> = chunk.iter().map(|k| (format!("{k}:b"), value.clone())).collect();
        s.time(|| batch::set_many(&bucket, &entries).expect("set-many"));
    }
    s.report();
    let mut s = Samples::new("get-many-100");
    for chunk in keys.chunks(BATCH) {
        s.time(|| batch::get_many(&bucket, chunk).expect("get-many"));
    }
    s.report();
    let mut s = Samples::new("delete");
    for key in &keys {
        s.time(|| bucket.delete(key).expect("delete"));
    }
    s.report();
}
