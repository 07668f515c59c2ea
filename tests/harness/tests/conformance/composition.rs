//! What plugging produces, and what it refuses.

use harness::artifacts::PROGRAMS;
use virt_store::{imports, is_keyvalue, plug, PlugError};

#[test]
fn every_composed_program_imports_filesystem_and_no_keyvalue() {
    for (program, _) in PROGRAMS {
        let composed = harness::composed(program).unwrap();
        let imports = imports(&composed).unwrap();
        let keyvalue: Vec<&String> = imports.iter().filter(|i| is_keyvalue(i)).collect();
        assert!(
            keyvalue.is_empty(),
            "`{program}` still imports {keyvalue:?}"
        );
        assert!(
            imports.iter().any(|i| i.starts_with("wasi:filesystem/")),
            "`{program}` imports no `wasi:filesystem` interface: {imports:?}"
        );
    }
}

#[test]
fn plug_refuses_an_app_without_keyvalue_imports() {
    // The provider itself imports WASI but no keyvalue.
    let err = plug(harness::provider(), harness::provider()).unwrap_err();
    assert!(matches!(err, PlugError::NoKeyvalueImport { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("imports no `wasi:keyvalue` interface"),
        "{message}"
    );
    assert!(
        message.contains("`wasi:filesystem/"),
        "lists what it imports: {message}"
    );
}

#[test]
fn plug_refuses_a_keyvalue_version_the_provider_lacks() {
    let app =
        wat::parse_str(r#"(component (import "wasi:keyvalue/store@0.1.0" (instance)))"#).unwrap();
    let err = plug(&app, harness::provider()).unwrap_err();
    match &err {
        PlugError::Unmatched { unmatched, offered } => {
            assert_eq!(unmatched, &["wasi:keyvalue/store@0.1.0"]);
            assert!(
                offered
                    .iter()
                    .any(|e| e == "wasi:keyvalue/store@0.2.0-draft3"),
                "{offered:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .contains("would still import `wasi:keyvalue/store@0.1.0`"),
        "{err}"
    );
}
