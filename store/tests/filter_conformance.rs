//! Conformance of the filter language and queries: tables of expressions and
//! their expected matches over a fixed, hand-built event set and clock.

use skein_store::query::{EvalContext, Filter, Query};
use skein_store::{Event, JsonMap, Level, Severity, Timestamp};

/// 2025-01-01T12:00:00Z.
const NOW: i64 = 1_735_732_800_000_000_000;
const S: i64 = 1_000_000_000;
const M: i64 = 60 * S;

fn ctx() -> EvalContext {
    EvalContext::new(Timestamp(NOW))
}

struct Spec {
    name: &'static str,
    ago: i64,
    level: Option<&'static str>,
    severity: Severity,
    message: Option<&'static str>,
    props: &'static [(&'static str, &'static str)],
}

fn build(s: &Spec) -> Event {
    Event {
        timestamp: Timestamp(NOW - s.ago),
        level: Level {
            text: s.level.map(Into::into),
            severity: s.severity,
        },
        message_template: None,
        message: s.message.map(Into::into),
        exception: None,
        trace_id: None,
        span_id: None,
        reified: JsonMap::new(),
        properties: JsonMap::from_raw_pairs(s.props.iter().copied()),
    }
}

use Severity::*;

const SPECS: &[Spec] = &[
    Spec {
        name: "checkout_err",
        ago: 10 * M,
        level: Some("Error"),
        severity: Error,
        message: None,
        props: &[
            ("Application", "\"checkout\""),
            ("OrderId", "42"),
            ("StatusCode", "500"),
            ("RequestPath", "\"/api/orders/42\""),
            ("Elapsed", "12.5"),
            ("Tags", "[\"a\",\"b\"]"),
        ],
    },
    Spec {
        name: "py_error",
        ago: 120 * M,
        level: Some("ERROR"),
        severity: Error,
        message: Some("Database connection refused"),
        props: &[
            ("Application", "\"billing\""),
            ("StatusCode", "503"),
            ("Items", "[1, 2, 3]"),
        ],
    },
    Spec {
        name: "winston_info",
        ago: 30 * S,
        level: Some("info"),
        severity: Information,
        message: Some("User logged in"),
        props: &[
            ("Application", "\"web\""),
            ("User", "{\"Name\":\"alice\",\"Roles\":[\"admin\",\"dev\"]}"),
            ("StatusCode", "200"),
        ],
    },
    Spec {
        name: "warn_dup",
        ago: 5 * M,
        level: Some("warn"),
        severity: Warning,
        message: Some("Slow request to /api/orders/7"),
        props: &[
            ("Application", "\"checkout\""),
            ("StatusCode", "200"),
            ("Elapsed", "1500"),
        ],
    },
    Spec {
        name: "no_level",
        ago: 1440 * M + S,
        level: None,
        severity: Information,
        message: Some("Heartbeat"),
        props: &[],
    },
    Spec {
        name: "big_int",
        ago: M,
        level: Some("Debug"),
        severity: Debug,
        message: Some("big numbers"),
        props: &[
            ("BigId", "12345678901234567890123"),
            ("Amount", "1.0"),
            ("Count", "\"5\""),
        ],
    },
    Spec {
        name: "escaped",
        ago: 6 * M,
        level: Some("Verbose"),
        severity: Verbose,
        message: Some("Ünïcode message ÄÖ"),
        props: &[
            ("Quote", "\"say \\\"hi\\\"\""),
            ("x y", "\"spaced\""),
            ("Path", "\"C:\\\\temp\""),
        ],
    },
    Spec {
        name: "null_prop",
        ago: 180 * M,
        level: Some("Fatal"),
        severity: Fatal,
        message: Some("Crash!"),
        props: &[
            ("Application", "null"),
            ("Nested", "{\"a\":{\"b\":[{\"c\":1},{\"c\":2}]}}"),
        ],
    },
    Spec {
        name: "fatal_crit",
        ago: 45 * M,
        level: Some("CRITICAL"),
        severity: Fatal,
        message: Some("Disk full"),
        props: &[("Application", "\"storage\""), ("Free", "0")],
    },
    Spec {
        name: "mixed_case",
        ago: 7 * M,
        level: Some("Information"),
        severity: Information,
        message: Some("not found"),
        props: &[("Application", "\"Checkout\""), ("StatusCode", "404.0")],
    },
    Spec {
        name: "event_type",
        ago: 8 * M,
        level: Some("Information"),
        severity: Information,
        message: Some("typed event"),
        props: &[("Application", "\"web\""), ("StatusCode", "\"500\"")],
    },
    Spec {
        name: "template_only",
        ago: 9 * M,
        level: Some("Information"),
        severity: Information,
        message: None,
        props: &[("UserId", "7"), ("Action", "\"login\"")],
    },
    Spec {
        name: "array_nums",
        ago: 11 * M,
        level: Some("Debug"),
        severity: Debug,
        message: Some("scores"),
        props: &[("Scores", "[10, 20.5, 30]"), ("Empty", "[]")],
    },
    Spec {
        name: "bool_prop",
        ago: 12 * M,
        level: Some("Warning"),
        severity: Warning,
        message: Some("feature flag"),
        props: &[("Enabled", "true"), ("Ratio", "0.25"), ("Negative", "-3")],
    },
    Spec {
        name: "percent",
        ago: 13 * M,
        level: Some("Information"),
        severity: Information,
        message: Some("It's 100% done"),
        props: &[("Progress", "100")],
    },
];

fn events() -> Vec<(&'static str, Event)> {
    SPECS
        .iter()
        .map(|s| {
            let mut e = build(s);
            match s.name {
                "checkout_err" => {
                    e.message_template = Some("Order {OrderId} failed".into());
                    e.exception = Some("System.TimeoutException: Timeout expired".into());
                    e.trace_id = Some("t-1".into());
                }
                "py_error" => e.trace_id = Some("abc123".into()),
                "warn_dup" => e.span_id = Some("sp1".into()),
                "event_type" => e.reified = JsonMap::from_raw_pairs([("@i", "\"$A1B2C3D4\"")]),
                "template_only" => e.message_template = Some("User {UserId} did {Action}".into()),
                _ => {}
            }
            (s.name, e)
        })
        .collect()
}

fn matching(filter: &Filter, evs: &[(&'static str, Event)]) -> Vec<&'static str> {
    evs.iter()
        .filter(|(_, e)| filter.matches(e, &ctx()))
        .map(|(n, _)| *n)
        .collect()
}

const ALL: &str = "checkout_err py_error winston_info warn_dup no_level big_int escaped null_prop fatal_crit mixed_case event_type template_only array_nums bool_prop percent";
const NO_APP: &str =
    "no_level big_int escaped null_prop template_only array_nums bool_prop percent";
const HAS_APP: &str =
    "checkout_err py_error winston_info warn_dup fatal_crit mixed_case event_type";

/// (filter, expected matches as space-separated names in event order).
const FILTERS: &[(&str, &str)] = &[
    // equality, ci, null and missing
    ("Application = 'checkout'", "checkout_err warn_dup"),
    ("Application = 'checkout' ci", "checkout_err warn_dup mixed_case"),
    ("Application <> 'checkout'", "py_error winston_info fatal_crit mixed_case event_type"),
    ("Application != 'checkout'", "py_error winston_info fatal_crit mixed_case event_type"),
    ("Application = null", NO_APP),
    ("Application is null", NO_APP),
    ("Application is not null", HAS_APP),
    ("Application <> null", HAS_APP),
    ("Has(Application)", HAS_APP),
    ("not Has(Application)", NO_APP),
    ("Missing = 1", ""),
    ("Missing <> 1", ""),
    ("not (Missing = 1)", ""),
    ("Missing is null", ALL),
    // numbers across forms, big integers, type mismatches
    ("StatusCode >= 500", "checkout_err py_error"),
    ("StatusCode = 404", "mixed_case"),
    ("StatusCode = 404.0", "mixed_case"),
    ("StatusCode = 4.04e2", "mixed_case"),
    ("StatusCode < 300", "winston_info warn_dup"),
    ("StatusCode = '500'", "event_type"),
    ("StatusCode = 'abc'", ""),
    ("StatusCode <> 'abc'", "event_type"),
    ("Elapsed <> 'abc'", ""),
    ("Application > 5", ""),
    ("Application <> 5", ""),
    ("StatusCode = /5/", "event_type"),
    ("Elapsed = /5/", ""),
    ("Amount = 1", "big_int"),
    ("Amount = 1.0", "big_int"),
    ("BigId = 12345678901234567890123", "big_int"),
    ("BigId = 12345678901234567890124", ""),
    ("BigId > 12345678901234567890122", "big_int"),
    ("Count = 5", ""),
    ("Count = '5'", "big_int"),
    ("Elapsed > 12.4 and Elapsed < 12.6", "checkout_err"),
    ("Elapsed >= 1e3", "warn_dup"),
    ("Ratio = 0.25", "bool_prop"),
    ("Free = 0", "fatal_crit"),
    ("Enabled = true", "bool_prop"),
    ("Enabled <> false", "bool_prop"),
    // arithmetic
    ("StatusCode + 1 = 501", "checkout_err"),
    ("StatusCode - 3 = 500", "py_error"),
    ("Elapsed * 2 = 25", "checkout_err"),
    ("StatusCode / 100 = 5", "checkout_err"),
    ("StatusCode % 100 = 3", "py_error"),
    ("-Negative = 3", "bool_prop"),
    ("Negative < 0", "bool_prop"),
    ("StatusCode / 0 = 1", ""),
    // like
    ("RequestPath like '/api/orders/%'", "checkout_err"),
    ("@Message like '%orders%'", "warn_dup"),
    ("@Message like '%ORDERS%' ci", "warn_dup"),
    ("@Message like 'Disk ?ull'", "fatal_crit"),
    ("@Message like 'User%'", "winston_info template_only"),
    ("@Message not like '%e%'", "null_prop fatal_crit mixed_case"),
    ("@Exception like '%Timeout%' ci", "checkout_err"),
    ("@Exception like '%timeout%'", ""),
    ("@Message like '%äö%' ci", "escaped"),
    ("@Message = 'ünïcode message äö' ci", "escaped"),
    ("@Message = 'It''s 100% done'", "percent"),
    // in
    ("Application in ['web', 'billing']", "py_error winston_info event_type"),
    ("Application in ['WEB'] ci", "winston_info event_type"),
    ("Application not in ['web', 'billing']", "checkout_err warn_dup fatal_crit mixed_case"),
    ("StatusCode in [200, 404]", "winston_info warn_dup mixed_case"),
    // functions (names in any case)
    ("Contains(@Message, 'logged')", "winston_info"),
    ("Contains(@Message, 'LOGGED') ci", "winston_info"),
    ("contains(@message, 'Disk')", "fatal_crit"),
    ("StartsWith(Application, 'check')", "checkout_err warn_dup"),
    ("EndsWith(Application, 'ing')", "py_error"),
    ("IndexOf(Application, 'out') = 5", "checkout_err warn_dup mixed_case"),
    ("IndexOf(Application, 'zzz') = -1", HAS_APP),
    ("Length(Application) = 3", "winston_info event_type"),
    ("Length(Tags) = 2", "checkout_err"),
    ("ToLower(Application) = 'checkout'", "checkout_err warn_dup mixed_case"),
    ("ToUpper(Application) = 'WEB'", "winston_info event_type"),
    ("Substring(Application, 0, 5) = 'check'", "checkout_err warn_dup"),
    ("Substring(Application, 5) = 'out'", "checkout_err warn_dup mixed_case"),
    ("Coalesce(Application, 'none') = 'none'", NO_APP),
    ("Has(@Exception)", "checkout_err"),
    ("Has(@TraceId)", "checkout_err py_error"),
    // built-ins
    ("@TraceId = 'abc123'", "py_error"),
    ("@SpanId = 'sp1'", "warn_dup"),
    ("@MessageTemplate = 'Order {OrderId} failed'", "checkout_err"),
    ("@Message = 'Order 42 failed'", "checkout_err"),
    ("@EventType = 0xA1B2C3D4", "event_type"),
    ("@EventType = '$A1B2C3D4'", "event_type"),
    ("@Level = 'Error'", "checkout_err py_error"),
    ("@Level = 'error'", "checkout_err py_error"),
    ("@Level = 'Fatal'", "null_prop fatal_crit"),
    ("@Level = 'CRITICAL'", "null_prop fatal_crit"),
    ("@Level = 'Warning'", "warn_dup bool_prop"),
    ("@Level = 'Information'", "winston_info no_level mixed_case event_type template_only percent"),
    ("@Level in ['Error', 'Fatal']", "checkout_err py_error null_prop fatal_crit"),
    ("@Level <> 'Information'", "checkout_err py_error warn_dup big_int escaped null_prop fatal_crit array_nums bool_prop"),
    ("@Level like 'ERR%'", "py_error"),
    ("@Level like 'err%' ci", "checkout_err py_error"),
    // time and durations against the fixed clock
    ("@Timestamp > Now() - 1h",
     "checkout_err winston_info warn_dup big_int escaped fatal_crit mixed_case event_type template_only array_nums bool_prop percent"),
    ("@Timestamp < Now() - 1d", "no_level"),
    ("@Timestamp > Now() - 31s", "winston_info"),
    ("@Timestamp >= Now() - 100ms", ""),
    ("@Timestamp >= Now() - 10m and @Timestamp <= Now() - 5m",
     "checkout_err warn_dup escaped mixed_case event_type template_only"),
    // paths and arrays
    ("User.Name = 'alice'", "winston_info"),
    ("User['Name'] = 'alice'", "winston_info"),
    ("@Properties['x y'] = 'spaced'", "escaped"),
    ("User.Roles[0] = 'admin'", "winston_info"),
    ("User.Roles[1] = 'admin'", ""),
    ("User.Roles[-1] = 'dev'", "winston_info"),
    ("User.Roles[?] = 'dev'", "winston_info"),
    ("Items[?] = 2", "py_error"),
    ("Items[*] > 0", "py_error"),
    ("Items[*] > 1", ""),
    ("Scores[?] = 20.5", "array_nums"),
    ("Scores[?] > 25", "array_nums"),
    ("Empty[?] = 1", ""),
    ("Nested.a.b[?].c = 2", "null_prop"),
    ("Nested.a.b[1].c = 2", "null_prop"),
    ("Tags[?] like 'b%'", "checkout_err"),
    ("not (Items[?] = 5)", "py_error"),
    // escapes in stored strings
    ("Quote = 'say \"hi\"'", "escaped"),
    ("Path = 'C:\\temp'", "escaped"),
    ("Quote like '%\"hi\"%'", "escaped"),
    // regex
    ("@Message = /^Disk/", "fatal_crit"),
    ("@Message = /disk/ ci", "fatal_crit"),
    ("Application = /^ch/", "checkout_err warn_dup"),
    ("Application = /^CH/ ci", "checkout_err warn_dup mixed_case"),
    ("RequestPath like /orders\\/\\d+/", "checkout_err"),
    ("/refused$/", "py_error"),
    // logic and literals
    ("true", ALL),
    ("false", ""),
    ("1 = 1", ALL),
    ("Application = 'checkout' and StatusCode >= 500", "checkout_err"),
    ("Application = 'web' or StatusCode = 503", "py_error winston_info event_type"),
    ("@Level = 'Error' && StatusCode > 500", "py_error"),
    ("!(StatusCode = 200)", "checkout_err py_error mixed_case"),
    ("StatusCode <> 200", "checkout_err py_error mixed_case"),
    ("(Application = 'web' or Application = 'billing') and not (StatusCode = 200)", "py_error"),
    // free text: the rendered message, case-insensitively
    ("refused", "py_error"),
    ("HEARTBEAT", "no_level"),
    ("\"connection refused\"", "py_error"),
    ("logged in", "winston_info"),
    ("order 42", "checkout_err"),
    ("did", "template_only"),
    ("/api/orders", "warn_dup"),
    ("It's 100%", "percent"),
    ("user-service", ""),
    ("", ALL),
];

#[test]
fn filter_table() {
    let evs = events();
    let mut failures = Vec::new();
    for (text, expected) in FILTERS {
        let want: Vec<&str> = expected.split_whitespace().collect();
        match Filter::parse(text) {
            Ok(f) => {
                let got = matching(&f, &evs);
                if got != want {
                    failures.push(format!("{text:?}: expected {want:?}, got {got:?}"));
                }
            }
            Err(e) => failures.push(format!("{text:?}: unexpected error {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// (malformed filter, character position, part of the message).
const ERRORS: &[(&str, usize, &str)] = &[
    ("Application = 'checkout", 14, "unterminated string"),
    ("(StatusCode = 500", 0, "unclosed `(`"),
    ("Foo(1)", 0, "unknown function `Foo`"),
    ("StatusCode >= ", 11, "`>=` is missing its right operand"),
    (
        "StatusCode = 500 and",
        17,
        "`and` is missing its right operand",
    ),
    (
        "Application = 'a' and Nope(1) = 2",
        22,
        "unknown function `Nope`",
    ),
    ("@Nope = 1", 0, "unknown built-in"),
    ("A = /(/", 4, "invalid regular expression"),
    ("Substring('abc')", 0, "takes 2 to 3 arguments"),
    ("count(*) > 1", 0, "aggregate"),
    ("StatusCode = 500)", 16, "unmatched `)`"),
    ("A in ['a', 'b'", 5, "unclosed `[`"),
    ("Ä = 'x", 4, "unterminated string"),
    ("A = 1 and (B ci)", 13, "`ci` must follow"),
    ("A = 1 or B like 5", 16, "string pattern"),
    ("A like 5", usize::MAX, "free text"),
];

#[test]
fn error_positions() {
    for (text, pos, msg) in ERRORS {
        if *pos == usize::MAX {
            // No sign of an intended expression: searched as text instead.
            assert!(
                Filter::parse(text).unwrap().free_text().is_some(),
                "{text:?} {msg}"
            );
            continue;
        }
        match Filter::parse(text) {
            Ok(_) => panic!("{text:?} parsed"),
            Err(e) => {
                assert_eq!(e.position, *pos, "{text:?}: {e}");
                assert!(e.message.contains(msg), "{text:?}: {e}");
            }
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(Filter::parse(&deep).is_err());
    let long = vec!["A = 1"; 5_000].join(" or ");
    assert!(Filter::parse(&long).is_ok());
    let arith = format!("{} = 1", vec!["1"; 5_000].join(" + "));
    assert!(Filter::parse(&arith).is_err());
}

#[test]
fn pruning_facts() {
    let f = Filter::parse("@Level = 'Error' and @Timestamp > Now() - 1h and A = 1").unwrap();
    assert_eq!(
        f.severity_requirement(),
        Some([false, false, false, false, true, false])
    );
    assert_eq!(
        f.time_bounds(&ctx()),
        (Some(Timestamp(NOW - 60 * M + 1)), None)
    );
    let counts = [0, 0, 5, 0, 0, 0];
    assert!(!f.may_match_block(&ctx(), Timestamp(NOW - M), Timestamp(NOW), &counts));
    let errors = [0, 0, 5, 0, 1, 0];
    assert!(f.may_match_block(&ctx(), Timestamp(NOW - M), Timestamp(NOW), &errors));
    assert!(!f.may_match_block(&ctx(), Timestamp(0), Timestamp(NOW - 2 * 60 * M), &errors));
    let any = Filter::parse("refused").unwrap();
    assert_eq!(any.severity_requirement(), None);
    assert_eq!(any.time_bounds(&ctx()), (None, None));
}

fn run(text: &str) -> (Vec<String>, Vec<Vec<serde_json::Value>>) {
    let q = Query::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    let evs = events();
    let mut r = q.runner(&ctx());
    evs.iter().for_each(|(_, e)| r.accept(e));
    let one = r.finish();
    // The same, split across two runners and merged.
    let (mut a, mut b) = (q.runner(&ctx()), q.runner(&ctx()));
    for (i, (_, e)) in evs.iter().enumerate() {
        if i % 2 == 0 {
            a.accept(e)
        } else {
            b.accept(e)
        }
    }
    a.merge(b);
    let merged = a.finish();
    assert_eq!(one, merged, "{text:?}: merged result differs");
    (one.columns, one.rows)
}

#[test]
fn query_table() {
    use serde_json::json;
    let cases: Vec<(&str, serde_json::Value, serde_json::Value)> = vec![
        ("select count(*) from stream", json!(["count(*)"]), json!([[15]])),
        ("select count(*) as n from stream where Application = 'checkout'", json!(["n"]), json!([[2]])),
        (
            "select count(*) from stream group by Application",
            json!(["Application", "count(*)"]),
            json!([[null, 8], ["Checkout", 1], ["billing", 1], ["checkout", 2], ["storage", 1], ["web", 2]]),
        ),
        (
            "select count(*) as c from stream where Has(Application) group by Application order by c desc, Application limit 2",
            json!(["Application", "c"]),
            json!([["checkout", 2], ["web", 2]]),
        ),
        (
            "select count(*), sum(StatusCode), min(StatusCode), max(StatusCode), mean(StatusCode) from stream where StatusCode >= 200",
            json!(["count(*)", "sum(StatusCode)", "min(StatusCode)", "max(StatusCode)", "mean(StatusCode)"]),
            json!([[5, 1807, 200, 503, 361.4]]),
        ),
        ("select distinct(Application) from stream", json!(["distinct(Application)"]), json!([[5]])),
        ("select count(Application) from stream", json!(["count(Application)"]), json!([[7]])),
        (
            "select percentile(StatusCode, 50) as p50, percentile(StatusCode, 90) from stream",
            json!(["p50", "percentile(StatusCode, 90)"]),
            json!([[404, 503]]),
        ),
        (
            "select count(*) from stream where @Timestamp > Now() - 1h group by time(10m)",
            json!(["time", "count(*)"]),
            json!([
                ["2025-01-01T11:10:00.0000000Z", 1],
                ["2025-01-01T11:40:00.0000000Z", 3],
                ["2025-01-01T11:50:00.0000000Z", 8]
            ]),
        ),
        (
            "select count(*) from stream where Has(Application) group by time(1h), Application having count(*) > 1",
            json!(["time", "Application", "count(*)"]),
            json!([["2025-01-01T11:00:00.0000000Z", "checkout", 2], ["2025-01-01T11:00:00.0000000Z", "web", 2]]),
        ),
        (
            "SELECT Application, count(*) AS n FROM stream GROUP BY Application ORDER BY n DESC, Application LIMIT 3",
            json!(["Application", "n"]),
            json!([[null, 8], ["checkout", 2], ["web", 2]]),
        ),
        (
            "select Application, StatusCode from stream where StatusCode >= 500 order by StatusCode desc",
            json!(["Application", "StatusCode"]),
            json!([["billing", 503], ["checkout", 500]]),
        ),
        ("select count(*) * 2 as double from stream where @Level = 'Error'", json!(["double"]), json!([[4]])),
        (
            "select max(@Timestamp) - min(@Timestamp) as span from stream where Application = 'checkout'",
            json!(["span"]),
            json!([[300_000_000_000i64]]),
        ),
        (
            "select count(*) from stream where Application = 'nothing' group by Application",
            json!(["Application", "count(*)"]),
            json!([]),
        ),
    ];
    for (text, columns, rows) in cases {
        let (c, r) = run(text);
        assert_eq!(json!(c), columns, "{text}");
        assert_eq!(json!(r), rows, "{text}");
    }
}

#[test]
fn query_errors() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "select count(*) from stream group by Application having Foo > 1",
            56,
            "`Foo` must be in `group by`",
        ),
        ("select count(*) from events", 21, "expected `stream`"),
        (
            "select Application, count(*) from stream",
            7,
            "`Application` must be in `group by`",
        ),
        (
            "select count(*) from stream where count(*) > 1",
            34,
            "aggregate",
        ),
        ("select percentile(A, 200) from stream", 7, "percentile"),
        (
            "select count(*) from stream group by time(5)",
            42,
            "duration",
        ),
        ("select count(*) from stream limit x", 34, "whole number"),
        ("select A from stream having A > 1", 28, "`having` needs"),
        ("select count(* from stream", 15, "expected `)`"),
    ];
    for (text, pos, msg) in cases {
        let e = Query::parse(text)
            .err()
            .unwrap_or_else(|| panic!("{text:?} parsed"));
        assert_eq!(e.position, *pos, "{text:?}: {e}");
        assert!(e.message.contains(msg), "{text:?}: {e}");
    }
}

/// A deterministic stand-in for the fuzz target: random token soup must
/// parse or fail cleanly, and whatever parses must evaluate without panicking.
#[test]
fn random_token_soup_never_panics() {
    const VOCAB: &[&str] = &[
        "A",
        "B.C",
        "Items[?]",
        "Items[*]",
        "Items[0]",
        "Items[-1]",
        "User['Name']",
        "@Level",
        "@Message",
        "@Timestamp",
        "@Properties",
        "@Id",
        "@EventType",
        "Nested.a.b[?].c",
        "=",
        "<>",
        "<",
        ">=",
        "+",
        "-",
        "*",
        "/",
        "%",
        "and",
        "or",
        "not",
        "like",
        "in",
        "is",
        "null",
        "ci",
        "(",
        ")",
        "[",
        "]",
        ",",
        "'x'",
        "'%a?'",
        "''",
        "1",
        "1.5",
        "-2",
        "1e3",
        "0xFF",
        "99999999999999999999999999999999999999999",
        "1h",
        "10m",
        "100ms",
        "/a.*/",
        "/(/",
        "Has(",
        "Contains(",
        "Substring(",
        "Coalesce(",
        "Now()",
        "Length(",
        "IndexOf(",
        "true",
        "select",
        "count(*)",
        "distinct(",
        "percentile(",
        "from",
        "stream",
        "where",
        "group",
        "by",
        "time(1m)",
        "having",
        "order",
        "limit",
        "as",
        "desc",
        "'",
        "\"",
        "@",
        "!",
        "?",
    ];
    let evs = events();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..20_000 {
        let n = (next() % 12) as usize + 1;
        let text: Vec<&str> = (0..n)
            .map(|_| VOCAB[(next() % VOCAB.len() as u64) as usize])
            .collect();
        let text = text.join(if next() % 2 == 0 { " " } else { "" });
        if let Ok(f) = Filter::parse(&text) {
            for (_, e) in &evs {
                let _ = f.matches(e, &ctx());
            }
            let _ = f.time_bounds(&ctx());
        }
        if let Ok(q) = Query::parse(&text) {
            let mut r = q.runner(&ctx());
            evs.iter().for_each(|(_, e)| r.accept(e));
            let _ = r.finish();
        }
    }
}
