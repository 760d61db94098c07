//! The Secure QR photo, made showable: JPEG 2000 in, PNG out, in memory only.
//!
//! An Aadhaar Secure QR carries the holder's photo as a small JPEG 2000 codestream, which the
//! app's webview (WebKitGTK) cannot display. [`to_png`] decodes it with `hayro-jpeg2000` (pure
//! Rust, no C library to install, no `unsafe` with its SIMD feature off) and re-encodes it as PNG
//! for the registration screen. The photo is personal data: callers show it and drop it, never
//! store or log it. A missing or undecodable photo is a [`PhotoError`] that the caller reports to
//! the operator; it never fails a scan.

use std::fmt;

/// Why a photo cannot be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoError {
    /// The QR carries no photo.
    Missing,
    /// The bytes are not a JPEG 2000 image this decoder can read (or are too large to be one).
    Undecodable(String),
}

impl fmt::Display for PhotoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("the QR code carries no photo"),
            Self::Undecodable(why) => write!(f, "the photo cannot be decoded: {why}"),
        }
    }
}

impl std::error::Error for PhotoError {}

impl PhotoError {
    /// The same reason in Hindi, for the operator.
    pub fn message_hi(&self) -> &'static str {
        match self {
            Self::Missing => "क्यूआर कोड में फ़ोटो नहीं है",
            Self::Undecodable(_) => "फ़ोटो पढ़ी नहीं जा सकी",
        }
    }
}

/// Largest side accepted: Aadhaar photos are about 60–200 pixels; anything far larger is not one
/// and would only cost memory.
const MAX_SIDE: u32 = 1024;

/// Decodes a JPEG 2000 codestream (or JP2 file) and encodes it as an 8-bit PNG.
pub fn to_png(jpeg2000: &[u8]) -> Result<Vec<u8>, PhotoError> {
    use hayro_jpeg2000::{ColorSpace, DecodeSettings, DecoderContext, Image};
    if jpeg2000.is_empty() {
        return Err(PhotoError::Missing);
    }
    let bad = |e: &dyn fmt::Display| PhotoError::Undecodable(e.to_string());
    let image = Image::new(jpeg2000, &DecodeSettings::default()).map_err(|e| bad(&e))?;
    let (w, h) = (image.width(), image.height());
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return Err(PhotoError::Undecodable(format!("unexpected size {w}x{h}")));
    }
    let alpha = image.has_alpha();
    let colour = match (image.color_space(), alpha) {
        (ColorSpace::Gray, false) => png::ColorType::Grayscale,
        (ColorSpace::Gray, true) => png::ColorType::GrayscaleAlpha,
        (ColorSpace::RGB, false) => png::ColorType::Rgb,
        (ColorSpace::RGB, true) => png::ColorType::Rgba,
        (
            ColorSpace::Icc {
                num_channels: 1, ..
            },
            a,
        ) => {
            if a {
                png::ColorType::GrayscaleAlpha
            } else {
                png::ColorType::Grayscale
            }
        }
        (
            ColorSpace::Icc {
                num_channels: 3, ..
            },
            a,
        ) => {
            if a {
                png::ColorType::Rgba
            } else {
                png::ColorType::Rgb
            }
        }
        (other, _) => {
            return Err(PhotoError::Undecodable(format!(
                "unsupported colour space {other:?}"
            )))
        }
    };
    let mut ctx = DecoderContext::default();
    let decoded = image.decode(&mut ctx).map_err(|e| bad(&e))?;
    let pixels = decoded.data_u8();
    let expected = w as usize * h as usize * colour.samples();
    if pixels.len() != expected {
        return Err(PhotoError::Undecodable(format!(
            "{} samples for a {w}x{h} image",
            pixels.len()
        )));
    }
    let mut out = Vec::with_capacity(pixels.len() / 2 + 256);
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(colour);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(|e| bad(&e))?;
        writer.write_image_data(&pixels).map_err(|e| bad(&e))?;
        writer.finish().map_err(|e| bad(&e))?;
    }
    Ok(out)
}
