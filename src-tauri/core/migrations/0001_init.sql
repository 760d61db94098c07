-- 0001: facility configuration, staff accounts and the append-only audit log.

-- Scalar facility settings, one JSON value per key (see config.rs for the keys).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

-- OPD departments; tokens are issued per department per day.
CREATE TABLE departments (
    code          TEXT PRIMARY KEY NOT NULL,
    name_en       TEXT NOT NULL,
    name_hi       TEXT NOT NULL,
    room          TEXT NOT NULL DEFAULT '',
    fee_rupees    INTEGER NOT NULL DEFAULT 0 CHECK (fee_rupees >= 0),
    validity_days INTEGER NOT NULL DEFAULT 1 CHECK (validity_days >= 1),
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    sort_order    INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Categories whose holders pay no OPD fee (BPL, ration card, Ayushman card, ...).
CREATE TABLE fee_waivers (
    code    TEXT PRIMARY KEY NOT NULL,
    name_en TEXT NOT NULL,
    name_hi TEXT NOT NULL,
    active  INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
) STRICT;

CREATE TABLE staff (
    id          TEXT PRIMARY KEY NOT NULL,             -- UUIDv7
    name        TEXT NOT NULL COLLATE NOCASE UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('reception', 'dialysis_nurse', 'admin')),
    secret_hash TEXT NOT NULL,                          -- argon2id PHC string
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL
) STRICT;

-- Who did what, when, to which record. Never updated, never deleted (enforced by triggers).
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT,
    details   TEXT NOT NULL DEFAULT '{}'
) STRICT;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- A fresh install's departments and fee-waiver categories: sensible defaults, editable in settings.
INSERT INTO departments (code, name_en, name_hi, room, fee_rupees, validity_days, sort_order) VALUES
    ('GEN', 'General Medicine',          'सामान्य चिकित्सा',         '1', 10, 15, 1),
    ('GYN', 'Obstetrics & Gynaecology',  'स्त्री एवं प्रसूति रोग',     '2', 10, 15, 2),
    ('PED', 'Paediatrics',               'शिशु रोग',               '3', 10, 15, 3),
    ('ORT', 'Orthopaedics',              'हड्डी रोग',               '4', 10, 15, 4),
    ('ENT', 'Ear, Nose & Throat',        'नाक, कान, गला रोग',        '5', 10, 15, 5),
    ('EYE', 'Ophthalmology',             'नेत्र रोग',               '6', 10, 15, 6),
    ('DEN', 'Dental',                    'दंत रोग',                '7', 10, 15, 7),
    ('SKN', 'Skin (Dermatology)',        'चर्म रोग',               '8', 10, 15, 8);

INSERT INTO fee_waivers (code, name_en, name_hi) VALUES
    ('BPL',      'Below poverty line (BPL)',        'गरीबी रेखा से नीचे (BPL)'),
    ('RATION',   'Ration card holder',              'राशन कार्ड धारक'),
    ('AYUSHMAN', 'Ayushman card holder (PM-JAY)',   'आयुष्मान कार्ड धारक'),
    ('SENIOR',   'Senior citizen (60+)',            'वरिष्ठ नागरिक (60+)'),
    ('JSSK',     'Pregnant woman / infant (JSSK)',  'गर्भवती महिला / शिशु (JSSK)');
