//! The "link broken" flag, from a URL's check history.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Outcome;

/// When a run of failed checks makes a link "broken".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokenRule {
    /// At least this many failed checks in a row (0 is treated as 1).
    pub consecutive_failures: usize,
    /// And at least this long from the first to the last of them, so a
    /// site that is down for one afternoon is not flagged.
    pub min_span: chrono::Duration,
}

impl Default for BrokenRule {
    fn default() -> Self {
        BrokenRule {
            consecutive_failures: 3,
            min_span: chrono::Duration::days(7),
        }
    }
}

/// A link judged broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Broken {
    /// The first failure of the current run.
    pub since: DateTime<Utc>,
    /// Failed checks in the current run.
    pub failures: usize,
    /// The latest outcome.
    pub last: Outcome,
    /// For people, e.g. "website returned 404 on 3 checks since 2026-11-02".
    pub evidence: String,
}

/// Judges a history of checks, oldest first (the order is trusted, not
/// re-sorted).
///
/// Only the trailing run of failures counts: any `ok` ends a run, so a
/// success clears the flag. Failures of different kinds still count as one
/// run; the evidence names the latest kind and lists the earlier ones.
pub fn evaluate(history: &[(DateTime<Utc>, Outcome)], rule: &BrokenRule) -> Option<Broken> {
    let run_len = history
        .iter()
        .rev()
        .take_while(|(_, outcome)| outcome.is_failure())
        .count();
    let run = &history[history.len() - run_len..];
    let (&(since, _), &(latest, last)) = (run.first()?, run.last()?);

    if run_len < rule.consecutive_failures.max(1) || latest - since < rule.min_span {
        return None;
    }
    Some(Broken {
        since,
        failures: run_len,
        last,
        evidence: evidence(run, since, last),
    })
}

fn evidence(run: &[(DateTime<Utc>, Outcome)], since: DateTime<Utc>, last: Outcome) -> String {
    let date = since.format("%Y-%m-%d");
    let count = run.len();
    let mut earlier: Vec<Outcome> = Vec::new();
    for &(_, outcome) in run {
        if outcome != last && !earlier.contains(&outcome) {
            earlier.push(outcome);
        }
    }
    if earlier.is_empty() {
        return format!("website {} on {count} checks since {date}", phrase(last));
    }
    let earlier: Vec<&str> = earlier.into_iter().map(phrase).collect();
    format!(
        "website {} on the latest of {count} failed checks since {date} (earlier it {})",
        phrase(last),
        earlier.join(", ")
    )
}

/// What an outcome says about a website, after "website".
fn phrase(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Ok => "responded normally",
        Outcome::DnsFailure => "could not be found (DNS)",
        Outcome::ConnectionRefused => "refused the connection",
        Outcome::TlsError => "failed the secure connection (TLS)",
        Outcome::Timeout => "timed out",
        Outcome::NotFound404 => "returned 404",
        Outcome::Gone410 => "has gone (410)",
        Outcome::ServerError5xx => "returned a server error",
        Outcome::ClientError4xx => "rejected the request (4xx)",
        Outcome::RedirectedOffSite => "redirects to another site",
        Outcome::BlockedByPolicy => "points to a private or local network address",
        Outcome::OtherError => "could not be checked",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use Outcome::*;

    /// A history from (day offset, outcome) pairs, starting 2026-11-02 09:00.
    fn history(checks: &[(i64, Outcome)]) -> Vec<(DateTime<Utc>, Outcome)> {
        let start = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
        checks
            .iter()
            .map(|&(day, outcome)| (start + chrono::Duration::days(day), outcome))
            .collect()
    }

    #[test]
    fn table() {
        struct Case {
            name: &'static str,
            checks: &'static [(i64, Outcome)],
            /// (failures, last outcome, day offset of `since`) when flagged.
            flagged: Option<(usize, Outcome, i64)>,
        }
        let cases = [
            Case {
                name: "empty history",
                checks: &[],
                flagged: None,
            },
            Case {
                name: "all ok",
                checks: &[(0, Ok), (7, Ok), (14, Ok)],
                flagged: None,
            },
            Case {
                name: "two failures",
                checks: &[(0, NotFound404), (10, NotFound404)],
                flagged: None,
            },
            Case {
                name: "three failures within two days",
                checks: &[(0, NotFound404), (1, NotFound404), (2, NotFound404)],
                flagged: None,
            },
            Case {
                name: "three failures over seven days",
                checks: &[(0, NotFound404), (3, NotFound404), (7, NotFound404)],
                flagged: Some((3, NotFound404, 0)),
            },
            Case {
                name: "then a success",
                checks: &[
                    (0, NotFound404),
                    (3, NotFound404),
                    (7, NotFound404),
                    (8, Ok),
                ],
                flagged: None,
            },
            Case {
                name: "a success resets the run",
                checks: &[
                    (0, Timeout),
                    (3, Ok),
                    (4, Timeout),
                    (8, Timeout),
                    (11, Timeout),
                ],
                flagged: Some((3, Timeout, 4)),
            },
            Case {
                name: "run after a success is too short",
                checks: &[
                    (0, Timeout),
                    (7, Timeout),
                    (8, Ok),
                    (9, Timeout),
                    (16, Timeout),
                ],
                flagged: None,
            },
            Case {
                name: "mixed kinds still count",
                checks: &[(0, Timeout), (4, DnsFailure), (8, ServerError5xx)],
                flagged: Some((3, ServerError5xx, 0)),
            },
            Case {
                name: "long run counts all failures",
                checks: &[
                    (0, Ok),
                    (1, Gone410),
                    (2, Gone410),
                    (3, Gone410),
                    (9, Gone410),
                ],
                flagged: Some((4, Gone410, 1)),
            },
        ];
        let rule = BrokenRule::default();
        for case in cases {
            let history = history(case.checks);
            let got = evaluate(&history, &rule)
                .map(|b| (b.failures, b.last, (b.since - history[0].0).num_days()));
            assert_eq!(got, case.flagged, "case: {}", case.name);
        }
    }

    #[test]
    fn evidence_same_kind() {
        let history = history(&[(0, NotFound404), (3, NotFound404), (7, NotFound404)]);
        let broken = evaluate(&history, &BrokenRule::default()).unwrap();
        assert_eq!(
            broken.evidence,
            "website returned 404 on 3 checks since 2026-11-02"
        );
    }

    #[test]
    fn evidence_mixed_kinds() {
        let history = history(&[
            (0, Timeout),
            (4, DnsFailure),
            (6, Timeout),
            (8, ServerError5xx),
        ]);
        let broken = evaluate(&history, &BrokenRule::default()).unwrap();
        assert_eq!(
            broken.evidence,
            "website returned a server error on the latest of 4 failed checks since 2026-11-02 \
             (earlier it timed out, could not be found (DNS))"
        );
    }

    #[test]
    fn every_failure_has_a_phrase() {
        let history = history(&[(0, Gone410), (7, Gone410)]);
        let rule = BrokenRule {
            consecutive_failures: 2,
            min_span: chrono::Duration::days(7),
        };
        assert_eq!(
            evaluate(&history, &rule).unwrap().evidence,
            "website has gone (410) on 2 checks since 2026-11-02"
        );
        for outcome in Outcome::ALL {
            assert!(!phrase(outcome).is_empty());
        }
    }
}
