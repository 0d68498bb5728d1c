//! Open enums for the states the ledger reports: [`TransactionState`] and [`QueryState`].

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::raw::ledger::types;

/// The commit state of a transaction (`GET /app/transactions/{id}/status`).
///
/// Open: a state this version does not know is kept as [`Other`](Self::Other).
///
/// # Examples
///
/// ```
/// use confidential_ledger::models::TransactionState;
///
/// assert_eq!(TransactionState::from("Committed"), TransactionState::Committed);
/// assert_eq!(TransactionState::from("Unknown"), TransactionState::Other("Unknown".into()));
/// assert_eq!(TransactionState::Pending.to_string(), "Pending");
/// assert!(TransactionState::Committed.is_committed());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TransactionState {
    /// Written and replicated: durable. A receipt can be fetched.
    Committed,
    /// Written, not committed yet (usually until the next signature, within a second or so).
    Pending,
    /// Rolled back, or not in the ledger's history: it will never commit.
    Invalid,
    /// A state this version does not know, as the ledger wrote it.
    Other(String),
}

impl TransactionState {
    /// The state as the ledger writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Committed => "Committed",
            Self::Pending => "Pending",
            Self::Invalid => "Invalid",
            Self::Other(other) => other,
        }
    }

    /// True for [`Committed`](Self::Committed).
    pub fn is_committed(&self) -> bool {
        *self == Self::Committed
    }

    pub(crate) fn from_generated(state: types::TransactionState) -> Self {
        match state {
            types::TransactionState::Known(types::TransactionStateKnown::Committed) => {
                Self::Committed
            }
            types::TransactionState::Known(types::TransactionStateKnown::Pending) => Self::Pending,
            types::TransactionState::Other(other) => Self::from(other.as_str()),
        }
    }
}

impl From<&str> for TransactionState {
    fn from(state: &str) -> Self {
        match state {
            "Committed" => Self::Committed,
            "Pending" => Self::Pending,
            "Invalid" => Self::Invalid,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for TransactionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TransactionState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TransactionState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::from(String::deserialize(deserializer)?.as_str()))
    }
}

/// Whether a historical read is answered yet (`state` of entries, receipts and range pages).
///
/// The ledger answers `Loading` while it fetches old transactions from its storage; the
/// client's pollers and pagers ask again until it is `Ready`. This is the status their
/// progress reports.
///
/// # Examples
///
/// ```
/// use confidential_ledger::models::QueryState;
///
/// assert_eq!(QueryState::from("Loading"), QueryState::Loading);
/// assert_eq!(QueryState::Ready.to_string(), "Ready");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum QueryState {
    /// The ledger is still loading the transaction: ask again.
    Loading,
    /// The answer is complete.
    Ready,
    /// A state this version does not know, as the ledger wrote it.
    Other(String),
}

impl QueryState {
    /// The state as the ledger writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Loading => "Loading",
            Self::Ready => "Ready",
            Self::Other(other) => other,
        }
    }

    pub(crate) fn from_generated(state: &types::ConfidentialLedgerQueryState) -> Self {
        use types::ConfidentialLedgerQueryState as S;
        use types::ConfidentialLedgerQueryStateKnown as K;
        match state {
            S::Known(K::Loading) => Self::Loading,
            S::Known(K::Ready) => Self::Ready,
            S::Other(other) => Self::from(other.as_str()),
        }
    }
}

impl From<&str> for QueryState {
    fn from(state: &str) -> Self {
        match state {
            "Loading" => Self::Loading,
            "Ready" => Self::Ready,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for QueryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
