//! ESC/POS encoding of a [`Raster`] for thermal receipt printers.
//!
//! The image is sent as `GS v 0` raster bit-image commands in horizontal strips: one command per
//! strip keeps each block within the receive buffer of cheap printers. The job starts with
//! `ESC @` (initialise) and ends with a paper feed and a cut, so one job is one torn-off slip.

use crate::raster::Raster;

/// How the paper is cut after the slip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Partial cut (leaves a small tab; the usual receipt cut).
    Partial,
    /// Full cut.
    Full,
    /// No cut command (printers without a cutter).
    None,
}

/// Options for [`Raster::to_escpos_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscPosOptions {
    /// Rows per `GS v 0` command (1..=2047 is safe everywhere; 24 or 256 are common).
    pub rows_per_strip: u16,
    /// Lines fed (`ESC d n`) after the image, so the slip clears the cutter.
    pub feed_lines: u8,
    /// The cut after feeding.
    pub cut: Cut,
}

impl Default for EscPosOptions {
    fn default() -> Self {
        EscPosOptions {
            rows_per_strip: 256,
            feed_lines: 4,
            cut: Cut::Partial,
        }
    }
}

/// `ESC @`: initialise the printer.
pub const INIT: [u8; 2] = [0x1B, 0x40];
/// `GS v 0` with mode 0 (normal density): header of a raster strip, followed by
/// xL xH (bytes per row) and yL yH (rows), then the packed rows.
pub const RASTER_HEADER: [u8; 4] = [0x1D, 0x76, 0x30, 0x00];

impl Raster {
    /// ESC/POS job with the default options (256-row strips, feed 4 lines, partial cut).
    pub fn to_escpos(&self) -> Vec<u8> {
        self.to_escpos_with(&EscPosOptions::default())
    }

    /// ESC/POS job: `ESC @`, the image as `GS v 0` strips, `ESC d n`, then `GS V` cut.
    pub fn to_escpos_with(&self, options: &EscPosOptions) -> Vec<u8> {
        let row_bytes = self.row_bytes();
        let rows_per_strip = usize::from(options.rows_per_strip.clamp(1, 2047));
        let height = self.height() as usize;
        let strips = height.div_ceil(rows_per_strip);
        let mut out = Vec::with_capacity(self.bits().len() + strips * 8 + 16);
        out.extend_from_slice(&INIT);
        let [xl, xh] = (row_bytes as u16).to_le_bytes();
        for (i, chunk) in self.bits().chunks(row_bytes * rows_per_strip).enumerate() {
            debug_assert!(i < strips);
            let rows = (chunk.len() / row_bytes.max(1)) as u16;
            let [yl, yh] = rows.to_le_bytes();
            out.extend_from_slice(&RASTER_HEADER);
            out.extend_from_slice(&[xl, xh, yl, yh]);
            out.extend_from_slice(chunk);
        }
        out.extend_from_slice(&[0x1B, 0x64, options.feed_lines]);
        match options.cut {
            // GS V m: 0x42 = partial cut, 0x41 = full cut ("function B", feed n then cut).
            Cut::Partial => out.extend_from_slice(&[0x1D, 0x56, 0x42, 0x00]),
            Cut::Full => out.extend_from_slice(&[0x1D, 0x56, 0x41, 0x00]),
            Cut::None => {}
        }
        out
    }
}
