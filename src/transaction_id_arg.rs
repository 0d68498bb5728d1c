//! [`TransactionIdArg`]: a transaction id held in an options field, given as text or as a
//! [`TransactionId`], checked when the call is made.

use crate::{IntoTransactionId, ParseTransactionIdError, TransactionId};

/// A transaction id in an options struct (such as
/// [`ListLedgerEntriesOptions::from_transaction_id`](crate::client::ListLedgerEntriesOptions::from_transaction_id)
/// or [`VerifyOptions::transaction_id`](crate::receipt::VerifyOptions::transaction_id)): the
/// same things a method's transaction-id argument takes ([`IntoTransactionId`]: `&str`,
/// `String`, `&String`, [`TransactionId`], `&TransactionId`), written with `.into()`.
///
/// Text is parsed when the value is made and the outcome kept: a malformed id makes the call
/// that uses it fail with a typed error ([`InvalidInput`](crate::ErrorKind::InvalidInput) for
/// a client call, [`ReceiptError::InvalidTransactionId`](crate::receipt::ReceiptError::InvalidTransactionId)
/// for a verification) before anything is sent; it never panics.
///
/// # Examples
///
/// ```
/// use confidential_ledger::{TransactionId, TransactionIdArg};
/// use confidential_ledger::client::ListLedgerEntriesOptions;
///
/// let options = ListLedgerEntriesOptions {
///     from_transaction_id: Some("2.10".into()),
///     to_transaction_id: Some(TransactionId::new(2, 50).into()),
///     ..Default::default()
/// };
/// assert_eq!(options.from_transaction_id.unwrap().get(), Ok(TransactionId::new(2, 10)));
///
/// let bad = TransactionIdArg::from("2.x");
/// assert_eq!(bad.get().unwrap_err().input(), "2.x");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionIdArg(Result<TransactionId, ParseTransactionIdError>);

impl TransactionIdArg {
    /// The id, or why the text it was made from is not one.
    ///
    /// # Errors
    ///
    /// The [`ParseTransactionIdError`] of text that is not `<view>.<seqno>`.
    pub fn get(&self) -> Result<TransactionId, ParseTransactionIdError> {
        self.0.clone()
    }

    /// From anything a method takes as a transaction id.
    pub fn new(id: impl IntoTransactionId) -> Self {
        Self(id.into_transaction_id())
    }
}

impl IntoTransactionId for TransactionIdArg {
    fn into_transaction_id(self) -> Result<TransactionId, ParseTransactionIdError> {
        self.0
    }
}

impl IntoTransactionId for &TransactionIdArg {
    fn into_transaction_id(self) -> Result<TransactionId, ParseTransactionIdError> {
        self.get()
    }
}

impl From<&str> for TransactionIdArg {
    fn from(id: &str) -> Self {
        Self::new(id)
    }
}

impl From<String> for TransactionIdArg {
    fn from(id: String) -> Self {
        Self::new(id)
    }
}

impl From<&String> for TransactionIdArg {
    fn from(id: &String) -> Self {
        Self::new(id)
    }
}

impl From<TransactionId> for TransactionIdArg {
    fn from(id: TransactionId) -> Self {
        Self(Ok(id))
    }
}

impl From<&TransactionId> for TransactionIdArg {
    fn from(id: &TransactionId) -> Self {
        Self(Ok(*id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_gives_the_same_id_and_bad_text_a_typed_error() {
        let id = TransactionId::new(2, 15);
        let text = String::from("2.15");
        for arg in [
            TransactionIdArg::from("2.15"),
            TransactionIdArg::from(text.clone()),
            TransactionIdArg::from(&text),
            TransactionIdArg::from(id),
            TransactionIdArg::from(&id),
        ] {
            assert_eq!(arg.get(), Ok(id));
            assert_eq!((&arg).into_transaction_id(), Ok(id));
            assert_eq!(arg.into_transaction_id(), Ok(id));
        }
        let err = TransactionIdArg::from("2.-5").get().unwrap_err();
        assert_eq!(err.input(), "2.-5");
        assert!(
            TransactionIdArg::from(" 2.15")
                .into_transaction_id()
                .is_err()
        );
    }
}
