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
/// Base64 characters per PEM line (RFC 7468).
const PEM_LINE: usize = 64;

/// Value of each byte as a lowercase hex digit, or 0xff.
const HEX_VALUE: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// Decodes exactly `N` bytes from lowercase hex.
pub(crate) fn hex_array<const N: usize>(text: &str) -> Result<[u8; N], String> {
    let bytes = text.as_bytes();
    if bytes.len() != 2 * N {
        return Err(format!(
            "expected {} lowercase hex digits, found {} characters",
            2 * N,
            text.len()
        ));
    }
    let mut out = [0u8; N];
    // Invalid digits map to 0xff: OR-ing every value shows whether one was seen.
    let mut seen = 0u8;
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let hi = HEX_VALUE[usize::from(pair[0])];
        let lo = HEX_VALUE[usize::from(pair[1])];
        seen |= hi | lo;
        *o = (hi << 4) | (lo & 0x0f);
    }
    if seen > 0x0f {
        return Err(not_hex_at(bytes));
    }
    Ok(out)
}

/// Decodes lowercase hex of any even length.
pub(crate) fn hex_vec(text: &str) -> Result<Vec<u8>, String> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return Err("odd number of hex digits".to_owned());
    }
    if bytes.iter().any(|&b| HEX_VALUE[usize::from(b)] > 0x0f) {
        return Err(not_hex_at(bytes));
    }
    Ok(bytes
        .chunks_exact(2)
        .map(|pair| (HEX_VALUE[usize::from(pair[0])] << 4) | HEX_VALUE[usize::from(pair[1])])
        .collect())
}

fn not_hex_at(bytes: &[u8]) -> String {
    let offset = bytes
        .iter()
        .position(|&b| HEX_VALUE[usize::from(b)] > 0x0f)
        .unwrap_or_default();
    format!("not lowercase hex at offset {offset}")
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex_string(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// Decodes standard, padded, canonical base64 (no whitespace, zero trailing bits).
pub(crate) fn base64_strict(text: &str) -> Result<Vec<u8>, String> {
    STANDARD.decode(text).map_err(|e| e.to_string())
}

/// Standard padded base64 of `bytes`.
pub(crate) fn base64_string(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes one PEM certificate in the exact form ledgers write it: the `BEGIN CERTIFICATE`
/// line, base64 lines of 64 characters (the last one shorter or equal), the `END CERTIFICATE`
/// line, each line ended by `\n` or `\r\n` (the end line may be unterminated), nothing before
/// or after.
pub(crate) fn pem_certificate_strict(pem: &str) -> Result<Vec<u8>, String> {
    let mut lines = pem
        .split_inclusive('\n')
        .map(|line| match line.strip_suffix('\n') {
            Some(line) => line.strip_suffix('\r').unwrap_or(line),
            None => line,
        });
    if lines.next() != Some(PEM_BEGIN) {
        return Err(format!(
            "does not start with `{PEM_BEGIN}` on a line of its own"
        ));
    }
    let mut body = String::with_capacity(pem.len());
    let mut last_len = PEM_LINE;
    loop {
        let Some(line) = lines.next() else {
            return Err(format!("no `{PEM_END}` line"));
        };
        if line == PEM_END {
            break;
        }
        if last_len != PEM_LINE {
            return Err("a base64 line other than the last is not 64 characters long".to_owned());
        }
        if line.is_empty() || line.len() > PEM_LINE {
            return Err(format!("base64 line of {} characters", line.len()));
        }
        last_len = line.len();
        body.push_str(line);
    }
    if lines.next().is_some() {
        return Err(format!("text after `{PEM_END}`"));
    }
    if body.is_empty() {
        return Err("empty certificate".to_owned());
    }
    base64_strict(&body).map_err(|e| format!("invalid base64: {e}"))
}

/// Decodes one PEM certificate leniently: surrounding whitespace and trailing NUL characters
/// (the identity service appends one) are ignored, and so is any whitespace and line layout
/// inside the base64 body. The base64 itself must still be canonical.
pub(crate) fn pem_certificate_lenient(pem: &[u8]) -> Result<Vec<u8>, String> {
    let text =
        std::str::from_utf8(pem).map_err(|_| "the PEM text is not valid UTF-8".to_owned())?;
    let text = text.trim_matches(|c: char| c == '\0' || c.is_ascii_whitespace());
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
