//! Tarn's core: the building blocks every event-side service shares, above
//! the engine and below the services (`docs/architecture.md`). No wire
//! format.
//!
//! - [`arn`]: building and parsing the ARNs of the running server's account
//!   and region, for every resource Tarn serves or will serve (pure).
//! - [`runner`]: the one owner of background loops, which stops and joins
//!   them on shutdown.
//! - [`record`]: the versioned field encoding of service records.
//! - [`id`]: UUID-shaped identifiers from hashes.
//! - [`outbox`]: work for another service, written in the batch of its
//!   cause and drained exactly once by the target.

#![forbid(unsafe_code)]

pub mod arn;
pub mod id;
pub mod outbox;
pub mod record;
pub mod runner;
