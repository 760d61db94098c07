//! The crate's error type, with messages in English and Hindi.
//!
//! The kiosk core and the admin CLI map these onto their own error (validation → exit 2 / a form
//! message, not found, database), so a refused booking reads the same on screen and on the command
//! line. Messages never carry personal data: ids and codes only.

use serde::Serialize;

/// Why a booking (or one date of a recurring series) was refused. Also stored for online requests.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// Stable code: `holiday`, `non_working_day`, `unknown_shift`, `already_booked`,
    /// `not_eligible`, `no_dialysis_record`, `unknown_patient`, `invalid_request`.
    pub code: &'static str,
    /// The argument at fault (`date`, `shift`, `patient`...).
    pub field: &'static str,
    /// English explanation.
    pub en: String,
    /// Hindi explanation.
    pub hi: String,
}

impl Refusal {
    /// Builds a refusal.
    pub fn new(
        code: &'static str,
        field: &'static str,
        en: impl Into<String>,
        hi: impl Into<String>,
    ) -> Self {
        Self {
            code,
            field,
            en: en.into(),
            hi: hi.into(),
        }
    }
}

/// Errors of the dialysis module.
#[derive(Debug, thiserror::Error)]
pub enum DialysisError {
    /// An argument failed validation; the user can correct it.
    #[error("{field}: {en}")]
    Invalid {
        /// The field or argument at fault.
        field: String,
        /// English message.
        en: String,
        /// Hindi message.
        hi: String,
    },
    /// A booking was refused by a scheduling rule (holiday, no dialysis record...).
    #[error("{}: {}", .0.field, .0.en)]
    Refused(Refusal),
    /// A record was not found.
    #[error("not found: {what}")]
    NotFound {
        /// What was looked for (an id, never personal data).
        what: String,
    },
    /// SQLite failed.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// Stored data could not be decoded.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

/// Shorthand for this crate's results.
pub type Result<T, E = DialysisError> = std::result::Result<T, E>;

impl DialysisError {
    /// A validation error for `field`.
    pub fn invalid(field: impl Into<String>, en: impl Into<String>, hi: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            en: en.into(),
            hi: hi.into(),
        }
    }

    /// A missing record.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound { what: what.into() }
    }

    /// For validation and refusals: the field at fault with the English and Hindi messages, the
    /// shape callers turn into their own "invalid input" error. `None` for other errors.
    pub fn as_invalid(&self) -> Option<(&str, &str, &str)> {
        match self {
            Self::Invalid { field, en, hi } => Some((field, en, hi)),
            Self::Refused(r) => Some((r.field, &r.en, &r.hi)),
            _ => None,
        }
    }
}

impl From<Refusal> for DialysisError {
    fn from(r: Refusal) -> Self {
        Self::Refused(r)
    }
}
