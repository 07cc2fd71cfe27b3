//! Signpost command line: `serve`, `migrate`, `openapi`.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use signpost::clock::SystemClock;
use signpost::config::Settings;
use signpost::startup::{prepare, Application};
use tracing_subscriber::EnvFilter;

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
                let state = tokio::task::spawn_blocking({
                    let settings = settings.clone();
                    move || prepare(&settings, Arc::new(SystemClock), demo)
                })
                .await??;
                let app = Application::build(&settings, state)?;
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
