//! For build scripts: build workspace packages for `wasm32-wasip2` with an inner `cargo build`.
//!
//! Like wasmtime's `crates/test-programs/artifacts/build.rs`: the inner cargo gets its own target
//! directory (so it never waits on the outer cargo's lock) and none of the outer build's flags,
//! and the outer build reruns when a source that the dep-info lists changes. That directory is
//! `wasm-guests/` beside the outer build's `build/` (`target/debug/wasm-guests`), not `OUT_DIR`:
//! every build script and every feature set of the outer build shares it, so a guest is compiled
//! once, whether `scripts/demo` built the CLI without the embedded runtime or `scripts/test` with.
//! `virt-store` embeds the provider this way; the test harness builds its guest programs.
#![deny(missing_docs)]

use std::collections::BTreeSet;
use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target every guest is built for.
pub const TARGET: &str = "wasm32-wasip2";

/// The cargo profile guests are built with (see the workspace's `Cargo.toml`).
pub const PROFILE: &str = "guest";

/// Environment a build script inherits that would make the inner cargo build something else:
/// flags meant for the host, or the outer target directory (whose lock the outer cargo holds).
const ENV_TO_DROP: &[&str] = &[
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_PRIMARY_PACKAGE",
    "RUSTC_WORKSPACE_WRAPPER",
];

/// The workspace the calling build script belongs to, and where its inner build goes.
pub struct Workspace {
    root: PathBuf,
    out_dir: PathBuf,
    seen: BTreeSet<PathBuf>,
}

impl Workspace {
    /// The workspace `up` directories above the calling package's manifest (`".."` for a
    /// top-level package).
    pub fn from_build_script(up: &str) -> Result<Self, String> {
        let out_dir = PathBuf::from(env::var_os("OUT_DIR").ok_or("cargo did not set `OUT_DIR`")?);
        let manifest_dir = PathBuf::from(
            env::var_os("CARGO_MANIFEST_DIR").ok_or("cargo did not set `CARGO_MANIFEST_DIR`")?,
        );
        let root = manifest_dir.join(up).canonicalize().map_err(|e| {
            format!(
                "cannot find the workspace root above `{}`: {e}",
                manifest_dir.display()
            )
        })?;
        Ok(Self {
            root,
            out_dir,
            seen: BTreeSet::new(),
        })
    }

    /// The workspace's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Builds `packages` for [`TARGET`] with the workspace's `guest` profile (small and
    /// optimised); returns the directory of the artifacts (`<name>.wasm`, with `<name>.d` beside
    /// each).
    pub fn build(&mut self, packages: &[&str]) -> Result<PathBuf, String> {
        check_target_installed()?;
        let target_dir = guest_target_dir(&self.out_dir);
        let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .current_dir(&self.root)
            .args(["build", "--profile", PROFILE, "--target", TARGET])
            .arg("--target-dir")
            .arg(&target_dir);
        for package in packages {
            command.args(["--package", package]);
        }
        for var in ENV_TO_DROP {
            command.env_remove(var);
        }
        eprintln!("running: {command:?}");
        let status = command
            .status()
            .map_err(|e| format!("cannot start cargo to build for `{TARGET}`: {e}"))?;
        if !status.success() {
            let by_hand: String = packages.iter().map(|p| format!(" -p {p}")).collect();
            return Err(format!(
                "building {packages:?} for `{TARGET}` failed ({status}); cargo's messages are \
                 above. The same build by hand, from `{}`:\n    \
                 cargo build --profile {PROFILE} --target {TARGET}{by_hand}",
                self.root.display()
            ));
        }
        // The dep-info of each artifact lists the sources that were read; these catch what it
        // cannot: a changed manifest, lock file or WIT package.
        for path in ["wit", "Cargo.toml", "Cargo.lock", "engine/Cargo.toml"] {
            self.rerun_if_changed(&self.root.join(path));
        }
        Ok(target_dir.join(TARGET).join(PROFILE))
    }

    /// The artifact `<dir>/<name>.wasm`, after checking that it exists and asking cargo to rerun
    /// the build script when any workspace source it was built from changes.
    pub fn artifact(&mut self, dir: &Path, name: &str) -> Result<PathBuf, String> {
        let wasm = dir.join(format!("{name}.wasm"));
        if !wasm.is_file() {
            return Err(format!(
                "cargo succeeded but `{}` was not produced",
                wasm.display()
            ));
        }
        self.dep_info(&wasm)?;
        Ok(wasm)
    }

    /// Emits `cargo:rerun-if-changed` for `path`, once.
    pub fn rerun_if_changed(&mut self, path: &Path) {
        if self.seen.insert(path.to_path_buf()) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }

    /// Adds every workspace source file listed in the dep-info (`.d`) file next to `artifact`.
    /// Files outside the workspace (the registry, the standard library) do not change under us.
    ///
    /// The format is make's: `target: dep dep ...`, with spaces in paths escaped by `\`.
    fn dep_info(&mut self, artifact: &Path) -> Result<(), String> {
        let dep_file = artifact.with_extension("d");
        let contents = std::fs::read_to_string(&dep_file)
            .map_err(|e| format!("cannot read the dep-info `{}`: {e}", dep_file.display()))?;
        for line in contents.lines() {
            let Some((_, deps)) = line.split_once(": ") else {
                continue;
            };
            let mut parts = deps.split_whitespace();
            while let Some(part) = parts.next() {
                let mut file = part.to_owned();
                while file.ends_with('\\') {
                    file.pop();
                    file.push(' ');
                    file.push_str(parts.next().unwrap_or_default());
                }
                let file = PathBuf::from(file);
                if file.starts_with(&self.root) {
                    self.rerun_if_changed(&file);
                }
            }
        }
        Ok(())
    }
}

/// The inner build's target directory: `wasm-guests` beside the `build/` directory that holds
/// `out_dir` (`OUT_DIR` is `<target>/<profile>/build/<package>-<hash>/out`), or inside `out_dir`
/// when it is laid out otherwise.
fn guest_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|name| name == "build"))
        .and_then(Path::parent)
        .map_or_else(
            || out_dir.join("wasm-target"),
            |profile| profile.join("wasm-guests"),
        )
}

/// Runs `build` and turns its error into a build failure with the message on its own.
pub fn main(build: impl FnOnce() -> Result<(), String>) {
    if let Err(message) = build() {
        eprintln!("\nerror: {message}\n");
        std::process::exit(1);
    }
}

/// Fails with the fix when the standard library for the wasm target is not installed.
fn check_target_installed() -> Result<(), String> {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", rustc.to_string_lossy()))?;
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let std_dir = Path::new(&sysroot).join("lib/rustlib").join(TARGET);
    if output.status.success() && !std_dir.exists() {
        return Err(format!(
            "the `{TARGET}` target is not installed for this toolchain (no `{}`); install it with\n    \
             rustup target add {TARGET}",
            std_dir.display()
        ));
    }
    Ok(())
}
