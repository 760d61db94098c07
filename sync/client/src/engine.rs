//! The sync engine: pushes the outbox in batches, pulls facility changes, retries with
//! capped exponential backoff and jitter, and always resumes from the server's acknowledgement.
//!
//! Correctness does not depend on anything the engine remembers: before pushing it asks the
//! server which sequence it has durably processed (`/v1/push/state`) and sends from there, and
//! the server ingests idempotently. So a crash, a lost answer or a restarted server can at worst
//! cause a batch to be sent twice, never lost or applied twice.
//!
//! The one thing the server cannot know is that the kiosk itself went back in time (its disk
//! restored from a backup, or copied): then the kiosk's new records reuse sequence numbers the
//! server already holds with other content. The engine detects it — the server acknowledged more
//! than the kiosk recorded and its content hashes for that range (`/v1/push/digests`) differ from
//! the outbox, or a push answers `sequence_conflict` — and then renumbers its unsent records
//! after the server's sequence, takes a new install id (so a second live copy is refused as
//! `device_cloned`), and pulls back its own records the backup lacked (PROTOCOL.md §12).

use crate::http::ServerClient;
use crate::store::{Credentials, DeadLetter, KioskStore, OutboxEntry, StoreError};
use crate::store::{PendingEnrollment, RestoreRequest};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use swagat_sync_protocol::{
    content_hash, EnrollRequest, Envelope, ErrorCode, PushRequest, Rejection, MAX_DIGEST_RANGE,
};
use tokio::sync::{watch, Mutex, Notify};
use tracing::{debug, info, warn};
use uuid::Uuid;

/// Why a sync (or enrollment) did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// The kiosk has no credential yet (`swagat-admin enroll` first).
    #[error("this kiosk is not enrolled")]
    NotEnrolled,
    /// The server could not be reached (no route, refused, DNS…).
    #[error("server unreachable: {0}")]
    Offline(String),
    /// The connection failed mid-request (reset, timeout, truncated answer).
    #[error("transport error: {0}")]
    Transport(String),
    /// The server answered with an error.
    #[error("server error {status}: {message}")]
    Server {
        /// HTTP status.
        status: u16,
        /// Protocol error code, when the body had one.
        code: Option<ErrorCode>,
        /// Server's message.
        message: String,
    },
    /// The server's answer could not be decoded.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The batch did not continue the server's acknowledged sequence.
    #[error("sequence gap: server acknowledged {acked_seq}")]
    SequenceGap {
        /// Server's acknowledged sequence.
        acked_seq: u64,
    },
    /// The device has been revoked; sync stops until re-enrollment.
    #[error("this device has been revoked by the server administrator")]
    Revoked,
    /// The device credential was refused.
    #[error("the server refused this device's credential")]
    Unauthorized,
    /// The enrollment code is unknown or already used.
    #[error("enrollment code unknown or already used")]
    InvalidEnrollmentCode,
    /// The enrollment code has expired.
    #[error("the enrollment code has expired; ask the administrator for a new one")]
    EnrollmentCodeExpired,
    /// The batch reused acknowledged sequences with other content (restore or copied disk).
    #[error("sequence conflict: server acknowledged {acked_seq}")]
    SequenceConflict {
        /// Server's acknowledged sequence.
        acked_seq: u64,
    },
    /// Another copy of this kiosk now speaks for the device: this copy must re-enroll.
    #[error("this kiosk is a copy of another one (device cloned): re-enroll this kiosk with a new enrollment code")]
    DeviceCloned,
    /// The server asked to slow down (`429`); retried after `retry_after`.
    #[error("server busy (too many requests), retry after {retry_after:?}: {message}")]
    TooManyRequests {
        /// The server's `Retry-After`.
        retry_after: Duration,
        /// Server's message.
        message: String,
    },
    /// The kiosk store failed.
    #[error("{0}")]
    Store(String),
    /// Bad configuration (URL, TLS).
    #[error("configuration: {0}")]
    Config(String),
    /// An `http://` server URL that is not this machine (loopback), without `--insecure-http`:
    /// the device secret and patient data would cross the network unencrypted.
    #[error("refusing to sync with {0} over unencrypted http://; use the server's https:// address (or, on a trusted network only, enroll with --insecure-http)")]
    InsecureUrl(String),
    /// The server's TLS certificate was not trusted (wrong server, or its CA was not given).
    #[error("the server's TLS certificate is not trusted ({0}); check the URL, or give the server's CA certificate with --ca-cert")]
    Certificate(String),
    /// The server acknowledged nothing new for a batch it accepted.
    #[error("server made no progress on the outbox")]
    NoProgress,
    /// `until_idle` gave up.
    #[error("gave up after {0:?} without reaching idle: {1}")]
    Timeout(Duration, Box<SyncError>),
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> Self {
        SyncError::Store(e.to_string())
    }
}

impl SyncError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            SyncError::Offline(_)
            | SyncError::Transport(_)
            | SyncError::Protocol(_)
            | SyncError::SequenceGap { .. }
            | SyncError::SequenceConflict { .. }
            | SyncError::TooManyRequests { .. }
            | SyncError::NoProgress => true,
            SyncError::Server { status, code, .. } => {
                *status >= 500
                    || *status == 429
                    || *status == 408
                    || code.is_some_and(|c| c.is_retryable())
            }
            _ => false,
        }
    }

    /// What kind of failure this is: a stable code the kiosk's status strip, its heartbeat and
    /// the CLI carry as is (never parsed back out of the message). `until_idle`'s timeout reports
    /// the kind of the error it wraps.
    pub fn kind(&self) -> SyncErrorKind {
        use SyncErrorKind as K;
        match self {
            SyncError::NotEnrolled => K::NotEnrolled,
            SyncError::Offline(_) => K::Offline,
            SyncError::Transport(_) => K::Transport,
            SyncError::Server { .. } | SyncError::TooManyRequests { .. } => K::Server,
            SyncError::Protocol(_) | SyncError::SequenceGap { .. } | SyncError::NoProgress => {
                K::Protocol
            }
            SyncError::SequenceConflict { .. } => K::SequenceConflict,
            SyncError::Revoked => K::Revoked,
            SyncError::Unauthorized => K::Unauthorized,
            SyncError::InvalidEnrollmentCode | SyncError::EnrollmentCodeExpired => {
                K::EnrollmentCode
            }
            SyncError::DeviceCloned => K::Cloned,
            SyncError::Store(_) => K::Store,
            SyncError::Config(_) => K::Config,
            SyncError::InsecureUrl(_) => K::Insecure,
            SyncError::Certificate(_) => K::Certificate,
            SyncError::Timeout(_, inner) => inner.kind(),
        }
    }

    /// Whether the error means "no connectivity" (as opposed to a failing server).
    pub fn is_offline(&self) -> bool {
        matches!(self, SyncError::Offline(_))
    }
}

/// The kind of a [`SyncError`], as a stable snake_case code (`offline`, `revoked`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncErrorKind {
    /// No credential yet: the kiosk works locally only.
    NotEnrolled,
    /// The server could not be reached.
    Offline,
    /// The connection broke mid-request.
    Transport,
    /// The server answered with an error (or asked to slow down).
    Server,
    /// The server's answer or acknowledgement made no sense.
    Protocol,
    /// The batch reused acknowledged sequences with other content.
    SequenceConflict,
    /// The device was revoked.
    Revoked,
    /// The device credential was refused.
    Unauthorized,
    /// The enrollment code is unknown, used or expired.
    EnrollmentCode,
    /// Another copy of this kiosk speaks for the device.
    Cloned,
    /// The kiosk's own database failed.
    Store,
    /// Bad configuration (URL, TLS setup).
    Config,
    /// An `http://` server on another machine without `--insecure-http`.
    Insecure,
    /// The server's TLS certificate is not trusted.
    Certificate,
}

impl SyncErrorKind {
    /// The code (`"offline"`), as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotEnrolled => "not_enrolled",
            Self::Offline => "offline",
            Self::Transport => "transport",
            Self::Server => "server",
            Self::Protocol => "protocol",
            Self::SequenceConflict => "sequence_conflict",
            Self::Revoked => "revoked",
            Self::Unauthorized => "unauthorized",
            Self::EnrollmentCode => "enrollment_code",
            Self::Cloned => "cloned",
            Self::Store => "store",
            Self::Config => "config",
            Self::Insecure => "insecure",
            Self::Certificate => "certificate",
        }
    }
}

/// Tuning of the engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Envelopes per push (server maximum: 5000).
    pub batch_size: usize,
    /// Payload bytes per push (uncompressed): a batch stops growing past this, so a few large
    /// records cannot make a body the server refuses. At least one envelope is always sent.
    pub max_batch_bytes: usize,
    /// Extra trusted root certificates (PEM) for `https://` servers with a private CA; the
    /// public web roots are always trusted.
    pub extra_root_certs_pem: Vec<Vec<u8>>,
    /// Records per pull page.
    pub pull_limit: u32,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout.
    pub request_timeout: Duration,
    /// First backoff delay.
    pub backoff_base: Duration,
    /// Backoff cap.
    pub backoff_cap: Duration,
    /// While offline, how often to probe `/healthz` so sync resumes as soon as the link returns.
    pub probe_interval: Duration,
    /// `until_idle` gives up after this long.
    pub idle_deadline: Duration,
    /// Background loop: sync at least this often even without local writes.
    pub poll_interval: Duration,
    /// Device name sent at enrollment.
    pub device_name: String,
    /// Allow an `http://` server URL that is not loopback (`swagat-admin enroll
    /// --insecure-http`; remembered in the credential). Off by default: https only.
    pub allow_insecure_http: bool,
    /// The version the heartbeat reports: the app's (the shell passes its own) or the admin
    /// CLI's. Empty: the sync client's own version.
    pub app_version: String,
    /// The folder whose disk's free space the heartbeat reports (the kiosk's data folder).
    /// `None`: the working directory.
    pub data_dir: Option<std::path::PathBuf>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            batch_size: 1000,
            max_batch_bytes: 8 * 1024 * 1024,
            extra_root_certs_pem: Vec::new(),
            pull_limit: 1000,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(60),
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(60),
            probe_interval: Duration::from_secs(2),
            idle_deadline: Duration::from_secs(600),
            poll_interval: Duration::from_secs(60),
            device_name: String::new(),
            allow_insecure_http: false,
            app_version: String::new(),
            data_dir: None,
        }
    }
}

/// Result of `sync_once` / `until_idle` (printed by `swagat-admin sync`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    /// Outbox entries acknowledged by the server during this call.
    pub pushed: u64,
    /// Records pulled and applied during this call.
    pub pulled: u64,
    /// Outbox entries still waiting afterwards.
    pub pending: u64,
    /// Dead-lettered records in total.
    pub dead_letters: u64,
    /// Restores from backup (or disk copies) detected during this call.
    #[serde(default)]
    pub restored: u64,
}

/// Live status for the UI's status strip.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    /// Whether the last contact with the server succeeded.
    pub online: bool,
    /// Whether a sync is in progress.
    pub syncing: bool,
    /// Records waiting in the outbox.
    pub pending: u64,
    /// Dead-lettered records.
    pub dead_letters: u64,
    /// Unix ms of the last fully successful sync.
    pub last_sync_at_ms: Option<i64>,
    /// Last error's technical text, for display (English; no personal data).
    pub last_error: Option<String>,
    /// Last error's kind: what the UI translates and the heartbeat reports.
    pub last_error_kind: Option<SyncErrorKind>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Full-jitter capped exponential backoff: a random delay in `[0, min(cap, base·2^attempt)]`
/// (at least 10 ms).
pub fn backoff_delay(cfg: &EngineConfig, attempt: u32) -> Duration {
    let exp = cfg
        .backoff_base
        .saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX));
    let ceiling = exp.min(cfg.backoff_cap).as_millis().max(10) as u64;
    Duration::from_millis(rand::rng().random_range(10..=ceiling.max(10)))
}

async fn blocking<S: KioskStore, T: Send + 'static>(
    store: &Arc<S>,
    f: impl FnOnce(&S) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, SyncError> {
    let s = store.clone();
    tokio::task::spawn_blocking(move || f(&s))
        .await
        .map_err(|e| SyncError::Store(format!("store task failed: {e}")))?
        .map_err(SyncError::from)
}

/// The code as the server hashes it: letters and digits, upper case.
fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A new device secret chosen by the kiosk: 32 random bytes, hex.
fn new_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Enrolls this kiosk with a one-time code and saves the credential in `store` (protocol
/// enrollment v2, PROTOCOL.md §4).
///
/// The kiosk first makes its secret and install id and persists them (`pending_enrollment`), so
/// when the answer is lost on a bad link, running the same enrollment again (same server, same
/// code) presents the same secret and gets the same device back. An already enrolled kiosk
/// re-enrolls: it names its previous device and proves it with that device's credential, and
/// the server continues the old device's sequence (nothing acknowledged is sent again).
pub async fn enroll<S: KioskStore>(
    store: Arc<S>,
    server_url: &str,
    code: &str,
    config: &EngineConfig,
) -> Result<Credentials, SyncError> {
    let server_url = server_url.trim().trim_end_matches('/').to_string();
    let norm = normalize_code(code);
    // The scheme is checked before anything is sent (https only, unless --insecure-http).
    ServerClient::new(&server_url, config)?;
    let insecure_http = crate::http::is_insecure_remote(&server_url);
    let ca_cert_pem = (!config.extra_root_certs_pem.is_empty()).then(|| {
        config
            .extra_root_certs_pem
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    });
    let previous = blocking(&store, |s| s.load_credentials())
        .await?
        .filter(|c| c.server_url == server_url);
    let pending = match blocking(&store, |s| s.load_pending_enrollment()).await? {
        Some(p) if p.server_url == server_url && p.code == norm => p,
        _ => {
            let p = PendingEnrollment {
                server_url: server_url.clone(),
                code: norm,
                client_secret: new_secret(),
                install_id: Uuid::now_v7(),
            };
            let saved = p.clone();
            blocking(&store, move |s| s.save_pending_enrollment(Some(&saved))).await?;
            p
        }
    };
    let mut client = ServerClient::new(&server_url, config)?;
    let mut previous_acked = None;
    if let Some(prev) = &previous {
        // Proof that this kiosk is the previous device (valid even if it was revoked), and the
        // install it was (a copied disk must not retire the device the other copy uses).
        client = client.with_device(prev.device_id, &prev.secret)?;
        if let Some(install) = prev.install_id {
            client = client.with_install(install);
        }
        previous_acked = Some(blocking(&store, |s| s.counts()).await?.acked_seq);
    }
    let resp = client
        .enroll(&EnrollRequest {
            code: code.trim().to_string(),
            device_name: config.device_name.clone(),
            client_secret: Some(pending.client_secret.clone()),
            install_id: Some(pending.install_id),
            previous_device_id: previous.as_ref().map(|c| c.device_id),
            previous_acked_seq: previous_acked,
        })
        .await?;
    let creds = Credentials {
        server_url,
        device_id: resp.device_id,
        facility_id: resp.facility_id,
        facility_code: resp.facility_code,
        facility_name: resp.facility_name,
        secret: resp.secret,
        ca_cert_pem,
        install_id: Some(pending.install_id),
        aadhaar_key: resp.aadhaar_key,
        aadhaar_key_id: resp.aadhaar_key_id,
        slip_link_key: resp.slip_link_key,
        insecure_http,
        // A new device: its recovery key is escrowed afresh at its first heartbeat.
        escrow_public_key: None,
        escrowed_key_check: None,
    };
    let saved = creds.clone();
    blocking(&store, move |s| {
        s.save_credentials(&saved)?;
        s.save_pending_enrollment(None)
    })
    .await?;
    info!(
        device = %creds.device_id,
        facility = %creds.facility_id,
        replaces = ?previous.map(|c| c.device_id),
        "enrolled"
    );
    Ok(creds)
}

fn to_envelope(c: &Credentials, e: OutboxEntry) -> Envelope {
    Envelope {
        id: e.record_id,
        kind: e.kind,
        facility: c.facility_id,
        device: c.device_id,
        seq: e.seq,
        hlc: e.hlc,
        schema: e.schema,
        payload: e.payload,
    }
}

fn letter(r: &Rejection) -> DeadLetter {
    DeadLetter {
        seq: r.seq,
        record_id: r.id,
        code: r.code,
        reason: r.reason.clone(),
    }
}

/// The kiosk's sync engine over a [`KioskStore`].
pub struct SyncEngine<S: KioskStore> {
    store: Arc<S>,
    config: EngineConfig,
    client: Mutex<Option<(Credentials, ServerClient)>>,
    round: Mutex<()>,
    status: watch::Sender<SyncStatus>,
    wake: Notify,
}

impl<S: KioskStore> SyncEngine<S> {
    /// An engine over `store`. Nothing happens until a sync method or [`SyncEngine::run`].
    pub fn new(store: Arc<S>, config: EngineConfig) -> Self {
        let (status, _) = watch::channel(SyncStatus::default());
        SyncEngine {
            store,
            config,
            client: Mutex::new(None),
            round: Mutex::new(()),
            status,
            wake: Notify::new(),
        }
    }

    /// Subscribes to live status (for the UI's status strip).
    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.subscribe()
    }

    /// Asks the background loop to sync now (call after a local write or when the network
    /// comes back).
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// The store.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    async fn server(&self) -> Result<(Credentials, ServerClient), SyncError> {
        let mut creds = blocking(&self.store, |s| s.load_credentials())
            .await?
            .ok_or(SyncError::NotEnrolled)?;
        if creds.install_id.is_none() {
            // Enrolled before install ids existed: this installation takes one now.
            creds.install_id = Some(Uuid::now_v7());
            let saved = creds.clone();
            blocking(&self.store, move |s| s.save_credentials(&saved)).await?;
        }
        let mut guard = self.client.lock().await;
        if let Some((c, client)) = guard.as_ref() {
            if *c == creds {
                return Ok((c.clone(), client.clone()));
            }
        }
        let mut config = self.config.clone();
        if let Some(pem) = &creds.ca_cert_pem {
            config.extra_root_certs_pem.push(pem.as_bytes().to_vec());
        }
        config.allow_insecure_http |= creds.insecure_http;
        let mut client = ServerClient::new(&creds.server_url, &config)?
            .with_device(creds.device_id, &creds.secret)?;
        if let Some(install) = creds.install_id {
            client = client.with_install(install);
        }
        *guard = Some((creds.clone(), client.clone()));
        Ok((creds, client))
    }

    /// The transport in use (for benchmarks' byte counters).
    pub async fn transport(&self) -> Result<ServerClient, SyncError> {
        Ok(self.server().await?.1)
    }

    async fn dead_letter_all(&self, rejected: &[Rejection]) -> Result<(), SyncError> {
        if rejected.is_empty() {
            return Ok(());
        }
        warn!(
            count = rejected.len(),
            "server rejected records; dead-lettered"
        );
        let letters: Vec<DeadLetter> = rejected.iter().map(letter).collect();
        blocking(&self.store, move |s| {
            letters.iter().try_for_each(|l| s.dead_letter(l))
        })
        .await
    }

    /// Whether the kiosk was restored from a backup (or copied): the server acknowledged
    /// `server_acked`, more than the kiosk's recorded `local_acked`, and either more than the
    /// kiosk ever wrote or with other content than its outbox for the overlapping range. On
    /// `Some`, the outbox sequences the server holds with the same content (kept as they are).
    async fn restore_evidence(
        &self,
        client: &ServerClient,
        local_acked: u64,
        last_seq: u64,
        server_acked: u64,
    ) -> Result<Option<Vec<u64>>, SyncError> {
        let mut restored = server_acked > last_seq;
        let mut keep = Vec::new();
        let hi = server_acked.min(last_seq);
        let mut from = local_acked + 1;
        while from <= hi {
            let to = hi.min(from + MAX_DIGEST_RANGE - 1);
            let digests = match client.digests(from, to).await {
                Ok(d) => d.digests,
                // A server from before content hashes: only the numbers can tell.
                Err(SyncError::Server { status: 404, .. }) => break,
                Err(e) => return Err(e),
            };
            let server: std::collections::HashMap<u64, Option<String>> =
                digests.into_iter().map(|d| (d.seq, d.hash)).collect();
            let n = (to - from + 1) as usize;
            let after = from - 1;
            let local = blocking(&self.store, move |s| s.pending(after, n)).await?;
            for e in local.iter().filter(|e| e.seq <= to) {
                let mine = content_hash(e.record_id, &e.kind, e.hlc, e.schema, e.payload.get());
                match server.get(&e.seq) {
                    Some(Some(h)) if *h != mine => restored = true,
                    // Same content, or unknown to the server (kept before it stored hashes).
                    _ => keep.push(e.seq),
                }
            }
            from = to + 1;
        }
        Ok(restored.then_some(keep))
    }

    /// One round: push everything pending, then pull until the server has nothing more.
    /// Progress made before an error is kept in `report`.
    async fn round(&self, report: &mut SyncReport) -> Result<(), SyncError> {
        let _one_at_a_time = self.round.lock().await;
        let mut restarts = 0;
        'push: loop {
            let (creds, client) = self.server().await?;
            // Push, resuming from what the server says it has.
            let counts = blocking(&self.store, |s| s.counts()).await?;
            let local_acked = counts.acked_seq;
            let state = client.push_state(local_acked).await?;
            let mut acked = state.acked_seq;
            if acked > local_acked {
                if let Some(keep) = self
                    .restore_evidence(&client, local_acked, counts.last_seq, acked)
                    .await?
                {
                    restarts += 1;
                    if restarts > 3 {
                        return Err(SyncError::NoProgress);
                    }
                    let request = RestoreRequest {
                        server_acked_seq: acked,
                        keep,
                        install_id: Uuid::now_v7(),
                        at_ms: now_ms(),
                    };
                    let event =
                        blocking(&self.store, move |s| s.recover_from_restore(&request)).await?;
                    warn!(
                        local_acked = event.local_acked_seq,
                        server_acked = event.server_acked_seq,
                        renumbered = event.renumbered,
                        "this kiosk was restored from a backup (or copied): unsent records renumbered, own records will be pulled back"
                    );
                    report.restored += 1;
                    // The server's rejections of the records this kiosk no longer remembers.
                    self.dead_letter_all(&state.rejected).await?;
                    continue 'push;
                }
            }
            self.dead_letter_all(&state.rejected).await?;
            blocking(&self.store, move |s| s.record_ack(acked)).await?;
            if acked > local_acked {
                report.pushed += acked - local_acked;
            }
            let mut gaps = 0;
            loop {
                let batch_size = self.config.batch_size;
                let mut entries =
                    blocking(&self.store, move |s| s.pending(acked, batch_size)).await?;
                if entries.is_empty() {
                    break 'push;
                }
                let mut bytes = 0usize;
                let keep = entries
                    .iter()
                    .position(|e| {
                        bytes += e.payload.get().len();
                        bytes > self.config.max_batch_bytes
                    })
                    .unwrap_or(entries.len())
                    .max(1);
                entries.truncate(keep);
                let first = entries[0].seq;
                let last = entries.iter().map(|e| e.seq).max().unwrap_or(first);
                let envelopes: Vec<Envelope> = entries
                    .into_iter()
                    .map(|e| to_envelope(&creds, e))
                    .collect();
                debug!(first, last, "pushing batch");
                let resp = match client.push(&PushRequest { envelopes }).await {
                    Ok(r) => r,
                    Err(SyncError::SequenceGap { acked_seq }) if gaps < 3 => {
                        gaps += 1;
                        warn!(
                            acked_seq,
                            "server reports a sequence gap; resuming from its ack"
                        );
                        acked = acked_seq;
                        continue;
                    }
                    Err(SyncError::SequenceConflict { acked_seq }) if restarts < 3 => {
                        restarts += 1;
                        warn!(
                            acked_seq,
                            "server holds other content for these sequences; checking for a restore"
                        );
                        continue 'push;
                    }
                    Err(e) => return Err(e),
                };
                self.dead_letter_all(&resp.rejected).await?;
                if resp.acked_seq <= acked {
                    return Err(SyncError::NoProgress);
                }
                report.pushed += resp.acked_seq - acked;
                acked = resp.acked_seq;
                blocking(&self.store, move |s| s.record_ack(acked)).await?;
                self.publish(true, None).await;
            }
        }

        // Pull (after a restore: a recovery pull from the start, own records included, so the
        // records the backup lacked come back through the same pull hook).
        let (_, client) = self.server().await?;
        let recovering = blocking(&self.store, |s| s.counts()).await?.recovering;
        let mut cursor = blocking(&self.store, |s| s.pull_cursor()).await?;
        loop {
            let page = if recovering {
                client.pull_with_own(cursor, self.config.pull_limit).await?
            } else {
                client.pull(cursor, self.config.pull_limit).await?
            };
            let n = page.records.len() as u64;
            if n > 0 || page.cursor != cursor {
                let next = page.cursor;
                let records = page.records;
                blocking(&self.store, move |s| s.apply_pulled(&records, next)).await?;
                report.pulled += n;
                cursor = next;
            }
            if !page.more || n == 0 {
                break;
            }
        }
        if recovering {
            blocking(&self.store, |s| s.finish_recovery_pull()).await?;
            info!("recovery pull after restore finished");
        }
        blocking(&self.store, |s| s.record_sync_success(now_ms())).await?;
        let last_error = self.status.borrow().last_error_kind; // issue 12: kiosk health
        crate::heartbeat::send_quietly(&client, &self.store, &self.config, last_error).await;
        Ok(())
    }

    async fn finish_report(&self, report: &mut SyncReport) -> Result<(), SyncError> {
        let counts = blocking(&self.store, |s| s.counts()).await?;
        report.pending = counts.pending;
        report.dead_letters = counts.dead_letters;
        Ok(())
    }

    async fn publish(&self, online: bool, error: Option<&SyncError>) {
        let counts = blocking(&self.store, |s| s.counts()).await.ok();
        self.status.send_modify(|st| {
            st.online = online;
            if let Some(c) = &counts {
                st.pending = c.pending;
                st.dead_letters = c.dead_letters;
                st.last_sync_at_ms = c.last_sync_at_ms;
            }
            st.last_error = error.map(|e| e.to_string());
            st.last_error_kind = error.map(SyncError::kind);
        });
    }

    /// One attempt: push all pending records, then pull; no retries.
    pub async fn sync_once(&self) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        self.status.send_modify(|s| s.syncing = true);
        let res = self.round(&mut report).await;
        self.status.send_modify(|s| s.syncing = false);
        match res {
            Ok(()) => {
                self.publish(true, None).await;
                self.finish_report(&mut report).await?;
                Ok(report)
            }
            Err(e) => {
                self.publish(!e.is_offline(), Some(&e)).await;
                Err(e)
            }
        }
    }

    /// Syncs until nothing is pending and the pull is drained, retrying retryable failures
    /// with capped exponential backoff and jitter; gives up after `idle_deadline`.
    pub async fn until_idle(&self) -> Result<SyncReport, SyncError> {
        let start = Instant::now();
        let mut report = SyncReport::default();
        let mut attempt: u32 = 0;
        loop {
            self.status.send_modify(|s| s.syncing = true);
            let res = self.round(&mut report).await;
            self.status.send_modify(|s| s.syncing = false);
            match res {
                Ok(()) => {
                    self.publish(true, None).await;
                    self.finish_report(&mut report).await?;
                    if report.pending == 0 {
                        return Ok(report);
                    }
                    attempt = 0;
                }
                Err(e) if e.is_retryable() => {
                    self.publish(!e.is_offline(), Some(&e)).await;
                    if start.elapsed() >= self.config.idle_deadline {
                        return Err(SyncError::Timeout(self.config.idle_deadline, Box::new(e)));
                    }
                    debug!(attempt, error = %e, "sync failed; backing off");
                    self.wait_before_retry(&e, attempt).await;
                    attempt = attempt.saturating_add(1);
                }
                Err(e) => {
                    self.publish(!e.is_offline(), Some(&e)).await;
                    return Err(e);
                }
            }
        }
    }

    /// Sleeps the backoff delay; while offline, probes the server and returns as soon as it is
    /// reachable again (or when [`SyncEngine::notify`] is called).
    async fn wait_before_retry(&self, e: &SyncError, attempt: u32) {
        let mut delay = backoff_delay(&self.config, attempt);
        if let SyncError::TooManyRequests { retry_after, .. } = e {
            // The server said when: never sooner (on any 429).
            delay = delay.max(*retry_after);
        }
        if !e.is_offline() {
            tokio::select! {
                _ = tokio::time::sleep(delay) => {},
                _ = self.wake.notified() => {},
            }
            return;
        }
        let deadline = tokio::time::Instant::now() + delay;
        let client = match self.server().await {
            Ok((_, c)) => c,
            Err(_) => {
                tokio::time::sleep_until(deadline).await;
                return;
            }
        };
        loop {
            let step = self.config.probe_interval.min(delay);
            tokio::select! {
                _ = tokio::time::sleep(step) => {},
                _ = self.wake.notified() => return,
            }
            if tokio::time::Instant::now() >= deadline || client.healthy().await {
                return;
            }
        }
    }

    /// Background loop: sync until idle, then wait for [`SyncEngine::notify`] or the poll
    /// interval; stops when `shutdown` resolves. Fatal errors (revoked, unauthorized) are
    /// reported in status and the loop keeps waiting for a notify (e.g. after re-enrollment).
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        // Each kind of stop is logged once, not at every poll: a kiosk that is not enrolled is
        // simply local only, and a revoked one stays revoked until re-enrolled.
        let mut reported: Option<SyncErrorKind> = None;
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                res = self.until_idle() => {
                    match res {
                        Ok(_) => reported = None,
                        Err(e) if reported == Some(e.kind()) => {
                            debug!(error = %e, "sync still stopped");
                        }
                        Err(e) => {
                            if e.kind() == SyncErrorKind::NotEnrolled {
                                info!("not enrolled with a state server: working locally only");
                            } else {
                                warn!(error = %e, "sync stopped");
                            }
                            reported = Some(e.kind());
                        }
                    }
                }
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.wake.notified() => {},
                _ = tokio::time::sleep(self.config.poll_interval) => {},
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_and_jittered() {
        let cfg = EngineConfig {
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_secs(2),
            ..Default::default()
        };
        for attempt in 0..40 {
            let d = backoff_delay(&cfg, attempt);
            assert!(d <= Duration::from_secs(2), "{d:?}");
            assert!(d >= Duration::from_millis(10));
        }
        assert!(backoff_delay(&cfg, 0) <= Duration::from_millis(100));
    }

    #[test]
    fn retry_classification() {
        assert!(SyncError::Offline("x".into()).is_retryable());
        assert!(SyncError::Server {
            status: 503,
            code: None,
            message: String::new()
        }
        .is_retryable());
        assert!(!SyncError::Revoked.is_retryable());
        assert!(!SyncError::Server {
            status: 400,
            code: Some(ErrorCode::BadRequest),
            message: String::new()
        }
        .is_retryable());
    }
}
