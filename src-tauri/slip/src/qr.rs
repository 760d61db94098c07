//! The slip's QR code as vector rectangles.
//!
//! The QR carries the visit's verification URL. It is drawn as filled rectangles (one per
//! horizontal run of dark modules), not as an image: crisp at any zoom in the PDF, tiny in file
//! size, and snapped to whole dots on the thermal raster so scanners read it reliably. The last
//! few symbols are kept ([`encode_cached`]).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use qrcode::{Color, EcLevel, QrCode};

use crate::error::SlipError;

/// A QR symbol: `size`×`size` modules (quiet zone not included), dark modules as runs.
#[derive(Debug, Clone)]
pub(crate) struct QrMatrix {
    pub(crate) size: usize,
    /// Dark runs as (row, first column, length in modules).
    pub(crate) runs: Vec<(usize, usize, usize)>,
}

/// QR symbols recently made, newest last: the token screen's preview and the printed slip of
/// one visit carry the same URL, and choosing a symbol's mask (scoring all eight) is a good part
/// of drawing a slip.
const RECENT: usize = 8;

/// `url` encoded (see [`encode`]), taken from the recent symbols when it is there.
pub(crate) fn encode_cached(url: &str) -> Result<Arc<QrMatrix>, SlipError> {
    static MADE: Mutex<VecDeque<(String, Arc<QrMatrix>)>> = Mutex::new(VecDeque::new());
    if let Some((_, m)) = MADE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|(u, _)| u == url)
    {
        return Ok(Arc::clone(m));
    }
    let m = Arc::new(encode(url)?);
    let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
    if made.len() >= RECENT {
        made.pop_front();
    }
    made.push_back((url.to_owned(), Arc::clone(&m)));
    Ok(m)
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

    #[test]
    fn recent_symbols_are_reused_and_match() {
        let a = "https://phc.example.in/s/01J9ZK8M4V3T6QWERTY?k=cached1";
        let first = encode_cached(a).unwrap();
        assert!(Arc::ptr_eq(&first, &encode_cached(a).unwrap()));
        assert_eq!(first.runs, encode(a).unwrap().runs);
        // Another URL is its own symbol; after RECENT others the first is made again.
        let other = encode_cached("https://phc.example.in/s/other?k=x").unwrap();
        assert_ne!(other.runs, first.runs);
        for i in 0..RECENT {
            encode_cached(&format!("https://phc.example.in/s/{i}?k=x")).unwrap();
        }
        let again = encode_cached(a).unwrap();
        assert!(!Arc::ptr_eq(&first, &again));
        assert_eq!(again.runs, first.runs);
    }
}
