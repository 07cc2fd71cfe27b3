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

use super::auth::Writer;
use super::error::ApiError;
use super::extract::{self, if_match, path_id, JsonBody};
use super::{check_body_id, item_response, merge_patch, patch_object};
use crate::auth::{policy, Caller};
use crate::db::changes::Stamp;
use crate::db::{check_version, DbConnection, RepoResult};
use crate::model::Invalid;
use crate::state::AppState;

pub trait Record: 'static {
    /// The request body of create and replace (and what a patch merges into).
    type Input: DeserializeOwned + Serialize + Send + 'static;
    type Draft: Send + 'static;
    type Read: Serialize + Send + 'static;
    /// Collection path, e.g. `/api/v1/services`.
    const PATH: &'static str;
    /// Singular name for messages, e.g. `service`.
    const NAME: &'static str;

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

    /// The organisation that owns a stored record, when `organisation` keys
    /// may edit records of this kind (`None`: only editors may).
    fn owner_of(_read: &Self::Read) -> Option<Uuid> {
        None
    }
    /// The organisation a create or update would give the record.
    fn owner_of_input(_input: &Self::Input) -> Option<Uuid> {
        None
    }
    /// Whether organisation members may also create and archive records of
    /// this kind (not only edit their own).
    const MEMBERS_CREATE_AND_ARCHIVE: bool = false;

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

pub fn ok<R: Record>(
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
    let params = extract::QueryParams::parse(req.query_string(), &["at"])?;
    Ok(extract::datetime_param("at", params.one("at")?)?.unwrap_or_else(|| state.clock.now()))
}

fn authorise_create<R: Record>(caller: &Caller, input: &R::Input) -> Result<(), ApiError> {
    match (R::MEMBERS_CREATE_AND_ARCHIVE, R::owner_of_input(input)) {
        (true, Some(owner)) => policy::edit_listing(caller, &[owner])?,
        _ => policy::staff(caller)?,
    };
    Ok(())
}

fn authorise_update<R: Record>(
    caller: &Caller,
    current: &R::Read,
    input: &R::Input,
) -> Result<(), ApiError> {
    let owners: Vec<Uuid> = R::owner_of(current)
        .into_iter()
        .chain(R::owner_of_input(input))
        .collect();
    if owners.is_empty() {
        policy::staff(caller)?;
    } else {
        policy::edit_listing(caller, &owners)?;
    }
    Ok(())
}

fn authorise_archive<R: Record>(caller: &Caller, current: &R::Read) -> Result<(), ApiError> {
    match (R::MEMBERS_CREATE_AND_ARCHIVE, R::owner_of(current)) {
        (true, Some(owner)) => policy::edit_listing(caller, &[owner])?,
        _ => policy::staff(caller)?,
    };
    Ok(())
}

/// Reads the record a write will change, at the version the client named.
pub async fn current<R: Record>(
    state: &AppState,
    id: Uuid,
    expected: i64,
) -> Result<R::Read, ApiError> {
    let current = state.db(move |c| R::get(c, id)).await?;
    check_version(R::NAME, R::version(&current), Some(expected))?;
    Ok(current)
}

pub async fn create<R: Record>(
    state: web::Data<AppState>,
    Writer(caller): Writer,
    body: JsonBody<R::Input>,
) -> Result<HttpResponse, ApiError> {
    authorise_create::<R>(&caller, &body.0)?;
    let record = create_record::<R>(&state, state.stamp(caller.actor()), body.0).await?;
    let location = format!("{}/{}", R::PATH, R::id(&record));
    Ok(ok::<R>(&state, StatusCode::CREATED, record, Some(location)))
}

/// Validates and stores a new record (also used to apply suggestions).
pub async fn create_record<R: Record>(
    state: &AppState,
    stamp: Stamp,
    input: R::Input,
) -> Result<R::Read, ApiError> {
    let id = R::input_id(&input);
    let draft = R::validate(state, input)?;
    state.db(move |c| R::create(c, &stamp, id, draft)).await
}

pub async fn replace<R: Record>(
    state: web::Data<AppState>,
    req: HttpRequest,
    Writer(caller): Writer,
    id: web::Path<String>,
    body: JsonBody<R::Input>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let expected = if_match(&req)?;
    check_body_id(id, R::input_id(&body.0))?;
    let current = current::<R>(&state, id, expected).await?;
    authorise_update::<R>(&caller, &current, &body.0)?;
    let draft = R::validate(&state, body.0)?;
    let stamp = state.stamp(caller.actor());
    let record = state
        .db(move |c| R::update(c, &stamp, id, Some(expected), draft))
        .await?;
    Ok(ok::<R>(&state, StatusCode::OK, record, None))
}

/// RFC 7396: the patch is merged into the current record's input form, and
/// the result is validated like a replace.
pub async fn patch<R: Record>(
    state: web::Data<AppState>,
    req: HttpRequest,
    Writer(caller): Writer,
    id: web::Path<String>,
    body: JsonBody<Value>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let expected = if_match(&req)?;
    patch_object(&body.0)?;
    let current = current::<R>(&state, id, expected).await?;
    let input = merged::<R>(&current, &body.0)?;
    authorise_update::<R>(&caller, &current, &input)?;
    let record = update_record::<R>(&state, state.stamp(caller.actor()), &current, input).await?;
    Ok(ok::<R>(&state, StatusCode::OK, record, None))
}

/// The current record's input form with a merge patch applied.
pub fn merged<R: Record>(current: &R::Read, patch: &Value) -> Result<R::Input, ApiError> {
    let mut merged = serde_json::to_value(R::to_input(current))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    merge_patch(&mut merged, patch);
    let input: R::Input = extract::from_value(merged)?;
    check_body_id(R::id(current), R::input_id(&input))?;
    Ok(input)
}

/// Validates `input` and stores it over `current`, expecting its version
/// (also used to apply suggestions).
pub async fn update_record<R: Record>(
    state: &AppState,
    stamp: Stamp,
    current: &R::Read,
    input: R::Input,
) -> Result<R::Read, ApiError> {
    let draft = R::validate(state, input)?;
    let (id, version) = (R::id(current), R::version(current));
    state
        .db(move |c| R::update(c, &stamp, id, Some(version), draft))
        .await
}

pub async fn delete<R: Record>(
    state: web::Data<AppState>,
    req: HttpRequest,
    Writer(caller): Writer,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let expected = if_match(&req)?;
    let current = current::<R>(&state, id, expected).await?;
    authorise_archive::<R>(&caller, &current)?;
    let stamp = state.stamp(caller.actor());
    let record = state
        .db(move |c| R::archive(c, &stamp, id, Some(expected)))
        .await?;
    Ok(ok::<R>(&state, StatusCode::OK, record, None))
}
