//! The `Authorization` header: a bearer token from the credential, per attempt.
//!
//! With a [`TokenCredential`] every attempt (and every redirect hop inside the ledger) asks it
//! for a token, so a cached credential ([`CachedTokenCredential`](crate::CachedTokenCredential))
//! refreshes tokens in time even across long retry sequences. The header is marked
//! *sensitive*, which keeps it out of HTTP/2 header compression tables and `Debug` output.
//! With certificate authentication there is no credential and no header.

use std::sync::Arc;

use reqwest::header::{AUTHORIZATION, HeaderValue};

use crate::{AccessToken, Error, ErrorKind, TokenCredential};

/// Attaches bearer tokens; see the [module documentation](self).
#[derive(Debug, Clone)]
pub(crate) struct Authorizer {
    credential: Option<Arc<dyn TokenCredential>>,
    scopes: Vec<String>,
}

impl Authorizer {
    pub(crate) fn new(credential: Option<Arc<dyn TokenCredential>>, scopes: Vec<String>) -> Self {
        Self { credential, scopes }
    }

    /// True when requests carry a bearer token.
    pub(crate) fn has_credential(&self) -> bool {
        self.credential.is_some()
    }

    /// Sets `Authorization: Bearer <token>` on `request` (replacing any), or does nothing
    /// without a credential. Returns the token used.
    ///
    /// # Errors
    ///
    /// [`Credential`](ErrorKind::Credential) when no token can be had or it cannot be sent
    /// as a header; [`Timeout`](ErrorKind::Timeout) when the credential said its request
    /// timed out. The call's deadline bounds the wait for the credential in any case.
    pub(crate) async fn authorize(
        &self,
        request: &mut reqwest::Request,
    ) -> Result<Option<AccessToken>, Error> {
        let Some(credential) = &self.credential else {
            return Ok(None);
        };
        let scopes: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
        // Nothing has been sent when the credential fails (or times out): marked so, a write
        // whose token request timed out is retried rather than reported as unknown.
        let token = credential
            .get_token(&scopes)
            .await
            .map_err(|err| Error::from(err).with_connect(true))?;
        let mut value =
            HeaderValue::try_from(format!("Bearer {}", token.token.expose())).map_err(|_| {
                // The message must not quote the token.
                Error::new(
                    ErrorKind::Credential,
                    "the credential returned a token that is not valid in an HTTP header",
                )
            })?;
        value.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, value);
        Ok(Some(token))
    }
}

/// The principal's object id (`oid` claim) of an Entra ID access token, to name the principal
/// in a `403 NotAllowed` error. The token is not verified (the ledger did that); only a value
/// shaped like an object id (hex digits and dashes, at most 64 characters) is returned, so
/// nothing else from the token can end up in a message.
pub(crate) fn token_object_id(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    if payload.len() > 16 * 1024 {
        return None;
    }
    let claims: serde_json::Value = serde_json::from_slice(&decode_base64url(payload)?).ok()?;
    let oid = claims.get("oid")?.as_str()?;
    let shaped = !oid.is_empty()
        && oid.len() <= 64
        && oid.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    shaped.then(|| oid.to_owned())
}

/// base64url as JWTs spell it: unpadded (padding tolerated), trailing bits ignored as the
/// token is not verified here.
const BASE64URL: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes unpadded (or padded) base64url.
fn decode_base64url(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    BASE64URL.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StaticTokenCredential;

    /// `{"alg":"none"}` . `claims` . `sig`, base64url without padding.
    fn jwt(claims: &str) -> String {
        format!("eyJhbGciOiJub25lIn0.{}.c2ln", encode(claims.as_bytes()))
    }

    fn encode(bytes: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b))
                << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }

    #[test]
    fn object_ids_come_from_the_oid_claim_only_when_shaped_like_one() {
        let oid = "2d3e6f9a-1b2c-4d5e-8f90-a1b2c3d4e5f6";
        assert_eq!(
            token_object_id(&jwt(&format!(r#"{{"oid":"{oid}","aud":"x"}}"#))).as_deref(),
            Some(oid)
        );
        assert_eq!(
            token_object_id(&jwt(r#"{"oid":"not an id; <script>"}"#)),
            None
        );
        assert_eq!(token_object_id(&jwt(r#"{"sub":"abc"}"#)), None);
        assert_eq!(token_object_id(&jwt(r#"{"oid":""}"#)), None);
        assert_eq!(token_object_id("opaque-token"), None);
        assert_eq!(token_object_id("a.!!!.c"), None);
        assert_eq!(
            token_object_id(&format!("a.{}.c", encode(b"not json"))),
            None
        );
    }

    #[test]
    fn base64url_round_trips_every_length() {
        for len in 0..20 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(decode_base64url(&encode(&bytes)), Some(bytes));
        }
        assert_eq!(decode_base64url("QQ=="), Some(b"A".to_vec()));
        assert_eq!(decode_base64url("Q"), None);
    }

    #[tokio::test]
    async fn the_header_is_sensitive_and_absent_without_a_credential() {
        let mut request = reqwest::Request::new(
            reqwest::Method::GET,
            "https://ledger.test/".parse().unwrap(),
        );
        let none = Authorizer::new(None, vec![]);
        assert!(none.authorize(&mut request).await.unwrap().is_none());
        assert!(!request.headers().contains_key(AUTHORIZATION));

        let bearer = Authorizer::new(
            Some(Arc::new(StaticTokenCredential::new("tok3n"))),
            vec![crate::DEFAULT_SCOPE.to_owned()],
        );
        let token = bearer.authorize(&mut request).await.unwrap().unwrap();
        assert_eq!(token.token.expose(), "tok3n");
        let header = &request.headers()[AUTHORIZATION];
        assert_eq!(header, "Bearer tok3n");
        assert!(header.is_sensitive());
        assert!(!format!("{:?}", request.headers()).contains("tok3n"));

        let broken = Authorizer::new(
            Some(Arc::new(StaticTokenCredential::new("bad\ntoken"))),
            vec![],
        );
        let err = broken.authorize(&mut request).await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Credential);
        assert!(!err.to_string().contains("bad"), "{err}");
    }
}
