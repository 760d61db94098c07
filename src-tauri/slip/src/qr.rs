//! The slip's QR code as vector rectangles.
//!
//! The QR carries the visit's verification URL. It is drawn as filled rectangles (one per
//! horizontal run of dark modules), not as an image: crisp at any zoom in the PDF, tiny in file
//! size, and snapped to whole dots on the thermal raster so scanners read it reliably.

use qrcode::{Color, EcLevel, QrCode};

use crate::error::SlipError;

/// A QR symbol: `size`×`size` modules (quiet zone not included), dark modules as runs.
#[derive(Debug, Clone)]
pub(crate) struct QrMatrix {
    pub(crate) size: usize,
    /// Dark runs as (row, first column, length in modules).
    pub(crate) runs: Vec<(usize, usize, usize)>,
}

/// Encodes `url` with error-correction level M (survives smudges on thermal paper).
pub(crate) fn encode(url: &str) -> Result<QrMatrix, SlipError> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
        .map_err(|e| SlipError::Qr(e.to_string()))?;
    let size = code.width();
    let colors = code.to_colors();
    let mut runs = Vec::new();
    for row in 0..size {
        let line = &colors[row * size..(row + 1) * size];
        let mut col = 0;
        while col < size {
            if line[col] == Color::Dark {
                let start = col;
                while col < size && line[col] == Color::Dark {
                    col += 1;
                }
                runs.push((row, start, col - start));
            } else {
                col += 1;
            }
        }
    }
    Ok(QrMatrix { size, runs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_a_slip_url() {
        let m = encode("https://phc.example.in/s/01J9ZK8M4V3T6QWERTY?k=Ab3xY9").unwrap();
        assert!(m.size >= 21 && (m.size - 21) % 4 == 0);
        // The top-left finder pattern's first row is seven dark modules.
        assert_eq!(m.runs[0], (0, 0, 7));
    }
}
