//! `/api/v1/service-areas`: the coded areas a service can cover.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::envelope::Item;
use super::error::{ApiError, Problem};
use super::extract;
use crate::db::areas;
use crate::model::enums::AreaType;
use crate::model::read::ServiceArea;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/service-areas", web::get().to(list));
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AreaQuery {
    /// Only areas of this type.
    #[param(value_type = Option<AreaType>)]
    area_type: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/service-areas", tag = "service-areas",
    params(AreaQuery),
    responses(
        (status = 200, description = "Every service area (council areas, HSCPs, health boards, Scotland, UK), most specific first", body = Item<Vec<ServiceArea>>),
        (status = 400, description = "Bad query parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<AreaQuery>,
) -> Result<HttpResponse, ApiError> {
    let area_type = extract::enum_param("area_type", query.area_type.as_deref(), AreaType::parse)?;
    let all = state.db(move |c| areas::list(c, area_type)).await?;
    Ok(HttpResponse::Ok().json(Item::new(all)))
}
