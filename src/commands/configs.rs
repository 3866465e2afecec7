//! `kafkasim configs`: every supported config key with Kafka's default and valid values.

use super::{CommandError, Exit};
use crate::scenario::config::{all_sets, markdown_table};
use std::io::Write;

/// Prints the tables of `which` ("producer", "consumer", "broker", "topic"), or all of them.
pub fn configs(which: Option<&str>, out: &mut dyn Write) -> Result<Exit, CommandError> {
    let sets = all_sets();
    if let Some(w) = which
        && !sets.iter().any(|s| s.what == w)
    {
        return Err(CommandError(format!(
            "error: no config set `{w}`\n  = help: choose producer, consumer, broker or topic\n"
        )));
    }
    for set in sets.iter().filter(|s| which.is_none_or(|w| s.what == w)) {
        writeln!(out, "## {} configs\n\n{}", set.what, markdown_table(set))?;
    }
    Ok(Exit::Ok)
}
