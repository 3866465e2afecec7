//! The producer settings that decide delivery guarantees, and their 24 combinations.

use crate::scenario::Overrides;

/// `acks` values, weakest first.
const ACKS: [&str; 3] = ["0", "1", "all"];
/// `retries` values: none, or Kafka's default (retry until `delivery.timeout.ms`).
const RETRIES: [i64; 2] = [0, RETRIES_MAX];
/// `retries`' default, `Integer.MAX_VALUE`.
const RETRIES_MAX: i64 = i32::MAX as i64;

/// One cell of the grid, given to every producer of the scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Combination {
    /// `acks`.
    pub acks: &'static str,
    /// `enable.idempotence`.
    pub idempotence: bool,
    /// `max.in.flight.requests.per.connection`.
    pub max_in_flight: u32,
    /// `retries`.
    pub retries: i64,
}

impl Combination {
    /// Every combination: acks outermost, then idempotence, max.in.flight and retries.
    pub fn grid() -> Vec<Combination> {
        let mut all = Vec::new();
        for acks in ACKS {
            for idempotence in [false, true] {
                for max_in_flight in [1, 5] {
                    for retries in RETRIES {
                        all.push(Combination {
                            acks,
                            idempotence,
                            max_in_flight,
                            retries,
                        });
                    }
                }
            }
        }
        all
    }

    /// The four settings as explicit overrides, as `--set` would give them.
    pub fn overrides(&self) -> Overrides {
        let assignments = [
            format!("acks={}", self.acks),
            format!("enable.idempotence={}", self.idempotence),
            format!("max.in.flight.requests.per.connection={}", self.max_in_flight),
            format!("retries={}", self.retries),
        ];
        Overrides::parse(&assignments).expect("the grid holds valid producer settings")
    }

    /// `retries` for the table: `0` or `max`.
    pub fn retries_label(&self) -> &'static str {
        if self.retries == RETRIES_MAX { "max" } else { "0" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_has_24_combinations_acks_outermost() {
        let grid = Combination::grid();
        assert_eq!(grid.len(), 24);
        assert_eq!(
            grid[0].overrides().to_flags(),
            "--set acks=0 --set enable.idempotence=false --set max.in.flight.requests.per.connection=1 --set retries=0"
        );
        assert_eq!(
            grid[23].overrides().to_flags(),
            "--set acks=all --set enable.idempotence=true --set max.in.flight.requests.per.connection=5 --set retries=2147483647"
        );
        assert_eq!(grid[8].acks, "1");
        assert_eq!(
            (
                grid[1].retries_label(),
                grid[2].max_in_flight,
                grid[4].idempotence
            ),
            ("max", 5, true)
        );
    }
}
