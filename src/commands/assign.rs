//! `kafkasim assign`: the partitions each member of a consumer group gets from one assignor,
//! computed without a run, exactly as Kafka's group leader computes them.

mod parse;

use super::{CommandError, Exit};
use crate::kafka::group::assignor::{self, Assignment, Member, Strategy, TopicPartition};
use std::collections::BTreeMap;
use std::io::Write;

/// Output layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignFormat {
    /// A table of members and their partitions, then the count per member.
    Text,
    /// `{"c1": {"orders": [0, 1, 2]}, ...}`, for scripts.
    Json,
}

/// Arguments of `kafkasim assign`.
#[derive(Clone, Debug)]
pub struct AssignArgs {
    /// `range`, `roundrobin`, `sticky` or `cooperative-sticky`.
    pub strategy: String,
    /// `topic=N` entries.
    pub partitions: Vec<String>,
    /// `id:topic[,topic...]` or `id@instance:topic[,topic...]`, in JoinGroup order.
    pub members: Vec<String>,
    /// Layout.
    pub format: AssignFormat,
}

/// Prints the assignment `args` describes.
pub fn assign(args: &AssignArgs, out: &mut dyn Write) -> Result<Exit, CommandError> {
    let strategy: Strategy = args.strategy.parse().map_err(|e: assignor::UnknownStrategy| {
        CommandError(format!("error: {e}\n  = help: {}\n", e.help()))
    })?;
    let counts = parse::partition_counts(&args.partitions)?;
    let members = parse::members(&args.members, &counts)?;
    let assignment = assignor::assign(strategy, &counts, &members);
    let rows: Vec<Row> = assignor::member_order(&members)
        .into_iter()
        .map(|i| Row::new(&members[i], &assignment))
        .collect();
    match args.format {
        AssignFormat::Text => write_text(&rows, out)?,
        AssignFormat::Json => writeln!(out, "{}", json(&rows))?,
    }
    Ok(Exit::Ok)
}

/// One member's line: its name as given and its partitions by topic, sorted.
struct Row {
    label: String,
    id: String,
    by_topic: BTreeMap<String, Vec<u32>>,
}

impl Row {
    fn new(member: &Member, assignment: &Assignment) -> Row {
        let mut by_topic: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        let partitions: &[TopicPartition] = assignment.partitions(&member.member_id).unwrap_or_default();
        for tp in partitions {
            by_topic.entry(tp.topic.clone()).or_default().push(tp.partition);
        }
        for list in by_topic.values_mut() {
            list.sort_unstable();
        }
        let label = match &member.group_instance_id {
            Some(instance) => format!("{}@{instance}", member.member_id),
            None => member.member_id.clone(),
        };
        Row {
            label,
            id: member.member_id.clone(),
            by_topic,
        }
    }

    fn count(&self) -> usize {
        self.by_topic.values().map(Vec::len).sum()
    }
}

/// `MEMBER  PARTITIONS` rows like `c1  orders 0,1,2  payments 0`, then the count per member.
fn write_text(rows: &[Row], out: &mut dyn Write) -> std::io::Result<()> {
    let width = rows
        .iter()
        .map(|r| r.label.chars().count())
        .chain(["MEMBER".len()])
        .max()
        .unwrap_or(0);
    writeln!(out, "{:<width$}  PARTITIONS", "MEMBER")?;
    for row in rows {
        let groups: Vec<String> = row
            .by_topic
            .iter()
            .map(|(topic, ps)| {
                let ps: Vec<String> = ps.iter().map(u32::to_string).collect();
                format!("{topic} {}", ps.join(","))
            })
            .collect();
        let shown = if groups.is_empty() {
            "(none)".to_string()
        } else {
            groups.join("  ")
        };
        writeln!(out, "{:<width$}  {shown}", row.label)?;
    }
    let counts: Vec<String> = rows.iter().map(|r| format!("{} {}", r.id, r.count())).collect();
    writeln!(out, "partitions per member: {}", counts.join(", "))
}

/// `{"c1": {"orders": [0, 1, 2], "payments": [0]}, "c2": {}}`: members in member order, topics
/// sorted, partitions ascending.
fn json(rows: &[Row]) -> String {
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    let members: Vec<String> = rows
        .iter()
        .map(|row| {
            let topics: Vec<String> = row
                .by_topic
                .iter()
                .map(|(topic, ps)| {
                    let ps: Vec<String> = ps.iter().map(u32::to_string).collect();
                    format!("{}: [{}]", quote(topic), ps.join(", "))
                })
                .collect();
            format!("{}: {{{}}}", quote(&row.id), topics.join(", "))
        })
        .collect();
    format!("{{{}}}", members.join(", "))
}
