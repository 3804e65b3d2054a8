//! [`Generation`]: the store's two-part replication position, shown as `model.write`.

use std::fmt;

/// The store generation. `write` counts committed batches; `model` counts
/// structural operations (new segment, seal, index build, retention delete,
/// compaction). Both only grow, so `model + write` counts operations and
/// orders them; a follower at the same generation holds the same bytes.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Generation {
    /// Structural operations so far.
    pub model: u64,
    /// Committed append batches so far.
    pub write: u64,
}

impl Generation {
    /// The position before any operation.
    pub const ZERO: Generation = Generation { model: 0, write: 0 };

    /// The number of operations this generation is after [`Generation::ZERO`].
    /// Saturates at `u64::MAX`: a generation from a peer whose parts add up
    /// past it (no real history does) counts as the furthest there is.
    pub fn ops(self) -> u64 {
        self.model.saturating_add(self.write)
    }

    /// The generation after one more append.
    pub fn next_write(self) -> Generation {
        Generation {
            write: self.write + 1,
            ..self
        }
    }

    /// The generation after one more structural operation.
    pub fn next_model(self) -> Generation {
        Generation {
            model: self.model + 1,
            ..self
        }
    }
}

impl PartialOrd for Generation {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Generation {
    /// Generations of one history order by operation count; both parts grow.
    /// Counted exactly (in `u128`), so that any two generations, however
    /// large their parts, compare consistently with `==`.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let key = |g: &Generation| (g.model as u128 + g.write as u128, g.model);
        key(self).cmp(&key(other))
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.model, self.write)
    }
}

impl std::str::FromStr for Generation {
    type Err = String;

    fn from_str(s: &str) -> Result<Generation, String> {
        let (m, w) = s
            .split_once('.')
            .ok_or_else(|| format!("generation `{s}` is not of the form model.write"))?;
        let parse = |p: &str| {
            p.parse::<u64>()
                .map_err(|_| format!("generation `{s}` is not of the form model.write"))
        };
        Ok(Generation {
            model: parse(m)?,
            write: parse(w)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_and_parses_model_dot_write() {
        let g = Generation {
            model: 5,
            write: 1234,
        };
        assert_eq!(g.to_string(), "5.1234");
        assert_eq!("5.1234".parse::<Generation>().unwrap(), g);
        assert!("5".parse::<Generation>().is_err());
        assert!(g.next_write() > g && g.next_model() > g);
    }

    /// Found by `actors/fuzz` (replication_frames): an `Ack` whose
    /// generation's parts add past `u64::MAX` made `ops()`, and so every
    /// comparison the leader makes with it, panic on overflow (and wrap
    /// round to a small count in release builds).
    #[test]
    fn a_peers_generation_whose_parts_overflow_counts_and_compares_without_panicking() {
        let hostile = Generation {
            model: 16068843470472601567,
            write: 16131858542891098079,
        };
        assert_eq!(hostile.ops(), u64::MAX);
        let real = Generation { model: 3, write: 7 };
        assert!(hostile > real, "it is past every real generation");
        let near = Generation {
            model: hostile.model,
            write: hostile.write - 1,
        };
        assert!(near < hostile && near != hostile, "order agrees with ==");
        assert_eq!(hostile.min(real), real);
    }
}
