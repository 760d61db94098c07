//! State server: receives kiosk records, serves facility masters; SQLite or PostgreSQL.
//!
//! The library holds everything but argument parsing, so the end-to-end tests and benchmarks
//! run the very same router in-process ([`serve`]) and the binary stays a thin CLI.
#![recursion_limit = "256"]

pub mod api;
pub mod dashboard;
pub mod kiosk_health;
pub mod openapi;
pub mod portal;
pub mod portal_api;
pub mod projections;
pub mod secrets;
pub mod slip_page;
pub mod store;
pub mod tls;
pub mod users;

pub use api::router;
pub use store::{DbStore, Store, StoreError};
pub use tls::{serve_tls, tls_config};

use std::future::Future;
use std::sync::Arc;

/// Serves the sync API on `listener` until `shutdown` resolves, then finishes in-flight
/// requests (graceful shutdown) and returns.
pub async fn serve<S: Store>(
    store: Arc<S>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(store).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
