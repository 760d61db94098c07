//! The core's one error type, with a message in the operator's language.
//!
//! Every error the kiosk shows comes from here: the UI and the admin CLI both call
//! [`CoreError::message`] and [`CoreError::kind`] (the CLI maps the kind to its exit code), so a
//! wrong PIN reads the same on screen and on the command line.

use serde::Serialize;

/// The language a message is shown in.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Hindi.
    Hi,
}

/// A message in both languages.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Msg {
    /// English text.
    pub en: String,
    /// Hindi text.
    pub hi: String,
}

impl Msg {
    /// Builds a message from its two translations.
    pub fn new(en: impl Into<String>, hi: impl Into<String>) -> Self {
        Self {
            en: en.into(),
            hi: hi.into(),
        }
    }

    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Hi => &self.hi,
        }
    }
}

/// What kind of failure an error is; decides the CLI exit code and how the UI presents it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The input was wrong; the user can correct it.
    Invalid,
    /// The thing asked for does not exist.
    NotFound,
    /// Login failed, the session expired or the role does not allow the action.
    Auth,
    /// Anything else: disk, database, bug.
    Other,
}

/// Errors of the kiosk core.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// A field failed validation.
    #[error("{field}: {}", msg.en)]
    Invalid {
        /// The field (or argument) at fault.
        field: String,
        /// What is wrong, in both languages.
        msg: Msg,
    },
    /// A record was not found.
    #[error("not found: {what}")]
    NotFound {
        /// What was looked for (never personal data).
        what: String,
    },
    /// Authentication or authorisation failed.
    #[error("{}", msg.en)]
    Auth {
        /// What went wrong, in both languages.
        msg: Msg,
    },
    /// The database file was written by a newer version of Swagat.
    #[error("the database is at schema version {found}, newer than this app supports ({supported}); install the newer Swagat")]
    SchemaTooNew {
        /// The file's `user_version`.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// Applying migrations failed.
    #[error("could not upgrade the database: {0}")]
    Migration(String),
    /// SQLite failed (disk full, corrupt file, locked...).
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// A file could not be read or written.
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    /// A device (printer, scanner) failed.
    #[error("{}", msg.en)]
    Device {
        /// What went wrong, in both languages.
        msg: Msg,
    },
    /// A printer could not be reached or refused the job; whatever was being printed was not
    /// counted. The printing error stays the source, with its kind and both texts.
    #[error("{0}")]
    Print(#[from] swagat_slip::PrintError),
    /// Stored data could not be decoded.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// Talking to the state server failed (enrollment, sync).
    #[error("{}", msg.en)]
    Sync {
        /// What went wrong, in both languages.
        msg: Msg,
        /// Its kind, as the status strip names it.
        problem: crate::sync_service::SyncProblem,
    },
    /// The database is encrypted and not unlocked yet (no staff login since start, or the CLI was
    /// given no unlock secret): nothing can be read or written until it is.
    #[error("{}", msg.en)]
    Locked {
        /// What to do, in both languages.
        msg: Msg,
    },
    /// The disk refused: full, read-only, failing, or the database file is damaged. Nothing of the
    /// action was kept (its transaction was rolled back); the message says what to do.
    #[error("{}", msg.en)]
    Storage {
        /// Which problem.
        problem: StorageProblem,
        /// What happened and what to do, in both languages.
        msg: Msg,
    },
}

/// A printing, disk or sync failure, typed: the UI branches on it (a damaged database at login
/// opens the recovery screen) and the audit log records it for failed prints.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "area", content = "code", rename_all = "snake_case")]
pub enum Problem {
    /// The printer did not take the job.
    Print(swagat_slip::PrintProblem),
    /// The disk or the database file failed.
    Storage(StorageProblem),
    /// Enrollment or a sync with the state server failed.
    Sync(crate::sync_service::SyncProblem),
}

/// What is wrong with the disk or the database file ([`CoreError::Storage`]).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageProblem {
    /// No space left (SQLITE_FULL, ENOSPC).
    DiskFull,
    /// The file or the disk is read-only (SQLITE_READONLY, EROFS).
    ReadOnly,
    /// The disk failed to read or write (SQLITE_IOERR, EIO).
    Io,
    /// The database file is damaged or not a database (SQLITE_CORRUPT, SQLITE_NOTADB).
    Corrupt,
}

impl StorageProblem {
    /// The operator's message for this problem.
    pub fn msg(self) -> Msg {
        match self {
            Self::DiskFull => Msg::new(
                "The disk is full: nothing was saved. Free some space (or ask the administrator), then try again.",
                "डिस्क भर गई है: कुछ भी सहेजा नहीं गया। कुछ जगह खाली करें (या व्यवस्थापक से कहें), फिर दोबारा प्रयास करें।",
            ),
            Self::ReadOnly => Msg::new(
                "The database cannot be written (the disk or file is read-only): nothing was saved. Ask the administrator to check the disk.",
                "डेटाबेस में लिखा नहीं जा सकता (डिस्क या फ़ाइल केवल-पढ़ने योग्य है): कुछ भी सहेजा नहीं गया। व्यवस्थापक से डिस्क जँचवाएँ।",
            ),
            Self::Io => Msg::new(
                "The disk failed to read or write: nothing was saved. Try again; if it repeats, ask the administrator to check the disk.",
                "डिस्क पढ़ने या लिखने में विफल रही: कुछ भी सहेजा नहीं गया। दोबारा प्रयास करें; बार-बार हो तो व्यवस्थापक से डिस्क जँचवाएँ।",
            ),
            Self::Corrupt => Msg::new(
                "The database file is damaged. Restore the latest verified backup (Settings or swagat-admin backup restore).",
                "डेटाबेस फ़ाइल खराब हो गई है। नवीनतम जाँचा हुआ बैकअप वापस लाएँ (सेटिंग्स या swagat-admin backup restore)।",
            ),
        }
    }

    fn of_sqlite(code: rusqlite::ErrorCode) -> Option<Self> {
        use rusqlite::ErrorCode as C;
        match code {
            C::DiskFull => Some(Self::DiskFull),
            C::ReadOnly => Some(Self::ReadOnly),
            C::SystemIoFailure => Some(Self::Io),
            C::DatabaseCorrupt | C::NotADatabase => Some(Self::Corrupt),
            _ => None,
        }
    }

    fn of_io(e: &std::io::Error) -> Option<Self> {
        match e.kind() {
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                Some(Self::DiskFull)
            }
            std::io::ErrorKind::ReadOnlyFilesystem => Some(Self::ReadOnly),
            _ => match e.raw_os_error() {
                Some(5) => Some(Self::Io), // EIO
                _ => None,
            },
        }
    }
}

impl From<swagat_dialysis::DialysisError> for CoreError {
    /// The dialysis crate's errors keep their kind: invalid input stays invalid (with both
    /// languages), a missing record stays not-found.
    fn from(e: swagat_dialysis::DialysisError) -> Self {
        use swagat_dialysis::DialysisError as D;
        match e {
            D::Database(e) => Self::Database(e),
            D::NotFound { what } => Self::NotFound { what },
            D::Corrupt(s) => Self::Corrupt(s),
            other => match other.as_invalid() {
                Some((field, en, hi)) => Self::invalid(field, en, hi),
                None => Self::Corrupt(other.to_string()),
            },
        }
    }
}

/// Shorthand for core results.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

impl CoreError {
    /// A validation error for `field`.
    pub fn invalid(field: impl Into<String>, en: impl Into<String>, hi: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            msg: Msg::new(en, hi),
        }
    }

    /// An authentication/authorisation error.
    pub fn auth(en: impl Into<String>, hi: impl Into<String>) -> Self {
        Self::Auth {
            msg: Msg::new(en, hi),
        }
    }

    /// A disk problem named for the operator.
    pub fn storage(problem: StorageProblem) -> Self {
        Self::Storage {
            problem,
            msg: problem.msg(),
        }
    }

    /// Turns a raw SQLite or file error that is really a disk problem (full, read-only, failing,
    /// damaged file) into [`CoreError::Storage`] with its bilingual message; anything else is
    /// returned unchanged. The store applies it to every result, so each use case reports a full
    /// disk the same way.
    pub fn classify(self) -> Self {
        let problem = match &self {
            Self::Database(rusqlite::Error::SqliteFailure(f, _)) => {
                StorageProblem::of_sqlite(f.code)
            }
            Self::Io(e) => StorageProblem::of_io(e),
            Self::Migration(m) if m.contains("disk is full") => Some(StorageProblem::DiskFull),
            Self::Migration(m) if m.contains("readonly") => Some(StorageProblem::ReadOnly),
            _ => None,
        };
        match problem {
            Some(p) => {
                tracing::error!(problem = ?p, "storage failure: {self}");
                Self::storage(p)
            }
            None => self,
        }
    }

    /// The disk problem behind this error, if it is one.
    pub fn storage_problem(&self) -> Option<StorageProblem> {
        match self {
            Self::Storage { problem, .. } => Some(*problem),
            _ => None,
        }
    }

    /// What printing or disk failure this is, where it is one (see [`ErrorReport::problem`]).
    pub fn problem(&self) -> Option<Problem> {
        match self {
            Self::Print(e) => Some(Problem::Print(e.problem())),
            Self::Storage { problem, .. } => Some(Problem::Storage(*problem)),
            Self::Sync { problem, .. } => Some(Problem::Sync(*problem)),
            _ => None,
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid { .. } => ErrorKind::Invalid,
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::Auth { .. } => ErrorKind::Auth,
            _ => ErrorKind::Other,
        }
    }

    /// The message to show the operator, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Self::Invalid { field, msg }, Lang::En) => format!("{field}: {}", msg.en),
            (Self::Invalid { msg, .. }, Lang::Hi) => msg.hi.clone(),
            (
                Self::Auth { msg }
                | Self::Device { msg }
                | Self::Sync { msg, .. }
                | Self::Locked { msg }
                | Self::Storage { msg, .. },
                l,
            ) => msg.get(l).to_owned(),
            (Self::Print(e), Lang::Hi) => e.hindi(),
            (Self::NotFound { .. }, Lang::Hi) => "रिकॉर्ड नहीं मिला".to_owned(),
            (Self::SchemaTooNew { .. }, Lang::Hi) => {
                "डेटाबेस इस ऐप से नए संस्करण का है; स्वागत का नया संस्करण लगाएँ".to_owned()
            }
            (Self::Database(e), Lang::Hi) if is_disk_full(e) => {
                "डिस्क भर गई है; कुछ जगह खाली करें, डेटा सुरक्षित है".to_owned()
            }
            (Self::Database(_) | Self::Io(_) | Self::Migration(_) | Self::Corrupt(_), Lang::Hi) => {
                "सिस्टम त्रुटि; डेटा सुरक्षित है, दोबारा प्रयास करें".to_owned()
            }
            (e, Lang::En) => e.to_string(),
        }
    }
}

/// A unit enum variant's serde name (`snake_case`), for problem codes.
fn is_disk_full(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull)
}

/// The shape an error takes when it crosses to the UI or the CLI: kind plus both messages.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct ErrorReport {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The field at fault, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub field: Option<String>,
    /// English message.
    pub en: String,
    /// Hindi message.
    pub hi: String,
    /// The failure's kind where it has one (`{"area": "print", "code": "printer_not_found"}`,
    /// `{"area": "storage", "code": "disk_full"}`): the UI and tests branch on it, never on the
    /// message.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub problem: Option<Problem>,
}

impl From<&CoreError> for ErrorReport {
    fn from(e: &CoreError) -> Self {
        Self {
            kind: e.kind(),
            field: match e {
                CoreError::Invalid { field, .. } => Some(field.clone()),
                _ => None,
            },
            en: e.message(Lang::En),
            hi: e.message(Lang::Hi),
            problem: e.problem(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_errors_carry_both_languages() {
        let e = CoreError::invalid(
            "kiosk_letter",
            "must be one letter A-Z",
            "एक अक्षर A-Z होना चाहिए",
        );
        assert_eq!(e.kind(), ErrorKind::Invalid);
        assert_eq!(e.message(Lang::En), "kiosk_letter: must be one letter A-Z");
        assert_eq!(e.message(Lang::Hi), "एक अक्षर A-Z होना चाहिए");
        let r = ErrorReport::from(&e);
        assert_eq!(r.field.as_deref(), Some("kiosk_letter"));
    }

    #[test]
    fn disk_problems_become_storage_errors_in_both_languages() {
        let sqlite = |code| {
            CoreError::Database(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                None,
            ))
            .classify()
        };
        for (code, problem, en, hi) in [
            (
                rusqlite::ffi::SQLITE_FULL,
                StorageProblem::DiskFull,
                "disk is full",
                "डिस्क भर गई",
            ),
            (
                rusqlite::ffi::SQLITE_READONLY,
                StorageProblem::ReadOnly,
                "read-only",
                "केवल-पढ़ने",
            ),
            (
                rusqlite::ffi::SQLITE_IOERR,
                StorageProblem::Io,
                "failed to read or write",
                "विफल",
            ),
            (
                rusqlite::ffi::SQLITE_CORRUPT,
                StorageProblem::Corrupt,
                "damaged",
                "खराब",
            ),
            (
                rusqlite::ffi::SQLITE_NOTADB,
                StorageProblem::Corrupt,
                "backup",
                "बैकअप",
            ),
        ] {
            let e = sqlite(code);
            assert_eq!(e.storage_problem(), Some(problem));
            assert!(e.message(Lang::En).contains(en), "{e}");
            assert!(e.message(Lang::Hi).contains(hi), "{e}");
        }
        let e = CoreError::Io(std::io::Error::from_raw_os_error(28)).classify();
        assert_eq!(e.storage_problem(), Some(StorageProblem::DiskFull));
        let e = CoreError::Io(std::io::Error::from_raw_os_error(30)).classify();
        assert_eq!(e.storage_problem(), Some(StorageProblem::ReadOnly));
        // Anything else stays as it was.
        let e = sqlite(rusqlite::ffi::SQLITE_CONSTRAINT);
        assert!(e.storage_problem().is_none());
        assert!(matches!(e, CoreError::Database(_)));
    }

    #[test]
    fn disk_full_is_explained_in_hindi() {
        let e = CoreError::Database(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        ));
        assert!(e.message(Lang::Hi).contains("डिस्क भर गई"));
        assert_eq!(e.kind(), ErrorKind::Other);
    }
}
