//! Streaming state of a `stats` command: groups and their aggregates.
//!
//! Memory grows with the number of groups, not the number of events: each
//! aggregate keeps a constant-size summary, except `count_distinct` and `pct`,
//! which keep exact data up to a cap and then switch to bounded approximations
//! (a HyperLogLog sketch and a uniform reservoir sample). AWS likewise documents
//! `count_distinct` as approximate for high-cardinality fields.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, DefaultHasher, Hash, Hasher};

use super::ast::{AggregateKind, AggregateSpec, Slot, StatsCommand};
use super::eval::{evaluate, EvalContext};
use super::value::{compare_for_sort, Value};

/// Distinct values counted exactly before switching to the sketch.
const EXACT_DISTINCT_LIMIT: usize = 100_000;
/// HyperLogLog precision: 2^14 one-byte registers, about 0.8% standard error.
const SKETCH_PRECISION: u32 = 14;
/// Values kept for `pct` before switching to reservoir sampling.
const PERCENTILE_SAMPLE_LIMIT: usize = 100_000;

pub(super) type Row = Vec<Option<Value<'static>>>;

pub(super) struct StatsState {
    hasher: RandomState,
    /// Group indexes by key hash; collisions are resolved by comparing keys.
    index: HashMap<u64, Vec<usize>>,
    groups: Vec<Group>,
}

struct Group {
    key: Vec<Option<Value<'static>>>,
    accumulators: Vec<Accumulator>,
}

impl StatsState {
    pub(super) fn new() -> Self {
        StatsState {
            hasher: RandomState::new(),
            index: HashMap::new(),
            groups: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, stats: &StatsCommand, context: &dyn EvalContext) {
        let key: Vec<Option<Value<'_>>> = stats
            .group_by
            .iter()
            .map(|(_, _, expr)| evaluate(expr, context))
            .collect();
        let hash = self.hash_key(&key);
        let existing = self.index.get(&hash).and_then(|candidates| {
            candidates.iter().copied().find(|candidate| {
                self.groups
                    .get(*candidate)
                    .is_some_and(|group| keys_equal(&group.key, &key))
            })
        });
        let group_index = match existing {
            Some(found) => found,
            None => {
                let created = self.groups.len();
                self.groups.push(Group {
                    key: key
                        .into_iter()
                        .map(|part| part.map(Value::into_owned))
                        .collect(),
                    accumulators: stats.aggregates.iter().map(Accumulator::new).collect(),
                });
                self.index.entry(hash).or_default().push(created);
                created
            }
        };
        if let Some(group) = self.groups.get_mut(group_index) {
            for (spec, accumulator) in stats.aggregates.iter().zip(&mut group.accumulators) {
                accumulator.add(spec, context);
            }
        }
    }

    fn hash_key(&self, key: &[Option<Value<'_>>]) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        for part in key {
            match part {
                None => 0u8.hash(&mut hasher),
                Some(Value::Str(text)) => {
                    1u8.hash(&mut hasher);
                    text.as_ref().hash(&mut hasher);
                }
                Some(Value::Num(n)) => {
                    2u8.hash(&mut hasher);
                    // -0.0 and 0.0 are one group.
                    (if *n == 0.0 { 0.0f64 } else { *n })
                        .to_bits()
                        .hash(&mut hasher);
                }
                Some(Value::Bool(b)) => {
                    3u8.hash(&mut hasher);
                    b.hash(&mut hasher);
                }
                Some(Value::Time(t)) => {
                    4u8.hash(&mut hasher);
                    t.hash(&mut hasher);
                }
            }
        }
        hasher.finish()
    }

    /// One row per group in the order groups were first seen. Without `by`, a
    /// query that matched nothing still reports one row, as an SQL aggregate does.
    pub(super) fn finish(mut self, stats: &StatsCommand, slot_count: usize) -> Vec<Row> {
        if self.groups.is_empty() && stats.group_by.is_empty() {
            self.groups.push(Group {
                key: Vec::new(),
                accumulators: stats.aggregates.iter().map(Accumulator::new).collect(),
            });
        }
        self.groups
            .into_iter()
            .map(|group| {
                let mut row: Row = vec![None; slot_count];
                for ((_, slot, _), value) in stats.group_by.iter().zip(group.key) {
                    if let Some(cell) = row.get_mut(*slot) {
                        *cell = value;
                    }
                }
                let results: Vec<Option<Value<'static>>> = group
                    .accumulators
                    .into_iter()
                    .zip(&stats.aggregates)
                    .map(|(accumulator, spec)| accumulator.finish(spec.kind))
                    .collect();
                for (_, slot, expr) in &stats.outputs {
                    let value = evaluate(
                        expr,
                        &FinishContext {
                            row: &row,
                            results: &results,
                        },
                    )
                    .map(Value::into_owned);
                    if let Some(cell) = row.get_mut(*slot) {
                        *cell = value;
                    }
                }
                row
            })
            .collect()
    }
}

fn keys_equal(stored: &[Option<Value<'static>>], probe: &[Option<Value<'_>>]) -> bool {
    stored.len() == probe.len()
        && stored.iter().zip(probe).all(|(a, b)| match (a, b) {
            (None, None) => true,
            (Some(Value::Str(x)), Some(Value::Str(y))) => x == y,
            (Some(Value::Num(x)), Some(Value::Num(y))) => x == y,
            (Some(Value::Bool(x)), Some(Value::Bool(y))) => x == y,
            (Some(Value::Time(x)), Some(Value::Time(y))) => x == y,
            _ => false,
        })
}

/// Lets the output expressions of `stats` read aggregate results and the
/// columns computed before them, such as `provisonedMemoryMB - maxMemoryUsedMB`.
struct FinishContext<'a> {
    row: &'a [Option<Value<'static>>],
    results: &'a [Option<Value<'static>>],
}

impl EvalContext for FinishContext<'_> {
    fn field(&self, slot: Slot) -> Option<Value<'_>> {
        self.row.get(slot)?.as_ref().map(Value::reborrow)
    }

    fn record_time_ms(&self) -> Option<i64> {
        None
    }

    fn aggregate(&self, index: usize) -> Option<Value<'_>> {
        self.results.get(index)?.as_ref().map(Value::reborrow)
    }
}

enum Accumulator {
    Count(u64),
    Distinct(DistinctCounter),
    Sum {
        total: f64,
        seen: bool,
    },
    Mean {
        total: f64,
        count: u64,
    },
    /// Welford's running variance, stable over millions of values.
    Deviation {
        count: u64,
        mean: f64,
        squares: f64,
    },
    /// `min`/`max`: numbers win over text; text is kept only if no number appears.
    Extreme {
        number: Option<(f64, Value<'static>)>,
        text: Option<Value<'static>>,
    },
    SortExtreme(Option<Value<'static>>),
    Timed(Option<(i64, Value<'static>)>),
    Samples(Reservoir),
}

impl Accumulator {
    fn new(spec: &AggregateSpec) -> Self {
        match spec.kind {
            AggregateKind::Count => Accumulator::Count(0),
            AggregateKind::CountDistinct => {
                Accumulator::Distinct(DistinctCounter::Exact(HashSet::new()))
            }
            AggregateKind::Sum => Accumulator::Sum {
                total: 0.0,
                seen: false,
            },
            AggregateKind::Avg => Accumulator::Mean {
                total: 0.0,
                count: 0,
            },
            AggregateKind::Stddev => Accumulator::Deviation {
                count: 0,
                mean: 0.0,
                squares: 0.0,
            },
            AggregateKind::Min | AggregateKind::Max => Accumulator::Extreme {
                number: None,
                text: None,
            },
            AggregateKind::SortsFirst | AggregateKind::SortsLast => Accumulator::SortExtreme(None),
            AggregateKind::Earliest | AggregateKind::Latest => Accumulator::Timed(None),
            AggregateKind::Percentile(_) => Accumulator::Samples(Reservoir::default()),
        }
    }

    fn add(&mut self, spec: &AggregateSpec, context: &dyn EvalContext) {
        let value = match &spec.argument {
            Some(argument) => match evaluate(argument, context) {
                Some(value) => value,
                None => return,
            },
            None => {
                if let Accumulator::Count(count) = self {
                    *count += 1;
                }
                return;
            }
        };
        let wants_max = matches!(
            spec.kind,
            AggregateKind::Max | AggregateKind::SortsLast | AggregateKind::Latest
        );
        match self {
            Accumulator::Count(count) => *count += 1,
            Accumulator::Distinct(counter) => {
                let mut hasher = DefaultHasher::new();
                value.to_text().as_ref().hash(&mut hasher);
                counter.insert(hasher.finish());
            }
            Accumulator::Sum { total, seen } => {
                if let Some(n) = value.as_number() {
                    *total += n;
                    *seen = true;
                }
            }
            Accumulator::Mean { total, count } => {
                if let Some(n) = value.as_number() {
                    *total += n;
                    *count += 1;
                }
            }
            Accumulator::Deviation {
                count,
                mean,
                squares,
            } => {
                if let Some(n) = value.as_number() {
                    *count += 1;
                    #[allow(clippy::cast_precision_loss)]
                    let weight = *count as f64;
                    let delta = n - *mean;
                    *mean += delta / weight;
                    *squares += delta * (n - *mean);
                }
            }
            Accumulator::Extreme { number, text } => match value.as_number() {
                Some(n) => {
                    let replace = number.as_ref().is_none_or(|(current, _)| {
                        if wants_max {
                            n > *current
                        } else {
                            n < *current
                        }
                    });
                    if replace {
                        *number = Some((n, value.into_owned()));
                    }
                }
                None => {
                    if number.is_none() && better(text.as_ref(), &value, wants_max) {
                        *text = Some(value.into_owned());
                    }
                }
            },
            Accumulator::SortExtreme(best) => {
                if better(best.as_ref(), &value, wants_max) {
                    *best = Some(value.into_owned());
                }
            }
            Accumulator::Timed(best) => {
                let time = context.record_time_ms().unwrap_or(0);
                let replace = best.as_ref().is_none_or(|(current, _)| {
                    if wants_max {
                        time > *current
                    } else {
                        time < *current
                    }
                });
                if replace {
                    *best = Some((time, value.into_owned()));
                }
            }
            Accumulator::Samples(reservoir) => {
                if let Some(n) = value.as_number() {
                    reservoir.add(n);
                }
            }
        }
    }

    fn finish(self, kind: AggregateKind) -> Option<Value<'static>> {
        match self {
            #[allow(clippy::cast_precision_loss)]
            Accumulator::Count(count) => Some(Value::Num(count as f64)),
            #[allow(clippy::cast_precision_loss)]
            Accumulator::Distinct(counter) => Some(Value::Num(counter.estimate() as f64)),
            Accumulator::Sum { total, seen } => {
                (seen && total.is_finite()).then_some(Value::Num(total))
            }
            Accumulator::Mean { total, count } => {
                #[allow(clippy::cast_precision_loss)]
                let mean = total / count as f64;
                (count > 0 && mean.is_finite()).then_some(Value::Num(mean))
            }
            Accumulator::Deviation { count, squares, .. } => match count {
                0 => None,
                1 => Some(Value::Num(0.0)),
                _ => {
                    // Sample standard deviation (n - 1 in the denominator).
                    #[allow(clippy::cast_precision_loss)]
                    let variance = squares / (count - 1) as f64;
                    let deviation = variance.max(0.0).sqrt();
                    deviation.is_finite().then_some(Value::Num(deviation))
                }
            },
            Accumulator::Extreme { number, text } => number.map(|(_, value)| value).or(text),
            Accumulator::SortExtreme(best) => best,
            Accumulator::Timed(best) => best.map(|(_, value)| value),
            Accumulator::Samples(reservoir) => match kind {
                AggregateKind::Percentile(percent) => reservoir.percentile(percent).map(Value::Num),
                _ => None,
            },
        }
    }
}

/// Whether `candidate` should replace `current` under the sort order.
fn better(current: Option<&Value<'static>>, candidate: &Value<'_>, wants_max: bool) -> bool {
    current.is_none_or(|current| {
        let order = compare_for_sort(candidate, current);
        if wants_max {
            order.is_gt()
        } else {
            order.is_lt()
        }
    })
}

enum DistinctCounter {
    Exact(HashSet<u64>),
    Sketch(Vec<u8>),
}

impl DistinctCounter {
    fn insert(&mut self, hash: u64) {
        match self {
            DistinctCounter::Exact(seen) => {
                seen.insert(hash);
                if seen.len() > EXACT_DISTINCT_LIMIT {
                    let mut registers = vec![0u8; 1 << SKETCH_PRECISION];
                    for hash in seen.iter() {
                        sketch_add(&mut registers, *hash);
                    }
                    *self = DistinctCounter::Sketch(registers);
                }
            }
            DistinctCounter::Sketch(registers) => sketch_add(registers, hash),
        }
    }

    fn estimate(&self) -> u64 {
        match self {
            DistinctCounter::Exact(seen) => seen.len() as u64,
            DistinctCounter::Sketch(registers) => sketch_estimate(registers),
        }
    }
}

fn sketch_add(registers: &mut [u8], hash: u64) {
    #[allow(clippy::cast_possible_truncation)]
    let index = (hash >> (64 - SKETCH_PRECISION)) as usize;
    let remaining = hash << SKETCH_PRECISION;
    // Position of the first set bit among the remaining 50 bits (51 if none).
    let rank = remaining.leading_zeros().min(64 - SKETCH_PRECISION) + 1;
    if let Some(register) = registers.get_mut(index) {
        #[allow(clippy::cast_possible_truncation)]
        let rank = rank as u8;
        *register = (*register).max(rank);
    }
}

#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
fn sketch_estimate(registers: &[u8]) -> u64 {
    let m = registers.len() as f64;
    let alpha = 0.7213 / (1.0 + 1.079 / m);
    let harmonic: f64 = registers.iter().map(|r| 2f64.powi(-i32::from(*r))).sum();
    let raw = alpha * m * m / harmonic;
    let empty = registers.iter().filter(|r| **r == 0).count();
    let estimate = if raw <= 2.5 * m && empty > 0 {
        m * (m / empty as f64).ln()
    } else {
        raw
    };
    estimate.round() as u64
}

/// Keeps every value up to a cap, then a uniform random sample of them.
#[derive(Default)]
struct Reservoir {
    values: Vec<f64>,
    seen: u64,
    random_state: u64,
}

impl Reservoir {
    fn add(&mut self, n: f64) {
        self.seen += 1;
        if self.values.len() < PERCENTILE_SAMPLE_LIMIT {
            self.values.push(n);
            return;
        }
        let slot = self.next_random() % self.seen;
        if let Some(kept) = usize::try_from(slot)
            .ok()
            .and_then(|i| self.values.get_mut(i))
        {
            *kept = n;
        }
    }

    /// xorshift64*: deterministic, so repeated queries give repeatable estimates.
    fn next_random(&mut self) -> u64 {
        if self.random_state == 0 {
            self.random_state = 0x9E37_79B9_7F4A_7C15;
        }
        let mut x = self.random_state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.random_state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Nearest-rank percentile: the smallest value with at least `percent`% of
    /// the values at or below it.
    fn percentile(mut self, percent: f64) -> Option<f64> {
        if self.values.is_empty() {
            return None;
        }
        self.values.sort_by(f64::total_cmp);
        #[allow(clippy::cast_precision_loss)]
        let count = self.values.len() as f64;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let rank = (percent / 100.0 * count).ceil().max(1.0) as usize;
        self.values.get(rank.min(self.values.len()) - 1).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_uses_nearest_rank() {
        let cases: &[(&[f64], f64, Option<f64>)] = &[
            (&[1.0, 2.0, 3.0, 4.0], 50.0, Some(2.0)),
            (&[5.0, 1.0, 4.0, 2.0, 3.0], 50.0, Some(3.0)),
            (
                &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
                95.0,
                Some(10.0),
            ),
            (
                &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
                90.0,
                Some(9.0),
            ),
            (&[7.0, 3.0], 0.0, Some(3.0)),
            (&[7.0, 3.0], 100.0, Some(7.0)),
            // _NEG: no values, no percentile.
            (&[], 50.0, None),
        ];
        for (values, percent, expected) in cases {
            let mut reservoir = Reservoir::default();
            for v in *values {
                reservoir.add(*v);
            }
            assert_eq!(
                reservoir.percentile(*percent),
                *expected,
                "{values:?} p{percent}"
            );
        }
    }

    #[test]
    fn distinct_counter_is_exact_then_approximate() {
        let mut counter = DistinctCounter::Exact(HashSet::new());
        for i in 0..1000u64 {
            let mut hasher = DefaultHasher::new();
            (i % 250).hash(&mut hasher);
            counter.insert(hasher.finish());
        }
        assert_eq!(counter.estimate(), 250);

        let total = 300_000u64;
        for i in 0..total {
            let mut hasher = DefaultHasher::new();
            i.hash(&mut hasher);
            counter.insert(hasher.finish());
        }
        assert!(matches!(counter, DistinctCounter::Sketch(_)));
        let estimate = counter.estimate();
        // 300,000 new values (the first 250 overlap): within 3% of the truth.
        assert!(
            estimate.abs_diff(total) < total * 3 / 100,
            "estimate {estimate}"
        );
    }

    #[test]
    fn reservoir_memory_is_capped() {
        let mut reservoir = Reservoir::default();
        for i in 0..(PERCENTILE_SAMPLE_LIMIT as u64 * 3) {
            #[allow(clippy::cast_precision_loss)]
            reservoir.add(i as f64);
        }
        assert_eq!(reservoir.values.len(), PERCENTILE_SAMPLE_LIMIT);
        let median = reservoir.percentile(50.0).unwrap_or(0.0);
        let truth = 150_000.0;
        assert!((median - truth).abs() < truth * 0.02, "median {median}");
    }
}
