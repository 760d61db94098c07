//! Fuzzes the single entry point with arbitrary scanner text: it must never panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use swagat_identity::{decode_and_summarize, TrustStore};

static TRUST: OnceLock<TrustStore> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let trust = TRUST.get_or_init(TrustStore::with_builtin);
    let text = String::from_utf8_lossy(data);
    let _ = decode_and_summarize(&text, trust);
});
