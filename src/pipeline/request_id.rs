//! `x-ms-client-request-id`: the id of one logical call, sent with every request of it (its
//! retries and redirects included), so that Azure support can find the call in the service's
//! logs. Fresh for every call unless the caller gives one
//! ([`CallOptions::client_request_id`](crate::client::CallOptions::client_request_id)).

use reqwest::header::{HeaderName, HeaderValue};

use crate::Error;

/// The header the id is sent in, as the Azure SDKs send it.
pub const CLIENT_REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-ms-client-request-id");

/// The longest client request id accepted from a caller, in characters.
pub const MAX_CLIENT_REQUEST_ID_CHARS: usize = 256;

/// A fresh id: a random (version 4) UUID in its hyphenated form, as the Azure SDKs make them.
pub(crate) fn new_client_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The header value of `id`, refusing what cannot be sent as one: empty, longer than
/// [`MAX_CLIENT_REQUEST_ID_CHARS`], or anything but visible ASCII.
pub(crate) fn header_value(id: &str) -> Result<HeaderValue, Error> {
    let fits = !id.is_empty()
        && id.len() <= MAX_CLIENT_REQUEST_ID_CHARS
        && id.bytes().all(|b| b.is_ascii_graphic());
    if !fits {
        return Err(Error::invalid_input(format!(
            "the client request id {:?} is not 1 to {MAX_CLIENT_REQUEST_ID_CHARS} visible ASCII \
             characters",
            id.chars().take(40).collect::<String>()
        )));
    }
    HeaderValue::from_str(id).map_err(|e| {
        Error::invalid_input(format!(
            "the client request id {id:?} is not a header value"
        ))
        .with_source(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_ids_are_distinct_hyphenated_uuids() {
        let (a, b) = (new_client_request_id(), new_client_request_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
        assert!(header_value(&a).is_ok());
    }

    #[test]
    fn ids_that_cannot_be_sent_are_refused() {
        assert!(header_value("support-case-42").is_ok());
        for bad in ["", "has space", "line\nbreak", "é"] {
            assert!(header_value(bad).is_err(), "{bad:?}");
        }
        assert!(header_value(&"x".repeat(MAX_CLIENT_REQUEST_ID_CHARS)).is_ok());
        assert!(header_value(&"x".repeat(MAX_CLIENT_REQUEST_ID_CHARS + 1)).is_err());
    }
}
