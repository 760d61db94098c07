//! State server: receives kiosk records, serves facility masters; SQLite or PostgreSQL.
//!
//! The library holds everything but argument parsing, so the end-to-end tests and benchmarks
//! run the very same router in-process ([`serve`]) and the binary stays a thin CLI.
#![recursion_limit = "256"]

pub mod abdm;
pub mod api;
pub mod openapi;
pub mod portal;
pub mod portal_api;
pub mod secrets;
pub mod store;
pub mod tls;

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
    serve_with(store, listener, shutdown, None).await
}

/// [`serve`] with ABDM scan-and-share: with `abdm` the share callback is live and the
/// on-share worker runs until shutdown; without it the callback answers 503.
pub async fn serve_with<S: Store>(
    store: Arc<S>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    abdm: Option<abdm::AbdmConfig>,
) -> std::io::Result<()> {
    let running = abdm::start(store.clone(), abdm)?;
    let result = axum::serve(
        listener,
        api::router_with(store, running.handle.clone())
            .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
        .with_graceful_shutdown(shutdown)
        .await;
    running.stop().await;
    result
}
