//! `/app/transactions`: write entries, read them back, statuses, receipts, ranges.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{
    ApiError, App, Caller, PathParam, QueryMap, json, json_body, next_link, validate_name,
    with_txid,
};
use crate::TransactionId;
use crate::access::Action;
use crate::ledger::{EntryView, TxState};
use crate::receipt;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewEntry {
    contents: String,
    #[serde(default)]
    pre_hooks: Option<Vec<Value>>,
    #[serde(default)]
    post_hooks: Option<Vec<Value>>,
}

fn entry_json(e: &EntryView) -> Value {
    json!({
        "collectionId": e.collection,
        "contents": e.contents,
        "transactionId": e.id.to_string(),
    })
}

/// A transaction id from the path; a malformed one cannot name a transaction.
fn path_id(raw: &str) -> Result<TransactionId, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::invalid_transaction_id(format!(
            "Transaction ID '{}' is not of the form <view>.<seqno>",
            raw.chars().take(64).collect::<String>()
        ))
    })
}

/// `POST /app/transactions`
pub(super) async fn create_entry(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: QueryMap,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::Write)?;
    let collection = query.collection()?;
    let tags = match query.get("tags") {
        None => Vec::new(),
        Some(list) => {
            let mut tags = Vec::new();
            for t in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                let t = validate_name("tags", t, 128)?.to_string();
                if !tags.contains(&t) {
                    tags.push(t);
                }
            }
            if tags.len() > 64 {
                return Err(ApiError::invalid_query("tags", "at most 64 tags"));
            }
            tags
        }
    };
    let wait = query.flag("waitForCommit")?;
    let entry: NewEntry = json_body(&app, &headers, body).await?;
    let hooks = entry
        .pre_hooks
        .iter()
        .chain(entry.post_hooks.iter())
        .any(|h| !h.is_empty());
    if hooks {
        return Err(ApiError::javascript("Ledger entry hooks"));
    }
    if app.ledger.take_rollback() {
        // Rolled back before its commit: never stored. Without `waitForCommit` the ledger
        // had already answered with the id (whose status becomes `Invalid`); with it the
        // answer is `503 TransactionRolledBack`.
        let id = app.ledger.roll_back_next()?;
        let answer = if wait {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "TransactionRolledBack",
                format!("Transaction {id} was rolled back before it could be committed"),
            )
            .into_response()
        } else {
            json(StatusCode::OK, &json!({ "collectionId": collection }))
        };
        return Ok(with_txid(answer, id));
    }
    let id = app
        .ledger
        .append_entry(
            &collection,
            entry.contents,
            tags,
            super::versions::entries_carry_claims(query.api_version()),
        )
        .await?;
    if !wait {
        return Ok(with_txid(
            json(StatusCode::OK, &json!({ "collectionId": collection })),
            id,
        ));
    }
    // The write is applied and durable: it commits at a later signature (only an armed
    // rollback, above, answers 503 TransactionRolledBack). A commit slower than the cap is
    // answered with its state so far.
    let timeout = app.options.wait_for_commit_timeout;
    if !app.ledger.wait_committed(id, timeout).await? {
        return Ok(with_txid(
            json(
                StatusCode::OK,
                &json!({ "collectionId": collection, "state": "Pending" }),
            ),
            id,
        ));
    }
    let r = app.ledger.receipt(id)?;
    let mut body = Map::new();
    if let Some(claims) = receipt::application_claims(&r) {
        body.insert("applicationClaims".into(), claims);
    }
    body.insert("collectionId".into(), Value::String(collection));
    body.insert("receipt".into(), receipt::receipt_contents(&r));
    body.insert("state".into(), Value::String("Committed".into()));
    Ok(with_txid(json(StatusCode::OK, &Value::Object(body)), id))
}

/// `GET /app/transactions/{id}`
pub(super) async fn get_entry(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathParam(raw): PathParam,
    query: QueryMap,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::Read)?;
    let id = path_id(&raw)?;
    let collection = query.collection()?;
    let ledger = app.ledger.clone();
    let entry = tokio::task::spawn_blocking(move || ledger.entry(id, &collection))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    if app.loading.is_loading(format!("tx|{id}")) {
        return Ok(json(StatusCode::OK, &json!({ "state": "Loading" })));
    }
    Ok(json(
        StatusCode::OK,
        &json!({ "entry": entry_json(&entry), "state": "Ready" }),
    ))
}

/// `GET /app/transactions/{id}/status`
pub(super) async fn status(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathParam(raw): PathParam,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::Read)?;
    let id = path_id(&raw)?;
    let state = match app.ledger.status(id)? {
        TxState::Committed => "Committed",
        TxState::Pending => "Pending",
        TxState::Invalid => "Invalid",
    };
    Ok(json(
        StatusCode::OK,
        &json!({ "state": state, "transactionId": id.to_string() }),
    ))
}

/// `GET /app/transactions/{id}/receipt`
pub(super) async fn receipt(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathParam(raw): PathParam,
    query: QueryMap,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::Read)?;
    let id = path_id(&raw)?;
    let ledger = app.ledger.clone();
    let data = tokio::task::spawn_blocking(move || ledger.receipt(id))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    if app.loading.is_loading(format!("tx|{id}")) {
        return Ok(json(
            StatusCode::OK,
            &receipt::loading_body(query.api_version()),
        ));
    }
    Ok(json(StatusCode::OK, &receipt::ready_body(&data)))
}

/// `GET /app/transactions/current`
pub(super) async fn current_entry(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::Read)?;
    let collection = query.collection()?;
    match app.ledger.current(&collection)? {
        Some(entry) => Ok(json(StatusCode::OK, &entry_json(&entry))),
        None => Err(ApiError::not_found(
            "UnknownLedgerEntry",
            format!("No ledger entry found in collection {collection}"),
        )),
    }
}

/// `GET /app/transactions?fromTransactionId&toTransactionId&collectionId&tag`
pub(super) async fn list_entries(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::Read)?;
    let collection = query.collection()?;
    let tag = query
        .get("tag")
        .map(|t| validate_name("tag", t, 128))
        .transpose()?;
    let from = query.transaction_id("fromTransactionId")?;
    let to = query.transaction_id("toTransactionId")?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ApiError::invalid_query(
            "fromTransactionId",
            format!("{f} is after toTransactionId {t}"),
        ));
    }
    let (from_seqno, to_seqno) = app.ledger.range_bounds(from, to)?;
    let ready_empty = || json(StatusCode::OK, &json!({ "entries": [], "state": "Ready" }));
    // Without a start, the range starts at the collection's first entry.
    let Some(start) = from.or_else(|| app.ledger.first_in(&collection, tag)) else {
        return Ok(ready_empty());
    };
    let api_version = query.api_version().to_string();
    let link = |start: TransactionId| {
        let mut params = vec![
            ("collectionId", collection.clone()),
            ("fromTransactionId", start.to_string()),
        ];
        if let Some(t) = tag {
            params.push(("tag", t.to_string()));
        }
        if let Some(t) = to {
            params.push(("toTransactionId", t.to_string()));
        }
        next_link("/app/transactions", &api_version, &params)
    };
    let key = format!(
        "range|{collection}|{}|{start}|{}",
        tag.unwrap_or(""),
        to.map(|t| t.to_string()).unwrap_or_default()
    );
    if app.loading.is_loading(key) {
        return Ok(json(
            StatusCode::OK,
            &json!({ "entries": [], "nextLink": link(start), "state": "Loading" }),
        ));
    }
    let (ids, next) = app.ledger.range_seqnos(
        &collection,
        tag,
        from_seqno.max(start.seqno),
        to_seqno,
        app.options.page_size,
    );
    let ledger = app.ledger.clone();
    let entries = tokio::task::spawn_blocking(move || ledger.read_entries(&ids))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    let mut body = Map::new();
    body.insert(
        "entries".into(),
        Value::Array(entries.iter().map(entry_json).collect()),
    );
    if let Some(n) = next {
        body.insert("nextLink".into(), Value::String(link(n)));
    }
    body.insert("state".into(), Value::String("Ready".into()));
    Ok(json(StatusCode::OK, &Value::Object(body)))
}
