-- Freshness: flags on services (raised by the link checker, problem reports,
-- schedules and the reopening sweep; resolved by people or by later
-- evidence), link check history, problem reports, and owners' webhooks.
-- Keep in step with the other backend's *_freshness/up.sql.

-- When the owners were last told the listing is due for review (one notice
-- per review cycle).
ALTER TABLE services ADD COLUMN review_notified_at TIMESTAMP;

CREATE TABLE service_flags (
    id TEXT PRIMARY KEY NOT NULL,
    service_id TEXT NOT NULL REFERENCES services (id),
    -- link_broken | possibly_closed | ended | reopened
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    evidence TEXT NOT NULL,
    raised_at TIMESTAMP NOT NULL,
    raised_by TEXT NOT NULL,
    resolved_at TIMESTAMP,
    resolved_by TEXT,
    resolution TEXT
);
CREATE INDEX service_flags_service_idx ON service_flags (service_id, resolved_at);
CREATE INDEX service_flags_open_idx ON service_flags (resolved_at, kind);

CREATE TABLE link_checks (
    id BIGSERIAL PRIMARY KEY,
    url TEXT NOT NULL,
    checked_at TIMESTAMP NOT NULL,
    outcome TEXT NOT NULL,
    http_status INTEGER,
    final_url TEXT,
    detail TEXT NOT NULL,
    elapsed_ms BIGINT NOT NULL
);
CREATE INDEX link_checks_url_idx ON link_checks (url, checked_at);

CREATE TABLE reports (
    id TEXT PRIMARY KEY NOT NULL,
    service_id TEXT NOT NULL REFERENCES services (id),
    -- no_longer_exists | contact_details_wrong | information_wrong | not_in_my_area | other
    kind TEXT NOT NULL,
    message TEXT,
    email TEXT,
    -- Who reported, to count independent reporters: key:<id>, or ip:<hash>
    -- (a keyed hash of the address, never the address itself).
    reporter TEXT NOT NULL,
    -- open | resolved | rejected
    status TEXT NOT NULL,
    decided_by TEXT,
    decided_at TIMESTAMP,
    decision_note TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX reports_service_idx ON reports (service_id, status);
CREATE INDEX reports_status_idx ON reports (status, created_at);

CREATE TABLE webhooks (
    organisation_id TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    event_kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- pending | delivered | failed
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP,
    last_http_status INTEGER,
    last_detail TEXT,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_org_idx ON webhook_deliveries (organisation_id, created_at);

CREATE TABLE webhook_attempts (
    id BIGSERIAL PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
    at TIMESTAMP NOT NULL,
    http_status INTEGER,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    elapsed_ms BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id);
