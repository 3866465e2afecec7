//! Every config block of a scenario as it was loaded, kept after validation: the keys that change
//! nothing in the model are listed from them, and warnings point at their keys.

use super::config::{BROKER, CONSUMER, ConfigSet, LoadedBlock, PROCESSOR, PRODUCER, TOPIC};
use super::source::Source;

/// The config blocks, in the scenario's order (`topics` has no block for the internal topics).
pub(super) struct Blocks<'s> {
    pub cluster: LoadedBlock<'s>,
    pub topics: Vec<LoadedBlock<'s>>,
    pub producers: Vec<LoadedBlock<'s>>,
    pub consumers: Vec<LoadedBlock<'s>>,
    /// Each processor's one block, which its consumer and its producer share.
    pub processors: Vec<LoadedBlock<'s>>,
}

/// Keys a scenario's configs carry that change nothing in the model (serializers, security,
/// sockets, metrics, client ids, listeners...), by the file they are written in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoredKeys {
    /// The properties file or the scenario file, as messages show it.
    pub file: String,
    /// The keys, each once, in the order they first appear.
    pub keys: Vec<String>,
}

impl Blocks<'_> {
    /// Every block with each config set that reads it (a processor's block twice).
    fn with_sets(&self) -> impl Iterator<Item = (&LoadedBlock<'_>, &'static ConfigSet)> {
        std::iter::once((&self.cluster, &BROKER))
            .chain(self.topics.iter().map(|b| (b, &TOPIC)))
            .chain(self.producers.iter().map(|b| (b, &PRODUCER)))
            .chain(self.consumers.iter().map(|b| (b, &CONSUMER)))
            .chain(
                self.processors
                    .iter()
                    .flat_map(|b| PROCESSOR.iter().map(move |set| (b, *set))),
            )
    }

    /// The ignored keys of every block, grouped by file: properties files in the order the
    /// scenario loads them, then the scenario file.
    pub fn ignored(&self, src: &Source<'_>) -> Vec<IgnoredKeys> {
        let mut by_file: Vec<IgnoredKeys> = Vec::new();
        let mut add = |file: &str, keys: Vec<String>| {
            if keys.is_empty() {
                return;
            }
            let at = match by_file.iter().position(|i| i.file == file) {
                Some(at) => at,
                None => {
                    by_file.push(IgnoredKeys {
                        file: file.to_string(),
                        keys: Vec::new(),
                    });
                    by_file.len() - 1
                }
            };
            for k in keys {
                if !by_file[at].keys.contains(&k) {
                    by_file[at].keys.push(k);
                }
            }
        };
        let mut in_scenario = Vec::new();
        for (block, set) in self.with_sets() {
            let view = block.view(src);
            let (from_file, written) = view.ignored(set);
            if let Some(file) = view.file() {
                add(&file.path, from_file);
            }
            in_scenario.extend(written);
        }
        add(src.file(), in_scenario);
        by_file
    }
}
