//! The counter's books on paper: bilingual tables over as many A4 pages as they need (the daily
//! OPD register, the cash sheet), and short sheets for the 80 mm slip printer (the end-of-day
//! summary and cash by staff).
//!
//! Same layers as the slip, so Hindi is shaped and extractable the same way: text is shaped with
//! rustybuzz ([`crate::shaping`]), wrapped and placed by the slip's layout [`Builder`], and
//! written by the krilla backend ([`crate::pdf::write_pages`], one page per layout) or rasterised
//! for ESC/POS ([`crate::raster`]). Only the arrangement is new: columns with bilingual headers
//! repeated on every page, rows kept whole (never split across pages), cancelled rows struck
//! through, page numbers "पृष्ठ 3 / 12 · Page 3 of 12" and a signature line at the end.
//!
//! The caller (the core's `reports` module) formats every string; nothing here knows what a visit
//! is. Nothing here logs: a register is personal data.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::SlipError;
use crate::fonts::{Fonts, Weight};
use crate::layout::{Builder, Item, Layout, Line, Rect, LEADING, PT_PER_MM};
use crate::shaping::{advance, shape_line, ShapedRun};
use crate::{raster, Raster, SlipSize};

/// A column of a [`Table`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Header, e.g. "टोकन / Token" (a `\n` starts a second line).
    pub title: String,
    /// Relative width; the columns share the page width in proportion.
    pub width: f32,
    /// Right-aligned (numbers, money).
    #[serde(default)]
    pub right: bool,
}

/// One row: a cell per column (a `\n` in a cell starts a new line in it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// The cells, in column order.
    pub cells: Vec<String>,
    /// Drawn struck through (a cancelled visit: shown, not counted).
    #[serde(default)]
    pub struck: bool,
    /// Set in bold (totals).
    #[serde(default)]
    pub bold: bool,
}

/// A table with its header row, which is repeated at the top of every page it continues on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// A heading above the table, e.g. "विभागवार योग / Totals by department".
    pub caption: Option<String>,
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows.
    pub rows: Vec<Row>,
}

/// A document of tables on A4 pages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableDoc {
    /// Lines at the top of the first page, centred: the facility (first line, in bold), its
    /// address, the date.
    pub heading: Vec<String>,
    /// The document's title, e.g. "दैनिक ओपीडी रजिस्टर / Daily OPD Register"; repeated small at the
    /// top of the following pages.
    pub title: String,
    /// The title the PDF viewer and the printer queue show: never personal data.
    pub pdf_title: String,
    /// The tables, one after another.
    pub tables: Vec<Table>,
    /// Text at the end, e.g. the in-charge's signature line.
    pub closing: Vec<String>,
    /// Left part of every page's footer (the page number is on the right), e.g. "Printed …".
    pub footer: String,
}

/// Page orientation of a [`TableDoc`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Orientation {
    /// 297 × 210 mm (the register: many columns).
    A4Landscape,
    /// 210 × 297 mm.
    A4Portrait,
}

/// A short sheet for the 80 mm roll: heading, sections of label/value lines, closing lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollSheet {
    /// Centred lines; the first in bold (the facility), then e.g. the title and the date.
    pub heading: Vec<String>,
    /// The sections.
    pub sections: Vec<RollSection>,
    /// Lines at the end (signature lines, the printing time).
    pub closing: Vec<String>,
}

/// One section of a [`RollSheet`]: a bold title and label … value lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollSection {
    /// Section title, e.g. "कर्मचारीवार नकद / Cash by staff".
    pub title: String,
    /// (label, value) lines; the value is right-aligned.
    pub lines: Vec<(String, String)>,
}

const MARGIN_MM: f32 = 10.0;
const BODY: f32 = 7.5;
const HEAD: f32 = 7.0;
const PAD_X: f32 = 2.5;
const PAD_Y: f32 = 2.2;
const FOOTER_H: f32 = 14.0;

/// Shaped lines are cached by text and weight: a register repeats the same department, visit
/// type, fee, staff and many names hundreds of times.
struct Shaper<'f> {
    b: Builder<'f>,
    cache: HashMap<(String, bool), Vec<ShapedRun>>,
}

impl<'f> Shaper<'f> {
    fn new(fonts: &'f Fonts, width: f32) -> Self {
        Self {
            b: Builder {
                fonts,
                width,
                items: Vec::new(),
            },
            cache: HashMap::new(),
        }
    }

    /// `text` (with `\n` line breaks) as lines no wider than `max_w`.
    fn lines(&mut self, text: &str, size: f32, weight: Weight, max_w: f32) -> Vec<Line> {
        let mut out = Vec::new();
        for part in text.split('\n') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let key = (part.to_owned(), weight == Weight::Bold);
            let fonts = self.b.fonts;
            let runs = self
                .cache
                .entry(key)
                .or_insert_with(|| shape_line(fonts, part, weight));
            if advance(runs) * size <= max_w {
                let runs = runs.clone();
                out.push(self.b.line(runs, size));
            } else {
                out.extend(self.b.wrap(part, size, weight, max_w));
            }
        }
        out
    }

    /// Places `lines` from `y` in the column [`x`, `x + w`], left- or right-aligned; returns the
    /// new `y`.
    fn place(&mut self, lines: Vec<Line>, x: f32, w: f32, right: bool, mut y: f32) -> f32 {
        for line in lines {
            let baseline = y + line.ascent;
            let mut pen = if right {
                x + (w - line.width).max(0.0)
            } else {
                x
            };
            for run in line.runs {
                let adv = run.advance * line.size;
                self.b.items.push(Item::Text {
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

    fn centred(&mut self, text: &str, size: f32, weight: Weight, y: f32) -> f32 {
        let w = self.b.width;
        let lines = self.lines(text, size, weight, w);
        let mut y = y;
        for line in lines {
            let x = (w - line.width).max(0.0) / 2.0;
            y = self.place(vec![line], x, w, false, y);
        }
        y
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32) {
        self.b.items.push(Item::Rects(vec![Rect { x, y, w, h }]));
    }
}

fn height(lines: &[Line]) -> f32 {
    lines
        .iter()
        .map(|l| l.ascent + l.descent + LEADING * l.size)
        .sum()
}

/// Renders `doc` as a PDF of A4 pages, as many as the tables need.
pub fn render_table_pdf(doc: &TableDoc, orientation: Orientation) -> Result<Vec<u8>, SlipError> {
    let (page_w, page_h) = match orientation {
        Orientation::A4Landscape => (297.0 * PT_PER_MM, 210.0 * PT_PER_MM),
        Orientation::A4Portrait => (210.0 * PT_PER_MM, 297.0 * PT_PER_MM),
    };
    let margin = MARGIN_MM * PT_PER_MM;
    let (w, h) = (page_w - 2.0 * margin, page_h - 2.0 * margin);
    let pages = paginate(doc, w, h)?;
    crate::pdf::write_pages(&doc.pdf_title, &pages, page_w, page_h, margin, margin)
}

fn paginate(doc: &TableDoc, w: f32, h: f32) -> Result<Vec<Layout>, SlipError> {
    let fonts = Fonts::get()?;
    let mut s = Shaper::new(fonts, w);
    let limit = h - FOOTER_H;
    let mut pages: Vec<Vec<Item>> = Vec::new();

    // First page: the heading and the title.
    let mut y = 0.0;
    for (i, line) in doc.heading.iter().enumerate() {
        let (size, weight) = if i == 0 {
            (12.0, Weight::Bold)
        } else {
            (8.5, Weight::Regular)
        };
        y = s.centred(line, size, weight, y);
    }
    y += 2.0;
    y = s.centred(&doc.title, 11.0, Weight::Bold, y);
    y += 4.0;

    let new_page = |s: &mut Shaper<'_>, pages: &mut Vec<Vec<Item>>| -> f32 {
        pages.push(std::mem::take(&mut s.b.items));
        let y = s.centred(&doc.title, 8.0, Weight::Bold, 0.0);
        y + 3.0
    };

    for table in &doc.tables {
        let total: f32 = table.columns.iter().map(|c| c.width.max(0.0)).sum();
        let scale = if total > 0.0 { w / total } else { 0.0 };
        let widths: Vec<f32> = table
            .columns
            .iter()
            .map(|c| c.width.max(0.0) * scale)
            .collect();
        let header = Row {
            cells: table.columns.iter().map(|c| c.title.clone()).collect(),
            struck: false,
            bold: true,
        };
        let caption_h = |s: &mut Shaper<'_>| {
            table
                .caption
                .as_deref()
                .map_or(0.0, |c| height(&s.lines(c, 9.0, Weight::Bold, w)) + 2.0)
        };
        let header_lines = measure(&mut s, &header, table, &widths, HEAD);
        let header_h = row_height(&header_lines);
        // A caption and header never end a page without at least one row under them.
        let first_row_h = table
            .rows
            .first()
            .map(|r| row_height(&measure(&mut s, r, table, &widths, BODY)))
            .unwrap_or(0.0);
        if y + caption_h(&mut s) + header_h + first_row_h > limit && y > 40.0 {
            y = new_page(&mut s, &mut pages);
        }
        if let Some(c) = &table.caption {
            y += 2.0;
            let lines = s.lines(c, 9.0, Weight::Bold, w);
            y = s.place(lines, 0.0, w, false, y);
        }
        y = draw_row(&mut s, header_lines, table, &widths, y, true, false);
        for row in &table.rows {
            let lines = measure(&mut s, row, table, &widths, BODY);
            if y + row_height(&lines) > limit {
                y = new_page(&mut s, &mut pages);
                let hl = measure(&mut s, &header, table, &widths, HEAD);
                y = draw_row(&mut s, hl, table, &widths, y, true, false);
            }
            y = draw_row(&mut s, lines, table, &widths, y, false, row.struck);
        }
        y += 6.0;
    }

    if !doc.closing.is_empty() {
        let lines: Vec<Line> = doc
            .closing
            .iter()
            .flat_map(|c| s.lines(c, 9.0, Weight::Regular, w))
            .collect();
        let need = height(&lines) + 24.0;
        if y + need > limit {
            y = new_page(&mut s, &mut pages);
        }
        y += 20.0;
        s.place(lines, 0.0, w, false, y);
    }
    pages.push(std::mem::take(&mut s.b.items));

    // Footers, now that the page count is known.
    let n = pages.len();
    let mut out = Vec::with_capacity(n);
    for (i, items) in pages.into_iter().enumerate() {
        s.b.items = items;
        let top = h - FOOTER_H + 4.0;
        s.rect(0.0, top - 2.0, w, 0.4);
        let left = s.lines(&doc.footer, 7.0, Weight::Regular, w * 0.7);
        s.place(left, 0.0, w * 0.7, false, top);
        let num = format!("पृष्ठ {} / {n} · Page {} of {n}", i + 1, i + 1);
        let right = s.lines(&num, 7.0, Weight::Regular, w * 0.3);
        s.place(right, w * 0.7, w * 0.3, true, top);
        out.push(Layout {
            width: w,
            height: h,
            items: std::mem::take(&mut s.b.items),
        });
    }
    Ok(out)
}

/// The lines of each cell of `row`.
fn measure(
    s: &mut Shaper<'_>,
    row: &Row,
    table: &Table,
    widths: &[f32],
    size: f32,
) -> Vec<Vec<Line>> {
    let weight = if row.bold {
        Weight::Bold
    } else {
        Weight::Regular
    };
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let text = row.cells.get(i).map(String::as_str).unwrap_or("");
            let max_w = (widths[i] - 2.0 * PAD_X).max(1.0);
            s.lines(text, size, weight, max_w)
        })
        .collect()
}

fn row_height(cells: &[Vec<Line>]) -> f32 {
    cells.iter().map(|c| height(c)).fold(0.0, f32::max) + 2.0 * PAD_Y
}

/// Draws one measured row at `y`; returns the `y` below it.
fn draw_row(
    s: &mut Shaper<'_>,
    cells: Vec<Vec<Line>>,
    table: &Table,
    widths: &[f32],
    y: f32,
    header: bool,
    struck: bool,
) -> f32 {
    let h = row_height(&cells);
    let w: f32 = widths.iter().sum();
    if header {
        s.rect(0.0, y, w, 0.8);
    }
    let mut x = 0.0;
    let mut first_mid = None;
    for (i, lines) in cells.into_iter().enumerate() {
        let right = table.columns.get(i).is_some_and(|c| c.right);
        if first_mid.is_none() {
            first_mid = lines.first().map(|l| y + PAD_Y + l.ascent * 0.62);
        }
        s.place(lines, x + PAD_X, widths[i] - 2.0 * PAD_X, right, y + PAD_Y);
        x += widths[i];
    }
    if struck {
        // Through the middle of the first line of text (the x-height), across the whole row.
        let mid = first_mid.unwrap_or(y + h / 2.0);
        s.rect(0.0, mid, w, 0.7);
    }
    s.rect(0.0, y + h - 0.3, w, if header { 0.8 } else { 0.3 });
    y + h
}

/// The content width of the 80 mm roll, as for the slip.
fn roll_width() -> f32 {
    crate::params(SlipSize::Roll80).width
}

fn roll_layout(sheet: &RollSheet) -> Result<Layout, SlipError> {
    let fonts = Fonts::get()?;
    let w = roll_width();
    let mut s = Shaper::new(fonts, w);
    let mut y = 0.0;
    for (i, line) in sheet.heading.iter().enumerate() {
        let (size, weight) = if i == 0 {
            (11.0, Weight::Bold)
        } else {
            (9.0, Weight::Regular)
        };
        y = s.centred(line, size, weight, y);
    }
    y += 3.0;
    s.rect(0.0, y, w, 1.0);
    y += 4.0;
    for section in &sheet.sections {
        let lines = s.lines(&section.title, 9.5, Weight::Bold, w);
        y = s.place(lines, 0.0, w, false, y);
        y += 1.0;
        for (label, value) in &section.lines {
            let vl = s.lines(value, 9.0, Weight::Bold, w * 0.45);
            let vw = vl.iter().map(|l| l.width).fold(0.0, f32::max);
            let ll = s.lines(label, 9.0, Weight::Regular, (w - vw - 6.0).max(w * 0.5));
            let hl = height(&ll).max(height(&vl));
            s.place(ll, 0.0, w, false, y);
            s.place(vl, 0.0, w, true, y);
            y += hl;
        }
        y += 2.0;
        s.rect(0.0, y, w, 0.5);
        y += 4.0;
    }
    for line in &sheet.closing {
        y += 6.0;
        let lines = s.lines(line, 9.0, Weight::Regular, w);
        y = s.place(lines, 0.0, w, false, y);
    }
    Ok(Layout {
        width: w,
        height: y,
        items: s.b.items,
    })
}

/// Renders `sheet` as an 80 mm roll PDF, as long as the content.
pub fn render_roll_pdf(sheet: &RollSheet) -> Result<Vec<u8>, SlipError> {
    let layout = roll_layout(sheet)?;
    let w = crate::ROLL_PAGE_MM * PT_PER_MM;
    let margin_y = 3.0 * PT_PER_MM;
    crate::pdf::write_pages(
        "OPD day sheet",
        std::slice::from_ref(&layout),
        w,
        layout.height + 2.0 * margin_y,
        (w - layout.width) / 2.0,
        margin_y,
    )
}

/// Renders `sheet` for an 80 mm thermal printer (see [`Raster::to_escpos`]).
pub fn render_roll_raster(sheet: &RollSheet) -> Result<Raster, SlipError> {
    raster::render(&roll_layout(sheet)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(rows: usize) -> TableDoc {
        TableDoc {
            heading: vec!["प्राथमिक स्वास्थ्य केंद्र / PHC Bihta".into()],
            title: "दैनिक ओपीडी रजिस्टर / Daily OPD Register".into(),
            pdf_title: "OPD register".into(),
            tables: vec![Table {
                caption: None,
                columns: vec![
                    Column {
                        title: "क्र.\nNo.".into(),
                        width: 1.0,
                        right: true,
                    },
                    Column {
                        title: "नाम / Name".into(),
                        width: 6.0,
                        right: false,
                    },
                ],
                rows: (0..rows)
                    .map(|i| Row {
                        cells: vec![format!("{}", i + 1), "सुनीता देवी\nSunita Devi".into()],
                        struck: i % 7 == 3,
                        bold: false,
                    })
                    .collect(),
            }],
            closing: vec!["हस्ताक्षर / Signature".into()],
            footer: "Swagat".into(),
        }
    }

    #[test]
    fn rows_flow_onto_more_pages_and_never_below_the_footer() {
        let w = 277.0 * PT_PER_MM;
        let h = 190.0 * PT_PER_MM;
        let one = paginate(&doc(5), w, h).unwrap();
        assert_eq!(one.len(), 1);
        let many = paginate(&doc(200), w, h).unwrap();
        assert!(many.len() > 3, "{} pages", many.len());
        for page in &many {
            for item in &page.items {
                if let Item::Text { baseline, .. } = item {
                    assert!(*baseline <= h, "text below the page");
                }
            }
        }
    }

    #[test]
    fn roll_sheet_is_as_tall_as_its_content() {
        let mut sheet = RollSheet {
            heading: vec!["PHC Bihta".into(), "01-12-2026".into()],
            sections: vec![RollSection {
                title: "योग / Totals".into(),
                lines: vec![("पंजीकरण / Registrations".into(), "12".into())],
            }],
            closing: vec![],
        };
        let short = roll_layout(&sheet).unwrap().height;
        sheet.sections[0]
            .lines
            .extend((0..20).map(|i| (format!("line {i}"), "1".to_owned())));
        assert!(roll_layout(&sheet).unwrap().height > short + 100.0);
        // The thermal printer gets the same sheet as a 576-dot raster in ESC/POS.
        let raster = render_roll_raster(&sheet).unwrap();
        assert_eq!(raster.width(), crate::RASTER_WIDTH);
        assert!(raster.height() as f32 > (short + 100.0) * 8.0 / PT_PER_MM);
        assert!(
            raster.bits().iter().any(|&b| b != 0),
            "something is printed"
        );
        assert!(raster.to_escpos().len() > raster.bits().len());
        let pdf = render_roll_pdf(&sheet).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
    }

    #[test]
    fn register_pdf_renders_many_pages() {
        let small = render_table_pdf(&doc(5), Orientation::A4Portrait).unwrap();
        let big = render_table_pdf(&doc(300), Orientation::A4Landscape).unwrap();
        assert!(small.starts_with(b"%PDF-") && big.starts_with(b"%PDF-"));
        assert!(big.len() > small.len(), "300 rows take more than 5");
    }
}
