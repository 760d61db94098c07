//! Wire encoding of request/response bodies: JSON compressed with zstd.
//!
//! Batches of envelopes repeat the same field names, device and facility ids, so zstd shrinks
//! them several-fold; that is what keeps a record well under 200 bytes on the wire over slow
//! rural links. Decoding sniffs the zstd magic number and also accepts plain JSON (error bodies
//! are sent uncompressed, and an HTTP layer may have decompressed already), and it caps the
//! decompressed size so a hostile body cannot exhaust memory.

use serde::{de::DeserializeOwned, Serialize};
use std::io::Read;

/// `Content-Type` of encoded bodies.
pub const CONTENT_TYPE: &str = "application/json";
/// `Content-Encoding` of encoded bodies.
pub const CONTENT_ENCODING: &str = "zstd";
/// Largest decompressed body accepted by [`decode`].
pub const MAX_DECODED_BYTES: u64 = 64 * 1024 * 1024;
/// zstd compression level used: fast, and most of the gain on repetitive JSON.
const LEVEL: i32 = 3;
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Encoding or decoding failure.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The value could not be (de)serialized as JSON.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// Compression failed or the body is not valid zstd.
    #[error("compression: {0}")]
    Compression(#[from] std::io::Error),
    /// Decompressed body exceeds [`MAX_DECODED_BYTES`].
    #[error("decoded body larger than {MAX_DECODED_BYTES} bytes")]
    TooLarge,
}

/// Serializes `value` as JSON and compresses it with zstd.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, WireError> {
    let json = serde_json::to_vec(value)?;
    Ok(zstd::bulk::compress(&json, LEVEL)?)
}

/// Decodes a body produced by [`encode`] (or plain JSON).
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, WireError> {
    if body.starts_with(&ZSTD_MAGIC) {
        let mut out = Vec::new();
        zstd::stream::read::Decoder::new(body)?
            .take(MAX_DECODED_BYTES + 1)
            .read_to_end(&mut out)?;
        if out.len() as u64 > MAX_DECODED_BYTES {
            return Err(WireError::TooLarge);
        }
        Ok(serde_json::from_slice(&out)?)
    } else {
        Ok(serde_json::from_slice(body)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Envelope, Hlc, PushRequest};
    use serde_json::value::RawValue;
    use uuid::Uuid;

    #[test]
    fn round_trip_and_compresses() {
        let device = Uuid::now_v7();
        let facility = Uuid::now_v7();
        let envelopes: Vec<Envelope> = (1..=500)
            .map(|i| Envelope {
                id: Uuid::now_v7(),
                kind: "patient".into(),
                facility,
                device,
                seq: i,
                hlc: Hlc::new(1_700_000_000_000 + i, 0),
                schema: 1,
                payload: RawValue::from_string(format!(
                    "{{\"name\":\"Patient {i}\",\"sex\":\"F\",\"yob\":1980}}"
                ))
                .unwrap(),
            })
            .collect();
        let req = PushRequest { envelopes };
        let bytes = encode(&req).unwrap();
        let plain = serde_json::to_vec(&req).unwrap();
        assert!(
            bytes.len() * 3 < plain.len(),
            "{} vs {}",
            bytes.len(),
            plain.len()
        );
        let back: PushRequest = decode(&bytes).unwrap();
        assert_eq!(back, req);
        let back2: PushRequest = decode(&plain).unwrap();
        assert_eq!(back2, req);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(decode::<PushRequest>(&[0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]).is_err());
        assert!(decode::<PushRequest>(b"{").is_err());
    }
}
