//! Error answers in the service's shape: `{"error": {"code": "...", "message": "..."}}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::SandboxError;
use crate::ledger::LookupError;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) retry_after: Option<u64>,
    /// A `Location` header (redirects).
    pub(crate) location: Option<&'static str>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
            retry_after: None,
            location: None,
        }
    }

    pub(crate) fn bad_request(code: &str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A request body that is not what the operation takes.
    pub(crate) fn invalid_input(message: impl Into<String>) -> Self {
        ApiError::bad_request("InvalidInput", message)
    }

    /// A query parameter with an unusable value.
    pub(crate) fn invalid_query(name: &str, message: impl std::fmt::Display) -> Self {
        ApiError::bad_request(
            "InvalidQueryParameterValue",
            format!("Invalid value for query parameter '{name}': {message}"),
        )
    }

    pub(crate) fn not_found(code: &str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    /// A path or query transaction id that cannot name a transaction.
    pub(crate) fn invalid_transaction_id(message: impl Into<String>) -> Self {
        ApiError::not_found("InvalidTransactionId", message)
    }

    /// JavaScript the sandbox does not run (entry hooks).
    pub(crate) fn javascript(what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "JavaScriptNotSupported",
            format!(
                "{what}: the sandbox runs user-defined functions and endpoints, but not hooks around ledger writes"
            ),
        )
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", message)
    }
}

impl From<SandboxError> for ApiError {
    fn from(e: SandboxError) -> Self {
        match e {
            SandboxError::ShuttingDown => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                e.to_string(),
            ),
            SandboxError::Storage(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "StorageUnavailable",
                e.to_string(),
            ),
            SandboxError::StorageOutcomeUnknown(_) => ApiError::internal(e.to_string()),
            SandboxError::InvalidArgument(m) => ApiError::invalid_input(m),
            other => {
                tracing::error!("request failed: {other}");
                ApiError::internal(other.to_string())
            }
        }
    }
}

impl From<LookupError> for ApiError {
    fn from(e: LookupError) -> Self {
        match e {
            LookupError::InvalidTransactionId(m) => ApiError::invalid_transaction_id(m),
            LookupError::Pending(id) => ApiError::not_found(
                "TransactionPendingOrUnknown",
                format!("Only committed transactions can be queried. Transaction {id} is Pending"),
            ),
            LookupError::NoEntry { id, collection } => ApiError::not_found(
                "UnknownLedgerEntry",
                format!("No ledger entry found in collection {collection} at transaction {id}"),
            ),
            LookupError::Storage(e) => e.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(after) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(after));
        }
        if let Some(location) = self.location {
            headers.insert(header::LOCATION, HeaderValue::from_static(location));
        }
        response
    }
}
