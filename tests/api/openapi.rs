use crate::helpers::spawn_app;

/// The committed spec must be exactly what the code generates.
/// Regenerate with: cargo run -- openapi > openapi/openapi.json
#[test]
fn committed_openapi_matches_the_code() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .expect("openapi/openapi.json is committed");
    let generated = signpost::api::openapi::document();
    assert!(
        committed == generated,
        "openapi/openapi.json differs from the code; regenerate it with `cargo run -- openapi > openapi/openapi.json`"
    );
}

#[tokio::test]
async fn the_spec_and_docs_are_served() {
    let app = spawn_app().await;
    let spec = app.get("/api/v1/openapi.json").await.expect(200);
    assert_eq!(
        spec.body["openapi"].as_str().unwrap().chars().next(),
        Some('3')
    );
    for path in [
        "/api/v1/services",
        "/api/v1/services/{id}",
        "/api/v1/organisations",
        "/api/v1/locations",
        "/api/v1/taxonomy",
        "/api/v1/service-areas",
    ] {
        assert!(spec.body["paths"][path].is_object(), "{path} is documented");
    }
    let problem_422 = &spec.body["paths"]["/api/v1/services"]["post"]["responses"]["422"];
    assert!(problem_422["content"]["application/problem+json"].is_object());

    let docs = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(
        html.contains("/docs/swagger-ui-bundle.js") && !html.contains("https://"),
        "docs use vendored assets only"
    );
    let js = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.bytes().await.unwrap().len() > 100_000);
}
