//! `signpost import` and `signpost export`.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::PathBuf;

use chrono::Utc;

use super::import::{import_file, Importer};
use super::store;
use crate::config::Settings;
use crate::db::changes::Stamp;
use crate::geo::PostcodeIndex;
use crate::model::Actor;

/// Counts bytes as they are read, for the progress bar.
struct Counting<R> {
    inner: R,
    bar: indicatif::ProgressBar,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

pub fn import(settings: &Settings, path: PathBuf, dry_run: bool) -> anyhow::Result<()> {
    let pool = crate::db::connect(&settings.database(), 2)?;
    crate::db::migrate(&pool)?;
    let mut conn = pool.get()?;
    crate::startup::reference_data(&mut conn, Utc::now())?;
    let postcodes = PostcodeIndex::shared()?;
    let package = path.is_dir() || path.file_name().is_some_and(|n| n == "datapackage.json");
    if package {
        let importer = Importer::new(
            Stamp {
                actor: Actor::system("import"),
                at: Utc::now(),
            },
            &postcodes,
            dry_run,
        );
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos} records imported ({per_sec})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        let report = super::tabular::import_package(&mut conn, &importer, &path, |n| {
            bar.set_position(n as u64)
        });
        bar.finish_and_clear();
        println!("{}", serde_json::to_string_pretty(&report)?);
        eprintln!(
            "{} created, {} updated, {} unchanged, {} rejected",
            report.created, report.updated, report.unchanged, report.rejected
        );
        return Ok(());
    }
    let (reader, length): (Box<dyn Read + Send>, u64) = if path.as_os_str() == "-" {
        (Box::new(std::io::stdin()), 0)
    } else {
        let file = std::fs::File::open(&path)
            .map_err(|e| anyhow::anyhow!("opening {}: {e}", path.display()))?;
        let length = file.metadata().map(|m| m.len()).unwrap_or(0);
        (Box::new(file), length)
    };
    let bar = indicatif::ProgressBar::new(length);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "importing [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta}) {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let input: Box<dyn BufRead + Send> = Box::new(BufReader::with_capacity(
        1 << 16,
        Counting {
            inner: reader,
            bar: bar.clone(),
        },
    ));
    let importer = Importer::new(
        Stamp {
            actor: Actor::system("import"),
            at: Utc::now(),
        },
        &postcodes,
        dry_run,
    );
    let started = std::time::Instant::now();
    let report = import_file(&mut conn, &importer, input, |n| {
        if n % 100 == 0 {
            bar.set_message(format!("{n} records"));
        }
    });
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    println!("{}", serde_json::to_string_pretty(&report)?);
    let records = report.created + report.updated + report.unchanged + report.rejected;
    eprintln!(
        "{}{records} records in {seconds:.1}s ({:.0}/s): {} created, {} updated, {} unchanged, {} rejected",
        if dry_run { "dry run, nothing written: " } else { "" },
        records as f64 / seconds.max(1e-9),
        report.created,
        report.updated,
        report.unchanged,
        report.rejected,
    );
    Ok(())
}

/// `import --from-url`: pulls another directory's services and imports them.
pub async fn pull(
    settings: &Settings,
    base: url::Url,
    modified_after: Option<chrono::DateTime<Utc>>,
    max_pages: u32,
    dry_run: bool,
) -> anyhow::Result<()> {
    crate::links::check_target(&base, settings.allow_private_targets)
        .map_err(|e| anyhow::anyhow!("--from-url: {e}"))?;
    let pool = crate::db::connect(&settings.database(), 2)?;
    crate::db::migrate(&pool)?;
    let mut conn = pool.get()?;
    crate::startup::reference_data(&mut conn, Utc::now())?;
    let postcodes = PostcodeIndex::shared()?;
    let client = reqwest::Client::builder()
        .user_agent(format!("Signpost-Federation/{}", env!("CARGO_PKG_VERSION")))
        .timeout(std::time::Duration::from_secs(60))
        .connect_timeout(std::time::Duration::from_secs(10))
        .dns_resolver(crate::links::guarded_resolver(
            settings.allow_private_targets,
        ))
        .build()?;
    let importer = Importer::new(
        Stamp {
            actor: Actor::system(&format!("federation:{base}")),
            at: Utc::now(),
        },
        &postcodes,
        dry_run,
    );
    let pull = super::federation::Pull {
        base,
        modified_after,
        max_pages,
        per_page: 100,
        retries: 3,
        backoff: std::time::Duration::from_secs(2),
    };
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message("pulling");
    let report = super::federation::pull_into(&mut conn, &importer, &client, &pull).await;
    bar.finish_and_clear();
    println!("{}", serde_json::to_string_pretty(&report)?);
    eprintln!(
        "{} created, {} updated, {} unchanged, {} rejected",
        report.created, report.updated, report.unchanged, report.rejected
    );
    Ok(())
}

/// The output formats of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Ndjson,
    /// The HSDS tabular data package: CSV files and datapackage.json in a directory.
    Tabular,
}

/// Writes every live organisation, fully nested (its services and
/// locations), as a JSON array or one per line.
pub fn write_export(
    conn: &mut crate::db::DbConnection,
    format: Format,
    out: &mut dyn Write,
) -> anyhow::Result<usize> {
    let mut first = true;
    if format == Format::Json {
        out.write_all(b"[")?;
    }
    let count = store::each_organization(conn, |organization| {
        match format {
            Format::Json => {
                if !first {
                    out.write_all(b",")?;
                }
                out.write_all(b"\n")?;
            }
            Format::Ndjson | Format::Tabular => {}
        }
        first = false;
        serde_json::to_writer(&mut *out, &organization)?;
        if format == Format::Ndjson {
            out.write_all(b"\n")?;
        }
        Ok(())
    })?;
    if format == Format::Json {
        out.write_all(b"\n]\n")?;
    }
    out.flush()?;
    Ok(count)
}

pub fn export(settings: &Settings, format: Format, output: Option<PathBuf>) -> anyhow::Result<()> {
    let pool = crate::db::connect(&settings.database(), 2)?;
    crate::db::migrate(&pool)?;
    let mut conn = pool.get()?;
    if format == Format::Tabular {
        let dir =
            output.ok_or_else(|| anyhow::anyhow!("--format tabular needs --output <directory>"))?;
        let count = super::tabular::write_package(&mut conn, &dir)?;
        eprintln!(
            "exported {count} organisations as a tabular data package in {}",
            dir.display()
        );
        return Ok(());
    }
    let mut out: Box<dyn Write> = match &output {
        Some(path) => Box::new(BufWriter::new(std::fs::File::create(path)?)),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let count = write_export(&mut conn, format, &mut out)?;
    eprintln!("exported {count} organisations with their services and locations");
    Ok(())
}
