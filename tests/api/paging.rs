use std::collections::HashSet;

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn paging_is_stable_under_inserts_with_no_duplicates_or_gaps() {
    let app = spawn_app().await;
    let mut originals = HashSet::new();
    for i in 0..23 {
        let org = app.create_org(&format!("Group {i:02}")).await;
        originals.insert(org["id"].as_str().unwrap().to_string());
    }
    let mut seen = Vec::new();
    let mut page = 1;
    loop {
        let reply = app
            .get(&format!("/api/v1/organisations?per_page=5&page={page}"))
            .await
            .expect(200);
        for org in reply.body["data"].as_array().unwrap() {
            seen.push(org["id"].as_str().unwrap().to_string());
        }
        // Someone adds a listing while we page.
        app.create_org(&format!("Late arrival {page}")).await;
        if reply.body["links"]["next"].is_null() {
            break;
        }
        page += 1;
        assert!(page < 50, "paging never ended");
    }
    let unique: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "a record appeared on two pages");
    assert!(
        originals.is_subset(&unique),
        "a record present from the start was skipped"
    );
}

#[tokio::test]
async fn pages_carry_totals_links_and_a_deterministic_order() {
    let app = spawn_app().await;
    for name in ["Beta", "Alpha", "Beta", "Gamma", "Alpha"] {
        app.create_org(name).await;
    }
    let first = app
        .get("/api/v1/organisations?per_page=2&sort=name")
        .await
        .expect(200);
    assert_eq!(
        first.body["pagination"],
        json!({"page": 1, "per_page": 2, "total_items": 5, "total_pages": 3})
    );
    assert_eq!(first.body["links"]["prev"], json!(null));
    let next = first.body["links"]["next"].as_str().unwrap();
    assert!(
        next.contains("page=2") && next.contains("sort=name") && next.contains("per_page=2"),
        "{next}"
    );
    let second = app.get(next).await.expect(200);
    let last = app
        .get("/api/v1/organisations?per_page=2&sort=name&page=3")
        .await
        .expect(200);
    assert_eq!(last.body["links"]["next"], json!(null));
    let names: Vec<String> = [&first, &second, &last]
        .iter()
        .flat_map(|r| {
            r.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(names, ["Alpha", "Alpha", "Beta", "Beta", "Gamma"]);
    // Ties (same name) are broken by id, so repeated reads agree.
    let again = app
        .get("/api/v1/organisations?per_page=2&sort=name")
        .await
        .expect(200);
    assert_eq!(again.body["data"], first.body["data"]);
    let ids: Vec<&str> = first.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert!(ids[0] < ids[1]);
    // A page past the end is empty, not an error.
    let beyond = app.get("/api/v1/organisations?page=9").await.expect(200);
    assert_eq!(beyond.body["data"], json!([]));
}

#[tokio::test]
async fn bad_paging_parameters_are_400_naming_the_field() {
    let app = spawn_app().await;
    for (query, field) in [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=99999999999999999999", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("per_page=1.5", "per_page"),
        ("include_archived=maybe", "include_archived"),
        ("sort=random", "sort"),
        ("organisation_id=nope", "organisation_id"),
    ] {
        let path = if field == "organisation_id" {
            "/api/v1/services"
        } else {
            "/api/v1/organisations"
        };
        app.get(&format!("{path}?{query}"))
            .await
            .expect_problem(400, field);
    }
}
