//! Level names the filter language understands as severities.
//!
//! `@Level = 'Error'` matches every event whose canonical severity is Error,
//! whatever text the client sent (`ERROR`, `error`, `err`): a literal that is
//! a level name known to ingestion ([`crate::event::severity_of`], any case)
//! compares by severity; any other literal compares with the level text as
//! sent.

use crate::event::severity_of as canonical;
use crate::Severity;

/// Names ingestion maps to Information on purpose (unknown names map there too).
const INFORMATION_NAMES: &[&str] = &[
    "information",
    "info",
    "inf",
    "informational",
    "notice",
    "config",
    "i",
];

/// The severity a level name denotes, case-insensitively; `None` for other text.
pub(crate) fn severity_of(name: &str) -> Option<Severity> {
    match canonical(name) {
        Severity::Information => {
            let t = name.trim();
            INFORMATION_NAMES
                .iter()
                .any(|n| n.eq_ignore_ascii_case(t))
                .then_some(Severity::Information)
        }
        s => Some(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_case_insensitively() {
        assert_eq!(severity_of("ERROR"), Some(Severity::Error));
        assert_eq!(severity_of("Warning"), Some(Severity::Warning));
        assert_eq!(severity_of("crit"), Some(Severity::Fatal));
        assert_eq!(severity_of("INFO"), Some(Severity::Information));
        assert_eq!(severity_of("checkout"), None);
    }
}
