//! The statistics engine behind GetMetricStatistics, GetMetricData and alarm evaluation.
//!
//! CloudWatch answers every query from the datapoints that fall into one period, so the engine is
//! shaped around a single accumulator, [`Aggregate`], that one bucket's samples are added to. The
//! five basic statistics (SampleCount, Sum, Minimum, Maximum, Average) are kept as running totals,
//! which makes adding a sample a handful of float operations. The extended statistics
//! (percentiles, trimmed and winsorized means, trimmed count and sum, percentile rank,
//! interquartile mean) need the raw values, so an aggregate can additionally keep
//! `(value, weight)` pairs; weights come from the `Counts` array of PutMetricData and from the
//! sample count of a statistic set, and are never expanded into repeated elements because a count
//! may be far larger than memory.
//!
//! Extended statistic names are parsed once into [`ExtendedStatistic`], whose `Display` gives the
//! canonical text back, so the parsed value can serve as the key of the `ExtendedStatistics` map in
//! a response.
//!
//! Rules taken from the CloudWatch documentation ("CloudWatch statistics definitions",
//! "Percentiles", "Publish custom metrics", the GetMetricStatistics API reference):
//! - Average is `Sum / SampleCount`; a statistic set adds its SampleCount and Sum and takes part
//!   in Minimum and Maximum; a `Values`/`Counts` pair adds `count` samples of `value`.
//! - Extended statistics need raw data points. A statistic set is usable only when its SampleCount
//!   is 1 and Min, Max and Sum are equal, or when Min equals Max and Sum equals Min multiplied by
//!   SampleCount (the first case is contained in the second). One unusable set makes the whole
//!   period's extended statistics unavailable.
//! - Extended statistics are not available when any value is negative.
//! - Percentiles are written `p` followed by 0 to 100 with at most two decimal places.
//! - Trimmed mean, winsorized mean, trimmed count and trimmed sum take a lower-case single
//!   percentage (`tm99`, same as `TM(:99%)`) or an upper-case range of percentages
//!   (`TM(10%:90%)`, `TM(:95%)`, `TS(80%:)`) or of absolute values (`TM(150:1000)`), with up to ten
//!   decimal places. Percentages lie between 0 and 100. An absolute range excludes values equal to
//!   its lower boundary and includes values equal to its upper boundary.
//! - Percentile rank takes absolute values only (`PR(:300)`, `PR(100:2000)`, `PR(10:)`), is
//!   exclusive on the lower bound and inclusive on the upper bound, and is reported as a
//!   percentage.
//! - `IQM` is `TM(25%:75%)`. Trimmed count may be fractional, as CloudWatch documents.
//!
//! Definitions chosen where the documentation leaves the arithmetic open (CloudWatch itself uses
//! an approximating histogram, so no exact algorithm is published):
//! - Percentile `pX` is the weighted nearest rank: the smallest value whose cumulative weight
//!   reaches `X/100` of the total weight (`p0` is the minimum, `p100` the maximum).
//! - A percentage range `a%:b%` keeps the slice of the weighted ranks between `a/100` and `b/100`
//!   of the total weight. A value straddling a cut contributes the fraction of its weight that
//!   lies inside, which is why trimmed count can be fractional (e.g. `tc90` of five values is 4.5).
//! - Winsorizing a percentage range replaces the trimmed-off weight below the range with the
//!   smallest kept value and the weight above it with the largest kept value; winsorizing an
//!   absolute range clamps every value to the boundaries given.
//!
//! Error messages are bare reasons (lower case, no final full stop) so that the protocol layer can
//! append them to its own `InvalidParameterValue` text, e.g. "The value p101 for parameter
//! ExtendedStatistics is invalid: a percentile must be between p0.0 and p100 …".

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// One stored datapoint as PutMetricData delivered it.
#[derive(Debug, Clone, PartialEq)]
pub enum Sample {
    /// A single `Value`.
    Single(f64),
    /// A `StatisticValues` set.
    Set {
        sample_count: f64,
        sum: f64,
        minimum: f64,
        maximum: f64,
    },
    /// The `Values`/`Counts` arrays; counts are expected to be defaulted to 1 already, and a
    /// missing count is treated as 1.
    Values { values: Vec<f64>, counts: Vec<f64> },
}

/// Why a statistic name was refused. The texts are reasons to append to an
/// `InvalidParameterValue` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StatisticError {
    /// Not one of the five names of the `Statistic` enumeration.
    #[error("the value must be in the set [SampleCount, Average, Sum, Minimum, Maximum]")]
    NotAStatistic,
    /// No extended statistic syntax matches.
    #[error(
        "expected an extended statistic such as p99, p99.9, tm99, TM(10%:90%), WM(:95%), \
         TC(150:1000), TS(80%:), PR(:300) or IQM"
    )]
    Unrecognised,
    /// A `p` form outside 0..=100 or with more than two decimal places.
    #[error("a percentile must be between p0.0 and p100 with at most two decimal places")]
    InvalidPercentile,
    /// A boundary that is not a plain non-negative decimal number.
    #[error(
        "a boundary must be a non-negative decimal number with at most 18 digits before and 10 \
         digits after the decimal point"
    )]
    InvalidNumber,
    /// A percentage boundary above 100.
    #[error("a percentage must be between 0% and 100%")]
    PercentOutOfRange,
    /// A range that cannot select anything, such as `TM(90%:10%)` or `tm0`.
    #[error("the lower boundary must be below the upper boundary")]
    EmptyRange,
    /// One side a percentage and the other an absolute value.
    #[error("both boundaries must be percentages or both must be absolute values")]
    MixedBoundaries,
    /// `TM(:)` and the like.
    #[error("a range needs at least one boundary")]
    NoBoundary,
    /// `PR(...)` with a percentage boundary.
    #[error("percentile rank takes absolute values, such as PR(:300), not percentages")]
    PercentileRankPercentage,
    /// `TM99`, `tm(10%:90%)`, `P99`: the documented letter case is not followed.
    #[error(
        "lower-case letters are only for a single number (tm99) and upper-case letters only for \
         a range (TM(10%:90%))"
    )]
    WrongCase,
}

/// The five basic statistics of the `Statistics` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Statistic {
    SampleCount,
    Average,
    Sum,
    Minimum,
    Maximum,
}

impl Statistic {
    /// The AWS spelling, as used in requests and as the element name in responses.
    pub fn as_str(self) -> &'static str {
        match self {
            Statistic::SampleCount => "SampleCount",
            Statistic::Average => "Average",
            Statistic::Sum => "Sum",
            Statistic::Minimum => "Minimum",
            Statistic::Maximum => "Maximum",
        }
    }
}

impl FromStr for Statistic {
    type Err = StatisticError;

    /// Case-sensitive, as the API's enumeration is.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "SampleCount" => Ok(Statistic::SampleCount),
            "Average" => Ok(Statistic::Average),
            "Sum" => Ok(Statistic::Sum),
            "Minimum" => Ok(Statistic::Minimum),
            "Maximum" => Ok(Statistic::Maximum),
            _ => Err(StatisticError::NotAStatistic),
        }
    }
}

impl fmt::Display for Statistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Most digits accepted before the decimal point; keeps every number, scaled to ten decimal
/// places, inside a `u128` so boundaries compare exactly.
const MAX_INTEGER_DIGITS: usize = 18;
/// Decimal places AWS documents for trimmed-mean style boundaries.
const MAX_BOUNDARY_DECIMALS: u8 = 10;
/// Decimal places AWS documents for percentiles (`p95.45`).
const MAX_PERCENTILE_DECIMALS: u8 = 2;

/// A non-negative decimal number exactly as written (digits and decimal places), so that the
/// statistic's text survives a parse/print round trip without float formatting artefacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    units: u128,
    scale: u8,
}

impl Decimal {
    /// The number as a float.
    pub fn to_f64(self) -> f64 {
        self.units as f64 / 10f64.powi(i32::from(self.scale))
    }

    /// `self` percent of `total`, dividing last so that whole results come out exact.
    fn percent_of(self, total: f64) -> f64 {
        total * self.units as f64 / 10f64.powi(i32::from(self.scale) + 2)
    }

    fn is_zero(self) -> bool {
        self.units == 0
    }

    /// Parses `digits[.digits]`; no sign, exponent, blank or empty part, as the AWS syntax has
    /// none.
    fn parse(text: &str, max_decimals: u8) -> Option<Decimal> {
        let (integer, fraction) = match text.split_once('.') {
            Some((integer, fraction)) => (integer, Some(fraction)),
            None => (text, None),
        };
        let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(integer) || integer.len() > MAX_INTEGER_DIGITS {
            return None;
        }
        let fraction = fraction.unwrap_or("");
        if fraction.len() > usize::from(max_decimals)
            || (!fraction.is_empty() && !all_digits(fraction))
        {
            return None;
        }
        if text.ends_with('.') {
            return None;
        }
        let mut units: u128 = 0;
        for digit in integer.bytes().chain(fraction.bytes()) {
            units = units
                .checked_mul(10)?
                .checked_add(u128::from(digit - b'0'))?;
        }
        let scale = u8::try_from(fraction.len()).ok()?;
        Some(Decimal { units, scale })
    }

    /// Exact comparison; both sides fit in a `u128` once scaled to ten decimal places.
    fn compare(self, other: Decimal) -> Ordering {
        let common = self.scale.max(other.scale);
        let widen = |d: Decimal| {
            10u128
                .checked_pow(u32::from(common - d.scale))
                .and_then(|factor| d.units.checked_mul(factor))
        };
        match (widen(self), widen(other)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self.to_f64().total_cmp(&other.to_f64()),
        }
    }

    fn exceeds_hundred(self) -> bool {
        self.compare(Decimal {
            units: 100,
            scale: 0,
        }) == Ordering::Greater
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(factor) = 10u128.checked_pow(u32::from(self.scale)) else {
            return write!(f, "{}", self.to_f64());
        };
        let integer = self.units / factor;
        if self.scale == 0 {
            return write!(f, "{integer}");
        }
        let fraction = self.units % factor;
        write!(
            f,
            "{integer}.{fraction:0width$}",
            width = usize::from(self.scale)
        )
    }
}

/// Which data points a trimmed mean, winsorized mean, trimmed count or trimmed sum uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bounds {
    /// The lower-case single-number form (`tm99`): everything up to that percentile.
    UpToPercentile(Decimal),
    /// `TM(a%:b%)`: the data between two percentiles; a missing side is the end of the data.
    Percent {
        lower: Option<Decimal>,
        upper: Option<Decimal>,
    },
    /// `TM(a:b)`: values greater than `a` and at most `b`; a missing side is unbounded.
    Absolute {
        lower: Option<Decimal>,
        upper: Option<Decimal>,
    },
}

/// A parsed extended statistic (`ExtendedStatistics` member, `ExtendedStatistic` of an alarm,
/// or the `Stat` of a GetMetricData query when it is not one of the basic five).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtendedStatistic {
    /// `p99`, `p99.9`, `p0.1`.
    Percentile(Decimal),
    /// `tm99`, `TM(10%:90%)`, `TM(150:1000)`.
    TrimmedMean(Bounds),
    /// `wm98`, `WM(10%:90%)`.
    WinsorizedMean(Bounds),
    /// `tc90`, `TC(0.005:0.030)`.
    TrimmedCount(Bounds),
    /// `ts90`, `TS(80%:)`.
    TrimmedSum(Bounds),
    /// `PR(:300)`, `PR(100:2000)`: percentage of data points with `lower < value <= upper`.
    PercentileRank {
        lower: Option<Decimal>,
        upper: Option<Decimal>,
    },
    /// `IQM`, the same as `TM(25%:75%)`.
    InterquartileMean,
}

/// Spelling of a trimmed-family statistic: lower-case short form, upper-case range form, and the
/// variant it builds.
type TrimmedSpelling = (&'static str, &'static str, fn(Bounds) -> ExtendedStatistic);

/// The four statistics that share the `tm99` / `TM(...)` syntax.
const TRIMMED_FAMILY: [TrimmedSpelling; 4] = [
    ("tm", "TM", ExtendedStatistic::TrimmedMean),
    ("wm", "WM", ExtendedStatistic::WinsorizedMean),
    ("tc", "TC", ExtendedStatistic::TrimmedCount),
    ("ts", "TS", ExtendedStatistic::TrimmedSum),
];

impl FromStr for ExtendedStatistic {
    type Err = StatisticError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "IQM" {
            return Ok(ExtendedStatistic::InterquartileMean);
        }
        if let Some(inner) = text.strip_prefix("PR") {
            let (lower, upper) = match parse_range(inner)? {
                Range::Absolute(lower, upper) => (lower, upper),
                Range::Percent(..) => return Err(StatisticError::PercentileRankPercentage),
            };
            return Ok(ExtendedStatistic::PercentileRank { lower, upper });
        }
        if text.starts_with("pr") || text.starts_with("Pr") || text.starts_with("pR") {
            return Err(if text.contains('(') {
                StatisticError::WrongCase
            } else {
                StatisticError::Unrecognised
            });
        }
        for (short, long, build) in TRIMMED_FAMILY {
            if let Some(rest) = text.strip_prefix(long) {
                if !rest.starts_with('(') {
                    let single_number =
                        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.');
                    return Err(if single_number {
                        StatisticError::WrongCase
                    } else {
                        StatisticError::Unrecognised
                    });
                }
                let bounds = match parse_range(rest)? {
                    Range::Percent(lower, upper) => Bounds::Percent { lower, upper },
                    Range::Absolute(lower, upper) => Bounds::Absolute { lower, upper },
                };
                return Ok(build(bounds));
            }
            if let Some(rest) = text.strip_prefix(short) {
                if rest.starts_with('(') {
                    return Err(StatisticError::WrongCase);
                }
                let upper = Decimal::parse(rest, MAX_BOUNDARY_DECIMALS)
                    .ok_or(StatisticError::InvalidNumber)?;
                if upper.exceeds_hundred() {
                    return Err(StatisticError::PercentOutOfRange);
                }
                // Nothing lies below the 0th percentile, so `tm0` would select no data at all.
                if upper.is_zero() {
                    return Err(StatisticError::EmptyRange);
                }
                return Ok(build(Bounds::UpToPercentile(upper)));
            }
        }
        if let Some(rest) = text.strip_prefix('p') {
            let value = Decimal::parse(rest, MAX_PERCENTILE_DECIMALS)
                .ok_or(StatisticError::InvalidPercentile)?;
            if value.exceeds_hundred() {
                return Err(StatisticError::InvalidPercentile);
            }
            return Ok(ExtendedStatistic::Percentile(value));
        }
        if text.starts_with('P')
            && text.len() > 1
            && text
                .bytes()
                .skip(1)
                .all(|b| b.is_ascii_digit() || b == b'.')
        {
            return Err(StatisticError::WrongCase);
        }
        Err(StatisticError::Unrecognised)
    }
}

/// The two kinds of `(lower:upper)` range; both sides share one kind.
enum Range {
    Percent(Option<Decimal>, Option<Decimal>),
    Absolute(Option<Decimal>, Option<Decimal>),
}

/// Parses `(lower:upper)` including the parentheses, either side optional but not both.
fn parse_range(text: &str) -> Result<Range, StatisticError> {
    let inner = text
        .strip_prefix('(')
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or(StatisticError::Unrecognised)?;
    let (lower_text, upper_text) = inner.split_once(':').ok_or(StatisticError::Unrecognised)?;
    let lower = parse_boundary(lower_text)?;
    let upper = parse_boundary(upper_text)?;
    let percent = match (lower, upper) {
        (None, None) => return Err(StatisticError::NoBoundary),
        (Some((_, a)), Some((_, b))) if a != b => return Err(StatisticError::MixedBoundaries),
        (Some((_, is_percent)), _) | (None, Some((_, is_percent))) => is_percent,
    };
    let lower = lower.map(|(value, _)| value);
    let upper = upper.map(|(value, _)| value);
    if percent {
        if lower.is_some_and(Decimal::exceeds_hundred)
            || upper.is_some_and(Decimal::exceeds_hundred)
        {
            return Err(StatisticError::PercentOutOfRange);
        }
        // An open side of a percentage range is the 0th or the 100th percentile.
        let from = lower.unwrap_or(Decimal { units: 0, scale: 0 });
        let to = upper.unwrap_or(Decimal {
            units: 100,
            scale: 0,
        });
        if from.compare(to) != Ordering::Less {
            return Err(StatisticError::EmptyRange);
        }
        return Ok(Range::Percent(lower, upper));
    }
    if let (Some(from), Some(to)) = (lower, upper) {
        if from.compare(to) != Ordering::Less {
            return Err(StatisticError::EmptyRange);
        }
    }
    Ok(Range::Absolute(lower, upper))
}

/// One side of a range: empty, `12.5%` or `12.5`; the flag says whether it was a percentage.
fn parse_boundary(text: &str) -> Result<Option<(Decimal, bool)>, StatisticError> {
    if text.is_empty() {
        return Ok(None);
    }
    let (number, is_percent) = match text.strip_suffix('%') {
        Some(number) => (number, true),
        None => (text, false),
    };
    let value =
        Decimal::parse(number, MAX_BOUNDARY_DECIMALS).ok_or(StatisticError::InvalidNumber)?;
    Ok(Some((value, is_percent)))
}

/// Writes `(lower:upper)` with an optional suffix after each present side.
fn write_range(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    lower: Option<Decimal>,
    upper: Option<Decimal>,
    suffix: &str,
) -> fmt::Result {
    f.write_str(name)?;
    f.write_str("(")?;
    if let Some(lower) = lower {
        write!(f, "{lower}{suffix}")?;
    }
    f.write_str(":")?;
    if let Some(upper) = upper {
        write!(f, "{upper}{suffix}")?;
    }
    f.write_str(")")
}

impl fmt::Display for ExtendedStatistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (short, long, bounds) = match self {
            ExtendedStatistic::Percentile(value) => return write!(f, "p{value}"),
            ExtendedStatistic::PercentileRank { lower, upper } => {
                return write_range(f, "PR", *lower, *upper, "");
            }
            ExtendedStatistic::InterquartileMean => return f.write_str("IQM"),
            ExtendedStatistic::TrimmedMean(bounds) => ("tm", "TM", bounds),
            ExtendedStatistic::WinsorizedMean(bounds) => ("wm", "WM", bounds),
            ExtendedStatistic::TrimmedCount(bounds) => ("tc", "TC", bounds),
            ExtendedStatistic::TrimmedSum(bounds) => ("ts", "TS", bounds),
        };
        match bounds {
            Bounds::UpToPercentile(upper) => write!(f, "{short}{upper}"),
            Bounds::Percent { lower, upper } => write_range(f, long, *lower, *upper, "%"),
            Bounds::Absolute { lower, upper } => write_range(f, long, *lower, *upper, ""),
        }
    }
}

/// Whether the raw values of an aggregate can answer extended statistics.
#[derive(Debug, Clone)]
enum RawValues {
    /// The caller asked for basic statistics only.
    NotKept,
    /// `(value, weight)` pairs in arrival order.
    Usable(Vec<(f64, f64)>),
    /// A negative value or an unusable statistic set arrived; CloudWatch reports no extended
    /// statistic for such a period, so the pairs are dropped.
    Unavailable,
}

/// Accumulates the samples that fall in one period bucket.
#[derive(Debug, Clone)]
pub struct Aggregate {
    sample_count: f64,
    sum: f64,
    minimum: f64,
    maximum: f64,
    raw: RawValues,
    /// Sorted view of `raw`, built on the first extended statistic asked for and shared by the
    /// rest; cleared whenever a sample is added.
    sorted: OnceLock<Distribution>,
}

impl Default for Aggregate {
    fn default() -> Self {
        Self::new()
    }
}

impl Aggregate {
    /// An empty aggregate that keeps raw values, so every statistic is available.
    pub fn new() -> Self {
        Self::new_with_values(true)
    }

    /// An empty aggregate; with `keep` false it answers only the basic statistics and
    /// [`Aggregate::extended`] returns `None`, which saves storing every value.
    pub fn new_with_values(keep: bool) -> Self {
        Aggregate {
            sample_count: 0.0,
            sum: 0.0,
            minimum: f64::INFINITY,
            maximum: f64::NEG_INFINITY,
            raw: if keep {
                RawValues::Usable(Vec::new())
            } else {
                RawValues::NotKept
            },
            sorted: OnceLock::new(),
        }
    }

    /// Adds one stored datapoint. Non-finite numbers and non-positive counts carry no data and
    /// are skipped; PutMetricData validation is expected to have refused them already.
    pub fn add(&mut self, sample: &Sample) {
        match sample {
            Sample::Single(value) => self.add_weighted(*value, 1.0),
            Sample::Values { values, counts } => {
                if let RawValues::Usable(pairs) = &mut self.raw {
                    pairs.reserve(values.len());
                }
                for (index, value) in values.iter().enumerate() {
                    self.add_weighted(*value, counts.get(index).copied().unwrap_or(1.0));
                }
            }
            Sample::Set {
                sample_count,
                sum,
                minimum,
                maximum,
            } => self.add_set(*sample_count, *sum, *minimum, *maximum),
        }
    }

    fn add_weighted(&mut self, value: f64, weight: f64) {
        if !value.is_finite() || !weight.is_finite() || weight <= 0.0 {
            return;
        }
        self.sample_count += weight;
        self.sum += value * weight;
        self.minimum = self.minimum.min(value);
        self.maximum = self.maximum.max(value);
        self.keep_raw(value, weight);
    }

    fn add_set(&mut self, sample_count: f64, sum: f64, minimum: f64, maximum: f64) {
        let finite = [sample_count, sum, minimum, maximum]
            .iter()
            .all(|v| v.is_finite());
        if !finite || sample_count <= 0.0 {
            return;
        }
        self.sample_count += sample_count;
        self.sum += sum;
        self.minimum = self.minimum.min(minimum);
        self.maximum = self.maximum.max(maximum);
        if set_is_raw_equivalent(sample_count, sum, minimum, maximum) {
            self.keep_raw(minimum, sample_count);
        } else {
            self.mark_unavailable();
        }
    }

    fn keep_raw(&mut self, value: f64, weight: f64) {
        if value < 0.0 {
            self.mark_unavailable();
            return;
        }
        if let RawValues::Usable(pairs) = &mut self.raw {
            // Adding 0.0 turns -0.0 into 0.0 so both sort and merge as one value.
            pairs.push((value + 0.0, weight));
            self.sorted.take();
        }
    }

    fn mark_unavailable(&mut self) {
        if !matches!(self.raw, RawValues::NotKept) {
            self.raw = RawValues::Unavailable;
            self.sorted.take();
        }
    }

    /// Folds another bucket's samples into this one (e.g. when coarsening the period).
    pub fn merge(&mut self, other: &Aggregate) {
        if other.sample_count <= 0.0 {
            return;
        }
        self.sample_count += other.sample_count;
        self.sum += other.sum;
        self.minimum = self.minimum.min(other.minimum);
        self.maximum = self.maximum.max(other.maximum);
        match &other.raw {
            RawValues::Usable(theirs) => {
                if let RawValues::Usable(ours) = &mut self.raw {
                    ours.extend_from_slice(theirs);
                    self.sorted.take();
                }
            }
            // Without the other side's values this side's distribution would be incomplete.
            RawValues::NotKept | RawValues::Unavailable => self.mark_unavailable(),
        }
    }

    /// Total weight of the samples added, i.e. the SampleCount statistic (0 when empty).
    pub fn sample_count(&self) -> f64 {
        self.sample_count
    }

    /// A basic statistic, or `None` when the bucket holds no data.
    pub fn statistic(&self, statistic: Statistic) -> Option<f64> {
        if self.sample_count <= 0.0 {
            return None;
        }
        let value = match statistic {
            Statistic::SampleCount => self.sample_count,
            Statistic::Sum => self.sum,
            Statistic::Average => self.sum / self.sample_count,
            Statistic::Minimum => self.minimum,
            Statistic::Maximum => self.maximum,
        };
        value.is_finite().then_some(value)
    }

    /// An extended statistic, or `None` where CloudWatch reports no value: no data, raw values
    /// not kept, a negative value or an unusable statistic set in the bucket, or a mean over an
    /// empty selection. Trimmed count and sum of an empty selection are 0.
    pub fn extended(&self, statistic: &ExtendedStatistic) -> Option<f64> {
        let RawValues::Usable(pairs) = &self.raw else {
            return None;
        };
        if pairs.is_empty() {
            return None;
        }
        let distribution = self.sorted.get_or_init(|| Distribution::from_pairs(pairs));
        distribution
            .evaluate(statistic)
            .filter(|value| value.is_finite())
    }
}

/// The documented condition under which a statistic set stands for raw values: every sample in
/// it had the same value. The comparison tolerates rounding in the last few bits because
/// clients build Sum by repeated addition (ten times 0.1 is not exactly 1.0).
fn set_is_raw_equivalent(sample_count: f64, sum: f64, minimum: f64, maximum: f64) -> bool {
    if minimum != maximum {
        return false;
    }
    let expected = minimum * sample_count;
    (sum - expected).abs() <= 1e-9 * sum.abs().max(expected.abs())
}

/// Raw values sorted ascending with equal values merged, plus running weight totals for rank
/// lookups.
#[derive(Debug, Clone)]
struct Distribution {
    values: Vec<f64>,
    weights: Vec<f64>,
    /// `cumulative[i]` is the weight of `values[..=i]`.
    cumulative: Vec<f64>,
    total: f64,
}

/// What a range of data selected: its weight, weighted sum and smallest and largest value.
#[derive(Debug, Default)]
struct Selection {
    weight: f64,
    sum: f64,
    smallest: Option<f64>,
    largest: Option<f64>,
}

impl Distribution {
    fn from_pairs(pairs: &[(f64, f64)]) -> Self {
        let mut sorted = pairs.to_vec();
        sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut values: Vec<f64> = Vec::with_capacity(sorted.len());
        let mut weights: Vec<f64> = Vec::with_capacity(sorted.len());
        for (value, weight) in sorted {
            match (values.last(), weights.last_mut()) {
                (Some(last), Some(last_weight)) if *last == value => *last_weight += weight,
                _ => {
                    values.push(value);
                    weights.push(weight);
                }
            }
        }
        let mut running = 0.0;
        let cumulative: Vec<f64> = weights
            .iter()
            .map(|weight| {
                running += weight;
                running
            })
            .collect();
        Distribution {
            values,
            weights,
            cumulative,
            total: running,
        }
    }

    fn evaluate(&self, statistic: &ExtendedStatistic) -> Option<f64> {
        if self.total <= 0.0 {
            return None;
        }
        match statistic {
            ExtendedStatistic::Percentile(percent) => self.percentile(*percent),
            ExtendedStatistic::InterquartileMean => {
                let quarter = self.total / 4.0;
                mean(&self.by_rank(quarter, self.total - quarter))
            }
            ExtendedStatistic::PercentileRank { lower, upper } => {
                let selected =
                    self.by_value(lower.map(Decimal::to_f64), upper.map(Decimal::to_f64));
                Some(100.0 * selected.weight / self.total)
            }
            ExtendedStatistic::TrimmedMean(bounds) => mean(&self.select(bounds)),
            ExtendedStatistic::TrimmedCount(bounds) => Some(self.select(bounds).weight),
            ExtendedStatistic::TrimmedSum(bounds) => Some(self.select(bounds).sum),
            ExtendedStatistic::WinsorizedMean(bounds) => self.winsorized_mean(bounds),
        }
    }

    /// Weighted nearest rank: the first value whose cumulative weight reaches the rank.
    fn percentile(&self, percent: Decimal) -> Option<f64> {
        let rank = percent.percent_of(self.total);
        let index = self.cumulative.partition_point(|reached| *reached < rank);
        self.values.get(index).or(self.values.last()).copied()
    }

    fn select(&self, bounds: &Bounds) -> Selection {
        match bounds {
            Bounds::UpToPercentile(upper) => self.by_rank(0.0, upper.percent_of(self.total)),
            Bounds::Percent { lower, upper } => {
                let from = lower.map_or(0.0, |p| p.percent_of(self.total));
                let to = upper.map_or(self.total, |p| p.percent_of(self.total));
                self.by_rank(from, to)
            }
            Bounds::Absolute { lower, upper } => {
                self.by_value(lower.map(Decimal::to_f64), upper.map(Decimal::to_f64))
            }
        }
    }

    /// The weight lying between ranks `from` and `to`, each value counting only the part of
    /// its weight inside the window.
    fn by_rank(&self, from: f64, to: f64) -> Selection {
        let mut selection = Selection::default();
        let start = self.cumulative.partition_point(|reached| *reached <= from);
        let mut begin = start
            .checked_sub(1)
            .and_then(|before| self.cumulative.get(before))
            .copied()
            .unwrap_or(0.0);
        let entries = self.values.iter().zip(&self.cumulative).skip(start);
        for (value, end) in entries {
            if begin >= to {
                break;
            }
            let inside = end.min(to) - begin.max(from);
            if inside > 0.0 {
                selection.weight += inside;
                selection.sum += inside * value;
                selection.smallest.get_or_insert(*value);
                selection.largest = Some(*value);
            }
            begin = *end;
        }
        selection
    }

    /// The values with `lower < value <= upper`; a missing side is unbounded.
    fn by_value(&self, lower: Option<f64>, upper: Option<f64>) -> Selection {
        let start = lower.map_or(0, |lower| self.values.partition_point(|v| *v <= lower));
        let stop = upper.map_or(self.values.len(), |upper| {
            self.values.partition_point(|v| *v <= upper)
        });
        let mut selection = Selection::default();
        let entries = self.values.iter().zip(&self.weights).take(stop).skip(start);
        for (value, weight) in entries {
            selection.weight += weight;
            selection.sum += weight * value;
            selection.smallest.get_or_insert(*value);
            selection.largest = Some(*value);
        }
        selection
    }

    fn winsorized_mean(&self, bounds: &Bounds) -> Option<f64> {
        let (from, to) = match bounds {
            Bounds::UpToPercentile(upper) => (0.0, upper.percent_of(self.total)),
            Bounds::Percent { lower, upper } => (
                lower.map_or(0.0, |p| p.percent_of(self.total)),
                upper.map_or(self.total, |p| p.percent_of(self.total)),
            ),
            Bounds::Absolute { lower, upper } => {
                let lower = lower.map(Decimal::to_f64);
                let upper = upper.map(Decimal::to_f64);
                let clamped_sum: f64 = self
                    .values
                    .iter()
                    .zip(&self.weights)
                    .map(|(value, weight)| {
                        let raised = lower.map_or(*value, |lower| value.max(lower));
                        weight * upper.map_or(raised, |upper| raised.min(upper))
                    })
                    .sum();
                return Some(clamped_sum / self.total);
            }
        };
        let kept = self.by_rank(from, to);
        let smallest = kept.smallest?;
        let largest = kept.largest?;
        let below = from.max(0.0);
        let above = (self.total - to).max(0.0);
        Some((below * smallest + kept.sum + above * largest) / self.total)
    }
}

fn mean(selection: &Selection) -> Option<f64> {
    (selection.weight > 0.0).then(|| selection.sum / selection.weight)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(text: &str) -> ExtendedStatistic {
        match text.parse() {
            Ok(parsed) => parsed,
            Err(err) => panic!("{text} should parse: {err}"),
        }
    }

    fn singles(values: &[f64]) -> Aggregate {
        let mut aggregate = Aggregate::new();
        for value in values {
            aggregate.add(&Sample::Single(*value));
        }
        aggregate
    }

    fn one_to(n: u32) -> Aggregate {
        let values: Vec<f64> = (1..=n).map(f64::from).collect();
        singles(&values)
    }

    fn close(actual: Option<f64>, expected: Option<f64>) -> bool {
        match (actual, expected) {
            (Some(a), Some(e)) => (a - e).abs() <= 1e-9 * e.abs().max(1.0),
            (None, None) => true,
            _ => false,
        }
    }

    #[test]
    fn statistic_names_round_trip() {
        for name in ["SampleCount", "Average", "Sum", "Minimum", "Maximum"] {
            let parsed: Statistic = match name.parse() {
                Ok(parsed) => parsed,
                Err(err) => panic!("{name}: {err}"),
            };
            assert_eq!(parsed.as_str(), name);
            assert_eq!(parsed.to_string(), name);
        }
    }

    #[test]
    fn statistic_names_neg() {
        for name in ["average", "SUM", "Min", "p99", "", " Sum", "Sum "] {
            assert_eq!(
                name.parse::<Statistic>(),
                Err(StatisticError::NotAStatistic),
                "{name}"
            );
        }
        assert_eq!(
            StatisticError::NotAStatistic.to_string(),
            "the value must be in the set [SampleCount, Average, Sum, Minimum, Maximum]"
        );
    }

    /// "Publish custom metrics": values 2, 4 and 5 in one minute give SampleCount 3, Sum 11,
    /// Minimum 2, Maximum 5 and Average 3.6666666666666665, and the statistic set
    /// Sum=11,Minimum=2,Maximum=5,SampleCount=3 describes the same data.
    #[test]
    fn basic_statistics_documented_example() {
        let from_singles = singles(&[2.0, 4.0, 5.0]);
        let mut from_set = Aggregate::new();
        from_set.add(&Sample::Set {
            sample_count: 3.0,
            sum: 11.0,
            minimum: 2.0,
            maximum: 5.0,
        });
        let mut from_values = Aggregate::new();
        from_values.add(&Sample::Values {
            values: vec![2.0, 4.0, 5.0],
            counts: vec![1.0, 1.0, 1.0],
        });
        let expected = [
            (Statistic::SampleCount, 3.0),
            (Statistic::Sum, 11.0),
            (Statistic::Minimum, 2.0),
            (Statistic::Maximum, 5.0),
            (Statistic::Average, 3.6666666666666665),
        ];
        for aggregate in [&from_singles, &from_set, &from_values] {
            for (statistic, value) in expected {
                assert_eq!(aggregate.statistic(statistic), Some(value), "{statistic}");
            }
        }
        // The set has Min != Max, so CloudWatch cannot give percentiles for it.
        assert_eq!(from_set.extended(&ext("p50")), None);
        assert_eq!(from_singles.extended(&ext("p50")), Some(4.0));
        assert_eq!(from_values.extended(&ext("p50")), Some(4.0));
    }

    #[test]
    fn empty_aggregate_has_no_statistics_neg() {
        let aggregate = Aggregate::new();
        for statistic in [
            Statistic::SampleCount,
            Statistic::Sum,
            Statistic::Minimum,
            Statistic::Maximum,
            Statistic::Average,
        ] {
            assert_eq!(aggregate.statistic(statistic), None);
        }
        assert_eq!(aggregate.sample_count(), 0.0);
        assert_eq!(aggregate.extended(&ext("p50")), None);
        assert_eq!(aggregate.extended(&ext("TC(1:2)")), None);
    }

    #[test]
    fn values_and_counts_are_weights() {
        let mut aggregate = Aggregate::new();
        aggregate.add(&Sample::Values {
            values: vec![1.0, 10.0],
            counts: vec![3.0, 1.0],
        });
        let cases = [
            (Statistic::SampleCount, 4.0),
            (Statistic::Sum, 13.0),
            (Statistic::Average, 3.25),
            (Statistic::Minimum, 1.0),
            (Statistic::Maximum, 10.0),
        ];
        for (statistic, value) in cases {
            assert_eq!(aggregate.statistic(statistic), Some(value), "{statistic}");
        }
        let extended = [
            ("p50", 1.0),
            ("p75", 1.0),
            ("p75.01", 10.0),
            ("p100", 10.0),
            ("PR(:1)", 75.0),
        ];
        for (text, value) in extended {
            assert_eq!(aggregate.extended(&ext(text)), Some(value), "{text}");
        }
    }

    #[test]
    fn huge_counts_stay_weights() {
        let mut aggregate = Aggregate::new();
        aggregate.add(&Sample::Values {
            values: vec![1.0, 1000.0],
            counts: vec![1e15, 1.0],
        });
        assert_eq!(
            aggregate.statistic(Statistic::SampleCount),
            Some(1e15 + 1.0)
        );
        assert_eq!(aggregate.extended(&ext("p99.99")), Some(1.0));
        assert_eq!(aggregate.extended(&ext("p100")), Some(1000.0));
        assert_eq!(aggregate.extended(&ext("TC(1:)")), Some(1.0));
    }

    #[test]
    fn integers_up_to_two_to_the_53_stay_exact() {
        let big = 9_007_199_254_740_992.0;
        let aggregate = singles(&[big, big - 1.0]);
        assert_eq!(aggregate.statistic(Statistic::Maximum), Some(big));
        assert_eq!(aggregate.statistic(Statistic::Minimum), Some(big - 1.0));
        assert_eq!(aggregate.extended(&ext("p100")), Some(big));
        assert_eq!(aggregate.extended(&ext("p50")), Some(big - 1.0));
    }

    #[test]
    fn missing_counts_default_to_one_and_bad_input_is_skipped() {
        let mut aggregate = Aggregate::new();
        aggregate.add(&Sample::Values {
            values: vec![1.0, 2.0, 3.0, f64::NAN, 9.0],
            counts: vec![2.0, 0.0, -1.0],
        });
        aggregate.add(&Sample::Single(f64::INFINITY));
        aggregate.add(&Sample::Set {
            sample_count: 0.0,
            sum: 0.0,
            minimum: 0.0,
            maximum: 0.0,
        });
        // 1 twice and 9 once; the zero and negative counts and the NaN carry no data.
        assert_eq!(aggregate.statistic(Statistic::SampleCount), Some(3.0));
        assert_eq!(aggregate.statistic(Statistic::Sum), Some(11.0));
        assert_eq!(aggregate.statistic(Statistic::Maximum), Some(9.0));
    }

    #[test]
    fn percentiles_nearest_rank() {
        let aggregate = one_to(100);
        let cases = [
            ("p0", 1.0),
            ("p0.1", 1.0),
            ("p1", 1.0),
            ("p50", 50.0),
            ("p95.45", 96.0),
            ("p99", 99.0),
            ("p99.9", 100.0),
            ("p100", 100.0),
        ];
        for (text, value) in cases {
            assert_eq!(aggregate.extended(&ext(text)), Some(value), "{text}");
        }
    }

    /// The documented conditions under which a statistic set can give percentiles.
    #[test]
    fn statistic_sets_for_percentiles() {
        let cases = [
            // SampleCount 1 and Min, Max and Sum equal.
            ((1.0, 7.0, 7.0, 7.0), Some(7.0)),
            // Min equals Max and Sum is Min times SampleCount.
            ((4.0, 20.0, 5.0, 5.0), Some(5.0)),
            ((10.0, 0.9999999999999999, 0.1, 0.1), Some(0.1)),
            // _NEG: the documented example set with Min != Max.
            ((3.0, 11.0, 2.0, 5.0), None),
            // _NEG: SampleCount 1 but Min != Max.
            ((1.0, 7.0, 7.0, 8.0), None),
            // _NEG: Min equals Max but Sum disagrees.
            ((2.0, 11.0, 5.0, 5.0), None),
        ];
        for ((sample_count, sum, minimum, maximum), expected) in cases {
            let mut aggregate = Aggregate::new();
            aggregate.add(&Sample::Set {
                sample_count,
                sum,
                minimum,
                maximum,
            });
            assert_eq!(
                aggregate.extended(&ext("p99")),
                expected,
                "{sample_count} {sum} {minimum} {maximum}"
            );
            let trimmed = aggregate.extended(&ext("tm99"));
            assert!(
                close(trimmed, expected),
                "tm99: {trimmed:?} != {expected:?}"
            );
        }
    }

    #[test]
    fn usable_set_mixes_with_raw_values() {
        let mut aggregate = singles(&[1.0, 2.0]);
        aggregate.add(&Sample::Set {
            sample_count: 2.0,
            sum: 20.0,
            minimum: 10.0,
            maximum: 10.0,
        });
        assert_eq!(aggregate.extended(&ext("p50")), Some(2.0));
        assert_eq!(aggregate.extended(&ext("p51")), Some(10.0));
        assert_eq!(aggregate.extended(&ext("TS(2:)")), Some(20.0));
    }

    #[test]
    fn unusable_set_hides_extended_statistics_of_the_period_neg() {
        let mut aggregate = singles(&[1.0, 2.0, 3.0]);
        assert_eq!(aggregate.extended(&ext("p50")), Some(2.0));
        aggregate.add(&Sample::Set {
            sample_count: 3.0,
            sum: 11.0,
            minimum: 2.0,
            maximum: 5.0,
        });
        assert_eq!(aggregate.extended(&ext("p50")), None);
        aggregate.add(&Sample::Single(4.0));
        assert_eq!(aggregate.extended(&ext("p50")), None);
        assert_eq!(aggregate.statistic(Statistic::SampleCount), Some(7.0));
    }

    /// "Percentile statistics are not available for metrics when any of the metric values are
    /// negative numbers"; the newer statistics page says the same for all the extended ones.
    #[test]
    fn negative_values_hide_extended_statistics_neg() {
        let aggregate = singles(&[-1.0, 5.0, 6.0]);
        for text in ["p50", "tm99", "IQM", "wm98", "tc90", "ts90", "PR(:300)"] {
            assert_eq!(aggregate.extended(&ext(text)), None, "{text}");
        }
        assert_eq!(aggregate.statistic(Statistic::Minimum), Some(-1.0));
        let mut negative_set = Aggregate::new();
        negative_set.add(&Sample::Set {
            sample_count: 2.0,
            sum: -4.0,
            minimum: -2.0,
            maximum: -2.0,
        });
        assert_eq!(negative_set.extended(&ext("p50")), None);
        // Zero is not negative.
        assert_eq!(singles(&[0.0, -0.0, 3.0]).extended(&ext("p50")), Some(0.0));
    }

    #[test]
    fn values_not_kept_answer_basic_statistics_only_neg() {
        let mut aggregate = Aggregate::new_with_values(false);
        aggregate.add(&Sample::Single(3.0));
        assert_eq!(aggregate.statistic(Statistic::Sum), Some(3.0));
        assert_eq!(aggregate.extended(&ext("p50")), None);
    }

    #[test]
    fn trimmed_family_on_percentages() {
        let one_to_ten = one_to(10);
        let one_to_hundred = one_to(100);
        let one_to_eight = one_to(8);
        let one_to_five = one_to(5);
        let cases: [(&Aggregate, &str, Option<f64>); 20] = [
            // tm90 drops the highest 10%.
            (&one_to_ten, "tm90", Some(5.0)),
            (&one_to_ten, "TM(:90%)", Some(5.0)),
            (&one_to_ten, "TM(10%:90%)", Some(5.5)),
            (&one_to_ten, "TM(10%:)", Some(6.0)),
            (&one_to_ten, "tm100", Some(5.5)),
            (&one_to_hundred, "TM(2%:98%)", Some(50.5)),
            (&one_to_hundred, "TC(2%:98%)", Some(96.0)),
            (&one_to_hundred, "TM(10%:99%)", Some(55.0)),
            // IQM is TM(25%:75%): the middle 3, 4, 5, 6 of 1..8.
            (&one_to_eight, "IQM", Some(4.5)),
            (&one_to_eight, "TM(25%:75%)", Some(4.5)),
            (&one_to_ten, "tc90", Some(9.0)),
            (&one_to_ten, "ts90", Some(45.0)),
            // TS(80%:) leaves out the lowest 80%.
            (&one_to_ten, "TS(80%:)", Some(19.0)),
            // Trimmed count can be fractional.
            (&one_to_five, "tc90", Some(4.5)),
            (&one_to_five, "ts90", Some(12.5)),
            // wm98 treats the highest 2% as the 98th percentile.
            (&one_to_hundred, "wm98", Some(50.47)),
            (&one_to_ten, "wm90", Some(5.4)),
            (&one_to_ten, "WM(10%:90%)", Some(5.5)),
            (&one_to_ten, "WM(:100%)", Some(5.5)),
            (&one_to_ten, "TM(0%:100%)", Some(5.5)),
        ];
        for (aggregate, text, expected) in cases {
            let actual = aggregate.extended(&ext(text));
            assert!(
                close(actual, expected),
                "{text}: {actual:?} != {expected:?}"
            );
        }
        // "tm99 ... is the same as TM(:99%)".
        for aggregate in [&one_to_ten, &one_to_hundred, &one_to_five] {
            assert_eq!(
                aggregate.extended(&ext("tm99")),
                aggregate.extended(&ext("TM(:99%)"))
            );
        }
    }

    #[test]
    fn trimmed_family_on_absolute_values() {
        let around_150_1000 = singles(&[100.0, 150.0, 151.0, 500.0, 1000.0, 1001.0]);
        let small = singles(&[0.001, 0.005, 0.01, 0.03, 0.031]);
        let halves = singles(&[0.25, 0.5, 0.75]);
        let around_80_500 = singles(&[80.0, 81.0, 500.0, 501.0]);
        let cases: [(&Aggregate, &str, Option<f64>); 13] = [
            // TM(150:1000) drops values <= 150 and > 1000.
            (&around_150_1000, "TM(150:1000)", Some(1651.0 / 3.0)),
            (&around_150_1000, "TC(150:1000)", Some(3.0)),
            (&around_150_1000, "TS(150:1000)", Some(1651.0)),
            // WM(150:1000) clamps to the boundaries.
            (
                &around_150_1000,
                "WM(150:1000)",
                Some((150.0 * 2.0 + 151.0 + 500.0 + 1000.0 * 2.0) / 6.0),
            ),
            // TC(0.005:0.030): 0.005 exclusive, 0.030 inclusive.
            (&small, "TC(0.005:0.030)", Some(2.0)),
            // TC(:0.5) counts values equal to 0.5 or lower.
            (&halves, "TC(:0.5)", Some(2.0)),
            (&halves, "TC(0.5:)", Some(1.0)),
            // TC(80:500): 80 exclusive, 500 inclusive.
            (&around_80_500, "TC(80:500)", Some(2.0)),
            (&around_80_500, "TM(100:200)", None),
            (&around_80_500, "TC(100:200)", Some(0.0)),
            (&around_80_500, "TS(100:200)", Some(0.0)),
            (&around_80_500, "WM(100:200)", Some(150.0)),
            (&around_80_500, "TM(:80)", Some(80.0)),
        ];
        for (aggregate, text, expected) in cases {
            let actual = aggregate.extended(&ext(text));
            assert!(
                close(actual, expected),
                "{text}: {actual:?} != {expected:?}"
            );
        }
    }

    #[test]
    fn percentile_rank() {
        let aggregate = singles(&[100.0, 300.0, 301.0, 2000.0, 2001.0]);
        let cases = [
            // PR(:300) counts values of 300 or less.
            ("PR(:300)", 40.0),
            // Exclusive on the lower bound, inclusive on the upper.
            ("PR(100:2000)", 60.0),
            ("PR(300:)", 60.0),
            ("PR(2001:)", 0.0),
            ("PR(:99)", 0.0),
        ];
        for (text, value) in cases {
            assert_eq!(aggregate.extended(&ext(text)), Some(value), "{text}");
        }
        // The documented histogram bins cover all data exactly once.
        let spread = singles(&[0.5, 1.0, 3.0, 5.0, 7.0, 10.0, 11.0, 40.0]);
        let bins: f64 = ["PR(:1)", "PR(1:5)", "PR(5:10)", "PR(10:)"]
            .iter()
            .filter_map(|text| spread.extended(&ext(text)))
            .sum();
        assert_eq!(bins, 100.0);
        assert_eq!(spread.extended(&ext("PR(:1)")), Some(25.0));
    }

    #[test]
    fn merge_combines_buckets() {
        let mut left = singles(&[1.0, 2.0]);
        let right = singles(&[3.0, 4.0]);
        left.merge(&right);
        let whole = singles(&[1.0, 2.0, 3.0, 4.0]);
        for statistic in [
            Statistic::SampleCount,
            Statistic::Sum,
            Statistic::Minimum,
            Statistic::Maximum,
        ] {
            assert_eq!(left.statistic(statistic), whole.statistic(statistic));
        }
        assert_eq!(left.extended(&ext("p75")), Some(3.0));
        left.merge(&Aggregate::new());
        assert_eq!(left.sample_count(), 4.0);
    }

    #[test]
    fn merge_without_values_hides_extended_neg() {
        let mut left = singles(&[1.0]);
        let mut right = Aggregate::new_with_values(false);
        right.add(&Sample::Single(2.0));
        left.merge(&right);
        assert_eq!(left.statistic(Statistic::Sum), Some(3.0));
        assert_eq!(left.extended(&ext("p50")), None);
        let mut negative = singles(&[5.0]);
        negative.merge(&singles(&[-5.0]));
        assert_eq!(negative.extended(&ext("p50")), None);
    }

    #[test]
    fn cached_distribution_is_refreshed_after_add() {
        let mut aggregate = singles(&[5.0]);
        assert_eq!(aggregate.extended(&ext("p100")), Some(5.0));
        aggregate.add(&Sample::Single(9.0));
        assert_eq!(aggregate.extended(&ext("p100")), Some(9.0));
    }

    #[test]
    fn extended_statistics_round_trip() {
        let texts = [
            "p99",
            "p99.9",
            "p0.1",
            "p0",
            "p0.0",
            "p100",
            "p100.00",
            "p95.45",
            "tm99",
            "tm99.5",
            "TM(10%:90%)",
            "TM(:95%)",
            "TM(2%:98%)",
            "TM(10%:)",
            "TM(150:1000)",
            "TM(100:200)",
            "TM(5%:95%)",
            "wm98",
            "WM(10%:90%)",
            "tc90",
            "TC(0.005:0.030)",
            "TC(80:500)",
            "TC(:0.5)",
            "ts90",
            "TS(80%:)",
            "PR(:300)",
            "PR(100:2000)",
            "PR(10:)",
            "PR(1:5)",
            "IQM",
            "TM(0.0000000001%:99.9999999999%)",
            "TC(:999999999999999999.5)",
        ];
        for text in texts {
            assert_eq!(ext(text).to_string(), text);
        }
        assert_eq!(
            ext("tm99"),
            ExtendedStatistic::TrimmedMean(Bounds::UpToPercentile(Decimal {
                units: 99,
                scale: 0
            }))
        );
        assert_eq!(
            ext("TS(80%:)"),
            ExtendedStatistic::TrimmedSum(Bounds::Percent {
                lower: Some(Decimal {
                    units: 80,
                    scale: 0
                }),
                upper: None
            })
        );
        assert_eq!(ext("p099").to_string(), "p99");
        assert_eq!(
            ext("p99.9"),
            ExtendedStatistic::Percentile(Decimal {
                units: 999,
                scale: 1
            })
        );
    }

    #[test]
    fn extended_statistics_invalid() {
        use StatisticError as E;
        let long_number = format!("p{}", "9".repeat(1000));
        let deep = format!("TM({}", "(".repeat(10_000));
        let cases: Vec<(&str, StatisticError)> = vec![
            ("", E::Unrecognised),
            ("p", E::InvalidPercentile),
            ("p101", E::InvalidPercentile),
            ("p100.01", E::InvalidPercentile),
            ("p99.999", E::InvalidPercentile),
            ("p-1", E::InvalidPercentile),
            ("p+5", E::InvalidPercentile),
            ("p 99", E::InvalidPercentile),
            ("p99.", E::InvalidPercentile),
            ("p.5", E::InvalidPercentile),
            ("p1e2", E::InvalidPercentile),
            ("pNaN", E::InvalidPercentile),
            ("p99%", E::InvalidPercentile),
            ("p٩٩", E::InvalidPercentile),
            (&long_number, E::InvalidPercentile),
            (" p99", E::Unrecognised),
            ("P99", E::WrongCase),
            ("TM99", E::WrongCase),
            ("tm(10%:90%)", E::WrongCase),
            ("tm(:95%)", E::WrongCase),
            ("pr(:300)", E::WrongCase),
            ("PR300", E::Unrecognised),
            ("iqm", E::Unrecognised),
            ("Average", E::Unrecognised),
            ("tm0", E::EmptyRange),
            ("tm100.5", E::PercentOutOfRange),
            ("tm", E::InvalidNumber),
            ("tm99.12345678901", E::InvalidNumber),
            ("TM(90%:10%)", E::EmptyRange),
            ("TM(50%:50%)", E::EmptyRange),
            ("TM(1000:150)", E::EmptyRange),
            ("TM(100%:)", E::EmptyRange),
            ("TM(:0%)", E::EmptyRange),
            ("TM(101%:)", E::PercentOutOfRange),
            ("TM(10%:500)", E::MixedBoundaries),
            ("TM(:)", E::NoBoundary),
            ("TM()", E::Unrecognised),
            ("TM(10%:90%", E::Unrecognised),
            ("TM(10%:90%)x", E::Unrecognised),
            ("TM(1:2:3)", E::InvalidNumber),
            ("TM( 1:2)", E::InvalidNumber),
            ("TM(-1:2)", E::InvalidNumber),
            ("TC(:1234567890123456789)", E::InvalidNumber),
            ("PR(:30%)", E::PercentileRankPercentage),
            ("PR(:)", E::NoBoundary),
            ("PR(5:1)", E::EmptyRange),
            (&deep, E::Unrecognised),
        ];
        for (text, error) in cases {
            assert_eq!(text.parse::<ExtendedStatistic>(), Err(error), "{text}");
        }
        assert!(StatisticError::InvalidPercentile
            .to_string()
            .contains("between p0.0 and p100"));
    }
}
