//! How access tokens are signed, checked and issued, and the run mode that decides how
//! strict that is.

use std::path::PathBuf;
use std::time::Duration;

/// Development relaxes what production insists on (a real JWT secret); nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RunMode {
    Development,
    Production,
}

/// Where the keys that sign and check access tokens come from.
#[derive(Clone, PartialEq, Eq)]
pub enum JwtKeys {
    /// HS256 with a shared secret. `None`: refused in production; in development a random
    /// secret is generated once and kept in the data directory (with a loud warning), so
    /// that `optionhub user token` and the server agree.
    Hs256 { secret: Option<String> },
    /// RS256: the public key checks tokens; with the private key the server also issues
    /// them (login). Without it, tokens come from elsewhere and login answers 503.
    Rs256 {
        public_pem: PathBuf,
        private_pem: Option<PathBuf>,
    },
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JwtKeys::Hs256 { secret } => f
                .debug_struct("Hs256")
                .field("secret", &secret.as_ref().map(|_| "<redacted>"))
                .finish(),
            JwtKeys::Rs256 {
                public_pem,
                private_pem,
            } => f
                .debug_struct("Rs256")
                .field("public_pem", public_pem)
                .field("private_pem", private_pem)
                .finish(),
        }
    }
}

/// Access tokens: keys, claims checked, lifetime.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub mode: RunMode,
    pub keys: JwtKeys,
    pub issuer: String,
    pub audience: String,
    /// Lifetime of an issued access token.
    pub token_ttl: Duration,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
    /// In development, make sure this user exists (admin, pro) and print a token for it at
    /// start, so `make run` hands out a working token.
    pub dev_user: Option<String>,
    /// Market-data routes and `/ws/live` chain channels answer without a token (rate
    /// limited by client address); strategies, accounts and admin still need one.
    pub public_market_data: bool,
}

impl AuthConfig {
    /// The minimum HS256 secret length production accepts (bytes).
    pub const MIN_SECRET_BYTES: usize = 32;

    /// Development defaults with a given secret (tests, tools).
    pub fn development(secret: Option<String>) -> Self {
        Self {
            mode: RunMode::Development,
            keys: JwtKeys::Hs256 { secret },
            issuer: "optionhub".into(),
            audience: "optionhub-api".into(),
            token_ttl: Duration::from_secs(12 * 3600),
            leeway: Duration::from_secs(30),
            dev_user: None,
            public_market_data: false,
        }
    }
}
