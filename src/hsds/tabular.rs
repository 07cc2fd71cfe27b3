//! The HSDS tabular data package: one CSV file per table plus
//! `datapackage.json`, columns as the HSDS 3.0 schemas list them.
//! Export writes it from the nested records; import joins the tables back
//! into nested records through an on-disk staging store (`staging`) and
//! imports them like NDJSON.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{Map, Value};

use super::import::{import_file, Importer, Report};
use super::staging::{Row, Staging};
use super::types;
use crate::db::DbConnection;

/// The tables Signpost reads and writes: (schema file, CSV file).
const TABLES: &[(&str, &str)] = &[
    (
        "organization",
        include_str!("../../fixtures/hsds/schema/organization.json"),
    ),
    (
        "organization_identifier",
        include_str!("../../fixtures/hsds/schema/organization_identifier.json"),
    ),
    (
        "service",
        include_str!("../../fixtures/hsds/schema/service.json"),
    ),
    (
        "location",
        include_str!("../../fixtures/hsds/schema/location.json"),
    ),
    (
        "address",
        include_str!("../../fixtures/hsds/schema/address.json"),
    ),
    (
        "accessibility",
        include_str!("../../fixtures/hsds/schema/accessibility.json"),
    ),
    (
        "service_at_location",
        include_str!("../../fixtures/hsds/schema/service_at_location.json"),
    ),
    (
        "phone",
        include_str!("../../fixtures/hsds/schema/phone.json"),
    ),
    (
        "schedule",
        include_str!("../../fixtures/hsds/schema/schedule.json"),
    ),
    (
        "service_area",
        include_str!("../../fixtures/hsds/schema/service_area.json"),
    ),
    (
        "language",
        include_str!("../../fixtures/hsds/schema/language.json"),
    ),
    (
        "cost_option",
        include_str!("../../fixtures/hsds/schema/cost_option.json"),
    ),
    (
        "attribute",
        include_str!("../../fixtures/hsds/schema/attribute.json"),
    ),
    (
        "taxonomy_term",
        include_str!("../../fixtures/hsds/schema/taxonomy_term.json"),
    ),
    (
        "taxonomy",
        include_str!("../../fixtures/hsds/schema/taxonomy.json"),
    ),
];

/// A table's CSV file name and its scalar columns, in the schema's order.
struct Table {
    name: &'static str,
    path: String,
    columns: Vec<(String, String)>,
}

fn tables() -> Vec<Table> {
    TABLES
        .iter()
        .filter_map(|(name, text)| {
            let schema: Value = serde_json::from_str(text).ok()?;
            let path = schema["path"].as_str()?.to_string();
            let columns = schema["properties"]
                .as_object()?
                .iter()
                .filter(|(_, p)| {
                    p.get("$ref").is_none()
                        && !matches!(p["type"].as_str(), Some("array" | "object"))
                })
                .map(|(k, p)| {
                    (
                        k.clone(),
                        p["type"].as_str().unwrap_or("string").to_string(),
                    )
                })
                .collect();
            Some(Table {
                name,
                path,
                columns,
            })
        })
        .collect()
}

/// Rows of each table, collected while walking the nested records.
#[derive(Default)]
struct Rows(BTreeMap<&'static str, Vec<Map<String, Value>>>);

impl Rows {
    fn push<T: serde::Serialize>(&mut self, table: &'static str, row: &T, extra: &[(&str, &str)]) {
        if let Ok(Value::Object(mut map)) = serde_json::to_value(row) {
            for (k, v) in extra {
                map.insert((*k).to_string(), Value::String((*v).to_string()));
            }
            self.0.entry(table).or_default().push(map);
        }
    }

    fn attributes(
        &mut self,
        attributes: &[types::Attribute],
        terms: &mut BTreeMap<String, types::TaxonomyTerm>,
    ) {
        for a in attributes {
            if let Some(t) = &a.taxonomy_term {
                terms.insert(t.id.clone(), t.clone());
            }
            self.push("attribute", a, &[]);
        }
    }

    fn location(&mut self, l: &types::Location, terms: &mut BTreeMap<String, types::TaxonomyTerm>) {
        self.push("location", l, &[]);
        for a in &l.addresses {
            self.push("address", a, &[]);
        }
        for a in &l.accessibility {
            self.push("accessibility", a, &[]);
        }
        self.attributes(&l.attributes, terms);
    }
}

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Writes the package into `dir` (created if needed); returns the organisations written.
pub fn write_package(conn: &mut DbConnection, dir: &Path) -> anyhow::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let mut rows = Rows::default();
    let mut terms: BTreeMap<String, types::TaxonomyTerm> = BTreeMap::new();
    let mut locations_seen: std::collections::HashSet<String> = Default::default();
    let count = super::store::each_organization(conn, |o| {
        rows.push("organization", &o, &[]);
        for p in &o.phones {
            rows.push("phone", p, &[("organization_id", &o.id)]);
        }
        for i in &o.organization_identifiers {
            rows.push("organization_identifier", i, &[]);
        }
        for l in &o.locations {
            if locations_seen.insert(l.id.clone()) {
                rows.location(l, &mut terms);
            }
        }
        for s in o.services.iter().flatten() {
            rows.push("service", s, &[]);
            for p in s.phones.iter().flatten() {
                rows.push("phone", p, &[("service_id", &s.id)]);
            }
            for x in s.schedules.iter().flatten() {
                rows.push("schedule", x, &[]);
            }
            for x in s.service_areas.iter().flatten() {
                rows.push("service_area", x, &[]);
            }
            for x in s.languages.iter().flatten() {
                rows.push("language", x, &[]);
            }
            for x in s.cost_options.iter().flatten() {
                rows.push("cost_option", x, &[]);
            }
            rows.attributes(s.attributes.as_deref().unwrap_or(&[]), &mut terms);
            for sal in s.service_at_locations.iter().flatten() {
                rows.push("service_at_location", sal, &[]);
                if let Some(l) = &sal.location {
                    if locations_seen.insert(l.id.clone()) {
                        rows.location(l, &mut terms);
                    }
                }
            }
        }
        Ok(())
    })?;
    for t in terms.values() {
        rows.push("taxonomy_term", t, &[]);
    }
    for t in super::export::taxonomies() {
        rows.push("taxonomy", &t, &[]);
    }
    let mut resources = Vec::new();
    for table in tables() {
        let mut writer = csv::Writer::from_path(dir.join(&table.path))?;
        writer.write_record(table.columns.iter().map(|(c, _)| c))?;
        for row in rows.0.get(table.name).into_iter().flatten() {
            writer.write_record(table.columns.iter().map(|(c, _)| cell(row.get(c))))?;
        }
        writer.flush()?;
        resources.push(serde_json::json!({
            "name": table.name,
            "path": table.path,
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "schema": {"fields": table.columns.iter().map(|(c, t)| serde_json::json!({"name": c, "type": t})).collect::<Vec<_>>()},
        }));
    }
    let package = serde_json::json!({
        "name": "signpost-hsds",
        "profile": "tabular-data-package",
        "title": "Signpost directory (Open Referral HSDS 3.0)",
        "licenses": [{"name": "OGL-UK-3.0", "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"}],
        "resources": resources,
    });
    std::fs::write(
        dir.join("datapackage.json"),
        serde_json::to_string_pretty(&package)?,
    )?;
    Ok(count)
}

/// Reads one CSV table row by row as maps of non-empty cells (numbers where
/// the schema says so), handing each to `each`. A file that is missing is
/// an empty table; unreadable rows are reported.
fn read_table(
    dir: &Path,
    table: &Table,
    report: &mut Report,
    required: &[&str],
    mut each: impl FnMut(Row) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let path = dir.join(&table.path);
    let Ok(mut reader) = csv::Reader::from_path(&path) else {
        return Ok(());
    };
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
        Err(e) => {
            report.count(
                0,
                None,
                Err(format!("{}: unreadable header: {e}", table.path)),
            );
            return Ok(());
        }
    };
    if let Some(missing) = required.iter().find(|r| !headers.iter().any(|h| h == *r)) {
        report.count(
            0,
            None,
            Err(format!(
                "{}: has no `{missing}` column, so none of its rows were read",
                table.path
            )),
        );
        return Ok(());
    }
    let numeric: HashMap<&str, bool> = table
        .columns
        .iter()
        .map(|(c, t)| (c.as_str(), t == "number"))
        .collect();
    for (n, record) in reader.records().enumerate() {
        match record {
            Ok(record) => {
                let mut row = Map::new();
                for (h, v) in headers.iter().zip(record.iter()) {
                    if v.trim().is_empty() {
                        continue;
                    }
                    let value = match (numeric.get(h.as_str()), v.trim().parse::<f64>()) {
                        (Some(true), Ok(x)) => serde_json::Number::from_f64(x)
                            .map_or(Value::String(v.into()), Value::Number),
                        _ => Value::String(v.to_string()),
                    };
                    row.insert(h.clone(), value);
                }
                each(row)?;
            }
            Err(e) => report.count(
                n + 2,
                None,
                Err(format!("{} line {}: {e}", table.path, n + 2)),
            ),
        }
    }
    Ok(())
}

fn text<'r>(row: &'r Row, column: &str) -> Option<&'r str> {
    row.get(column).and_then(Value::as_str)
}

/// Imports a package directory (or the directory of a `datapackage.json`).
/// The tables are staged in a scratch database on disk and joined back
/// into nested records, written to a scratch NDJSON file that then imports
/// like any other: memory holds one record at a time, whatever the size of
/// the package. Records are numbered in that file: services first, then
/// organisations.
pub fn import_package(
    conn: &mut DbConnection,
    importer: &Importer<'_>,
    path: &Path,
    progress: impl FnMut(usize),
) -> Report {
    let dir = if path.is_file() {
        path.parent().unwrap_or(Path::new("."))
    } else {
        path
    };
    let mut report = Report {
        dry_run: importer.dry_run,
        ..Report::default()
    };
    let assembled = tempfile::tempdir()
        .context("creating a scratch directory")
        .and_then(|scratch| {
            let records = assemble(dir, scratch.path(), &mut report)?;
            Ok((scratch, records))
        });
    match assembled {
        Ok((_scratch, records)) => match std::fs::File::open(&records) {
            Ok(file) => {
                let imported = import_file(conn, importer, BufReader::new(file), progress);
                report.absorb(imported);
            }
            Err(e) => report.count(0, None, Err(format!("reading the joined records: {e}"))),
        },
        Err(e) => report.count(0, None, Err(format!("joining the package: {e:#}"))),
    }
    report
}

/// The child tables: (table, columns a row must have, column it hangs from,
/// staging name).
const CHILDREN: &[(&str, &[&str], &str, &str)] = &[
    ("taxonomy_term", &["id", "name"], "id", "taxonomy_term"),
    ("attribute", &["id"], "link_id", "attribute"),
    ("address", &["id", "location_id"], "location_id", "address"),
    (
        "accessibility",
        &["id", "location_id"],
        "location_id",
        "accessibility",
    ),
    ("phone", &["id", "number"], "organization_id", "org_phone"),
    ("phone", &["id", "number"], "service_id", "service_phone"),
    (
        "organization_identifier",
        &["id", "identifier"],
        "organization_id",
        "identifier",
    ),
    (
        "service_at_location",
        &["id", "service_id"],
        "service_id",
        "service_at_location",
    ),
    ("schedule", &["id"], "service_id", "schedule"),
    ("service_area", &["id"], "service_id", "service_area"),
    ("language", &["id"], "service_id", "language"),
    ("cost_option", &["id"], "service_id", "cost_option"),
    ("location", &["id", "location_type"], "id", "location"),
    ("organization", &["id", "name"], "id", "organization"),
];

/// Stages every table, then writes the nested records as NDJSON; returns
/// the file.
fn assemble(dir: &Path, scratch: &Path, report: &mut Report) -> anyhow::Result<PathBuf> {
    let mut staging = Staging::create(&scratch.join("staging.db"))?;
    let all = tables();
    let table = |name: &str| all.iter().find(|t| t.name == name);
    for &(name, required, key, stage) in CHILDREN {
        let Some(t) = table(name) else { continue };
        // A file read twice (phones by organisation and by service) reports its problems once.
        let mut quiet = Report::default();
        let sink = if stage == "service_phone" {
            &mut quiet
        } else {
            &mut *report
        };
        read_table(dir, t, sink, required, |row| {
            if let Some(k) = text(&row, key) {
                staging.add(stage, k, &row)?;
            }
            if stage == "location" {
                if let (Some(id), Some(org)) = (text(&row, "id"), text(&row, "organization_id")) {
                    let mut link = Row::new();
                    link.insert("id".into(), Value::String(id.to_string()));
                    staging.add("location_of_org", org, &link)?;
                }
            }
            Ok(())
        })?;
    }
    if let Some(t) = table("service") {
        read_table(dir, t, report, &["id", "name", "status"], |row| {
            let id = text(&row, "id").unwrap_or_default().to_string();
            staging.add("service", &id, &row)
        })?;
    }
    staging.seal()?;

    let path = scratch.join("records.ndjson");
    let mut out = BufWriter::new(std::fs::File::create(&path)?);
    let mut after = -1;
    loop {
        let page = staging.page("service", after, 500)?;
        let Some((last, _, _)) = page.last() else {
            break;
        };
        after = *last;
        for (_, id, mut s) in page {
            if let Some(org) = text(&s, "organization_id").map(str::to_string) {
                if let Some(org) = organization(&mut staging, &org)? {
                    s.insert("organization".into(), Value::Object(org));
                }
            }
            let mut links = Vec::new();
            for mut sal in staging.rows("service_at_location", &id)? {
                if let Some(location_id) = text(&sal, "location_id").map(str::to_string) {
                    if let Some(l) = location(&mut staging, &location_id)? {
                        staging.add("used_location", &location_id, &Row::new())?;
                        sal.insert("location".into(), Value::Object(l));
                    }
                }
                links.push(Value::Object(sal));
            }
            s.insert("service_at_locations".into(), Value::Array(links));
            for (field, stage) in [
                ("phones", "service_phone"),
                ("schedules", "schedule"),
                ("service_areas", "service_area"),
                ("languages", "language"),
                ("cost_options", "cost_option"),
            ] {
                s.insert(field.into(), children(&mut staging, stage, &id)?);
            }
            s.insert("attributes".into(), attributes(&mut staging, &id)?);
            writeln!(out, "{}", Value::Object(s))?;
        }
    }
    // Organisations, with the locations no service brought in.
    let mut after = -1;
    loop {
        let page = staging.page("organization", after, 500)?;
        let Some((last, _, _)) = page.last() else {
            break;
        };
        after = *last;
        for (_, id, _) in page {
            let Some(mut org) = organization(&mut staging, &id)? else {
                continue;
            };
            let mut locations = Vec::new();
            for link in staging.rows("location_of_org", &id)? {
                let Some(location_id) = text(&link, "id") else {
                    continue;
                };
                if staging.first("used_location", location_id)?.is_none() {
                    if let Some(l) = location(&mut staging, location_id)? {
                        locations.push(Value::Object(l));
                    }
                }
            }
            org.insert("locations".into(), Value::Array(locations));
            writeln!(out, "{}", Value::Object(org))?;
        }
    }
    out.flush()?;
    Ok(path)
}

fn children(staging: &mut Staging, stage: &str, id: &str) -> anyhow::Result<Value> {
    Ok(Value::Array(
        staging
            .rows(stage, id)?
            .into_iter()
            .map(Value::Object)
            .collect(),
    ))
}

/// Attributes of a record, each with its taxonomy term joined in.
fn attributes(staging: &mut Staging, id: &str) -> anyhow::Result<Value> {
    let mut out = Vec::new();
    for mut a in staging.rows("attribute", id)? {
        if let Some(term_id) = text(&a, "taxonomy_term_id").map(str::to_string) {
            if let Some(mut term) = staging.first("taxonomy_term", &term_id)? {
                let name = term.get("name").cloned().unwrap_or(Value::Null);
                term.entry("description").or_insert(name);
                a.insert("taxonomy_term".into(), Value::Object(term));
            }
        }
        out.push(Value::Object(a));
    }
    Ok(Value::Array(out))
}

fn organization(staging: &mut Staging, id: &str) -> anyhow::Result<Option<Row>> {
    let Some(mut o) = staging.first("organization", id)? else {
        return Ok(None);
    };
    o.insert("phones".into(), children(staging, "org_phone", id)?);
    o.insert(
        "organization_identifiers".into(),
        children(staging, "identifier", id)?,
    );
    Ok(Some(o))
}

fn location(staging: &mut Staging, id: &str) -> anyhow::Result<Option<Row>> {
    let Some(mut l) = staging.first("location", id)? else {
        return Ok(None);
    };
    l.insert("addresses".into(), children(staging, "address", id)?);
    l.insert(
        "accessibility".into(),
        children(staging, "accessibility", id)?,
    );
    l.insert("attributes".into(), attributes(staging, id)?);
    Ok(Some(l))
}

/// Writes a package directory as a zip archive (streamed: no seeking).
pub fn zip_dir(dir: &Path, out: impl std::io::Write) -> anyhow::Result<()> {
    let mut zip = zip::ZipWriter::new_stream(out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut names: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        zip.start_file(name.as_str(), options)?;
        std::io::copy(&mut std::fs::File::open(dir.join(&name))?, &mut zip)?;
    }
    zip.finish()?;
    Ok(())
}

/// Largest file unpacked from an uploaded package.
const MAX_UNPACKED_BYTES: u64 = 1 << 30;

/// Unpacks the CSV files and `datapackage.json` of an uploaded package
/// into `into`. Only plain file names are used (an entry's directories are
/// dropped), so an archive cannot write outside `into`.
pub fn unzip(archive: &Path, into: &Path) -> anyhow::Result<()> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(archive)?)
        .map_err(|e| anyhow::anyhow!("not a zip archive: {e}"))?;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i)?;
        let Some(name) = entry
            .enclosed_name()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        else {
            continue;
        };
        if !(name.ends_with(".csv") || name == "datapackage.json") || entry.is_dir() {
            continue;
        }
        let mut file = std::fs::File::create(into.join(&name))?;
        let copied = std::io::copy(
            &mut std::io::Read::take(&mut entry, MAX_UNPACKED_BYTES + 1),
            &mut file,
        )?;
        if copied > MAX_UNPACKED_BYTES {
            anyhow::bail!("{name} unpacks to more than {MAX_UNPACKED_BYTES} bytes");
        }
    }
    Ok(())
}
