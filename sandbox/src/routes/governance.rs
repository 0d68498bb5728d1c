//! Governance reads: consortium members, the constitution, enclave quotes.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{ApiError, App, Caller, QueryMap, json, page};
use crate::access::Action;
use crate::digest::sha256;

/// `GET /app/governance/members`
pub(super) async fn members(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::Read)?;
    let (certificate, der) = app
        .ledger
        .with_identity(|id| (id.member_cert_pem().to_string(), id.member_cert_der.clone()));
    let members = vec![json!({ "certificate": certificate, "id": hex::encode(sha256(&[&der])) })];
    let (items, next) = page(
        &members,
        query.skip()?,
        app.options.page_size,
        "/app/governance/members",
        query.api_version(),
        &[],
    );
    let mut body = Map::new();
    body.insert("members".into(), Value::Array(items));
    if let Some(n) = next {
        body.insert("nextLink".into(), Value::String(n));
    }
    Ok(json(StatusCode::OK, &Value::Object(body)))
}

/// `GET /app/governance/constitution`
pub(super) async fn constitution(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::Read)?;
    let script = app.ledger.with_governance(|g| g.constitution.clone());
    Ok(json(
        StatusCode::OK,
        &json!({ "digest": hex::encode(sha256(&[script.as_bytes()])), "script": script }),
    ))
}

/// `GET /app/enclaveQuotes`: one virtual quote for the sandbox's node, marked as not coming
/// from hardware.
pub(super) async fn enclave_quotes(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::Read)?;
    let generation = app.ledger.current_generation();
    let statement = json!({
        "format": "confidential-ledger-sandbox virtual quote",
        "warning": "NOT A HARDWARE ATTESTATION: this sandbox does not run in a trusted execution environment",
        "nodeId": generation.node_id,
        "nodeCertificateSha256": hex::encode(sha256(&[&generation.node_cert_der])),
    });
    let node = generation.node_id.clone();
    Ok(json(
        StatusCode::OK,
        &json!({
            "currentNodeId": node,
            "enclaveQuotes": {
                node.clone(): {
                    "nodeId": node,
                    "quoteVersion": "Insecure_Virtual",
                    "raw": hex::encode(statement.to_string()),
                }
            }
        }),
    ))
}
