//! The lexer: filter or query text to a vector of positioned [`Token`]s.
//!
//! Keywords are ordinary [`Tok::Ident`]s, recognised case-insensitively by the
//! parser. A `/` starts a regular expression literal unless the previous token
//! ends an operand, in which case it divides.

use super::error::{ByteError, PResult};

/// Punctuation and operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sym {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Question,
    AndAnd,
    OrOr,
    Bang,
}

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok<'a> {
    /// A name: property, function or keyword.
    Ident(&'a str),
    /// `@Name`, without the `@`.
    Builtin(&'a str),
    /// A single-quoted string, `''` already unescaped.
    Str(String),
    /// A number's raw text (decimal, or hex with `0x`).
    Num(&'a str),
    /// A duration literal in nanoseconds.
    Duration(i128),
    /// A `/regex/` literal's pattern, `\/` unescaped.
    Regex(String),
    /// Punctuation.
    Sym(Sym),
    /// End of input.
    Eof,
}

/// A token and the byte range it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token<'a> {
    pub tok: Tok<'a>,
    pub start: usize,
    pub end: usize,
}

/// Keywords after which a `/` starts a regex rather than dividing.
const OPERATOR_WORDS: &[&str] = &[
    "and", "or", "not", "like", "in", "is", "where", "having", "select", "by", "as", "when",
    "then", "else",
];

fn ends_operand(t: &Tok<'_>) -> bool {
    match t {
        Tok::Ident(w) => !OPERATOR_WORDS.iter().any(|k| k.eq_ignore_ascii_case(w)),
        Tok::Builtin(_) | Tok::Str(_) | Tok::Num(_) | Tok::Duration(_) | Tok::Regex(_) => true,
        Tok::Sym(Sym::RParen) | Tok::Sym(Sym::RBracket) => true,
        _ => false,
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits `text` into tokens, ending with [`Tok::Eof`].
pub(crate) fn lex(text: &str) -> PResult<Vec<Token<'_>>> {
    let mut out: Vec<Token<'_>> = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = match text[i..].chars().next() {
            Some(c) => c,
            None => break,
        };
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let start = i;
        let tok = if is_ident_start(c) {
            i = scan_while(text, i, is_ident_char);
            Tok::Ident(&text[start..i])
        } else if c == '@' {
            let j = scan_while(text, i + 1, is_ident_char);
            if j == i + 1 {
                return Err(ByteError::new(start, "expected a name after `@`"));
            }
            i = j;
            Tok::Builtin(&text[start + 1..i])
        } else if c.is_ascii_digit() {
            let (t, j) = lex_number(text, i)?;
            i = j;
            t
        } else if c == '\'' {
            let (s, j) = lex_string(text, i)?;
            i = j;
            Tok::Str(s)
        } else if c == '/' && !out.last().is_some_and(|t| ends_operand(&t.tok)) {
            let (s, j) = lex_regex(text, i)?;
            i = j;
            Tok::Regex(s)
        } else {
            let two = b.get(i + 1).copied();
            let (sym, len) = match (c, two) {
                ('<', Some(b'>')) | ('!', Some(b'=')) => (Sym::Ne, 2),
                ('<', Some(b'=')) => (Sym::Le, 2),
                ('>', Some(b'=')) => (Sym::Ge, 2),
                ('=', Some(b'=')) => (Sym::Eq, 2),
                ('&', Some(b'&')) => (Sym::AndAnd, 2),
                ('|', Some(b'|')) => (Sym::OrOr, 2),
                ('(', _) => (Sym::LParen, 1),
                (')', _) => (Sym::RParen, 1),
                ('[', _) => (Sym::LBracket, 1),
                (']', _) => (Sym::RBracket, 1),
                (',', _) => (Sym::Comma, 1),
                ('.', _) => (Sym::Dot, 1),
                ('=', _) => (Sym::Eq, 1),
                ('<', _) => (Sym::Lt, 1),
                ('>', _) => (Sym::Gt, 1),
                ('+', _) => (Sym::Plus, 1),
                ('-', _) => (Sym::Minus, 1),
                ('*', _) => (Sym::Star, 1),
                ('/', _) => (Sym::Slash, 1),
                ('%', _) => (Sym::Percent, 1),
                ('?', _) => (Sym::Question, 1),
                ('!', _) => (Sym::Bang, 1),
                _ => return Err(ByteError::new(start, format!("unexpected character `{c}`"))),
            };
            i += len;
            Tok::Sym(sym)
        };
        out.push(Token { tok, start, end: i });
    }
    out.push(Token {
        tok: Tok::Eof,
        start: text.len(),
        end: text.len(),
    });
    Ok(out)
}

fn scan_while(text: &str, mut i: usize, f: impl Fn(char) -> bool) -> usize {
    for c in text[i..].chars() {
        if !f(c) {
            break;
        }
        i += c.len_utf8();
    }
    i
}

fn digits(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    i
}

/// Parses a duration written as in the filter language (`30d`, `12h`,
/// `10m`, `5s`, `100ms`), as used by settings such as the retention period.
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = text.split_at(split);
    let nanos = n.parse::<i128>().ok()?.checked_mul(unit_nanos(unit)?)?;
    u64::try_from(nanos)
        .ok()
        .map(std::time::Duration::from_nanos)
}

/// Nanoseconds per duration unit.
fn unit_nanos(unit: &str) -> Option<i128> {
    Some(match unit {
        "d" => 86_400_000_000_000,
        "h" => 3_600_000_000_000,
        "m" => 60_000_000_000,
        "s" => 1_000_000_000,
        "ms" => 1_000_000,
        "us" => 1_000,
        _ => return None,
    })
}

fn lex_number(text: &str, start: usize) -> PResult<(Tok<'_>, usize)> {
    let b = text.as_bytes();
    if b[start] == b'0' && matches!(b.get(start + 1), Some(b'x') | Some(b'X')) {
        let mut i = start + 2;
        while i < b.len() && b[i].is_ascii_hexdigit() {
            i += 1;
        }
        if i == start + 2 || b.get(i).is_some_and(|c| c.is_ascii_alphanumeric()) {
            return Err(ByteError::new(start, "invalid hexadecimal number"));
        }
        return Ok((Tok::Num(&text[start..i]), i));
    }
    let mut i = digits(b, start);
    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i = digits(b, i + 1);
    }
    if matches!(b.get(i), Some(b'e') | Some(b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+') | Some(b'-')) {
            j += 1;
        }
        if b.get(j).is_some_and(u8::is_ascii_digit) {
            i = digits(b, j);
        }
    }
    let num = &text[start..i];
    let u_end = scan_while(text, i, is_ident_char);
    if u_end == i {
        return Ok((Tok::Num(num), i));
    }
    let per = unit_nanos(&text[i..u_end]).ok_or_else(|| {
        ByteError::new(start, format!("invalid number `{}`", &text[start..u_end]))
    })?;
    let nanos = match num.parse::<i128>() {
        Ok(n) => n.checked_mul(per),
        Err(_) => num
            .parse::<f64>()
            .ok()
            .map(|f| f * per as f64)
            .filter(|f| f.is_finite() && f.abs() < 1e30)
            .map(|f| f.round() as i128),
    };
    let nanos = nanos.ok_or_else(|| ByteError::new(start, "duration out of range"))?;
    Ok((Tok::Duration(nanos), u_end))
}

fn lex_string(text: &str, start: usize) -> PResult<(String, usize)> {
    let mut s = String::new();
    let mut it = text[start + 1..].char_indices().peekable();
    while let Some((k, c)) = it.next() {
        if c == '\'' {
            if it.peek().map(|(_, c)| *c) == Some('\'') {
                it.next();
                s.push('\'');
            } else {
                return Ok((s, start + 1 + k + 1));
            }
        } else {
            s.push(c);
        }
    }
    Err(ByteError::new(start, "unterminated string"))
}

fn lex_regex(text: &str, start: usize) -> PResult<(String, usize)> {
    let mut s = String::new();
    let mut it = text[start + 1..].char_indices().peekable();
    while let Some((k, c)) = it.next() {
        match c {
            '/' => return Ok((s, start + 1 + k + 1)),
            '\\' if it.peek().map(|(_, c)| *c) == Some('/') => {
                it.next();
                s.push('/');
            }
            '\\' => {
                s.push('\\');
                if let Some((_, n)) = it.next() {
                    s.push(n);
                }
            }
            _ => s.push(c),
        }
    }
    Err(ByteError::new(start, "unterminated regular expression"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok<'_>> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn lexes_operators_strings_and_literals() {
        assert_eq!(
            toks("A <> 'it''s' and @Level>=1.5"),
            vec![
                Tok::Ident("A"),
                Tok::Sym(Sym::Ne),
                Tok::Str("it's".into()),
                Tok::Ident("and"),
                Tok::Builtin("Level"),
                Tok::Sym(Sym::Ge),
                Tok::Num("1.5"),
                Tok::Eof
            ]
        );
        assert_eq!(toks("1h")[0], Tok::Duration(3_600_000_000_000));
        assert_eq!(toks("100ms")[0], Tok::Duration(100_000_000));
        assert_eq!(
            parse_duration("30d"),
            Some(std::time::Duration::from_secs(30 * 86_400))
        );
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration("d"), None);
        assert_eq!(toks("1.5s")[0], Tok::Duration(1_500_000_000));
        assert_eq!(toks("0xFF")[0], Tok::Num("0xFF"));
    }

    #[test]
    fn slash_is_regex_or_division_by_context() {
        assert_eq!(toks("A = /a\\/b/")[2], Tok::Regex("a/b".into()));
        assert_eq!(toks("A / 2")[1], Tok::Sym(Sym::Slash));
        assert_eq!(toks("A like /x/")[2], Tok::Regex("x".into()));
    }

    #[test]
    fn errors_name_the_byte_offset() {
        assert_eq!(lex("A = 'abc").unwrap_err().at, 4);
        assert_eq!(lex("A = /x").unwrap_err().at, 4);
        assert_eq!(lex("3rd").unwrap_err().at, 0);
        assert!(lex("a # b").is_err());
    }
}
