//! Ledger entries, writes, statuses and receipts.

use serde::{Deserialize, Serialize};

use super::{TransactionState, misfit};
use crate::raw::ledger::types;
use crate::receipt::{ApplicationClaim, Receipt, ReceiptResponse, ReceiptState};
use crate::{Error, TransactionId};

/// An entry read from the ledger.
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
/// let entry = client.get_current_ledger_entry(None).await?;
/// println!("{} in {} at {}", entry.contents, entry.collection_id, entry.transaction_id);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LedgerEntry {
    /// The text written.
    pub contents: String,
    /// The collection it was written to (`subledger:0` unless one was given).
    pub collection_id: String,
    /// The transaction that wrote it.
    pub transaction_id: TransactionId,
}

impl LedgerEntry {
    /// From the generated type, which leaves the collection and the transaction id optional.
    pub(crate) fn from_generated(entry: types::LedgerEntry) -> Result<Self, Error> {
        let transaction_id = match entry.transaction_id.as_deref().map(str::parse) {
            Some(Ok(id)) => id,
            Some(Err(e)) => {
                return Err(misfit(
                    format!("the entry's transactionId is malformed: {e}"),
                    &entry,
                ));
            }
            None => return Err(misfit("the entry has no transactionId", &entry)),
        };
        let Some(collection_id) = entry.collection_id else {
            return Err(misfit("the entry has no collectionId", &entry));
        };
        Ok(Self {
            contents: entry.contents,
            collection_id,
            transaction_id,
        })
    }
}

/// What a write returned: the transaction that holds it, and the collection it went to.
///
/// The transaction id comes from the `x-ms-ccf-transaction-id` response header; a write
/// answered without a well-formed one is reported as a
/// [`Decode`](crate::ErrorKind::Decode) error, never given a made-up id.
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
/// let written = client.create_ledger_entry("hello", None).await?;
/// println!("written at {} in {}", written.transaction_id, written.collection_id);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LedgerWriteResult {
    /// The write's transaction. It is durable once committed
    /// ([`wait_for_commit`](crate::ConfidentialLedgerClient::wait_for_commit)).
    pub transaction_id: TransactionId,
    /// The collection the entry was written to.
    pub collection_id: String,
    /// What a `waitForCommit` write (2026-07-31-preview) was answered with besides the
    /// collection; [`create_ledger_entry_committed`](crate::ConfidentialLedgerClient::create_ledger_entry_committed)
    /// surfaces it as a [`CommittedWrite`].
    #[serde(skip)]
    pub(crate) answer: Option<WriteAnswer>,
}

/// The state and receipt a `waitForCommit` write was answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WriteAnswer {
    /// `state` (`Committed`, or `Pending` when the ledger's wait ended first).
    pub(crate) state: Option<TransactionState>,
    /// `receipt` and `applicationClaims`, in the shape of a `Ready` receipt response.
    pub(crate) receipt: Option<serde_json::Value>,
}

impl LedgerWriteResult {
    pub(crate) fn new(transaction_id: TransactionId, collection_id: String) -> Self {
        Self {
            transaction_id,
            collection_id,
            answer: None,
        }
    }

    /// From the answer to a write that got `transaction_id`. Every field of the generated
    /// type is named here, so a field upstream adds is a compile error until it is surfaced
    /// or deliberately dropped.
    pub(crate) fn from_generated(
        transaction_id: TransactionId,
        written: types::LedgerWriteResult,
    ) -> Result<Self, Error> {
        let types::LedgerWriteResult {
            application_claims,
            collection_id,
            receipt,
            state,
        } = written;
        let state = state.map(TransactionState::from_generated);
        let receipt = match receipt {
            None => None,
            Some(receipt) => {
                let mut response = serde_json::json!({
                    "state": "Ready",
                    "transactionId": transaction_id.to_string(),
                });
                let as_json = |what: &str, value: Result<serde_json::Value, serde_json::Error>| {
                    value.map_err(|e| {
                        Error::decode(format!("the write's {what} cannot be re-read: {e}"), b"")
                    })
                };
                response["receipt"] = as_json("receipt", serde_json::to_value(&receipt))?;
                if !application_claims.is_empty() {
                    response["applicationClaims"] = as_json(
                        "applicationClaims",
                        serde_json::to_value(&application_claims),
                    )?;
                }
                Some(response)
            }
        };
        let answer =
            (state.is_some() || receipt.is_some()).then_some(WriteAnswer { state, receipt });
        Ok(Self {
            transaction_id,
            collection_id,
            answer,
        })
    }
}

/// A write that is committed, with its receipt: what
/// [`create_ledger_entry_committed`](crate::ConfidentialLedgerClient::create_ledger_entry_committed)
/// returns.
///
/// # Examples
///
/// ```no_run
/// use confidential_ledger::client::CreateLedgerEntryOptions;
/// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
/// let options = CreateLedgerEntryOptions::new().verify_receipt(true);
/// let committed = client.create_ledger_entry_committed("audited", Some(options)).await?;
/// assert!(committed.state.is_committed());
/// assert!(committed.verified.is_some());
/// println!("{} under root {}", committed.transaction_id, committed.receipt.transaction_id);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CommittedWrite {
    /// The write's transaction.
    pub transaction_id: TransactionId,
    /// The collection the entry was written to.
    pub collection_id: String,
    /// Its state: always [`Committed`](TransactionState::Committed).
    pub state: TransactionState,
    /// Its receipt (with the application claims the ledger sent).
    pub receipt: TransactionReceipt,
    /// What verifying the receipt established, when the call was asked to
    /// ([`CreateLedgerEntryOptions::verify_receipt`](crate::client::CreateLedgerEntryOptions::verify_receipt)).
    pub verified: Option<crate::receipt::Verified>,
}

impl CommittedWrite {
    pub(crate) fn new(written: LedgerWriteResult, receipt: TransactionReceipt) -> Self {
        Self {
            transaction_id: written.transaction_id,
            collection_id: written.collection_id,
            state: TransactionState::Committed,
            receipt,
            verified: None,
        }
    }
}

/// The commit state of a transaction.
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
/// let status = client.get_transaction_status("2.15", None).await?;
/// if status.state.is_committed() {
///     println!("{} is durable", status.transaction_id);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TransactionStatus {
    /// The transaction.
    pub transaction_id: TransactionId,
    /// Its state.
    pub state: TransactionState,
}

impl TransactionStatus {
    pub(crate) fn new(transaction_id: TransactionId, state: TransactionState) -> Self {
        Self {
            transaction_id,
            state,
        }
    }

    pub(crate) fn from_generated(status: types::TransactionStatus) -> Result<Self, Error> {
        let transaction_id = status.transaction_id.parse().map_err(|e| {
            misfit(
                format!("the status's transactionId is malformed: {e}"),
                &status,
            )
        })?;
        Ok(Self::new(
            transaction_id,
            TransactionState::from_generated(status.state),
        ))
    }
}

/// A transaction's receipt, ready to verify: proof that the transaction is in the ledger.
///
/// Returned by [`get_receipt`](crate::ConfidentialLedgerClient::get_receipt) once the ledger
/// has it; verify it with
/// [`verify_receipt`](crate::ConfidentialLedgerClient::verify_receipt), or keep it (in the
/// ledger's own JSON shape: [`to_json`](Self::to_json), [`from_json`](Self::from_json)) and
/// verify it later, offline, with a [`ReceiptVerifier`](crate::receipt::ReceiptVerifier).
///
/// # Examples
///
/// ```no_run
/// use confidential_ledger::models::TransactionReceipt;
/// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), Box<dyn std::error::Error>> {
/// let receipt = client.get_receipt("2.15", None).await?;
/// // Save it, as the service's receipt response JSON, and read it back later.
/// std::fs::write("receipt-2.15.json", receipt.to_json()?)?;
/// let saved = TransactionReceipt::from_json(&std::fs::read_to_string("receipt-2.15.json")?)?;
/// assert_eq!(saved, receipt);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TransactionReceipt {
    /// The transaction the ledger says the receipt is for (verification checks it against
    /// the receipt's commit evidence).
    pub transaction_id: TransactionId,
    /// The receipt.
    pub receipt: Receipt,
    /// The application claims recorded with the transaction, when the ledger sent them; their
    /// digest is the receipt's claims digest.
    pub application_claims: Option<Vec<ApplicationClaim>>,
}

impl TransactionReceipt {
    /// From a `Ready` receipt response.
    ///
    /// # Errors
    ///
    /// [`Decode`](crate::ErrorKind::Decode) when the response is not `Ready`, holds no
    /// receipt or names no well-formed transaction id.
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::models::TransactionReceipt;
    /// use confidential_ledger::receipt::ReceiptResponse;
    ///
    /// let loading = ReceiptResponse::from_json(r#"{"receipt": null, "state": "Loading", "transactionId": ""}"#)?;
    /// assert!(TransactionReceipt::from_response(loading).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_response(response: ReceiptResponse) -> Result<Self, Error> {
        if response.state != ReceiptState::Ready {
            return Err(misfit(
                format!("the receipt is not ready (state {})", response.state),
                &response,
            ));
        }
        let transaction_id = response.transaction_id.parse().map_err(|e| {
            misfit(
                format!("the receipt's transactionId is malformed: {e}"),
                &response,
            )
        })?;
        match response.receipt {
            Some(receipt) => Ok(Self {
                transaction_id,
                receipt,
                application_claims: response.application_claims,
            }),
            None => Err(misfit(
                "the receipt response is Ready but holds no receipt",
                &response,
            )),
        }
    }

    /// The receipt as the service's receipt response JSON (`state: Ready`): save it, and read
    /// it back with [`from_json`](Self::from_json) (or verify it elsewhere, as any receipt
    /// response).
    ///
    /// # Errors
    ///
    /// [`Decode`](crate::ErrorKind::Decode) if serialisation fails (it does not for a
    /// received receipt).
    pub fn to_json(&self) -> Result<String, Error> {
        self.to_response()
            .to_json()
            .map_err(|e| Error::decode(format!("the receipt cannot be written as JSON: {e}"), b""))
    }

    /// A receipt saved with [`to_json`](Self::to_json) (or any `Ready` receipt response of
    /// the service).
    ///
    /// # Errors
    ///
    /// [`Decode`](crate::ErrorKind::Decode) when the text is not a receipt response, is not
    /// `Ready`, or names no well-formed transaction id.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        let response = ReceiptResponse::from_json(json).map_err(|e| {
            Error::decode(format!("not a receipt response: {e}"), json.as_bytes()).with_source(e)
        })?;
        Self::from_response(response)
    }

    /// The receipt response this was read from (`state: Ready`), to store or to verify later
    /// with [`ReceiptVerifier::verify_response`](crate::receipt::ReceiptVerifier::verify_response).
    pub fn to_response(&self) -> ReceiptResponse {
        ReceiptResponse {
            state: ReceiptState::Ready,
            transaction_id: self.transaction_id.to_string(),
            receipt: Some(self.receipt.clone()),
            application_claims: self.application_claims.clone(),
            additional_properties: serde_json::Map::new(),
        }
    }
}
