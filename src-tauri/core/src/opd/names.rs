//! Spelling-tolerant keys for Indian names written in Latin letters.
//!
//! The same patient is "Suneeta Devi" on one card and "Sunita Debi" at the counter. Search goes
//! through a phonetic key built the same way for stored names and queries: lower-case, aspirates
//! folded (`bh`→`b`, `sh`→`s`…), long vowels folded (`ee`→`i`, `oo`→`u`, `aa`→`a`), `w`→`v`,
//! doubled letters collapsed and a trailing `a` dropped ("Ramesha" = "Ramesh"). It is a search aid,
//! never an identity: duplicates are decided by ids, with the key only raising a warning.

/// The phonetic key of `name`: space-separated keys of its words.
pub fn name_key(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .map(word_key)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn word_key(word: &str) -> String {
    let w = word.to_ascii_lowercase();
    let mut s = w;
    for (from, to) in [
        ("ph", "f"),
        ("bh", "b"),
        ("dh", "d"),
        ("th", "t"),
        ("kh", "k"),
        ("gh", "g"),
        ("chh", "c"),
        ("ch", "c"),
        ("sh", "s"),
        ("jh", "j"),
        ("ee", "i"),
        ("ii", "i"),
        ("oo", "u"),
        ("ou", "u"),
        ("aa", "a"),
        ("w", "v"),
        ("z", "j"),
        ("q", "k"),
        ("x", "ks"),
        ("y", "i"),
    ] {
        s = s.replace(from, to);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    if out.len() > 3 && out.ends_with('a') {
        out.pop();
    }
    out
}

/// Normalises a query for FTS5: its words as quoted prefix terms, or `None` if nothing is left.
pub fn fts_prefix_query(words: &str) -> Option<String> {
    let terms: Vec<String> = words
        .split_whitespace()
        .map(|w| w.replace('"', ""))
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_spelling_variants_share_a_key() {
        for (a, b) in [
            ("Suneeta Devi", "Sunita Devi"),
            ("Ramesha Kumaar", "Ramesh Kumar"),
            ("Bhagwati", "Bagvati"),
            ("Shyam", "Syam"),
            ("Pooja", "Puja"),
            ("Lakshmi", "Laxmi"),
            ("Mohammad", "Mohamad"),
        ] {
            assert_eq!(name_key(a), name_key(b), "{a} vs {b}");
        }
        assert_ne!(name_key("Sunita"), name_key("Sarita"));
        assert_eq!(name_key("  "), "");
        assert_eq!(name_key("O'Brien-Singh"), "o brien sing");
    }

    #[test]
    fn fts_queries_are_quoted_prefixes() {
        assert_eq!(
            fts_prefix_query("sun dev").as_deref(),
            Some("\"sun\"* \"dev\"*")
        );
        assert_eq!(fts_prefix_query("a\"b").as_deref(), Some("\"ab\"*"));
        assert_eq!(fts_prefix_query("  "), None);
    }
}
