//! History checkers and `expect`.

pub mod expect;
