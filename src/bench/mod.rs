//! `signpost bench`: generates realistic services on real Scottish
//! postcodes, builds the index from the database, runs a fixed query mix in
//! process and over HTTP, and prints latency percentiles, throughput, the
//! index build rate and peak memory. Figures go in `docs/benchmarks.md`.
//!
//! The generated data is written straight to a fresh SQLite file in one
//! transaction (no change log or audit: this measures search, not writes).
//! The same queries then run against a baseline built the usual way on the
//! same file (see `baseline`).

pub mod import;
pub mod links;

mod baseline;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};

use crate::clock::SystemClock;
use crate::config::Settings;
use crate::db::{self, DbConnection};
use crate::hours::HolidayCalendar;
use crate::model::enums::{AreaType, ServiceStatus};
use crate::search::query::{LocationScope, SearchPoint, SearchRequest, SortOrder};
use crate::search::slots::TimeFilter;
use crate::search::{Indexer, SearchIndex};
use crate::startup::{prepare, Application};

/// A small deterministic generator (SplitMix64): the same data every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Topic vocabulary: (category slug, name words, description phrases).
const TOPICS: &[(&str, &[&str], &[&str])] = &[
    (
        "food-banks",
        &["food bank", "food parcels", "emergency food"],
        &[
            "three days of food",
            "no referral needed",
            "toiletries and nappies too",
        ],
    ),
    (
        "community-pantries",
        &["pantry", "community larder", "food share"],
        &[
            "low-cost shopping",
            "membership for a small fee",
            "fresh fruit and veg",
        ],
    ),
    (
        "community-meals",
        &["lunch club", "community meal", "soup kitchen"],
        &["hot two-course lunch", "eat together", "pay what you can"],
    ),
    (
        "debt-advice",
        &["debt advice", "money clinic", "debt help"],
        &[
            "deal with arrears",
            "talk to creditors",
            "free confidential advice",
        ],
    ),
    (
        "benefits-advice",
        &["benefits advice", "welfare rights", "benefit checks"],
        &[
            "Universal Credit claims",
            "appeals and reviews",
            "disability benefits",
        ],
    ),
    (
        "energy-advice",
        &["energy advice", "warm homes", "fuel support"],
        &["cut heating bills", "prepayment meters", "fuel vouchers"],
    ),
    (
        "homelessness",
        &["housing options", "homeless support", "night shelter"],
        &[
            "somewhere safe tonight",
            "housing applications",
            "rough sleeping outreach",
        ],
    ),
    (
        "tenancy-support",
        &["tenancy support", "settling in", "home support"],
        &[
            "keep your tenancy",
            "rent and bills",
            "furniture and starter packs",
        ],
    ),
    (
        "counselling",
        &["counselling", "talking therapy", "listening service"],
        &[
            "trained volunteer counsellors",
            "six free sessions",
            "anxiety and low mood",
        ],
    ),
    (
        "peer-support",
        &["peer support", "mental health group", "wellbeing group"],
        &[
            "people with lived experience",
            "relaxed and welcoming",
            "weekly drop-in",
        ],
    ),
    (
        "walking-groups",
        &["walking group", "health walk", "buggy walk"],
        &["gentle pace", "trained walk leaders", "meet at the gates"],
    ),
    (
        "gentle-exercise",
        &["chair exercise", "tai chi", "gentle movement"],
        &["seated exercise", "improve balance", "for all abilities"],
    ),
    (
        "befriending",
        &["befriending", "telephone friendship", "friendship calls"],
        &[
            "a regular friendly call",
            "matched volunteers",
            "reduce loneliness",
        ],
    ),
    (
        "lunch-clubs",
        &["over 60s club", "social club", "afternoon tea"],
        &["games and chat", "transport available", "meet new people"],
    ),
    (
        "men-s-sheds",
        &["men's shed", "community shed", "workshop"],
        &[
            "woodwork and repairs",
            "tea and banter",
            "all skills welcome",
        ],
    ),
    (
        "carer-support",
        &["carers centre", "carer support", "carers group"],
        &[
            "adult carer support plans",
            "short breaks",
            "someone to talk to",
        ],
    ),
    (
        "alcohol",
        &["alcohol recovery", "recovery group", "drink support"],
        &[
            "cut down or stop",
            "SMART recovery meetings",
            "family support",
        ],
    ),
    (
        "recovery-cafes",
        &["recovery cafe", "recovery hub", "recovery community"],
        &[
            "alcohol and drug free space",
            "mutual aid",
            "volunteering in recovery",
        ],
    ),
    (
        "job-search",
        &["job club", "employability", "work support"],
        &[
            "CVs and applications",
            "interview practice",
            "one-to-one keyworker",
        ],
    ),
    (
        "digital-skills",
        &["digital skills", "computer class", "tablet help"],
        &[
            "get online safely",
            "video calls with family",
            "devices to borrow",
        ],
    ),
    (
        "dementia",
        &["memory cafe", "dementia support", "singing for the brain"],
        &[
            "people living with dementia",
            "carers welcome",
            "reminiscence",
        ],
    ),
    (
        "parenting-support",
        &["parent group", "family support", "stay and play"],
        &[
            "babies and toddlers",
            "peer support for parents",
            "baby clothes bank",
        ],
    ),
    (
        "independent-advocacy",
        &["advocacy", "independent advocacy", "speak up"],
        &[
            "have your say",
            "meetings and hearings",
            "mental health tribunal",
        ],
    ),
    (
        "community-transport",
        &["community transport", "dial-a-bus", "volunteer drivers"],
        &[
            "door to door",
            "hospital appointments",
            "wheelchair accessible",
        ],
    ),
];

/// Opening patterns: (byday, opens, closes).
const HOURS: &[(&str, &str, &str)] = &[
    ("MO,TU,WE,TH,FR", "09:00", "17:00"),
    ("MO,WE,FR", "10:00", "14:00"),
    ("TU,TH", "13:30", "16:00"),
    ("SA", "10:00", "12:00"),
    ("MO,TU,WE,TH,FR,SA,SU", "08:00", "20:00"),
    ("1SA,3SA", "10:00", "13:00"),
    ("WE", "18:00", "20:30"),
    ("MO,TU,WE,TH", "09:30", "12:30"),
];

const PLACES: &[&str] = &[
    "Parkhead",
    "Dennistoun",
    "Bridgeton",
    "Easterhouse",
    "Govan",
    "Leith",
    "Craigmillar",
    "Muirhouse",
    "Lochee",
    "Whitfield",
    "Torry",
    "Kincorth",
    "Merkinch",
    "Dalneigh",
    "Paisley",
    "Ferguslie",
    "Methil",
    "Kirkcaldy",
    "Motherwell",
    "Wishaw",
];
const ADJECTIVES: &[&str] = &[
    "Community",
    "Friendly",
    "Neighbourhood",
    "Local",
    "Open Door",
    "Together",
    "Hope",
    "Bright Start",
];
const RARE: &[&str] = &[
    "ukulele",
    "beekeeping",
    "origami",
    "bodhran",
    "kayaking",
    "calligraphy",
    "genealogy",
    "taxidermy",
];

struct Generated {
    services: usize,
    seconds: f64,
}

/// Writes `n` services (a fifth as many organisations) to the database.
fn generate(
    conn: &mut DbConnection,
    n: usize,
    postcodes: &[(String, f64, f64, String, String)],
) -> anyhow::Result<Generated> {
    let started = Instant::now();
    let DbConnection::Sqlite(sqlite) = conn else {
        anyhow::bail!("the benchmark generates into SQLite");
    };
    sqlite.batch_execute("PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF;")?;
    let mut rng = Rng(0x5EED_0001);
    let now = Utc::now().naive_utc();
    let orgs = (n / 5).max(1);
    let bar = progress(n as u64, "generating services");
    sqlite.transaction::<_, anyhow::Error, _>(|c| {
        let term_id = |slug: &str| crate::db::taxonomy::shipped_term_id(crate::model::enums::TaxonomyKind::Category, slug).to_string();
        for o in 0..orgs {
            let org_id = uuid::Uuid::from_u128(0xB000_0000_0000_0000_0000_0000_0000_0000 + o as u128).to_string();
            let place = rng.pick(PLACES);
            diesel::sql_query(
                "INSERT INTO organisations (id, name, description, website, email, phone, charity_number, logo_url, archived_at, created_at, updated_at, version) \
                 VALUES (?, ?, ?, NULL, NULL, NULL, NULL, NULL, NULL, ?, ?, 1)",
            )
            .bind::<diesel::sql_types::Text, _>(&org_id)
            .bind::<diesel::sql_types::Text, _>(format!("{} {} Trust {o}", rng.pick(ADJECTIVES), place))
            .bind::<diesel::sql_types::Text, _>(format!("A community organisation in {place}."))
            .bind::<diesel::sql_types::Timestamp, _>(now)
            .bind::<diesel::sql_types::Timestamp, _>(now)
            .execute(c)?;
        }
        for s in 0..n {
            let id = uuid::Uuid::from_u128(0xA000_0000_0000_0000_0000_0000_0000_0000 + s as u128).to_string();
            let org_id = uuid::Uuid::from_u128(0xB000_0000_0000_0000_0000_0000_0000_0000 + (s % orgs) as u128).to_string();
            let (slug, names, phrases) = rng.pick(TOPICS);
            let place = rng.pick(PLACES);
            let mut name = format!("{} {}", place, rng.pick(names));
            if rng.below(50) == 0 {
                name.push_str(&format!(" and {}", rng.pick(RARE)));
            }
            let description = format!(
                "{} in {}: {}, {}. Run by volunteers; {}.",
                rng.pick(names),
                place,
                rng.pick(phrases),
                rng.pick(phrases),
                rng.pick(phrases)
            );
            let verified_days = rng.below(900) as i64;
            let verified = now - chrono::Duration::days(verified_days);
            let national = rng.below(10) == 0;
            diesel::sql_query(
                "INSERT INTO services (id, organisation_id, name, description, url, email, status, status_reason, reopens_on, replaced_by, \
                 delivery_methods, self_referral, referral_required, referral_url, free, fees_text, languages, minimum_age, maximum_age, \
                 eligibility_description, closed_on_public_holidays, hours_notes, last_verified_at, verified_by, archived_at, created_at, updated_at, version) \
                 VALUES (?, ?, ?, ?, NULL, NULL, 'active', NULL, NULL, NULL, ?, 1, 0, NULL, 1, NULL, 'en', NULL, NULL, NULL, 0, NULL, ?, 'bench', NULL, ?, ?, 1)",
            )
            .bind::<diesel::sql_types::Text, _>(&id)
            .bind::<diesel::sql_types::Text, _>(&org_id)
            .bind::<diesel::sql_types::Text, _>(&name)
            .bind::<diesel::sql_types::Text, _>(&description)
            .bind::<diesel::sql_types::Text, _>(if national { "phone,online" } else { "in_person" })
            .bind::<diesel::sql_types::Timestamp, _>(verified)
            .bind::<diesel::sql_types::Timestamp, _>(now)
            .bind::<diesel::sql_types::Timestamp, _>(now)
            .execute(c)?;
            let (days, opens, closes) = *rng.pick(HOURS);
            let freq = if days.starts_with(|c: char| c.is_ascii_digit()) { "monthly" } else { "weekly" };
            diesel::sql_query(
                "INSERT INTO schedules (id, service_id, location_id, freq, byday, opens_at, closes_at, valid_from, valid_to, description, position, overnight) \
                 VALUES (?, ?, NULL, ?, ?, ?, ?, NULL, NULL, NULL, 0, FALSE)",
            )
            .bind::<diesel::sql_types::Text, _>(uuid::Uuid::new_v5(&uuid::Uuid::nil(), id.as_bytes()).to_string())
            .bind::<diesel::sql_types::Text, _>(&id)
            .bind::<diesel::sql_types::Text, _>(freq)
            .bind::<diesel::sql_types::Text, _>(days)
            .bind::<diesel::sql_types::Text, _>(opens)
            .bind::<diesel::sql_types::Text, _>(closes)
            .execute(c)?;
            if rng.below(5) == 0 {
                let (min, max) = if rng.below(2) == 0 { (Some(60), None) } else { (None, Some(25)) };
                diesel::sql_query("UPDATE services SET minimum_age = ?, maximum_age = ? WHERE id = ?")
                    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Integer>, _>(min)
                    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Integer>, _>(max)
                    .bind::<diesel::sql_types::Text, _>(&id)
                    .execute(c)?;
            }
            diesel::sql_query("INSERT INTO service_terms (service_id, term_id) VALUES (?, ?)")
                .bind::<diesel::sql_types::Text, _>(&id)
                .bind::<diesel::sql_types::Text, _>(term_id(slug))
                .execute(c)?;
            if national {
                let (_, _, _, council, board) = rng.pick(postcodes);
                let area = match rng.below(3) {
                    0 => "S92000003".to_string(),
                    1 => board.clone(),
                    _ => council.clone(),
                };
                diesel::sql_query("INSERT INTO service_service_areas (service_id, area_code) VALUES (?, ?)")
                    .bind::<diesel::sql_types::Text, _>(&id)
                    .bind::<diesel::sql_types::Text, _>(area)
                    .execute(c)?;
            } else {
                let venues = 1 + usize::from(rng.below(5) == 0);
                for v in 0..venues {
                    let (postcode, lat, lon, council, board) = rng.pick(postcodes);
                    let loc_id = uuid::Uuid::from_u128(0xC000_0000_0000_0000_0000_0000_0000_0000 + (s * 2 + v) as u128).to_string();
                    diesel::sql_query(
                        "INSERT INTO locations (id, organisation_id, name, description, address_1, address_2, town, postcode, latitude, longitude, \
                         location_type, council_area_code, health_board_code, archived_at, created_at, updated_at, version) \
                         VALUES (?, ?, ?, NULL, NULL, NULL, ?, ?, ?, ?, 'physical', ?, ?, NULL, ?, ?, 1)",
                    )
                    .bind::<diesel::sql_types::Text, _>(&loc_id)
                    .bind::<diesel::sql_types::Text, _>(&org_id)
                    .bind::<diesel::sql_types::Text, _>(format!("{place} hall"))
                    .bind::<diesel::sql_types::Text, _>(*place)
                    .bind::<diesel::sql_types::Text, _>(postcode)
                    .bind::<diesel::sql_types::Double, _>(lat)
                    .bind::<diesel::sql_types::Double, _>(lon)
                    .bind::<diesel::sql_types::Text, _>(council)
                    .bind::<diesel::sql_types::Text, _>(board)
                    .bind::<diesel::sql_types::Timestamp, _>(now)
                    .bind::<diesel::sql_types::Timestamp, _>(now)
                    .execute(c)?;
                    diesel::sql_query("INSERT INTO service_at_locations (id, service_id, location_id) VALUES (?, ?, ?)")
                        .bind::<diesel::sql_types::Text, _>(loc_id.replacen('c', "d", 1))
                        .bind::<diesel::sql_types::Text, _>(&id)
                        .bind::<diesel::sql_types::Text, _>(&loc_id)
                        .execute(c)?;
                }
            }
            if s % 1_000 == 999 {
                bar.inc(1_000);
            }
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    sqlite.batch_execute("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
    Ok(Generated {
        services: n,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn progress(len: u64, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>20} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(message);
    bar
}

/// One query of the mix, as HTTP query string and as an in-process request.
struct MixQuery {
    kind: &'static str,
    http: String,
    request: SearchRequest,
}

fn query_mix(
    count: usize,
    postcodes: &[(String, f64, f64, String, String)],
    index: &crate::geo::areas::AreaIndex,
) -> Vec<MixQuery> {
    let mut rng = Rng(0x5EED_0002);
    let kinds = [
        "keyword_postcode_radius",
        "category_only",
        "national",
        "typo",
        "long_tail",
        "open_now_age",
    ];
    let holidays = Arc::new(HolidayCalendar::new([]));
    // A weekday mid-morning, so "open now" has plenty to find.
    let open_at = chrono::DateTime::parse_from_rfc3339("2026-11-24T10:30:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now());
    (0..count)
        .map(|i| {
            let kind = kinds[i % kinds.len()];
            let (postcode, lat, lon, _, _) = rng.pick(postcodes);
            let (_, names, _) = rng.pick(TOPICS);
            let word = rng.pick(names).to_string();
            let areas: Vec<(String, AreaType)> = index
                .codes_at(*lat, *lon)
                .into_iter()
                .filter_map(|c| AreaType::of_code(&c).map(|t| (c, t)))
                .collect();
            let point = SearchPoint {
                latitude: *lat,
                longitude: *lon,
                areas,
            };
            let mut request = SearchRequest {
                text: None,
                point: None,
                radius_m: 5_000.0,
                categories: Vec::new(),
                community_groups: Vec::new(),
                service_areas: Vec::new(),
                scope: LocationScope::All,
                statuses: vec![ServiceStatus::Active],
                include_stale: true,
                freshness: Vec::new(),
                sort: SortOrder::Relevance,
                offset: 0,
                limit: 20,
                now: Utc::now(),
                review_days: 365,
                grace_days: 61,
                attributes: Vec::new(),
                ages: None,
                modified_after: None,
                time: None,
                holidays: holidays.clone(),
            };
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let http = match kind {
                "keyword_postcode_radius" => {
                    request.text = Some(word.clone());
                    request.point = Some(point);
                    format!("q={}&postcode={}", enc(&word), enc(postcode))
                }
                "category_only" => {
                    let (slug, _, _) = rng.pick(TOPICS);
                    request.categories = vec![slug.to_string()];
                    format!("category={slug}")
                }
                "national" => {
                    request.point = Some(point);
                    request.scope = LocationScope::National;
                    format!("postcode={}&location_type=national", enc(postcode))
                }
                "typo" => {
                    let mut typo: Vec<char> = word.chars().collect();
                    if typo.len() > 4 {
                        typo.swap(1, 2);
                    }
                    let typo: String = typo.into_iter().collect();
                    request.text = Some(typo.clone());
                    request.point = Some(point);
                    format!("q={}&postcode={}", enc(&typo), enc(postcode))
                }
                "open_now_age" => {
                    request.point = Some(point);
                    request.ages = Some((70, 70));
                    request.time = Some(TimeFilter::at(open_at, &holidays));
                    format!(
                        "postcode={}&open_at=2026-11-24T10:30:00Z&age=70",
                        enc(postcode)
                    )
                }
                _ => {
                    let rare = rng.pick(RARE).to_string();
                    request.text = Some(rare.clone());
                    format!("q={}", enc(&rare))
                }
            };
            MixQuery {
                kind,
                http,
                request,
            }
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1_000.0
}

pub(crate) fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_string)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// CPU time this process has used so far (all threads), in seconds; 0
/// where the kernel does not say. `/proc` counts in USER_HZ, 100 a second.
pub(crate) fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // The fields after the command name (which is in parentheses).
            let fields: Vec<&str> = s.rsplit_once(')')?.1.split_whitespace().collect();
            let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
            Some((ticks(11)? + ticks(12)?) / 100.0)
        })
        .unwrap_or(0.0)
}

pub struct BenchOptions {
    pub sizes: Vec<usize>,
    pub dir: PathBuf,
    pub queries: usize,
    pub http_seconds: u64,
    pub http_clients: usize,
    /// Reuse data generated by an earlier run with the same size and directory.
    pub reuse: bool,
    /// Also run the SQLite FTS5 + R*Tree baseline.
    pub baseline: bool,
}

/// A postcode with its latitude, longitude, council area and health board.
type Place = (String, f64, f64, String, String);

/// Every full postcode of the shipped index, in order: the same list on
/// every run, for picking places deterministically.
fn postcodes() -> anyhow::Result<Vec<Place>> {
    let postcode_index = crate::geo::PostcodeIndex::shared()?;
    let mut postcodes: Vec<Place> = postcode_index
        .full_postcodes()
        .map(|p| {
            (
                p.compact.to_string(),
                p.latitude,
                p.longitude,
                p.council_area_code.to_string(),
                String::new(),
            )
        })
        .collect();
    postcodes.sort_by(|a, b| a.0.cmp(&b.0));
    for p in postcodes.iter_mut() {
        let parsed = crate::geo::Postcode::parse(&p.0).map_err(anyhow::Error::msg)?;
        let place = postcode_index
            .lookup(&parsed)
            .context("postcode vanished")?;
        p.0 = parsed.as_str().to_string();
        p.4 = place.health_board_code.unwrap_or_default();
    }
    Ok(postcodes)
}

/// Runs the benchmark for each size and prints a Markdown report.
pub async fn run(options: BenchOptions) -> anyhow::Result<()> {
    let postcodes = postcodes()?;
    let areas = crate::geo::areas::AreaIndex::shared()?;
    println!("| services | generate /s | reindex /s | query | p50 ms | p95 ms | p99 ms | in-process q/s |");
    println!("|---:|---:|---:|---|---:|---:|---:|---:|");
    let mut http_lines = Vec::new();
    let mut baseline_lines = Vec::new();
    for &size in &options.sizes {
        let dir = options.dir.join(format!("bench-{size}"));
        let marker = dir.join("complete");
        let reuse = options.reuse && marker.exists();
        if dir.exists() && !reuse {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        let settings = bench_settings(&dir);
        let pool = db::connect(&settings.database(), 4)?;
        db::migrate(&pool)?;
        {
            let mut conn = pool.get()?;
            db::areas::ensure_reference_data(&mut conn)?;
            let stamp = crate::db::changes::Stamp {
                actor: crate::model::Actor::system("bench"),
                at: Utc::now(),
            };
            db::taxonomy::ensure_shipped(&mut conn, &stamp)?;
        }
        let (search, gen_rate, index_rate) = if reuse {
            // An index that is missing or of an older schema is rebuilt
            // here: that build is timed like a fresh one.
            let (search, seq) = SearchIndex::open_or_create(&settings.index_dir())?;
            let search = Arc::new(search);
            let started = Instant::now();
            drop(Indexer::start(search.clone(), pool.clone(), seq, None)?);
            let index_rate = match seq {
                None => size as f64 / started.elapsed().as_secs_f64(),
                Some(_) => f64::NAN,
            };
            (search, f64::NAN, index_rate)
        } else {
            let generated = {
                let mut conn = pool.get()?;
                generate(&mut conn, size, &postcodes)?
            };
            let (search, _) = SearchIndex::open_or_create(&settings.index_dir())?;
            let search = Arc::new(search);
            let bar = progress(size as u64, "indexing");
            let started = Instant::now();
            let indexer = Indexer::start(search.clone(), pool.clone(), None, Some(&bar))?;
            let index_seconds = started.elapsed().as_secs_f64();
            bar.finish_and_clear();
            drop(indexer);
            std::fs::write(&marker, b"generated and indexed\n")?;
            (
                search,
                generated.services as f64 / generated.seconds,
                size as f64 / index_seconds,
            )
        };

        let mix = query_mix(options.queries, &postcodes, &areas);
        let mut by_kind: BTreeMap<&str, Vec<Duration>> = Default::default();
        let mut all = Vec::new();
        let mut results = 0usize;
        let run_started = Instant::now();
        for q in &mix {
            let t = Instant::now();
            results += search.search(&q.request)?.total;
            let d = t.elapsed();
            by_kind.entry(q.kind).or_default().push(d);
            all.push(d);
        }
        let qps = mix.len() as f64 / run_started.elapsed().as_secs_f64();
        all.sort();
        println!(
            "| {size} | {gen_rate:.0} | {index_rate:.0} | **all** | {:.2} | {:.2} | {:.2} | {qps:.0} |",
            percentile(&all, 0.5),
            percentile(&all, 0.95),
            percentile(&all, 0.99)
        );
        let mut tantivy_by_kind = by_kind;
        for times in tantivy_by_kind.values_mut() {
            times.sort();
        }
        for (kind, times) in &tantivy_by_kind {
            println!(
                "| | | | {kind} | {:.2} | {:.2} | {:.2} | |",
                percentile(times, 0.5),
                percentile(times, 0.95),
                percentile(times, 0.99)
            );
        }
        tracing::debug!(results, "in-process run done");
        drop(search);

        if options.baseline {
            baseline_lines.extend(run_baseline(&settings, &mix, &tantivy_by_kind, size)?);
        }

        http_lines.push(
            http_run(
                &settings,
                &mix,
                options.http_seconds,
                options.http_clients,
                size,
            )
            .await?,
        );
    }
    println!();
    println!(
        "| services | HTTP clients | seconds | requests | errors | searches/s | p50 ms | p99 ms |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for line in http_lines {
        println!("{line}");
    }
    println!();
    println!("Baseline on the same file and queries: SQLite FTS5 + R*Tree (ms)");
    println!();
    println!("| services | query | p50 | p95 | p99 | Signpost p50 |");
    println!("|---:|---|---:|---:|---:|---:|");
    for line in baseline_lines {
        println!("{line}");
    }
    println!();
    println!(
        "peak resident memory of this process: {:.0} MB",
        peak_rss_mb()
    );
    Ok(())
}

/// Runs a sample of the mix (100 queries of each kind; the baseline is slow
/// at a million) on the SQLite FTS5 + R*Tree baseline, as report lines.
fn run_baseline(
    settings: &Settings,
    mix: &[MixQuery],
    tantivy_by_kind: &BTreeMap<&str, Vec<Duration>>,
    size: usize,
) -> anyhow::Result<Vec<String>> {
    let mut sqlite = diesel::SqliteConnection::establish(&settings.database_path())?;
    let prepare_seconds = baseline::prepare(&mut sqlite)?;
    let mut lines = Vec::new();
    let sample = &mix[..mix.len().min(600)];
    for (kind, mut times) in baseline::run(&mut sqlite, sample)? {
        times.sort();
        let signpost_p50 = tantivy_by_kind
            .get(kind)
            .map(|v| percentile(v, 0.5))
            .unwrap_or(f64::NAN);
        lines.push(format!(
            "| {size} | {kind} | {:.2} | {:.2} | {:.2} | {signpost_p50:.2} |",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            percentile(&times, 0.99),
        ));
    }
    lines.push(format!(
        "| {size} | (building FTS5 + R*Tree: {prepare_seconds:.1} s) | | | | |"
    ));
    Ok(lines)
}

fn bench_settings(dir: &Path) -> Settings {
    Settings {
        bind: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        database_url: Some(dir.join("bench.db").to_string_lossy().into_owned()),
        // The load generator is one anonymous IP; measure search, not the limiter's refusals.
        rate_anonymous_per_minute: u32::MAX,
        // No background jobs competing with the measurement.
        link_check_hours: 0,
        sweep_secs: 0,
        webhook_secs: 0,
        ..Settings::new(dir.to_path_buf())
    }
}

/// Serves the generated directory and drives it from `clients` concurrent
/// keep-alive connections for `seconds`.
async fn http_run(
    settings: &Settings,
    mix: &[MixQuery],
    seconds: u64,
    clients: usize,
    size: usize,
) -> anyhow::Result<String> {
    let (state, indexer) = tokio::task::spawn_blocking({
        let settings = settings.clone();
        move || prepare(&settings, Arc::new(SystemClock), false)
    })
    .await??;
    let app = Application::build(settings, state, indexer)?;
    let base = format!("http://127.0.0.1:{}/api/v1/services/search?", app.port());
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());
    let paths: Arc<Vec<String>> =
        Arc::new(mix.iter().map(|q| format!("{base}{}", q.http)).collect());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let paths = paths.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut times = Vec::new();
            let mut errors = 0usize;
            let mut i = c;
            while Instant::now() < deadline {
                let t = Instant::now();
                match client.get(&paths[i % paths.len()]).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                    }
                    _ => errors += 1,
                }
                times.push(t.elapsed());
                i += clients;
            }
            (times, errors)
        }));
    }
    let mut times = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (mut ts, e) = t.await?;
        times.append(&mut ts);
        errors += e;
    }
    handle.stop(true).await;
    let _ = server.await;
    times.sort();
    Ok(format!(
        "| {size} | {clients} | {seconds} | {} | {errors} | {:.0} | {:.2} | {:.2} |",
        times.len(),
        times.len() as f64 / seconds as f64,
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    ))
}
