//! Anti-aliased coverage masks of single glyphs, made once and reused by every thermal raster
//! and slip preview.
//!
//! Filling glyph outlines is most of the cost of a raster slip (the edge sorting and scan
//! conversion of some 600 glyphs), yet a slip uses a few dozen distinct glyphs at three or four
//! sizes, and every slip uses mostly the same ones. So each glyph is filled once per font, size
//! and eighth-of-a-dot position, into a small 8-bit mask, and a slip is drawn by adding the masks'
//! coverage into one buffer. An eighth of a dot (1/64 mm) is far below what a 203 dpi printer or
//! the threshold can show.
//!
//! The masks live for the process, in one map, emptied whenever it grows past
//! [`MAX_MASKS`] (a slip's glyphs are made again in a few milliseconds).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use rustybuzz::ttf_parser;
use tiny_skia::{FillRule, Mask, PathBuilder, Transform};

use crate::fonts::{Face, FontId};

/// Positions per dot at which a glyph is filled, across (an eighth of a dot) and down (PHASES_Y).
/// The picture differs from filling the outlines in place by about 2% of its black dots, all on
/// edges, and by under 1% in ink (see the raster's unit test).
const PHASES_X: i32 = 8;
/// Down, baselines fall anywhere, and every vertical position is another set of masks: a
/// quarter of a dot keeps the masks of a day's slips in a few megabytes.
const PHASES_Y: i32 = 4;
/// The most masks kept: far more than the glyphs of every slip of a day (each is a few hundred
/// bytes), and a bound if names in unusual scripts keep arriving.
const MAX_MASKS: usize = 16_384;

/// One glyph's coverage (0 = paper, 255 = fully covered), `width` × `height`, whose top-left
/// corner is `(left, top)` dots from the whole dot its pen position falls in.
#[derive(Debug)]
pub(crate) struct GlyphMask {
    left: i32,
    top: i32,
    width: usize,
    height: usize,
    coverage: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    font: FontId,
    glyph: u16,
    /// Dots per font unit, as its bits (the size a glyph is drawn at).
    scale: u32,
    phase_x: u8,
    phase_y: u8,
}

/// The process's glyph masks, locked for the length of one raster.
pub(crate) struct GlyphMasks {
    map: MutexGuard<'static, HashMap<Key, Option<Arc<GlyphMask>>>>,
}

impl GlyphMasks {
    /// Takes the process's masks (one raster at a time draws with them; others wait).
    pub(crate) fn lock() -> GlyphMasks {
        static MASKS: OnceLock<Mutex<HashMap<Key, Option<Arc<GlyphMask>>>>> = OnceLock::new();
        let mut map = MASKS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if map.len() > MAX_MASKS {
            map.clear();
        }
        GlyphMasks { map }
    }

    /// Adds glyph `glyph` of `face` (font `font`), `scale` dots per font unit, with its pen at
    /// (`x`, `y`) dots, into `canvas`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn draw(
        &mut self,
        canvas: &mut Coverage,
        font: FontId,
        face: &Face,
        glyph: u16,
        scale: f32,
        x: f32,
        y: f32,
    ) {
        let (ix, phase_x) = split(x, PHASES_X);
        let (iy, phase_y) = split(y, PHASES_Y);
        let key = Key {
            font,
            glyph,
            scale: scale.to_bits(),
            phase_x,
            phase_y,
        };
        let mask = self
            .map
            .entry(key)
            .or_insert_with(|| {
                fill(
                    face,
                    glyph,
                    scale,
                    f32::from(phase_x) / PHASES_X as f32,
                    f32::from(phase_y) / PHASES_Y as f32,
                )
                .map(Arc::new)
            })
            .clone();
        if let Some(m) = mask {
            canvas.add(&m, ix + m.left, iy + m.top);
        }
    }
}

/// A position in dots as its whole dot and which of `phases` steps within that dot.
fn split(v: f32, phases: i32) -> (i32, u8) {
    let q = (v * phases as f32).round() as i32;
    (q.div_euclid(phases), q.rem_euclid(phases) as u8)
}

/// Fills one glyph with its pen at (`dx`, `dy`) inside the dot at the origin; `None` for a glyph
/// with no outline (a space).
fn fill(face: &Face, glyph: u16, scale: f32, dx: f32, dy: f32) -> Option<GlyphMask> {
    let mut pen = OutlinePen {
        pb: PathBuilder::new(),
        x: dx,
        y: dy,
        scale,
    };
    face.rb
        .outline_glyph(ttf_parser::GlyphId(glyph), &mut pen)?;
    let path = pen.pb.finish()?;
    let b = path.bounds();
    // One dot of room on every side for the anti-aliased edge.
    let left = b.left().floor() as i32 - 1;
    let top = b.top().floor() as i32 - 1;
    let width = (b.right().ceil() as i32 + 1 - left).max(1) as u32;
    let height = (b.bottom().ceil() as i32 + 1 - top).max(1) as u32;
    let mut mask = Mask::new(width, height)?;
    mask.fill_path(
        &path.transform(Transform::from_translate(-left as f32, -top as f32))?,
        FillRule::Winding,
        true,
        Transform::identity(),
    );
    Some(GlyphMask {
        left,
        top,
        width: width as usize,
        height: height as usize,
        coverage: mask.data().to_vec(),
    })
}

/// A slip's coverage, one byte per dot, row by row; glyphs add (saturating), as the winding
/// fill of overlapping outlines does.
pub(crate) struct Coverage {
    pub(crate) width: usize,
    pub(crate) height: usize,
    pub(crate) data: Vec<u8>,
}

impl Coverage {
    pub(crate) fn new(width: usize, height: usize) -> Coverage {
        Coverage {
            width,
            height,
            data: vec![0; width * height],
        }
    }

    /// Adds `m` with its top-left corner at (`x`, `y`), clipped to the canvas.
    fn add(&mut self, m: &GlyphMask, x: i32, y: i32) {
        let (w, h) = (self.width as i32, self.height as i32);
        let x0 = x.max(0);
        let x1 = (x + m.width as i32).min(w);
        if x0 >= x1 {
            return;
        }
        for row in 0..m.height as i32 {
            let cy = y + row;
            if cy < 0 || cy >= h {
                continue;
            }
            let src = &m.coverage[row as usize * m.width..][(x0 - x) as usize..(x1 - x) as usize];
            let at = cy as usize * self.width;
            let dst = &mut self.data[at + x0 as usize..at + x1 as usize];
            for (d, s) in dst.iter_mut().zip(src) {
                *d = d.saturating_add(*s);
            }
        }
    }
}

/// Receives a glyph outline in font units and appends it, placed and scaled, to a path.
pub(crate) struct OutlinePen {
    pub(crate) pb: PathBuilder,
    pub(crate) x: f32,
    pub(crate) y: f32,
    pub(crate) scale: f32,
}

impl OutlinePen {
    fn p(&self, x: f32, y: f32) -> (f32, f32) {
        (self.x + x * self.scale, self.y - y * self.scale)
    }
}

impl ttf_parser::OutlineBuilder for OutlinePen {
    fn move_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.p(x, y);
        self.pb.move_to(x, y);
    }

    fn line_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.p(x, y);
        self.pb.line_to(x, y);
    }

    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (x1, y1) = self.p(x1, y1);
        let (x, y) = self.p(x, y);
        self.pb.quad_to(x1, y1, x, y);
    }

    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (x1, y1) = self.p(x1, y1);
        let (x2, y2) = self.p(x2, y2);
        let (x, y) = self.p(x, y);
        self.pb.cubic_to(x1, y1, x2, y2, x, y);
    }

    fn close(&mut self) {
        self.pb.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_split_into_dot_and_eighth() {
        assert_eq!(split(10.0, 8), (10, 0));
        assert_eq!(split(10.13, 8), (10, 1));
        assert_eq!(split(10.95, 8), (11, 0));
        assert_eq!(split(-0.26, 8), (-1, 6));
        assert_eq!(split(-0.26, 4), (-1, 3));
    }

    #[test]
    fn masks_are_clipped_to_the_canvas() {
        let m = GlyphMask {
            left: 0,
            top: 0,
            width: 3,
            height: 2,
            coverage: vec![200; 6],
        };
        let mut c = Coverage::new(4, 3);
        c.add(&m, 2, 2); // only (2,2) and (3,2) land
        c.add(&m, -2, -1); // only (0,0)
        c.add(&m, 2, 2); // adds, saturating
        assert_eq!(c.data, [200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255]);
        c.add(&m, 9, 9); // wholly outside: nothing
        c.add(&m, -9, 0);
        assert_eq!(c.data.iter().filter(|&&v| v != 0).count(), 3);
    }
}
