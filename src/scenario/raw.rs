//! The scenario file as `serde` sees it. Values that are checked after parsing stay [`Raw`], so
//! errors about them can point at the exact place in the file.

use super::source::Raw;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename = "Scenario", deny_unknown_fields)]
pub struct RawScenario<'a> {
    #[serde(borrow)]
    pub name: Raw<'a>,
    #[serde(borrow)]
    pub description: Raw<'a>,
    #[serde(borrow, default)]
    pub seed: Option<Raw<'a>>,
    #[serde(borrow)]
    pub duration: Raw<'a>,
    #[serde(borrow)]
    pub cluster: RawCluster<'a>,
    #[serde(borrow)]
    pub topics: Raw<'a>,
    #[serde(borrow)]
    pub producers: Vec<RawProducer<'a>>,
    #[serde(borrow, default)]
    pub consumers: Vec<RawConsumer<'a>>,
    #[serde(borrow, default)]
    pub processors: Vec<RawProcessor<'a>>,
    #[serde(borrow, default)]
    pub faults: Vec<RawFault<'a>>,
    #[serde(borrow, default)]
    pub expect: Vec<Raw<'a>>,
}

#[derive(Deserialize)]
#[serde(rename = "cluster", deny_unknown_fields)]
pub struct RawCluster<'a> {
    #[serde(borrow)]
    pub brokers: Raw<'a>,
    #[serde(borrow, default)]
    pub config: Option<Raw<'a>>,
    #[serde(borrow, default)]
    pub config_file: Option<Raw<'a>>,
    #[serde(borrow, default)]
    pub network: Option<RawNetwork<'a>>,
}

#[derive(Deserialize)]
#[serde(rename = "network", deny_unknown_fields)]
pub struct RawNetwork<'a> {
    #[serde(borrow, default)]
    pub latency: Option<Raw<'a>>,
    #[serde(borrow, default)]
    pub jitter: Option<Raw<'a>>,
    #[serde(borrow, default)]
    pub bandwidth: Option<Raw<'a>>,
}

#[derive(Deserialize)]
#[serde(rename = "topic", deny_unknown_fields)]
pub struct RawTopic<'a> {
    #[serde(borrow)]
    pub name: Raw<'a>,
    #[serde(borrow)]
    pub partitions: Raw<'a>,
    #[serde(borrow, default)]
    pub replication_factor: Option<Raw<'a>>,
    #[serde(borrow, default)]
    pub assignment: Option<Raw<'a>>,
    #[serde(borrow, default)]
    pub config: Option<Raw<'a>>,
    #[serde(borrow, default)]
    pub config_file: Option<Raw<'a>>,
}

#[derive(Deserialize)]
#[serde(rename = "producer", deny_unknown_fields)]
pub struct RawProducer<'a> {
    #[serde(borrow)]
    pub id: Raw<'a>,
    #[serde(borrow, default)]
    pub config: Option<Raw<'a>>,
    #[serde(borrow, default)]
    pub config_file: Option<Raw<'a>>,
    #[serde(borrow)]
    pub workload: RawWorkload<'a>,
}

#[derive(Deserialize)]
#[serde(rename = "workload", deny_unknown_fields)]
pub struct RawWorkload<'a> {
    #[serde(borrow)]
    pub topic: Raw<'a>,
    #[serde(borrow, default)]
    pub keys: Option<Raw<'a>>,
    #[serde(borrow)]
    pub records: Raw<'a>,
    #[serde(borrow)]
    pub rate: Raw<'a>,
    #[serde(borrow, default)]
    pub value_bytes: Option<Raw<'a>>,
    #[serde(borrow, default)]
    pub start: Option<Raw<'a>>,
    #[serde(borrow, default)]
    pub transactions: Option<Raw<'a>>,
    #[serde(borrow, default)]
    pub tombstone_every: Option<Raw<'a>>,
}

#[derive(Deserialize)]
#[serde(rename = "transactions", deny_unknown_fields)]
pub struct RawTransactions<'a> {
    #[serde(borrow)]
    pub records: Raw<'a>,
    #[serde(borrow, default)]
    pub abort_every: Option<Raw<'a>>,
}

#[derive(Deserialize)]
#[serde(rename = "consumer", deny_unknown_fields)]
pub struct RawConsumer<'a> {
    #[serde(borrow)]
    pub id: Raw<'a>,
    #[serde(borrow, default)]
    pub group: Option<Raw<'a>>,
    #[serde(borrow)]
    pub topics: Raw<'a>,
    #[serde(borrow, default)]
    pub config: Option<Raw<'a>>,
    #[serde(borrow, default)]
    pub config_file: Option<Raw<'a>>,
    #[serde(borrow, default)]
    pub start: Option<Raw<'a>>,
    #[serde(borrow, default)]
    pub processing: Option<Raw<'a>>,
    #[serde(borrow, default)]
    pub commit: Option<Raw<'a>>,
    #[serde(borrow, default)]
    pub seek: Option<Raw<'a>>,
}

#[derive(Deserialize)]
#[serde(rename = "processor", deny_unknown_fields)]
pub struct RawProcessor<'a> {
    #[serde(borrow)]
    pub id: Raw<'a>,
    #[serde(borrow, default)]
    pub group: Option<Raw<'a>>,
    #[serde(borrow)]
    pub topics: Raw<'a>,
    #[serde(borrow)]
    pub output: Raw<'a>,
    #[serde(borrow, default)]
    pub config: Option<Raw<'a>>,
    #[serde(borrow, default)]
    pub config_file: Option<Raw<'a>>,
    #[serde(borrow, default)]
    pub processing: Option<Raw<'a>>,
    #[serde(borrow, default)]
    pub start: Option<Raw<'a>>,
}

#[derive(Deserialize)]
#[serde(rename = "fault entry", deny_unknown_fields)]
pub struct RawFault<'a> {
    #[serde(borrow, default)]
    pub at: Option<Raw<'a>>,
    #[serde(borrow, default)]
    pub after: Option<Raw<'a>>,
    #[serde(borrow)]
    pub fault: Raw<'a>,
}
