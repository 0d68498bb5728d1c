//! `x-ms-client-request-id`: the id of one logical call, sent with every request of it (its
//! retries and redirects included), so that Azure support can find the call in the service's
//! logs. Fresh for every call unless the caller gives one
//! ([`CallOptions::client_request_id`](crate::client::CallOptions::client_request_id)).

use std::cell::Cell;
use std::sync::Arc;

use reqwest::header::{HeaderName, HeaderValue};

use crate::Error;

/// The header the id is sent in, as the Azure SDKs send it.
pub const CLIENT_REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-ms-client-request-id");

/// The longest client request id accepted from a caller, in characters.
pub const MAX_CLIENT_REQUEST_ID_CHARS: usize = 256;

/// A fresh id: a random (version 4) UUID in its hyphenated form, as the Azure SDKs make them.
///
/// The random bits come from a generator per thread (wyrand, through `fastrand`) seeded
/// from the operating system, not from a random source per id: an id only has to be unique,
/// not unpredictable, and the generator's 2^64 states per thread, seeded at random, keep ids
/// apart across threads and processes alike. A process forked from one that made ids would
/// inherit its generators and repeat its ids: a generator made in another process is seeded
/// anew.
pub(crate) fn new_client_request_id() -> Arc<str> {
    let mut buffer = [0; uuid::fmt::Hyphenated::LENGTH];
    Arc::from(fresh(&mut buffer))
}

/// A fresh id, encoded into `buffer` (without the formatting machinery of `to_string`).
fn fresh(buffer: &mut [u8; uuid::fmt::Hyphenated::LENGTH]) -> &str {
    thread_local! {
        /// The generator, and the process it was seeded in.
        static RANDOM: Cell<Option<(u32, fastrand::Rng)>> = const { Cell::new(None) };
    }
    let process = std::process::id();
    let bits = RANDOM.with(|cell| {
        let mut rng = generator_for(cell.take(), process);
        let bits = rng.u128(..);
        cell.set(Some((process, rng)));
        bits
    });
    let id = uuid::Builder::from_random_bytes(bits.to_le_bytes()).into_uuid();
    id.hyphenated().encode_lower(buffer)
}

/// The thread's generator if it was seeded in `process`, else a new one seeded from the
/// operating system.
fn generator_for(previous: Option<(u32, fastrand::Rng)>, process: u32) -> fastrand::Rng {
    match previous {
        Some((seeded_in, rng)) if seeded_in == process => rng,
        _ => fastrand::Rng::with_seed(uuid::Uuid::new_v4().as_u64_pair().0),
    }
}

/// The header value of the call's id, refusing what cannot be sent as one: empty, longer than
/// [`MAX_CLIENT_REQUEST_ID_CHARS`], or anything but visible ASCII.
///
/// The value is marked *sensitive*, which over HTTP/2 sends it as a literal that is never
/// indexed (HPACK): an id used by one call only would otherwise take a place in the
/// connection's header table on every call, pushing out the headers that do repeat, and each
/// request would first be compared with all the ids still there. The pipeline's request log
/// shows it all the same ([`logging`](crate::pipeline::logging)).
///
/// The value holds the shared id rather than a copy, so the copies of the request made for
/// retries and redirects share it too.
pub(crate) fn header_value(id: &Arc<str>) -> Result<HeaderValue, Error> {
    check(id)?;
    let bytes = bytes::Bytes::from_owner(SharedId(Arc::clone(id)));
    let mut value = HeaderValue::from_maybe_shared(bytes).map_err(|e| not_a_header_value(id, e))?;
    value.set_sensitive(true);
    Ok(value)
}

/// The id's text as the bytes of a header value.
struct SharedId(Arc<str>);

impl AsRef<[u8]> for SharedId {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

fn not_a_header_value(id: &str, source: reqwest::header::InvalidHeaderValue) -> Error {
    Error::invalid_input(format!(
        "the client request id {id:?} is not a header value"
    ))
    .with_source(source)
}

/// Refuses an id that cannot be sent: empty, longer than [`MAX_CLIENT_REQUEST_ID_CHARS`], or
/// anything but visible ASCII.
fn check(id: &str) -> Result<(), Error> {
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
    Ok(())
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
        let parsed = uuid::Uuid::parse_str(&a).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122);
        // Every thread draws its own: ids from many threads never repeat.
        let ids: std::collections::HashSet<Arc<str>> = (0..4)
            .map(|_| std::thread::spawn(|| (0..500).map(|_| new_client_request_id()).collect()))
            .flat_map(|thread| thread.join().unwrap_or_else(|_| Vec::new()))
            .collect();
        assert_eq!(ids.len(), 2000);
        let value = header_value(&a).unwrap();
        assert_eq!(value, &*a);
        assert!(value.is_sensitive(), "never indexed by HPACK");
    }

    #[test]
    fn a_generator_from_another_process_is_seeded_anew() {
        let next = |rng: fastrand::Rng| rng.clone().u128(..);
        let inherited = fastrand::Rng::with_seed(7);
        let same = generator_for(Some((41, inherited.clone())), 41);
        assert_eq!(
            next(same),
            next(inherited.clone()),
            "kept in its own process"
        );
        let forked = generator_for(Some((41, inherited.clone())), 42);
        assert_ne!(
            next(forked),
            next(inherited),
            "not repeated in a forked one"
        );
    }

    #[test]
    fn a_shared_id_is_sent_as_it_is() {
        let id: Arc<str> = new_client_request_id();
        let value = header_value(&id).unwrap();
        assert_eq!(value, &*id);
        assert!(value.is_sensitive());
        assert!(header_value(&Arc::from("has space")).is_err());
        assert!(header_value(&Arc::from("")).is_err());
    }

    #[test]
    fn ids_that_cannot_be_sent_are_refused() {
        let value = |id: &str| header_value(&Arc::from(id));
        assert!(value("support-case-42").is_ok());
        for bad in ["", "has space", "line\nbreak", "é"] {
            assert!(value(bad).is_err(), "{bad:?}");
        }
        assert!(value(&"x".repeat(MAX_CLIENT_REQUEST_ID_CHARS)).is_ok());
        assert!(value(&"x".repeat(MAX_CLIENT_REQUEST_ID_CHARS + 1)).is_err());
    }
}
