//! Running ledger JavaScript for the routes: the engine's failures in the service's shape,
//! and the key-value snapshot-run-commit cycle of a script.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::{ApiError, App, json as json_response};
use crate::TransactionId;
use crate::js::engine::{self, Failure, Finished, Run};
use crate::js::kv;
use crate::js::limits::Limits;
use crate::storage::record::GovOp;

/// How often a readwrite script is run again when another script's writes landed first.
const CONFLICT_ATTEMPTS: usize = 5;

/// CCF's answer to a script that threw or ran out of time: `500 InternalError`, with the
/// exception's message and trace as `details` only when `return_exception_details` is set.
pub(crate) fn failure_response(failure: &Failure, limits: &Limits) -> Response {
    let message = match failure {
        Failure::TimedOut => "Operation took too long to complete.",
        Failure::Exception { .. } => "Exception thrown while executing.",
        Failure::Host(_) => "The JavaScript engine could not run the script.",
    };
    log_failure(failure, limits);
    let mut error = json!({ "code": "InternalError", "message": message });
    if limits.return_exception_details
        && let Failure::Exception { message, trace } = failure
    {
        error["details"] = json!([{ "code": "JSException", "message": message, "trace": trace }]);
    }
    json_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        &json!({ "error": error }),
    )
}

/// Logs a failure's details when `log_exception_details` is set (a host failure always).
pub(crate) fn log_failure(failure: &Failure, limits: &Limits) {
    match failure {
        Failure::Host(why) => tracing::error!(%why, "JavaScript engine failure"),
        Failure::Exception { message, trace } if limits.log_exception_details => {
            tracing::info!(%message, trace = trace.as_deref().unwrap_or(""), "JavaScript exception");
        }
        Failure::TimedOut if limits.log_exception_details => {
            tracing::info!("JavaScript execution timed out");
        }
        _ => {}
    }
}

/// Runs `make(snapshot)` against the current key-value maps; a writable run's writes are
/// appended to the ledger as one transaction, over the snapshot it ran on (a run whose
/// snapshot was overtaken by another write runs again, as CCF retries a conflicting
/// transaction). Answers the script's result and the write's transaction id, if any.
pub(crate) async fn run_with_kv(
    app: &App,
    writable: bool,
    make: impl Fn(String) -> Run,
) -> Result<Result<(Finished, Option<TransactionId>), Failure>, ApiError> {
    for _ in 0..CONFLICT_ATTEMPTS {
        let (snapshot, version) = app
            .ledger
            .with_governance(|g| (kv::snapshot_json(&g.kv), g.kv_version));
        let mut run = make(snapshot);
        run.writable = writable;
        let finished = match engine::execute(run).await {
            Ok(f) => f,
            Err(failure) => return Ok(Err(failure)),
        };
        let writes: kv::KvWrites = finished
            .writes
            .iter()
            .filter(|(_, entries)| !entries.is_empty())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if writes.is_empty() || !writable {
            return Ok(Ok((finished, None)));
        }
        kv::check_writes(&writes).map_err(ApiError::internal)?;
        let outcome = app
            .ledger
            .govern(|g| {
                if g.kv_version == version {
                    Ok(GovOp::KvWrite { writes })
                } else {
                    Err(())
                }
            })
            .await?;
        if let Ok(txid) = outcome {
            return Ok(Ok((finished, Some(txid))));
        }
    }
    Err(ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "TransactionConflict",
        format!(
            "The script's writes conflicted with other writes in each of {CONFLICT_ATTEMPTS} attempts; retry later"
        ),
    ))
}

/// The ledger's runtime options.
pub(crate) fn runtime_options(app: &App) -> Value {
    app.ledger.with_governance(|g| g.runtime_options.clone())
}
