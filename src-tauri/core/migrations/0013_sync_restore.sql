-- Sync: restore detection and idempotent enrollment (sync client's RESTORE_SCHEMA, PROTOCOL.md §8).
-- restore_count / last_restore_at_ms: how often and when this kiosk found it had been restored
-- from a backup (or copied); recovery_pull: a pull that includes this device's own records is
-- due (the records the backup lacked); pending_enrollment: the secret and install id made
-- before asking the server, so a retry after a lost answer gets the same device back.
ALTER TABLE sync_state ADD COLUMN restore_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_state ADD COLUMN last_restore_at_ms INTEGER;
ALTER TABLE sync_state ADD COLUMN recovery_pull INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_state ADD COLUMN pending_enrollment TEXT;
