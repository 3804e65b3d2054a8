//! [`severity_of`]: the canonical [`Severity`] of a level name as clients send it.
//!
//! Serilog's names, their short forms, and the names of other ecosystems
//! (Python, Java, syslog, Go, Node) are accepted in any case; anything else is
//! `Information`, which is also CLEF's meaning of an absent level.

use super::model::Severity;

/// Level names and their severities; compared ASCII case-insensitively.
const NAMES: &[(&str, Severity)] = &[
    ("information", Severity::Information),
    ("info", Severity::Information),
    ("inf", Severity::Information),
    ("informational", Severity::Information),
    ("notice", Severity::Information),
    ("config", Severity::Information),
    ("i", Severity::Information),
    ("debug", Severity::Debug),
    ("dbg", Severity::Debug),
    ("dbug", Severity::Debug),
    ("fine", Severity::Debug),
    ("d", Severity::Debug),
    ("verbose", Severity::Verbose),
    ("trace", Severity::Verbose),
    ("trc", Severity::Verbose),
    ("vrb", Severity::Verbose),
    ("finer", Severity::Verbose),
    ("finest", Severity::Verbose),
    ("all", Severity::Verbose),
    ("v", Severity::Verbose),
    ("t", Severity::Verbose),
    ("warning", Severity::Warning),
    ("warn", Severity::Warning),
    ("wrn", Severity::Warning),
    ("w", Severity::Warning),
    ("error", Severity::Error),
    ("err", Severity::Error),
    ("eror", Severity::Error),
    ("erro", Severity::Error),
    ("fail", Severity::Error),
    ("failure", Severity::Error),
    ("severe", Severity::Error),
    ("e", Severity::Error),
    ("fatal", Severity::Fatal),
    ("ftl", Severity::Fatal),
    ("critical", Severity::Fatal),
    ("crit", Severity::Fatal),
    ("crt", Severity::Fatal),
    ("emergency", Severity::Fatal),
    ("emerg", Severity::Fatal),
    ("alert", Severity::Fatal),
    ("panic", Severity::Fatal),
    ("f", Severity::Fatal),
];

/// The canonical severity of a level name, in any case; surrounding
/// whitespace is ignored. Unknown names map to [`Severity::Information`].
/// Allocation-free.
pub fn severity_of(text: &str) -> Severity {
    // The overwhelmingly common case: Serilog's own names, sent exactly.
    match text {
        "Information" => return Severity::Information,
        "Debug" => return Severity::Debug,
        "Warning" => return Severity::Warning,
        "Error" => return Severity::Error,
        "Verbose" => return Severity::Verbose,
        "Fatal" => return Severity::Fatal,
        _ => {}
    }
    let t = text.trim();
    NAMES
        .iter()
        .find(|(n, _)| n.len() == t.len() && n.eq_ignore_ascii_case(t))
        .map_or(Severity::Information, |&(_, s)| s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Severity::*;

    #[test]
    fn serilog_and_foreign_names_in_any_case() {
        let cases = [
            (
                Verbose,
                &["Verbose", "verbose", "TRACE", "trc", "VRB", "finest"][..],
            ),
            (Debug, &["Debug", "DEBUG", "dbg", "Dbg"][..]),
            (
                Information,
                &["Information", "INFO", "info", "inf", "Notice"][..],
            ),
            (Warning, &["Warning", "WARNING", "warn", "WRN"][..]),
            (
                Error,
                &["Error", "ERROR", "err", "eror", "FAIL", "severe"][..],
            ),
            (
                Fatal,
                &[
                    "Fatal",
                    "CRITICAL",
                    "critical",
                    "crit",
                    "ftl",
                    "Emergency",
                    "alert",
                    "PANIC",
                ][..],
            ),
        ];
        for (sev, names) in cases {
            for n in names {
                assert_eq!(severity_of(n), sev, "{n}");
            }
        }
    }

    #[test]
    fn unknown_and_padded_names() {
        assert_eq!(severity_of(""), Information);
        assert_eq!(severity_of("loud"), Information);
        assert_eq!(severity_of("Informationx"), Information);
        assert_eq!(severity_of(" error "), Error);
        assert_eq!(severity_of("érror"), Information);
    }
}
