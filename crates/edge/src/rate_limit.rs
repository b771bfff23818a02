//! Request budgets: governor token buckets keyed by user (by client address when
//! anonymous), sized by tier, with per-route overrides; login has two strict budgets of
//! its own, one keyed by the client address and one by the user name tried, so that
//! neither many names from one address nor one name from many addresses gets far. The
//! same struct holds the other per-caller bounds: WebSocket channels and connections by
//! tier, and how many password hashes run at once.
//!
//! Every answer carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
//! `X-RateLimit-Reset` (seconds until the bucket is full again); a refusal is a 429 with
//! `Retry-After` and the JSON error.

use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::limits::{RateLimitConfig, TierLimits};
use auth::{PasswordChecks, Tier};

type KeyedLimiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// One bucket size, for every key.
struct Bucket {
    per_minute: u32,
    limiter: KeyedLimiter,
}

impl Bucket {
    fn new(per_minute: u32) -> Self {
        let per_minute = per_minute.max(1);
        let quota = Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN));
        Self {
            per_minute,
            limiter: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
        }
    }

    /// Time to earn back one request.
    fn interval(&self) -> Duration {
        Duration::from_secs(60) / self.per_minute
    }

    fn check(&self, key: &str) -> Decision {
        match self.limiter.check_key(&key.to_string()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let used = self.per_minute.saturating_sub(remaining);
                Decision {
                    allowed: true,
                    limit: self.per_minute,
                    remaining,
                    reset_secs: (self.interval() * used).as_secs_f64().ceil() as u64,
                    retry_after_secs: 0,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                let retry = wait.as_secs_f64().ceil().max(1.0) as u64;
                Decision {
                    allowed: false,
                    limit: self.per_minute,
                    remaining: 0,
                    reset_secs: (self.interval() * self.per_minute).as_secs_f64().ceil() as u64,
                    retry_after_secs: retry,
                }
            }
        }
    }
}

/// The outcome of one check, with what the headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    pub reset_secs: u64,
    pub retry_after_secs: u64,
}

impl Decision {
    /// Adds the `X-RateLimit-*` headers.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("x-ratelimit-reset", HeaderValue::from(self.reset_secs));
    }
}

struct RouteClass {
    prefix: String,
    free: Bucket,
    pro: Bucket,
}

/// All request budgets of the server.
pub struct RateLimits {
    /// Longest prefix first, so the first match is the most specific.
    routes: Vec<RouteClass>,
    default: RouteClass,
    login: Bucket,
    login_user: Bucket,
    ws_channels_free: usize,
    ws_channels_pro: usize,
    ws_connections_free: usize,
    ws_connections_pro: usize,
    password_checks: PasswordChecks,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("routes", &self.routes.len())
            .field("login_per_minute", &self.login.per_minute)
            .finish_non_exhaustive()
    }
}

impl RateLimits {
    pub fn new(config: &RateLimitConfig) -> Self {
        let class = |prefix: &str, limits: TierLimits| RouteClass {
            prefix: prefix.to_string(),
            free: Bucket::new(limits.free_per_minute),
            pro: Bucket::new(limits.pro_per_minute),
        };
        let mut routes: Vec<RouteClass> = config
            .routes
            .iter()
            .map(|(prefix, limits)| class(prefix, *limits))
            .collect();
        routes.sort_by_key(|class| std::cmp::Reverse(class.prefix.len()));
        Self {
            routes,
            default: class("/", config.default),
            login: Bucket::new(config.login_per_minute),
            login_user: Bucket::new(config.login_per_user_per_minute),
            ws_channels_free: config.ws_channels_free,
            ws_channels_pro: config.ws_channels_pro,
            ws_connections_free: config.ws_connections_free,
            ws_connections_pro: config.ws_connections_pro,
            password_checks: PasswordChecks::new(config.password_hash_slots()),
        }
    }

    /// Checks one request to `path` by `key` (a user, or an address) of `tier`. Routes
    /// with an override have buckets of their own; the rest share the default bucket.
    pub fn check(&self, path: &str, key: &str, tier: Tier) -> Decision {
        let class = self
            .routes
            .iter()
            .find(|c| path.starts_with(&c.prefix))
            .unwrap_or(&self.default);
        match tier {
            Tier::Free => class.free.check(key),
            Tier::Pro => class.pro.check(key),
        }
    }

    /// Checks one login attempt from `address`.
    pub fn check_login(&self, address: &str) -> Decision {
        self.login.check(address)
    }

    /// Checks one login attempt for the user name `username`, whatever the address.
    /// The key is bounded (a name longer than any user's cannot be one), so a caller
    /// cannot make the limiter keep megabytes of names.
    pub fn check_login_user(&self, username: &str) -> Decision {
        const KEY_CHARS: usize = 128;
        let key = match username.char_indices().nth(KEY_CHARS) {
            Some((end, _)) => &username[..end],
            None => username,
        };
        self.login_user.check(key)
    }

    /// How many WebSocket connections one user of `tier` may hold at once.
    pub fn ws_connections(&self, tier: Tier) -> usize {
        match tier {
            Tier::Free => self.ws_connections_free,
            Tier::Pro => self.ws_connections_pro,
        }
    }

    /// Where login checks passwords: a bounded number at once.
    pub fn password_checks(&self) -> &PasswordChecks {
        &self.password_checks
    }

    /// How many channels one WebSocket connection of `tier` may subscribe to.
    pub fn ws_channels(&self, tier: Tier) -> usize {
        match tier {
            Tier::Free => self.ws_channels_free,
            Tier::Pro => self.ws_channels_pro,
        }
    }

    /// Forgets keys whose buckets are full again, so memory follows active callers only.
    pub fn forget_idle(&self) {
        for class in self.routes.iter().chain(std::iter::once(&self.default)) {
            class.free.limiter.retain_recent();
            class.pro.limiter.retain_recent();
        }
        self.login.limiter.retain_recent();
        self.login_user.limiter.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RateLimitConfig {
        RateLimitConfig {
            default: TierLimits {
                free_per_minute: 3,
                pro_per_minute: 6,
            },
            routes: vec![(
                "/fo".into(),
                TierLimits {
                    free_per_minute: 1,
                    pro_per_minute: 2,
                },
            )],
            login_per_minute: 2,
            login_per_user_per_minute: 3,
            ..RateLimitConfig::default()
        }
    }

    #[test]
    fn budgets_are_per_key_and_per_tier() {
        let limits = RateLimits::new(&config());
        for remaining in (0..3).rev() {
            let d = limits.check("/api/v2/options/live", "alice", Tier::Free);
            assert!(d.allowed);
            assert_eq!((d.limit, d.remaining), (3, remaining));
        }
        let refused = limits.check("/api/v2/options/live", "alice", Tier::Free);
        assert!(!refused.allowed);
        assert!(refused.retry_after_secs >= 1 && refused.retry_after_secs <= 20);
        // Someone else is unaffected; pro has a bigger bucket.
        assert!(
            limits
                .check("/api/v2/options/live", "bob", Tier::Free)
                .allowed
        );
        assert_eq!(limits.check("/health", "carol", Tier::Pro).limit, 6);
    }

    #[test]
    fn route_overrides_have_their_own_buckets() {
        let limits = RateLimits::new(&config());
        assert!(limits.check("/fo/summary", "alice", Tier::Free).allowed);
        assert!(!limits.check("/fo/oi-change", "alice", Tier::Free).allowed);
        // The default bucket was not touched by the /fo requests.
        assert_eq!(limits.check("/status", "alice", Tier::Free).remaining, 2);
    }

    #[test]
    fn login_budget_is_separate() {
        let limits = RateLimits::new(&config());
        assert!(limits.check_login("10.0.0.1").allowed);
        assert!(limits.check_login("10.0.0.1").allowed);
        assert!(!limits.check_login("10.0.0.1").allowed);
        assert!(limits.check_login("10.0.0.2").allowed);
    }

    #[test]
    fn login_per_user_is_counted_apart_from_the_address() {
        let limits = RateLimits::new(&config());
        for _ in 0..3 {
            assert!(limits.check_login_user("vera").allowed);
        }
        assert!(!limits.check_login_user("vera").allowed);
        assert!(limits.check_login_user("bob").allowed);
        // The address budget was not touched.
        assert!(limits.check_login("10.0.0.1").allowed);
        // Long names share one key past the bound rather than growing the map.
        let long = "x".repeat(1000);
        for _ in 0..3 {
            assert!(limits.check_login_user(&long).allowed);
        }
        assert!(!limits.check_login_user(&"x".repeat(500)).allowed);
    }

    #[test]
    fn headers_are_written() {
        let limits = RateLimits::new(&config());
        let mut headers = HeaderMap::new();
        limits
            .check("/x", "k", Tier::Free)
            .write_headers(&mut headers);
        assert_eq!(headers["x-ratelimit-limit"], "3");
        assert_eq!(headers["x-ratelimit-remaining"], "2");
        assert_eq!(headers["x-ratelimit-reset"], "20");
    }
}
