//! https for `swagat-server serve --tls-cert PEM --tls-key PEM`: rustls (ring provider, no
//! OpenSSL) in front of the same router.
//!
//! Each connection's TLS handshake runs on its own task (a slow or hostile client cannot hold up
//! the accept loop), with a time limit (the header timeout). Shutdown stops accepting, then lets
//! in-flight requests finish, as the plain-HTTP [`crate::serve`] does; both share one accept
//! loop, [`crate::listen::run`].

use crate::store::Store;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;

fn invalid(msg: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, msg)
}

/// A rustls server configuration from a PEM certificate chain and a PEM private key (PKCS#8,
/// PKCS#1 or SEC1), advertising HTTP/1.1.
pub fn tls_config(cert_pem: &Path, key_pem: &Path) -> std::io::Result<Arc<rustls::ServerConfig>> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_pem)
        .map_err(|e| {
            invalid(format!(
                "cannot read --tls-cert {}: {e}",
                cert_pem.display()
            ))
        })?
        .collect::<Result<_, _>>()
        .map_err(|e| invalid(format!("bad certificate in {}: {e}", cert_pem.display())))?;
    if certs.is_empty() {
        return Err(invalid(format!(
            "--tls-cert {} holds no PEM certificate",
            cert_pem.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key_pem)
        .map_err(|e| invalid(format!("cannot read --tls-key {}: {e}", key_pem.display())))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| invalid(format!("TLS setup: {e}")))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| invalid(format!("certificate and key do not match: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves the API over TLS on `listener` under `limits` until `shutdown` resolves, then
/// finishes in-flight requests (for up to 30 s) and returns. The accept loop, connection
/// limits and timeouts are [`crate::listen::run`]'s, shared with plain HTTP.
pub async fn serve_tls<S: Store>(
    store: Arc<S>,
    listener: tokio::net::TcpListener,
    config: Arc<rustls::ServerConfig>,
    limits: crate::Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_tls_with(store, listener, config, limits, shutdown, None).await
}

/// [`serve_tls`] with ABDM scan-and-share (see [`crate::serve_with`]).
pub async fn serve_tls_with<S: Store>(
    store: Arc<S>,
    listener: tokio::net::TcpListener,
    config: Arc<rustls::ServerConfig>,
    limits: crate::Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
    abdm: Option<crate::abdm::AbdmConfig>,
) -> std::io::Result<()> {
    // The dashboard's session cookie is marked Secure under https.
    crate::dashboard::HTTPS.store(true, std::sync::atomic::Ordering::Relaxed);
    let running = crate::abdm::start(store.clone(), abdm)?;
    let result = crate::listen::run(
        store,
        listener,
        limits,
        Some(config),
        running.handle.clone(),
        shutdown,
    )
    .await;
    running.stop().await;
    result
}
