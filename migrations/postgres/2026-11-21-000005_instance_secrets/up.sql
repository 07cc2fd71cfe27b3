-- Per-installation secrets that must survive restarts (e.g. the salt that
-- makes anonymous reporters' address hashes irreversible yet stable).
CREATE TABLE instance_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
