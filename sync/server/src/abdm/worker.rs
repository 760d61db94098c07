//! The on-share sender: a task started by `serve` that sends the answers of the queue table.
//!
//! Each callback queues its answer already claimed (a lease) in the transaction that stores the
//! share and hands it here at once ([`super::Abdm::hand_off`]), so an answer leaves as soon as
//! the share is stored: no poll to wait for and no batch to finish first (a batch waiting for
//! its slowest send, then marking each sent in its own transaction, was what made the
//! latency's tail long). Sends run concurrently (at most [`MAX_IN_FLIGHT`]); delivered ones are
//! marked sent together, one transaction per burst. A failed send is rescheduled with
//! exponential backoff. The queue is also polled, so answers queued before a restart, whose
//! lease lapsed (the process died mid-send) or waiting out a backoff while the gateway was down
//! go out when it can reach the gateway again.

use super::store::{backoff, OnShareJob, HANDOFF_LEASE};
use super::Abdm;
use crate::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tracing::{debug, warn};

/// Answers claimed per poll.
const BATCH: u32 = 32;
/// How often the queue is looked at for due answers (retries, leases lapsed, a restart).
const POLL: Duration = Duration::from_millis(500);
/// Sends in flight at once.
pub const MAX_IN_FLIGHT: usize = 64;
/// Delivered answers marked sent per transaction, at most.
const MARK_BATCH: usize = 256;

async fn send<S: Store>(
    store: Arc<S>,
    abdm: Arc<Abdm>,
    job: OnShareJob,
    sent: mpsc::UnboundedSender<i64>,
) {
    match abdm.gateway.on_share(&job.hip_id, &job.body).await {
        Ok(()) => {
            debug!(job = job.id, attempts = job.attempts, "on-share delivered");
            if sent.send(job.id).is_err() {
                warn!(job = job.id, "cannot mark on-share sent");
            }
        }
        Err(err) => {
            let wait = backoff(job.attempts);
            warn!(job = job.id, attempts = job.attempts, retry_in_ms = wait.as_millis() as u64, error = %err, "on-share failed");
            if let Err(e) = store.on_share_failed(job.id, wait, err.to_string()).await {
                warn!(job = job.id, error = %e, "cannot reschedule on-share");
            }
        }
    }
}

/// Marks delivered answers sent, a burst per transaction, until every sender is gone.
async fn mark_sent<S: Store>(store: Arc<S>, mut rx: mpsc::UnboundedReceiver<i64>) {
    let mut ids = Vec::with_capacity(MARK_BATCH);
    while rx.recv_many(&mut ids, MARK_BATCH).await > 0 {
        let n = ids.len();
        if let Err(e) = store.on_shares_sent(std::mem::take(&mut ids)).await {
            // They stay unsent and go out again once their lease lapses (at least once).
            warn!(answers = n, error = %e, "cannot mark on-shares sent");
        }
    }
}

/// Sends on-share answers (handed off by the callback, or due in the queue) until `stop`
/// turns true; then waits for the sends in flight.
pub async fn run<S: Store>(store: Arc<S>, abdm: Arc<Abdm>, mut stop: watch::Receiver<bool>) {
    let mut handoff = abdm.take_handoff();
    let (sent_tx, sent_rx) = mpsc::unbounded_channel();
    let marker = tokio::spawn(mark_sent(store.clone(), sent_rx));
    let mut in_flight = JoinSet::new();
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut look = true;
    loop {
        if *stop.borrow() {
            break;
        }
        if look && in_flight.len() < MAX_IN_FLIGHT {
            look = false;
            let room = (MAX_IN_FLIGHT - in_flight.len()).min(BATCH as usize) as u32;
            match store.claim_on_shares(room, HANDOFF_LEASE).await {
                Ok(jobs) => {
                    look = jobs.len() == room as usize;
                    for job in jobs {
                        in_flight.spawn(send(store.clone(), abdm.clone(), job, sent_tx.clone()));
                    }
                }
                Err(e) => warn!(error = %e, "cannot read the on-share queue"),
            }
        }
        tokio::select! {
            job = async { handoff.as_mut()?.recv().await }, if handoff.is_some() => match job {
                Some(job) => {
                    in_flight.spawn(send(store.clone(), abdm.clone(), job, sent_tx.clone()));
                }
                None => handoff = None,
            },
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            _ = abdm.wake.notified() => look = true,
            _ = poll.tick() => look = true,
            changed = stop.changed() => if changed.is_err() { break },
        }
    }
    while in_flight.join_next().await.is_some() {}
    drop(sent_tx);
    let _ = marker.await;
}
