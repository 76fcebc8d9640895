//! SQS for Tarn: standard and FIFO queues whose messages live in the
//! engine's one database (`docs/storage.md`, "SQS queues and messages").
//!
//! - [`model`]: every operation as a Rust call ([`Sqs`]): queues, sends,
//!   receives with long polling, deletes, visibility, dead-letter queues,
//!   message-move tasks. Other services (event-source mappings, SNS
//!   fan-out, destinations) call it or write outbox entries.
//! - [`drain`]: the outbox drainer of [`tarn_core::outbox::Target::SQS`].
//! - [`digest`]: the MD5 digests SQS returns.
//! - [`error`]: typed errors with SQS's names and messages.
//!
//! No wire format: the server renders both SQS protocols.

#![forbid(unsafe_code)]

pub mod attrs;
pub mod codec;
pub mod digest;
pub mod drain;
pub mod error;
pub mod model;

#[cfg(test)]
mod tests;

pub use codec::{AttrValue, MessageAttribute};
pub use error::SqsError;
pub use model::{name_of_url, MoveTask, Queue, ReceiveRequest, Received, SendMessage, Sent, Sqs};

impl Sqs {
    /// Starts the outbox drainer and the retention sweeper on `runner`.
    pub fn start(&self, runner: &tarn_core::runner::Runner, outbox: tarn_core::outbox::Outbox) {
        let sqs = self.clone();
        runner.spawn("sqs-outbox", move |stop| sqs.run_drainer(outbox, stop));
        let sqs = self.clone();
        runner.spawn("sqs-retention", move |stop| sqs.run_sweeper(stop));
    }
}
