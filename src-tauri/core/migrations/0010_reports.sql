-- 0010: the counter's books (reports). A year's summary must come back in well under 200 ms on a
-- database of a million patients and millions of visits, which no scan of `visits` joined with
-- `patients` does. So the figures are kept per facility-local day, per dimension, in
-- `report_counts`, maintained by triggers on every write to `visits` (registration, cancel,
-- merge, visits folded in by sync, demo data) and on the patient fields the figures depend on
-- (gender, date/year of birth). A year is then ~365 days × ~40 keys to add up.
--
-- One visit contributes one row per dimension (`dim`, `key`):
--   all/''              every visit
--   dept/<code>         department
--   gender/M|F|O        the patient's sex (T counts as O: the report contract has M, F, O)
--   band/<band>         age at the visit: 0-4, 5-14, 15-29, 30-44, 45-59, 60+ (or unknown)
--   type/new|follow_up  new visit or follow-up
--   waiver/<code>       fee waived under that category
--   abha/1              ABHA-linked
--   hour/<00..23>       facility-local hour of registration (arrivals per hour)
--   gender_type/<M:new> sex × new/follow-up (HMIS outpatient items)
--   dept_gender/<GEN:F> department × sex (HMIS dental/AYUSH items)
-- with the visit counted as `active` or `cancelled`, and `fees` = the fee of active visits.
-- `src-tauri/core/src/reports/` reads it; its tests recount the raw visits and compare.

CREATE TABLE report_counts (
    visit_date TEXT NOT NULL,
    dim        TEXT NOT NULL,
    key        TEXT NOT NULL,
    active     INTEGER NOT NULL DEFAULT 0,
    cancelled  INTEGER NOT NULL DEFAULT 0,
    fees       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (visit_date, dim, key)
) STRICT, WITHOUT ROWID;

-- The dimensions, as rows, so one INSERT … SELECT fans a visit out into all of them.
CREATE TABLE report_dims (dim TEXT PRIMARY KEY NOT NULL) STRICT, WITHOUT ROWID;
INSERT INTO report_dims (dim) VALUES ('all'), ('dept'), ('gender'), ('band'), ('type'),
    ('waiver'), ('abha'), ('hour'), ('gender_type'), ('dept_gender');

-- A visit with what the figures need from its patient (age at the visit, sex) and the local hour.
CREATE VIEW report_visit_base AS
SELECT v.id AS visit_id,
       v.patient_id AS patient_id,
       v.visit_date AS visit_date,
       v.department AS department,
       v.visit_type AS visit_type,
       v.waiver_code AS waiver_code,
       v.abha_linked AS abha_linked,
       (v.status = 'active') AS active,
       (v.status = 'cancelled') AS cancelled,
       CASE WHEN v.status = 'active' THEN v.fee_rupees ELSE 0 END AS fee,
       CASE p.gender WHEN 'M' THEN 'M' WHEN 'F' THEN 'F' ELSE 'O' END AS gender,
       CASE
           WHEN p.dob IS NOT NULL THEN
               CAST(substr(v.visit_date, 1, 4) AS INTEGER) - CAST(substr(p.dob, 1, 4) AS INTEGER)
               - (substr(v.visit_date, 6, 5) < substr(p.dob, 6, 5))
           WHEN p.year_of_birth IS NOT NULL THEN
               CAST(substr(v.visit_date, 1, 4) AS INTEGER) - p.year_of_birth
       END AS age,
       printf('%02d', ((CAST(substr(v.created_at, 12, 2) AS INTEGER) * 60
           + CAST(substr(v.created_at, 15, 2) AS INTEGER)
           + coalesce((SELECT json_extract(s.value, '$.utc_offset_minutes') FROM settings s
                       WHERE s.key = 'facility'), 330)
           + 2880) % 1440) / 60) AS hour
FROM visits v JOIN patients p ON p.id = v.patient_id;

-- One row per visit and dimension; `key` is NULL where the dimension does not apply.
CREATE VIEW report_visit_facts AS
SELECT b.visit_id AS visit_id,
       b.patient_id AS patient_id,
       b.visit_date AS visit_date,
       d.dim AS dim,
       CASE d.dim
           WHEN 'all' THEN ''
           WHEN 'dept' THEN b.department
           WHEN 'gender' THEN b.gender
           WHEN 'band' THEN CASE
               WHEN b.age IS NULL THEN 'unknown'
               WHEN b.age < 5 THEN '0-4'
               WHEN b.age < 15 THEN '5-14'
               WHEN b.age < 30 THEN '15-29'
               WHEN b.age < 45 THEN '30-44'
               WHEN b.age < 60 THEN '45-59'
               ELSE '60+' END
           WHEN 'type' THEN b.visit_type
           WHEN 'waiver' THEN b.waiver_code
           WHEN 'abha' THEN CASE WHEN b.abha_linked = 1 THEN '1' END
           WHEN 'hour' THEN b.hour
           WHEN 'gender_type' THEN b.gender || ':' || b.visit_type
           WHEN 'dept_gender' THEN b.department || ':' || b.gender
       END AS key,
       b.active AS active,
       b.cancelled AS cancelled,
       b.fee AS fee
FROM report_visit_base b CROSS JOIN report_dims d;

-- Backfill what is already there.
INSERT INTO report_counts (visit_date, dim, key, active, cancelled, fees)
SELECT visit_date, dim, key, sum(active), sum(cancelled), sum(fee)
FROM report_visit_facts WHERE key IS NOT NULL
GROUP BY visit_date, dim, key;

CREATE TRIGGER report_visit_insert AFTER INSERT ON visits BEGIN
    INSERT INTO report_counts (visit_date, dim, key, active, cancelled, fees)
    SELECT visit_date, dim, key, active, cancelled, fee FROM report_visit_facts
    WHERE visit_id = new.id AND key IS NOT NULL
    ON CONFLICT (visit_date, dim, key) DO UPDATE SET active = active + excluded.active,
        cancelled = cancelled + excluded.cancelled, fees = fees + excluded.fees;
END;

-- An update takes the visit's old contribution out before and puts the new one in after. Only
-- the columns the figures read (printing a slip does not touch them).
CREATE TRIGGER report_visit_update_before BEFORE UPDATE OF patient_id, department, visit_date,
    visit_type, fee_rupees, waiver_code, status, abha_linked, created_at ON visits BEGIN
    INSERT INTO report_counts (visit_date, dim, key, active, cancelled, fees)
    SELECT visit_date, dim, key, -active, -cancelled, -fee FROM report_visit_facts
    WHERE visit_id = old.id AND key IS NOT NULL
    ON CONFLICT (visit_date, dim, key) DO UPDATE SET active = active + excluded.active,
        cancelled = cancelled + excluded.cancelled, fees = fees + excluded.fees;
END;

CREATE TRIGGER report_visit_update_after AFTER UPDATE OF patient_id, department, visit_date,
    visit_type, fee_rupees, waiver_code, status, abha_linked, created_at ON visits BEGIN
    INSERT INTO report_counts (visit_date, dim, key, active, cancelled, fees)
    SELECT visit_date, dim, key, active, cancelled, fee FROM report_visit_facts
    WHERE visit_id = new.id AND key IS NOT NULL
    ON CONFLICT (visit_date, dim, key) DO UPDATE SET active = active + excluded.active,
        cancelled = cancelled + excluded.cancelled, fees = fees + excluded.fees;
END;

CREATE TRIGGER report_visit_delete BEFORE DELETE ON visits BEGIN
    INSERT INTO report_counts (visit_date, dim, key, active, cancelled, fees)
    SELECT visit_date, dim, key, -active, -cancelled, -fee FROM report_visit_facts
    WHERE visit_id = old.id AND key IS NOT NULL
    ON CONFLICT (visit_date, dim, key) DO UPDATE SET active = active + excluded.active,
        cancelled = cancelled + excluded.cancelled, fees = fees + excluded.fees;
END;

-- A corrected sex or birth date moves the patient's visits between gender and age rows.
CREATE TRIGGER report_patient_update_before BEFORE UPDATE OF gender, dob, year_of_birth
    ON patients
    WHEN old.gender IS NOT new.gender OR old.dob IS NOT new.dob
        OR old.year_of_birth IS NOT new.year_of_birth
BEGIN
    INSERT INTO report_counts (visit_date, dim, key, active, cancelled, fees)
    SELECT visit_date, dim, key, -active, -cancelled, -fee FROM report_visit_facts
    WHERE patient_id = old.id AND key IS NOT NULL
    ON CONFLICT (visit_date, dim, key) DO UPDATE SET active = active + excluded.active,
        cancelled = cancelled + excluded.cancelled, fees = fees + excluded.fees;
END;

CREATE TRIGGER report_patient_update_after AFTER UPDATE OF gender, dob, year_of_birth
    ON patients
    WHEN old.gender IS NOT new.gender OR old.dob IS NOT new.dob
        OR old.year_of_birth IS NOT new.year_of_birth
BEGIN
    INSERT INTO report_counts (visit_date, dim, key, active, cancelled, fees)
    SELECT visit_date, dim, key, active, cancelled, fee FROM report_visit_facts
    WHERE patient_id = new.id AND key IS NOT NULL
    ON CONFLICT (visit_date, dim, key) DO UPDATE SET active = active + excluded.active,
        cancelled = cancelled + excluded.cancelled, fees = fees + excluded.fees;
END;

-- The day register and the cash sheet read one day's visits in arrival order.
CREATE INDEX visits_by_date_created ON visits (visit_date, created_at);
