//! Shared helpers for the integration tests: test data paths and a builder that makes signed
//! Secure QR payloads (fields + photo + hashes, signed, gzipped, turned into decimal text).
#![allow(dead_code, clippy::unwrap_used)]

use std::io::Write;
use std::path::PathBuf;

use num_bigint::BigUint;
use rsa::pkcs8::DecodePrivateKey;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha2::{Digest, Sha256};

/// Path of a file in `tests/data`.
pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Contents of a text file in `tests/data`.
pub fn read(name: &str) -> String {
    std::fs::read_to_string(data(name)).unwrap()
}

/// A test private key from `tests/data`.
pub fn key(name: &str) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(&read(name)).unwrap()
}

/// The trusted test signer.
pub fn signer() -> RsaPrivateKey {
    key("test_signer_key.pem")
}

/// A signer nobody trusts.
pub fn stranger() -> RsaPrivateKey {
    key("test_stranger_key.pem")
}

/// A fake JPEG2000 photo full of 0xFF bytes, to prove fields are read by count.
pub fn photo() -> Vec<u8> {
    let mut p = vec![0xff, 0x4f, 0xff, 0x51];
    for i in 0..300u16 {
        p.push(if i % 3 == 0 { 0xff } else { (i % 251) as u8 });
    }
    p.extend_from_slice(&[0xff, 0xd9]);
    p
}

/// The 15 text fields after the indicator, in Secure QR order.
pub struct Fields {
    pub reference_id: String,
    pub name: String,
    pub dob: String,
    pub gender: String,
    pub care_of: String,
    pub district: String,
    pub landmark: String,
    pub house: String,
    pub location: String,
    pub pincode: String,
    pub post_office: String,
    pub state: String,
    pub street: String,
    pub sub_district: String,
    pub vtc: String,
}

impl Default for Fields {
    fn default() -> Self {
        Self {
            reference_id: "567820240115103045123".into(),
            name: "Ramesh Kumar".into(),
            dob: "02-10-1979".into(),
            gender: "M".into(),
            care_of: "S/O: Suresh Kumar".into(),
            district: "Gaya".into(),
            landmark: "Near Post Office".into(),
            house: "45".into(),
            location: "Civil Lines".into(),
            pincode: "823001".into(),
            post_office: "Gaya H.O".into(),
            state: "Bihar".into(),
            street: "Station Road".into(),
            sub_district: "Gaya Town".into(),
            vtc: "Gaya".into(),
        }
    }
}

impl Fields {
    fn list(&self) -> [&str; 15] {
        [
            &self.reference_id,
            &self.name,
            &self.dob,
            &self.gender,
            &self.care_of,
            &self.district,
            &self.landmark,
            &self.house,
            &self.location,
            &self.pincode,
            &self.post_office,
            &self.state,
            &self.street,
            &self.sub_district,
            &self.vtc,
        ]
    }
}

/// SHA-256 applied n times over hex text, as UIDAI hashes email and mobile.
pub fn contact_hash(value: &str, n: u32) -> [u8; 32] {
    let mut bytes = value.as_bytes().to_vec();
    let mut digest = [0u8; 32];
    for _ in 0..n.max(1) {
        digest = Sha256::digest(&bytes).into();
        bytes = digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into_bytes();
    }
    digest
}

/// The unsigned body of a V1 payload (no version marker) with hashes.
pub fn v1_body(indicator: u8, fields: &Fields, photo: &[u8], hashes: &[[u8; 32]]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(indicator.to_string().as_bytes());
    body.push(0xff);
    for f in fields.list() {
        body.extend(latin1(f));
        body.push(0xff);
    }
    body.extend_from_slice(photo);
    for h in hashes {
        body.extend_from_slice(h);
    }
    body
}

/// The unsigned body of a versioned payload (`V2`, `V3`…).
pub fn versioned_body(version: &str, fields: &Fields, mobile_last4: &str, photo: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(version.as_bytes());
    body.push(0xff);
    body.extend_from_slice(b"2");
    body.push(0xff);
    for f in fields.list() {
        body.extend(latin1(f));
        body.push(0xff);
    }
    body.extend_from_slice(mobile_last4.as_bytes());
    body.push(0xff);
    body.extend_from_slice(photo);
    body
}

fn latin1(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect()
}

/// Body + RSA PKCS#1 v1.5 SHA-256 signature.
pub fn sign(body: &[u8], key: &RsaPrivateKey) -> Vec<u8> {
    let digest = Sha256::digest(body);
    let prefix: [u8; 19] = [
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];
    let scheme = Pkcs1v15Sign {
        hash_len: Some(32),
        prefix: Box::new(prefix),
    };
    let sig = key.sign(scheme, &digest).unwrap();
    let mut out = body.to_vec();
    out.extend_from_slice(&sig);
    out
}

/// Gzips a payload and returns the QR's decimal text.
pub fn to_qr_text(payload: &[u8]) -> String {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(payload).unwrap();
    let gz = enc.finish().unwrap();
    BigUint::from_bytes_be(&gz).to_str_radix(10)
}

/// Signed QR text from a body.
pub fn qr(body: &[u8], key: &RsaPrivateKey) -> String {
    to_qr_text(&sign(body, key))
}

/// A trust store holding only the test signer's public key.
pub fn signer_trust() -> swagat_identity::TrustStore {
    let mut t = swagat_identity::TrustStore::empty();
    t.add_key_bytes("test-signer", read("test_signer_pub.pem").as_bytes())
        .unwrap();
    t
}
