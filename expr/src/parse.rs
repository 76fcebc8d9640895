//! Parsers of the expression languages (being written).
