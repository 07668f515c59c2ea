//! Utility: `kv_get KEY [BUCKET]` prints the value (UTF-8, lossy) or `<none>`, then a newline.

use test_programs::draft3::*;

fn main() {
    let args = args(1, 2, "kv_get KEY [BUCKET]");
    let bucket = open(args.get(1).map_or("", String::as_str));
    match get(&bucket, &args[0]) {
        Some(value) => println!("{}", String::from_utf8_lossy(&value)),
        None => println!("<none>"),
    }
}
