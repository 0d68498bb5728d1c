//! Writes that return committed, with their receipt: `waitForCommit` (2026-07-31-preview) when
//! the client speaks that api-version, a write, a commit wait and a receipt fetch otherwise.

use tracing::Instrument;

use super::{ConfidentialLedgerClient, CreateLedgerEntryOptions, GetReceiptOptions};
use crate::Error;
use crate::models::{CommittedWrite, LedgerWriteResult, TransactionReceipt, TransactionState};
use crate::receipt::{ReceiptResponse, VerifyOptions};

/// The first api-version whose writes take `waitForCommit`: opt in with
/// [`ClientOptions::api_version`](crate::ClientOptions::api_version) (the default stays the
/// stable [`DEFAULT_API_VERSION`](crate::options::DEFAULT_API_VERSION)).
///
/// # Examples
///
/// ```
/// use confidential_ledger::ClientOptions;
/// use confidential_ledger::client::PREVIEW_API_VERSION;
///
/// let mut options = ClientOptions::default();
/// options.api_version = PREVIEW_API_VERSION.to_owned();
/// assert_eq!(options.api_version, "2026-07-31-preview");
/// ```
pub const PREVIEW_API_VERSION: &str = "2026-07-31-preview";

/// Whether writes of `api_version` take `waitForCommit` (compared by the date that starts it).
pub(super) fn takes_wait_for_commit(api_version: &str) -> bool {
    let date = api_version.get(..10).unwrap_or("");
    let well_formed = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    well_formed && date >= &PREVIEW_API_VERSION[..10]
}

impl ConfidentialLedgerClient {
    /// Appends an entry and returns once it is committed, with its receipt (verified against
    /// the pinned service certificate when
    /// [`CreateLedgerEntryOptions::verify_receipt`] asks): one call for a durable, provable
    /// write.
    ///
    /// With api-version [`PREVIEW_API_VERSION`] (or later) this is one request: the write is
    /// sent with `waitForCommit=true` and the ledger answers once it is committed, with the
    /// receipt. If the ledger's own wait ends first (it answers `state: Pending`), the client
    /// waits for the commit and fetches the receipt itself. With older api-versions it always
    /// does that: a write, a commit wait and a receipt fetch.
    ///
    /// # Errors
    ///
    /// Those of [`create_ledger_entry_and_wait`](Self::create_ledger_entry_and_wait), and:
    ///
    /// - [`TransactionRolledBack`](crate::ErrorKind::TransactionRolledBack): the write was rolled
    ///   back before its commit: it was not applied. In
    ///   [`WriteMode::ExactlyOnce`](crate::options::WriteMode::ExactlyOnce) the client sends it again
    ///   (same marker) within the call's deadline instead.
    /// - [`InvalidReceipt`](crate::ErrorKind::InvalidReceipt) when asked to verify and the receipt
    ///   does not verify.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use confidential_ledger::ClientOptions;
    /// use confidential_ledger::client::{CreateLedgerEntryOptions, PREVIEW_API_VERSION};
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// // `client` built with `ClientOptions { api_version: PREVIEW_API_VERSION.into(), .. }`.
    /// let options = CreateLedgerEntryOptions::new().verify_receipt(true);
    /// let committed = client.create_ledger_entry_committed("audited", Some(options)).await?;
    /// println!("{} is committed", committed.transaction_id);
    /// # Ok(()) }
    /// ```
    pub async fn create_ledger_entry_committed(
        &self,
        contents: impl Into<String>,
        options: Option<CreateLedgerEntryOptions>,
    ) -> Result<CommittedWrite, Error> {
        let options = options.unwrap_or_default();
        let span = Self::span("create_ledger_entry", None);
        async {
            let wait = takes_wait_for_commit(self.api_version());
            let write = self.prepare_write(contents.into(), &options, wait)?;
            let written = self.send_prepared(&write, &options).await?;
            let mut committed = self.committed(written, &options).await?;
            if options.verify_receipt {
                let verify =
                    VerifyOptions::new().transaction_id(committed.transaction_id.to_string());
                committed.verified = Some(self.verify_pinned(&committed.receipt, verify).await?);
            }
            Ok(committed)
        }
        .instrument(span)
        .await
    }

    /// The committed write with its receipt: from the write's answer when it has them,
    /// otherwise by waiting for the commit and fetching the receipt.
    async fn committed(
        &self,
        written: LedgerWriteResult,
        options: &CreateLedgerEntryOptions,
    ) -> Result<CommittedWrite, Error> {
        if let Some(receipt) = answered_receipt(&written)? {
            return Ok(CommittedWrite::new(written, receipt));
        }
        let id = written.transaction_id;
        let poller = self.wait_for_commit(
            id,
            Some(super::WaitForCommitOptions {
                polling: options.polling.clone(),
                timeout: options.timeout,
                call: options.call.clone(),
            }),
        );
        poller.await?;
        let fetch = GetReceiptOptions {
            polling: options.polling.clone(),
            timeout: options.timeout,
            call: options.call.clone(),
        };
        let receipt = self.get_receipt(id, Some(fetch)).await?;
        Ok(CommittedWrite::new(written, receipt))
    }
}

/// The receipt a `waitForCommit` write was answered with, if it was answered `Committed` with
/// one; a `Committed` answer without a receipt, or a receipt for another transaction, is a
/// [`Decode`](crate::ErrorKind::Decode) error.
fn answered_receipt(written: &LedgerWriteResult) -> Result<Option<TransactionReceipt>, Error> {
    let Some(answer) = &written.answer else {
        return Ok(None);
    };
    if answer.state != Some(TransactionState::Committed) {
        return Ok(None);
    }
    let bad = |why: String| {
        Error::decode(format!("the write was answered Committed but {why}"), b"")
            .with_operation("create_ledger_entry")
    };
    let Some(value) = &answer.receipt else {
        return Err(bad("without its receipt".to_owned()));
    };
    let response: ReceiptResponse = serde_json::from_value(value.clone())
        .map_err(|e| bad(format!("its receipt is malformed: {e}")))?;
    let receipt = TransactionReceipt::from_response(response)?;
    if receipt.transaction_id != written.transaction_id {
        return Err(bad(format!(
            "with the receipt of {}, not of {}",
            receipt.transaction_id, written.transaction_id
        )));
    }
    Ok(Some(receipt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_preview_and_later_take_wait_for_commit() {
        assert!(takes_wait_for_commit(PREVIEW_API_VERSION));
        assert!(takes_wait_for_commit("2027-01-01"));
        for older in [
            "2026-02-23",
            "2024-12-09-preview",
            "0.1-preview",
            "",
            "2026-07-3",
        ] {
            assert!(!takes_wait_for_commit(older), "{older}");
        }
    }

    #[test]
    fn the_preview_is_a_version_the_manifest_knows() {
        let manifest = include_str!("../../spec/manifest.json");
        assert!(
            manifest.contains(&format!("/{PREVIEW_API_VERSION}/confidentialledger.json")),
            "spec/manifest.json has no known revision of {PREVIEW_API_VERSION}"
        );
    }
}
