//! Canonical text encodings used inside receipts: lowercase hex, padded base64 and PEM.
//!
//! Decoding is strict on purpose: a receipt field has exactly one accepted spelling, so no byte
//! of a signed or hashed field can change without the receipt being rejected. The service
//! certificate given by the caller is the one exception ([`pem_certificate_lenient`]): it is not
//! part of the receipt, and copies of it pass through many hands.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const PEM_BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const PEM_END: &str = "-----END CERTIFICATE-----";

/// Decodes exactly `N` bytes from lowercase hex.
pub(crate) fn hex_array<const N: usize>(text: &str) -> Result<[u8; N], String> {
    if text.len() != 2 * N {
        return Err(format!(
            "expected {} lowercase hex digits, found {} characters",
            2 * N,
            text.len()
        ));
    }
    let mut out = [0u8; N];
    base16ct::lower::decode(text, &mut out).map_err(hex_error)?;
    Ok(out)
}

/// Decodes lowercase hex of any even length.
pub(crate) fn hex_vec(text: &str) -> Result<Vec<u8>, String> {
    base16ct::lower::decode_vec(text).map_err(hex_error)
}

fn hex_error(err: base16ct::Error) -> String {
    match err {
        base16ct::Error::InvalidLength => "odd number of hex digits".to_owned(),
        _ => "not lowercase hex".to_owned(),
    }
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex_string(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(bytes)
}

/// Decodes standard, padded, canonical base64 (no whitespace, zero trailing bits).
pub(crate) fn base64_strict(text: &str) -> Result<Vec<u8>, String> {
    STANDARD.decode(text).map_err(|e| e.to_string())
}

/// Standard padded base64 of `bytes`.
pub(crate) fn base64_string(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes one PEM certificate in the exact form ledgers write it: RFC 7468's strict
/// textual encoding (decoded by `pem-rfc7468`): the `BEGIN CERTIFICATE` line, base64 lines of
/// 64 characters (the last one shorter or equal), the `END CERTIFICATE` line, each line ended
/// by `\n` or `\r\n` (the end line may be unterminated), nothing before or after.
pub(crate) fn pem_certificate_strict(pem: &str) -> Result<Vec<u8>, String> {
    if let Some(der) = pem_certificate_canonical(pem) {
        return Ok(der);
    }
    // RFC 7468 also ends lines with a lone `\r`; ledgers never do, and a receipt field has one
    // spelling.
    let bytes = pem.as_bytes();
    if bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
    {
        return Err("a line ended by a lone carriage return".to_owned());
    }
    let (label, der) = pem_rfc7468::decode_vec(pem.as_bytes()).map_err(|e| e.to_string())?;
    if label != "CERTIFICATE" {
        return Err(format!("a PEM {label:?} block, not a CERTIFICATE"));
    }
    if der.is_empty() {
        return Err("empty certificate".to_owned());
    }
    Ok(der)
}

/// The layout ledgers write (`\n` line ends, full 64-character lines, a last line of 1 to 64),
/// decoded with the table-driven base64 decoder, several times cheaper than RFC 7468's
/// constant-time one; `None` for any other text, which [`pem_certificate_strict`] then hands to
/// the RFC 7468 decoder. Everything accepted here is accepted there, with the same bytes (the
/// same canonical padded base64; a test checks the two agree).
fn pem_certificate_canonical(pem: &str) -> Option<Vec<u8>> {
    let rest = pem.strip_prefix(PEM_BEGIN)?.strip_prefix('\n')?;
    let rest = rest.strip_suffix('\n').unwrap_or(rest);
    let body = rest.strip_suffix(PEM_END)?.strip_suffix('\n')?;
    let mut base64 = String::with_capacity(body.len());
    let mut lines = body.split('\n').peekable();
    while let Some(line) = lines.next() {
        let last = lines.peek().is_none();
        if line.is_empty() || line.len() > 64 || (!last && line.len() != 64) {
            return None;
        }
        base64.push_str(line);
    }
    base64_strict(&base64).ok().filter(|der| !der.is_empty())
}

/// Decodes one PEM certificate leniently: surrounding whitespace and trailing NUL characters
/// (the identity service appends one) are ignored, and so is any whitespace and line layout
/// inside the base64 body. The base64 itself must still be canonical.
pub(crate) fn pem_certificate_lenient(pem: &[u8]) -> Result<Vec<u8>, String> {
    let text =
        std::str::from_utf8(pem).map_err(|_| "the PEM text is not valid UTF-8".to_owned())?;
    let text = text.trim_matches(|c: char| c == '\0' || c.is_ascii_whitespace());
    // RFC 7468 PEM, as ledgers and most tools write it.
    if let Ok(der) = pem_certificate_strict(text) {
        return Ok(der);
    }
    // A copy whose lines were re-wrapped or re-indented on the way: one block, any layout.
    let rest = text
        .strip_prefix(PEM_BEGIN)
        .ok_or_else(|| format!("does not start with `{PEM_BEGIN}`"))?;
    let body = rest
        .strip_suffix(PEM_END)
        .ok_or_else(|| format!("does not end with `{PEM_END}` (one certificate expected)"))?;
    if body.contains("-----") {
        return Err("more than one PEM block (one certificate expected)".to_owned());
    }
    let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err("empty certificate".to_owned());
    }
    base64_strict(&compact).map_err(|e| format!("invalid base64: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_and_exact() {
        assert_eq!(hex_array::<2>("0aff"), Ok([0x0a, 0xff]));
        assert!(hex_array::<2>("0AFF").is_err());
        assert!(hex_array::<2>("0af").is_err());
        assert!(hex_array::<2>("0aff00").is_err());
        assert!(hex_array::<2>("0a f").is_err());
        assert!(hex_array::<1>("é").is_err());
        assert_eq!(hex_vec("00ff"), Ok(vec![0, 255]));
        assert!(hex_vec("0").is_err());
        assert!(hex_vec("zz").is_err());
        assert_eq!(hex_string(&[0x0a, 0xff]), "0aff");
    }

    #[test]
    fn base64_rejects_non_canonical_spellings() {
        assert_eq!(base64_strict("AQI="), Ok(vec![1, 2]));
        assert!(base64_strict("AQJ=").is_err(), "non-zero trailing bits");
        assert!(base64_strict("AQI").is_err(), "missing padding");
        assert!(base64_strict("AQ I=").is_err(), "whitespace");
    }

    fn pem_of(der: &[u8], eol: &str) -> String {
        let b64 = base64_string(der);
        let mut s = format!("{PEM_BEGIN}{eol}");
        for chunk in b64.as_bytes().chunks(64) {
            s.push_str(std::str::from_utf8(chunk).unwrap_or_default());
            s.push_str(eol);
        }
        s.push_str(PEM_END);
        s.push_str(eol);
        s
    }

    #[test]
    fn strict_pem_accepts_only_the_canonical_layout() {
        let der: Vec<u8> = (0..=200u8).collect();
        assert_eq!(pem_certificate_strict(&pem_of(&der, "\n")), Ok(der.clone()));
        assert_eq!(
            pem_certificate_strict(&pem_of(&der, "\r\n")),
            Ok(der.clone())
        );
        let unterminated = pem_of(&der, "\n");
        assert_eq!(
            pem_certificate_strict(unterminated.trim_end()),
            Ok(der.clone())
        );
        let canonical = pem_of(&der, "\n");
        // Re-wrapped lines, stray carriage return, extra text, extra blank line.
        assert!(pem_certificate_strict(&canonical.replacen('\n', "", 2)).is_err());
        assert!(pem_certificate_strict(&canonical.replacen('\n', "\r", 2)).is_err());
        assert!(pem_certificate_strict(&format!("x{canonical}")).is_err());
        assert!(pem_certificate_strict(&format!("{canonical}\n")).is_err());
        assert!(pem_certificate_strict(&format!("{canonical}\0")).is_err());
        let cr_at_end = format!("{}\r", canonical.trim_end());
        assert!(
            pem_certificate_strict(&cr_at_end).is_err(),
            "a lone CR ends no line"
        );
        assert!(pem_certificate_strict("").is_err());
        assert!(pem_certificate_strict(&format!("{PEM_BEGIN}\n{PEM_END}\n")).is_err());
    }

    /// Whatever the fast path accepts, the RFC 7468 decoder accepts with the same bytes.
    #[test]
    fn canonical_pem_agrees_with_rfc7468() {
        let mut accepted = 0;
        for len in [1, 2, 3, 47, 48, 49, 95, 96, 97, 200] {
            let der: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let canonical = pem_of(&der, "\n");
            let mut variants = vec![canonical.clone(), canonical.trim_end().to_owned()];
            let bytes = canonical.as_bytes();
            for i in 0..bytes.len() {
                let mut removed = bytes.to_vec();
                removed.remove(i);
                for b in [b'\n', b'\r', b' ', b'=', b'A', b'-'] {
                    let mut replaced = bytes.to_vec();
                    replaced[i] = b;
                    let mut inserted = bytes.to_vec();
                    inserted.insert(i, b);
                    variants.extend([replaced, inserted].map(|v| String::from_utf8(v).unwrap()));
                }
                variants.push(String::from_utf8(removed).unwrap());
            }
            for text in variants {
                if let Some(fast) = pem_certificate_canonical(&text) {
                    accepted += 1;
                    let (label, der) = pem_rfc7468::decode_vec(text.as_bytes())
                        .unwrap_or_else(|e| panic!("{e}: {text:?}"));
                    assert_eq!((label, der), ("CERTIFICATE", fast), "{text:?}");
                }
            }
            assert_eq!(pem_certificate_canonical(&canonical), Some(der));
        }
        assert!(accepted > 20);
    }

    #[test]
    fn lenient_pem_tolerates_nuls_and_layout() {
        let der: Vec<u8> = (0..=200u8).collect();
        let canonical = pem_of(&der, "\n");
        let with_nul = format!("{canonical}\0");
        assert_eq!(
            pem_certificate_lenient(with_nul.as_bytes()),
            Ok(der.clone())
        );
        let rewrapped = canonical.replacen('\n', "", 3);
        assert_eq!(
            pem_certificate_lenient(rewrapped.as_bytes()),
            Ok(der.clone())
        );
        let two = format!("{canonical}{canonical}");
        assert!(pem_certificate_lenient(two.as_bytes()).is_err());
        assert!(pem_certificate_lenient(b"\xff").is_err());
        assert!(pem_certificate_lenient(b"").is_err());
    }
}
