//! State server: receives kiosk records, serves facility masters; SQLite or PostgreSQL.
//!
//! The library holds everything but argument parsing, so the end-to-end tests and benchmarks
//! run the very same router in-process ([`serve`]) and the binary stays a thin CLI.
#![recursion_limit = "256"]

pub mod abdm;
pub mod api;
pub mod dashboard;
pub mod escrow;
pub mod kiosk_health;
pub mod limits;
pub mod listen;
pub mod openapi;
pub mod portal;
pub mod portal_api;
pub mod projections;
pub mod secrets;
pub mod slip_page;
pub mod store;
pub mod tls;
pub mod users;

pub use api::{router, router_with};
pub use limits::Limits;
pub use store::{DbStore, Store, StoreError};
pub use tls::{serve_tls, tls_config};

use std::future::Future;
use std::sync::Arc;

/// Serves the sync API on `listener` with the default [`Limits`] until `shutdown` resolves,
/// then finishes in-flight requests (graceful shutdown) and returns.
pub async fn serve<S: Store>(
    store: Arc<S>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(store, listener, Limits::default(), shutdown, None).await
}

/// [`serve`] under `limits` (plain HTTP; see [`serve_tls`] for https), with ABDM scan-and-share:
/// with `abdm` the share callback is live and the on-share worker runs until shutdown; without
/// it the callback answers 503.
pub async fn serve_with<S: Store>(
    store: Arc<S>,
    listener: tokio::net::TcpListener,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
    abdm: Option<abdm::AbdmConfig>,
) -> std::io::Result<()> {
    let running = abdm::start(store.clone(), abdm)?;
    let result = listen::run(
        store,
        listener,
        limits,
        None,
        running.handle.clone(),
        shutdown,
    )
    .await;
    running.stop().await;
    result
}
