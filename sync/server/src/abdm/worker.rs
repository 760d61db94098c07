//! The on-share sender: a task started by `serve` that drains the queue table.
//!
//! It claims due answers (a lease, so a crash mid-send only delays one), sends them in
//! parallel, marks each sent or schedules its next attempt with exponential backoff. It is
//! woken at once when the callback queues an answer and otherwise polls, so answers queued
//! before a restart or while the gateway was down go out when it can reach the gateway again.

use super::store::backoff;
use super::Abdm;
use crate::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tracing::{debug, warn};

/// How long a claimed answer is reserved for the sender that claimed it.
const LEASE: Duration = Duration::from_secs(15);
/// Answers claimed per round.
const BATCH: u32 = 32;
/// How often the queue is looked at when nothing wakes the task.
const POLL: Duration = Duration::from_millis(500);

/// Sends queued on-share answers until `stop` turns true.
pub async fn run<S: Store>(store: Arc<S>, abdm: Arc<Abdm>, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            break;
        }
        let jobs = match store.claim_on_shares(BATCH, LEASE).await {
            Ok(j) => j,
            Err(e) => {
                warn!(error = %e, "cannot read the on-share queue");
                Vec::new()
            }
        };
        let full = jobs.len() == BATCH as usize;
        let mut set = tokio::task::JoinSet::new();
        for job in jobs {
            let store = store.clone();
            let abdm = abdm.clone();
            set.spawn(async move {
                match abdm.gateway.on_share(&job.hip_id, &job.body).await {
                    Ok(()) => {
                        debug!(job = job.id, attempts = job.attempts, "on-share delivered");
                        if let Err(e) = store.on_share_sent(job.id).await {
                            warn!(job = job.id, error = %e, "cannot mark on-share sent");
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
            });
        }
        while set.join_next().await.is_some() {}
        if full {
            continue;
        }
        tokio::select! {
            _ = abdm.wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => {}
        }
    }
}
