//! Receipts: fetch (waiting out `Loading`), and verify against the pinned service
//! certificate.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::FutureExt;
use tracing::Instrument;

use super::polling::ReadPolicy;
use super::{ConfidentialLedgerClient, TransactionPoller};
use crate::models::{QueryState, TransactionReceipt, misfit};
use crate::options::{method_options, wait_setters};
use crate::pipeline::retry_after;
use crate::poller::{PollStep, Poller, PollingOptions};
use crate::receipt::{
    ApplicationClaim, CertificateRole, ReceiptError, ReceiptResponse, ReceiptVerifier, Verified,
    VerifyOptions,
};
use crate::{Error, IntoTransactionId, TransactionId};

method_options! {
    /// Options of [`get_receipt`](ConfidentialLedgerClient::get_receipt).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use confidential_ledger::client::GetReceiptOptions;
    ///
    /// let options = GetReceiptOptions::new().timeout(Duration::from_secs(30));
    /// # let _ = options;
    /// ```
    pub struct GetReceiptOptions {
        /// The schedule of polls while the ledger is `Loading` the receipt (default: the
        /// client's).
        pub polling: Option<PollingOptions>,
        /// How long to wait out `Loading` (default: the client's
        /// [`wait_timeout`](crate::ClientOptions::wait_timeout)).
        pub timeout: Option<Duration>,
    }
}

wait_setters!(GetReceiptOptions);

method_options! {
    /// Options of [`get_verified_receipt`](ConfidentialLedgerClient::get_verified_receipt):
    /// those of [`get_receipt`](ConfidentialLedgerClient::get_receipt), and what to check
    /// beyond the receipt itself.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use confidential_ledger::client::GetVerifiedReceiptOptions;
    /// use confidential_ledger::receipt::ApplicationClaim;
    ///
    /// let options = GetVerifiedReceiptOptions::new()
    ///     .application_claims(vec![ApplicationClaim::ledger_entry("subledger:0", "hello", b"secret")])
    ///     .check_validity_at(SystemTime::now());
    /// # let _ = options;
    /// ```
    pub struct GetVerifiedReceiptOptions {
        /// The schedule of polls while the ledger is `Loading` the receipt.
        pub polling: Option<PollingOptions>,
        /// How long to wait out `Loading`.
        pub timeout: Option<Duration>,
        /// What to verify beyond the receipt; by default the transaction id asked for and the
        /// application claims the ledger sent with the receipt.
        pub verify: VerifyOptions,
    }
}

wait_setters!(GetVerifiedReceiptOptions);

impl GetVerifiedReceiptOptions {
    /// Requires the receipt's claims digest to be the digest of `claims` (instead of the
    /// claims the ledger sent).
    #[must_use]
    pub fn application_claims(mut self, claims: Vec<ApplicationClaim>) -> Self {
        self.verify = self.verify.application_claims(claims);
        self
    }

    /// Requires every certificate of the receipt's chain to be valid at `at`.
    #[must_use]
    pub fn check_validity_at(mut self, at: SystemTime) -> Self {
        self.verify = self.verify.check_validity_at(at);
        self
    }
}

/// A receipt and what its verification established.
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
/// let proof = client.get_verified_receipt("2.15", None).await?;
/// println!("2.15 is under the Merkle root {}", proof.verified.root);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct VerifiedReceipt {
    /// The receipt.
    pub receipt: TransactionReceipt,
    /// What verifying it established.
    pub verified: Verified,
}

impl ConfidentialLedgerClient {
    /// The receipt of a committed transaction: proof, checkable offline, that it is in the
    /// ledger. Returns a [`TransactionPoller`] that asks again while the ledger is `Loading`
    /// the receipt (both shapes ledgers send: `"receipt": null`, and an empty placeholder
    /// receipt with an empty `transactionId`); await it for the receipt.
    ///
    /// Verify it with [`verify_receipt`](Self::verify_receipt), or fetch and verify in one
    /// call with [`get_verified_receipt`](Self::get_verified_receipt). As for
    /// [`get_ledger_entry`](Self::get_ledger_entry), up to three `404
    /// TransactionPendingOrUnknown` answers in a row (a node catching up) are waited out.
    ///
    /// # Errors
    ///
    /// Awaiting it fails with [`InvalidInput`](crate::ErrorKind::InvalidInput) for a
    /// malformed id (nothing is sent); [`NotFound`](crate::ErrorKind::NotFound) when the
    /// transaction is still not committed (`TransactionPendingOrUnknown`: wait for the commit
    /// first) or does not exist (`InvalidTransactionId`, at once);
    /// [`Decode`](crate::ErrorKind::Decode) when the ledger answers with a receipt for another
    /// transaction; [`Timeout`](crate::ErrorKind::Timeout).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let receipt = client.get_receipt("2.15", None).await?;
    /// println!("signed by node {:?}", receipt.receipt.node_id);
    /// # Ok(()) }
    /// ```
    pub fn get_receipt(
        &self,
        transaction_id: impl IntoTransactionId,
        options: Option<GetReceiptOptions>,
    ) -> TransactionPoller<TransactionReceipt, QueryState> {
        let options = options.unwrap_or_default();
        let id = match transaction_id.into_transaction_id() {
            Ok(id) => id,
            Err(e) => return TransactionPoller::invalid(&e, "get_receipt"),
        };
        let client = self.clone();
        let call = options.call;
        let poller = Poller::new(move || {
            let (client, call) = (client.clone(), call.clone());
            async move {
                let id_text = id.to_string();
                let (api, id_text) = (client.api_version(), id_text.as_str());
                let response = client
                    .run(
                        &call,
                        |raw| async move { raw.get_receipt(id_text, api).await },
                    )
                    .await?;
                let retry_after = retry_after(response.headers(), SystemTime::now());
                receipt_step(id, response.into_inner(), retry_after)
            }
            .map(|step| step.map_err(|e: Error| e.with_operation("get_receipt")))
            .instrument(Self::span("get_receipt", Some(id)))
        })
        .with_error_policy(ReadPolicy::default());
        TransactionPoller::new(
            self.configure_poller(poller, options.polling, options.timeout),
            id,
        )
    }

    /// Verifies a receipt against the service certificate this client pins: the leaf, the
    /// Merkle proof, the node's signature over the root, the endorsement chain up to the
    /// service certificate, that the commit evidence names the receipt's transaction, and the
    /// application claims the ledger sent with it (see [`receipt`](crate::receipt) for the
    /// algorithm). `options` can add or replace checks (expected transaction id, application
    /// claims, certificate validity at a time).
    ///
    /// It runs offline, with the client's [`receipt_verifier`](Self::receipt_verifier), whose
    /// caches make verifying many receipts of the same signature cheap.
    ///
    /// # Errors
    ///
    /// [`InvalidReceipt`](crate::ErrorKind::InvalidReceipt);
    /// [`Error::receipt_error`] says which step failed.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let receipt = client.get_receipt("2.15", None).await?;
    /// let verified = client.verify_receipt(&receipt, None)?;
    /// println!("root {}", verified.root);
    /// # Ok(()) }
    /// ```
    pub fn verify_receipt(
        &self,
        receipt: &TransactionReceipt,
        options: Option<VerifyOptions>,
    ) -> Result<Verified, Error> {
        verify_with(
            &*self.connections().verifier()?,
            receipt,
            options.unwrap_or_default(),
        )
    }

    /// Fetches a receipt (waiting out `Loading`, see [`get_receipt`](Self::get_receipt)) and
    /// verifies it (see [`verify_receipt`](Self::verify_receipt)), requiring it to be for
    /// `transaction_id`.
    ///
    /// A receipt signed under a newer service certificate than the pinned one (after a
    /// rotation or recovery) makes the client fetch the ledger's identity again, as a pin
    /// mismatch does, and verify against the new certificate.
    ///
    /// # Errors
    ///
    /// Those of [`get_receipt`](Self::get_receipt), and
    /// [`InvalidReceipt`](crate::ErrorKind::InvalidReceipt).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let written = client.create_ledger_entry_and_wait("audited", None).await?;
    /// let proof = client.get_verified_receipt(written.transaction_id, None).await?;
    /// assert_eq!(proof.verified.transaction_id, Some(written.transaction_id.to_string()));
    /// # Ok(()) }
    /// ```
    pub async fn get_verified_receipt(
        &self,
        transaction_id: impl IntoTransactionId,
        options: Option<GetVerifiedReceiptOptions>,
    ) -> Result<VerifiedReceipt, Error> {
        let options = options.unwrap_or_default();
        let id = transaction_id
            .into_transaction_id()
            .map_err(|e| Error::from(e).with_operation("get_verified_receipt"))?;
        let fetch = GetReceiptOptions {
            polling: options.polling,
            timeout: options.timeout,
            call: options.call,
        };
        let receipt = self.get_receipt(id, Some(fetch)).await?;
        let mut verify = options.verify;
        if verify.transaction_id.is_none() {
            verify.transaction_id = Some(id.into());
        }
        async {
            let verified = self.verify_pinned(&receipt, verify).await?;
            Ok(VerifiedReceipt { receipt, verified })
        }
        .instrument(Self::span("get_verified_receipt", Some(id)))
        .await
    }

    /// Verifies `receipt` against the pinned service certificate; a receipt signed under a
    /// newer one makes the client fetch the ledger's identity again and verify against it.
    pub(super) async fn verify_pinned(
        &self,
        receipt: &TransactionReceipt,
        verify: VerifyOptions,
    ) -> Result<Verified, Error> {
        let connections = self.connections();
        match verify_with(&*connections.verifier()?, receipt, verify.clone()) {
            Err(err) if chains_elsewhere(&err) => {
                match self.refresh_for_receipt(connections.generation).await {
                    Some(fresh) => verify_with(&*fresh.verifier()?, receipt, verify),
                    None => Err(err),
                }
            }
            other => other,
        }
    }

    /// The receipt verifier trusting the pinned service certificate, shared by this client's
    /// [`verify_receipt`](Self::verify_receipt) calls: use it to verify many receipts (a range
    /// audit), stored receipts, or from other threads. A new one is made when the pin
    /// changes.
    ///
    /// # Errors
    ///
    /// [`InvalidReceipt`](crate::ErrorKind::InvalidReceipt) when the service certificate
    /// cannot verify receipts (its key is not ECDSA P-256 or P-384).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use confidential_ledger::receipt::VerifyOptions;
    /// # fn run(client: confidential_ledger::ConfidentialLedgerClient, stored: Vec<confidential_ledger::receipt::ReceiptResponse>) -> Result<(), confidential_ledger::Error> {
    /// let verifier = client.receipt_verifier()?;
    /// for response in &stored {
    ///     verifier.verify_response(response, &VerifyOptions::new())?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn receipt_verifier(&self) -> Result<Arc<ReceiptVerifier>, Error> {
        self.connections().verifier()
    }
}

/// One poll of a receipt: `Loading` (either shape) or the receipt for `id`.
fn receipt_step(
    id: TransactionId,
    body: crate::raw::ledger::types::TransactionReceipt,
    retry_after: Option<Duration>,
) -> Result<PollStep<TransactionReceipt, QueryState>, Error> {
    let value = serde_json::to_value(&body)
        .map_err(|e| misfit(format!("the receipt cannot be re-read: {e}"), &body))?;
    let response: ReceiptResponse = serde_json::from_value(value)
        .map_err(|e| misfit(format!("the receipt is malformed: {e}"), &body))?;
    match QueryState::from(response.state.as_str()) {
        QueryState::Loading => Ok(PollStep::Pending {
            status: QueryState::Loading,
            retry_after,
        }),
        QueryState::Ready => {
            let receipt = TransactionReceipt::from_response(response)?;
            if receipt.transaction_id != id {
                return Err(misfit(
                    format!(
                        "asked for the receipt of {id}, the ledger answered with the receipt of {}",
                        receipt.transaction_id
                    ),
                    &body,
                ));
            }
            Ok(PollStep::Done(receipt))
        }
        QueryState::Other(state) => Err(misfit(
            format!("the receipt's state {state:?} is neither Loading nor Ready"),
            &body,
        )),
    }
}

/// Verifies `receipt` with `verifier`, by default against the receipt's own transaction id
/// (unless it is a signature-transaction receipt, which names none) and claims.
fn verify_with(
    verifier: &ReceiptVerifier,
    receipt: &TransactionReceipt,
    mut options: VerifyOptions,
) -> Result<Verified, Error> {
    if options.transaction_id.is_none() && receipt.receipt.leaf_components().is_some() {
        options.transaction_id = Some(receipt.transaction_id.into());
    }
    if options.application_claims.is_none() {
        options
            .application_claims
            .clone_from(&receipt.application_claims);
    }
    Ok(verifier.verify(&receipt.receipt, &options)?)
}

/// True when a receipt failed only because its chain does not end at the pinned certificate
/// (it was signed under another service identity).
fn chains_elsewhere(err: &Error) -> bool {
    matches!(
        err.receipt_error(),
        Some(ReceiptError::Endorsement {
            issuer: CertificateRole::Service,
            ..
        })
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::ledger::types;

    fn step(body: &str) -> Result<PollStep<TransactionReceipt, QueryState>, Error> {
        let body: types::TransactionReceipt = serde_json::from_str(body).unwrap();
        receipt_step(TransactionId::new(8, 6032), body, None)
    }

    #[test]
    fn both_loading_shapes_mean_pending() {
        for body in [
            r#"{"receipt": null, "state": "Loading", "transactionId": ""}"#,
            r#"{"receipt": {"nodeId": "", "proof": [], "signature": ""}, "state": "Loading", "transactionId": ""}"#,
            r#"{"state": "Loading", "transactionId": ""}"#,
        ] {
            assert_eq!(
                step(body).unwrap(),
                PollStep::Pending {
                    status: QueryState::Loading,
                    retry_after: None
                },
                "{body}"
            );
        }
    }

    #[test]
    fn ready_answers_must_hold_the_receipt_asked_for() {
        let err =
            step(r#"{"receipt": null, "state": "Ready", "transactionId": "8.6032"}"#).unwrap_err();
        assert!(err.to_string().contains("holds no receipt"), "{err}");
        let err = step(r#"{"state": "Done", "transactionId": "8.6032"}"#).unwrap_err();
        assert!(
            err.to_string().contains("neither Loading nor Ready"),
            "{err}"
        );
        let other = r#"{"receipt": {"cert": "c", "leafComponents": {"claimsDigest": "00", "commitEvidence": "ce:8.1:00", "writeSetDigest": "00"}, "nodeId": "n", "proof": [], "signature": "s"}, "state": "Ready", "transactionId": "8.1"}"#;
        let err = step(other).unwrap_err();
        assert!(
            err.to_string().contains(
                "asked for the receipt of 8.6032, the ledger answered with the receipt of 8.1"
            ),
            "{err}"
        );
    }
}
