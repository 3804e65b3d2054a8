//! Serilog message templates: [`tokens`] and the API's [`MessageTemplateTokens`].
//!
//! `{Name}`, `{@Name}` (structure), `{$Name}` (stringify), `{Name,-10}`
//! (alignment), `{Name:0.00}` (format) and `{{`/`}}` escapes, parsed the way
//! Serilog's `MessageTemplateParser` does: a malformed hole is kept as text,
//! and parsing never fails. Rendering lives in [`super::render`].

use std::borrow::Cow;

use serde::Serialize;

/// How a hole asks for its value to be captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hint {
    /// `{Name}`.
    Default,
    /// `{@Name}`: structured.
    Structure,
    /// `{$Name}`: stringified.
    Stringify,
}

/// A property hole of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hole<'a> {
    /// The property name, without hint, alignment or format.
    pub name: &'a str,
    /// The hole exactly as written, braces included.
    pub raw_text: &'a str,
    /// The `@`/`$` hint.
    pub hint: Hint,
    /// `,alignment`: the width, negative when left-aligned.
    pub alignment: Option<i32>,
    /// `:format`, when present and non-empty.
    pub format: Option<&'a str>,
}

/// One token of a template, borrowed from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token<'a> {
    /// Literal text, with `{{`/`}}` already unescaped.
    Text(Cow<'a, str>),
    /// A property hole.
    Hole(Hole<'a>),
}

/// Iterator over the tokens of a template; see [`tokens`].
#[derive(Clone, Debug)]
pub struct Tokens<'a> {
    template: &'a str,
    pos: usize,
}

/// The tokens of `template`, in order. Never fails: malformed holes are text.
pub fn tokens(template: &str) -> Tokens<'_> {
    Tokens { template, pos: 0 }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let t = self.template;
        let b = t.as_bytes();
        if self.pos >= b.len() {
            return None;
        }
        if b[self.pos] == b'{' && b.get(self.pos + 1) != Some(&b'{') {
            let (token, next) = parse_hole(t, self.pos);
            self.pos = next;
            return Some(token);
        }
        // Text up to the next single `{`, unescaping `{{` and `}}`.
        let start = self.pos;
        let mut i = start;
        let mut owned: Option<String> = None;
        let mut copied = start;
        while i < b.len() {
            match b[i] {
                b'{' if b.get(i + 1) == Some(&b'{') => {}
                b'{' => break,
                b'}' if b.get(i + 1) == Some(&b'}') => {}
                _ => {
                    i += 1;
                    continue;
                }
            }
            // A doubled brace: keep one.
            let s = owned.get_or_insert_with(String::new);
            s.push_str(&t[copied..=i]);
            i += 2;
            copied = i;
        }
        self.pos = i;
        Some(Token::Text(match owned {
            None => Cow::Borrowed(&t[start..i]),
            Some(mut s) => {
                s.push_str(&t[copied..i]);
                Cow::Owned(s)
            }
        }))
    }
}

fn valid_in_name(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// .NET's `char.IsPunctuation`, for ASCII (other characters are rejected).
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() && !matches!(c, '$' | '+' | '<' | '=' | '>' | '^' | '`' | '|' | '~')
}

fn valid_in_format(c: char) -> bool {
    c != '}' && (c.is_alphanumeric() || is_punctuation(c) || c == ' ' || c == '+')
}

fn valid_in_tag(c: char) -> bool {
    c == '@' || c == '$' || valid_in_name(c) || valid_in_format(c) || c == ':'
}

/// Parses the hole starting at the `{` at `first`; returns it (or text when
/// malformed) and the position after it.
fn parse_hole(t: &str, first: usize) -> (Token<'_>, usize) {
    let rest = &t[first + 1..];
    let end = rest
        .char_indices()
        .find(|&(_, c)| !valid_in_tag(c))
        .map_or(t.len(), |(i, _)| first + 1 + i);
    if end == t.len() || t.as_bytes()[end] != b'}' {
        return (Token::Text(Cow::Borrowed(&t[first..end])), end);
    }
    let raw_text = &t[first..=end];
    let text = Token::Text(Cow::Borrowed(raw_text));
    match hole(raw_text, &t[first + 1..end]) {
        Some(h) => (Token::Hole(h), end + 1),
        None => (text, end + 1),
    }
}

/// Splits and validates a hole's content (between the braces).
fn hole<'a>(raw_text: &'a str, content: &'a str) -> Option<Hole<'a>> {
    let colon = content.find(':');
    let comma = content.find(',');
    let (name, alignment, format) = match (comma, colon) {
        (None, None) => (content, None, None),
        (None, Some(f)) => (&content[..f], None, Some(&content[f + 1..])),
        (Some(a), Some(f)) if a > f => (&content[..f], None, Some(&content[f + 1..])),
        (Some(a), None) => (&content[..a], Some(&content[a + 1..]), None),
        (Some(a), Some(f)) => (
            &content[..a],
            Some(&content[a + 1..f]),
            Some(&content[f + 1..]),
        ),
    };
    let (hint, name) = match name.as_bytes().first() {
        Some(b'@') => (Hint::Structure, &name[1..]),
        Some(b'$') => (Hint::Stringify, &name[1..]),
        _ => (Hint::Default, name),
    };
    if name.is_empty() || !name.chars().all(valid_in_name) {
        return None;
    }
    let format = format.filter(|f| !f.is_empty());
    if !format.is_none_or(|f| f.chars().all(valid_in_format)) {
        return None;
    }
    let alignment = match alignment {
        None => None,
        Some(a) => Some(parse_alignment(a)?),
    };
    Some(Hole {
        name,
        raw_text,
        hint,
        alignment,
        format,
    })
}

/// `10` or `-10`; zero, empty, or anything else is invalid.
fn parse_alignment(a: &str) -> Option<i32> {
    let digits = a.strip_prefix('-').unwrap_or(a);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let width: i32 = digits.parse().ok().filter(|&w| w != 0)?;
    Some(if a.starts_with('-') { -width } else { width })
}

/// One token as Seq's API returns it in `MessageTemplateTokens`:
/// `{"Text":"..."}` or `{"PropertyName":"...","RawText":"{...}"}` with
/// optional `"Format"` and `"Alignment"` (negative when left-aligned).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum MessageTemplateToken {
    /// Literal text.
    Text {
        /// The text, escapes resolved.
        #[serde(rename = "Text")]
        text: String,
    },
    /// A property hole.
    Property {
        /// The property name (no hint).
        #[serde(rename = "PropertyName")]
        property_name: String,
        /// The hole as written.
        #[serde(rename = "RawText")]
        raw_text: String,
        /// `:format`, if any.
        #[serde(rename = "Format", skip_serializing_if = "Option::is_none")]
        format: Option<String>,
        /// `,alignment`, if any; negative when left-aligned.
        #[serde(rename = "Alignment", skip_serializing_if = "Option::is_none")]
        alignment: Option<i32>,
    },
}

/// A parsed template in the API's shape: serializes as a JSON array.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MessageTemplateTokens(pub Vec<MessageTemplateToken>);

impl MessageTemplateTokens {
    /// Parses `template` (never fails; malformed holes are text).
    pub fn parse(template: &str) -> MessageTemplateTokens {
        MessageTemplateTokens(
            tokens(template)
                .map(|t| match t {
                    Token::Text(text) => MessageTemplateToken::Text {
                        text: text.into_owned(),
                    },
                    Token::Hole(h) => MessageTemplateToken::Property {
                        property_name: h.name.to_owned(),
                        raw_text: h.raw_text.to_owned(),
                        format: h.format.map(str::to_owned),
                        alignment: h.alignment,
                    },
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Token<'_> {
        Token::Text(Cow::Borrowed(s))
    }

    fn hole<'a>(name: &'a str, raw: &'a str) -> Hole<'a> {
        Hole {
            name,
            raw_text: raw,
            hint: Hint::Default,
            alignment: None,
            format: None,
        }
    }

    fn toks(s: &str) -> Vec<Token<'_>> {
        tokens(s).collect()
    }

    #[test]
    fn holes_hints_alignment_and_format() {
        assert_eq!(
            toks("User {UserId} in {Elapsed:0.00} ms"),
            [
                text("User "),
                Token::Hole(hole("UserId", "{UserId}")),
                text(" in "),
                Token::Hole(Hole {
                    format: Some("0.00"),
                    ..hole("Elapsed", "{Elapsed:0.00}")
                }),
                text(" ms"),
            ]
        );
        let h = |s| match toks(s).remove(0) {
            Token::Hole(h) => h,
            t => panic!("{s}: {t:?}"),
        };
        assert_eq!(h("{@A}").hint, Hint::Structure);
        assert_eq!(h("{$A}").hint, Hint::Stringify);
        assert_eq!(h("{A,-10}").alignment, Some(-10));
        assert_eq!(h("{A,5:x}").alignment, Some(5));
        assert_eq!(h("{A,5:x}").format, Some("x"));
        assert_eq!(h("{A:x,5}").format, Some("x,5"));
        assert_eq!(h("{A:}").format, None);
        assert_eq!(h("{0}").name, "0");
        assert_eq!(h("{Näme_1}").name, "Näme_1");
        assert_eq!(h("{A:yyyy-MM-dd HH:mm}").format, Some("yyyy-MM-dd HH:mm"));
    }

    #[test]
    fn escapes_and_malformed_holes_are_text() {
        assert_eq!(
            toks("a {{b}} c"),
            [Token::Text(Cow::Owned("a {b} c".into()))]
        );
        assert_eq!(toks("}"), [text("}")]);
        for s in [
            "{", "{}", "{ A}", "{A B}", "{@}", "{A,}", "{A,-0}", "{A,x}", "{A,1-2}", "{A,:f}",
        ] {
            let all_text = toks(s).iter().all(|t| matches!(t, Token::Text(_)));
            assert!(all_text, "{s}: {:?}", toks(s));
        }
        assert_eq!(
            toks("{a=b} {C}"),
            [text("{a"), text("=b} "), Token::Hole(hole("C", "{C}"))]
        );
        assert_eq!(toks("x {A"), [text("x "), text("{A")]);
        assert_eq!(toks("{{{A}}}")[1], Token::Hole(hole("A", "{A}")));
        assert_eq!(toks(""), []);
        assert_eq!(toks("{é"), [text("{é")]);
    }

    #[test]
    fn api_shape() {
        let t = MessageTemplateTokens::parse("User {UserId,-4:x} {Name}!");
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"[{"Text":"User "},{"PropertyName":"UserId","RawText":"{UserId,-4:x}","Format":"x","Alignment":-4},{"Text":" "},{"PropertyName":"Name","RawText":"{Name}"},{"Text":"!"}]"#
        );
    }
}
