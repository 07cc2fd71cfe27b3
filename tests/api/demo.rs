use std::collections::HashSet;

use crate::helpers::spawn_demo_app;

#[tokio::test]
async fn the_demo_directory_loads_and_reads_like_real_data() {
    let app = spawn_demo_app().await;
    let services = app.get("/api/v1/services?per_page=5").await.expect(200);
    assert_eq!(services.body["data"].as_array().unwrap().len(), 5);
    assert!(services.body["pagination"]["total_items"].as_i64().unwrap() >= 150);
    let orgs = app
        .get("/api/v1/organisations?per_page=1")
        .await
        .expect(200);
    assert!(orgs.body["pagination"]["total_items"].as_i64().unwrap() >= 40);

    let mut councils = HashSet::new();
    let mut area_only = 0;
    let mut top_categories = HashSet::new();
    let mut page = 1;
    loop {
        let reply = app
            .get(&format!(
                "/api/v1/services?per_page=100&page={page}&include_archived=true"
            ))
            .await
            .expect(200);
        for s in reply.body["data"].as_array().unwrap() {
            for loc in s["locations"].as_array().unwrap() {
                assert!(loc["latitude"].is_f64(), "every demo location is geocoded");
                councils.insert(loc["council_area_code"].as_str().unwrap().to_string());
            }
            if s["locations"].as_array().unwrap().is_empty() {
                assert!(
                    !s["service_areas"].as_array().unwrap().is_empty(),
                    "{} has neither location nor area",
                    s["name"]
                );
                area_only += 1;
            }
            for c in s["categories"].as_array().unwrap() {
                top_categories.insert(c["slug"].as_str().unwrap().to_string());
            }
        }
        if reply.body["links"]["next"].is_null() {
            break;
        }
        page += 1;
    }
    for council in ["S12000049", "S12000036", "S12000017", "S12000042"] {
        assert!(councils.contains(council), "demo covers council {council}");
    }
    assert!(
        area_only >= 10,
        "demo has national/regional services ({area_only})"
    );
    assert!(
        top_categories.len() >= 30,
        "demo uses many categories ({})",
        top_categories.len()
    );
}
