//! Tarn's server: the AWS wire protocols over one HTTP port.
//!
//! This is the only crate that knows wire formats. Requests reach their
//! service through the protocol table ([`protocol`]): DynamoDB and
//! DynamoDB Streams (awsJson1_0, [`dynamodb`], [`streams`]), CloudWatch
//! Logs (awsJson1_1, [`logs`]) and IAM (query, [`iam`]) serve their
//! operations; SQS, SNS, Kinesis, Lambda, the Lambda
//! Runtime API and Pipes are registered and answer every request with
//! their protocol's unknown-operation error until their operations land.
//! Connection-level behaviour (size limits, CORS, compression, the
//! signature's shape) is the same for all of them. `docs/architecture.md`
//! draws the layers.
//!
//! Modules depend one way: [`protocol`] routes to the service modules,
//! which use [`app`] (shared state) and [`error`] (DynamoDB's errors) and
//! render through `protocol`'s leaf renderers; nothing imports back into
//! this file.

pub mod app;
pub mod coding;
pub mod dynamodb;
pub mod error;
pub mod iam;
pub mod lambda;
pub mod logs;
pub mod protocol;
pub mod sqs;
pub mod streams;

pub use app::App;
pub use protocol::{router, HEAD_BYTES_MAX, REQUEST_BYTES_MAX};

#[cfg(test)]
mod tests;
