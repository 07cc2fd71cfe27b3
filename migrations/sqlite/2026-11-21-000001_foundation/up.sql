-- Foundation schema (SQLite). Keep in step with ../../postgres/*_foundation/up.sql:
-- both backends share one diesel schema (src/db/schema.rs).
-- Ids are canonical lowercase UUID text; timestamps are UTC.
-- Multi-valued enums (delivery methods, languages) are comma-separated text.

CREATE TABLE organisations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    website TEXT,
    email TEXT,
    phone TEXT,
    charity_number TEXT,
    logo_url TEXT,
    archived_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX organisations_created_idx ON organisations (created_at, id);
CREATE INDEX organisations_updated_idx ON organisations (updated_at, id);
CREATE INDEX organisations_name_idx ON organisations (name, id);
CREATE INDEX organisations_charity_idx ON organisations (charity_number);

CREATE TABLE taxonomy_terms (
    id TEXT PRIMARY KEY NOT NULL,
    taxonomy TEXT NOT NULL,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    parent_id TEXT REFERENCES taxonomy_terms (id),
    archived_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    UNIQUE (taxonomy, slug)
);
CREATE INDEX taxonomy_terms_parent_idx ON taxonomy_terms (parent_id);

CREATE TABLE service_areas (
    code TEXT PRIMARY KEY NOT NULL,
    area_type TEXT NOT NULL,
    name TEXT NOT NULL
);

CREATE TABLE locations (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    description TEXT,
    address_1 TEXT,
    address_2 TEXT,
    town TEXT,
    postcode TEXT,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    location_type TEXT NOT NULL,
    council_area_code TEXT REFERENCES service_areas (code),
    health_board_code TEXT REFERENCES service_areas (code),
    archived_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX locations_organisation_idx ON locations (organisation_id);
CREATE INDEX locations_created_idx ON locations (created_at, id);
CREATE INDEX locations_updated_idx ON locations (updated_at, id);

CREATE TABLE location_accessibility (
    location_id TEXT NOT NULL REFERENCES locations (id),
    term_id TEXT NOT NULL REFERENCES taxonomy_terms (id),
    PRIMARY KEY (location_id, term_id)
);

CREATE TABLE services (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    url TEXT,
    email TEXT,
    status TEXT NOT NULL,
    status_reason TEXT,
    reopens_on DATE,
    replaced_by TEXT REFERENCES services (id),
    delivery_methods TEXT NOT NULL,
    self_referral BOOLEAN NOT NULL,
    referral_required BOOLEAN NOT NULL,
    referral_url TEXT,
    free BOOLEAN,
    fees_text TEXT,
    languages TEXT NOT NULL,
    minimum_age INTEGER,
    maximum_age INTEGER,
    eligibility_description TEXT,
    closed_on_public_holidays BOOLEAN NOT NULL,
    hours_notes TEXT,
    last_verified_at TIMESTAMP,
    verified_by TEXT,
    archived_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX services_organisation_idx ON services (organisation_id);
CREATE INDEX services_created_idx ON services (created_at, id);
CREATE INDEX services_updated_idx ON services (updated_at, id);
CREATE INDEX services_name_idx ON services (name, id);

CREATE TABLE service_phones (
    id TEXT PRIMARY KEY NOT NULL,
    service_id TEXT NOT NULL REFERENCES services (id),
    number TEXT NOT NULL,
    description TEXT,
    position INTEGER NOT NULL
);
CREATE INDEX service_phones_service_idx ON service_phones (service_id);

CREATE TABLE service_terms (
    service_id TEXT NOT NULL REFERENCES services (id),
    term_id TEXT NOT NULL REFERENCES taxonomy_terms (id),
    PRIMARY KEY (service_id, term_id)
);
CREATE INDEX service_terms_term_idx ON service_terms (term_id);

CREATE TABLE service_service_areas (
    service_id TEXT NOT NULL REFERENCES services (id),
    area_code TEXT NOT NULL REFERENCES service_areas (code),
    PRIMARY KEY (service_id, area_code)
);

CREATE TABLE service_at_locations (
    id TEXT PRIMARY KEY NOT NULL,
    service_id TEXT NOT NULL REFERENCES services (id),
    location_id TEXT NOT NULL REFERENCES locations (id),
    UNIQUE (service_id, location_id)
);
CREATE INDEX service_at_locations_location_idx ON service_at_locations (location_id);

CREATE TABLE schedules (
    id TEXT PRIMARY KEY NOT NULL,
    service_id TEXT NOT NULL REFERENCES services (id),
    location_id TEXT REFERENCES locations (id),
    freq TEXT NOT NULL,
    byday TEXT NOT NULL,
    opens_at TEXT NOT NULL,
    closes_at TEXT NOT NULL,
    valid_from DATE,
    valid_to DATE,
    description TEXT,
    position INTEGER NOT NULL
);
CREATE INDEX schedules_service_idx ON schedules (service_id);

-- Every write appends here in the same transaction; the search indexer and
-- incremental sync tail it by seq.
CREATE TABLE change_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    op TEXT NOT NULL,
    changed_at TIMESTAMP NOT NULL
);
CREATE INDEX change_log_entity_idx ON change_log (entity_type, entity_id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    action TEXT NOT NULL,
    changes TEXT NOT NULL
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id);

-- One row, bumped first in every write transaction to serialise writers
-- (see db::write_transaction).
CREATE TABLE write_serial (
    id INTEGER PRIMARY KEY NOT NULL,
    n BIGINT NOT NULL
);
INSERT INTO write_serial (id, n) VALUES (1, 0);
