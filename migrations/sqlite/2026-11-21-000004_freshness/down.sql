DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP TABLE reports;
DROP TABLE link_checks;
DROP TABLE service_flags;
ALTER TABLE services DROP COLUMN review_notified_at;
