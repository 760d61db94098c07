-- 0002: lock a staff account for a while after repeated wrong PINs; index the audit log by record.
ALTER TABLE staff ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN locked_until TEXT;
ALTER TABLE staff ADD COLUMN last_login_at TEXT;

CREATE INDEX audit_log_by_entity ON audit_log (entity, entity_id);
