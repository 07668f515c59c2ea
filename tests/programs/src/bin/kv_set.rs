//! Utility: `kv_set KEY VALUE [BUCKET]` sets KEY to VALUE (its UTF-8 bytes).

use test_programs::*;

fn main() {
    let args = args(2, 3, "kv_set KEY VALUE [BUCKET]");
    let bucket = Bucket::<Draft3>::open(args.get(2).map_or("", String::as_str));
    bucket.set(&args[0], &args[1]);
}
