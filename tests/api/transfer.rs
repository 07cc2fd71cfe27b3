//! HSDS import and export (issue 7): a round trip reproduces every record,
//! re-importing changes nothing, hostile files are reported record by
//! record, and the Open Referral examples import and come back out valid.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_demo_app, Reply, TestApp};

async fn export(app: &TestApp, format: &str) -> String {
    let res = app
        .client
        .get(app.url(&format!("/api/v1/export?format={format}")))
        .send()
        .await
        .expect("export");
    assert!(res.status().is_success());
    res.text().await.expect("body")
}

async fn import(app: &TestApp, body: Vec<u8>, content_type: &str, dry_run: bool) -> Reply {
    app.raw(
        Method::POST,
        &format!("/api/v1/import?dry_run={dry_run}"),
        Some(content_type),
        body,
    )
    .await
}

/// Every record of a kind, through the paged list API.
async fn all(app: &TestApp, path: &str) -> Vec<Value> {
    let mut page = 1;
    let mut out = Vec::new();
    loop {
        let reply = app
            .get(&format!("{path}?per_page=100&page={page}"))
            .await
            .expect(200);
        out.extend(reply.body["data"].as_array().unwrap().iter().cloned());
        if page >= reply.body["pagination"]["total_pages"].as_i64().unwrap() {
            return out;
        }
        page += 1;
    }
}

/// A record without what the database assigns on writing (and what is
/// computed per request).
fn content(mut v: Value) -> Value {
    if let Some(map) = v.as_object_mut() {
        for key in [
            "created_at",
            "updated_at",
            "version",
            "opening",
            "freshness",
        ] {
            map.remove(key);
        }
        for value in map.values_mut() {
            *value = content(value.take());
        }
    } else if let Some(items) = v.as_array_mut() {
        for item in items.iter_mut() {
            *item = content(item.take());
        }
    }
    v
}

async fn snapshot(app: &TestApp) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for kind in ["organisations", "locations"] {
        for record in all(app, &format!("/api/v1/{kind}")).await {
            out.push((
                format!("{kind}/{}", record["id"].as_str().unwrap()),
                content(record),
            ));
        }
    }
    for record in all(app, "/api/v1/services").await {
        let id = record["id"].as_str().unwrap().to_string();
        let full = app.get(&format!("/api/v1/services/{id}")).await.expect(200);
        out.push((format!("services/{id}"), content(full.body["data"].clone())));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[tokio::test]
async fn export_then_import_into_an_empty_database_reproduces_every_record() {
    let source = spawn_demo_app().await;
    let exported = export(&source, "json").await;
    let target = spawn_app().await;

    let dry = import(
        &target,
        exported.clone().into_bytes(),
        "application/json",
        true,
    )
    .await
    .expect(200);
    assert_eq!(dry.body["created"], 78);
    assert_eq!(dry.body["dry_run"], true);
    assert_eq!(
        all(&target, "/api/v1/services").await.len(),
        0,
        "a dry run writes nothing"
    );

    let report = import(
        &target,
        exported.clone().into_bytes(),
        "application/json",
        false,
    )
    .await
    .expect(200);
    assert_eq!(
        (
            report.body["created"].clone(),
            report.body["rejected"].clone()
        ),
        (json!(78), json!(0)),
        "{}",
        report.body
    );
    assert_eq!(report.body["warnings"], json!([]));

    let (before, after) = (snapshot(&source).await, snapshot(&target).await);
    assert_eq!(before.len(), after.len());
    assert_eq!(
        before.len(),
        78 + 262
            + before
                .iter()
                .filter(|(k, _)| k.starts_with("locations/"))
                .count()
    );
    for ((key_a, a), (key_b, b)) in before.iter().zip(after.iter()) {
        assert_eq!(key_a, key_b);
        assert_eq!(a, b, "{key_a} differs after the round trip");
    }

    // Again: nothing changes, nothing is written.
    let audit_before =
        target.get("/api/v1/audit?per_page=1").await.body["pagination"]["total_items"].clone();
    let again = import(&target, exported.into_bytes(), "application/json", false)
        .await
        .expect(200);
    assert_eq!(
        (
            again.body["unchanged"].clone(),
            again.body["created"].clone(),
            again.body["updated"].clone()
        ),
        (json!(78), json!(0), json!(0))
    );
    let audit_after =
        target.get("/api/v1/audit?per_page=1").await.body["pagination"]["total_items"].clone();
    assert_eq!(
        audit_before, audit_after,
        "an unchanged re-import writes no audit rows"
    );

    // NDJSON carries the same.
    let ndjson = export(&source, "ndjson").await;
    assert_eq!(ndjson.lines().count(), 78);
    let third = spawn_app().await;
    let report = import(&third, ndjson.into_bytes(), "application/x-ndjson", false)
        .await
        .expect(200);
    assert_eq!(report.body["created"], 78);
    assert_eq!(snapshot(&third).await, after);
}

fn service(id: &str, org: &str, extra: Value) -> Value {
    let mut s = json!({
        "id": id,
        "name": "Pantry",
        "status": "active",
        "organization": {"id": org, "name": "Larder", "description": "Food"},
    });
    for (k, v) in extra.as_object().unwrap() {
        s[k] = v.clone();
    }
    s
}

#[tokio::test]
async fn hostile_files_are_reported_record_by_record_and_nothing_is_half_written() {
    let app = spawn_app().await;
    let good = "6b0f4f2e-8d0a-4a55-9a0c-1b2c3d4e5f60";
    let half = "7c1f5f3e-9e1b-4b66-8b1d-2c3d4e5f6071";
    let lines: Vec<Vec<u8>> = vec![
        service(good, "0a0f4f2e-8d0a-4a55-9a0c-1b2c3d4e5f60", json!({})).to_string().into_bytes(),
        service("11111111-1111-4111-8111-111111111111", "0b0f4f2e-8d0a-4a55-9a0c-1b2c3d4e5f60", json!({"name": 42})).to_string().into_bytes(),
        json!({"id": "22222222-2222-4222-8222-222222222222", "status": "active"}).to_string().into_bytes(),
        json!({"id": "33333333-3333-4333-8333-333333333333", "name": "Orphan", "status": "active", "organization_id": "44444444-4444-4444-8444-444444444444"}).to_string().into_bytes(),
        service(good, "0a0f4f2e-8d0a-4a55-9a0c-1b2c3d4e5f60", json!({"name": "Duplicate"})).to_string().into_bytes(),
        service("not-a-uuid", "0c0f4f2e-8d0a-4a55-9a0c-1b2c3d4e5f60", json!({})).to_string().into_bytes(),
        service("55555555-5555-4555-8555-555555555555", "0d0f4f2e-8d0a-4a55-9a0c-1b2c3d4e5f60", json!({"schedules": [{"id": "x", "freq": "WEEKLY", "byday": "MO", "opens_at": "25:99", "closes_at": "26:00"}]})).to_string().into_bytes(),
        // Its organisation is fine, the service is not: neither may be written.
        service(half, "0e0f4f2e-8d0a-4a55-9a0c-1b2c3d4e5f60", json!({"email": "not an email"})).to_string().into_bytes(),
        b"{\"id\": \"\xff\xfe\", \"name\": \"bad bytes\"}".to_vec(),
        service("66666666-6666-4666-8666-666666666666", "0f0f4f2e-8d0a-4a55-9a0c-1b2c3d4e5f60", json!({"description": "x".repeat(50 * 1024 * 1024)})).to_string().into_bytes(),
        b"[1, 2".to_vec(),
    ];
    let body = lines.join(&b'\n');
    let report = import(&app, body, "application/x-ndjson", false)
        .await
        .expect(200);
    let r = &report.body;
    assert_eq!(r["created"], 1, "{r}");
    assert_eq!(r["rejected"], 10, "{r}");
    let reasons: Vec<(i64, String)> = r["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["record"].as_i64().unwrap(),
                x["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let reason = |n: i64| {
        reasons
            .iter()
            .find(|(p, _)| *p == n)
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    };
    assert!(reason(2).contains("name"), "{}", reason(2));
    assert!(reason(3).contains("name"), "{}", reason(3));
    assert!(reason(4).contains("organization_id"), "{}", reason(4));
    assert!(reason(5).contains("appears earlier"), "{}", reason(5));
    assert!(reason(6).contains("not a UUID"), "{}", reason(6));
    assert!(
        reason(7).contains("opens_at") || reason(7).contains("schedules"),
        "{}",
        reason(7)
    );
    assert!(reason(8).contains("email"), "{}", reason(8));
    assert!(
        reason(9).contains("UTF-8") || reason(9).contains("JSON"),
        "{}",
        reason(9)
    );
    assert!(reason(10).contains("larger"), "{}", reason(10));
    assert!(
        reason(11).contains("JSON") || reason(11).contains("record"),
        "{}",
        reason(11)
    );

    app.get(&format!("/api/v1/services/{good}"))
        .await
        .expect(200);
    app.get(&format!("/api/v1/services/{half}"))
        .await
        .expect(404);
    app.get("/api/v1/organisations/0e0f4f2e-8d0a-4a55-9a0c-1b2c3d4e5f60")
        .await
        .expect(404);
    assert_eq!(
        app.get(&format!("/api/v1/services/{good}")).await.body["data"]["name"],
        "Pantry"
    );

    // A broken JSON array: what came before the break is imported and reported.
    let array = format!(
        "[{}, {{\"id\": ",
        service(
            "77777777-7777-4777-8777-777777777777",
            "0a0f4f2e-8d0a-4a55-9a0c-1b2c3d4e5f60",
            json!({})
        )
    );
    let report = import(&app, array.into_bytes(), "application/json", false)
        .await
        .expect(200);
    assert_eq!(
        (
            report.body["created"].clone(),
            report.body["rejected"].clone()
        ),
        (json!(1), json!(1))
    );
    assert!(report.body["rejections"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("rest of the file"));

    // Editors only; JSON only.
    app.anonymous()
        .send(Method::POST, "/api/v1/import", Some(&json!([])), &[])
        .await
        .expect(401);
    let client = app.key(signpost::model::enums::Role::Client, &[]);
    app.with_token(&client)
        .send(Method::POST, "/api/v1/import", Some(&json!([])), &[])
        .await
        .expect(403);
    import(&app, b"a,b\n1,2\n".to_vec(), "text/csv", false)
        .await
        .expect(415);
}

#[tokio::test]
async fn the_open_referral_examples_import_and_come_back_out_valid() {
    let app = spawn_app().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hsds/examples");
    for file in [
        "organization_full.json",
        "service_full.json",
        "service_at_location_full.json",
        "service_list.json",
        "organization_list.json",
    ] {
        let body = std::fs::read(dir.join(file)).expect("example");
        let report = import(&app, body, "application/json", false)
            .await
            .expect(200);
        assert_eq!(report.body["rejected"], 0, "{file}: {}", report.body);
    }
    let full = app
        .get("/openreferral/services?full_service=true")
        .await
        .expect(200);
    let service = &full.body["contents"][0];
    assert_eq!(service["name"], "Community Counselling");
    assert_eq!(service["organization"]["name"], "Example Organization Inc.");
    let back = app
        .get(&format!(
            "/openreferral/services/{}",
            service["id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    assert_eq!(back.body["status"], "active");
    assert!(!back.body["phones"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_federation_pull_copies_another_signpost_and_then_only_what_changed() {
    use signpost::db::changes::Stamp;
    use signpost::hsds::federation::{pull_into, Pull};
    use signpost::hsds::import::Importer;

    let source = spawn_demo_app().await;
    let target = spawn_app().await;
    let postcodes = signpost::geo::PostcodeIndex::shared().expect("postcodes");
    let base = url::Url::parse(&source.url("/openreferral")).unwrap();
    let importer = Importer::new(
        Stamp {
            actor: signpost::model::Actor::system(&format!("federation:{base}")),
            at: chrono::Utc::now(),
        },
        &postcodes,
        false,
    );
    let client = reqwest::Client::new();
    let mut pull = Pull {
        base,
        modified_after: None,
        max_pages: 100,
        per_page: 40,
        retries: 1,
        backoff: std::time::Duration::from_millis(10),
    };
    let first = {
        let mut conn = target.conn();
        pull_into(&mut conn, &importer, &client, &pull).await
    };
    assert_eq!((first.created, first.rejected), (262, 0), "{first:?}");
    let copied = all(&target, "/api/v1/services").await;
    assert_eq!(copied.len(), 262);
    let audit = target
        .get(&format!(
            "/api/v1/audit?entity_type=service&entity_id={}",
            copied[0]["id"].as_str().unwrap()
        ))
        .await;
    assert!(
        audit.body["data"][0]["actor"]
            .as_str()
            .unwrap()
            .starts_with("system:federation:http://127.0.0.1:"),
        "the source is recorded"
    );

    // Incremental: only what changed since the last pull comes over.
    let instant = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let changed = copied[5]["id"].as_str().unwrap().to_string();
    source
        .patch(
            &format!("/api/v1/services/{changed}"),
            &json!({"description": "Now also on Fridays"}),
        )
        .await
        .expect(200);
    pull.modified_after = Some(instant);
    let second = {
        let mut conn = target.conn();
        pull_into(&mut conn, &importer, &client, &pull).await
    };
    assert_eq!(
        (second.created, second.updated, second.unchanged),
        (0, 1, 0),
        "{second:?}"
    );
    let now = target
        .get(&format!("/api/v1/services/{changed}"))
        .await
        .expect(200);
    assert_eq!(now.body["data"]["description"], "Now also on Fridays");

    // The page cap holds, and a dead source is reported, not fatal.
    pull.modified_after = None;
    pull.max_pages = 2;
    let capped = {
        let mut conn = target.conn();
        pull_into(&mut conn, &importer, &client, &pull).await
    };
    assert_eq!(capped.unchanged, 80);
    pull.base = url::Url::parse("http://127.0.0.1:9/openreferral").unwrap();
    let dead = {
        let mut conn = target.conn();
        pull_into(&mut conn, &importer, &client, &pull).await
    };
    assert_eq!(dead.rejected, 1);
    assert!(dead.rejections[0].reason.contains("the pull stopped here"));
}

#[tokio::test]
async fn a_federation_source_asking_to_wait_an_hour_stops_the_pull_politely() {
    use signpost::hsds::federation::{pull_into, Pull};
    let stub = crate::stub::Stub::start().await;
    stub.answer("/openreferral/services", &[429]);
    stub.retry_after("/openreferral/services", 3_600);
    let target = spawn_app().await;
    let postcodes = signpost::geo::PostcodeIndex::shared().expect("postcodes");
    let pull = Pull {
        base: url::Url::parse(&stub.url("/openreferral")).unwrap(),
        modified_after: None,
        max_pages: 10,
        per_page: 40,
        retries: 3,
        backoff: std::time::Duration::from_millis(10),
    };
    let report = {
        let mut conn = target.conn();
        pull_into(
            &mut conn,
            &package_importer(&postcodes),
            &reqwest::Client::new(),
            &pull,
        )
        .await
    };
    assert_eq!(report.rejected, 1, "{report:?}");
    let reason = &report.rejections[0].reason;
    assert!(
        reason.contains("HTTP 429") && reason.contains("3600 s (Retry-After)"),
        "{reason}"
    );
    assert_eq!(
        stub.requests("/openreferral/services").len(),
        1,
        "no retries the source asked us not to make"
    );
}

fn package_importer(
    postcodes: &signpost::geo::PostcodeIndex,
) -> signpost::hsds::import::Importer<'_> {
    signpost::hsds::import::Importer::new(
        signpost::db::changes::Stamp {
            actor: signpost::model::Actor::system("import"),
            at: chrono::Utc::now(),
        },
        postcodes,
        false,
    )
}

#[tokio::test]
async fn the_tabular_data_package_round_trips_and_a_missing_column_is_reported() {
    use signpost::hsds::tabular::{import_package, write_package};
    let postcodes = signpost::geo::PostcodeIndex::shared().expect("postcodes");
    let source = spawn_demo_app().await;
    let dir = tempfile::tempdir().unwrap();
    let written = write_package(&mut source.conn(), dir.path()).expect("package");
    assert_eq!(written, 78);
    let package: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("datapackage.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(package["profile"], "tabular-data-package");
    let services_csv = package["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "service")
        .unwrap();
    assert_eq!(services_csv["path"], "services.csv");

    let target = spawn_app().await;
    let report = import_package(
        &mut target.conn(),
        &package_importer(&postcodes),
        dir.path(),
        |_| {},
    );
    assert_eq!((report.created, report.rejected), (262, 0), "{report:?}");
    assert_eq!(snapshot(&source).await, snapshot(&target).await);
    let again = import_package(
        &mut target.conn(),
        &package_importer(&postcodes),
        dir.path(),
        |_| {},
    );
    assert_eq!(
        (again.created, again.updated, again.rejected),
        (0, 0, 0),
        "{again:?}"
    );

    // The Open Referral CSV example imports; without its `name` column, the
    // services file is reported and the rest still goes in.
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hsds/examples/csv");
    let fresh = spawn_app().await;
    let report = import_package(
        &mut fresh.conn(),
        &package_importer(&postcodes),
        &example,
        |_| {},
    );
    assert_eq!(report.rejected, 0, "{report:?}");
    assert_eq!(all(&fresh, "/api/v1/services").await.len(), 1);

    let broken = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&example).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, broken.path().join(path.file_name().unwrap())).unwrap();
    }
    let mut reader = csv::Reader::from_path(example.join("services.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let keep: Vec<usize> = (0..headers.len())
        .filter(|i| &headers[*i] != "name")
        .collect();
    let mut writer = csv::Writer::from_path(broken.path().join("services.csv")).unwrap();
    writer
        .write_record(keep.iter().map(|i| &headers[*i]))
        .unwrap();
    for record in reader.records() {
        let record = record.unwrap();
        writer
            .write_record(keep.iter().map(|i| &record[*i]))
            .unwrap();
    }
    writer.flush().unwrap();
    let other = spawn_app().await;
    let report = import_package(
        &mut other.conn(),
        &package_importer(&postcodes),
        broken.path(),
        |_| {},
    );
    assert_eq!(report.rejected, 1, "{report:?}");
    assert!(
        report.rejections[0].reason.contains("services.csv")
            && report.rejections[0].reason.contains("`name`")
    );
    assert_eq!(report.created, 1, "the organisation still goes in");
    assert_eq!(all(&other, "/api/v1/organisations").await.len(), 1);
}

#[tokio::test]
async fn a_zipped_tabular_package_travels_over_http() {
    let source = spawn_demo_app().await;
    let res = source
        .client
        .get(source.url("/api/v1/export?format=tabular"))
        .send()
        .await
        .expect("export");
    assert_eq!(res.headers()["content-type"], "application/zip");
    let zipped = res.bytes().await.expect("body").to_vec();
    assert!(zipped.starts_with(b"PK"));

    let target = spawn_app().await;
    let report = import(&target, zipped, "application/zip", false)
        .await
        .expect(200);
    assert_eq!(
        (
            report.body["created"].clone(),
            report.body["rejected"].clone()
        ),
        (json!(262), json!(0)),
        "{}",
        report.body
    );
    assert_eq!(snapshot(&source).await, snapshot(&target).await);

    import(&target, b"not a zip".to_vec(), "application/zip", false)
        .await
        .expect_problem(400, "body");
}

/// Audit rows `(actor, at, entity_type, entity_id, action, changes)` after
/// id `audit_after`, and change-log rows `(entity_type, entity_id, op,
/// changed_at)` after `seq_after`, in order.
#[allow(clippy::type_complexity)]
fn logs_after(
    app: &TestApp,
    audit_after: i64,
    seq_after: i64,
) -> (
    Vec<(
        String,
        chrono::NaiveDateTime,
        String,
        String,
        String,
        String,
    )>,
    Vec<(String, String, String, chrono::NaiveDateTime)>,
) {
    use diesel::prelude::*;
    use signpost::db::schema::{audit_log, change_log};
    let mut conn = app.conn();
    let audits = audit_log::table
        .filter(audit_log::id.gt(audit_after))
        .order(audit_log::id.asc())
        .select((
            audit_log::actor,
            audit_log::at,
            audit_log::entity_type,
            audit_log::entity_id,
            audit_log::action,
            audit_log::changes,
        ))
        .load(&mut *conn)
        .expect("audit log");
    let changes = change_log::table
        .filter(change_log::seq.gt(seq_after))
        .order(change_log::seq.asc())
        .select((
            change_log::entity_type,
            change_log::entity_id,
            change_log::op,
            change_log::changed_at,
        ))
        .load(&mut *conn)
        .expect("change log");
    (audits, changes)
}

/// The newest audit id and change-log sequence.
fn log_marks(app: &TestApp) -> (i64, i64) {
    use diesel::prelude::*;
    use signpost::db::schema::{audit_log, change_log};
    let mut conn = app.conn();
    let audit: Option<i64> = audit_log::table
        .select(diesel::dsl::max(audit_log::id))
        .first(&mut *conn)
        .expect("audit");
    let seq: Option<i64> = change_log::table
        .select(diesel::dsl::max(change_log::seq))
        .first(&mut *conn)
        .expect("change log");
    (audit.unwrap_or(0), seq.unwrap_or(0))
}

/// Records beyond an export: nested organisations repeated, references to
/// earlier records, a new taxonomy term, an organisation that changes
/// between records, refusals and things left out.
fn awkward_records() -> Vec<Value> {
    let org = "0a1f4f2e-8d0a-4a55-9a0c-1b2c3d4e5f60";
    let location = |id: &str, postcode: &str, name: &str| {
        json!({"id": id, "location_type": "physical", "name": name,
               "addresses": [{"id": format!("a{}", &id[1..]), "address_1": "1 High Street", "city": "Glasgow", "postal_code": postcode}]})
    };
    let nested = json!({"id": org, "name": "Larder", "description": "Food"});
    // A term known by its code, and a new one (with an id, so that both
    // imports give it the same).
    let category = |id: &str, code: &str, name: &str| {
        json!({"id": format!("attr-{code}"), "link_type": "category",
               "taxonomy_term": {"id": id, "code": code, "name": name, "taxonomy": "category"}})
    };
    let food = category("food", "food-banks", "Food banks");
    let new_topic = category(
        "5e5e5e5e-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
        "brand-new-topic",
        "Brand new topic",
    );
    vec![
        json!({"id": "11111111-aaaa-4111-8111-111111111111", "name": "Pantry", "status": "active",
               "organization": nested,
               "service_at_locations": [{"id": "x1", "location": location("c1111111-aaaa-4111-8111-111111111111", "G31 2ER", "Hall")}],
               "attributes": [food, new_topic],
               "phones": [{"id": "p1", "number": "0141 123 4567"}],
               "schedules": [{"id": "s1", "freq": "WEEKLY", "byday": "MO,WE", "opens_at": "09:00", "closes_at": "12:00"},
                             {"id": "s2", "description": "Saturdays 10am to 1pm"}],
               "languages": [{"id": "l1", "code": "en"}, {"id": "l2", "code": "gd"}]}),
        json!({"id": "22222222-aaaa-4222-8222-222222222222", "name": "Larder café", "status": "active",
               "organization": nested,
               "service_at_locations": [
                   {"id": "x2", "location": location("c1111111-aaaa-4111-8111-111111111111", "G31 2ER", "Hall")},
                   {"id": "x3", "location": location("c2222222-aaaa-4222-8222-222222222222", "EH1 1YZ", "Annex")}],
               "attributes": [food,
                              {"id": "g1", "link_type": "community_group", "taxonomy_term": {"id": "t-g1", "code": "older-people", "name": "Older people", "taxonomy": "community_group"}}],
               "service_areas": [{"id": "a1", "uri": "https://statistics.gov.scot/id/statistical-geography/S12000049"}]}),
        json!({"id": "33333333-aaaa-4333-8333-333333333333", "name": "Deliveries", "status": "defunct",
               "organization_id": org,
               "service_at_locations": [{"id": "x4", "location_id": "c2222222-aaaa-4222-8222-222222222222"}],
               "attributes": [{"id": "r1", "link_type": "signpost", "value": "11111111-aaaa-4111-8111-111111111111",
                               "taxonomy_term": {"id": "t-r", "code": "replaced_by", "name": "replaced by", "taxonomy": "signpost"}}]}),
        json!({"id": "44444444-aaaa-4444-8444-444444444444", "name": "Advice", "status": "active",
               "organization": {"id": org, "name": "Larder and Advice", "description": "Food and advice"}}),
        json!({"id": "55555555-aaaa-4555-8555-555555555555", "name": "Orphan", "status": "active",
               "organization_id": "99999999-aaaa-4999-8999-999999999999"}),
        json!({"id": "66666666-aaaa-4666-8666-666666666666", "name": "Bad email", "status": "active",
               "email": "not an email", "organization": nested}),
        json!({"id": "22222222-AAAA-4222-8222-222222222222", "name": "Again", "status": "active", "organization": nested}),
        json!({"id": "77777777-aaaa-4777-8777-777777777777", "name": "Far away", "status": "active",
               "organization": {"id": "0b1f4f2e-8d0a-4a55-9a0c-1b2c3d4e5f60", "name": "Travellers", "description": ""},
               "service_at_locations": [
                   {"id": "x5", "location": {"id": "c7777777-aaaa-4777-8777-777777777777", "location_type": "physical", "latitude": 95.0, "longitude": 3.0,
                                             "addresses": [{"id": "ad7", "postal_code": "not a postcode"}]}}]}),
        json!({"id": "x8", "service": {"id": "88888888-aaaa-4888-8888-888888888888", "name": "Drop-in", "status": "active", "organization_id": org},
               "location": location("c8888888-aaaa-4888-8888-888888888888", "G40 1AA", "Drop-in room")}),
    ]
}

/// Imports records one at a time through `Importer::import`, as the
/// tabular and federation imports do, refusing repeated ids as a file
/// import does; returns (created, updated, unchanged, rejected).
fn import_one_by_one(
    app: &TestApp,
    importer: &signpost::hsds::import::Importer<'_>,
    lines: &[String],
) -> (usize, usize, usize, usize) {
    use signpost::hsds::import::Outcome;
    let mut counts = (0, 0, 0, 0);
    let mut seen = std::collections::HashSet::new();
    let mut conn = app.conn();
    for line in lines {
        let value: Value = serde_json::from_str(line).unwrap();
        let id = value["id"].as_str().unwrap().to_lowercase();
        if !seen.insert(id) {
            counts.3 += 1;
            continue;
        }
        match importer.import(&mut conn, value) {
            Ok(Outcome::Created) => counts.0 += 1,
            Ok(Outcome::Updated) => counts.1 += 1,
            Ok(Outcome::Unchanged) => counts.2 += 1,
            Err(_) => counts.3 += 1,
        }
    }
    counts
}

#[tokio::test]
async fn a_file_imported_in_batches_writes_what_one_record_at_a_time_writes() {
    imports_in_batches_as_one_record_at_a_time(None).await;
}

/// Small batches: each is planned while the one before it is written, and
/// sees what that one creates (the demo's organisations run across them).
#[tokio::test]
async fn a_file_imported_in_many_small_batches_writes_what_one_record_at_a_time_writes() {
    imports_in_batches_as_one_record_at_a_time(Some(3)).await;
}

async fn imports_in_batches_as_one_record_at_a_time(batch_records: Option<usize>) {
    use signpost::hsds::import::import_file;
    let source = spawn_demo_app().await;
    let mut lines: Vec<String> = export(&source, "ndjson")
        .await
        .lines()
        .map(str::to_string)
        .collect();
    lines.extend(awkward_records().iter().map(Value::to_string));
    let file = lines.join("\n");
    let postcodes = signpost::geo::PostcodeIndex::shared().expect("postcodes");
    // Batch size only matters to a file import.
    let importer = match batch_records {
        Some(n) => package_importer(&postcodes).batch_records(n),
        None => package_importer(&postcodes),
    };

    let (batched, single) = (spawn_app().await, spawn_app().await);
    for round in ["first", "again"] {
        let (batched_marks, single_marks) = (log_marks(&batched), log_marks(&single));
        let report = import_file(&mut batched.conn(), &importer, file.as_bytes(), |_| {});
        let expected = import_one_by_one(&single, &importer, &lines);
        assert_eq!(
            (
                report.created,
                report.updated,
                report.unchanged,
                report.rejected
            ),
            expected,
            "{round}: {report:?}"
        );
        if round == "first" {
            assert_eq!(report.rejected, 3, "{report:?}");
            assert!(report.warnings.len() >= 2, "{report:?}");
        } else {
            // The organisation's name changes back and forth between records.
            assert_eq!(report.updated, 2, "{report:?}");
        }
        let (batched_audit, batched_changes) =
            logs_after(&batched, batched_marks.0, batched_marks.1);
        let (single_audit, single_changes) = logs_after(&single, single_marks.0, single_marks.1);
        assert_eq!(batched_audit.len(), single_audit.len(), "{round}");
        for (a, b) in batched_audit.iter().zip(&single_audit) {
            assert_eq!(a, b, "{round}: audit rows differ");
        }
        assert_eq!(batched_changes, single_changes, "{round}");
        assert_eq!(snapshot(&batched).await, snapshot(&single).await, "{round}");
    }
}

#[tokio::test]
async fn a_batch_a_database_constraint_refuses_goes_in_record_by_record() {
    use diesel::connection::SimpleConnection;
    use signpost::hsds::import::{import_file, Importer};
    let app = spawn_app().await;
    // A rule the importer's checks know nothing of: no service named "Boom".
    let sql = match &mut *app.conn() {
        signpost::db::DbConnection::Sqlite(_) => {
            "CREATE TRIGGER no_boom BEFORE INSERT ON services WHEN NEW.name = 'Boom' \
             BEGIN SELECT RAISE(ABORT, 'no boom'); END;"
        }
        signpost::db::DbConnection::Postgres(_) => {
            "CREATE FUNCTION no_boom() RETURNS trigger AS $$ BEGIN \
             IF NEW.name = 'Boom' THEN RAISE EXCEPTION 'no boom'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER no_boom BEFORE INSERT ON services FOR EACH ROW EXECUTE FUNCTION no_boom();"
        }
    };
    app.conn().batch_execute(sql).expect("trigger");
    let org = "0a1f4f2e-8d0a-4a55-9a0c-1b2c3d4e5f60";
    let lines: Vec<String> = (0..20)
        .map(|i| {
            let name = if i == 7 {
                "Boom".to_string()
            } else {
                format!("Pantry {i}")
            };
            service(
                &format!("{i:08}-aaaa-4111-8111-111111111111"),
                org,
                json!({"name": name}),
            )
            .to_string()
        })
        .collect();
    let postcodes = signpost::geo::PostcodeIndex::shared().expect("postcodes");
    // Batches of three: the one the trigger refuses is written while the
    // next is planned, which is then planned again.
    let importer: Importer<'_> = package_importer(&postcodes).batch_records(3);
    let report = import_file(
        &mut app.conn(),
        &importer,
        lines.join("\n").as_bytes(),
        |_| {},
    );
    assert_eq!((report.created, report.rejected), (19, 1), "{report:?}");
    assert_eq!(report.rejections[0].record, 8);
    assert!(
        report.rejections[0].reason.contains("no boom"),
        "{report:?}"
    );
    assert_eq!(all(&app, "/api/v1/services").await.len(), 19);
    assert_eq!(all(&app, "/api/v1/organisations").await.len(), 1);
}

#[tokio::test]
async fn a_batch_planned_before_another_write_is_planned_again() {
    use signpost::hsds::import::import_file;
    let app = spawn_app().await;
    let org = "0c1f4f2e-8d0a-4a55-9a0c-1b2c3d4e5f60";
    // Two batches of two services, each naming its organisation "Larder".
    let lines: Vec<String> = (0..4)
        .map(|i| {
            service(
                &format!("{i:08}-bbbb-4111-8111-111111111111"),
                org,
                json!({"name": format!("Pantry {i}")}),
            )
            .to_string()
        })
        .collect();
    let postcodes = signpost::geo::PostcodeIndex::shared().expect("postcodes");
    let importer = package_importer(&postcodes).batch_records(2);
    let mut renamed = false;
    // Once the first batch is in (the second is planned by then), another
    // writer renames the organisation. The second batch must see that and
    // name it back, as importing record by record would.
    let report = import_file(
        &mut app.conn(),
        &importer,
        lines.join("\n").as_bytes(),
        |_| {
            if !renamed {
                renamed = true;
                let renamed_rows = signpost::db::write_transaction(&mut app.conn(), |c| {
                    Ok(diesel::RunQueryDsl::execute(
                        diesel::sql_query(format!(
                            "UPDATE organisations SET name = 'Renamed' WHERE id = '{org}'"
                        )),
                        c,
                    )?)
                })
                .expect("rename");
                assert_eq!(renamed_rows, 1);
            }
        },
    );
    assert!(renamed);
    assert_eq!((report.created, report.rejected), (4, 0), "{report:?}");
    let organisation = app
        .get(&format!("/api/v1/organisations/{org}"))
        .await
        .expect(200)
        .body;
    assert_eq!(organisation["data"]["name"], "Larder", "{organisation}");
}

#[tokio::test]
async fn a_dry_run_sees_what_earlier_batches_would_create() {
    use signpost::hsds::import::{import_file, Importer};
    let app = spawn_app().await;
    let org = "0d1f4f2e-8d0a-4a55-9a0c-1b2c3d4e5f60";
    let location = "1e2f4f2e-8d0a-4a55-9a0c-1b2c3d4e5f60";
    // The first record (a batch of its own) creates the organisation and
    // the location; the next two only refer to them by id.
    let lines = [
        service(
            "00000001-cccc-4111-8111-111111111111",
            org,
            json!({"service_at_locations": [{"id": "2f3f4f2e-8d0a-4a55-9a0c-1b2c3d4e5f60",
                "location": {"id": location, "name": "Hall", "location_type": "physical",
                "addresses": [{"id": "4b3f4f2e-8d0a-4a55-9a0c-1b2c3d4e5f60", "address_1": "1 Main Street", "city": "Glasgow", "postal_code": "G31 2ER",
                "country": "GB", "address_type": "physical"}]}}]}),
        ),
        json!({"id": "00000002-cccc-4111-8111-111111111111", "name": "Pantry 2", "status": "active",
               "organization_id": org,
               "service_at_locations": [{"id": "3a3f4f2e-8d0a-4a55-9a0c-1b2c3d4e5f60", "location_id": location}]}),
        json!({"id": "00000003-cccc-4111-8111-111111111111", "name": "Pantry 3", "status": "active",
               "organization_id": org}),
    ]
    .map(|l| l.to_string())
    .join("\n");
    let postcodes = signpost::geo::PostcodeIndex::shared().expect("postcodes");
    let stamp = || signpost::db::changes::Stamp {
        actor: signpost::model::Actor::system("import"),
        at: chrono::Utc::now(),
    };
    let dry = import_file(
        &mut app.conn(),
        &Importer::new(stamp(), &postcodes, true).batch_records(1),
        lines.as_bytes(),
        |_| {},
    );
    assert_eq!((dry.created, dry.rejected), (3, 0), "{dry:?}");
    assert_eq!(all(&app, "/api/v1/services").await.len(), 0);
    // As the real import then finds.
    let real = import_file(
        &mut app.conn(),
        &Importer::new(stamp(), &postcodes, false).batch_records(1),
        lines.as_bytes(),
        |_| {},
    );
    assert_eq!((real.created, real.rejected), (3, 0), "{real:?}");
}
