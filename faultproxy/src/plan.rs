//! Which request suffers which fault: a deterministic, seeded plan.
//!
//! A [`FaultPlan`] combines explicit [`Rule`]s ("the 3rd POST to `/app/transactions` is reset
//! after the response") with random faults drawn with fixed probabilities. The random draw for
//! a request depends only on the seed and the request's position among the requests the plan
//! applies to, so a run with one client issuing requests one after another is reproduced
//! exactly by the same seed; with concurrent clients, the set of positions that suffer faults
//! is the same and only which request lands on which position varies.

use std::time::Duration;

use crate::fault::Fault;

/// Selects requests by method and path prefix.
///
/// # Examples
///
/// ```
/// use faultproxy::RequestFilter;
///
/// let writes = RequestFilter::any().method("post").path_prefix("/app/transactions");
/// assert!(writes.matches("POST", "/app/transactions"));
/// assert!(!writes.matches("GET", "/app/transactions"));
/// assert!(!writes.matches("POST", "/app/users"));
/// assert!(RequestFilter::any().matches("DELETE", "/anything"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestFilter {
    method: Option<String>,
    path_prefix: String,
}

impl RequestFilter {
    /// Every request.
    pub fn any() -> RequestFilter {
        RequestFilter::default()
    }

    /// Only requests with this method (case-insensitive).
    #[must_use]
    pub fn method(mut self, method: &str) -> RequestFilter {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    /// Only requests whose path (without the query) starts with `prefix`.
    #[must_use]
    pub fn path_prefix(mut self, prefix: &str) -> RequestFilter {
        self.path_prefix = prefix.to_string();
        self
    }

    /// True when a request with `method` and `path` (the query is ignored) is selected.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        let path = path.split_once('?').map_or(path, |(p, _)| p);
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path.starts_with(&self.path_prefix)
    }
}

/// An explicit fault for chosen requests: the requests numbered `numbers` (from 0) among those
/// matching the rule's filter.
///
/// # Examples
///
/// ```
/// use faultproxy::{Fault, RequestFilter, Rule};
///
/// // The first and third writes are reset before they reach the server.
/// let rule = Rule::at_each([0, 2], Fault::ResetBeforeForward)
///     .matching(RequestFilter::any().method("POST"));
/// # let _ = rule;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    filter: RequestFilter,
    numbers: Vec<u64>,
    fault: Fault,
}

impl Rule {
    /// `fault` for the request numbered `number` (from 0) among those matching the rule.
    pub fn at(number: u64, fault: Fault) -> Rule {
        Rule::at_each([number], fault)
    }

    /// `fault` for each request numbered in `numbers` among those matching the rule.
    pub fn at_each(numbers: impl IntoIterator<Item = u64>, fault: Fault) -> Rule {
        let mut numbers: Vec<u64> = numbers.into_iter().collect();
        numbers.sort_unstable();
        numbers.dedup();
        Rule {
            filter: RequestFilter::any(),
            numbers,
            fault,
        }
    }

    /// Counts only requests matching `filter` (every request by default).
    #[must_use]
    pub fn matching(mut self, filter: RequestFilter) -> Rule {
        self.filter = filter;
        self
    }

    /// The fault.
    pub fn fault(&self) -> Fault {
        self.fault
    }
}

/// A plan that cannot be used.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// A probability outside `[0, 1]` (or not a number).
    #[error("probability {0} is not within [0, 1]")]
    InvalidProbability(f64),
    /// The probabilities add up to more than 1.
    #[error("the fault probabilities add up to {0}, more than 1")]
    ProbabilitiesExceedOne(f64),
    /// A delay (or a hold after forwarding) above the proxy's limit.
    #[error("a delay of {delay:?} exceeds the limit of {limit:?}")]
    DelayTooLong {
        /// The delay asked for.
        delay: Duration,
        /// [`Limits::max_delay`](crate::Limits::max_delay).
        limit: Duration,
    },
    /// A status that is not an HTTP error status (400-599).
    #[error("status {0} is not an HTTP error status (400-599)")]
    InvalidStatus(u16),
}

/// Which requests suffer which faults.
///
/// Explicit [rules](Self::rule) come first (the first rule whose numbers include the request
/// wins); otherwise a request matching the plan's [filter](Self::matching) suffers one of the
/// random faults with its probability, or none. [`FaultPlan::none`] passes everything through.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use faultproxy::{Fault, FaultPlan, RequestFilter, Rule};
///
/// let plan = FaultPlan::seeded(42)
///     .matching(RequestFilter::any().method("POST").path_prefix("/app/transactions"))
///     .with(0.05, Fault::ResetBeforeForward)
///     .with(0.05, Fault::ResetAfterResponse)
///     .with(0.05, Fault::unavailable().retry_after(Duration::from_secs(1)))
///     .rule(Rule::at(0, Fault::throttled()).matching(RequestFilter::any().method("GET")));
///
/// // The draw for a request depends only on the seed and its position.
/// let first: Vec<_> = (0..100).map(|n| plan.random_fault(n)).collect();
/// let again: Vec<_> = (0..100).map(|n| plan.random_fault(n)).collect();
/// assert_eq!(first, again);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultPlan {
    seed: u64,
    filter: RequestFilter,
    choices: Vec<(f64, Fault)>,
    rules: Vec<Rule>,
}

impl FaultPlan {
    /// No faults: every request passes through.
    pub fn none() -> FaultPlan {
        FaultPlan::default()
    }

    /// An empty plan whose random draws are derived from `seed`.
    pub fn seeded(seed: u64) -> FaultPlan {
        FaultPlan {
            seed,
            ..FaultPlan::default()
        }
    }

    /// Each request the plan applies to suffers `fault` with `probability` (in `[0, 1]`; the
    /// probabilities of a plan add up to at most 1).
    #[must_use]
    pub fn with(mut self, probability: f64, fault: Fault) -> FaultPlan {
        self.choices.push((probability, fault));
        self
    }

    /// Random faults apply only to requests matching `filter` (every request by default).
    /// Rules have their own filters.
    #[must_use]
    pub fn matching(mut self, filter: RequestFilter) -> FaultPlan {
        self.filter = filter;
        self
    }

    /// Adds an explicit rule, checked before the random draw and after earlier rules.
    #[must_use]
    pub fn rule(mut self, rule: Rule) -> FaultPlan {
        self.rules.push(rule);
        self
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The random fault drawn for the request numbered `number` (from 0) among those the plan's
    /// filter selects; `None` passes it through. Depends only on the seed, the probabilities and
    /// `number`.
    pub fn random_fault(&self, number: u64) -> Option<Fault> {
        let mut point = unit_interval(self.seed, number);
        for (probability, fault) in &self.choices {
            if point < *probability {
                return Some(*fault);
            }
            point -= probability;
        }
        None
    }

    /// Checks probabilities, statuses and delays (against `max_delay`).
    ///
    /// # Errors
    ///
    /// The first problem found, as a [`PlanError`].
    pub fn validate(&self, max_delay: Duration) -> Result<(), PlanError> {
        let mut total = 0.0;
        for (probability, _) in &self.choices {
            if !(0.0..=1.0).contains(probability) {
                return Err(PlanError::InvalidProbability(*probability));
            }
            total += probability;
        }
        if total > 1.0 + 1e-9 {
            return Err(PlanError::ProbabilitiesExceedOne(total));
        }
        let faults = self
            .choices
            .iter()
            .map(|(_, f)| f)
            .chain(self.rules.iter().map(|r| &r.fault));
        for fault in faults {
            match *fault {
                Fault::Delay(delay) if delay > max_delay => {
                    return Err(PlanError::DelayTooLong {
                        delay,
                        limit: max_delay,
                    });
                }
                Fault::HoldAfterForward(delay) if delay > max_delay => {
                    return Err(PlanError::DelayTooLong {
                        delay,
                        limit: max_delay,
                    });
                }
                Fault::Status { status, .. } | Fault::StatusAfterForward { status }
                    if !(400..=599).contains(&status) =>
                {
                    return Err(PlanError::InvalidStatus(status));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Why a request got its fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cause {
    /// The plan's rule at this index (in the order added) chose it.
    Rule(usize),
    /// The random draw for this position among the requests the plan's filter selects.
    Random(u64),
}

/// A plan being applied: counts the requests each rule and the random draw have seen.
#[derive(Debug)]
pub(crate) struct Schedule {
    plan: FaultPlan,
    random_seen: u64,
    rule_seen: Vec<u64>,
}

impl Schedule {
    pub(crate) fn new(plan: FaultPlan) -> Schedule {
        let rule_seen = vec![0; plan.rules.len()];
        Schedule {
            plan,
            random_seen: 0,
            rule_seen,
        }
    }

    /// The fault for the next request, if any. Every rule and the random draw count every
    /// request they match, whether or not they choose its fault, so adding a rule does not
    /// shift the random schedule.
    pub(crate) fn decide(&mut self, method: &str, path: &str) -> Option<(Fault, Cause)> {
        let mut chosen = None;
        for (i, rule) in self.plan.rules.iter().enumerate() {
            if !rule.filter.matches(method, path) {
                continue;
            }
            let number = self.rule_seen[i];
            self.rule_seen[i] += 1;
            if chosen.is_none() && rule.numbers.binary_search(&number).is_ok() {
                chosen = Some((rule.fault, Cause::Rule(i)));
            }
        }
        if self.plan.filter.matches(method, path) {
            let number = self.random_seen;
            self.random_seen += 1;
            if chosen.is_none() {
                chosen = self
                    .plan
                    .random_fault(number)
                    .map(|f| (f, Cause::Random(number)));
            }
        }
        chosen
    }
}

/// SplitMix64's output function: a bijective 64-bit mixer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A point of `[0, 1)` determined by `seed` and `number`.
fn unit_interval(seed: u64, number: u64) -> f64 {
    let x = mix(mix(seed).wrapping_add(number.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_follow_the_probabilities() {
        let plan = FaultPlan::seeded(7)
            .with(0.1, Fault::ResetBeforeForward)
            .with(0.2, Fault::ResetAfterResponse);
        let n = 100_000;
        let draws: Vec<_> = (0..n).map(|i| plan.random_fault(i)).collect();
        let count = |f: Fault| draws.iter().filter(|d| **d == Some(f)).count() as f64 / n as f64;
        assert!((count(Fault::ResetBeforeForward) - 0.1).abs() < 0.01);
        assert!((count(Fault::ResetAfterResponse) - 0.2).abs() < 0.01);
        let none = draws.iter().filter(|d| d.is_none()).count() as f64 / n as f64;
        assert!((none - 0.7).abs() < 0.01);
    }

    #[test]
    fn seeds_give_different_schedules() {
        let a = FaultPlan::seeded(1).with(0.5, Fault::ResetBeforeForward);
        let b = FaultPlan::seeded(2).with(0.5, Fault::ResetBeforeForward);
        let draws = |p: &FaultPlan| (0..64).map(|i| p.random_fault(i)).collect::<Vec<_>>();
        assert_ne!(draws(&a), draws(&b));
        assert_eq!(draws(&a), draws(&a.clone()));
    }

    #[test]
    fn certain_and_impossible_faults() {
        let always = FaultPlan::seeded(3).with(1.0, Fault::throttled());
        let never = FaultPlan::seeded(3).with(0.0, Fault::throttled());
        assert!((0..1000).all(|i| always.random_fault(i) == Some(Fault::throttled())));
        assert!((0..1000).all(|i| never.random_fault(i).is_none()));
        assert!((0..1000).all(|i| FaultPlan::none().random_fault(i).is_none()));
    }

    #[test]
    fn rules_count_their_own_matches_and_come_first() {
        let posts = RequestFilter::any().method("POST");
        let plan = FaultPlan::seeded(9)
            .with(1.0, Fault::unavailable())
            .matching(RequestFilter::any().method("GET"))
            .rule(Rule::at_each([1, 3], Fault::ResetBeforeForward).matching(posts.clone()))
            .rule(Rule::at(0, Fault::ResetAfterResponse).matching(RequestFilter::any()));
        let mut s = Schedule::new(plan);
        // Request 0 (GET): rule 1's number 0 -> ResetAfterResponse; the random draw still
        // counts it.
        assert_eq!(
            s.decide("GET", "/a"),
            Some((Fault::ResetAfterResponse, Cause::Rule(1)))
        );
        assert_eq!(s.decide("POST", "/a"), None); // POST #0
        assert_eq!(
            s.decide("POST", "/a"),
            Some((Fault::ResetBeforeForward, Cause::Rule(0)))
        ); // POST #1
        assert_eq!(
            s.decide("GET", "/a"),
            Some((Fault::unavailable(), Cause::Random(1)))
        );
        assert_eq!(s.decide("POST", "/a"), None); // POST #2
        assert_eq!(
            s.decide("POST", "/a"),
            Some((Fault::ResetBeforeForward, Cause::Rule(0)))
        ); // POST #3
        assert_eq!(s.decide("POST", "/a"), None);
    }

    #[test]
    fn filters_ignore_the_query() {
        let f = RequestFilter::any().path_prefix("/app/transactions");
        assert!(f.matches("GET", "/app/transactions?api-version=1"));
        assert!(
            !RequestFilter::any()
                .path_prefix("/app/x")
                .matches("GET", "/app?/app/x")
        );
    }

    #[test]
    fn validation() {
        let max = Duration::from_secs(5);
        assert_eq!(FaultPlan::none().validate(max), Ok(()));
        assert_eq!(
            FaultPlan::seeded(0)
                .with(f64::NAN, Fault::throttled())
                .validate(max)
                .map_err(|e| matches!(e, PlanError::InvalidProbability(_))),
            Err(true)
        );
        assert!(matches!(
            FaultPlan::seeded(0)
                .with(0.6, Fault::throttled())
                .with(0.6, Fault::unavailable())
                .validate(max),
            Err(PlanError::ProbabilitiesExceedOne(_))
        ));
        assert!(matches!(
            FaultPlan::seeded(0)
                .rule(Rule::at(0, Fault::Delay(Duration::from_secs(6))))
                .validate(max),
            Err(PlanError::DelayTooLong { .. })
        ));
        assert_eq!(
            FaultPlan::seeded(0)
                .with(0.1, Fault::status(200))
                .validate(max),
            Err(PlanError::InvalidStatus(200))
        );
        assert_eq!(
            FaultPlan::seeded(0)
                .with(0.1, Fault::status_after_forward(302))
                .validate(max),
            Err(PlanError::InvalidStatus(302))
        );
        assert!(matches!(
            FaultPlan::seeded(0)
                .with(0.1, Fault::HoldAfterForward(Duration::from_secs(6)))
                .validate(max),
            Err(PlanError::DelayTooLong { .. })
        ));
    }
}
