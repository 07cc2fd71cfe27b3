//! `/openreferral`: the Open Referral HSDS 3.0 read API. Filters combine
//! (AND). Queries with a search, taxonomy, age or time filter run on the
//! search index (the first 5,000 matches can be paged); plain listings and
//! `modified_after` sync page the database in a stable order, without limit.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{self, path_id, QueryParams};
use crate::db::paging::{total_pages, Page, PageRequest};
use crate::db::services::{ServiceFilter, ServiceSort};
use crate::db::taxonomy::TermFilter;
use crate::db::{locations, organisations, services, taxonomy, DbConnection, RepoResult};
use crate::geo::locate::{locate_postcode, LocateError};
use crate::hsds::{self, export, store, types};
use crate::model::enums::{ServiceStatus, TaxonomyKind};
use crate::search::cells;
use crate::search::query::{LocationScope, SearchPoint, SearchRequest, SortOrder, MAX_WINDOW};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/openreferral")
            .wrap(
                actix_web::middleware::DefaultHeaders::new()
                    .add((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")),
            )
            .route("", web::get().to(root))
            .route("/", web::get().to(root))
            .route("/openapi.json", web::get().to(openapi))
            .route("/services", web::get().to(list_services))
            .route("/services/{id}", web::get().to(get_service))
            .route("/organizations", web::get().to(list_organizations))
            .route("/organizations/{id}", web::get().to(get_organization))
            .route("/taxonomies", web::get().to(list_taxonomies))
            .route("/taxonomies/{id}", web::get().to(get_taxonomy))
            .route("/taxonomy_terms", web::get().to(list_terms))
            .route("/taxonomy_terms/{id}", web::get().to(get_term))
            .route(
                "/service_at_locations",
                web::get().to(list_service_at_locations),
            )
            .route(
                "/service_at_locations/{id}",
                web::get().to(get_service_at_location),
            ),
    );
}

/// The Open Referral API definition this endpoint follows (vendored from
/// HSDS 3.0, CC BY-SA 4.0; see fixtures/hsds/LICENSE).
const HSDS_OPENAPI: &str = include_str!("../../fixtures/hsds/openapi.json");

async fn root(req: HttpRequest) -> HttpResponse {
    let base = format!(
        "{}://{}",
        req.connection_info().scheme(),
        req.connection_info().host()
    );
    HttpResponse::Ok().json(serde_json::json!({
        "version": hsds::VERSION,
        "profile": hsds::PROFILE,
        "openapi_url": format!("{base}/openreferral/openapi.json"),
    }))
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(HSDS_OPENAPI)
}

/// Query parameters, checked against what each endpoint accepts.
struct Query(QueryParams);

impl Query {
    /// Refuses names the endpoint does not take, and any name given twice.
    fn parse(req: &HttpRequest, known: &[&str]) -> Result<Query, ApiError> {
        let params = QueryParams::parse(req.query_string(), known)?;
        for name in known {
            params.one(name)?;
        }
        Ok(Query(params))
    }

    fn get(&self, name: &str) -> Option<&str> {
        // `parse` checked each name is given at most once.
        self.0.one(name).ok().flatten()
    }

    fn page(&self) -> Result<PageRequest, ApiError> {
        extract::page_request(self.get("page"), self.get("per_page"))
    }

    fn flag(&self, name: &str) -> Result<bool, ApiError> {
        extract::bool_param(name, self.get(name))
    }

    fn ndjson(&self) -> Result<bool, ApiError> {
        match self.get("format") {
            None | Some("json") => Ok(false),
            Some("ndjson") => Ok(true),
            Some(_) => Err(ApiError::bad_request("format", "must be json or ndjson")),
        }
    }
}

fn envelope<T: Serialize>(items: Vec<T>, total: i64, page: PageRequest) -> types::Page<T> {
    let pages = total_pages(total, page.per_page);
    types::Page {
        total_items: total,
        total_pages: pages,
        page_number: page.page,
        size: items.len() as i64,
        first_page: page.page == 1,
        last_page: page.page >= pages,
        empty: items.is_empty(),
        contents: items,
    }
}

fn json_or_ndjson<T: Serialize>(items: types::Page<T>, ndjson: bool) -> HttpResponse {
    if !ndjson {
        return HttpResponse::Ok().json(items);
    }
    let mut body = String::new();
    for item in &items.contents {
        if let Ok(line) = serde_json::to_string(item) {
            body.push_str(&line);
            body.push('\n');
        }
    }
    HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .body(body)
}

/// Which services a services or service_at_locations query selects.
struct Selection {
    search: Option<SearchRequest>,
    organisation_id: Option<Uuid>,
    modified_after: Option<DateTime<Utc>>,
}

/// A `taxonomy_id`: one of the ids `/openreferral/taxonomies` lists (or its name).
fn taxonomy_kind(raw: &str) -> Result<TaxonomyKind, ApiError> {
    TaxonomyKind::ALL
        .iter()
        .copied()
        .find(|k| export::taxonomy_id(k.as_str()) == raw.trim() || k.as_str() == raw.trim())
        .ok_or_else(|| {
            ApiError::bad_request(
                "taxonomy_id",
                "is not a taxonomy here (see /openreferral/taxonomies)",
            )
        })
}

fn age(q: &Query, name: &str) -> Result<Option<i64>, ApiError> {
    q.get(name)
        .map(|raw| extract::int_param(name, Some(raw), 0, 0, 120))
        .transpose()
}

async fn selection(
    state: &AppState,
    q: &Query,
    page: PageRequest,
    point: Option<(SearchPoint, f64)>,
) -> Result<Selection, ApiError> {
    let organisation_id = extract::uuid_param("organization_id", q.get("organization_id"))?;
    let modified_after = extract::datetime_param("modified_after", q.get("modified_after"))?;
    let text = q.get("search").map(str::to_string);
    if text.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Err(ApiError::bad_request(
            "search",
            "must be at most 200 characters",
        ));
    }
    let time = super::search::day_window(q.get("day"), q.get("start_time"), q.get("end_time"))?;
    let (min, max) = (age(q, "minimum_age")?, age(q, "maximum_age")?);
    let ages = match (min, max) {
        (None, None) => None,
        (lo, hi) => Some((lo.unwrap_or(0), hi.unwrap_or(1_000))),
    };
    if let Some((lo, hi)) = ages {
        if lo > hi {
            return Err(ApiError::bad_request(
                "maximum_age",
                "must not be below minimum_age",
            ));
        }
    }
    let mut categories = Vec::new();
    let mut community_groups = Vec::new();
    let mut attributes: Vec<Vec<String>> = Vec::new();
    if let Some(raw) = q.get("taxonomy_term_id") {
        for part in raw.split(',').take(20) {
            let id = extract::uuid_param("taxonomy_term_id", Some(part))?
                .ok_or_else(|| ApiError::bad_request("taxonomy_term_id", "is empty"))?;
            let term = state.db(move |c| taxonomy::get(c, id)).await.map_err(|_| {
                ApiError::bad_request(
                    "taxonomy_term_id",
                    format!("{id} is not a taxonomy term here"),
                )
            })?;
            match term.taxonomy {
                TaxonomyKind::Category => categories.push(term.slug),
                TaxonomyKind::CommunityGroup => community_groups.push(term.slug),
                TaxonomyKind::Accessibility => {
                    attributes.push(vec![format!("accessibility:{}", term.slug)])
                }
            }
        }
    }
    if let Some(raw) = q.get("taxonomy_id") {
        let kind = taxonomy_kind(raw)?;
        attributes.push(vec![format!("has:{}", kind.as_str())]);
    }
    let indexed = text.is_some()
        || time.is_some()
        || ages.is_some()
        || !categories.is_empty()
        || !community_groups.is_empty()
        || !attributes.is_empty()
        || point.is_some();
    if !indexed {
        return Ok(Selection {
            search: None,
            organisation_id,
            modified_after,
        });
    }
    if let Some(org) = organisation_id {
        attributes.push(vec![format!("org:{org}")]);
    }
    let (point, radius_m) = match point {
        Some((p, r)) => (Some(p), r),
        None => (None, 5_000.0),
    };
    let sort = if point.is_some() {
        SortOrder::Distance
    } else if text.is_some() {
        SortOrder::Relevance
    } else {
        SortOrder::Name
    };
    Ok(Selection {
        search: Some(SearchRequest {
            text,
            point,
            radius_m,
            categories,
            community_groups,
            service_areas: Vec::new(),
            scope: LocationScope::Local,
            statuses: ServiceStatus::ALL.to_vec(),
            include_stale: true,
            freshness: Vec::new(),
            sort,
            offset: page.offset() as usize,
            limit: page.per_page as usize,
            now: state.clock.now(),
            review_days: state.review.review_days,
            grace_days: state.review.grace_days,
            attributes,
            ages,
            modified_after,
            time,
            holidays: state.holidays.clone(),
        }),
        organisation_id,
        modified_after,
    })
}

fn hit_id(hit: &crate::search::index::SearchHit) -> Option<Uuid> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: Uuid,
    }
    serde_json::from_str::<Id>(hit.service.get())
        .ok()
        .map(|i| i.id)
}

/// The page of service ids a selection yields, and the total.
async fn select_services(
    state: &AppState,
    sel: Selection,
    page: PageRequest,
) -> Result<(Vec<Uuid>, i64), ApiError> {
    match sel.search {
        Some(req) => {
            if req.offset >= MAX_WINDOW {
                return Err(ApiError::bad_request(
                    "page",
                    format!("searches page through the first {MAX_WINDOW} matches; narrow the query, or list without search filters to page everything"),
                ));
            }
            let results = state.search(move |index| index.search(&req)).await?;
            let total = results.total.min(MAX_WINDOW) as i64;
            Ok((results.hits.iter().filter_map(hit_id).collect(), total))
        }
        None => {
            let filter = ServiceFilter {
                organisation_id: sel.organisation_id,
                status: None,
                include_archived: false,
                modified_after: sel.modified_after,
                sort: ServiceSort::Created,
            };
            let listed = state.db(move |c| services::list(c, &filter, page)).await?;
            Ok((listed.items.iter().map(|s| s.id).collect(), listed.total))
        }
    }
}

const SERVICE_PARAMS: &[&str] = &[
    "search",
    "page",
    "per_page",
    "format",
    "taxonomy_term_id",
    "taxonomy_id",
    "organization_id",
    "modified_after",
    "minimal",
    "full_service",
    "full",
    "minimum_age",
    "maximum_age",
    "day",
    "start_time",
    "end_time",
];

/// `GET /openreferral/services`: `full_service=true` nests everything;
/// `minimal=true` gives id, name, status and last_modified only.
async fn list_services(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let q = Query::parse(&req, SERVICE_PARAMS)?;
    let page = q.page()?;
    let full = q.flag("full_service")? || q.flag("full")?;
    let minimal = q.flag("minimal")?;
    let ndjson = q.ndjson()?;
    let sel = selection(&state, &q, page, None).await?;
    let (ids, total) = select_services(&state, sel, page).await?;
    let mut items = state
        .db(move |c| store::services(c, &ids, full && !minimal))
        .await?;
    if minimal {
        for s in items.iter_mut() {
            store::basic(s);
            *s = types::Service {
                id: s.id.clone(),
                name: s.name.clone(),
                status: s.status.clone(),
                last_modified: s.last_modified.clone(),
                ..types::Service::default()
            };
        }
    }
    Ok(json_or_ndjson(envelope(items, total, page), ndjson))
}

async fn get_service(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let mut found = state
        .db(move |c| live_service(c, id).and_then(|_| store::services(c, &[id], true)))
        .await?;
    found
        .pop()
        .map(|s| HttpResponse::Ok().json(s))
        .ok_or_else(|| ApiError::NotFound(format!("service {id} was not found")))
}

fn live_service(c: &mut DbConnection, id: Uuid) -> RepoResult<()> {
    let s = services::get(c, id)?;
    match s.archived_at {
        None => Ok(()),
        Some(_) => Err(crate::db::RepoError::not_found("service", id)),
    }
}

const ORG_PARAMS: &[&str] = &[
    "search",
    "page",
    "per_page",
    "format",
    "modified_after",
    "full_service",
    "full",
];

async fn list_organizations(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let q = Query::parse(&req, ORG_PARAMS)?;
    let page = q.page()?;
    let ndjson = q.ndjson()?;
    let full = q.flag("full_service")? || q.flag("full")?;
    let search = q.get("search").map(|s| s.trim().to_lowercase());
    let filter = organisations::OrganisationFilter {
        include_archived: false,
        modified_after: extract::datetime_param("modified_after", q.get("modified_after"))?,
        sort: organisations::OrganisationSort::Created,
        name_contains: search,
    };
    let (items, total) = state
        .db(move |c| {
            let listed = organisations::list(c, &filter, page)?;
            let mut out = Vec::with_capacity(listed.items.len());
            for o in &listed.items {
                out.push(store::organization(c, o, full)?);
            }
            Ok((out, listed.total))
        })
        .await?;
    Ok(json_or_ndjson(envelope(items, total, page), ndjson))
}

async fn get_organization(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let org = state
        .db(move |c| {
            let o = organisations::get(c, id)?;
            if o.archived_at.is_some() {
                return Err(crate::db::RepoError::not_found("organisation", id));
            }
            store::organization(c, &o, true)
        })
        .await?;
    Ok(HttpResponse::Ok().json(org))
}

async fn list_taxonomies(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let q = Query::parse(&req, &["page", "per_page", "format"])?;
    let page = q.page()?;
    let all = export::taxonomies();
    let total = all.len() as i64;
    let items: Vec<_> = all
        .into_iter()
        .skip(page.offset() as usize)
        .take(page.per_page as usize)
        .collect();
    Ok(json_or_ndjson(envelope(items, total, page), q.ndjson()?))
}

async fn get_taxonomy(id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    export::taxonomies()
        .into_iter()
        .find(|t| t.id == id.trim())
        .map(|t| HttpResponse::Ok().json(t))
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "taxonomy {} was not found",
                crate::model::values::clip(&id)
            ))
        })
}

async fn list_terms(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let q = Query::parse(
        &req,
        &[
            "search",
            "page",
            "per_page",
            "format",
            "taxonomy_id",
            "top_only",
            "parent_id",
        ],
    )?;
    let page = q.page()?;
    let taxonomy = match q.get("taxonomy_id") {
        None => None,
        Some(raw) => Some(taxonomy_kind(raw)?),
    };
    let parent = match (
        q.flag("top_only")?,
        extract::uuid_param("parent_id", q.get("parent_id"))?,
    ) {
        (true, Some(_)) => {
            return Err(ApiError::bad_request(
                "parent_id",
                "give top_only or parent_id, not both",
            ))
        }
        (true, None) => Some(None),
        (false, Some(p)) => Some(Some(p)),
        (false, None) => None,
    };
    let filter = TermFilter {
        taxonomy,
        parent,
        include_archived: false,
    };
    let search = q.get("search").map(|s| s.trim().to_lowercase());
    let listed: Page<crate::model::read::Term> = match search {
        // Term lists are small: a name search filters the whole vocabulary.
        Some(text) => {
            let all = state.db(taxonomy::all_live).await?;
            let matching: Vec<_> = all
                .into_iter()
                .filter(|t| filter.taxonomy.is_none_or(|k| k == t.taxonomy))
                .filter(|t| t.name.to_lowercase().contains(&text) || t.slug.contains(&text))
                .collect();
            let total = matching.len() as i64;
            Page {
                items: matching
                    .into_iter()
                    .skip(page.offset() as usize)
                    .take(page.per_page as usize)
                    .collect(),
                total,
                request: page,
            }
        }
        None => state.db(move |c| taxonomy::list(c, &filter, page)).await?,
    };
    let items: Vec<_> = listed.items.iter().map(export::term).collect();
    Ok(json_or_ndjson(
        envelope(items, listed.total, page),
        q.ndjson()?,
    ))
}

async fn get_term(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let term = state.db(move |c| taxonomy::get(c, id)).await?;
    Ok(HttpResponse::Ok().json(export::term(&term)))
}

const SAL_PARAMS: &[&str] = &[
    "search",
    "taxonomy_term_id",
    "taxonomy_id",
    "organization_id",
    "modified_after",
    "full",
    "page",
    "per_page",
    "format",
    "postcode",
    "proximity",
];

/// `GET /openreferral/service_at_locations`: one row per service at each
/// of its locations; `postcode` (with `proximity` in metres, default 5,000)
/// keeps locations that near, nearest first.
async fn list_service_at_locations(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let q = Query::parse(&req, SAL_PARAMS)?;
    let page = q.page()?;
    let full = q.flag("full")?;
    let ndjson = q.ndjson()?;
    let proximity = match q.get("proximity") {
        None => 5_000.0,
        Some(raw) => extract::int_param("proximity", Some(raw), 5_000, 1, 100_000)? as f64,
    };
    let point = match q.get("postcode") {
        None => {
            if q.get("proximity").is_some() {
                return Err(ApiError::bad_request(
                    "postcode",
                    "is required with proximity",
                ));
            }
            None
        }
        Some(raw) => Some(match locate_postcode(&state.postcodes, raw) {
            Ok(p) => (p.latitude, p.longitude),
            Err(LocateError::Malformed) => {
                return Err(ApiError::UnknownPlace {
                    malformed: true,
                    detail: format!(
                        "'{}' is not a postcode, sector (G31 2) or district (G31)",
                        crate::model::values::clip(raw)
                    ),
                    suggestions: Vec::new(),
                })
            }
            Err(LocateError::NotFound(n)) => {
                return Err(ApiError::UnknownPlace {
                    malformed: false,
                    detail: format!("'{n}' was not found in the postcode data"),
                    suggestions: Vec::new(),
                })
            }
        }),
    };
    // Rows are expanded from the matching services, so the index is asked
    // for the whole (bounded) match set and the rows are paged here.
    let window = PageRequest {
        page: 1,
        per_page: MAX_WINDOW as i64,
    };
    let search_point = point.map(|(latitude, longitude)| {
        (
            SearchPoint {
                latitude,
                longitude,
                areas: Vec::new(),
            },
            proximity,
        )
    });
    let sel = selection(&state, &q, window, search_point).await?;
    let rows: Vec<(Uuid, Uuid)>;
    let total: i64;
    if let Some(mut search) = sel.search {
        search.offset = 0;
        search.limit = MAX_WINDOW;
        let results = state.search(move |index| index.search(&search)).await?;
        let ids: Vec<Uuid> = results.hits.iter().filter_map(hit_id).collect();
        let keys: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let links = state.db(move |c| locations::link_points(c, &keys)).await?;
        let mut by_service: HashMap<Uuid, Vec<&locations::LinkPoint>> = HashMap::new();
        for link in &links {
            by_service.entry(link.service_id).or_default().push(link);
        }
        // In search order, each service's locations in name order.
        let mut all: Vec<(f64, Uuid, Uuid)> = Vec::new();
        for id in &ids {
            for link in by_service.get(id).into_iter().flatten() {
                let distance = match (point, link.point) {
                    (Some(origin), Some(at)) => cells::distance_m(origin, at),
                    (Some(_), None) => f64::INFINITY,
                    (None, _) => 0.0,
                };
                if distance <= proximity || point.is_none() {
                    all.push((distance, link.service_id, link.location_id));
                }
            }
        }
        if point.is_some() {
            all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        }
        total = all.len() as i64;
        rows = all
            .into_iter()
            .skip(page.offset() as usize)
            .take(page.per_page as usize)
            .map(|(_, s, l)| (s, l))
            .collect();
    } else {
        let (org, after) = (sel.organisation_id, sel.modified_after);
        let links = state
            .db(move |c| locations::service_links(c, org, after, page))
            .await?;
        total = links.total;
        rows = links.items;
    }
    let items = state
        .db(move |c| service_at_locations(c, &rows, full))
        .await?;
    Ok(json_or_ndjson(envelope(items, total, page), ndjson))
}

fn service_at_locations(
    c: &mut DbConnection,
    rows: &[(Uuid, Uuid)],
    full: bool,
) -> RepoResult<Vec<types::ServiceAtLocation>> {
    let mut ids: Vec<Uuid> = rows.iter().map(|(s, _)| *s).collect();
    ids.sort();
    ids.dedup();
    let nested: HashMap<String, types::Service> = store::services(c, &ids, full)?
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    let mut location_ids: Vec<String> = rows.iter().map(|(_, l)| l.to_string()).collect();
    location_ids.sort();
    location_ids.dedup();
    let places: HashMap<Uuid, crate::model::read::Location> = locations::load(c, &location_ids)?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for (service_id, location_id) in rows {
        let sid = service_id.to_string();
        let lid = location_id.to_string();
        let Some(location) = places.get(location_id) else {
            continue;
        };
        let mut service = nested.get(&sid).cloned();
        if let Some(s) = service.as_mut() {
            s.service_at_locations = None;
        }
        out.push(types::ServiceAtLocation {
            id: services::service_at_location_id(*service_id, *location_id).to_string(),
            service_id: Some(sid),
            location_id: Some(lid),
            location: Some(export::location(location)),
            service: service.map(Box::new),
        });
    }
    Ok(out)
}

async fn get_service_at_location(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let wanted = path_id(&id)?;
    let found = state
        .db(move |c| match locations::service_link(c, wanted)? {
            Some(link) => service_at_locations(c, &[link], true).map(|mut v| v.pop()),
            None => Ok(None),
        })
        .await?;
    found
        .map(|sal| HttpResponse::Ok().json(sal))
        .ok_or_else(|| ApiError::NotFound(format!("service_at_location {wanted} was not found")))
}
