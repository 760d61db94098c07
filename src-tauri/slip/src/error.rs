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

/// Sending a slip to a printer failed.
#[derive(Debug, Error)]
pub enum PrintError {
    /// The CUPS client programs (`lp`, `lpstat`) are not installed.
    #[error(
        "Printing system (CUPS) is not installed; ask the technician to install it / \
         प्रिंटिंग सिस्टम (CUPS) स्थापित नहीं है; तकनीशियन से स्थापित करवाएँ"
    )]
    CupsNotInstalled,
    /// The CUPS scheduler is not running.
    #[error(
        "Printing service (CUPS) is not running; restart the kiosk or ask the technician / \
         प्रिंटिंग सेवा (CUPS) चालू नहीं है; कियोस्क पुनः चालू करें या तकनीशियन को बुलाएँ"
    )]
    CupsNotRunning,
    /// No printer queue of that name exists.
    #[error(
        "Printer \"{0}\" not found; check the printer setting / \
         प्रिंटर \"{0}\" नहीं मिला; प्रिंटर की सेटिंग जाँचें"
    )]
    PrinterNotFound(String),
    /// The printer queue exists but refused the job (disabled, rejecting jobs, …).
    #[error(
        "Printer \"{printer}\" refused the slip: {detail} / \
         प्रिंटर \"{printer}\" ने पर्ची स्वीकार नहीं की; प्रिंटर चालू और कागज़ लगा है, जाँचें"
    )]
    Rejected {
        /// The queue name.
        printer: String,
        /// What CUPS said (never contains slip contents).
        detail: String,
    },
    /// A printer device file (e.g. `/dev/usb/lp0`) could not be opened or written.
    #[error(
        "Printer device {path} is not available ({source}); check the cable and power / \
         प्रिंटर डिवाइस {path} उपलब्ध नहीं है; केबल और बिजली जाँचें"
    )]
    Device {
        /// The device path.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A network printer (raw TCP, usually port 9100) could not be reached or written.
    #[error(
        "Network printer {addr} is not reachable ({source}); check the network and power / \
         नेटवर्क प्रिंटर {addr} से संपर्क नहीं हो सका; नेटवर्क और बिजली जाँचें"
    )]
    Network {
        /// The `host:port` address.
        addr: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The printer target setting could not be understood.
    #[error("Printer setting \"{0}\" is not valid / प्रिंटर सेटिंग \"{0}\" मान्य नहीं है")]
    InvalidTarget(String),
    /// Running a CUPS command failed for another reason.
    #[error("Printing failed: {0} / प्रिंटिंग विफल रही")]
    Command(String),
}
