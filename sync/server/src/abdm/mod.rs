//! ABDM scan-and-share: the state server is the facility's HIP endpoint.
//!
//! A patient scans the counter's QR with the ABHA app; ABDM's gateway calls
//! `POST /api/v3/hip/patient/share` here ([`api`]). The gateway's JWT is verified against its
//! JWKS ([`gateway`]), the profile is checked ([`profile`]), and the share is stored with its
//! token in one transaction that also publishes it to the facility's kiosks as a
//! server-authored `abha_share` record and queues the on-share answer ([`store`]). The answer
//! is sent by a background task from that queue table ([`worker`]), with retries and backoff,
//! so the callback answers 202 at once and nothing is lost across a restart.
//!
//! Tokens are per facility, per counter, per IST day, sequential from 1 and never repeated;
//! a gateway retry (same `REQUEST-ID`) or a repeat scan (same ABHA address at the same counter
//! within the validity window) is the same share with the same token.

pub mod api;
pub mod gateway;
pub mod profile;
pub mod store;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

/// Default validity window of a token (what the on-share's `expiry` says): 30 minutes.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(30 * 60);
/// Default consent-manager id (the sandbox).
pub const DEFAULT_CM_ID: &str = "sbx";

/// How to reach ABDM's gateway (`serve --abdm-*`).
#[derive(Debug, Clone)]
pub struct AbdmConfig {
    /// The HIECM base, e.g. `https://dev.abdm.gov.in/api/hiecm` (no trailing slash).
    pub gateway: String,
    /// Client id issued by ABDM.
    pub client_id: String,
    /// Client secret issued by ABDM (never logged).
    pub client_secret: String,
    /// `X-CM-ID` (`sbx` on the sandbox, `abdm` in production).
    pub cm_id: String,
    /// Validity window of a token: repeats within it get the same token.
    pub window: Duration,
}

impl AbdmConfig {
    /// A configuration with the default consent manager and window.
    pub fn new(gateway: &str, client_id: &str, client_secret: &str) -> AbdmConfig {
        AbdmConfig {
            gateway: gateway.trim_end_matches('/').to_string(),
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            cm_id: DEFAULT_CM_ID.to_string(),
            window: DEFAULT_WINDOW,
        }
    }
}

/// What the share route needs at run time: the gateway client and the worker's wake-up, or
/// nothing when the server runs without `--abdm-gateway` (the route then answers 503).
#[derive(Clone, Default)]
pub struct AbdmHandle(pub Option<Arc<Abdm>>);

/// A running ABDM integration.
pub struct Abdm {
    /// Gateway client (sessions, keys, on-share).
    pub gateway: gateway::Gateway,
    /// Wakes the on-share worker to look at the queue.
    pub wake: tokio::sync::Notify,
    /// Validity window of a token.
    pub window: Duration,
    /// The callback's hand-off to the sender: each call's answer, already claimed in the
    /// transaction that queued it, goes out at once (no poll, no batch to wait for).
    handoff: tokio::sync::mpsc::UnboundedSender<store::OnShareJob>,
    handoff_rx: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<store::OnShareJob>>>,
}

impl Abdm {
    /// Builds the integration from its configuration.
    pub fn new(config: AbdmConfig) -> Result<Abdm, gateway::GatewayError> {
        let window = config.window;
        let (handoff, rx) = tokio::sync::mpsc::unbounded_channel();
        Ok(Abdm {
            gateway: gateway::Gateway::new(config)?,
            wake: tokio::sync::Notify::new(),
            window,
            handoff,
            handoff_rx: std::sync::Mutex::new(Some(rx)),
        })
    }

    /// Hands a just-queued (and claimed) answer to the sender. Without a running sender it
    /// stays in the queue and goes out when its lease lapses.
    pub fn hand_off(&self, job: store::OnShareJob) {
        if self.handoff.send(job).is_err() {
            self.wake.notify_one();
        }
    }

    /// The hand-off's receiving end, for the one sender task.
    fn take_handoff(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<store::OnShareJob>> {
        self.handoff_rx.lock().ok().and_then(|mut r| r.take())
    }
}

/// The ABDM integration of a running server: the handle for the router and the worker task.
pub struct Running {
    /// What the share route uses.
    pub handle: AbdmHandle,
    worker: Option<(
        tokio::sync::watch::Sender<bool>,
        tokio::task::JoinHandle<()>,
    )>,
}

impl Running {
    /// Stops the on-share worker (queued answers stay queued for the next start).
    pub async fn stop(self) {
        if let Some((stop, task)) = self.worker {
            let _ = stop.send(true);
            let _ = task.await;
        }
    }
}

/// Starts the on-share worker for `config` (nothing without a configuration).
pub fn start<S: crate::Store>(
    store: Arc<S>,
    config: Option<AbdmConfig>,
) -> std::io::Result<Running> {
    let Some(config) = config else {
        return Ok(Running {
            handle: AbdmHandle(None),
            worker: None,
        });
    };
    let abdm = Arc::new(Abdm::new(config).map_err(std::io::Error::other)?);
    let (tx, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(worker::run(store, abdm.clone(), rx));
    Ok(Running {
        handle: AbdmHandle(Some(abdm)),
        worker: Some((tx, task)),
    })
}
