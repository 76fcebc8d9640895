//! Benchmarks for Tarn. `cargo bench -p tarn-bench` runs the criterion
//! micro-benchmarks in `benches/`, with the engine fixtures re-exported here
//! (feature `fixtures`, on by default); [`load`] is the load generator for
//! any DynamoDB endpoint (binaries `tarn-load` and `tarn-ceiling`, see
//! `bench/README.md`), which needs no engine: build it alone with
//! `--no-default-features`.

pub mod load;

#[cfg(feature = "fixtures")]
mod fixtures;
#[cfg(feature = "fixtures")]
pub use fixtures::{item, key, table};
