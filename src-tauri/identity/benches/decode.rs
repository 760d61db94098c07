//! Benchmarks of the counter's hot path: decoding and verifying one Aadhaar Secure QR (the
//! synthetic V2, its test key trusted alongside the built-in UIDAI certificates), and decoding
//! one ABHA QR. Run: `cargo bench -p swagat-identity --bench decode`.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use swagat_identity::{decode, decode_and_summarize, TrustStore};

fn data(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

fn benches(c: &mut Criterion) {
    let secure = data("aadhaar_secure_qr_synthetic_v2.txt");
    let mut trust = TrustStore::with_builtin();
    trust
        .add_key_bytes(
            "synthetic",
            data("aadhaar_synthetic_test_key.pub.pem").as_bytes(),
        )
        .unwrap();
    let abha = data("abha_qr_examples.jsonl")
        .lines()
        .next()
        .unwrap()
        .to_owned();

    c.bench_function("secure_qr_v2_decode_verify_summarize", |b| {
        b.iter(|| {
            let s = decode_and_summarize(black_box(&secure), &trust).unwrap();
            assert_eq!(s.signature, Some(swagat_identity::SignatureStatus::Valid));
            s
        })
    });
    c.bench_function("secure_qr_v2_decode_only", |b| {
        b.iter(|| decode(black_box(&secure)).unwrap())
    });
    c.bench_function("abha_qr_decode_summarize", |b| {
        b.iter(|| decode_and_summarize(black_box(&abha), &trust).unwrap())
    });
    c.bench_function("trust_store_with_builtin", |b| {
        b.iter(TrustStore::with_builtin)
    });
}

criterion_group!(decode_benches, benches);
criterion_main!(decode_benches);
