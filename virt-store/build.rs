//! Builds the provider components for `wasm32-wasip2`, to be embedded in `virt-store` with
//! `include_bytes!` (see `PROVIDER` and `PROVIDER_VALKEY` in `src/lib.rs`); no built `.wasm` is
//! committed.

use std::path::PathBuf;

fn main() {
    guest_build::main(|| {
        let mut workspace = guest_build::Workspace::from_build_script("..")?;
        let artifacts = workspace.build(&["provider", "provider-valkey"])?;
        let out_dir =
            PathBuf::from(std::env::var_os("OUT_DIR").ok_or("cargo did not set `OUT_DIR`")?);
        for name in ["provider", "provider_valkey"] {
            let built = workspace.artifact(&artifacts, name)?;
            let out = out_dir.join(format!("{name}.wasm"));
            std::fs::copy(&built, &out).map_err(|e| {
                format!(
                    "cannot copy `{}` to `{}`: {e}",
                    built.display(),
                    out.display()
                )
            })?;
        }
        for package in ["provider", "provider-valkey"] {
            workspace.rerun_if_changed(&workspace.root().join(package).join("Cargo.toml"));
        }
        Ok(())
    })
}
