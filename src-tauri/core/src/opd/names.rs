//! Spelling- and script-tolerant keys for Indian names.
//!
//! The same patient is "Suneeta Devi" on one card, "Sunita Debi" at the counter and "सुनीता देवी"
//! on her Aadhaar. Search goes through a phonetic key built the same way for stored names and
//! queries, from either script:
//! - Devanagari is first transliterated letter by letter (ITRANS-like: `भ`→`bh`, `ी`→`ii`, `श`/`ष`
//!   →`sh`, anusvara → `n`, `m` before a labial, `ng` before `ह`; nukta letters `ज़`→`z`, `फ़`→`f`; `ड़` is
//!   `d` as cards spell it: Gudiya);
//! - then lower-case, aspirates folded (`bh`→`b`, `sh`→`s`…), long vowels folded (`ee`/`ii`→`i`,
//!   `oo`/`uu`→`u`, `aa`→`a`), `w`→`v`, `y`→`i`, `z`→`j`, `x`→`ks`, doubled letters collapsed;
//! - and finally every `a` after a word's first letter is dropped. Hindi drops most inherent
//!   vowels in speech ("कमला" is "Kamla" as often as "Kamala", "यादव" is "Yadav"), and Latin
//!   spellings disagree on exactly those letters, so the key keeps the consonant skeleton and the
//!   distinctive vowels (i, u, e, o).
//!
//! It is a search aid, never an identity: duplicates are decided by ids, with the key only raising
//! a warning. Stored keys are recomputed by migration 0012 whenever this algorithm changes meaning
//! (through the `swagat_name_key` SQL function registered on every connection).

/// The phonetic key of `name` (either script): space-separated keys of its words.
pub fn name_key(name: &str) -> String {
    let latin = to_latin(name);
    latin
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .map(word_key)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The key the search index holds for a patient: the words of both names' keys, each once.
pub fn search_key(name: &str, name_hi: Option<&str>) -> String {
    let mut words: Vec<String> = Vec::new();
    for w in name_key(name)
        .split(' ')
        .chain(name_hi.map(name_key).unwrap_or_default().split(' '))
        .map(str::to_owned)
        .collect::<Vec<_>>()
    {
        if !w.is_empty() && !words.contains(&w) {
            words.push(w);
        }
    }
    words.join(" ")
}

/// `text` has at least one Latin letter.
pub fn has_latin(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_alphabetic())
}

/// `text` has at least one Devanagari character.
pub fn has_devanagari(text: &str) -> bool {
    text.chars().any(is_devanagari)
}

fn is_devanagari(c: char) -> bool {
    ('\u{0900}'..='\u{097F}').contains(&c)
}

/// The consonant's Latin letters (without its inherent vowel), or `None`.
fn consonant(c: char) -> Option<&'static str> {
    Some(match c {
        'क' => "k",
        'ख' => "kh",
        'ग' => "g",
        'घ' => "gh",
        'ङ' => "n",
        'च' => "ch",
        'छ' => "chh",
        'ज' => "j",
        'झ' => "jh",
        'ञ' => "n",
        'ट' => "t",
        'ठ' => "th",
        'ड' => "d",
        'ढ' => "dh",
        'ण' => "n",
        'त' => "t",
        'थ' => "th",
        'द' => "d",
        'ध' => "dh",
        'न' => "n",
        'प' => "p",
        'फ' => "ph",
        'ब' => "b",
        'भ' => "bh",
        'म' => "m",
        'य' => "y",
        'र' => "r",
        'ल' => "l",
        'ळ' => "l",
        'व' => "v",
        'श' => "sh",
        'ष' => "sh",
        'स' => "s",
        'ह' => "h",
        // Precomposed nukta letters (क़ ख़ ग़ ज़ ड़ ढ़ फ़ य़).
        '\u{0958}' => "k",
        '\u{0959}' => "kh",
        '\u{095A}' => "g",
        '\u{095B}' => "z",
        '\u{095C}' => "d",
        '\u{095D}' => "dh",
        '\u{095E}' => "f",
        '\u{095F}' => "y",
        _ => return None,
    })
}

/// A consonant followed by a nukta (`ज` + `़`).
fn with_nukta(c: char) -> Option<&'static str> {
    Some(match c {
        'ज' => "z",
        'फ' => "f",
        'ड' => "d",
        'ढ' => "dh",
        'क' => "k",
        'ख' => "kh",
        'ग' => "g",
        _ => return None,
    })
}

/// An independent vowel's or a vowel sign's Latin letters.
fn vowel(c: char) -> Option<&'static str> {
    Some(match c {
        'अ' => "a",
        'आ' | 'ा' => "aa",
        'इ' | 'ि' => "i",
        'ई' | 'ी' => "ii",
        'उ' | 'ु' => "u",
        'ऊ' | 'ू' => "uu",
        'ऋ' | 'ृ' => "ri",
        'ए' | 'े' | 'ॅ' | 'ऍ' => "e",
        'ऐ' | 'ै' => "ai",
        'ओ' | 'ो' | 'ॉ' | 'ऑ' => "o",
        'औ' | 'ौ' => "au",
        _ => return None,
    })
}

fn is_vowel_sign(c: char) -> bool {
    matches!(
        c,
        'ा' | 'ि' | 'ी' | 'ु' | 'ू' | 'ृ' | 'े' | 'ै' | 'ो' | 'ौ' | 'ॅ' | 'ॉ'
    )
}

/// Transliterates the Devanagari in `text` to Latin letters (the rest is kept as it is).
fn to_latin(text: &str) -> String {
    if !has_devanagari(text) {
        return text.to_owned();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() * 2);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if let Some(mut latin) = consonant(c) {
            let mut j = i + 1;
            if next == Some('\u{093C}') {
                latin = with_nukta(c).unwrap_or(latin);
                j += 1;
            }
            // ज्ञ is said (and spelled) "gy": ज्ञान = Gyan.
            if c == 'ज' && chars.get(j) == Some(&'\u{094D}') && chars.get(j + 1) == Some(&'ञ') {
                out.push_str("gy");
                i = j + 2;
                if !chars
                    .get(i)
                    .is_some_and(|&n| is_vowel_sign(n) || n == '\u{094D}')
                {
                    out.push('a');
                }
                continue;
            }
            out.push_str(latin);
            match chars.get(j) {
                Some('\u{094D}') => j += 1, // virama: no vowel
                Some(&n) if is_vowel_sign(n) => {}
                _ => out.push('a'), // the inherent vowel
            }
            i = j;
            continue;
        }
        if let Some(v) = vowel(c) {
            out.push_str(v);
        } else {
            match c {
                // Anusvara and candrabindu: a nasal, "m" before a labial (चंपा = Champa).
                // Before ह it is "ng" (सिंह = Singh).
                '\u{0902}' | '\u{0901}' => {
                    if next.is_some_and(|n| matches!(n, 'प' | 'फ' | 'ब' | 'भ' | 'म')) {
                        out.push('m');
                    } else if next == Some('ह') {
                        out.push_str("ng");
                    } else {
                        out.push('n');
                    }
                }
                '\u{0903}' => out.push('h'), // visarga
                '\u{093C}' | '\u{094D}' | '\u{200C}' | '\u{200D}' => {}
                c if is_devanagari(c) => out.push(' '), // digits, danda, signs: word breaks
                c => out.push(c),
            }
        }
        i += 1;
    }
    out
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
        ("uu", "u"),
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
    for (i, c) in s.chars().enumerate() {
        if i > 0 && c == 'a' {
            continue;
        }
        if !out.ends_with(c) {
            out.push(c);
        }
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
pub(crate) mod tests {
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
        assert_ne!(name_key("Ramesh"), name_key("Rajesh"));
        assert_eq!(name_key("  "), "");
        assert_eq!(name_key("O'Brien-Singh"), "o brien sing");
    }

    /// Common names of Bihar and Chhattisgarh as they are written on cards and typed at the
    /// counter: every spelling in a row has one key, whichever script it is in.
    pub(crate) const CROSS_SCRIPT: &[&[&str]] = &[
        &["यादव", "Yadav"],
        &["सुनीता", "सुनिता", "Sunita", "Suneeta"],
        &["कुमारी", "Kumari"],
        &["कुमार", "Kumar"],
        &["देवी", "Devi"],
        &["प्रसाद", "Prasad"],
        &["सिंह", "Singh"],
        &["शर्मा", "Sharma"],
        &["मंडल", "मण्डल", "Mandal"],
        &["पासवान", "Paswan"],
        &["मांझी", "Manjhi"],
        &["साहू", "Sahu"],
        &["ठाकुर", "Thakur"],
        &["नेताम", "Netam"],
        &["मरकाम", "Markam"],
        &["कश्यप", "Kashyap"],
        &["ध्रुव", "Dhruv"],
        &["लक्ष्मी", "Lakshmi", "Laxmi"],
        &["पूजा", "Puja", "Pooja"],
        &["गीता", "Geeta", "Gita"],
        &["अंसारी", "Ansari"],
        &["फूलमती", "Phulmati", "Phoolmati"],
        &["मोहम्मद", "Mohammad", "Mohamad"],
        &["राजेश", "Rajesh"],
        &["सुषमा", "Sushma"],
        &["कमला", "Kamla", "Kamala"],
        &["चंपा", "Champa"],
        &["चन्द्रकला", "चंद्रकला", "Chandrakala"],
        &["ज्ञानती", "Gyanti"],
        &["रीता", "Rita", "Reeta"],
        &["बिंदु", "Bindu"],
        &["मनोज", "Manoj"],
        &["गुड़िया", "गुड़िया", "Gudiya"],
        &["सुनीता देवी", "Sunita Devi", "SUNEETA DEVI"],
    ];

    #[test]
    fn devanagari_and_latin_spellings_share_a_key() {
        for row in CROSS_SCRIPT {
            let first = name_key(row[0]);
            assert!(!first.is_empty(), "{}", row[0]);
            for other in &row[1..] {
                assert_eq!(name_key(other), first, "{} vs {}", row[0], other);
            }
        }
        // Different names stay apart.
        assert_ne!(name_key("सुनीता"), name_key("सरिता"));
        assert_ne!(name_key("राम"), name_key("रीमा"));
        assert_ne!(name_key("Yadav"), name_key("Yogi"));
    }

    #[test]
    fn search_key_holds_both_names_once() {
        assert_eq!(search_key("Sunita Devi", Some("सुनीता देवी")), "sunit devi");
        assert_eq!(search_key("Phulmati", Some("फूलमती अंसारी")), "fulmti ansri");
        assert_eq!(search_key("Ram", None), name_key("Ram"));
        assert!(has_latin("a राम") && !has_latin("राम"));
        assert!(has_devanagari("a राम") && !has_devanagari("Ram"));
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
