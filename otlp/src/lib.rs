//! `skein-otlp`: OpenTelemetry's OTLP as Skein events, through the official
//! protobuf definitions (`opentelemetry-proto`, prost; OTLP/JSON through
//! their serde mapping). No runtime here, so the decoders are fuzzed alone
//! (`actors/fuzz`, `otlp_logs`).
//!
//! - [`logs`]: `ExportLogsServiceRequest` → events ([`decode_logs`]), and
//!   the OTLP/HTTP answers ([`export_answer`], [`error_answer`]).

pub mod logs;

pub use logs::{decode_logs, error_answer, export_answer, Encoding, OtlpError};
