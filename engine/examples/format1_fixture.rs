//! Writes the format-1 store fixture `engine/tests/fixtures/format1/` (issue 15): a store as the
//! format-1 engine leaves it, which `tests/format1.rs` opens with later engines.
//!
//! `cargo run -p virt-store-engine --example format1_fixture -- DIR` (DIR must not exist).
//! Only meaningful at a commit whose engine writes format 1; the fixture's README names it.

use virt_store_engine::{Durability, Options, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("usage: format1_fixture DIR")?;
    std::fs::create_dir(&dir)?;
    let store = Store::open(
        &dir,
        Options {
            durability: Durability::Sync,
        },
    )?;
    let default = store.bucket("")?;
    default.set("", b"the empty key")?;
    default.set("empty", b"")?;
    default.set("hundred", &[b'h'; 100])?;
    let big: Vec<u8> = (0..100 * 1024u32).map(|i| (i % 251) as u8).collect();
    default.set("big", &big)?;
    default.set("gone", b"soon deleted")?;
    default.delete("gone")?;
    for _ in 0..3 {
        default.increment("counter", 7)?;
    }
    default.set("overwritten", b"first")?;
    default.set("overwritten", b"second")?;
    let notes = store.bucket("notes")?;
    for key in ["..", "a/b", "\0", "\u{e9}", "e\u{301}", "CON", "tmp"] {
        notes.set(key, format!("value of {key:?}").as_bytes())?;
    }
    notes.set(&"x".repeat(300), b"a 300-byte key")?;
    store.bucket("z-9")?.set("k", b"v")?;
    Ok(())
}
