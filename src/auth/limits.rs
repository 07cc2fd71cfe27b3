//! Token-bucket rate limits (governor's GCRA), per IP for anonymous callers
//! and per key otherwise, plus a stricter bucket for public submissions
//! (problem reports, claims, suggestions). Buckets refill continuously: a
//! quota of 60 a minute allows a burst of 60, then one a second. Time comes
//! from the app clock, so tests can move it on instead of sleeping.

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use uuid::Uuid;

use super::Caller;
use crate::clock::Clock;
use crate::model::enums::Role;

/// Requests allowed, from settings.
#[derive(Debug, Clone, Copy)]
pub struct RateSettings {
    pub anonymous_per_minute: u32,
    pub client_per_minute: u32,
    pub key_per_minute: u32,
    pub submissions_per_hour: u32,
}

/// The app clock as governor's time source: nanoseconds since the epoch.
#[derive(Clone)]
struct AppClock(Arc<dyn Clock>);

impl GovernorClock for AppClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let nanos = self.0.now().timestamp_nanos_opt().unwrap_or(0).max(0);
        Nanos::from(nanos as u64)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    Ip(IpAddr),
    Key(Uuid),
}

type Limiter = RateLimiter<Who, HashMapStateStore<Who>, AppClock, NoOpMiddleware<Nanos>>;

/// Which allowance a request draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Requests,
    Submissions,
}

/// Over the limit: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds for the `Retry-After` header (at least 1).
    pub fn seconds(self) -> u64 {
        (self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0)).max(1)
    }
}

pub struct RateLimits {
    clock: AppClock,
    anonymous: Limiter,
    client: Limiter,
    key: Limiter,
    submissions: Limiter,
    checks: AtomicU64,
}

/// Forget idle buckets every so many checks, so memory stays bounded.
const SWEEP_EVERY: u64 = 8192;

fn per(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

impl RateLimits {
    pub fn new(settings: RateSettings, clock: Arc<dyn Clock>) -> Self {
        let clock = AppClock(clock);
        let limiter = |quota| Limiter::hashmap_with_clock(quota, clock.clone());
        RateLimits {
            anonymous: limiter(Quota::per_minute(per(settings.anonymous_per_minute))),
            client: limiter(Quota::per_minute(per(settings.client_per_minute))),
            key: limiter(Quota::per_minute(per(settings.key_per_minute))),
            submissions: limiter(Quota::per_hour(per(settings.submissions_per_hour))),
            checks: AtomicU64::new(0),
            clock,
        }
    }

    /// Takes one token from the caller's bucket.
    pub fn check(&self, caller: &Caller, bucket: Bucket) -> Result<(), RetryAfter> {
        let (limiter, who) = match (bucket, caller) {
            (Bucket::Submissions, Caller::Anonymous { ip }) => (&self.submissions, ip_of(*ip)),
            (Bucket::Submissions, Caller::Key(key)) => (&self.submissions, Who::Key(key.id)),
            (Bucket::Requests, Caller::Anonymous { ip }) => (&self.anonymous, ip_of(*ip)),
            (Bucket::Requests, Caller::Key(key)) if key.role == Role::Client => {
                (&self.client, Who::Key(key.id))
            }
            (Bucket::Requests, Caller::Key(key)) => (&self.key, Who::Key(key.id)),
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            for l in [&self.anonymous, &self.client, &self.key, &self.submissions] {
                l.retain_recent();
            }
        }
        limiter
            .check_key(&who)
            .map_err(|not_until| RetryAfter(not_until.wait_time_from(self.clock.now())))
    }
}

fn ip_of(ip: Option<IpAddr>) -> Who {
    Who::Ip(ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::KeyHolder;
    use crate::clock::FixedClock;
    use chrono::TimeZone;

    fn limits(clock: &FixedClock) -> RateLimits {
        RateLimits::new(
            RateSettings {
                anonymous_per_minute: 3,
                client_per_minute: 10,
                key_per_minute: 5,
                submissions_per_hour: 2,
            },
            Arc::new(clock.clone()),
        )
    }

    fn anon(last: u8) -> Caller {
        Caller::Anonymous {
            ip: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))),
        }
    }

    #[test]
    fn anonymous_bucket_empties_per_ip_and_refills_with_time() {
        let clock = FixedClock::at(chrono::Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap());
        let limits = limits(&clock);
        for _ in 0..3 {
            assert!(limits.check(&anon(1), Bucket::Requests).is_ok());
        }
        let retry = limits.check(&anon(1), Bucket::Requests).unwrap_err();
        assert_eq!(retry.seconds(), 20, "one token every 20 s at 3/minute");
        assert!(
            limits.check(&anon(2), Bucket::Requests).is_ok(),
            "other IPs unaffected"
        );
        clock.advance(chrono::Duration::seconds(20));
        assert!(limits.check(&anon(1), Bucket::Requests).is_ok());
        assert!(limits.check(&anon(1), Bucket::Requests).is_err());
    }

    #[test]
    fn keys_have_their_own_buckets_and_clients_more() {
        let clock = FixedClock::at(chrono::Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap());
        let limits = limits(&clock);
        let key = |role| {
            Caller::Key(KeyHolder {
                id: Uuid::new_v4(),
                prefix: String::new(),
                role,
                organisations: vec![],
            })
        };
        let client = key(Role::Client);
        let editor = key(Role::Editor);
        assert_eq!(
            (0..20)
                .filter(|_| limits.check(&client, Bucket::Requests).is_ok())
                .count(),
            10
        );
        assert_eq!(
            (0..20)
                .filter(|_| limits.check(&editor, Bucket::Requests).is_ok())
                .count(),
            5
        );
        assert_eq!(
            (0..5)
                .filter(|_| limits.check(&anon(9), Bucket::Submissions).is_ok())
                .count(),
            2,
            "submissions are stricter"
        );
        assert!(
            limits.check(&anon(9), Bucket::Requests).is_ok(),
            "separate from requests"
        );
    }
}
