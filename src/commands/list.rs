//! `kafkasim list`: the bundled scenarios.

use super::{CommandError, Exit, bundled};
use crate::scenario::Scenario;
use std::io::Write;

/// Lists every bundled scenario with its description.
pub fn list(out: &mut dyn Write) -> Result<Exit, CommandError> {
    for (file, text) in bundled() {
        let s = Scenario::parse(file, text)?;
        writeln!(out, "{file}\n    {}\n", s.description)?;
    }
    writeln!(
        out,
        "Run one with: kafkasim run <file>   (or just its name, e.g. kafkasim run one-partition-order)"
    )?;
    Ok(Exit::Ok)
}
