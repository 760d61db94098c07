//! The kiosk's background sync: one thread running the sync engine's loop for the app's lifetime.
//!
//! The desktop app starts a [`SyncService`] at launch. It pushes the outbox whenever the state
//! server is reachable, pulls facility changes, retries with backoff, and resumes on its own when
//! the link returns (the engine probes `/healthz` while offline). Local writes call
//! [`SyncService::sync_now`] so a new registration leaves within seconds instead of waiting for the
//! poll interval. The service owns its own small tokio runtime on a dedicated thread, so it needs
//! nothing from the UI framework and the app's commands stay synchronous.
//!
//! [`SyncView`] is what the status strip shows: online or not, records waiting, last successful
//! sync, and the last problem as a code the UI translates (never personal data).

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Serialize;
use swagat_sync_client::{KioskStore, SyncEngine, SyncError, SyncErrorKind, SyncStatus};
use tokio::sync::{oneshot, watch};

use crate::error::{CoreError, Result};
use crate::Kiosk;

pub use swagat_sync_client::{Credentials, DeadLetter, EngineConfig, StoreCounts, SyncReport};

/// What the settings screen shows after enrolling (never the device secret).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Enrolled {
    /// Base URL of the state server.
    pub server: String,
    /// Facility code.
    pub facility_code: String,
    /// Facility name.
    pub facility_name: String,
}

impl From<Credentials> for Enrolled {
    fn from(c: Credentials) -> Self {
        Self {
            server: c.server_url,
            facility_code: c.facility_code,
            facility_name: c.facility_name,
        }
    }
}

/// What went wrong in the last sync attempt, as a stable code for the UI's catalogs.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncProblem {
    /// The kiosk has not been enrolled with a state server.
    NotEnrolled,
    /// The server could not be reached (no network, server down).
    Offline,
    /// The connection broke mid-request; it will be retried.
    Transport,
    /// The server administrator revoked this device.
    Revoked,
    /// The server refused this device's credential.
    Unauthorized,
    /// The server's TLS certificate is not trusted (wrong address, or a private CA not given).
    Certificate,
    /// Another copy of this kiosk (a copied disk) speaks for this device: re-enroll this one.
    Cloned,
    /// The server answered with an error.
    Server,
    /// The local database failed.
    Store,
    /// Anything else (configuration, protocol).
    Other,
}

impl From<SyncErrorKind> for SyncProblem {
    /// The strip's problem for an engine error's kind (carried typed from the engine, never
    /// recovered from its message).
    fn from(kind: SyncErrorKind) -> Self {
        use SyncErrorKind as K;
        match kind {
            K::NotEnrolled => Self::NotEnrolled,
            K::Offline => Self::Offline,
            K::Transport => Self::Transport,
            K::Revoked => Self::Revoked,
            K::Unauthorized => Self::Unauthorized,
            K::Certificate => Self::Certificate,
            K::Cloned => Self::Cloned,
            K::Server => Self::Server,
            K::Store => Self::Store,
            K::Protocol | K::SequenceConflict | K::EnrollmentCode | K::Config | K::Insecure => {
                Self::Other
            }
        }
    }
}

/// The status strip's view of sync.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SyncView {
    /// The kiosk has a state-server credential.
    pub enrolled: bool,
    /// The state server's URL, when enrolled.
    pub server: Option<String>,
    /// The last contact with the server succeeded.
    pub online: bool,
    /// A sync is running now.
    pub syncing: bool,
    /// Records waiting to reach the server.
    pub pending: u64,
    /// Records the server refused (see the dead-letter list).
    pub dead_letters: u64,
    /// Unix milliseconds of the last fully successful sync.
    pub last_sync_at_ms: Option<i64>,
    /// How many times this kiosk found it had been restored from a backup (or copied).
    pub restores: u64,
    /// Unix milliseconds of the last detected restore.
    pub last_restore_at_ms: Option<i64>,
    /// The last problem, if the last attempt failed.
    pub problem: Option<SyncProblem>,
    /// The last problem's technical text (English; no personal data).
    pub detail: Option<String>,
    /// The server is `http://` on another machine, allowed on purpose at enrollment
    /// (`--insecure-http`): the strip shows the link as insecure.
    pub insecure: bool,
    /// The recovery key's escrow with the state: `escrowed` (the server holds this database's
    /// key), `pending` (the state has an escrow key; the box goes with the next sync),
    /// `not_offered` (the server has no escrow key), or `none` (not enrolled, or not encrypted).
    pub recovery_escrow: EscrowState,
}

/// Where the recovery key's escrow with the state stands (see [`SyncView::recovery_escrow`]).
pub use swagat_sync_client::heartbeat::EscrowState;

/// Builds the strip's view from the engine's live status (over the service's own store).
type ViewFn = Box<dyn Fn(&SyncStatus) -> Result<SyncView> + Send + Sync>;

/// The background sync thread. Dropping it stops the loop and joins the thread.
pub struct SyncService {
    status: watch::Receiver<SyncStatus>,
    wake: Arc<dyn Fn() + Send + Sync>,
    view: ViewFn,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SyncService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncService")
            .field("status", &*self.status.borrow())
            .finish()
    }
}

impl SyncService {
    /// Starts the loop over `store` (normally [`crate::Kiosk::sync_store`]).
    pub fn start<S: KioskStore>(store: S, config: EngineConfig) -> Result<Self> {
        let engine = Arc::new(SyncEngine::new(Arc::new(store), config));
        let status = engine.status();
        let (tx, rx) = oneshot::channel::<()>();
        let runner = engine.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("swagat-sync".into())
            .spawn(move || {
                runtime.block_on(async move {
                    tokio::select! {
                        _ = runner.run(std::future::pending::<()>()) => {},
                        _ = watch_local_writes(&runner) => {},
                        _ = rx => {},
                    }
                });
            })?;
        let waker = engine.clone();
        let viewer = engine.clone();
        Ok(Self {
            status,
            wake: Arc::new(move || waker.notify()),
            view: Box::new(move |s| view(viewer.store().as_ref(), Some(s))),
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// Starts the loop over `kiosk`'s database, with the app's defaults and `poll` between idle
    /// rounds. `app_version` is the shell's own version: every sync's heartbeat reports it to
    /// the state server, with the free disk of the kiosk's data folder.
    pub fn for_kiosk(kiosk: &Kiosk, poll: Duration, app_version: &str) -> Result<Self> {
        let config = EngineConfig {
            poll_interval: poll,
            device_name: device_name(),
            ..engine_config(kiosk, app_version)
        };
        Self::start(kiosk.sync_store()?, config)
    }

    /// Asks the loop to sync now (after a local write, or the operator's "Sync now").
    pub fn sync_now(&self) {
        (self.wake)();
    }

    /// The engine's live status (connectivity, last error).
    pub fn engine_status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }

    /// The status strip's view: durable counts from the store plus the engine's live status.
    pub fn view(&self) -> Result<SyncView> {
        let live = self.engine_status();
        (self.view)(&live)
    }
}

/// How often the service looks for new local writes (anything that appended to the outbox: the
/// app, or `swagat-admin` on the same database) and wakes the engine for them.
const WRITE_CHECK: Duration = Duration::from_secs(2);

/// Wakes the engine whenever the outbox grew since the last look, so a registration leaves
/// within seconds without every write path having to know about sync. Never returns.
async fn watch_local_writes<S: KioskStore>(engine: &Arc<SyncEngine<S>>) {
    // The first look is at once: writes before it are covered by the engine's first round.
    let mut seen: Option<u64> = None;
    loop {
        let store = engine.store().clone();
        let last = tokio::task::spawn_blocking(move || store.counts().map(|c| c.last_seq)).await;
        if let Ok(Ok(last)) = last {
            if seen.is_some_and(|s| s != last) {
                engine.notify();
            }
            seen = Some(last);
        }
        tokio::time::sleep(WRITE_CHECK).await;
    }
}

impl Drop for SyncService {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Builds the strip's view from the store's durable counts and, when running, the engine's live
/// status. The counts come from the database so they are right even before the first sync.
pub fn view<S: KioskStore>(store: &S, engine: Option<&SyncStatus>) -> Result<SyncView> {
    let err = |e: swagat_sync_client::StoreError| {
        CoreError::Corrupt(format!("cannot read the sync state: {e}"))
    };
    let counts = store.counts().map_err(err)?;
    let creds = store.load_credentials().map_err(err)?;
    let recovery_escrow = swagat_sync_client::heartbeat::escrow_state(store);
    let mut v = SyncView {
        recovery_escrow,
        enrolled: creds.is_some(),
        insecure: creds.as_ref().is_some_and(|c| c.insecure_http),
        server: creds.map(|c| c.server_url),
        pending: counts.pending,
        dead_letters: counts.dead_letters,
        last_sync_at_ms: counts.last_sync_at_ms,
        restores: counts.restores,
        last_restore_at_ms: counts.last_restore_at_ms,
        ..SyncView::default()
    };
    if let Some(s) = engine {
        v.online = s.online && v.enrolled;
        v.syncing = s.syncing;
        if let Some(kind) = s.last_error_kind {
            let problem = SyncProblem::from(kind);
            // A kiosk that is not enrolled is working as configured: local only, no error.
            if problem != SyncProblem::NotEnrolled || v.enrolled {
                v.problem = Some(problem);
                v.detail = s.last_error.clone();
            }
        }
    }
    if !v.enrolled {
        v.problem = Some(SyncProblem::NotEnrolled);
    }
    Ok(v)
}

/// Enrolls this kiosk with a state server using a one-time code, on a short-lived thread of its
/// own (callable from any thread, inside an async runtime or not).
pub fn enroll<S: KioskStore>(
    store: Arc<S>,
    server: &str,
    code: &str,
    config: EngineConfig,
) -> std::result::Result<swagat_sync_client::Credentials, SyncError> {
    let server = server.trim().to_owned();
    let code = code.trim().to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SyncError::Config(format!("cannot start a runtime: {e}")))?;
        rt.block_on(swagat_sync_client::enroll(store, &server, &code, &config))
    })
    .join()
    .unwrap_or_else(|_| Err(SyncError::Config("enrollment thread panicked".into())))
}

/// Enrolls `kiosk` (see [`enroll`]) for an administrator (or `swagat-admin`), then, in one
/// transaction: installs the keys enrollment delivered (the state's Aadhaar hashing key, the
/// facility's slip-link key), takes the server's facility code if none is set yet (UHIDs start
/// with the facility's state-wide code from then on), and audits the enrollment as `sync.enroll`
/// by `actor`.
pub fn enroll_kiosk(
    kiosk: &Kiosk,
    actor: &crate::Actor,
    server: &str,
    code: &str,
    config: EngineConfig,
) -> Result<swagat_sync_client::Credentials> {
    kiosk
        .store()
        .read(|c| crate::staff::ADMIN.check(c, actor))?;
    if server.trim().is_empty() || code.trim().is_empty() {
        return Err(CoreError::invalid(
            "server",
            "enter the state server's address and the enrollment code",
            "राज्य सर्वर का पता और नामांकन कोड भरें",
        ));
    }
    let creds = enroll(Arc::new(kiosk.sync_store()?), server, code, config)
        .map_err(|e| error_message(&e))?;
    kiosk.store().write(|tx| {
        // The state's Aadhaar key and the facility's slip-link key, from the credential just saved.
        crate::inbox::install_credential_keys(tx)?;
        let takes_code = crate::config::load_settings(tx)?.facility_code.is_none();
        if takes_code {
            crate::config::apply(
                tx,
                &crate::config::ConfigPatch {
                    facility_code: Some(creds.facility_code.clone()),
                    ..Default::default()
                },
            )?;
        }
        crate::audit::record(
            tx,
            actor,
            crate::audit::actions::SYNC_ENROLL,
            "facility",
            None,
            serde_json::json!({
                "device": creds.device_id,
                "facility": creds.facility_id,
                "facility_code_taken": takes_code,
            }),
        )
    })?;
    Ok(creds)
}

/// Enrolls `kiosk` from Settings or `swagat-admin enroll`: the server address's scheme is
/// checked before anything is read or sent (an `http://` server on another machine only with
/// `insecure_http`), `ca_cert_pem` is trusted besides the public web roots, then
/// [`enroll_kiosk`].
pub fn enroll_at(
    kiosk: &Kiosk,
    actor: &crate::Actor,
    server: &str,
    code: &str,
    ca_cert_pem: Option<Vec<u8>>,
    insecure_http: bool,
) -> Result<swagat_sync_client::Credentials> {
    // A wrong address is the operator's input to correct, like any other field.
    swagat_sync_client::http::check_url(server, insecure_http).map_err(
        |e| match error_message(&e) {
            CoreError::Sync { msg, .. } => CoreError::invalid("server", msg.en, msg.hi),
            other => other,
        },
    )?;
    let config = EngineConfig {
        allow_insecure_http: insecure_http,
        extra_root_certs_pem: ca_cert_pem.into_iter().collect(),
        device_name: device_name(),
        ..EngineConfig::default()
    };
    enroll_kiosk(kiosk, actor, server, code, config)
}

/// One sync of `kiosk` (or syncs until nothing waits), on a short-lived runtime of its own, for
/// `swagat-admin sync`; the heartbeat after it reports `app_version`. The engine's error is
/// returned as it is: the caller says it whole.
pub fn sync_once(
    kiosk: &Kiosk,
    until_idle: bool,
    app_version: &str,
) -> std::result::Result<SyncReport, SyncError> {
    let store = Arc::new(
        kiosk
            .sync_store()
            .map_err(|e| SyncError::Config(format!("cannot open the sync state: {e}")))?,
    );
    let engine = SyncEngine::new(store, engine_config(kiosk, app_version));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| SyncError::Config(format!("cannot start the sync runtime: {e}")))?;
    rt.block_on(async {
        if until_idle {
            engine.until_idle().await
        } else {
            engine.sync_once().await
        }
    })
}

/// What `swagat-admin status` prints: the kiosk's status, the sync counts, the enrollment (never
/// the secret), today's registrations and the recovery key's escrow.
#[derive(Debug, Clone, Serialize)]
pub struct AdminStatus {
    /// The kiosk's own status.
    #[serde(flatten)]
    pub kiosk: crate::KioskStatus,
    /// Records waiting, dead letters, the last sync.
    #[serde(flatten)]
    pub counts: StoreCounts,
    /// The state server this kiosk is enrolled with (`null` when local only).
    pub enrolled: Option<EnrolledBrief>,
    /// Registrations today.
    pub registrations_today: i64,
    /// Of those, the ABHA-linked ones.
    pub abha_linked_today: i64,
    /// Of those, the ones that came by scan and share.
    pub scan_share_today: i64,
    /// The recovery key's escrow with the state (absent if it cannot be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_escrow: Option<EscrowState>,
}

/// The enrollment as `swagat-admin status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct EnrolledBrief {
    /// Base URL of the state server.
    pub server: String,
    /// Server-issued device id.
    pub device_id: uuid::Uuid,
    /// The facility's code.
    pub facility_code: String,
    /// Enrolled over plain `http://` on purpose.
    pub insecure_http: bool,
}

/// See [`AdminStatus`].
pub fn admin_status(kiosk: &Kiosk) -> Result<AdminStatus> {
    let unreadable = |e: swagat_sync_client::StoreError| {
        CoreError::Corrupt(format!("cannot read the sync state: {e}"))
    };
    let store = kiosk.sync_store()?;
    let counts = store.counts().map_err(unreadable)?;
    let enrolled = store
        .load_credentials()
        .map_err(unreadable)?
        .map(|c| EnrolledBrief {
            server: c.server_url,
            device_id: c.device_id,
            facility_code: c.facility_code,
            insecure_http: c.insecure_http,
        });
    let h = kiosk.home_summary()?;
    Ok(AdminStatus {
        kiosk: kiosk.status()?,
        counts,
        enrolled,
        registrations_today: h.registrations_today,
        abha_linked_today: h.abha_linked_today,
        scan_share_today: h.scan_share_today,
        recovery_escrow: view(&store, None).ok().map(|v| v.recovery_escrow),
    })
}

/// The dead-letter list: records the server refused, with its reason, newest first.
pub fn dead_letters(kiosk: &Kiosk) -> Result<Vec<swagat_sync_client::DeadLetter>> {
    let mut list = kiosk
        .sync_store()?
        .dead_letters()
        .map_err(|e| CoreError::Corrupt(format!("cannot read the dead-letter list: {e}")))?;
    list.sort_by_key(|d| std::cmp::Reverse(d.seq));
    Ok(list)
}

/// The operator's message for a failed enrollment or sync, in both languages.
pub fn error_message(e: &SyncError) -> CoreError {
    let (en, hi) = match e {
        SyncError::NotEnrolled => (
            "this kiosk is not enrolled with a state server".to_owned(),
            "यह कियोस्क राज्य सर्वर से नहीं जुड़ा है".to_owned(),
        ),
        SyncError::Offline(_) => (
            format!("{e}; check the network and the server address"),
            "सर्वर तक नहीं पहुँच पाए; नेटवर्क और सर्वर का पता जाँचें".to_owned(),
        ),
        SyncError::InvalidEnrollmentCode => (
            "the enrollment code is wrong or was already used; ask the district administrator for a new one".to_owned(),
            "नामांकन कोड गलत है या पहले ही उपयोग हो चुका है; ज़िला प्रशासक से नया कोड लें".to_owned(),
        ),
        SyncError::Revoked => (
            e.to_string(),
            "सर्वर प्रशासक ने इस उपकरण को हटा दिया है".to_owned(),
        ),
        SyncError::DeviceCloned => (
            e.to_string(),
            "यह कियोस्क किसी दूसरे कियोस्क की प्रति है (डिस्क कॉपी); नए नामांकन कोड से इसका दोबारा नामांकन करें".to_owned(),
        ),
        SyncError::EnrollmentCodeExpired => (
            e.to_string(),
            "नामांकन कोड की अवधि समाप्त हो गई है; प्रशासक से नया कोड लें".to_owned(),
        ),
        SyncError::Unauthorized => (
            e.to_string(),
            "सर्वर ने इस उपकरण की पहचान अस्वीकार की; दोबारा नामांकन करें".to_owned(),
        ),
        SyncError::InsecureUrl(_) => (
            e.to_string(),
            "सर्वर का पता https:// से शुरू होना चाहिए; बिना एन्क्रिप्शन (http://) के डेटा नहीं भेजा जाएगा (केवल भरोसेमंद नेटवर्क पर --insecure-http दें)".to_owned(),
        ),
        SyncError::Certificate(_) => (
            e.to_string(),
            "सर्वर का प्रमाणपत्र विश्वसनीय नहीं है; पता जाँचें या सर्वर का CA प्रमाणपत्र दें".to_owned(),
        ),
        SyncError::Config(_) => (
            e.to_string(),
            "सर्वर का पता या प्रमाणपत्र सही नहीं है".to_owned(),
        ),
        _ => (
            e.to_string(),
            "सर्वर से संपर्क विफल; रिकॉर्ड सुरक्षित हैं और बाद में भेजे जाएँगे".to_owned(),
        ),
    };
    CoreError::Sync {
        msg: crate::error::Msg::new(en, hi),
        problem: SyncProblem::from(e.kind()),
    }
}

/// The engine's defaults for `kiosk`, with what its heartbeat reports: `app_version` (the
/// caller's: the desktop shell's or the admin CLI's) and the folder holding the kiosk's
/// database, whose disk's free space the state dashboard shows.
pub fn engine_config(kiosk: &Kiosk, app_version: &str) -> EngineConfig {
    EngineConfig {
        app_version: app_version.to_owned(),
        data_dir: kiosk.store().path().and_then(|p| p.parent()).map(|p| {
            if p.as_os_str().is_empty() {
                std::path::PathBuf::from(".")
            } else {
                p.to_path_buf()
            }
        }),
        ..EngineConfig::default()
    }
}

/// This machine's host name, sent at enrollment so the server's device list is readable.
pub fn device_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "swagat-kiosk".to_owned())
}

/// How often the app's loop syncs when nothing local happened (pulls online requests, masters).
pub const APP_POLL_INTERVAL: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_enrollment_reaches_the_ui_with_its_problem_typed() {
        let report = crate::ErrorReport::from(&error_message(&SyncError::Revoked));
        assert_eq!(
            report.problem,
            Some(crate::Problem::Sync(SyncProblem::Revoked))
        );
        assert_eq!(
            serde_json::to_value(&report).unwrap()["problem"],
            serde_json::json!({"area": "sync", "code": "revoked"})
        );
        assert!(report.hi.contains("हटा"), "{}", report.hi);
    }

    #[test]
    fn every_engine_error_carries_its_problem_typed() {
        let cases = [
            (SyncError::NotEnrolled, SyncProblem::NotEnrolled),
            (
                SyncError::Offline("connection refused".into()),
                SyncProblem::Offline,
            ),
            (SyncError::Transport("reset".into()), SyncProblem::Transport),
            (SyncError::Revoked, SyncProblem::Revoked),
            (SyncError::Unauthorized, SyncProblem::Unauthorized),
            (SyncError::DeviceCloned, SyncProblem::Cloned),
            (
                SyncError::Server {
                    status: 503,
                    code: None,
                    message: "busy".into(),
                },
                SyncProblem::Server,
            ),
            (SyncError::Store("disk full".into()), SyncProblem::Store),
            (
                SyncError::Timeout(
                    Duration::from_secs(600),
                    Box::new(SyncError::Offline("no route".into())),
                ),
                SyncProblem::Offline,
            ),
            (SyncError::Config("bad url".into()), SyncProblem::Other),
            (
                SyncError::Certificate("unknown issuer".into()),
                SyncProblem::Certificate,
            ),
        ];
        for (e, want) in cases {
            assert_eq!(SyncProblem::from(e.kind()), want, "{e}");
        }
    }

    #[test]
    fn a_kiosk_that_is_not_enrolled_is_local_only_without_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let k = Kiosk::open(&dir.path().join("swagat.db")).unwrap();
        let store = k.sync_store().unwrap();
        let status = SyncStatus {
            last_error: Some(SyncError::NotEnrolled.to_string()),
            last_error_kind: Some(SyncErrorKind::NotEnrolled),
            ..SyncStatus::default()
        };
        let v = view(&store, Some(&status)).unwrap();
        assert!(!v.enrolled);
        assert_eq!(v.problem, Some(SyncProblem::NotEnrolled));
        assert_eq!(v.detail, None, "not enrolled is no error to explain");
    }
}
