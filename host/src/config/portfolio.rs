//! Configuration of saved strategies: how often the M2M worker values them, and the key
//! that seals broker credentials.
//!
//! Also what one user may cost the server: per-user quotas on saved strategies and
//! accounts (each saved strategy is valued every cycle and grows M2M history, so an
//! unbounded count is an unbounded bill), and how long M2M history is kept.

use std::time::Duration;

/// Strategies, M2M and accounts.
#[derive(Clone)]
pub struct PortfolioConfig {
    /// Time between M2M valuations of every open strategy.
    pub m2m_interval: Duration,
    /// 64 hex digits: the ChaCha20-Poly1305 key sealing broker credentials. `None`: a
    /// generated development key, or (production) no credentials accepted.
    pub credentials_key: Option<String>,
    /// Per-user caps on saved strategies and accounts.
    pub quotas: Quotas,
    /// M2M points older than this are deleted (hourly).
    pub m2m_retention: Duration,
    /// M2M points older than this are thinned to one per [`Self::m2m_downsample_bucket`];
    /// `None` keeps every point until the retention.
    pub m2m_downsample_after: Option<Duration>,
    /// The bucket downsampled points keep one point (the last) of.
    pub m2m_downsample_bucket: Duration,
}

/// How many saved strategies and accounts one user may hold. A create past the quota is
/// refused (403 `quota_exceeded`); what the user already has is never deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    pub strategies_free: u32,
    pub strategies_pro: u32,
    pub accounts: u32,
}

impl Quotas {
    /// The saved-strategy quota of a tier.
    pub fn strategies(&self, tier: crate::auth::Tier) -> u32 {
        match tier {
            crate::auth::Tier::Free => self.strategies_free,
            crate::auth::Tier::Pro => self.strategies_pro,
        }
    }
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            strategies_free: 50,
            strategies_pro: 1_000,
            accounts: 10,
        }
    }
}

impl Default for PortfolioConfig {
    fn default() -> Self {
        Self {
            m2m_interval: Duration::from_secs(5),
            credentials_key: None,
            quotas: Quotas::default(),
            m2m_retention: Duration::from_secs(90 * 24 * 3600),
            m2m_downsample_after: Some(Duration::from_secs(7 * 24 * 3600)),
            m2m_downsample_bucket: Duration::from_secs(300),
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
            .field("quotas", &self.quotas)
            .field("m2m_retention", &self.m2m_retention)
            .field("m2m_downsample_after", &self.m2m_downsample_after)
            .field("m2m_downsample_bucket", &self.m2m_downsample_bucket)
            .finish()
    }
}
