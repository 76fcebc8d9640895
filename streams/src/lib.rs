//! Consumers of the engine's change log: DynamoDB Streams shards and
//! iterators, event-source mappings and the Lambda-style function runner,
//! SQS queues, SNS topics, Kinesis streams and the table-to-Kinesis
//! destination.
//!
//! Nothing consumes the change log yet: the engine does not write one until
//! DynamoDB Streams land. The crate exists now so that the dependency
//! direction `expr -> engine -> streams -> server` is fixed from the start;
//! durable state will live in the engine's fjall database, reached through
//! the engine's storage handle.

/// The storage engine this crate builds on.
pub use tarn_engine as engine;
