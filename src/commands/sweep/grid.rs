//! `--vary KEY=V1,V2,...` flags and the grid of their combinations.

use crate::scenario::Overrides;
use crate::scenario::config::OverrideError;

/// The most combinations a sweep runs (times its seeds).
pub const MAX_COMBINATIONS: usize = 10_000;

/// One `--vary`: a config key and the values it takes, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Axis {
    /// The Kafka property name.
    pub key: String,
    /// Its values, as written.
    pub values: Vec<String>,
}

impl Axis {
    /// Parses `KEY=V1,V2,...`; each value is checked as `--set KEY=V` would be (unknown keys
    /// get a did-you-mean, bad values Kafka's validator message).
    pub fn parse(flag: &str) -> Result<Axis, OverrideError> {
        let Some((key, list)) = flag.split_once('=') else {
            return Err(OverrideError {
                message: format!("--vary `{flag}` is not KEY=V1,V2,..."),
                help: Some("e.g. --vary linger.ms=0,5,50".into()),
            });
        };
        let values: Vec<String> = list.split(',').map(|v| v.trim().to_string()).collect();
        if values.iter().any(String::is_empty) {
            return Err(OverrideError {
                message: format!("--vary `{flag}` has an empty value"),
                help: Some("separate values with single commas, e.g. --vary linger.ms=0,5,50".into()),
            });
        }
        for v in &values {
            Overrides::parse(&[format!("{key}={v}")])?;
        }
        Ok(Axis {
            key: key.trim().to_string(),
            values,
        })
    }
}

/// Every combination of the axes' values, the first axis outermost: each as `KEY=VALUE`
/// assignments in axis order.
pub fn combinations(axes: &[Axis]) -> Vec<Vec<String>> {
    let mut all: Vec<Vec<String>> = vec![Vec::new()];
    for axis in axes {
        all = all
            .into_iter()
            .flat_map(|prefix| {
                axis.values.iter().map(move |v| {
                    let mut c = prefix.clone();
                    c.push(format!("{}={v}", axis.key));
                    c
                })
            })
            .collect();
    }
    all
}

/// The axes' keys, checked: each at most once.
pub fn check_distinct(axes: &[Axis]) -> Result<(), OverrideError> {
    for (i, a) in axes.iter().enumerate() {
        if axes[..i].iter().any(|b| b.key == a.key) {
            return Err(OverrideError {
                message: format!("--vary {} is given twice", a.key),
                help: Some(format!("list every value once: --vary {}=V1,V2,...", a.key)),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_axis_is_outermost() {
        let axes = [
            Axis::parse("acks=1,all").expect("valid"),
            Axis::parse("linger.ms=0,5,50").expect("valid"),
        ];
        let c = combinations(&axes);
        assert_eq!(c.len(), 6);
        assert_eq!(c[0], ["acks=1", "linger.ms=0"]);
        assert_eq!(c[2], ["acks=1", "linger.ms=50"]);
        assert_eq!(c[3], ["acks=all", "linger.ms=0"]);
    }

    #[test]
    fn an_unknown_key_gets_a_suggestion_and_a_bad_value_kafkas_message() {
        let e = Axis::parse("linger.m=0,5").expect_err("unknown key");
        assert!(e.help.unwrap_or_default().contains("linger.ms"), "{}", e.message);
        let e = Axis::parse("acks=1,2").expect_err("bad value");
        assert!(e.message.contains("acks"), "{}", e.message);
        assert!(Axis::parse("linger.ms").is_err());
        assert!(Axis::parse("linger.ms=0,,5").is_err());
        let twice = [
            Axis::parse("acks=1").expect("valid"),
            Axis::parse("acks=all").expect("valid"),
        ];
        assert!(check_distinct(&twice).is_err());
    }
}
