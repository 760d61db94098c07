-- 0003: OPD patients, visits, tokens and the counters behind UHIDs.

-- Patients. Never a full Aadhaar number: only its last 4 digits and a keyed hash (HMAC-SHA256 with
-- the state's secret) for finding returning patients.
CREATE TABLE patients (
    id                TEXT PRIMARY KEY NOT NULL,         -- UUIDv7
    uhid              TEXT NOT NULL UNIQUE,              -- e.g. PTN12-A00017-K
    name              TEXT NOT NULL,
    name_hi           TEXT,
    name_key          TEXT NOT NULL,                     -- phonetic key of the English name (search)
    gender            TEXT NOT NULL CHECK (gender IN ('M', 'F', 'T', 'O')),
    dob               TEXT,                              -- YYYY-MM-DD (exact, or derived from age)
    dob_approximate   INTEGER NOT NULL DEFAULT 0 CHECK (dob_approximate IN (0, 1)),
    year_of_birth     INTEGER,
    guardian_relation TEXT CHECK (guardian_relation IN ('S/O', 'W/O', 'D/O', 'C/O')),
    guardian_name     TEXT,
    mobile            TEXT,                              -- 10 digits
    house             TEXT,
    street            TEXT,
    landmark          TEXT,
    locality          TEXT,
    vtc               TEXT,
    post_office       TEXT,
    sub_district      TEXT,
    district          TEXT,
    state             TEXT,
    state_lgd         INTEGER,
    district_lgd      INTEGER,
    pincode           TEXT,
    aadhaar_last4     TEXT CHECK (aadhaar_last4 IS NULL OR length(aadhaar_last4) = 4),
    aadhaar_hash      TEXT,
    abha_number       TEXT,                              -- XX-XXXX-XXXX-XXXX
    abha_address      TEXT,                              -- lower-case
    category          TEXT NOT NULL DEFAULT 'general',
    aadhaar_consent   INTEGER NOT NULL DEFAULT 0 CHECK (aadhaar_consent IN (0, 1)),
    consent_notice    TEXT,                              -- version of the notice shown
    merged_into       TEXT REFERENCES patients (id),
    created_at        TEXT NOT NULL,
    created_by        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    updated_by        TEXT NOT NULL
) STRICT;

CREATE INDEX patients_by_mobile ON patients (mobile) WHERE mobile IS NOT NULL;
CREATE INDEX patients_by_abha_number ON patients (abha_number) WHERE abha_number IS NOT NULL;
CREATE INDEX patients_by_abha_address ON patients (abha_address) WHERE abha_address IS NOT NULL;
CREATE INDEX patients_by_aadhaar_hash ON patients (aadhaar_hash) WHERE aadhaar_hash IS NOT NULL;
CREATE INDEX patients_by_aadhaar_last4 ON patients (aadhaar_last4, year_of_birth) WHERE aadhaar_last4 IS NOT NULL;
CREATE INDEX patients_by_name_key ON patients (name_key);
CREATE INDEX patients_by_name_hi ON patients (name_hi) WHERE name_hi IS NOT NULL;

-- Full-text index of names for prefix search (English spelling, its phonetic key, Hindi).
CREATE VIRTUAL TABLE patients_fts USING fts5 (
    name, name_key, name_hi,
    content = 'patients', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
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

-- OPD visits. A token is per department, per facility-local day, per kiosk letter: kiosks never
-- collide even offline.
CREATE TABLE visits (
    id            TEXT PRIMARY KEY NOT NULL,             -- UUIDv7
    patient_id    TEXT NOT NULL REFERENCES patients (id),
    department    TEXT NOT NULL REFERENCES departments (code),
    visit_date    TEXT NOT NULL,                         -- facility-local YYYY-MM-DD
    kiosk_letter  TEXT NOT NULL,
    token_no      INTEGER NOT NULL CHECK (token_no > 0),
    token         TEXT NOT NULL,                         -- e.g. A-017
    visit_type    TEXT NOT NULL CHECK (visit_type IN ('new', 'follow_up')),
    fee_rupees    INTEGER NOT NULL CHECK (fee_rupees >= 0),
    waiver_code   TEXT,
    waiver_reason TEXT,
    valid_until   TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelled')),
    cancel_reason TEXT,
    abha_linked   INTEGER NOT NULL DEFAULT 0 CHECK (abha_linked IN (0, 1)),
    prints        INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    UNIQUE (department, visit_date, kiosk_letter, token_no)
) STRICT;

CREATE INDEX visits_by_patient ON visits (patient_id, visit_date);
CREATE INDEX visits_by_date ON visits (visit_date, department);

-- Named counters (UHID sequence, tokens) advanced inside the registering transaction.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
) STRICT;
