//! Error types of the crate, each with a short English message (`Display`) and a Hindi one
//! (`message_hi()`), because the kiosk shows errors in the patient's or operator's language.
//! Messages never contain personal data, so they are safe to log.

use std::path::PathBuf;

/// Why a scan could not be decoded into a [`crate::Document`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Nothing but whitespace was scanned.
    #[error("The scan is empty. Please scan the QR code again.")]
    Empty,
    /// The input is longer than any QR code can hold.
    #[error(
        "The scanned text is too long to be an Aadhaar or ABHA QR code (over {max} characters)."
    )]
    TooLong {
        /// The limit that was exceeded, in characters.
        max: usize,
    },
    /// The text matches none of the known QR kinds.
    #[error(
        "QR code not recognised: expected an Aadhaar Secure QR (a long number), an old Aadhaar \
         XML QR (<PrintLetterBarcodeData .../>) or an ABHA QR (JSON text)."
    )]
    NotRecognised,
    /// The facility's own scan-and-share QR (a URL) was scanned instead of the patient's QR.
    #[error(
        "This is a facility's ABHA scan-and-share QR, not a patient's. Scan the QR on the \
         patient's Aadhaar or ABHA card."
    )]
    FacilityQr,
    /// The Secure QR number does not unpack (not gzip data, or cut short).
    #[error(
        "The Aadhaar Secure QR could not be unpacked; it may be damaged or only partly scanned. \
         Please scan again."
    )]
    SecureQrNotCompressed,
    /// The Secure QR unpacks to more than the size cap (a decompression bomb or garbage).
    #[error("The Aadhaar Secure QR unpacks to more data than any real card holds ({max} bytes).")]
    SecureQrTooLarge {
        /// The cap on the unpacked size, in bytes.
        max: usize,
    },
    /// Fields, photo or signature are missing from the unpacked Secure QR.
    #[error(
        "The Aadhaar Secure QR is incomplete (details or signature missing). Please scan again."
    )]
    SecureQrTruncated,
    /// The email/mobile indicator of the Secure QR is not 0–3.
    #[error("The Aadhaar Secure QR has an unknown email/mobile indicator.")]
    SecureQrBadIndicator,
    /// The XML QR is not well-formed XML even after repair attempts.
    #[error("The Aadhaar XML QR could not be read; it may be damaged or only partly scanned.")]
    XmlMalformed,
    /// The XML QR has neither a name nor an Aadhaar number.
    #[error("The Aadhaar XML QR has neither a name nor an Aadhaar number.")]
    XmlEmpty,
    /// The ABHA QR is not valid JSON (or not a JSON object).
    #[error("The ABHA QR could not be read (damaged JSON). Please scan again.")]
    AbhaJsonInvalid,
    /// A JSON QR without ABHA number or ABHA address.
    #[error("This JSON QR has no ABHA number or ABHA address, so it is not an ABHA QR.")]
    AbhaMissingId,
    /// An XML QR that claims to be an Aadhaar letter's but carries no Aadhaar number (`uid`).
    #[error(
        "This XML QR has no Aadhaar number (uid), so it is not an Aadhaar QR. Scan the QR on \
         the patient's Aadhaar card or letter."
    )]
    XmlMissingUid,
    /// A Secure QR whose fields are not where the format puts them (shifted, missing or extra
    /// fields): its details cannot be trusted to be what they claim.
    #[error(
        "The Aadhaar Secure QR's details are out of place (fields missing or shifted), so it \
         cannot be read as an Aadhaar. Scan the QR on the patient's Aadhaar card."
    )]
    SecureQrFieldsOutOfPlace,
}

impl DecodeError {
    /// The same message in Hindi.
    pub fn message_hi(&self) -> String {
        match self {
            Self::Empty => "स्कैन खाली है। कृपया क्यूआर कोड फिर से स्कैन करें।".into(),
            Self::TooLong { max } => format!(
                "स्कैन किया गया पाठ आधार या आभा क्यूआर कोड होने के लिए बहुत लंबा है ({max} अक्षरों से अधिक)।"
            ),
            Self::NotRecognised => "क्यूआर कोड पहचाना नहीं गया: आधार सिक्योर क्यूआर (एक लंबी संख्या), \
                 पुराना आधार XML क्यूआर या आभा (ABHA) क्यूआर (JSON) अपेक्षित था।"
                .into(),
            Self::FacilityQr => "यह अस्पताल का आभा स्कैन-एंड-शेयर क्यूआर है, मरीज़ का नहीं। \
                 मरीज़ के आधार या आभा कार्ड का क्यूआर स्कैन करें।"
                .into(),
            Self::SecureQrNotCompressed => "आधार सिक्योर क्यूआर खोला नहीं जा सका; यह खराब हो सकता है \
                 या पूरा स्कैन नहीं हुआ। कृपया फिर से स्कैन करें।"
                .into(),
            Self::SecureQrTooLarge { max } => {
                format!("आधार सिक्योर क्यूआर में किसी असली कार्ड से ज़्यादा डेटा है ({max} बाइट से अधिक)।")
            }
            Self::SecureQrTruncated => {
                "आधार सिक्योर क्यूआर अधूरा है (जानकारी या हस्ताक्षर गायब)। कृपया फिर से स्कैन करें।".into()
            }
            Self::SecureQrBadIndicator => "आधार सिक्योर क्यूआर में ईमेल/मोबाइल सूचक अज्ञात है।".into(),
            Self::XmlMalformed => {
                "आधार XML क्यूआर पढ़ा नहीं जा सका; यह खराब हो सकता है या पूरा स्कैन नहीं हुआ।".into()
            }
            Self::XmlEmpty => "आधार XML क्यूआर में न नाम है न आधार संख्या।".into(),
            Self::AbhaJsonInvalid => {
                "आभा क्यूआर पढ़ा नहीं जा सका (खराब JSON)। कृपया फिर से स्कैन करें।".into()
            }
            Self::AbhaMissingId => {
                "इस JSON क्यूआर में आभा संख्या या आभा पता नहीं है, इसलिए यह आभा क्यूआर नहीं है।".into()
            }
            Self::XmlMissingUid => "इस XML क्यूआर में आधार संख्या (uid) नहीं है, इसलिए यह आधार क्यूआर \
                 नहीं है। मरीज़ के आधार कार्ड या पत्र का क्यूआर स्कैन करें।"
                .into(),
            Self::SecureQrFieldsOutOfPlace => "आधार सिक्योर क्यूआर की जानकारी अपनी जगह पर नहीं है \
                 (फ़ील्ड गायब या खिसके हुए), इसलिए इसे आधार के रूप में नहीं पढ़ा जा सकता। मरीज़ के आधार \
                 कार्ड का क्यूआर स्कैन करें।"
                .into(),
        }
    }

    /// A stable snake_case code for the UI and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooLong { .. } => "too_long",
            Self::NotRecognised => "not_recognised",
            Self::FacilityQr => "facility_qr",
            Self::SecureQrNotCompressed => "secure_qr_not_compressed",
            Self::SecureQrTooLarge { .. } => "secure_qr_too_large",
            Self::SecureQrTruncated => "secure_qr_truncated",
            Self::SecureQrBadIndicator => "secure_qr_bad_indicator",
            Self::XmlMalformed => "xml_malformed",
            Self::XmlEmpty => "xml_empty",
            Self::AbhaJsonInvalid => "abha_json_invalid",
            Self::AbhaMissingId => "abha_missing_id",
            Self::XmlMissingUid => "xml_missing_uid",
            Self::SecureQrFieldsOutOfPlace => "secure_qr_fields_out_of_place",
        }
    }
}

pub use swagat_validate::NumberError;

/// Why the admin certificate folder could not be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// The folder is missing or unreadable.
    #[error("The certificate folder {path} could not be read: {source}")]
    DirUnreadable {
        /// The folder given.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl TrustError {
    /// The same message in Hindi.
    pub fn message_hi(&self) -> String {
        match self {
            Self::DirUnreadable { path, .. } => {
                format!("प्रमाणपत्र फ़ोल्डर {} पढ़ा नहीं जा सका।", path.display())
            }
        }
    }
}

/// Why one file in the certificate folder was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file could not be read.
    #[error("the file could not be read")]
    Unreadable,
    /// The file is larger than any certificate.
    #[error("the file is too large to be a certificate")]
    TooLarge,
    /// No certificate or public key in PEM or DER form was found.
    #[error("no X.509 certificate or RSA public key (PEM or DER) found")]
    NoKey,
    /// A certificate or key was found but it is not an RSA key.
    #[error("the certificate's key is not an RSA key")]
    NotRsa,
}

impl KeyFileError {
    /// The same message in Hindi.
    pub fn message_hi(&self) -> &'static str {
        match self {
            Self::Unreadable => "फ़ाइल पढ़ी नहीं जा सकी",
            Self::TooLarge => "फ़ाइल किसी प्रमाणपत्र के लिए बहुत बड़ी है",
            Self::NoKey => "कोई X.509 प्रमाणपत्र या RSA पब्लिक की (PEM या DER) नहीं मिली",
            Self::NotRsa => "प्रमाणपत्र की की RSA नहीं है",
        }
    }
}
