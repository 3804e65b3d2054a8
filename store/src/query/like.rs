//! `like` patterns: `%` matches any run of characters, `?` exactly one.
//!
//! Patterns made only of literal text and `%` at the ends run as plain
//! `contains`/`starts_with`/`ends_with`/`==`; the rest use an iterative
//! two-pointer matcher (no recursion, no allocation, O(text × pattern) worst case).

use std::cmp::Ordering;

use super::value::text_cmp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Many,
    One,
    Char(char),
}

/// A compiled `like` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LikePattern {
    toks: Box<[Tok]>,
    /// The literal between optional leading/trailing `%`, when that is all there is.
    literal: Option<(bool, Box<str>, bool)>,
}

impl LikePattern {
    /// Compiles `pattern`.
    pub(crate) fn new(pattern: &str) -> LikePattern {
        let mut toks: Vec<Tok> = Vec::new();
        for c in pattern.chars() {
            let t = match c {
                '%' => Tok::Many,
                '?' => Tok::One,
                c => Tok::Char(c),
            };
            if !(t == Tok::Many && toks.last() == Some(&Tok::Many)) {
                toks.push(t);
            }
        }
        let lead = toks.first() == Some(&Tok::Many);
        let trail = toks.len() > usize::from(lead) && toks.last() == Some(&Tok::Many);
        let inner = &toks[usize::from(lead)..toks.len() - usize::from(trail)];
        let literal = inner
            .iter()
            .map(|t| match t {
                Tok::Char(c) => Some(*c),
                _ => None,
            })
            .collect::<Option<String>>()
            .map(|s| (lead, s.into_boxed_str(), trail));
        LikePattern {
            toks: toks.into_boxed_slice(),
            literal,
        }
    }

    /// The pattern's runs of literal characters, in order, each with
    /// whether it starts the pattern and whether it ends it (a run next to
    /// `%` or `?` does neither on that side).
    pub(crate) fn literal_runs(&self) -> Vec<(bool, String, bool)> {
        let mut runs = Vec::new();
        let mut run: Option<(bool, String)> = None;
        for (i, t) in self.toks.iter().enumerate() {
            match (t, &mut run) {
                (Tok::Char(c), Some((_, text))) => text.push(*c),
                (Tok::Char(c), None) => run = Some((i == 0, c.to_string())),
                (_, _) => {
                    if let Some((start, text)) = run.take() {
                        runs.push((start, text, false));
                    }
                }
            }
        }
        if let Some((start, text)) = run {
            runs.push((start, text, true));
        }
        runs
    }

    /// Whether `text` matches, case-insensitively when `ci`.
    pub(crate) fn matches(&self, text: &str, ci: bool) -> bool {
        if let (Some((lead, lit, trail)), false) = (&self.literal, ci) {
            return match (lead, trail) {
                (true, true) => text.contains(&**lit),
                (false, true) => text.starts_with(&**lit),
                (true, false) => text.ends_with(&**lit),
                (false, false) => text == &**lit,
            };
        }
        self.general(text, ci)
    }

    fn general(&self, text: &str, ci: bool) -> bool {
        let p = &self.toks;
        let (mut t, mut k) = (0usize, 0usize);
        let mut backtrack: Option<(usize, usize)> = None;
        loop {
            let c = text[t..].chars().next();
            let step = match (p.get(k), c) {
                (Some(Tok::Many), _) => {
                    backtrack = Some((k, t));
                    k += 1;
                    continue;
                }
                (Some(Tok::One), Some(c)) => Some(c.len_utf8()),
                (Some(Tok::Char(pc)), Some(c)) if char_eq(*pc, c, ci) => Some(c.len_utf8()),
                (None, None) => return true,
                _ => None,
            };
            match step {
                Some(n) => {
                    t += n;
                    k += 1;
                }
                None => match backtrack {
                    Some((bk, bt)) => match text[bt..].chars().next() {
                        Some(c) => {
                            let bt = bt + c.len_utf8();
                            backtrack = Some((bk, bt));
                            k = bk + 1;
                            t = bt;
                        }
                        None => return false,
                    },
                    None => return false,
                },
            }
        }
    }
}

fn char_eq(a: char, b: char, ci: bool) -> bool {
    a == b
        || (ci
            && text_cmp(a.encode_utf8(&mut [0; 4]), b.encode_utf8(&mut [0; 4]), true)
                == Ordering::Equal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str, ci: bool) -> bool {
        LikePattern::new(p).matches(t, ci)
    }

    #[test]
    fn wildcards() {
        assert!(m("/api/orders/%", "/api/orders/17", false));
        assert!(!m("/api/orders/%", "/api/order/17", false));
        assert!(m("%Timeout%", "a Timeout here", false));
        assert!(!m("%Timeout%", "a timeout here", false));
        assert!(m("%Timeout%", "a timeout here", true));
        assert!(m("a?c", "abc", false));
        assert!(m("a?c", "aéc", false));
        assert!(!m("a?c", "ac", false));
        assert!(m("a%b%c", "axxbyyc", false));
        assert!(!m("a%b%c", "axxbyy", false));
        assert!(m("%", "", false));
        assert!(m("", "", false));
        assert!(!m("", "x", false));
        assert!(m("%?", "x", false));
        assert!(m("ÄB%", "äbc", true));
        assert!(m("%%x%%", "ax", false));
    }

    #[test]
    fn literal_runs_know_their_anchors() {
        let runs = |p: &str| LikePattern::new(p).literal_runs();
        let r = |a: bool, t: &str, b: bool| (a, t.to_string(), b);
        assert_eq!(runs("/api/%"), [r(true, "/api/", false)]);
        assert_eq!(
            runs("%ab?c%d"),
            [
                r(false, "ab", false),
                r(false, "c", false),
                r(false, "d", true)
            ]
        );
        assert_eq!(runs("abc"), [r(true, "abc", true)]);
        assert!(runs("%").is_empty() && runs("").is_empty());
    }
}
