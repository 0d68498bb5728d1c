//! The service's own examples (`x-ms-examples` of the upstream 2026-02-23 specs in
//! `../shared`) against the generated types: every documented request body and success
//! response body deserializes into the type the generated method takes or returns. Skipped
//! with a message when the reference data is absent.

use std::path::{Path, PathBuf};

use confidential_ledger::raw::{identity, ledger};
use serde_json::Value;

/// Checks an example's request and response bodies for one operation id.
type BodyCheck = fn(&str, Option<Value>, Option<Value>) -> Result<(), String>;

const DATA_PLANE: &str = "azure-rest-api-specs/specification/confidentialledger/data-plane";

/// Deserialize `request` and `response` into the body types of operation `op`.
macro_rules! typed_check {
    ($op:expr, $request:expr, $response:expr, { $($id:literal => ($req:ty, $resp:ty)),* $(,)? }) => {
        match $op {
            $($id => {
                if let Some(v) = $request {
                    serde_json::from_value::<$req>(v).map_err(|e| format!("request body: {e}"))?;
                }
                if let Some(v) = $response {
                    serde_json::from_value::<$resp>(v).map_err(|e| format!("response body: {e}"))?;
                }
                Ok(())
            })*
            other => Err(format!("no typed check for operation {other}")),
        }
    };
}

fn check_ledger(op: &str, request: Option<Value>, response: Option<Value>) -> Result<(), String> {
    use ledger::types::*;
    typed_check!(op, request, response, {
        "CreateLedgerEntry" => (LedgerEntry, LedgerWriteResult),
        "CreateOrUpdateLedgerUser" => (LedgerUserMultipleRoles, LedgerUserMultipleRoles),
        "CreateOrUpdateUser" => (LedgerUser, LedgerUser),
        "CreateUserDefinedEndpoint" => (Bundle, ()),
        "CreateUserDefinedFunction" => (UserDefinedFunction, UserDefinedFunction),
        "CreateUserDefinedRole" => (UserDefinedRoles, UserDefinedRoles),
        "DeleteLedgerUser" => ((), ()),
        "DeleteUser" => ((), ()),
        "DeleteUserDefinedFunction" => ((), ()),
        "DeleteUserDefinedRole" => ((), ()),
        "ExecuteUserDefinedFunction" => (UserDefinedFunctionExecutionProperties, UserDefinedFunctionExecutionResponse),
        "GetConstitution" => ((), Constitution),
        "GetCurrentLedgerEntry" => ((), LedgerEntry),
        "GetEnclaveQuotes" => ((), ConfidentialLedgerEnclaves),
        "GetLedgerEntry" => ((), LedgerQueryResult),
        "GetLedgerUser" => ((), LedgerUserMultipleRoles),
        "GetReceipt" => ((), TransactionReceipt),
        "GetRuntimeOptions" => ((), JsRuntimeOptions),
        "GetTransactionStatus" => ((), TransactionStatus),
        "GetUser" => ((), LedgerUser),
        "GetUserDefinedEndpoint" => ((), Bundle),
        "GetUserDefinedEndpointsModule" => ((), ModuleDef),
        "GetUserDefinedFunction" => ((), UserDefinedFunction),
        "GetUserDefinedRole" => ((), UserDefinedRole),
        "ListCollections" => ((), PagedCollections),
        "ListConsortiumMembers" => ((), Consortium),
        "ListLedgerEntries" => ((), PagedLedgerEntries),
        "ListLedgerUsers" => ((), PagedLedgerUsers),
        "ListTags" => ((), PagedTags),
        "ListUserDefinedFunctions" => ((), PagedUserDefinedFunctions),
        "ListUsers" => ((), PagedUsers),
        "UpdateRuntimeOptions" => (JsRuntimeOptions, JsRuntimeOptions),
        "UpdateUserDefinedRole" => (UserDefinedRoles, UserDefinedRoles),
    })
}

fn check_identity(op: &str, request: Option<Value>, response: Option<Value>) -> Result<(), String> {
    use identity::types::*;
    typed_check!(op, request, response, {
        "GetLedgerIdentity" => ((), LedgerIdentityInformation),
    })
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Check every example of the Swagger file at `spec`; returns how many bodies were checked.
fn check_examples(spec: &Path, check: BodyCheck) -> usize {
    let swagger = read(spec);
    let dir = spec.parent().unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for (path, item) in swagger["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let op_id = op["operationId"].as_str().unwrap();
            let body_name = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["in"] == "body")
                .and_then(|p| p["name"].as_str());
            let examples = op["x-ms-examples"].as_object().into_iter().flatten();
            for (title, example) in examples {
                let file: PathBuf = dir.join(example["$ref"].as_str().unwrap());
                if !file.exists() {
                    // Upstream examples left out of the reference copy (GetEnclaveQuotes).
                    eprintln!("note: {} is absent", file.display());
                    continue;
                }
                let example = read(&file);
                let request = body_name.and_then(|n| example["parameters"].get(n).cloned());
                let mut bodies = vec![(request, None)];
                for (status, response) in example["responses"].as_object().unwrap() {
                    if status.starts_with('2') {
                        bodies.push((None, response.get("body").cloned()));
                    }
                }
                for (request, response) in bodies {
                    checked += usize::from(request.is_some()) + usize::from(response.is_some());
                    if let Err(e) = check(op_id, request, response) {
                        failures.push(format!("{method} {path} {op_id} ({title}): {e}"));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "examples not accepted by the generated types:\n{}",
        failures.join("\n")
    );
    checked
}

#[test]
fn every_ledger_example_body_fits_the_generated_types() {
    let Some(root) = testkit::shared::path(DATA_PLANE) else {
        return;
    };
    let spec = root.join("ConfidentialLedger/stable/2026-02-23/confidentialledger.json");
    let checked = check_examples(&spec, check_ledger);
    // 33 operations, most with a request or response body (GetEnclaveQuotes' example is absent).
    assert!(checked >= 30, "only {checked} bodies checked");
}

#[test]
fn the_identity_example_fits_the_generated_types() {
    let Some(root) = testkit::shared::path(DATA_PLANE) else {
        return;
    };
    let spec = root.join("ConfidentialLedgerIdentity/stable/2026-02-23/identityservice.json");
    assert_eq!(check_examples(&spec, check_identity), 1);
}

#[test]
fn the_writer_role_example_deserializes_as_an_open_value() {
    use ledger::types::{ConfidentialLedgerUserRoleName, LedgerUserMultipleRoles};
    let Some(root) = testkit::shared::path(DATA_PLANE) else {
        return;
    };
    let example = read(
        &root.join("ConfidentialLedger/stable/2026-02-23/examples/CreateOrUpdateLedgerUser.json"),
    );
    let body: LedgerUserMultipleRoles =
        serde_json::from_value(example["responses"]["200"]["body"].clone()).unwrap();
    assert!(
        body.assigned_roles
            .contains(&ConfidentialLedgerUserRoleName::Other("Writer".to_string()))
    );
}
