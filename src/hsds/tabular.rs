//! The HSDS tabular data package: one CSV file per table plus
//! `datapackage.json`, columns as the HSDS 3.0 schemas list them.
//! Export writes it from the nested records; import joins the tables back
//! into nested records (child tables are held in memory, keyed by parent;
//! `services.csv` is read row by row) and imports them like JSON.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::{Map, Value};

use super::import::{Importer, Report};
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

type Row = Map<String, Value>;

/// Reads one CSV table as rows of non-empty cells (numbers where the
/// schema says so). A file that is missing is an empty table.
fn read_table(dir: &Path, table: &Table, report: &mut Report, required: &[&str]) -> Vec<Row> {
    let path = dir.join(&table.path);
    let Ok(mut reader) = csv::Reader::from_path(&path) else {
        return Vec::new();
    };
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
        Err(e) => {
            report.count(
                0,
                None,
                Err(format!("{}: unreadable header: {e}", table.path)),
            );
            return Vec::new();
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
        return Vec::new();
    }
    let numeric: HashMap<&str, bool> = table
        .columns
        .iter()
        .map(|(c, t)| (c.as_str(), t == "number"))
        .collect();
    let mut rows = Vec::new();
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
                rows.push(row);
            }
            Err(e) => report.count(
                n + 2,
                None,
                Err(format!("{} line {}: {e}", table.path, n + 2)),
            ),
        }
    }
    rows
}

fn by(rows: Vec<Row>, key: &str) -> HashMap<String, Vec<Row>> {
    let mut out: HashMap<String, Vec<Row>> = HashMap::new();
    for row in rows {
        if let Some(k) = row.get(key).and_then(Value::as_str) {
            out.entry(k.to_string()).or_default().push(row);
        }
    }
    out
}

fn children(map: &HashMap<String, Vec<Row>>, id: &str) -> Value {
    Value::Array(
        map.get(id)
            .into_iter()
            .flatten()
            .cloned()
            .map(Value::Object)
            .collect(),
    )
}

/// Imports a package directory (or the directory of a `datapackage.json`).
pub fn import_package(conn: &mut DbConnection, importer: &Importer<'_>, path: &Path) -> Report {
    let dir = if path.is_file() {
        path.parent().unwrap_or(Path::new("."))
    } else {
        path
    };
    let mut report = Report {
        dry_run: importer.dry_run,
        ..Report::default()
    };
    let all = tables();
    let table = |name: &str| all.iter().find(|t| t.name == name);
    let load = |name: &str, required: &[&str], report: &mut Report| {
        table(name)
            .map(|t| read_table(dir, t, report, required))
            .unwrap_or_default()
    };
    let terms: HashMap<String, Row> = load("taxonomy_term", &["id", "name"], &mut report)
        .into_iter()
        .filter_map(|r| Some((r.get("id")?.as_str()?.to_string(), r)))
        .collect();
    let with_terms = |rows: Vec<Row>| -> Vec<Row> {
        rows.into_iter()
            .map(|mut a| {
                if let Some(t) = a
                    .get("taxonomy_term_id")
                    .and_then(Value::as_str)
                    .and_then(|id| terms.get(id))
                {
                    let mut term = t.clone();
                    term.entry("description")
                        .or_insert_with(|| t.get("name").cloned().unwrap_or(Value::Null));
                    a.insert("taxonomy_term".into(), Value::Object(term));
                }
                a
            })
            .collect()
    };
    let attributes = by(
        with_terms(load("attribute", &["id"], &mut report)),
        "link_id",
    );
    let addresses = by(
        load("address", &["id", "location_id"], &mut report),
        "location_id",
    );
    let accessibility = by(
        load("accessibility", &["id", "location_id"], &mut report),
        "location_id",
    );
    let mut locations: HashMap<String, Row> = HashMap::new();
    for mut l in load("location", &["id", "location_type"], &mut report) {
        let Some(id) = l.get("id").and_then(Value::as_str).map(str::to_string) else {
            continue;
        };
        l.insert("addresses".into(), children(&addresses, &id));
        l.insert("accessibility".into(), children(&accessibility, &id));
        l.insert("attributes".into(), children(&attributes, &id));
        locations.insert(id, l);
    }
    let phones = load("phone", &["id", "number"], &mut report);
    let org_phones = by(phones.clone(), "organization_id");
    let service_phones = by(phones, "service_id");
    let identifiers = by(
        load(
            "organization_identifier",
            &["id", "identifier"],
            &mut report,
        ),
        "organization_id",
    );
    let mut organizations: HashMap<String, Row> = HashMap::new();
    let mut org_order = Vec::new();
    for mut o in load("organization", &["id", "name"], &mut report) {
        let Some(id) = o.get("id").and_then(Value::as_str).map(str::to_string) else {
            continue;
        };
        o.insert("phones".into(), children(&org_phones, &id));
        o.insert(
            "organization_identifiers".into(),
            children(&identifiers, &id),
        );
        org_order.push(id.clone());
        organizations.insert(id, o);
    }
    let sals = by(
        load("service_at_location", &["id", "service_id"], &mut report),
        "service_id",
    );
    let schedules = by(load("schedule", &["id"], &mut report), "service_id");
    let areas = by(load("service_area", &["id"], &mut report), "service_id");
    let languages = by(load("language", &["id"], &mut report), "service_id");
    let costs = by(load("cost_option", &["id"], &mut report), "service_id");
    let mut used_locations: std::collections::HashSet<String> = Default::default();
    let services = load("service", &["id", "name", "status"], &mut report);
    for (n, mut s) in services.into_iter().enumerate() {
        let id = s
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if let Some(org) = s
            .get("organization_id")
            .and_then(Value::as_str)
            .and_then(|o| organizations.get(o))
        {
            s.insert("organization".into(), Value::Object(org.clone()));
        }
        let links: Vec<Value> = sals
            .get(&id)
            .into_iter()
            .flatten()
            .map(|sal| {
                let mut sal = sal.clone();
                if let Some(l) = sal
                    .get("location_id")
                    .and_then(Value::as_str)
                    .and_then(|l| locations.get(l))
                {
                    used_locations.insert(
                        l.get("id")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    );
                    sal.insert("location".into(), Value::Object(l.clone()));
                }
                Value::Object(sal)
            })
            .collect();
        s.insert("service_at_locations".into(), Value::Array(links));
        s.insert("phones".into(), children(&service_phones, &id));
        s.insert("schedules".into(), children(&schedules, &id));
        s.insert("service_areas".into(), children(&areas, &id));
        s.insert("languages".into(), children(&languages, &id));
        s.insert("cost_options".into(), children(&costs, &id));
        s.insert("attributes".into(), children(&attributes, &id));
        let result = importer.import(conn, Value::Object(s));
        let id = Some(crate::model::values::clip(&id));
        report.note(n + 1, &id, importer);
        report.count(n + 1, id, result);
    }
    // Organisations (and their other locations) that no service brought in.
    let mut by_org: HashMap<String, Vec<Value>> = HashMap::new();
    for (id, l) in &locations {
        if !used_locations.contains(id) {
            if let Some(org) = l.get("organization_id").and_then(Value::as_str) {
                by_org
                    .entry(org.to_string())
                    .or_default()
                    .push(Value::Object(l.clone()));
            }
        }
    }
    for (n, id) in org_order.iter().enumerate() {
        let Some(org) = organizations.get(id) else {
            continue;
        };
        let mut org = org.clone();
        org.insert(
            "locations".into(),
            Value::Array(by_org.remove(id).unwrap_or_default()),
        );
        let result = importer.import(conn, Value::Object(org));
        let id = Some(crate::model::values::clip(id));
        report.note(n + 1, &id, importer);
        report.count(n + 1, id, result);
    }
    report
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
