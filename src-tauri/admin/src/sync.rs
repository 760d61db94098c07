//! `swagat-admin enroll | sync | status`: the kiosk's side of sync, a few lines each over
//! `swagat_core::sync_service` (the same enrollment as the app's Settings screen).
//!
//! The engine reads the outbox the core writes in every registration's transaction; the core runs
//! it on a small tokio runtime for one command. Final failures (not enrolled, revoked, refused)
//! exit 3 with the reason; an unreachable server is reported as such, and nothing is lost: the
//! records stay queued for the next sync.

use serde_json::{json, Value};
use swagat_core::sync_service;
use swagat_core::Kiosk;

use crate::output::CliError;

/// Enrolls this kiosk and stores its credential (with the extra CA certificate, if given).
/// An `http://` server on another machine is refused unless `insecure_http`.
pub fn enroll(
    kiosk: &Kiosk,
    server: &str,
    code: &str,
    ca_cert: Option<&std::path::Path>,
    insecure_http: bool,
) -> Result<Value, CliError> {
    let pem = ca_cert
        .map(|path| {
            std::fs::read(path).map_err(|e| {
                CliError::Other(format!(
                    "cannot read the CA certificate {}: {e}",
                    path.display()
                ))
            })
        })
        .transpose()?;
    // The same enrollment as the app's Settings screen: the credential, then the facility code.
    let creds = sync_service::enroll_at(
        kiosk,
        &swagat_core::Actor::Cli,
        server,
        code,
        pem,
        insecure_http,
    )
    .map_err(|e| match e.kind() {
        // A wrong address is said in both languages, as on the Settings screen.
        swagat_core::ErrorKind::Invalid => CliError::Input(format!(
            "{} / {}",
            e.message(swagat_core::Lang::En),
            e.message(swagat_core::Lang::Hi)
        )),
        _ => e.into(),
    })?;
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
    let report = sync_service::sync_once(kiosk, until_idle, env!("CARGO_PKG_VERSION"))
        .map_err(|e| CliError::Other(format!("sync failed: {e}")))?;
    serde_json::to_value(report).map_err(|e| CliError::Other(e.to_string()))
}

/// The kiosk status plus sync counts (`pending`, `dead_letters`, `last_sync_at_ms`, ...).
pub fn status(kiosk: &Kiosk) -> Result<Value, CliError> {
    serde_json::to_value(sync_service::admin_status(kiosk)?)
        .map_err(|e| CliError::Other(e.to_string()))
}
