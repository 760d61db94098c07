//! Fuzzes the Secure QR parser behind the gzip layer: arbitrary bytes are gzipped and turned
//! into the QR's decimal text first, so the fuzzer explores the field, photo, hash and signature
//! parsing rather than failing at "not gzip".
#![no_main]

use std::io::Write;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use swagat_identity::{decode_and_summarize, TrustStore};

static TRUST: OnceLock<TrustStore> = OnceLock::new();

fuzz_target!(|payload: &[u8]| {
    let trust = TRUST.get_or_init(TrustStore::with_builtin);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    if gz.write_all(payload).is_err() {
        return;
    }
    let Ok(packed) = gz.finish() else { return };
    let text = num_bigint::BigUint::from_bytes_be(&packed).to_str_radix(10);
    let _ = decode_and_summarize(&text, trust);
});
