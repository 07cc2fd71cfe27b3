//! Browsable API documentation at `/docs`, from a vendored copy of Swagger UI
//! (`assets/swagger-ui`): nothing is fetched at build or run time.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

static BUNDLE_JS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js");
static CSS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui.css");

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Signpost API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
"#;

// Kept in its own file so a strict Content-Security-Policy can allow scripts from 'self' only.
const INIT: &str = r##"window.onload = function () {
  window.ui = SwaggerUIBundle({ url: "/api/v1/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
};
"##;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/docs", web::get().to(page))
        .route("/docs/", web::get().to(page))
        .route("/docs/swagger-ui-bundle.js", web::get().to(bundle))
        .route("/docs/swagger-ui.css", web::get().to(css))
        .route("/docs/init.js", web::get().to(init));
}

async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(PAGE)
}

fn asset(content_type: &str, body: &'static [u8]) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(body)
}

async fn bundle() -> HttpResponse {
    asset("application/javascript; charset=utf-8", BUNDLE_JS)
}

async fn css() -> HttpResponse {
    asset("text/css; charset=utf-8", CSS)
}

async fn init() -> HttpResponse {
    asset("application/javascript; charset=utf-8", INIT.as_bytes())
}
