//! Utility: `kv_set KEY VALUE [BUCKET]` sets KEY to VALUE (its UTF-8 bytes).

use test_programs::draft3::*;

fn main() {
    let args = args(2, 3, "kv_set KEY VALUE [BUCKET]");
    let bucket = open(args.get(2).map_or("", String::as_str));
    set(&bucket, &args[0], &args[1]);
}
