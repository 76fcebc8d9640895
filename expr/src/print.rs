//! Printing syntax trees back to expression text (being written).
