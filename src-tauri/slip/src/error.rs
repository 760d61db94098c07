//! Errors of slip rendering and printing.
//!
//! Printing errors are shown to reception staff, so each message is bilingual (English / Hindi)
//! and says what to do; none carries personal data (no names, no slip contents).

use thiserror::Error;

/// Rendering a slip failed.
#[derive(Debug, Clone, Error)]
pub enum SlipError {
    /// An embedded font could not be parsed (a build problem, not a user one).
    #[error("embedded font {0} could not be read / अंतर्निहित फ़ॉन्ट {0} पढ़ा नहीं जा सका")]
    Font(&'static str),
    /// The QR code could not be built (e.g. the URL is far too long).
    #[error("QR code could not be created: {0} / क्यूआर कोड नहीं बन सका")]
    Qr(String),
    /// The PDF writer failed.
    #[error("PDF could not be written: {0} / पीडीएफ़ नहीं बन सकी")]
    Pdf(String),
    /// The raster image could not be created or encoded.
    #[error("slip image could not be created: {0} / पर्ची की छवि नहीं बन सकी")]
    Raster(String),
}

/// Sending a slip to a printer failed. `Display` is the English text with the technical detail;
/// [`PrintError::hindi`] is the Hindi one and [`PrintError::problem`] the stable kind, so callers
/// never take a message apart to find either.
#[derive(Debug, Error)]
pub enum PrintError {
    /// The CUPS client programs (`lp`, `lpstat`) are not installed.
    #[error("Printing system (CUPS) is not installed; ask the technician to install it")]
    CupsNotInstalled,
    /// The CUPS scheduler is not running.
    #[error("Printing service (CUPS) is not running; restart the kiosk or ask the technician")]
    CupsNotRunning,
    /// No printer queue of that name exists.
    #[error("Printer \"{0}\" not found; check the printer setting")]
    PrinterNotFound(String),
    /// The printer queue is stopped (paused by an operator, or by CUPS after the printer failed):
    /// a job sent now would wait in the queue while the patient waits at the counter.
    #[error("Printer \"{0}\" is stopped; switch the printer on, check its paper and cable, then resume it (or ask the technician)")]
    Stopped(String),
    /// The printer queue exists but refused the job (disabled, rejecting jobs, …).
    #[error("Printer \"{printer}\" refused the slip: {detail}")]
    Rejected {
        /// The queue name.
        printer: String,
        /// What CUPS said (never contains slip contents).
        detail: String,
    },
    /// A printer device file (e.g. `/dev/usb/lp0`) could not be opened or written.
    #[error("Printer device {path} is not available ({source}); check the cable and power")]
    Device {
        /// The device path.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A network printer (raw TCP, usually port 9100) could not be reached or written.
    #[error("Network printer {addr} is not reachable ({source}); check the network and power")]
    Network {
        /// The `host:port` address.
        addr: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The printer target setting could not be understood.
    #[error("Printer setting \"{0}\" is not valid")]
    InvalidTarget(String),
    /// Running a CUPS command failed for another reason.
    #[error("Printing failed: {0}")]
    Command(String),
}

/// What kind of printing failure a [`PrintError`] is: a stable code for the UI and the audit log.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrintProblem {
    /// CUPS is not installed.
    CupsNotInstalled,
    /// CUPS is not running.
    CupsNotRunning,
    /// The chosen printer queue does not exist.
    PrinterNotFound,
    /// The printer queue is stopped.
    Stopped,
    /// The printer queue refused the job (rejecting, out of paper).
    Rejected,
    /// A USB/parallel printer device is not available.
    Device,
    /// A network printer is not reachable.
    Network,
    /// The printer setting is not valid.
    InvalidTarget,
    /// Another printing failure.
    Command,
}

impl PrintError {
    /// The kind of failure.
    pub fn problem(&self) -> PrintProblem {
        match self {
            Self::CupsNotInstalled => PrintProblem::CupsNotInstalled,
            Self::CupsNotRunning => PrintProblem::CupsNotRunning,
            Self::PrinterNotFound(_) => PrintProblem::PrinterNotFound,
            Self::Stopped(_) => PrintProblem::Stopped,
            Self::Rejected { .. } => PrintProblem::Rejected,
            Self::Device { .. } => PrintProblem::Device,
            Self::Network { .. } => PrintProblem::Network,
            Self::InvalidTarget(_) => PrintProblem::InvalidTarget,
            Self::Command(_) => PrintProblem::Command,
        }
    }

    /// The message in Hindi, saying what to do (no technical detail).
    pub fn hindi(&self) -> String {
        match self {
            Self::CupsNotInstalled => {
                "प्रिंटिंग सिस्टम (CUPS) स्थापित नहीं है; तकनीशियन से स्थापित करवाएँ".into()
            }
            Self::CupsNotRunning => {
                "प्रिंटिंग सेवा (CUPS) चालू नहीं है; कियोस्क पुनः चालू करें या तकनीशियन को बुलाएँ"
                    .into()
            }
            Self::PrinterNotFound(name) => {
                format!("प्रिंटर \"{name}\" नहीं मिला; प्रिंटर की सेटिंग जाँचें")
            }
            Self::Stopped(name) => format!(
                "प्रिंटर \"{name}\" रुका हुआ है; प्रिंटर चालू करें, कागज़ और केबल जाँचें, फिर चालू करें (या तकनीशियन को बुलाएँ)"
            ),
            Self::Rejected { printer, .. } => format!(
                "प्रिंटर \"{printer}\" ने पर्ची स्वीकार नहीं की; प्रिंटर चालू और कागज़ लगा है, जाँचें"
            ),
            Self::Device { path, .. } => {
                format!("प्रिंटर डिवाइस {path} उपलब्ध नहीं है; केबल और बिजली जाँचें")
            }
            Self::Network { addr, .. } => {
                format!("नेटवर्क प्रिंटर {addr} से संपर्क नहीं हो सका; नेटवर्क और बिजली जाँचें")
            }
            Self::InvalidTarget(t) => format!("प्रिंटर सेटिंग \"{t}\" मान्य नहीं है"),
            Self::Command(_) => "प्रिंटिंग विफल रही".into(),
        }
    }
}
