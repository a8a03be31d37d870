//! Tree walker: values, operators, and the dispatch of calls to [`super::functions`].
//!
//! Intermediate values borrow the caller's series where they pass through unchanged
//! (`SUM(METRICS())` reads every metric without copying it) and own only what they compute.
//! Operators follow the user guide: two series combine over the union of their timestamps
//! with a missing value counting as 0, and any point whose result is not finite is dropped.

use std::borrow::Cow;

use super::functions;
use super::parser::{BinaryOp, Node, NodeKind};
use super::{EvalContext, MathError, MathValue, Series};

/// An intermediate value: scalar, series or array, borrowing from the context when it can.
#[derive(Debug, Clone)]
pub(super) enum Val<'a> {
    Scalar(f64),
    Series(Cow<'a, Series>),
    Array(Vec<Cow<'a, Series>>),
}

impl Val<'_> {
    pub(super) fn type_name(&self) -> &'static str {
        match self {
            Val::Scalar(_) => "a scalar",
            Val::Series(_) => "a time series",
            Val::Array(_) => "an array of time series",
        }
    }

    fn into_math_value(self) -> MathValue {
        match self {
            Val::Scalar(value) => MathValue::Scalar(value),
            Val::Series(series) => MathValue::Series(series.into_owned()),
            Val::Array(items) => MathValue::Array(items.into_iter().map(Cow::into_owned).collect()),
        }
    }
}

/// Evaluates the tree of a whole expression.
pub(super) fn evaluate(root: &Node, ctx: &EvalContext<'_>) -> Result<MathValue, MathError> {
    eval(root, ctx).map(Val::into_math_value)
}

/// Evaluates one node. Recursion depth is bounded by the parser's nesting limit.
pub(super) fn eval<'a>(node: &Node, ctx: &EvalContext<'a>) -> Result<Val<'a>, MathError> {
    match &node.kind {
        NodeKind::Number(value) => Ok(Val::Scalar(*value)),
        NodeKind::Id(id) => lookup(id, node.position, ctx),
        // Validation keeps strings and keywords out of value positions; this arm only guards
        // against a tree built some other way.
        NodeKind::Str(_) | NodeKind::Keyword(_) => Err(MathError::ArgumentType {
            position: node.position,
            detail: "a string or keyword is not a value".to_string(),
        }),
        NodeKind::Array(items) => {
            let mut array = Vec::with_capacity(items.len());
            for item in items {
                match eval(item, ctx)? {
                    Val::Series(series) => array.push(series),
                    Val::Array(nested) => array.extend(nested),
                    Val::Scalar(_) => {
                        return Err(MathError::ArgumentType {
                            position: item.position,
                            detail: "an array can hold only time series, not a scalar".to_string(),
                        })
                    }
                }
            }
            Ok(Val::Array(array))
        }
        NodeKind::Negate(operand) => Ok(negate(eval(operand, ctx)?)),
        NodeKind::Chain { first, rest } => {
            let mut accumulated = eval(first, ctx)?;
            for (op, position, operand) in rest {
                let right = eval(operand, ctx)?;
                accumulated = binary(*op, accumulated, right, *position)?;
            }
            Ok(accumulated)
        }
        NodeKind::Call { function, args } => functions::call(*function, args, node.position, ctx),
    }
}

fn lookup<'a>(id: &str, position: usize, ctx: &EvalContext<'a>) -> Result<Val<'a>, MathError> {
    match ctx.series.get(id) {
        Some(MathValue::Scalar(value)) => Ok(Val::Scalar(*value)),
        Some(MathValue::Series(series)) => Ok(Val::Series(Cow::Borrowed(series))),
        Some(MathValue::Array(items)) => Ok(Val::Array(items.iter().map(Cow::Borrowed).collect())),
        None => Err(MathError::UnknownId {
            position,
            id: id.to_string(),
        }),
    }
}

fn negate(value: Val<'_>) -> Val<'_> {
    match value {
        Val::Scalar(x) => Val::Scalar(-x),
        Val::Series(series) => Val::Series(Cow::Owned(map_points(&series, |x| -x))),
        Val::Array(items) => Val::Array(
            items
                .iter()
                .map(|series| Cow::Owned(map_points(series, |x| -x)))
                .collect(),
        ),
    }
}

fn truth(condition: bool) -> f64 {
    if condition {
        1.0
    } else {
        0.0
    }
}

fn operator(op: BinaryOp) -> fn(f64, f64) -> f64 {
    match op {
        BinaryOp::Add => |a, b| a + b,
        BinaryOp::Subtract => |a, b| a - b,
        BinaryOp::Multiply => |a, b| a * b,
        // x/0 is infinite or NaN, so the point is dropped like AWS drops it.
        BinaryOp::Divide => |a, b| a / b,
        BinaryOp::Power => f64::powf,
        BinaryOp::Less => |a, b| truth(a < b),
        BinaryOp::LessEq => |a, b| truth(a <= b),
        BinaryOp::Greater => |a, b| truth(a > b),
        BinaryOp::GreaterEq => |a, b| truth(a >= b),
        BinaryOp::Equal => |a, b| truth(a == b),
        BinaryOp::NotEqual => |a, b| truth(a != b),
        BinaryOp::And => |a, b| truth(a != 0.0 && b != 0.0),
        BinaryOp::Or => |a, b| truth(a != 0.0 || b != 0.0),
    }
}

/// Applies a binary operator to any documented pairing: S S, TS S, S TS, TS TS, TS[] S,
/// S TS[], TS[] TS, TS TS[].
fn binary<'a>(
    op: BinaryOp,
    left: Val<'a>,
    right: Val<'a>,
    position: usize,
) -> Result<Val<'a>, MathError> {
    let apply = operator(op);
    let owned = |series: Series| Cow::Owned(series);
    Ok(match (left, right) {
        (Val::Scalar(a), Val::Scalar(b)) => Val::Scalar(apply(a, b)),
        (Val::Series(x), Val::Scalar(b)) => Val::Series(owned(map_points(&x, |a| apply(a, b)))),
        (Val::Scalar(a), Val::Series(y)) => Val::Series(owned(map_points(&y, |b| apply(a, b)))),
        (Val::Series(x), Val::Series(y)) => {
            Val::Series(owned(combine_union(&x, &y, apply, &x.label)))
        }
        (Val::Array(xs), Val::Scalar(b)) => Val::Array(
            xs.iter()
                .map(|x| owned(map_points(x, |a| apply(a, b))))
                .collect(),
        ),
        (Val::Scalar(a), Val::Array(ys)) => Val::Array(
            ys.iter()
                .map(|y| owned(map_points(y, |b| apply(a, b))))
                .collect(),
        ),
        (Val::Array(xs), Val::Series(y)) => Val::Array(
            xs.iter()
                .map(|x| owned(combine_union(x, &y, apply, &x.label)))
                .collect(),
        ),
        (Val::Series(x), Val::Array(ys)) => Val::Array(
            ys.iter()
                .map(|y| owned(combine_union(&x, y, apply, &y.label)))
                .collect(),
        ),
        (Val::Array(_), Val::Array(_)) => {
            return Err(MathError::ArgumentType {
                position,
                detail: format!(
                    "operator {} cannot combine two arrays of time series",
                    op.symbol()
                ),
            })
        }
    })
}

/// Applies `f` to every value, dropping points whose result is not finite.
pub(super) fn map_points(series: &Series, mut f: impl FnMut(f64) -> f64) -> Series {
    let mut out = Series {
        label: series.label.clone(),
        timestamps: Vec::with_capacity(series.timestamps.len()),
        values: Vec::with_capacity(series.values.len()),
    };
    for (timestamp, value) in series.points() {
        push_finite(&mut out, timestamp, f(value));
    }
    out
}

/// Appends a point unless its value is NaN or infinite.
pub(super) fn push_finite(series: &mut Series, timestamp: i64, value: f64) {
    if value.is_finite() {
        series.timestamps.push(timestamp);
        series.values.push(value);
    }
}

/// Combines two series over the union of their timestamps, a missing value counting as 0.
fn combine_union(x: &Series, y: &Series, f: impl Fn(f64, f64) -> f64, label: &str) -> Series {
    let mut out = Series::empty(label);
    let mut left = x.points().peekable();
    let mut right = y.points().peekable();
    loop {
        let (timestamp, a, b) = match (left.peek().copied(), right.peek().copied()) {
            (None, None) => break,
            (Some((ta, a)), Some((tb, b))) if ta == tb => {
                left.next();
                right.next();
                (ta, a, b)
            }
            (Some((ta, a)), Some((tb, _))) if ta < tb => {
                left.next();
                (ta, a, 0.0)
            }
            (Some((ta, a)), None) => {
                left.next();
                (ta, a, 0.0)
            }
            (_, Some((tb, b))) => {
                right.next();
                (tb, 0.0, b)
            }
        };
        push_finite(&mut out, timestamp, f(a, b));
    }
    out
}
