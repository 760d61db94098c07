//! Kiosk-side sync engine: pushes the outbox and pulls facility records, resuming from server acknowledgements.
//!
//! The kiosk core owns the SQLite database and writes an outbox row in the same transaction as
//! every domain write; this crate only reads and annotates that outbox through the narrow
//! [`KioskStore`] trait, so the engine can be tested against the reference implementation in
//! [`sqlite`] (feature `sqlite`) and then run unchanged over the core's store.

pub mod engine;
pub mod heartbeat;
pub mod http;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod store;
/// The SQLite store plus test helpers (the name the tests and benches use).
#[cfg(feature = "testkit")]
pub use sqlite as testkit;

pub use engine::{
    enroll, EngineConfig, SyncEngine, SyncError, SyncErrorKind, SyncReport, SyncStatus,
};
pub use store::{
    Credentials, DeadLetter, KioskStore, OutboxEntry, PendingEnrollment, RestoreEvent,
    RestoreRequest, StoreCounts, StoreError,
};
pub use swagat_sync_protocol as protocol;
