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
    // Encoded into a stack buffer and copied once, without the formatting machinery of
    // `to_string`.
    let mut buffer = uuid::Uuid::encode_buffer();
    let text: &str = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buffer);
    text.to_owned()
}

/// The header value of `id`, refusing what cannot be sent as one: empty, longer than
/// [`MAX_CLIENT_REQUEST_ID_CHARS`], or anything but visible ASCII.
///
/// The value is marked *sensitive*, which over HTTP/2 sends it as a literal that is never
/// indexed (HPACK): an id used by one call only would otherwise take a place in the
/// connection's header table on every call, pushing out the headers that do repeat, and each
/// request would first be compared with all the ids still there. The pipeline's request log
/// shows it all the same ([`logging`](crate::pipeline::logging)).
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
    let mut value = HeaderValue::from_str(id).map_err(|e| {
        Error::invalid_input(format!(
            "the client request id {id:?} is not a header value"
        ))
        .with_source(e)
    })?;
    value.set_sensitive(true);
    Ok(value)
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
        let value = header_value(&a).unwrap();
        assert_eq!(value, a.as_str());
        assert!(value.is_sensitive(), "never indexed by HPACK");
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
