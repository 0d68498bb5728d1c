//! What a proxy did: counters and a log of every request.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::fault::Fault;
use crate::plan::Cause;

/// Counters of an HTTP [`FaultProxy`](crate::FaultProxy), a snapshot.
///
/// Every request read from a client ends in exactly one of `passed_through`,
/// `reset_before_forward`, `reset_after_response`, `delayed` (which were forwarded and
/// answered), `statuses`, `statuses_after_forward`, `cut_bodies`, `held_after_forward`, `tampered`,
/// `upstream_errors` or `client_errors`; requests in flight when the proxy stops are counted in
/// `requests` only.
///
/// # Examples
///
/// ```
/// use faultproxy::ProxyStats;
///
/// let s = ProxyStats { requests: 10, passed_through: 7, statuses: 2, reset_before_forward: 1,
///                      ..ProxyStats::default() };
/// assert_eq!(s.faults(), 3);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Client connections accepted.
    pub connections: u64,
    /// Requests read from clients (whole head; the body may have failed).
    pub requests: u64,
    /// Requests sent to the upstream that got a whole answer (including those whose answer
    /// was then lost to [`Fault::ResetAfterResponse`]).
    pub forwarded: u64,
    /// Requests forwarded without a fault and answered.
    pub passed_through: u64,
    /// [`Fault::ResetBeforeForward`] injected.
    pub reset_before_forward: u64,
    /// [`Fault::ResetAfterResponse`] injected (the upstream answered, the client was reset).
    pub reset_after_response: u64,
    /// [`Fault::Delay`] injected (then forwarded).
    pub delayed: u64,
    /// [`Fault::Status`] answers injected.
    pub statuses: u64,
    /// [`Fault::StatusAfterForward`] injected (the upstream answered, the client got an error
    /// status instead).
    pub statuses_after_forward: u64,
    /// [`Fault::CutBody`] injected (the upstream answered, the client got the head and half
    /// the body).
    pub cut_bodies: u64,
    /// [`Fault::HoldAfterForward`] injected (the upstream answered, the client got nothing and
    /// was reset after the hold).
    pub held_after_forward: u64,
    /// [`Fault::TamperJson`] injected (the upstream answered, the client got the answer with
    /// one character changed).
    pub tampered: u64,
    /// Faults the plan chose but skipped because `max_faults` was reached.
    pub over_budget: u64,
    /// Requests that could not be forwarded or whose answer could not be read whole (the client
    /// was reset; the upstream may or may not have executed them).
    pub upstream_errors: u64,
    /// Requests whose body could not be read or was too large (the client was reset).
    pub client_errors: u64,
    /// Connections reset by [`FaultProxy::reset_connections`](crate::FaultProxy::reset_connections)
    /// or at the end of the proxy's lifetime.
    pub forced_resets: u64,
    /// Events not logged because the log was full.
    pub events_dropped: u64,
}

impl ProxyStats {
    /// Faults injected: resets, delays and error answers.
    pub fn faults(&self) -> u64 {
        self.reset_before_forward
            + self.reset_after_response
            + self.delayed
            + self.statuses
            + self.statuses_after_forward
            + self.cut_bodies
            + self.held_after_forward
            + self.tampered
    }
}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Forwarded (possibly after a delay); the upstream's answer with this status was relayed.
    Answered {
        /// The upstream's status.
        status: u16,
    },
    /// Reset before forwarding: the upstream never saw it.
    ResetBeforeForward,
    /// Forwarded; the upstream answered `status`, and the client's connection was reset
    /// instead of relaying it.
    ResetAfterResponse {
        /// The upstream's status, which the client never saw.
        status: u16,
    },
    /// Answered by the proxy with this error status, not forwarded.
    Injected {
        /// The injected status.
        status: u16,
    },
    /// Forwarded; the upstream answered `upstream`, and the client got `status` instead.
    AnsweredInstead {
        /// The upstream's status, which the client never saw.
        upstream: u16,
        /// The injected status the client got.
        status: u16,
    },
    /// Forwarded; the client got the upstream's status and headers, half the body, and a
    /// closed connection.
    CutBody {
        /// The upstream's status, which the client saw.
        status: u16,
    },
    /// Forwarded; the upstream answered `status`, and the client got nothing: the answer was
    /// held, then the connection reset.
    HeldThenReset {
        /// The upstream's status, which the client never saw.
        status: u16,
    },
    /// Forwarded; the client got the upstream's answer (this status) with one character of its
    /// JSON changed.
    Tampered {
        /// The upstream's status, which the client saw.
        status: u16,
    },
    /// Forwarding failed or timed out; the client was reset.
    UpstreamFailed,
    /// The request body could not be read or was too large; the client was reset.
    ClientFailed,
}

/// One request through the proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Position of the request among all the proxy read, from 0.
    pub number: u64,
    /// The client connection, numbered from 0 in accept order.
    pub connection: u64,
    /// `GET`, `POST`...
    pub method: String,
    /// Path and query.
    pub path: String,
    /// The fault injected, if any.
    pub fault: Option<Fault>,
    /// Why that fault was chosen.
    pub cause: Option<Cause>,
    /// How the request ended.
    pub outcome: Outcome,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) connections: AtomicU64,
    pub(crate) requests: AtomicU64,
    pub(crate) forwarded: AtomicU64,
    pub(crate) passed_through: AtomicU64,
    pub(crate) reset_before_forward: AtomicU64,
    pub(crate) reset_after_response: AtomicU64,
    pub(crate) delayed: AtomicU64,
    pub(crate) statuses: AtomicU64,
    pub(crate) statuses_after_forward: AtomicU64,
    pub(crate) cut_bodies: AtomicU64,
    pub(crate) held_after_forward: AtomicU64,
    pub(crate) tampered: AtomicU64,
    pub(crate) over_budget: AtomicU64,
    pub(crate) upstream_errors: AtomicU64,
    pub(crate) client_errors: AtomicU64,
    pub(crate) events_dropped: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::SeqCst);
}

impl Counters {
    pub(crate) fn snapshot(&self) -> ProxyStats {
        let get = |c: &AtomicU64| c.load(Ordering::SeqCst);
        ProxyStats {
            connections: get(&self.connections),
            requests: get(&self.requests),
            forwarded: get(&self.forwarded),
            passed_through: get(&self.passed_through),
            reset_before_forward: get(&self.reset_before_forward),
            reset_after_response: get(&self.reset_after_response),
            delayed: get(&self.delayed),
            statuses: get(&self.statuses),
            statuses_after_forward: get(&self.statuses_after_forward),
            cut_bodies: get(&self.cut_bodies),
            held_after_forward: get(&self.held_after_forward),
            tampered: get(&self.tampered),
            over_budget: get(&self.over_budget),
            upstream_errors: get(&self.upstream_errors),
            client_errors: get(&self.client_errors),
            forced_resets: 0,
            events_dropped: get(&self.events_dropped),
        }
    }

    /// Counts how `outcome` ended a request that suffered `fault`.
    pub(crate) fn count(&self, fault: Option<Fault>, outcome: Outcome) {
        match outcome {
            Outcome::Answered { .. } => {
                bump(&self.forwarded);
                match fault {
                    Some(Fault::Delay(_)) => bump(&self.delayed),
                    _ => bump(&self.passed_through),
                }
            }
            Outcome::ResetBeforeForward => bump(&self.reset_before_forward),
            Outcome::ResetAfterResponse { .. } => {
                bump(&self.forwarded);
                bump(&self.reset_after_response);
            }
            Outcome::Injected { .. } => bump(&self.statuses),
            Outcome::AnsweredInstead { .. } => {
                bump(&self.forwarded);
                bump(&self.statuses_after_forward);
            }
            Outcome::CutBody { .. } => {
                bump(&self.forwarded);
                bump(&self.cut_bodies);
            }
            Outcome::HeldThenReset { .. } => {
                bump(&self.forwarded);
                bump(&self.held_after_forward);
            }
            Outcome::Tampered { .. } => {
                bump(&self.forwarded);
                bump(&self.tampered);
            }
            Outcome::UpstreamFailed => bump(&self.upstream_errors),
            Outcome::ClientFailed => bump(&self.client_errors),
        }
    }
}

/// The event log, bounded.
#[derive(Debug)]
pub(crate) struct EventLog {
    events: Mutex<Vec<Event>>,
    capacity: usize,
}

impl EventLog {
    pub(crate) fn new(capacity: usize) -> EventLog {
        EventLog {
            events: Mutex::new(Vec::new()),
            capacity,
        }
    }

    /// Logs `event`; false when the log is full.
    pub(crate) fn push(&self, event: Event) -> bool {
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        if events.len() >= self.capacity {
            return false;
        }
        events.push(event);
        true
    }

    /// The events in request-number order.
    pub(crate) fn sorted(&self) -> Vec<Event> {
        let mut events = self
            .events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        events.sort_by_key(|e| e.number);
        events
    }
}
