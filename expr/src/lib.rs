//! The DynamoDB item model and its expression languages.
//!
//! This crate is pure: no I/O, no wire formats, no async. It defines
//! [`AttributeValue`] with DynamoDB's ten types, the exact decimal [`Number`],
//! item size as DynamoDB charges it ([`size`]), and the order-preserving,
//! self-delimiting encodings of key attributes ([`key`]) that the storage
//! engine uses to lay items out in its LSM tree.
//!
//! Validation that depends only on a value (empty sets, duplicate set
//! members, number syntax) lives here so that every wire protocol and every
//! storage path agrees on it.

pub mod ast;
mod error;
pub mod eval;
pub mod key;
pub mod number;
pub mod parse;
mod print;
pub mod reserved;
pub mod resolve;
pub mod size;
mod value;

pub use error::{ExprError, ExprFault, ExprKind};
pub use number::{Number, NumberError};
pub use value::{AttributeValue, Item, ScalarType, SetKind, ValueError};
