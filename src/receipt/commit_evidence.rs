//! Transaction ids and commit evidence (step 6).
//!
//! A transaction id is `<view>.<seqno>`, both unsigned 64-bit decimals. Commit evidence is
//! `ce:<view>.<seqno>:<64 lowercase hex digits>`, the transaction id followed by a nonce the
//! ledger reveals only once the transaction is committed.

use std::fmt;

use super::encoding;

/// A transaction id, parsed. Private to the receipt module: it must work without the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TxId {
    pub(crate) view: u64,
    pub(crate) seqno: u64,
}

impl fmt::Display for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.view, self.seqno)
    }
}

/// A decimal without sign or leading zeros that fits in 64 bits.
fn canonical_u64(text: &str) -> Option<u64> {
    let digits_only = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let leading_zero = text.len() > 1 && text.starts_with('0');
    if digits_only && !leading_zero {
        text.parse().ok()
    } else {
        None
    }
}

/// Parses `<view>.<seqno>`.
pub(crate) fn parse_tx_id(text: &str) -> Option<TxId> {
    let (view, seqno) = text.split_once('.')?;
    Some(TxId {
        view: canonical_u64(view)?,
        seqno: canonical_u64(seqno)?,
    })
}

/// Parses `ce:<view>.<seqno>:<64 lowercase hex digits>` and returns the transaction id.
pub(crate) fn parse_commit_evidence(text: &str) -> Result<TxId, String> {
    let rest = text
        .strip_prefix("ce:")
        .ok_or("does not start with `ce:`")?;
    let (tx, nonce) = rest
        .split_once(':')
        .ok_or("no `:` between the transaction id and the nonce")?;
    let tx_id = parse_tx_id(tx).ok_or_else(|| format!("{tx:?} is not a transaction id"))?;
    encoding::hex_array::<32>(nonce).map_err(|e| format!("nonce: {e}"))?;
    Ok(tx_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: &str = "eab2727645e97dbd2a25a6272e125d1876104e594535135347740b20365a2bb4";

    #[test]
    fn transaction_ids() {
        assert_eq!(parse_tx_id("2.15"), Some(TxId { view: 2, seqno: 15 }));
        assert_eq!(parse_tx_id("0.0"), Some(TxId { view: 0, seqno: 0 }));
        let max = format!("{}.{}", u64::MAX, u64::MAX);
        assert_eq!(parse_tx_id(&max).map(|t| t.to_string()), Some(max.clone()));
        for bad in [
            "",
            "2",
            "2.",
            ".15",
            "2.15.1",
            "02.15",
            "2.015",
            "+2.15",
            "2.-1",
            " 2.15",
            "18446744073709551616.1",
            "a.b",
        ] {
            assert_eq!(parse_tx_id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn commit_evidence() {
        assert_eq!(
            parse_commit_evidence(&format!("ce:8.6032:{NONCE}")),
            Ok(TxId {
                view: 8,
                seqno: 6032
            })
        );
        for bad in [
            format!("ce:8.6032:{}", &NONCE[1..]),
            format!("ce:8.6032:{}", NONCE.to_uppercase()),
            format!("ce:8.6032:{NONCE}0"),
            format!("ce:8.6032{NONCE}"),
            format!("ce:86032:{NONCE}"),
            format!("CE:8.6032:{NONCE}"),
            format!("ce:8.6032:{NONCE} "),
            String::new(),
        ] {
            assert!(parse_commit_evidence(&bad).is_err(), "{bad:?}");
        }
    }
}
