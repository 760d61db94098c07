//! The Secure QR photo: JPEG 2000 decoded and re-encoded as PNG, and every bad photo a clear
//! error instead of a panic.
#![allow(clippy::unwrap_used)]

use swagat_identity::photo::{to_png, PhotoError};
use swagat_identity::{decode, Document};

fn secure_qr_photo(text: &str) -> Vec<u8> {
    match decode(text).unwrap() {
        Document::AadhaarSecureQr(q) => q.photo().to_vec(),
        other => panic!("not a Secure QR: {:?}", other.kind()),
    }
}

#[test]
fn the_uidai_sample_photo_becomes_a_png_of_the_same_size() {
    let photo = secure_qr_photo(include_str!("data/aadhaar_secure_qr_uidai_sample_2019.txt"));
    assert!(
        photo.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]),
        "a JPEG 2000 codestream"
    );
    let png_bytes = to_png(&photo).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(&png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let info = reader.info();
    assert_eq!((info.width, info.height), (60, 60), "the photo's own size");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    let pixels = &buf[..frame.buffer_size()];
    // A real face, not a blank: the pixels vary.
    let min = pixels.iter().min().unwrap();
    let max = pixels.iter().max().unwrap();
    assert!(max - min > 64, "contrast {min}..{max}");
}

#[test]
fn a_missing_or_broken_photo_is_reported_not_a_panic() {
    assert_eq!(to_png(&[]), Err(PhotoError::Missing));
    // The synthetic test card carries placeholder bytes after the JPEG 2000 marker.
    let fake = secure_qr_photo(include_str!("data/aadhaar_secure_qr_synthetic_v2.txt"));
    assert!(matches!(to_png(&fake), Err(PhotoError::Undecodable(_))));
    let real = secure_qr_photo(include_str!("data/aadhaar_secure_qr_uidai_sample_2019.txt"));
    assert!(matches!(
        to_png(&real[..4]),
        Err(PhotoError::Undecodable(_))
    ));
    for cut in [20, 100, real.len() / 2] {
        let _ = to_png(&real[..cut]); // an error or a partial picture, never a panic
    }
    let mut flipped = real.clone();
    for b in flipped.iter_mut().skip(60).step_by(7) {
        *b ^= 0x5A;
    }
    let _ = to_png(&flipped); // any outcome but a panic
    assert!(!PhotoError::Missing.message_hi().is_empty());
}
