//! English and Hindi strings of the dashboard and the slip page (one table, both languages).
//!
//! Templates read `t.<key>`; a missing Hindi string falls back to English, and a test checks
//! that every key has both.

use std::collections::BTreeMap;

/// The page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// हिन्दी.
    Hi,
}

impl Lang {
    /// `en` or `hi`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Hi => "hi",
        }
    }
    /// From a query parameter or cookie value.
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "en" => Some(Lang::En),
            "hi" => Some(Lang::Hi),
            _ => None,
        }
    }
}

/// (key, English, Hindi).
const STRINGS: &[(&str, &str, &str)] = &[
    ("title", "Swagat — state dashboard", "स्वागत — राज्य डैशबोर्ड"),
    ("login", "Log in", "लॉग इन करें"),
    ("logout", "Log out", "लॉग आउट"),
    ("name", "Name", "नाम"),
    ("password", "Password", "पासवर्ड"),
    (
        "bad_login",
        "Wrong name or password.",
        "नाम या पासवर्ड गलत है।",
    ),
    (
        "throttled",
        "Too many wrong attempts. Please wait a few minutes and try again.",
        "बहुत अधिक गलत प्रयास। कृपया कुछ मिनट रुककर फिर से प्रयास करें।",
    ),
    ("overview", "Overview", "सारांश"),
    ("facility", "Facility", "स्वास्थ्य केंद्र"),
    ("facilities", "Facilities", "स्वास्थ्य केंद्र"),
    ("district", "District", "ज़िला"),
    ("all_districts", "All districts", "सभी ज़िले"),
    ("from", "From", "से"),
    ("to", "To", "तक"),
    ("show", "Show", "दिखाएँ"),
    ("today", "Last day", "अंतिम दिन"),
    ("d7", "7 days", "7 दिन"),
    ("d30", "30 days", "30 दिन"),
    ("registrations", "Registrations", "पंजीकरण"),
    ("new", "New", "नए"),
    ("follow_up", "Follow-up", "फ़ॉलो-अप"),
    ("cancelled", "Cancelled", "रद्द"),
    ("abha_linked", "ABHA-linked", "आभा-जुड़े"),
    ("abha_pct", "ABHA-linked %", "आभा-जुड़े %"),
    ("scan_share", "Scan & share", "स्कैन और शेयर"),
    ("dialysis_completed", "Dialysis sessions", "डायलिसिस सत्र"),
    ("no_shows", "No-shows", "अनुपस्थित"),
    ("stale_kiosks", "Stale kiosks", "पुराने कियोस्क"),
    ("kiosks", "Kiosks", "कियोस्क"),
    ("totals", "Totals", "कुल"),
    ("download_csv", "Download CSV", "CSV डाउनलोड करें"),
    (
        "per_day",
        "Registrations per day (30 days)",
        "प्रति दिन पंजीकरण (30 दिन)",
    ),
    ("abha_trend", "ABHA-linked % per day", "प्रति दिन आभा-जुड़े %"),
    ("by_department", "By department", "विभाग अनुसार"),
    ("department", "Department", "विभाग"),
    ("new_vs_follow", "New vs follow-up", "नए बनाम फ़ॉलो-अप"),
    ("gender_age", "Gender × age band", "लिंग × आयु वर्ग"),
    ("gender", "Gender", "लिंग"),
    ("age_band", "Age band", "आयु वर्ग"),
    ("count", "Count", "संख्या"),
    ("fees", "Fees and waivers", "शुल्क और छूट"),
    ("waiver", "Waiver", "छूट"),
    ("no_waiver", "No waiver (fee paid)", "कोई छूट नहीं (शुल्क दिया)"),
    ("visits", "Visits", "विज़िट"),
    ("rupees", "Fees (₹)", "शुल्क (₹)"),
    ("device", "Kiosk", "कियोस्क"),
    ("last_seen", "Last seen", "अंतिम संपर्क"),
    ("backlog", "Backlog", "बकाया"),
    ("oldest_unsent", "Oldest unsent", "सबसे पुराना अप्रेषित"),
    ("dead_letters", "Dead letters", "अस्वीकृत रिकॉर्ड"),
    ("version", "App version", "ऐप संस्करण"),
    ("free_disk", "Free disk", "खाली डिस्क"),
    ("last_error", "Last error", "अंतिम त्रुटि"),
    ("stale", "Stale", "पुराना"),
    ("ok", "OK", "ठीक"),
    ("never", "never", "कभी नहीं"),
    ("dialysis", "Dialysis unit", "डायलिसिस इकाई"),
    ("machines_by_pool", "Machines by pool", "पूल अनुसार मशीनें"),
    ("pool", "Pool", "पूल"),
    ("machines", "Machines", "मशीनें"),
    ("shift", "Shift", "पाली"),
    ("sessions_per_shift", "Sessions per shift", "प्रति पाली सत्र"),
    ("status", "Status", "स्थिति"),
    ("waitlist", "Waitlist length", "प्रतीक्षा सूची"),
    ("online_requests", "Online requests", "ऑनलाइन अनुरोध"),
    ("pending", "Pending", "लंबित"),
    ("confirmed", "Confirmed", "पुष्ट"),
    ("waitlisted", "Waitlisted", "प्रतीक्षा में"),
    ("refused", "Refused", "अस्वीकृत"),
    ("date", "Date", "तारीख"),
    (
        "forbidden",
        "You may not see this.",
        "आपको यह देखने की अनुमति नहीं है।",
    ),
    ("not_found", "Not found.", "नहीं मिला।"),
    (
        "bad_request",
        "Please check the dates and filters.",
        "कृपया तारीखें और फ़िल्टर जाँचें।",
    ),
    ("signed_in_as", "Signed in as", "लॉग इन:"),
    ("none", "None yet.", "अभी कुछ नहीं।"),
    // Slip page.
    ("slip_title", "OPD slip", "ओपीडी पर्ची"),
    ("token", "Token", "टोकन"),
    ("room", "Room", "कमरा"),
    ("date_time", "Date and time", "तारीख और समय"),
    ("valid_until", "Valid until", "मान्य तिथि तक"),
    ("visit_type", "Visit", "विज़िट"),
    ("fee", "Fee", "शुल्क"),
    ("fee_waived", "Fee waived", "शुल्क माफ़"),
    ("uhid", "UHID", "यूएचआईडी"),
    ("patient", "Patient", "मरीज़"),
    ("age_sex", "Age / sex", "आयु / लिंग"),
    (
        "visit_cancelled",
        "This visit was CANCELLED.",
        "यह विज़िट रद्द कर दी गई है।",
    ),
    ("visit_active", "Visit is valid.", "विज़िट मान्य है।"),
    (
        "slip_unknown",
        "This slip was not found. It may not have arrived from the health centre yet.",
        "यह पर्ची नहीं मिली। यह अभी स्वास्थ्य केंद्र से प्राप्त नहीं हुआ हो सकता है।",
    ),
    (
        "slip_later",
        "Please try again later.",
        "कृपया बाद में फिर से देखें।",
    ),
    (
        "too_many",
        "Too many requests. Please wait a minute.",
        "बहुत अधिक अनुरोध। कृपया एक मिनट रुकें।",
    ),
    ("years", "y", "वर्ष"),
];

/// The strings of `lang`, keyed.
pub fn strings(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    STRINGS
        .iter()
        .map(|(k, en, hi)| {
            (
                *k,
                if lang == Lang::Hi && !hi.is_empty() {
                    *hi
                } else {
                    *en
                },
            )
        })
        .collect()
}

/// One string.
pub fn t(lang: Lang, key: &str) -> &'static str {
    STRINGS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, en, hi)| if lang == Lang::Hi { *hi } else { *en })
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages_and_is_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for (k, en, hi) in STRINGS {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!en.is_empty() && !hi.is_empty(), "{k} lacks a language");
        }
        assert!(t(Lang::Hi, "slip_unknown").contains("अभी स्वास्थ्य केंद्र से प्राप्त नहीं हुआ हो सकता है"));
    }
}
