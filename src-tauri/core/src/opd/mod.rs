//! OPD registration at the counter: patients, visits, tokens, UHIDs and search.
//!
//! The flow: what the counter knows ([`patients::PatientInput`], typed or pre-filled from a QR
//! code) → validation (full Aadhaar reduced to last 4 + keyed hash at once) → the returning patient
//! found by ABHA, Aadhaar hash or UHID, or a new patient with an offline UHID → a visit with a token
//! that no other kiosk of the facility can issue → all in one transaction with its audit entries.
//! Later, a record is corrected ([`edit`], its history kept) or two records of one person are
//! merged by an administrator ([`merge`]).

pub mod edit;
pub mod merge;
pub mod names;
pub mod patients;
pub mod register;
pub mod secrets;
pub mod uhid;
pub mod visits;

pub use edit::{EditedPatient, PatientPatch, PatientVersion};
pub use merge::MergeOutcome;
pub use patients::{Patient, PatientAddress, PatientInput, QueryKind};
pub use register::{RegisterRequest, Registration};
pub use visits::Visit;

#[cfg(test)]
mod counter_tests;
#[cfg(test)]
mod edit_merge_tests;
