//! Sync protocol: record envelopes, batches and the wire format shared by kiosk and state server.
//!
//! This crate is pure data and pure functions (no I/O; [`escrow`] draws random numbers), so that the kiosk engine, the state
//! server and the tests agree on one definition of what travels on the wire. See
//! `sync/PROTOCOL.md` for the prose specification; this crate is its executable form.

pub mod envelope;
pub mod error;
pub mod escrow;
pub mod heartbeat;
pub mod hlc;
pub mod kinds;
pub mod merge;
pub mod messages;
pub mod wire;

pub use envelope::{content_hash, EntityKind, Envelope, ValidationError, MAX_PAYLOAD_BYTES};
pub use error::{ErrorBody, ErrorCode};
pub use escrow::RecoveryEscrow;
pub use heartbeat::{Heartbeat, HeartbeatAck};
pub use hlc::Hlc;
pub use messages::{
    EnrollRequest, EnrollResponse, HealthResponse, PullResponse, PushDigests, PushRequest,
    PushResponse, PushState, Rejection, SeqDigest, MAX_DIGEST_RANGE,
};
pub use wire::{decode, decode_limited, encode, WireError, CONTENT_ENCODING, CONTENT_TYPE};

/// Version of the sync protocol. Sent in every request (`x-swagat-protocol` header) and
/// answered by the server; a mismatch is refused with [`ErrorCode::ProtocolVersion`].
pub const PROTOCOL_VERSION: u32 = 1;

/// HTTP header carrying [`PROTOCOL_VERSION`].
pub const PROTOCOL_HEADER: &str = "x-swagat-protocol";

/// HTTP header carrying the kiosk's per-install id (a UUID created once per installation and
/// kept in its credential) with every `/v1` request, so the server can tell a restored kiosk
/// (same install, older state) from a cloned disk (two installs speaking as one device).
pub const INSTALL_HEADER: &str = "x-swagat-install";
