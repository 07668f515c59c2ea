//! Utility: `increment_loop KEY COUNT [BUCKET]` increments KEY by 1, COUNT times.

use test_programs::*;

fn main() {
    let args = args(2, 3, "increment_loop KEY COUNT [BUCKET]");
    let key = &args[0];
    let count: u64 = args[1]
        .parse()
        .expect("COUNT must be a non-negative integer");
    let bucket = Bucket::<Draft3>::open(args.get(2).map_or("", String::as_str));
    for i in 0..count {
        if let Err(e) = bucket.try_increment(key, 1) {
            panic!("increment number {i} of {key:?} failed: {e:?}");
        }
    }
}
