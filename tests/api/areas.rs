use crate::helpers::spawn_app;

#[tokio::test]
async fn service_areas_cover_scotland() {
    let app = spawn_app().await;
    let all = app.get("/api/v1/service-areas").await.expect(200);
    let areas = all.body["data"].as_array().unwrap();
    let count = |t: &str| areas.iter().filter(|a| a["area_type"] == t).count();
    assert_eq!(count("council_area"), 32);
    assert_eq!(count("health_board"), 14);
    assert_eq!(count("hscp"), 31);
    assert!(areas
        .iter()
        .any(|a| a["code"] == "S92000003" && a["name"] == "Scotland"));
    assert!(
        areas
            .iter()
            .any(|a| a["code"] == "S12000049" && a["name"] == "Glasgow City"),
        "current Glasgow code"
    );
    assert_eq!(areas[0]["area_type"], "council_area", "most specific first");
    let boards = app
        .get("/api/v1/service-areas?area_type=health_board")
        .await
        .expect(200);
    assert_eq!(boards.body["data"].as_array().unwrap().len(), 14);
    app.get("/api/v1/service-areas?area_type=galaxy")
        .await
        .expect_problem(400, "area_type");
}
