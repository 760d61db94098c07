//! Server limits: what one client (or a thousand hostile ones) may cost the state server.
//!
//! A state server is reachable from every kiosk of a state, so it must survive clients that
//! are slow, broken or hostile without going offline for the others. The limits, all flags of
//! `swagat-server serve` (see [`Limits`]), are enforced in three places:
//!
//! * **connections** ([`crate::listen`]): a total and a per-address cap (extra connections are
//!   closed at once, so file descriptors never run out), a header-read timeout that also bounds
//!   idle keep-alive connections (hyper's timer), a TLS handshake timeout;
//! * **requests** ([`crate::api::router_with`]): a whole-request timeout, a concurrency limit
//!   that sheds load with `503` + `Retry-After` instead of queueing, small body caps before
//!   authentication (`/v1/enroll`, the portal API) and the larger one after it;
//! * **callers** ([`Guards`]): per-device and per-portal request rates (GCRA, `governor`) and a
//!   per-device storage quota, answered `429` + `Retry-After`.
//!
//! Bodies are decoded ([`decode_body`]) on the blocking pool with a cap on the decoded size
//! and on the zstd window, so a decompression bomb costs neither an async worker nor memory.

use axum::body::Bytes;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use serde::de::DeserializeOwned;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use swagat_sync_protocol::WireError;
use uuid::Uuid;

/// The limits of `swagat-server serve`, each a flag with a default fit for a state server.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct Limits {
    /// Seconds a client may take to send a request's headers (and a TLS handshake); an idle
    /// keep-alive connection is closed after the same time. A kiosk on 2G sends its headers in
    /// well under a second.
    #[arg(long, default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Seconds one request (its body, the work and the answer) may take; `408` after that.
    #[arg(long, default_value_t = 60)]
    pub request_timeout_secs: u64,
    /// Most open connections in all; more are closed at once (keep it well under the open-file
    /// limit, `ulimit -n`).
    #[arg(long, default_value_t = 768)]
    pub max_connections: usize,
    /// Most open connections from one IP address.
    #[arg(long, default_value_t = 128)]
    pub max_connections_per_ip: usize,
    /// Most requests being worked on at once; more are answered `503` with `Retry-After`.
    #[arg(long, default_value_t = 128)]
    pub max_in_flight: usize,
    /// Largest body (KiB, as sent and decoded) before authentication: `/v1/enroll` and the
    /// portal API.
    #[arg(long, default_value_t = 64)]
    pub preauth_body_kib: usize,
    /// Largest compressed push body (MiB) of an authenticated device (decoded: at most 64 MiB).
    #[arg(long, default_value_t = 16)]
    pub max_body_mib: usize,
    /// Most payload bytes (MiB) in one pull page, besides the record count limit (at least one
    /// record is always sent).
    #[arg(long, default_value_t = 4)]
    pub pull_page_mib: usize,
    /// Storage quota per device (MiB of record payloads); pushes past it are answered `429`.
    #[arg(long, default_value_t = 1024)]
    pub device_quota_mib: u64,
    /// Sustained `/v1` requests per minute allowed per device (push, pull, push state).
    #[arg(long, default_value_t = 1200)]
    pub device_requests_per_minute: u32,
    /// Requests a device may make in a burst above its sustained rate.
    #[arg(long, default_value_t = 200)]
    pub device_burst: u32,
    /// Sustained portal API requests per minute allowed per portal token.
    #[arg(long, default_value_t = 120)]
    pub portal_requests_per_minute: u32,
    /// Requests a portal may make in a burst above its sustained rate.
    #[arg(long, default_value_t = 30)]
    pub portal_burst: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout_secs: 10,
            request_timeout_secs: 60,
            max_connections: 768,
            max_connections_per_ip: 128,
            max_in_flight: 128,
            preauth_body_kib: 64,
            max_body_mib: 16,
            pull_page_mib: 4,
            device_quota_mib: 1024,
            device_requests_per_minute: 1200,
            device_burst: 200,
            portal_requests_per_minute: 120,
            portal_burst: 30,
        }
    }
}

impl Limits {
    /// Header-read, idle and TLS-handshake timeout.
    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_secs.max(1))
    }
    /// Whole-request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.max(1))
    }
    /// Body cap before authentication, in bytes.
    pub fn preauth_body(&self) -> usize {
        self.preauth_body_kib.max(1) * 1024
    }
    /// Compressed body cap after authentication, in bytes.
    pub fn max_body(&self) -> usize {
        self.max_body_mib.max(1) * 1024 * 1024
    }
    /// Payload bytes per pull page.
    pub fn pull_page_bytes(&self) -> usize {
        self.pull_page_mib.max(1) * 1024 * 1024
    }
    /// Storage quota per device, in bytes.
    pub fn device_quota_bytes(&self) -> u64 {
        self.device_quota_mib.saturating_mul(1024 * 1024)
    }
}

/// Shared per-caller state of the limits: the rate limiters, beside the limits themselves.
/// One per server process (each of several servers on one database limits on its own).
pub struct Guards {
    /// The configured limits.
    pub limits: Limits,
    devices: DefaultKeyedRateLimiter<Uuid>,
    portals: DefaultKeyedRateLimiter<Uuid>,
    clock: DefaultClock,
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    let nz = |v: u32| NonZeroU32::new(v.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(nz(per_minute)).allow_burst(nz(burst))
}

/// Keys kept by a rate limiter before idle ones are forgotten.
const PRUNE_AT: usize = 50_000;

impl Guards {
    /// Guards for `limits`.
    pub fn new(limits: Limits) -> Arc<Guards> {
        Arc::new(Guards {
            devices: DefaultKeyedRateLimiter::keyed(quota(
                limits.device_requests_per_minute,
                limits.device_burst,
            )),
            portals: DefaultKeyedRateLimiter::keyed(quota(
                limits.portal_requests_per_minute,
                limits.portal_burst,
            )),
            clock: DefaultClock::default(),
            limits,
        })
    }

    fn check(&self, limiter: &DefaultKeyedRateLimiter<Uuid>, key: Uuid) -> Result<(), Duration> {
        if limiter.len() > PRUNE_AT {
            limiter.retain_recent();
        }
        limiter
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Counts one request of `device`; `Err(wait)` when it is over its rate.
    pub fn device_request(&self, device: Uuid) -> Result<(), Duration> {
        self.check(&self.devices, device)
    }

    /// Counts one request of `portal`; `Err(wait)` when it is over its rate.
    pub fn portal_request(&self, portal: Uuid) -> Result<(), Duration> {
        self.check(&self.portals, portal)
    }
}

/// `Retry-After` seconds for a wait (at least 1).
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// Why a body could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// It decodes to more than the cap (`413`).
    #[error("the body is larger than {0} bytes once decoded")]
    TooLarge(u64),
    /// It is not zstd JSON of the expected shape (`400`).
    #[error("invalid body: {0}")]
    Invalid(String),
}

/// Decodes a wire body (zstd JSON or plain JSON) of at most `max_decoded` bytes on the blocking
/// pool, so neither decompression nor parsing holds an async worker.
pub async fn decode_body<T: DeserializeOwned + Send + 'static>(
    body: Bytes,
    max_decoded: u64,
) -> Result<T, BodyError> {
    let decoded = tokio::task::spawn_blocking(move || {
        swagat_sync_protocol::decode_limited::<T>(&body, max_decoded)
    })
    .await
    .map_err(|e| BodyError::Invalid(format!("decoder task failed: {e}")))?;
    decoded.map_err(|e| match e {
        WireError::TooLarge => BodyError::TooLarge(max_decoded),
        other => BodyError::Invalid(other.to_string()),
    })
}

/// Milliseconds since the Unix epoch by the server's clock.
pub fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        limits: Limits,
    }

    #[test]
    fn defaults_of_the_flags_and_of_default_agree() {
        let cli = Cli::try_parse_from(["x"]).unwrap();
        assert_eq!(cli.limits, Limits::default());
        let cli = Cli::try_parse_from(["x", "--max-connections", "10"]).unwrap();
        assert_eq!(cli.limits.max_connections, 10);
    }

    #[test]
    fn a_device_over_its_rate_is_told_how_long_to_wait() {
        let g = Guards::new(Limits {
            device_requests_per_minute: 60,
            device_burst: 3,
            ..Limits::default()
        });
        let d = Uuid::now_v7();
        for _ in 0..3 {
            g.device_request(d).unwrap();
        }
        let wait = g.device_request(d).unwrap_err();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert_eq!(retry_after_secs(wait), 1);
        // Another device is not affected.
        g.device_request(Uuid::now_v7()).unwrap();
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
