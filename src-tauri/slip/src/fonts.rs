//! The four embedded Noto fonts, parsed once per process.
//!
//! Noto Sans Devanagari carries no Latin letters and Noto Sans no Devanagari, so every line is
//! split into script runs (see [`crate::script_runs`]) and each run is set in the matching face.
//! The fonts are compiled into the binary (`include_bytes!`) so a kiosk never depends on system
//! fonts, and parsed once: shaping (rustybuzz), outlines for the raster (ttf-parser) and the PDF
//! font objects (krilla) all come from the same bytes.

use std::sync::OnceLock;

use crate::error::SlipError;

static NOTO_SANS_REGULAR: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../assets/fonts/NotoSans-Regular.ttf"
));
static NOTO_SANS_BOLD: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../assets/fonts/NotoSans-Bold.ttf"
));
static NOTO_DEVA_REGULAR: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../assets/fonts/NotoSansDevanagari-Regular.ttf"
));
static NOTO_DEVA_BOLD: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../assets/fonts/NotoSansDevanagari-Bold.ttf"
));

/// Which script a run of text is in; selects the font family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Script {
    /// Devanagari (Hindi), set in Noto Sans Devanagari.
    Devanagari,
    /// Everything else (Latin letters, digits, punctuation, ₹), set in Noto Sans.
    Latin,
}

/// Regular or bold weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

/// Index of one of the four faces in [`Fonts::faces`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FontId(pub(crate) usize);

impl FontId {
    pub(crate) fn of(script: Script, weight: Weight) -> Self {
        let s = match script {
            Script::Latin => 0,
            Script::Devanagari => 2,
        };
        let w = match weight {
            Weight::Regular => 0,
            Weight::Bold => 1,
        };
        FontId(s + w)
    }
}

/// One parsed face with the vertical metrics the layout needs (in em).
pub(crate) struct Face {
    /// The font file as embedded.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) data: &'static [u8],
    pub(crate) rb: rustybuzz::Face<'static>,
    pub(crate) pdf: krilla::text::Font,
    pub(crate) units_per_em: f32,
    /// Ascender above the baseline, in em (positive).
    pub(crate) ascender: f32,
    /// Descender below the baseline, in em (positive).
    pub(crate) descender: f32,
}

/// The four faces, indexed by [`FontId`].
pub(crate) struct Fonts {
    pub(crate) faces: [Face; 4],
}

impl Fonts {
    /// The process-wide fonts, parsed on first use.
    pub(crate) fn get() -> Result<&'static Fonts, SlipError> {
        static FONTS: OnceLock<Result<Fonts, SlipError>> = OnceLock::new();
        FONTS
            .get_or_init(Fonts::load)
            .as_ref()
            .map_err(Clone::clone)
    }

    fn load() -> Result<Fonts, SlipError> {
        Ok(Fonts {
            faces: [
                load_face("NotoSans-Regular", NOTO_SANS_REGULAR)?,
                load_face("NotoSans-Bold", NOTO_SANS_BOLD)?,
                load_face("NotoSansDevanagari-Regular", NOTO_DEVA_REGULAR)?,
                load_face("NotoSansDevanagari-Bold", NOTO_DEVA_BOLD)?,
            ],
        })
    }

    pub(crate) fn face(&self, id: FontId) -> &Face {
        &self.faces[id.0]
    }
}

fn load_face(name: &'static str, data: &'static [u8]) -> Result<Face, SlipError> {
    let rb = rustybuzz::Face::from_slice(data, 0).ok_or(SlipError::Font(name))?;
    // PDFs get a copy without hinting bytecode (see `pdf_font`); the original if that fails.
    let pdf_data: krilla::Data = match crate::pdf_font::strip(data) {
        Some(stripped) => stripped.into(),
        None => data.into(),
    };
    let pdf = krilla::text::Font::new(pdf_data, 0).ok_or(SlipError::Font(name))?;
    let units_per_em = f32::from(rb.units_per_em() as u16).max(1.0);
    let ascender = f32::from(rb.ascender()) / units_per_em;
    let descender = -f32::from(rb.descender()) / units_per_em;
    Ok(Face {
        data,
        rb,
        pdf,
        units_per_em,
        ascender,
        descender,
    })
}
