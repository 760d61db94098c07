//! The kiosk's use cases in one place: what the app's Tauri commands and `swagat-admin` call.
//!
//! Each method is one user action — first-run setup, login, change settings — done in one store
//! transaction with its audit entry. Keeping them here is what lets the UI, the CLI and the tests
//! do exactly the same things.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor, AuditEntry};
use crate::clock;
use crate::config::{self, ConfigPatch, FacilityConfig};
use crate::error::{CoreError, Result};
use crate::opd::{self, Patient, QueryKind, RegisterRequest, Registration, Visit};
use crate::staff::{self, NewStaff, Role, StaffMember};
use crate::store::Store;

/// What the app needs to decide which screen to show.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct KioskStatus {
    /// No staff account exists yet: show first-run setup.
    pub first_run: bool,
    /// Facility name and kiosk letter are set.
    pub configured: bool,
    /// Facility name (English).
    pub facility_name_en: String,
    /// Facility name (Hindi).
    pub facility_name_hi: String,
    /// Minutes of inactivity before the app locks.
    pub idle_lock_minutes: u32,
    /// Records waiting to reach the state server.
    pub pending_sync: i64,
    /// The database is encrypted and not unlocked yet: the login screen unlocks it (names and
    /// the facility name come from the key file until then).
    pub locked: bool,
}

/// What the UI needs at start and on every screen change: the kiosk's status and the logged-in
/// member, if any (the shell's `app_status` command).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct AppStatus {
    /// Which screen to show.
    #[serde(flatten)]
    pub kiosk: KioskStatus,
    /// The logged-in member, if any (and not idled out).
    pub staff: Option<StaffMember>,
}

/// The first-run form: the facility and its first administrator.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Deserialize)]
pub struct FirstRunSetup {
    /// Facility settings (name, codes, kiosk letter, ...).
    pub facility: ConfigPatch,
    /// The administrator's login name.
    pub admin_name: String,
    /// The administrator's PIN or passphrase.
    pub admin_secret: String,
}

/// The home screen's figures for the facility's local today.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct HomeSummary {
    /// Facility name (English).
    pub facility_name_en: String,
    /// Facility name (Hindi).
    pub facility_name_hi: String,
    /// Local date, `YYYY-MM-DD`.
    pub date: String,
    /// OPD registrations today.
    pub registrations_today: i64,
    /// Of those, linked to an ABHA.
    pub abha_linked_today: i64,
    /// Of those, registered from an ABHA scan-and-share.
    pub scan_share_today: i64,
    /// Records waiting to reach the state server.
    pub pending_sync: i64,
}

/// The kiosk core, over one store.
pub struct Kiosk {
    store: Store,
    trust: std::sync::OnceLock<swagat_identity::TrustStore>,
    certs_dir: Option<std::path::PathBuf>,
    /// What the check at unlock found wrong with an encrypted file (see [`Kiosk::damage`]).
    damage: std::sync::Mutex<Option<crate::backup::StartupCheck>>,
}

/// The recovery key the sync engine escrows with the state (issue 16): this database's, while it
/// is encrypted and this process holds its key; nothing for a plaintext or locked one.
fn recovery_key_hook(path: &Path) -> swagat_sync_client::sqlite::RecoveryKeyHook {
    let path = path.to_path_buf();
    Box::new(move || {
        if !crate::crypt::is_encrypted(&path) {
            return None;
        }
        crate::crypt::registered(&path).map(|k| swagat_sync_client::store::RecoveryKey {
            text: k.recovery_text(),
            key_check: k.check_value(),
        })
    })
}

impl std::fmt::Debug for Kiosk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kiosk").field("store", &self.store).finish()
    }
}

impl Kiosk {
    /// Opens the kiosk on the database at `path` (created and migrated as needed).
    ///
    /// An encrypted database this process holds no key for opens **locked**
    /// ([`Kiosk::is_locked`]): [`Kiosk::status`] and [`Kiosk::login_names`] answer from the key
    /// file, [`Kiosk::login`] (or [`Kiosk::unlock`] for the CLI) unlocks it, and everything else
    /// answers [`CoreError::Locked`] until then.
    pub fn open(path: &Path) -> Result<Self> {
        if path.parent().is_some_and(|d| d == crate::paths::data_dir()) {
            set_dir_private(&crate::paths::data_dir());
        }
        let store = Store::open(path)?;
        let kiosk = Self {
            store,
            trust: std::sync::OnceLock::new(),
            certs_dir: Some(crate::paths::certs_dir(path)),
            damage: std::sync::Mutex::new(None),
        };
        kiosk.after_unlock();
        Ok(kiosk)
    }

    fn after_unlock(&self) {
        if self.store.is_locked() {
            return;
        }
        // Keys a stored credential carries but the core has not installed (an enrollment by an
        // older build): installed at startup. A bad key is logged and left; the kiosk still opens.
        if let Err(e) = self
            .store
            .write(|tx| crate::inbox::install_credential_keys(tx))
        {
            tracing::warn!("the keys in the sync credential could not be installed: {e}");
        }
    }

    /// The start-up check of an encrypted file, run at the login that unlocks it: before the
    /// key is known `quick_check` cannot read the file, so the app's start-up check passed a
    /// locked file unread. With the key registered the same check runs now; a damaged file
    /// stays locked (nothing opens or writes it) and the finding, with the newest verified
    /// backup, is kept for the recovery screen ([`Kiosk::damage`]).
    fn check_at_unlock(&self, db: &Path, key: &crate::crypt::DataKey) -> Result<()> {
        crate::crypt::register(db, key);
        let check = crate::backup::startup_check(db);
        if check.ok {
            return Ok(());
        }
        let problem = check.problem.unwrap_or(crate::StorageProblem::Corrupt);
        tracing::error!(
            ?problem,
            "the encrypted database failed its check at unlock"
        );
        if let Ok(mut slot) = self.damage.lock() {
            *slot = Some(check);
        }
        Err(CoreError::storage(problem))
    }

    /// What the check at unlock found wrong with an encrypted database (the recovery screen's
    /// facts), or `None`: healthy, plaintext, or not unlocked yet.
    pub fn damage(&self) -> Option<crate::backup::StartupCheck> {
        self.damage.lock().ok().and_then(|d| d.clone())
    }

    /// The problem the check at unlock found, if any (what every command answers with then):
    /// [`Kiosk::damage`] without cloning the recovery screen's facts.
    pub fn damage_problem(&self) -> Option<crate::StorageProblem> {
        self.damage
            .lock()
            .ok()?
            .as_ref()
            .map(|d| d.problem.unwrap_or(crate::StorageProblem::Corrupt))
    }

    /// Whether the database is encrypted and not unlocked yet.
    pub fn is_locked(&self) -> bool {
        self.store.is_locked()
    }

    /// Whether the database file is encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.store.is_encrypted()
    }

    /// Unlocks with an administrator's PIN or passphrase or the recovery key (the CLI's
    /// `SWAGAT_UNLOCK` / `--unlock-file`). On a plaintext database that has staff (set up by an
    /// older Swagat) an administrator's secret encrypts it in place now, wrapped for that
    /// administrator. A plaintext database before `init` needs nothing.
    pub fn unlock(&self, secret: &str) -> Result<crate::crypt::UnlockedBy> {
        use crate::crypt::{self, UnlockedBy};
        let Some(db) = self.store.path() else {
            return Ok(UnlockedBy::Plaintext);
        };
        if !self.store.is_encrypted() {
            let secret = secret.trim_end_matches(['\n', '\r']);
            let admin = self.store.read(|c| {
                if staff::count(c)? == 0 {
                    return Ok(None);
                }
                staff::admin_with_secret(c, secret)
            })?;
            return match admin {
                Some(member) => {
                    self.encrypt_for(&member, secret)?;
                    Ok(UnlockedBy::Admin { name: member.name })
                }
                None => Ok(UnlockedBy::Plaintext),
            };
        }
        let by = crypt::unlock_admin(db, secret)?;
        if self.store.is_locked() {
            let key = crypt::registered(db).ok_or_else(crypt::locked_error)?;
            self.store.unlock(&key)?;
            self.after_unlock();
        }
        Ok(by)
    }

    /// The recovery key (`RK-…`) of an encrypted, unlocked database.
    pub fn recovery_key(&self) -> Option<String> {
        let db = self.store.path()?;
        if !self.store.is_encrypted() || self.store.is_locked() {
            return None;
        }
        crate::crypt::registered(db).map(|k| k.recovery_text().to_string())
    }

    /// Encrypts a plaintext file database now, the data key wrapped for `member` with `secret`.
    fn encrypt_for(&self, member: &StaffMember, secret: &str) -> Result<()> {
        use crate::crypt::{self, DataKey, KeyFile};
        if self.store.path().is_none() || self.store.is_encrypted() {
            return Ok(());
        }
        let key = DataKey::random()?;
        let names = self.store.read(config::load_settings).ok();
        let kf = KeyFile {
            format: 1,
            key_check: key.check_value(),
            facility_name_en: names
                .as_ref()
                .map(|s| s.name_en.clone())
                .unwrap_or_default(),
            facility_name_hi: names.map(|s| s.name_hi).unwrap_or_default(),
            staff: vec![crypt::wrap(
                &key,
                &member.id,
                &member.name,
                member.role,
                secret,
            )?],
        };
        // Every other active member gets a wrapping at their next login.
        self.store.encrypt(&key, &kf)
    }

    /// Keeps the key file in step after a login: a plaintext database is encrypted at the first
    /// login (wrapped for this member), and a member without a wrapping gets one. Failures are
    /// logged, never fail the login.
    fn wrap_at_login(&self, member: &StaffMember, secret: &str) {
        let Some(db) = self.store.path() else {
            return;
        };
        let result = if !self.store.is_encrypted() {
            self.encrypt_for(member, secret)
        } else {
            let has = crate::crypt::load_keyfile(db)
                .ok()
                .flatten()
                .is_some_and(|kf| kf.staff.iter().any(|w| w.staff_id == member.id));
            if has {
                Ok(())
            } else {
                self.set_wrapping(member, secret)
            }
        };
        if let Err(e) = result {
            tracing::error!("the database key could not be wrapped at login: {e}");
        }
    }

    /// Wraps the unlocked data key for `member` (replacing an older wrapping).
    fn set_wrapping(&self, member: &StaffMember, secret: &str) -> Result<()> {
        let Some(db) = self.store.path() else {
            return Ok(());
        };
        if !self.store.is_encrypted() {
            return Ok(());
        }
        let key = crate::crypt::registered(db).ok_or_else(crate::crypt::locked_error)?;
        let w = crate::crypt::wrap(&key, &member.id, &member.name, member.role, secret)?;
        crate::crypt::set_wrapping(db, &key, w)
    }

    /// A kiosk on a private in-memory database (tests, demos).
    pub fn open_in_memory() -> Result<Self> {
        Ok(Self {
            store: Store::open_in_memory()?,
            trust: std::sync::OnceLock::new(),
            certs_dir: None,
            damage: std::sync::Mutex::new(None),
        })
    }

    /// The underlying store, for the core's own modules. The shell and the admin CLI never reach
    /// it (every kiosk use case is a method here, with its role check, transaction and audit);
    /// the core's integration tests and benches see it through the `test-support` feature.
    #[cfg(not(any(test, feature = "test-support")))]
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The underlying store (tests and benches only: feature `test-support`).
    #[cfg(any(test, feature = "test-support"))]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The database file, for an on-disk kiosk.
    pub fn db_path(&self) -> Option<&Path> {
        self.store.path()
    }

    /// The trusted UIDAI keys: the shipped certificates plus any PEM/DER certificate or public key
    /// an admin put in the `uidai-certs/` folder beside the database (loaded once).
    pub fn trust_store(&self) -> &swagat_identity::TrustStore {
        self.trust.get_or_init(|| {
            let mut t = swagat_identity::TrustStore::with_builtin();
            if let Some(dir) = self.certs_dir.as_ref().filter(|d| d.is_dir()) {
                match t.add_dir(dir) {
                    Ok(skipped) if !skipped.is_empty() => {
                        tracing::warn!(
                            count = skipped.len(),
                            "skipped unreadable files in uidai-certs"
                        )
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!("cannot read uidai-certs: {e}"),
                }
            }
            t
        })
    }

    /// Decodes a scanned QR code into form fields (an XML QR's Aadhaar number is hashed with the
    /// state's key, then dropped).
    pub fn scan(&self, raw: &str) -> Result<crate::scan::Scanned> {
        let key = self.store.write(|tx| opd::secrets::aadhaar_hash_key(tx))?;
        let mut scanned = crate::scan::from_qr_with_key(raw, self.trust_store(), &key)?;
        scanned.existing = self.store.read(|c| {
            let s = config::load_settings(c)?;
            let today = clock::local_date(clock::now_utc(), s.utc_offset_minutes);
            // A document whose fields do not validate cannot match anyone; the form shows why.
            match opd::patients::validate(&scanned.input, &key, today) {
                Ok(v) => opd::patients::find_same_person(c, &v),
                Err(_) => Ok(None),
            }
        })?;
        Ok(scanned)
    }

    /// The sync engine's view of this database (its own connection), for `SyncEngine`. Pulled
    /// records are folded into the domain (facility configuration, online dialysis requests) in
    /// the transaction that applies each pulled page ([`crate::inbox::fold_pending`]), so any
    /// engine built over this store folds with no extra call.
    pub fn sync_store(&self) -> Result<swagat_sync_client::sqlite::SqliteKioskStore> {
        let path = self.store.path().ok_or_else(|| {
            CoreError::invalid(
                "db",
                "an in-memory kiosk cannot sync",
                "मेमोरी वाला कियोस्क सिंक नहीं कर सकता",
            )
        })?;
        let hook: swagat_sync_client::sqlite::PullHook = Box::new(|tx, page| {
            crate::inbox::fold_page(tx, page)
                .map(|_| ())
                .map_err(swagat_sync_client::StoreError::new)
        });
        // A restore from backup (or a copied disk) detected by the engine is audited in the
        // transaction that renumbers the outbox.
        let restore: swagat_sync_client::sqlite::RestoreHook = Box::new(|tx, event| {
            crate::audit::record(
                tx,
                &crate::audit::Actor::System,
                crate::audit::actions::SYNC_RESTORE_DETECTED,
                "sync",
                None,
                serde_json::json!(event),
            )
            .map_err(swagat_sync_client::StoreError::new)
        });
        Ok(
            swagat_sync_client::sqlite::SqliteKioskStore::from_connection(
                crate::store::open_connection(path)?,
            )
            .with_pull_hook(hook)
            .with_restore_hook(restore)
            .with_recovery_key(recovery_key_hook(path)),
        )
    }

    /// Which screen to show first, and the idle-lock time.
    pub fn status(&self) -> Result<KioskStatus> {
        if self.store.is_locked() {
            let kf = self
                .store
                .path()
                .and_then(|db| crate::crypt::load_keyfile(db).ok().flatten())
                .unwrap_or_default();
            return Ok(KioskStatus {
                first_run: false,
                configured: true,
                facility_name_en: kf.facility_name_en,
                facility_name_hi: kf.facility_name_hi,
                idle_lock_minutes: 5,
                pending_sync: 0,
                locked: true,
            });
        }
        self.store.read(|c| {
            let s = config::load_settings(c)?;
            Ok(KioskStatus {
                first_run: staff::count(c)? == 0,
                configured: !s.name_en.is_empty() && s.kiosk_letter.is_some(),
                facility_name_en: s.name_en,
                facility_name_hi: s.name_hi,
                idle_lock_minutes: s.idle_lock_minutes,
                pending_sync: crate::outbox::pending(c)?,
                locked: false,
            })
        })
    }

    /// Completes first-run setup: saves the facility and creates the administrator. Refused once
    /// any staff account exists. A file database is then encrypted: a new data key, wrapped by the
    /// administrator's secret ([`crate::crypt`]).
    pub fn first_run_setup(&self, setup: &FirstRunSetup) -> Result<StaffMember> {
        let admin = self.first_run_records(setup)?;
        // Setup is committed; should encryption fail here, the first login encrypts instead.
        if let Err(e) = self.encrypt_for(&admin, &setup.admin_secret) {
            tracing::error!("the database could not be encrypted at setup: {e}");
        }
        Ok(admin)
    }

    fn first_run_records(&self, setup: &FirstRunSetup) -> Result<StaffMember> {
        self.store.write(|tx| {
            if staff::count(tx)? > 0 {
                return Err(CoreError::auth(
                    "setup is already done; log in as an administrator",
                    "सेटअप पहले ही हो चुका है; व्यवस्थापक के रूप में लॉग इन करें",
                ));
            }
            let cfg = config::apply(tx, &setup.facility)?;
            if !cfg.configured {
                return Err(CoreError::invalid(
                    "facility",
                    "facility name and kiosk letter are required",
                    "सुविधा का नाम और कियोस्क अक्षर आवश्यक हैं",
                ));
            }
            let admin = staff::create(
                tx,
                &Actor::System,
                &NewStaff {
                    name: setup.admin_name.clone(),
                    role: Role::Admin,
                    secret: setup.admin_secret.clone(),
                },
            )?;
            audit::record(
                tx,
                &Actor::Staff(admin.id.clone()),
                crate::audit::actions::CONFIG_FIRST_RUN,
                "facility",
                None,
                serde_json::json!({ "fields": changed_fields(&setup.facility) }),
            )?;
            Ok(admin)
        })
    }

    /// The facility configuration.
    pub fn config(&self) -> Result<FacilityConfig> {
        self.store.read(config::load)
    }

    /// Changes the configuration (audited with the names of the changed fields).
    pub fn update_config(&self, actor: &Actor, patch: &ConfigPatch) -> Result<FacilityConfig> {
        self.store.write(|tx| {
            staff::ADMIN.check(tx, actor)?;
            let cfg = config::apply(tx, patch)?;
            audit::record(
                tx,
                actor,
                crate::audit::actions::CONFIG_UPDATE,
                "facility",
                None,
                serde_json::json!({ "fields": changed_fields(patch) }),
            )?;
            Ok(cfg)
        })
    }

    /// Checks a login; failures are counted (and can lock the account).
    ///
    /// A locked database is unlocked first with this member's wrapping of the data key (an
    /// unknown name costs the same derivation as a wrong secret; wrong secrets before the unlock
    /// are throttled in memory, since the database that counts them cannot be read yet).
    pub fn login(&self, name: &str, secret: &str) -> Result<StaffMember> {
        if let Some(problem) = self.damage_problem() {
            return Err(CoreError::storage(problem));
        }
        let mut unlocking = None;
        if self.store.is_locked() {
            let db = self.file()?;
            crate::crypt::throttle_check(name)?;
            match crate::crypt::unlock_staff(db, name, secret)? {
                Some((key, _)) => {
                    crate::crypt::throttle_clear(name);
                    unlocking = Some(db);
                    self.check_at_unlock(db, &key)?;
                    if let Err(e) = self.store.unlock(&key) {
                        return Err(self.damaged_at_unlock(db, e));
                    }
                    self.after_unlock();
                }
                None => {
                    crate::crypt::throttle_fail(name);
                    return Err(staff::bad_login());
                }
            }
        }
        let member = match self.store.write(|tx| staff::authenticate(tx, name, secret)) {
            Ok(m) => m?,
            Err(e) => {
                return Err(match unlocking {
                    Some(db) => self.damaged_at_unlock(db, e),
                    None => e,
                })
            }
        };
        self.wrap_at_login(&member, secret);
        Ok(member)
    }

    /// A storage failure at the login that unlocked the file: `quick_check` passed, yet the
    /// first reads or writes hit damage it does not look at (a damaged free-list page, say). The
    /// same recovery screen follows as for a failed check; other errors pass through.
    fn damaged_at_unlock(&self, db: &Path, e: CoreError) -> CoreError {
        let Some(problem @ crate::StorageProblem::Corrupt) = e.storage_problem() else {
            return e;
        };
        tracing::error!("the encrypted database failed at the login that unlocked it");
        if let Ok(mut slot) = self.damage.lock() {
            *slot = Some(crate::backup::StartupCheck {
                ok: false,
                problem: Some(problem),
                message: Some(problem.msg()),
                latest_backup: crate::backup::latest_verified(db),
            });
        }
        e
    }

    /// Adds a staff account.
    /// Their wrapping of the data key is added at once (an encrypted database).
    pub fn add_staff(&self, actor: &Actor, new: &NewStaff) -> Result<StaffMember> {
        let member = self.store.write(|tx| staff::create(tx, actor, new))?;
        if let Err(e) = self.set_wrapping(&member, &new.secret) {
            tracing::error!("the new account's key wrapping failed (made at its first login): {e}");
        }
        Ok(member)
    }

    /// All staff accounts.
    pub fn staff(&self) -> Result<Vec<StaffMember>> {
        self.store.read(staff::list)
    }

    /// All staff accounts with their lockout state (the administrator's staff list).
    pub fn staff_accounts(&self) -> Result<Vec<staff::StaffAccount>> {
        self.store.read(staff::accounts)
    }

    /// The id of the account with this id or login name.
    pub fn staff_id(&self, name_or_id: &str) -> Result<String> {
        self.store.read(|c| staff::find_id(c, name_or_id))
    }

    /// Disables (`active = false`) or enables an account (administrators only; audited).
    pub fn set_staff_active(
        &self,
        actor: &Actor,
        staff_id: &str,
        active: bool,
    ) -> Result<staff::StaffAccount> {
        let account = self
            .store
            .write(|tx| staff::set_active(tx, actor, staff_id, active))?;
        // A disabled account must not unlock the disk; an enabled one is wrapped again at its
        // next login (its secret is not known here).
        if !active {
            if let Some(db) = self.store.path() {
                crate::crypt::remove_wrapping(db, staff_id)?;
            }
        }
        Ok(account)
    }

    /// Sets a new PIN or passphrase and lifts any lockout (administrators only; audited).
    pub fn reset_staff_secret(
        &self,
        actor: &Actor,
        staff_id: &str,
        secret: &str,
    ) -> Result<staff::StaffAccount> {
        let account = self
            .store
            .write(|tx| staff::reset_secret(tx, actor, staff_id, secret))?;
        // The old secret's wrapping goes; the new one replaces it.
        if account.member.active {
            self.set_wrapping(&account.member, secret)?;
        } else if let Some(db) = self.store.path() {
            crate::crypt::remove_wrapping(db, staff_id)?;
        }
        Ok(account)
    }

    /// Lifts an account's lockout (administrators only; audited).
    pub fn unlock_staff(&self, actor: &Actor, staff_id: &str) -> Result<staff::StaffAccount> {
        self.store.write(|tx| staff::unlock(tx, actor, staff_id))
    }

    /// Makes a verified backup now (into `dir`, else the configured backup folder) and rotates
    /// the folder; audited as `backup.create`.
    pub fn backup_now(&self, actor: &Actor, dir: Option<&Path>) -> Result<crate::backup::Created> {
        let db = self.file()?;
        self.store.read(|c| staff::ADMIN.check(c, actor))?;
        crate::backup::create(db, actor, crate::backup::BackupReason::Manual, dir)
    }

    /// The backup section of Settings: folder, schedule, last good backup, stale warning.
    pub fn backup_status(&self) -> Result<crate::backup::BackupStatus> {
        let db = self.file()?;
        self.store.read(|c| crate::backup::status(c, db))
    }

    /// Free space where the database lives (the status strip warns below 500 MB).
    pub fn disk_space(&self) -> Result<crate::disk::DiskSpace> {
        crate::disk::space(self.file()?)
    }

    fn file(&self) -> Result<&Path> {
        self.store.path().ok_or_else(|| {
            CoreError::invalid(
                "db",
                "an in-memory kiosk has no file",
                "मेमोरी वाले कियोस्क की कोई फ़ाइल नहीं है",
            )
        })
    }

    /// The newest audit entries.
    pub fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        self.store.read(|c| audit::recent(c, limit))
    }

    /// Registers a patient visit (new or returning patient) and issues its token.
    pub fn register(&self, actor: &Actor, req: &RegisterRequest) -> Result<Registration> {
        self.store.write(|tx| {
            staff::COUNTER.check(tx, actor)?;
            opd::register::register(tx, actor, req)
        })
    }

    /// Checks a registration before it is made (every field problem, possible duplicates, a
    /// second token today); writes nothing.
    pub fn check_registration(
        &self,
        req: &RegisterRequest,
    ) -> Result<opd::register::RegistrationCheck> {
        self.store.read(|c| opd::register::check(c, req))
    }

    /// Today's ABHA scan-and-share profiles of the facility (this counter's first).
    pub fn shared_profiles(&self) -> Result<Vec<crate::shares::SharedProfile>> {
        self.store.read(crate::shares::list)
    }

    /// Registers a shared profile for `department` (the same registration if done before).
    pub fn register_share(
        &self,
        actor: &Actor,
        share_id: &str,
        department: &str,
    ) -> Result<crate::shares::ShareRegistration> {
        self.store.write(|tx| {
            staff::COUNTER.check(tx, actor)?;
            crate::shares::register(tx, actor, share_id, department)
        })
    }

    /// Opens a shared profile for registration: the form's fields and the returning patient
    /// it matches (by ABHA number, then ABHA address).
    pub fn share_prefill(&self, share_id: &str) -> Result<crate::shares::SharePrefill> {
        let key = self.store.write(|tx| opd::secrets::aadhaar_hash_key(tx))?;
        self.store
            .read(|c| crate::shares::prefill(c, &key, share_id))
    }

    /// Registers a shared profile with the registration the operator confirmed (the same
    /// registration if done before).
    pub fn register_share_with(
        &self,
        actor: &Actor,
        share_id: &str,
        req: &RegisterRequest,
    ) -> Result<crate::shares::ShareRegistration> {
        self.store.write(|tx| {
            staff::COUNTER.check(tx, actor)?;
            crate::shares::register_with(tx, actor, share_id, req)
        })
    }

    /// The counter's scan-and-share QR text.
    pub fn counter_qr_url(&self) -> Result<String> {
        self.store.read(crate::shares::counter_qr_url)
    }

    /// The counter's scan-and-share QR: its URL and an SVG image of it (for Settings).
    pub fn counter_qr(&self) -> Result<crate::shares::CounterQr> {
        let url = self.counter_qr_url()?;
        let svg = swagat_slip::qr_svg(&url)
            .map_err(|e| CoreError::Corrupt(format!("QR rendering failed: {e}")))?;
        Ok(crate::shares::CounterQr { url, svg })
    }

    /// The counter's scan-and-share poster (A6 PDF, Hindi and English).
    pub fn counter_poster_pdf(&self) -> Result<Vec<u8>> {
        let (url, s) = self
            .store
            .read(|c| Ok((crate::shares::counter_qr_url(c)?, config::load_settings(c)?)))?;
        swagat_slip::render_poster_pdf(&swagat_slip::PosterData {
            facility_name_en: s.name_en,
            facility_name_hi: s.name_hi,
            counter: s.counter_id.unwrap_or_default(),
            url,
        })
        .map_err(|e| CoreError::Corrupt(format!("poster rendering failed: {e}")))
    }

    /// Prints the counter's poster on the configured printer (a PDF printer; audited).
    /// Returns the CUPS job id.
    pub fn print_counter_poster(&self, actor: &Actor) -> Result<String> {
        self.store.read(|c| staff::ADMIN.check(c, actor))?;
        let pdf = self.counter_poster_pdf()?;
        let s = self.store.read(config::load_settings)?;
        let printer = s
            .printer
            .filter(|_| s.printer_format.as_deref() != Some("escpos"))
            .ok_or_else(|| {
                CoreError::invalid(
                    "printer",
                    "no PDF printer is set up for the poster: choose one in Settings",
                    "पोस्टर के लिए PDF प्रिंटर सेट नहीं है: सेटिंग्स में चुनें",
                )
            })?;
        let job = swagat_slip::printing::print_pdf(&printer, &pdf)?;
        self.store.write(|tx| {
            audit::record(
                tx,
                actor,
                crate::audit::actions::SHARES_POSTER_PRINT,
                "facility",
                None,
                serde_json::json!({}),
            )
        })?;
        Ok(job)
    }

    /// Searches patients by UHID, mobile, ABHA number/address, Aadhaar number or name.
    pub fn search_patients(&self, query: &str, limit: u32) -> Result<(QueryKind, Vec<Patient>)> {
        self.store.read(|c| {
            let key = opd::secrets::stored_key(c)?.unwrap_or_default();
            opd::patients::search(c, query, &key, limit.clamp(1, 100))
        })
    }

    /// The counter's search: at most `shown` patients, whether more matched (the screen asks for
    /// a longer query), and each shown patient's last visit date, so rows that look alike are
    /// told apart — all read in one transaction.
    pub fn counter_search(&self, query: &str, shown: u32) -> Result<CounterSearch> {
        let shown = shown.clamp(1, 99);
        self.store.read(|c| {
            let key = opd::secrets::stored_key(c)?.unwrap_or_default();
            let (kind, mut patients) = opd::patients::search(c, query, &key, shown + 1)?;
            let more = patients.len() > shown as usize;
            patients.truncate(shown as usize);
            let mut last_visits = std::collections::HashMap::new();
            for p in &patients {
                if let Some(v) = opd::visits::for_patient(c, &p.id, 1)?.into_iter().next() {
                    last_visits.insert(p.id.clone(), v.visit_date);
                }
            }
            Ok(CounterSearch {
                kind,
                patients,
                more,
                last_visits,
            })
        })
    }

    /// A visit with its patient (the token screen and the slip preview), in one read.
    pub fn visit_detail(&self, visit_id: &str) -> Result<VisitDetail> {
        self.store.read(|c| {
            let visit = opd::visits::get(c, visit_id)?;
            let patient = opd::patients::resolve(c, &visit.patient_id)?;
            Ok(VisitDetail { visit, patient })
        })
    }

    /// A patient's record screen: the patient (after following merges), their newest `limit`
    /// visits, and the id asked for when it was merged into this one — in one read.
    pub fn patient_record(&self, patient_id: &str, limit: u32) -> Result<PatientRecord> {
        self.store.read(|c| {
            let patient = opd::patients::resolve(c, patient_id)?;
            let visits = opd::visits::for_patient(c, &patient.id, limit)?;
            let redirected_from = (patient.id != patient_id).then(|| patient_id.to_owned());
            Ok(PatientRecord {
                patient,
                visits,
                redirected_from,
            })
        })
    }

    /// One patient (following merges).
    pub fn patient(&self, id: &str) -> Result<Patient> {
        self.store.read(|c| opd::patients::resolve(c, id))
    }

    /// Corrects a patient's details (validated like a registration; the previous state is kept,
    /// the changed field names audited, the new state queued for sync).
    pub fn edit_patient(
        &self,
        actor: &Actor,
        patient_id: &str,
        patch: &opd::PatientPatch,
    ) -> Result<opd::EditedPatient> {
        self.store.write(|tx| {
            staff::COUNTER.check(tx, actor)?;
            opd::edit::edit(tx, actor, patient_id, patch)
        })
    }

    /// Merges the duplicate record into the kept one (administrators only): visits and dialysis
    /// records move, missing identifiers are carried over, the duplicate is marked merged.
    pub fn merge_patients(
        &self,
        actor: &Actor,
        keep_id: &str,
        duplicate_id: &str,
    ) -> Result<opd::MergeOutcome> {
        self.store
            .write(|tx| opd::merge::merge(tx, actor, keep_id, duplicate_id))
    }

    /// The earlier states of a patient record, oldest first.
    pub fn patient_history(&self, patient_id: &str) -> Result<Vec<opd::PatientVersion>> {
        self.store.read(|c| opd::edit::history(c, patient_id))
    }

    /// One visit.
    pub fn visit(&self, id: &str) -> Result<Visit> {
        self.store.read(|c| opd::visits::get(c, id))
    }

    /// A patient's visits, newest first.
    pub fn patient_visits(&self, patient_id: &str, limit: u32) -> Result<Vec<Visit>> {
        self.store
            .read(|c| opd::visits::for_patient(c, patient_id, limit))
    }

    /// Cancels a visit (audited).
    pub fn cancel_visit(&self, actor: &Actor, visit_id: &str, reason: &str) -> Result<()> {
        self.store.write(|tx| {
            staff::COUNTER.check(tx, actor)?;
            opd::register::cancel(tx, actor, visit_id, reason)
        })
    }

    /// A slip for on-screen preview: not counted, not audited. Only read, with no transaction of
    /// its own to commit: the slip-link key is the facility's, or made once on first use, as for
    /// a print.
    pub fn slip_preview(&self, visit_id: &str, format: crate::slip::SlipFormat) -> Result<Vec<u8>> {
        let data = self.store.read(|c| {
            let visit = opd::visits::get(c, visit_id)?;
            crate::slip::slip_data(c, &visit, None)
        })?;
        crate::slip::render(&data, format)
    }

    /// A slip written to a file by an administrator (`swagat-admin slip`): audited as an export.
    pub fn slip_export(
        &self,
        actor: &Actor,
        visit_id: &str,
        format: crate::slip::SlipFormat,
    ) -> Result<Vec<u8>> {
        let data = self.store.write(|tx| {
            staff::COUNTER.check(tx, actor)?;
            let visit = opd::visits::get(tx, visit_id)?;
            audit::record(
                tx,
                actor,
                crate::audit::actions::SLIP_EXPORT,
                "visit",
                Some(visit_id),
                serde_json::json!({ "format": format }),
            )?;
            crate::slip::slip_data(tx, &visit, None)
        })?;
        crate::slip::render(&data, format)
    }

    /// Prints a visit's slip on the configured printer (counted and audited; reprints marked).
    /// Returns the CUPS job id when there is one.
    pub fn print_slip(&self, actor: &Actor, visit_id: &str) -> Result<Option<String>> {
        use crate::slip::SlipFormat;
        let s = self.store.read(|c| {
            staff::COUNTER.check(c, actor)?;
            config::load_settings(c)
        })?;
        let Some(printer) = s.printer.clone() else {
            return Err(CoreError::invalid(
                "printer",
                "no slip printer is set up: choose one in Settings",
                "पर्ची प्रिंटर सेट नहीं है: सेटिंग्स में चुनें",
            ));
        };
        let format = match s.printer_format.as_deref() {
            Some("escpos") => SlipFormat::EscPos,
            Some("pdf_80mm") => SlipFormat::Pdf80mm,
            _ => SlipFormat::PdfA6,
        };
        // Render the slip this print will be (the next count, "REPRINT n" from the second) and
        // count it only once the printer has accepted it: a switched-off printer leaves the
        // count alone, so the patient's first real slip is not marked as a reprint.
        let data = self
            .store
            .read(|c| crate::slip::next_print_data(c, visit_id))?;
        let bytes = crate::slip::render(&data, format)?;
        match send_to_printer(&printer, format, &bytes) {
            Ok(job) => {
                self.store
                    .write(|tx| crate::slip::count_print(tx, actor, visit_id).map(|_| ()))?;
                Ok(job)
            }
            Err(e) => {
                // Audited (the in-charge sees failed prints); nothing counted. The print error
                // is what the operator needs to see, so an audit failure does not replace it.
                let problem = e.problem();
                let _ = self.store.write(|tx| {
                    audit::record(
                        tx,
                        actor,
                        crate::audit::actions::SLIP_PRINT_FAILED,
                        "visit",
                        Some(visit_id),
                        serde_json::json!({ "problem": problem }),
                    )
                });
                Err(e)
            }
        }
    }

    /// Staff who may log in (active accounts), for the login screen's list of names to tap: names
    /// and roles only, never anything about their PINs.
    ///
    /// Before the database is unlocked they come from the key file: the names and roles of the
    /// staff who have a wrapping (who can unlock it).
    pub fn login_names(&self) -> Result<Vec<LoginName>> {
        if self.store.is_locked() {
            let kf = crate::crypt::load_keyfile(self.file()?)?.unwrap_or_default();
            return Ok(kf
                .staff
                .into_iter()
                .map(|w| LoginName {
                    name: w.name,
                    role: w.role,
                })
                .collect());
        }
        Ok(self
            .staff()?
            .into_iter()
            .filter(|s| s.active)
            .map(|s| LoginName {
                name: s.name,
                role: s.role,
            })
            .collect())
    }

    /// The CUPS print queues on this PC (`lpstat -e`), the default one marked, for Settings'
    /// printer choice.
    pub fn printers(&self) -> Result<Vec<PrinterChoice>> {
        Ok(swagat_slip::printing::list_printers()
            .map_err(CoreError::from)?
            .into_iter()
            .map(|p| PrinterChoice {
                name: p.name,
                is_default: p.is_default,
            })
            .collect())
    }

    /// Prints a sample slip (marked as a test, no patient) on `printer` in `format` (`pdf_a6`,
    /// `pdf_80mm`, `escpos`), so Settings can check a printer before saving it. Audited.
    pub fn test_print(&self, actor: &Actor, printer: &str, format: &str) -> Result<Option<String>> {
        use crate::slip::SlipFormat;
        self.store.read(|c| staff::ADMIN.check(c, actor))?;
        let format = match format {
            "escpos" => SlipFormat::EscPos,
            "pdf_80mm" => SlipFormat::Pdf80mm,
            "pdf_a6" | "" => SlipFormat::PdfA6,
            other => {
                return Err(CoreError::invalid(
                    "printer_format",
                    format!("unknown slip format {other}"),
                    format!("अज्ञात पर्ची प्रारूप {other}"),
                ))
            }
        };
        let s = self.store.read(config::load_settings)?;
        let mut data = swagat_slip::SlipData::example();
        data.facility_name_en = s.name_en;
        data.facility_name_hi = s.name_hi;
        data.patient_name_en = "TEST PRINT".into();
        data.patient_name_hi = Some("परीक्षण प्रिंट".into());
        data.reprint = Some("TEST / परीक्षण".into());
        let bytes = crate::slip::render(&data, format)?;
        let job = send_to_printer(printer.trim(), format, &bytes)?;
        self.store.write(|tx| {
            audit::record(
                tx,
                actor,
                crate::audit::actions::SLIP_TEST_PRINT,
                "printer",
                None,
                serde_json::json!({ "printer": printer.trim() }),
            )
        })?;
        Ok(job)
    }

    /// The home screen's figures.
    pub fn home_summary(&self) -> Result<HomeSummary> {
        self.store.read(|c| {
            let s = config::load_settings(c)?;
            let today = clock::local_date(clock::now_utc(), s.utc_offset_minutes);
            let (registrations_today, abha_linked_today) =
                opd::visits::day_counts(c, &today.to_string())?;
            Ok(HomeSummary {
                facility_name_en: s.name_en,
                facility_name_hi: s.name_hi,
                date: today.to_string(),
                registrations_today,
                abha_linked_today,
                scan_share_today: crate::shares::registered_today(c, &today.to_string())?,
                pending_sync: crate::outbox::pending(c)?,
            })
        })
    }
}

fn set_dir_private(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if dir.is_dir() {
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
    }
}

/// The names of the keys a patch sets (for the audit log: which fields, never their values).
fn changed_fields(patch: &ConfigPatch) -> Vec<String> {
    match serde_json::to_value(patch) {
        Ok(serde_json::Value::Object(m)) => m
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, _)| k)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup_json() -> FirstRunSetup {
        FirstRunSetup {
            facility: serde_json::from_str(
                r#"{"name_en":"UPHC Kankarbagh","name_hi":"यूपीएचसी कंकड़बाग","kiosk_letter":"A","state_lgd":10,"district_lgd":212}"#,
            )
            .unwrap(),
            admin_name: "Admin".into(),
            admin_secret: "135790".into(),
        }
    }

    #[test]
    fn first_run_then_login_then_audited_config_change() {
        let k = Kiosk::open_in_memory().unwrap();
        assert!(k.status().unwrap().first_run);
        let admin = k.first_run_setup(&setup_json()).unwrap();
        assert_eq!(admin.role, Role::Admin);
        let st = k.status().unwrap();
        assert!(!st.first_run && st.configured);
        assert!(k.first_run_setup(&setup_json()).is_err(), "only once");

        let me = k.login("admin", "135790").unwrap();
        let patch: ConfigPatch =
            serde_json::from_str(r#"{"address":"Kankarbagh, Patna 800020"}"#).unwrap();
        k.update_config(&Actor::Staff(me.id.clone()), &patch)
            .unwrap();
        let log = k.audit_log(10).unwrap();
        let upd = log.iter().find(|e| e.action == "config.update").unwrap();
        assert_eq!(upd.actor, format!("staff:{}", me.id));
        assert_eq!(upd.details["fields"], serde_json::json!(["address"]));
        assert!(
            !upd.details.to_string().contains("Kankarbagh"),
            "values are not audited"
        );
        assert_eq!(
            k.home_summary().unwrap().facility_name_en,
            "UPHC Kankarbagh"
        );
    }

    #[test]
    fn first_run_needs_facility_name_and_letter() {
        let k = Kiosk::open_in_memory().unwrap();
        let mut s = setup_json();
        s.facility.kiosk_letter = None;
        assert_eq!(
            k.first_run_setup(&s).unwrap_err().kind(),
            crate::ErrorKind::Invalid
        );
        assert!(k.status().unwrap().first_run, "nothing was half-saved");
    }
}

/// A name on the login screen.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct LoginName {
    /// The staff member's name (what `login` takes).
    pub name: String,
    /// Their role.
    pub role: Role,
}

/// A visit and its patient ([`Kiosk::visit_detail`]).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct VisitDetail {
    /// The visit.
    pub visit: Visit,
    /// Its patient.
    pub patient: Patient,
}

/// A patient's record screen ([`Kiosk::patient_record`]).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct PatientRecord {
    /// The patient (after following merges).
    pub patient: Patient,
    /// Their newest visits.
    pub visits: Vec<Visit>,
    /// The id asked for was merged into `patient`: the screen says so.
    pub redirected_from: Option<String>,
}

/// The counter's search results ([`Kiosk::counter_search`]).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct CounterSearch {
    /// How the query was understood (UHID, mobile, name…).
    pub kind: QueryKind,
    /// The patients shown.
    pub patients: Vec<Patient>,
    /// More patients match than are shown.
    pub more: bool,
    /// Each shown patient's last visit date (`YYYY-MM-DD`), by patient id.
    pub last_visits: std::collections::HashMap<String, String>,
}

/// A CUPS queue found on this PC.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct PrinterChoice {
    /// Queue name.
    pub name: String,
    /// The system's default queue.
    pub is_default: bool,
}

/// Sends rendered slip bytes to `printer`: raw ESC/POS to a queue, device or socket; PDFs through
/// CUPS (returns the job id).
fn send_to_printer(
    printer: &str,
    format: crate::slip::SlipFormat,
    bytes: &[u8],
) -> Result<Option<String>> {
    if printer.is_empty() {
        return Err(CoreError::invalid(
            "printer",
            "choose a printer",
            "प्रिंटर चुनें",
        ));
    }
    if format == crate::slip::SlipFormat::EscPos {
        let target: swagat_slip::printing::RawTarget = printer.parse().map_err(CoreError::from)?;
        swagat_slip::printing::print_raw(&target, bytes).map_err(CoreError::from)?;
        Ok(None)
    } else {
        swagat_slip::printing::print_pdf(printer, bytes)
            .map(Some)
            .map_err(CoreError::from)
    }
}
