//! Response envelopes: every response carries `meta` with the licence and
//! attribution; lists carry paging totals and links.

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::paging::Page;

/// Licence of the directory data as served, and the attributions the
/// shipped reference data requires.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Meta {
    #[schema(example = "Open Government Licence v3.0")]
    pub licence: &'static str,
    pub licence_url: &'static str,
    pub attribution: &'static [&'static str],
    #[schema(example = "v1")]
    pub api_version: &'static str,
}

pub const META: Meta = Meta {
    licence: "Open Government Licence v3.0",
    licence_url: "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
    attribution: &[
        "Contains OS data © Crown copyright and database right 2020.",
        "Contains Royal Mail data © Royal Mail copyright and database right 2020.",
        "Contains National Statistics data © Crown copyright and database right 2020.",
        "Contains public sector information licensed under the Open Government Licence v3.0 (boundaries: Scottish Government, ONS).",
    ],
    api_version: "v1",
};

/// A single record.
#[derive(Debug, Serialize, ToSchema)]
pub struct Item<T> {
    pub meta: Meta,
    pub data: T,
}

impl<T> Item<T> {
    pub fn new(data: T) -> Self {
        Item { meta: META, data }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Pagination {
    pub page: i64,
    pub per_page: i64,
    pub total_items: i64,
    pub total_pages: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Links {
    #[serde(rename = "self")]
    pub self_link: String,
    pub next: Option<String>,
    pub prev: Option<String>,
}

/// A page of records. The order always ends in `id`, so pages are stable.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    pub meta: Meta,
    pub data: Vec<T>,
    pub pagination: Pagination,
    pub links: Links,
}

impl<T> List<T> {
    /// Builds the envelope; `path` and `query` are the request's, used for links.
    pub fn new(page: Page<T>, path: &str, query: &str) -> Self {
        let total_pages = page.total_pages();
        let request = page.request;
        List {
            meta: META,
            pagination: Pagination {
                page: request.page,
                per_page: request.per_page,
                total_items: page.total,
                total_pages,
            },
            links: links(path, query, request.page, total_pages),
            data: page.items,
        }
    }
}

/// Self, next and previous links: the request's own query with `page` replaced.
pub fn links(path: &str, query: &str, page: i64, total_pages: i64) -> Links {
    let link = |n: i64| {
        let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .filter(|(k, _)| k != "page")
            .collect();
        pairs.push(("page".into(), n.to_string()));
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("{path}?{encoded}")
    };
    Links {
        self_link: link(page),
        next: (page < total_pages).then(|| link(page + 1)),
        prev: (page > 1).then(|| link((page - 1).min(total_pages.max(1)))),
    }
}
