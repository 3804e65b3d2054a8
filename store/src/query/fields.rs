//! [`Fields`]: what a filter or query reads from an event, so an executor can
//! decompress only those columns of a block.
//!
//! The answer is conservative: anything that needs more than named columns
//! (free text and `@Message`, which render the template with every property)
//! sets [`Fields::everything`].
//!
//! [`Filter::required_texts`] adds what a match must contain: a scan may skip
//! a block whose column lacks the text without evaluating a single row.

use super::ast::{Builtin, CmpOp, Expr, Root};
use super::filter::Filter;
use super::select::Query;

/// The event fields an expression may read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    /// `@Timestamp` (or `@Id`, which is built from it).
    pub timestamp: bool,
    /// The canonical severity (`@Level` tests against level names).
    pub severity: bool,
    /// `@l` as sent (`@Level` compared with other text, or shown).
    pub level_text: bool,
    /// `@mt`.
    pub template: bool,
    /// `@x`.
    pub exception: bool,
    /// `@tr`.
    pub trace_id: bool,
    /// `@sp`.
    pub span_id: bool,
    /// Top-level property names, as written in the expression, deduplicated.
    pub properties: Vec<Box<str>>,
    /// Reified `@`-fields by stored name (`@i` for `@EventType`).
    pub reified: Vec<Box<str>>,
    /// Reads the rendered message (free text, `@Message`): decode whole events.
    pub everything: bool,
}

impl Fields {
    /// True when nothing but the canonical severity (if anything) is read.
    pub fn severity_only(&self) -> bool {
        let Fields {
            timestamp,
            severity: _,
            level_text,
            template,
            exception,
            trace_id,
            span_id,
            properties,
            reified,
            everything,
        } = self;
        !(*timestamp
            || *level_text
            || *template
            || *exception
            || *trace_id
            || *span_id
            || *everything)
            && properties.is_empty()
            && reified.is_empty()
    }

    fn add(&mut self, e: &Expr) {
        match e {
            Expr::Builtin(b) => match b {
                Builtin::Timestamp | Builtin::Id => self.timestamp = true,
                Builtin::Level => {
                    self.severity = true;
                    self.level_text = true;
                }
                Builtin::Message => self.everything = true,
                Builtin::MessageTemplate => self.template = true,
                Builtin::Exception => self.exception = true,
                Builtin::EventType => push(&mut self.reified, "@i"),
                Builtin::TraceId => self.trace_id = true,
                Builtin::SpanId => self.span_id = true,
            },
            Expr::Path {
                root: Root::Property(name),
                ..
            } => push(&mut self.properties, name),
            Expr::LevelIn { .. } => self.severity = true,
            _ => {}
        }
        e.children(&mut |c| self.add(c));
    }
}

fn push(list: &mut Vec<Box<str>>, name: &str) {
    if !list.iter().any(|n| &**n == name) {
        list.push(name.into());
    }
}

impl Filter {
    /// The event fields this filter reads.
    pub fn fields(&self) -> Fields {
        let mut f = Fields::default();
        if self.free_text().is_some() {
            f.everything = true;
        } else if let Some(e) = self.expr() {
            f.add(e);
        }
        f
    }
}

/// A string field a [`RequiredText`] names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextField {
    /// A top-level property, by name.
    Property(Box<str>),
    /// `@MessageTemplate`.
    MessageTemplate,
    /// `@Exception`.
    Exception,
    /// `@TraceId`.
    TraceId,
    /// `@SpanId`.
    SpanId,
}

/// Every match has `field` equal to `text` (a top-level `and`-ed
/// `field = 'text'`, case-sensitive), so a block none of whose `field`
/// values contains `text` (in its raw JSON, where escapes may hide it
/// behind a backslash) holds no match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredText {
    /// The field.
    pub field: TextField,
    /// The text it must equal.
    pub text: Box<str>,
}

fn text_field(e: &Expr) -> Option<TextField> {
    Some(match e {
        Expr::Path {
            root: Root::Property(name),
            segs,
            ..
        } if segs.is_empty() => TextField::Property(name.clone()),
        Expr::Builtin(Builtin::MessageTemplate) => TextField::MessageTemplate,
        Expr::Builtin(Builtin::Exception) => TextField::Exception,
        Expr::Builtin(Builtin::TraceId) => TextField::TraceId,
        Expr::Builtin(Builtin::SpanId) => TextField::SpanId,
        _ => return None,
    })
}

impl Filter {
    /// The `field = 'text'` conditions every match satisfies.
    pub fn required_texts(&self) -> Vec<RequiredText> {
        let Some(e) = self.expr() else {
            return Vec::new();
        };
        let conjuncts = match e {
            Expr::And(v) => v.as_slice(),
            e => std::slice::from_ref(e),
        };
        let mut out = Vec::new();
        for c in conjuncts {
            let Expr::Cmp {
                op: CmpOp::Eq,
                l,
                r,
                ci: false,
            } = c
            else {
                continue;
            };
            let (field, text) = match (&**l, &**r) {
                (Expr::Str(t), x) | (x, Expr::Str(t)) => (text_field(x), t),
                _ => continue,
            };
            if let Some(field) = field.filter(|_| !text.is_empty()) {
                out.push(RequiredText {
                    field,
                    text: text.clone(),
                });
            }
        }
        out
    }
}

impl Query {
    /// The event fields this query reads (`where`, group keys, aggregate
    /// arguments, per-event columns and sort keys).
    pub fn fields(&self) -> Fields {
        let p = self.plan();
        let mut f = p.filter.as_ref().map(Filter::fields).unwrap_or_default();
        if p.bucket.is_some() {
            f.timestamp = true;
        }
        for k in &p.keys {
            f.add(&k.expr);
        }
        for a in p.aggs.iter().filter_map(|a| a.arg.as_ref()) {
            f.add(a);
        }
        if !p.aggregate {
            p.columns.iter().for_each(|c| f.add(&c.expr));
            p.order.iter().for_each(|(x, _)| f.add(x));
        }
        f
    }

    /// `Some(limit)` when the query keeps the first `limit` rows it is fed
    /// (one row per event, `limit` without `order by`): feed it events in
    /// result order, and only that many matches.
    pub fn ordered_limit(&self) -> Option<usize> {
        let p = self.plan();
        if p.aggregate || !p.order.is_empty() {
            return None;
        }
        p.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_report_what_they_read() {
        let f = Filter::parse("Application = 'checkout' and StatusCode >= 500").unwrap();
        let fields = f.fields();
        assert_eq!(
            fields.properties,
            vec![Box::from("Application"), Box::from("StatusCode")]
        );
        assert!(!fields.everything && !fields.severity);
        let lvl = Filter::parse("@Level = 'Error' or @Level = 'warn'")
            .unwrap()
            .fields();
        assert!(lvl.severity && lvl.severity_only());
        assert!(!Filter::parse("@Level = 'custom'")
            .unwrap()
            .fields()
            .severity_only());
        assert!(Filter::parse("timeout").unwrap().fields().everything);
        assert!(
            Filter::parse("@Message like '%x%'")
                .unwrap()
                .fields()
                .everything
        );
        let t = Filter::parse("@TraceId = 'a' and @EventType = 0x1 and A[?].B = 1").unwrap();
        let t = t.fields();
        assert!(t.trace_id && t.reified == vec![Box::from("@i")]);
        assert_eq!(t.properties, vec![Box::from("A")]);
        assert!(Filter::match_all().fields().severity_only());
    }

    #[test]
    fn queries_report_keys_and_arguments() {
        let q = Query::parse(
            "select count(*), max(Elapsed) from stream where StatusCode >= 500 \
             group by Application, time(1m)",
        )
        .unwrap();
        let f = q.fields();
        assert!(f.timestamp);
        for p in ["StatusCode", "Application", "Elapsed"] {
            assert!(f.properties.iter().any(|n| &**n == p), "{p}");
        }
        assert_eq!(q.ordered_limit(), None);
        let f = Filter::parse("TraceId = 'ab' and 'x' = @TraceId and A.B = 'c' and D = 'e' ci")
            .unwrap();
        let req = f.required_texts();
        assert_eq!(req.len(), 2);
        assert_eq!(req[0].field, TextField::Property("TraceId".into()));
        assert_eq!(
            (req[1].field.clone(), &*req[1].text),
            (TextField::TraceId, "x")
        );
        assert!(Filter::parse("A = 'x' or B = 'y'")
            .unwrap()
            .required_texts()
            .is_empty());
        let rows = Query::parse("select @Exception from stream limit 3").unwrap();
        assert!(rows.fields().exception);
        assert_eq!(rows.ordered_limit(), Some(3));
    }
}
