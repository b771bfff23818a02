//! A connection's budget of client messages. Every message a client sends costs the
//! server a parse and, for a subscribe, channel lookups and perhaps database reads; a
//! client that sends them as fast as it can would take a core. Each connection gets a
//! token bucket (on average `client_messages_per_sec`, `client_message_burst` at once).
//!
//! A message over the budget is answered with a `rate_limited` error and not acted on.
//! Refusals have a budget of their own, refilled once a second: a client that collects
//! `client_message_burst` refusals faster than that is not slipping over the line now
//! and then but ignoring the errors, and is closed with 1008 (policy violation).

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::config::WsConfig;

/// What to do with one client message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    Accept,
    /// Answer with a `rate_limited` error; do not act on it.
    Refuse,
    /// Close the connection (1008).
    Close,
}

/// One connection's message budget.
pub(super) struct MessageBudget {
    messages: DefaultDirectRateLimiter,
    refusals: DefaultDirectRateLimiter,
}

impl std::fmt::Debug for MessageBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageBudget").finish_non_exhaustive()
    }
}

impl MessageBudget {
    pub(super) fn new(config: &WsConfig) -> Self {
        let rate = NonZeroU32::new(config.client_messages_per_sec).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.client_message_burst).unwrap_or(NonZeroU32::MIN);
        Self {
            messages: RateLimiter::direct(Quota::per_second(rate).allow_burst(burst)),
            refusals: RateLimiter::direct(Quota::per_second(NonZeroU32::MIN).allow_burst(burst)),
        }
    }

    /// Spends one message.
    pub(super) fn spend(&self) -> Verdict {
        if self.messages.check().is_ok() {
            Verdict::Accept
        } else if self.refusals.check().is_ok() {
            Verdict::Refuse
        } else {
            Verdict::Close
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_refusals_then_a_close() {
        let config = WsConfig {
            client_messages_per_sec: 1,
            client_message_burst: 3,
            ..WsConfig::default()
        };
        let budget = MessageBudget::new(&config);
        let verdicts: Vec<Verdict> = (0..7).map(|_| budget.spend()).collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Accept,
                Verdict::Accept,
                Verdict::Accept,
                Verdict::Refuse,
                Verdict::Refuse,
                Verdict::Refuse,
                Verdict::Close,
            ]
        );
    }
}
