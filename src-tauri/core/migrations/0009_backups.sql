-- 0009: the kiosk's backup runs (automatic and by hand), so the schedule knows when the last good
-- backup was made and Settings can warn when it is older than a day. The files themselves live in
-- the backup folder; this table only remembers what was attempted and how it went.
CREATE TABLE backup_runs (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,                      -- UTC, when the backup finished (or failed)
    reason    TEXT NOT NULL CHECK (reason IN ('scheduled', 'end_of_day', 'manual', 'before_restore')),
    file      TEXT,                               -- the verified backup's path (NULL on failure)
    bytes     INTEGER,
    ok        INTEGER NOT NULL CHECK (ok IN (0, 1)),
    error     TEXT                                -- why it failed (never personal data)
) STRICT;

CREATE INDEX backup_runs_by_ok ON backup_runs (ok, at);
