//! Signpost command line: `serve`, `migrate`, `openapi`, `keys`, `reindex`, `bench`.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use signpost::clock::SystemClock;
use signpost::config::Settings;
use signpost::startup::{prepare, Application};
use tracing_subscriber::EnvFilter;

/// mimalloc rather than the system allocator: imports, reindexing and
/// searches allocate many small, short-lived strings and vectors from
/// several threads, and glibc's malloc (its locks and free-list
/// consolidation) was about a quarter of an import's CPU time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "signpost",
    version,
    about = "Community resource directory service"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (migrates the database first).
    Serve {
        #[command(flatten)]
        settings: Settings,
        /// Load the demo directory into an empty database.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        settings: Settings,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Manage API keys: `keys create --name "Alex" --role admin` makes the
    /// first admin key on a fresh install.
    Keys {
        #[command(flatten)]
        settings: Settings,
        #[command(subcommand)]
        action: signpost::keys_cli::KeyAction,
    },
    /// Benchmark the link checker against a local server (see docs/benchmarks.md).
    BenchLinks {
        #[arg(long, default_value_t = 10_000)]
        urls: usize,
        /// Distinct host names the URLs are spread over.
        #[arg(long, default_value_t = 500)]
        hosts: usize,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Pause between requests to one host, in milliseconds.
        #[arg(long, default_value_t = 0)]
        host_delay_ms: u64,
    },
    /// Benchmark the HSDS import on generated services (see docs/benchmarks.md).
    BenchImport {
        #[arg(long, default_value_t = 20_000)]
        services: usize,
        #[arg(long, default_value_t = 2_000)]
        organisations: usize,
        /// Working directory for the generated file and database.
        #[arg(long, default_value = "bench-data")]
        dir: std::path::PathBuf,
    },
    /// Import HSDS 3.0 JSON (an array of services or organisations) or
    /// NDJSON; `-` reads standard input. Prints a report.
    Import {
        #[command(flatten)]
        settings: Settings,
        /// The file to import (or give --from-url).
        #[arg(required_unless_present = "from_url", conflicts_with = "from_url")]
        path: Option<std::path::PathBuf>,
        /// Pull from another directory's Open Referral API instead, e.g.
        /// https://example.org/openreferral (pages through /services?full_service=true).
        #[arg(long)]
        from_url: Option<url::Url>,
        /// With --from-url: only services changed after this (RFC 3339).
        #[arg(long, requires = "from_url")]
        modified_after: Option<chrono::DateTime<chrono::Utc>>,
        /// With --from-url: stop after this many pages.
        #[arg(long, default_value_t = 1000)]
        max_pages: u32,
        /// Check everything, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Export every live organisation, with its services and locations, as HSDS 3.0.
    Export {
        #[command(flatten)]
        settings: Settings,
        #[arg(long, value_enum, default_value = "json")]
        format: signpost::hsds::cli::Format,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
    /// Check every listed website now (with a progress bar), keep the
    /// results and raise or clear "link broken" flags.
    CheckLinks {
        #[command(flatten)]
        settings: Settings,
    },
    /// Rebuild the search index from the database (stop the server first).
    Reindex {
        #[command(flatten)]
        settings: Settings,
    },
    /// Benchmark search at several sizes on generated data (see docs/benchmarks.md).
    Bench {
        /// Numbers of services to generate, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
        sizes: Vec<usize>,
        /// Working directory for the generated databases and indexes.
        #[arg(long, default_value = "bench-data")]
        dir: std::path::PathBuf,
        /// In-process queries per size.
        #[arg(long, default_value_t = 5000)]
        queries: usize,
        /// Seconds of HTTP load per size.
        #[arg(long, default_value_t = 10)]
        http_seconds: u64,
        /// Concurrent HTTP clients.
        #[arg(long, default_value_t = 16)]
        http_clients: usize,
        /// Reuse the data and index of an earlier run (for profiling queries).
        #[arg(long)]
        reuse: bool,
        /// Skip the SQLite FTS5 + R*Tree baseline (slow at a million; for profiling).
        #[arg(long)]
        no_baseline: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Openapi => {
            print!("{}", signpost::api::openapi::document());
            Ok(())
        }
        Command::Keys { settings, action } => signpost::keys_cli::run(&settings, action),
        Command::BenchLinks {
            urls,
            hosts,
            concurrency,
            host_delay_ms,
        } => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(signpost::bench::links::run(
                signpost::bench::links::LinkBenchOptions {
                    urls,
                    hosts,
                    concurrency,
                    host_delay_ms,
                },
            ))
        }
        Command::BenchImport {
            services,
            organisations,
            dir,
        } => signpost::bench::import::run(signpost::bench::import::ImportBenchOptions {
            services,
            organisations,
            dir,
        }),
        Command::Import {
            settings,
            path,
            from_url,
            modified_after,
            max_pages,
            dry_run,
        } => match (path, from_url) {
            (Some(path), _) => signpost::hsds::cli::import(&settings, path, dry_run),
            (None, Some(base)) => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(signpost::hsds::cli::pull(
                    &settings,
                    base,
                    modified_after,
                    max_pages,
                    dry_run,
                ))
            }
            (None, None) => Err(anyhow::anyhow!("give a file or --from-url")),
        },
        Command::Export {
            settings,
            format,
            output,
        } => signpost::hsds::cli::export(&settings, format, output),
        Command::CheckLinks { settings } => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(signpost::jobs::links::run_cli(&settings))
        }
        Command::Reindex { settings } => {
            let url = settings.database();
            let pool = signpost::db::connect(&url, 2)?;
            signpost::db::migrate(&pool)?;
            let (search, _) = signpost::search::SearchIndex::open_or_create(&settings.index_dir())?;
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "reindexing [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let started = std::time::Instant::now();
            let indexer = signpost::search::Indexer::start(
                std::sync::Arc::new(search),
                pool,
                None,
                Some(&bar),
            )?;
            bar.finish_and_clear();
            println!(
                "reindexed in {:.1}s; index is at change {}",
                started.elapsed().as_secs_f64(),
                indexer.seq()
            );
            Ok(())
        }
        Command::Bench {
            sizes,
            dir,
            queries,
            http_seconds,
            http_clients,
            reuse,
            no_baseline,
        } => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(signpost::bench::run(signpost::bench::BenchOptions {
                sizes,
                dir,
                queries,
                http_seconds,
                http_clients,
                reuse,
                baseline: !no_baseline,
            }))
        }
        Command::Migrate { settings } => {
            let url = settings.database();
            let pool = signpost::db::connect(&url, 1)?;
            let applied = signpost::db::migrate(&pool)?;
            println!("{applied} migration(s) applied to {}", url.redacted());
            Ok(())
        }
        Command::Serve { settings, demo } => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let (state, indexer) = tokio::task::spawn_blocking({
                    let settings = settings.clone();
                    move || prepare(&settings, Arc::new(SystemClock), demo)
                })
                .await??;
                let app = Application::build(&settings, state, indexer)?;
                let host = match settings.bind.ip() {
                    ip if ip.is_unspecified() => "localhost".to_string(),
                    ip => ip.to_string(),
                };
                println!("Signpost is running at http://{host}:{}/ (API docs: /docs). Press Ctrl+C to stop.", app.port());
                app.run_until_stopped().await?;
                tracing::info!("stopped");
                Ok(())
            })
        }
    }
}
