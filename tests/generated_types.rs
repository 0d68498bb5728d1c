//! Behaviour of the generated types and the operation-facts tables: open enums accept values
//! the spec does not list, and the tables carry what the generated methods do not.

use confidential_ledger::raw::ledger::types::{
    ConfidentialLedgerUserRoleName, ConfidentialLedgerUserRoleNameKnown, LedgerUser,
    LedgerUserMultipleRoles, TransactionState, TransactionStateKnown, TransactionStatus,
};
use confidential_ledger::raw::{Paging, find_operation as find};
use confidential_ledger::raw::{identity, ledger};
use serde_json::json;

#[test]
fn open_enums_deserialize_listed_values_as_known() {
    let user: LedgerUser =
        serde_json::from_value(json!({"assignedRole": "Reader", "userId": "u1"})).unwrap();
    assert_eq!(
        user.assigned_role,
        ConfidentialLedgerUserRoleName::Known(ConfidentialLedgerUserRoleNameKnown::Reader)
    );
}

#[test]
fn open_enums_deserialize_unlisted_values_as_other_and_round_trip() {
    // `Writer` is not in the spec's list; the service's own examples use it.
    let body = json!({"assignedRoles": ["Administrator", "Writer"], "userId": "u2"});
    let user: LedgerUserMultipleRoles = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(
        user.assigned_roles,
        vec![
            ConfidentialLedgerUserRoleName::Known(
                ConfidentialLedgerUserRoleNameKnown::Administrator
            ),
            ConfidentialLedgerUserRoleName::Other("Writer".to_string()),
        ]
    );
    assert_eq!(serde_json::to_value(&user).unwrap(), body);

    let status: TransactionStatus =
        serde_json::from_value(json!({"state": "Abandoned", "transactionId": "2.15"})).unwrap();
    assert_eq!(
        status.state,
        TransactionState::Other("Abandoned".to_string())
    );
    let status: TransactionStatus =
        serde_json::from_value(json!({"state": "Committed", "transactionId": "2.15"})).unwrap();
    assert_eq!(
        status.state,
        TransactionState::Known(TransactionStateKnown::Committed)
    );
}

#[test]
fn open_enums_still_reject_non_strings() {
    let err = serde_json::from_value::<LedgerUser>(json!({"assignedRole": 7})).unwrap_err();
    assert!(
        err.to_string().contains("did not match any variant"),
        "{err}"
    );
}

#[test]
fn known_values_convert_into_the_open_enum() {
    let role: ConfidentialLedgerUserRoleName =
        ConfidentialLedgerUserRoleNameKnown::Contributor.into();
    assert_eq!(serde_json::to_value(role).unwrap(), json!("Contributor"));
    assert_eq!(
        ConfidentialLedgerUserRoleNameKnown::Reader.to_string(),
        "Reader"
    );
    assert_eq!(
        "Administrator"
            .parse::<ConfidentialLedgerUserRoleNameKnown>()
            .unwrap(),
        ConfidentialLedgerUserRoleNameKnown::Administrator
    );
}

#[test]
fn merge_patch_operations_are_marked_with_their_real_content_type() {
    let mut merge_patch: Vec<&str> = ledger::OPERATIONS
        .iter()
        .filter(|op| op.request_content_type == Some("application/merge-patch+json"))
        .map(|op| op.id)
        .collect();
    merge_patch.sort();
    assert_eq!(
        merge_patch,
        [
            "create_or_update_ledger_user",
            "create_or_update_user",
            "update_runtime_options",
            "update_user_defined_role"
        ]
    );
    let post = find(ledger::OPERATIONS, "create_ledger_entry").unwrap();
    assert_eq!(post.request_content_type, Some("application/json"));
    assert_eq!(
        find(ledger::OPERATIONS, "get_receipt")
            .unwrap()
            .request_content_type,
        None
    );
}

#[test]
fn paged_operations_name_their_items_and_next_link() {
    let paged: Vec<(&str, Paging)> = ledger::OPERATIONS
        .iter()
        .filter_map(|op| op.paging.map(|p| (op.id, p)))
        .collect();
    assert_eq!(paged.len(), 7, "{paged:?}");
    assert!(
        paged
            .iter()
            .all(|(_, p)| p.next_link_name == Some("nextLink"))
    );
    let entries = find(ledger::OPERATIONS, "list_ledger_entries").unwrap();
    assert_eq!(entries.paging.unwrap().item_name, "entries");
    assert_eq!((entries.method, entries.path), ("GET", "/app/transactions"));
}

#[test]
fn write_operations_declare_the_transaction_id_header() {
    let create = find(ledger::OPERATIONS, "create_ledger_entry").unwrap();
    assert_eq!(create.response_headers, ["x-ms-ccf-transaction-id"]);
    let udf = find(ledger::OPERATIONS, "create_user_defined_function").unwrap();
    assert_eq!(udf.success_statuses, ["200", "201"]);
}

#[test]
fn tables_cover_every_operation_once() {
    assert_eq!(ledger::OPERATIONS.len(), 33);
    assert_eq!(identity::OPERATIONS.len(), 1);
    let mut ids: Vec<&str> = ledger::OPERATIONS.iter().map(|op| op.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 33, "ids are sorted and unique");
    assert!(find(ledger::OPERATIONS, "no_such_operation").is_none());
}

#[test]
fn client_reports_the_spec_api_version() {
    // The versions spec/manifest.json names, which are also the client's defaults.
    use ledger::ClientInfo;
    let defaults = confidential_ledger::ClientOptions::default();
    assert_eq!(
        <ledger::Client as ClientInfo<confidential_ledger::raw::HookState>>::api_version(),
        confidential_ledger::options::DEFAULT_API_VERSION
    );
    assert_eq!(
        <identity::Client as ClientInfo<confidential_ledger::raw::HookState>>::api_version(),
        defaults.identity_api_version
    );
}
