//! Decoding of Aadhaar (Secure QR, XML QR) and ABHA QR codes; number checks; privacy-safe
//! identity types.
//!
//! The kiosk's scanner types the QR text like a keyboard; [`decode`] turns that text into a
//! typed [`Document`], and [`summarize`] / [`decode_and_summarize`] into the flat
//! [`QrSummary`] that `swagat-admin decode-qr` prints as JSON. Secure QR signatures are checked
//! against a [`TrustStore`] (the UIDAI certificates built in, plus an admin folder).
//!
//! Privacy: the full Aadhaar number is never kept as text; [`AadhaarNumber`] prints only
//! `XXXX XXXX 1234` and offers [`AadhaarNumber::last4`] and [`AadhaarNumber::keyed_hash`]. The
//! Secure QR photo is for display only and must never be stored. Debug output of decoded
//! documents shows which fields are present, never their values. Nothing here logs.
//!
//! ```
//! use swagat_identity::{decode_and_summarize, SignatureStatus, TrustStore};
//!
//! // Built-in UIDAI certificates; an admin folder is added with `TrustStore::load_dir(dir)`.
//! let trust = TrustStore::with_builtin();
//! let scan = "{\"hidn\":\"91-2345-6789-0129\",\"hid\":\"Sunita.Devi85@abdm\",\"dob\":\"15/8/1985\"}\r\n";
//! let summary = decode_and_summarize(scan, &trust).map_err(|e| e.message_hi())?;
//! assert_eq!(summary.abha_address.as_deref(), Some("sunita.devi85@abdm"));
//! assert_eq!(summary.dob.as_deref(), Some("1985-08-15"));
//! assert_eq!(summary.signature, None::<SignatureStatus>);
//! let json = serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?;
//! assert!(json.contains("\"kind\": \"abha_qr\""));
//! # Ok::<(), String>(())
//! ```
//!
//! No input panics: lengths, decompressed size and indexing are all bounded, and every failure
//! is a [`DecodeError`] with an English and a Hindi message.

pub mod abha_qr;
pub mod address;
pub mod dates;
pub mod document;
pub mod error;
pub mod gender;
mod hex;
pub mod numbers;
pub mod photo;
pub mod secure_qr;
pub mod signature;
pub mod summary;
pub mod trust;
pub mod warning;
pub mod xml_qr;

pub use abha_qr::AbhaQr;
pub use address::Address;
pub use dates::BirthDate;
pub use document::{decode, Document, QrKind};
pub use error::{DecodeError, KeyFileError, NumberError, TrustError};
pub use gender::Gender;
pub use numbers::{AadhaarNumber, AbhaAddress, AbhaNumber, IndianMobile};
pub use secure_qr::{ContactIndicator, ContactMatch, SecureQr, SecureQrVersion};
pub use signature::SignatureStatus;
pub use summary::{decode_and_summarize, summarize, QrSummary, SummaryWarning};
pub use trust::{SkippedFile, TrustStore, TrustedKey};
pub use warning::Warning;
pub use xml_qr::XmlQr;
