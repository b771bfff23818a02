//! Command-line arguments of where market data comes from: DhanHQ, the built-in
//! simulator, or a recording.

use std::time::Duration;

use crate::config::{
    DhanCredentials, DhanEndpoints, ExpiryWeekdays, FeedConfig, FeedSourceConfig, OnDemandConfig,
    TierConfig,
};
use crate::feed::dhan::endpoint::{parse_feed_url, parse_http_url};
use crate::feed::record::ReplaySpeed;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use url::Url;

#[derive(Clone, Args)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, env = "OPTIONHUB_SIM_LISTEN", default_value = "127.0.0.1:8001")]
    pub listen: SocketAddr,
    /// Seed of the simulated market (same seed, same market).
    #[arg(long, env = "OPTIONHUB_SIM_SEED", default_value_t = 42)]
    pub seed: u64,
    /// Milliseconds between market ticks.
    #[arg(long, env = "OPTIONHUB_SIM_TICK_MS", default_value_t = 250)]
    pub tick_ms: u64,
    /// The client id clients must present.
    #[arg(long, env = "OPTIONHUB_SIM_CLIENT_ID", default_value = "SIMULATOR")]
    pub client_id: String,
    /// The access token clients must present.
    #[arg(
        long,
        env = "OPTIONHUB_SIM_ACCESS_TOKEN",
        default_value = "simulator-token"
    )]
    pub access_token: String,
    /// Stack several packets per WebSocket message (the official SDK expects one).
    #[arg(long, env = "OPTIONHUB_SIM_STACK")]
    pub stack: bool,
    /// Trade around the clock instead of 09:15-15:30 IST on NSE trading days.
    #[arg(long, env = "OPTIONHUB_SIM_ALWAYS_OPEN")]
    pub sim_always_open: bool,
    #[command(flatten)]
    pub expiries: SimExpiryArgs,
}

impl std::fmt::Debug for SimArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimArgs")
            .field("listen", &self.listen)
            .field("seed", &self.seed)
            .field("tick_ms", &self.tick_ms)
            .field("client_id", &self.client_id)
            .field("access_token", &"<redacted>")
            .field("stack", &self.stack)
            .field("sim_always_open", &self.sim_always_open)
            .field("expiries", &self.expiries)
            .finish()
    }
}

/// The simulator's expiry weekdays.
#[derive(Debug, Clone, Args)]
pub struct SimExpiryArgs {
    /// Weekday NSE index options expire on (weekly, and the month's last for monthly).
    #[arg(long, env = "OPTIONHUB_SIM_NSE_EXPIRY", default_value = "tuesday", value_parser = parse_weekday)]
    pub sim_nse_expiry: time::Weekday,
    /// Weekday BSE index options (SENSEX) expire on.
    #[arg(long, env = "OPTIONHUB_SIM_BSE_EXPIRY", default_value = "thursday", value_parser = parse_weekday)]
    pub sim_bse_expiry: time::Weekday,
}

impl SimExpiryArgs {
    pub(super) fn weekdays(&self) -> ExpiryWeekdays {
        ExpiryWeekdays {
            nse: self.sim_nse_expiry,
            bse: self.sim_bse_expiry,
        }
    }
}

/// `2026-11-24`.
fn parse_date(text: &str) -> Result<time::Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), &format)
        .map_err(|_| format!("{text:?} is not a date in YYYY-MM-DD form"))
}

/// `tue`, `Tuesday`, …
fn parse_weekday(text: &str) -> Result<time::Weekday, String> {
    use time::Weekday::{Friday, Monday, Saturday, Sunday, Thursday, Tuesday, Wednesday};
    let lower = text.trim().to_ascii_lowercase();
    [
        Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday,
    ]
    .into_iter()
    .find(|day| {
        let name = day.to_string().to_ascii_lowercase();
        lower.len() >= 3 && name.starts_with(&lower)
    })
    .ok_or_else(|| format!("{text:?} is not a weekday (mon, tue, … or monday, tuesday, …)"))
}

impl SimArgs {
    pub fn into_config(self) -> crate::feed::sim::SimConfig {
        let mut config = crate::feed::sim::SimConfig::new(
            self.seed,
            DhanCredentials::new(self.client_id, self.access_token),
        );
        config.tick = Duration::from_millis(self.tick_ms.max(1));
        config.stack_packets = self.stack;
        config.calendar = crate::calendar::MarketCalendar::new(
            crate::calendar::clock::system(),
            crate::calendar::SessionRules {
                always_open: self.sim_always_open,
                ..crate::calendar::SessionRules::default()
            },
        );
        let days = self.expiries.weekdays();
        config.universe = config.universe.with_expiry_weekdays(days.nse, days.bse);
        config
    }
}

/// Dhan credentials and addresses. With no credentials the server runs on its built-in
/// simulator.
#[derive(Clone, Args)]
pub struct DhanArgs {
    #[arg(long, env = "DHAN_CLIENT_ID", hide_env_values = true)]
    pub dhan_client_id: Option<String>,
    #[arg(long, env = "DHAN_ACCESS_TOKEN", hide_env_values = true)]
    pub dhan_access_token: Option<String>,
    /// The feed WebSocket (`ws://` or `wss://`); other query parameters are kept.
    #[arg(long, env = "DHAN_FEED_URL", default_value = crate::config::DEFAULT_DHAN_FEED_URL, value_parser = parse_feed_url)]
    pub dhan_feed_url: Url,
    /// The REST API (`http://` or `https://`); `/v2/…` is appended to its path.
    #[arg(long, env = "DHAN_API_URL", default_value = crate::config::DEFAULT_DHAN_API_URL, value_parser = parse_http_url)]
    pub dhan_api_url: Url,
    /// The detailed scrip master CSV (`http://` or `https://`).
    #[arg(
        long,
        env = "DHAN_SCRIP_MASTER_URL",
        default_value = crate::config::DEFAULT_DHAN_SCRIP_MASTER_URL,
        value_parser = parse_http_url
    )]
    pub dhan_scrip_master_url: Url,
}

impl std::fmt::Debug for DhanArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DhanArgs")
            .field("dhan_client_id", &self.dhan_client_id)
            .field(
                "dhan_access_token",
                &crate::config::redacted(self.dhan_access_token.as_ref()),
            )
            .field("dhan_feed_url", &self.dhan_feed_url.as_str())
            .field("dhan_api_url", &self.dhan_api_url.as_str())
            .field(
                "dhan_scrip_master_url",
                &self.dhan_scrip_master_url.as_str(),
            )
            .finish()
    }
}

/// Where the feed comes from and how it is shaped.
#[derive(Debug, Clone, Args)]
pub struct FeedArgs {
    /// Record every raw feed frame (with its arrival time) to this file.
    #[arg(long, env = "OPTIONHUB_RECORD", conflicts_with = "replay")]
    pub record: Option<PathBuf>,
    /// Use a recording as the feed instead of Dhan or the simulator.
    #[arg(long, env = "OPTIONHUB_REPLAY")]
    pub replay: Option<PathBuf>,
    /// Replay speed: a factor (1 = as recorded) or `max`.
    #[arg(long, env = "OPTIONHUB_REPLAY_SPEED", default_value = "1")]
    pub speed: ReplaySpeed,
    /// Seed of the built-in simulator.
    #[arg(long, env = "OPTIONHUB_SIM_SEED", default_value_t = 42)]
    pub sim_seed: u64,
    /// Milliseconds between the built-in simulator's ticks.
    #[arg(long, env = "OPTIONHUB_SIM_TICK_MS", default_value_t = 250)]
    pub sim_tick_ms: u64,
    #[command(flatten)]
    pub sim_expiries: SimExpiryArgs,
    /// The built-in simulator trades around the clock instead of 09:15-15:30 IST on
    /// NSE trading days (`make run` and the tests turn this on). No effect on Dhan.
    #[arg(long, env = "OPTIONHUB_SIM_ALWAYS_OPEN")]
    pub sim_always_open: bool,
    /// NSE trading holidays (YYYY-MM-DD, comma-separated), replacing the built-in 2026
    /// list; the market counts as closed on them.
    #[arg(long, env = "OPTIONHUB_NSE_HOLIDAYS", value_delimiter = ',', value_parser = parse_date)]
    pub nse_holidays: Option<Vec<time::Date>>,
    /// Chains asked for beyond the tier expiries: ATM ± this many strikes in Quote mode.
    #[arg(long, env = "OPTIONHUB_ON_DEMAND_STRIKES", default_value_t = 15)]
    pub on_demand_strikes: usize,
    /// An on-demand chain nobody asked for in this many seconds is unsubscribed.
    #[arg(long, env = "OPTIONHUB_ON_DEMAND_IDLE_SECS", default_value_t = 300)]
    pub on_demand_idle_secs: u64,
    /// Underlyings to track, comma-separated.
    #[arg(
        long,
        env = "OPTIONHUB_UNDERLYINGS",
        value_delimiter = ',',
        default_value = "NIFTY,BANKNIFTY,FINNIFTY,MIDCPNIFTY,SENSEX"
    )]
    pub underlyings: Vec<String>,
    /// Nearest expiries subscribed per underlying.
    #[arg(long, env = "OPTIONHUB_TIER_EXPIRIES", default_value_t = 2)]
    pub tier_expiries: usize,
    /// ATM ± this many strikes in Full mode (depth).
    #[arg(long, env = "OPTIONHUB_TIER_FULL", default_value_t = 5)]
    pub tier_full: usize,
    /// ATM ± this many strikes in Quote mode.
    #[arg(long, env = "OPTIONHUB_TIER_QUOTE", default_value_t = 15)]
    pub tier_quote: usize,
    /// ATM ± this many strikes subscribed in all (the rest in Ticker mode).
    #[arg(long, env = "OPTIONHUB_TIER_RANGE", default_value_t = 40)]
    pub tier_range: usize,
    /// Seconds without any feed message before the connection counts as stalled.
    #[arg(long, env = "OPTIONHUB_FEED_STALL_SECS", default_value_t = 30)]
    pub feed_stall_secs: u64,
    /// A chain's Greeks are recomputed at most once per this many milliseconds.
    #[arg(long, env = "OPTIONHUB_GREEKS_WINDOW_MS", default_value_t = 250)]
    pub greeks_window_ms: u64,
    /// Risk-free rate for the Greeks model (continuously compounded, decimal).
    #[arg(long, env = "OPTIONHUB_RISK_FREE_RATE", default_value_t = 0.065)]
    pub risk_free_rate: f64,
}

impl FeedArgs {
    /// Where market data comes from: a recording when asked to replay one, Dhan when it
    /// has credentials, the simulator otherwise.
    pub(super) fn source(&self, dhan: &DhanArgs) -> FeedSourceConfig {
        if let Some(file) = self.replay.clone() {
            FeedSourceConfig::Replay {
                file,
                speed_factor: match self.speed {
                    ReplaySpeed::Max => None,
                    ReplaySpeed::Factor(f) => Some(f),
                },
            }
        } else if let Some(credentials) = dhan.credentials() {
            FeedSourceConfig::Dhan {
                credentials,
                endpoints: Box::new(DhanEndpoints {
                    feed_url: dhan.dhan_feed_url.clone(),
                    api_url: dhan.dhan_api_url.clone(),
                    scrip_master_url: dhan.dhan_scrip_master_url.clone(),
                }),
            }
        } else {
            FeedSourceConfig::Simulator {
                seed: self.sim_seed,
                tick: Duration::from_millis(self.sim_tick_ms.max(1)),
                expiry_weekdays: self.sim_expiries.weekdays(),
            }
        }
    }

    /// The feed's configuration around `source`, with every count kept in range (at
    /// least one expiry; each tier at least as wide as the one inside it).
    pub(super) fn into_config(self, source: FeedSourceConfig) -> FeedConfig {
        let mut feed = FeedConfig::new(source);
        feed.record = self.record;
        feed.underlyings = self
            .underlyings
            .iter()
            .map(|u| u.trim().to_ascii_uppercase())
            .filter(|u| !u.is_empty())
            .collect();
        feed.tiers = TierConfig {
            expiries: self.tier_expiries.max(1),
            full_strikes: self.tier_full,
            quote_strikes: self.tier_quote.max(self.tier_full),
            range_strikes: self.tier_range.max(self.tier_quote),
        };
        feed.inactivity_timeout = Duration::from_secs(self.feed_stall_secs.max(1));
        feed.session.always_open =
            self.sim_always_open && matches!(feed.source, FeedSourceConfig::Simulator { .. });
        if let Some(holidays) = self.nse_holidays {
            feed.session.holidays = holidays.into_iter().collect();
        }
        feed.on_demand = OnDemandConfig {
            strikes: self.on_demand_strikes,
            idle: Duration::from_secs(self.on_demand_idle_secs.max(1)),
        };
        feed
    }
}

impl DhanArgs {
    pub(super) fn credentials(&self) -> Option<DhanCredentials> {
        match (&self.dhan_client_id, &self.dhan_access_token) {
            (Some(id), Some(token)) if !id.is_empty() && !token.is_empty() => {
                Some(DhanCredentials::new(id.clone(), token.clone()))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_date, parse_weekday};

    #[test]
    fn holidays_parse_as_dates() {
        assert_eq!(
            parse_date(" 2026-11-24"),
            Ok(time::macros::date!(2026 - 11 - 24))
        );
        assert!(parse_date("24/11/2026").is_err());
    }

    #[test]
    fn weekdays_parse_short_and_long() {
        assert_eq!(parse_weekday("tue"), Ok(time::Weekday::Tuesday));
        assert_eq!(parse_weekday("Thursday"), Ok(time::Weekday::Thursday));
        assert!(parse_weekday("t").is_err());
        assert!(parse_weekday("funday").is_err());
    }
}
