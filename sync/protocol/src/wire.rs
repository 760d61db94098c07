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
    decode_limited(body, MAX_DECODED_BYTES)
}

/// Decodes a body produced by [`encode`] (or plain JSON) that may decode to at most
/// `max_decoded` bytes.
///
/// A zstd frame that declares a larger content size is refused before anything is allocated,
/// the decoder's window (its working memory) is capped near `max_decoded`, and the output stops
/// one byte past the cap: a 2 KB "zstd bomb" costs microseconds, not its 60 MiB.
pub fn decode_limited<T: DeserializeOwned>(body: &[u8], max_decoded: u64) -> Result<T, WireError> {
    if body.starts_with(&ZSTD_MAGIC) {
        if let Ok(Some(declared)) = zstd::zstd_safe::get_frame_content_size(body) {
            if declared > max_decoded {
                return Err(WireError::TooLarge);
            }
        }
        let mut out = Vec::new();
        let mut decoder = zstd::stream::read::Decoder::new(body)?;
        decoder.window_log_max(window_log_for(max_decoded))?;
        decoder.take(max_decoded + 1).read_to_end(&mut out)?;
        if out.len() as u64 > max_decoded {
            return Err(WireError::TooLarge);
        }
        Ok(serde_json::from_slice(&out)?)
    } else {
        if body.len() as u64 > max_decoded {
            return Err(WireError::TooLarge);
        }
        Ok(serde_json::from_slice(body)?)
    }
}

/// The largest zstd window (log2 bytes) worth allowing for output of at most `max` bytes:
/// the next power of two at or above it, between 2^12 and 2^23 (8 MiB; [`encode`] uses at most
/// 2^21 at its level).
fn window_log_for(max: u64) -> u32 {
    let log = 64 - max.saturating_sub(1).leading_zeros();
    log.clamp(12, 23)
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
    fn a_bomb_is_refused_before_it_is_inflated() {
        let big = serde_json::json!({ "code": "x".repeat(60 * 1024 * 1024) });
        let bomb = encode(&big).unwrap();
        assert!(bomb.len() < 16 * 1024, "{}", bomb.len());
        assert!(matches!(
            decode_limited::<serde_json::Value>(&bomb, 64 * 1024),
            Err(WireError::TooLarge)
        ));
        // Without a declared size the output cap still holds.
        let mut streamed = Vec::new();
        {
            let mut enc = zstd::stream::write::Encoder::new(&mut streamed, 3).unwrap();
            std::io::Write::write_all(&mut enc, &[b' '; 1 << 20]).unwrap();
            enc.finish().unwrap();
        }
        assert!(decode_limited::<serde_json::Value>(&streamed, 64 * 1024).is_err());
        let small = encode(&serde_json::json!({ "code": "ABCD-1234" })).unwrap();
        let v: serde_json::Value = decode_limited(&small, 64 * 1024).unwrap();
        assert_eq!(v["code"], "ABCD-1234");
        assert_eq!(window_log_for(64 * 1024), 16);
        assert_eq!(window_log_for(64 * 1024 * 1024), 23);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(decode::<PushRequest>(&[0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]).is_err());
        assert!(decode::<PushRequest>(b"{").is_err());
    }
}
