//! Freshness (issue 5): link checks, flags, reports, review ageing,
//! closure and reopening, ended programmes, the review queue, webhooks,
//! and how search demotes what is stale.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use signpost::clock::{Clock, FixedClock};
use signpost::config::FreshnessSettings;
use signpost::links::{BrokenRule, LinkCheckConfig, LinkChecker};
use signpost::model::enums::Role;
use signpost::model::freshness::ReviewPolicy;

use crate::helpers::{Storage, TestApp};
use crate::search::search_until;
use crate::stub::Stub;

const POLICY: ReviewPolicy = ReviewPolicy {
    review_days: 365,
    grace_days: 61,
};

fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
}

/// An app on a clock the test moves.
async fn app_at(t: DateTime<Utc>) -> (TestApp, FixedClock) {
    let clock = FixedClock::at(t);
    let app = Storage::new()
        .with_clock(Arc::new(clock.clone()))
        .start(false)
        .await;
    (app, clock)
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

async fn service(app: &TestApp, org: &str, body: Value) -> String {
    let mut body = body;
    body["organisation_id"] = json!(org);
    id(&app.create_service(&body).await)
}

async fn freshness(app: &TestApp, service: &str) -> Value {
    app.get(&format!("/api/v1/services/{service}"))
        .await
        .expect(200)
        .body["data"]["freshness"]
        .clone()
}

fn rules() -> FreshnessSettings {
    FreshnessSettings {
        broken: BrokenRule::default(),
        reports_to_flag: 2,
        allow_private_targets: true,
    }
}

async fn check_links(app: &TestApp, clock: &FixedClock) -> signpost::jobs::links::LinkRun {
    let checker = LinkChecker::new(LinkCheckConfig {
        allow_private: true,
        per_host_delay: StdDuration::ZERO,
        timeout: StdDuration::from_secs(2),
        ..LinkCheckConfig::default()
    })
    .expect("checker");
    let clock: Arc<dyn Clock> = Arc::new(clock.clone());
    signpost::jobs::links::check_all(&app.pool, &clock, &checker, &rules(), |_| {})
        .await
        .expect("link check")
}

fn sweep(app: &TestApp, clock: &FixedClock) -> signpost::jobs::sweep::SweepRun {
    let mut conn = app.conn();
    signpost::jobs::sweep::sweep(&mut conn, clock.now(), POLICY).expect("sweep")
}

async fn report(
    app: &TestApp,
    token: Option<&str>,
    service: &str,
    kind: &str,
) -> crate::helpers::Reply {
    let body =
        json!({"kind": kind, "message": "The door was locked and the sign said it had stopped"});
    let path = format!("/api/v1/services/{service}/reports");
    match token {
        Some(t) => app.with_token(t).post(&path, &body).await,
        None => app.anonymous().post(&path, &body).await,
    }
}

#[tokio::test]
async fn a_link_is_flagged_broken_after_three_failures_over_seven_days_and_cleared_by_a_success() {
    let (app, clock) = app_at(start_time()).await;
    let stub = Stub::start().await;
    stub.answer("/gone", &[404]);
    let org = id(&app.create_org("Larder").await);
    let s = service(
        &app,
        &org,
        json!({"name": "Pantry", "url": stub.url("/gone"), "verified": true}),
    )
    .await;

    for day in [0, 4] {
        clock.set(start_time() + Duration::days(day));
        let run = check_links(&app, &clock).await;
        assert_eq!((run.urls, run.failed, run.flagged), (1, 1, 0), "day {day}");
    }
    assert_eq!(
        freshness(&app, &s).await["state"],
        "fresh",
        "two failures are not enough"
    );

    clock.set(start_time() + Duration::days(8));
    assert_eq!(check_links(&app, &clock).await.flagged, 1);
    let f = freshness(&app, &s).await;
    assert_eq!(f["state"], "due_for_review");
    assert_eq!(f["flags"][0]["kind"], "link_broken");
    assert_eq!(f["flags"][0]["raised_by"], "system:link-checker");
    let evidence = f["flags"][0]["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("404") && evidence.contains("3 checks since 2026-11-02"),
        "{evidence}"
    );
    assert_eq!(f["last_checked_at"], json!(clock.now()));
    // HEAD first, then GET because HEAD failed.
    let methods: Vec<String> = stub
        .requests("/gone")
        .iter()
        .map(|r| r.method.clone())
        .collect();
    assert_eq!(&methods[..2], ["HEAD", "GET"]);
    assert!(stub.requests("/gone")[0].headers["user-agent"].starts_with("Signpost-LinkChecker/"));

    stub.answer("/gone", &[200]);
    clock.advance(Duration::days(1));
    assert_eq!(check_links(&app, &clock).await.cleared, 1);
    let f = freshness(&app, &s).await;
    assert_eq!(f["state"], "fresh");
    assert_eq!(f["flags"], json!([]));
    let history = app
        .get(&format!("/api/v1/services/{s}/flags"))
        .await
        .expect(200);
    assert_eq!(
        history.body["data"][0]["resolved_by"],
        "system:link-checker"
    );
    assert!(history.body["data"][0]["resolution"]
        .as_str()
        .unwrap()
        .contains("answered again"));
}

#[tokio::test]
async fn listings_age_through_due_and_overdue_and_verify_makes_them_fresh() {
    let (app, clock) = app_at(start_time()).await;
    let org = id(&app.create_org("Larder").await);
    let s = service(&app, &org, json!({"name": "Pantry", "verified": true})).await;
    let never = service(&app, &org, json!({"name": "Lunch club"})).await;
    assert_eq!(freshness(&app, &s).await["state"], "fresh");
    assert_eq!(
        freshness(&app, &never).await["state"],
        "due_for_review",
        "nobody has confirmed it"
    );

    clock.advance(Duration::days(366));
    assert_eq!(freshness(&app, &s).await["state"], "due_for_review");
    clock.advance(Duration::days(61));
    let f = freshness(&app, &s).await;
    assert_eq!(f["state"], "overdue");
    assert_eq!(
        f["review_due_at"],
        json!(start_time() + Duration::days(365))
    );

    // An ordinary edit is not a verification.
    app.patch(
        &format!("/api/v1/services/{s}"),
        &json!({"description": "Groceries"}),
    )
    .await
    .expect(200);
    assert_eq!(freshness(&app, &s).await["state"], "overdue");

    let member = app.key(Role::Organisation, &[&org]);
    let path = format!("/api/v1/services/{s}/verify");
    app.with_token(&member)
        .send(Method::POST, &path, None, &[])
        .await
        .expect(428);
    app.anonymous()
        .send(Method::POST, &path, None, &[("If-Match", "\"2\"")])
        .await
        .expect(401);
    let verified = app
        .with_token(&member)
        .send(Method::POST, &path, None, &[("If-Match", "\"2\"")])
        .await
        .expect(200);
    assert_eq!(verified.body["data"]["freshness"]["state"], "fresh");
    assert_eq!(
        verified.body["data"]["last_verified_at"],
        json!(clock.now())
    );
    assert_eq!(verified.header("etag"), Some("\"3\""));
}

#[tokio::test]
async fn closed_services_leave_search_and_come_back_when_they_reopen() {
    let (app, clock) = app_at(start_time()).await;
    let org = id(&app.create_org("Larder").await);
    let s = service(
        &app,
        &org,
        json!({"name": "Riverside walking group", "verified": true}),
    )
    .await;
    let q = "q=riverside+walking";
    search_until(&app, q, |b| b["data"].as_array().unwrap().len() == 1).await;

    app.patch(
        &format!("/api/v1/services/{s}"),
        &json!({"status": "temporarily_closed", "status_reason": "Leader on leave", "reopens_on": "2026-11-10"}),
    )
    .await
    .expect(200);
    search_until(&app, q, |b| b["data"].as_array().unwrap().is_empty()).await;
    let with_closed = search_until(&app, &format!("{q}&include_closed=true"), |b| {
        b["data"].as_array().unwrap().len() == 1
    })
    .await;
    assert_eq!(
        with_closed["data"][0]["service"]["freshness"]["state"],
        "closed"
    );
    let read = app.get(&format!("/api/v1/services/{s}")).await.expect(200);
    assert_eq!(
        read.body["data"]["status"], "temporarily_closed",
        "still readable by id"
    );

    clock.set(start_time() + Duration::days(7));
    assert_eq!(sweep(&app, &clock).reopened, 0, "not before the date");
    clock.set(Utc.with_ymd_and_hms(2026, 11, 10, 0, 30, 0).unwrap());
    assert_eq!(sweep(&app, &clock).reopened, 1);
    let back = search_until(&app, q, |b| b["data"].as_array().unwrap().len() == 1).await;
    let service = &back["data"][0]["service"];
    assert_eq!(service["status"], "active");
    assert_eq!(service["freshness"]["state"], "due_for_review");
    assert_eq!(service["freshness"]["flags"][0]["kind"], "reopened");

    // Defunct: gone from default search, kept by id with its replacement.
    let replacement = service_in(&app, &org, "Riverside health walk").await;
    app.patch(
        &format!("/api/v1/services/{s}"),
        &json!({"status": "defunct", "status_reason": "Funding ended", "replaced_by": replacement}),
    )
    .await
    .expect(200);
    search_until(&app, q, |b| {
        b["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["service"]["id"] != s.as_str())
    })
    .await;
    let gone = app.get(&format!("/api/v1/services/{s}")).await.expect(200);
    assert_eq!(gone.body["data"]["replaced_by"], replacement.as_str());
    assert_eq!(gone.body["data"]["freshness"]["state"], "closed");
}

async fn service_in(app: &TestApp, org: &str, name: &str) -> String {
    service(app, org, json!({"name": name, "verified": true})).await
}

#[tokio::test]
async fn two_independent_reports_flag_possibly_closed_and_one_does_not() {
    let (app, _clock) = app_at(start_time()).await;
    let org = id(&app.create_org("Larder").await);
    let s = service_in(&app, &org, "Pantry").await;

    report(&app, None, &s, "no_longer_exists").await.expect(201);
    report(&app, None, &s, "no_longer_exists").await.expect(201);
    assert_eq!(
        freshness(&app, &s).await["state"],
        "fresh",
        "one reporter twice is one reporter"
    );
    report(&app, None, &s, "contact_details_wrong")
        .await
        .expect(201);
    let client = app.key(Role::Client, &[]);
    let second = report(&app, Some(&client), &s, "no_longer_exists")
        .await
        .expect(201);
    let second = id(&second.body["data"]);
    let f = freshness(&app, &s).await;
    assert_eq!(f["state"], "possibly_closed");
    assert_eq!(f["flags"][0]["kind"], "possibly_closed");
    assert!(f["flags"][0]["evidence"]
        .as_str()
        .unwrap()
        .starts_with("2 people reported"));

    report(&app, None, &s, "wrong_kind")
        .await
        .expect_problem(422, "kind");
    report(&app, None, "7d444840-9dc0-11d1-b245-5ffdce74fad2", "other")
        .await
        .expect(404);

    // Editors see and decide reports; rejecting one drops below the threshold.
    let editor = app.key(Role::Editor, &[]);
    app.with_token(&client)
        .get("/api/v1/reports")
        .await
        .expect(403);
    let open = app
        .with_token(&editor)
        .get(&format!("/api/v1/reports?status=open&service_id={s}"))
        .await
        .expect(200);
    assert_eq!(open.body["pagination"]["total_items"], 4);
    app.with_token(&editor)
        .post(
            &format!("/api/v1/reports/{second}/reject"),
            &json!({"note": "Spoke to them: still running"}),
        )
        .await
        .expect(200);
    assert_eq!(freshness(&app, &s).await["state"], "fresh");
}

#[tokio::test]
async fn demotion_changes_ranking_as_documented() {
    let (app, _clock) = app_at(start_time()).await;
    let org = id(&app.create_org("Larder").await);
    let a = service(
        &app,
        &org,
        json!({"name": "Knitting circle", "verified": true}),
    )
    .await;
    let b = service(
        &app,
        &org,
        json!({"name": "Knitting circle", "verified": true}),
    )
    .await;
    let (first, second) = if a < b { (a, b) } else { (b, a) };
    let q = "q=knitting+circle";
    let before = search_until(&app, q, |b| b["data"].as_array().unwrap().len() == 2).await;
    assert_eq!(
        before["data"][0]["service"]["id"],
        first.as_str(),
        "ties go by id"
    );

    let client = app.key(Role::Client, &[]);
    report(&app, None, &first, "no_longer_exists")
        .await
        .expect(201);
    report(&app, Some(&client), &first, "no_longer_exists")
        .await
        .expect(201);
    let after = search_until(&app, q, |b| {
        b["data"][0]["service"]["id"] == second.as_str()
    })
    .await;
    let (top, demoted) = (
        after["data"][0]["score"].as_f64().unwrap(),
        after["data"][1]["score"].as_f64().unwrap(),
    );
    assert!(
        (demoted / top - 0.3).abs() < 1e-3,
        "possibly closed scores 0.3 of fresh: {demoted} / {top}"
    );
    assert_eq!(
        after["data"][1]["service"]["freshness"]["state"],
        "possibly_closed"
    );

    let only = search_until(&app, &format!("{q}&freshness=possibly_closed"), |b| {
        b["data"].as_array().unwrap().len() == 1
    })
    .await;
    assert_eq!(only["data"][0]["service"]["id"], first.as_str());
    app.get("/api/v1/services/search?freshness=stale")
        .await
        .expect_problem(400, "freshness");
}

#[tokio::test]
async fn a_programme_whose_schedules_have_all_ended_is_flagged_ended() {
    let (app, clock) = app_at(start_time()).await;
    let org = id(&app.create_org("Larder").await);
    let weekly = |to: &str| json!({"freq": "weekly", "byday": ["TU"], "opens_at": "10:00", "closes_at": "12:00", "valid_to": to});
    let mut second_block = weekly("2026-12-15");
    second_block["valid_from"] = json!("2026-12-01");
    let s = service(&app, &org, json!({"name": "Autumn cookery course", "verified": true, "schedules": [weekly("2026-11-30"), second_block]})).await;
    assert_eq!(sweep(&app, &clock).ended, 0);
    clock.set(Utc.with_ymd_and_hms(2026, 12, 16, 9, 0, 0).unwrap());
    assert_eq!(sweep(&app, &clock).ended, 1);
    let f = freshness(&app, &s).await;
    assert_eq!(f["state"], "possibly_closed");
    assert_eq!(f["flags"][0]["kind"], "ended");
    assert_eq!(sweep(&app, &clock).ended, 0, "raised once");

    // A new term's schedule: no longer ended.
    app.patch(
        &format!("/api/v1/services/{s}"),
        &json!({"schedules": [weekly("2027-03-31")]}),
    )
    .await
    .expect(200);
    assert_eq!(sweep(&app, &clock).no_longer_ended, 1);
    assert_eq!(freshness(&app, &s).await["flags"], json!([]));
}

#[tokio::test]
async fn the_review_queue_puts_the_most_serious_first_and_filters() {
    let (app, clock) = app_at(start_time()).await;
    let org = id(&app.create_org("Larder").await);
    let other = id(&app.create_org("Other group").await);
    let stub = Stub::start().await;
    stub.answer("/down", &[500]);
    let glasgow_hall = id(&app.create_location(&org, "G31 2ER").await);
    let overdue = service(
        &app,
        &org,
        json!({"name": "Old listing", "verified": true, "location_ids": [glasgow_hall]}),
    )
    .await;
    clock.advance(Duration::days(400));
    let due = service_in(&app, &org, "Oldish listing").await;
    clock.advance(Duration::days(370));
    let fresh = service_in(&app, &org, "New listing").await;
    let broken = service(
        &app,
        &other,
        json!({"name": "Broken site", "url": stub.url("/down"), "verified": true}),
    )
    .await;
    for _ in 0..3 {
        check_links(&app, &clock).await;
        clock.advance(Duration::days(4));
    }
    let closed = service_in(&app, &org, "Reported closed").await;
    let client = app.key(Role::Client, &[]);
    report(&app, None, &closed, "no_longer_exists")
        .await
        .expect(201);
    report(&app, Some(&client), &closed, "no_longer_exists")
        .await
        .expect(201);

    let editor = app.key(Role::Editor, &[]);
    let queue = app
        .with_token(&editor)
        .get("/api/v1/review-queue")
        .await
        .expect(200);
    let order: Vec<&str> = queue.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["service_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            closed.as_str(),
            broken.as_str(),
            overdue.as_str(),
            due.as_str()
        ]
    );
    assert!(!order.contains(&fresh.as_str()));
    let states: Vec<&str> = queue.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        [
            "possibly_closed",
            "due_for_review",
            "overdue",
            "due_for_review"
        ]
    );

    let by_kind = app
        .with_token(&editor)
        .get("/api/v1/review-queue?kind=link_broken")
        .await
        .expect(200);
    assert_eq!(by_kind.body["pagination"]["total_items"], 1);
    let overdue_only = app
        .with_token(&editor)
        .get("/api/v1/review-queue?kind=overdue")
        .await
        .expect(200);
    assert_eq!(overdue_only.body["data"][0]["service_id"], overdue.as_str());
    assert_eq!(overdue_only.body["pagination"]["total_items"], 1);
    let paged = app
        .with_token(&editor)
        .get("/api/v1/review-queue?per_page=3&page=2")
        .await
        .expect(200);
    assert_eq!(paged.body["data"][0]["service_id"], due.as_str());
    let by_org = app
        .with_token(&editor)
        .get(&format!("/api/v1/review-queue?organisation_id={other}"))
        .await
        .expect(200);
    assert_eq!(by_org.body["pagination"]["total_items"], 1);
    let in_glasgow = app
        .with_token(&editor)
        .get("/api/v1/review-queue?area=S12000049")
        .await
        .expect(200);
    assert_eq!(in_glasgow.body["pagination"]["total_items"], 1);
    assert_eq!(in_glasgow.body["data"][0]["service_id"], overdue.as_str());

    // An organisation sees only its own listings.
    let member = app.key(Role::Organisation, &[&other]);
    let own = app
        .with_token(&member)
        .get("/api/v1/review-queue")
        .await
        .expect(200);
    assert_eq!(own.body["pagination"]["total_items"], 1);
    assert_eq!(own.body["data"][0]["service_id"], broken.as_str());
    app.with_token(&client)
        .get("/api/v1/review-queue")
        .await
        .expect(403);
    app.with_token(&editor)
        .get("/api/v1/review-queue?kind=nonsense")
        .await
        .expect_problem(400, "kind");

    // Resolving a flag records who and why, and takes it off the queue.
    let flag = own.body["data"][0]["flags"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/services/{broken}/flags/{flag}/resolve");
    app.with_token(&member)
        .post(&path, &json!({"note": ""}))
        .await
        .expect_problem(422, "note");
    let resolved = app
        .with_token(&member)
        .post(&path, &json!({"note": "New website address added"}))
        .await
        .expect(200);
    assert_eq!(
        resolved.body["data"]["resolution"],
        "New website address added"
    );
    assert!(resolved.body["data"]["resolved_by"]
        .as_str()
        .unwrap()
        .starts_with("key:"));
    app.with_token(&member)
        .post(&path, &json!({"note": "again"}))
        .await
        .expect(409);
    let stranger = app.key(Role::Organisation, &[&org]);
    app.with_token(&stranger)
        .get(&format!("/api/v1/services/{broken}/flags"))
        .await
        .expect(403);
    let own = app
        .with_token(&member)
        .get("/api/v1/review-queue")
        .await
        .expect(200);
    assert_eq!(own.body["pagination"]["total_items"], 0);
}

#[tokio::test]
async fn owners_webhooks_are_signed_retried_and_recorded() {
    let (app, clock) = app_at(start_time()).await;
    let stub = Stub::start().await;
    // Overloaded at first, asking for two minutes' peace.
    stub.answer("/hook", &[503, 204]);
    stub.retry_after("/hook", 120);
    let org = id(&app.create_org("Larder").await);
    let member = app.key(Role::Organisation, &[&org]);
    let hook_path = format!("/api/v1/organisations/{org}/webhook");
    app.with_token(&member)
        .put(&hook_path, &json!({"url": "ftp://example.org/x"}))
        .await
        .expect_problem(422, "url");
    let registered = app
        .with_token(&member)
        .send(
            Method::PUT,
            &hook_path,
            Some(&json!({"url": stub.url("/hook")})),
            &[],
        )
        .await
        .expect(200);
    let secret = registered.body["data"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let shown = app.with_token(&member).get(&hook_path).await.expect(200);
    assert!(
        shown.body["data"]["secret"].is_null(),
        "the secret is shown once"
    );

    let s = service_in(&app, &org, "Pantry").await;
    let client = app.key(Role::Client, &[]);
    report(&app, None, &s, "no_longer_exists").await.expect(201);
    report(&app, Some(&client), &s, "no_longer_exists")
        .await
        .expect(201);

    let http = signpost::webhooks::client(
        "test",
        StdDuration::from_secs(2),
        signpost::links::guarded_resolver(true),
    )
    .unwrap();
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let policy = signpost::webhooks::RetryPolicy::default();
    let deliver =
        || signpost::jobs::deliveries::deliver_due(&app.pool, &shared, &http, &policy, true);
    assert_eq!(deliver().await.unwrap(), 1);
    assert_eq!(deliver().await.unwrap(), 0, "the retry waits for its time");
    clock.advance(Duration::seconds(30));
    assert_eq!(
        deliver().await.unwrap(),
        0,
        "our 30 s backoff gives way to the receiver's Retry-After"
    );
    clock.advance(Duration::seconds(90));
    assert_eq!(deliver().await.unwrap(), 1);

    let received = stub.requests("/hook");
    assert_eq!(received.len(), 2);
    for r in &received {
        assert_eq!(r.headers["signpost-event"], "service.flagged");
        let signature = &r.headers["signpost-signature"];
        let sent_at = clock.now().timestamp();
        signpost::webhooks::sign::verify(secret.as_bytes(), signature, &r.body, sent_at, 300)
            .expect("valid signature");
        assert!(signpost::webhooks::sign::verify(
            b"wrong secret",
            signature,
            &r.body,
            sent_at,
            300
        )
        .is_err());
        let event: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(event["data"]["service_id"], s.as_str());
        assert_eq!(event["data"]["flag"]["kind"], "possibly_closed");
    }
    let log = app
        .with_token(&member)
        .get(&format!("{hook_path}/deliveries"))
        .await
        .expect(200);
    let delivery = &log.body["data"][0];
    assert_eq!(delivery["status"], "delivered");
    let attempts: Vec<(Value, Value)> = delivery["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["outcome"].clone(), a["http_status"].clone()))
        .collect();
    assert_eq!(
        attempts,
        [
            (json!("retry"), json!(503)),
            (json!("delivered"), json!(204))
        ]
    );

    // Due for review: one notice per review cycle.
    clock.advance(Duration::days(366));
    assert_eq!(sweep(&app, &clock).review_notices, 1);
    assert_eq!(sweep(&app, &clock).review_notices, 0);
    assert_eq!(deliver().await.unwrap(), 1);
    let last = stub.requests("/hook").pop().unwrap();
    assert_eq!(last.headers["signpost-event"], "service.due_for_review");
}

#[tokio::test]
async fn a_repeat_reporter_is_still_one_reporter_after_a_restart() {
    let clock = FixedClock::at(start_time());
    let app = Storage::new()
        .with_clock(Arc::new(clock.clone()))
        .start(false)
        .await;
    let org = id(&app.create_org("Larder").await);
    let s = service_in(&app, &org, "Pantry").await;
    report(&app, None, &s, "no_longer_exists").await.expect(201);
    let storage = app.stop().await;
    let app = storage
        .with_clock(Arc::new(clock.clone()))
        .start(false)
        .await;
    report(&app, None, &s, "no_longer_exists").await.expect(201);
    assert_eq!(
        freshness(&app, &s).await["state"],
        "fresh",
        "the same address, hashed with the same salt"
    );
}
