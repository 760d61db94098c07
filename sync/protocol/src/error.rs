//! Error codes shared by server and kiosk: stable strings the kiosk acts on.
//!
//! The kiosk engine decides from the code (not from prose) whether to retry, re-sync its
//! sequence, dead-letter a record or stop and ask for re-enrollment, so the codes are part of
//! the protocol contract and never change meaning within a protocol version.

use serde::{Deserialize, Serialize};

/// A machine-readable error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Malformed request (bad JSON, bad compression, missing fields). Not retried as-is.
    BadRequest,
    /// Client and server protocol versions differ.
    ProtocolVersion,
    /// Missing or wrong device credential.
    Unauthorized,
    /// The device was revoked by an administrator; the kiosk must stop syncing.
    DeviceRevoked,
    /// The enrollment code is unknown or already used.
    InvalidEnrollmentCode,
    /// The batch does not continue the device's acknowledged sequence; re-ask and resume.
    SequenceGap,
    /// Record rejected: it names another facility than the device's.
    WrongFacility,
    /// Record rejected: it names another device than the authenticated one.
    WrongDevice,
    /// Record rejected: the record id is owned by another device.
    NotOwner,
    /// Record rejected: invalid entity kind.
    InvalidKind,
    /// Record rejected: invalid payload schema version.
    InvalidSchema,
    /// Record rejected: the record id is not a UUIDv7.
    InvalidRecordId,
    /// Record rejected: payload too large.
    PayloadTooLarge,
    /// Batch too large (too many envelopes or bytes); split it.
    BatchTooLarge,
    /// Server-side failure (storage unavailable…); retry later.
    Internal,
    /// Record rejected: the kind is authored by the server only (see `kinds::SERVER_ONLY_KINDS`).
    ForbiddenKind,
    /// The batch reuses an acknowledged sequence number with other content (a kiosk restored
    /// from a backup or a cloned disk); the kiosk must renumber its unsent records.
    SequenceConflict,
    /// Two installations are speaking as one device (a cloned disk): this copy must re-enroll.
    DeviceCloned,
    /// Too many requests or over quota; retry after the `Retry-After` header.
    TooManyRequests,
    /// The enrollment code has expired.
    EnrollmentCodeExpired,
    /// Record rejected: its HLC is more than a day ahead of the server's clock (the kiosk's
    /// clock is wrong).
    ClockAhead,
}

impl ErrorCode {
    /// Whether a request that failed with this code may succeed if simply retried later.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorCode::Internal | ErrorCode::SequenceGap | ErrorCode::TooManyRequests
        )
    }

    /// The code of a wire string (`None` for a string no version of the protocol sent).
    pub fn parse(s: &str) -> Option<ErrorCode> {
        use serde::de::IntoDeserializer;
        let d: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
            s.into_deserializer();
        ErrorCode::deserialize(d).ok()
    }

    /// The code as its wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::ProtocolVersion => "protocol_version",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::DeviceRevoked => "device_revoked",
            ErrorCode::InvalidEnrollmentCode => "invalid_enrollment_code",
            ErrorCode::SequenceGap => "sequence_gap",
            ErrorCode::WrongFacility => "wrong_facility",
            ErrorCode::WrongDevice => "wrong_device",
            ErrorCode::NotOwner => "not_owner",
            ErrorCode::InvalidKind => "invalid_kind",
            ErrorCode::InvalidSchema => "invalid_schema",
            ErrorCode::InvalidRecordId => "invalid_record_id",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::BatchTooLarge => "batch_too_large",
            ErrorCode::Internal => "internal",
            ErrorCode::ForbiddenKind => "forbidden_kind",
            ErrorCode::SequenceConflict => "sequence_conflict",
            ErrorCode::DeviceCloned => "device_cloned",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::EnrollmentCodeExpired => "enrollment_code_expired",
            ErrorCode::ClockAhead => "clock_ahead",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// JSON body of every non-2xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong, for the engine.
    pub code: ErrorCode,
    /// What went wrong, for a human (never contains personal data).
    pub message: String,
    /// For [`ErrorCode::SequenceGap`] and [`ErrorCode::SequenceConflict`]: the sequence the
    /// server has acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked_seq: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_strings_match_serde() {
        for c in [
            ErrorCode::BadRequest,
            ErrorCode::SequenceGap,
            ErrorCode::DeviceRevoked,
            ErrorCode::NotOwner,
            ErrorCode::ForbiddenKind,
            ErrorCode::SequenceConflict,
            ErrorCode::DeviceCloned,
            ErrorCode::TooManyRequests,
            ErrorCode::EnrollmentCodeExpired,
            ErrorCode::ClockAhead,
        ] {
            let s = serde_json::to_string(&c).unwrap();
            assert_eq!(s, format!("\"{}\"", c.as_str()));
        }
    }
}

#[cfg(test)]
mod parse_tests {
    use super::ErrorCode;

    #[test]
    fn every_wire_string_parses_back() {
        for code in [
            ErrorCode::BadRequest,
            ErrorCode::SequenceGap,
            ErrorCode::NotOwner,
            ErrorCode::DeviceCloned,
            ErrorCode::ClockAhead,
            ErrorCode::Internal,
        ] {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::parse("no_such_code"), None);
        assert_eq!(ErrorCode::parse("BadRequest"), None);
    }
}
