//! CPU time from `/proc` (Linux): of a process (the server's, or the generator's own)
//! and of the calling thread, so a run reports what the server spent per delivery
//! rather than how busy the shared machine was.
//!
//! `/proc/*/stat` counts in clock ticks of 1/100 s (`USER_HZ`, fixed at 100 in Linux's
//! `/proc` interface whatever the kernel's own tick), so a window should hold at least a
//! few seconds of CPU for the per-message figures to be good to a few percent. The
//! process figures include threads that have already exited.

use std::time::Duration;

/// Ticks per second in `/proc/*/stat`.
const USER_HZ: u64 = 100;

/// User and system CPU time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CpuTime {
    pub user: Duration,
    pub system: Duration,
}

impl CpuTime {
    /// Of process `pid`, every thread included.
    pub(crate) fn of_process(pid: u32) -> Option<Self> {
        parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }

    /// Of this process.
    pub(crate) fn of_self() -> Option<Self> {
        parse_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)
    }

    /// Of the calling thread.
    pub(crate) fn of_thread() -> Option<Self> {
        parse_stat(&std::fs::read_to_string("/proc/thread-self/stat").ok()?)
    }

    /// The time spent since `earlier`.
    pub(crate) fn since(self, earlier: Self) -> Self {
        Self {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }

    /// This time, less `baseline` scaled from its window to `window`: what was spent
    /// beyond a steady background rate.
    pub(crate) fn beyond(
        self,
        baseline: Self,
        baseline_window: Duration,
        window: Duration,
    ) -> Self {
        let scale = window.as_secs_f64() / baseline_window.as_secs_f64().max(1e-9);
        let less = |spent: Duration, idle: Duration| {
            spent.saturating_sub(Duration::from_secs_f64(idle.as_secs_f64() * scale))
        };
        Self {
            user: less(self.user, baseline.user),
            system: less(self.system, baseline.system),
        }
    }

    pub(crate) fn total(self) -> Duration {
        self.user + self.system
    }

    /// Microseconds of user, system and total CPU per event, for `events` events.
    pub(crate) fn micros_per(self, events: u64) -> (f64, f64, f64) {
        #[expect(clippy::cast_precision_loss, reason = "a rate for display")]
        let events = events.max(1) as f64;
        let per = |d: Duration| d.as_secs_f64() * 1e6 / events;
        (per(self.user), per(self.system), per(self.total()))
    }
}

impl std::ops::Add for CpuTime {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            user: self.user + other.user,
            system: self.system + other.system,
        }
    }
}

/// `utime` and `stime` (fields 14 and 15) of a `stat` line. The command name (field 2)
/// is in parentheses and may itself hold spaces and parentheses, so fields are counted
/// from the last `)`.
fn parse_stat(text: &str) -> Option<CpuTime> {
    let after = text.get(text.rfind(')')? + 1..)?;
    let mut fields = after.split_whitespace().skip(11);
    let ticks = |field: Option<&str>| -> Option<Duration> {
        let ticks: u64 = field?.parse().ok()?;
        Some(Duration::from_millis(ticks * 1000 / USER_HZ))
    };
    let user = ticks(fields.next())?;
    let system = ticks(fields.next())?;
    Some(CpuTime { user, system })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_and_system_ticks_are_read_past_an_awkward_command_name() {
        let line = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 2211 0 0 0 \
                    250 37 0 0 20 0 9 0 12345 1000 200 18446744073709551615";
        let cpu = parse_stat(line).unwrap();
        assert_eq!(cpu.user, Duration::from_millis(2_500));
        assert_eq!(cpu.system, Duration::from_millis(370));
        assert_eq!(cpu.micros_per(1_000), (2_500.0, 370.0, 2_870.0));
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn this_thread_and_process_have_cpu_time_that_grows() {
        // Spin until this thread has been charged 30 ms (on a busy machine that takes
        // longer than 30 ms of wall time, so the bound is generous).
        let before = CpuTime::of_thread().unwrap();
        let started = std::time::Instant::now();
        let mut x = 0_u64;
        let mut spent = CpuTime::default();
        while spent.total() < Duration::from_millis(30)
            && started.elapsed() < Duration::from_secs(30)
        {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
            spent = CpuTime::of_thread().unwrap().since(before);
        }
        assert!(spent.total() >= Duration::from_millis(30), "{spent:?}");
        // The process has spent at least what this thread has. The kernel rounds user
        // and system time down to whole ticks each, and splits the process's time
        // between them in its own proportion, so the process's sum can read one tick
        // under the thread's when little else ran.
        let tick = Duration::from_millis(1000 / USER_HZ);
        let process = CpuTime::of_self().unwrap().total();
        assert!(process + tick >= spent.total(), "{process:?} < {spent:?}");
        let pid = std::process::id();
        let by_pid = CpuTime::of_process(pid).unwrap().total();
        assert!(by_pid + tick >= spent.total(), "{by_pid:?} < {spent:?}");
    }
}
