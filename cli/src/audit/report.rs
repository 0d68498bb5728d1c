//! The audit's report: counts, range, failures, signature nodes, endorsement chains, time. It
//! is also the checkpoint's state, so its size is bounded whatever the range's length.

use std::collections::BTreeMap;

use confidential_ledger::TransactionId;
use serde::{Deserialize, Serialize};

/// Failures kept in full; beyond, only counted.
pub const MAX_LISTED_FAILURES: usize = 1000;
/// Distinct signature nodes and endorsement chains kept; beyond, counted as "other".
pub const MAX_DISTINCT: usize = 256;

/// One entry that did not check out.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    /// The entry's transaction.
    pub transaction_id: TransactionId,
    /// The step that failed: `fetch receipt`, `claim`, or a verification step (`signature`,
    /// `endorsement`, `claims`...).
    pub step: String,
    /// What went wrong.
    pub error: String,
}

/// The audit's findings so far.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The ledger audited.
    pub ledger_id: String,
    /// The collection (`None`: the default one).
    pub collection: Option<String>,
    /// The range asked for (`None`: from the first entry).
    pub from: Option<TransactionId>,
    /// The end of the range (the latest entry when the audit started, unless given).
    pub to: Option<TransactionId>,
    /// SHA-256 of the service certificate every receipt was verified against.
    pub service_certificate_sha256: String,
    /// Every entry of the range was audited.
    pub complete: bool,
    /// Entries audited.
    pub entries: u64,
    /// Entries whose receipt verified and whose claim matched.
    pub verified: u64,
    /// Entries that failed.
    pub failed: u64,
    /// Entries whose receipt carries no application claims (written without them): the receipt
    /// is verified, the contents cannot be tied to it.
    pub without_claims: u64,
    /// The first entry audited.
    pub first_transaction: Option<TransactionId>,
    /// The last entry audited (the checkpoint resumes after it).
    pub last_transaction: Option<TransactionId>,
    /// The first [`MAX_LISTED_FAILURES`] failures.
    pub failures: Vec<Failure>,
    /// Failures beyond those listed.
    pub failures_not_listed: u64,
    /// Receipts per signing node (hex SHA-256 of the node key).
    pub signature_nodes: BTreeMap<String, u64>,
    /// Receipts per endorsement chain from the node certificate to the service certificate:
    /// `direct`, or the SHA-256 (first 16 hex digits) of each service endorsement.
    pub endorsement_chains: BTreeMap<String, u64>,
    /// Wall time of all runs, seconds.
    pub wall_seconds: f64,
    /// Time spent verifying receipts (summed over concurrent verifications), seconds.
    pub verify_seconds: f64,
    /// Runs that contributed (1 + resumptions).
    pub runs: u32,
}

impl Report {
    /// Records an entry that checked out.
    pub fn record_verified(
        &mut self,
        id: TransactionId,
        node: String,
        chain: String,
        claims: bool,
    ) {
        self.record_entry(id);
        self.verified += 1;
        if !claims {
            self.without_claims += 1;
        }
        bump(&mut self.signature_nodes, node);
        bump(&mut self.endorsement_chains, chain);
    }

    /// Records an entry that failed at `step`.
    pub fn record_failure(&mut self, id: TransactionId, step: &str, error: String) {
        self.record_entry(id);
        self.failed += 1;
        if self.failures.len() < MAX_LISTED_FAILURES {
            self.failures.push(Failure {
                transaction_id: id,
                step: step.to_owned(),
                error,
            });
        } else {
            self.failures_not_listed += 1;
        }
    }

    fn record_entry(&mut self, id: TransactionId) {
        self.entries += 1;
        self.first_transaction.get_or_insert(id);
        self.last_transaction = Some(id);
    }

    /// Entries per second over all runs.
    pub fn entries_per_second(&self) -> f64 {
        if self.wall_seconds > 0.0 {
            self.entries as f64 / self.wall_seconds
        } else {
            0.0
        }
    }

    /// The human summary (for stderr).
    pub fn summary(&self) -> String {
        let range = |id: Option<TransactionId>| id.map_or("-".to_owned(), |id| id.to_string());
        let mut text = format!(
            "audit of ledger {:?}, collection {}: {} entries ({} to {}), {} verified, {} failed{}\n",
            self.ledger_id,
            self.collection.as_deref().unwrap_or("(default)"),
            self.entries,
            range(self.first_transaction),
            range(self.last_transaction),
            self.verified,
            self.failed,
            if self.complete { "" } else { " (INCOMPLETE)" },
        );
        if self.without_claims > 0 {
            text.push_str(&format!(
                "  {} receipts carry no application claims: verified, but not tied to contents\n",
                self.without_claims
            ));
        }
        text.push_str(&format!(
            "  signature nodes: {}\n  endorsement chains: {}\n",
            describe(&self.signature_nodes, 16),
            describe(&self.endorsement_chains, 16)
        ));
        text.push_str(&format!(
            "  time: {:.2} s wall ({:.0} entries/s), {:.2} s verifying ({:.1} %), {} run(s)\n",
            self.wall_seconds,
            self.entries_per_second(),
            self.verify_seconds,
            if self.wall_seconds > 0.0 {
                100.0 * self.verify_seconds / self.wall_seconds
            } else {
                0.0
            },
            self.runs
        ));
        for failure in self.failures.iter().take(20) {
            text.push_str(&format!(
                "  FAILED {} at {}: {}\n",
                failure.transaction_id, failure.step, failure.error
            ));
        }
        let unshown = self.failed.saturating_sub(20);
        if unshown > 0 {
            text.push_str(&format!(
                "  ... and {unshown} more failures (see --report)\n"
            ));
        }
        text
    }
}

fn bump(map: &mut BTreeMap<String, u64>, key: String) {
    if map.len() >= MAX_DISTINCT && !map.contains_key(&key) {
        *map.entry("other".to_owned()).or_insert(0) += 1;
    } else {
        *map.entry(key).or_insert(0) += 1;
    }
}

fn describe(map: &BTreeMap<String, u64>, prefix: usize) -> String {
    if map.is_empty() {
        return "none".to_owned();
    }
    map.iter()
        .map(|(key, count)| format!("{} ({count})", &key[..key.len().min(prefix)]))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_beyond_the_cap_are_counted_not_listed() {
        let mut report = Report::default();
        for seqno in 0..(MAX_LISTED_FAILURES as u64 + 5) {
            report.record_failure(TransactionId::new(2, seqno), "signature", "bad".into());
        }
        assert_eq!(report.failures.len(), MAX_LISTED_FAILURES);
        assert_eq!(report.failures_not_listed, 5);
        assert_eq!(report.failed, MAX_LISTED_FAILURES as u64 + 5);
        assert_eq!(report.first_transaction, Some(TransactionId::new(2, 0)));
    }

    #[test]
    fn distinct_nodes_are_capped() {
        let mut report = Report::default();
        for n in 0..(MAX_DISTINCT + 3) {
            report.record_verified(
                TransactionId::new(2, n as u64),
                format!("{n:04}"),
                "direct".into(),
                true,
            );
        }
        assert_eq!(report.signature_nodes.len(), MAX_DISTINCT + 1);
        assert_eq!(report.signature_nodes.get("other"), Some(&3));
        assert_eq!(
            report.endorsement_chains.get("direct"),
            Some(&(MAX_DISTINCT as u64 + 3))
        );
    }
}
