//! What a team would otherwise build, on the same data and queries: SQLite
//! FTS5 for keywords, an R*Tree for the radius (bounding box, then exact
//! distance in Rust, as SQLite here has no trigonometry), plain joins for
//! categories, areas, hours and ages. It answers less (no typo tolerance,
//! synonyms, facets, monthly rules, holidays or exceptions), so it is a
//! generous baseline.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use chrono::{Datelike, Timelike};
use chrono_tz::Europe::London;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Integer, Nullable, Text};

use super::MixQuery;
use crate::search::cells;
use crate::search::query::LocationScope;
use crate::search::slots::TimeFilter;

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Double)]
    rank: f64,
    #[diesel(sql_type = Nullable<Double>)]
    latitude: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    longitude: Option<f64>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Builds the FTS5 and R*Tree tables; returns the seconds it took.
pub fn prepare(conn: &mut SqliteConnection) -> anyhow::Result<f64> {
    let started = Instant::now();
    conn.batch_execute(
        "DROP TABLE IF EXISTS bench_fts;
         DROP TABLE IF EXISTS bench_rtree;
         CREATE VIRTUAL TABLE bench_fts USING fts5(name, description, content='services', content_rowid='rowid', tokenize='porter unicode61');
         INSERT INTO bench_fts(bench_fts) VALUES('rebuild');
         CREATE VIRTUAL TABLE bench_rtree USING rtree(id, min_lat, max_lat, min_lon, max_lon);
         INSERT INTO bench_rtree SELECT rowid, latitude, latitude, longitude, longitude FROM locations WHERE latitude IS NOT NULL;",
    )?;
    let rows: Vec<Count> = diesel::sql_query("SELECT count(*) AS n FROM bench_rtree").load(conn)?;
    tracing::debug!(
        locations = rows.first().map(|r| r.n),
        "baseline tables built"
    );
    Ok(started.elapsed().as_secs_f64())
}

/// User words as an FTS5 expression of quoted terms (never syntax).
fn fts_expression(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

const LOCATED: &str = "JOIN service_at_locations sal ON sal.service_id = s.id \
     JOIN locations l ON l.id = sal.location_id \
     WHERE l.rowid IN (SELECT id FROM bench_rtree WHERE min_lat >= ? AND max_lat <= ? AND min_lon >= ? AND max_lon <= ?)";

/// Runs one query the way the baseline would and returns how many matched.
fn run_one(conn: &mut SqliteConnection, q: &MixQuery) -> anyhow::Result<usize> {
    let r = &q.request;
    let bbox = r.point.as_ref().map(|p| {
        let dlat = r.radius_m / 111_320.0;
        let dlon = r.radius_m / (111_320.0 * p.latitude.to_radians().cos());
        (
            p.latitude - dlat,
            p.latitude + dlat,
            p.longitude - dlon,
            p.longitude + dlon,
        )
    });
    let rows: Vec<Row> = match (q.kind, bbox) {
        ("keyword_postcode_radius" | "typo", Some((a, b, c, d))) => diesel::sql_query(format!(
            "SELECT s.id AS id, bm25(bench_fts) AS rank, l.latitude AS latitude, l.longitude AS longitude \
             FROM bench_fts JOIN services s ON s.rowid = bench_fts.rowid {LOCATED} \
             AND bench_fts MATCH ? AND s.status = 'active'"
        ))
        .bind::<Double, _>(a)
        .bind::<Double, _>(b)
        .bind::<Double, _>(c)
        .bind::<Double, _>(d)
        .bind::<Text, _>(fts_expression(r.text.as_deref().unwrap_or("")))
        .load(conn)?,
        ("long_tail", _) => diesel::sql_query(
            "SELECT s.id AS id, bm25(bench_fts) AS rank, NULL AS latitude, NULL AS longitude \
             FROM bench_fts JOIN services s ON s.rowid = bench_fts.rowid \
             WHERE bench_fts MATCH ? AND s.status = 'active'",
        )
        .bind::<Text, _>(fts_expression(r.text.as_deref().unwrap_or("")))
        .load(conn)?,
        ("category_only", _) => {
            let term = crate::db::taxonomy::shipped_term_id(crate::model::enums::TaxonomyKind::Category, &r.categories[0]);
            diesel::sql_query(
                "SELECT s.id AS id, 0.0 AS rank, NULL AS latitude, NULL AS longitude \
                 FROM service_terms st JOIN services s ON s.id = st.service_id \
                 WHERE st.term_id = ? AND s.status = 'active' ORDER BY s.name, s.id",
            )
            .bind::<Text, _>(term.to_string())
            .load(conn)?
        }
        ("national", _) if r.scope == LocationScope::National => {
            let mut codes: Vec<String> = r.point.iter().flat_map(|p| p.areas.iter().map(|(c, _)| c.clone())).collect();
            if codes.is_empty() {
                codes.push(String::new());
            }
            let placeholders = vec!["?"; codes.len()].join(",");
            let mut query = diesel::sql_query(format!(
                "SELECT DISTINCT s.id AS id, 0.0 AS rank, NULL AS latitude, NULL AS longitude \
                 FROM service_service_areas a JOIN services s ON s.id = a.service_id \
                 WHERE a.area_code IN ({placeholders}) AND s.status = 'active' \
                 AND NOT EXISTS (SELECT 1 FROM service_at_locations x WHERE x.service_id = s.id)"
            ))
            .into_boxed();
            for code in codes {
                query = query.bind::<Text, _>(code);
            }
            query.load(conn)?
        }
        ("open_now_age", Some((a, b, c, d))) => {
            let (day, time) = match r.time {
                Some(TimeFilter::At { at, .. }) => {
                    let local = at.with_timezone(&London);
                    let day = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][local.weekday().num_days_from_monday() as usize];
                    (day, format!("{:02}:{:02}", local.hour(), local.minute()))
                }
                _ => ("MO", "12:00".to_string()),
            };
            let age = r.ages.map_or(30, |(a, _)| a) as i32;
            diesel::sql_query(format!(
                "SELECT DISTINCT s.id AS id, 0.0 AS rank, l.latitude AS latitude, l.longitude AS longitude \
                 FROM services s {LOCATED} \
                 AND s.status = 'active' \
                 AND (s.minimum_age IS NULL OR s.minimum_age <= ?) AND (s.maximum_age IS NULL OR s.maximum_age >= ?) \
                 AND EXISTS (SELECT 1 FROM schedules sc WHERE sc.service_id = s.id AND sc.freq = 'weekly' \
                             AND instr(sc.byday, ?) > 0 AND sc.opens_at <= ? AND sc.closes_at > ?)"
            ))
            .bind::<Double, _>(a)
            .bind::<Double, _>(b)
            .bind::<Double, _>(c)
            .bind::<Double, _>(d)
            .bind::<Integer, _>(age)
            .bind::<Integer, _>(age)
            .bind::<Text, _>(day)
            .bind::<Text, _>(time.clone())
            .bind::<Text, _>(time)
            .load(conn)?
        }
        _ => Vec::new(),
    };
    // Exact radius and one row per service (its nearest location), then rank.
    let mut best: HashMap<String, (f64, f64)> = HashMap::new();
    for row in rows {
        let distance = match (r.point.as_ref(), row.latitude, row.longitude) {
            (Some(p), Some(lat), Some(lon)) => {
                let d = cells::distance_m((p.latitude, p.longitude), (lat, lon));
                if d > r.radius_m {
                    continue;
                }
                d
            }
            _ => 0.0,
        };
        let entry = best.entry(row.id).or_insert((row.rank, distance));
        entry.1 = entry.1.min(distance);
    }
    let mut ranked: Vec<(String, (f64, f64))> = best.into_iter().collect();
    ranked.sort_by(|x, y| {
        x.1 .0
            .total_cmp(&y.1 .0)
            .then(x.1 .1.total_cmp(&y.1 .1))
            .then(x.0.cmp(&y.0))
    });
    let total = ranked.len();
    ranked.truncate(20);
    Ok(total)
}

/// Times every query of the mix; returns latencies by kind.
pub fn run(
    conn: &mut SqliteConnection,
    mix: &[MixQuery],
) -> anyhow::Result<BTreeMap<&'static str, Vec<Duration>>> {
    let mut by_kind: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    for q in mix {
        let started = Instant::now();
        run_one(conn, q)?;
        by_kind.entry(q.kind).or_default().push(started.elapsed());
    }
    Ok(by_kind)
}
