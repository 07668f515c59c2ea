//! What an application needs from the host, before and after plugging.

use crate::imports::{exports, imports, is_keyvalue, is_preopens, ImportsError};
use crate::plug::{plug, PlugError};
use std::collections::BTreeMap;

/// What [`check`] found out about an application.
#[derive(Debug)]
pub struct Check {
    /// The application's imports, grouped by package and version.
    pub imports: Vec<Package>,
    /// The `wasi:keyvalue` versions the application imports (`0.2.0-draft3`), sorted.
    pub keyvalue_versions: Vec<String>,
    /// The `wasi:keyvalue` versions the provider exports, sorted.
    pub provided_versions: Vec<String>,
    /// The application's `wasi:filesystem/preopens` imports that plugging wires to the provider,
    /// which hides the store's directory from the app (empty: the app opens no files, or the
    /// provider keeps its store elsewhere and leaves them to the host).
    pub preopens: Vec<String>,
    /// The imports of the composed component, grouped, or why plugging fails.
    pub plugged: Result<Vec<Package>, PlugError>,
}

/// The interfaces a component imports from one package at one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The package and version: `wasi:cli@0.2.6`. An import without a version or interface
    /// (a plain function, say) stands alone under its full name.
    pub name: String,
    /// The interfaces imported from it: `environment`, `stdout`; empty for a lone import.
    pub interfaces: Vec<String>,
}

/// Lists what `app` imports, which `wasi:keyvalue` versions it needs and whether `provider`
/// serves them, and what the composed component would import from the host.
pub fn check(app: &[u8], provider: &[u8]) -> Result<Check, ImportsError> {
    let app_imports = imports(app)?;
    let keyvalue_versions = versions(app_imports.iter().filter(|i| is_keyvalue(i)));
    let provided_versions = versions(exports(provider)?.iter().filter(|i| is_keyvalue(i)));
    let plugged = plug(app, provider).and_then(|composed| {
        imports(&composed)
            .map(|names| group(&names))
            .map_err(|e| PlugError::Invalid { source: e.into() })
    });
    let hides = exports(provider)?.iter().any(|i| is_preopens(i));
    let preopens = app_imports
        .iter()
        .filter(|i| hides && is_preopens(i))
        .cloned()
        .collect();
    Ok(Check {
        imports: group(&app_imports),
        keyvalue_versions,
        provided_versions,
        preopens,
        plugged,
    })
}

/// Groups `namespace:package/interface@version` names by `namespace:package@version`.
fn group(names: &[String]) -> Vec<Package> {
    let mut packages: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in names {
        let (path, version) = split_version(name);
        match path.split_once('/') {
            Some((package, interface)) => {
                let key = match version {
                    Some(v) => format!("{package}@{v}"),
                    None => package.to_owned(),
                };
                packages.entry(key).or_default().push(interface.to_owned());
            }
            None => {
                packages.entry(name.clone()).or_default();
            }
        }
    }
    packages
        .into_iter()
        .map(|(name, mut interfaces)| {
            interfaces.sort();
            interfaces.dedup();
            Package { name, interfaces }
        })
        .collect()
}

/// The distinct versions in `names`, sorted; unversioned names count as `""`.
fn versions<'a>(names: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut versions: Vec<String> = names
        .map(|n| split_version(n).1.unwrap_or_default().to_owned())
        .collect();
    versions.sort();
    versions.dedup();
    versions
}

fn split_version(name: &str) -> (&str, Option<&str>) {
    match name.split_once('@') {
        Some((path, version)) => (path, Some(version)),
        None => (name, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(imports: &[&str], exports: &[&str]) -> Vec<u8> {
        let mut wat = String::from("(component\n");
        for (i, name) in imports.iter().enumerate() {
            wat.push_str(&format!("(import {name:?} (instance $i{i}))\n"));
        }
        for name in exports {
            wat.push_str(&format!(
                "(instance $e{name} )\n(export {name:?} (instance $e{name}))\n"
            ));
        }
        wat.push(')');
        wat::parse_str(wat).unwrap()
    }

    #[test]
    fn groups_imports_and_reports_what_the_host_must_give() {
        let app = component(
            &[
                "wasi:keyvalue/store@0.2.0-draft3",
                "wasi:keyvalue/atomics@0.2.0-draft3",
                "wasi:cli/stdout@0.2.0",
                "wasi:cli/environment@0.2.0",
            ],
            &[],
        );
        let provider = component(
            &[],
            &[
                "wasi:keyvalue/store@0.2.0-draft3",
                "wasi:keyvalue/atomics@0.2.0-draft3",
            ],
        );
        let check = check(&app, &provider).unwrap();
        assert_eq!(
            check.imports,
            [
                Package {
                    name: "wasi:cli@0.2.0".into(),
                    interfaces: vec!["environment".into(), "stdout".into()],
                },
                Package {
                    name: "wasi:keyvalue@0.2.0-draft3".into(),
                    interfaces: vec!["atomics".into(), "store".into()],
                },
            ]
        );
        assert_eq!(check.keyvalue_versions, ["0.2.0-draft3"]);
        assert_eq!(check.provided_versions, ["0.2.0-draft3"]);
        assert_eq!(
            check.plugged.unwrap(),
            [Package {
                name: "wasi:cli@0.2.0".into(),
                interfaces: vec!["environment".into(), "stdout".into()],
            }]
        );
    }

    #[test]
    fn reports_why_plugging_fails() {
        let app = component(&["wasi:keyvalue/store@0.2.0-draft"], &[]);
        let provider = component(&[], &["wasi:keyvalue/store@0.2.0-draft3"]);
        let check = check(&app, &provider).unwrap();
        assert_eq!(check.keyvalue_versions, ["0.2.0-draft"]);
        assert!(matches!(check.plugged, Err(PlugError::Unmatched { .. })));
    }
}
