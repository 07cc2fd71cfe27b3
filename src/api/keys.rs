//! `/api/v1/keys`: API key management (admin), and `/keys/me` for any key.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Admin;
use super::envelope::{Item, List};
use super::error::{ApiError, Problem};
use super::extract::{self, path_id, JsonBody};
use crate::auth::{token, Caller};
use crate::db::keys::{self as repo, ApiKey, NewKey};
use crate::model::accounts::KeyInput;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/keys")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(web::resource("/keys/me").route(web::get().to(me)))
    .service(
        web::resource("/keys/{id}")
            .route(web::get().to(get))
            .route(web::delete().to(revoke)),
    );
}

/// A new key with its token: the only time the token is ever shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// Send as `Authorization: Bearer <token>`. Shown once; Signpost keeps only a hash.
    #[schema(example = "sp_3f9a0c1b2d4e_…")]
    pub token: String,
}

/// Generates a token and stores the key (its hash only).
pub async fn issue(state: &AppState, caller: &Caller, new: NewKey) -> Result<IssuedKey, ApiError> {
    let issued = token::issue().map_err(|e| ApiError::Internal(format!("random source: {e}")))?;
    let stamp = state.stamp(caller.actor());
    let token = issued.token.clone();
    let key = state
        .db(move |c| repo::create(c, &stamp, new, &issued))
        .await?;
    Ok(IssuedKey { key, token })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[param(value_type = Option<i64>, minimum = 1)]
    page: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    per_page: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/keys", tag = "accounts",
    security(("api_key" = ["admin"])),
    params(ListQuery),
    responses(
        (status = 200, description = "Keys, newest first (never their tokens)", body = List<ApiKey>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: Admin,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = extract::page_request(query.page.as_deref(), query.per_page.as_deref())?;
    let keys = state.db(move |c| repo::list(c, page)).await?;
    Ok(HttpResponse::Ok().json(List::new(keys, req.path(), req.query_string())))
}

#[utoipa::path(
    post, path = "/api/v1/keys", tag = "accounts",
    security(("api_key" = ["admin"])),
    request_body = KeyInput,
    responses(
        (status = 201, description = "Created; the token is in this response only", body = Item<IssuedKey>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (e.g. an organisation key without organisations)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    Admin(caller): Admin,
    body: JsonBody<KeyInput>,
) -> Result<HttpResponse, ApiError> {
    let draft = body.0.validate(state.clock.now())?;
    let new = NewKey {
        name: draft.name.into_inner(),
        role: draft.role,
        organisation_ids: draft.organisation_ids,
        expires_at: draft.expires_at,
    };
    let issued = issue(&state, &caller, new).await?;
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header(("Location", format!("/api/v1/keys/{}", issued.key.id)))
        .json(Item::new(issued)))
}

#[utoipa::path(
    get, path = "/api/v1/keys/me", tag = "accounts",
    security(("api_key" = ["client", "organisation", "editor", "admin"])),
    responses(
        (status = 200, description = "The key making the request", body = Item<ApiKey>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let id = caller
        .key()
        .map(|k| k.id)
        .ok_or_else(|| ApiError::Unauthorized("send a key to see it".into()))?;
    let key = state.db(move |c| repo::get(c, id)).await?;
    Ok(HttpResponse::Ok().json(Item::new(key)))
}

#[utoipa::path(
    get, path = "/api/v1/keys/{id}", tag = "accounts",
    security(("api_key" = ["admin"])),
    params(("id" = uuid::Uuid, Path, description = "Key id")),
    responses(
        (status = 200, description = "The key", body = Item<ApiKey>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    _admin: Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let key = state.db(move |c| repo::get(c, id)).await?;
    Ok(HttpResponse::Ok().json(Item::new(key)))
}

#[utoipa::path(
    delete, path = "/api/v1/keys/{id}", tag = "accounts",
    security(("api_key" = ["admin"])),
    params(("id" = uuid::Uuid, Path, description = "Key id")),
    responses(
        (status = 200, description = "Revoked (at once; revoking again changes nothing)", body = Item<ApiKey>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke(
    state: web::Data<AppState>,
    Admin(caller): Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let stamp = state.stamp(caller.actor());
    let key = state.db(move |c| repo::revoke(c, &stamp, id)).await?;
    Ok(HttpResponse::Ok().json(Item::new(key)))
}
