//! Record kinds: the one list both sides use, so a kind is never a bare string in two places.
//!
//! Kinds split by author. **Kiosk kinds** are written by a facility's kiosks and may be folded by
//! every other kiosk of that facility (peer records). **Server-only kinds** are authored by the
//! state server alone (an envelope whose `device` is the facility id): the server refuses them at
//! ingest from any device (`forbidden_kind`), and a kiosk folds them only when the envelope's
//! author is the server. A new server-authored kind is added to [`SERVER_ONLY_KINDS`] and nowhere
//! else.

/// A patient record (create, edit, merge).
pub const PATIENT: &str = "patient";
/// An OPD visit (create, cancel, move by merge).
pub const VISIT: &str = "visit";
/// A dialysis booking (queued by the core's triggers).
pub const DIALYSIS_BOOKING: &str = "dialysis_booking";
/// A dialysis patient's unit record (serology, access, …).
pub const DIALYSIS_PATIENT: &str = "dialysis_patient";
/// A dialysis machine (pool, maintenance).
pub const DIALYSIS_MACHINE: &str = "dialysis_machine";
/// The unit kiosk's answer to an online dialysis request.
pub const DIALYSIS_REQUEST_RESULT: &str = "dialysis_request_result";
/// The counter's outcome for an ABHA scan-and-share (registered, with the visit id).
pub const ABHA_SHARE_RESULT: &str = "abha_share_result";

/// Facility configuration and the state's masters (server-authored).
pub const FACILITY_CONFIG: &str = "facility_config";
/// An online dialysis request from a state portal (server-authored).
pub const DIALYSIS_REQUEST: &str = "dialysis_request";
/// A patient profile shared through ABDM scan-and-share, with its token (server-authored).
pub const ABHA_SHARE: &str = "abha_share";
/// A state master list published on its own (server-authored).
pub const MASTERS: &str = "masters";

/// Kinds only the state server authors. Refused at ingest from any device; folded by a kiosk
/// only from the server (envelope `device` = the facility id).
pub const SERVER_ONLY_KINDS: &[&str] = &[FACILITY_CONFIG, DIALYSIS_REQUEST, ABHA_SHARE, MASTERS];

/// Kinds the kiosks write (and fold from their facility's other kiosks).
pub const KIOSK_KINDS: &[&str] = &[
    PATIENT,
    VISIT,
    DIALYSIS_BOOKING,
    DIALYSIS_PATIENT,
    DIALYSIS_MACHINE,
    DIALYSIS_REQUEST_RESULT,
    ABHA_SHARE_RESULT,
];

/// Whether only the server may author `kind`.
pub fn is_server_only(kind: &str) -> bool {
    SERVER_ONLY_KINDS.contains(&kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_lists_are_disjoint_and_valid() {
        for k in SERVER_ONLY_KINDS {
            assert!(crate::envelope::is_valid_kind(k), "{k}");
            assert!(!KIOSK_KINDS.contains(k), "{k} is in both lists");
        }
        for k in KIOSK_KINDS {
            assert!(crate::envelope::is_valid_kind(k), "{k}");
            assert!(!is_server_only(k), "{k}");
        }
        assert!(is_server_only("facility_config"));
        assert!(!is_server_only("patient"));
    }
}
