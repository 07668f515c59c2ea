//! `docs/FORMAT.md` and the code state the same constants.

use virt_store_engine::limits::*;

#[test]
fn format_document_states_the_constants_of_the_code() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/FORMAT.md"))
        .expect("read docs/FORMAT.md");
    let facts = [
        format!("| key length | {MAX_KEY_BYTES} bytes (`MAX_KEY_BYTES`) |"),
        format!("| value size | {MAX_VALUE_BYTES} bytes, 32 MiB (`MAX_VALUE_BYTES`) |"),
        format!("| keys per batch call | {MAX_BATCH_KEYS} (`MAX_BATCH_KEYS`) |"),
        format!("| keys per `list-keys` page | {MAX_PAGE_KEYS} (`MAX_PAGE_KEYS`) |"),
        format!(
            "| key bytes per `list-keys` page | {MAX_PAGE_BYTES}, about 1 MiB (`MAX_PAGE_BYTES`) |"
        ),
        format!(
            "| key directories examined per `list-keys` call | {MAX_PAGE_SCAN} (`MAX_PAGE_SCAN`) |"
        ),
        format!("  {}  ", virt_store_engine::FORMAT_FILE),
        format!(
            "marker: the {} bytes {:?}",
            virt_store_engine::FORMAT_MARKER.len(),
            virt_store_engine::FORMAT_MARKER
        ),
        format!("    {}/ ", virt_store_engine::DEFAULT_BUCKET_DIR),
        format!(
            "0       4     magic \"{}\"",
            std::str::from_utf8(&virt_store_engine::internals::MAGIC).unwrap()
        ),
        format!(
            "{}      K     key (UTF-8)",
            virt_store_engine::internals::HEADER_LEN
        ),
        format!(
            "older than {} minutes",
            virt_store_engine::SWEEP_AGE.as_secs() / 60
        ),
        format!(
            "by one set or increment in {}",
            virt_store_engine::SWEEP_ONE_IN
        ),
        format!("      {}/ ", virt_store_engine::LOST_AND_FOUND_DIR),
        format!("      {}/ ", virt_store_engine::internals::TMP_DIR),
        format!(
            "| value in a pointer's name | {} bytes (`MAX_INLINE_VALUE`) |",
            virt_store_engine::internals::MAX_INLINE_VALUE
        ),
        format!(
            "| key in a `k.` name | {} bytes (`MAX_INLINE_KEY`) |",
            virt_store_engine::internals::MAX_INLINE_KEY
        ),
        format!(
            "Format 1 (marker `{}`)",
            virt_store_engine::FORMAT1_MARKER.escape_debug()
        ),
    ];
    for fact in &facts {
        assert!(
            doc.contains(fact.as_str()),
            "docs/FORMAT.md does not say: {fact}"
        );
    }
    assert_eq!(virt_store_engine::FORMAT_MARKER.len(), 20);
}
