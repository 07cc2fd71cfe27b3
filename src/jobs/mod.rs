//! Background jobs on timers: link checks, the freshness sweep and webhook
//! delivery. Each is also callable directly (the CLI and tests do).

pub mod deliveries;
pub mod links;
pub mod sweep;

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Settings;
use crate::db::Pool;
use crate::links::LinkChecker;
use crate::state::AppState;
use crate::webhooks::RetryPolicy;

/// How often the link-check timer looks whether a run is due. A run is due
/// when the newest check is older than the configured interval, so restarts
/// neither skip nor repeat runs.
const LINK_POLL: Duration = Duration::from_secs(600);

pub struct Jobs {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Jobs {
    /// Stops the timers; a run in progress is abandoned.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Runs `work` after `first_after`, then every `every`, until told to stop.
fn every<F, Fut>(
    first_after: Duration,
    every: Duration,
    mut stop: watch::Receiver<bool>,
    name: &'static str,
    work: F,
) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + first_after, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                _ = ticks.tick() => {
                    if let Err(e) = work().await {
                        tracing::warn!(job = name, error = %format!("{e:#}"), "background job failed");
                    }
                }
            }
        }
    })
}

/// Starts the timers the settings enable (0 disables one).
pub fn spawn(state: &AppState, settings: &Settings) -> anyhow::Result<Jobs> {
    let (stop, stopped) = watch::channel(false);
    let mut tasks = Vec::new();
    if settings.sweep_secs > 0 {
        let (pool, clock, policy) = (state.pool.clone(), state.clock.clone(), state.review);
        tasks.push(every(
            Duration::ZERO,
            Duration::from_secs(settings.sweep_secs),
            stopped.clone(),
            "sweep",
            move || {
                let (pool, clock) = (pool.clone(), clock.clone());
                async move {
                    let run = tokio::task::spawn_blocking(move || {
                        let mut conn = pool.get()?;
                        Ok::<_, anyhow::Error>(sweep::sweep(&mut conn, clock.now(), policy)?)
                    })
                    .await??;
                    if run != sweep::SweepRun::default() {
                        tracing::info!(?run, "freshness sweep");
                    }
                    Ok(())
                }
            },
        ));
    }
    if settings.webhook_secs > 0 {
        let client = crate::webhooks::client(
            &format!("Signpost-Webhooks/{}", env!("CARGO_PKG_VERSION")),
            Duration::from_secs(10),
            crate::links::guarded_resolver(settings.allow_private_targets),
        )?;
        let (pool, clock) = (state.pool.clone(), state.clock.clone());
        let allow_private = settings.allow_private_targets;
        tasks.push(every(
            Duration::ZERO,
            Duration::from_secs(settings.webhook_secs),
            stopped.clone(),
            "webhooks",
            move || {
                let (pool, clock, client) = (pool.clone(), clock.clone(), client.clone());
                async move {
                    deliveries::deliver_due(
                        &pool,
                        &clock,
                        &client,
                        &RetryPolicy::default(),
                        allow_private,
                    )
                    .await?;
                    Ok(())
                }
            },
        ));
    }
    if settings.link_check_hours > 0 {
        let checker = LinkChecker::new(settings.link_check_config())?;
        let interval = chrono::Duration::hours(
            i64::try_from(settings.link_check_hours).unwrap_or(i64::MAX / 3_600_000),
        );
        let (pool, clock, rules) = (
            state.pool.clone(),
            state.clock.clone(),
            state.freshness.clone(),
        );
        // Not at start-up: a server restarted for a quick look should not
        // begin visiting every website straight away.
        tasks.push(every(
            LINK_POLL,
            LINK_POLL,
            stopped,
            "link-check",
            move || {
                let (pool, clock, rules, checker) =
                    (pool.clone(), clock.clone(), rules.clone(), checker.clone());
                async move {
                    if !link_run_due(&pool, clock.now(), interval).await? {
                        return Ok(());
                    }
                    let run = links::check_all(&pool, &clock, &checker, &rules, |_| {}).await?;
                    tracing::info!(?run, "link check");
                    Ok(())
                }
            },
        ));
    }
    Ok(Jobs { stop, tasks })
}

async fn link_run_due(
    pool: &Pool,
    now: chrono::DateTime<chrono::Utc>,
    interval: chrono::Duration,
) -> anyhow::Result<bool> {
    let pool = pool.clone();
    let last = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        Ok::<_, anyhow::Error>(crate::db::links::last_run(&mut conn)?)
    })
    .await??;
    Ok(last.is_none_or(|t| now - t >= interval))
}
