-- 0007: the history of patient records, so every edit and merge can be traced.
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
