//! Tarn's core: pure building blocks every service shares, below the
//! services and above nothing (`docs/architecture.md`). No I/O, no engine,
//! no wire format.
//!
//! - [`arn`]: building and parsing the ARNs of the running server's account
//!   and region, for every resource Tarn serves or will serve.

#![forbid(unsafe_code)]

pub mod arn;
