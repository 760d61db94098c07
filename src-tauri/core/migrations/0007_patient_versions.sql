-- 0007: the history of patient records (every edit and merge can be traced), and a faster name
-- search index.
--
-- Before a patient row changes (an edit, or a merge that carries identifiers over or marks it
-- merged), its previous state is kept here as JSON — the patient as the app shows it, never the
-- Aadhaar hash. Rows are never updated.
CREATE TABLE patient_versions (
    patient_id  TEXT NOT NULL REFERENCES patients (id),
    version     INTEGER NOT NULL CHECK (version >= 1),   -- 1 = the record as first written
    action      TEXT NOT NULL CHECK (action IN ('edit', 'merge')),
    record      TEXT NOT NULL,                           -- the patient before the change (JSON)
    replaced_at TEXT NOT NULL,                           -- UTC
    replaced_by TEXT NOT NULL,                           -- actor
    PRIMARY KEY (patient_id, version)
) STRICT;

CREATE TRIGGER patient_versions_no_update BEFORE UPDATE ON patient_versions BEGIN
    SELECT RAISE(ABORT, 'patient history is never rewritten');
END;

-- Finding the records merged into a patient (chains are flattened on merge).
CREATE INDEX patients_by_merged_into ON patients (merged_into) WHERE merged_into IS NOT NULL;

-- Name search: prefix indexes for 2 to 5 characters (was 2 and 3). A prefix longer than the
-- largest prefix index makes FTS5 gather every matching row before it can return the newest; with
-- a million patients that took several milliseconds for "kavita" or "mohan". Queries now search on
-- at most 5 characters of each word through the index and check the full words afterwards. The
-- index is rebuilt from the patients table (about 12 s for a million patients, once).
DROP TRIGGER patients_fts_insert;
DROP TRIGGER patients_fts_delete;
DROP TRIGGER patients_fts_update;
DROP TABLE patients_fts;
CREATE VIRTUAL TABLE patients_fts USING fts5 (
    name, name_key, name_hi,
    content = 'patients', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4 5'
);
CREATE TRIGGER patients_fts_insert AFTER INSERT ON patients BEGIN
    INSERT INTO patients_fts (rowid, name, name_key, name_hi)
    VALUES (new.rowid, new.name, new.name_key, new.name_hi);
END;
CREATE TRIGGER patients_fts_delete AFTER DELETE ON patients BEGIN
    INSERT INTO patients_fts (patients_fts, rowid, name, name_key, name_hi)
    VALUES ('delete', old.rowid, old.name, old.name_key, old.name_hi);
END;
CREATE TRIGGER patients_fts_update AFTER UPDATE OF name, name_key, name_hi ON patients BEGIN
    INSERT INTO patients_fts (patients_fts, rowid, name, name_key, name_hi)
    VALUES ('delete', old.rowid, old.name, old.name_key, old.name_hi);
    INSERT INTO patients_fts (rowid, name, name_key, name_hi)
    VALUES (new.rowid, new.name, new.name_key, new.name_hi);
END;
INSERT INTO patients_fts (patients_fts) VALUES ('rebuild');
