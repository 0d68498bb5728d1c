//! Transaction ids: `"<view>.<seqno>"`, parsed strictly and ordered.
//!
//! Every write to the ledger is identified by the view (the consensus term in which it was
//! executed) and its sequence number in the log. The service writes them as two unsigned 64-bit
//! decimal numbers joined by a dot, e.g. `"2.1045"`; ids compare by view first, then by
//! sequence number.
//!
//! Parsing accepts exactly the form the service writes, so a malformed id is caught before any
//! request is sent: ASCII decimal digits only (no sign, no spaces, no `+`), no leading zeros
//! (except for `0` itself), both parts present, each within `u64`. Because of that, parsing and
//! [`Display`](std::fmt::Display) are exact inverses.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A ledger transaction id: view and sequence number.
///
/// Ordered by `(view, seqno)`, the order in which the ledger commits transactions. Serialised
/// (serde) as its string form `"<view>.<seqno>"`, the way the service writes it.
///
/// # Examples
///
/// ```
/// use confidential_ledger::TransactionId;
///
/// let id: TransactionId = "2.1045".parse()?;
/// assert_eq!(id, TransactionId::new(2, 1045));
/// assert_eq!(id.to_string(), "2.1045");
/// assert!(id < "3.1".parse()?);
///
/// let err = "2.-5".parse::<TransactionId>().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     r#"invalid transaction id "2.-5": the sequence number contains '-'; only the digits 0-9 are allowed"#
/// );
/// # Ok::<(), confidential_ledger::ParseTransactionIdError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TransactionId {
    /// The view (consensus term) the transaction was executed in.
    pub view: u64,
    /// The transaction's sequence number in the ledger.
    pub seqno: u64,
}

impl TransactionId {
    /// A transaction id from its view and sequence number.
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::TransactionId;
    ///
    /// assert_eq!(TransactionId::new(4, 17).to_string(), "4.17");
    /// ```
    pub const fn new(view: u64, seqno: u64) -> Self {
        Self { view, seqno }
    }

    /// True when a write can have this id: CCF numbers views and sequence numbers from 1, so
    /// an id with a zero in it (`0.0`, `2.0`, `0.5`) never names a user transaction. The
    /// client refuses such an id as the result of a write; it still parses anywhere else.
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::TransactionId;
    ///
    /// assert!(TransactionId::new(2, 15).is_issuable());
    /// assert!(!TransactionId::new(2, 0).is_issuable());
    /// assert!(!TransactionId::new(0, 5).is_issuable());
    /// ```
    pub const fn is_issuable(&self) -> bool {
        self.view > 0 && self.seqno > 0
    }
}

impl TransactionId {
    /// The id's text (`view.seqno`), written into `buf`.
    ///
    /// Written into a stack buffer and handed over in one piece: every request path that names
    /// a transaction formats its id, and `write!` of two numbers costs several times more (and
    /// grows a `String` in steps).
    pub(crate) fn text_in(self, buf: &mut [u8; TEXT_BYTES]) -> &str {
        let end = buf.len();
        let mut start = write_digits_before(buf, end, self.seqno);
        start -= 1;
        buf[start] = b'.';
        start = write_digits_before(buf, start, self.view);
        // Only ASCII digits and a dot were written.
        std::str::from_utf8(&buf[start..]).unwrap_or_default()
    }
}

/// The longest text of a [`TransactionId`]: two `u64`s and a dot.
pub(crate) const TEXT_BYTES: usize = 2 * MAX_U64_DIGITS + 1;

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text_in(&mut [0; TEXT_BYTES]))
    }
}

/// The most decimal digits of a `u64` (`18446744073709551615`).
const MAX_U64_DIGITS: usize = 20;

/// Writes the decimal digits of `n` so that they end just before `end`; returns where they
/// start. `end` must leave room for [`MAX_U64_DIGITS`].
fn write_digits_before(buf: &mut [u8], end: usize, mut n: u64) -> usize {
    let mut at = end;
    loop {
        at -= 1;
        // `n % 10` is below 10.
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return at;
        }
    }
}

/// One of the two numbers of a transaction id, named in parse errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionIdPart {
    /// The view, before the dot.
    View,
    /// The sequence number, after the dot.
    Seqno,
}

impl fmt::Display for TransactionIdPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::View => "the view",
            Self::Seqno => "the sequence number",
        })
    }
}

/// What is wrong with a string that is not a transaction id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum TransactionIdErrorKind {
    /// The string is empty.
    #[error("it is empty")]
    Empty,
    /// There is no `.` between view and sequence number.
    #[error("expected <view>.<seqno> but there is no '.'")]
    MissingSeparator,
    /// There is more than one `.`.
    #[error("expected <view>.<seqno> but there is more than one '.'")]
    ExtraSeparator,
    /// One of the two numbers is missing.
    #[error("{0} is missing")]
    EmptyPart(TransactionIdPart),
    /// A number contains something other than an ASCII digit (a sign, a space, a letter...).
    #[error("{part} contains {character:?}; only the digits 0-9 are allowed")]
    InvalidCharacter {
        /// The number that holds the character.
        part: TransactionIdPart,
        /// The first offending character.
        character: char,
    },
    /// A number has a leading zero (`"02.5"`); the service never writes one.
    #[error("{0} has a leading zero")]
    LeadingZero(TransactionIdPart),
    /// A number is larger than `u64::MAX`.
    #[error("{0} is larger than {max}", max = u64::MAX)]
    Overflow(TransactionIdPart),
}

/// The error returned when a string is not a valid transaction id.
///
/// Its message quotes the input (cut to 64 characters) and says what is wrong;
/// [`kind`](Self::kind) tells it to a program.
///
/// # Examples
///
/// ```
/// use confidential_ledger::{TransactionId, TransactionIdErrorKind, TransactionIdPart};
///
/// let err = "7.".parse::<TransactionId>().unwrap_err();
/// assert_eq!(err.kind(), TransactionIdErrorKind::EmptyPart(TransactionIdPart::Seqno));
/// assert_eq!(err.input(), "7.");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid transaction id {input:?}: {kind}")]
pub struct ParseTransactionIdError {
    input: String,
    kind: TransactionIdErrorKind,
}

/// How much of a rejected input an error keeps.
const MAX_QUOTED_CHARS: usize = 64;

impl ParseTransactionIdError {
    fn new(input: &str, kind: TransactionIdErrorKind) -> Self {
        let input = match input.char_indices().nth(MAX_QUOTED_CHARS) {
            Some((cut, _)) => format!("{}...", &input[..cut]),
            None => input.to_owned(),
        };
        Self { input, kind }
    }

    /// What is wrong with the input.
    pub fn kind(&self) -> TransactionIdErrorKind {
        self.kind
    }

    /// The rejected input, cut to its first 64 characters (followed by `...` when cut).
    pub fn input(&self) -> &str {
        &self.input
    }
}

/// Parses one of the two numbers: ASCII digits, no leading zero, within `u64`.
fn parse_part(text: &str, part: TransactionIdPart) -> Result<u64, TransactionIdErrorKind> {
    if text.is_empty() {
        return Err(TransactionIdErrorKind::EmptyPart(part));
    }
    if let Some(character) = text.chars().find(|c| !c.is_ascii_digit()) {
        return Err(TransactionIdErrorKind::InvalidCharacter { part, character });
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err(TransactionIdErrorKind::LeadingZero(part));
    }
    text.bytes().try_fold(0u64, |acc, digit| {
        acc.checked_mul(10)
            .and_then(|acc| acc.checked_add(u64::from(digit - b'0')))
            .ok_or(TransactionIdErrorKind::Overflow(part))
    })
}

impl FromStr for TransactionId {
    type Err = ParseTransactionIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |kind| ParseTransactionIdError::new(s, kind);
        if s.is_empty() {
            return Err(fail(TransactionIdErrorKind::Empty));
        }
        let (view, seqno) = s
            .split_once('.')
            .ok_or_else(|| fail(TransactionIdErrorKind::MissingSeparator))?;
        if seqno.contains('.') {
            return Err(fail(TransactionIdErrorKind::ExtraSeparator));
        }
        let view = parse_part(view, TransactionIdPart::View).map_err(fail)?;
        let seqno = parse_part(seqno, TransactionIdPart::Seqno).map_err(fail)?;
        Ok(Self { view, seqno })
    }
}

impl TryFrom<&str> for TransactionId {
    type Error = ParseTransactionIdError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        value.parse()
    }
}

/// Anything a client method takes as a transaction id: a [`TransactionId`], or its text
/// (`"2.15"`), which is parsed before any request is sent.
///
/// A malformed text makes the call fail with
/// [`InvalidInput`](crate::ErrorKind::InvalidInput) without sending anything.
///
/// # Examples
///
/// ```
/// use confidential_ledger::{IntoTransactionId, TransactionId};
///
/// assert_eq!("2.15".into_transaction_id()?, TransactionId::new(2, 15));
/// assert_eq!(TransactionId::new(2, 15).into_transaction_id()?, TransactionId::new(2, 15));
/// assert!("2.x".into_transaction_id().is_err());
/// # Ok::<(), confidential_ledger::ParseTransactionIdError>(())
/// ```
pub trait IntoTransactionId {
    /// The transaction id.
    ///
    /// # Errors
    ///
    /// [`ParseTransactionIdError`] for text that is not `<view>.<seqno>`.
    fn into_transaction_id(self) -> Result<TransactionId, ParseTransactionIdError>;
}

impl IntoTransactionId for TransactionId {
    fn into_transaction_id(self) -> Result<TransactionId, ParseTransactionIdError> {
        Ok(self)
    }
}

impl IntoTransactionId for &TransactionId {
    fn into_transaction_id(self) -> Result<TransactionId, ParseTransactionIdError> {
        Ok(*self)
    }
}

impl IntoTransactionId for &str {
    fn into_transaction_id(self) -> Result<TransactionId, ParseTransactionIdError> {
        self.parse()
    }
}

impl IntoTransactionId for String {
    fn into_transaction_id(self) -> Result<TransactionId, ParseTransactionIdError> {
        self.parse()
    }
}

impl IntoTransactionId for &String {
    fn into_transaction_id(self) -> Result<TransactionId, ParseTransactionIdError> {
        self.parse()
    }
}

impl Serialize for TransactionId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TransactionId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = TransactionId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a transaction id string \"<view>.<seqno>\"")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<TransactionId, E> {
                v.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TransactionIdErrorKind as K;
    use TransactionIdPart::{Seqno, View};
    use proptest::prelude::*;

    fn kind_of(s: &str) -> TransactionIdErrorKind {
        match s.parse::<TransactionId>() {
            Ok(id) => panic!("{s:?} parsed as {id:?}"),
            Err(e) => e.kind(),
        }
    }

    #[test]
    fn parses_the_forms_the_service_writes() {
        assert_eq!("2.1045".parse(), Ok(TransactionId::new(2, 1045)));
        assert_eq!("0.0".parse(), Ok(TransactionId::new(0, 0)));
        assert_eq!(
            "18446744073709551615.18446744073709551615".parse(),
            Ok(TransactionId::new(u64::MAX, u64::MAX))
        );
        assert_eq!(
            TransactionId::try_from("8.6032"),
            Ok(TransactionId::new(8, 6032))
        );
    }

    #[test]
    fn rejects_malformed_input_with_the_reason() {
        let cases = [
            ("", K::Empty),
            ("12", K::MissingSeparator),
            ("1.2.3", K::ExtraSeparator),
            (".5", K::EmptyPart(View)),
            ("5.", K::EmptyPart(Seqno)),
            (".", K::EmptyPart(View)),
            (
                "+1.2",
                K::InvalidCharacter {
                    part: View,
                    character: '+',
                },
            ),
            (
                "-1.2",
                K::InvalidCharacter {
                    part: View,
                    character: '-',
                },
            ),
            (
                "1.+2",
                K::InvalidCharacter {
                    part: Seqno,
                    character: '+',
                },
            ),
            (
                " 1.2",
                K::InvalidCharacter {
                    part: View,
                    character: ' ',
                },
            ),
            (
                "1.2 ",
                K::InvalidCharacter {
                    part: Seqno,
                    character: ' ',
                },
            ),
            (
                "1.2\n",
                K::InvalidCharacter {
                    part: Seqno,
                    character: '\n',
                },
            ),
            (
                "1_0.2",
                K::InvalidCharacter {
                    part: View,
                    character: '_',
                },
            ),
            (
                "0x1.2",
                K::InvalidCharacter {
                    part: View,
                    character: 'x',
                },
            ),
            (
                "1.٣",
                K::InvalidCharacter {
                    part: Seqno,
                    character: '٣',
                },
            ),
            ("01.2", K::LeadingZero(View)),
            ("1.00", K::LeadingZero(Seqno)),
            ("18446744073709551616.1", K::Overflow(View)),
            ("1.99999999999999999999999", K::Overflow(Seqno)),
        ];
        for (input, expected) in cases {
            assert_eq!(kind_of(input), expected, "{input:?}");
        }
    }

    #[test]
    fn error_message_quotes_the_input_and_names_the_problem() {
        let err = "18446744073709551616.1"
            .parse::<TransactionId>()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid transaction id \"18446744073709551616.1\": the view is larger than \
             18446744073709551615"
        );
        let err = "".parse::<TransactionId>().unwrap_err();
        assert_eq!(err.to_string(), "invalid transaction id \"\": it is empty");
    }

    #[test]
    fn error_keeps_at_most_64_characters_of_the_input() {
        let long = "é".repeat(1000);
        let err = long.parse::<TransactionId>().unwrap_err();
        assert_eq!(err.input(), format!("{}...", "é".repeat(64)));
    }

    #[test]
    fn orders_by_view_then_seqno() {
        let mut ids: Vec<TransactionId> = ["3.1", "2.10", "2.9", "10.0", "2.100"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        ids.sort();
        let sorted: Vec<String> = ids.iter().map(ToString::to_string).collect();
        assert_eq!(sorted, ["2.9", "2.10", "2.100", "3.1", "10.0"]);
    }

    #[test]
    fn serde_uses_the_string_form() {
        let id = TransactionId::new(2, 15);
        assert_eq!(serde_json::to_string(&id).unwrap(), r#""2.15""#);
        assert_eq!(
            serde_json::from_str::<TransactionId>(r#""2.15""#).unwrap(),
            id
        );
        let err = serde_json::from_str::<TransactionId>(r#""2.x""#).unwrap_err();
        assert!(
            err.to_string().contains("the sequence number contains 'x'"),
            "{err}"
        );
        assert!(serde_json::from_str::<TransactionId>("2.15").is_err());
        assert!(serde_json::from_str::<TransactionId>(r#"{"view":2,"seqno":15}"#).is_err());
    }

    /// A canonical decimal string of `n` with `k` added to it, written by hand so it can exceed
    /// `u64::MAX`.
    fn decimal_plus(n: u64, k: u64) -> String {
        (u128::from(n) + u128::from(k)).to_string()
    }

    #[test]
    fn display_writes_view_dot_seqno_in_decimal() {
        for (view, seqno) in [(0, 0), (1, 9), (10, 100), (2, 1045), (u64::MAX, u64::MAX)] {
            assert_eq!(
                TransactionId::new(view, seqno).to_string(),
                format!("{view}.{seqno}")
            );
        }
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(view: u64, seqno: u64) {
            let id = TransactionId::new(view, seqno);
            let text = id.to_string();
            prop_assert_eq!(&text, &format!("{view}.{seqno}"));
            prop_assert_eq!(text.parse::<TransactionId>(), Ok(id));
            prop_assert_eq!(TransactionId::try_from(text.as_str()), Ok(id));
            let json = serde_json::to_string(&id).unwrap();
            prop_assert_eq!(serde_json::from_str::<TransactionId>(&json).unwrap(), id);
        }

        #[test]
        fn whatever_parses_displays_as_the_input(s in "[0-9.+ -]{0,12}|\\PC{0,12}") {
            if let Ok(id) = s.parse::<TransactionId>() {
                prop_assert_eq!(id.to_string(), s);
            }
        }

        #[test]
        fn order_matches_the_numbers(a: (u64, u64), b: (u64, u64)) {
            let (x, y) = (TransactionId::new(a.0, a.1), TransactionId::new(b.0, b.1));
            prop_assert_eq!(x.cmp(&y), a.cmp(&b));
        }

        #[test]
        fn rejects_a_sign_or_space_anywhere(
            view: u64,
            seqno: u64,
            junk in prop::sample::select(vec!['+', '-', ' ', '\t', 'e', ',']),
            at in 0usize..40,
        ) {
            let mut s = TransactionId::new(view, seqno).to_string();
            let at = at % (s.len() + 1);
            s.insert(at, junk);
            prop_assert!(s.parse::<TransactionId>().is_err(), "{:?} parsed", s);
        }

        #[test]
        fn rejects_values_beyond_u64(small: u64, excess in 1u64..u64::MAX) {
            let too_big = decimal_plus(u64::MAX, excess);
            prop_assert_eq!(
                kind_of(&format!("{too_big}.{small}")),
                K::Overflow(View)
            );
            prop_assert_eq!(
                kind_of(&format!("{small}.{too_big}")),
                K::Overflow(Seqno)
            );
        }

        #[test]
        fn rejects_a_missing_or_extra_part(view: u64, seqno: u64, extra: u64) {
            prop_assert_eq!(kind_of(&view.to_string()), K::MissingSeparator);
            prop_assert_eq!(kind_of(&format!("{view}.")), K::EmptyPart(Seqno));
            prop_assert_eq!(kind_of(&format!(".{seqno}")), K::EmptyPart(View));
            prop_assert_eq!(kind_of(&format!("{view}.{seqno}.{extra}")), K::ExtraSeparator);
        }

        #[test]
        fn rejects_leading_zeros(view: u64, seqno: u64) {
            prop_assert_eq!(kind_of(&format!("0{view}.{seqno}")), K::LeadingZero(View));
            prop_assert_eq!(kind_of(&format!("{view}.0{seqno}")), K::LeadingZero(Seqno));
        }
    }
}
