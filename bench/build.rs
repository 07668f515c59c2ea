//! Builds the guest workload (`bench/workload`, both of its versions) and the counter example for
//! `wasm32-wasip2`, for `bench` to embed with `include_bytes!`.

use std::path::PathBuf;

/// `(package, artifact)`: the workload's two builds, and the example app whose composed size the
/// report gives.
const GUESTS: &[(&str, &str)] = &[
    ("bench-workload", "workload_draft"),
    ("bench-workload", "workload_draft3"),
    ("counter", "counter"),
];

fn main() {
    guest_build::main(|| {
        let mut workspace = guest_build::Workspace::from_build_script("..")?;
        let artifacts = workspace.build(&["bench-workload", "counter"])?;
        let out_dir =
            PathBuf::from(std::env::var_os("OUT_DIR").ok_or("cargo did not set `OUT_DIR`")?);
        for (package, name) in GUESTS {
            let wasm = workspace.artifact(&artifacts, name)?;
            let manifest = match *package {
                "bench-workload" => "bench/workload/Cargo.toml",
                _ => "examples/counter/Cargo.toml",
            };
            let manifest = workspace.root().join(manifest);
            workspace.rerun_if_changed(&manifest);
            let out = out_dir.join(format!("{name}.wasm"));
            std::fs::copy(&wasm, &out).map_err(|e| {
                format!(
                    "cannot copy `{}` to `{}`: {e}",
                    wasm.display(),
                    out.display()
                )
            })?;
        }
        // A new binary is a new file, which no dep-info lists yet.
        let sources = workspace.root().join("bench/workload/src");
        workspace.rerun_if_changed(&sources);
        Ok(())
    })
}
