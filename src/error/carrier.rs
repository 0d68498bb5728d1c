//! Passing an [`Error`] through code that only knows `reqwest` types; see [`CARRIER_STATUS`].

use std::sync::{Arc, Mutex, PoisonError};

use reqwest::StatusCode;

use super::{Error, ErrorKind, snippet};

/// The status of a *carrier* response: 999, outside every range an API declares.
///
/// The generated client runs every request through its `exec` hook, whose signature is fixed:
/// `async fn exec(&self, reqwest::Request, &OperationInfo) -> reqwest::Result<reqwest::Response>`.
/// A `reqwest::Error` cannot be made outside reqwest, so a failure of the
/// [`Pipeline`](crate::pipeline::Pipeline) (a refused redirect, an unknown outcome, a missing
/// token, or the ledger's own error answer) could not cross that boundary as such. Instead the
/// hook answers with a *carrier*: a synthetic `reqwest::Response` with this status, an empty
/// body and the error in its extensions.
///
/// The generated code matches statuses it knows (2xx, and error ranges such as `4XX`/`5XX`)
/// and hands anything else back as `progenitor_client::Error::UnexpectedResponse(response)`.
/// [`Error::from`] on that error takes the carried error out again, intact: kind, message,
/// cause chain and all. The only requirement on the generated operations is that no response
/// is declared for status 999 (no `default` response; the spec converter writes error ranges).
/// Callers of generated operations must convert their errors with `Error::from` before
/// looking at them: the raw `progenitor_client::Error` of a carrier reports status 999.
///
/// ```
/// use confidential_ledger::{Error, ErrorKind};
///
/// let original = Error::from_parts(
///     reqwest::StatusCode::NOT_FOUND,
///     &Default::default(),
///     br#"{"error":{"code":"UnknownLedgerEntry","message":"no such entry"}}"#,
/// );
/// // In the exec hook: `Ok(pipeline.send(request, &op).await.unwrap_or_else(Error::into_response))`
/// let carrier = original.into_response();
/// assert_eq!(carrier.status().as_u16(), confidential_ledger::error::CARRIER_STATUS);
///
/// // What the generated operation returns for it, and what the client turns it into:
/// let generated: progenitor_client::Error<()> = progenitor_client::Error::UnexpectedResponse(carrier);
/// let recovered = Error::from(generated);
/// assert_eq!(recovered.kind(), &ErrorKind::NotFound);
/// assert_eq!(recovered.error_code(), Some("UnknownLedgerEntry"));
/// ```
///
/// Public (in [`error`](crate::error), not at the crate root) because a program that calls the
/// [`raw`](crate::raw) clients and looks at their errors before converting them sees this
/// status.
pub const CARRIER_STATUS: u16 = 999;

/// The extension holding a carried error. Extensions must be `Clone`; the error is taken out
/// exactly once.
#[derive(Clone)]
struct Carried(Arc<Mutex<Option<Error>>>);

impl Error {
    /// This error wrapped in a synthetic response with status [`CARRIER_STATUS`], to pass it
    /// through a `reqwest::Result<reqwest::Response>` (the generated client's `exec` hook).
    /// [`take_from_response`](Self::take_from_response) and `Error::from` on the generated
    /// client's error take it out again. See [`CARRIER_STATUS`] and the crate's pipeline
    /// documentation.
    pub fn into_response(self) -> reqwest::Response {
        let mut response = http::Response::new(reqwest::Body::from(Vec::new()));
        // 999 is within the range `StatusCode` accepts (100..=999).
        *response.status_mut() =
            StatusCode::from_u16(CARRIER_STATUS).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        response
            .extensions_mut()
            .insert(Carried(Arc::new(Mutex::new(Some(self)))));
        reqwest::Response::from(response)
    }

    /// The error carried by `response`, if it is a carrier made by
    /// [`into_response`](Self::into_response) whose error was not taken yet.
    pub fn take_from_response(response: &mut reqwest::Response) -> Option<Error> {
        let carried = response.extensions_mut().remove::<Carried>()?;
        // The lock is only held to take the value; a poisoned one still holds it.
        carried
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl Error {
    /// A success answer with a status the operation does not answer with.
    pub(crate) fn unexpected_success(status: StatusCode) -> Error {
        Error::decode(
            format!("the status {status} is not one this operation answers with"),
            b"",
        )
    }

    /// A success answer whose `body` is not the operation's answer.
    pub(crate) fn invalid_payload(body: &[u8], e: serde_json::Error) -> Error {
        Error::decode(snippet::excerpt(&e.to_string(), 300), body).with_source(e)
    }
}

impl<E> From<progenitor_client::Error<E>> for Error {
    /// The error of a generated operation. A carrier response gives back the carried error;
    /// anything else is classified from what is left of it (the generated code has consumed
    /// error bodies by then, so prefer the pipeline, which maps them before that).
    fn from(err: progenitor_client::Error<E>) -> Self {
        use progenitor_client::Error as Generated;
        match err {
            Generated::UnexpectedResponse(mut response) => {
                if let Some(carried) = Error::take_from_response(&mut response) {
                    return carried;
                }
                let status = response.status();
                if status.is_success() {
                    Error::unexpected_success(status)
                } else {
                    Error::from_parts(status, response.headers(), b"")
                }
            }
            Generated::ErrorResponse(value) => {
                Error::from_parts(value.status(), value.headers(), b"")
            }
            Generated::CommunicationError(e)
            | Generated::InvalidUpgrade(e)
            | Generated::ResponseBodyError(e) => Error::from(e),
            Generated::InvalidResponsePayload(body, e) => Error::invalid_payload(&body, e),
            Generated::InvalidRequest(message) => Error::invalid_input(message),
            Generated::Custom(message) => Error::new(
                ErrorKind::InvalidInput,
                format!("a request hook refused the request: {message}"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[tokio::test]
    async fn a_carried_error_survives_the_response_intact() {
        let cause = std::io::Error::other("connection reset by peer");
        let original = Error::outcome_unknown(
            Error::new(ErrorKind::Transport, "the exchange failed").with_source(cause),
            "the connection broke after the request was sent",
        )
        .with_operation("create_ledger_entry");
        let text = original.to_string();

        let mut response = original.into_response();
        assert_eq!(response.status().as_u16(), CARRIER_STATUS);
        // The body is empty: nothing else could mistake the carrier for a real answer.
        let recovered = Error::take_from_response(&mut response).expect("carried");
        assert_eq!(recovered.kind(), &ErrorKind::OutcomeUnknown);
        assert_eq!(recovered.to_string(), text);
        assert_eq!(recovered.operation(), Some("create_ledger_entry"));
        let mut chain = Vec::new();
        let mut next = recovered.source();
        while let Some(e) = next {
            chain.push(e.to_string());
            next = e.source();
        }
        assert_eq!(
            chain.last().unwrap(),
            "connection reset by peer",
            "{chain:?}"
        );
        // Taken once.
        assert!(Error::take_from_response(&mut response).is_none());
        assert!(response.bytes().await.unwrap().is_empty());
    }

    #[test]
    fn generated_errors_map_to_kinds() {
        let carrier = Error::invalid_input("entry too large").into_response();
        let err: Error = progenitor_client::Error::<()>::UnexpectedResponse(carrier).into();
        assert_eq!(err.kind(), &ErrorKind::InvalidInput);
        assert_eq!(err.to_string(), "invalid input: entry too large");

        // A real response the pipeline did not wrap (not expected, but classified).
        let real: reqwest::Response = http::Response::builder()
            .status(503)
            .body(reqwest::Body::from(Vec::new()))
            .unwrap()
            .into();
        let err: Error = progenitor_client::Error::<()>::UnexpectedResponse(real).into();
        assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        assert!(err.is_retryable());

        let ok: reqwest::Response = http::Response::builder()
            .status(204)
            .body(reqwest::Body::from(Vec::new()))
            .unwrap()
            .into();
        let err: Error = progenitor_client::Error::<()>::UnexpectedResponse(ok).into();
        assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err}");

        let json_error = serde_json::from_slice::<serde_json::Value>(b"{oops").unwrap_err();
        let err: Error = progenitor_client::Error::<()>::InvalidResponsePayload(
            b"{oops Bearer abc".to_vec().into(),
            json_error,
        )
        .into();
        match err.kind() {
            ErrorKind::Decode { snippet } => assert_eq!(snippet, "{oops Bearer [redacted]"),
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("key must be a string"), "{err}");

        let err: Error = progenitor_client::Error::<()>::InvalidRequest("bad path".into()).into();
        assert_eq!(err.kind(), &ErrorKind::InvalidInput);
        let err: Error = progenitor_client::Error::<()>::Custom("hook".into()).into();
        assert_eq!(err.kind(), &ErrorKind::InvalidInput);

        let value = progenitor_client::ResponseValue::new(
            (),
            StatusCode::CONFLICT,
            reqwest::header::HeaderMap::new(),
        );
        let err: Error = progenitor_client::Error::ErrorResponse(value).into();
        assert_eq!(err.kind(), &ErrorKind::Conflict);
    }
}
