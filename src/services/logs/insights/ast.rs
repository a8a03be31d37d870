//! The parsed, ready-to-run form of a query.
//!
//! Field names are resolved to slot numbers while parsing, so evaluating a record
//! indexes an array instead of hashing strings; regular expressions and `parse`
//! globs are compiled once here and shared by every record the query sees.

use regex::Regex;

use super::functions::{Period, ScalarFunction};
use super::value::Value;

/// Index of a named field in a row.
pub(super) type Slot = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ArithmeticOp {
    Add,
    Subtract,
    Multiply,
    Divide,
    Remainder,
    Power,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CompareOp {
    Equal,
    NotEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
}

#[derive(Debug, Clone)]
pub(super) enum LikePattern {
    /// Quoted text: matches when it occurs anywhere in the value.
    Substring(String),
    /// `/regex/`: matches when the expression finds a match anywhere in the value.
    Regex(Regex),
}

#[derive(Debug, Clone)]
pub(super) enum Expr {
    Field(Slot),
    Literal(Value<'static>),
    Negate(Box<Expr>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Arithmetic(ArithmeticOp, Box<Expr>, Box<Expr>),
    Compare(CompareOp, Box<Expr>, Box<Expr>),
    Like {
        subject: Box<Expr>,
        pattern: LikePattern,
        negated: bool,
    },
    In {
        subject: Box<Expr>,
        set: Vec<Value<'static>>,
        negated: bool,
    },
    Call(ScalarFunction, Vec<Expr>),
    /// `bin(period)` (no subject: the record's `@timestamp`), `datefloor` and `dateceil`.
    RoundTime {
        subject: Option<Box<Expr>>,
        period: Period,
        up: bool,
    },
    /// The result of the n-th aggregate of the enclosing `stats` command.
    Aggregate(usize),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum AggregateKind {
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    Stddev,
    Percentile(f64),
    Earliest,
    Latest,
    SortsFirst,
    SortsLast,
}

#[derive(Debug, Clone)]
pub(super) struct AggregateSpec {
    pub kind: AggregateKind,
    /// `None` for `count(*)` and `count()`.
    pub argument: Option<Expr>,
}

/// One entry of `fields` or `display`: the field to show and, when it is not a
/// plain field reference, how to compute it.
#[derive(Debug, Clone)]
pub(super) struct Projection {
    pub name: String,
    pub slot: Slot,
    pub compute: Option<Expr>,
}

#[derive(Debug, Clone)]
pub(super) struct StatsCommand {
    pub aggregates: Vec<AggregateSpec>,
    /// Group-by expressions with the slot (name) each one is reported under.
    pub group_by: Vec<(String, Slot, Expr)>,
    /// Result columns, computed from the aggregates after grouping.
    pub outputs: Vec<(String, Slot, Expr)>,
}

#[derive(Debug, Clone)]
pub(super) struct SortKey {
    pub expr: Expr,
    pub descending: bool,
}

#[derive(Debug, Clone)]
pub(super) enum ParsePattern {
    /// A glob (`*` placeholders) compiled to an equivalent expression; capture
    /// group n fills `targets[n - 1]`.
    Glob { regex: Regex, targets: Vec<Slot> },
    /// A regular expression whose named groups fill the fields of the same names.
    Regex {
        regex: Regex,
        targets: Vec<(String, Slot)>,
    },
}

#[derive(Debug, Clone)]
pub(super) struct ParseCommand {
    pub source: Expr,
    pub pattern: ParsePattern,
}

#[derive(Debug, Clone)]
pub(super) enum Command {
    Fields(Vec<Projection>),
    Display(Vec<Projection>),
    Filter(Expr),
    Parse(ParseCommand),
    Stats(StatsCommand),
    Sort(Vec<SortKey>),
    Limit(usize),
    Dedup(Vec<Slot>),
}

impl Command {
    /// Whether the command must see all rows before it can emit any.
    pub(super) fn is_barrier(&self) -> bool {
        matches!(
            self,
            Command::Stats(_) | Command::Sort(_) | Command::Limit(_) | Command::Dedup(_)
        )
    }
}

/// Calls `visit` for every slot an expression reads; `reads_timestamp` is called
/// when it reads the record time implicitly (as `bin` does).
pub(super) fn visit_slots(expr: &Expr, visit: &mut dyn FnMut(Slot), reads_timestamp: &mut bool) {
    match expr {
        Expr::Field(slot) => visit(*slot),
        Expr::Literal(_) | Expr::Aggregate(_) => {}
        Expr::Negate(inner) | Expr::Not(inner) => visit_slots(inner, visit, reads_timestamp),
        Expr::And(left, right)
        | Expr::Or(left, right)
        | Expr::Arithmetic(_, left, right)
        | Expr::Compare(_, left, right) => {
            visit_slots(left, visit, reads_timestamp);
            visit_slots(right, visit, reads_timestamp);
        }
        Expr::Like { subject, .. } | Expr::In { subject, .. } => {
            visit_slots(subject, visit, reads_timestamp);
        }
        Expr::Call(_, arguments) => {
            for argument in arguments {
                visit_slots(argument, visit, reads_timestamp);
            }
        }
        Expr::RoundTime { subject, .. } => match subject {
            Some(subject) => visit_slots(subject, visit, reads_timestamp),
            None => *reads_timestamp = true,
        },
    }
}
