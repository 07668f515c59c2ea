//! Utility: `kv_get KEY [BUCKET]` prints the value (UTF-8, lossy) or `<none>`, then a newline.

use test_programs::*;

fn main() {
    let args = args(1, 2, "kv_get KEY [BUCKET]");
    let bucket = Bucket::<Draft3>::open(args.get(1).map_or("", String::as_str));
    match bucket.get(&args[0]) {
        Some(value) => println!("{}", String::from_utf8_lossy(&value)),
        None => println!("<none>"),
    }
}
