//! Whether a listing can be trusted: its review age, its status and any
//! flags raised against it, summed up as one state users can act on.
//!
//! | state | when |
//! |---|---|
//! | `closed` | status is defunct, inactive or temporarily closed |
//! | `possibly_closed` | an open `possibly_closed` flag (independent reports) or `ended` flag (every schedule has passed its end date) |
//! | `overdue` | last verified more than review + grace days ago (or never, and created that long ago) |
//! | `due_for_review` | last verified more than review days ago, never verified, or an open `link_broken` / `reopened` flag |
//! | `fresh` | otherwise |

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::enums::{FlagKind, FreshnessState, ServiceStatus};

/// How long a verification lasts (see `Settings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewPolicy {
    pub review_days: i64,
    pub grace_days: i64,
}

/// An open flag on a listing: what, why, and the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Flag {
    pub id: Uuid,
    pub kind: FlagKind,
    /// One line, for people: "Website looks broken".
    pub reason: String,
    /// What was seen: "website returned 404 on 3 checks since 2026-11-02".
    pub evidence: String,
    pub raised_at: DateTime<Utc>,
    /// `system:link-checker`, `system:reports`, `system:schedules`, or a key.
    pub raised_by: String,
}

/// What the freshness of a listing is worked out from (kept with the search
/// index too, so results carry it without a database read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FreshnessFacts {
    pub status: ServiceStatus,
    pub last_verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub flags: Vec<Flag>,
    pub last_checked_at: Option<DateTime<Utc>>,
}

/// The `freshness` block of every service response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Freshness {
    pub state: FreshnessState,
    /// Open flags, most serious first.
    pub flags: Vec<Flag>,
    /// When someone last confirmed the listing is correct (never, if null).
    pub last_verified_at: Option<DateTime<Utc>>,
    /// When its website was last checked.
    pub last_checked_at: Option<DateTime<Utc>>,
    /// When it is (or was) due for review.
    pub review_due_at: DateTime<Utc>,
    /// When it is (or was) overdue, and demoted in search.
    pub overdue_at: DateTime<Utc>,
}

/// How serious a flag is, for ordering (higher first).
pub fn severity(kind: FlagKind) -> u8 {
    match kind {
        FlagKind::PossiblyClosed => 4,
        FlagKind::Ended => 3,
        FlagKind::LinkBroken => 2,
        FlagKind::Reopened => 1,
    }
}

/// The few facts the state depends on: what search keeps per document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signals {
    pub active: bool,
    /// An open `possibly_closed` or `ended` flag.
    pub closure_flag: bool,
    /// An open `link_broken` or `reopened` flag.
    pub review_flag: bool,
    pub last_verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Signals {
    pub fn of(facts: &FreshnessFacts) -> Signals {
        let has = |kinds: [FlagKind; 2]| facts.flags.iter().any(|f| kinds.contains(&f.kind));
        Signals {
            active: facts.status == ServiceStatus::Active,
            closure_flag: has([FlagKind::PossiblyClosed, FlagKind::Ended]),
            review_flag: has([FlagKind::LinkBroken, FlagKind::Reopened]),
            last_verified_at: facts.last_verified_at,
            created_at: facts.created_at,
        }
    }

    /// When the listing is (or was) due for review: a year after its last
    /// verification, or from the start when nobody has confirmed it yet.
    pub fn review_due_at(&self, policy: ReviewPolicy) -> DateTime<Utc> {
        match self.last_verified_at {
            Some(verified) => verified + Duration::days(policy.review_days),
            None => self.created_at,
        }
    }

    pub fn overdue_at(&self, policy: ReviewPolicy) -> DateTime<Utc> {
        self.last_verified_at.unwrap_or(self.created_at)
            + Duration::days(policy.review_days + policy.grace_days)
    }

    /// The state, by the table at the top of this module.
    pub fn state(&self, now: DateTime<Utc>, policy: ReviewPolicy) -> FreshnessState {
        if !self.active {
            FreshnessState::Closed
        } else if self.closure_flag {
            FreshnessState::PossiblyClosed
        } else if now >= self.overdue_at(policy) {
            FreshnessState::Overdue
        } else if now >= self.review_due_at(policy) || self.review_flag {
            FreshnessState::DueForReview
        } else {
            FreshnessState::Fresh
        }
    }
}

pub fn assess(facts: &FreshnessFacts, now: DateTime<Utc>, policy: ReviewPolicy) -> Freshness {
    let signals = Signals::of(facts);
    let state = signals.state(now, policy);
    let review_due_at = signals.review_due_at(policy);
    let overdue_at = signals.overdue_at(policy);
    let mut flags = facts.flags.clone();
    flags.sort_by(|a, b| {
        severity(b.kind)
            .cmp(&severity(a.kind))
            .then(a.raised_at.cmp(&b.raised_at))
    });
    Freshness {
        state,
        flags,
        last_verified_at: facts.last_verified_at,
        last_checked_at: facts.last_checked_at,
        review_due_at,
        overdue_at,
    }
}

/// How much search demotes a listing in each state (documented in
/// `docs/search.md`): its score is multiplied by this.
pub fn demotion(state: FreshnessState) -> f64 {
    match state {
        FreshnessState::Fresh => 1.0,
        FreshnessState::DueForReview => 0.9,
        FreshnessState::Overdue => 0.6,
        FreshnessState::PossiblyClosed => 0.3,
        FreshnessState::Closed => 0.2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const POLICY: ReviewPolicy = ReviewPolicy {
        review_days: 365,
        grace_days: 61,
    };

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    fn flag(kind: FlagKind) -> Flag {
        Flag {
            id: Uuid::nil(),
            kind,
            reason: String::new(),
            evidence: String::new(),
            raised_at: at(2026, 1, 1),
            raised_by: "system:test".into(),
        }
    }

    fn facts(verified: Option<DateTime<Utc>>, flags: Vec<Flag>) -> FreshnessFacts {
        FreshnessFacts {
            status: ServiceStatus::Active,
            last_verified_at: verified,
            created_at: at(2025, 1, 1),
            flags,
            last_checked_at: None,
        }
    }

    #[test]
    fn states_follow_the_table() {
        let verified = Some(at(2026, 1, 10));
        let cases = [
            (
                "fresh",
                facts(verified, vec![]),
                at(2026, 6, 1),
                FreshnessState::Fresh,
            ),
            (
                "due on the day",
                facts(verified, vec![]),
                at(2027, 1, 10),
                FreshnessState::DueForReview,
            ),
            (
                "due in grace",
                facts(verified, vec![]),
                at(2027, 3, 1),
                FreshnessState::DueForReview,
            ),
            (
                "overdue",
                facts(verified, vec![]),
                at(2027, 3, 13),
                FreshnessState::Overdue,
            ),
            (
                "never verified, new",
                facts(None, vec![]),
                at(2025, 2, 1),
                FreshnessState::DueForReview,
            ),
            (
                "never verified, old",
                facts(None, vec![]),
                at(2026, 6, 1),
                FreshnessState::Overdue,
            ),
            (
                "broken link",
                facts(verified, vec![flag(FlagKind::LinkBroken)]),
                at(2026, 6, 1),
                FreshnessState::DueForReview,
            ),
            (
                "reopened",
                facts(verified, vec![flag(FlagKind::Reopened)]),
                at(2026, 6, 1),
                FreshnessState::DueForReview,
            ),
            (
                "reports",
                facts(verified, vec![flag(FlagKind::PossiblyClosed)]),
                at(2026, 6, 1),
                FreshnessState::PossiblyClosed,
            ),
            (
                "ended",
                facts(verified, vec![flag(FlagKind::Ended)]),
                at(2026, 6, 1),
                FreshnessState::PossiblyClosed,
            ),
        ];
        for (name, facts, now, want) in cases {
            assert_eq!(assess(&facts, now, POLICY).state, want, "{name}");
        }
        let mut closed = facts(verified, vec![flag(FlagKind::PossiblyClosed)]);
        for status in [
            ServiceStatus::Defunct,
            ServiceStatus::Inactive,
            ServiceStatus::TemporarilyClosed,
        ] {
            closed.status = status;
            assert_eq!(
                assess(&closed, at(2026, 6, 1), POLICY).state,
                FreshnessState::Closed
            );
        }
    }

    #[test]
    fn flags_are_listed_most_serious_first() {
        let f = facts(
            None,
            vec![
                flag(FlagKind::Reopened),
                flag(FlagKind::PossiblyClosed),
                flag(FlagKind::LinkBroken),
            ],
        );
        let kinds: Vec<_> = assess(&f, at(2025, 1, 2), POLICY)
            .flags
            .iter()
            .map(|f| f.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                FlagKind::PossiblyClosed,
                FlagKind::LinkBroken,
                FlagKind::Reopened
            ]
        );
    }

    #[test]
    fn demotion_orders_the_states() {
        let order = [
            FreshnessState::Fresh,
            FreshnessState::DueForReview,
            FreshnessState::Overdue,
            FreshnessState::PossiblyClosed,
            FreshnessState::Closed,
        ];
        for pair in order.windows(2) {
            assert!(demotion(pair[0]) > demotion(pair[1]));
        }
    }
}
