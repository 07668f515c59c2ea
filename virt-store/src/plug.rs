//! Plugging the provider into an application with `wac-graph`.

use crate::imports::{exports, imports, is_keyvalue, is_preopens, ImportsError};
use crate::spin::{exported_get_many, imported_get_many, GetMany, BATCH_DRAFT2};
use thiserror::Error;
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions, NodeKind, PackageId};
use wasmparser::{Validator, WasmFeatures};

/// The package names the two components get inside the composition graph; the same names that
/// `wac plug --plug provider.wasm app.wasm` uses, so the output matches that command's byte for byte.
const APP_PACKAGE: &str = "socket";
const PROVIDER_PACKAGE: &str = "plug:provider";

/// A boxed error from a dependency whose error type is not part of this crate's API.
type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error plugging the provider into an application.
#[derive(Debug, Error)]
pub enum PlugError {
    /// The application is not a readable component.
    #[error("the app is not a usable component")]
    App {
        /// Why it could not be read.
        #[source]
        source: Source,
    },
    /// The provider is not a readable component.
    #[error("the provider is not a usable component")]
    Provider {
        /// Why it could not be read.
        #[source]
        source: Source,
    },
    /// The application imports no `wasi:keyvalue` interface, so there is nothing to plug.
    #[error("the app imports no `wasi:keyvalue` interface, so there is nothing to plug (it imports {})", list(.imports))]
    NoKeyvalueImport {
        /// Everything the application imports.
        imports: Vec<String>,
    },
    /// Some `wasi:keyvalue` imports of the application found no matching provider export.
    #[error("the app would still import {} after plugging: the provider exports no interface of that name, version and type (it exports {}; prerelease versions such as `-draft` and `-draft2` only match exactly)", list(.unmatched), list(.offered))]
    Unmatched {
        /// The application's `wasi:keyvalue` imports that stay unsatisfied.
        unmatched: Vec<String>,
        /// What the provider exports.
        offered: Vec<String>,
    },
    /// The application imports `wasi:filesystem/preopens` and it could not be wired to the
    /// provider (wac-graph skips an export it cannot match, silently), so the app would get the
    /// host's preopens, the store's directory among them.
    #[error("the app imports {}, and the provider exports no `wasi:filesystem/preopens` it could be wired to (it exports {}), so the app would see the store's directory; plug the provider built into virt-store (`virt-store provider` writes it)", list(.unwired), list(.offered))]
    PreopensUnwired {
        /// The application's `wasi:filesystem/preopens` imports left to the host.
        unwired: Vec<String>,
        /// What the provider exports.
        offered: Vec<String>,
    },
    /// The application imports Spin's variant of `wasi:keyvalue@0.2.0-draft2`, whose `get-many`
    /// has another type than upstream's of the same name, and the provider serves upstream's.
    #[error("the app imports Spin's variant of draft2 (get-many returning list<tuple<string, option<list<u8>>>>), which the provider does not serve; rebuild the app against upstream wasi:keyvalue@0.2.0-draft2 or draft3")]
    SpinDraft2,
    /// The composition graph could not be built.
    #[error("composing the app with the provider failed")]
    Compose {
        /// The error from `wac-graph`.
        #[source]
        source: Source,
    },
    /// The composed component failed validation.
    #[error("the composed component is not valid")]
    Invalid {
        /// The validator's error.
        #[source]
        source: Source,
    },
}

/// Plugs `provider` into every `wasi:keyvalue` import of `app`, and into its
/// `wasi:filesystem/preopens` import if it has one, and returns the composed component.
///
/// The composed component exports what `app` exports and imports what both import, minus the
/// interfaces the provider satisfied. The provider's `wasi:filesystem/preopens` is the host's
/// without the store's directory, so the app cannot reach the store's files. Fails when `app`
/// imports no `wasi:keyvalue` interface, when any of them would stay an import of the output,
/// when its `wasi:filesystem/preopens` would not be wired to a provider that keeps its store in
/// files, or when `app` imports
/// Spin's variant of `wasi:keyvalue/batch@0.2.0-draft2` and `provider` exports another.
pub fn plug(app: &[u8], provider: &[u8]) -> Result<Vec<u8>, PlugError> {
    let app_imports = imports(app).map_err(|e| PlugError::App { source: e.into() })?;
    let wanted: Vec<String> = app_imports
        .iter()
        .filter(|i| is_keyvalue(i))
        .cloned()
        .collect();
    if wanted.is_empty() {
        return Err(PlugError::NoKeyvalueImport {
            imports: app_imports,
        });
    }
    let offered = exports(provider).map_err(|e| PlugError::Provider { source: e.into() })?;
    if wanted.iter().any(|i| i == BATCH_DRAFT2) {
        let app_shape = imported_get_many(app).map_err(|e| PlugError::App { source: e.into() })?;
        if app_shape == Some(GetMany::Spin) {
            let served = exported_get_many(provider)
                .map_err(|e| PlugError::Provider { source: e.into() })?;
            if served != Some(GetMany::Spin) {
                return Err(PlugError::SpinDraft2);
            }
        }
    }

    let mut graph = CompositionGraph::new();
    let app_package = Package::from_bytes(APP_PACKAGE, None, app, graph.types_mut())
        .map_err(|e| PlugError::App { source: e.into() })?;
    let app_id = graph
        .register_package(app_package)
        .map_err(|e| PlugError::Compose { source: e.into() })?;
    let provider_package = Package::from_bytes(PROVIDER_PACKAGE, None, provider, graph.types_mut())
        .map_err(|e| PlugError::Provider { source: e.into() })?;
    let provider_id = graph
        .register_package(provider_package)
        .map_err(|e| PlugError::Compose { source: e.into() })?;

    match wac_graph::plug(&mut graph, vec![provider_id], app_id) {
        Ok(()) => {}
        Err(wac_graph::PlugError::NoPlugHappened) => {
            return Err(PlugError::Unmatched {
                unmatched: wanted,
                offered,
            })
        }
        Err(e) => return Err(PlugError::Compose { source: e.into() }),
    }
    // The provider's imports of preopens are the host's, so the output's import list cannot
    // tell whether the app's was wired: the graph can. A provider that opens no files (the
    // Valkey one) has no directory to hide, and the app keeps the host's preopens.
    let provider_opens_files = imports(provider)
        .map_err(|e| PlugError::Provider { source: e.into() })?
        .iter()
        .any(|i| i.starts_with("wasi:filesystem/"));
    let wired = arguments_of(&graph, app_id);
    let unwired: Vec<String> = app_imports
        .iter()
        .filter(|i| is_preopens(i) && !wired.contains(i))
        .cloned()
        .collect();
    if provider_opens_files && !unwired.is_empty() {
        return Err(PlugError::PreopensUnwired { unwired, offered });
    }
    let composed = graph
        .encode(EncodeOptions::default())
        .map_err(|e| PlugError::Compose { source: e.into() })?;

    // wac-graph validates with its own wasmparser; check with ours too, as the runtime will.
    Validator::new_with_features(WasmFeatures::all())
        .validate_all(&composed)
        .map_err(|e| PlugError::Invalid { source: e.into() })?;
    let unmatched: Vec<String> = imports(&composed)
        .map_err(|e: ImportsError| PlugError::Invalid { source: e.into() })?
        .into_iter()
        .filter(|i| is_keyvalue(i))
        .collect();
    if !unmatched.is_empty() {
        return Err(PlugError::Unmatched { unmatched, offered });
    }
    Ok(composed)
}

/// The imports of `package`'s instantiations in `graph` that are given an argument.
fn arguments_of(graph: &CompositionGraph, package: PackageId) -> Vec<String> {
    graph
        .node_ids()
        .filter(|&id| {
            matches!(graph[id].kind(), NodeKind::Instantiation(_))
                && graph[id].package() == Some(package)
        })
        .flat_map(|id| {
            graph
                .get_instantiation_arguments(id)
                .map(|(name, _)| name.to_owned())
        })
        .collect()
}

/// Formats names as a comma-separated list of backticked names, or `nothing`.
fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "nothing".to_owned();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in provider: exports an (empty) `store` instance at draft3.
    fn provider() -> Vec<u8> {
        wat::parse_str(
            r#"(component
                (instance $store)
                (export "wasi:keyvalue/store@0.2.0-draft3" (instance $store))
            )"#,
        )
        .unwrap()
    }

    fn app(imports: &[&str]) -> Vec<u8> {
        let imports: String = imports
            .iter()
            .map(|i| format!("(import {i:?} (instance))\n"))
            .collect();
        wat::parse_str(format!("(component {imports})")).unwrap()
    }

    #[test]
    fn wires_keyvalue_and_keeps_other_imports() {
        let composed = plug(
            &app(&[
                "wasi:keyvalue/store@0.2.0-draft3",
                "wasi:cli/environment@0.2.0",
            ]),
            &provider(),
        )
        .unwrap();
        assert_eq!(imports(&composed).unwrap(), ["wasi:cli/environment@0.2.0"]);
    }

    #[test]
    fn refuses_an_app_without_keyvalue() {
        let err = plug(&app(&["wasi:cli/environment@0.2.0"]), &provider()).unwrap_err();
        assert!(matches!(err, PlugError::NoKeyvalueImport { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "the app imports no `wasi:keyvalue` interface, so there is nothing to plug \
             (it imports `wasi:cli/environment@0.2.0`)"
        );
    }

    #[test]
    fn refuses_a_version_the_provider_lacks() {
        let err = plug(&app(&["wasi:keyvalue/store@0.2.0-draft"]), &provider()).unwrap_err();
        assert!(matches!(err, PlugError::Unmatched { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains("`wasi:keyvalue/store@0.2.0-draft`"),
            "{err}"
        );
    }

    #[test]
    fn refuses_a_keyvalue_import_left_over() {
        let err = plug(
            &app(&[
                "wasi:keyvalue/store@0.2.0-draft3",
                "wasi:keyvalue/batch@0.2.0-draft3",
            ]),
            &provider(),
        )
        .unwrap_err();
        match err {
            PlugError::Unmatched { unmatched, offered } => {
                assert_eq!(unmatched, ["wasi:keyvalue/batch@0.2.0-draft3"]);
                assert_eq!(offered, ["wasi:keyvalue/store@0.2.0-draft3"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn wires_preopens_of_another_patch_version_and_refuses_to_leave_a_file_store_visible() {
        let app = app(&[
            "wasi:keyvalue/store@0.2.0-draft3",
            "wasi:filesystem/preopens@0.2.9",
        ]);
        let hiding = wat::parse_str(
            r#"(component
                (instance $store)
                (export "wasi:keyvalue/store@0.2.0-draft3" (instance $store))
                (instance $preopens)
                (export "wasi:filesystem/preopens@0.2.4" (instance $preopens))
            )"#,
        )
        .unwrap();
        let composed = plug(&app, &hiding).unwrap();
        assert!(imports(&composed).unwrap().is_empty());

        // A provider with its store in files, which does not hide it.
        let files = wat::parse_str(
            r#"(component
                (import "wasi:filesystem/types@0.2.4" (instance))
                (instance $store)
                (export "wasi:keyvalue/store@0.2.0-draft3" (instance $store))
            )"#,
        )
        .unwrap();
        let err = plug(&app, &files).unwrap_err();
        match &err {
            PlugError::PreopensUnwired { unwired, .. } => {
                assert_eq!(unwired, &["wasi:filesystem/preopens@0.2.9"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            err.to_string()
                .contains("so the app would see the store's directory"),
            "{err}"
        );

        // A provider that opens no files (the Valkey one) has nothing to hide: the app keeps the
        // host's preopens.
        let composed = plug(&app, &provider()).unwrap();
        assert_eq!(
            imports(&composed).unwrap(),
            vec!["wasi:filesystem/preopens@0.2.9"]
        );
    }

    #[test]
    fn refuses_spins_draft2_batch() {
        use crate::spin::tests::{app_importing_get_many, SPIN, UPSTREAM};
        let err = plug(&app_importing_get_many(SPIN), &provider()).unwrap_err();
        assert!(matches!(err, PlugError::SpinDraft2), "{err:?}");
        assert_eq!(
            err.to_string(),
            "the app imports Spin's variant of draft2 (get-many returning \
             list<tuple<string, option<list<u8>>>>), which the provider does not serve; rebuild \
             the app against upstream wasi:keyvalue@0.2.0-draft2 or draft3"
        );
        // Upstream's shape is only missing from this stand-in provider.
        let err = plug(&app_importing_get_many(UPSTREAM), &provider()).unwrap_err();
        assert!(matches!(err, PlugError::Unmatched { .. }), "{err:?}");
    }

    #[test]
    fn refuses_a_core_module() {
        let module = wat::parse_str("(module)").unwrap();
        let err = plug(&module, &provider()).unwrap_err();
        assert!(matches!(err, PlugError::App { .. }), "{err:?}");
        let err = plug(&app(&["wasi:keyvalue/store@0.2.0-draft3"]), &module).unwrap_err();
        assert!(matches!(err, PlugError::Provider { .. }), "{err:?}");
    }
}
