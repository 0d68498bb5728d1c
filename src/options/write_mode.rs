//! How the client treats a write whose outcome it cannot know: [`WriteMode`] and the settings
//! of [`WriteMode::ExactlyOnce`] (the mechanism is in
//! [`client::exactly_once`](crate::client::exactly_once)).

use std::time::Duration;

/// How the client treats a write whose outcome it cannot know; see the
/// [`client::exactly_once`](crate::client::exactly_once).
///
/// # Examples
///
/// ```
/// use confidential_ledger::ClientOptions;
/// use confidential_ledger::options::WriteMode;
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

/// Settings of [`WriteMode::ExactlyOnce`]; see the [`client::exactly_once`](crate::client::exactly_once).
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
/// use confidential_ledger::ClientOptions;
/// use confidential_ledger::options::{ExactlyOnceOptions, WriteMode};
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
