//! Which errors a wait survives: [`ErrorPolicy`], [`PollErrorClass`] and the ready-made
//! [`FailFast`] and [`ConsecutiveNotFound`].

/// What an error means to a wait, as its error type classifies it ([`PollErrorClass`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The operation is still in progress; poll again (e.g. `406` from the status endpoint
    /// while a transaction is pending).
    StillPending,
    /// The resource is not visible *yet*: a `404` that replication lag can explain (a node that
    /// has not caught up after a write). Worth a few more polls, not forever.
    NotFoundYet,
    /// Nothing will change by asking again: fail the wait with this error (e.g. `404` with code
    /// `InvalidTransactionId`, a transaction in state `Invalid`, `401`, `403`).
    Final,
}

/// How an error type tells a wait what an error means.
///
/// Implement it for the error your step function returns to use [`ConsecutiveNotFound`].
///
/// # Examples
///
/// ```
/// use confidential_ledger::poller::{ErrorClass, PollErrorClass};
///
/// struct HttpError { status: u16, code: Option<String> }
///
/// impl PollErrorClass for HttpError {
///     fn poll_error_class(&self) -> ErrorClass {
///         match (self.status, self.code.as_deref()) {
///             (406, _) => ErrorClass::StillPending,
///             (404, Some("InvalidTransactionId")) => ErrorClass::Final,
///             (404, _) => ErrorClass::NotFoundYet,
///             _ => ErrorClass::Final,
///         }
///     }
/// }
/// ```
pub trait PollErrorClass {
    /// The class of this error.
    fn poll_error_class(&self) -> ErrorClass;
}

/// What a wait does with an error from its step function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorAction {
    /// Treat the poll as still pending and poll again after the next delay.
    KeepWaiting,
    /// End the wait with the error.
    Fail,
}

/// Decides, error by error, whether a wait goes on.
///
/// The [`Poller`](crate::poller::Poller) calls [`on_error`](Self::on_error) for every error its
/// step function returns and [`on_success`](Self::on_success) after every successful poll, in
/// order, so a policy may count.
pub trait ErrorPolicy<E>: Send {
    /// Whether the wait survives `error`.
    fn on_error(&mut self, error: &E) -> ErrorAction;

    /// A poll succeeded (pending or done). Policies that count consecutive errors reset here.
    fn on_success(&mut self) {}
}

/// Every error ends the wait. The [`Poller`](crate::poller::Poller)'s default.
///
/// # Examples
///
/// ```
/// use confidential_ledger::poller::{ErrorPolicy, FailFast, ErrorAction};
///
/// assert_eq!(ErrorPolicy::<std::io::Error>::on_error(&mut FailFast, &std::io::ErrorKind::NotFound.into()), ErrorAction::Fail);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailFast;

impl<E> ErrorPolicy<E> for FailFast {
    fn on_error(&mut self, _error: &E) -> ErrorAction {
        ErrorAction::Fail
    }
}

/// Survives errors classed [`StillPending`](ErrorClass::StillPending), and up to `limit`
/// *consecutive* [`NotFoundYet`](ErrorClass::NotFoundYet) errors; fails on anything
/// [`Final`](ErrorClass::Final) and on the `limit + 1`-th consecutive not-found.
///
/// The not-found count goes back to zero after any poll that is not a not-found: a success, or a
/// `StillPending` error. This is the policy of "wait for commit" right after a write, where a
/// node that has not replicated the write yet answers `404` and a pending transaction may be
/// answered `406`. (The official Python client gives up at its third 404, counted over the
/// whole wait; this one gives up at the fourth in a row.)
///
/// It can also be used by hand, inside a step function, through [`observe`](Self::observe).
///
/// # Examples
///
/// ```
/// use confidential_ledger::poller::{ConsecutiveNotFound, ErrorClass, PollErrorClass, ErrorAction};
///
/// struct Status(u16);
/// impl PollErrorClass for Status {
///     fn poll_error_class(&self) -> ErrorClass {
///         match self.0 {
///             404 => ErrorClass::NotFoundYet,
///             406 => ErrorClass::StillPending,
///             _ => ErrorClass::Final,
///         }
///     }
/// }
///
/// let mut policy = ConsecutiveNotFound::default(); // 3
/// for _ in 0..3 {
///     assert_eq!(policy.observe(&Status(404)), ErrorAction::KeepWaiting);
/// }
/// assert_eq!(policy.observe(&Status(406)), ErrorAction::KeepWaiting); // resets the count
/// for _ in 0..3 {
///     assert_eq!(policy.observe(&Status(404)), ErrorAction::KeepWaiting);
/// }
/// assert_eq!(policy.observe(&Status(404)), ErrorAction::Fail);
/// assert_eq!(ConsecutiveNotFound::new(3).observe(&Status(401)), ErrorAction::Fail);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsecutiveNotFound {
    limit: u32,
    seen: u32,
}

impl ConsecutiveNotFound {
    /// The number of consecutive not-found answers [`Default`] tolerates.
    pub const DEFAULT_LIMIT: u32 = 3;

    /// Tolerates up to `limit` not-found answers in a row.
    pub const fn new(limit: u32) -> Self {
        Self { limit, seen: 0 }
    }

    /// The number of consecutive not-found answers tolerated.
    pub const fn limit(&self) -> u32 {
        self.limit
    }

    /// The number of not-found answers seen in a row so far.
    pub const fn consecutive(&self) -> u32 {
        self.seen
    }

    /// Records an error and says whether the wait goes on.
    pub fn observe<E: PollErrorClass + ?Sized>(&mut self, error: &E) -> ErrorAction {
        match error.poll_error_class() {
            ErrorClass::StillPending => {
                self.seen = 0;
                ErrorAction::KeepWaiting
            }
            ErrorClass::NotFoundYet => {
                self.seen = self.seen.saturating_add(1);
                if self.seen <= self.limit {
                    ErrorAction::KeepWaiting
                } else {
                    ErrorAction::Fail
                }
            }
            ErrorClass::Final => ErrorAction::Fail,
        }
    }

    /// Records a successful poll: the count starts over.
    pub fn reset(&mut self) {
        self.seen = 0;
    }
}

impl Default for ConsecutiveNotFound {
    fn default() -> Self {
        Self::new(Self::DEFAULT_LIMIT)
    }
}

impl<E: PollErrorClass> ErrorPolicy<E> for ConsecutiveNotFound {
    fn on_error(&mut self, error: &E) -> ErrorAction {
        self.observe(error)
    }

    fn on_success(&mut self) {
        self.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Class(ErrorClass);
    impl PollErrorClass for Class {
        fn poll_error_class(&self) -> ErrorClass {
            self.0
        }
    }
    const NOT_FOUND: Class = Class(ErrorClass::NotFoundYet);
    const PENDING: Class = Class(ErrorClass::StillPending);
    const FINAL: Class = Class(ErrorClass::Final);

    #[test]
    fn tolerates_exactly_the_limit_in_a_row() {
        for limit in 0..5 {
            let mut policy = ConsecutiveNotFound::new(limit);
            for n in 1..=limit {
                assert_eq!(
                    policy.on_error(&NOT_FOUND),
                    ErrorAction::KeepWaiting,
                    "{n}/{limit}"
                );
            }
            assert_eq!(
                policy.on_error(&NOT_FOUND),
                ErrorAction::Fail,
                "limit {limit}"
            );
        }
    }

    #[test]
    fn success_and_still_pending_reset_the_count() {
        let mut policy = ConsecutiveNotFound::default();
        for round in 0..10 {
            assert_eq!(policy.on_error(&NOT_FOUND), ErrorAction::KeepWaiting);
            assert_eq!(policy.on_error(&NOT_FOUND), ErrorAction::KeepWaiting);
            assert_eq!(policy.on_error(&NOT_FOUND), ErrorAction::KeepWaiting);
            assert_eq!(policy.consecutive(), 3);
            if round % 2 == 0 {
                ErrorPolicy::<Class>::on_success(&mut policy);
            } else {
                assert_eq!(policy.on_error(&PENDING), ErrorAction::KeepWaiting);
            }
            assert_eq!(policy.consecutive(), 0);
        }
        ErrorPolicy::<Class>::on_success(&mut policy);
        assert_eq!(policy.consecutive(), 0);
    }

    #[test]
    fn final_errors_fail_at_once() {
        let mut policy = ConsecutiveNotFound::default();
        assert_eq!(policy.on_error(&FINAL), ErrorAction::Fail);
        let mut policy = ConsecutiveNotFound::new(u32::MAX);
        assert_eq!(policy.on_error(&NOT_FOUND), ErrorAction::KeepWaiting);
        assert_eq!(policy.on_error(&FINAL), ErrorAction::Fail);
    }

    #[test]
    fn fail_fast_fails_everything() {
        assert_eq!(FailFast.on_error(&PENDING), ErrorAction::Fail);
        assert_eq!(FailFast.on_error(&NOT_FOUND), ErrorAction::Fail);
    }
}
