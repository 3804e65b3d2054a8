//! What the client commands show a person: progress bars on stderr (hidden
//! when stderr is not a terminal, so logs and pipes stay clean) and numbers
//! grouped in thousands.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar over `total` units (`None`: a spinner), or a hidden one
/// when stderr is not a terminal. `template` is an indicatif template.
pub fn bar(total: Option<u64>, template: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match total {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    // Templates are constants of this crate; fall back to the default style.
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A byte count in MB (10^6) with one decimal.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(megabytes(2_950_000), "3.0 MB");
    }

    #[test]
    fn bars_are_hidden_without_a_terminal() {
        // cargo test captures stderr: not a terminal.
        if !std::io::stderr().is_terminal() {
            assert!(bar(Some(10), "{wide_bar}").is_hidden());
        }
    }
}
