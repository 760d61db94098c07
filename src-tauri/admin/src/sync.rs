//! `swagat-admin enroll | sync | status`: the kiosk's side of sync, over the sync client engine.
//!
//! The engine reads the outbox the core writes in every registration's transaction; it runs here
//! on a small tokio runtime for one command. Final failures (not enrolled, revoked, refused) exit
//! 3 with the reason; an unreachable server is reported as such, and nothing is lost: the records
//! stay queued for the next sync.

use std::sync::Arc;

use serde_json::{json, Value};
use swagat_core::Kiosk;
use swagat_sync_client::{EngineConfig, KioskStore, SyncEngine};

use crate::output::CliError;

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(format!("cannot start the sync runtime: {e}")))
}

fn store(kiosk: &Kiosk) -> Result<Arc<swagat_sync_client::sqlite::SqliteKioskStore>, CliError> {
    Ok(Arc::new(kiosk.sync_store()?))
}

/// Enrolls this kiosk and stores its credential (with the extra CA certificate, if given).
/// An `http://` server on another machine is refused unless `insecure_http`.
pub fn enroll(
    kiosk: &Kiosk,
    server: &str,
    code: &str,
    ca_cert: Option<&std::path::Path>,
    insecure_http: bool,
) -> Result<Value, CliError> {
    // The scheme is checked before anything is read or sent.
    if let Err(e) = swagat_sync_client::http::check_url(server, insecure_http) {
        let msg = swagat_core::sync_service::error_message(&e);
        return Err(CliError::Input(format!(
            "{} / {}",
            msg.message(swagat_core::Lang::En),
            msg.message(swagat_core::Lang::Hi)
        )));
    }
    let mut config = EngineConfig {
        allow_insecure_http: insecure_http,
        ..EngineConfig::default()
    };
    if let Some(path) = ca_cert {
        let pem = std::fs::read(path).map_err(|e| {
            CliError::Other(format!(
                "cannot read the CA certificate {}: {e}",
                path.display()
            ))
        })?;
        config.extra_root_certs_pem.push(pem);
    }
    config.device_name = swagat_core::sync_service::device_name();
    // The same enrollment as the app's Settings screen: the credential, then the facility code.
    let creds = swagat_core::sync_service::enroll_kiosk(
        kiosk,
        &swagat_core::Actor::Cli,
        server,
        code,
        config,
    )?;
    Ok(json!({
        "enrolled": true,
        "server": creds.server_url,
        "device_id": creds.device_id,
        "facility_id": creds.facility_id,
        "facility_code": creds.facility_code,
        "facility_name": creds.facility_name,
        "insecure_http": creds.insecure_http,
    }))
}

/// One sync (or until nothing waits); prints `{pushed, pulled, pending, dead_letters}`.
pub fn sync(kiosk: &Kiosk, until_idle: bool) -> Result<Value, CliError> {
    // The heartbeat after the sync reports the admin CLI's version and the kiosk's free disk.
    let config = swagat_core::sync_service::engine_config(kiosk, env!("CARGO_PKG_VERSION"));
    let engine = SyncEngine::new(store(kiosk)?, config);
    let rt = runtime()?;
    let report = rt
        .block_on(async {
            if until_idle {
                engine.until_idle().await
            } else {
                engine.sync_once().await
            }
        })
        .map_err(|e| CliError::Other(format!("sync failed: {e}")))?;
    serde_json::to_value(report).map_err(|e| CliError::Other(e.to_string()))
}

/// The kiosk status plus sync counts (`pending`, `dead_letters`, `last_sync_at_ms`, ...).
pub fn status(kiosk: &Kiosk) -> Result<Value, CliError> {
    let mut v =
        serde_json::to_value(kiosk.status()?).map_err(|e| CliError::Other(e.to_string()))?;
    let store = kiosk.sync_store()?;
    let counts = store
        .counts()
        .map_err(|e| CliError::Other(format!("cannot read the sync state: {e}")))?;
    let enrolled = store
        .load_credentials()
        .map_err(|e| CliError::Other(format!("cannot read the sync state: {e}")))?
        .map(|c| json!({ "server": c.server_url, "device_id": c.device_id, "facility_code": c.facility_code, "insecure_http": c.insecure_http }));
    if let (Value::Object(m), Ok(Value::Object(c))) = (&mut v, serde_json::to_value(counts)) {
        m.extend(c);
        m.insert("enrolled".into(), enrolled.unwrap_or(Value::Null));
        // The ABHA-linked share of today's registrations, and how many came by scan and share.
        let h = kiosk.home_summary()?;
        m.insert("registrations_today".into(), json!(h.registrations_today));
        m.insert("abha_linked_today".into(), json!(h.abha_linked_today));
        m.insert("scan_share_today".into(), json!(h.scan_share_today));
        // The recovery key's escrow with the state (issue 16).
        if let Ok(view) = swagat_core::sync_service::view(&store, None) {
            m.insert("recovery_escrow".into(), json!(view.recovery_escrow));
        }
    }
    Ok(v)
}
