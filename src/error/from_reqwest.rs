//! From a failed HTTP exchange (`reqwest::Error`) to an [`Error`].

use std::error::Error as StdError;

use super::{Error, ErrorKind, redact};
use crate::tls::{error_chain as chain, find_pin_mismatch, find_tls_error};

/// The innermost cause's message: what actually happened ("Connection refused (os error
/// 111)", "connection closed before message completed").
fn root_cause(error: &(dyn StdError + 'static)) -> String {
    chain(error)
        .last()
        .map_or_else(String::new, |e| redact(&e.to_string()))
}

/// The request's URL without query or user information, for messages.
fn where_to(error: &reqwest::Error) -> String {
    error.url().map_or_else(
        || "the ledger".to_owned(),
        |url| {
            let mut url = url.clone();
            url.set_query(None);
            url.set_fragment(None);
            // Only fails for URLs that cannot have user information; nothing to remove then.
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        },
    )
}

impl From<reqwest::Error> for Error {
    /// Classifies a failed exchange: pin mismatch, other TLS failure, timeout, connection
    /// failure, invalid request, undecodable body.
    fn from(err: reqwest::Error) -> Self {
        let connect = err.is_connect();
        let target = where_to(&err);
        let cause = root_cause(&err);
        let error = if let Some(mismatch) = find_pin_mismatch(&err) {
            Error::from(mismatch.clone())
        } else if find_tls_error(&err).is_some() {
            Error::new(
                ErrorKind::Tls,
                format!("TLS handshake with {target} failed: {cause}"),
            )
        } else if err.is_timeout() {
            let when = if connect {
                "while connecting to"
            } else {
                "waiting for"
            };
            Error::new(
                ErrorKind::Timeout,
                format!("no answer in time {when} {target}"),
            )
        } else if err.is_builder() {
            Error::invalid_input(format!("cannot build the request: {cause}"))
        } else if err.is_decode() {
            Error::decode(format!("the body of {target} is malformed: {cause}"), b"")
        } else if connect {
            Error::new(
                ErrorKind::Transport,
                format!("cannot connect to {target}: {cause}"),
            )
        } else if err.is_body() {
            Error::new(
                ErrorKind::Transport,
                format!("the connection broke while reading the response of {target}: {cause}"),
            )
        } else {
            Error::new(
                ErrorKind::Transport,
                format!("the exchange with {target} failed: {cause}"),
            )
        };
        error.with_connect(connect).with_source(err)
    }
}
