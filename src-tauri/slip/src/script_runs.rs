//! Splitting a line of text into script runs.
//!
//! Our two font families each cover one script (Noto Sans Devanagari has no Latin letters), and
//! OpenType shaping works per script, so a bilingual line such as "नाम / Name" is cut into
//! "नाम " (Devanagari) and "/ Name" (Latin). Spaces and joiners are neutral: they stay in the run
//! they follow, so a run never starts with a space unless the line does.

use std::ops::Range;

use crate::fonts::Script;

/// Whether `c` is set in the Devanagari font.
pub(crate) fn is_devanagari(c: char) -> bool {
    matches!(c,
        '\u{0900}'..='\u{097F}'   // Devanagari
        | '\u{A8E0}'..='\u{A8FF}' // Devanagari Extended
        | '\u{1CD0}'..='\u{1CFF}' // Vedic Extensions
        | '\u{25CC}'              // dotted circle (shown by the shaper for stray marks)
    )
}

/// Characters that belong to whichever run surrounds them.
fn is_neutral(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200C}' | '\u{200D}')
}

/// Splits `text` into maximal byte ranges of one script each, in logical order.
pub(crate) fn split(text: &str) -> Vec<(Script, Range<usize>)> {
    let mut runs: Vec<(Script, Range<usize>)> = Vec::new();
    // Neutral characters at the very start are held until the first script is known.
    let mut pending_start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        if is_neutral(c) {
            match runs.last_mut() {
                Some((_, r)) => r.end = end,
                None => {
                    pending_start.get_or_insert(i);
                }
            }
            continue;
        }
        let script = if is_devanagari(c) {
            Script::Devanagari
        } else {
            Script::Latin
        };
        match runs.last_mut() {
            Some((s, r)) if *s == script => r.end = end,
            _ => {
                let start = pending_start.take().unwrap_or(i);
                runs.push((script, start..end));
            }
        }
    }
    if let Some(start) = pending_start {
        // Only neutral characters: one Latin run.
        runs.push((Script::Latin, start..text.len()));
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<(Script, &str)> {
        split(text)
            .into_iter()
            .map(|(s, r)| (s, &text[r]))
            .collect()
    }

    #[test]
    fn bilingual_label() {
        assert_eq!(
            texts("नाम / Name"),
            vec![(Script::Devanagari, "नाम "), (Script::Latin, "/ Name")]
        );
    }

    #[test]
    fn digits_and_rupee_are_latin() {
        assert_eq!(
            texts("28 वर्ष, ₹10"),
            vec![
                (Script::Latin, "28 "),
                (Script::Devanagari, "वर्ष"),
                (Script::Latin, ", ₹10")
            ]
        );
    }

    #[test]
    fn marks_and_joiners_stay_in_devanagari() {
        assert_eq!(
            texts("क्ष\u{200D}त्र निःशुल्क"),
            vec![(Script::Devanagari, "क्ष\u{200D}त्र निःशुल्क")]
        );
    }

    #[test]
    fn leading_spaces_and_empty() {
        assert_eq!(texts("  जिला"), vec![(Script::Devanagari, "  जिला")]);
        assert_eq!(texts("   "), vec![(Script::Latin, "   ")]);
        assert!(texts("").is_empty());
    }
}
