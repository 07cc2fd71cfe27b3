DROP INDEX audit_log_actor_idx;
DROP TABLE suggestions;
DROP TABLE claims;
DROP TABLE organisation_members;
DROP TABLE api_keys;
