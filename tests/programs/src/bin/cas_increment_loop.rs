//! Utility: `cas_increment_loop KEY COUNT [BUCKET]` adds 1 to KEY, COUNT times, with
//! new-with-read + swap, retrying each step with the handle and value cas-failed returns.

use test_programs::*;

fn main() {
    let args = args(2, 3, "cas_increment_loop KEY COUNT [BUCKET]");
    let key = &args[0];
    let count: u64 = args[1]
        .parse()
        .expect("COUNT must be a non-negative integer");
    let bucket = Bucket::<Draft3>::open(args.get(2).map_or("", String::as_str));
    for i in 0..count {
        let (mut cas, mut value) = match bucket.try_cas_with_read(key) {
            Ok(pair) => pair,
            Err(e) => panic!("cas.new-with-read number {i} of {key:?} failed: {e:?}"),
        };
        loop {
            let next = value.as_deref().map_or(0, parse_counter) + 1;
            match Draft3::swap(cas, next.to_string().as_bytes()) {
                Ok(()) => break,
                Err(SwapError::CasFailed(fresh, current)) => {
                    cas = fresh;
                    value = current;
                }
                Err(SwapError::Store(e)) => panic!("swap number {i} of {key:?} failed: {e:?}"),
            }
        }
    }
}
