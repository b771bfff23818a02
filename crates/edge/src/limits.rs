//! How often callers may call the APIs (rate limits, per tier and per route) and
//! through which proxies (whose `X-Forwarded-For` is believed).

/// A request budget: `per_minute` requests, replenished evenly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierLimits {
    pub free_per_minute: u32,
    pub pro_per_minute: u32,
}

/// Rate limits per tier, with per-route overrides; login budgets; WebSocket channel and
/// connection caps; how many password hashes run at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    pub default: TierLimits,
    /// Path prefix → limits; the longest matching prefix wins.
    pub routes: Vec<(String, TierLimits)>,
    /// Login attempts per minute per client address.
    pub login_per_minute: u32,
    /// Channels one WebSocket connection may hold, per tier.
    pub ws_channels_free: usize,
    pub ws_channels_pro: usize,
    /// Login attempts per minute per user name, from any address: guessing one
    /// account's password from many addresses is as slow as from one.
    pub login_per_user_per_minute: u32,
    /// WebSocket connections one user may hold at once, per tier.
    pub ws_connections_free: usize,
    pub ws_connections_pro: usize,
    /// Password hashes (argon2, deliberately slow) computed at once; more logins wait.
    /// 0: one per core. Bounds what a login flood takes from the blocking threads and
    /// cores plugin calls need.
    pub password_hash_concurrency: usize,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            default: TierLimits {
                free_per_minute: 100,
                pro_per_minute: 1_000,
            },
            routes: Vec::new(),
            login_per_minute: 10,
            ws_channels_free: 20,
            ws_channels_pro: 200,
            login_per_user_per_minute: 10,
            ws_connections_free: 5,
            ws_connections_pro: 50,
            password_hash_concurrency: 0,
        }
    }
}

impl RateLimitConfig {
    /// [`Self::password_hash_concurrency`] with 0 resolved to the number of cores.
    pub fn password_hash_slots(&self) -> usize {
        match self.password_hash_concurrency {
            0 => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            n => n,
        }
    }
}

/// The addresses of the reverse proxies (load balancers) in front of the server, as
/// CIDR blocks. Only a request arriving from one of them has its `X-Forwarded-For`
/// believed: from anyone else the header is whatever the caller chose to write, and
/// believing it would let a caller pick the address its login budget is keyed by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<ipnet::IpNet>);

impl TrustedProxies {
    /// Parses `CIDR,...` (a bare address is a /32 or /128); empty trusts nobody.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<ipnet::IpNet>()
                    .or_else(|_| part.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        format!("{part:?} is not a CIDR block (e.g. 10.0.0.0/8) or an address")
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Whether `address` is one of the proxies.
    pub fn contains(&self, address: std::net::IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|net| net.contains(&address))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Parses per-route overrides: `PREFIX=FREE:PRO[,PREFIX=FREE:PRO…]`, e.g.
/// `/fo=60:600,/api/v2/analytics=30:300`.
pub fn parse_route_limits(text: &str) -> Result<Vec<(String, TierLimits)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let bad = || format!("{part:?} is not PREFIX=FREE:PRO (e.g. /fo=60:600)");
            let (prefix, limits) = part.split_once('=').ok_or_else(bad)?;
            let (free, pro) = limits.split_once(':').ok_or_else(bad)?;
            let free: u32 = free.trim().parse().map_err(|_| bad())?;
            let pro: u32 = pro.trim().parse().map_err(|_| bad())?;
            if !prefix.starts_with('/') || free == 0 || pro == 0 {
                return Err(bad());
            }
            Ok((
                prefix.trim().to_string(),
                TierLimits {
                    free_per_minute: free,
                    pro_per_minute: pro,
                },
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_limits_parse_and_refuse_garbage() {
        let parsed = parse_route_limits("/fo=60:600, /api/v2/analytics=30:300").unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].0, "/api/v2/analytics");
        assert_eq!(parsed[1].1.pro_per_minute, 300);
        assert!(parse_route_limits("fo=1:2").is_err());
        assert!(parse_route_limits("/fo=1").is_err());
        assert!(parse_route_limits("/fo=0:2").is_err());
        assert!(parse_route_limits("").unwrap().is_empty());
    }

    #[test]
    fn trusted_proxies_parse_blocks_and_bare_addresses() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.168.1.7 ,::1").unwrap();
        assert!(proxies.contains("10.200.3.4".parse().unwrap()));
        assert!(proxies.contains("192.168.1.7".parse().unwrap()));
        assert!(!proxies.contains("192.168.1.8".parse().unwrap()));
        assert!(proxies.contains("::1".parse().unwrap()));
        // An IPv4 peer seen through a dual-stack socket is still itself.
        assert!(proxies.contains("::ffff:10.1.1.1".parse().unwrap()));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
    }
}
