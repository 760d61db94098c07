//! The slip's QR code as vector rectangles.
//!
//! The QR carries the visit's verification URL. It is drawn as filled rectangles (one per
//! horizontal run of dark modules, runs repeated in the rows below merged into one block), not as
//! an image: crisp at any zoom in the PDF, tiny in file size, and snapped to whole dots on the
//! thermal raster so scanners read it reliably. The last few symbols are kept ([`encode_cached`]).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use fast_qr::{QRBuilder, ECL};

use crate::error::SlipError;

/// A QR symbol: `size`×`size` modules (quiet zone not included), dark modules as blocks.
#[derive(Debug, Clone)]
pub(crate) struct QrMatrix {
    pub(crate) size: usize,
    /// Dark blocks as (first row, first column, width, height), in modules: each a horizontal
    /// run of dark modules together with the same run in the rows right below it. Every dark
    /// module is in exactly one block.
    pub(crate) runs: Vec<(usize, usize, usize, usize)>,
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

/// `url`'s symbol at error-correction level M (survives smudges on thermal paper), as
/// `size`×`size` modules, dark ones `true`, row by row. `fast_qr` scores the eight masks several
/// times faster than `qrcode` did (choosing the mask was a third of drawing a slip's preview).
fn modules(url: &str) -> Result<(usize, Vec<bool>), SlipError> {
    let code = QRBuilder::new(url)
        .ecl(ECL::M)
        .build()
        .map_err(|e| SlipError::Qr(format!("{e:?}")))?;
    let size = code.size;
    let dark = code.data[..size * size].iter().map(|m| m.value()).collect();
    Ok((size, dark))
}

/// Encodes `url` (see [`modules`]) as dark blocks.
pub(crate) fn encode(url: &str) -> Result<QrMatrix, SlipError> {
    let (size, colors) = modules(url)?;
    // Blocks still growing downwards: index into `runs` by (column, width) of the last row's runs.
    let mut open: Vec<(usize, usize, usize)> = Vec::new();
    let mut runs: Vec<(usize, usize, usize, usize)> = Vec::new();
    for row in 0..size {
        let line = &colors[row * size..(row + 1) * size];
        let mut next_open = Vec::new();
        let mut col = 0;
        while col < size {
            if line[col] {
                let start = col;
                while col < size && line[col] {
                    col += 1;
                }
                let width = col - start;
                match open.iter().find(|&&(c, w, _)| c == start && w == width) {
                    Some(&(_, _, i)) => {
                        runs[i].3 += 1;
                        next_open.push((start, width, i));
                    }
                    None => {
                        next_open.push((start, width, runs.len()));
                        runs.push((row, start, width, 1));
                    }
                }
            } else {
                col += 1;
            }
        }
        open = next_open;
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
        // The top-left finder pattern's first row is seven dark modules, its sides one module
        // wide and five rows tall.
        assert_eq!(m.runs[0], (0, 0, 7, 1));
        assert!(m.runs.contains(&(1, 0, 1, 5)));
    }

    #[test]
    fn blocks_cover_exactly_the_dark_modules() {
        let url = "https://phc.example.in/s/01J9ZK8M4V3T6QWERTY?k=Ab3xY9";
        let m = encode(url).unwrap();
        let (_, colors) = modules(url).unwrap();
        let mut covered = vec![0u8; m.size * m.size];
        for &(row, col, w, h) in &m.runs {
            for r in row..row + h {
                for c in col..col + w {
                    covered[r * m.size + c] += 1;
                }
            }
        }
        for (i, color) in colors.iter().enumerate() {
            let want = u8::from(*color);
            assert_eq!(covered[i], want, "module {} {}", i / m.size, i % m.size);
        }
        // Merging rows makes fewer blocks than there are horizontal runs.
        let runs = (0..m.size)
            .map(|r| {
                let line = &colors[r * m.size..(r + 1) * m.size];
                (0..m.size)
                    .filter(|&c| line[c] && (c == 0 || !line[c - 1]))
                    .count()
            })
            .sum::<usize>();
        assert!(
            m.runs.len() < runs,
            "{} blocks for {runs} runs",
            m.runs.len()
        );
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
