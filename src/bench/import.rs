//! `signpost bench-import`: writes a deterministic NDJSON file of full HSDS
//! services (each with its organisation nested, one location on a real
//! Scottish postcode, a phone, a weekly schedule, a language and a category)
//! and imports it twice into a fresh SQLite data directory through the real
//! import path: once into the empty database (everything created), once
//! more (everything unchanged). Prints both rates and peak memory; figures
//! go in `docs/benchmarks.md`.

use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use chrono::Utc;
use diesel::prelude::*;
use uuid::Uuid;

use super::{Rng, ADJECTIVES, HOURS, PLACES, TOPICS};
use crate::config::Settings;
use crate::db::changes::Stamp;
use crate::db::schema::{audit_log, change_log, services};
use crate::geo::PostcodeIndex;
use crate::hsds::import::{import_file, Importer, Report};
use crate::hsds::types;
use crate::model::enums::TaxonomyKind;
use crate::model::Actor;

pub struct ImportBenchOptions {
    pub services: usize,
    pub organisations: usize,
    /// Working directory: the file and the database go in `import-<services>/`.
    pub dir: PathBuf,
}

pub fn run(options: ImportBenchOptions) -> anyhow::Result<()> {
    let work = options.dir.join(format!("import-{}", options.services));
    if work.exists() {
        std::fs::remove_dir_all(&work)?;
    }
    std::fs::create_dir_all(&work)?;
    let file = work.join("services.ndjson");
    let started = Instant::now();
    write_file(&file, options.services, options.organisations.max(1))?;
    println!(
        "wrote {} services ({} organisations) to {} ({:.0} MB) in {:.1} s",
        options.services,
        options.organisations,
        file.display(),
        std::fs::metadata(&file)?.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let settings = Settings::new(work.join("data"));
    let pool = crate::db::connect(&settings.database(), 2)?;
    crate::db::migrate(&pool)?;
    let mut conn = pool.get()?;
    crate::startup::reference_data(&mut conn, Utc::now())?;
    let postcodes = PostcodeIndex::shared()?;
    for run in ["first import", "re-import"] {
        let importer = Importer::new(
            Stamp {
                actor: Actor::system("bench-import"),
                at: Utc::now(),
            },
            &postcodes,
            false,
        );
        let input = BufReader::with_capacity(1 << 16, std::fs::File::open(&file)?);
        let started = Instant::now();
        let cpu = super::cpu_seconds();
        let report = import_file(&mut conn, &importer, input, |_| {});
        let seconds = started.elapsed().as_secs_f64();
        let cpu = super::cpu_seconds() - cpu;
        check(run, &report, options.services)?;
        println!(
            "{run}: {} services in {seconds:.2} s ({cpu:.2} s on the CPU) = {:.0} services/s ({} created, {} updated, {} unchanged)",
            options.services,
            options.services as f64 / seconds,
            report.created,
            report.updated,
            report.unchanged
        );
    }
    let stored: i64 = services::table.count().get_result(&mut *conn)?;
    let changes: i64 = change_log::table.count().get_result(&mut *conn)?;
    let audited: i64 = audit_log::table.count().get_result(&mut *conn)?;
    println!("database: {stored} services, {changes} change-log rows, {audited} audit rows");
    println!(
        "peak resident memory of this process: {:.0} MB",
        super::peak_rss_mb()
    );
    Ok(())
}

/// Every record must have been imported; the first run creates them all.
fn check(run: &str, report: &Report, services: usize) -> anyhow::Result<()> {
    if let Some(first) = report.rejections.first() {
        anyhow::bail!(
            "{run}: {} records rejected, the first (record {}): {}",
            report.rejected,
            first.record,
            first.reason
        );
    }
    let imported = report.created + report.updated + report.unchanged;
    if imported != services {
        anyhow::bail!("{run}: {imported} of {services} records imported");
    }
    Ok(())
}

/// Writes `n` services, one per line, the same on every run.
fn write_file(path: &std::path::Path, n: usize, organisations: usize) -> anyhow::Result<()> {
    let postcodes = super::postcodes()?;
    let mut rng = Rng(0x5EED_1A70);
    let orgs: Vec<types::Organization> = (0..organisations)
        .map(|o| {
            let place = rng.pick(PLACES);
            types::Organization {
                id: Uuid::from_u128(0xB100_0000_0000_4000_8000_0000_0000_0000 + o as u128)
                    .to_string(),
                name: format!("{} {place} Trust {o}", rng.pick(ADJECTIVES)),
                description: format!("A community organisation in {place}."),
                website: Some(format!("https://trust-{o}.example.org/")),
                email: Some(format!("hello@trust-{o}.example.org")),
                ..Default::default()
            }
        })
        .collect();
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    for s in 0..n {
        let id = Uuid::from_u128(0xA100_0000_0000_4000_8000_0000_0000_0000 + s as u128).to_string();
        let location_id =
            Uuid::from_u128(0xC100_0000_0000_4000_8000_0000_0000_0000 + s as u128).to_string();
        let organisation = &orgs[s % organisations];
        let (slug, names, phrases) = rng.pick(TOPICS);
        let place = rng.pick(PLACES);
        let (postcode, _, _, _, _) = rng.pick(&postcodes);
        let (days, opens, closes) = loop {
            // Weekly rules only: monthly ones would need an ordinal `byday`.
            let hours = rng.pick(HOURS);
            if !hours.0.starts_with(|c: char| c.is_ascii_digit()) {
                break *hours;
            }
        };
        let term = crate::db::taxonomy::shipped_term_id(TaxonomyKind::Category, slug).to_string();
        let service = types::Service {
            id: id.clone(),
            organization_id: Some(organisation.id.clone()),
            name: format!("{place} {}", rng.pick(names)),
            description: Some(format!(
                "{} in {place}: {}, {}. Run by volunteers; {}.",
                rng.pick(names),
                rng.pick(phrases),
                rng.pick(phrases),
                rng.pick(phrases)
            )),
            email: Some(format!("service-{s}@trust.example.org")),
            status: "active".into(),
            phones: Some(vec![types::Phone {
                id: crate::hsds::export::derived_id(&["phone", &id, "0"]),
                number: format!("0141 {:03} {:04}", s / 10_000 % 1_000, s % 10_000),
                description: None,
            }]),
            schedules: Some(vec![types::Schedule {
                id: crate::hsds::export::derived_id(&["schedule", &id]),
                freq: Some("WEEKLY".into()),
                byday: Some(days.into()),
                opens_at: Some(opens.into()),
                closes_at: Some(closes.into()),
                ..Default::default()
            }]),
            service_at_locations: Some(vec![types::ServiceAtLocation {
                id: crate::hsds::export::derived_id(&["service_at_location", &id]),
                location: Some(types::Location {
                    id: location_id.clone(),
                    location_type: "physical".into(),
                    name: Some(format!("{place} hall")),
                    // No coordinates: the import places it at its postcode.
                    addresses: vec![types::Address {
                        id: crate::hsds::export::derived_id(&["address", &location_id]),
                        address_1: format!("{} Main Street", 1 + rng.below(200)),
                        city: place.to_string(),
                        postal_code: postcode.clone(),
                        country: "GB".into(),
                        address_type: "physical".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            languages: Some(vec![types::Language {
                id: crate::hsds::export::derived_id(&["language", &id]),
                code: Some(if s % 7 == 0 { "gd" } else { "en" }.into()),
                ..Default::default()
            }]),
            organization: Some(organisation.clone()),
            attributes: Some(vec![types::Attribute {
                id: crate::hsds::export::derived_id(&["attribute", &id]),
                link_type: Some("category".into()),
                taxonomy_term_id: Some(term.clone()),
                taxonomy_term: Some(types::TaxonomyTerm {
                    id: term,
                    code: Some(slug.to_string()),
                    name: slug.replace('-', " "),
                    taxonomy: Some("category".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        };
        serde_json::to_writer(&mut out, &service)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
