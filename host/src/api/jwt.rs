//! Admin tokens: JSON Web Tokens signed with HS256 (`api.jwt_secret`,
//! JWT_SECRET), RFC 7519. A token is accepted when its header says
//! `HS256`, its signature verifies, `exp` is present and in the future,
//! `nbf` (if present) has passed, and, for admin calls, its `role` claim
//! (a string, or a list of strings) holds `admin`. Nothing else is trusted:
//! `alg: none` and every other algorithm are refused.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// Why a token was refused; the message is what the 401/403 body says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No `Authorization: Bearer …` header.
    #[error("missing bearer token (send `Authorization: Bearer <JWT>`)")]
    Missing,
    /// Not three base64url parts with JSON in the first two.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header names another algorithm.
    #[error("token algorithm `{0}` is not accepted (HS256 only)")]
    Algorithm(String),
    /// The signature does not verify under our secret.
    #[error("bad token signature")]
    Signature,
    /// No `exp` claim.
    #[error("token has no `exp` claim")]
    NoExpiry,
    /// `exp` has passed.
    #[error("token expired at {0} (unix seconds)")]
    Expired(u64),
    /// `nbf` is still ahead.
    #[error("token not valid before {0} (unix seconds)")]
    NotYetValid(u64),
    /// Valid, but without the role this call needs (403).
    #[error("token lacks the `{0}` role")]
    Forbidden(&'static str),
}

impl TokenError {
    /// Whether the caller is known but not allowed (403) rather than not
    /// authenticated (401).
    pub fn is_forbidden(&self) -> bool {
        matches!(self, TokenError::Forbidden(_))
    }
}

/// The claims a verified token carries that we use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Claims {
    /// Who the token is for: the operator id of its bearer.
    #[serde(default)]
    pub sub: Option<String>,
    /// Expiry, unix seconds.
    #[serde(default)]
    pub exp: Option<u64>,
    /// Not before, unix seconds.
    #[serde(default)]
    pub nbf: Option<u64>,
    /// The bearer's role(s).
    #[serde(default)]
    pub role: Option<Roles>,
}

/// `role` as one string or a list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Roles {
    /// `"role": "admin"`.
    One(String),
    /// `"role": ["admin", "ops"]`.
    Many(Vec<String>),
}

impl Claims {
    /// Whether the claims grant `role`.
    pub fn has_role(&self, role: &str) -> bool {
        match &self.role {
            Some(Roles::One(one)) => one == role,
            Some(Roles::Many(many)) => many.iter().any(|item| item == role),
            None => false,
        }
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// Verifies HS256 tokens with one secret.
#[derive(Clone)]
pub struct TokenVerifier {
    secret: Vec<u8>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenVerifier(<secret>)")
    }
}

impl TokenVerifier {
    /// A verifier for tokens signed with `secret` (its UTF-8 bytes, as
    /// jwt.io and most libraries take a text secret).
    pub fn new(secret: &str) -> Self {
        TokenVerifier {
            secret: secret.as_bytes().to_vec(),
        }
    }

    /// The token's claims, if it verifies and is current at `now` (unix seconds).
    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, TokenError> {
        let mut parts = token.trim().split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed("expected header.payload.signature"));
        };
        let header_json = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| TokenError::Malformed("header is not base64url"))?;
        let header_fields: Header = serde_json::from_slice(&header_json)
            .map_err(|_| TokenError::Malformed("header is not a JSON object with `alg`"))?;
        if header_fields.alg != "HS256" {
            return Err(TokenError::Algorithm(header_fields.alg));
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed("signature is not base64url"))?;
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.secret).map_err(|_| TokenError::Signature)?;
        mac.update(header.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        // Constant-time comparison.
        mac.verify_slice(&signature)
            .map_err(|_| TokenError::Signature)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Malformed("payload is not base64url"))?;
        let claims: Claims = serde_json::from_slice(&payload)
            .map_err(|_| TokenError::Malformed("payload is not a JSON object of claims"))?;
        let exp = claims.exp.ok_or(TokenError::NoExpiry)?;
        if exp <= now {
            return Err(TokenError::Expired(exp));
        }
        if let Some(nbf) = claims.nbf
            && nbf > now
        {
            return Err(TokenError::NotYetValid(nbf));
        }
        Ok(claims)
    }

    /// Verifies an `Authorization` header's bearer token and requires `role`.
    pub fn authorize(
        &self,
        authorization: Option<&str>,
        role: &'static str,
        now: u64,
    ) -> Result<Claims, TokenError> {
        let token = authorization
            .and_then(|value| {
                let (scheme, token) = value.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then_some(token)
            })
            .ok_or(TokenError::Missing)?;
        let claims = self.verify(token, now)?;
        if !claims.has_role(role) {
            return Err(TokenError::Forbidden(role));
        }
        Ok(claims)
    }

    /// Signs `claims` (a JSON object) as an HS256 token: for tests, the
    /// benchmark and operators' tooling (`hypasis-sync token`).
    pub fn sign(&self, claims: &serde_json::Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
        mac.update(header.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{header}.{payload}.{signature}")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// RFC 7515 appendix A.1: an HS256 JWS whose key is given as a JWK
    /// (base64url), with claims `{"iss":"joe","exp":1300819380,...}`.
    #[test]
    fn rfc7515_hs256_example_verifies() {
        let key = URL_SAFE_NO_PAD
            .decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
            .unwrap();
        let verifier = TokenVerifier { secret: key };
        let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let claims = verifier.verify(token, 1_300_819_379).unwrap();
        assert_eq!(claims.exp, Some(1_300_819_380));
        assert_eq!(
            verifier.verify(token, 1_300_819_380),
            Err(TokenError::Expired(1_300_819_380))
        );
        // One flipped signature character.
        let forged = token.replace("dBjftJeZ4CVP", "dBjftJeZ4CVQ");
        assert_eq!(verifier.verify(&forged, 0), Err(TokenError::Signature));
    }

    #[test]
    fn roles_expiry_and_refusals() {
        let verifier = TokenVerifier::new("s3cret");
        let admin = verifier.sign(&json!({"sub": "ops", "exp": 2_000, "role": "admin"}));
        let claims = verifier
            .authorize(Some(&format!("Bearer {admin}")), "admin", 1_000)
            .unwrap();
        assert_eq!(claims.sub.as_deref(), Some("ops"));
        let listed = verifier.sign(&json!({"exp": 2_000, "role": ["viewer", "admin"]}));
        assert!(
            verifier
                .authorize(Some(&format!("bearer {listed}")), "admin", 1_000)
                .is_ok()
        );
        let viewer = verifier.sign(&json!({"exp": 2_000, "role": "viewer"}));
        let refused = verifier
            .authorize(Some(&format!("Bearer {viewer}")), "admin", 1_000)
            .unwrap_err();
        assert!(refused.is_forbidden());
        assert_eq!(
            verifier.authorize(None, "admin", 0),
            Err(TokenError::Missing)
        );
        assert_eq!(
            verifier.authorize(Some("Basic abc"), "admin", 0),
            Err(TokenError::Missing)
        );
        let forever = verifier.sign(&json!({"role": "admin"}));
        assert_eq!(verifier.verify(&forever, 0), Err(TokenError::NoExpiry));
        let later = verifier.sign(&json!({"role": "admin", "exp": 9_000, "nbf": 5_000}));
        assert_eq!(
            verifier.verify(&later, 1_000),
            Err(TokenError::NotYetValid(5_000))
        );
        // Signed with another secret.
        let other = TokenVerifier::new("other").sign(&json!({"exp": 2_000, "role": "admin"}));
        assert_eq!(verifier.verify(&other, 1_000), Err(TokenError::Signature));
        // `alg: none` with an empty signature is refused before anything else.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(br#"{"exp":9999999999,"role":"admin"}"#)
        );
        assert_eq!(
            verifier.verify(&none, 0),
            Err(TokenError::Algorithm("none".into()))
        );
        assert!(matches!(
            verifier.verify("a.b", 0),
            Err(TokenError::Malformed(_))
        ));
        assert!(matches!(
            verifier.verify("!!.b.c", 0),
            Err(TokenError::Malformed(_))
        ));
    }
}
