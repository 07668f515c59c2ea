//! The import list of a component.

use thiserror::Error;
use wasmparser::{Encoding, Parser, Payload};

/// The prefix shared by the names of every `wasi:keyvalue` interface, at any version.
const KEYVALUE_PREFIX: &str = "wasi:keyvalue/";

/// The name of `wasi:filesystem/preopens`, before its version.
const PREOPENS: &str = "wasi:filesystem/preopens";

/// An error listing the imports of a component.
#[derive(Debug, Error)]
pub enum ImportsError {
    /// The bytes are a core module, not a component.
    #[error("the input is a core wasm module, not a component; build it for `wasm32-wasip2` or wrap it with `wasm-tools component new`")]
    NotAComponent,
    /// The bytes are not WebAssembly at all.
    #[error("the input is not a WebAssembly file (it does not start with `\\0asm`)")]
    NotWasm,
    /// The bytes could not be parsed.
    #[error("the input is not a valid wasm component")]
    Parse {
        /// The parser's error.
        #[source]
        source: wasmparser::BinaryReaderError,
    },
}

/// Lists the names of the top-level imports of `component`, in the order it declares them.
///
/// Only the outer component's imports count: the imports of nested components and modules are
/// satisfied inside it. Names are in full, with their version (`wasi:keyvalue/store@0.2.0-draft3`).
pub fn imports(component: &[u8]) -> Result<Vec<String>, ImportsError> {
    names(component, Side::Imports)
}

/// Lists the names of the top-level exports of `component`, in the order it declares them.
pub fn exports(component: &[u8]) -> Result<Vec<String>, ImportsError> {
    names(component, Side::Exports)
}

/// Whether an import or export name is a `wasi:keyvalue` interface (any interface, any version).
pub fn is_keyvalue(name: &str) -> bool {
    name.starts_with(KEYVALUE_PREFIX)
}

/// Whether an import or export name is `wasi:filesystem/preopens` (any version): the interface
/// through which an app gets its directories, which plugging wires to the provider.
pub fn is_preopens(name: &str) -> bool {
    name.strip_prefix(PREOPENS)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('@'))
}

/// Which side of the outer component's interface to list.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Imports,
    Exports,
}

fn names(component: &[u8], side: Side) -> Result<Vec<String>, ImportsError> {
    if !component.starts_with(b"\0asm") {
        return Err(ImportsError::NotWasm);
    }
    let parse = |source| ImportsError::Parse { source };
    let mut names = Vec::new();
    // Nesting depth: 1 inside the outer component, more inside nested modules and components.
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(component) {
        match payload.map_err(parse)? {
            Payload::Version { encoding, .. } => {
                if depth == 0 && encoding != Encoding::Component {
                    return Err(ImportsError::NotAComponent);
                }
                depth += 1;
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(section) if depth == 1 && side == Side::Imports => {
                for import in section {
                    names.push(import.map_err(parse)?.name.full_name().into_owned());
                }
            }
            Payload::ComponentExportSection(section) if depth == 1 && side == Side::Exports => {
                for export in section {
                    names.push(export.map_err(parse)?.name.full_name().into_owned());
                }
            }
            _ => {}
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_only_the_outer_imports() {
        let component = wat::parse_str(
            r#"(component
                (import "wasi:keyvalue/store@0.2.0-draft3" (instance))
                (import "wasi:cli/environment@0.2.0" (instance))
                (component (import "nested:only/inner" (instance)))
                (export "wasi:cli/run@0.2.0" (instance 0))
            )"#,
        )
        .unwrap();
        assert_eq!(
            imports(&component).unwrap(),
            [
                "wasi:keyvalue/store@0.2.0-draft3",
                "wasi:cli/environment@0.2.0"
            ]
        );
        assert_eq!(exports(&component).unwrap(), ["wasi:cli/run@0.2.0"]);
    }

    #[test]
    fn refuses_a_core_module() {
        let module = wat::parse_str("(module)").unwrap();
        assert!(matches!(imports(&module), Err(ImportsError::NotAComponent)));
        assert!(matches!(imports(b"not wasm"), Err(ImportsError::NotWasm)));
        assert!(matches!(
            imports(b"\0asm\x0d\0\x01\0 truncated"),
            Err(ImportsError::Parse { .. })
        ));
    }

    #[test]
    fn keyvalue_names() {
        assert!(is_keyvalue("wasi:keyvalue/atomics@0.2.0-draft"));
        assert!(!is_keyvalue("wasi:keyvaluex/store"));
        assert!(!is_keyvalue("my:wasi:keyvalue/store"));
    }

    #[test]
    fn preopens_names() {
        assert!(is_preopens("wasi:filesystem/preopens@0.2.9"));
        assert!(is_preopens("wasi:filesystem/preopens"));
        assert!(!is_preopens("wasi:filesystem/preopensx@0.2.9"));
        assert!(!is_preopens("wasi:filesystem/types@0.2.9"));
    }
}
