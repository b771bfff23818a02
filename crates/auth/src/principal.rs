//! The caller as the API sees it: a user name, a role (what they may do) and a tier
//! (how much of it).

use serde::{Deserialize, Serialize};

/// Roles are ordered: each includes everything the ones before it may do.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Market data and analytics.
    Viewer,
    /// Plus strategies.
    Trader,
    /// Plus plugin administration.
    Admin,
}

/// Service level: rate limits and WebSocket subscription caps depend on it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Free,
    Pro,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Trader => "trader",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Role::Viewer, Role::Trader, Role::Admin]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Free => "free",
            Tier::Pro => "pro",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Tier::Free, Tier::Pro]
            .into_iter()
            .find(|t| t.as_str() == text)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Principal {
    pub user: String,
    pub role: Role,
    pub tier: Tier,
}

impl Principal {
    pub fn may(&self, needed: Role) -> bool {
        self.role >= needed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_ones_below() {
        let trader = Principal {
            user: "t".into(),
            role: Role::Trader,
            tier: Tier::Free,
        };
        assert!(trader.may(Role::Viewer));
        assert!(trader.may(Role::Trader));
        assert!(!trader.may(Role::Admin));
    }

    #[test]
    fn names_round_trip() {
        for role in [Role::Viewer, Role::Trader, Role::Admin] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        for tier in [Tier::Free, Tier::Pro] {
            assert_eq!(Tier::parse(tier.as_str()), Some(tier));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
