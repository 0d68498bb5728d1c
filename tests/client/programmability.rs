//! User-defined endpoints, modules, runtime options and functions.

use std::collections::BTreeMap;

use confidential_ledger::ErrorKind;
use confidential_ledger::client::{CreateLedgerEntryOptions, ExecuteUserDefinedFunctionOptions};
use confidential_ledger::models::{
    Bundle, ExecutionStatus, JsRuntimeOptions, Metadata, ModuleDef, UserDefinedFunctionHook,
};
use futures::TryStreamExt;

use crate::support::{admin, sandbox, within};

#[tokio::test]
async fn endpoints_bundle_and_modules() {
    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    let empty = within(client.get_user_defined_endpoint(None))
        .await
        .unwrap();
    assert!(empty.modules.is_empty());

    let bundle = Bundle {
        metadata: Metadata {
            endpoints: BTreeMap::new(),
        },
        modules: vec![ModuleDef {
            name: "lib.js".into(),
            module: "export function greet() { return 'hi'; }".into(),
        }],
    };
    within(client.create_user_defined_endpoint(&bundle, None))
        .await
        .unwrap();
    let stored = within(client.get_user_defined_endpoint(None))
        .await
        .unwrap();
    assert_eq!(stored, bundle);
    let module = within(client.get_user_defined_endpoints_module("lib.js", None))
        .await
        .unwrap();
    assert_eq!(module, bundle.modules[0]);
    let err = within(client.get_user_defined_endpoints_module("missing.js", None))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
}

#[tokio::test]
async fn runtime_options_are_merge_patched() {
    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    let before = within(client.get_runtime_options(None)).await.unwrap();
    let change = JsRuntimeOptions {
        max_execution_time_ms: Some(1234),
        ..JsRuntimeOptions::default()
    };
    let after = within(client.update_runtime_options(&change, None))
        .await
        .unwrap();
    assert_eq!(after.max_execution_time_ms, Some(1234));
    // Fields not in the patch are kept.
    assert_eq!(after.max_heap_bytes, before.max_heap_bytes);
    assert_eq!(after.log_exception_details, before.log_exception_details);
    assert_eq!(
        within(client.get_runtime_options(None)).await.unwrap(),
        after
    );
}

#[tokio::test]
async fn functions_are_stored_listed_run_and_deleted() {
    let sandbox = sandbox().await;
    let client = admin(&sandbox).await;
    let code = "export function main(name) { return 'hi ' + name; }";
    let created = within(client.create_user_defined_function("greet", code, None))
        .await
        .unwrap();
    assert!(created.created);
    assert_eq!(created.function.id.as_deref(), Some("greet"));
    assert_eq!(created.function.code, code);
    let replaced = within(client.create_user_defined_function("greet", code, None))
        .await
        .unwrap();
    assert!(!replaced.created);
    assert!(replaced.transaction_id > created.transaction_id);

    let stored = within(client.get_user_defined_function("greet", None))
        .await
        .unwrap();
    assert_eq!(stored.code, code);
    let listed: Vec<_> = within(client.list_user_defined_functions(None).try_collect())
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id.as_deref(), Some("greet"));

    // The sandbox runs the function in its JavaScript engine.
    let options = ExecuteUserDefinedFunctionOptions::new().arguments(["alice"]);
    let run = within(client.execute_user_defined_function("greet", Some(options)))
        .await
        .unwrap();
    assert_eq!(run.status, ExecutionStatus::Succeeded);
    assert_eq!(run.return_value.as_deref(), Some("hi alice"));
    assert_eq!(run.error_message, None);
    // A function that throws is a failed run, not an error of the call.
    within(client.create_user_defined_function(
        "boom",
        "export function main() { throw new Error('no'); }",
        None,
    ))
    .await
    .unwrap();
    let failed = within(client.execute_user_defined_function("boom", None))
        .await
        .unwrap();
    assert_eq!(failed.status, ExecutionStatus::Failed);
    assert_eq!(
        failed.error_message.as_deref(),
        Some("Exception thrown while executing.")
    );

    // Entries written with hooks carry them to the ledger (the sandbox does not run hooks).
    let hook = UserDefinedFunctionHook {
        function_id: "greet".into(),
        properties: None,
    };
    let err = within(client.create_ledger_entry(
        "hooked",
        Some(CreateLedgerEntryOptions::new().pre_hooks(vec![hook])),
    ))
    .await
    .unwrap_err();
    assert_eq!(err.error_code(), Some("JavaScriptNotSupported"), "{err}");

    within(client.delete_user_defined_function("greet", None))
        .await
        .unwrap();
    let err = within(client.get_user_defined_function("greet", None))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
    let err = within(client.execute_user_defined_function("greet", None))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
}
