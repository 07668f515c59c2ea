//! What a plugged app can do with files, through `std::fs`: shared by `hidden_store` (a command)
//! and `hidden_store_http` (an HTTP handler for `wasmtime serve`).

use std::fs;

/// The store's marker file, present in every store directory.
const MARKER: &str = "virt-store-format";

/// Checks that under each path of `hidden` the app can neither list, read, write nor delete,
/// and that in each directory of `visible` it can do all four. Returns one line per path, or the
/// first thing that should have failed and did not (or should have worked and did not).
pub fn probe(hidden: &[String], visible: &[String]) -> Result<String, String> {
    let mut report = String::new();
    for dir in hidden {
        let attempts = [
            (
                "list",
                fs::read_dir(dir)
                    .map(|entries| entries.count())
                    .map(|n| format!("{n} entries")),
            ),
            (
                "read",
                fs::read(format!("{dir}/{MARKER}")).map(|bytes| format!("{} bytes", bytes.len())),
            ),
            (
                "write",
                fs::write(format!("{dir}/intruder"), b"written by the app")
                    .map(|()| "written".into()),
            ),
            (
                "delete",
                fs::remove_file(format!("{dir}/{MARKER}")).map(|()| "deleted".into()),
            ),
            (
                "delete a directory",
                fs::remove_dir_all(format!("{dir}/buckets")).map(|()| "deleted".into()),
            ),
        ];
        let mut denied = Vec::new();
        for (what, attempt) in attempts {
            match attempt {
                Ok(done) => return Err(format!("{what} under hidden `{dir}` succeeded: {done}")),
                Err(e) => denied.push(format!("{what}: {:?}", e.kind())),
            }
        }
        report.push_str(&format!("hidden {dir}: {}\n", denied.join(", ")));
    }
    for dir in visible {
        let file = format!("{dir}/probe.txt");
        let failed =
            |what: &str, e: std::io::Error| format!("{what} in visible `{dir}` failed: {e}");
        fs::write(&file, b"probe").map_err(|e| failed("write", e))?;
        let read = fs::read(&file).map_err(|e| failed("read", e))?;
        if read != b"probe" {
            return Err(format!("`{file}` read back as {read:?}"));
        }
        let names: Vec<String> = fs::read_dir(dir)
            .map_err(|e| failed("list", e))?
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .collect();
        if !names.iter().any(|name| name == "probe.txt") {
            return Err(format!(
                "listing `{dir}` did not show `probe.txt`: {names:?}"
            ));
        }
        fs::remove_file(&file).map_err(|e| failed("delete", e))?;
        report.push_str(&format!("visible {dir}: list, read, write, delete ok\n"));
    }
    Ok(report)
}

/// Splits `hidden A B visible C` into the hidden and the visible paths.
pub fn parse(
    words: impl IntoIterator<Item = String>,
) -> Result<(Vec<String>, Vec<String>), String> {
    let (mut hidden, mut visible) = (Vec::new(), Vec::new());
    let mut into = None;
    for word in words {
        match word.as_str() {
            "hidden" => into = Some(true),
            "visible" => into = Some(false),
            _ => match into {
                Some(true) => hidden.push(word),
                Some(false) => visible.push(word),
                None => {
                    return Err(format!(
                        "`{word}`: say `hidden` or `visible` before the paths"
                    ))
                }
            },
        }
    }
    Ok((hidden, visible))
}
