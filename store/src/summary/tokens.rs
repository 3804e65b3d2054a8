//! Tokens: how text and numbers become the keys of a block's filter, and
//! what a text every match must hold requires of those keys.
//!
//! # Folding
//!
//! Text is folded before it is cut: each character lowercased as
//! [`char::to_lowercase`] does, and the final sigma `ς` written `σ`. The
//! filter language compares text exactly, with `ci` (characters lowercased
//! one by one, or ASCII case ignored) or, for free text and `Contains`,
//! `str::to_lowercase` (which writes a word-final `Σ` as `ς`). Folding is
//! applied character by character and merges every pair those comparisons
//! treat as equal, so
//!
//! - texts any comparison finds equal fold to the same text, and
//! - a text found inside another (in any of those ways) folds to a
//!   substring of the other's folding.
//!
//! # Tokens and keys
//!
//! A token is a maximal run of alphanumeric characters of the folded text
//! (`ORD-1234562` gives `ord` and `1234562`; quotes, backslashes, spaces and
//! other punctuation only separate). A token of at most [`SIDE`] bytes is
//! one *whole* key; a longer one is the *prefix* key of its first [`SIDE`]
//! bytes. A prefix key lets a text whose end cuts a token still rule blocks
//! out: the free text `ORD-1234562` may sit inside `XORD-12345629`, but
//! some token then starts with `123456`. (A token's end is not kept: one
//! key per token keeps the filter small, and a cut at a token's start —
//! `like '%RD-1234562'` — only loses that token's help.)
//!
//! An integral number (as the language compares them: `400458`, `4.00458e5`
//! and `400458.0` are equal) is the token of its decimal digits, the same
//! key as the number rendered in a message, so `UserId = 400458` and the
//! free text `"User 400458 logged"` look up one key. Other numbers give no
//! key (their property's range still helps).
//!
//! Keys are 64-bit xxh3 hashes, one seed per kind, so equal bytes of
//! different kinds never share a key.

use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::need::Need;
use crate::query::Num;

/// Bytes of a token's prefix key; tokens up to this long are kept whole.
pub const SIDE: usize = 6;

const WHOLE: u64 = 0x5eed_0001;
const PREFIX: u64 = 0x5eed_0002;

/// The key of a whole token (at most [`SIDE`] bytes).
fn whole_key(token: &[u8]) -> u64 {
    xxh3_64_with_seed(token, WHOLE)
}

/// The key of the first [`SIDE`] bytes of a longer token.
fn prefix_key(token: &[u8]) -> u64 {
    xxh3_64_with_seed(&token[..SIDE], PREFIX)
}

/// The key a block holding `token` (folded) puts in its filter.
pub(crate) fn token_key(token: &str) -> u64 {
    let b = token.as_bytes();
    if b.len() <= SIDE {
        whole_key(b)
    } else {
        prefix_key(b)
    }
}

/// The key of a number equal to an integer: that of its decimal digits as
/// a token (the sign separates); `None` for other numbers.
pub(crate) fn number_key(n: Num) -> Option<u64> {
    const TWO_127: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
    let i = match n {
        Num::Int(i) => i,
        Num::Float(f) if f.fract() == 0.0 && (-TWO_127..TWO_127).contains(&f) => f as i128,
        Num::Float(_) => return None,
    };
    Some(token_key(&i.unsigned_abs().to_string()))
}

/// Calls `key` with the key of every token of `text` (unfolded), as
/// [`token_key`] of each token of its folding would; `scratch` is working
/// space. ASCII text, the common case, is read once without copying: only
/// a token's first [`SIDE`] bytes make its key.
pub(crate) fn text_keys(text: &str, scratch: &mut String, mut key: impl FnMut(u64)) {
    if !text.is_ascii() {
        scratch.clear();
        fold_into(text, scratch);
        for_each_token(scratch, |t| key(token_key(t.text)));
        return;
    }
    let b = text.as_bytes();
    let mut emit = |token: &[u8]| {
        let mut head = [0u8; SIDE];
        let n = token.len().min(SIDE);
        for (h, c) in head.iter_mut().zip(&token[..n]) {
            *h = c.to_ascii_lowercase();
        }
        key(match token.len() {
            len if len <= SIDE => whole_key(&head[..len]),
            _ => prefix_key(&head),
        })
    };
    let mut start = None;
    for (i, c) in b.iter().enumerate() {
        match (c.is_ascii_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                emit(&b[s..i]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        emit(&b[s..]);
    }
}

/// Appends the folding of `text` to `out` (see the module docs).
pub(crate) fn fold_into(text: &str, out: &mut String) {
    if text.is_ascii() {
        out.extend(text.bytes().map(|b| char::from(b.to_ascii_lowercase())));
        return;
    }
    for c in text.chars() {
        for l in c.to_lowercase() {
            out.push(if l == 'ς' { 'σ' } else { l });
        }
    }
}

/// One token of a folded text and whether it touches the text's ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    /// The token (folded).
    pub text: &'a str,
    /// It starts where the text starts (nothing separates it from what
    /// comes before the text).
    pub at_start: bool,
    /// It ends where the text ends.
    pub at_end: bool,
}

/// Calls `f` with every token of `folded` (already folded), in order.
pub(crate) fn for_each_token<'a>(folded: &'a str, mut f: impl FnMut(Token<'a>)) {
    let mut start = None;
    let mut emit = |from: usize, to: usize| {
        f(Token {
            text: &folded[from..to],
            at_start: from == 0,
            at_end: to == folded.len(),
        })
    };
    if folded.is_ascii() {
        for (i, b) in folded.bytes().enumerate() {
            match (b.is_ascii_alphanumeric(), start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    emit(s, i);
                    start = None;
                }
                _ => {}
            }
        }
    } else {
        for (i, c) in folded.char_indices() {
            match (c.is_alphanumeric(), start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    emit(s, i);
                    start = None;
                }
                _ => {}
            }
        }
    }
    if let Some(s) = start {
        emit(s, folded.len());
    }
}

/// How a text every match must hold sits in the field's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Placement {
    /// The value starts with the text (nothing of the value precedes it).
    pub anchored_start: bool,
    /// The value ends with the text.
    pub anchored_end: bool,
}

impl Placement {
    /// The value is the text (equality).
    pub const EQUAL: Placement = Placement {
        anchored_start: true,
        anchored_end: true,
    };
    /// The text is somewhere inside the value (`Contains`, free text).
    pub const INSIDE: Placement = Placement {
        anchored_start: false,
        anchored_end: false,
    };
}

/// What a block must hold for some value of it to contain `text` placed
/// as `at`: every token of the text that is whole in the value (separated
/// on both sides, by the text's own characters or by an anchored end)
/// needs its key; a token cut only at its end by an unanchored end needs
/// the value to hold a token beginning with it, when it is long enough to
/// tell.
pub(crate) fn text_need(text: &str, at: Placement) -> Need {
    let mut folded = String::with_capacity(text.len());
    fold_into(text, &mut folded);
    let mut needs = Vec::new();
    for_each_token(&folded, |t| {
        let open_start = t.at_start && !at.anchored_start;
        let open_end = t.at_end && !at.anchored_end;
        let b = t.text.as_bytes();
        needs.push(match (open_start, open_end) {
            (false, false) => Need::Key(token_key(t.text)),
            (false, true) => starting(b),
            (true, _) => Need::Anything,
        });
    });
    Need::all(needs)
}

/// A token that starts with `t`.
fn starting(t: &[u8]) -> Need {
    match t.len() {
        n if n < SIDE => Need::Anything,
        SIDE => Need::any_of(vec![Need::Key(whole_key(t)), Need::Key(prefix_key(t))]),
        _ => Need::Key(prefix_key(t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(s: &str) -> String {
        let mut out = String::new();
        fold_into(s, &mut out);
        out
    }

    fn tokens(s: &str) -> Vec<(String, bool, bool)> {
        let f = folded(s);
        let mut v = Vec::new();
        for_each_token(&f, |t| v.push((t.text.to_string(), t.at_start, t.at_end)));
        v
    }

    #[test]
    fn tokens_are_folded_alphanumeric_runs() {
        let t = |s: &str, a: bool, b: bool| (s.to_string(), a, b);
        assert_eq!(
            tokens("ORD-1234562"),
            [t("ord", true, false), t("1234562", false, true)]
        );
        assert_eq!(
            tokens(" \"Wörld\"\\n"),
            [t("wörld", false, false), t("n", false, true)]
        );
        assert_eq!(tokens("--"), []);
        assert_eq!(
            tokens("ΣΑΣ x"),
            [t("σασ", true, false), t("x", false, true)]
        );
        // İ lowercases to i and a combining dot, which separates.
        assert_eq!(tokens("İx"), [t("i", true, false), t("x", false, true)]);
    }

    /// Every character's lowercasing folds the same as the character: so
    /// `ci` compares (which lowercase) and folding agree, and folding a
    /// folded text changes nothing.
    #[test]
    fn folding_absorbs_lowercasing_for_every_character() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let lower: String = c.to_lowercase().collect();
            let upper: String = c.to_uppercase().collect();
            let f = folded(&c.to_string());
            assert_eq!(folded(&lower), f, "{c:?}");
            assert_eq!(folded(&f), f, "{c:?}");
            // Where uppercasing round-trips, both cases fold alike.
            if upper.chars().count() == 1 && upper.to_lowercase() == lower {
                assert_eq!(folded(&upper), f, "{c:?}");
            }
        }
        // str::to_lowercase's word-final sigma folds like any sigma.
        assert_eq!(folded(&"ΟΔΟΣ".to_lowercase()), folded("ΟΔΟΣ"));
    }

    #[test]
    fn text_keys_are_the_keys_of_the_folded_tokens() {
        for text in [
            "ORD-1234562 placed",
            "GET /api/orders/12345 responded 200 in 12.3456 ms",
            "4bf92f3577B34DA6a3ce929d0e0e4736",
            "Zürich ΟΔΟΣ İstanbul ß ǅ",
            "",
            "--",
            "aBcDeFgHiJ",
        ] {
            let mut fast = Vec::new();
            text_keys(text, &mut String::new(), |k| fast.push(k));
            let f = folded(text);
            let mut slow = Vec::new();
            for_each_token(&f, |t| slow.push(token_key(t.text)));
            assert_eq!(fast, slow, "{text}");
        }
    }

    #[test]
    fn long_tokens_keep_their_prefix() {
        assert_eq!(token_key("abc"), whole_key(b"abc"));
        assert_eq!(token_key("abcdef"), whole_key(b"abcdef"));
        assert_eq!(token_key("abcdefg"), prefix_key(b"abcdefg"));
        assert_eq!(token_key("abcdefg"), token_key("abcdefxyz"));
        assert_ne!(whole_key(b"abcdef"), prefix_key(b"abcdefg"));
    }

    #[test]
    fn equal_integers_share_the_key_of_their_digits() {
        let key = |n| number_key(n).unwrap();
        assert_eq!(key(Num::Int(400458)), token_key("400458"));
        assert_eq!(key(Num::Float(400458.0)), token_key("400458"));
        assert_eq!(key(Num::Int(-5)), token_key("5"));
        assert_eq!(key(Num::Float(-0.0)), token_key("0"));
        assert_eq!(key(Num::Float(1e38)), key(Num::Int(1e38 as i128)));
        assert_eq!(number_key(Num::Float(0.5)), None);
    }

    #[test]
    fn needs_follow_the_placement() {
        let key = |b: &[u8]| Need::Key(whole_key(b));
        // Equal: both tokens whole.
        assert_eq!(
            text_need("ORD-1", Placement::EQUAL),
            Need::All(vec![key(b"ord"), key(b"1")])
        );
        // Inside: the edges are cut; short cut tokens tell nothing.
        assert_eq!(text_need("ORD-1", Placement::INSIDE), Need::Anything);
        assert_eq!(
            text_need("ORD-1234562", Placement::INSIDE),
            Need::Key(prefix_key(b"1234562"))
        );
        assert_eq!(
            text_need("a timeout here", Placement::INSIDE),
            Need::Key(prefix_key(b"timeout"))
        );
        assert_eq!(
            text_need("id 400458 in", Placement::INSIDE),
            Need::Key(whole_key(b"400458"))
        );
        assert_eq!(text_need("timeout", Placement::INSIDE), Need::Anything);
        let starts = Placement {
            anchored_start: true,
            anchored_end: false,
        };
        assert_eq!(text_need("/api/orders", starts), {
            Need::All(vec![key(b"api"), starting(b"orders")])
        });
        assert_eq!(text_need("--", Placement::EQUAL), Need::Anything);
    }
}
