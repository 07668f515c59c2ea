//! Spin's variant of `wasi:keyvalue@0.2.0-draft2`: the same name as upstream's, another type.
//!
//! Apps built with Spin's SDK import a `wasi:keyvalue/batch@0.2.0-draft2` whose `get-many`
//! returns `list<tuple<string, option<list<u8>>>>` (upstream pull request #55); upstream draft2
//! returns `list<option<tuple<string, list<u8>>>>`. Composition can only fail on such an app, and
//! `wac-graph` would say so in terms of mismatched types; this module recognises the case so that
//! the error can say what to do.

use wasmparser::component_types::{ComponentDefinedType, ComponentEntityType, ComponentValType};
use wasmparser::types::Types;
use wasmparser::{BinaryReaderError, Validator, WasmFeatures};

/// The interface whose type differs between Spin and upstream.
pub(crate) const BATCH_DRAFT2: &str = "wasi:keyvalue/batch@0.2.0-draft2";

/// The element type of the list that a `get-many` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GetMany {
    /// Upstream's `option<tuple<string, list<u8>>>`.
    Upstream,
    /// Spin's `tuple<string, option<list<u8>>>`.
    Spin,
    /// Anything else, or no `get-many` at all.
    Other,
}

/// The shape of `get-many` in `component`'s import of [`BATCH_DRAFT2`], or `None` without one.
pub(crate) fn imported_get_many(component: &[u8]) -> Result<Option<GetMany>, BinaryReaderError> {
    let types = validate(component)?;
    Ok(types
        .component_item_for_import(BATCH_DRAFT2)
        .map(|item| get_many(&types, &item.ty)))
}

/// The shape of `get-many` in `component`'s export of [`BATCH_DRAFT2`], or `None` without one.
pub(crate) fn exported_get_many(component: &[u8]) -> Result<Option<GetMany>, BinaryReaderError> {
    let types = validate(component)?;
    Ok(types
        .component_item_for_export(BATCH_DRAFT2)
        .map(|item| get_many(&types, &item.ty)))
}

fn validate(component: &[u8]) -> Result<Types, BinaryReaderError> {
    Validator::new_with_features(WasmFeatures::all()).validate_all(component)
}

/// Classifies the `get-many` of an instance type: `result<list<ELEMENT>, error>`.
fn get_many(types: &Types, instance: &ComponentEntityType) -> GetMany {
    let ComponentEntityType::Instance(instance) = instance else {
        return GetMany::Other;
    };
    let Some(item) = types[*instance].exports.get("get-many") else {
        return GetMany::Other;
    };
    let ComponentEntityType::Func(func) = item.ty else {
        return GetMany::Other;
    };
    let element = types[func]
        .result
        .and_then(|result| match defined(types, result)? {
            ComponentDefinedType::Result { ok: Some(ok), .. } => Some(*ok),
            _ => None,
        })
        .and_then(|ok| match defined(types, ok)? {
            ComponentDefinedType::List { element, .. } => Some(*element),
            _ => None,
        });
    let Some(element) = element.and_then(|element| defined(types, element)) else {
        return GetMany::Other;
    };
    match element {
        ComponentDefinedType::Option { ty, .. } => match defined(types, *ty) {
            Some(ComponentDefinedType::Tuple(tuple)) if tuple.types.len() == 2 => GetMany::Upstream,
            _ => GetMany::Other,
        },
        ComponentDefinedType::Tuple(tuple) => match &tuple.types[..] {
            [_key, value] => match defined(types, *value) {
                Some(ComponentDefinedType::Option { .. }) => GetMany::Spin,
                _ => GetMany::Other,
            },
            _ => GetMany::Other,
        },
        _ => GetMany::Other,
    }
}

/// The definition of a non-primitive value type.
fn defined(types: &Types, ty: ComponentValType) -> Option<&ComponentDefinedType> {
    match ty {
        ComponentValType::Type(id) => Some(&types[id]),
        ComponentValType::Primitive(_) => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A component that imports [`BATCH_DRAFT2`] with a `get-many` returning
    /// `result<list<ELEMENT>, error>`, where `element` is WAT for ELEMENT over the types `$bytes`
    /// (`list<u8>`) and `$pair` (`tuple<string, list<u8>>`).
    pub(crate) fn app_importing_get_many(element: &str) -> Vec<u8> {
        importing_get_many(element, "")
    }

    /// Like [`app_importing_get_many`], with `rest` (WAT) after the import.
    fn importing_get_many(element: &str, rest: &str) -> Vec<u8> {
        wat::parse_str(format!(
            r#"(component
                (import "wasi:keyvalue/batch@0.2.0-draft2" (instance
                    (export "bucket" (type $bucket (sub resource)))
                    (type $error (variant (case "no-such-store") (case "access-denied") (case "other" string)))
                    (export "error" (type $error' (eq $error)))
                    (type $bytes (list u8))
                    (type $pair (tuple string $bytes))
                    (type $element {element})
                    (type $many (result (list $element) (error $error')))
                    (export "get-many" (func
                        (param "bucket" (borrow $bucket))
                        (param "keys" (list string))
                        (result $many)))))
                {rest}
            )"#
        ))
        .unwrap()
    }

    /// Spin's `tuple<string, option<list<u8>>>`.
    pub(crate) const SPIN: &str = "(tuple string (option $bytes))";
    /// Upstream's `option<tuple<string, list<u8>>>`.
    pub(crate) const UPSTREAM: &str = "(option $pair)";

    #[test]
    fn tells_spin_from_upstream() {
        let shape = |element| imported_get_many(&app_importing_get_many(element)).unwrap();
        assert_eq!(shape(SPIN), Some(GetMany::Spin));
        assert_eq!(shape(UPSTREAM), Some(GetMany::Upstream));
        assert_eq!(shape("string"), Some(GetMany::Other));
        assert_eq!(shape("(tuple string $bytes)"), Some(GetMany::Other));
    }

    #[test]
    fn reads_the_shape_of_an_export_too() {
        // A component that passes its import on as its export has the same shape on both sides.
        let provider = importing_get_many(
            SPIN,
            r#"(export "wasi:keyvalue/batch@0.2.0-draft2" (instance 0))"#,
        );
        assert_eq!(exported_get_many(&provider).unwrap(), Some(GetMany::Spin));
        let err = crate::plug(&app_importing_get_many(SPIN), &provider).unwrap_err();
        assert!(!matches!(err, crate::PlugError::SpinDraft2), "{err:?}");
    }

    #[test]
    fn none_without_the_import() {
        let app =
            wat::parse_str(r#"(component (import "wasi:keyvalue/batch@0.2.0-draft3" (instance)))"#)
                .unwrap();
        assert_eq!(imported_get_many(&app).unwrap(), None);
        assert_eq!(exported_get_many(&app).unwrap(), None);
        let bare =
            wat::parse_str(r#"(component (import "wasi:keyvalue/batch@0.2.0-draft2" (instance)))"#)
                .unwrap();
        assert_eq!(imported_get_many(&bare).unwrap(), Some(GetMany::Other));
    }
}
