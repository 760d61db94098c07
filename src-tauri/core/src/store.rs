//! The kiosk's SQLite store: the one place connections are opened and the schema is migrated.
//!
//! Every connection gets the same pragmas, chosen for a reception PC whose power goes without
//! warning: WAL journal with `synchronous=FULL` (a registration whose slip was printed has reached
//! the disk), foreign keys on, a busy timeout so the app and the admin CLI can share the file, and a
//! larger prepared-statement cache. The WAL is copied into the database file by a background
//! checkpointer every [`CHECKPOINT_EVERY`], not by whichever commit crosses SQLite's 1000-page
//! mark: that commit (a registration at the counter) would otherwise also write and sync the
//! database file, the worst tail of the counter's wait. Migrations are numbered SQL files
//! embedded in the binary and applied in one transaction, tracked by `PRAGMA user_version`; a
//! file written by a newer Swagat is refused rather than misread. The store never touches the
//! network.
//!
//! The file is encrypted (SQLCipher) once the kiosk is set up ([`crate::crypt`]): a connection
//! to an encrypted file is keyed first, with the key this process unlocked; a store opened before
//! that is locked and answers [`CoreError::Locked`] until [`Store::unlock`]. New files are mode
//! 0600, a new data folder 0700.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction};
use rusqlite_migration::{Migrations, M};

use crate::error::{CoreError, Result};

/// The schema migrations, in order. Never edit a released one: add a new file.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_staff_lockout.sql"),
    include_str!("../migrations/0003_opd.sql"),
    // 0004: the dialysis unit's tables, owned by the swagat-dialysis crate.
    swagat_dialysis::MIGRATION,
    // 0005: the sync outbox, owned by the sync client (documented in sync/PROTOCOL.md).
    swagat_sync_client::sqlite::SCHEMA,
    // 0006: dialysis records into the outbox (triggers), folds of pulled records.
    include_str!("../migrations/0006_sync_dialysis.sql"),
    // 0007: patient history (edits and merges).
    include_str!("../migrations/0007_patient_versions.sql"),
    // 0008: peer records folded, field clocks, which key made each Aadhaar hash.
    include_str!("../migrations/0008_facility_records.sql"),
    // 0009: backup runs (0008 belongs to another branch; merge it before this one).
    include_str!("../migrations/0009_backups.sql"),
    // 0010: report figures per day (triggers), the register's index.
    include_str!("../migrations/0010_reports.sql"),
    // 0011: ABHA scan-and-share registrations (numbers 0008-0010 are other branches').
    include_str!("../migrations/0011_abha_shares.sql"),
    // 0012: cross-script name keys and search index (numbered for its branch; 0008–0011 come
    // from parallel work and sit before it when merged).
    include_str!("../migrations/0012_cross_script_names.sql"),
    // 0013: sync restore detection and idempotent enrollment (the sync client's RESTORE_SCHEMA;
    // numbers 0008-0012 belong to other branches: keep this one last when merging).
    include_str!("../migrations/0013_sync_restore.sql"),
];

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect())
}

/// Where each column of a select list (`"id, uhid, p.name, …"`) is, by its name (a table prefix
/// dropped): rows are read by name through this map, built once per list, instead of by
/// hand-kept positions — and without asking SQLite for every column's name on every row.
pub(crate) fn column_positions(
    list: &'static str,
) -> std::collections::HashMap<&'static str, usize> {
    list.split(',')
        .map(|c| {
            let c = c.trim();
            c.rsplit('.').next().unwrap_or(c)
        })
        .enumerate()
        .map(|(i, c)| (c, i))
        .collect()
}

/// Opens a connection with the kiosk's pragmas, without migrating. An encrypted file is keyed
/// with the key this process unlocked for it ([`crate::crypt::register`]); without one the
/// answer is [`CoreError::Locked`]. A new file is created mode 0600 (and a new folder 0700).
pub fn open_connection(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::create_dir_all(dir)?;
            set_mode(dir, 0o700);
        }
    }
    // A file that is not plain SQLite is encrypted when it has a key file (or this process holds
    // its key); else it is opened as it is, and SQLite calls it what it is (not a database).
    let key = match crate::crypt::is_encrypted(path) {
        false => None,
        true => match crate::crypt::registered(path) {
            Some(k) => Some(k),
            None if crate::crypt::keyfile_path(path).exists() => {
                return Err(crate::crypt::locked_error())
            }
            None => None,
        },
    };
    let new_file = !path.exists();
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    if new_file {
        // Before the WAL is made: SQLite gives -wal and -shm the database file's mode.
        set_mode(path, 0o600);
    }
    if let Some(key) = &key {
        crate::crypt::apply_key(&conn, key)?;
    }
    configure(&conn)?;
    Ok(conn)
}

fn set_mode(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    }
}

/// How often the background checkpointer copies the WAL into the database file.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(2);

/// WAL pages (4 KiB) past which a commit checkpoints by itself, as SQLite does at 1000 by
/// default: reached only when the background checkpointer cannot run (another process holds
/// the file, or the store was opened without one), so the WAL stays bounded (about 80 MB).
pub const WAL_AUTOCHECKPOINT_PAGES: i64 = 20_000;

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    // journal_mode returns a row; pragma_update_and_check reads it.
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
        return Err(CoreError::Migration(format!(
            "could not switch the database to WAL mode (got {mode})"
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    // A 32 MiB page cache per connection (SQLite's default is 2 MiB). With SQLCipher every page
    // read from the OS cache is decrypted and its HMAC checked again, so hot index pages kept
    // decrypted here are what keeps an encrypted name search near the plaintext one (issue 16's
    // bench: see ARCHITECTURE.md, "Encryption at rest").
    conn.pragma_update(None, "cache_size", -32_768)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
    conn.set_prepared_statement_cache_capacity(256);
    register_functions(conn)?;
    Ok(())
}

/// SQL functions the migrations need: the name keys, computed by the same Rust code as new rows
/// (migration 0012 recomputes every stored key with them).
fn register_functions(conn: &Connection) -> Result<()> {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("swagat_name_key", 1, flags, |ctx| {
        let name: Option<String> = ctx.get(0)?;
        Ok(crate::opd::names::name_key(name.as_deref().unwrap_or("")))
    })?;
    conn.create_scalar_function("swagat_search_key", 2, flags, |ctx| {
        let name: Option<String> = ctx.get(0)?;
        let name_hi: Option<String> = ctx.get(1)?;
        Ok(crate::opd::names::search_key(
            name.as_deref().unwrap_or(""),
            name_hi.as_deref(),
        ))
    })?;
    Ok(())
}

/// Brings `conn` to [`SCHEMA_VERSION`], refusing a database newer than this build.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(CoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found < SCHEMA_VERSION {
        tracing::info!(
            from = found,
            to = SCHEMA_VERSION,
            "migrating database schema"
        );
    }
    migrations()
        .to_latest(conn)
        .map_err(|e| CoreError::Migration(e.to_string()))
}

/// The kiosk's database: one connection, shared behind a mutex (a reception kiosk does one thing at
/// a time; the sync engine opens its own connection to the same file).
pub struct Store {
    /// None while an encrypted file is locked. Shared with the background checkpointer, which
    /// holds it weakly and ends when the store is dropped.
    conn: Arc<Mutex<Option<Connection>>>,
    path: Option<PathBuf>,
}

fn lock(conn: &Mutex<Option<Connection>>) -> MutexGuard<'_, Option<Connection>> {
    // A panic while holding the lock leaves SQLite consistent (an open transaction is rolled
    // back when dropped), so a poisoned mutex is safe to reuse.
    conn.lock().unwrap_or_else(|p| p.into_inner())
}

/// The background checkpointer's loop: every [`CHECKPOINT_EVERY`], a `PASSIVE` checkpoint
/// through the store's connection (skipped while it is locked); ends once the store is gone.
fn checkpoint_until_dropped(conn: &Weak<Mutex<Option<Connection>>>) {
    loop {
        std::thread::sleep(CHECKPOINT_EVERY);
        let Some(conn) = conn.upgrade() else {
            return;
        };
        let slot = lock(&conn);
        if let Some(c) = slot.as_ref() {
            // A failure (a disk problem) shows on the next commit, where it is reported.
            let _ = c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        }
        drop(slot);
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`. An encrypted file this
    /// process holds no key for gives a locked store ([`Store::is_locked`]): every read and write
    /// answers [`CoreError::Locked`] until [`Store::unlock`].
    pub fn open(path: &Path) -> Result<Self> {
        if crate::crypt::is_encrypted(path)
            && crate::crypt::registered(path).is_none()
            && crate::crypt::keyfile_path(path).exists()
        {
            return Ok(Self::with_checkpointer(None, path));
        }
        let conn = Self::open_migrated(path)?;
        // Patient data: readable by the kiosk's user only (also a file made by an older build).
        set_mode(path, 0o600);
        Ok(Self::with_checkpointer(Some(conn), path))
    }

    /// A file store whose WAL a background thread checkpoints every [`CHECKPOINT_EVERY`]
    /// (through the store's own connection, so never while a transaction is open; `PASSIVE`,
    /// so it never waits for another process's readers).
    fn with_checkpointer(conn: Option<Connection>, path: &Path) -> Self {
        let conn = Arc::new(Mutex::new(conn));
        let weak = Arc::downgrade(&conn);
        let spawned = std::thread::Builder::new()
            .name("swagat-checkpoint".into())
            .spawn(move || checkpoint_until_dropped(&weak));
        if let Err(e) = spawned {
            // Then commits checkpoint by themselves past WAL_AUTOCHECKPOINT_PAGES.
            tracing::warn!(error = %e, "no background checkpointer");
        }
        Self {
            conn,
            path: Some(path.to_path_buf()),
        }
    }

    fn open_migrated(path: &Path) -> Result<Connection> {
        let open = || -> Result<Connection> {
            let mut conn = open_connection(path)?;
            migrate(&mut conn)?;
            Ok(conn)
        };
        open().map_err(|e| {
            let cannot_open = matches!(&e, CoreError::Database(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::CannotOpen);
            if cannot_open && crate::disk::read_only(path) {
                CoreError::storage(crate::error::StorageProblem::ReadOnly)
            } else {
                e.classify()
            }
        })
    }

    /// Whether the database is encrypted and not unlocked yet.
    pub fn is_locked(&self) -> bool {
        self.slot().is_none()
    }

    /// Whether the file is encrypted (SQLCipher).
    pub fn is_encrypted(&self) -> bool {
        self.path.as_deref().is_some_and(crate::crypt::is_encrypted)
    }

    /// Opens a locked store with `key` (remembered for this process's other connections).
    pub fn unlock(&self, key: &crate::crypt::DataKey) -> Result<()> {
        let Some(path) = self.path.as_deref() else {
            return Ok(());
        };
        let mut slot = self.slot();
        if slot.is_some() {
            return Ok(());
        }
        if !crate::crypt::key_opens(path, key) {
            return Err(crate::crypt::locked_error());
        }
        crate::crypt::register(path, key);
        *slot = Some(Self::open_migrated(path)?);
        Ok(())
    }

    /// Encrypts a plaintext file store in place under `key` with the sidecar `kf`
    /// ([`crate::crypt::encrypt_in_place`]) and reopens it keyed. Nothing for an in-memory or an
    /// already encrypted store.
    pub fn encrypt(&self, key: &crate::crypt::DataKey, kf: &crate::crypt::KeyFile) -> Result<()> {
        let Some(path) = self.path.as_deref() else {
            return Ok(());
        };
        if crate::crypt::is_encrypted(path) {
            return Ok(());
        }
        let mut slot = self.slot();
        let Some(conn) = slot.take() else {
            return Err(crate::crypt::locked_error());
        };
        let result = crate::crypt::encrypt_in_place(conn, path, key, kf);
        // Reopen whatever the file now is (encrypted on success, the untouched plaintext else).
        let reopened = Self::open_migrated(path);
        match (result, reopened) {
            (Ok(()), Ok(c)) => {
                *slot = Some(c);
                Ok(())
            }
            (Err(e), Ok(c)) => {
                *slot = Some(c);
                Err(e.classify())
            }
            (_, Err(e)) => Err(e),
        }
    }

    /// A private in-memory database, migrated; for tests and throwaway use.
    pub fn open_in_memory() -> Result<Self> {
        let mut conn = Connection::open_in_memory()?;
        configure(&conn)?;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(Some(conn))),
            path: None,
        })
    }

    /// The file behind the store, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn slot(&self) -> MutexGuard<'_, Option<Connection>> {
        lock(&self.conn)
    }

    /// Runs `f` with the connection (reads, or single-statement writes).
    /// A disk problem (full, read-only, failing, damaged) comes back as [`CoreError::Storage`].
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let slot = self.slot();
        let conn = slot.as_ref().ok_or_else(crate::crypt::locked_error)?;
        f(conn).map_err(CoreError::classify)
    }

    /// Runs `f` inside one immediate transaction, committed only if `f` succeeds. Records the
    /// transaction changed that sync through triggers (the dialysis unit's) are queued to the
    /// outbox before the commit ([`crate::outbox::flush_changed`]).
    ///
    /// A disk that fills up or turns read-only mid-transaction rolls the whole transaction back
    /// (nothing half-written) and comes back as [`CoreError::Storage`] with its bilingual message;
    /// the next write works again once the disk is fixed.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut slot = self.slot();
        let conn = slot.as_mut().ok_or_else(crate::crypt::locked_error)?;
        let run = |conn: &mut Connection| -> Result<T> {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            crate::outbox::flush_changed(&tx)?;
            tx.commit()?;
            Ok(out)
        };
        let out = run(conn);
        if out.is_err() && !conn.is_autocommit() {
            // A failed COMMIT (disk full at the last moment) can leave the transaction open.
            let _ = conn.execute_batch("ROLLBACK");
        }
        out.map_err(CoreError::classify)
    }
}

/// The schema as SQLite reports it (table, index and trigger definitions), normalised for
/// comparison: used by tests to check that an upgraded database equals a fresh one.
pub fn schema_dump(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master \
         WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    )?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row?.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_0012_recomputes_name_keys_and_indexes_both_scripts() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open_connection(&dir.path().join("k.db")).unwrap();
        // The schema just before 0012, whatever came after it.
        let before = MIGRATIONS
            .iter()
            .position(|m| *m == include_str!("../migrations/0012_cross_script_names.sql"))
            .unwrap();
        migrations().to_version(&mut conn, before).unwrap();
        // Two patients as an older Swagat stored them: Latin-only keys, none for Devanagari.
        conn.execute_batch(
            "INSERT INTO patients (id, uhid, name, name_key, name_hi, gender, created_at, created_by, \
             updated_at, updated_by) VALUES \
             ('p1', 'U1', 'Sunita Yadav', 'sunit iadav', NULL, 'F', 't', 'a', 't', 'a'), \
             ('p2', 'U2', 'फूलमती', '', 'फूलमती', 'F', 't', 'a', 't', 'a');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let keys: Vec<(String, String)> = conn
            .prepare("SELECT name_key, search_key FROM patients ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(keys[0].0, crate::opd::names::name_key("Sunita Yadav"));
        assert_eq!(keys[1].0, crate::opd::names::name_key("Phulmati"));
        assert_eq!(keys[1].1, crate::opd::names::name_key("Phulmati"));
        let hits: i64 = conn
            .query_row(
                "SELECT count(*) FROM patients_fts WHERE patients_fts MATCH ?1",
                [format!(
                    "search_key : \"{}\"*",
                    crate::opd::names::name_key("यादव")
                )],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(hits, 1, "the Devanagari query's key finds the Latin name");
    }

    /// Commits leave the WAL alone up to [`WAL_AUTOCHECKPOINT_PAGES`]; the background
    /// checkpointer copies it into the database file (which then grows), within a few of its
    /// rounds; and it ends with the store.
    #[test]
    fn the_background_checkpointer_copies_the_wal_and_commits_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("k.db");
        let store = Store::open(&db).unwrap();
        let pages: i64 = store
            .read(|c| Ok(c.pragma_query_value(None, "wal_autocheckpoint", |r| r.get(0))?))
            .unwrap();
        assert_eq!(pages, WAL_AUTOCHECKPOINT_PAGES);
        // Under the store's lock (the checkpointer held off), 2,000 pages of WAL, then more
        // commits: past SQLite's default of 1000 pages a commit would checkpoint by itself.
        let before = std::fs::metadata(&db).unwrap().len();
        store
            .read(|c| {
                c.execute_batch("BEGIN IMMEDIATE; CREATE TABLE filler (b BLOB);")?;
                for _ in 0..2_000 {
                    c.execute("INSERT INTO filler VALUES (zeroblob(4000))", [])?;
                }
                c.execute_batch("COMMIT")?;
                for _ in 0..20 {
                    c.execute("UPDATE filler SET b = b WHERE rowid = 1", [])?;
                }
                let now = std::fs::metadata(&db).map_err(CoreError::from)?.len();
                assert_eq!(now, before, "no commit copied the WAL into the file");
                Ok(())
            })
            .unwrap();
        let deadline = std::time::Instant::now() + CHECKPOINT_EVERY * 10;
        while std::fs::metadata(&db).unwrap().len() < before + 2_000 * 4000 {
            assert!(
                std::time::Instant::now() < deadline,
                "no background checkpoint within 10 rounds"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let weak = Arc::downgrade(&store.conn);
        drop(store);
        std::thread::sleep(CHECKPOINT_EVERY * 2);
        assert!(
            weak.upgrade().is_none(),
            "the connection closes with the store"
        );
    }

    #[test]
    fn fresh_database_gets_pragmas_and_latest_schema() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("k.db")).unwrap();
        store
            .read(|c| {
                let mode: String = c.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
                assert_eq!(mode, "wal");
                let sync: i64 = c.pragma_query_value(None, "synchronous", |r| r.get(0))?;
                assert_eq!(sync, 2, "synchronous=FULL");
                let fk: i64 = c.pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
                assert_eq!(fk, 1);
                let v: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
                assert_eq!(v, SCHEMA_VERSION);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn newer_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        drop(Store::open(&path).unwrap());
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(c);
        let err = Store::open(&path).unwrap_err();
        assert!(
            matches!(err, CoreError::SchemaTooNew { found, .. } if found == SCHEMA_VERSION + 1)
        );
        assert!(err.to_string().contains("newer"));
    }

    #[test]
    fn failed_write_rolls_back() {
        let store = Store::open_in_memory().unwrap();
        let r: Result<()> = store.write(|tx| {
            tx.execute("INSERT INTO settings (key, value) VALUES ('a', '1')", [])?;
            Err(CoreError::invalid("x", "no", "नहीं"))
        });
        assert!(r.is_err());
        let n: i64 = store
            .read(|c| Ok(c.query_row("SELECT count(*) FROM settings", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn audit_log_is_append_only() {
        let store = Store::open_in_memory().unwrap();
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO audit_log (at, actor, action, entity) VALUES ('t', 'cli', 'x', 'y')",
                    [],
                )?;
                Ok(())
            })
            .unwrap();
        let upd = store.read(|c| Ok(c.execute("UPDATE audit_log SET action = 'z'", [])?));
        assert!(upd.is_err());
        let del = store.read(|c| Ok(c.execute("DELETE FROM audit_log", [])?));
        assert!(del.is_err());
    }
}
