//! [`FilterError`]: the one error type of the filter and query languages.

/// A filter or query that could not be parsed or compiled.
///
/// `position` is the 0-based character (not byte) offset in the text where the
/// problem was found; `message` says what is wrong, lowercase, no full stop.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {position})")]
pub struct FilterError {
    /// 0-based character offset of the offending token.
    pub position: usize,
    /// What is wrong.
    pub message: String,
}

/// An error located by byte offset, converted to characters at the API edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ByteError {
    pub at: usize,
    pub message: String,
}

impl ByteError {
    pub(crate) fn new(at: usize, message: impl Into<String>) -> ByteError {
        ByteError {
            at,
            message: message.into(),
        }
    }

    /// Converts to a [`FilterError`] whose position counts characters of `text`.
    pub(crate) fn locate(self, text: &str) -> FilterError {
        let at = self.at.min(text.len());
        let position = text.char_indices().take_while(|(i, _)| *i < at).count();
        FilterError {
            position,
            message: self.message,
        }
    }
}

/// Shorthand result type inside the module.
pub(crate) type PResult<T> = Result<T, ByteError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters() {
        let e = ByteError::new(3, "x").locate("é= 1");
        assert_eq!(e.position, 2);
        assert_eq!(e.to_string(), "x (at character 2)");
        assert_eq!(ByteError::new(99, "y").locate("ab").position, 2);
    }
}
