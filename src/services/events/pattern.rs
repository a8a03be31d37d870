//! Amazon EventBridge event patterns: parse and validate a pattern once, then
//! match it against many events.
//!
//! The semantics follow the EventBridge user guide ("Event patterns", "Content
//! filtering", "Arrays", "Null values and empty strings", "Best practices") and
//! the rule compiler AWS publishes for EventBridge, whose error texts are what
//! `InvalidEventPatternException` carries after "Event pattern is not valid.
//! Reason: ".
//!
//! Why it is shaped this way:
//! - The pattern JSON is read into an order-preserving tree (not
//!   `serde_json::Value`, whose map is sorted) because AWS validates in
//!   document order and reports the first problem it meets.
//! - AWS first compiles a pattern with `$or` support and, if that fails,
//!   recompiles it treating `$or` as an ordinary field name; the second
//!   result (or its error) is final. `parse` does the same, which is how
//!   legacy patterns using a field literally named `$or` keep working.
//! - The compiled form is a tree of object nodes whose fields hold pre-split
//!   names, so matching walks the event by map lookups and never builds paths.
//!   Wildcards are pre-split into literal runs, case-insensitive operands are
//!   pre-folded and CIDR blocks pre-computed, so a match allocates nothing.
//! - AWS flattens events into leaf paths, crushing arrays: a field whose value
//!   is an array matches if any element does, objects are never leaves, and
//!   fields compared together must come from the same array element. The
//!   matcher reproduces that by requiring a whole sub-pattern to hold within
//!   one element of an event array, while `exists: false` is decided against
//!   the whole event (a path is absent only if no leaf sits there anywhere).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

/// Key that introduces an OR between sub-patterns.
const OR_KEYWORD: &str = "$or";

/// Deepest object nesting accepted in a pattern; the JSON reader stops at 128
/// already, this keeps the compiler and matcher recursion comfortably bounded.
const MAX_PATTERN_DEPTH: usize = 100;

/// Deepest array-in-array nesting followed inside an event. Events built from
/// JSON text are bounded by the reader, but callers may hand over a `Value`
/// built in code; deeper elements are ignored rather than risking the stack.
const MAX_EVENT_ARRAY_NESTING: u32 = 64;

/// AWS documents numeric matching for values in [-5.0e9, +5.0e9].
const NUMERIC_LIMIT: f64 = 5.0e9;

/// Numeric comparisons are exact to six digits after the decimal point: AWS
/// scales by this factor and truncates.
const NUMERIC_SCALE: f64 = 1.0e6;

/// Most wildcard pattern prefixes that may be live at once on one field.
/// Rules over this are rejected by AWS as too complex; the two cases we can
/// check (four two-wildcard suffix filters rejected, four one-wildcard ones
/// accepted) bracket it between 8 and 11.
const WILDCARD_COMPLEXITY_LIMIT: usize = 10;

/// Upper bound on the states explored when measuring wildcard complexity, so
/// that validating a hostile pattern stays cheap.
const WILDCARD_COMPLEXITY_BUDGET: usize = 1000;

/// Field names that may not appear inside a `$or` branch.
const RESERVED_IN_OR: &[&str] = &[
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
];

const TOO_COMPLEX: &str = "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character";
const ONLY_ONE_KEY: &str = "Only one key allowed in match expression";
const TOO_MANY_NUMERIC: &str = "Too many elements in numeric expression";

/// Why a pattern or an event could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventPatternError {
    /// The pattern is not valid; the text after "Reason: " is AWS's wording
    /// (without the parser location AWS appends).
    #[error("Event pattern is not valid. Reason: {reason}")]
    InvalidPattern { reason: String },
    /// The event handed to [`EventPattern::matches_str`] is not JSON.
    #[error("Event is not valid JSON. Reason: {reason}")]
    InvalidEvent { reason: String },
}

fn invalid(reason: impl Into<String>) -> EventPatternError {
    EventPatternError::InvalidPattern {
        reason: reason.into(),
    }
}

/// A validated EventBridge event pattern, ready to be matched many times.
#[derive(Debug, Clone)]
pub struct EventPattern {
    root: Node,
}

impl EventPattern {
    /// Parses and validates a pattern, with the same errors AWS reports.
    pub fn parse(pattern_json: &str) -> Result<EventPattern, EventPatternError> {
        let raw: Raw = serde_json::from_str(pattern_json).map_err(|e| invalid(e.to_string()))?;
        let root = match compile_root(&raw, true) {
            Ok(root) => root,
            Err(_) => compile_root(&raw, false)?,
        };
        check_wildcard_complexity(&root)?;
        Ok(EventPattern { root })
    }

    /// Whether the event matches. Allocation-free.
    pub fn matches(&self, event: &Value) -> bool {
        node_matches(&self.root, Some(event), event, 0)
    }

    /// Parses the event JSON and matches it.
    pub fn matches_str(&self, event_json: &str) -> Result<bool, EventPatternError> {
        let event: Value =
            serde_json::from_str(event_json).map_err(|e| EventPatternError::InvalidEvent {
                reason: e.to_string(),
            })?;
        Ok(self.matches(&event))
    }
}

// ---------------------------------------------------------------------------
// Order-preserving JSON tree for the pattern text.
// ---------------------------------------------------------------------------

enum Raw {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Raw>),
    Object(Vec<(String, Raw)>),
}

impl Raw {
    /// The text AWS's streaming parser shows for the token that starts this
    /// value, as used inside some error messages.
    fn token_text(&self) -> String {
        match self {
            Raw::Null => "null".to_owned(),
            Raw::Bool(b) => b.to_string(),
            Raw::Number(n) => n.to_string(),
            Raw::String(s) => s.clone(),
            Raw::Array(_) => "[".to_owned(),
            Raw::Object(_) => "{".to_owned(),
        }
    }
}

fn token_text_or_end(value: Option<&Raw>, end: &str) -> String {
    value.map_or_else(|| end.to_owned(), Raw::token_text)
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Number(Number::from(v)))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::Number(Number::from(v)))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Raw, E> {
        Number::from_f64(v)
            .map(Raw::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::String(v.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::String(v))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Raw, D::Error> {
        Raw::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Raw>()? {
            items.push(item);
        }
        Ok(Raw::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Raw>()? {
            entries.push((key, value));
        }
        Ok(Raw::Object(entries))
    }
}

// ---------------------------------------------------------------------------
// Compiled pattern.
// ---------------------------------------------------------------------------

/// An object level of the pattern: every field must match and, for every
/// `$or` group, at least one branch must match the same event object.
#[derive(Debug, Clone, Default)]
struct Node {
    fields: Vec<Field>,
    alternatives: Vec<Vec<Node>>,
    /// True when the node cannot match a missing value, which lets the
    /// matcher skip the "no element" evaluation for event arrays.
    needs_value: bool,
}

#[derive(Debug, Clone)]
struct Field {
    name: Box<str>,
    /// Matchers for leaf values at this field (the pattern gave an array).
    leaf: Option<Leaf>,
    /// Sub-pattern for this field (the pattern gave an object). A field may
    /// have both when the pattern repeats a key, as AWS keeps both paths.
    child: Option<Node>,
}

#[derive(Debug, Clone)]
struct Leaf {
    /// Alternatives that need a leaf value.
    matchers: Vec<Matcher>,
    /// Set when `{"exists": false}` is one of the alternatives: the absolute
    /// path whose absence, anywhere in the event, satisfies the leaf.
    absence_path: Option<Box<[Box<str>]>>,
}

#[derive(Debug, Clone)]
enum Matcher {
    ExactString(Box<str>),
    /// A string that is an IP address literal: AWS compares it as an address,
    /// so other spellings of the same address match too.
    ExactIp(IpAddr),
    /// Numbers compare by JSON representation, as the user guide states.
    ExactNumber(Number),
    ExactBool(bool),
    ExactNull,
    Prefix(Box<str>),
    PrefixIgnoreCase(Box<str>),
    Suffix(Box<str>),
    SuffixIgnoreCase(Box<str>),
    EqualsIgnoreCase(Box<str>),
    Wildcard(Wildcard),
    AnythingBut(AnythingBut),
    Numeric(NumericRange),
    Cidr(IpRange),
    Exists,
}

/// Each variant lists what is excluded; any other present leaf value matches
/// (including values of another JSON type, e.g. `null`).
#[derive(Debug, Clone)]
enum AnythingBut {
    Strings(Vec<Box<str>>),
    Numbers(Vec<i64>),
    Prefixes(Vec<Box<str>>),
    Suffixes(Vec<Box<str>>),
    IgnoreCase(Vec<Box<str>>),
    Wildcards(Vec<Wildcard>),
}

/// A wildcard split at its `*`s into unescaped literal runs; `literals` has
/// one more entry than there are wildcards.
#[derive(Debug, Clone)]
struct Wildcard {
    literals: Vec<Box<str>>,
}

/// Bounds on AWS's scaled, truncated form of a number.
#[derive(Debug, Clone, Copy)]
struct NumericRange {
    low: i64,
    low_open: bool,
    high: i64,
    high_open: bool,
}

#[derive(Debug, Clone, Copy)]
enum IpRange {
    V4 { low: u32, high: u32 },
    V6 { low: u128, high: u128 },
}

// ---------------------------------------------------------------------------
// Compilation.
// ---------------------------------------------------------------------------

fn compile_root(raw: &Raw, or_aware: bool) -> Result<Node, EventPatternError> {
    let Raw::Object(entries) = raw else {
        return Err(invalid("Filter is not an object"));
    };
    let compiler = Compiler { or_aware };
    let mut path = Vec::new();
    let mut root = compiler.object(entries, &mut path, false)?;
    finalize(&mut root);
    Ok(root)
}

struct Compiler {
    or_aware: bool,
}

impl Compiler {
    fn object(
        &self,
        entries: &[(String, Raw)],
        path: &mut Vec<Box<str>>,
        inside_or: bool,
    ) -> Result<Node, EventPatternError> {
        if path.len() > MAX_PATTERN_DEPTH {
            return Err(invalid(format!(
                "Event pattern nesting is deeper than {MAX_PATTERN_DEPTH} levels"
            )));
        }
        let mut node = Node::default();
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (key, value) in entries {
            if self.or_aware && key == OR_KEYWORD {
                let group = self.or_group(value, path)?;
                node.alternatives.push(group);
                continue;
            }
            if inside_or && RESERVED_IN_OR.contains(&key.as_str()) {
                return Err(invalid(format!(
                    "{key} is Ruler reserved fieldName which cannot be used inside {OR_KEYWORD}."
                )));
            }
            let slot = *index.entry(key.as_str()).or_insert_with(|| {
                node.fields.push(Field {
                    name: key.as_str().into(),
                    leaf: None,
                    child: None,
                });
                node.fields.len() - 1
            });
            path.push(key.as_str().into());
            let compiled = match value {
                Raw::Object(inner) => self.object(inner, path, inside_or).map(Compiled::Child),
                Raw::Array(items) => compile_leaf(items, path).map(Compiled::Leaf),
                _ => Err(invalid(format!("\"{key}\" must be an object or an array"))),
            };
            path.pop();
            let compiled = compiled?;
            let Some(field) = node.fields.get_mut(slot) else {
                continue;
            };
            match compiled {
                // A repeated key replaces the earlier leaf matchers but adds
                // to an earlier sub-pattern, as AWS's path-keyed rule map does.
                Compiled::Leaf(leaf) => field.leaf = Some(leaf),
                Compiled::Child(child) => {
                    field.child = Some(match field.child.take() {
                        Some(existing) => merge_nodes(existing, child),
                        None => child,
                    })
                }
            }
        }
        if entries.is_empty() {
            return Err(invalid("Empty objects are not allowed"));
        }
        Ok(node)
    }

    fn or_group(
        &self,
        value: &Raw,
        path: &mut Vec<Box<str>>,
    ) -> Result<Vec<Node>, EventPatternError> {
        let Raw::Array(items) = value else {
            return Err(invalid(format!(
                "It must be an Array followed with {OR_KEYWORD}."
            )));
        };
        let mut branches = Vec::with_capacity(items.len());
        for item in items {
            let Raw::Object(entries) = item else {
                return Err(invalid(format!(
                    "Only JSON object is allowed in array of {OR_KEYWORD} relationship."
                )));
            };
            branches.push(self.object(entries, path, true)?);
        }
        if branches.len() < 2 {
            return Err(invalid(format!(
                "There must have at least 2 Objects in {OR_KEYWORD} relationship."
            )));
        }
        Ok(branches)
    }
}

enum Compiled {
    Leaf(Leaf),
    Child(Node),
}

fn merge_nodes(mut into: Node, from: Node) -> Node {
    for field in from.fields {
        match into.fields.iter_mut().find(|f| f.name == field.name) {
            Some(existing) => {
                if field.leaf.is_some() {
                    existing.leaf = field.leaf;
                }
                if let Some(child) = field.child {
                    existing.child = Some(match existing.child.take() {
                        Some(old) => merge_nodes(old, child),
                        None => child,
                    });
                }
            }
            None => into.fields.push(field),
        }
    }
    into.alternatives.extend(from.alternatives);
    into
}

fn finalize(node: &mut Node) -> bool {
    let mut needs_value = false;
    for field in &mut node.fields {
        if let Some(child) = &mut field.child {
            needs_value |= finalize(child);
        }
        if let Some(leaf) = &field.leaf {
            needs_value |= leaf.absence_path.is_none();
        }
    }
    for group in &mut node.alternatives {
        let mut all_need = true;
        for branch in group.iter_mut() {
            all_need &= finalize(branch);
        }
        needs_value |= all_need;
    }
    node.needs_value = needs_value;
    needs_value
}

fn compile_leaf(items: &[Raw], path: &[Box<str>]) -> Result<Leaf, EventPatternError> {
    let mut leaf = Leaf {
        matchers: Vec::with_capacity(items.len()),
        absence_path: None,
    };
    for item in items {
        match item {
            Raw::Object(entries) => match compile_match_expression(entries)? {
                Some(matcher) => leaf.matchers.push(matcher),
                None => leaf.absence_path = Some(path.to_vec().into_boxed_slice()),
            },
            Raw::String(s) => leaf.matchers.push(match parse_ip_literal(s) {
                Some(ip) => Matcher::ExactIp(ip),
                None => Matcher::ExactString(s.as_str().into()),
            }),
            Raw::Number(n) => leaf.matchers.push(Matcher::ExactNumber(n.clone())),
            Raw::Bool(b) => leaf.matchers.push(Matcher::ExactBool(*b)),
            Raw::Null => leaf.matchers.push(Matcher::ExactNull),
            Raw::Array(_) => {
                return Err(invalid(
                    "Match value must be String, number, true, false, or null",
                ))
            }
        }
    }
    if items.is_empty() {
        return Err(invalid("Empty arrays are not allowed"));
    }
    Ok(leaf)
}

/// Compiles one `{ "operator": operand }` object. `None` stands for
/// `{"exists": false}`, which is not a test on a value.
fn compile_match_expression(
    entries: &[(String, Raw)],
) -> Result<Option<Matcher>, EventPatternError> {
    let Some(((name, operand), rest)) = entries.split_first() else {
        return Err(invalid("Match expression name not found"));
    };
    let only_one_key = |matcher: Matcher| {
        if rest.is_empty() {
            Ok(Some(matcher))
        } else {
            Err(invalid(ONLY_ONE_KEY))
        }
    };
    match name.as_str() {
        "prefix" => match operand {
            Raw::String(s) => only_one_key(Matcher::Prefix(s.as_str().into())),
            Raw::Object(inner) => {
                let folded = ignore_case_operand(inner, "Prefix", "prefix")?;
                only_one_key(Matcher::PrefixIgnoreCase(folded))
            }
            _ => Err(invalid("prefix match pattern must be a string")),
        },
        "suffix" => match operand {
            Raw::String(s) => only_one_key(Matcher::Suffix(s.as_str().into())),
            Raw::Object(inner) => {
                let folded = ignore_case_operand(inner, "Suffix", "suffix")?;
                only_one_key(Matcher::SuffixIgnoreCase(folded))
            }
            _ => Err(invalid("suffix match pattern must be a string")),
        },
        "equals-ignore-case" => match operand {
            Raw::String(s) => only_one_key(Matcher::EqualsIgnoreCase(fold_case(s))),
            _ => Err(invalid("equals-ignore-case match pattern must be a string")),
        },
        "wildcard" => match operand {
            Raw::String(s) => {
                let wildcard = Wildcard::compile(s).map_err(invalid)?;
                only_one_key(Matcher::Wildcard(wildcard))
            }
            _ => Err(invalid("wildcard match pattern must be a string")),
        },
        "numeric" => {
            let Raw::Array(items) = operand else {
                return Err(invalid("Value of numeric must be an array."));
            };
            let range = compile_numeric(items)?;
            if rest.is_empty() {
                Ok(Some(Matcher::Numeric(range)))
            } else {
                Err(invalid(TOO_MANY_NUMERIC))
            }
        }
        "anything-but" => {
            let anything_but = compile_anything_but(operand)?;
            if rest.is_empty() {
                Ok(Some(Matcher::AnythingBut(anything_but)))
            } else {
                Err(invalid(TOO_MANY_NUMERIC))
            }
        }
        "exists" => {
            let matcher = match operand {
                Raw::Bool(true) => Some(Matcher::Exists),
                Raw::Bool(false) => None,
                _ => {
                    return Err(invalid(
                        "exists match pattern must be either true or false.",
                    ))
                }
            };
            if rest.is_empty() {
                Ok(matcher)
            } else {
                Err(invalid(ONLY_ONE_KEY))
            }
        }
        "cidr" => match operand {
            // AWS's message for a non-string CIDR really does say "prefix".
            Raw::String(s) => only_one_key(Matcher::Cidr(compile_cidr(s)?)),
            _ => Err(invalid("prefix match pattern must be a string")),
        },
        other => Err(invalid(format!("Unrecognized match type {other}"))),
    }
}

/// Reads `{"equals-ignore-case": "text"}` under `prefix` or `suffix`.
fn ignore_case_operand(
    entries: &[(String, Raw)],
    label: &str,
    operator: &str,
) -> Result<Box<str>, EventPatternError> {
    let Some(((name, value), rest)) = entries.split_first() else {
        return Err(invalid(format!("{label} expression name not found")));
    };
    if name != "equals-ignore-case" {
        return Err(invalid(format!("Unsupported {operator} pattern: {name}")));
    }
    let Raw::String(text) = value else {
        return Err(invalid("equals-ignore-case match pattern must be a string"));
    };
    if !rest.is_empty() {
        return Err(invalid(ONLY_ONE_KEY));
    }
    Ok(fold_case(text))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AnythingButKind {
    IgnoreCase,
    Prefix,
    Suffix,
    Wildcard,
}

fn compile_anything_but(operand: &Raw) -> Result<AnythingBut, EventPatternError> {
    const BAD_OPERAND: &str =
        "Value of anything-but must be an array or single string/number value.";
    let (kind, values) = match operand {
        Raw::Object(entries) => {
            let Some(((name, inner), rest)) = entries.split_first() else {
                return Err(invalid("Anything-But expression name not found"));
            };
            let kind = match name.as_str() {
                "equals-ignore-case" => AnythingButKind::IgnoreCase,
                "prefix" => AnythingButKind::Prefix,
                "suffix" => AnythingButKind::Suffix,
                "wildcard" => AnythingButKind::Wildcard,
                other => {
                    return Err(invalid(format!(
                        "Unsupported anything-but pattern: {other}"
                    )))
                }
            };
            let set = match inner {
                Raw::Array(items) => anything_but_strings(items.iter(), kind)?,
                Raw::String(_) | Raw::Number(_) => {
                    anything_but_strings(std::slice::from_ref(inner).iter(), kind)?
                }
                _ => return Err(invalid(BAD_OPERAND)),
            };
            if !rest.is_empty() {
                return Err(invalid(TOO_MANY_NUMERIC));
            }
            (kind, set)
        }
        Raw::Array(items) => return anything_but_list(items),
        Raw::String(s) => return Ok(AnythingBut::Strings(vec![s.as_str().into()])),
        Raw::Number(n) => return Ok(AnythingBut::Numbers(vec![comparable_checked(n)?])),
        _ => return Err(invalid(BAD_OPERAND)),
    };
    Ok(match kind {
        AnythingButKind::IgnoreCase => {
            AnythingBut::IgnoreCase(values.iter().map(|s| fold_case(s)).collect())
        }
        AnythingButKind::Prefix => AnythingBut::Prefixes(boxed(values)),
        AnythingButKind::Suffix => AnythingBut::Suffixes(boxed(values)),
        AnythingButKind::Wildcard => AnythingBut::Wildcards(
            values
                .iter()
                .map(|s| Wildcard::compile(s).map_err(invalid))
                .collect::<Result<_, _>>()?,
        ),
    })
}

fn boxed(values: Vec<&str>) -> Vec<Box<str>> {
    values.into_iter().map(Into::into).collect()
}

/// Type-checks the operand strings of `anything-but` with a sub-operator.
fn anything_but_strings<'a>(
    items: impl Iterator<Item = &'a Raw>,
    kind: AnythingButKind,
) -> Result<Vec<&'a str>, EventPatternError> {
    let mut values = Vec::new();
    for item in items {
        match item {
            Raw::String(s) => {
                if s.is_empty() && matches!(kind, AnythingButKind::Prefix | AnythingButKind::Suffix)
                {
                    return Err(invalid("Null prefix/suffix not allowed"));
                }
                values.push(s.as_str());
            }
            _ => {
                return Err(invalid(match kind {
                    AnythingButKind::IgnoreCase => "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
                    AnythingButKind::Wildcard => "wildcard match pattern must be a string",
                    AnythingButKind::Prefix | AnythingButKind::Suffix => {
                        "prefix/suffix match pattern must be a string"
                    }
                }))
            }
        }
    }
    Ok(values)
}

fn anything_but_list(items: &[Raw]) -> Result<AnythingBut, EventPatternError> {
    let mut strings = Vec::new();
    let mut numbers = Vec::new();
    for item in items {
        match item {
            Raw::String(s) => strings.push(s.as_str().into()),
            Raw::Number(n) => numbers.push(comparable_checked(n)?),
            _ => {
                return Err(invalid(
                    "Inside anything but list, start|null|boolean is not supported.",
                ))
            }
        }
    }
    match (strings.is_empty(), numbers.is_empty()) {
        (false, true) => Ok(AnythingBut::Strings(strings)),
        (true, false) => Ok(AnythingBut::Numbers(numbers)),
        _ => Err(invalid(
            "Inside anything but list, either all values are number or string, mixed type is not supported",
        )),
    }
}

fn compile_numeric(items: &[Raw]) -> Result<NumericRange, EventPatternError> {
    let mut terms = items.iter();
    let operator = match terms.next() {
        Some(Raw::String(op)) => op.as_str(),
        other => {
            return Err(invalid(format!(
                "Invalid member in numeric match: {}",
                token_text_or_end(other, "]")
            )))
        }
    };
    let first = terms.next();
    let Some(Raw::Number(first)) = first else {
        let shown = if operator == "=" { "equals" } else { operator };
        return match operator {
            "=" | ">" | ">=" | "<" | "<=" => {
                Err(invalid(format!("Value of {shown} must be numeric")))
            }
            _ => Err(invalid(format!(
                "Unrecognized numeric range operator: {operator}"
            ))),
        };
    };
    let low_open = match operator {
        "=" | "<" | "<=" => {
            if terms.next().is_some() {
                return Err(invalid(TOO_MANY_NUMERIC));
            }
            let key = comparable_checked(first)?;
            return Ok(match operator {
                "=" => NumericRange::between(key, false, key, false),
                "<" => NumericRange::between(numeric_min(), false, key, true),
                _ => NumericRange::between(numeric_min(), false, key, false),
            });
        }
        ">" => true,
        ">=" => false,
        other => {
            return Err(invalid(format!(
                "Unrecognized numeric range operator: {other}"
            )))
        }
    };
    let Some(second) = terms.next() else {
        let key = comparable_checked(first)?;
        return Ok(NumericRange::between(key, low_open, numeric_max(), false));
    };
    let upper_op = match second {
        Raw::String(op) => op.as_str(),
        other => {
            return Err(invalid(format!(
                "Bad value in numeric range: {}",
                other.token_text()
            )))
        }
    };
    let high_open = match upper_op {
        "<" => true,
        "<=" => false,
        other => return Err(invalid(format!("Bad numeric range operator: {other}"))),
    };
    let Some(Raw::Number(top)) = terms.next() else {
        return Err(invalid(format!("Value of {upper_op} must be numeric")));
    };
    if terms.next().is_some() {
        return Err(invalid("Too many terms in numeric range expression"));
    }
    let low = comparable_checked(first)?;
    let high = comparable_checked(top)?;
    if low >= high {
        return Err(invalid("Bottom must be less than top"));
    }
    Ok(NumericRange::between(low, low_open, high, high_open))
}

impl NumericRange {
    fn between(low: i64, low_open: bool, high: i64, high_open: bool) -> Self {
        NumericRange {
            low,
            low_open,
            high,
            high_open,
        }
    }

    fn contains(&self, key: i64) -> bool {
        let above = key > self.low || (!self.low_open && key == self.low);
        let below = key < self.high || (!self.high_open && key == self.high);
        above && below
    }
}

/// AWS's comparable form of a number: shifted to be non-negative, scaled to
/// six decimals and truncated. `None` outside the documented range.
fn comparable(value: f64) -> Option<i64> {
    if !(-NUMERIC_LIMIT..=NUMERIC_LIMIT).contains(&value) {
        return None;
    }
    // In range, the product lies in [0, 1e16], well within i64.
    Some((NUMERIC_SCALE * (NUMERIC_LIMIT + value)) as i64)
}

fn comparable_checked(number: &Number) -> Result<i64, EventPatternError> {
    number
        .as_f64()
        .and_then(comparable)
        .ok_or_else(|| invalid("Value must be between -5.0E9 and 5.0E9, inclusive"))
}

fn numeric_min() -> i64 {
    comparable(-NUMERIC_LIMIT).unwrap_or(0)
}

fn numeric_max() -> i64 {
    comparable(NUMERIC_LIMIT).unwrap_or(i64::MAX)
}

impl Wildcard {
    /// Validates and splits a wildcard operand. Positions in errors count
    /// UTF-8 bytes from the opening quote AWS prepends, hence the `+ 1`.
    fn compile(text: &str) -> Result<Wildcard, String> {
        let mut literals = Vec::new();
        let mut current: Vec<u8> = Vec::new();
        let mut bytes = text.bytes().enumerate().peekable();
        while let Some((index, byte)) = bytes.next() {
            match byte {
                b'*' => {
                    if matches!(bytes.peek(), Some((_, b'*'))) {
                        return Err(format!(
                            "Consecutive wildcard characters at pos {}",
                            index + 1
                        ));
                    }
                    literals.push(utf8_literal(std::mem::take(&mut current))?);
                }
                b'\\' => match bytes.next() {
                    Some((_, escaped @ (b'*' | b'\\'))) => current.push(escaped),
                    _ => return Err(format!("Invalid escape character at pos {}", index + 1)),
                },
                other => current.push(other),
            }
        }
        literals.push(utf8_literal(current)?);
        Ok(Wildcard { literals })
    }

    fn matches(&self, value: &str) -> bool {
        let Some((head, rest)) = self.literals.split_first() else {
            return false;
        };
        let Some((tail, middle_literals)) = rest.split_last() else {
            return value == &**head;
        };
        let Some(after_head) = value.strip_prefix(&**head) else {
            return false;
        };
        let Some(mut middle) = after_head.strip_suffix(&**tail) else {
            return false;
        };
        // With only `*` as a metacharacter, taking each literal at its
        // leftmost position never loses a match.
        for literal in middle_literals {
            match middle.find(&**literal) {
                Some(at) => match middle.get(at + literal.len()..) {
                    Some(remaining) => middle = remaining,
                    None => return false,
                },
                None => return false,
            }
        }
        true
    }

    /// The byte-level automaton input used to measure complexity, including
    /// the quotes that enclose the value in AWS's machine.
    fn tokens(&self) -> Vec<Token> {
        let mut tokens = vec![Token::Byte(b'"')];
        for (position, literal) in self.literals.iter().enumerate() {
            if position > 0 {
                tokens.push(Token::Star);
            }
            tokens.extend(literal.bytes().map(Token::Byte));
        }
        tokens.push(Token::Byte(b'"'));
        tokens
    }
}

fn utf8_literal(bytes: Vec<u8>) -> Result<Box<str>, String> {
    // Splits happen only at ASCII bytes, so every run is valid UTF-8.
    String::from_utf8(bytes)
        .map(String::into_boxed_str)
        .map_err(|_| "wildcard match pattern must be a string".to_owned())
}

fn compile_cidr(text: &str) -> Result<IpRange, EventPatternError> {
    // AWS splits on '/' dropping trailing empty parts, so "10.0.0.0/" has
    // one part, not two.
    let mut parts: Vec<&str> = text.split('/').collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    let [address, mask] = parts.as_slice() else {
        return Err(invalid("Malformed CIDR, one '/' required"));
    };
    let mask_bits = parse_java_int(mask)
        .ok_or_else(|| invalid("Malformed CIDR, mask bits must be an integer"))?;
    if mask_bits < 0 {
        return Err(invalid("Malformed CIDR, mask bits must not be negative"));
    }
    if !looks_like_ipv4(address) && !looks_like_ipv6(address) {
        return Err(invalid(format!("Nonstandard IP address: {address}")));
    }
    let ip = parse_ip_literal(address)
        .ok_or_else(|| invalid(format!("Invalid IP address: {address}")))?;
    // The lower bound is the address as written, not the network address:
    // AWS only sets the host bits to form the upper bound.
    match ip {
        IpAddr::V4(v4) => {
            if mask_bits > 31 {
                return Err(invalid("IPv4 mask bits must be < 32"));
            }
            let low = u32::from(v4);
            let host_bits = u32::MAX.checked_shr(mask_bits.unsigned_abs()).unwrap_or(0);
            Ok(IpRange::V4 {
                low,
                high: low | host_bits,
            })
        }
        IpAddr::V6(v6) => {
            if mask_bits > 127 {
                return Err(invalid("IPv6 mask bits must be < 128"));
            }
            let low = u128::from(v6);
            let host_bits = u128::MAX.checked_shr(mask_bits.unsigned_abs()).unwrap_or(0);
            Ok(IpRange::V6 {
                low,
                high: low | host_bits,
            })
        }
    }
}

/// Integer syntax accepted by AWS for the mask: optional sign, ASCII digits,
/// 32-bit range.
fn parse_java_int(text: &str) -> Option<i32> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i32>().ok()
}

/// Four dot-separated decimal runs, the shape AWS treats as an IPv4 literal.
fn looks_like_ipv4(text: &str) -> bool {
    let mut parts = 0;
    for part in text.split('.') {
        parts += 1;
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    parts == 4
}

/// Hex digits and colons with at least one colon, AWS's IPv6 literal shape.
fn looks_like_ipv6(text: &str) -> bool {
    text.contains(':') && text.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
}

fn parse_ip_literal(text: &str) -> Option<IpAddr> {
    if looks_like_ipv4(text) {
        return text.parse::<Ipv4Addr>().ok().map(IpAddr::V4);
    }
    if looks_like_ipv6(text) {
        let v6 = text.parse::<Ipv6Addr>().ok()?;
        // An IPv4-mapped IPv6 address resolves to its IPv4 address there.
        return Some(match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        });
    }
    None
}

impl IpRange {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self, ip) {
            (IpRange::V4 { low, high }, IpAddr::V4(v4)) => (*low..=*high).contains(&u32::from(v4)),
            (IpRange::V6 { low, high }, IpAddr::V6(v6)) => (*low..=*high).contains(&u128::from(v6)),
            _ => false,
        }
    }
}

// ---------------------------------------------------------------------------
// Case folding without allocation on the match path.
// ---------------------------------------------------------------------------

fn fold_case(text: &str) -> Box<str> {
    text.chars()
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .into_boxed_str()
}

fn folded_chars(text: &str) -> impl DoubleEndedIterator<Item = char> + '_ {
    text.chars().flat_map(char::to_lowercase)
}

fn equals_folded(value: &str, folded: &str) -> bool {
    if value.is_ascii() && folded.is_ascii() {
        return value.len() == folded.len()
            && value
                .bytes()
                .zip(folded.bytes())
                .all(|(v, f)| v.to_ascii_lowercase() == f);
    }
    folded_chars(value).eq(folded.chars())
}

fn starts_with_folded(value: &str, folded: &str) -> bool {
    let mut value_chars = folded_chars(value);
    folded.chars().all(|p| value_chars.next() == Some(p))
}

fn ends_with_folded(value: &str, folded: &str) -> bool {
    let mut value_chars = value.chars().rev().flat_map(|c| c.to_lowercase().rev());
    folded.chars().rev().all(|p| value_chars.next() == Some(p))
}

// ---------------------------------------------------------------------------
// Matching.
// ---------------------------------------------------------------------------

fn node_matches(node: &Node, value: Option<&Value>, root: &Value, nesting: u32) -> bool {
    match value {
        Some(Value::Array(items)) => {
            if nesting < MAX_EVENT_ARRAY_NESTING
                && items
                    .iter()
                    .any(|item| node_matches(node, Some(item), root, nesting + 1))
            {
                return true;
            }
            // A node made only of `exists: false` tests holds without any
            // element, e.g. for an empty array.
            !node.needs_value && object_matches(node, None, root, nesting)
        }
        Some(Value::Object(map)) => object_matches(node, Some(map), root, nesting),
        _ => !node.needs_value && object_matches(node, None, root, nesting),
    }
}

fn object_matches(
    node: &Node,
    map: Option<&serde_json::Map<String, Value>>,
    root: &Value,
    nesting: u32,
) -> bool {
    let fields_match = node.fields.iter().all(|field| {
        let value = map.and_then(|m| m.get(&*field.name));
        field
            .leaf
            .as_ref()
            .is_none_or(|leaf| leaf_matches(leaf, value, root, nesting))
            && field
                .child
                .as_ref()
                .is_none_or(|child| node_matches(child, value, root, nesting))
    });
    if !fields_match {
        return false;
    }
    node.alternatives.iter().all(|group| {
        group.iter().any(|branch| match map {
            Some(m) => object_matches(branch, Some(m), root, nesting),
            None => !branch.needs_value && object_matches(branch, None, root, nesting),
        })
    })
}

fn leaf_matches(leaf: &Leaf, value: Option<&Value>, root: &Value, nesting: u32) -> bool {
    if let Some(value) = value {
        if !leaf.matchers.is_empty()
            && any_scalar(value, nesting, &|scalar| {
                leaf.matchers.iter().any(|m| m.matches(scalar))
            })
        {
            return true;
        }
    }
    leaf.absence_path
        .as_deref()
        .is_some_and(|path| !has_leaf(root, path, 0))
}

/// Whether any leaf value of `value` (arrays crushed, objects skipped)
/// satisfies `test`.
fn any_scalar(value: &Value, nesting: u32, test: &dyn Fn(&Value) -> bool) -> bool {
    match value {
        Value::Array(items) => {
            nesting < MAX_EVENT_ARRAY_NESTING
                && items.iter().any(|item| any_scalar(item, nesting + 1, test))
        }
        Value::Object(_) => false,
        scalar => test(scalar),
    }
}

/// Whether the event has a leaf value at `path`, through any arrays.
fn has_leaf(value: &Value, path: &[Box<str>], nesting: u32) -> bool {
    match value {
        Value::Array(items) => {
            nesting < MAX_EVENT_ARRAY_NESTING
                && items.iter().any(|item| has_leaf(item, path, nesting + 1))
        }
        Value::Object(map) => match path.split_first() {
            Some((name, rest)) => map
                .get(&**name)
                .is_some_and(|child| has_leaf(child, rest, nesting)),
            None => false,
        },
        _ => path.is_empty(),
    }
}

impl Matcher {
    fn matches(&self, value: &Value) -> bool {
        match self {
            Matcher::ExactString(expected) => value.as_str() == Some(&**expected),
            Matcher::ExactIp(expected) => value
                .as_str()
                .and_then(parse_ip_literal)
                .is_some_and(|ip| ip == *expected),
            Matcher::ExactNumber(expected) => {
                matches!(value, Value::Number(n) if n == expected)
            }
            Matcher::ExactBool(expected) => value.as_bool() == Some(*expected),
            Matcher::ExactNull => value.is_null(),
            Matcher::Prefix(prefix) => value.as_str().is_some_and(|s| s.starts_with(&**prefix)),
            Matcher::PrefixIgnoreCase(prefix) => value
                .as_str()
                .is_some_and(|s| starts_with_folded(s, prefix)),
            Matcher::Suffix(suffix) => value.as_str().is_some_and(|s| s.ends_with(&**suffix)),
            Matcher::SuffixIgnoreCase(suffix) => {
                value.as_str().is_some_and(|s| ends_with_folded(s, suffix))
            }
            Matcher::EqualsIgnoreCase(folded) => {
                value.as_str().is_some_and(|s| equals_folded(s, folded))
            }
            Matcher::Wildcard(wildcard) => value.as_str().is_some_and(|s| wildcard.matches(s)),
            Matcher::AnythingBut(excluded) => !excluded.excludes(value),
            Matcher::Numeric(range) => value
                .as_f64()
                .and_then(comparable)
                .is_some_and(|key| range.contains(key)),
            Matcher::Cidr(range) => value
                .as_str()
                .and_then(parse_ip_literal)
                .is_some_and(|ip| range.contains(ip)),
            Matcher::Exists => true,
        }
    }
}

impl AnythingBut {
    fn excludes(&self, value: &Value) -> bool {
        if let AnythingBut::Numbers(numbers) = self {
            return value
                .as_f64()
                .and_then(comparable)
                .is_some_and(|key| numbers.contains(&key));
        }
        let Some(text) = value.as_str() else {
            return false;
        };
        match self {
            AnythingBut::Strings(values) => values.iter().any(|v| **v == *text),
            AnythingBut::Prefixes(values) => values.iter().any(|v| text.starts_with(&**v)),
            AnythingBut::Suffixes(values) => values.iter().any(|v| text.ends_with(&**v)),
            AnythingBut::IgnoreCase(values) => values.iter().any(|v| equals_folded(text, v)),
            AnythingBut::Wildcards(values) => values.iter().any(|w| w.matches(text)),
            AnythingBut::Numbers(_) => false,
        }
    }
}

// ---------------------------------------------------------------------------
// Wildcard complexity.
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Byte(u8),
    Star,
}

/// Rejects patterns whose wildcards on one field could keep more than
/// `WILDCARD_COMPLEXITY_LIMIT` partial matches alive for some input, the
/// measure AWS uses ("how many wildcard rule prefixes match a theoretical
/// worst-case event"). Patterns on the same field path are pooled across
/// `$or` branches.
fn check_wildcard_complexity(root: &Node) -> Result<(), EventPatternError> {
    let mut by_path: BTreeMap<Vec<&str>, Vec<&Wildcard>> = BTreeMap::new();
    let mut path = Vec::new();
    collect_wildcards(root, &mut path, &mut by_path);
    for wildcards in by_path.values() {
        let tokens: Vec<Vec<Token>> = wildcards.iter().map(|w| w.tokens()).collect();
        if wildcard_complexity_exceeds(&tokens) {
            return Err(invalid(TOO_COMPLEX));
        }
    }
    Ok(())
}

fn collect_wildcards<'a>(
    node: &'a Node,
    path: &mut Vec<&'a str>,
    out: &mut BTreeMap<Vec<&'a str>, Vec<&'a Wildcard>>,
) {
    for field in &node.fields {
        path.push(&field.name);
        if let Some(leaf) = &field.leaf {
            for matcher in &leaf.matchers {
                match matcher {
                    Matcher::Wildcard(w) => out.entry(path.clone()).or_default().push(w),
                    Matcher::AnythingBut(AnythingBut::Wildcards(ws)) => {
                        out.entry(path.clone()).or_default().extend(ws.iter())
                    }
                    _ => {}
                }
            }
        }
        if let Some(child) = &field.child {
            collect_wildcards(child, path, out);
        }
        path.pop();
    }
    for group in &node.alternatives {
        for branch in group {
            collect_wildcards(branch, path, out);
        }
    }
}

/// A state is (pattern index, token position); after reading a byte, every
/// state reached by consuming it is a live prefix. Subsets are explored
/// breadth-first over the bytes that occur in the patterns plus one byte
/// that occurs in none.
fn wildcard_complexity_exceeds(patterns: &[Vec<Token>]) -> bool {
    if !patterns.iter().any(|tokens| tokens.contains(&Token::Star)) {
        return false;
    }
    let mut alphabet: BTreeSet<u8> = BTreeSet::new();
    for tokens in patterns {
        for token in tokens {
            if let Token::Byte(b) = token {
                alphabet.insert(*b);
            }
        }
    }
    if let Some(other) = (0..=u8::MAX).find(|b| !alphabet.contains(b)) {
        alphabet.insert(other);
    }
    let token_at = |(pattern, position): (usize, usize)| {
        patterns
            .get(pattern)
            .and_then(|tokens| tokens.get(position))
            .copied()
    };
    let close = |mut states: Vec<(usize, usize)>| {
        let stars: Vec<(usize, usize)> = states
            .iter()
            .filter(|s| token_at(**s) == Some(Token::Star))
            .map(|&(p, i)| (p, i + 1))
            .collect();
        states.extend(stars);
        states.sort_unstable();
        states.dedup();
        states
    };
    let start = close((0..patterns.len()).map(|p| (p, 0)).collect());
    let mut seen: HashSet<Vec<(usize, usize)>> = HashSet::new();
    let mut queue = std::collections::VecDeque::new();
    seen.insert(start.clone());
    queue.push_back(start);
    while let Some(states) = queue.pop_front() {
        for &byte in &alphabet {
            let mut next: Vec<(usize, usize)> = Vec::new();
            for &state in &states {
                match token_at(state) {
                    Some(Token::Star) => next.push(state),
                    Some(Token::Byte(b)) if b == byte => next.push((state.0, state.1 + 1)),
                    _ => {}
                }
            }
            next.sort_unstable();
            next.dedup();
            if next.len() > WILDCARD_COMPLEXITY_LIMIT {
                return true;
            }
            if next.is_empty() || seen.len() >= WILDCARD_COMPLEXITY_BUDGET {
                continue;
            }
            let closed = close(next);
            if seen.insert(closed.clone()) {
                queue.push_back(closed);
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const EC2_EVENT: &str = r#"{
      "version": "0",
      "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
      "detail-type": "EC2 Instance State-change Notification",
      "source": "aws.ec2",
      "account": "111122223333",
      "time": "2017-12-22T18:43:48Z",
      "region": "us-west-1",
      "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
      "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"}
    }"#;

    const AUTOSCALING_EVENT: &str = r#"{
      "version": "0",
      "id": "3e3c153a-8339-4e30-8c35-687ebef853fe",
      "detail-type": "EC2 Instance Launch Successful",
      "source": "aws.autoscaling",
      "account": "123456789012",
      "time": "2015-11-11T21:31:47Z",
      "region": "us-east-1",
      "resources": [],
      "detail": {"eventVersion": "", "responseElements": null}
    }"#;

    const MACIE_EVENT: &str = r#"{
      "version": "0",
      "id": "3e355723-fca9-4de3-9fd7-154c289d6b59",
      "detail-type": "Macie Alert",
      "source": "aws.macie",
      "account": "123456789012",
      "time": "2017-04-24T22:28:49Z",
      "region": "us-east-1",
      "resources": [
        "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id/alert/alert_id",
        "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id"
      ],
      "detail": {
        "notification-type": "ALERT_CREATED",
        "name": "Scanning bucket policies",
        "tags": ["Custom_Alert", "Insider"],
        "risk-score": 80,
        "trigger": {"alert-type": "basic", "risk": 8}
      }
    }"#;

    /// The sample event of AWS's rule-engine guide, used by the content
    /// filtering examples.
    const RULER_EVENT: &str = r#"{
      "version": "0",
      "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
      "detail-type": "EC2 Instance State-change Notification",
      "source": "aws.ec2",
      "account": "012345679012",
      "time": "2017-10-02T16:24:49Z",
      "region": "us-east-1",
      "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
      "detail": {
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.33",
        "instance-id": "i-000000aaaaaa00000",
        "state": "running"
      }
    }"#;

    fn run_table(cases: &[(&str, &str, &str, bool)]) {
        for (name, pattern, event, expected) in cases {
            let compiled = match EventPattern::parse(pattern) {
                Ok(p) => p,
                Err(e) => panic!("{name}: pattern rejected: {e}"),
            };
            let got = match compiled.matches_str(event) {
                Ok(m) => m,
                Err(e) => panic!("{name}: event rejected: {e}"),
            };
            assert_eq!(got, *expected, "{name}");
        }
    }

    fn run_errors(cases: &[(&str, &str, &str)]) {
        for (name, pattern, reason) in cases {
            match EventPattern::parse(pattern) {
                Ok(_) => panic!("{name}: pattern accepted"),
                Err(e) => assert_eq!(
                    e.to_string(),
                    format!("Event pattern is not valid. Reason: {reason}"),
                    "{name}"
                ),
            }
        }
    }

    #[test]
    fn event_patterns_page_examples() {
        run_table(&[
            (
                "ec2_termination",
                r#"{"source":["aws.ec2"],"detail-type":["EC2 Instance State-change Notification"],"detail":{"state":["terminated"]}}"#,
                EC2_EVENT,
                true,
            ),
            (
                "ec2_termination_NEG_running",
                r#"{"source":["aws.ec2"],"detail-type":["EC2 Instance State-change Notification"],"detail":{"state":["running"]}}"#,
                EC2_EVENT,
                false,
            ),
            (
                "ec2_termination_NEG_missing_field",
                r#"{"source":["aws.ec2"],"detail":{"previous-state":["terminated"]}}"#,
                EC2_EVENT,
                false,
            ),
            (
                "source_ec2_or_fargate",
                r#"{"source":["aws.ec2","aws.fargate"]}"#,
                EC2_EVENT,
                true,
            ),
            (
                "source_ec2_or_fargate_NEG",
                r#"{"source":["aws.ec2","aws.fargate"]}"#,
                AUTOSCALING_EVENT,
                false,
            ),
            (
                "field_matching_null",
                r#"{"source":["aws.autoscaling"],"detail-type":["EC2 Instance Launch Successful"],"detail":{"responseElements":[null]}}"#,
                AUTOSCALING_EVENT,
                true,
            ),
            (
                "macie_risk_values",
                r#"{"source":["aws.macie"],"detail-type":["Macie Alert"],"detail":{"risk-score":[80],"trigger":{"risk":[8]}}}"#,
                MACIE_EVENT,
                true,
            ),
            (
                "macie_risk_values_NEG",
                r#"{"source":["aws.macie"],"detail":{"risk-score":[81]}}"#,
                MACIE_EVENT,
                false,
            ),
            (
                "number_representation_NEG_300_vs_300.0",
                r#"{"n":[300]}"#,
                r#"{"n":300.0}"#,
                false,
            ),
            (
                "number_representation_NEG_300_vs_3.0e2",
                r#"{"n":[300]}"#,
                r#"{"n":3.0e2}"#,
                false,
            ),
            (
                "number_representation_same",
                r#"{"n":[300]}"#,
                r#"{"n":300}"#,
                true,
            ),
            (
                "number_NEG_string",
                r#"{"n":[300]}"#,
                r#"{"n":"300"}"#,
                false,
            ),
            (
                "strings_are_case_sensitive_NEG",
                r#"{"source":["AWS.EC2"]}"#,
                EC2_EVENT,
                false,
            ),
            (
                "large_account_number",
                r#"{"account":[123456789012]}"#,
                r#"{"account":123456789012}"#,
                true,
            ),
            (
                "boolean_true",
                r#"{"flag":[true]}"#,
                r#"{"flag":true}"#,
                true,
            ),
            (
                "boolean_NEG_string",
                r#"{"flag":[true]}"#,
                r#"{"flag":"true"}"#,
                false,
            ),
        ]);
    }

    #[test]
    fn null_and_empty_string_page_examples() {
        run_table(&[
            (
                "empty_string",
                r#"{"detail":{"eventVersion":[""]}}"#,
                AUTOSCALING_EVENT,
                true,
            ),
            (
                "null_value",
                r#"{"detail":{"responseElements":[null]}}"#,
                AUTOSCALING_EVENT,
                true,
            ),
            (
                "empty_string_NEG_null",
                r#"{"detail":{"responseElements":[""]}}"#,
                AUTOSCALING_EVENT,
                false,
            ),
            (
                "null_NEG_empty_string",
                r#"{"detail":{"eventVersion":[null]}}"#,
                AUTOSCALING_EVENT,
                false,
            ),
            (
                "null_NEG_missing",
                r#"{"detail":{"other":[null]}}"#,
                AUTOSCALING_EVENT,
                false,
            ),
        ]);
    }

    #[test]
    fn arrays_page_examples() {
        let pattern = r#"{"resources":[
            "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
            "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
            "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"]}"#;
        run_table(&[
            (
                "intersection_non_empty",
                pattern,
                r#"{"resources":[
                  "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate",
                  "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}"#,
                true,
            ),
            (
                "intersection_NEG_empty",
                pattern,
                r#"{"resources":[
                  "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate"]}"#,
                false,
            ),
            (
                "intersection_NEG_empty_event_array",
                pattern,
                r#"{"resources":[]}"#,
                false,
            ),
            (
                "array_of_objects_crushed",
                r#"{"employees":{"firstName":["Anna"]}}"#,
                r#"{"employees":[{"firstName":"John","lastName":"Doe"},{"firstName":"Anna","lastName":"Smith"},{"firstName":"Peter","lastName":"Jones"}]}"#,
                true,
            ),
            (
                "nested_arrays_crushed",
                r#"{"employees":{"firstName":["Peter"]}}"#,
                r#"{"employees":[[{"firstName":"John","lastName":"Doe"},{"firstName":"Anna","lastName":"Smith"}],[{"firstName":"Peter","lastName":"Jones"}]]}"#,
                true,
            ),
            (
                "array_consistency_NEG_fields_from_different_elements",
                r#"{"employees":{"firstName":["Anna"],"lastName":["Jones"]}}"#,
                r#"{"employees":[{"firstName":"John","lastName":"Doe"},{"firstName":"Anna","lastName":"Smith"},{"firstName":"Peter","lastName":"Jones"}]}"#,
                false,
            ),
            (
                "array_consistency_same_element",
                r#"{"employees":{"firstName":["Anna"],"lastName":["Smith"]}}"#,
                r#"{"employees":[{"firstName":"John","lastName":"Doe"},{"firstName":"Anna","lastName":"Smith"}]}"#,
                true,
            ),
        ]);
    }

    #[test]
    fn prefix_and_suffix_examples() {
        run_table(&[
            (
                "prefix_time",
                r#"{"time":[{"prefix":"2017-10-02"}]}"#,
                r#"{"time":"2017-10-02T18:43:48Z"}"#,
                true,
            ),
            (
                "prefix_time_NEG",
                r#"{"time":[{"prefix":"2017-10-02"}]}"#,
                r#"{"time":"2017-10-03T18:43:48Z"}"#,
                false,
            ),
            (
                "prefix_NEG_number",
                r#"{"n":[{"prefix":"30"}]}"#,
                r#"{"n":300}"#,
                false,
            ),
            (
                "prefix_empty_matches_any_string",
                r#"{"source":[{"prefix":""}]}"#,
                EC2_EVENT,
                true,
            ),
            (
                "prefix_region_us",
                r#"{"Region":[{"prefix":"us-"}]}"#,
                r#"{"Region":"us-east-1"}"#,
                true,
            ),
            (
                "prefix_region_us_NEG",
                r#"{"Region":[{"prefix":"us-"}]}"#,
                r#"{"Region":"eu-west-1"}"#,
                false,
            ),
            (
                "prefix_autoscaling_europe",
                r#"{"source":["aws.autoscaling"],"region":[{"prefix":"eu-"}]}"#,
                r#"{"source":"aws.autoscaling","region":"eu-west-1"}"#,
                true,
            ),
            (
                "prefix_ignore_case_upper",
                r#"{"detail":{"service":[{"prefix":{"equals-ignore-case":"EventB"}}]}}"#,
                r#"{"detail":{"service":"EVENTBRIDGE"}}"#,
                true,
            ),
            (
                "prefix_ignore_case_lower",
                r#"{"detail":{"service":[{"prefix":{"equals-ignore-case":"EventB"}}]}}"#,
                r#"{"detail":{"service":"eventbridge"}}"#,
                true,
            ),
            (
                "prefix_ignore_case_NEG",
                r#"{"detail":{"service":[{"prefix":{"equals-ignore-case":"EventB"}}]}}"#,
                r#"{"detail":{"service":"Event"}}"#,
                false,
            ),
            (
                "prefix_ignore_case_non_ascii",
                r#"{"name":[{"prefix":{"equals-ignore-case":"ÉCOLE"}}]}"#,
                r#"{"name":"école primaire"}"#,
                true,
            ),
            (
                "suffix_png",
                r#"{"FileName":[{"suffix":".png"}]}"#,
                r#"{"FileName":"image.png"}"#,
                true,
            ),
            (
                "suffix_png_NEG_case",
                r#"{"FileName":[{"suffix":".png"}]}"#,
                r#"{"FileName":"image.PNG"}"#,
                false,
            ),
            (
                "suffix_ignore_case",
                r#"{"detail":{"FileName":[{"suffix":{"equals-ignore-case":".png"}}]}}"#,
                r#"{"detail":{"FileName":"image.PNG"}}"#,
                true,
            ),
            (
                "suffix_ignore_case_NEG",
                r#"{"detail":{"FileName":[{"suffix":{"equals-ignore-case":".png"}}]}}"#,
                r#"{"detail":{"FileName":"image.jpg"}}"#,
                false,
            ),
            (
                "suffix_ignore_case_tbridge",
                r#"{"service":[{"suffix":{"equals-ignore-case":"tbridge"}}]}"#,
                r#"{"service":"EVENTBRIDGE"}"#,
                true,
            ),
            (
                "suffix_source_ec2",
                r#"{"source":[{"suffix":"ec2"}]}"#,
                EC2_EVENT,
                true,
            ),
        ]);
    }

    #[test]
    fn equals_ignore_case_examples() {
        run_table(&[
            (
                "detail_type_ignore_case",
                r#"{"detail-type":[{"equals-ignore-case":"ec2 instance state-change notification"}]}"#,
                EC2_EVENT,
                true,
            ),
            (
                "name_alice",
                r#"{"Name":[{"equals-ignore-case":"alice"}]}"#,
                r#"{"Name":"ALICE"}"#,
                true,
            ),
            (
                "name_alice_NEG_longer",
                r#"{"Name":[{"equals-ignore-case":"alice"}]}"#,
                r#"{"Name":"Alice B"}"#,
                false,
            ),
            (
                "name_exact",
                r#"{"Name":["Alice"]}"#,
                r#"{"Name":"Alice"}"#,
                true,
            ),
            (
                "name_exact_NEG_case",
                r#"{"Name":["Alice"]}"#,
                r#"{"Name":"alice"}"#,
                false,
            ),
            (
                "source_ignore_case",
                r#"{"source":[{"equals-ignore-case":"AWS.EC2"}]}"#,
                EC2_EVENT,
                true,
            ),
        ]);
    }

    #[test]
    fn anything_but_examples() {
        run_table(&[
            (
                "string",
                r#"{"detail":{"state":[{"anything-but":"initializing"}]}}"#,
                r#"{"detail":{"state":"running"}}"#,
                true,
            ),
            (
                "string_NEG",
                r#"{"detail":{"state":[{"anything-but":"initializing"}]}}"#,
                r#"{"detail":{"state":"initializing"}}"#,
                false,
            ),
            (
                "string_NEG_missing_field",
                r#"{"detail":{"state":[{"anything-but":"initializing"}]}}"#,
                r#"{"detail":{}}"#,
                false,
            ),
            (
                "string_matches_null_value",
                r#"{"detail":{"state":[{"anything-but":"initializing"}]}}"#,
                r#"{"detail":{"state":null}}"#,
                true,
            ),
            (
                "number",
                r#"{"detail":{"x-limit":[{"anything-but":123}]}}"#,
                r#"{"detail":{"x-limit":124}}"#,
                true,
            ),
            (
                "number_NEG",
                r#"{"detail":{"x-limit":[{"anything-but":123}]}}"#,
                r#"{"detail":{"x-limit":123}}"#,
                false,
            ),
            (
                "number_NEG_numerically_equal",
                r#"{"detail":{"x-limit":[{"anything-but":123}]}}"#,
                r#"{"detail":{"x-limit":123.0}}"#,
                false,
            ),
            (
                "string_list",
                r#"{"detail":{"state":[{"anything-but":["stopped","overloaded"]}]}}"#,
                r#"{"detail":{"state":"running"}}"#,
                true,
            ),
            (
                "string_list_NEG",
                r#"{"detail":{"state":[{"anything-but":["stopped","overloaded"]}]}}"#,
                r#"{"detail":{"state":"overloaded"}}"#,
                false,
            ),
            (
                "number_list",
                r#"{"detail":{"x-limit":[{"anything-but":[100,200,300]}]}}"#,
                r#"{"detail":{"x-limit":150}}"#,
                true,
            ),
            (
                "number_list_NEG",
                r#"{"detail":{"x-limit":[{"anything-but":[100,200,300]}]}}"#,
                r#"{"detail":{"x-limit":200}}"#,
                false,
            ),
            (
                "event_array_any_element_not_excluded",
                r#"{"price":[{"anything-but":[100,500]}]}"#,
                r#"{"price":[100,50]}"#,
                true,
            ),
            (
                "event_array_NEG_all_excluded",
                r#"{"price":[{"anything-but":[100,500]}]}"#,
                r#"{"price":[100,500]}"#,
                false,
            ),
            (
                "prefix",
                r#"{"detail":{"state":[{"anything-but":{"prefix":"init"}}]}}"#,
                r#"{"detail":{"state":"running"}}"#,
                true,
            ),
            (
                "prefix_NEG",
                r#"{"detail":{"state":[{"anything-but":{"prefix":"init"}}]}}"#,
                r#"{"detail":{"state":"initializing"}}"#,
                false,
            ),
            (
                "prefix_region_not_us",
                r#"{"Region":[{"anything-but":{"prefix":"us-"}}]}"#,
                r#"{"Region":"eu-west-1"}"#,
                true,
            ),
            (
                "prefix_region_not_us_NEG",
                r#"{"Region":[{"anything-but":{"prefix":"us-"}}]}"#,
                r#"{"Region":"us-east-1"}"#,
                false,
            ),
            (
                "suffix",
                r#"{"FileName":[{"anything-but":{"suffix":".png"}}]}"#,
                r#"{"FileName":"notes.txt"}"#,
                true,
            ),
            (
                "suffix_NEG",
                r#"{"FileName":[{"anything-but":{"suffix":".png"}}]}"#,
                r#"{"FileName":"image.png"}"#,
                false,
            ),
            (
                "ignore_case",
                r#"{"state":[{"anything-but":{"equals-ignore-case":"initializing"}}]}"#,
                r#"{"state":"running"}"#,
                true,
            ),
            (
                "ignore_case_NEG",
                r#"{"state":[{"anything-but":{"equals-ignore-case":"initializing"}}]}"#,
                r#"{"state":"INITIALIZING"}"#,
                false,
            ),
            (
                "ignore_case_list_NEG",
                r#"{"detail":{"state":[{"anything-but":{"equals-ignore-case":["Stopped","OverLoaded"]}}]}}"#,
                r#"{"detail":{"state":"overloaded"}}"#,
                false,
            ),
            (
                "wildcard",
                r#"{"FilePath":[{"anything-but":{"wildcard":"*/lib/*"}}]}"#,
                r#"{"FilePath":"/usr/bin/env"}"#,
                true,
            ),
            (
                "wildcard_NEG",
                r#"{"FilePath":[{"anything-but":{"wildcard":"*/lib/*"}}]}"#,
                r#"{"FilePath":"/usr/lib/libc.so"}"#,
                false,
            ),
            (
                "wildcard_list_NEG",
                r#"{"FilePath":[{"anything-but":{"wildcard":["*/lib/*","*/bin/*"]}}]}"#,
                r#"{"FilePath":"/usr/bin/env"}"#,
                false,
            ),
            (
                "weather_not_raining",
                r#"{"Weather":[{"anything-but":["Raining"]}]}"#,
                r#"{"Weather":"Sunny"}"#,
                true,
            ),
        ]);
    }

    #[test]
    fn numeric_examples() {
        let doc_pattern = r#"{"detail":{
            "c-count":[{"numeric":[">",0,"<=",5]}],
            "d-count":[{"numeric":["<",10]}],
            "x-limit":[{"numeric":["=",3.018e2]}]}}"#;
        run_table(&[
            ("all_fields_true", doc_pattern, RULER_EVENT, true),
            (
                "c_count_NEG_zero",
                doc_pattern,
                r#"{"detail":{"c-count":0,"d-count":3,"x-limit":301.8}}"#,
                false,
            ),
            (
                "c_count_NEG_six",
                doc_pattern,
                r#"{"detail":{"c-count":6,"d-count":3,"x-limit":301.8}}"#,
                false,
            ),
            (
                "d_count_NEG_ten",
                doc_pattern,
                r#"{"detail":{"c-count":5,"d-count":10,"x-limit":301.8}}"#,
                false,
            ),
            (
                "x_limit_NEG_string",
                doc_pattern,
                r#"{"detail":{"c-count":5,"d-count":3,"x-limit":"301.8"}}"#,
                false,
            ),
            (
                "equal_numerically_3.0_is_3",
                r#"{"n":[{"numeric":["=",3]}]}"#,
                r#"{"n":3.0}"#,
                true,
            ),
            (
                "equal_exponent_form",
                r#"{"n":[{"numeric":["=",301.8]}]}"#,
                r#"{"n":3.018e2}"#,
                true,
            ),
            (
                "price_is_100",
                r#"{"Price":[{"numeric":["=",100]}]}"#,
                r#"{"Price":100}"#,
                true,
            ),
            (
                "price_range",
                r#"{"Price":[{"numeric":[">",10,"<=",20]}]}"#,
                r#"{"Price":20}"#,
                true,
            ),
            (
                "price_range_NEG_bottom_open",
                r#"{"Price":[{"numeric":[">",10,"<=",20]}]}"#,
                r#"{"Price":10}"#,
                false,
            ),
            (
                "ge_inclusive",
                r#"{"n":[{"numeric":[">=",10]}]}"#,
                r#"{"n":10}"#,
                true,
            ),
            (
                "six_decimal_precision",
                r#"{"n":[{"numeric":["=",1.5]}]}"#,
                r#"{"n":1.5000001}"#,
                true,
            ),
            (
                "six_decimal_precision_NEG",
                r#"{"n":[{"numeric":["=",1.5]}]}"#,
                r#"{"n":1.500001}"#,
                false,
            ),
            (
                "upper_limit_inclusive",
                r#"{"n":[{"numeric":[">",0]}]}"#,
                r#"{"n":5e9}"#,
                true,
            ),
            (
                "large_values_keep_order",
                r#"{"n":[{"numeric":[">",4500000000]}]}"#,
                r#"{"n":4600000000}"#,
                true,
            ),
            (
                "large_values_keep_order_NEG_equal",
                r#"{"n":[{"numeric":[">",4500000000]}]}"#,
                r#"{"n":4500000000}"#,
                false,
            ),
            (
                "NEG_beyond_limit",
                r#"{"n":[{"numeric":[">",0]}]}"#,
                r#"{"n":5000000001}"#,
                false,
            ),
            (
                "NEG_huge_number",
                r#"{"n":[{"numeric":["<",0]}]}"#,
                r#"{"n":-1e308}"#,
                false,
            ),
            (
                "event_array_any_element",
                r#"{"n":[{"numeric":[">",100]}]}"#,
                r#"{"n":[1,2,300]}"#,
                true,
            ),
            (
                "negative_values",
                r#"{"n":[{"numeric":[">=",-10.5,"<",-1]}]}"#,
                r#"{"n":-10.5}"#,
                true,
            ),
        ]);
    }

    #[test]
    fn cidr_and_ip_examples() {
        run_table(&[
            (
                "ipv4_slash24_low",
                r#"{"detail":{"sourceIPAddress":[{"cidr":"10.0.0.0/24"}]}}"#,
                r#"{"detail":{"sourceIPAddress":"10.0.0.0"}}"#,
                true,
            ),
            (
                "ipv4_slash24_high",
                r#"{"detail":{"sourceIPAddress":[{"cidr":"10.0.0.0/24"}]}}"#,
                r#"{"detail":{"sourceIPAddress":"10.0.0.255"}}"#,
                true,
            ),
            (
                "ipv4_slash24_NEG",
                r#"{"detail":{"sourceIPAddress":[{"cidr":"10.0.0.0/24"}]}}"#,
                r#"{"detail":{"sourceIPAddress":"10.0.1.0"}}"#,
                false,
            ),
            (
                "ipv4_NEG_not_an_ip",
                r#"{"detail":{"sourceIPAddress":[{"cidr":"10.0.0.0/24"}]}}"#,
                r#"{"detail":{"sourceIPAddress":"example.com"}}"#,
                false,
            ),
            (
                "ipv4_slash8_ruler_event",
                r#"{"detail":{"source-ip":[{"cidr":"10.0.0.0/8"}]}}"#,
                RULER_EVENT,
                true,
            ),
            (
                "ipv6",
                r#"{"ip":[{"cidr":"2001:db8::/32"}]}"#,
                r#"{"ip":"2001:db8:ffff::1"}"#,
                true,
            ),
            (
                "ipv6_NEG",
                r#"{"ip":[{"cidr":"2001:db8::/32"}]}"#,
                r#"{"ip":"2001:db9::1"}"#,
                false,
            ),
            (
                "ipv6_NEG_ipv4_value",
                r#"{"ip":[{"cidr":"2001:db8::/32"}]}"#,
                r#"{"ip":"10.0.0.1"}"#,
                false,
            ),
            (
                "lower_bound_is_address_as_written_NEG",
                r#"{"ip":[{"cidr":"10.0.0.5/24"}]}"#,
                r#"{"ip":"10.0.0.4"}"#,
                false,
            ),
            (
                "exact_ip_other_spelling",
                r#"{"ip":["2001:db8::1"]}"#,
                r#"{"ip":"2001:0db8:0:0:0:0:0:1"}"#,
                true,
            ),
            (
                "exact_ip_NEG",
                r#"{"ip":["10.0.0.1"]}"#,
                r#"{"ip":"10.0.0.2"}"#,
                false,
            ),
        ]);
    }

    #[test]
    fn exists_examples() {
        let absent = r#"{"detail":{"c-count":[{"exists":false}]}}"#;
        let present = r#"{"detail":{"c-count":[{"exists":true}]}}"#;
        let without = r#"{
          "detail-type": ["EC2 Instance State-change Notification"],
          "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],
          "detail": {"state": ["initializing", "running"]}
        }"#;
        let intermediate = r#"{
          "detail-type": ["EC2 Instance State-change Notification"],
          "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],
          "detail": {"state": ["initializing", "running"], "c-count": {"c1": 100}}
        }"#;
        run_table(&[
            ("false_on_missing", absent, without, true),
            ("false_on_intermediate_node", absent, intermediate, true),
            ("false_NEG_present", absent, RULER_EVENT, false),
            ("true_on_present", present, RULER_EVENT, true),
            ("true_NEG_missing", present, without, false),
            ("true_NEG_intermediate_node", present, intermediate, false),
            (
                "true_on_null",
                r#"{"a":[{"exists":true}]}"#,
                r#"{"a":null}"#,
                true,
            ),
            (
                "true_NEG_empty_array",
                r#"{"a":[{"exists":true}]}"#,
                r#"{"a":[]}"#,
                false,
            ),
            (
                "false_on_empty_array",
                r#"{"a":[{"exists":false}]}"#,
                r#"{"a":[]}"#,
                true,
            ),
            ("false_on_missing_parent", absent, r#"{"source":"x"}"#, true),
            (
                "false_NEG_present_in_any_array_element",
                r#"{"a":{"b":[{"exists":false}],"c":["2"]}}"#,
                r#"{"a":[{"c":"2"},{"b":"x"}]}"#,
                false,
            ),
            (
                "product_name_exists",
                r#"{"ProductName":[{"exists":true}]}"#,
                r#"{"ProductName":"Widget"}"#,
                true,
            ),
            (
                "product_name_not_exists_NEG",
                r#"{"ProductName":[{"exists":false}]}"#,
                r#"{"ProductName":"Widget"}"#,
                false,
            ),
            (
                "exists_false_or_value",
                r#"{"a":[{"exists":false},"x"]}"#,
                r#"{"a":"x"}"#,
                true,
            ),
        ]);
    }

    #[test]
    fn wildcard_examples() {
        run_table(&[
            (
                "event_bus_arn",
                r#"{"EventBusArn":[{"wildcard":"arn:aws:events:us-east-1:*:event-bus/*"}]}"#,
                r#"{"EventBusArn":"arn:aws:events:us-east-1:123456789012:event-bus/default"}"#,
                true,
            ),
            (
                "event_bus_arn_NEG_region",
                r#"{"EventBusArn":[{"wildcard":"arn:aws:events:us-east-1:*:event-bus/*"}]}"#,
                r#"{"EventBusArn":"arn:aws:events:us-west-2:123456789012:event-bus/default"}"#,
                false,
            ),
            (
                "png_in_dir",
                r#"{"FileName":[{"wildcard":"dir/*.png"}]}"#,
                r#"{"FileName":"dir/sub/image.png"}"#,
                true,
            ),
            (
                "png_in_dir_NEG",
                r#"{"FileName":[{"wildcard":"dir/*.png"}]}"#,
                r#"{"FileName":"other/image.png"}"#,
                false,
            ),
            (
                "simple_star_service",
                r#"{"source":[{"wildcard":"Simple*Service"}]}"#,
                r#"{"source":"Simple Queue Service"}"#,
                true,
            ),
            (
                "star_matches_empty",
                r#"{"source":[{"wildcard":"Simple*Service"}]}"#,
                r#"{"source":"SimpleService"}"#,
                true,
            ),
            (
                "NEG_overlapping_head_and_tail",
                r#"{"s":[{"wildcard":"ab*ba"}]}"#,
                r#"{"s":"aba"}"#,
                false,
            ),
            (
                "escaped_star_literal",
                r#"{"s":[{"wildcard":"a\\*b"}]}"#,
                r#"{"s":"a*b"}"#,
                true,
            ),
            (
                "escaped_star_literal_NEG",
                r#"{"s":[{"wildcard":"a\\*b"}]}"#,
                r#"{"s":"axb"}"#,
                false,
            ),
            (
                "escaped_backslash_then_star",
                r#"{"s":[{"wildcard":"a\\\\*"}]}"#,
                r#"{"s":"a\\anything"}"#,
                true,
            ),
            (
                "NEG_number",
                r#"{"s":[{"wildcard":"1*"}]}"#,
                r#"{"s":123}"#,
                false,
            ),
            (
                "no_star_is_exact",
                r#"{"s":[{"wildcard":"abc"}]}"#,
                r#"{"s":"abc"}"#,
                true,
            ),
            (
                "middle_literals_in_order_NEG",
                r#"{"s":[{"wildcard":"*b*a*"}]}"#,
                r#"{"s":"ab"}"#,
                false,
            ),
        ]);
    }

    #[test]
    fn or_examples() {
        let detail_or = r#"{"detail":{"$or":[
            {"c-count":[{"numeric":[">",0,"<=",5]}]},
            {"d-count":[{"numeric":["<",10]}]},
            {"x-limit":[{"numeric":["=",3.018e2]}]}]}}"#;
        let metrics = r#"{"source":["aws.cloudwatch"],"$or":[
            {"metricName":["CPUUtilization","ReadLatency"]},
            {"namespace":["AWS/EC2","AWS/ES"]}]}"#;
        let best_practice = r#"{"detail-type":["AWS API Call via CloudTrail"],"$or":[
            {"source":["aws.sqs"],"detail":{"eventName":["CreateQueue","SetQueueAttributes"]}},
            {"source":["aws.kms"],"detail":{"eventName":["CreateKey","DisableKeyRotation"]}}]}"#;
        let nested = r#"{"source":["aws.cloudwatch"],"$or":[
            {"metricName":["CPUUtilization","ReadLatency"]},
            {"metricType":["MetricType"],"namespace":["AWS/EC2","AWS/ES"],
             "$or":[{"metricId":[1234]},{"spaceId":[1000]}]},
            {"scope":["Service"]}]}"#;
        run_table(&[
            (
                "detail_one_branch",
                detail_or,
                r#"{"detail":{"d-count":3}}"#,
                true,
            ),
            (
                "detail_NEG_no_branch",
                detail_or,
                r#"{"detail":{"c-count":9,"d-count":30,"x-limit":1}}"#,
                false,
            ),
            (
                "metrics_namespace",
                metrics,
                r#"{"source":"aws.cloudwatch","namespace":"AWS/ES"}"#,
                true,
            ),
            (
                "metrics_NEG_source",
                metrics,
                r#"{"source":"aws.ec2","namespace":"AWS/ES"}"#,
                false,
            ),
            (
                "best_practice_kms",
                best_practice,
                r#"{"detail-type":"AWS API Call via CloudTrail","source":"aws.kms","detail":{"eventName":"CreateKey"}}"#,
                true,
            ),
            (
                "best_practice_NEG_crossed",
                best_practice,
                r#"{"detail-type":"AWS API Call via CloudTrail","source":"aws.kms","detail":{"eventName":"CreateQueue"}}"#,
                false,
            ),
            (
                "nested_or_and",
                nested,
                r#"{"source":"aws.cloudwatch","metricType":"MetricType","namespace":"AWS/EC2","spaceId":1000}"#,
                true,
            ),
            (
                "nested_or_and_NEG",
                nested,
                r#"{"source":"aws.cloudwatch","metricType":"MetricType","namespace":"AWS/EC2","spaceId":1001}"#,
                false,
            ),
            (
                "location_or_day",
                r#"{"$or":[{"Location":["New York"]},{"Day":["Monday"]}]}"#,
                r#"{"Location":"Boston","Day":"Monday"}"#,
                true,
            ),
            (
                "location_and_day_NEG",
                r#"{"Location":["New York"],"Day":["Monday"]}"#,
                r#"{"Location":"Boston","Day":"Monday"}"#,
                false,
            ),
            (
                "payment_type",
                r#"{"PaymentType":["Credit","Debit"]}"#,
                r#"{"PaymentType":"Debit"}"#,
                true,
            ),
            (
                "legacy_or_object_is_a_field",
                r#"{"source":["aws.cloudwatch"],"$or":{"metricType":["MetricType"],"namespace":["AWS/EC2","AWS/ES"]}}"#,
                r#"{"source":"aws.cloudwatch","$or":{"metricType":"MetricType","namespace":"AWS/EC2"}}"#,
                true,
            ),
            (
                "legacy_or_object_NEG_not_an_or",
                r#"{"source":["aws.cloudwatch"],"$or":{"metricType":["MetricType"],"namespace":["AWS/EC2"]}}"#,
                r#"{"source":"aws.cloudwatch","metricType":"MetricType"}"#,
                false,
            ),
            (
                "legacy_or_with_reserved_names_is_a_field",
                r#"{"$or":[{"numeric":[">",1]},{"prefix":"ab"}]}"#,
                r#"{"$or":"abc"}"#,
                true,
            ),
        ]);
    }

    #[test]
    fn complex_examples() {
        let complex = r#"{
          "time":[{"prefix":"2017-10-02"}],
          "detail":{
            "state":[{"anything-but":"initializing"}],
            "c-count":[{"numeric":[">",0,"<=",5]}],
            "d-count":[{"numeric":["<",10]}],
            "x-limit":[{"anything-but":[100,200,300]}],
            "source-ip":[{"cidr":"10.0.0.0/8"}]}}"#;
        run_table(&[
            ("ruler_event", complex, RULER_EVENT, true),
            (
                "NEG_time",
                complex,
                RULER_EVENT.replace("2017-10-02T", "2017-10-03T").as_str(),
                false,
            ),
            (
                "NEG_state",
                complex,
                RULER_EVENT
                    .replace("\"running\"", "\"initializing\"")
                    .as_str(),
                false,
            ),
            (
                "simple_matching_ruler_event",
                r#"{"detail-type":["EC2 Instance State-change Notification"],
                    "resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
                    "detail":{"state":["initializing","running"]}}"#,
                RULER_EVENT,
                true,
            ),
            (
                "repeated_object_key_merges",
                r#"{"detail":{"state":["running"]},"detail":{"c-count":[5]}}"#,
                RULER_EVENT,
                true,
            ),
            (
                "repeated_leaf_key_last_wins",
                r#"{"source":["aws.s3"],"source":["aws.ec2"]}"#,
                RULER_EVENT,
                true,
            ),
        ]);
    }

    #[test]
    fn invalid_pattern_errors() {
        run_errors(&[
            ("not_object_array", r#"["a"]"#, "Filter is not an object"),
            ("not_object_string", r#""a""#, "Filter is not an object"),
            ("empty_object", "{}", "Empty objects are not allowed"),
            (
                "nested_empty_object",
                r#"{"detail":{}}"#,
                "Empty objects are not allowed",
            ),
            (
                "leaf_not_array",
                r#"{"detail":{"pipeline":{"slug":"some-pipeline"}}}"#,
                "\"slug\" must be an object or an array",
            ),
            (
                "leaf_number",
                r#"{"source":5}"#,
                "\"source\" must be an object or an array",
            ),
            (
                "empty_array",
                r#"{"source":[]}"#,
                "Empty arrays are not allowed",
            ),
            (
                "nested_array_value",
                r#"{"source":[["a"]]}"#,
                "Match value must be String, number, true, false, or null",
            ),
            (
                "unknown_operator",
                r#"{"a":[{"contains":"x"}]}"#,
                "Unrecognized match type contains",
            ),
            (
                "empty_match_expression",
                r#"{"a":[{}]}"#,
                "Match expression name not found",
            ),
            (
                "two_operators",
                r#"{"a":[{"prefix":"x","suffix":"y"}]}"#,
                ONLY_ONE_KEY,
            ),
            (
                "prefix_not_string",
                r#"{"a":[{"prefix":1}]}"#,
                "prefix match pattern must be a string",
            ),
            (
                "prefix_unknown_sub_operator",
                r#"{"a":[{"prefix":{"wildcard":"x"}}]}"#,
                "Unsupported prefix pattern: wildcard",
            ),
            (
                "prefix_ignore_case_not_string",
                r#"{"a":[{"prefix":{"equals-ignore-case":1}}]}"#,
                "equals-ignore-case match pattern must be a string",
            ),
            (
                "prefix_empty_sub_object",
                r#"{"a":[{"prefix":{}}]}"#,
                "Prefix expression name not found",
            ),
            (
                "suffix_unknown_sub_operator",
                r#"{"a":[{"suffix":{"x":"y"}}]}"#,
                "Unsupported suffix pattern: x",
            ),
            (
                "suffix_not_string",
                r#"{"a":[{"suffix":null}]}"#,
                "suffix match pattern must be a string",
            ),
            (
                "equals_ignore_case_not_string",
                r#"{"a":[{"equals-ignore-case":["x"]}]}"#,
                "equals-ignore-case match pattern must be a string",
            ),
            (
                "exists_not_boolean",
                r#"{"a":[{"exists":"yes"}]}"#,
                "exists match pattern must be either true or false.",
            ),
            (
                "cidr_not_string",
                r#"{"a":[{"cidr":10}]}"#,
                "prefix match pattern must be a string",
            ),
        ]);
    }

    #[test]
    fn invalid_numeric_errors() {
        run_errors(&[
            (
                "not_array",
                r#"{"a":[{"numeric":">"}]}"#,
                "Value of numeric must be an array.",
            ),
            (
                "value_not_numeric",
                r#"{"a":[{"numeric":[">","5"]}]}"#,
                "Value of > must be numeric",
            ),
            (
                "missing_value",
                r#"{"a":[{"numeric":["<="]}]}"#,
                "Value of <= must be numeric",
            ),
            (
                "equals_not_numeric",
                r#"{"a":[{"numeric":["=",true]}]}"#,
                "Value of equals must be numeric",
            ),
            (
                "first_not_operator",
                r#"{"a":[{"numeric":[5]}]}"#,
                "Invalid member in numeric match: 5",
            ),
            (
                "empty",
                r#"{"a":[{"numeric":[]}]}"#,
                "Invalid member in numeric match: ]",
            ),
            (
                "unknown_operator",
                r#"{"a":[{"numeric":["!=",5]}]}"#,
                "Unrecognized numeric range operator: !=",
            ),
            (
                "upper_then_lower",
                r#"{"a":[{"numeric":["<",10,">",0]}]}"#,
                TOO_MANY_NUMERIC,
            ),
            (
                "two_lower_bounds",
                r#"{"a":[{"numeric":[">",0,">",5]}]}"#,
                "Bad numeric range operator: >",
            ),
            (
                "bad_second_term",
                r#"{"a":[{"numeric":[">",0,7,8]}]}"#,
                "Bad value in numeric range: 7",
            ),
            (
                "upper_value_not_numeric",
                r#"{"a":[{"numeric":[">",0,"<","9"]}]}"#,
                "Value of < must be numeric",
            ),
            (
                "too_many_terms",
                r#"{"a":[{"numeric":[">",0,"<",5,6]}]}"#,
                "Too many terms in numeric range expression",
            ),
            (
                "bottom_above_top",
                r#"{"a":[{"numeric":[">",5,"<",1]}]}"#,
                "Bottom must be less than top",
            ),
            (
                "bottom_equals_top",
                r#"{"a":[{"numeric":[">=",5,"<=",5]}]}"#,
                "Bottom must be less than top",
            ),
            (
                "out_of_range",
                r#"{"a":[{"numeric":["=",6e9]}]}"#,
                "Value must be between -5.0E9 and 5.0E9, inclusive",
            ),
            (
                "out_of_range_negative_bound",
                r#"{"a":[{"numeric":[">",-5000000001,"<",0]}]}"#,
                "Value must be between -5.0E9 and 5.0E9, inclusive",
            ),
            (
                "extra_key",
                r#"{"a":[{"numeric":[">",0],"x":1}]}"#,
                TOO_MANY_NUMERIC,
            ),
        ]);
    }

    #[test]
    fn invalid_anything_but_errors() {
        run_errors(&[
            (
                "null_operand",
                r#"{"a":[{"anything-but":null}]}"#,
                "Value of anything-but must be an array or single string/number value.",
            ),
            (
                "mixed_list",
                r#"{"a":[{"anything-but":["a",1]}]}"#,
                "Inside anything but list, either all values are number or string, mixed type is not supported",
            ),
            (
                "empty_list",
                r#"{"a":[{"anything-but":[]}]}"#,
                "Inside anything but list, either all values are number or string, mixed type is not supported",
            ),
            (
                "object_in_list",
                r#"{"a":[{"anything-but":[{"prefix":"abc-"},{"prefix":"xyz-"}]}]}"#,
                "Inside anything but list, start|null|boolean is not supported.",
            ),
            (
                "unknown_sub_operator",
                r#"{"a":[{"anything-but":{"numeric":[">",1]}}]}"#,
                "Unsupported anything-but pattern: numeric",
            ),
            (
                "empty_sub_object",
                r#"{"a":[{"anything-but":{}}]}"#,
                "Anything-But expression name not found",
            ),
            (
                "empty_prefix",
                r#"{"a":[{"anything-but":{"prefix":""}}]}"#,
                "Null prefix/suffix not allowed",
            ),
            (
                "prefix_number",
                r#"{"a":[{"anything-but":{"prefix":5}}]}"#,
                "prefix/suffix match pattern must be a string",
            ),
            (
                "ignore_case_number",
                r#"{"a":[{"anything-but":{"equals-ignore-case":5}}]}"#,
                "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
            ),
            (
                "wildcard_number_in_list",
                r#"{"a":[{"anything-but":{"wildcard":["*a",5]}}]}"#,
                "wildcard match pattern must be a string",
            ),
            (
                "wildcard_consecutive",
                r#"{"a":[{"anything-but":{"wildcard":"a**"}}]}"#,
                "Consecutive wildcard characters at pos 2",
            ),
            (
                "number_out_of_range",
                r#"{"a":[{"anything-but":[1e10]}]}"#,
                "Value must be between -5.0E9 and 5.0E9, inclusive",
            ),
            (
                "extra_key",
                r#"{"a":[{"anything-but":"x","y":1}]}"#,
                TOO_MANY_NUMERIC,
            ),
        ]);
    }

    #[test]
    fn invalid_wildcard_and_cidr_errors() {
        run_errors(&[
            (
                "consecutive_wildcards",
                r#"{"a":[{"wildcard":"ab**c"}]}"#,
                "Consecutive wildcard characters at pos 3",
            ),
            (
                "bad_escape",
                r#"{"a":[{"wildcard":"a\\b"}]}"#,
                "Invalid escape character at pos 2",
            ),
            (
                "trailing_backslash",
                r#"{"a":[{"wildcard":"abc\\"}]}"#,
                "Invalid escape character at pos 4",
            ),
            (
                "wildcard_not_string",
                r#"{"a":[{"wildcard":1}]}"#,
                "wildcard match pattern must be a string",
            ),
            (
                "cidr_no_slash",
                r#"{"a":[{"cidr":"10.0.0.0"}]}"#,
                "Malformed CIDR, one '/' required",
            ),
            (
                "cidr_trailing_slash",
                r#"{"a":[{"cidr":"10.0.0.0/"}]}"#,
                "Malformed CIDR, one '/' required",
            ),
            (
                "cidr_mask_not_integer",
                r#"{"a":[{"cidr":"10.0.0.0/x"}]}"#,
                "Malformed CIDR, mask bits must be an integer",
            ),
            (
                "cidr_mask_negative",
                r#"{"a":[{"cidr":"10.0.0.0/-1"}]}"#,
                "Malformed CIDR, mask bits must not be negative",
            ),
            (
                "cidr_ipv4_mask_32",
                r#"{"a":[{"cidr":"10.0.0.0/32"}]}"#,
                "IPv4 mask bits must be < 32",
            ),
            (
                "cidr_ipv6_mask_128",
                r#"{"a":[{"cidr":"2001:db8::/128"}]}"#,
                "IPv6 mask bits must be < 128",
            ),
            (
                "cidr_hostname",
                r#"{"a":[{"cidr":"example.com/24"}]}"#,
                "Nonstandard IP address: example.com",
            ),
            (
                "cidr_octet_out_of_range",
                r#"{"a":[{"cidr":"999.0.0.0/8"}]}"#,
                "Invalid IP address: 999.0.0.0",
            ),
        ]);
    }

    #[test]
    fn invalid_or_errors() {
        run_errors(&[
            // One branch is not an OR, so AWS falls back to reading "$or" as
            // a field whose array holds match expressions.
            (
                "single_branch",
                r#"{"$or":[{"source":["aws.ec2"]}]}"#,
                "Unrecognized match type source",
            ),
            (
                "reserved_name_in_branch",
                r#"{"$or":[{"a":["1"]},{"prefix":["2"]}]}"#,
                "Unrecognized match type a",
            ),
            (
                "empty_branch",
                r#"{"$or":[{},{"a":["1"]}]}"#,
                "Match expression name not found",
            ),
            (
                "or_value_scalar",
                r#"{"$or":"x"}"#,
                "\"$or\" must be an object or an array",
            ),
        ]);
    }

    #[test]
    fn wildcard_complexity_limits() {
        let datasync = |keys: &[&str]| {
            let values: Vec<String> = keys
                .iter()
                .map(|k| format!(r#"{{"wildcard":"*/datasync/*.{k}"}}"#))
                .collect();
            format!(
                r#"{{"source":["aws.s3"],"detail":{{"object":{{"key":[{}]}}}}}}"#,
                values.join(",")
            )
        };
        run_errors(&[
            (
                "four_two_wildcard_filters",
                datasync(&["bif", "tif", "tiff", "svs"]).as_str(),
                TOO_COMPLEX,
            ),
            (
                "eleven_leading_wildcards",
                format!(
                    r#"{{"k":[{}]}}"#,
                    (0..11)
                        .map(|i| format!(r#"{{"wildcard":"*{i}"}}"#))
                        .collect::<Vec<_>>()
                        .join(",")
                )
                .as_str(),
                TOO_COMPLEX,
            ),
        ]);
        let accepted = [
            datasync(&["bif", "tif"]),
            datasync(&["tiff", "svs"]),
            r#"{"detail":{"object":{"key":[{"wildcard":"*.bif"},{"wildcard":"*.tiff"},{"wildcard":"*.tif"},{"wildcard":"*.svs"}]}}}"#.to_owned(),
            r#"{"a":[{"wildcard":"a*b*c*d*e"}]}"#.to_owned(),
        ];
        for pattern in accepted {
            assert!(EventPattern::parse(&pattern).is_ok(), "{pattern}");
        }
    }

    #[test]
    fn malformed_input_never_panics() {
        let deep_pattern = format!("{}\"a\":[\"b\"]{}", "{\"x\":".repeat(150), "}".repeat(150));
        for bad in [
            "",
            "{",
            "{\"a\": [\"b\"]",
            "null",
            "{\"a\":[1e400]}",
            "{\"a\":[{\"numeric\":[\">\",1e400]}]}",
            deep_pattern.as_str(),
        ] {
            let err = EventPattern::parse(bad).err();
            assert!(
                matches!(err, Some(EventPatternError::InvalidPattern { .. })),
                "{bad:?}"
            );
        }
        let pattern = EventPattern::parse(r#"{"a":{"b":[{"exists":false}]}}"#);
        let Ok(pattern) = pattern else {
            panic!("valid pattern rejected");
        };
        assert!(matches!(
            pattern.matches_str("{"),
            Err(EventPatternError::InvalidEvent { .. })
        ));
        // A deeply nested array built in code is walked only to a bound.
        let mut deep = Value::String("x".to_owned());
        for _ in 0..1_000 {
            deep = Value::Array(vec![deep]);
        }
        let mut inner = serde_json::Map::new();
        inner.insert("b".to_owned(), deep);
        let mut outer = serde_json::Map::new();
        outer.insert("a".to_owned(), Value::Object(inner));
        assert!(pattern.matches(&Value::Object(outer)));
    }

    #[test]
    fn pattern_is_send_sync_clone() {
        fn assert_traits<T: Send + Sync + Clone>() {}
        assert_traits::<EventPattern>();
        let Ok(pattern) = EventPattern::parse(r#"{"source":["aws.ec2"]}"#) else {
            panic!("valid pattern rejected");
        };
        let copy = pattern.clone();
        assert_eq!(copy.matches_str(EC2_EVENT), Ok(true));
    }
}
