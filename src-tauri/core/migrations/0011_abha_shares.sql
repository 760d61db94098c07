-- 0011: ABHA scan-and-share registrations. A share (a server-authored `abha_share` record,
-- read from sync_inbox) registered at this kiosk is remembered with its registration, so
-- registering it again gives the same patient and visit, and the day's scan-and-share count
-- can be shown.
CREATE TABLE abha_share_registrations (
    share_id TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL,
    visit_id TEXT NOT NULL,
    registration TEXT NOT NULL,
    registered_at TEXT NOT NULL
);
CREATE INDEX abha_share_registrations_visit ON abha_share_registrations (visit_id);
