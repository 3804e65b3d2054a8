//! Level names the filter language understands as severities.
//!
//! `@Level = 'Error'` matches every event whose canonical severity is Error,
//! whatever text the client sent (`ERROR`, `error`, `err`): a literal that is
//! a known level name (any case, Serilog's and the common short forms) is
//! compared by severity; any other literal is compared with the level text
//! as sent.

use crate::Severity;

const NAMES: &[(&str, Severity)] = &[
    ("verbose", Severity::Verbose),
    ("trace", Severity::Verbose),
    ("trc", Severity::Verbose),
    ("vrb", Severity::Verbose),
    ("debug", Severity::Debug),
    ("dbg", Severity::Debug),
    ("information", Severity::Information),
    ("info", Severity::Information),
    ("inf", Severity::Information),
    ("warning", Severity::Warning),
    ("warn", Severity::Warning),
    ("wrn", Severity::Warning),
    ("error", Severity::Error),
    ("err", Severity::Error),
    ("eror", Severity::Error),
    ("fatal", Severity::Fatal),
    ("ftl", Severity::Fatal),
    ("critical", Severity::Fatal),
    ("crit", Severity::Fatal),
];

/// The severity a level name denotes, case-insensitively; `None` for other text.
pub(crate) fn severity_of(name: &str) -> Option<Severity> {
    let name = name.trim();
    NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, s)| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_case_insensitively() {
        assert_eq!(severity_of("ERROR"), Some(Severity::Error));
        assert_eq!(severity_of("Warning"), Some(Severity::Warning));
        assert_eq!(severity_of("crit"), Some(Severity::Fatal));
        assert_eq!(severity_of("checkout"), None);
    }
}
