//! `POST /api/v1/import` (editors) and `GET /api/v1/export`: HSDS 3.0 in
//! and out over HTTP. Both stream: the body is imported record by record as
//! it arrives, and the export is written as it is read from the database.

use std::io::{BufReader, Read, Write};

use actix_web::web::{Bytes, Payload};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::mpsc;
use utoipa::IntoParams;

use super::auth::Staff;
use super::error::{ApiError, Problem};
use super::extract;
use crate::hsds::cli::{write_export, Format};
use crate::hsds::import::{import_file, Importer, Report};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/import", web::post().to(import))
        .route("/export", web::get().to(export));
}

/// Largest import body accepted over HTTP (the CLI has no limit).
const MAX_IMPORT_BYTES: usize = 1 << 30;

/// Reads request body chunks sent from the async side, on a blocking thread.
struct ChannelReader {
    chunks: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

/// Sends written bytes to the response body, from a blocking thread.
struct ChannelWriter {
    chunks: mpsc::Sender<Bytes>,
    buffer: Vec<u8>,
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        if self.buffer.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buffer));
        self.chunks.blocking_send(chunk).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Check everything and report, writing nothing.
    #[param(value_type = Option<bool>)]
    dry_run: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/import", tag = "transfer",
    security(("api_key" = ["editor", "admin"])),
    params(ImportQuery),
    request_body(content = String, description = "HSDS 3.0: a JSON array of full services or organizations, NDJSON (one per line, application/x-ndjson), or a zipped tabular data package (application/zip)", content_type = "application/json"),
    responses(
        (status = 200, description = "What was created, updated, left unchanged and rejected (with reasons)", body = Report),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor or admin key", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body larger than 1 GiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON or NDJSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn import(
    state: web::Data<AppState>,
    req: HttpRequest,
    Staff(caller): Staff,
    query: web::Query<ImportQuery>,
    mut body: Payload,
) -> Result<HttpResponse, ApiError> {
    let dry_run = extract::bool_param("dry_run", query.dry_run.as_deref())?;
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if content_type == "application/zip" {
        return import_package(&state, caller, dry_run, body).await;
    }
    if !(content_type.ends_with("json") || content_type == "application/x-ndjson") {
        return Err(ApiError::UnsupportedMediaType(
            "send application/json (an array), application/x-ndjson or application/zip (a tabular data package)".into(),
        ));
    }
    let (sender, chunks) = mpsc::channel::<Bytes>(16);
    let pool = state.pool.clone();
    let postcodes = state.postcodes.clone();
    let stamp = state.stamp(caller.actor());
    let worker = tokio::task::spawn_blocking(move || -> Result<Report, ApiError> {
        let mut conn = pool
            .get()
            .map_err(|e| ApiError::Unavailable(e.to_string()))?;
        let importer = Importer::new(stamp, &postcodes, dry_run);
        let input = BufReader::with_capacity(
            1 << 16,
            ChannelReader {
                chunks,
                current: Bytes::new(),
            },
        );
        Ok(import_file(&mut conn, &importer, input, |_| {}))
    });
    let mut received = 0usize;
    let mut too_large = false;
    while let Some(chunk) = body.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::bad_request("body", format!("could not read the body: {e}")))?;
        received += chunk.len();
        if received > MAX_IMPORT_BYTES {
            too_large = true;
            break;
        }
        if sender.send(chunk).await.is_err() {
            break;
        }
    }
    drop(sender);
    let report = worker
        .await
        .map_err(|e| ApiError::Internal(format!("import task: {e}")))??;
    if too_large {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_IMPORT_BYTES,
        });
    }
    Ok(HttpResponse::Ok().json(report))
}

/// A zipped tabular data package: spooled to a temporary file (never held
/// in memory), unpacked, imported.
async fn import_package(
    state: &AppState,
    caller: crate::auth::Caller,
    dry_run: bool,
    mut body: Payload,
) -> Result<HttpResponse, ApiError> {
    let work =
        tempfile::tempdir().map_err(|e| ApiError::Internal(format!("temporary directory: {e}")))?;
    let archive = work.path().join("package.zip");
    let mut file = tokio::fs::File::create(&archive)
        .await
        .map_err(|e| ApiError::Internal(format!("spooling the upload: {e}")))?;
    let mut received = 0usize;
    while let Some(chunk) = body.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::bad_request("body", format!("could not read the body: {e}")))?;
        received += chunk.len();
        if received > MAX_IMPORT_BYTES {
            return Err(ApiError::PayloadTooLarge {
                limit: MAX_IMPORT_BYTES,
            });
        }
        tokio::io::AsyncWriteExt::write_all(&mut file, &chunk)
            .await
            .map_err(|e| ApiError::Internal(format!("spooling the upload: {e}")))?;
    }
    drop(file);
    let pool = state.pool.clone();
    let postcodes = state.postcodes.clone();
    let stamp = state.stamp(caller.actor());
    let report = web::block(move || -> Result<Report, ApiError> {
        let unpacked = work.path().join("package");
        std::fs::create_dir_all(&unpacked).map_err(|e| ApiError::Internal(e.to_string()))?;
        crate::hsds::tabular::unzip(&archive, &unpacked)
            .map_err(|e| ApiError::bad_request("body", format!("{e:#}")))?;
        let mut conn = pool
            .get()
            .map_err(|e| ApiError::Unavailable(e.to_string()))?;
        let importer = Importer::new(stamp, &postcodes, dry_run);
        Ok(crate::hsds::tabular::import_package(
            &mut conn,
            &importer,
            &unpacked,
            |_| {},
        ))
    })
    .await??;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `json` (an array, default), `ndjson` (one organization per line) or
    /// `tabular` (a zipped tabular data package: CSV files and datapackage.json).
    #[param(pattern = "^(json|ndjson|tabular)$")]
    format: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/export", tag = "transfer",
    params(ExportQuery),
    responses(
        (status = 200, description = "Every live organization as HSDS 3.0, with its services (fully nested) and locations; streamed", content_type = "application/json"),
        (status = 400, description = "Bad format", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn export(
    state: web::Data<AppState>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let format = match query.format.as_deref().map(str::trim) {
        None | Some("") | Some("json") => Format::Json,
        Some("ndjson") => Format::Ndjson,
        Some("tabular") => Format::Tabular,
        Some(_) => {
            return Err(ApiError::bad_request(
                "format",
                "must be json, ndjson or tabular",
            ))
        }
    };
    let (sender, mut chunks) = mpsc::channel::<Bytes>(8);
    let pool = state.pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter {
            chunks: sender,
            buffer: Vec::new(),
        };
        let written = pool
            .get()
            .map_err(anyhow::Error::from)
            .and_then(|mut conn| match format {
                Format::Tabular => {
                    let dir = tempfile::tempdir()?;
                    crate::hsds::tabular::write_package(&mut conn, dir.path())?;
                    crate::hsds::tabular::zip_dir(dir.path(), &mut out)?;
                    out.flush()?;
                    Ok(0)
                }
                _ => write_export(&mut conn, format, &mut out),
            });
        if let Err(e) = written {
            // The status line has gone; the truncated body is the signal.
            tracing::error!(error = %format!("{e:#}"), "export stopped");
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| {
        chunks
            .poll_recv(cx)
            .map(|c| c.map(Ok::<_, actix_web::Error>))
    });
    let content_type = match format {
        Format::Ndjson => "application/x-ndjson",
        Format::Tabular => "application/zip",
        Format::Json => "application/json",
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .streaming(stream))
}
