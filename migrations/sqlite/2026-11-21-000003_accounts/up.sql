-- Accounts: API keys (stored only as a SHA-256 hash of the secret),
-- organisation memberships, claims and suggestions. Keep in step with the
-- other backend's *_accounts/up.sql.

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    -- The public part of the token (`sp_<prefix>_<secret>`), for lookup and display.
    prefix TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    expires_at TIMESTAMP,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL
);

CREATE TABLE organisation_members (
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    key_id TEXT NOT NULL REFERENCES api_keys (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (organisation_id, key_id)
);
CREATE INDEX organisation_members_key_idx ON organisation_members (key_id);

CREATE TABLE claims (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    role_in_organisation TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT,
    message TEXT,
    status TEXT NOT NULL,
    decided_by TEXT,
    decided_at TIMESTAMP,
    decision_note TEXT,
    key_id TEXT REFERENCES api_keys (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX claims_status_idx ON claims (status, created_at);

CREATE TABLE suggestions (
    id TEXT PRIMARY KEY NOT NULL,
    entity_type TEXT NOT NULL,
    -- Null for a proposed new listing.
    entity_id TEXT,
    -- JSON: a merge patch for a change, the full input for a new listing.
    changes TEXT NOT NULL,
    message TEXT,
    email TEXT,
    status TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    decided_by TEXT,
    decided_at TIMESTAMP,
    decision_note TEXT,
    result_id TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX suggestions_status_idx ON suggestions (status, created_at);

CREATE INDEX audit_log_actor_idx ON audit_log (actor, id);
