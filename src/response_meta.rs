//! [`Response`]: a result with the metadata of the answer it came from.

use std::fmt;
use std::ops::Deref;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::TransactionId;
use crate::pipeline::TRANSACTION_ID_HEADER;

/// A method's result together with the answer it came from: its status, its headers, the
/// transaction the ledger answered at (`x-ms-ccf-transaction-id`) and the
/// `x-ms-client-request-id` the call was sent with, as the Azure SDK's and reqwest's
/// responses give them. Returned by the `..._with_response` methods (such as
/// [`get_current_ledger_entry_with_response`](crate::ConfidentialLedgerClient::get_current_ledger_entry_with_response));
/// the plain methods return the value alone.
///
/// It dereferences to the value; [`into_inner`](Self::into_inner) takes it out.
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
/// let response = client.get_current_ledger_entry_with_response(None).await?;
/// println!(
///     "{} (read at transaction {:?}, status {}, client request id {})",
///     response.contents, // the entry, through Deref
///     response.transaction_id(),
///     response.status(),
///     response.client_request_id(),
/// );
/// let entry = response.into_inner();
/// # let _ = entry;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Response<T> {
    value: T,
    status: StatusCode,
    headers: HeaderMap,
    client_request_id: String,
}

impl<T> Response<T> {
    pub(crate) fn new(
        value: T,
        status: StatusCode,
        headers: HeaderMap,
        client_request_id: String,
    ) -> Self {
        Self {
            value,
            status,
            headers,
            client_request_id,
        }
    }

    /// The value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// Takes the value out.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The answer's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The `x-ms-client-request-id` the call was sent with (the caller's
    /// [`CallOptions::client_request_id`](crate::client::CallOptions::client_request_id), or
    /// the fresh one the client made).
    pub fn client_request_id(&self) -> &str {
        &self.client_request_id
    }

    /// The transaction the ledger's answer reflects (`x-ms-ccf-transaction-id`): for a read,
    /// the latest transaction the answering node had applied. `None` when the header is
    /// absent or malformed.
    pub fn transaction_id(&self) -> Option<TransactionId> {
        self.headers
            .get(TRANSACTION_ID_HEADER)?
            .to_str()
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// The same metadata around `f(value)`, or `f`'s error.
    pub(crate) fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Response<U>, E> {
        Ok(Response {
            value: f(self.value)?,
            status: self.status,
            headers: self.headers,
            client_request_id: self.client_request_id,
        })
    }

    /// The same metadata around `f(value)`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            value: f(self.value),
            status: self.status,
            headers: self.headers,
            client_request_id: self.client_request_id,
        }
    }
}

impl<T> Deref for Response<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Response<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header names only: values may carry what should not be printed.
        let names: Vec<&str> = self.headers.keys().map(|k| k.as_str()).collect();
        f.debug_struct("Response")
            .field("value", &self.value)
            .field("status", &self.status)
            .field("headers", &names)
            .field("client_request_id", &self.client_request_id)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn metadata_is_read_from_the_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(TRANSACTION_ID_HEADER, HeaderValue::from_static("2.15"));
        headers.insert("set-cookie", HeaderValue::from_static("secret"));
        let response = Response::new(7u32, StatusCode::OK, headers, "id-1".into());
        assert_eq!(response.transaction_id(), Some(TransactionId::new(2, 15)));
        assert_eq!(*response, 7);
        assert_eq!(response.client_request_id(), "id-1");
        let shown = format!("{response:?}");
        assert!(
            shown.contains("set-cookie") && !shown.contains("secret"),
            "{shown}"
        );
        let mapped = response.map(|v| v + 1);
        assert_eq!(mapped.status(), StatusCode::OK);
        assert_eq!(mapped.into_inner(), 8);

        let mut bad = HeaderMap::new();
        bad.insert(TRANSACTION_ID_HEADER, HeaderValue::from_static("2.x"));
        let response = Response::new((), StatusCode::OK, bad, "id-2".into());
        assert_eq!(response.transaction_id(), None);
    }
}
