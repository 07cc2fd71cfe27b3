//! When to try a failed delivery again. Only computes times: the app keeps
//! deliveries in its outbox with `next_attempt_at`, and its background job
//! picks up due rows, so nothing here sleeps.

use chrono::{DateTime, Utc};

/// Exponential backoff without jitter: `base * factor^(n-1)` after the n-th
/// attempt, capped at `max_delay`. No jitter keeps schedules predictable and
/// testable; deliveries are few and spread over organisations' endpoints, so
/// synchronised retries against one receiver are not a concern here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included.
    pub max_attempts: u32,
    pub base: chrono::Duration,
    pub factor: u32,
    pub max_delay: chrono::Duration,
}

impl Default for RetryPolicy {
    /// 6 attempts over about 2 h 50 min: waits of 30 s, 2 min, 8 min,
    /// 32 min and 2 h 8 min.
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base: chrono::Duration::seconds(30),
            factor: 4,
            max_delay: chrono::Duration::hours(6),
        }
    }
}

impl RetryPolicy {
    /// When the next attempt is due, given how many attempts were made and
    /// when the last one was; `None` once `max_attempts` are used up. With no
    /// attempt yet it is due at once (`last_at` is then taken as "now").
    pub fn next_attempt_at(
        &self,
        attempts_so_far: u32,
        last_at: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if attempts_so_far >= self.max_attempts {
            return None;
        }
        last_at.checked_add_signed(self.delay_after(attempts_so_far))
    }

    /// Like `next_attempt_at`, but no sooner than the receiver asked
    /// (`Retry-After`), up to `max_delay`: a receiver shedding load gets
    /// the pause it wants without one header postponing retries for days.
    pub fn next_attempt_honouring(
        &self,
        attempts_so_far: u32,
        last_at: DateTime<Utc>,
        asked: Option<std::time::Duration>,
    ) -> Option<DateTime<Utc>> {
        let ours = self.next_attempt_at(attempts_so_far, last_at)?;
        let asked = asked
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| d.min(self.max_delay))
            .and_then(|d| last_at.checked_add_signed(d));
        Some(asked.map_or(ours, |theirs| ours.max(theirs)))
    }

    /// The wait after the `attempts_so_far`-th attempt (zero before the first).
    pub fn delay_after(&self, attempts_so_far: u32) -> chrono::Duration {
        let Some(exponent) = attempts_so_far.checked_sub(1) else {
            return chrono::Duration::zero();
        };
        let cap = self.max_delay.num_milliseconds().max(0);
        let base = self.base.num_milliseconds().max(0);
        // Anything that overflows is far past the cap anyway.
        let millis = u64::from(self.factor)
            .checked_pow(exponent)
            .and_then(|m| i64::try_from(m).ok())
            .and_then(|m| base.checked_mul(m))
            .map_or(cap, |ms| ms.min(cap));
        chrono::Duration::milliseconds(millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn retry_after_postpones_up_to_the_cap_but_never_hastens() {
        let policy = RetryPolicy::default();
        let at = |asked: Option<u64>| {
            policy
                .next_attempt_honouring(1, t0(), asked.map(std::time::Duration::from_secs))
                .map(|at| at - t0())
        };
        assert_eq!(at(None), Some(Duration::seconds(30)));
        assert_eq!(at(Some(5)), Some(Duration::seconds(30)), "never sooner");
        assert_eq!(at(Some(600)), Some(Duration::minutes(10)));
        assert_eq!(at(Some(7 * 24 * 3600)), Some(Duration::hours(6)), "capped");
        assert_eq!(
            policy.next_attempt_honouring(6, t0(), Some(std::time::Duration::from_secs(60))),
            None,
            "attempts used up"
        );
    }

    #[test]
    fn default_schedule() {
        let policy = RetryPolicy::default();
        let waits: Vec<Option<Duration>> = (1..=6)
            .map(|n| policy.next_attempt_at(n, t0()).map(|at| at - t0()))
            .collect();
        assert_eq!(
            waits,
            vec![
                Some(Duration::seconds(30)),
                Some(Duration::minutes(2)),
                Some(Duration::minutes(8)),
                Some(Duration::minutes(32)),
                Some(Duration::hours(2) + Duration::minutes(8)),
                None,
            ]
        );
        assert_eq!(policy.next_attempt_at(0, t0()), Some(t0()));
        assert_eq!(policy.next_attempt_at(7, t0()), None);
    }

    #[test]
    fn delays_are_capped_and_never_overflow() {
        let policy = RetryPolicy {
            max_attempts: u32::MAX,
            ..RetryPolicy::default()
        };
        // 30 s * 4^5 = 8 h 32 min, over the 6 h cap.
        assert_eq!(policy.delay_after(6), Duration::hours(6));
        assert_eq!(policy.delay_after(1_000), Duration::hours(6));
        assert_eq!(
            policy.next_attempt_at(u32::MAX - 1, t0()),
            Some(t0() + Duration::hours(6))
        );
    }
}
