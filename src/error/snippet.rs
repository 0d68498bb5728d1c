//! Bounded, redacted excerpts of text that came from a server, fit to put in an error message.
//!
//! A response body or an error message written by a server may echo anything, including what
//! the client sent. Before such text goes into an [`Error`](super::Error) it is redacted
//! (anything following `Bearer`, and anything shaped like a JSON Web Token, becomes
//! `[redacted]`), stripped of control characters and cut to a bounded number of characters.

/// The most characters of a body kept in a [`Decode`](super::ErrorKind::Decode) snippet.
pub const MAX_SNIPPET_CHARS: usize = 200;

/// The most characters of a service error message kept.
pub(crate) const MAX_MESSAGE_CHARS: usize = 1024;

/// The most characters of an error code kept.
pub(crate) const MAX_CODE_CHARS: usize = 128;

const REDACTED: &str = "[redacted]";

/// `text` redacted, with control characters replaced by spaces, cut to `max_chars`
/// characters (an ellipsis marks the cut).
pub(crate) fn excerpt(text: &str, max_chars: usize) -> String {
    let redacted = redact(text);
    let mut out = String::with_capacity(redacted.len().min(max_chars.saturating_mul(4)));
    let mut chars = redacted.chars();
    for c in chars.by_ref().take(max_chars) {
        out.push(if c.is_control() { ' ' } else { c });
    }
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// [`excerpt`] of bytes that may not be UTF-8.
pub(crate) fn excerpt_bytes(bytes: &[u8], max_chars: usize) -> String {
    // A multi-byte character cut at the read limit is shown as a replacement character.
    excerpt(&String::from_utf8_lossy(bytes), max_chars)
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=')
}

fn is_base64url(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_')
}

/// Replaces bearer credentials and JWT-shaped strings with `[redacted]`.
pub(crate) fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(len) = bearer_credential(rest) {
            out.push_str(&rest[..len.keyword]);
            out.push_str(REDACTED);
            rest = &rest[len.total..];
            continue;
        }
        if let Some(len) = jwt(rest) {
            out.push_str(REDACTED);
            rest = &rest[len..];
            continue;
        }
        // Copy up to the next place a credential could start (a word boundary).
        let mut chars = rest.char_indices();
        let mut end = rest.len();
        if let Some((_, first)) = chars.next() {
            let first_is_word = is_base64url(first);
            for (i, c) in chars {
                if !first_is_word || !is_base64url(c) {
                    end = i;
                    break;
                }
            }
        }
        out.push_str(&rest[..end]);
        rest = &rest[end..];
    }
    out
}

struct BearerMatch {
    /// Bytes of `Bearer` and the whitespace after it.
    keyword: usize,
    /// Bytes including the credential.
    total: usize,
}

/// `Bearer <credential>` at the start of `text` (case-insensitive).
fn bearer_credential(text: &str) -> Option<BearerMatch> {
    const WORD: &str = "bearer";
    let head = text.get(..WORD.len())?;
    if !head.eq_ignore_ascii_case(WORD) {
        return None;
    }
    let after = &text[WORD.len()..];
    let spaces = after.len() - after.trim_start_matches([' ', '\t']).len();
    if spaces == 0 {
        return None;
    }
    let credential = &after[spaces..];
    let mut len = credential
        .char_indices()
        .find(|(_, c)| !is_token_char(*c))
        .map_or(credential.len(), |(i, _)| i);
    // A keyword closing the credential and followed by whitespace introduces the next
    // credential (`Bearer Bearer <credential>`, `Bearer =Bearer <credential>`): stop before it,
    // so the scan finds it and redacts what follows. Token characters are ASCII, so byte
    // offsets are character boundaries.
    if let Some(start) = len.checked_sub(WORD.len())
        && credential[start..len].eq_ignore_ascii_case(WORD)
        && credential[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !is_base64url(c))
        && credential[len..].starts_with([' ', '\t'])
    {
        len = start;
    }
    (len > 0).then_some(BearerMatch {
        keyword: WORD.len() + spaces,
        total: WORD.len() + spaces + len,
    })
}

/// A JSON Web Token at the start of `text`: `eyJ` + base64url, a dot, base64url, and an
/// optional dot and signature. Returns its length in bytes.
fn jwt(text: &str) -> Option<usize> {
    if !text.starts_with("eyJ") {
        return None;
    }
    let segment = |s: &str| s.find(|c: char| !is_base64url(c)).unwrap_or(s.len());
    let header = segment(text);
    let after_header = &text[header..];
    let payload_start = after_header.strip_prefix('.')?;
    let payload = segment(payload_start);
    if payload == 0 {
        return None;
    }
    let mut len = header + 1 + payload;
    if let Some(signature) = text[len..].strip_prefix('.') {
        len += 1 + segment(signature);
    }
    Some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiJhYmMifQ.c2lnbmF0dXJl";

    #[test]
    fn bearer_credentials_are_redacted_whatever_the_case() {
        assert_eq!(
            redact("Authorization: Bearer abc.def-ghi, next"),
            "Authorization: Bearer [redacted], next"
        );
        assert_eq!(redact("bearer\tsecret"), "bearer\t[redacted]");
        assert_eq!(redact("BEARER  s3cr3t==\""), "BEARER  [redacted]\"");
        // Not a credential: the word alone, or glued to another word.
        assert_eq!(redact("Bearer"), "Bearer");
        assert_eq!(redact("Bearer Bearer"), "Bearer [redacted]");
        assert_eq!(redact("the bearer: x"), "the bearer: x");
    }

    /// Found by the `error_from_parts` fuzz target: the second `Bearer` of a doubled scheme
    /// was taken for the credential, and the credential after it was shown.
    #[test]
    fn a_doubled_bearer_keyword_does_not_hide_the_credential() {
        assert_eq!(
            redact("Bearer Bearer s3cr3t-value"),
            "Bearer Bearer [redacted]"
        );
        assert_eq!(
            redact("{\"erro bearer  Bearer Pl4nted-S3cret.Token~value\" n"),
            "{\"erro bearer  Bearer [redacted]\" n"
        );
        assert_eq!(
            redact("bearer\tBEARER bearer x.y"),
            "bearer\tBEARER bearer [redacted]"
        );
        // The second keyword behind a token character that is not part of a word (found by
        // the same target).
        assert_eq!(
            redact("bearer \t=Bearer Pl4nted-S3cret,"),
            "bearer \t[redacted]Bearer [redacted],"
        );
        assert_eq!(
            redact("Bearer a.b/BEARER\tsecret"),
            "Bearer [redacted]BEARER\t[redacted]"
        );
        // Inside a word, or not followed by whitespace, it is part of the credential.
        assert_eq!(redact("Bearer xBearer secret"), "Bearer [redacted] secret");
        assert_eq!(redact("Bearer abc=bearer"), "Bearer [redacted]");
    }

    #[test]
    fn jwts_are_redacted_anywhere() {
        let text = format!(r#"{{"token":"{JWT}","x":1}}"#);
        assert_eq!(redact(&text), r#"{"token":"[redacted]","x":1}"#);
        assert_eq!(
            redact("eyJhbGciOiJub25lIn0.eyJhIjoxfQ"),
            "[redacted]",
            "unsigned"
        );
        // Inside a word it is not a token start; `eyJ` alone is not a token.
        assert_eq!(redact("keyJabc.def"), "keyJabc.def");
        assert_eq!(redact("eyJ only"), "eyJ only");
    }

    #[test]
    fn excerpts_are_bounded_and_printable() {
        let long = "x".repeat(500);
        let cut = excerpt(&long, MAX_SNIPPET_CHARS);
        assert_eq!(cut.chars().count(), MAX_SNIPPET_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(excerpt("a\nb\u{0}c", 10), "a b c");
        assert_eq!(excerpt("short", 10), "short");
        // Redaction happens before the cut, so a token is never half shown.
        let text = format!("Bearer {JWT}{}", "y".repeat(50));
        assert_eq!(excerpt(&text, 20), "Bearer [redacted]");
        assert_eq!(excerpt_bytes(&[0xff, b'o', b'k'], 10), "\u{fffd}ok");
    }

    #[test]
    fn multibyte_text_is_cut_on_character_boundaries() {
        let text = "é".repeat(300);
        let cut = excerpt(&text, 5);
        assert_eq!(cut, "ééééé…");
    }
}
