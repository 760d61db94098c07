//! The kiosk core: everything Swagat does at the counter, as a plain Rust library.
//!
//! The desktop shell (Tauri) and `swagat-admin` are thin layers over [`Kiosk`]. This crate never
//! imports `tauri`, never touches the network, and never logs personal data; it builds and tests
//! with no display.

pub mod audit;
pub mod backup;
pub mod clock;
pub mod config;
pub mod crypt;
pub mod demo;
pub mod dialysis;
pub mod disk;
pub mod error;
pub mod inbox;
pub mod kiosk;
pub mod lgd;
pub mod logging;
pub mod opd;
pub mod outbox;
pub mod paths;
pub mod records;
pub mod reports;
pub mod scan;
pub mod session;
pub mod shares;
pub mod slip;
pub mod staff;
pub mod store;
pub mod sync_service;

pub use audit::Actor;
pub use error::{CoreError, ErrorKind, ErrorReport, Lang, Msg, Problem, Result, StorageProblem};
pub use kiosk::{AppStatus, FirstRunSetup, HomeSummary, Kiosk, KioskStatus};
pub use staff::{NewStaff, Role, StaffMember};
