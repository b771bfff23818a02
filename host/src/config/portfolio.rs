//! Configuration of saved strategies: how often the M2M worker values them, and the key
//! that seals broker credentials.

use std::time::Duration;

/// Strategies, M2M and accounts.
#[derive(Clone)]
pub struct PortfolioConfig {
    /// Time between M2M valuations of every open strategy.
    pub m2m_interval: Duration,
    /// 64 hex digits: the ChaCha20-Poly1305 key sealing broker credentials. `None`: a
    /// generated development key, or (production) no credentials accepted.
    pub credentials_key: Option<String>,
}

impl Default for PortfolioConfig {
    fn default() -> Self {
        Self {
            m2m_interval: Duration::from_secs(5),
            credentials_key: None,
        }
    }
}

impl std::fmt::Debug for PortfolioConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortfolioConfig")
            .field("m2m_interval", &self.m2m_interval)
            .field(
                "credentials_key",
                &self.credentials_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}
