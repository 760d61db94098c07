//! Backups of the kiosk database: made online, verified, rotated, restorable.
//!
//! A reception PC's disk dies, or its file is damaged by a power cut on a bad disk; the state
//! server holds what was synced, but not what was not yet. So the kiosk copies its database with
//! SQLite's online backup API (the app keeps working during the copy; WAL lets writers go on)
//! into a configured folder — a USB stick, ideally (`backup_dir` in the facility configuration;
//! unset: `backups/` beside the database) — every few hours (`backup_every_hours`, 4 by default)
//! and once at the end of the day (`backup_end_of_day`, facility-local `HH:MM`, 18:00 by default).
//!
//! Each backup is written under a temporary name, switched to `journal_mode=DELETE` (one
//! self-contained file), **verified** by opening it and running `PRAGMA integrity_check`, flushed
//! to the disk and only then renamed to `swagat-YYYYMMDD-HHMMSS.db` (facility-local time): a file
//! with that name is a verified backup. Rotation keeps the newest backup of each of the last 7
//! days that have one, plus the newest of each of the 4 ISO weeks before those; everything older
//! goes. Every attempt is recorded in `backup_runs` (migration 0009) and each good one audited as
//! `backup.create`; the app runs the schedule on its own thread ([`BackupService`]).
//!
//! Restoring ([`restore`]) checks the backup's integrity and schema first, keeps the replaced
//! database (with its `-wal`/`-shm`) aside as `<db>.replaced-<UTC time>`, copies the backup in
//! under a temporary name, flushes and renames it over the database, upgrades it if needed and
//! audits `backup.restore`. `swagat-admin backup restore` refuses while the app holds the database
//! ([`crate::disk::AppLock`]). At start-up the app runs `PRAGMA quick_check` ([`startup_check`]);
//! a damaged file gets a recovery screen offering the latest verified backup, never a crash.
//! What a backup lacked (records made after it) comes back from the state server by sync.
//!
//! An encrypted database ([`crate::crypt`]) gives encrypted backups under the same data key:
//! the USB stick holds nothing readable. Verifying or restoring one needs the database unlocked
//! in this process (a staff login in the app; `SWAGAT_UNLOCK` with an administrator's secret or
//! the recovery key for `swagat-admin backup`); the recovery key alone opens any of them.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration as StdDuration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::Serialize;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::audit::{self, Actor};
use crate::clock;
use crate::config::{self, FacilitySettings};
use crate::error::{CoreError, Msg, Result, StorageProblem};

/// Hours between automatic backups when not configured.
pub const DEFAULT_EVERY_HOURS: u32 = 4;
/// End-of-day backup time when not configured.
pub const DEFAULT_END_OF_DAY: &str = "18:00";
/// Daily backups kept.
pub const KEEP_DAILY: usize = 7;
/// Weekly backups kept (before the daily ones).
pub const KEEP_WEEKLY: usize = 4;
/// A last good backup older than this is a warning in Settings.
pub const STALE_AFTER: Duration = Duration::hours(24);
/// After a failed automatic backup, wait this long before the next try.
const RETRY_AFTER: Duration = Duration::minutes(15);

const PREFIX: &str = "swagat-";
const SUFFIX: &str = ".db";

/// Why a backup was made.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupReason {
    /// The every-few-hours schedule.
    Scheduled,
    /// The end-of-day backup.
    EndOfDay,
    /// Asked for (Settings' "back up now", `swagat-admin backup create`).
    Manual,
}

impl BackupReason {
    fn as_db(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::EndOfDay => "end_of_day",
            Self::Manual => "manual",
        }
    }
}

/// One backup file in the backup folder.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupFile {
    /// Full path.
    pub file: String,
    /// File name, `swagat-YYYYMMDD-HHMMSS.db`.
    pub name: String,
    /// When it was made, facility-local, `YYYY-MM-DD HH:MM:SS`.
    pub local_time: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// One recorded backup attempt.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupRun {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// `scheduled`, `end_of_day` or `manual`.
    pub reason: String,
    /// The verified file (absent on failure).
    pub file: Option<String>,
    /// Its size.
    pub bytes: Option<i64>,
    /// Whether it was made and verified.
    pub ok: bool,
    /// Why it failed.
    pub error: Option<String>,
}

/// A new, verified backup.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    /// The backup.
    #[serde(flatten)]
    pub backup: BackupFile,
    /// When (RFC 3339, UTC).
    pub created_at: String,
    /// `PRAGMA integrity_check`'s answer: always `ok` here.
    pub integrity: String,
    /// Why it was made.
    pub reason: BackupReason,
    /// Older backups removed by rotation.
    pub removed: Vec<String>,
}

/// What checking a backup file found.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct Verified {
    /// The file.
    pub file: String,
    /// `integrity_check` said `ok` and the schema is one this build can open.
    pub ok: bool,
    /// `PRAGMA integrity_check`'s first lines (`ok` when healthy).
    pub integrity: String,
    /// The file's schema version (`PRAGMA user_version`).
    pub schema_version: i64,
    /// Patients in it (a quick sanity figure for the operator).
    pub patients: i64,
}

/// What a restore did.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    /// The database that was replaced.
    pub db: String,
    /// The backup now in its place.
    pub restored_from: String,
    /// Where the replaced database (and its `-wal`) was kept, if there was one.
    pub replaced_kept_at: Option<String>,
    /// The backup's check before the restore.
    pub verified: Verified,
}

/// The backup section of Settings.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct BackupStatus {
    /// Where backups go.
    pub dir: String,
    /// `dir` is the default beside the database (same disk: set a USB folder).
    pub dir_is_default: bool,
    /// Hours between automatic backups (0: none besides the end of day).
    pub every_hours: u32,
    /// End-of-day time, `HH:MM` (empty: none).
    pub end_of_day: String,
    /// The newest good backup.
    pub last_good: Option<BackupRun>,
    /// The newest attempt, good or not.
    pub last_attempt: Option<BackupRun>,
    /// No good backup, or the last one is older than a day: Settings warns.
    pub stale: bool,
}

/// What the app found when it opened its database.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct StartupCheck {
    /// The database opened and `quick_check` said `ok` (or there is no database yet).
    pub ok: bool,
    /// What is wrong, when not ok.
    pub problem: Option<StorageProblem>,
    /// The message for the recovery screen.
    pub message: Option<Msg>,
    /// The newest backup that passes `integrity_check`, to offer for restore.
    pub latest_backup: Option<BackupFile>,
}

/// Parses `HH:MM` (24-hour).
pub fn parse_hhmm(s: &str) -> Option<Time> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
}

/// Validates the `backup_dir` setting: an absolute folder path (empty: the default).
pub fn validate_dir_setting(v: &str) -> Result<Option<String>> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if !Path::new(v).is_absolute() || v.chars().count() > 400 || v.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            "backup_dir",
            "give the backup folder as a full path, e.g. /media/usb/swagat-backups",
            "बैकअप फ़ोल्डर पूरा पथ लिखें, जैसे /media/usb/swagat-backups",
        ));
    }
    Ok(Some(v.to_owned()))
}

/// The default backup folder: `backups/` beside the database.
pub fn default_dir(db: &Path) -> PathBuf {
    db.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
        .join("backups")
}

/// The backup folder for `settings`.
pub fn dir_for(db: &Path, settings: &FacilitySettings) -> PathBuf {
    settings
        .backup_dir
        .as_deref()
        .map_or_else(|| default_dir(db), PathBuf::from)
}

/// A file beside the database naming the last folder a backup went to, so a damaged database
/// (whose configuration cannot be read) still finds its backups.
fn pointer_file(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".backup-dir");
    db.with_file_name(name)
}

fn offset(s: &FacilitySettings) -> UtcOffset {
    UtcOffset::from_whole_seconds(s.utc_offset_minutes.saturating_mul(60)).unwrap_or(UtcOffset::UTC)
}

fn file_name(local: OffsetDateTime) -> String {
    format!(
        "{PREFIX}{:04}{:02}{:02}-{:02}{:02}{:02}{SUFFIX}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        local.second()
    )
}

/// The local time in a backup's file name.
fn parse_name(name: &str) -> Option<PrimitiveDateTime> {
    let stamp = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let (d, rest) = stamp.split_once('-')?;
    // A second backup within the same second gets `-N` after the time.
    let (t, n) = rest.split_once('-').unwrap_or((rest, "0"));
    if d.len() != 8
        || t.len() != 6
        || n.is_empty()
        || !d
            .bytes()
            .chain(t.bytes())
            .chain(n.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let n = |s: &str| s.parse::<u32>().ok();
    let date = Date::from_calendar_date(
        i32::try_from(n(&d[0..4])?).ok()?,
        time::Month::try_from(u8::try_from(n(&d[4..6])?).ok()?).ok()?,
        u8::try_from(n(&d[6..8])?).ok()?,
    )
    .ok()?;
    let time = Time::from_hms(
        u8::try_from(n(&t[0..2])?).ok()?,
        u8::try_from(n(&t[2..4])?).ok()?,
        u8::try_from(n(&t[4..6])?).ok()?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time))
}

/// Orders backups by the time in their names, then by the `-N` of a same-second one.
fn sort_key(name: &str) -> (Option<PrimitiveDateTime>, u32) {
    let n = name
        .strip_suffix(SUFFIX)
        .and_then(|s| s.rsplit_once('-'))
        .filter(|(head, _)| head.len() > PREFIX.len() + 8)
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0);
    (parse_name(name), n)
}

/// The verified backups in `dir`, newest first (temporary and foreign files are ignored).
pub fn list(dir: &Path) -> Result<Vec<BackupFile>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(local) = parse_name(&name) else {
            continue;
        };
        let meta = entry.metadata()?;
        if !meta.is_file() {
            continue;
        }
        out.push(BackupFile {
            file: entry.path().to_string_lossy().into_owned(),
            name,
            local_time: format!(
                "{} {}",
                local.date(),
                local.time().to_string().get(..8).unwrap_or_default()
            ),
            bytes: meta.len(),
        });
    }
    out.sort_by_key(|b| std::cmp::Reverse(sort_key(&b.name)));
    Ok(out)
}

fn iso_week(d: Date) -> (i32, u8) {
    let (year, week, _) = d.to_iso_week_date();
    (year, week)
}

/// Which backups rotation keeps: the newest of each of the last [`KEEP_DAILY`] days, and the
/// newest of each of the [`KEEP_WEEKLY`] ISO weeks before them. `names` newest first.
fn keep(names: &[String]) -> Vec<bool> {
    let mut kept = vec![false; names.len()];
    let mut days: Vec<Date> = Vec::new();
    let mut weeks: Vec<(i32, u8)> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let Some(t) = parse_name(name) else {
            kept[i] = true; // not ours to judge
            continue;
        };
        let day = t.date();
        if days.contains(&day) {
            continue;
        }
        if days.len() < KEEP_DAILY {
            days.push(day);
            kept[i] = true;
            continue;
        }
        let week = iso_week(day);
        let daily_weeks: Vec<(i32, u8)> = days.iter().copied().map(iso_week).collect();
        days.push(day);
        if weeks.contains(&week) || daily_weeks.contains(&week) {
            continue;
        }
        if weeks.len() < KEEP_WEEKLY {
            weeks.push(week);
            kept[i] = true;
        }
    }
    kept
}

/// Removes the backups in `dir` that rotation does not keep; returns their names.
pub fn rotate(dir: &Path) -> Result<Vec<String>> {
    let all = list(dir)?;
    let names: Vec<String> = all.iter().map(|b| b.name.clone()).collect();
    let mut removed = Vec::new();
    for (b, k) in all.iter().zip(keep(&names)) {
        if !k {
            std::fs::remove_file(&b.file)?;
            removed.push(b.name.clone());
        }
    }
    Ok(removed)
}

/// Opens a backup read-only; an encrypted one with the key this process unlocked
/// ([`crate::crypt::key_for_file`]), else a clear "locked" error.
fn open_read_only(path: &Path) -> Result<Connection> {
    let key = if crate::crypt::is_encrypted(path) {
        Some(crate::crypt::key_for_file(path).ok_or_else(crate::crypt::locked_error)?)
    } else {
        None
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    if let Some(k) = &key {
        crate::crypt::apply_key(&conn, k)?;
    }
    Ok(conn)
}

fn check(conn: &Connection, pragma: &str) -> Result<String> {
    let mut stmt = conn.prepare(&format!("PRAGMA {pragma}"))?;
    let lines = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .take(5)
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(lines.join("; "))
}

/// Opens `file` read-only and runs `PRAGMA integrity_check` (a file that is not a database at all
/// answers with the reason rather than an error).
pub fn verify(file: &Path) -> Result<Verified> {
    let display = file.to_string_lossy().into_owned();
    if !file.is_file() {
        return Err(CoreError::NotFound {
            what: format!("backup file {display}"),
        });
    }
    let run = || -> Result<(String, i64, i64)> {
        let conn = open_read_only(file)?;
        let integrity = check(&conn, "integrity_check")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let patients: i64 = conn
            .query_row("SELECT count(*) FROM patients", [], |r| r.get(0))
            .unwrap_or(0);
        Ok((integrity, version, patients))
    };
    let (integrity, schema_version, patients) = match run() {
        Ok(v) => v,
        Err(e) => (format!("unreadable: {e}"), 0, 0),
    };
    let ok = integrity == "ok" && (1..=crate::store::SCHEMA_VERSION).contains(&schema_version);
    Ok(Verified {
        file: display,
        ok,
        integrity,
        schema_version,
        patients,
    })
}

fn sync_dir(dir: &Path) {
    // Makes a rename durable; a failure here is not worth failing the backup for.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn record_run(
    conn: &Connection,
    reason: BackupReason,
    result: std::result::Result<(&str, u64), &str>,
) -> Result<()> {
    let now = clock::to_db(clock::now_utc());
    match result {
        Ok((file, bytes)) => conn.execute(
            "INSERT INTO backup_runs (at, reason, file, bytes, ok) VALUES (?1, ?2, ?3, ?4, 1)",
            params![
                now,
                reason.as_db(),
                file,
                i64::try_from(bytes).unwrap_or(i64::MAX)
            ],
        )?,
        Err(error) => conn.execute(
            "INSERT INTO backup_runs (at, reason, ok, error) VALUES (?1, ?2, 0, ?3)",
            params![now, reason.as_db(), error],
        )?,
    };
    Ok(())
}

fn no_space(dir: &Path, need: u64) -> CoreError {
    CoreError::Storage {
        problem: StorageProblem::DiskFull,
        msg: Msg::new(
            format!(
                "not enough free space in the backup folder {} ({} MB needed)",
                dir.display(),
                need / 1_000_000 + 1
            ),
            format!(
                "बैकअप फ़ोल्डर {} में पर्याप्त जगह नहीं है ({} MB चाहिए)",
                dir.display(),
                need / 1_000_000 + 1
            ),
        ),
    }
}

/// Copies the database behind `src` into `dir` as a new verified backup (see the module docs).
fn write_backup(
    src: &Connection,
    src_key: Option<&crate::crypt::DataKey>,
    dir: &Path,
    local: OffsetDateTime,
) -> Result<BackupFile> {
    std::fs::create_dir_all(dir)?;
    // SQLCipher answers `page_size` on a keyed database as text (`cipher_page_size`).
    let page_size: i64 = match src
        .pragma_query_value(None, "page_size", |r| r.get::<_, rusqlite::types::Value>(0))?
    {
        rusqlite::types::Value::Integer(i) => i,
        rusqlite::types::Value::Text(t) => t.trim().parse().unwrap_or(4096),
        _ => 4096,
    };
    let pages: i64 = src.pragma_query_value(None, "page_count", |r| r.get(0))?;
    let need = u64::try_from(page_size.saturating_mul(pages)).unwrap_or(0);
    if let Ok(space) = crate::disk::space(dir) {
        if space.free_bytes < need.saturating_add(need / 10).saturating_add(1_000_000) {
            return Err(no_space(dir, need));
        }
    }
    let mut name = file_name(local);
    let mut n = 1;
    while dir.join(&name).exists() {
        // Two backups in one second (a test, or "back up now" twice): never overwrite.
        name = format!("{}-{n}{SUFFIX}", name.trim_end_matches(SUFFIX));
        n += 1;
        if n > 50 {
            break;
        }
    }
    let final_path = dir.join(&name);
    let tmp = dir.join(format!(".{name}.partial"));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| -> Result<()> {
        let mut dst = Connection::open(&tmp)?;
        // An encrypted database is backed up encrypted, under the same key (SQLCipher's backup
        // copies pages as they are: both ends must share key and page size).
        if let Some(k) = src_key {
            crate::crypt::apply_key(&dst, k)?;
        }
        {
            let backup = rusqlite::backup::Backup::new(src, &mut dst)?;
            // One step of all pages under one read transaction: a consistent snapshot; writers
            // go on (WAL). Busy (a checkpoint holding a lock) is retried for a while.
            let mut tries = 0;
            loop {
                match backup.step(-1)? {
                    rusqlite::backup::StepResult::Done => break,
                    _ if tries < 200 => {
                        tries += 1;
                        std::thread::sleep(StdDuration::from_millis(50));
                    }
                    _ => {
                        return Err(CoreError::Corrupt(
                            "the database stayed busy; the backup will be retried".into(),
                        ))
                    }
                }
            }
        }
        let _: String =
            dst.pragma_update_and_check(None, "journal_mode", "DELETE", |r| r.get(0))?;
        drop(dst);
        let v = verify(&tmp)?;
        if !v.ok {
            return Err(CoreError::Corrupt(format!(
                "the new backup failed its check: {}",
                v.integrity
            )));
        }
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, &final_path)?;
        sync_dir(dir);
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.classify());
    }
    let bytes = std::fs::metadata(&final_path)?.len();
    // Backups hold patient data: readable by the kiosk's user only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&final_path, std::fs::Permissions::from_mode(0o600));
    }
    let local_name =
        parse_name(&name).unwrap_or_else(|| PrimitiveDateTime::new(local.date(), local.time()));
    Ok(BackupFile {
        file: final_path.to_string_lossy().into_owned(),
        name,
        local_time: format!(
            "{} {}",
            local_name.date(),
            local_name.time().to_string().get(..8).unwrap_or_default()
        ),
        bytes,
    })
}

/// Makes a verified backup of the database at `db` now (into `dir`, else the configured folder),
/// rotates the folder, records the run and audits `backup.create`. A failure is recorded too
/// (when the database can still be written) and returned.
pub fn create(
    db: &Path,
    actor: &Actor,
    reason: BackupReason,
    dir: Option<&Path>,
) -> Result<Created> {
    let conn = crate::store::open_connection(db).map_err(CoreError::classify)?;
    let settings = config::load_settings(&conn)?;
    let dir = dir.map_or_else(|| dir_for(db, &settings), Path::to_path_buf);
    let now = clock::now_utc();
    let local = now.to_offset(offset(&settings));
    let key = crate::crypt::is_encrypted(db)
        .then(|| crate::crypt::registered(db))
        .flatten();
    match write_backup(&conn, key.as_ref(), &dir, local) {
        Ok(backup) => {
            let removed = rotate(&dir).unwrap_or_else(|e| {
                tracing::warn!("backup rotation failed: {e}");
                Vec::new()
            });
            let _ = std::fs::write(pointer_file(db), dir.to_string_lossy().as_bytes());
            let tx = conn.unchecked_transaction()?;
            record_run(&tx, reason, Ok((&backup.file, backup.bytes)))?;
            audit::record(
                &tx,
                actor,
                crate::audit::actions::BACKUP_CREATE,
                "backup",
                Some(&backup.name),
                serde_json::json!({ "reason": reason, "bytes": backup.bytes, "removed": removed.len() }),
            )?;
            tx.commit()?;
            tracing::info!(bytes = backup.bytes, removed = removed.len(), "backup made");
            Ok(Created {
                backup,
                created_at: clock::to_db(now),
                integrity: "ok".into(),
                reason,
                removed,
            })
        }
        Err(e) => {
            tracing::error!("backup failed: {e}");
            let _ = record_run(&conn, reason, Err(&e.to_string()));
            Err(e)
        }
    }
}

fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BackupRun> {
    Ok(BackupRun {
        at: r.get(0)?,
        reason: r.get(1)?,
        file: r.get(2)?,
        bytes: r.get(3)?,
        ok: r.get(4)?,
        error: r.get(5)?,
    })
}

fn last_run(conn: &Connection, only_ok: bool) -> Result<Option<BackupRun>> {
    let sql = if only_ok {
        "SELECT at, reason, file, bytes, ok, error FROM backup_runs WHERE ok = 1 ORDER BY id DESC LIMIT 1"
    } else {
        "SELECT at, reason, file, bytes, ok, error FROM backup_runs ORDER BY id DESC LIMIT 1"
    };
    Ok(conn
        .prepare_cached(sql)?
        .query_row([], run_row)
        .optional()?)
}

/// The backup section of Settings for the database at `db`.
pub fn status(conn: &Connection, db: &Path) -> Result<BackupStatus> {
    let s = config::load_settings(conn)?;
    let last_good = last_run(conn, true)?;
    let now = clock::now_utc();
    let stale = last_good
        .as_ref()
        .and_then(|r| clock::from_db(&r.at))
        .is_none_or(|at| now - at > STALE_AFTER);
    Ok(BackupStatus {
        dir: dir_for(db, &s).to_string_lossy().into_owned(),
        dir_is_default: s.backup_dir.is_none(),
        every_hours: s.backup_every_hours.unwrap_or(DEFAULT_EVERY_HOURS),
        end_of_day: s
            .backup_end_of_day
            .clone()
            .unwrap_or_else(|| DEFAULT_END_OF_DAY.to_owned()),
        last_good,
        last_attempt: last_run(conn, false)?,
        stale,
    })
}

/// Whether an automatic backup is due at `now`, and why.
pub fn due(conn: &Connection, now: OffsetDateTime) -> Result<Option<BackupReason>> {
    let s = config::load_settings(conn)?;
    let last_good = last_run(conn, true)?.and_then(|r| clock::from_db(&r.at));
    if let Some(last) = last_run(conn, false)? {
        if !last.ok && clock::from_db(&last.at).is_some_and(|at| now - at < RETRY_AFTER) {
            return Ok(None);
        }
    }
    let end = s
        .backup_end_of_day
        .clone()
        .unwrap_or_else(|| DEFAULT_END_OF_DAY.to_owned());
    if let Some(t) = parse_hhmm(&end) {
        let local = now.to_offset(offset(&s));
        let today_at = PrimitiveDateTime::new(local.date(), t).assume_offset(offset(&s));
        if now >= today_at && last_good.is_none_or(|g| g < today_at) {
            return Ok(Some(BackupReason::EndOfDay));
        }
    }
    let every = s.backup_every_hours.unwrap_or(DEFAULT_EVERY_HOURS);
    if every > 0 && last_good.is_none_or(|g| now - g >= Duration::hours(i64::from(every))) {
        return Ok(Some(BackupReason::Scheduled));
    }
    Ok(None)
}

/// The folders where backups of `db` may be: the configured one (if the database can be read),
/// the one the last backup went to, and the default.
pub fn known_dirs(db: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Ok(conn) = open_read_only(db) {
        if let Ok(s) = config::load_settings(&conn) {
            dirs.push(dir_for(db, &s));
        }
    }
    if let Ok(p) = std::fs::read_to_string(pointer_file(db)) {
        let p = PathBuf::from(p.trim());
        if p.is_absolute() && !dirs.contains(&p) {
            dirs.push(p);
        }
    }
    let d = default_dir(db);
    if !dirs.contains(&d) {
        dirs.push(d);
    }
    dirs
}

/// The newest backup of `db` that passes `integrity_check`, from any known folder.
pub fn latest_verified(db: &Path) -> Option<BackupFile> {
    let mut all: Vec<BackupFile> = known_dirs(db)
        .iter()
        .filter_map(|d| list(d).ok())
        .flatten()
        .collect();
    all.sort_by_key(|b| std::cmp::Reverse(sort_key(&b.name)));
    all.into_iter()
        .find(|b| verify(Path::new(&b.file)).is_ok_and(|v| v.ok))
}

/// Checks the database at `db` before the app opens it: opens it and runs `PRAGMA quick_check`.
/// A missing file is fine (first run); a damaged one comes back with the newest verified backup.
pub fn startup_check(db: &Path) -> StartupCheck {
    if !db.exists() {
        return StartupCheck {
            ok: true,
            problem: None,
            message: None,
            latest_backup: None,
        };
    }
    let result = (|| -> Result<String> {
        let conn = crate::store::open_connection(db)?;
        check(&conn, "quick_check")
    })();
    let problem = match result {
        Ok(ref answer) if answer == "ok" => None,
        Ok(answer) => {
            tracing::error!("quick_check failed: {answer}");
            Some(StorageProblem::Corrupt)
        }
        // Not a disk problem (None): the normal open reports it.
        Err(e) => e.classify().storage_problem(),
    };
    match problem {
        None => StartupCheck {
            ok: true,
            problem: None,
            message: None,
            latest_backup: None,
        },
        Some(p) => StartupCheck {
            ok: false,
            problem: Some(p),
            message: Some(p.msg()),
            latest_backup: if p == StorageProblem::Corrupt {
                latest_verified(db)
            } else {
                None
            },
        },
    }
}

/// Restores the backup a failed start-up `check` offered (the recovery screen's one button), by
/// the app itself. Refused while the database is healthy (a healthy kiosk restores through
/// `swagat-admin backup restore`) and when no verified backup was found.
pub fn restore_offered(db: &Path, check: &StartupCheck) -> Result<Restored> {
    if check.ok {
        return Err(CoreError::invalid(
            "backup",
            "the database is healthy: nothing to restore here",
            "डेटाबेस ठीक है: यहाँ कुछ वापस लाने की ज़रूरत नहीं",
        ));
    }
    let latest = check
        .latest_backup
        .as_ref()
        .ok_or_else(no_verified_backup)?;
    restore(db, Path::new(&latest.file), &Actor::System)
}

/// Restores the newest backup of `db` that passes its check, from any known folder.
pub fn restore_latest(db: &Path, actor: &Actor) -> Result<Restored> {
    let latest = latest_verified(db).ok_or_else(no_verified_backup)?;
    restore(db, Path::new(&latest.file), actor)
}

fn no_verified_backup() -> CoreError {
    CoreError::invalid(
        "backup",
        "no verified backup was found",
        "कोई जाँचा हुआ बैकअप नहीं मिला",
    )
}

/// The backups `swagat-admin backup list` shows: those in `dir` if given, else in the
/// configured folder (with the last good backup and whether it is stale) when the database can
/// be read, else in every known folder; newest first.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    /// The folder listed first.
    pub dir: Option<String>,
    /// The backups, newest first.
    pub backups: Vec<BackupFile>,
    /// The last backup that was verified (when the database could be read).
    pub last_good: Option<BackupRun>,
    /// The last good backup is older than the schedule allows (when the database could be read).
    pub stale: Option<bool>,
}

/// See [`Listing`]; `status` is the kiosk's backup status when its database could be read.
pub fn listing(db: &Path, dir: Option<&Path>, status: Option<BackupStatus>) -> Result<Listing> {
    let dirs = match (dir, &status) {
        (Some(d), _) => vec![d.to_path_buf()],
        (None, Some(st)) => vec![PathBuf::from(&st.dir)],
        (None, None) => known_dirs(db),
    };
    let mut backups = Vec::new();
    for d in &dirs {
        backups.extend(list(d)?);
    }
    backups.sort_by(|a, b| b.local_time.cmp(&a.local_time).then(b.name.cmp(&a.name)));
    let status = status.filter(|_| dir.is_none());
    Ok(Listing {
        dir: dirs.first().map(|d| d.to_string_lossy().into_owned()),
        backups,
        last_good: status.as_ref().and_then(|s| s.last_good.clone()),
        stale: status.as_ref().map(|s| s.stale),
    })
}

fn side_path(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    db.with_file_name(name)
}

/// Replaces the database at `db` with the backup `file` (see the module docs). The caller makes
/// sure nothing else has the database open (the CLI checks the app's lock; the app calls it only
/// from its recovery screen, before it opened the kiosk).
pub fn restore(db: &Path, file: &Path, actor: &Actor) -> Result<Restored> {
    let verified = verify(file)?;
    if !verified.ok {
        return Err(CoreError::invalid(
            "backup",
            format!(
                "this backup failed its check and was not restored: {}",
                verified.integrity
            ),
            "यह बैकअप जाँच में विफल रहा; वापस नहीं लाया गया",
        ));
    }
    if db.exists() && file.canonicalize().ok() == db.canonicalize().ok() {
        return Err(CoreError::invalid(
            "backup",
            "that file is the database itself",
            "यह फ़ाइल स्वयं डेटाबेस है",
        ));
    }
    let dir = db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir)?;
    // Copy in first, under a temporary name on the same disk: a failed copy replaces nothing.
    let incoming = side_path(db, ".restoring");
    let copy = (|| -> Result<()> {
        std::fs::copy(file, &incoming)?;
        std::fs::File::open(&incoming)?.sync_all()?;
        Ok(())
    })();
    if let Err(e) = copy {
        let _ = std::fs::remove_file(&incoming);
        return Err(e.classify());
    }
    let stamp = clock::to_db(clock::now_utc()).replace(':', "");
    let mut kept = None;
    if db.exists() {
        let aside = side_path(db, &format!(".replaced-{stamp}"));
        std::fs::rename(db, &aside)?;
        for ext in ["-wal", "-shm"] {
            let from = side_path(db, ext);
            if from.exists() {
                std::fs::rename(&from, side_path(&aside, ext))?;
            }
        }
        kept = Some(aside.to_string_lossy().into_owned());
    }
    std::fs::rename(&incoming, db)?;
    sync_dir(dir);
    // Upgrade if the backup is older, and audit the restore in the restored database.
    let store = crate::store::Store::open(db)?;
    let from = file.to_string_lossy().into_owned();
    store.write(|tx| {
        audit::record(
            tx,
            actor,
            crate::audit::actions::BACKUP_RESTORE,
            "backup",
            file.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .as_deref(),
            serde_json::json!({ "replaced_kept": kept.is_some() }),
        )
    })?;
    tracing::warn!("database restored from a backup");
    Ok(Restored {
        db: db.to_string_lossy().into_owned(),
        restored_from: from,
        replaced_kept_at: kept,
        verified,
    })
}

/// The app's backup schedule: one thread that checks every minute whether a backup is due
/// ([`due`]) and makes it. Stops when dropped.
pub struct BackupService {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for BackupService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupService").finish_non_exhaustive()
    }
}

impl BackupService {
    /// Starts the schedule for the database at `db`, checking every `tick`.
    pub fn start(db: &Path, tick: StdDuration) -> Result<Self> {
        let db = db.to_path_buf();
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("swagat-backup".into())
            .spawn(move || loop {
                let reason =
                    crate::store::open_connection(&db).and_then(|c| due(&c, clock::now_utc()));
                match reason {
                    Ok(Some(reason)) => {
                        if let Err(e) = create(&db, &Actor::System, reason, None) {
                            tracing::error!("automatic backup failed: {e}");
                        }
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!("backup schedule: {e}"),
                }
                match stopped.recv_timeout(tick) {
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    _ => break,
                }
            })?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for BackupService {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_foreign_files_are_ignored() {
        let t = time::macros::datetime!(2026-12-01 18:05:09 +05:30);
        let n = file_name(t);
        assert_eq!(n, "swagat-20261201-180509.db");
        assert_eq!(
            parse_name(&n),
            Some(time::macros::datetime!(2026-12-01 18:05:09))
        );
        assert_eq!(parse_name("swagat-2026120-180509.db"), None);
        assert_eq!(
            parse_name("swagat-20261201-180509-2.db"),
            Some(time::macros::datetime!(2026-12-01 18:05:09))
        );
        assert_eq!(parse_name("swagat-20261201-180509-.db"), None);
        assert!(sort_key("swagat-20261201-180509-2.db") > sort_key("swagat-20261201-180509.db"));
        assert!(sort_key("swagat-20261201-180509.db") > sort_key("swagat-20261201-180508-9.db"));
        assert_eq!(parse_name(".swagat-20261201-180509.db.partial"), None);
        assert_eq!(parse_hhmm("18:00"), Some(time::macros::time!(18:00)));
        assert_eq!(parse_hhmm("7:30"), Some(time::macros::time!(7:30)));
        for bad in ["", "24:00", "18", "18:0", "aa:bb", "18:60"] {
            assert_eq!(parse_hhmm(bad), None, "{bad}");
        }
    }

    #[test]
    fn rotation_keeps_seven_daily_and_four_weekly() {
        // Three backups a day for 60 days, newest first.
        let start = time::macros::date!(2026 - 12 - 31);
        let mut names = Vec::new();
        for d in 0..60 {
            let day = start - Duration::days(d);
            for h in [18, 14, 10] {
                names.push(file_name(
                    PrimitiveDateTime::new(day, Time::from_hms(h, 0, 0).unwrap()).assume_utc(),
                ));
            }
        }
        let kept: Vec<&String> = names
            .iter()
            .zip(keep(&names))
            .filter_map(|(n, k)| k.then_some(n))
            .collect();
        assert_eq!(kept.len(), KEEP_DAILY + KEEP_WEEKLY, "{kept:?}");
        // The daily ones: the newest of each of the last 7 days.
        for d in 0..7 {
            let day = start - Duration::days(d);
            let n = file_name(PrimitiveDateTime::new(day, time::macros::time!(18:00)).assume_utc());
            assert!(kept.contains(&&n), "{n}");
        }
        // The weekly ones are in four different ISO weeks, all before the daily ones.
        let weeks: std::collections::BTreeSet<_> = kept[KEEP_DAILY..]
            .iter()
            .map(|n| iso_week(parse_name(n).unwrap().date()))
            .collect();
        assert_eq!(weeks.len(), KEEP_WEEKLY);
        let oldest_daily = parse_name(kept[KEEP_DAILY - 1]).unwrap();
        assert!(kept[KEEP_DAILY..]
            .iter()
            .all(|n| parse_name(n).unwrap() < oldest_daily));
    }

    #[test]
    fn due_every_few_hours_and_at_the_end_of_the_day() {
        let store = crate::store::Store::open_in_memory().unwrap();
        store
            .read(|c| {
                // Nothing yet: due.
                let noon =
                    time::macros::datetime!(2026-12-01 12:00 +05:30).to_offset(UtcOffset::UTC);
                assert_eq!(due(c, noon)?, Some(BackupReason::Scheduled));
                record_run(c, BackupReason::Scheduled, Ok(("/b/x.db", 10)))?;
                // Right after a good one: not due... (the run's time is now, so ask at "now").
                let now = clock::now_utc();
                let local = now.to_offset(UtcOffset::from_hms(5, 30, 0).unwrap());
                let end = PrimitiveDateTime::new(local.date(), time::macros::time!(18:00))
                    .assume_offset(UtcOffset::from_hms(5, 30, 0).unwrap());
                if now < end {
                    assert_eq!(due(c, now)?, None);
                    // ...the end of the day is.
                    assert_eq!(due(c, end)?, Some(BackupReason::EndOfDay));
                }
                assert!(due(c, now + Duration::hours(5))?.is_some());
                // A failure waits before retrying.
                record_run(c, BackupReason::Scheduled, Err("disk full"))?;
                assert_eq!(due(c, clock::now_utc() + Duration::minutes(1))?, None);
                Ok(())
            })
            .unwrap();
    }
}
