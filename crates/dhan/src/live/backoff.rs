//! Reconnect delays: exponential with jitter, so that many clients (or our own five
//! connections) dropped at once do not come back in lockstep.

use std::time::Duration;

use rand::Rng;

/// Exponential backoff: `initial · 2^attempt`, capped at `max`, each delay scaled by a
/// random factor in [0.8, 1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    /// Dhan answers a fast reconnect with HTTP 429; field reports settle on a floor of
    /// about 5 s (reference `dhanhq.md` §10.3).
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(5),
            max: Duration::from_secs(120),
        }
    }
}

impl Backoff {
    /// The delay before reconnect attempt `attempt` (0 for the first retry).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(16));
        let base = self.initial.saturating_mul(factor).min(self.max);
        base.mul_f64(rand::rng().random_range(0.8..1.2))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Backoff;

    #[test]
    fn grows_exponentially_up_to_the_cap_with_jitter() {
        let backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
        };
        for _ in 0..50 {
            let first = backoff.delay(0);
            assert!(first >= Duration::from_millis(80) && first < Duration::from_millis(120));
            let third = backoff.delay(2);
            assert!(third >= Duration::from_millis(320) && third < Duration::from_millis(480));
            let late = backoff.delay(40);
            assert!(late >= Duration::from_millis(1600) && late < Duration::from_millis(2400));
        }
    }
}
