//! A kiosk that is not enrolled works locally only: the background loop says so once (info),
//! publishes the typed kind for the status strip, and does not warn at every poll.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use swagat_sync_client::{testkit::SqliteKioskStore, EngineConfig, SyncEngine, SyncErrorKind};
use tracing::Level;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// Counts events by level.
#[derive(Clone, Default)]
struct Levels(Arc<Mutex<Vec<Level>>>);

impl<S: tracing::Subscriber> Layer<S> for Levels {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        self.0.lock().unwrap().push(*event.metadata().level());
    }
}

#[test]
fn not_enrolled_is_said_once_and_never_as_a_warning() {
    let levels = Levels::default();
    let subscriber = tracing_subscriber::registry().with(levels.clone());
    let _guard = tracing::subscriber::set_default(subscriber);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteKioskStore::open(&dir.path().join("kiosk.db")).unwrap());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let engine = rt.block_on(async {
        SyncEngine::new(
            store,
            EngineConfig {
                poll_interval: Duration::from_millis(20),
                ..EngineConfig::default()
            },
        )
    });
    rt.block_on(async {
        engine
            .run(tokio::time::sleep(Duration::from_millis(300)))
            .await
    });
    let status = engine.status().borrow().clone();
    assert_eq!(status.last_error_kind, Some(SyncErrorKind::NotEnrolled));
    let seen = levels.0.lock().unwrap().clone();
    assert!(
        !seen.contains(&Level::WARN) && !seen.contains(&Level::ERROR),
        "not being enrolled is no warning: {seen:?}"
    );
    assert_eq!(
        seen.iter().filter(|l| **l == Level::INFO).count(),
        1,
        "said once over ~15 polls: {seen:?}"
    );
}
