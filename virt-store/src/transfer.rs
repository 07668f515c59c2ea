//! `export` and `import`: a store as JSON lines, one key per line.
//!
//! ```text
//! {"bucket":"","key":"greeting","value":"hello"}
//! {"bucket":"images","key":"logo","base64":"iVBORw0KGgo="}
//! ```
//!
//! `bucket` is the identifier the app passes to `open` (`""` is the default bucket). A value that
//! is valid UTF-8 is written as `value`, any other as `base64` (standard alphabet, padded). Export
//! is deterministic: buckets sorted, keys sorted by their bytes. Import reads the same lines (any
//! field order, blank lines allowed), checks all of them against the engine's limits before it
//! writes anything, then writes each bucket with `set-many` calls.

use engine::limits::{MAX_BATCH_KEYS, MAX_KEY_BYTES, MAX_VALUE_BYTES};
use engine::Store;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use thiserror::Error;

/// An error exporting or importing a store.
#[derive(Debug, Error)]
pub enum TransferError {
    /// The store failed.
    #[error(transparent)]
    Engine(#[from] engine::Error),
    /// A bucket asked for by name is not in the store.
    #[error("there is no bucket `{id}` in the store; `virt-store inspect` lists the buckets")]
    NoSuchBucket {
        /// The identifier asked for.
        id: String,
    },
    /// Reading the input or writing the output failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// A line of the input is not a valid entry; nothing was imported.
    #[error("line {line}: {reason}; nothing was imported")]
    Line {
        /// The line number, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// Keys whose values an export holds in memory at once.
const EXPORT_CHUNK: usize = 64;

/// What an export or import covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Buckets exported or imported.
    pub buckets: usize,
    /// Keys exported or imported.
    pub keys: usize,
}

/// Writes every key of `buckets` (all of the store's when `None`) to `out` as JSON lines.
///
/// A key deleted between listing and reading is left out.
pub fn export(
    store: &Store,
    buckets: Option<&[String]>,
    out: &mut impl Write,
) -> Result<Summary, TransferError> {
    let present = store.buckets()?;
    let ids = match buckets {
        Some(ids) => {
            let mut ids = ids.to_vec();
            ids.sort();
            ids.dedup();
            // Checked before any output; opening a missing bucket would create it.
            if let Some(missing) = ids.iter().find(|id| !present.contains(id)) {
                return Err(TransferError::NoSuchBucket {
                    id: missing.clone(),
                });
            }
            ids
        }
        None => present,
    };
    let mut summary = Summary::default();
    for id in ids {
        let bucket = store.bucket(&id)?;
        let keys = all_keys(&bucket)?;
        // Values may be 32 MiB each: read a few at a time, not a whole batch's worth.
        for chunk in keys.chunks(EXPORT_CHUNK) {
            for (key, value) in chunk.iter().zip(bucket.get_many(chunk)?) {
                let Some(value) = value else { continue };
                let mut line = String::with_capacity(key.len() + value.len() + 32);
                line.push_str("{\"bucket\":");
                quote(&id, &mut line);
                line.push_str(",\"key\":");
                quote(key, &mut line);
                match std::str::from_utf8(&value) {
                    Ok(text) => {
                        line.push_str(",\"value\":");
                        quote(text, &mut line);
                    }
                    Err(_) => {
                        line.push_str(",\"base64\":\"");
                        line.push_str(&base64_encode(&value));
                        line.push('"');
                    }
                }
                line.push_str("}\n");
                out.write_all(line.as_bytes())?;
                summary.keys += 1;
            }
        }
        summary.buckets += 1;
    }
    Ok(summary)
}

/// Every key of `bucket`, sorted by bytes, read page by page.
pub fn all_keys(bucket: &engine::Bucket) -> Result<Vec<String>, engine::Error> {
    let mut keys = Vec::new();
    let mut cursor = None;
    loop {
        let page = bucket.list_keys(cursor.as_deref())?;
        keys.extend(page.keys);
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    keys.sort();
    Ok(keys)
}

/// Reads JSON lines as [`export`] writes them and sets every key in `store`.
///
/// The whole input is read and checked first: a bad line is an error naming it, and then nothing
/// is written. A key that appears twice takes its last value.
pub fn import(store: &Store, input: &mut impl BufRead) -> Result<Summary, TransferError> {
    let mut buckets: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
    let mut line = String::new();
    let mut number = 0;
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            break;
        }
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        let (bucket, key, value) = entry(&line).map_err(|reason| TransferError::Line {
            line: number,
            reason,
        })?;
        buckets.entry(bucket).or_default().insert(key, value);
    }
    let mut summary = Summary::default();
    for (id, entries) in buckets {
        let bucket = store.bucket(&id)?;
        let entries: Vec<(String, Vec<u8>)> = entries.into_iter().collect();
        for chunk in entries.chunks(MAX_BATCH_KEYS) {
            bucket.set_many(chunk)?;
        }
        summary.buckets += 1;
        summary.keys += entries.len();
    }
    Ok(summary)
}

/// Parses and checks one line: `(bucket, key, value)`.
fn entry(line: &str) -> Result<(String, String, Vec<u8>), String> {
    let mut parser = Parser { rest: line.trim() };
    let fields = parser.object()?;
    let mut bucket = None;
    let mut key = None;
    let mut value = None;
    for (name, text) in fields {
        let slot = match name.as_str() {
            "bucket" => &mut bucket,
            "key" => &mut key,
            "value" | "base64" => &mut value,
            other => {
                return Err(format!(
                    "unknown field `{other}` (expected bucket, key, and value or base64)"
                ))
            }
        };
        if slot.is_some() {
            return Err(format!("`{name}` given twice (or both value and base64)"));
        }
        *slot = Some(if name == "base64" {
            base64_decode(&text).ok_or("`base64` is not valid standard base64")?
        } else {
            text.into_bytes()
        });
    }
    let text = |field: Option<Vec<u8>>, name: &str| {
        field
            .map(|b| String::from_utf8(b).unwrap_or_default())
            .ok_or(format!("`{name}` is missing"))
    };
    let bucket = text(bucket, "bucket")?;
    let key = text(key, "key")?;
    let value = value.ok_or("`value` or `base64` is missing")?;
    engine::validate_bucket_id(&bucket).map_err(|e| e.to_string())?;
    if key.len() > MAX_KEY_BYTES {
        return Err(format!(
            "the key is {} bytes; the limit is {MAX_KEY_BYTES}",
            key.len()
        ));
    }
    if value.len() > MAX_VALUE_BYTES {
        return Err(format!(
            "the value is {} bytes; the limit is {MAX_VALUE_BYTES}",
            value.len()
        ));
    }
    Ok((bucket, key, value))
}

/// A parser for the flat objects of string fields that [`export`] writes.
struct Parser<'a> {
    rest: &'a str,
}

impl Parser<'_> {
    fn object(&mut self) -> Result<Vec<(String, String)>, String> {
        self.expect('{')?;
        let mut fields = Vec::new();
        if !self.eat('}') {
            loop {
                let name = self.string()?;
                self.expect(':')?;
                fields.push((name, self.string()?));
                if self.eat('}') {
                    break;
                }
                self.expect(',')?;
            }
        }
        if !self.rest.trim_start().is_empty() {
            return Err("unexpected text after the object".into());
        }
        Ok(fields)
    }

    fn eat(&mut self, c: char) -> bool {
        self.rest = self.rest.trim_start();
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!(
                "expected `{c}` (every line is one JSON object of strings)"
            ))
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect('"')?;
        let mut out = String::new();
        let mut chars = self.rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = &self.rest[i + 1..];
                    return Ok(out);
                }
                '\\' => {
                    let escaped = match chars.next().map(|(_, c)| c) {
                        Some('"') => '"',
                        Some('\\') => '\\',
                        Some('/') => '/',
                        Some('b') => '\u{8}',
                        Some('f') => '\u{c}',
                        Some('n') => '\n',
                        Some('r') => '\r',
                        Some('t') => '\t',
                        Some('u') => {
                            let high = hex4(&mut chars)?;
                            let code = if (0xd800..0xdc00).contains(&high) {
                                let low = match (chars.next(), chars.next()) {
                                    (Some((_, '\\')), Some((_, 'u'))) => hex4(&mut chars)?,
                                    _ => return Err("a lone surrogate in a \\u escape".into()),
                                };
                                if !(0xdc00..0xe000).contains(&low) {
                                    return Err("a lone surrogate in a \\u escape".into());
                                }
                                0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00)
                            } else {
                                high
                            };
                            char::from_u32(code).ok_or("a lone surrogate in a \\u escape")?
                        }
                        _ => return Err("an invalid escape in a string".into()),
                    };
                    out.push(escaped);
                }
                c if c < ' ' => {
                    return Err("a control character in a string must be escaped".into())
                }
                c => out.push(c),
            }
        }
        Err("a string is not closed".into())
    }
}

fn hex4(chars: &mut std::str::CharIndices<'_>) -> Result<u32, String> {
    let mut code = 0;
    for _ in 0..4 {
        let digit = chars
            .next()
            .and_then(|(_, c)| c.to_digit(16))
            .ok_or("a \\u escape needs 4 hex digits")?;
        code = code * 16 + digit;
    }
    Ok(code)
}

/// Appends `text` as a JSON string: `"`, `\` and control characters escaped, the rest as is.
fn quote(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (index, chunk) in bytes.chunks(4).enumerate() {
        let last = index + 1 == bytes.len() / 4;
        let padding = chunk.iter().rev().take_while(|&&b| b == b'=').count();
        if padding > 2 || (padding > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for (i, &b) in chunk[..4 - padding].iter().enumerate() {
            let digit = BASE64.iter().position(|&c| c == b)? as u32;
            n |= digit << (18 - 6 * i);
        }
        let produced = 3 - padding;
        // Bits beyond the last byte must be zero, so that every value has one encoding.
        if n & ((1 << (8 * (3 - produced))) - 1) != 0 {
            return None;
        }
        out.extend(&n.to_be_bytes()[1..1 + produced]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let options = engine::Options {
            durability: engine::Durability::NoSync,
        };
        let store = Store::open(dir.path(), options).unwrap();
        (dir, store)
    }

    #[test]
    fn exporting_a_missing_bucket_is_refused_and_creates_nothing() {
        let (_dir, store) = store();
        store.bucket("here").unwrap().set("k", b"v").unwrap();
        let mut out = Vec::new();
        let err = export(
            &store,
            Some(&["here".to_owned(), "typo".to_owned()]),
            &mut out,
        )
        .unwrap_err();
        assert!(
            matches!(err, TransferError::NoSuchBucket { ref id } if id == "typo"),
            "{err}"
        );
        assert!(out.is_empty(), "nothing is written before the check");
        assert_eq!(store.buckets().unwrap(), ["here"]);
    }

    #[test]
    fn base64_matches_rfc_4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), encoded);
            assert_eq!(base64_decode(encoded).unwrap(), plain.as_bytes());
        }
        for bad in ["Zg=", "Zg=a", "Z===", "Zh==", "Zm9v=", "Zm 9", "Zg==Zg=="] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn bad_lines_are_refused_by_number_and_nothing_is_written() {
        let (_dir, store) = store();
        let good = r#"{"bucket":"","key":"a","value":"1"}"#;
        for (bad, reason) in [
            (
                r#"{"bucket":"","key":"k"}"#,
                "`value` or `base64` is missing",
            ),
            (
                r#"{"bucket":"","key":"k","value":"v","base64":"AA=="}"#,
                "given twice",
            ),
            (
                r#"{"bucket":"","key":"k","value":"v","extra":"x"}"#,
                "unknown field `extra`",
            ),
            (
                r#"{"bucket":"","key":"k","base64":"A"}"#,
                "not valid standard base64",
            ),
            (r#"{"bucket":"Bad","key":"k","value":"v"}"#, "Bad"),
            (
                r#"{"bucket":"","key":"\ud800","value":"v"}"#,
                "lone surrogate",
            ),
            (
                r#"{"bucket":"","key":"k","value":"v"} trailing"#,
                "after the object",
            ),
            (r#"{"bucket":"","key":"k","value":"v"#, "not closed"),
            (r#"["bucket"]"#, "expected `{`"),
        ] {
            let input = format!("{good}\n\n{bad}\n");
            let err = import(&store, &mut input.as_bytes()).unwrap_err();
            let message = err.to_string();
            assert!(message.starts_with("line 3: "), "{message}");
            assert!(message.contains(reason), "{bad}: {message}");
        }
        assert!(store.buckets().unwrap().is_empty(), "nothing was written");
    }

    #[test]
    fn reads_escapes_and_any_field_order() {
        let (_dir, store) = store();
        let input =
            r#" { "value" : "tab\there \u00e9 \ud83d\ude00 \/" , "key":"k\n", "bucket":"b-1" } "#;
        assert_eq!(
            import(&store, &mut input.as_bytes()).unwrap(),
            Summary {
                buckets: 1,
                keys: 1
            }
        );
        let value = store.bucket("b-1").unwrap().get("k\n").unwrap().unwrap();
        assert_eq!(String::from_utf8(value).unwrap(), "tab\there é 😀 /");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn export_import_export_is_identical(
            entries in proptest::collection::vec(
                (
                    prop::sample::select(vec!["", "a", "other-1"]),
                    ".{0,12}",
                    proptest::collection::vec(any::<u8>(), 0..40),
                ),
                0..20,
            )
        ) {
            let (_a, first) = store();
            for (bucket, key, value) in &entries {
                first.bucket(bucket).unwrap().set(key, value).unwrap();
            }
            let mut exported = Vec::new();
            export(&first, None, &mut exported).unwrap();
            let (_b, second) = store();
            import(&second, &mut exported.as_slice()).unwrap();
            let mut again = Vec::new();
            export(&second, None, &mut again).unwrap();
            prop_assert_eq!(&exported, &again);
            let mut expected = BTreeMap::new();
            for (bucket, key, value) in entries {
                expected.insert((bucket.to_owned(), key), value);
            }
            for ((bucket, key), value) in expected {
                let stored = second.bucket(&bucket).unwrap().get(&key).unwrap();
                prop_assert_eq!(stored, Some(value));
            }
        }
    }
}
