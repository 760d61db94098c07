-- 0006: the dialysis unit's records reach the state through the outbox, and records pulled from the
-- state server are folded into the domain exactly once.

-- Records changed by the current transaction, filled by the triggers below and emptied by
-- outbox::flush_changed (called by Store::write and by the pull hook before commit), which queues
-- each record's final state to sync_outbox. Empty between transactions.
CREATE TABLE sync_changed (
    kind     TEXT NOT NULL,
    local_id TEXT NOT NULL,
    PRIMARY KEY (kind, local_id)
) STRICT;

-- Outbox record ids (UUIDv7) for records whose local key is not one (a dialysis patient is keyed
-- by the core patient's id, which the `patient` record already uses; an answer by the portal's
-- request id, which the server owns).
CREATE TABLE sync_record_ids (
    kind      TEXT NOT NULL,
    local_id  TEXT NOT NULL,
    record_id TEXT NOT NULL UNIQUE,
    PRIMARY KEY (kind, local_id)
) STRICT;

-- Pulled records folded into the domain, at which version (hlc); `deferred` and `failed` ones are
-- tried again at the next pull.
CREATE TABLE sync_folds (
    record_id TEXT PRIMARY KEY NOT NULL,
    kind      TEXT NOT NULL,
    hlc       INTEGER NOT NULL,
    status    TEXT NOT NULL CHECK (status IN ('folded', 'deferred', 'failed')),
    detail    TEXT,
    at_ms     INTEGER NOT NULL
) STRICT;

CREATE TRIGGER sync_dialysis_booking_insert AFTER INSERT ON dialysis_bookings
BEGIN
    INSERT OR IGNORE INTO sync_changed (kind, local_id) VALUES ('dialysis_booking', NEW.id);
    INSERT OR IGNORE INTO sync_changed (kind, local_id)
        SELECT 'dialysis_request_result', NEW.online_request_id WHERE NEW.online_request_id IS NOT NULL;
END;

CREATE TRIGGER sync_dialysis_booking_update AFTER UPDATE ON dialysis_bookings
BEGIN
    INSERT OR IGNORE INTO sync_changed (kind, local_id) VALUES ('dialysis_booking', NEW.id);
    INSERT OR IGNORE INTO sync_changed (kind, local_id)
        SELECT 'dialysis_request_result', NEW.online_request_id WHERE NEW.online_request_id IS NOT NULL;
END;

CREATE TRIGGER sync_dialysis_patient_insert AFTER INSERT ON dialysis_patients
BEGIN
    INSERT OR IGNORE INTO sync_changed (kind, local_id) VALUES ('dialysis_patient', NEW.patient_id);
END;

CREATE TRIGGER sync_dialysis_patient_update AFTER UPDATE ON dialysis_patients
BEGIN
    INSERT OR IGNORE INTO sync_changed (kind, local_id) VALUES ('dialysis_patient', NEW.patient_id);
END;

CREATE TRIGGER sync_dialysis_machine_insert AFTER INSERT ON dialysis_machines
BEGIN
    INSERT OR IGNORE INTO sync_changed (kind, local_id) VALUES ('dialysis_machine', NEW.id);
END;

CREATE TRIGGER sync_dialysis_machine_update AFTER UPDATE ON dialysis_machines
BEGIN
    INSERT OR IGNORE INTO sync_changed (kind, local_id) VALUES ('dialysis_machine', NEW.id);
END;

CREATE TRIGGER sync_dialysis_maintenance_insert AFTER INSERT ON dialysis_maintenance
BEGIN
    INSERT OR IGNORE INTO sync_changed (kind, local_id) VALUES ('dialysis_machine', NEW.machine_id);
END;

CREATE TRIGGER sync_dialysis_maintenance_update AFTER UPDATE ON dialysis_maintenance
BEGIN
    INSERT OR IGNORE INTO sync_changed (kind, local_id) VALUES ('dialysis_machine', NEW.machine_id);
END;

CREATE TRIGGER sync_dialysis_maintenance_delete AFTER DELETE ON dialysis_maintenance
BEGIN
    INSERT OR IGNORE INTO sync_changed (kind, local_id) VALUES ('dialysis_machine', OLD.machine_id);
END;

CREATE TRIGGER sync_dialysis_online_request_insert AFTER INSERT ON dialysis_online_requests
BEGIN
    INSERT OR IGNORE INTO sync_changed (kind, local_id) VALUES ('dialysis_request_result', NEW.id);
END;

-- Dialysis records written before this version are queued by the next write.
INSERT OR IGNORE INTO sync_changed (kind, local_id) SELECT 'dialysis_machine', id FROM dialysis_machines;
INSERT OR IGNORE INTO sync_changed (kind, local_id) SELECT 'dialysis_patient', patient_id FROM dialysis_patients;
INSERT OR IGNORE INTO sync_changed (kind, local_id) SELECT 'dialysis_booking', id FROM dialysis_bookings;
INSERT OR IGNORE INTO sync_changed (kind, local_id) SELECT 'dialysis_request_result', id FROM dialysis_online_requests;
