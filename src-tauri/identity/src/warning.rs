//! Non-fatal findings about a decoded QR code, shown to the operator next to the decoded
//! details (in English or Hindi). A warning never blocks registration: the operator decides.

use serde::ser::SerializeStruct;

/// Something the operator should know about a decoded QR code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Warning {
    /// The Secure QR's signature does not match its contents under a trusted UIDAI key.
    SignatureInvalid,
    /// No trusted key could check the Secure QR's signature.
    SignatureUnverified,
    /// Old XML QR codes carry no signature at all.
    XmlQrUnsigned,
    /// The ABHA number fails the Luhn check.
    AbhaNumberChecksum,
    /// The ABHA number in the QR is not 14 digits.
    AbhaNumberInvalid,
    /// The ABHA address in the QR breaks the rules.
    AbhaAddressInvalid,
    /// The Aadhaar number in the XML QR is not valid.
    AadhaarNumberInvalid,
    /// The Secure QR reference id does not start with 4 digits.
    ReferenceIdInvalid,
    /// The date of birth could not be read.
    DobInvalid,
    /// Only part of the date of birth (the year) is known.
    DobPartial,
    /// Date of birth and year of birth disagree.
    DobYobMismatch,
    /// The gender code is unknown.
    GenderUnknown,
    /// The PIN code is not valid.
    PincodeInvalid,
    /// The mobile number is not valid.
    MobileInvalid,
    /// An LGD state or district code is not a number.
    LgdCodeInvalid,
    /// The QR carries no name.
    NameMissing,
}

impl Warning {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::SignatureInvalid => "signature_invalid",
            Self::SignatureUnverified => "signature_unverified",
            Self::XmlQrUnsigned => "xml_qr_unsigned",
            Self::AbhaNumberChecksum => "abha_number_checksum",
            Self::AbhaNumberInvalid => "abha_number_invalid",
            Self::AbhaAddressInvalid => "abha_address_invalid",
            Self::AadhaarNumberInvalid => "aadhaar_number_invalid",
            Self::ReferenceIdInvalid => "reference_id_invalid",
            Self::DobInvalid => "dob_invalid",
            Self::DobPartial => "dob_partial",
            Self::DobYobMismatch => "dob_yob_mismatch",
            Self::GenderUnknown => "gender_unknown",
            Self::PincodeInvalid => "pincode_invalid",
            Self::MobileInvalid => "mobile_invalid",
            Self::LgdCodeInvalid => "lgd_code_invalid",
            Self::NameMissing => "name_missing",
        }
    }

    /// Short English message for the operator.
    pub fn message(&self) -> &'static str {
        match self {
            Self::SignatureInvalid => {
                "Signature check FAILED: this Aadhaar QR may have been altered. Verify the card \
                 by other means."
            }
            Self::SignatureUnverified => {
                "Signature not verified: no trusted UIDAI certificate matches this QR."
            }
            Self::XmlQrUnsigned => {
                "Old Aadhaar XML QR codes carry no signature; the details cannot be verified."
            }
            Self::AbhaNumberChecksum => {
                "The ABHA number fails its check digit; please re-check it with the patient."
            }
            Self::AbhaNumberInvalid => "The ABHA number in the QR is not 14 digits; ignored.",
            Self::AbhaAddressInvalid => "The ABHA address in the QR is not valid; ignored.",
            Self::AadhaarNumberInvalid => "The Aadhaar number in the QR is not valid; ignored.",
            Self::ReferenceIdInvalid => {
                "The Aadhaar reference id is malformed; the last 4 Aadhaar digits are unknown."
            }
            Self::DobInvalid => "The date of birth in the QR could not be read; ask the patient.",
            Self::DobPartial => "Only the year of birth is known.",
            Self::DobYobMismatch => "Date of birth and year of birth in the QR disagree.",
            Self::GenderUnknown => "The gender in the QR was not understood; ask the patient.",
            Self::PincodeInvalid => "The PIN code in the QR is not valid; ignored.",
            Self::MobileInvalid => "The mobile number in the QR is not valid; ignored.",
            Self::LgdCodeInvalid => {
                "A state or district code (LGD) in the QR is not a number; ignored."
            }
            Self::NameMissing => "The QR carries no name.",
        }
    }

    /// The same message in Hindi.
    pub fn message_hi(&self) -> &'static str {
        match self {
            Self::SignatureInvalid => {
                "हस्ताक्षर जाँच विफल: यह आधार क्यूआर बदला गया हो सकता है। कार्ड की जाँच किसी और तरीके से करें।"
            }
            Self::SignatureUnverified => {
                "हस्ताक्षर सत्यापित नहीं: कोई भरोसेमंद UIDAI प्रमाणपत्र इस क्यूआर से मेल नहीं खाता।"
            }
            Self::XmlQrUnsigned => {
                "पुराने आधार XML क्यूआर में हस्ताक्षर नहीं होता; इसकी जानकारी सत्यापित नहीं की जा सकती।"
            }
            Self::AbhaNumberChecksum => "आभा संख्या का जाँच अंक मेल नहीं खाता; कृपया मरीज़ से दोबारा जाँचें।",
            Self::AbhaNumberInvalid => "क्यूआर में आभा संख्या 14 अंकों की नहीं है; छोड़ दी गई।",
            Self::AbhaAddressInvalid => "क्यूआर में आभा पता मान्य नहीं है; छोड़ दिया गया।",
            Self::AadhaarNumberInvalid => "क्यूआर में आधार संख्या मान्य नहीं है; छोड़ दी गई।",
            Self::ReferenceIdInvalid => "आधार संदर्भ आईडी सही नहीं है; आधार के अंतिम 4 अंक पता नहीं।",
            Self::DobInvalid => "क्यूआर में जन्म तिथि पढ़ी नहीं जा सकी; मरीज़ से पूछें।",
            Self::DobPartial => "केवल जन्म वर्ष पता है।",
            Self::DobYobMismatch => "क्यूआर में जन्म तिथि और जन्म वर्ष मेल नहीं खाते।",
            Self::GenderUnknown => "क्यूआर में लिंग समझ नहीं आया; मरीज़ से पूछें।",
            Self::PincodeInvalid => "क्यूआर में पिन कोड मान्य नहीं है; छोड़ दिया गया।",
            Self::MobileInvalid => "क्यूआर में मोबाइल नंबर मान्य नहीं है; छोड़ दिया गया।",
            Self::LgdCodeInvalid => "क्यूआर में राज्य या ज़िला कोड (LGD) संख्या नहीं है; छोड़ दिया गया।",
            Self::NameMissing => "क्यूआर में नाम नहीं है।",
        }
    }
}

/// Serialises as `{"code": "...", "message": "..."}` (English message).
impl serde::Serialize for Warning {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Warning", 2)?;
        st.serialize_field("code", self.code())?;
        st.serialize_field("message", self.message())?;
        st.end()
    }
}

/// Adds a warning once.
pub(crate) fn push(list: &mut Vec<Warning>, w: Warning) {
    if !list.contains(&w) {
        list.push(w);
    }
}
