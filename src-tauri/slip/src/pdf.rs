//! PDF backend (krilla): the layout's glyph runs become real PDF text.
//!
//! Text is written glyph by glyph as we shaped it (so Devanagari looks right in every viewer,
//! whatever its own text engine), and each glyph carries the byte range of its source text, so
//! krilla can emit the ToUnicode / ActualText mapping that makes the Hindi copyable and
//! searchable in logical order ("जिला", not "जलि"). krilla subsets the embedded fonts, which
//! keeps a slip a few tens of kilobytes. Rules are one vector path; the QR is another, in whole
//! module units under one scaling.

use krilla::geom::{PathBuilder, Point, Rect as KRect, Size, Transform};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::surface::Surface;
use krilla::text::{GlyphId, KrillaGlyph};

use krilla::{Document, SerializeSettings};

use crate::error::SlipError;
use crate::fonts::Fonts;
use crate::layout::{Item, Layout};
use crate::shaping::ShapedRun;

/// Writes `layout` as a one-page PDF of `page_w`×`page_h` points, content offset by
/// (`margin_x`, `margin_y`).
pub(crate) fn write(
    layout: &Layout,
    page_w: f32,
    page_h: f32,
    margin_x: f32,
    margin_y: f32,
) -> Result<Vec<u8>, SlipError> {
    write_pages(
        "OPD slip",
        std::slice::from_ref(layout),
        page_w,
        page_h,
        margin_x,
        margin_y,
    )
}

/// Writes one page per layout (the reports' A4 sheets), each `page_w`×`page_h` points with the
/// content offset by (`margin_x`, `margin_y`). `title` is the document title printer queues show:
/// never personal data.
pub(crate) fn write_pages(
    title: &str,
    pages: &[Layout],
    page_w: f32,
    page_h: f32,
    margin_x: f32,
    margin_y: f32,
) -> Result<Vec<u8>, SlipError> {
    let fonts = Fonts::get()?;
    let settings = SerializeSettings {
        xmp_metadata: false,
        enable_tagging: false,
        ..SerializeSettings::default()
    };
    let mut doc = Document::new_with(settings);
    doc.set_metadata(
        Metadata::new()
            .title(title.to_owned())
            .creator("Swagat".to_owned()),
    );
    let size = Size::from_wh(page_w, page_h)
        .ok_or_else(|| SlipError::Pdf(format!("invalid page size {page_w}x{page_h}")))?;
    for layout in pages {
        let mut page = doc.start_page_with(PageSettings::new(size));
        let mut surface = page.surface();
        for item in &layout.items {
            match item {
                Item::Text {
                    x,
                    baseline,
                    size,
                    run,
                } => {
                    let glyphs = pdf_glyphs(fonts, run);
                    surface.draw_glyphs(
                        Point::from_xy(margin_x + x, margin_y + baseline),
                        &glyphs,
                        fonts.face(run.font).pdf.clone(),
                        &run.text,
                        *size,
                        false,
                    );
                }
                Item::Rects(rects) => fill_rects(&mut surface, rects, margin_x, margin_y),
                Item::Grid { x, y, unit, cells } => {
                    surface.push_transform(&Transform::from_row(
                        *unit,
                        0.0,
                        0.0,
                        *unit,
                        margin_x + x,
                        margin_y + y,
                    ));
                    fill_rects(&mut surface, cells, 0.0, 0.0);
                    surface.pop();
                }
            }
        }
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| SlipError::Pdf(format!("{e:?}")))
}

/// Converts a shaped run to krilla glyphs, bracketing multi-glyph clusters with an invisible
/// zero-width glyph where needed so the cluster's extent is right for text extraction.
///
/// Why: krilla writes each multi-glyph cluster (कृ, खें, जि) as its own `/ActualText` span, and
/// extractors such as poppler take a span's extent from its first glyph's origin to its last
/// glyph's advance. When the last glyph is a mark drawn back over its base (the ृ of कृ), the
/// span seems to end early and the word is split ("कृ पया"). A zero-width blank glyph (the
/// font's zero-width space) placed at the cluster's true edges fixes the extent; it draws nothing and its
/// text is covered by the span's `/ActualText`.
fn pdf_glyphs(fonts: &Fonts, run: &ShapedRun) -> Vec<KrillaGlyph> {
    let face = fonts.face(run.font);
    let font_advance = |id: u16| {
        f32::from(
            face.rb
                .glyph_hor_advance(rustybuzz::ttf_parser::GlyphId(id))
                .unwrap_or(0),
        ) / face.units_per_em
    };
    let glyph = |id: u16, adv: f32, off: f32, y_off: f32, range| {
        KrillaGlyph::new(
            GlyphId::new(u32::from(id)),
            adv,
            off,
            y_off,
            0.0,
            range,
            None,
        )
    };
    // A blank, zero-width glyph to mark cluster edges.
    let marker = ['\u{200B}', '\u{200D}', '\u{200C}']
        .into_iter()
        .filter_map(|c| face.rb.glyph_index(c))
        .map(|g| g.0)
        .find(|&g| {
            font_advance(g) == 0.0
                && face
                    .rb
                    .glyph_bounding_box(rustybuzz::ttf_parser::GlyphId(g))
                    .is_none()
        });
    const TOLERANCE: f32 = 0.02; // em
    let mut out = Vec::with_capacity(run.glyphs.len() + 8);
    let mut i = 0;
    while i < run.glyphs.len() {
        let range = run.glyphs[i].text_range.clone();
        let mut j = i + 1;
        while j < run.glyphs.len() && run.glyphs[j].text_range == range {
            j += 1;
        }
        let cluster = &run.glyphs[i..j];
        let (mut pen, mut first_x, mut last_end) = (0.0f32, None, 0.0f32);
        for g in cluster {
            first_x.get_or_insert(pen + g.x_offset);
            last_end = pen + g.x_offset + font_advance(g.id);
            pen += g.x_advance;
        }
        let multi = cluster.len() > 1;
        if let (true, Some(m), Some(x0)) = (multi, marker, first_x) {
            if x0.abs() > TOLERANCE {
                out.push(glyph(m, 0.0, 0.0, 0.0, range.clone()));
            }
        }
        for g in cluster {
            out.push(glyph(
                g.id,
                g.x_advance,
                g.x_offset,
                g.y_offset,
                range.clone(),
            ));
        }
        if let (true, Some(m)) = (multi, marker) {
            if (last_end - pen).abs() > TOLERANCE {
                out.push(glyph(m, 0.0, 0.0, 0.0, range.clone()));
            }
        }
        i = j;
    }
    out
}

fn fill_rects(surface: &mut Surface<'_>, rects: &[crate::layout::Rect], dx: f32, dy: f32) {
    let mut pb = PathBuilder::new();
    for r in rects {
        if let Some(rect) = KRect::from_xywh(dx + r.x, dy + r.y, r.w, r.h) {
            pb.push_rect(rect);
        }
    }
    if let Some(path) = pb.finish() {
        surface.set_fill(Some(krilla::paint::Fill::default()));
        surface.draw_path(&path);
    }
}
