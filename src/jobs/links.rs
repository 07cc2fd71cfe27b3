//! The link check job: visit every listed website, keep the result, and
//! raise or clear *link broken* flags by the configured rule.

use std::sync::Arc;

use anyhow::Context;
use url::Url;

use crate::clock::Clock;
use crate::config::FreshnessSettings;
use crate::db::changes::Stamp;
use crate::db::{flags, links, Pool};
use crate::links::{evaluate, CheckResult, LinkChecker};
use crate::model::enums::FlagKind;
use crate::model::Actor;

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LinkRun {
    pub urls: usize,
    pub ok: usize,
    pub failed: usize,
    pub flagged: usize,
    pub cleared: usize,
}

/// Checks every website once. `progress` sees each result as it arrives
/// (the CLI drives a progress bar with it).
pub async fn check_all(
    pool: &Pool,
    clock: &Arc<dyn Clock>,
    checker: &LinkChecker,
    rules: &FreshnessSettings,
    progress: impl Fn(&CheckResult) + Send + Sync,
) -> anyhow::Result<LinkRun> {
    let targets = {
        let pool = pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            links::targets(&mut conn).context("listing websites")
        })
        .await??
    };
    let (urls, services): (Vec<Url>, Vec<_>) = targets
        .into_iter()
        .filter_map(|(raw, ids)| Url::parse(&raw).ok().map(|u| (u, (raw, ids))))
        .unzip();
    let results = checker.check_all(urls, progress).await;

    let pool = pool.clone();
    let clock = clock.clone();
    let rules = rules.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        let mut run = LinkRun {
            urls: results.len(),
            ..LinkRun::default()
        };
        for (mut result, (raw, service_ids)) in results.into_iter().zip(services) {
            // History is kept under the URL as listed, at the app's time.
            result.url = raw;
            let stamp = Stamp {
                actor: Actor::system("link-checker"),
                at: clock.now(),
            };
            result.checked_at = stamp.at;
            links::record(&mut conn, &result)?;
            if result.outcome.is_failure() {
                run.failed += 1;
            } else {
                run.ok += 1;
            }
            let history = links::history(&mut conn, &result.url)?;
            let broken = evaluate(&history, &rules.broken);
            for id in service_ids {
                match &broken {
                    Some(b) => {
                        let raised = flags::raise(
                            &mut conn,
                            &stamp,
                            id,
                            FlagKind::LinkBroken,
                            "The website looks broken",
                            &b.evidence,
                        )?;
                        run.flagged += usize::from(raised.is_some());
                    }
                    None if !result.outcome.is_failure() => {
                        let resolution = format!(
                            "the website answered again on {} ({})",
                            stamp.at.format("%Y-%m-%d"),
                            result.detail
                        );
                        let cleared = flags::resolve_kind(
                            &mut conn,
                            &stamp,
                            id,
                            FlagKind::LinkBroken,
                            &resolution,
                        )?;
                        run.cleared += usize::from(cleared);
                    }
                    None => {}
                }
            }
        }
        Ok::<_, anyhow::Error>(run)
    })
    .await?
}

/// `signpost check-links`: one run now, with a progress bar.
pub async fn run_cli(settings: &crate::config::Settings) -> anyhow::Result<()> {
    let pool = crate::db::connect(&settings.database(), 2)?;
    crate::db::migrate(&pool)?;
    let checker = LinkChecker::new(settings.link_check_config())?;
    let clock: Arc<dyn Clock> = Arc::new(crate::clock::SystemClock);
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "checking links [{bar:40}] {pos}/{len} ({per_sec}, eta {eta}) {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let total = {
        let pool = pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            Ok::<_, anyhow::Error>(links::targets(&mut conn)?.len())
        })
        .await??
    };
    bar.set_length(total as u64);
    let run = check_all(&pool, &clock, &checker, &settings.freshness(), |result| {
        bar.inc(1);
        if result.outcome.is_failure() {
            bar.set_message(format!(
                "last failure: {} {}",
                result.url,
                result.outcome.as_str()
            ));
        }
    })
    .await?;
    bar.finish_and_clear();
    println!(
        "checked {} websites: {} ok, {} failed; {} newly flagged broken, {} flags cleared",
        run.urls, run.ok, run.failed, run.flagged, run.cleared
    );
    Ok(())
}
