//! `GET /api/v1/services/search` (keyword, place and filter search over the
//! index), `GET /api/v1/suggest` (typeahead) and `GET /api/v1/places`.
//!
//! Search has its own path rather than overloading `GET /services`: the
//! list endpoint pages the database in a stable order for sync clients,
//! while search ranks from the index and returns distances and facets.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::envelope::{Links, Meta, Pagination, META};
use super::error::{ApiError, Problem};
use super::extract::{self, QueryParams};
use crate::db::paging::{total_pages, PageRequest};
use crate::geo::locate::{locate_postcode, LocateError, Located, Resolution};
use crate::geo::places::Place;
use crate::model::enums::FreshnessState;
use crate::model::enums::{AreaType, DeliveryMethod, ServiceStatus};
use crate::model::service::{parse_clock_time, parse_closing_time};
use crate::model::values::{clip, Slug};
use crate::search::index::{FacetCount, SearchHit, SearchResults, TaxonomyCache};
use crate::search::query::{
    LocationScope, SearchPoint, SearchRequest, SortOrder, DEFAULT_RADIUS_M, MAX_RADIUS_M,
    MAX_WINDOW,
};
use crate::search::slots::TimeFilter;
use crate::state::AppState;
use chrono::{DateTime, NaiveTime, Utc, Weekday};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/services/search", web::get().to(search))
        .route("/suggest", web::get().to(suggest))
        .route("/places", web::get().to(places));
}

const MAX_QUERY_CHARS: usize = 200;

/// Query parameters of `GET /api/v1/services/search`. Lists may be given
/// comma-separated or by repeating the parameter. Unknown parameters are a 400.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the contract; the handler reads the raw pairs.
pub struct SearchParams {
    /// Keywords (plain words: quotes, colons, brackets and AND/OR are not syntax).
    #[param(max_length = 200, example = "debt advice")]
    q: Option<String>,
    /// Full postcode (`G31 2ER`), sector (`G31 2`) or district (`G31`), any case and spacing.
    #[param(example = "G31 2ER")]
    postcode: Option<String>,
    /// Latitude (with `lon`, instead of `postcode`).
    #[param(minimum = -90, maximum = 90)]
    lat: Option<f64>,
    #[param(minimum = -180, maximum = 180)]
    lon: Option<f64>,
    /// Metres from the point (default 5,000; at most 100,000).
    #[param(minimum = 1, maximum = 100000)]
    radius: Option<u32>,
    /// Category slugs; a parent category matches its descendants.
    category: Option<Vec<String>>,
    /// Community group slugs ("who it is for").
    community_group: Option<Vec<String>>,
    /// Service area codes the service must cover (e.g. `S12000049`).
    service_area: Option<Vec<String>>,
    /// `local` (a location within the radius), `national` (covers the area, no location) or `all` (default).
    #[param(pattern = "^(local|national|all)$")]
    location_type: Option<String>,
    /// Statuses to include (default `active`; see also `include_closed`).
    status: Option<Vec<ServiceStatus>>,
    /// Include closed listings (defunct, inactive, temporarily closed), demoted; default false.
    include_closed: Option<bool>,
    /// Include listings overdue for review (default true; they are demoted).
    include_stale: Option<bool>,
    /// Only listings in these freshness states (any of them).
    freshness: Option<Vec<FreshnessState>>,
    /// `relevance` (default), `distance` (needs a point), `name` or `recently_verified`.
    #[param(pattern = "^(relevance|distance|name|recently_verified)$")]
    sort: Option<String>,
    #[param(minimum = 1)]
    page: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i64>,
    /// Only services open now (Europe/London time, holidays and exceptions included).
    open_now: Option<bool>,
    /// Only services open at this instant (RFC 3339).
    open_at: Option<String>,
    /// With `start_time`/`end_time`: open at some point in that window on this
    /// day of a typical week (ORUK style).
    #[param(pattern = "^(MO|TU|WE|TH|FR|SA|SU)$")]
    day: Option<String>,
    /// `HH:MM`, default 00:00.
    start_time: Option<String>,
    /// `HH:MM`, default 24:00 (the end of the day).
    end_time: Option<String>,
    /// The instant `opening` is computed for (RFC 3339; default now).
    at: Option<String>,
    /// Age in years: within the service's minimum and maximum (no limits matches).
    #[param(minimum = 0, maximum = 120)]
    age: Option<i64>,
    /// Only services free at the point of use.
    free: Option<bool>,
    /// ISO 639 language codes (any of them).
    language: Option<Vec<String>>,
    /// Accessibility feature slugs (all of them).
    accessibility: Option<Vec<String>>,
    /// `self_referral` or `referral`.
    #[param(pattern = "^(self_referral|referral)$")]
    access: Option<String>,
    /// `in_person`, `phone`, `online` or `home_visit` (any of them).
    delivery: Option<Vec<String>>,
}

const V1_PARAMETERS: &[&str] = &[
    "q",
    "postcode",
    "lat",
    "lon",
    "radius",
    "category",
    "community_group",
    "service_area",
    "location_type",
    "status",
    "include_closed",
    "include_stale",
    "freshness",
    "sort",
    "page",
    "per_page",
    "open_now",
    "open_at",
    "day",
    "start_time",
    "end_time",
    "at",
    "age",
    "free",
    "language",
    "accessibility",
    "access",
    "delivery",
];

/// How one API spells a search query string: the parameters it accepts
/// (any other is a 400 naming it) and the name and default of its page
/// size. Every dialect accepts only names v1 search gives the same meaning,
/// so one parser ([`run`]) serves v1 and the ALISS v4 compatibility layer.
pub struct Dialect {
    pub known: &'static [&'static str],
    pub page_size_param: &'static str,
    pub default_page_size: i64,
}

/// `GET /api/v1/services/search`.
pub const V1: Dialect = Dialect {
    known: V1_PARAMETERS,
    page_size_param: "per_page",
    default_page_size: PageRequest::DEFAULT_PER_PAGE,
};

/// The place searched around, as resolved.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchedPlace {
    #[serde(flatten)]
    pub located: Located,
    pub radius_m: u32,
    /// Area codes containing the point (services covering these match).
    pub area_codes: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Facets {
    /// Matching services per top-level category, over the whole result set.
    pub categories: Vec<FacetCount>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResponse {
    pub meta: Meta,
    pub place: Option<SearchedPlace>,
    pub data: Vec<SearchHit>,
    pub facets: Facets,
    pub pagination: Pagination,
    pub links: Links,
}

fn float_param(name: &str, raw: Option<&str>, min: f64, max: f64) -> Result<Option<f64>, ApiError> {
    match raw {
        None => Ok(None),
        Some(text) => match text.parse::<f64>() {
            Ok(v) if v.is_finite() && (min..=max).contains(&v) => Ok(Some(v)),
            _ => Err(ApiError::bad_request(
                name,
                format!("must be a number from {min} to {max}"),
            )),
        },
    }
}

/// Resolves `postcode` or `lat`/`lon` to a point and the areas it lies in.
fn resolve_point(
    state: &AppState,
    params: &QueryParams,
) -> Result<Option<(SearchPoint, Located)>, ApiError> {
    let postcode = params.one("postcode")?;
    let lat = float_param("lat", params.one("lat")?, -90.0, 90.0)?;
    let lon = float_param("lon", params.one("lon")?, -180.0, 180.0)?;
    let located = match (postcode, lat, lon) {
        (None, None, None) => return Ok(None),
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(ApiError::bad_request("postcode", "give either postcode or lat and lon, not both"))
        }
        (None, Some(_), None) => return Err(ApiError::bad_request("lon", "is required with lat")),
        (None, None, Some(_)) => return Err(ApiError::bad_request("lat", "is required with lon")),
        (None, Some(latitude), Some(longitude)) => Located {
            latitude,
            longitude,
            resolved_as: Resolution::Coordinates,
            label: None,
        },
        (Some(input), None, None) => match locate_postcode(&state.postcodes, input) {
            Ok(located) => located,
            Err(LocateError::Malformed) => {
                return Err(ApiError::UnknownPlace {
                    malformed: true,
                    detail: format!("'{}' is not a postcode, sector (G31 2) or district (G31)", clip(input)),
                    suggestions: suggestions(state, input),
                })
            }
            Err(LocateError::NotFound(normalised)) => {
                return Err(ApiError::UnknownPlace {
                    malformed: false,
                    detail: format!("{normalised} is not in the postcode data (Scotland, August 2020; UK districts)"),
                    suggestions: suggestions(state, input),
                })
            }
        },
    };
    let areas = state
        .areas
        .codes_at(located.latitude, located.longitude)
        .into_iter()
        .filter_map(|code| AreaType::of_code(&code).map(|t| (code, t)))
        .collect();
    let point = SearchPoint {
        latitude: located.latitude,
        longitude: located.longitude,
        areas,
    };
    Ok(Some((point, located)))
}

/// Places that were perhaps meant: those matching the longest prefix of the
/// input (two characters at least: "ZZ1" is not a near miss of "Zouch")
/// that matches anything.
fn suggestions(state: &AppState, input: &str) -> Vec<String> {
    let chars: Vec<char> = input.trim().chars().take(20).collect();
    (2..=chars.len())
        .rev()
        .map(|n| chars[..n].iter().collect::<String>())
        .map(|prefix| state.places.suggest(&prefix, 5))
        .find(|found| !found.is_empty())
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.label)
        .collect()
}

fn slugs(
    name: &str,
    values: Vec<String>,
    known: &std::collections::HashMap<String, uuid::Uuid>,
) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for value in values.into_iter().take(50) {
        let slug =
            Slug::parse(value.to_ascii_lowercase()).map_err(|e| ApiError::bad_request(name, e))?;
        if !known.contains_key(slug.as_str()) {
            return Err(ApiError::bad_request(
                name,
                format!(
                    "'{}' is not a known slug (see /api/v1/taxonomy)",
                    slug.as_str()
                ),
            ));
        }
        out.push(slug.as_str().to_string());
    }
    Ok(out)
}

fn build_request(
    state: &AppState,
    params: &QueryParams,
    dialect: &Dialect,
) -> Result<(SearchRequest, Option<SearchedPlace>), ApiError> {
    let text = params.one("q")?.map(str::to_string);
    if text
        .as_ref()
        .is_some_and(|t| t.chars().count() > MAX_QUERY_CHARS)
    {
        return Err(ApiError::bad_request(
            "q",
            format!("must be at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    let radius_m = extract::int_param(
        "radius",
        params.one("radius")?,
        DEFAULT_RADIUS_M as i64,
        1,
        MAX_RADIUS_M as i64,
    )? as f64;
    let point = resolve_point(state, params)?;
    if point.is_none() && params.one("radius")?.is_some() {
        return Err(ApiError::bad_request(
            "radius",
            "needs a postcode or lat and lon to measure from",
        ));
    }
    let taxonomy = state.search.taxonomy();
    let categories = slugs(
        "category",
        params.list("category"),
        &taxonomy.category_slugs,
    )?;
    let community_groups = slugs(
        "community_group",
        params.list("community_group"),
        &taxonomy.group_slugs,
    )?;
    let mut service_areas = Vec::new();
    for code in params.list("service_area").into_iter().take(50) {
        let code = code.to_ascii_uppercase();
        if AreaType::of_code(&code).is_none() || code.len() != 9 {
            return Err(ApiError::bad_request(
                "service_area",
                format!("'{}' is not an area code (e.g. S12000049)", clip(&code)),
            ));
        }
        service_areas.push(code);
    }
    let scope = match params.one("location_type")? {
        None | Some("all") => LocationScope::All,
        Some("local") => LocationScope::Local,
        Some("national") => LocationScope::National,
        Some(_) => {
            return Err(ApiError::bad_request(
                "location_type",
                "must be local, national or all",
            ))
        }
    };
    let mut statuses = Vec::new();
    for s in params.list("status") {
        statuses.push(ServiceStatus::parse(&s).map_err(|e| ApiError::bad_request("status", e))?);
    }
    let include_closed = extract::bool_param("include_closed", params.one("include_closed")?)?;
    if statuses.is_empty() {
        if include_closed {
            statuses.extend(ServiceStatus::ALL);
        } else {
            statuses.extend(crate::search::schema::DEFAULT_STATUSES);
        }
    }
    let mut freshness = Vec::new();
    for f in params.list("freshness") {
        freshness
            .push(FreshnessState::parse(&f).map_err(|e| ApiError::bad_request("freshness", e))?);
    }
    let include_stale = match params.one("include_stale")? {
        None => true,
        raw => extract::bool_param("include_stale", raw)?,
    };
    let sort = match params.one("sort")? {
        None | Some("relevance") => SortOrder::Relevance,
        Some("distance") if point.is_some() => SortOrder::Distance,
        Some("distance") => {
            return Err(ApiError::bad_request(
                "sort",
                "distance needs a postcode or lat and lon",
            ))
        }
        Some("name") => SortOrder::Name,
        Some("recently_verified") => SortOrder::RecentlyVerified,
        Some(_) => {
            return Err(ApiError::bad_request(
                "sort",
                "must be relevance, distance, name or recently_verified",
            ))
        }
    };
    let at = extract::datetime_param("at", params.one("at")?)?.unwrap_or_else(|| state.clock.now());
    let (time, at) = time_filter(state, params, at)?;
    let attributes = attribute_filters(params, &taxonomy)?;
    let age = match params.one("age")? {
        None => None,
        raw => Some(extract::int_param(
            "age",
            raw,
            0,
            0,
            crate::model::service::MAX_AGE,
        )?),
    };
    let page = PageRequest {
        page: extract::int_param("page", params.one("page")?, 1, 1, PageRequest::MAX_PAGE)?,
        per_page: extract::int_param(
            dialect.page_size_param,
            params.one(dialect.page_size_param)?,
            dialect.default_page_size,
            1,
            PageRequest::MAX_PER_PAGE,
        )?,
    };
    let offset = page.offset() as usize;
    if offset + page.per_page as usize > MAX_WINDOW {
        return Err(ApiError::bad_request(
            "page",
            format!("only the first {MAX_WINDOW} results can be paged through; narrow the search"),
        ));
    }
    let place = point.as_ref().map(|(p, located)| SearchedPlace {
        located: located.clone(),
        radius_m: radius_m as u32,
        area_codes: p.areas.iter().map(|(c, _)| c.clone()).collect(),
    });
    let request = SearchRequest {
        text,
        point: point.map(|(p, _)| p),
        radius_m,
        categories,
        community_groups,
        service_areas,
        scope,
        statuses,
        include_stale,
        freshness,
        sort,
        offset,
        limit: page.per_page as usize,
        now: at,
        review_days: state.review.review_days,
        grace_days: state.review.grace_days,
        attributes,
        ages: age.map(|a| (a, a)),
        modified_after: None,
        time,
        holidays: state.holidays.clone(),
    };
    Ok((request, place))
}

/// `open_now`, `open_at` or `day`+`start_time`+`end_time`; returns the
/// filter and the instant `opening` should be computed for.
fn time_filter(
    state: &AppState,
    params: &QueryParams,
    at: DateTime<Utc>,
) -> Result<(Option<TimeFilter>, DateTime<Utc>), ApiError> {
    let open_now = match params.one("open_now")? {
        None => false,
        raw => extract::bool_param("open_now", raw)?,
    };
    let open_at = extract::datetime_param("open_at", params.one("open_at")?)?;
    if open_at.is_some() && params.one("at")?.is_some() {
        return Err(ApiError::bad_request(
            "at",
            "give at or open_at, not both (open_at also sets the time results are shown for)",
        ));
    }
    let day = params.one("day")?;
    let (start, end) = (params.one("start_time")?, params.one("end_time")?);
    if (start.is_some() || end.is_some()) && day.is_none() {
        return Err(ApiError::bad_request(
            "day",
            "is required with start_time or end_time",
        ));
    }
    let chosen = [open_now, open_at.is_some(), day.is_some()]
        .iter()
        .filter(|x| **x)
        .count();
    if chosen > 1 {
        return Err(ApiError::bad_request(
            "open_at",
            "give only one of open_now, open_at and day",
        ));
    }
    if open_now {
        return Ok((Some(TimeFilter::at(at, &state.holidays)), at));
    }
    if let Some(instant) = open_at {
        return Ok((Some(TimeFilter::at(instant, &state.holidays)), instant));
    }
    Ok((day_window(day, start, end)?, at))
}

/// ORUK-style `day` with `start_time`/`end_time` (default the whole day):
/// open at some point in that window of a typical week. Shared with the
/// Open Referral API.
pub fn day_window(
    day: Option<&str>,
    start: Option<&str>,
    end: Option<&str>,
) -> Result<Option<TimeFilter>, ApiError> {
    let Some(day) = day else {
        if start.is_some() || end.is_some() {
            return Err(ApiError::bad_request(
                "day",
                "is required with start_time or end_time",
            ));
        }
        return Ok(None);
    };
    let weekday = match day.trim().to_ascii_uppercase().as_str() {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => {
            return Err(ApiError::bad_request(
                "day",
                "must be one of MO, TU, WE, TH, FR, SA, SU",
            ))
        }
    };
    let time = |name: &str, raw: Option<&str>, default: (u32, u32)| {
        let (h, m) = match raw {
            None => Ok(default),
            Some(text) if name == "end_time" => parse_closing_time(text),
            Some(text) => parse_clock_time(text),
        }
        .map_err(|e| ApiError::bad_request(name, e))?;
        // 24:00, the end of the day, is its last moment.
        let (h, m, s) = if h == 24 { (23, 59, 59) } else { (h, m, 0) };
        NaiveTime::from_hms_opt(h, m, s)
            .ok_or_else(|| ApiError::bad_request(name, "is not a time of day"))
    };
    let start = time("start_time", start, (0, 0))?;
    let end = time("end_time", end, (24, 0))?;
    if start >= end {
        return Err(ApiError::bad_request(
            "end_time",
            "must be after start_time",
        ));
    }
    Ok(Some(TimeFilter::During {
        day: weekday,
        start,
        end,
    }))
}

/// The attribute filters, each a group of alternatives.
fn attribute_filters(
    params: &QueryParams,
    taxonomy: &TaxonomyCache,
) -> Result<Vec<Vec<String>>, ApiError> {
    let mut groups = Vec::new();
    if extract::bool_param("free", params.one("free")?)? {
        groups.push(vec!["free".to_string()]);
    }
    let languages = params.list("language");
    if !languages.is_empty() {
        let mut group = Vec::new();
        for code in languages.into_iter().take(20) {
            let code = code.to_ascii_lowercase();
            if !(2..=3).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_lowercase()) {
                return Err(ApiError::bad_request(
                    "language",
                    format!("'{}' is not an ISO 639 code (e.g. en, gd, pl)", clip(&code)),
                ));
            }
            group.push(format!("lang:{code}"));
        }
        groups.push(group);
    }
    let features = slugs(
        "accessibility",
        params.list("accessibility"),
        &taxonomy.accessibility_slugs,
    )?;
    for feature in features.into_iter().take(20) {
        groups.push(vec![format!("accessibility:{feature}")]);
    }
    match params.one("access")? {
        None => {}
        Some(a @ ("self_referral" | "referral")) => groups.push(vec![format!("access:{a}")]),
        Some(_) => {
            return Err(ApiError::bad_request(
                "access",
                "must be self_referral or referral",
            ))
        }
    }
    let methods = params.list("delivery");
    if !methods.is_empty() {
        let mut group = Vec::new();
        for m in methods.into_iter().take(4) {
            let method =
                DeliveryMethod::parse(&m).map_err(|e| ApiError::bad_request("delivery", e))?;
            group.push(format!("delivery:{}", method.as_str()));
        }
        groups.push(group);
    }
    Ok(groups)
}

#[utoipa::path(
    get, path = "/api/v1/services/search", tag = "search",
    params(SearchParams),
    responses(
        (status = 200, description = "Ranked services with distances, match reasons and category facets", body = SearchResponse),
        (status = 400, description = "Bad or unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Postcode, sector or district not in the data (with suggestions)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not shaped like a postcode (with suggestions)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn search(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let found = run(&state, req.query_string(), &V1).await?;
    let links = super::envelope::links(
        req.path(),
        req.query_string(),
        found.page.page,
        found.total_pages,
    );
    Ok(HttpResponse::Ok().json(SearchResponse {
        meta: META,
        place: found.place,
        data: found.results.hits,
        facets: Facets {
            categories: found.results.categories,
        },
        pagination: Pagination {
            page: found.page.page,
            per_page: found.page.per_page,
            total_items: found.results.total as i64,
            total_pages: found.total_pages,
        },
        links,
    }))
}

/// A search as run: the index's results, the place searched around and
/// the page they are.
pub struct Found {
    pub results: SearchResults,
    pub place: Option<SearchedPlace>,
    pub page: PageRequest,
    pub total_pages: i64,
}

/// Parses a search query string in `dialect` into a [`SearchRequest`]
/// (every check and default as v1 search) and runs it on the index.
pub async fn run(state: &AppState, query: &str, dialect: &Dialect) -> Result<Found, ApiError> {
    let params = QueryParams::parse(query, dialect.known)?;
    let (request, place) = build_request(state, &params, dialect)?;
    let per_page = request.limit as i64;
    let page = PageRequest {
        page: (request.offset as i64) / per_page + 1,
        per_page,
    };
    let results = state.search(move |index| index.search(&request)).await?;
    let total_pages = total_pages(results.total as i64, per_page);
    Ok(Found {
        results,
        place,
        page,
        total_pages,
    })
}

/// Query parameters of the typeahead endpoints. Unknown or repeated
/// parameters are a 400.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the contract; the handlers read the raw pairs.
pub struct TypeaheadQuery {
    /// What has been typed so far.
    #[param(max_length = 100, example = "food b")]
    q: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestions {
    /// Service names matching the words typed (the last may be partial).
    pub services: Vec<String>,
    /// Categories whose name has a word starting with what was typed.
    pub categories: Vec<FacetTerm>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FacetTerm {
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestResponse {
    pub meta: Meta,
    pub data: Suggestions,
}

fn typeahead_text(req: &HttpRequest) -> Result<String, ApiError> {
    let params = QueryParams::parse(req.query_string(), &["q"])?;
    let text = params.one("q")?.unwrap_or("").to_string();
    if text.chars().count() > 100 {
        return Err(ApiError::bad_request("q", "must be at most 100 characters"));
    }
    Ok(text)
}

#[utoipa::path(
    get, path = "/api/v1/suggest", tag = "search",
    params(TypeaheadQuery),
    responses(
        (status = 200, description = "Service names and categories for partial input", body = SuggestResponse),
        (status = 400, description = "Input too long, or an unknown or repeated parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn suggest(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let text = typeahead_text(&req)?;
    let lowered = text.to_lowercase();
    let taxonomy = state.search.taxonomy();
    let mut categories: Vec<FacetTerm> = taxonomy
        .category_slugs
        .values()
        .filter_map(|id| taxonomy.terms.get(id))
        .filter(|t| {
            let name = t.term.name.to_lowercase();
            !lowered.is_empty()
                && (name.starts_with(&lowered)
                    || name
                        .split(|c: char| !c.is_alphanumeric())
                        .any(|w| w.starts_with(&lowered)))
        })
        .map(|t| FacetTerm {
            slug: t.term.slug.clone(),
            name: t.term.name.clone(),
        })
        .collect();
    categories.sort_by(|a, b| a.name.cmp(&b.name));
    categories.truncate(5);
    let services = if text.is_empty() {
        Vec::new()
    } else {
        state
            .search(move |index| index.suggest_names(&text, 8))
            .await?
    };
    Ok(HttpResponse::Ok().json(SuggestResponse {
        meta: META,
        data: Suggestions {
            services,
            categories,
        },
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlacesResponse {
    pub meta: Meta,
    pub data: Vec<Place>,
}

#[utoipa::path(
    get, path = "/api/v1/places", tag = "search",
    params(TypeaheadQuery),
    responses(
        (status = 200, description = "Postcodes, sectors, districts, towns and council areas matching partial input, with points", body = PlacesResponse),
        (status = 400, description = "Input too long, or an unknown or repeated parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn places(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let text = typeahead_text(&req)?;
    Ok(HttpResponse::Ok().json(PlacesResponse {
        meta: META,
        data: state.places.suggest(&text, 10),
    }))
}
