//! Access tokens: JWTs signed HS256 (shared secret) or RS256 (key pair), carrying the
//! user, role and tier. Checking one validates signature, algorithm, `exp`, `nbf`,
//! `iss` and `aud` (with a small leeway for clock skew); anything else is a 401.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::{Principal, Role, Tier};

/// Why a token was not accepted. The message is safe to show the caller: it never
/// includes the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("authentication required: send `Authorization: Bearer <token>`")]
    Missing,
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is not valid: {0}")]
    Invalid(&'static str),
    #[error("this server does not issue tokens (RS256 without a private key)")]
    CannotIssue,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: Role,
    tier: Tier,
    iss: String,
    aud: String,
    iat: i64,
    nbf: i64,
    exp: i64,
}

/// Issues and checks access tokens.
pub struct TokenService {
    algorithm: Algorithm,
    encoding: Option<EncodingKey>,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("algorithm", &self.algorithm)
            .field("issues", &self.encoding.is_some())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// What a [`TokenService`] is built from.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
    pub ttl: Duration,
    pub leeway: Duration,
}

impl TokenService {
    /// HS256 with a shared secret (both issues and checks).
    pub fn hs256(secret: &[u8], settings: TokenSettings) -> Self {
        Self::new(
            Algorithm::HS256,
            Some(EncodingKey::from_secret(secret)),
            DecodingKey::from_secret(secret),
            settings,
        )
    }

    /// RS256 from PEM keys; without the private key the service only checks tokens.
    pub fn rs256(
        public_pem: &[u8],
        private_pem: Option<&[u8]>,
        settings: TokenSettings,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        let decoding = DecodingKey::from_rsa_pem(public_pem)?;
        let encoding = private_pem.map(EncodingKey::from_rsa_pem).transpose()?;
        Ok(Self::new(Algorithm::RS256, encoding, decoding, settings))
    }

    fn new(
        algorithm: Algorithm,
        encoding: Option<EncodingKey>,
        decoding: DecodingKey,
        settings: TokenSettings,
    ) -> Self {
        // Exactly one algorithm: a token claiming another (including `none`, or HS256
        // signed with our RSA public key) is refused before its signature is looked at.
        let mut validation = Validation::new(algorithm);
        validation.leeway = settings.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[settings.issuer.as_str()]);
        validation.set_audience(&[settings.audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        Self {
            algorithm,
            encoding,
            decoding,
            validation,
            issuer: settings.issuer,
            audience: settings.audience,
            ttl: settings.ttl,
        }
    }

    /// Lifetime of the tokens this service issues.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A fresh token for `principal`, valid from now for the configured lifetime.
    pub fn issue(&self, principal: &Principal) -> Result<String, AuthError> {
        self.issue_at(principal, time::OffsetDateTime::now_utc().unix_timestamp())
    }

    /// A token as if issued at `now` (seconds since the epoch); tests use it for expiry.
    pub fn issue_at(&self, principal: &Principal, now: i64) -> Result<String, AuthError> {
        let key = self.encoding.as_ref().ok_or(AuthError::CannotIssue)?;
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX);
        let claims = Claims {
            sub: principal.user.clone(),
            role: principal.role,
            tier: principal.tier,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            nbf: now,
            exp: now.saturating_add(ttl),
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, key)
            .map_err(|_| AuthError::Invalid("cannot sign"))
    }

    /// Checks a token and says who it is for.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        self.verify_expiring(token).map(|(principal, _)| principal)
    }

    /// Checks a token and says who it is for and when it expires (its `exp`, seconds
    /// since the epoch): a WebSocket session outlives its upgrade and must end with its
    /// token ([`Self::has_expired`]).
    pub fn verify_expiring(&self, token: &str) -> Result<(Principal, i64), AuthError> {
        use jsonwebtoken::errors::ErrorKind;
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        // Bounded before parsing: a megabyte of "token" is not worth base64-decoding.
        if token.len() > 8 * 1024 {
            return Err(AuthError::Invalid("too long"));
        }
        match jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation) {
            Ok(data) => Ok((
                Principal {
                    user: data.claims.sub,
                    role: data.claims.role,
                    tier: data.claims.tier,
                },
                data.claims.exp,
            )),
            Err(error) => Err(match error.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::ImmatureSignature => AuthError::Invalid("not valid yet (nbf)"),
                ErrorKind::InvalidIssuer => AuthError::Invalid("wrong issuer"),
                ErrorKind::InvalidAudience => AuthError::Invalid("wrong audience"),
                ErrorKind::InvalidSignature => AuthError::Invalid("bad signature"),
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                    AuthError::Invalid("algorithm not accepted")
                }
                ErrorKind::MissingRequiredClaim(_) => {
                    AuthError::Invalid("a required claim is missing")
                }
                _ => AuthError::Invalid("malformed"),
            }),
        }
    }
}

impl TokenService {
    /// Whether a token expiring at `exp` would be refused now (the same leeway as
    /// [`Self::verify`]).
    pub fn has_expired(&self, exp: i64) -> bool {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let leeway = i64::try_from(self.validation.leeway).unwrap_or(i64::MAX);
        now > exp.saturating_add(leeway)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> TokenSettings {
        TokenSettings {
            issuer: "optionhub".into(),
            audience: "optionhub-api".into(),
            ttl: Duration::from_secs(600),
            leeway: Duration::from_secs(5),
        }
    }

    fn alice() -> Principal {
        Principal {
            user: "alice".into(),
            role: Role::Trader,
            tier: Tier::Pro,
        }
    }

    fn service() -> TokenService {
        TokenService::hs256(b"0123456789abcdef0123456789abcdef", settings())
    }

    fn b64(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn issued_tokens_verify_to_the_same_principal() {
        let service = service();
        let token = service.issue(&alice()).unwrap();
        assert_eq!(service.verify(&token).unwrap(), alice());
    }

    #[test]
    fn expired_and_future_tokens_are_refused() {
        let service = service();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let old = service.issue_at(&alice(), now - 3600).unwrap();
        assert_eq!(service.verify(&old), Err(AuthError::Expired));
        let future = service.issue_at(&alice(), now + 3600).unwrap();
        assert!(matches!(
            service.verify(&future),
            Err(AuthError::Invalid(_))
        ));
        // Inside the leeway is fine.
        let skewed = service.issue_at(&alice(), now + 2).unwrap();
        assert!(service.verify(&skewed).is_ok());
    }

    #[test]
    fn expiry_is_reported_and_judged_with_the_leeway() {
        let service = service();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let (_, exp) = service
            .verify_expiring(&service.issue_at(&alice(), now).unwrap())
            .unwrap();
        assert_eq!(exp, now + 600);
        assert!(!service.has_expired(exp));
        assert!(!service.has_expired(now - 3), "inside the 5 s leeway");
        assert!(service.has_expired(now - 10));
    }

    #[test]
    fn wrong_key_issuer_audience_are_refused() {
        let token = service().issue(&alice()).unwrap();
        let other_key = TokenService::hs256(b"another-secret-another-secret-xx", settings());
        assert_eq!(
            other_key.verify(&token),
            Err(AuthError::Invalid("bad signature"))
        );
        let other_iss = TokenService::hs256(
            b"0123456789abcdef0123456789abcdef",
            TokenSettings {
                issuer: "someone-else".into(),
                ..settings()
            },
        );
        assert_eq!(
            other_iss.verify(&token),
            Err(AuthError::Invalid("wrong issuer"))
        );
        let other_aud = TokenService::hs256(
            b"0123456789abcdef0123456789abcdef",
            TokenSettings {
                audience: "other-api".into(),
                ..settings()
            },
        );
        assert_eq!(
            other_aud.verify(&token),
            Err(AuthError::Invalid("wrong audience"))
        );
    }

    #[test]
    fn tampered_payload_and_alg_none_are_refused() {
        let service = service();
        let token = service.issue(&alice()).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        // Promote ourselves to admin, keep the signature.
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let forged = format!(
            r#"{{"sub":"alice","role":"admin","tier":"pro","iss":"optionhub","aud":"optionhub-api","iat":{now},"nbf":{now},"exp":{}}}"#,
            now + 600
        );
        let tampered = format!("{}.{}.{}", parts[0], b64(forged.as_bytes()), parts[2]);
        assert_eq!(
            service.verify(&tampered),
            Err(AuthError::Invalid("bad signature"))
        );
        let none_header = b64(br#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{none_header}.{}.", b64(forged.as_bytes()));
        assert!(matches!(
            service.verify(&unsigned),
            Err(AuthError::Invalid(_))
        ));
        assert!(service.verify("not.a.jwt").is_err());
        assert_eq!(service.verify(""), Err(AuthError::Missing));
    }
}
