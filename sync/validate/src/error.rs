//! Why a typed, scanned or received number or code is not acceptable, in English (`Display`) and
//! Hindi ([`NumberError::message_hi`]): the kiosk shows both, the server answers with the English.

/// Why a number, date or code typed or scanned is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NumberError {
    /// Not exactly 12 digits.
    #[error("An Aadhaar number has 12 digits.")]
    AadhaarLength,
    /// Starts with 0 or 1.
    #[error("An Aadhaar number cannot start with 0 or 1.")]
    AadhaarFirstDigit,
    /// Verhoeff check digit mismatch.
    #[error("This Aadhaar number is not valid (check digit mismatch); please re-check it.")]
    AadhaarChecksum,
    /// Not exactly 14 digits.
    #[error("An ABHA number has 14 digits.")]
    AbhaNumberLength,
    /// The user part of an ABHA address breaks the rules.
    #[error(
        "An ABHA address looks like name@abdm: at least 4 letters, digits, '.' or '_', not \
         starting with a digit or '.', not ending with '.'."
    )]
    AbhaAddressInvalid,
    /// The ABHA address lacks a known suffix.
    #[error("An ABHA address ends with @abdm (or @ndhm, @sbx).")]
    AbhaAddressSuffix,
    /// Not an Indian mobile number.
    #[error("A mobile number has 10 digits and starts with 6, 7, 8 or 9.")]
    Mobile,
    /// Not a PIN code.
    #[error("A PIN code has 6 digits and does not start with 0.")]
    Pincode,
    /// A date in none of the accepted formats.
    #[error("Date not understood: use DD-MM-YYYY, YYYY-MM-DD or the year of birth.")]
    Date,
    /// A date that does not exist or is not a plausible birth date.
    #[error("That date of birth is not possible.")]
    DateOutOfRange,
    /// An unknown gender code.
    #[error("Gender not understood: use M, F, T or O.")]
    Gender,
    /// Not a facility code a kiosk can use.
    #[error("A facility code is 2 to 8 letters or digits, e.g. UPHC07.")]
    FacilityCode,
    /// Not an HFR facility id.
    #[error("An HFR facility id is IN followed by 10 digits, e.g. IN2810014366.")]
    HfrId,
    /// Not a scan-and-share counter id.
    #[error("A counter id is 1 to 20 letters or digits, e.g. OPD1.")]
    CounterId,
}

impl NumberError {
    /// The same message in Hindi.
    pub fn message_hi(&self) -> &'static str {
        match self {
            Self::AadhaarLength => "आधार संख्या में 12 अंक होते हैं।",
            Self::AadhaarFirstDigit => "आधार संख्या 0 या 1 से शुरू नहीं होती।",
            Self::AadhaarChecksum => {
                "यह आधार संख्या मान्य नहीं है (जाँच अंक मेल नहीं खाता); कृपया दोबारा जाँचें।"
            }
            Self::AbhaNumberLength => "आभा संख्या में 14 अंक होते हैं।",
            Self::AbhaAddressInvalid => {
                "आभा पता name@abdm जैसा होता है: कम से कम 4 अक्षर, अंक, '.' या '_'; \
                 अंक या '.' से शुरू नहीं और '.' पर खत्म नहीं।"
            }
            Self::AbhaAddressSuffix => "आभा पता @abdm (या @ndhm, @sbx) पर खत्म होता है।",
            Self::Mobile => "मोबाइल नंबर में 10 अंक होते हैं और यह 6, 7, 8 या 9 से शुरू होता है।",
            Self::Pincode => "पिन कोड में 6 अंक होते हैं और यह 0 से शुरू नहीं होता।",
            Self::Date => "तारीख समझ नहीं आई: DD-MM-YYYY, YYYY-MM-DD या जन्म वर्ष लिखें।",
            Self::DateOutOfRange => "यह जन्म तिथि संभव नहीं है।",
            Self::Gender => "लिंग समझ नहीं आया: M, F, T या O लिखें।",
            Self::FacilityCode => "सुविधा कोड 2 से 8 अक्षर या अंक होता है, जैसे UPHC07।",
            Self::HfrId => "HFR सुविधा आईडी IN के बाद 10 अंक होती है, जैसे IN2810014366।",
            Self::CounterId => "काउंटर आईडी 1 से 20 अक्षर या अंक होती है, जैसे OPD1।",
        }
    }
}
