//! What every request carries: user agent, bearer token (or none), content type.

use std::sync::Arc;

use confidential_ledger::credential::async_trait;
use confidential_ledger::pipeline::{OperationContext, Pipeline, USER_AGENT};
use confidential_ledger::{AccessToken, CredentialError, ErrorKind, TokenCredential};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use testkit::http::{Reply, Server};

use crate::support::{Harness, TOKEN, TOKEN_OID, http, json, options, within};

#[tokio::test]
async fn every_request_carries_the_user_agent_and_a_fresh_bearer_token() {
    let server = Server::scripted([Reply::status(503), Reply::json(200, "{}")]).await;
    let harness = Harness::new(&server.url(""), options(3));
    harness.get(&server.url("/app/x")).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(
            request.header("user-agent"),
            Some(format!("confidential-ledger-rust/{}", env!("CARGO_PKG_VERSION")).as_str())
        );
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
    assert_eq!(
        harness.credential.calls(),
        2,
        "one token request per attempt"
    );
}

#[tokio::test]
async fn the_application_id_comes_first_in_the_user_agent() {
    let server = Server::scripted([Reply::json(200, "{}")]).await;
    let mut with_id = options(0);
    with_id.application_id = Some("inventory/2".into());
    let harness = Harness::new(&server.url(""), with_id);
    harness.get(&server.url("/")).await.unwrap();
    assert_eq!(
        server.requests()[0].header("user-agent"),
        Some(format!("inventory/2 {USER_AGENT}").as_str())
    );
    assert_eq!(
        harness.pipeline.user_agent(),
        format!("inventory/2 {USER_AGENT}")
    );
}

#[tokio::test]
async fn without_a_credential_no_authorization_is_sent_not_even_the_callers() {
    let server = Server::scripted([Reply::json(200, "{}")]).await;
    let pipeline = Pipeline::builder(server.url("").parse().unwrap(), http())
        .build()
        .unwrap();
    let mut request = reqwest::Request::new(Method::GET, server.url("/app/x").parse().unwrap());
    request
        .headers_mut()
        .insert(AUTHORIZATION, HeaderValue::from_static("Bearer smuggled"));
    within(pipeline.send(request, &OperationContext::new("get_ledger_entry")))
        .await
        .unwrap();
    let recorded = &server.requests()[0];
    assert!(
        !recorded.has_header("authorization"),
        "{:?}",
        recorded.headers
    );
    assert!(recorded.has_header("user-agent"));
}

#[tokio::test]
async fn merge_patch_content_type_is_restored_for_patch_only() {
    let server = Server::start(|_| Reply::json(200, "{}")).await;
    let harness = Harness::new(&server.url(""), options(0));
    for (method, id) in [
        (Method::PATCH, "create_or_update_ledger_user"),
        (Method::PUT, "create_user_defined_role"),
        (Method::POST, "create_ledger_entry"),
    ] {
        let request = json(
            method.clone(),
            &server.url("/app/ledgerUsers/u1"),
            r#"{"assignedRoles":["Reader"]}"#,
        );
        let op = confidential_ledger::raw::operation_context(id, &request);
        within(harness.pipeline.send(request, &op)).await.unwrap();
    }
    // An explicit override applies to any method.
    let request = json(Method::PUT, &server.url("/app/x"), "{}");
    let op = OperationContext::new("op").merge_patch();
    within(harness.pipeline.send(request, &op)).await.unwrap();
    let types: Vec<(String, String)> = server
        .requests()
        .iter()
        .map(|r| {
            (
                r.method.clone(),
                r.header("content-type").unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        types,
        [
            ("PATCH".into(), "application/merge-patch+json".into()),
            ("PUT".into(), "application/json".into()),
            ("POST".into(), "application/json".into()),
            ("PUT".into(), "application/merge-patch+json".into()),
        ]
    );
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.body_text().starts_with('{'))
    );
}

#[tokio::test]
async fn not_allowed_names_the_principal_from_the_token_or_the_configuration() {
    let not_allowed = || Reply::ledger_error(403, "NotAllowed", "Could not find user.");
    let server = Server::scripted([not_allowed(), not_allowed()]).await;
    let harness = Harness::new(&server.url(""), options(3));
    let err = harness
        .get(&server.url("/app/transactions"))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::Forbidden {
            principal: Some(TOKEN_OID.to_owned())
        }
    );
    let text = err.to_string();
    assert!(
        text.ends_with(&format!(
            "the principal {TOKEN_OID} is not a user of this ledger; an Administrator must add it \
             with create_or_update_ledger_user"
        )),
        "{text}"
    );
    assert!(!text.contains(TOKEN), "{text}");
    assert_eq!(server.request_count(), 1, "not retried");

    // Certificate users: no token, the fingerprint given to the builder.
    let fingerprint = "5F:23:3D:00:11";
    let pipeline = Pipeline::builder(server.url("").parse().unwrap(), http())
        .principal_id(fingerprint)
        .build()
        .unwrap();
    let err = within(pipeline.send(
        reqwest::Request::new(Method::GET, server.url("/app/x").parse().unwrap()),
        &OperationContext::new("list_collections"),
    ))
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("the principal {fingerprint} is not a user")),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("list_collections: access denied (HTTP 403 Forbidden, code NotAllowed"),
        "{err}"
    );
}

#[derive(Debug)]
struct Failing;

#[async_trait]
impl TokenCredential for Failing {
    async fn get_token(&self, _scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        Err(CredentialError::new("the identity endpoint is unreachable"))
    }
}

#[tokio::test]
async fn a_credential_failure_sends_nothing_and_is_not_retried() {
    let server = Server::start(|_| Reply::json(200, "{}")).await;
    let pipeline = Pipeline::builder(server.url("").parse().unwrap(), http())
        .credential(Arc::new(Failing))
        .build()
        .unwrap();
    let err = within(pipeline.send(
        reqwest::Request::new(Method::GET, server.url("/app/x").parse().unwrap()),
        &OperationContext::new("get_constitution"),
    ))
    .await
    .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Credential);
    assert_eq!(
        err.to_string(),
        "get_constitution: cannot get a token for the ledger: the identity endpoint is unreachable"
    );
    assert_eq!(server.request_count(), 0);
}

/// Every PATCH of the API version the client targets takes a merge patch, and the operation
/// tables `raw::operation_context` reads say so (the hand-written 2024-12-09-preview
/// description declares `PATCH /app/roles` as plain JSON, so it is not checked here).
#[test]
fn every_patch_of_the_ledger_api_takes_a_merge_patch() {
    for spec in [
        "azure-rest-api-specs/specification/confidentialledger/data-plane/ConfidentialLedger/stable/2026-02-23/confidentialledger.json",
    ] {
        let Some(path) = testkit::shared::path(spec) else {
            return;
        };
        let document: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut patches = 0;
        for (route, operations) in document["paths"].as_object().unwrap() {
            if let Some(patch) = operations.get("patch") {
                patches += 1;
                let consumes = patch["consumes"].as_array().cloned().unwrap_or_default();
                assert_eq!(
                    consumes,
                    [serde_json::json!("application/merge-patch+json")],
                    "PATCH {route} in {spec}"
                );
            }
        }
        assert!(patches >= 3, "{spec} has {patches} PATCH operations");
        let tabled = confidential_ledger::raw::ledger::OPERATIONS
            .iter()
            .filter(|op| op.method == "PATCH")
            .inspect(|op| {
                assert_eq!(
                    op.request_content_type,
                    Some("application/merge-patch+json"),
                    "{}",
                    op.id
                )
            })
            .count();
        assert_eq!(tabled, patches);
    }
}

#[tokio::test]
async fn every_request_carries_one_client_request_id_per_call_kept_across_retries() {
    let server = Server::scripted([
        Reply::status(503),
        Reply::json(200, "{}"),
        Reply::json(200, "{}"),
        Reply::json(404, r#"{"error":{"code":"NotFound","message":"no"}}"#),
    ])
    .await;
    let harness = Harness::new(&server.url(""), options(3));
    harness.get(&server.url("/app/x")).await.unwrap();
    harness.get(&server.url("/app/x")).await.unwrap();
    let err = harness.get(&server.url("/app/x")).await.unwrap_err();
    let ids: Vec<String> = server
        .requests()
        .iter()
        .map(|r| {
            r.header("x-ms-client-request-id")
                .expect("every request has an id")
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 4);
    assert_eq!(ids[0], ids[1], "a retry keeps the call's id");
    assert_ne!(ids[1], ids[2], "another call, another id");
    assert_ne!(ids[2], ids[3]);
    assert_eq!(ids[0].len(), 36, "a hyphenated UUID: {}", ids[0]);
    // The failed call's error keeps the id it was sent with.
    assert_eq!(err.client_request_id(), Some(ids[3].as_str()));
}

#[tokio::test]
async fn a_client_request_id_given_by_the_caller_is_sent_and_a_bad_one_refused_before_sending() {
    let server = Server::scripted([Reply::status(503), Reply::json(200, "{}")]).await;
    let harness = Harness::new(&server.url(""), options(3));
    let op = OperationContext::new("get_ledger_entry").with_client_request_id("support-case-42");
    within(
        harness
            .pipeline
            .send(crate::support::get(&server.url("/app/x")), &op),
    )
    .await
    .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(
            request.header("x-ms-client-request-id"),
            Some("support-case-42")
        );
    }

    let bad = OperationContext::new("get_ledger_entry").with_client_request_id("two words");
    let err = within(
        harness
            .pipeline
            .send(crate::support::get(&server.url("/app/x")), &bad),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidInput, "{err}");
    assert_eq!(server.requests().len(), 2, "nothing more was sent");
}
