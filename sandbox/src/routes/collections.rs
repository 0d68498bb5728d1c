//! `/app/collections` and `/app/collections/tags`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{ApiError, App, Caller, QueryMap, json, page};
use crate::access::Action;

/// `GET /app/collections`
pub(super) async fn list_collections(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::Read)?;
    let names = app.ledger.collections();
    let (items, next) = page(
        &names,
        query.skip()?,
        app.options.page_size,
        "/app/collections",
        query.api_version(),
        &[],
    );
    let mut body = Map::new();
    body.insert(
        "collections".into(),
        Value::Array(items.iter().map(|c| json!({ "collectionId": c })).collect()),
    );
    if let Some(n) = next {
        body.insert("nextLink".into(), Value::String(n));
    }
    Ok(json(StatusCode::OK, &Value::Object(body)))
}

/// `GET /app/collections/tags?collectionId=`
pub(super) async fn list_tags(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    app.authorize(&caller, Action::Read)?;
    let collection = query.collection()?;
    let tags = app.ledger.tags(&collection);
    let (items, next) = page(
        &tags,
        query.skip()?,
        app.options.page_size,
        "/app/collections/tags",
        query.api_version(),
        &[("collectionId", collection.clone())],
    );
    let mut body = Map::new();
    if let Some(n) = next {
        body.insert("nextLink".into(), Value::String(n));
    }
    body.insert(
        "tags".into(),
        Value::Array(items.into_iter().map(Value::String).collect()),
    );
    Ok(json(StatusCode::OK, &Value::Object(body)))
}
