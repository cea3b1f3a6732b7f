//! contend: proves whether an HTTP server gets 409 Conflict and conditional requests right.
//!
//! Data flows one way: [`scenario`] (parse YAML) → [`plan`] (variables, applicability) →
//! [`exec`] (send, record exchanges) → [`judge`] (expectations, pure) → [`report`] (one model,
//! several renderers). [`record`] is the leaf they share: exchanges as sent and received, and
//! findings as judged. [`suite`] strings them together; [`harness`] turns a directory of
//! scenarios into `cargo test` trials; [`server`] is the embedded reference origin.

pub mod exec;
pub mod harness;
pub mod judge;
pub mod plan;
pub mod record;
pub mod report;
pub mod scenario;
#[cfg(feature = "server")]
pub mod server;
pub mod suite;
pub mod validators;
