-- 0008: one facility, many counters. Records of the facility's other kiosks are folded into this
-- kiosk's tables, edits merge field by field, and each Aadhaar hash says which key made it.

-- Which key made each patient's Aadhaar hash: the state's key (its id from enrollment) or the
-- kiosk's own random key ('local:' + a random id). Hashes are compared only when made by the same
-- key; a kiosk never re-hashes (it has no full numbers).
ALTER TABLE patients ADD COLUMN aadhaar_key_id TEXT;
INSERT OR IGNORE INTO settings (key, value)
    SELECT 'aadhaar_hmac_key_id', 'local:' || lower(hex(randomblob(8)))
    WHERE EXISTS (SELECT 1 FROM settings WHERE key = 'aadhaar_hmac_key');
UPDATE patients SET aadhaar_key_id = (SELECT value FROM settings WHERE key = 'aadhaar_hmac_key_id')
    WHERE aadhaar_hash IS NOT NULL;
DROP INDEX patients_by_aadhaar_hash;
CREATE INDEX patients_by_aadhaar_hash ON patients (aadhaar_hash, aadhaar_key_id) WHERE aadhaar_hash IS NOT NULL;

-- The merged state of every shared record (patients and visits: each field with its clock, see
-- sync/PROTOCOL.md "Folding and merging at the kiosk"; dialysis records: the stamp of the version
-- applied). Written by local writes (outbox::queue) and by folds; the domain rows are its
-- projection. `merged_into` mirrors a patient's merge target, to re-resolve merges cheaply.
CREATE TABLE sync_record_state (
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL,          -- the record id (patients, visits), or the domain key
    state       TEXT NOT NULL,          -- JSON
    merged_into TEXT,
    PRIMARY KEY (kind, key)
) STRICT;
CREATE INDEX sync_record_state_by_merged_into ON sync_record_state (merged_into)
    WHERE merged_into IS NOT NULL;

-- A pulled record may now also be refused (a server-only kind from a device).
CREATE TABLE sync_folds_new (
    record_id TEXT PRIMARY KEY NOT NULL,
    kind      TEXT NOT NULL,
    hlc       INTEGER NOT NULL,
    status    TEXT NOT NULL CHECK (status IN ('folded', 'deferred', 'failed', 'refused')),
    detail    TEXT,
    at_ms     INTEGER NOT NULL
) STRICT;
INSERT INTO sync_folds_new SELECT * FROM sync_folds;
DROP TABLE sync_folds;
ALTER TABLE sync_folds_new RENAME TO sync_folds;

-- Pulled versions of the facility's kiosk records (patients, visits, dialysis records) waiting to
-- be folded. The inbox keeps only the newest version of each record, but versions written at two
-- counters must all be merged, so every version of a pulled page is staged here in the pull's
-- transaction and removed once folded; one whose fold failed (e.g. a visit whose patient has not
-- arrived yet) stays, with the reason, and is retried at the next pull.
CREATE TABLE sync_fold_queue (
    record_id TEXT NOT NULL,
    kind      TEXT NOT NULL,
    device_id TEXT NOT NULL,
    hlc       INTEGER NOT NULL,
    payload   TEXT NOT NULL,
    detail    TEXT,
    PRIMARY KEY (record_id, device_id, hlc)
) STRICT;
INSERT OR IGNORE INTO sync_fold_queue (record_id, kind, device_id, hlc, payload)
    SELECT record_id, kind, device_id, hlc, payload FROM sync_inbox
    WHERE kind IN ('patient', 'visit', 'dialysis_machine', 'dialysis_patient', 'dialysis_booking');
