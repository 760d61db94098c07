//! Thermal-printer backend: the layout as a 1-bit image 576 dots wide (72 mm at 8 dots/mm,
//! i.e. an 80 mm roll at 203 dpi). The token screen's slip preview is the same picture.
//!
//! ESC/POS code pages cannot show Devanagari, so thermal slips are printed as pictures. Glyph
//! outlines are taken from the same fonts and the same shaping as the PDF (ttf-parser outlines
//! filled by tiny-skia, each glyph once: see [`crate::glyph_masks`]), then thresholded to black
//! and white. Rules and QR modules are snapped
//! to whole dots so the code stays sharp and scannable.

use crate::error::SlipError;
use crate::fonts::Fonts;
use crate::glyph_masks::{Coverage, GlyphMasks};
use crate::layout::{Item, Layout, PT_PER_MM};

/// Printable width of an 80 mm roll at 203 dpi, in dots.
pub const RASTER_WIDTH: u32 = 576;
/// Dots per millimetre (203.2 dpi).
pub(crate) const DOTS_PER_MM: f32 = 8.0;
/// Side margin inside the printable width, in millimetres.
pub(crate) const SIDE_MARGIN_MM: f32 = 1.5;
const TOP_MARGIN_MM: f32 = 2.0;
const BOTTOM_MARGIN_MM: f32 = 2.0;
/// Anti-aliased coverage at or above which a dot is printed (of 255). Slightly under half, so
/// hairline strokes of small Devanagari survive.
const THRESHOLD: u8 = 110;

/// A 1-bit image: rows of `width` dots, packed 8 per byte, most significant bit first, 1 = black
/// (printed). This is the bit order ESC/POS raster commands use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raster {
    width: u32,
    height: u32,
    bits: Vec<u8>,
}

impl Raster {
    /// Width in dots.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in dots (rows).
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes per row (`width / 8`, rounded up).
    pub fn row_bytes(&self) -> usize {
        self.width.div_ceil(8) as usize
    }

    /// The packed rows (see the type's documentation for the bit order).
    pub fn bits(&self) -> &[u8] {
        &self.bits
    }

    /// Whether the dot at (`x`, `y`) is black; false outside the image.
    pub fn is_black(&self, x: u32, y: u32) -> bool {
        if x >= self.width || y >= self.height {
            return false;
        }
        let i = y as usize * self.row_bytes() + (x / 8) as usize;
        self.bits[i] & (0x80 >> (x % 8)) != 0
    }

    fn set_black(&mut self, x: u32, y: u32) {
        if x < self.width && y < self.height {
            let i = y as usize * self.row_bytes() + (x / 8) as usize;
            self.bits[i] |= 0x80 >> (x % 8);
        }
    }

    /// Encodes the image as a 1-bit greyscale PNG (for previews, tests and archiving).
    pub fn to_png(&self) -> Result<Vec<u8>, SlipError> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, self.width, self.height);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::One);
        let mut writer = enc
            .write_header()
            .map_err(|e| SlipError::Raster(e.to_string()))?;
        // In PNG greyscale 0 is black: invert our "1 = print" bits.
        let data: Vec<u8> = self.bits.iter().map(|b| !b).collect();
        writer
            .write_image_data(&data)
            .map_err(|e| SlipError::Raster(e.to_string()))?;
        writer
            .finish()
            .map_err(|e| SlipError::Raster(e.to_string()))?;
        Ok(out)
    }
}

/// Renders `layout` (laid out for the 80 mm roll) to a 576-dot-wide raster.
pub(crate) fn render(layout: &Layout) -> Result<Raster, SlipError> {
    let fonts = Fonts::get()?;
    let Geometry { k, ox, oy, height } = Geometry::of(layout);
    if height == 0 || height > MAX_HEIGHT {
        return Err(SlipError::Raster(format!(
            "invalid size {RASTER_WIDTH}x{height}"
        )));
    }
    let mut coverage = Coverage::new(RASTER_WIDTH as usize, height as usize);
    let mut masks = GlyphMasks::lock();
    let mut rects = Vec::new();
    for item in &layout.items {
        match item {
            Item::Text {
                x,
                baseline,
                size,
                run,
            } => {
                let face = fonts.face(run.font);
                let scale = size * k / face.units_per_em;
                let y = oy + baseline * k;
                let mut gx = ox + x * k;
                for g in &run.glyphs {
                    masks.draw(
                        &mut coverage,
                        run.font,
                        face,
                        g.id,
                        scale,
                        gx + g.x_offset * size * k,
                        y - g.y_offset * size * k,
                    );
                    gx += g.x_advance * size * k;
                }
            }
            Item::Rects(rs) => rects.extend_from_slice(rs),
            Item::Grid { x, y, unit, cells } => {
                rects.extend(Item::grid_in_points(*x, *y, *unit, cells))
            }
        }
    }
    drop(masks);
    Ok(finish(&coverage, &rects, ox, oy, k))
}

/// Where a layout lands on the roll: dots per point, the content's offset in dots, and the
/// raster's height.
struct Geometry {
    k: f32,
    ox: f32,
    oy: f32,
    height: u32,
}

impl Geometry {
    fn of(layout: &Layout) -> Geometry {
        let k = DOTS_PER_MM / PT_PER_MM;
        let oy = TOP_MARGIN_MM * DOTS_PER_MM;
        Geometry {
            k,
            ox: SIDE_MARGIN_MM * DOTS_PER_MM,
            oy,
            height: (oy + layout.height * k + BOTTOM_MARGIN_MM * DOTS_PER_MM).ceil() as u32,
        }
    }
}

/// Tallest raster made (25 m of roll, 115 MB of coverage): a bound on memory, far above any slip
/// or report.
const MAX_HEIGHT: u32 = 200_000;

/// Thresholds the coverage into dots, 8 to a byte, then adds the rectangles snapped to whole
/// dots, so every QR module edge lands on the same grid.
fn finish(coverage: &Coverage, rects: &[crate::layout::Rect], ox: f32, oy: f32, k: f32) -> Raster {
    let width = coverage.width as u32;
    let mut raster = Raster {
        width,
        height: coverage.height as u32,
        bits: Vec::with_capacity(width.div_ceil(8) as usize * coverage.height),
    };
    for row in coverage.data.chunks_exact(coverage.width) {
        raster.bits.extend(row.chunks(8).map(|dots| {
            dots.iter()
                .enumerate()
                .filter(|(_, &c)| c >= THRESHOLD)
                .fold(0u8, |byte, (i, _)| byte | (0x80 >> i))
        }));
    }
    let snap = |v: f32| v.round().max(0.0) as u32;
    for r in rects {
        let (x0, x1) = (snap(ox + r.x * k), snap(ox + (r.x + r.w) * k));
        let (y0, y1) = (snap(oy + r.y * k), snap(oy + (r.y + r.h) * k));
        for y in y0..y1.max(y0 + 1) {
            for x in x0..x1.max(x0 + 1) {
                raster.set_black(x, y);
            }
        }
    }
    raster
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glyph_masks::OutlinePen;
    use rustybuzz::ttf_parser;
    use tiny_skia::{FillRule, Paint, PathBuilder, Pixmap, Transform};

    /// The slip drawn the direct way: each run's outlines filled as one path over the whole
    /// page. The masks must give the same picture.
    fn render_by_paths(layout: &Layout) -> Raster {
        let fonts = Fonts::get().unwrap();
        let Geometry { k, ox, oy, height } = Geometry::of(layout);
        let mut pixmap = Pixmap::new(RASTER_WIDTH, height).unwrap();
        let mut paint = Paint::default();
        paint.set_color_rgba8(0, 0, 0, 255);
        paint.anti_alias = true;
        let mut rects = Vec::new();
        for item in &layout.items {
            match item {
                Item::Text {
                    x,
                    baseline,
                    size,
                    run,
                } => {
                    let face = fonts.face(run.font);
                    let mut pen = OutlinePen {
                        pb: PathBuilder::new(),
                        x: 0.0,
                        y: oy + baseline * k,
                        scale: size * k / face.units_per_em,
                    };
                    let mut gx = ox + x * k;
                    for g in &run.glyphs {
                        pen.x = gx + g.x_offset * size * k;
                        let y0 = pen.y;
                        pen.y = y0 - g.y_offset * size * k;
                        face.rb.outline_glyph(ttf_parser::GlyphId(g.id), &mut pen);
                        pen.y = y0;
                        gx += g.x_advance * size * k;
                    }
                    if let Some(path) = pen.pb.finish() {
                        pixmap.fill_path(
                            &path,
                            &paint,
                            FillRule::Winding,
                            Transform::identity(),
                            None,
                        );
                    }
                }
                Item::Rects(rs) => rects.extend_from_slice(rs),
                Item::Grid { x, y, unit, cells } => {
                    rects.extend(Item::grid_in_points(*x, *y, *unit, cells))
                }
            }
        }
        let coverage = Coverage {
            width: RASTER_WIDTH as usize,
            height: height as usize,
            data: pixmap.pixels().iter().map(|p| p.alpha()).collect(),
        };
        finish(&coverage, &rects, ox, oy, k)
    }

    #[test]
    fn glyph_masks_draw_what_filling_the_outlines_draws() {
        for data in [crate::SlipData::example(), {
            let mut d = crate::SlipData::example();
            d.patient_name_en = "Lakshmi Kumari Paswan".into();
            d.patient_name_hi = Some("लक्ष्मी कुमारी पासवान".into());
            d.reprint = Some("REPRINT 3 / पुनर्मुद्रण 3".into());
            d
        }] {
            let layout =
                crate::layout::layout(&data, &crate::params(crate::SlipSize::Roll80)).unwrap();
            // Twice: the second from masks already made.
            for _ in 0..2 {
                let fast = render(&layout).unwrap();
                let reference = render_by_paths(&layout);
                assert_eq!(
                    (fast.width, fast.height),
                    (reference.width, reference.height)
                );
                let black: u32 = reference.bits.iter().map(|b| b.count_ones()).sum();
                let differ: u32 = fast
                    .bits
                    .iter()
                    .zip(&reference.bits)
                    .map(|(a, b)| (a ^ b).count_ones())
                    .sum();
                assert!(black > 10_000, "{black} black dots");
                // Placement to an eighth of a dot across and a quarter down moves a few edge
                // dots, no more, and neither thickens nor thins the strokes.
                assert!(
                    differ * 100 < black * 3,
                    "{differ} of {black} black dots differ"
                );
                let fast_black: u32 = fast.bits.iter().map(|b| b.count_ones()).sum();
                assert!(
                    fast_black.abs_diff(black) * 100 < black,
                    "{fast_black} black dots, {black} filling the outlines"
                );
            }
        }
    }
}
