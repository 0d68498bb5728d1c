//! The two calls made most often, a transaction's status and a write, built and decoded here
//! instead of by the generated client.
//!
//! Every commit wait polls the status, and most traffic is writes: for these two the generated
//! client's per-call work is a large part of the client's own cost. It builds its query with
//! `serde_urlencoded` and parses the URL twice, adds an `api-version` header that its hook then
//! removes, needs a generated client and hook state made for the call, and decodes from a
//! response that the pipeline rebuilt around the body it had already read. Here the request is
//! the same on the wire (method, path, query, headers and body: `tests/client/fast_calls.rs`
//! sends both and compares what a server received), sent through the same [`Pipeline`] with
//! the same [`OperationContext`] (deadline, client request id, body logging, retries,
//! redirects, limits), and decoded from the bytes the pipeline read, with the generated types
//! and the errors the generated path gives.
//!
//! [`Pipeline`]: crate::pipeline::Pipeline

use std::future::Future;

use form_urlencoded::byte_serialize;
use progenitor_client::ResponseValue;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;

use super::entries::PreparedWrite;
use super::{CallOptions, ConfidentialLedgerClient};
use crate::pipeline::{Answer, OperationContext};
use crate::raw::ledger::types;
use crate::{Error, TransactionId};

/// The media type both calls accept and the write sends.
const JSON: HeaderValue = HeaderValue::from_static("application/json");

impl ConfidentialLedgerClient {
    /// `get_transaction_status` for `id`, as the generated client answers it (for
    /// `get_transaction_status` itself and the commit watcher's polls).
    ///
    /// A plain function returning [`fast_call`](Self::fast_call)'s future, as
    /// [`write_response`](Self::write_response): one level of future less for every call.
    pub(super) fn status_response<'a>(
        &'a self,
        id: TransactionId,
        call: &'a CallOptions,
    ) -> impl Future<Output = Result<ResponseValue<types::TransactionStatus>, Error>> + 'a {
        let url = move || self.inner.fast_urls.status(id);
        self.fast_call("get_transaction_status", call, Method::GET, url, Ok(None))
    }

    /// `create_ledger_entry` of `write`, as the generated client answers it.
    pub(super) fn write_response<'a>(
        &'a self,
        write: &'a PreparedWrite,
        call: &'a CallOptions,
    ) -> impl Future<Output = Result<ResponseValue<types::LedgerWriteResult>, Error>> + 'a {
        let url = || {
            self.inner
                .fast_urls
                .write(write.collection_id(), write.tags(), write.wait_for_commit())
        };
        let body = serde_json::to_vec(write.body())
            .map(|body| Some(bytes::Bytes::from(body)))
            .map_err(|e| Error::invalid_input(format!("the entry cannot be sent as JSON: {e}")));
        self.fast_call("create_ledger_entry", call, Method::POST, url, body)
    }

    /// Sends a request to the URL `url` makes with `body` (or fails with why there is none)
    /// for `operation_id` with `call`'s settings (once more after a pin refresh, as every
    /// call), and decodes its `200` answer.
    async fn fast_call<T: DeserializeOwned>(
        &self,
        operation_id: &'static str,
        call: &CallOptions,
        method: Method,
        url: impl Fn() -> Url,
        body: Result<Option<bytes::Bytes>, Error>,
    ) -> Result<ResponseValue<T>, Error> {
        let body = body.map_err(|e| e.with_operation(operation_id))?;
        let id = super::request_id_for(call);
        let deadline = self.deadline_for(call);
        self.with_pinned_connections(|connections| {
            let request = request(method.clone(), url(), body.clone());
            let op = OperationContext::new(operation_id).with_call_settings(
                call.logging_enable,
                deadline,
                Some(&id),
            );
            async move {
                let answer = connections.pipeline.send_for_answer(request, op).await?;
                decode(answer).map_err(|e| e.with_operation(operation_id))
            }
        })
        .await
    }
}

/// A request to `url` with the generated client's headers, and `body` as JSON when given.
fn request(method: Method, url: Url, body: Option<bytes::Bytes>) -> reqwest::Request {
    let mut request = reqwest::Request::new(method, url);
    let headers = request.headers_mut();
    headers.insert(ACCEPT, JSON);
    if let Some(body) = body {
        headers.insert(CONTENT_TYPE, JSON);
        *request.body_mut() = Some(reqwest::Body::from(body));
    }
    request
}

/// The URLs of the two calls, parsed once per client: a call changes the path or the query
/// of a copy (a full parse, the host's included, costs as much as the rest of the request).
#[derive(Debug)]
pub(super) struct FastUrls {
    /// `{base}/app/transactions?api-version={version}`: the write's URL without optional
    /// parameters, and where a status URL's path and query come from.
    transactions: Url,
}

impl FastUrls {
    /// The URLs under `base` (the client's base URL) for `api_version`.
    pub(super) fn new(base: &str, api_version: &str) -> Result<Self, Error> {
        let mut url = format!("{base}/app/transactions?api-version=");
        push_query_value(&mut url, api_version);
        let transactions = Url::parse(&url).map_err(|e| {
            Error::invalid_input(format!(
                "the ledger's transactions URL {url} is invalid: {e}"
            ))
        })?;
        Ok(Self { transactions })
    }

    /// The status URL of `id`: `{base}/app/transactions/{id}/status?api-version={version}`.
    fn status(&self, id: TransactionId) -> Url {
        let mut url = self.transactions.clone();
        // Only a URL that cannot be a base (no `https://` one) has no path segments.
        if let Ok(mut segments) = url.path_segments_mut() {
            segments
                .push(id.text_in(&mut [0; crate::transaction_id::TEXT_BYTES]))
                .push("status");
        }
        url
    }

    /// The write URL with the optional query parameters given, in the generated client's
    /// order.
    fn write(&self, collection: Option<&str>, tags: Option<&str>, wait: Option<bool>) -> Url {
        let mut url = self.transactions.clone();
        if collection.is_none() && tags.is_none() && wait.is_none() {
            return url;
        }
        let mut query = url.query().unwrap_or_default().to_owned();
        if let Some(collection) = collection {
            query.push_str("&collectionId=");
            push_query_value(&mut query, collection);
        }
        if let Some(tags) = tags {
            query.push_str("&tags=");
            push_query_value(&mut query, tags);
        }
        if let Some(wait) = wait {
            query.push_str(if wait {
                "&waitForCommit=true"
            } else {
                "&waitForCommit=false"
            });
        }
        url.set_query(Some(&query));
        url
    }
}

/// Appends `value` form-encoded, as the generated client's query encoding does.
fn push_query_value(url: &mut String, value: &str) {
    url.extend(byte_serialize(value.as_bytes()));
}

/// The generated client's reading of an answer the pipeline passed as a success: a `200`
/// decoded as `T`; any other success status, or a body that is not a `T`, is a decode error.
/// The error keeps the answer's status and transaction id (a write whose answer is garbled
/// after its transaction id arrived was applied all the same).
fn decode<T: DeserializeOwned>(answer: Answer) -> Result<ResponseValue<T>, Error> {
    let Answer { mut response, body } = answer;
    let status = response.status();
    let decoded = if status == StatusCode::OK {
        serde_json::from_slice(&body).map_err(|e| Error::invalid_payload(&body, e))
    } else {
        Err(Error::unexpected_success(status))
    };
    match decoded {
        Ok(value) => Ok(ResponseValue::new(
            value,
            status,
            std::mem::take(response.headers_mut()),
        )),
        Err(err) => Err(err.with_answer_head(status, response.headers())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The URL as the generated client builds it: each parameter given, in order, through
    /// the query encoding its requests use (`serde_urlencoded` over `form_urlencoded`).
    fn generated(base: &str, path: &str, params: &[(&str, Option<&str>)]) -> Url {
        let mut url = Url::parse(&format!("{base}{path}")).unwrap();
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in params {
                if let Some(value) = value {
                    query.append_pair(name, value);
                }
            }
        }
        url
    }

    #[test]
    fn urls_are_the_generated_clients() {
        for base in [
            "https://l.confidential-ledger.azure.com",
            "http://127.0.0.1:8443/prefix",
        ] {
            for version in ["2026-02-23", "2026-07-31-preview", "a b+c/é&d=e#f"] {
                let urls = FastUrls::new(base, version).unwrap();
                for id in [TransactionId::new(2, 15), TransactionId::new(u64::MAX, 1)] {
                    let path = format!("/app/transactions/{id}/status");
                    let expected = generated(base, &path, &[("api-version", Some(version))]);
                    assert_eq!(urls.status(id), expected);
                }
                for collection in [None, Some("audit"), Some("a b+c")] {
                    for tags in [None, Some("x,y"), Some("é")] {
                        for wait in [None, Some(true), Some(false)] {
                            let wait_text = wait.map(|w| if w { "true" } else { "false" });
                            let expected = generated(
                                base,
                                "/app/transactions",
                                &[
                                    ("api-version", Some(version)),
                                    ("collectionId", collection),
                                    ("tags", tags),
                                    ("waitForCommit", wait_text),
                                ],
                            );
                            assert_eq!(urls.write(collection, tags, wait), expected);
                        }
                    }
                }
            }
        }
    }
}
