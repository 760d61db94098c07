//! What the running app holds: the kiosk core (or why it could not open) and the login session.
//!
//! Before opening the kiosk the app checks its database (`PRAGMA quick_check`,
//! [`swagat_core::backup::startup_check`]); a damaged file is not opened at all: the UI shows the
//! recovery screen with the newest verified backup instead. The app also holds the database's
//! [`swagat_core::disk::AppLock`] (so `swagat-admin backup restore` refuses while it runs) and
//! runs the backup schedule on its own thread.
//!
//! An encrypted database opens locked ([`swagat_core::Kiosk::is_locked`]): the login screen
//! lists the names from its key file, and the first staff login after boot unlocks it — after
//! the same `quick_check`, which only the key makes possible ([`swagat_core::Kiosk::damage`]):
//! a damaged encrypted file then leads to the same recovery screen. Background
//! sync and the backup schedule start only then ([`AppState::after_login`]) — also for a plaintext
//! database, which first-run setup or the first login encrypts in place (a connection opened
//! before would be left on the replaced file).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use swagat_core::session::SessionSlot;
use swagat_core::sync_service::{SyncService, SyncView};
use swagat_core::{CoreError, ErrorReport, Kiosk, Role, StaffMember};

/// The app's managed state.
pub struct AppState {
    kiosk: Result<Kiosk, ErrorReport>,
    session: SessionSlot,
    sync: Mutex<Option<SyncService>>,
    db: Option<PathBuf>,
    startup: swagat_core::backup::StartupCheck,
    backups: Mutex<Option<swagat_core::backup::BackupService>>,
    /// Background services wanted (the real app; not the mock-runtime tests).
    services: std::sync::atomic::AtomicBool,
    _lock: Option<swagat_core::disk::AppLock>,
}

impl AppState {
    /// Opens the kiosk database at `db`. A failure (say, a database from a newer Swagat) is kept
    /// and shown by the UI instead of crashing the window.
    ///
    /// A database that fails `quick_check` is not opened: [`AppState::startup`] tells the UI to
    /// show the recovery screen.
    pub fn open(db: &Path) -> Self {
        let lock = match swagat_core::disk::AppLock::acquire(db) {
            Ok(Some(l)) => Some(l),
            Ok(None) => {
                tracing::warn!("another Swagat app holds this database");
                None
            }
            Err(e) => {
                tracing::warn!("cannot take the database lock: {e}");
                None
            }
        };
        let startup = swagat_core::backup::startup_check(db);
        let kiosk = if startup.ok {
            Kiosk::open(db).map_err(|e| {
                tracing::error!("cannot open the kiosk database: {e}");
                ErrorReport::from(&e)
            })
        } else {
            let problem = startup
                .problem
                .unwrap_or(swagat_core::StorageProblem::Corrupt);
            tracing::error!(?problem, "the kiosk database failed its start-up check");
            Err(ErrorReport::from(&CoreError::storage(problem)))
        };
        swagat_core::staff::warm_up();
        Self {
            db: Some(db.to_path_buf()),
            startup,
            _lock: lock,
            ..Self::from_kiosk(kiosk)
        }
    }

    /// Wraps an already opened kiosk (tests).
    pub fn from_kiosk(kiosk: Result<Kiosk, ErrorReport>) -> Self {
        let db = kiosk
            .as_ref()
            .ok()
            .and_then(|k| k.db_path().map(Path::to_path_buf));
        Self {
            kiosk,
            session: SessionSlot::new(),
            sync: Mutex::new(None),
            db,
            startup: swagat_core::backup::StartupCheck {
                ok: true,
                problem: None,
                message: None,
                latest_backup: None,
            },
            backups: Mutex::new(None),
            services: std::sync::atomic::AtomicBool::new(false),
            _lock: None,
        }
    }

    /// The real app wants background sync and backups: they start at the first login (or
    /// first-run setup) after boot, once the database is unlocked.
    pub fn enable_services(&self) {
        self.services
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// After a good login or first-run setup: starts background sync and the backup schedule
    /// the first time (when the app wants them and the database is unlocked).
    pub fn after_login(&self) {
        if !self.services.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        if self.kiosk.as_ref().is_ok_and(Kiosk::is_locked) {
            return;
        }
        let sync_running = self.sync.lock().map(|s| s.is_some()).unwrap_or(true);
        if !sync_running {
            self.start_sync();
        }
        let backups_running = self.backups.lock().map(|s| s.is_some()).unwrap_or(true);
        if !backups_running {
            self.start_backups();
        }
    }

    /// The database file the app was started on.
    pub fn db_path(&self) -> Option<&Path> {
        self.db.as_deref()
    }

    /// What the start-up check found (the recovery screen's facts): the check before opening,
    /// or, for an encrypted file, the same check run at the login that unlocked it.
    pub fn startup(&self) -> swagat_core::backup::StartupCheck {
        match self.kiosk.as_ref().ok().and_then(Kiosk::damage) {
            Some(found) if self.startup.ok => found,
            _ => self.startup.clone(),
        }
    }

    /// Starts the automatic backup schedule (the app does this at launch, the tests do not).
    pub fn start_backups(&self) {
        let (Ok(_), Some(db)) = (self.kiosk.as_ref(), self.db.as_deref()) else {
            return;
        };
        match swagat_core::backup::BackupService::start(db, Duration::from_secs(60)) {
            Ok(service) => {
                if let Ok(mut slot) = self.backups.lock() {
                    *slot = Some(service);
                }
            }
            Err(e) => tracing::error!("the backup schedule did not start: {e}"),
        }
    }

    /// Starts background sync (the app does this at launch; the mock-runtime tests do not).
    /// A failure is logged and the app works on, local only.
    pub fn start_sync(&self) {
        let Ok(kiosk) = self.kiosk.as_ref() else {
            return;
        };
        match SyncService::for_kiosk(
            kiosk,
            swagat_core::sync_service::APP_POLL_INTERVAL,
            env!("CARGO_PKG_VERSION"),
        ) {
            Ok(service) => {
                if let Ok(mut slot) = self.sync.lock() {
                    *slot = Some(service);
                }
            }
            Err(e) => tracing::error!("background sync did not start: {e}"),
        }
    }

    /// Asks background sync to run now (after a local write); nothing if it is not running.
    pub fn sync_now(&self) {
        if let Ok(slot) = self.sync.lock() {
            if let Some(s) = slot.as_ref() {
                s.sync_now();
            }
        }
    }

    /// The status strip's sync view: live when background sync runs, else the stored counts.
    pub fn sync_view(&self) -> Result<SyncView, ErrorReport> {
        let kiosk = self.kiosk()?;
        let live = self
            .sync
            .lock()
            .ok()
            .and_then(|slot| slot.as_ref().map(SyncService::view));
        let view = match live {
            Some(v) => v,
            None => kiosk
                .sync_store()
                .and_then(|s| swagat_core::sync_service::view(&s, None)),
        };
        view.map_err(|e| ErrorReport::from(&e))
    }

    /// The kiosk, or the error it failed to open with (or the damage its unlock found: every
    /// command then answers with the recovery screen's message).
    pub fn kiosk(&self) -> Result<&Kiosk, ErrorReport> {
        let kiosk = self.kiosk.as_ref().map_err(Clone::clone)?;
        if let Some(problem) = kiosk.damage_problem() {
            return Err(ErrorReport::from(&CoreError::storage(problem)));
        }
        Ok(kiosk)
    }

    /// The session slot.
    pub fn session(&self) -> &SessionSlot {
        &self.session
    }

    fn idle(&self) -> Duration {
        let minutes = self
            .kiosk
            .as_ref()
            .ok()
            .and_then(|k| k.status().ok())
            .map_or(5, |s| s.idle_lock_minutes);
        Duration::from_secs(u64::from(minutes) * 60)
    }

    /// The logged-in member, if their role is among `roles` (empty: any role).
    pub fn require(&self, roles: &[Role]) -> Result<StaffMember, ErrorReport> {
        self.session
            .require(self.idle(), roles)
            .map_err(|e: CoreError| ErrorReport::from(&e))
    }
}
