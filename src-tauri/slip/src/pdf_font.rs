//! Slimmer copies of the TrueType fonts for embedding in PDFs.
//!
//! The Noto fonts are hinted (TrueType bytecode in `fpgm`/`prep`/`cvt` and in every glyph).
//! krilla's subsetter keeps glyphs' outlines *and* their bytecode, which made a slip ~48 KB.
//! PDF viewers and printer drivers do not need hinting, and we shape text ourselves, so the
//! copy handed to krilla keeps only what a PDF font needs (outlines, metrics, names) and drops
//! the bytecode and layout tables. Glyph ids are unchanged, so glyphs shaped with the original
//! font index the same outlines here.

/// Tables copied as they are (besides `glyf`/`loca`, rebuilt, and `head`/`post`, adjusted).
const KEEP: [&[u8; 4]; 5] = [b"OS/2", b"cmap", b"hhea", b"hmtx", b"maxp"];

/// Returns `font` without hinting and layout tables, or `None` if it is not a TrueType font we
/// understand (the caller then embeds the original).
pub(crate) fn strip(font: &[u8]) -> Option<Vec<u8>> {
    let tables = directory(font)?;
    let table = |tag: &[u8; 4]| tables.iter().find(|(t, _)| t == tag).map(|(_, d)| *d);
    let head = table(b"head")?;
    let maxp = table(b"maxp")?;
    let glyf = table(b"glyf")?;
    let loca = table(b"loca")?;
    let long_loca = be16(head, 50)? == 1;
    let num_glyphs = usize::from(be16(maxp, 4)?);

    let mut new_glyf = Vec::with_capacity(glyf.len());
    let mut new_loca = Vec::with_capacity((num_glyphs + 1) * 4);
    for gid in 0..num_glyphs {
        let (start, end) = if long_loca {
            (
                be32(loca, gid * 4)? as usize,
                be32(loca, gid * 4 + 4)? as usize,
            )
        } else {
            (
                usize::from(be16(loca, gid * 2)?) * 2,
                usize::from(be16(loca, gid * 2 + 2)?) * 2,
            )
        };
        new_loca.extend_from_slice(&u32::try_from(new_glyf.len()).ok()?.to_be_bytes());
        if end > start {
            strip_glyph(glyf.get(start..end)?, &mut new_glyf)?;
            while new_glyf.len() % 4 != 0 {
                new_glyf.push(0);
            }
        }
    }
    new_loca.extend_from_slice(&u32::try_from(new_glyf.len()).ok()?.to_be_bytes());

    let mut new_head = head.to_vec();
    new_head.get_mut(8..12)?.copy_from_slice(&[0; 4]); // checkSumAdjustment, set below
    new_head
        .get_mut(50..52)?
        .copy_from_slice(&1u16.to_be_bytes()); // long loca
                                               // post version 3: no glyph names.
    let mut post = table(b"post")?.get(..32)?.to_vec();
    post[..4].copy_from_slice(&0x0003_0000u32.to_be_bytes());

    let mut out_tables: Vec<([u8; 4], Vec<u8>)> = vec![
        (*b"glyf", new_glyf),
        (*b"head", new_head),
        (*b"loca", new_loca),
        (*b"post", post),
    ];
    for tag in KEEP.iter().chain([&b"name"]) {
        out_tables.push((**tag, table(tag)?.to_vec()));
    }
    out_tables.sort_by_key(|t| t.0);
    Some(assemble(out_tables))
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(d.get(at..at + 2)?.try_into().ok()?))
}

fn be32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

fn directory(font: &[u8]) -> Option<Vec<([u8; 4], &[u8])>> {
    if be32(font, 0)? != 0x0001_0000 {
        return None; // not TrueType outlines (e.g. CFF)
    }
    let n = usize::from(be16(font, 4)?);
    (0..n)
        .map(|i| {
            let rec = font.get(12 + 16 * i..28 + 16 * i)?;
            let tag: [u8; 4] = rec.get(..4)?.try_into().ok()?;
            let off = be32(rec, 8)? as usize;
            let len = be32(rec, 12)? as usize;
            Some((tag, font.get(off..off.checked_add(len)?)?))
        })
        .collect()
}

/// Appends glyph `g` without its instructions.
fn strip_glyph(g: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let contours = i16::from_be_bytes(g.get(0..2)?.try_into().ok()?);
    if contours >= 0 {
        let n = usize::try_from(contours).ok()?;
        let ilen_at = 10 + 2 * n;
        let ilen = usize::from(be16(g, ilen_at)?);
        out.extend_from_slice(g.get(..ilen_at)?);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(g.get(ilen_at + 2 + ilen..)?);
        return Some(());
    }
    // Composite: walk the components, clear WE_HAVE_INSTRUCTIONS, drop trailing bytecode.
    const ARGS_ARE_WORDS: u16 = 0x0001;
    const HAVE_SCALE: u16 = 0x0008;
    const MORE: u16 = 0x0020;
    const XY_SCALE: u16 = 0x0040;
    const TWO_BY_TWO: u16 = 0x0080;
    const INSTRUCTIONS: u16 = 0x0100;
    let base = out.len();
    out.extend_from_slice(g.get(..10)?);
    let mut at = 10;
    loop {
        let flags = be16(g, at)?;
        let mut len = 4 + if flags & ARGS_ARE_WORDS != 0 { 4 } else { 2 };
        len += if flags & HAVE_SCALE != 0 {
            2
        } else if flags & XY_SCALE != 0 {
            4
        } else if flags & TWO_BY_TWO != 0 {
            8
        } else {
            0
        };
        let comp = g.get(at..at + len)?;
        out.extend_from_slice(&(flags & !INSTRUCTIONS).to_be_bytes());
        out.extend_from_slice(comp.get(2..)?);
        at += len;
        if flags & MORE == 0 {
            break;
        }
    }
    debug_assert!(out.len() > base);
    Some(())
}

fn checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |sum, c| {
        let mut w = [0u8; 4];
        w[..c.len()].copy_from_slice(c);
        sum.wrapping_add(u32::from_be_bytes(w))
    })
}

fn assemble(tables: Vec<([u8; 4], Vec<u8>)>) -> Vec<u8> {
    let n = tables.len() as u16;
    let entry_selector = 15 - n.leading_zeros() as u16; // floor(log2 n)
    let search_range = (1u16 << entry_selector) * 16;
    let mut out = Vec::new();
    out.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    for v in [n, search_range, entry_selector, n * 16 - search_range] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    let mut offset = 12 + 16 * tables.len();
    let mut head_at = None;
    for (tag, data) in &tables {
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum(data).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        if tag == b"head" {
            head_at = Some(offset);
        }
        offset += data.len().div_ceil(4) * 4;
    }
    for (_, data) in &tables {
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    if let Some(at) = head_at {
        let adjust = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
        out[at + 8..at + 12].copy_from_slice(&adjust.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    struct Points(Vec<f32>);

    impl rustybuzz::ttf_parser::OutlineBuilder for Points {
        fn move_to(&mut self, x: f32, y: f32) {
            self.0.extend([x, y]);
        }
        fn line_to(&mut self, x: f32, y: f32) {
            self.0.extend([x, y]);
        }
        fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
            self.0.extend([x1, y1, x, y]);
        }
        fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
            self.0.extend([x1, y1, x2, y2, x, y]);
        }
        fn close(&mut self) {
            self.0.push(f32::MAX);
        }
    }

    #[test]
    fn stripped_fonts_keep_glyphs_and_metrics() {
        let fonts = crate::fonts::Fonts::get().unwrap();
        for face in &fonts.faces {
            let original = face.data;
            let stripped = super::strip(original).unwrap();
            assert!(stripped.len() < original.len());
            let a = rustybuzz::ttf_parser::Face::parse(original, 0).unwrap();
            let b = rustybuzz::ttf_parser::Face::parse(&stripped, 0).unwrap();
            assert_eq!(a.number_of_glyphs(), b.number_of_glyphs());
            for gid in (0..a.number_of_glyphs()).step_by(7) {
                let id = rustybuzz::ttf_parser::GlyphId(gid);
                let (mut pa, mut pb) = (Points(Vec::new()), Points(Vec::new()));
                assert_eq!(a.outline_glyph(id, &mut pa), b.outline_glyph(id, &mut pb));
                assert_eq!(pa.0, pb.0, "glyph {gid}");
                assert_eq!(a.glyph_hor_advance(id), b.glyph_hor_advance(id));
            }
        }
    }
}
