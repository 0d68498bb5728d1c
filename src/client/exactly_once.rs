//! Exactly-once writes: the client resolves every ambiguous write outcome itself, with a marker
//! tag and a tag-filtered lookup, and returns either the write's real transaction id or a clear
//! "not applied".
//!
//! # The problem
//!
//! A write (`POST /app/transactions`) that fails after it was sent (the connection broke, the
//! answer timed out, the ledger or a gateway answered `429`, `500`, `503`, `504`, the body was
//! cut) may or may not have been applied. Sending it again may write it twice; not sending it
//! may lose it. In the default mode ([`WriteMode::AtMostOnce`]) the client never sends it
//! again and reports [`OutcomeUnknown`](crate::ErrorKind::OutcomeUnknown).
//!
//! # The design
//!
//! In [`WriteMode::ExactlyOnce`] each write carries one more tag, a **marker**: `xo-` followed
//! by 32 lowercase hex digits (128 bits from the system's secure random generator, so no two
//! writes share one). Tags are stored with the entry and the ledger can list a collection's
//! entries filtered by one tag (`GET /app/transactions?tag=`, api-version 2026-02-23). After an
//! ambiguous outcome the client:
//!
//! 1. **settles**: waits until the attempt can no longer be applied. The attempt has ended on
//!    the client's side (its answer came, or its connection is gone); the client then waits
//!    [`ExactlyOnceOptions::settle_delay`] more (longer when the ledger sent `Retry-After`, up
//!    to [`ExactlyOnceOptions::max_settle_delay`]) for a request still queued inside the
//!    service to be applied or dropped.
//! 2. **bounds the history**: reads the collection's latest entry (`GET
//!    /app/transactions/current`) and waits until that transaction is committed. Transactions
//!    commit in order, so every transaction up to it is committed then; a write applied before
//!    the read is at or before it. If it turns `Invalid` (a rollback), the bound is read again.
//! 3. **looks the write up**: lists the write's collection filtered by the marker (following
//!    `Loading` pages). The listing covers the committed history, which now includes every
//!    place the write could be.
//! 4. **decides**: an entry with the marker and the same contents is the write: its
//!    transaction id is returned as the write's result. No entry means the write was not
//!    applied: it is sent again, with the same marker, and the steps repeat after any new
//!    ambiguous outcome. A write the ledger refuses (`400`, `401`, `403`, `404`, `409`,
//!    `413`...) was not applied: the error says so.
//!
//! A write that failed before anything was sent (no connection) is sent again without a
//! lookup. Everything is bounded by the call's deadline
//! ([`CallOptions::call_timeout`](crate::CallOptions::call_timeout), else
//! [`ClientOptions::call_timeout`](crate::ClientOptions::call_timeout), 120 s by default),
//! counted from the start of the call, every request, wait and lookup included: when the
//! ledger stays unreachable past it, and only then, the error is `OutcomeUnknown` (with the
//! last cause). Without a call timeout (`None`) the client keeps resolving until the ledger
//! answers. In
//! [`create_ledger_entry_and_wait`](crate::ConfidentialLedgerClient::create_ledger_entry_and_wait)
//! a write whose transaction turns `Invalid` (rolled back) was not applied either: it is sent
//! again, within the same deadline.
//!
//! # Costs
//!
//! - **Happy path**: one `POST`, exactly as in the default mode: no extra request. The marker
//!   adds about 40 bytes to the request's query.
//! - **Ambiguous outcome**: the settle delay, one `GET .../current`, one or more status polls
//!   until that transaction commits, one or more pages of the tag-filtered listing (usually
//!   one, after a `Loading` one), and, when the write was not applied, the `POST` again.
//!
//! # What it writes, and limits
//!
//! - **The marker tag stays in the ledger forever**, one distinct tag per exactly-once write.
//!   [`list_tags`](crate::ConfidentialLedgerClient::list_tags) leaves markers out by default
//!   ([`ListTagsOptions::include_markers`](crate::ListTagsOptions::include_markers) shows them),
//!   and [`is_marker`] tells them apart; other clients see them. A caller's own tag of the
//!   same shape would be hidden too. The mode is opt-in for that reason.
//! - It needs api-version **2026-02-23** or later (tags on writes and the `tag` filter appeared
//!   there); with an older [`ClientOptions::api_version`](crate::ClientOptions::api_version)
//!   the write is refused with [`InvalidInput`](crate::ErrorKind::InvalidInput) before
//!   anything is sent.
//! - The principal must be able to read the collection (`Reader`, `Contributor` or
//!   `Administrator`); a lookup the ledger refuses ends the call with `OutcomeUnknown`.
//! - The **settle assumption**: a write that has not been applied `settle_delay` after its
//!   attempt ended on the client's side never will be. A service that applies a request later
//!   than that could apply it after the lookup found nothing, and the resend would write it
//!   twice. Raise the delay for a path with long queues. On a ledger of several nodes the
//!   bound (step 2) is read from whichever node answers; the delay must also cover how far a
//!   node can lag behind the primary, or a lagging node could give a bound below the write.
//!   (The sandbox has one node; the tests cannot show this case.)
//! - Entries are matched by marker and contents; the marker alone would do, the contents guard
//!   against a foreign entry that copied it.
//! - Hooks (`pre_hooks`/`post_hooks`) run again when a write is sent again after a lookup
//!   found it absent: the write itself was not applied then, but a hook's own effects are not
//!   looked up.
//!
//! # Examples
//!
//! ```no_run
//! use confidential_ledger::{ClientOptions, ConfidentialLedgerClient, CreateLedgerEntryOptions, WriteMode};
//! # async fn run(client: ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
//! // For one call:
//! let options = CreateLedgerEntryOptions::new().write_mode(WriteMode::ExactlyOnce);
//! let written = client.create_ledger_entry("paid invoice 42", Some(options)).await?;
//! println!("written once, at {}", written.transaction_id);
//!
//! // For every write of a client:
//! let mut options = ClientOptions::default();
//! options.write_mode = WriteMode::ExactlyOnce;
//! # let _ = options;
//! # Ok(()) }
//! ```

use std::time::Duration;

use futures::TryStreamExt;
use ring::rand::{SecureRandom, SystemRandom};
use tokio::time::Instant;

use super::entries::PreparedWrite;
use super::{
    CallOptions, ConfidentialLedgerClient, GetCurrentLedgerEntryOptions, ListLedgerEntriesOptions,
    WaitForCommitOptions,
};
use crate::models::LedgerWriteResult;
use crate::{Error, ErrorKind};

/// The prefix of every marker tag.
pub const MARKER_PREFIX: &str = "xo-";

/// The first api-version with tags on writes and the `tag` filter of `ListLedgerEntries`.
pub const EXACTLY_ONCE_MIN_API_VERSION: &str = "2026-02-23";

/// How the client treats a write whose outcome it cannot know; see the
/// [module documentation](self).
///
/// # Examples
///
/// ```
/// use confidential_ledger::{ClientOptions, WriteMode};
///
/// assert_eq!(ClientOptions::default().write_mode, WriteMode::AtMostOnce);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WriteMode {
    /// The default: a write is sent again only when nothing was sent (no connection); after
    /// any other failure the call ends with
    /// [`OutcomeUnknown`](crate::ErrorKind::OutcomeUnknown). Nothing extra is written.
    #[default]
    AtMostOnce,
    /// Each write carries a marker tag; after an ambiguous failure the client looks the write up
    /// by its marker and returns its transaction id, or sends it again when it was not applied.
    /// Needs api-version 2026-02-23 or later.
    ExactlyOnce,
}

/// Settings of [`WriteMode::ExactlyOnce`]; see the [module documentation](self).
///
/// # Defaults
///
/// | field | default |
/// |---|---|
/// | [`settle_delay`](Self::settle_delay) | 2 s |
/// | [`max_settle_delay`](Self::max_settle_delay) | 30 s |
///
/// The mode's overall bound is the call's deadline
/// ([`ClientOptions::call_timeout`](crate::ClientOptions::call_timeout) or the call's own).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use confidential_ledger::{ClientOptions, ExactlyOnceOptions, WriteMode};
///
/// let mut options = ClientOptions::default();
/// options.write_mode = WriteMode::ExactlyOnce;
/// options.exactly_once.settle_delay = Duration::from_secs(5);
/// options.call_timeout = Some(Duration::from_secs(300));
/// assert_eq!(ExactlyOnceOptions::default().max_settle_delay, Duration::from_secs(30));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExactlyOnceOptions {
    /// How long after an ambiguous attempt ended the client waits before it looks the write
    /// up: the time a request still queued inside the service has to be applied or dropped.
    pub settle_delay: Duration,
    /// The longest wait a `Retry-After` of the ambiguous answer can ask for before the lookup
    /// (a longer one is cut to this), and the longest wait between lookups that failed.
    pub max_settle_delay: Duration,
}

impl Default for ExactlyOnceOptions {
    fn default() -> Self {
        Self {
            settle_delay: Duration::from_secs(2),
            max_settle_delay: Duration::from_secs(30),
        }
    }
}

/// True for a marker tag of an exactly-once write: `xo-` and 32 lowercase hex digits.
///
/// # Examples
///
/// ```
/// use confidential_ledger::is_marker;
///
/// assert!(is_marker("xo-0123456789abcdef0123456789abcdef"));
/// assert!(!is_marker("xo-invoice"));
/// assert!(!is_marker("login"));
/// ```
pub fn is_marker(tag: &str) -> bool {
    tag.strip_prefix(MARKER_PREFIX).is_some_and(|hex| {
        hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// A fresh marker, from the system's secure random generator.
pub(super) fn new_marker() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    SystemRandom::new().fill(&mut bytes).map_err(|_| {
        Error::invalid_input(
            "no exactly-once marker could be drawn: the system's random generator failed \
             (nothing was sent)",
        )
    })?;
    let mut marker = String::with_capacity(MARKER_PREFIX.len() + 32);
    marker.push_str(MARKER_PREFIX);
    for byte in bytes {
        marker.push_str(&format!("{byte:02x}"));
    }
    Ok(marker)
}

/// Refuses the mode for an api-version older than [`EXACTLY_ONCE_MIN_API_VERSION`] (compared
/// by the date that starts it).
pub(super) fn check_api_version(api_version: &str) -> Result<(), Error> {
    let date = api_version.get(..10).unwrap_or("");
    let well_formed = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if well_formed && date >= EXACTLY_ONCE_MIN_API_VERSION {
        return Ok(());
    }
    Err(Error::invalid_input(format!(
        "exactly-once writes need api-version {EXACTLY_ONCE_MIN_API_VERSION} or later (tags on \
         writes and the tag filter of ListLedgerEntries), but the client speaks {api_version:?}; \
         nothing was sent"
    )))
}

/// What one attempt of a write came to.
enum Attempt {
    /// The ledger refused it: not applied.
    Refused(Error),
    /// Nothing was sent.
    NotSent(Error),
    /// It may have been applied.
    Ambiguous(Error),
}

/// Sorts a failed attempt.
fn classify(err: Error) -> Attempt {
    if err.is_connect() {
        return Attempt::NotSent(err);
    }
    match err.kind() {
        // Rolled back before its commit: not applied, so it goes again as it is.
        ErrorKind::TransactionRolledBack => Attempt::NotSent(err),
        ErrorKind::InvalidInput
        | ErrorKind::Credential
        | ErrorKind::PinMismatch(_)
        | ErrorKind::Tls
        | ErrorKind::RedirectRefused { .. }
        | ErrorKind::Unauthorized
        | ErrorKind::Forbidden { .. }
        | ErrorKind::NotFound
        | ErrorKind::Conflict
        | ErrorKind::ApiVersionRedirect => Attempt::Refused(err),
        ErrorKind::Service { status, .. }
            if status.is_client_error() && !matches!(status.as_u16(), 408 | 429) =>
        {
            Attempt::Refused(err)
        }
        _ => Attempt::Ambiguous(err),
    }
}

impl ConfidentialLedgerClient {
    /// Writes `write` (which carries `marker`) exactly once; see the
    /// [module documentation](self).
    pub(super) async fn write_exactly_once(
        &self,
        write: &PreparedWrite,
        call: &CallOptions,
        deadline: Option<Instant>,
    ) -> Result<LedgerWriteResult, Error> {
        let settings = &self.inner.options.exactly_once;
        let mut not_sent_retries = 0u32;
        loop {
            let err = match self.send_write(write, &within(call, deadline)).await {
                Ok(written) => return Ok(written),
                Err(err) => err,
            };
            match classify(err) {
                Attempt::Refused(err) => {
                    return Err(err.with_note("the ledger refused the write: it was not applied"));
                }
                Attempt::NotSent(err) => {
                    // Nothing was sent: the write can go again as it is.
                    not_sent_retries += 1;
                    let wait = backoff(settings.settle_delay, not_sent_retries, settings);
                    if !wait_within(wait, deadline).await {
                        return Err(err);
                    }
                }
                Attempt::Ambiguous(cause) => {
                    let requested = cause
                        .retry_after()
                        .unwrap_or_default()
                        .min(settings.max_settle_delay);
                    let settle = settings.settle_delay.max(requested);
                    if !wait_within(settle, deadline).await {
                        return Err(unresolved(cause, "the deadline passed while it settled"));
                    }
                    match self.resolve(write, call, deadline).await {
                        Ok(Some(found)) => {
                            tracing::info!(
                                target: "confidential_ledger::client",
                                transaction_id = %found.transaction_id,
                                cause = %cause,
                                "an ambiguous write was found applied"
                            );
                            return Ok(found);
                        }
                        Ok(None) => {
                            tracing::info!(
                                target: "confidential_ledger::client",
                                cause = %cause,
                                "an ambiguous write was not applied: sending it again"
                            );
                            if deadline.is_some_and(|at| Instant::now() >= at) {
                                return Err(Error::new(
                                    ErrorKind::Timeout,
                                    format!(
                                        "the write was not applied (a lookup by its marker \
                                         {} found nothing after: {cause}) and the exactly-once \
                                         deadline passed before it could be sent again",
                                        write.marker().unwrap_or("")
                                    ),
                                ));
                            }
                        }
                        Err(lookup) => {
                            return Err(unresolved(
                                cause,
                                &format!("looking the write up failed: {lookup}"),
                            ));
                        }
                    }
                }
            }
        }
    }

    /// Looks an ambiguous write up until the ledger answers or the deadline passes: `Some`
    /// when it was applied (and committed), `None` when it was not.
    async fn resolve(
        &self,
        write: &PreparedWrite,
        call: &CallOptions,
        deadline: Option<Instant>,
    ) -> Result<Option<LedgerWriteResult>, Error> {
        let settings = &self.inner.options.exactly_once;
        let mut failures = 0u32;
        loop {
            let err = match self.look_up(write, call, deadline).await {
                Ok(found) => return Ok(found),
                Err(err) => err,
            };
            let transient = err.is_retryable() || err.is_not_found() || err.is_timeout();
            failures += 1;
            if !transient
                || !wait_within(backoff(settings.settle_delay, failures, settings), deadline).await
            {
                return Err(err);
            }
        }
    }

    /// One lookup: bound the history, wait for it to commit, list by marker.
    async fn look_up(
        &self,
        write: &PreparedWrite,
        call: &CallOptions,
        deadline: Option<Instant>,
    ) -> Result<Option<LedgerWriteResult>, Error> {
        let marker = write.marker().unwrap_or_default().to_owned();
        let collection = write.collection_id();
        loop {
            if remaining(deadline).is_zero() {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    "the call's deadline passed during the exactly-once lookup",
                ));
            }
            let call = within(call, deadline);
            let mut current = GetCurrentLedgerEntryOptions::new();
            current.collection_id = collection.map(str::to_owned);
            current.call = call.clone();
            let bound = match self.get_current_ledger_entry(Some(current)).await {
                Ok(latest) => Some(latest.transaction_id),
                // An empty collection: nothing of it can be applied and uncommitted.
                Err(err)
                    if err.is_not_found() && err.error_code() == Some("UnknownLedgerEntry") =>
                {
                    None
                }
                Err(err) => return Err(err),
            };
            if let Some(bound) = bound {
                let mut wait = WaitForCommitOptions::new();
                if deadline.is_some() {
                    wait = wait.timeout(remaining(deadline));
                }
                wait.call = call.clone();
                match self.wait_for_commit(bound, Some(wait)).await {
                    Ok(_) => {}
                    // Rolled back: read the bound again.
                    Err(err) if err.kind() == &ErrorKind::TransactionInvalid => continue,
                    Err(err) => return Err(err),
                }
            }
            let mut list = ListLedgerEntriesOptions::new().tag(marker.clone());
            list.collection_id = collection.map(str::to_owned);
            list.call = call.clone();
            let listing = self.list_ledger_entries(Some(list)).try_collect::<Vec<_>>();
            let entries = match tokio::time::timeout(remaining(deadline), listing).await {
                Ok(entries) => entries?,
                Err(_) => {
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        "the call's deadline passed while the marker was listed",
                    ));
                }
            };
            return Ok(entries
                .into_iter()
                .find(|entry| entry.contents == write.contents())
                .map(|entry| LedgerWriteResult::new(entry.transaction_id, entry.collection_id)));
        }
    }
}

/// `OutcomeUnknown` for a write whose ambiguity could not be resolved.
fn unresolved(cause: Error, why: &str) -> Error {
    let what =
        format!("the write may have been applied and exactly-once mode could not find out ({why})");
    Error::outcome_unknown(cause, what)
}

/// `min(max_settle_delay, base × 2^(n − 1))`, at least 10 ms.
fn backoff(base: Duration, n: u32, settings: &ExactlyOnceOptions) -> Duration {
    base.max(Duration::from_millis(10))
        .saturating_mul(2u32.saturating_pow(n.saturating_sub(1)))
        .min(settings.max_settle_delay.max(Duration::from_millis(10)))
}

/// The time left before `deadline` (all the time there is without one).
fn remaining(deadline: Option<Instant>) -> Duration {
    deadline.map_or(Duration::MAX, |at| {
        at.saturating_duration_since(Instant::now())
    })
}

/// `call` with a call timeout that ends at `deadline`, so that no request of the write outlives
/// it.
fn within(call: &CallOptions, deadline: Option<Instant>) -> CallOptions {
    let mut call = call.clone();
    if deadline.is_some() {
        call.call_timeout = Some(remaining(deadline).max(Duration::from_millis(1)));
    }
    call
}

/// Sleeps `wait`; false (without sleeping past it) when that would pass `deadline`.
async fn wait_within(wait: Duration, deadline: Option<Instant>) -> bool {
    if wait >= remaining(deadline) {
        return false;
    }
    tokio::time::sleep(wait).await;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;

    #[test]
    fn markers_are_fresh_and_recognised() {
        let a = new_marker().unwrap();
        let b = new_marker().unwrap();
        assert_ne!(a, b);
        assert!(is_marker(&a) && is_marker(&b), "{a} {b}");
        assert_eq!(a.len(), 35);
        assert!(
            !is_marker("xo-0123456789ABCDEF0123456789abcdef"),
            "upper case"
        );
        assert!(
            !is_marker("xo-0123456789abcdef0123456789abcde"),
            "31 digits"
        );
        assert!(!is_marker("ox-0123456789abcdef0123456789abcdef"));
    }

    #[test]
    fn the_mode_needs_tags_on_writes() {
        check_api_version("2026-02-23").unwrap();
        check_api_version("2026-07-31-preview").unwrap();
        for old in [
            "2024-12-09-preview",
            "2022-05-13",
            "0.1-preview",
            "",
            "latest",
        ] {
            let err = check_api_version(old).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::InvalidInput, "{old}");
            assert!(err.to_string().contains("2026-02-23 or later"), "{err}");
        }
    }

    #[test]
    fn refusals_are_not_applied_and_the_rest_is_ambiguous() {
        let status = |code: u16| {
            Error::from_parts(StatusCode::from_u16(code).unwrap(), &HeaderMap::new(), b"")
        };
        for code in [400, 401, 403, 404, 409, 413] {
            assert!(
                matches!(classify(status(code)), Attempt::Refused(_)),
                "{code}"
            );
        }
        for code in [408, 429, 500, 502, 503, 504] {
            assert!(
                matches!(classify(status(code)), Attempt::Ambiguous(_)),
                "{code}"
            );
        }
        let connect = Error::new(ErrorKind::Transport, "refused").with_connect(true);
        assert!(matches!(classify(connect), Attempt::NotSent(_)));
        let rolled_back = Error::from_parts(
            StatusCode::SERVICE_UNAVAILABLE,
            &HeaderMap::new(),
            br#"{"error": {"code": "TransactionRolledBack", "message": "m"}}"#,
        );
        assert!(matches!(classify(rolled_back), Attempt::NotSent(_)));
        let broken = Error::new(ErrorKind::Transport, "reset");
        assert!(matches!(classify(broken), Attempt::Ambiguous(_)));
        let unknown = Error::outcome_unknown(status(503), "x");
        assert!(matches!(classify(unknown), Attempt::Ambiguous(_)));
        let cut = Error::decode("cut", b"{\"coll");
        assert!(matches!(classify(cut), Attempt::Ambiguous(_)));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let settings = ExactlyOnceOptions {
            settle_delay: Duration::from_millis(100),
            max_settle_delay: Duration::from_millis(500),
        };
        let waits: Vec<u128> = (1..=5)
            .map(|n| backoff(settings.settle_delay, n, &settings).as_millis())
            .collect();
        assert_eq!(waits, [100, 200, 400, 500, 500]);
        assert_eq!(
            backoff(Duration::ZERO, 1, &settings),
            Duration::from_millis(10)
        );
    }
}
