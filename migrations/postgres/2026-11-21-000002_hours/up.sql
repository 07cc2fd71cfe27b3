-- Opening hours beyond weekly/monthly rules: intervals that cross midnight,
-- "24 hours" and "by appointment", and dated exceptions (closed, or
-- special hours). Keep in step with ../../sqlite/*_hours/up.sql.

ALTER TABLE schedules ADD COLUMN overnight BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE services ADD COLUMN open_24_hours BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE services ADD COLUMN by_appointment BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE schedule_exceptions (
    id TEXT PRIMARY KEY NOT NULL,
    service_id TEXT NOT NULL REFERENCES services (id),
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    -- Both null: closed on those dates; otherwise the hours on those dates.
    opens_at TEXT,
    closes_at TEXT,
    description TEXT,
    position INTEGER NOT NULL
);
CREATE INDEX schedule_exceptions_service_idx ON schedule_exceptions (service_id);
