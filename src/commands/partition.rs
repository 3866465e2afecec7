//! `kafkasim partition`: which partition a key maps to, exactly as Kafka's producer computes it.

use super::{CommandError, Exit};
use crate::kafka::producer::partitioner::{murmur2, partition_for_key};
use std::io::{BufRead, Write};

/// Output layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionFormat {
    /// An aligned table with the hash.
    Text,
    /// `key<TAB>partition` (one column per partition count), for scripts.
    Tsv,
}

/// Arguments of `kafkasim partition`.
#[derive(Clone, Debug)]
pub struct PartitionArgs {
    /// Partition counts (one column each; `3,6` shows keys moving).
    pub partitions: Vec<u32>,
    /// Keys; read from stdin, one a line, when empty.
    pub keys: Vec<String>,
    /// Layout.
    pub format: PartitionFormat,
}

/// Prints each key's partition for each partition count.
pub fn partition(
    args: &PartitionArgs,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<Exit, CommandError> {
    if let Some(bad) = args.partitions.iter().find(|n| **n == 0) {
        return Err(CommandError(format!(
            "error: invalid --partitions {bad}: a topic has at least 1 partition\n"
        )));
    }
    let keys = if args.keys.is_empty() {
        read_keys(stdin)?
    } else {
        args.keys.clone()
    };
    match args.format {
        PartitionFormat::Tsv => {
            for k in &keys {
                let cols: Vec<String> = args
                    .partitions
                    .iter()
                    .map(|n| partition_for_key(k.as_bytes(), *n).to_string())
                    .collect();
                writeln!(out, "{k}\t{}", cols.join("\t"))?;
            }
        }
        PartitionFormat::Text => {
            let width = keys.iter().map(|k| k.chars().count()).max().unwrap_or(3).max(3);
            let heads: Vec<String> = args
                .partitions
                .iter()
                .map(|n| format!("{:>10}", format!("p(n={n})")))
                .collect();
            writeln!(out, "{:<width$}  {:>11}  {}", "KEY", "MURMUR2", heads.join("  "))?;
            for k in &keys {
                let cols: Vec<String> = args
                    .partitions
                    .iter()
                    .map(|n| format!("{:>10}", partition_for_key(k.as_bytes(), *n)))
                    .collect();
                let shown = format!("{k:<width$}");
                writeln!(out, "{shown}  {:>11}  {}", murmur2(k.as_bytes()), cols.join("  "))?;
            }
            if args.partitions.len() > 1 && !keys.is_empty() {
                let moved = keys
                    .iter()
                    .filter(|k| {
                        let first = partition_for_key(k.as_bytes(), args.partitions[0]);
                        args.partitions
                            .iter()
                            .any(|n| partition_for_key(k.as_bytes(), *n) != first)
                    })
                    .count();
                writeln!(
                    out,
                    "{moved} of {} keys map to a different partition across these counts",
                    keys.len()
                )?;
            }
        }
    }
    Ok(Exit::Ok)
}

/// One key per line, taken verbatim (only the line ending is removed).
fn read_keys(stdin: &mut dyn BufRead) -> Result<Vec<String>, CommandError> {
    let mut keys = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        let n = stdin
            .read_line(&mut line)
            .map_err(|e| CommandError(format!("error: cannot read keys from stdin: {e}\n")))?;
        if n == 0 {
            break;
        }
        let key = line.strip_suffix('\n').unwrap_or(&line);
        let key = key.strip_suffix('\r').unwrap_or(key);
        keys.push(key.to_string());
    }
    Ok(keys)
}
