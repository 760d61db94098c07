-- Dialysis unit (swagat-dialysis): machines and their infection-control pools, shifts, unit settings,
-- dialysis patients' serology, bookings with a waitlist, maintenance periods and online requests.
-- Runs after the core's tables exist (patients), inside the core's migration transaction.
-- Dates are YYYY-MM-DD (the facility's local calendar); instants are UTC text.

-- The unit's settings: one row.
CREATE TABLE dialysis_unit (
    id                  INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    working_days        TEXT NOT NULL DEFAULT 'mon,tue,wed,thu,fri,sat',   -- comma-separated weekdays
    stale_serology_days INTEGER NOT NULL DEFAULT 90 CHECK (stale_serology_days BETWEEN 1 AND 3650)
) STRICT;
INSERT INTO dialysis_unit (id) VALUES (1);

-- Days the unit is closed besides its non-working weekdays.
CREATE TABLE dialysis_holidays (
    date TEXT PRIMARY KEY NOT NULL CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    name TEXT NOT NULL DEFAULT ''
) STRICT;

-- Shifts, numbered from 1 in the order of the day. Defaults: 06:00, 10:30, 15:00, four hours each.
CREATE TABLE dialysis_shifts (
    number       INTEGER PRIMARY KEY NOT NULL CHECK (number >= 1),
    start        TEXT NOT NULL CHECK (start GLOB '[0-2][0-9]:[0-5][0-9]'),
    duration_min INTEGER NOT NULL DEFAULT 240 CHECK (duration_min BETWEEN 30 AND 720)
) STRICT;
INSERT INTO dialysis_shifts (number, start) VALUES (1, '06:00'), (2, '10:30'), (3, '15:00');

-- Machines. A machine's pool is the serology group it is dedicated to.
CREATE TABLE dialysis_machines (
    id         TEXT PRIMARY KEY NOT NULL,                             -- UUIDv7
    name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    pool       TEXT NOT NULL CHECK (pool IN ('negative', 'hbv', 'hcv', 'hiv', 'unknown')),
    active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),  -- 0: retired
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX dialysis_machines_by_pool ON dialysis_machines (pool, name) WHERE active = 1;

-- Periods a machine is out of service (to_date NULL: until further notice). Inclusive dates.
CREATE TABLE dialysis_maintenance (
    id         TEXT PRIMARY KEY NOT NULL,                             -- UUIDv7
    machine_id TEXT NOT NULL REFERENCES dialysis_machines (id),
    from_date  TEXT NOT NULL,
    to_date    TEXT CHECK (to_date IS NULL OR to_date >= from_date),
    reason     TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX dialysis_maintenance_by_machine ON dialysis_maintenance (machine_id, from_date);

-- Dialysis patients: the core's patient plus what the unit needs to place them.
CREATE TABLE dialysis_patients (
    patient_id      TEXT PRIMARY KEY NOT NULL REFERENCES patients (id),
    hbsag           TEXT NOT NULL DEFAULT 'unknown' CHECK (hbsag IN ('pos', 'neg', 'unknown')),
    hbsag_tested_on TEXT,
    hcv             TEXT NOT NULL DEFAULT 'unknown' CHECK (hcv IN ('pos', 'neg', 'unknown')),   -- anti-HCV
    hcv_tested_on   TEXT,
    hiv             TEXT NOT NULL DEFAULT 'unknown' CHECK (hiv IN ('pos', 'neg', 'unknown')),
    hiv_tested_on   TEXT,
    vascular_access TEXT CHECK (vascular_access IS NULL OR vascular_access IN ('avf', 'avg', 'catheter', 'other')),
    dry_weight_kg   REAL CHECK (dry_weight_kg IS NULL OR dry_weight_kg BETWEEN 10 AND 300),
    eligibility     TEXT,                                             -- scheme/card, e.g. PMNDP-BPL
    eligible        INTEGER NOT NULL DEFAULT 1 CHECK (eligible IN (0, 1)),
    updated_at      TEXT NOT NULL
) STRICT;

-- Bookings: one session (patient, date, shift). Occupying statuses hold a machine; a waitlisted
-- booking has none; no-show and cancelled keep the machine they had, for the record.
CREATE TABLE dialysis_bookings (
    id                TEXT PRIMARY KEY NOT NULL,                      -- UUIDv7
    patient_id        TEXT NOT NULL REFERENCES dialysis_patients (patient_id),
    date              TEXT NOT NULL CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    shift             INTEGER NOT NULL CHECK (shift >= 1),
    machine_id        TEXT REFERENCES dialysis_machines (id),
    status            TEXT NOT NULL CHECK (status IN
                          ('confirmed', 'waitlisted', 'checked_in', 'no_show', 'completed', 'cancelled')),
    priority          INTEGER NOT NULL DEFAULT 0,                     -- higher is served first
    requested_at      TEXT NOT NULL,                                  -- UTC, fixed-width (orders the waitlist)
    series_id         TEXT,                                           -- recurring bookings share one
    pre_weight_kg     REAL,
    post_weight_kg    REAL,
    source            TEXT NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'online')),
    online_request_id TEXT,
    warnings          TEXT NOT NULL DEFAULT '[]',                     -- JSON array of warning codes
    status_reason     TEXT,
    updated_at        TEXT NOT NULL,
    CHECK ((status = 'waitlisted') = (machine_id IS NULL) OR status IN ('cancelled', 'no_show'))
) STRICT;
-- Never two sessions on one machine in one shift.
CREATE UNIQUE INDEX dialysis_bookings_one_per_slot ON dialysis_bookings (machine_id, date, shift)
    WHERE status IN ('confirmed', 'checked_in', 'completed');
-- Never two sessions for one patient on one day.
CREATE UNIQUE INDEX dialysis_bookings_one_per_day ON dialysis_bookings (patient_id, date)
    WHERE status IN ('confirmed', 'waitlisted', 'checked_in', 'completed');
CREATE INDEX dialysis_bookings_by_date ON dialysis_bookings (date, shift);
CREATE INDEX dialysis_bookings_by_patient ON dialysis_bookings (patient_id, date);
CREATE INDEX dialysis_bookings_by_machine ON dialysis_bookings (machine_id, date);
CREATE INDEX dialysis_bookings_waitlist ON dialysis_bookings (date, shift, priority DESC, requested_at)
    WHERE status = 'waitlisted';
CREATE INDEX dialysis_bookings_by_series ON dialysis_bookings (series_id) WHERE series_id IS NOT NULL;

-- Booking requests from the state portal, pulled in by sync; the id is the portal's, so a request
-- seen twice is answered from here instead of booked twice.
CREATE TABLE dialysis_online_requests (
    id          TEXT PRIMARY KEY NOT NULL,
    received_at TEXT NOT NULL,
    payload     TEXT NOT NULL,                                        -- as received (JSON)
    result      TEXT NOT NULL CHECK (result IN ('confirmed', 'waitlisted', 'refused')),
    reason      TEXT,                                                 -- refusal code
    booking_id  TEXT REFERENCES dialysis_bookings (id)
) STRICT;
