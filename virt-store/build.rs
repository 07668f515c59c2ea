//! Builds the provider component for `wasm32-wasip2`, to be embedded in `virt-store` with
//! `include_bytes!` (see `PROVIDER` in `src/lib.rs`); no built `.wasm` is committed.

use std::path::PathBuf;

fn main() {
    guest_build::main(|| {
        let mut workspace = guest_build::Workspace::from_build_script("..")?;
        let artifacts = workspace.build(&["provider"])?;
        let provider = workspace.artifact(&artifacts, "provider")?;
        workspace.rerun_if_changed(&workspace.root().join("provider/Cargo.toml"));
        let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("cargo did not set `OUT_DIR`")?)
            .join("provider.wasm");
        std::fs::copy(&provider, &out).map_err(|e| {
            format!(
                "cannot copy `{}` to `{}`: {e}",
                provider.display(),
                out.display()
            )
        })?;
        Ok(())
    })
}
