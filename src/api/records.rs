//! The read/create/replace/patch/delete handlers shared by organisations,
//! services, locations and taxonomy terms. Each resource says how to
//! validate its input and which repository functions to call; the HTTP
//! behaviour (ETags, If-Match, merge patch, Location, status codes) lives
//! here once.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{self, if_match, path_id, JsonBody};
use super::{check_body_id, item_response, merge_patch, patch_object};
use crate::db::changes::Stamp;
use crate::db::{DbConnection, RepoResult};
use crate::model::{Actor, Invalid};
use crate::state::AppState;

pub trait Record: 'static {
    /// The request body of create and replace (and what a patch merges into).
    type Input: DeserializeOwned + Serialize + Send + 'static;
    type Draft: Send + 'static;
    type Read: Serialize + Send + 'static;
    /// Collection path, e.g. `/api/v1/services`.
    const PATH: &'static str;

    fn id(read: &Self::Read) -> Uuid;
    fn version(read: &Self::Read) -> i64;
    fn to_input(read: &Self::Read) -> Self::Input;
    fn input_id(input: &Self::Input) -> Option<Uuid>;
    fn validate(state: &AppState, input: Self::Input) -> Result<Self::Draft, Invalid>;

    fn get(c: &mut DbConnection, id: Uuid) -> RepoResult<Self::Read>;
    fn create(
        c: &mut DbConnection,
        stamp: &Stamp,
        id: Option<Uuid>,
        draft: Self::Draft,
    ) -> RepoResult<Self::Read>;
    fn update(
        c: &mut DbConnection,
        stamp: &Stamp,
        id: Uuid,
        expected: Option<i64>,
        draft: Self::Draft,
    ) -> RepoResult<Self::Read>;
    fn archive(
        c: &mut DbConnection,
        stamp: &Stamp,
        id: Uuid,
        expected: Option<i64>,
    ) -> RepoResult<Self::Read>;

    /// Adds what is computed per response rather than stored (opening hours).
    fn decorate(_state: &AppState, _read: &mut Self::Read, _at: DateTime<Utc>) {}
}

fn respond<R: Record>(
    state: &AppState,
    status: StatusCode,
    mut record: R::Read,
    at: DateTime<Utc>,
    location: Option<String>,
) -> HttpResponse {
    R::decorate(state, &mut record, at);
    let version = R::version(&record);
    item_response(status, &record, version, location)
}

fn ok<R: Record>(
    state: &AppState,
    status: StatusCode,
    record: R::Read,
    location: Option<String>,
) -> HttpResponse {
    respond::<R>(state, status, record, state.clock.now(), location)
}

/// Reads one record; `?at=<RFC 3339>` computes opening hours for that instant.
pub async fn get<R: Record>(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let at = at_param(&state, &req)?;
    let record = state.db(move |c| R::get(c, id)).await?;
    Ok(respond::<R>(&state, StatusCode::OK, record, at, None))
}

/// The instant named by `at=` (RFC 3339), or now.
pub fn at_param(state: &AppState, req: &HttpRequest) -> Result<DateTime<Utc>, ApiError> {
    let at = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "at")
        .map(|(_, v)| v.into_owned());
    Ok(extract::datetime_param("at", at.as_deref())?.unwrap_or_else(|| state.clock.now()))
}

pub async fn create<R: Record>(
    state: web::Data<AppState>,
    body: JsonBody<R::Input>,
) -> Result<HttpResponse, ApiError> {
    let id = R::input_id(&body.0);
    let draft = R::validate(&state, body.0)?;
    let stamp = state.stamp(Actor::anonymous());
    let record = state.db(move |c| R::create(c, &stamp, id, draft)).await?;
    let location = format!("{}/{}", R::PATH, R::id(&record));
    Ok(ok::<R>(&state, StatusCode::CREATED, record, Some(location)))
}

pub async fn replace<R: Record>(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: JsonBody<R::Input>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let expected = if_match(&req)?;
    check_body_id(id, R::input_id(&body.0))?;
    let draft = R::validate(&state, body.0)?;
    let stamp = state.stamp(Actor::anonymous());
    let record = state
        .db(move |c| R::update(c, &stamp, id, expected, draft))
        .await?;
    Ok(ok::<R>(&state, StatusCode::OK, record, None))
}

/// RFC 7396: the patch is merged into the current record's input form, and
/// the result is validated like a replace. Without `If-Match`, the version
/// read here is the one expected, so a concurrent change is never overwritten.
pub async fn patch<R: Record>(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: JsonBody<Value>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let expected = if_match(&req)?;
    patch_object(&body.0)?;
    let current = state.db(move |c| R::get(c, id)).await?;
    let mut merged = serde_json::to_value(R::to_input(&current))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    merge_patch(&mut merged, &body.0);
    let input: R::Input = extract::from_value(merged)?;
    check_body_id(id, R::input_id(&input))?;
    let draft = R::validate(&state, input)?;
    let stamp = state.stamp(Actor::anonymous());
    let version = expected.or(Some(R::version(&current)));
    let record = state
        .db(move |c| R::update(c, &stamp, id, version, draft))
        .await?;
    Ok(ok::<R>(&state, StatusCode::OK, record, None))
}

pub async fn delete<R: Record>(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let expected = if_match(&req)?;
    let stamp = state.stamp(Actor::anonymous());
    let record = state
        .db(move |c| R::archive(c, &stamp, id, expected))
        .await?;
    Ok(ok::<R>(&state, StatusCode::OK, record, None))
}
