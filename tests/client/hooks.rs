//! The generated client's hooks, seen from a recording server: what goes on the wire.

use confidential_ledger::pipeline::{Pipeline, PipelineOptions, RetryOptions};
use confidential_ledger::raw::HookState;
use confidential_ledger::raw::ledger::{self, types};
use confidential_ledger::{Error, ErrorKind, StaticTokenCredential};
use testkit::http::{RecordedRequest, Reply, Server};

use crate::support::within;

/// A raw generated client over a pipeline to `server` (plain HTTP), with a bearer token.
fn raw_client(server: &Server, state: impl Fn(Pipeline) -> HookState) -> ledger::Client {
    let tls =
        rustls::ClientConfig::builder_with_provider(confidential_ledger::tls::crypto_provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
    let options = PipelineOptions {
        retry: RetryOptions::disabled(),
        ..Default::default()
    };
    let pipeline = Pipeline::builder(
        server.url("").parse().unwrap(),
        reqwest::Client::builder().use_preconfigured_tls(tls),
    )
    .credential(std::sync::Arc::new(StaticTokenCredential::new(
        "hook-token",
    )))
    .options(options)
    .build()
    .unwrap();
    ledger::Client::new_with_client(
        &server.url(""),
        pipeline.http_client().clone(),
        state(pipeline),
    )
}

fn header<'a>(request: &'a RecordedRequest, name: &str) -> Option<&'a str> {
    request.header(name)
}

#[tokio::test]
async fn hooks_set_content_types_drop_the_version_header_and_carry_errors() {
    let server = Server::start(|request: &RecordedRequest| {
        if request.path.starts_with("/app/roles") && request.method == "DELETE" {
            Reply::ledger_error(404, "RoleNotFound", "Role Auditor was not found")
        } else if request.path.starts_with("/app/roles") {
            Reply::json(
                200,
                r#"{"roles": [{"roleName": "Auditor", "roleActions": []}]}"#,
            )
        } else {
            Reply::json(200, r#"{"assignedRoles": ["Reader"], "userId": "u1"}"#)
        }
    })
    .await;
    let raw = raw_client(&server, HookState::new);
    let user = types::LedgerUserMultipleRoles {
        assigned_roles: vec![types::ConfidentialLedgerUserRoleName::Known(
            types::ConfidentialLedgerUserRoleNameKnown::Reader,
        )],
        user_id: None,
    };
    within(raw.create_or_update_ledger_user("AB:CD", "2024-12-09-preview", &user))
        .await
        .unwrap();
    let roles = types::UserDefinedRoles {
        roles: vec![types::Role {
            role_actions: vec![],
            role_name: Some("Auditor".into()),
        }],
    };
    within(raw.create_user_defined_role("2026-02-23", &roles))
        .await
        .unwrap();
    within(raw.update_user_defined_role("2026-02-23", &roles))
        .await
        .unwrap();
    let err = within(raw.delete_user_defined_role("2026-02-23", "Auditor"))
        .await
        .map_err(Error::from)
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound);
    assert_eq!(err.error_code(), Some("RoleNotFound"));
    assert_eq!(err.operation(), Some("delete_user_defined_role"));

    let requests = server.requests();
    let seen: Vec<(&str, &str, Option<&str>)> = requests
        .iter()
        .map(|r| {
            (
                r.method.as_str(),
                r.path.as_str(),
                header(r, "content-type"),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "PATCH",
                "/app/ledgerUsers/AB:CD?api-version=2024-12-09-preview",
                Some("application/merge-patch+json")
            ),
            (
                "PUT",
                "/app/roles?api-version=2026-02-23",
                Some("application/json")
            ),
            (
                "PATCH",
                "/app/roles?api-version=2026-02-23",
                Some("application/merge-patch+json")
            ),
            (
                "DELETE",
                "/app/roles?api-version=2026-02-23&roleName=Auditor",
                None
            ),
        ]
    );
    for request in &requests {
        // The version travels in the query only (the generated code also adds a header with
        // the spec's version, which would contradict a caller's choice).
        assert!(!request.has_header("api-version"), "{request:?}");
        assert_eq!(header(request, "authorization"), Some("Bearer hook-token"));
        assert!(
            header(request, "user-agent")
                .unwrap()
                .starts_with("confidential-ledger-rust/")
        );
    }
}

/// Code written against the former paths still compiles (with deprecation warnings) and
/// names the same items.
#[test]
#[allow(deprecated)]
fn the_former_paths_of_the_raw_clients_still_resolve() {
    use confidential_ledger::generated::ledger::OPERATIONS;
    use confidential_ledger::operation_facts::{OperationFacts, find};

    let facts: &OperationFacts = find(OPERATIONS, "list_ledger_entries").unwrap();
    assert_eq!(facts.paging.unwrap().item_name, "entries");
    let same: fn(Pipeline) -> confidential_ledger::hooks::HookState = HookState::new;
    let _ = same;
}
