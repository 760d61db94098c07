//! Patients: validated fields, storage, and finding the returning patient, one concern per
//! module — [`input`] (the data: what the counter knows, what is stored), [`validate`] (the
//! checks), [`store`] (the `patients` rows) and [`search`] (the returning patient, duplicates,
//! the counter's search). Everything is re-exported here, so callers say `patients::get`.

pub mod input;
pub mod search;
pub mod store;
pub mod validate;

pub use input::*;
pub use search::*;
pub use store::*;
pub use validate::*;
