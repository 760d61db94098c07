//! The slip's page layout, independent of the output format.
//!
//! [`layout`] turns a [`SlipData`] into a display list of shaped text runs and filled
//! rectangles, in points (1/72 inch), origin at the top-left of the content area, y downwards.
//! The PDF and the thermal raster are two renderings of this one list, so an A6 sheet, an 80 mm
//! PDF and the ESC/POS print all say the same thing in the same arrangement.
//!
//! The arrangement follows a government OPD slip: facility header, a token block with a large
//! token number beside the QR code, a two-column table of bilingual labels ("नाम / Name") and
//! values, then short Hindi notices.

use crate::error::SlipError;
use crate::fonts::{Fonts, Weight};
use crate::qr;
use crate::script_runs::is_devanagari;
use crate::shaping::{advance, shape_line, ShapedRun};
use crate::SlipData;

pub(crate) mod poster;

/// Points per millimetre.
pub(crate) const PT_PER_MM: f32 = 72.0 / 25.4;

/// A filled black rectangle, in points.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rect {
    pub(crate) x: f32,
    pub(crate) y: f32,
    pub(crate) w: f32,
    pub(crate) h: f32,
}

/// One thing to draw.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    /// A shaped run whose pen starts at (`x`, `baseline`), set at `size` points.
    Text {
        x: f32,
        baseline: f32,
        size: f32,
        run: ShapedRun,
    },
    /// Filled black rectangles (rules, frames).
    Rects(Vec<Rect>),
    /// Filled black cells of a grid (the QR symbol) whose origin is (`x`, `y`) and whose unit is
    /// `unit` points: the cells are in units, so a PDF writes them as small whole numbers under
    /// one scaling (a third of the slip's content stream was the QR's coordinates).
    Grid {
        x: f32,
        y: f32,
        unit: f32,
        cells: Vec<Rect>,
    },
}

impl Item {
    /// A grid's cells in points, as the other rectangles are.
    pub(crate) fn grid_in_points(
        x: f32,
        y: f32,
        unit: f32,
        cells: &[Rect],
    ) -> impl Iterator<Item = Rect> + '_ {
        cells.iter().map(move |c| Rect {
            x: x + c.x * unit,
            y: y + c.y * unit,
            w: c.w * unit,
            h: c.h * unit,
        })
    }
}

/// A laid-out slip: content `width`×`height` points and what to draw in it.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) width: f32,
    pub(crate) height: f32,
    pub(crate) items: Vec<Item>,
}

/// Font sizes and spacing for one paper format (before any shrink-to-fit).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Params {
    /// Content width in points.
    pub(crate) width: f32,
    /// If set, the layout is shrunk until it fits this height.
    pub(crate) max_height: Option<f32>,
    pub(crate) title: f32,
    pub(crate) subtitle: f32,
    pub(crate) label: f32,
    pub(crate) value: f32,
    pub(crate) token: f32,
    pub(crate) notice: f32,
    pub(crate) qr: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Center,
}

/// One line of text ready to place: runs, size and extent in points.
pub(crate) struct Line {
    pub(crate) runs: Vec<ShapedRun>,
    pub(crate) size: f32,
    pub(crate) width: f32,
    pub(crate) ascent: f32,
    pub(crate) descent: f32,
}

/// Extra space between lines, as a fraction of the font size.
pub(crate) const LEADING: f32 = 0.12;

/// Smallest uniform shrink applied to make a slip fit its page.
const MIN_SCALE: f32 = 0.6;

/// Lays out `data` with `params`, shrinking uniformly (down to [`MIN_SCALE`]) if a maximum height is set
/// and the content would not fit.
pub(crate) fn layout(data: &SlipData, params: &Params) -> Result<Layout, SlipError> {
    let fonts = Fonts::get()?;
    let qr = qr::encode_cached(&data.qr_url)?;
    let mut scale: f32 = 1.0;
    loop {
        let out = build(fonts, data, params, scale, &qr);
        match params.max_height {
            Some(max) if out.height > max && scale > MIN_SCALE => {
                // Heights scale almost linearly; aim just below, then step down if needed.
                let aim = scale * max / out.height * 0.995;
                scale = aim.min(scale * 0.97).max(MIN_SCALE);
            }
            _ => return Ok(out),
        }
    }
}

pub(crate) struct Builder<'f> {
    pub(crate) fonts: &'f Fonts,
    pub(crate) width: f32,
    pub(crate) items: Vec<Item>,
}

fn build(fonts: &Fonts, d: &SlipData, p: &Params, s: f32, qr: &qr::QrMatrix) -> Layout {
    let mut b = Builder {
        fonts,
        width: p.width,
        items: Vec::new(),
    };
    let w = p.width;
    let gap = 4.0 * s;
    let mut y = 0.0;

    // Header: facility name (Hindi / English), address, document title, reprint marker.
    let (hi, en) = (d.facility_name_hi.trim(), d.facility_name_en.trim());
    let both = format!("{hi} / {en}");
    let one_line = b.wrap(&both, p.title * s, Weight::Bold, w);
    if !hi.is_empty() && !en.is_empty() && one_line.len() == 1 {
        y = b.place(one_line, 0.0, w, Align::Center, y);
    } else {
        for name in [hi, en] {
            let lines = b.wrap(name, p.title * s, Weight::Bold, w);
            y = b.place(lines, 0.0, w, Align::Center, y);
        }
    }
    let lines = b.wrap(&d.facility_address, p.subtitle * s, Weight::Regular, w);
    y = b.place(lines, 0.0, w, Align::Center, y);
    y += gap * 0.5;
    let lines = b.wrap(
        "ओपीडी पर्ची / OPD Slip",
        (p.subtitle + 1.5) * s,
        Weight::Bold,
        w,
    );
    y = b.place(lines, 0.0, w, Align::Center, y);
    if let Some(reprint) = d
        .reprint
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        y += gap * 0.5;
        y = b.framed(reprint, p.subtitle * s, w, y, s);
    }
    y += gap;
    b.rule(y, 1.2 * s);
    y += 1.2 * s + gap;

    // Token block: label, large token and room on the left; QR code on the right.
    let qr_size = p.qr * s;
    let left_w = w - qr_size - gap * 2.0;
    let top = y;
    let mut ly = y;
    let lines = b.wrap(
        "टोकन संख्या / Token No.",
        p.label * s,
        Weight::Regular,
        left_w,
    );
    ly = b.place(lines, 0.0, left_w, Align::Center, ly);
    ly = b.token(&d.token, p.token * s, left_w, ly);
    let room = format!("कक्ष / Room: {}", d.room.trim());
    let lines = b.wrap(&room, p.value * 1.15 * s, Weight::Bold, left_w);
    ly = b.place(lines, 0.0, left_w, Align::Center, ly);
    let block_h = (ly - top).max(qr_size);
    // Centre the left column vertically against the QR code.
    let shift = (block_h - (ly - top)) / 2.0;
    if shift > 0.0 {
        for item in &mut b.items {
            if let Item::Text { baseline, .. } = item {
                if *baseline > top {
                    *baseline += shift;
                }
            }
        }
    }
    b.qr(qr, w - qr_size, top + (block_h - qr_size) / 2.0, qr_size);
    y = top + block_h + gap;
    // The slip page's link in small text under the QR, for a phone that cannot scan (issue 12).
    if d.qr_url.starts_with("http") {
        let lines = b.wrap(&d.qr_url, p.label * 0.7 * s, Weight::Regular, w);
        y = b.place(lines, 0.0, w, Align::Center, y) + gap * 0.5;
    }
    b.rule(y, 0.6 * s);
    y += 0.6 * s + gap;

    // The bilingual table.
    let mut rows: Vec<(&str, String, Weight)> = Vec::new();
    let dept = join_bilingual(&d.department_hi, &d.department_en);
    rows.push(("विभाग / Dept.", dept, Weight::Bold));
    rows.push(("यूएचआईडी / UHID", d.uhid.trim().to_owned(), Weight::Bold));
    let name = match d
        .patient_name_hi
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        Some(hi) => format!("{hi} ({})", d.patient_name_en.trim()),
        None => d.patient_name_en.trim().to_owned(),
    };
    rows.push(("नाम / Name", name, Weight::Regular));
    rows.push((
        "आयु/लिंग / Age/Sex",
        d.age_sex.trim().to_owned(),
        Weight::Regular,
    ));
    rows.push((
        "अभिभावक / Guardian",
        d.guardian.trim().to_owned(),
        Weight::Regular,
    ));
    let address: Vec<&str> = d
        .address_lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect();
    rows.push(("पता / Address", address.join("\n"), Weight::Regular));
    if let Some(a) = &d.aadhaar_masked {
        rows.push(("आधार / Aadhaar", a.trim().to_owned(), Weight::Regular));
    }
    if let Some(a) = &d.abha_number {
        rows.push(("आभा / ABHA", a.trim().to_owned(), Weight::Regular));
    }
    if let Some(a) = d
        .abha_address
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        rows.push(("आभा पता / ABHA address", a.to_owned(), Weight::Regular));
    }
    rows.push((
        "दिनांक / Date",
        d.visit_datetime.trim().to_owned(),
        Weight::Regular,
    ));
    rows.push((
        "वैधता / Valid till",
        d.valid_until.trim().to_owned(),
        Weight::Regular,
    ));
    rows.push(("शुल्क / Fee", d.fee.trim().to_owned(), Weight::Regular));
    let visit = join_bilingual(&d.visit_type_hi, &d.visit_type_en);
    rows.push(("प्रकार / Visit", visit, Weight::Regular));
    rows.retain(|(_, v, _)| !v.trim().is_empty());

    let label_size = p.label * s;
    let value_size = p.value * s;
    let col_gap = 5.0 * s;
    let widest = rows
        .iter()
        .map(|(l, _, _)| advance(&shape_line(fonts, l, Weight::Bold)) * label_size)
        .fold(0.0, f32::max);
    let label_w = widest.min(w * 0.4);
    let value_x = label_w + col_gap;
    let value_w = w - value_x;
    for (label, value, weight) in &rows {
        let labels = b.wrap(label, label_size, Weight::Bold, label_w);
        let mut values = Vec::new();
        for para in value.split('\n') {
            values.extend(b.wrap(para, value_size, *weight, value_w));
        }
        // Align the label's first baseline with the value's first baseline.
        let asc = |ls: &[Line]| ls.first().map_or(0.0, |l| l.ascent);
        let first = asc(&labels).max(asc(&values));
        let ly = b.place(labels_from(labels, first), 0.0, label_w, Align::Left, y);
        let vy = b.place(labels_from(values, first), value_x, value_w, Align::Left, y);
        y = ly.max(vy) + 1.5 * s;
    }

    // Notices.
    let notices: Vec<&str> = d
        .notices_hi
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
        .collect();
    if !notices.is_empty() {
        y += gap * 0.5;
        b.rule(y, 0.6 * s);
        y += 0.6 * s + gap;
        let size = p.notice * s;
        let bullet = b.wrap("•", size, Weight::Regular, w);
        let indent = bullet.first().map_or(0.0, |l| l.width) + 3.0 * s;
        for notice in notices {
            let lines = b.wrap(notice, size, Weight::Regular, w - indent);
            let first = lines.first().map_or(0.0, |l| l.ascent);
            b.place(
                labels_from(b.wrap("•", size, Weight::Regular, w), first),
                0.0,
                w,
                Align::Left,
                y,
            );
            y = b.place(lines, indent, w - indent, Align::Left, y) + 1.0 * s;
        }
    }
    y += gap;
    b.rule(y, 0.6 * s);
    y += 0.6 * s;

    Layout {
        width: w,
        height: y,
        items: b.items,
    }
}

fn join_bilingual(hi: &str, en: &str) -> String {
    match (hi.trim(), en.trim()) {
        ("", en) => en.to_owned(),
        (hi, "") => hi.to_owned(),
        (hi, en) => format!("{hi} / {en}"),
    }
}

/// Raises the first line's ascent to `ascent`, so that two columns share a first baseline.
fn labels_from(mut lines: Vec<Line>, ascent: f32) -> Vec<Line> {
    if let Some(first) = lines.first_mut() {
        first.ascent = first.ascent.max(ascent);
    }
    lines
}

impl Builder<'_> {
    /// Breaks `text` into lines no wider than `max_w` (at spaces; inside a word only where no
    /// Devanagari syllable is split) and shapes them.
    pub(crate) fn wrap(&self, text: &str, size: f32, weight: Weight, max_w: f32) -> Vec<Line> {
        let text = text.trim();
        if text.is_empty() {
            return Vec::new();
        }
        let whole = shape_line(self.fonts, text, weight);
        if advance(&whole) * size <= max_w {
            return vec![self.line(whole, size)];
        }
        let measure = |t: &str| advance(&shape_line(self.fonts, t, weight)) * size;
        let space = measure(" ").max(size * 0.2);
        let mut lines = Vec::new();
        // Current line as a byte range of `text`, and its width.
        let mut cur: Option<(usize, usize, f32)> = None;
        let mut words = Vec::new();
        let mut start = None;
        for (i, c) in text.char_indices() {
            match (c == ' ', start) {
                (true, Some(s)) => {
                    words.push((s, i));
                    start = None;
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
        if let Some(s) = start {
            words.push((s, text.len()));
        }
        for (ws, we) in words {
            let ww = measure(&text[ws..we]);
            if let Some((ls, le, lw)) = cur {
                if lw + space + ww <= max_w {
                    cur = Some((ls, we, lw + space + ww));
                    continue;
                }
                lines.push(self.line(shape_line(self.fonts, &text[ls..le], weight), size));
            }
            if ww <= max_w {
                cur = Some((ws, we, ww));
                continue;
            }
            // A word wider than the column: cut it at safe character boundaries.
            let mut ps = ws;
            let mut last_ok = None;
            for (off, _) in text[ws..we].char_indices().skip(1) {
                let pos = ws + off;
                if !safe_break(text, pos) {
                    continue;
                }
                if measure(&text[ps..pos]) > max_w {
                    let cut = last_ok.filter(|&c| c > ps).unwrap_or(pos);
                    lines.push(self.line(shape_line(self.fonts, &text[ps..cut], weight), size));
                    ps = cut;
                }
                last_ok = Some(pos);
            }
            cur = Some((ps, we, measure(&text[ps..we])));
        }
        if let Some((ls, le, _)) = cur {
            lines.push(self.line(shape_line(self.fonts, &text[ls..le], weight), size));
        }
        lines
    }

    pub(crate) fn line(&self, runs: Vec<ShapedRun>, size: f32) -> Line {
        let (mut ascent, mut descent) = (0.0f32, 0.0f32);
        for run in &runs {
            let face = self.fonts.face(run.font);
            ascent = ascent.max(face.ascender);
            descent = descent.max(face.descender);
        }
        let width = advance(&runs) * size;
        Line {
            runs,
            size,
            width,
            ascent: ascent * size,
            descent: descent * size,
        }
    }

    /// Places `lines` from `y` downwards in the column [`x`, `x + w`]; returns the new `y`.
    pub(crate) fn place(
        &mut self,
        lines: Vec<Line>,
        x: f32,
        w: f32,
        align: Align,
        mut y: f32,
    ) -> f32 {
        for line in lines {
            let baseline = y + line.ascent;
            let mut pen = match align {
                Align::Left => x,
                Align::Center => x + (w - line.width).max(0.0) / 2.0,
            };
            for run in line.runs {
                let adv = run.advance * line.size;
                self.items.push(Item::Text {
                    x: pen,
                    baseline,
                    size: line.size,
                    run,
                });
                pen += adv;
            }
            y = baseline + line.descent + LEADING * line.size;
        }
        y
    }

    /// The token, as large as `size` allows within `w`, tight to its cap height.
    fn token(&mut self, token: &str, size: f32, w: f32, y: f32) -> f32 {
        let token = token.trim();
        let runs = shape_line(self.fonts, token, Weight::Bold);
        let adv = advance(&runs).max(0.01);
        let size = size.min(w * 0.96 / adv);
        let has_deva = token.chars().any(is_devanagari);
        let mut line = self.line(runs, size);
        if !has_deva {
            // Latin caps and digits: no accents or descenders to make room for.
            line.ascent = size * 0.78;
            line.descent = size * 0.06;
        }
        self.place(vec![line], 0.0, w, Align::Center, y + size * 0.08)
    }

    /// A centred line of text inside a thin frame (the reprint marker).
    fn framed(&mut self, text: &str, size: f32, w: f32, y: f32, s: f32) -> f32 {
        let pad = 3.0 * s;
        let lines = self.wrap(text, size, Weight::Bold, w - 2.0 * pad);
        let text_w = lines.iter().map(|l| l.width).fold(0.0, f32::max);
        let box_w = text_w + 2.0 * pad;
        let x = (w - box_w) / 2.0;
        let bottom = self.place(lines, x + pad, text_w, Align::Center, y + pad * 0.5);
        let h = bottom - y + pad * 0.5;
        let t = 1.0 * s;
        self.items.push(Item::Rects(vec![
            Rect {
                x,
                y,
                w: box_w,
                h: t,
            },
            Rect {
                x,
                y: y + h - t,
                w: box_w,
                h: t,
            },
            Rect { x, y, w: t, h },
            Rect {
                x: x + box_w - t,
                y,
                w: t,
                h,
            },
        ]));
        y + h
    }

    pub(crate) fn rule(&mut self, y: f32, thickness: f32) {
        self.items.push(Item::Rects(vec![Rect {
            x: 0.0,
            y,
            w: self.width,
            h: thickness,
        }]));
    }

    /// The QR symbol in a `size`×`size` box at (`x`, `y`), with a two-module quiet zone.
    fn qr(&mut self, qr: &qr::QrMatrix, x: f32, y: f32, size: f32) {
        let quiet = 2.0;
        let module = size / (qr.size as f32 + 2.0 * quiet);
        let cells = qr
            .runs
            .iter()
            .map(|&(row, col, w, h)| Rect {
                x: col as f32,
                y: row as f32,
                w: w as f32,
                h: h as f32,
            })
            .collect();
        self.items.push(Item::Grid {
            x: x + quiet * module,
            y: y + quiet * module,
            unit: module,
            cells,
        });
    }
}

/// Whether a line may be broken before byte `pos` of `text` without splitting a syllable.
fn safe_break(text: &str, pos: usize) -> bool {
    let next = text[pos..].chars().next();
    let prev = text[..pos].chars().next_back();
    let is_mark = |c: char| {
        matches!(c,
            '\u{0900}'..='\u{0903}' | '\u{093A}'..='\u{094F}' | '\u{0951}'..='\u{0957}'
            | '\u{0962}'..='\u{0963}' | '\u{0300}'..='\u{036F}' | '\u{200C}' | '\u{200D}')
    };
    match (prev, next) {
        (Some(p), Some(n)) => !is_mark(n) && p != '\u{094D}' && p != '\u{200D}',
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_breaks_keep_syllables_whole() {
        let t = "क्षय";
        // Never after the virama (inside क्ष), never before a mark.
        let breaks: Vec<usize> = (1..t.len())
            .filter(|&i| t.is_char_boundary(i) && safe_break(t, i))
            .collect();
        assert_eq!(breaks, vec!["क्ष".len()]);
    }

    #[test]
    fn wrapping_respects_the_width() {
        let fonts = Fonts::get().unwrap();
        let b = Builder {
            fonts,
            width: 100.0,
            items: Vec::new(),
        };
        let lines = b.wrap(
            "स्त्री एवं प्रसूति रोग / Obstetrics & Gynaecology",
            10.0,
            Weight::Regular,
            100.0,
        );
        assert!(lines.len() >= 2);
        assert!(lines.iter().all(|l| l.width <= 100.5));
        let long = b.wrap(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJ",
            10.0,
            Weight::Regular,
            50.0,
        );
        assert!(long.len() >= 3 && long.iter().all(|l| l.width <= 50.5));
    }
}
