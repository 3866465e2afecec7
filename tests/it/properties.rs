//! Properties over random scenarios (`generate`) and mutated bundled scenarios: no panic, a
//! bounded run, byte-identical replays, and the model invariants (`check::invariants`).

use crate::support::bundled_scenarios;
use kafkasim::simulation::{RunOptions, run};

/// Every bundled scenario keeps the model invariants from start to end.
#[test]
fn bundled_scenarios_keep_the_invariants() {
    for s in bundled_scenarios() {
        let opts = RunOptions {
            trace: None,
            invariants: true,
            ..RunOptions::default()
        };
        let result = run(&s, &opts);
        let found: Vec<String> = result
            .violations
            .iter()
            .map(|v| v.describe(&result.names))
            .collect();
        assert!(found.is_empty(), "{}: {found:#?}", s.name);
    }
}
