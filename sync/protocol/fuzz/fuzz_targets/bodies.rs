//! Fuzzes what the state server does with a request body before and after authentication:
//! bounded decoding (zstd or plain JSON) of push, enroll and pull bodies, then the envelope
//! checks. It must never panic, and never decode past its cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use swagat_sync_protocol::{
    decode_limited, envelope::json_depth, EnrollRequest, PullResponse, PushRequest,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(push) = decode_limited::<PushRequest>(data, 1 << 20) {
        for e in &push.envelopes {
            let _ = e.validate();
            let _ = e.check_clock(1_800_000_000_000);
            assert!(json_depth(e.payload.get().as_bytes()) <= e.payload.get().len());
        }
    }
    let _ = decode_limited::<EnrollRequest>(data, 64 * 1024);
    let _ = decode_limited::<PullResponse>(data, 1 << 20);
    // A tiny cap, for any shape of JSON.
    let _ = decode_limited::<serde_json::Value>(data, 4096);
});
