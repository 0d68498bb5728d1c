//! Transaction ids: `<view>.<seqno>`.

use std::fmt;
use std::str::FromStr;

/// A CCF transaction id: the view (term) and the sequence number, both unsigned 64-bit.
///
/// Ordered by `(view, seqno)`. Parsing is strict: two decimal numbers without signs, spaces or
/// leading `+`, separated by one dot.
///
/// # Examples
///
/// ```
/// use confidential_ledger_sandbox::TransactionId;
///
/// let id: TransactionId = "2.15".parse().unwrap();
/// assert_eq!((id.view, id.seqno), (2, 15));
/// assert_eq!(id.to_string(), "2.15");
/// assert!("2.x".parse::<TransactionId>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TransactionId {
    /// The view in which the transaction was created.
    pub view: u64,
    /// The position of the transaction in the ledger (1-based).
    pub seqno: u64,
}

impl TransactionId {
    /// A transaction id from its parts.
    pub const fn new(view: u64, seqno: u64) -> Self {
        TransactionId { view, seqno }
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.view, self.seqno)
    }
}

/// The text is not a transaction id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a transaction id of the form <view>.<seqno>")]
pub struct ParseTransactionIdError(String);

impl FromStr for TransactionId {
    type Err = ParseTransactionIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseTransactionIdError(s.chars().take(64).collect());
        let (view, seqno) = s.split_once('.').ok_or_else(err)?;
        let number = |part: &str| -> Result<u64, ParseTransactionIdError> {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            part.parse().map_err(|_| err())
        };
        Ok(TransactionId {
            view: number(view)?,
            seqno: number(seqno)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!("8.6032".parse(), Ok(TransactionId::new(8, 6032)));
        for bad in [
            "",
            ".",
            "1.",
            ".1",
            "1.2.3",
            "+1.2",
            "1.-2",
            " 1.2",
            "a.b",
            "1.99999999999999999999",
        ] {
            assert!(bad.parse::<TransactionId>().is_err(), "{bad}");
        }
        assert!(TransactionId::new(2, 10) < TransactionId::new(3, 1));
    }
}
