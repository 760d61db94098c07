//! OpenType shaping of one line of bilingual text.
//!
//! Each script run (see [`crate::script_runs`]) is shaped with rustybuzz in its own font. This is
//! where Devanagari becomes correct: conjuncts (क्ष, त्र), the reph (र्), and the ि matra that is
//! drawn before its consonant although it is typed after it. Each glyph keeps the byte range of
//! the text it came from, so the PDF can map glyphs back to text in logical order (copy/paste,
//! `pdftotext`, screen readers). Shaped runs are kept for reuse (see [`MAX_SHAPED`]).

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

use crate::fonts::{FontId, Fonts, Weight};
use crate::script_runs;

/// One positioned glyph; all distances in em (multiply by the font size).
#[derive(Debug, Clone)]
pub(crate) struct ShapedGlyph {
    pub(crate) id: u16,
    pub(crate) x_advance: f32,
    pub(crate) x_offset: f32,
    /// Upwards offset, as OpenType gives it.
    pub(crate) y_offset: f32,
    /// Bytes of [`ShapedRun::text`] this glyph's cluster covers.
    pub(crate) text_range: Range<usize>,
}

/// A run of text in one font, shaped.
#[derive(Debug, Clone)]
pub(crate) struct ShapedRun {
    pub(crate) font: FontId,
    pub(crate) text: String,
    pub(crate) glyphs: Vec<ShapedGlyph>,
    /// Total advance, in em.
    pub(crate) advance: f32,
}

/// Shapes `text` (one line, no line breaks) into runs in logical = visual order (both scripts
/// are left-to-right).
pub(crate) fn shape_line(fonts: &Fonts, text: &str, weight: Weight) -> Vec<ShapedRun> {
    script_runs::split(text)
        .into_iter()
        .map(|(script, range)| shaped(fonts, FontId::of(script, weight), &text[range]))
        .collect()
}

/// Most shaped runs kept. A slip's labels, the facility's name and the departments are the same
/// on every slip, the token screen's preview and the print of one visit share their patient's
/// lines, and line breaking measures the same words again: shaping each once saves most of the
/// shaping time. Emptied when full (a slip's runs are shaped again in about a millisecond).
const MAX_SHAPED: usize = 4096;

/// `text` shaped in `font`, from the process's runs already shaped when it is there.
fn shaped(fonts: &Fonts, font: FontId, text: &str) -> ShapedRun {
    static SHAPED: OnceLock<Mutex<HashMap<(FontId, String), ShapedRun>>> = OnceLock::new();
    let runs = SHAPED.get_or_init(Default::default);
    let key = (font, text.to_owned());
    if let Some(r) = runs.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return r.clone();
    }
    let run = shape_run(fonts, font, text);
    let mut runs = runs.lock().unwrap_or_else(|e| e.into_inner());
    if runs.len() >= MAX_SHAPED {
        runs.clear();
    }
    runs.insert(key, run.clone());
    run
}

/// Width of already shaped runs, in em.
pub(crate) fn advance(runs: &[ShapedRun]) -> f32 {
    runs.iter().map(|r| r.advance).sum()
}

/// Shape plans, one per font, direction and script. Building a plan (reading the font's GSUB/GPOS
/// feature lists) cost more than shaping a slip's short lines; a slip uses a handful of them.
fn plan_for(
    font: FontId,
    face: &rustybuzz::Face<'_>,
    direction: rustybuzz::Direction,
    script: rustybuzz::Script,
) -> Arc<rustybuzz::ShapePlan> {
    type Key = (FontId, rustybuzz::Direction, rustybuzz::Script);
    static PLANS: OnceLock<Mutex<HashMap<Key, Arc<rustybuzz::ShapePlan>>>> = OnceLock::new();
    let plans = PLANS.get_or_init(Default::default);
    let key = (font, direction, script);
    if let Some(p) = plans.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Arc::clone(p);
    }
    // Built outside the lock, exactly as `rustybuzz::shape` would: a buffer of only common
    // characters (digits, punctuation) has no script, and its language is never set.
    let plan = Arc::new(rustybuzz::ShapePlan::new(
        face,
        direction,
        (script != rustybuzz::script::UNKNOWN).then_some(script),
        None,
        &[],
    ));
    plans
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_insert(plan)
        .clone()
}

fn shape_run(fonts: &Fonts, font: FontId, text: &str) -> ShapedRun {
    let face = fonts.face(font);
    let mut buffer = rustybuzz::UnicodeBuffer::new();
    buffer.push_str(text);
    buffer.set_direction(rustybuzz::Direction::LeftToRight);
    buffer.guess_segment_properties();
    let plan = plan_for(font, &face.rb, buffer.direction(), buffer.script());
    let output = rustybuzz::shape_with_plan(&face.rb, &plan, buffer);
    let infos = output.glyph_infos();
    let positions = output.glyph_positions();
    let upem = face.units_per_em;

    let mut glyphs = Vec::with_capacity(infos.len());
    let mut total = 0.0;
    for (i, (info, pos)) in infos.iter().zip(positions).enumerate() {
        let start = info.cluster as usize;
        // The cluster ends where the next cluster (a different value) starts.
        let end = infos[i + 1..]
            .iter()
            .map(|next| next.cluster as usize)
            .find(|&c| c != start)
            .unwrap_or(text.len());
        let (start, end) = (
            start.min(text.len()),
            end.clamp(start.min(text.len()), text.len()),
        );
        let x_advance = pos.x_advance as f32 / upem;
        total += x_advance;
        glyphs.push(ShapedGlyph {
            id: u16::try_from(info.glyph_id).unwrap_or(0),
            x_advance,
            x_offset: pos.x_offset as f32 / upem,
            y_offset: pos.y_offset as f32 / upem,
            text_range: start..end,
        });
    }
    ShapedRun {
        font,
        text: text.to_owned(),
        glyphs,
        advance: total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fonts::Script;

    fn glyph_names(text: &str) -> Vec<u16> {
        let fonts = Fonts::get().unwrap();
        let runs = shape_line(fonts, text, Weight::Regular);
        assert_eq!(runs.len(), 1);
        runs[0].glyphs.iter().map(|g| g.id).collect()
    }

    fn cmap(c: char) -> u16 {
        let fonts = Fonts::get().unwrap();
        let face = &fonts
            .face(FontId::of(Script::Devanagari, Weight::Regular))
            .rb;
        face.glyph_index(c).unwrap().0
    }

    #[test]
    fn i_matra_is_drawn_before_its_consonant() {
        // "जि": the ि (U+093F) is typed after ज but must come first visually.
        let ids = glyph_names("जि");
        assert_eq!(ids.len(), 2);
        assert_eq!(ids[1], cmap('ज'));
        assert_ne!(ids[0], cmap('ज'));
    }

    #[test]
    fn conjuncts_form_ligatures() {
        // क + ् + ष → one क्ष glyph; त + ् + र → one त्र glyph.
        assert_eq!(glyph_names("क्ष").len(), 1);
        assert_eq!(glyph_names("त्र").len(), 1);
    }

    #[test]
    fn reph_moves_after_its_base() {
        // "र्म" (as in शर्मा): the reph is drawn above/after म, so म's glyph comes first.
        let ids = glyph_names("र्म");
        assert_eq!(ids.len(), 2);
        assert_eq!(ids[0], cmap('म'));
    }

    #[test]
    fn a_run_shaped_again_is_the_same() {
        let fonts = Fonts::get().unwrap();
        let font = FontId::of(Script::Devanagari, Weight::Bold);
        let first = shaped(fonts, font, "लक्ष्मी कुमारी");
        let again = shaped(fonts, font, "लक्ष्मी कुमारी");
        let direct = shape_run(fonts, font, "लक्ष्मी कुमारी");
        for r in [&first, &again] {
            assert_eq!(r.text, direct.text);
            assert_eq!(r.advance, direct.advance);
            let ids = |r: &ShapedRun| r.glyphs.iter().map(|g| g.id).collect::<Vec<_>>();
            assert_eq!(ids(r), ids(&direct));
        }
        // Same text in another font: shaped in that font, not taken from the first.
        let regular = shaped(
            fonts,
            FontId::of(Script::Devanagari, Weight::Regular),
            "लक्ष्मी कुमारी",
        );
        assert_ne!(regular.font, first.font);
    }

    #[test]
    fn clusters_cover_the_text_in_logical_order() {
        let fonts = Fonts::get().unwrap();
        let runs = shape_line(fonts, "जिला Patna", Weight::Bold);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].text, "जिला ");
        let first = &runs[0].glyphs[0];
        assert_eq!(&runs[0].text[first.text_range.clone()], "जि");
        assert!(runs[1].advance > 0.0);
    }
}
