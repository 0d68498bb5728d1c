//! The identity endpoint (`GET /ledgerIdentity/{ledgerId}`) and the sandbox's control
//! endpoints, authenticated by the control secret in the data directory:
//! `POST /sandbox/rotate-identity` (used by `confidential-ledger-sandbox rotate-identity`) and
//! `POST /sandbox/storage-fault` with `{"fault": "disk-full" | "fsync-fails" | "short-write" |
//! null}` (used by `confidential-ledger-sandbox storage-fault`).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::{ApiError, App, QueryMap, json};

/// Header carrying the control secret.
pub(crate) const CONTROL_HEADER: &str = "x-sandbox-control";

/// Identity service api versions.
const IDENTITY_API_VERSIONS: [&str; 5] = [
    "2022-05-13",
    "2023-01-18-preview",
    "2024-08-22-preview",
    "2024-12-09-preview",
    "2026-02-23",
];

async fn ledger_identity(
    State(app): State<Arc<App>>,
    Path(ledger_id): Path<String>,
    query: QueryMap,
) -> Result<Response, ApiError> {
    if let Some(v) = query.get("api-version")
        && !IDENTITY_API_VERSIONS.contains(&v)
    {
        return Err(ApiError::bad_request(
            "QueryParameterError",
            format!(
                "Parsed api-version {v} is not available. Please use one of the following versions: {}",
                IDENTITY_API_VERSIONS.join(",")
            ),
        ));
    }
    let ours = app.ledger.with_identity(|id| id.ledger_id.clone());
    if ledger_id != ours {
        return Err(ApiError::not_found(
            "LedgerNotFound",
            format!("Ledger {ledger_id} was not found"),
        ));
    }
    let certificate = app.ledger.current_generation().service_cert_pem.clone();
    let mut response = json(
        StatusCode::OK,
        &json!({ "ledgerId": ours, "ledgerTlsCertificate": certificate }),
    );
    // The real identity service names the charset (every recording of it does).
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    Ok(response)
}

/// Constant-time comparison of the presented control secret.
fn control_allowed(app: &App, headers: &HeaderMap) -> bool {
    let Some(given) = headers.get(CONTROL_HEADER).map(|v| v.as_bytes()) else {
        return false;
    };
    let expected = app.control_secret.as_bytes();
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

async fn rotate_identity(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !control_allowed(&app, &headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "NotAllowed",
            "The control secret is missing or wrong",
        ));
    }
    let generation = app.rotate().await?;
    Ok(json(
        StatusCode::OK,
        &json!({ "serviceCertificate": generation.service_cert_pem }),
    ))
}

#[derive(serde::Deserialize)]
struct StorageFaultRequest {
    fault: Option<String>,
}

async fn storage_fault(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    if !control_allowed(&app, &headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "NotAllowed",
            "The control secret is missing or wrong",
        ));
    }
    let bytes = super::read_body(body, 4096).await?;
    let request: StorageFaultRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::invalid_input(format!("Invalid request body: {e}")))?;
    let fault = request
        .fault
        .map(|name| name.parse::<crate::StorageFault>())
        .transpose()
        .map_err(|e| ApiError::invalid_input(e.to_string()))?;
    app.storage_faults.set(fault);
    tracing::info!(
        fault = fault.map_or("none", crate::StorageFault::name),
        "storage fault switched"
    );
    Ok(json(
        StatusCode::OK,
        &json!({ "fault": fault.map(crate::StorageFault::name) }),
    ))
}

async fn not_found(request: Request) -> Response {
    ApiError::not_found(
        "ResourceNotFound",
        format!("Unknown path: {}.", request.uri().path()),
    )
    .into_response()
}

/// The identity endpoint's router.
pub(crate) fn identity_router(app: Arc<App>) -> Router {
    Router::new()
        .route("/ledgerIdentity/{ledger_id}", get(ledger_identity))
        .route("/sandbox/rotate-identity", post(rotate_identity))
        .route("/sandbox/storage-fault", post(storage_fault))
        .fallback(not_found)
        .with_state(app)
}
