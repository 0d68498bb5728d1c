//! Bearer tokens: JWTs signed with ES256 by the sandbox's own token key, standing in for
//! Microsoft Entra ID tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The audience a ledger token must carry.
pub const LEDGER_AUDIENCE: &str = "https://confidential-ledger.azure.com";
/// The issuer of sandbox tokens.
pub const SANDBOX_ISSUER: &str = "https://sandbox.confidential-ledger.local";
/// A fixed tenant id put in sandbox tokens.
const SANDBOX_TENANT: &str = "00000000-0000-0000-0000-000000000000";

/// What to put in a token minted with [`Sandbox::mint_token_with`](crate::Sandbox::mint_token_with).
///
/// [`TokenSpec::new`] describes a valid token for one hour; the other constructors describe
/// tokens the sandbox must reject, for tests of authentication failures.
///
/// # Examples
///
/// ```
/// use confidential_ledger_sandbox::TokenSpec;
///
/// let valid = TokenSpec::new("my-oid");
/// assert_eq!(valid.lifetime_seconds, 3600);
/// let expired = TokenSpec::new("my-oid").expired();
/// assert!(expired.lifetime_seconds < 0);
/// let foreign = TokenSpec::new("my-oid").audience("https://vault.azure.net").badly_signed();
/// assert!(foreign.foreign_key);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSpec {
    /// The principal's object id (`oid` claim): the ledger user id.
    pub oid: String,
    /// The `aud` claim.
    pub audience: String,
    /// Seconds from now until `exp`; negative for an already expired token.
    pub lifetime_seconds: i64,
    /// Sign with a throwaway key instead of the sandbox's token key.
    pub foreign_key: bool,
}

impl TokenSpec {
    /// A valid token for `oid`, for one hour.
    pub fn new(oid: impl Into<String>) -> Self {
        TokenSpec {
            oid: oid.into(),
            audience: LEDGER_AUDIENCE.to_string(),
            lifetime_seconds: 3600,
            foreign_key: false,
        }
    }

    /// The same token, expired ten minutes ago.
    #[must_use]
    pub fn expired(mut self) -> Self {
        self.lifetime_seconds = -600;
        self
    }

    /// The same token with another audience.
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// The same token valid for `seconds`.
    #[must_use]
    pub fn lifetime_seconds(mut self, seconds: i64) -> Self {
        self.lifetime_seconds = seconds;
        self
    }

    /// The same token signed by a key the sandbox does not trust.
    #[must_use]
    pub fn badly_signed(mut self) -> Self {
        self.foreign_key = true;
        self
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Serialize, Deserialize)]
struct Claims {
    aud: Audience,
    iss: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    oid: String,
    sub: String,
    tid: String,
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TokenError {
    #[error("the bearer token is not a well-formed JWT")]
    Malformed,
    #[error("the bearer token's algorithm {0} is not ES256")]
    Algorithm(String),
    #[error("the bearer token's signature is invalid")]
    Signature,
    #[error("the bearer token has expired")]
    Expired,
    #[error("the bearer token is not valid yet")]
    NotYetValid,
    #[error("the bearer token's audience is not {LEDGER_AUDIENCE}")]
    Audience,
    #[error("the bearer token's issuer is not trusted")]
    Issuer,
    #[error("the bearer token has no object id (oid) claim")]
    NoObjectId,
}

/// Seconds of clock skew tolerated on `nbf` and `exp`.
const LEEWAY: i64 = 30;

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Mints and checks tokens with one key.
pub(crate) struct TokenIssuer {
    key: SigningKey,
    verifying: VerifyingKey,
}

impl TokenIssuer {
    pub(crate) fn new(key: SigningKey) -> Self {
        let verifying = *key.verifying_key();
        TokenIssuer { key, verifying }
    }

    /// A signed JWT as described by `spec`.
    pub(crate) fn mint(&self, spec: &TokenSpec) -> String {
        let now = now();
        let header = Header {
            alg: "ES256".into(),
            typ: Some("JWT".into()),
        };
        let claims = Claims {
            aud: Audience::One(spec.audience.clone()),
            iss: SANDBOX_ISSUER.into(),
            iat: now,
            nbf: now.min(now + spec.lifetime_seconds) - 60,
            exp: now + spec.lifetime_seconds,
            oid: spec.oid.clone(),
            sub: spec.oid.clone(),
            tid: SANDBOX_TENANT.into(),
        };
        // Serialising these plain structs cannot fail.
        let h = serde_json::to_vec(&header).unwrap_or_default();
        let c = serde_json::to_vec(&claims).unwrap_or_default();
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(h),
            URL_SAFE_NO_PAD.encode(c)
        );
        let foreign;
        let key = if spec.foreign_key {
            foreign =
                SigningKey::from_bytes(&[7u8; 32].into()).unwrap_or_else(|_| self.key.clone());
            &foreign
        } else {
            &self.key
        };
        let signature: Signature = key.sign(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    }

    /// Checks a JWT and returns its object id.
    pub(crate) fn verify(&self, token: &str) -> Result<String, TokenError> {
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let decode = |p: &str| URL_SAFE_NO_PAD.decode(p).map_err(|_| TokenError::Malformed);
        let header: Header =
            serde_json::from_slice(&decode(h)?).map_err(|_| TokenError::Malformed)?;
        if header.alg != "ES256" {
            return Err(TokenError::Algorithm(header.alg.chars().take(16).collect()));
        }
        let signature = Signature::from_slice(&decode(s)?).map_err(|_| TokenError::Signature)?;
        let signing_input = &token[..h.len() + 1 + c.len()];
        self.verifying
            .verify(signing_input.as_bytes(), &signature)
            .map_err(|_| TokenError::Signature)?;
        let claims: Claims =
            serde_json::from_slice(&decode(c)?).map_err(|_| TokenError::Malformed)?;
        let now = now();
        if claims.exp + LEEWAY <= now {
            return Err(TokenError::Expired);
        }
        if claims.nbf - LEEWAY > now {
            return Err(TokenError::NotYetValid);
        }
        let audience_ok = |a: &str| a.trim_end_matches('/') == LEDGER_AUDIENCE;
        let ok = match &claims.aud {
            Audience::One(a) => audience_ok(a),
            Audience::Many(list) => list.iter().any(|a| audience_ok(a)),
        };
        if !ok {
            return Err(TokenError::Audience);
        }
        if claims.iss != SANDBOX_ISSUER {
            return Err(TokenError::Issuer);
        }
        if claims.oid.is_empty() {
            return Err(TokenError::NoObjectId);
        }
        Ok(claims.oid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer() -> TokenIssuer {
        TokenIssuer::new(SigningKey::from_bytes(&[1u8; 32].into()).unwrap())
    }

    #[test]
    fn valid_and_invalid_tokens() {
        let issuer = issuer();
        let token = issuer.mint(&TokenSpec::new("abc"));
        assert_eq!(issuer.verify(&token), Ok("abc".to_string()));
        assert_eq!(
            issuer.verify(&issuer.mint(&TokenSpec::new("abc").expired())),
            Err(TokenError::Expired)
        );
        assert_eq!(
            issuer.verify(&issuer.mint(&TokenSpec::new("abc").audience("https://x"))),
            Err(TokenError::Audience)
        );
        assert_eq!(
            issuer.verify(&issuer.mint(&TokenSpec::new("abc").badly_signed())),
            Err(TokenError::Signature)
        );
        assert_eq!(issuer.verify("a.b"), Err(TokenError::Malformed));
        // Tampering with the claims breaks the signature.
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"oid":"admin"}"#);
        parts[1] = &forged;
        assert_eq!(issuer.verify(&parts.join(".")), Err(TokenError::Signature));
    }
}
