//! The accept loop of `swagat-server serve`, plain HTTP or https, with connection limits.
//!
//! Both listeners share this one loop so they cannot drift apart: a total and a per-address
//! connection cap (a connection over either is closed as soon as it is accepted, so a flood of
//! half-open connections cannot use up the open-file limit), a TLS handshake timeout, and
//! hyper's HTTP/1 connection with a timer, so its header-read timeout closes a client that
//! never finishes its headers and an idle keep-alive connection alike (hyper restarts the timer
//! while it waits for the next request). The peer address is handed to handlers as axum's
//! `ConnectInfo<SocketAddr>`. Shutdown stops accepting, then lets in-flight requests finish.

use crate::limits::{Guards, Limits};
use crate::store::Store;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tower::Service;
use tracing::{debug, info, warn};

/// Longest in-flight requests may take to finish after shutdown is requested.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest buffer hyper keeps per connection for a request head (the minimum it allows is
/// 8 KiB); headers beyond it are refused.
const MAX_HEAD_BUF: usize = 64 * 1024;

/// Open connections, in all and per address.
struct ConnLimiter {
    total: usize,
    per_ip: usize,
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// One admitted connection; dropping it frees its place.
struct ConnPermit {
    limiter: Arc<ConnLimiter>,
    ip: IpAddr,
}

impl ConnLimiter {
    fn try_admit(self: &Arc<Self>, ip: IpAddr) -> Option<ConnPermit> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let from_ip = open.1.get(&ip).copied().unwrap_or(0);
        if open.0 >= self.total || from_ip >= self.per_ip {
            return None;
        }
        open.0 += 1;
        open.1.insert(ip, from_ip + 1);
        Some(ConnPermit {
            limiter: self.clone(),
            ip,
        })
    }
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        let mut open = self.limiter.open.lock().unwrap_or_else(|e| e.into_inner());
        open.0 = open.0.saturating_sub(1);
        if let Some(n) = open.1.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.1.remove(&self.ip);
            }
        }
    }
}

/// Serves the API on `listener` (https when `tls` is given) under `limits` until `shutdown`
/// resolves, then finishes in-flight requests (for up to 30 s) and returns.
pub async fn run<S: Store>(
    store: Arc<S>,
    listener: tokio::net::TcpListener,
    limits: Limits,
    tls: Option<Arc<rustls::ServerConfig>>,
    abdm: crate::abdm::AbdmHandle,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let guards = Guards::new(limits.clone());
    let app = crate::api::router_with(store, guards, abdm);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let conns = Arc::new(ConnLimiter {
        total: limits.max_connections.max(1),
        per_ip: limits.max_connections_per_ip.max(1),
        open: Mutex::new((0, HashMap::new())),
    });
    let header_timeout = limits.header_timeout();
    let graceful = GracefulShutdown::new();
    let mut refused: u64 = 0;
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // EMFILE and the like: back off a little rather than spin.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(permit) = conns.try_admit(peer.ip()) else {
            refused += 1;
            if refused.is_power_of_two() {
                warn!(%peer, refused, "connection limit reached; closing new connections");
            }
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let app = app.clone();
        let watcher = graceful.watcher();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let svc = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                let mut app = app.clone();
                app.call(req)
            });
            let http = {
                let mut b = hyper::server::conn::http1::Builder::new();
                b.timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .max_buf_size(MAX_HEAD_BUF);
                b
            };
            let io: Box<dyn Io> = match acceptor {
                None => Box::new(tcp),
                Some(acceptor) => {
                    match tokio::time::timeout(header_timeout, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => Box::new(tls),
                        Ok(Err(e)) => {
                            debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    }
                }
            };
            let conn = http.serve_connection(TokioIo::new(io), svc);
            if let Err(e) = watcher.watch(conn).await {
                debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    info!("stopped accepting; finishing in-flight requests");
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        warn!("in-flight requests did not finish in time");
    }
    Ok(())
}

/// A connection's byte stream: plain TCP or TLS over it.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
