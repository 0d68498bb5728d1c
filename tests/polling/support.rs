//! Fakes shared by the poller and pager tests: an error type shaped like the client's, and a
//! log of calls with their (virtual) times.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use confidential_ledger::pager::PagingError;
use confidential_ledger::poller::{ErrorClass, PollErrorClass};
use tokio::time::Instant;

/// An error shaped like the client's: HTTP failures with a service code, an invalid
/// transaction, and the pager's own errors.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FakeError {
    #[error("HTTP {status} ({code:?})")]
    Http {
        status: u16,
        code: Option<&'static str>,
    },
    #[error("the transaction is invalid")]
    InvalidTransaction,
    #[error(transparent)]
    Paging(#[from] PagingError),
}

impl FakeError {
    pub fn status(status: u16) -> Self {
        Self::Http { status, code: None }
    }

    pub fn coded(status: u16, code: &'static str) -> Self {
        Self::Http {
            status,
            code: Some(code),
        }
    }
}

/// How the client classifies its errors for "wait for commit".
impl PollErrorClass for FakeError {
    fn poll_error_class(&self) -> ErrorClass {
        match self {
            Self::Http { status: 406, .. } => ErrorClass::StillPending,
            Self::Http {
                status: 404,
                code: Some("InvalidTransactionId"),
            } => ErrorClass::Final,
            Self::Http { status: 404, .. } => ErrorClass::NotFoundYet,
            _ => ErrorClass::Final,
        }
    }
}

/// Records when each call happened, relative to the log's creation (virtual time).
#[derive(Clone)]
pub struct CallLog<R> {
    start: Instant,
    calls: Arc<Mutex<Vec<(Duration, R)>>>,
}

impl<R: Clone> CallLog<R> {
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            calls: Arc::default(),
        }
    }

    pub fn record(&self, request: R) -> usize {
        let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        calls.push((self.start.elapsed(), request));
        calls.len()
    }

    pub fn count(&self) -> usize {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn times(&self) -> Vec<Duration> {
        let calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        calls.iter().map(|(time, _)| *time).collect()
    }

    pub fn requests(&self) -> Vec<R> {
        let calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        calls.iter().map(|(_, request)| request.clone()).collect()
    }

    /// The waits between consecutive calls.
    pub fn gaps(&self) -> Vec<Duration> {
        self.times().windows(2).map(|w| w[1] - w[0]).collect()
    }
}

/// Milliseconds with a fraction, for readable expectations.
pub fn ms(value: f64) -> Duration {
    Duration::from_secs_f64(value / 1000.0)
}

/// Sets a flag when dropped: proves a future was dropped (cancelled).
pub struct DropFlag(pub Arc<AtomicUsize>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
