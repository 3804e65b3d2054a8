//! Seq's filter language and SQL-style queries.
//!
//! - [`Filter`]: `@Level = 'Error' and RequestPath like '/api/%'`, or free
//!   text; compiled once, evaluated through [`crate::EventView`], with pruning
//!   facts ([`Filter::time_bounds`], [`Filter::severity_requirement`],
//!   [`Filter::may_match_block`]) for the store's executor.
//! - [`Query`]: `select count(*) from stream where … group by …, time(1m)`;
//!   run with a mergeable [`QueryRunner`] into a [`QueryResult`]; a
//!   runner's [`PartialQuery`] carries what it accumulated to another node
//!   (scale-out queries), checked against the query before it is merged.
//! - [`FilterError`]: what is wrong and at which character.
//! - [`Fields`], [`RequiredText`]: what a filter or query reads and what a
//!   match must contain, for column-selective scans.
//! - `Filter::block_needs` (`needs`): what a block must hold for a filter
//!   to match in it, tested against block summaries ([`crate::summary`]).
//!
//! Inside: `lexer` → `parser` with `grammar` and `calls` (builds `ast`) → `compile` (wildcards,
//! pruning facts) → `eval` (with `value`, `functions`, `like`, `json`,
//! `levels`); queries add `select` (the plan), `aggregate` and `runner`.
//!
//! # Semantics
//!
//! - Comparing values of different types, or a missing property, is
//!   *undefined*, which never matches: `A <> 1` is not true when `A` is
//!   missing or a string. `not` keeps undefined undefined (SQL-style
//!   three-valued logic); `and` is false if any side is false, `or` true if
//!   any side is true. Use `Has(A)` / `A is null` to test presence.
//! - `A = null` and `A is null` hold for a missing property and for JSON `null`.
//! - Numbers compare by value across forms (`1 = 1.0 = 1e0`); integers are
//!   exact to 38 digits, and integers compare exactly with floats.
//! - Strings compare case-sensitively unless followed by `ci`.
//! - `@Level = 'Error'` (or `in [...]`): a literal that names a level (any
//!   case; Serilog's names and the common short forms `err`, `warn`, `info`,
//!   `crit`, ...) compares by canonical severity, so it finds `ERROR` from
//!   Python and `error` from winston; any other literal compares with the
//!   level text as sent.
//! - `@Timestamp` and durations are nanoseconds: `@Timestamp > Now() - 1h`.
//! - `=` against a `/regex/` is an unanchored regex match.
//! - `A[?] = 1`: some element; `A[*] = 1`: every element.

mod aggregate;
mod ast;
mod calls;
mod compile;
mod error;
mod eval;
mod fields;
mod filter;
mod functions;
mod grammar;
mod json;
mod levels;
mod lexer;
mod like;
mod needs;
mod parser;
mod runner;
mod select;
mod value;

pub use error::FilterError;
pub use fields::{Fields, RequiredText, TextField};
pub use filter::{EvalContext, Filter};
pub use lexer::parse_duration;
pub use runner::{PartialMismatch, PartialQuery, QueryResult, QueryRunner};
pub use select::Query;

pub(crate) use ast::CmpOp;
pub(crate) use eval::message;
pub(crate) use value::{Num, Value};
