//! Durations (`"50ms"`, `"1.5s"`) and rates (`"1000/s"`) as written in scenario files.

use crate::sim::SimDuration;

/// How durations are written, for hints.
pub const DURATION_HELP: &str =
    "durations are strings with a unit: \"500us\", \"5ms\", \"2s\", \"1m\", \"6h\", \"8d\"";

const UNITS_US: [(&str, u64); 6] = [
    ("us", 1),
    ("ms", 1_000),
    ("s", 1_000_000),
    ("m", 60_000_000),
    ("h", 3_600_000_000),
    ("d", 86_400_000_000),
];

/// Parses `"<number><unit>"` with unit `us`, `ms`, `s`, `m`, `h` or `d`; decimals are allowed
/// down to 1 µs.
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err(format!("`{text}` is negative: durations cannot be negative"));
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .ok_or_else(|| format!("`{text}` has no unit"))?;
    let (number, unit) = text.split_at(split);
    let per_unit = UNITS_US
        .iter()
        .find(|(u, _)| *u == unit)
        .map(|(_, us)| *us)
        .ok_or_else(|| format!("unknown time unit `{unit}` in `{text}`"))?;
    let us = scale_decimal(number, per_unit).map_err(|e| match e {
        Scale::TooLarge => format!(
            "`{text}` is too large: durations go up to {}us (about 584,942 years)",
            u64::MAX
        ),
        Scale::TooFine => format!("`{text}` is finer than a microsecond"),
        Scale::NotANumber if number.is_empty() => format!("`{text}` has no number before its unit"),
        Scale::NotANumber => format!("`{number}` in `{text}` is not a number"),
    })?;
    Ok(SimDuration::from_us(us))
}

/// `serde` helper: a duration field written as a string (`"200ms"`).
pub fn de_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SimDuration, D::Error> {
    let text = <String as serde::Deserialize>::deserialize(d)?;
    parse_duration(&text).map_err(|why| serde::de::Error::custom(format!("invalid duration: {why}")))
}

/// A rate of records: `n` records per `per`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Records per period.
    pub count: u64,
    /// The period.
    pub per: SimDuration,
}

impl Rate {
    /// Microseconds from the first record to record `i` (integer, no drift).
    pub fn offset_of(&self, i: u64) -> SimDuration {
        let us = match i.checked_mul(self.per.as_us()) {
            Some(product) => product / self.count,
            None => {
                let wide = u128::from(i) * u128::from(self.per.as_us()) / u128::from(self.count);
                u64::try_from(wide).unwrap_or(u64::MAX)
            }
        };
        SimDuration::from_us(us)
    }
}

/// Walks the send times of a rate one record at a time, without a division per record:
/// `offset_of(i) = i·q + ⌊i·r / count⌋` where `per = q·count + r`.
#[derive(Clone, Copy, Debug)]
pub struct RateCursor {
    offset_us: u64,
    remainder: u64,
    step_us: u64,
    step_remainder: u64,
    count: u64,
}

impl RateCursor {
    /// At record 0.
    pub fn new(rate: Rate) -> RateCursor {
        RateCursor {
            offset_us: 0,
            remainder: 0,
            step_us: rate.per.as_us() / rate.count,
            step_remainder: rate.per.as_us() % rate.count,
            count: rate.count,
        }
    }

    /// The current record's offset from the first.
    pub fn offset(&self) -> SimDuration {
        SimDuration::from_us(self.offset_us)
    }

    /// Moves to the next record.
    pub fn advance(&mut self) {
        self.offset_us = self.offset_us.saturating_add(self.step_us);
        self.remainder += self.step_remainder;
        if self.remainder >= self.count {
            self.remainder -= self.count;
            self.offset_us = self.offset_us.saturating_add(1);
        }
    }
}

/// Parses `"<count>/<period>"`, e.g. `"1000/s"`, `"5/ms"` or `"100/10ms"`.
pub fn parse_rate(text: &str) -> Result<Rate, String> {
    let (count, unit) = text
        .trim()
        .split_once('/')
        .ok_or_else(|| format!("`{text}` is not a rate like \"1000/s\""))?;
    if count.trim().starts_with('-') {
        return Err(format!(
            "`{text}` is negative: a rate is a number of records per unit of time"
        ));
    }
    let digits = count.trim().replace('_', "");
    let count: u64 = digits.parse().map_err(|_| {
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            format!(
                "`{}` in `{text}` is too large: a rate counts up to {} records per period",
                count.trim(),
                u64::MAX
            )
        } else {
            format!("`{count}` in `{text}` is not a whole number")
        }
    })?;
    if count == 0 {
        return Err("a rate must be more than 0 per unit".to_string());
    }
    let unit = unit.trim();
    let per = if unit.starts_with(|c: char| c.is_ascii_digit()) {
        parse_duration(unit)?
    } else {
        parse_duration(&format!("1{unit}"))
            .map_err(|_| format!("unknown rate unit `/{unit}` (use /us, /ms, /s or /m)"))?
    };
    if per == SimDuration::ZERO {
        return Err(format!("the period of `{text}` is zero"));
    }
    Ok(Rate { count, per })
}

const BANDWIDTH_UNITS: [(&str, u64); 8] = [
    ("bit/s", 1),
    ("kbit/s", 1_000),
    ("Mbit/s", 1_000_000),
    ("Gbit/s", 1_000_000_000),
    ("B/s", 8),
    ("kB/s", 8_000),
    ("MB/s", 8_000_000),
    ("GB/s", 8_000_000_000),
];

/// What a bandwidth looks like, for error messages.
pub const BANDWIDTH_HELP: &str = "write a bandwidth like \"1Gbit/s\", \"100Mbit/s\" or \"50MB/s\" (bit/s, kbit/s, Mbit/s, Gbit/s, B/s, kB/s, MB/s, GB/s), or \"unlimited\"";

/// Parses a link bandwidth in bits per second: `"<number><unit>"` (`"1Gbit/s"`, `"12.5MB/s"`),
/// or `"unlimited"` (`None`: messages take no time to put on the wire).
pub fn parse_bandwidth(text: &str) -> Result<Option<u64>, String> {
    let text = text.trim();
    if text == "unlimited" {
        return Ok(None);
    }
    if text.starts_with('-') {
        return Err(format!("`{text}` is negative: a bandwidth cannot be negative"));
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .ok_or_else(|| format!("`{text}` has no unit"))?;
    let (number, unit) = text.split_at(split);
    let per_unit = BANDWIDTH_UNITS
        .iter()
        .find(|(u, _)| *u == unit.trim())
        .map(|(_, bits)| *bits)
        .ok_or_else(|| match unit.trim().strip_suffix("bps") {
            Some(prefix) => {
                format!("unknown bandwidth unit `{unit}` in `{text}`: did you mean `{prefix}bit/s`?")
            }
            None => format!("unknown bandwidth unit `{unit}` in `{text}`"),
        })?;
    match scale_decimal(number, per_unit) {
        Ok(0) => Err(format!(
            "`{text}` is no bandwidth at all (use \"unlimited\" for no limit)"
        )),
        Ok(bits) => Ok(Some(bits)),
        Err(Scale::TooLarge) => Err(format!(
            "`{text}` is too large: bandwidths go up to {}bit/s",
            u64::MAX
        )),
        Err(Scale::TooFine) => Err(format!("`{text}` is finer than a bit per second")),
        Err(Scale::NotANumber) if number.is_empty() => Err(format!("`{text}` has no number before its unit")),
        Err(Scale::NotANumber) => Err(format!("`{number}` in `{text}` is not a number")),
    }
}

/// A bandwidth in bits per second, written as a scenario writes it: `1Gbit/s`, `100Mbit/s`.
pub fn format_bandwidth(bits: u64) -> String {
    let unit = [
        ("Gbit/s", 1_000_000_000),
        ("Mbit/s", 1_000_000),
        ("kbit/s", 1_000),
    ]
    .into_iter()
    .find(|(_, per)| bits.is_multiple_of(*per));
    match unit {
        Some((name, per)) => format!("{}{name}", bits / per),
        None => format!("{bits}bit/s"),
    }
}

/// Why a decimal number does not scale to a whole count of the smallest unit.
enum Scale {
    TooLarge,
    TooFine,
    NotANumber,
}

fn scale_decimal(number: &str, per_unit: u64) -> Result<u64, Scale> {
    let number = number.replace('_', "");
    let (whole, frac) = number.split_once('.').unwrap_or((&number, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
        return Err(Scale::NotANumber);
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| Scale::TooLarge)?
    };
    let mut total = whole.checked_mul(per_unit).ok_or(Scale::TooLarge)?;
    let mut scale = per_unit;
    for digit in frac.chars() {
        let d = u64::from(digit.to_digit(10).ok_or(Scale::NotANumber)?);
        if !scale.is_multiple_of(10) {
            if d != 0 {
                return Err(Scale::TooFine);
            }
            continue;
        }
        scale /= 10;
        total = total.checked_add(d * scale).ok_or(Scale::TooLarge)?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_walks_the_same_times_as_offset_of() {
        for text in ["3/ms", "1000/s", "7/13ms", "1000000/s", "2000000/s", "999/s"] {
            let rate = parse_rate(text).expect("valid");
            let mut c = RateCursor::new(rate);
            for i in 0..10_000 {
                assert_eq!(c.offset(), rate.offset_of(i), "{text} record {i}");
                c.advance();
            }
        }
    }

    #[test]
    fn bandwidths_in_bits_and_bytes() {
        assert_eq!(parse_bandwidth("1Gbit/s"), Ok(Some(1_000_000_000)));
        assert_eq!(parse_bandwidth("12.5MB/s"), Ok(Some(100_000_000)));
        assert_eq!(parse_bandwidth("unlimited"), Ok(None));
        assert_eq!(format_bandwidth(1_000_000_000), "1Gbit/s");
        assert_eq!(format_bandwidth(100_000_000), "100Mbit/s");
        assert_eq!(format_bandwidth(8_000), "8kbit/s");
        assert_eq!(format_bandwidth(12), "12bit/s");
        assert!(parse_bandwidth("0Mbit/s").is_err());
        assert!(parse_bandwidth("1Gbps").is_err());
        assert!(parse_bandwidth("fast").is_err());
        assert_eq!(
            parse_bandwidth("-1Gbit/s"),
            Err("`-1Gbit/s` is negative: a bandwidth cannot be negative".into())
        );
    }

    #[test]
    fn durations_in_every_unit() {
        let us = |t| parse_duration(t).map(SimDuration::as_us);
        assert_eq!(us("200us"), Ok(200));
        assert_eq!(us("5ms"), Ok(5_000));
        assert_eq!(us("1.5s"), Ok(1_500_000));
        assert_eq!(us("2m"), Ok(120_000_000));
        assert_eq!(us("6h"), Ok(21_600_000_000));
        assert_eq!(us("8d"), Ok(691_200_000_000));
        assert_eq!(us("1.5d"), Ok(129_600_000_000));
        assert_eq!(us("0.001ms"), Ok(1));
        assert_eq!(
            us("0.0001ms"),
            Err("`0.0001ms` is finer than a microsecond".into())
        );
        assert_eq!(
            us("99999999999999999999s"),
            Err("`99999999999999999999s` is too large: durations go up to 18446744073709551615us (about 584,942 years)".into())
        );
        assert!(us("5").is_err());
        assert!(us("5 hours").is_err());
        assert_eq!(us("ms"), Err("`ms` has no number before its unit".into()));
        assert_eq!(
            us("-1ms"),
            Err("`-1ms` is negative: durations cannot be negative".into())
        );
    }

    #[test]
    fn rates_spread_records_without_drift() {
        let r = parse_rate("3/ms").expect("valid");
        assert_eq!(r.offset_of(0).as_us(), 0);
        assert_eq!(r.offset_of(1).as_us(), 333);
        assert_eq!(r.offset_of(3).as_us(), 1000);
        assert_eq!(parse_rate("1000/s").map(|r| r.offset_of(7).as_us()), Ok(7000));
        assert_eq!(
            parse_rate("100/10ms").map(|r| r.offset_of(100).as_us()),
            Ok(10_000)
        );
        assert!(parse_rate("1/0s").is_err());
        assert!(parse_rate("0/s").is_err());
        assert_eq!(
            parse_rate("10/h").map(|r| r.offset_of(1).as_us()),
            Ok(360_000_000)
        );
        assert!(parse_rate("10/week").is_err());
        assert!(parse_rate("ten/s").is_err());
        assert!(
            parse_rate("99999999999999999999/s")
                .is_err_and(|e| e.contains("is too large: a rate counts up to 18446744073709551615"))
        );
        assert!(parse_rate("-5/s").is_err_and(|e| e.contains("is negative")));
    }
}
