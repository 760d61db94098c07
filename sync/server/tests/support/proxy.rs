//! A fault-injecting HTTP/1.1 proxy for the tests, on loopback.
//!
//! One request per connection (it asks the upstream to close, and so the client reconnects).
//! For each request a plan picks a fault: drop before forwarding, drop after the server has
//! answered (i.e. committed) but before the kiosk gets the answer, answer 503 without
//! forwarding, forward slowly, or forward with the body cut in half.
#![allow(clippy::unwrap_used, dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Pass,
    DropBeforeForward,
    DropAfterResponse,
    Error503,
    Slow(Duration),
    Truncate,
}

pub type Plan = Arc<dyn Fn(u64, &str) -> Fault + Send + Sync>;

pub struct FaultProxy {
    pub url: String,
    pub requests: Arc<AtomicU64>,
    pub faults: Arc<AtomicU64>,
    /// When false, every request passes (used to end a test cleanly).
    pub enabled: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Applies `fault` to a pseudo-random (deterministic) `percent` of the requests after the
/// first; random rather than periodic so the fault cannot lock onto one request of a cycle.
pub fn sometimes(percent: u64, fault: Fault) -> Plan {
    Arc::new(move |i, _| {
        let h = i
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29)
            .wrapping_mul(0xBF58_476D_1CE4_E5B9);
        if i > 0 && (h >> 33) % 100 < percent {
            fault
        } else {
            Fault::Pass
        }
    })
}

impl FaultProxy {
    pub async fn start(upstream: SocketAddr, plan: Plan) -> FaultProxy {
        Self::start_on("127.0.0.1:0", upstream, plan).await
    }

    pub async fn start_on(listen: &str, upstream: SocketAddr, plan: Plan) -> FaultProxy {
        let listener = TcpListener::bind(listen).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicU64::new(0));
        let faults = Arc::new(AtomicU64::new(0));
        let enabled = Arc::new(AtomicBool::new(true));
        let (r, f, en) = (requests.clone(), faults.clone(), enabled.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    continue;
                };
                let i = r.fetch_add(1, Ordering::SeqCst);
                let (plan, f, en) = (plan.clone(), f.clone(), en.clone());
                tokio::spawn(async move {
                    let _ = handle(sock, upstream, i, plan, f, en).await;
                });
            }
        });
        FaultProxy {
            url: format!("http://{addr}"),
            requests,
            faults,
            enabled,
            task,
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn handle(
    mut client: TcpStream,
    upstream: SocketAddr,
    i: u64,
    plan: Plan,
    faults: Arc<AtomicU64>,
    enabled: Arc<AtomicBool>,
) -> std::io::Result<()> {
    // Read the request head and body.
    let mut buf = Vec::new();
    let mut tmp = [0u8; 16384];
    let head_end = loop {
        if let Some(p) = find(&buf, b"\r\n\r\n") {
            break p + 4;
        }
        let n = client.read(&mut tmp).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = client.read(&mut tmp).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    let request_line = head.lines().next().unwrap_or("").to_string();
    let fault = if enabled.load(Ordering::SeqCst) {
        plan(i, &request_line)
    } else {
        Fault::Pass
    };
    if fault != Fault::Pass {
        faults.fetch_add(1, Ordering::SeqCst);
    }
    match fault {
        Fault::DropBeforeForward => return Ok(()),
        Fault::Error503 => {
            client
                .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await?;
            return client.shutdown().await;
        }
        Fault::Slow(d) => tokio::time::sleep(d).await,
        _ => {}
    }
    // Forward with "connection: close" so the upstream answer ends at EOF.
    let mut new_head = String::new();
    for (n, line) in head.split("\r\n").enumerate() {
        if line.is_empty() {
            continue;
        }
        if n > 0 && line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        new_head.push_str(line);
        new_head.push_str("\r\n");
        if n == 0 {
            new_head.push_str("connection: close\r\n");
        }
    }
    new_head.push_str("\r\n");
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(new_head.as_bytes()).await?;
    up.write_all(&buf[head_end..head_end + len]).await?;
    let mut resp = Vec::new();
    up.read_to_end(&mut resp).await?;
    match fault {
        Fault::DropAfterResponse => Ok(()),
        Fault::Truncate => {
            let body_start = find(&resp, b"\r\n\r\n")
                .map(|p| p + 4)
                .unwrap_or(resp.len());
            let cut = body_start + (resp.len() - body_start) / 2;
            client.write_all(&resp[..cut]).await?;
            client.shutdown().await
        }
        _ => {
            client.write_all(&resp).await?;
            client.shutdown().await
        }
    }
}
