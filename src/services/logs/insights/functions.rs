//! Scalar functions and time periods of the Logs Insights language.
//!
//! Functions are looked up by lower-cased name at parse time (AWS accepts both
//! `ispresent` and `isPresent`) and their argument counts checked there, so
//! evaluation only has to compute. A missing argument usually makes the result
//! missing, which is how a field absent from one log event drops out of a
//! comparison instead of failing the query.

use std::borrow::Cow;
use std::net::IpAddr;

use super::value::{civil_from_days, days_from_civil, Value, MILLIS_PER_DAY};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScalarFunction {
    Abs,
    Ceil,
    Floor,
    Log,
    Sqrt,
    Pow,
    Greatest,
    Least,
    StrLen,
    ToUpper,
    ToLower,
    Trim,
    LeftTrim,
    RightTrim,
    Concat,
    Substr,
    Replace,
    StrContains,
    IsPresent,
    IsEmpty,
    IsBlank,
    Coalesce,
    FromMillis,
    ToMillis,
    IsValidIp,
    IsValidIpV4,
    IsValidIpV6,
    IsIpInSubnet,
    IsIpv4InSubnet,
    IsIpv6InSubnet,
}

/// Functions that take a time period and are therefore parsed specially.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TimeFunction {
    Bin,
    DateFloor,
    DateCeil,
}

impl TimeFunction {
    pub(super) fn lookup(lower_name: &str) -> Option<Self> {
        match lower_name {
            "bin" => Some(TimeFunction::Bin),
            "datefloor" => Some(TimeFunction::DateFloor),
            "dateceil" => Some(TimeFunction::DateCeil),
            _ => None,
        }
    }
}

impl ScalarFunction {
    pub(super) fn lookup(lower_name: &str) -> Option<Self> {
        use ScalarFunction as F;
        Some(match lower_name {
            "abs" => F::Abs,
            "ceil" => F::Ceil,
            "floor" => F::Floor,
            "log" => F::Log,
            "sqrt" => F::Sqrt,
            "pow" => F::Pow,
            "greatest" => F::Greatest,
            "least" => F::Least,
            "strlen" => F::StrLen,
            "toupper" => F::ToUpper,
            "tolower" => F::ToLower,
            "trim" => F::Trim,
            "ltrim" => F::LeftTrim,
            "rtrim" => F::RightTrim,
            "concat" => F::Concat,
            "substr" => F::Substr,
            "replace" => F::Replace,
            "strcontains" => F::StrContains,
            "ispresent" => F::IsPresent,
            "isempty" => F::IsEmpty,
            "isblank" => F::IsBlank,
            "coalesce" => F::Coalesce,
            "frommillis" => F::FromMillis,
            "tomillis" => F::ToMillis,
            "isvalidip" => F::IsValidIp,
            "isvalidipv4" => F::IsValidIpV4,
            "isvalidipv6" => F::IsValidIpV6,
            "isipinsubnet" => F::IsIpInSubnet,
            "isipv4insubnet" => F::IsIpv4InSubnet,
            "isipv6insubnet" => F::IsIpv6InSubnet,
            _ => return None,
        })
    }

    /// Minimum and maximum number of arguments (`None`: any number).
    pub(super) fn arity(self) -> (usize, Option<usize>) {
        use ScalarFunction as F;
        match self {
            F::Abs
            | F::Ceil
            | F::Floor
            | F::Log
            | F::Sqrt
            | F::StrLen
            | F::ToUpper
            | F::ToLower
            | F::IsPresent
            | F::IsEmpty
            | F::IsBlank
            | F::FromMillis
            | F::ToMillis
            | F::IsValidIp
            | F::IsValidIpV4
            | F::IsValidIpV6 => (1, Some(1)),
            F::Pow | F::StrContains | F::IsIpInSubnet | F::IsIpv4InSubnet | F::IsIpv6InSubnet => {
                (2, Some(2))
            }
            F::Trim | F::LeftTrim | F::RightTrim => (1, Some(2)),
            F::Substr => (2, Some(3)),
            F::Replace => (3, Some(3)),
            F::Greatest | F::Least | F::Concat | F::Coalesce => (1, None),
        }
    }

    /// Functions that also accept more than one argument; their single-argument
    /// form goes through [`ScalarFunction::apply`].
    fn takes_several(self) -> bool {
        matches!(self.arity().1, Some(2..) | None) && self.arity().0 <= 1
    }

    /// Applies a function to one argument without building an argument list,
    /// which keeps the common `strlen(x)`, `ispresent(x)` case allocation-free.
    pub(super) fn apply_one<'v>(self, argument: Option<Value<'v>>) -> Option<Value<'v>> {
        use ScalarFunction as F;
        if self.takes_several() {
            return self.apply(vec![argument]);
        }
        match self {
            F::IsPresent => Some(Value::Bool(argument.is_some())),
            F::IsEmpty => Some(Value::Bool(
                argument.as_ref().is_none_or(|v| v.to_text().is_empty()),
            )),
            F::IsBlank => Some(Value::Bool(
                argument
                    .as_ref()
                    .is_none_or(|v| v.to_text().trim().is_empty()),
            )),
            _ => {
                let value = argument?;
                match self {
                    F::Abs => finite(value.as_number()?.abs()),
                    F::Ceil => finite(value.as_number()?.ceil()),
                    F::Floor => finite(value.as_number()?.floor()),
                    F::Log => finite(value.as_number()?.ln()),
                    F::Sqrt => finite(value.as_number()?.sqrt()),
                    // Counts are far below 2^53, so the conversion is exact.
                    #[allow(clippy::cast_precision_loss)]
                    F::StrLen => Some(Value::Num(value.to_text().chars().count() as f64)),
                    F::ToUpper => Some(Value::Str(Cow::Owned(value.to_text().to_uppercase()))),
                    F::ToLower => Some(Value::Str(Cow::Owned(value.to_text().to_lowercase()))),
                    F::FromMillis => value.as_time_ms().map(Value::Time),
                    #[allow(clippy::cast_precision_loss)]
                    F::ToMillis => value.as_time_ms().map(|ms| Value::Num(ms as f64)),
                    F::IsValidIp => Some(Value::Bool(parse_ip(&value).is_some())),
                    F::IsValidIpV4 => {
                        Some(Value::Bool(matches!(parse_ip(&value), Some(IpAddr::V4(_)))))
                    }
                    F::IsValidIpV6 => {
                        Some(Value::Bool(matches!(parse_ip(&value), Some(IpAddr::V6(_)))))
                    }
                    _ => None,
                }
            }
        }
    }

    pub(super) fn apply<'v>(self, mut arguments: Vec<Option<Value<'v>>>) -> Option<Value<'v>> {
        use ScalarFunction as F;
        if arguments.len() == 1 && !self.takes_several() {
            return self.apply_one(arguments.pop().flatten());
        }
        match self {
            F::Coalesce => arguments.into_iter().flatten().next(),
            F::Concat => {
                let mut joined = String::new();
                for value in arguments.iter().flatten() {
                    joined.push_str(&value.to_text());
                }
                Some(Value::Str(Cow::Owned(joined)))
            }
            F::Greatest | F::Least => {
                let numbers = arguments.iter().flatten().filter_map(Value::as_number);
                let pick = if self == F::Greatest {
                    f64::max
                } else {
                    f64::min
                };
                numbers.reduce(pick).and_then(finite)
            }
            F::Pow => {
                let base = number_at(&arguments, 0)?;
                finite(base.powf(number_at(&arguments, 1)?))
            }
            F::Trim | F::LeftTrim | F::RightTrim => {
                let subject = arguments.first().cloned().flatten()?;
                let characters = arguments.get(1).cloned().flatten();
                Some(trim(subject, characters.as_ref(), self))
            }
            F::Substr => {
                let subject = text_at(&arguments, 0)?;
                let start = whole_number_at(&arguments, 1)?;
                let length = match arguments.get(2) {
                    Some(_) => Some(whole_number_at(&arguments, 2)?),
                    None => None,
                };
                Some(Value::Str(Cow::Owned(substring(&subject, start, length))))
            }
            F::Replace => {
                let subject = text_at(&arguments, 0)?;
                let search = text_at(&arguments, 1)?;
                let replacement = text_at(&arguments, 2)?;
                if search.is_empty() {
                    return Some(Value::Str(Cow::Owned(subject)));
                }
                Some(Value::Str(Cow::Owned(
                    subject.replace(&search, &replacement),
                )))
            }
            F::StrContains => {
                let subject = text_at(&arguments, 0)?;
                let search = text_at(&arguments, 1)?;
                Some(Value::Num(if subject.contains(&search) {
                    1.0
                } else {
                    0.0
                }))
            }
            F::IsIpInSubnet | F::IsIpv4InSubnet | F::IsIpv6InSubnet => {
                let address = arguments
                    .first()
                    .and_then(|v| v.as_ref().and_then(parse_ip));
                let subnet = text_at(&arguments, 1)?;
                let inside = address.is_some_and(|address| {
                    let family_ok = match self {
                        F::IsIpv4InSubnet => address.is_ipv4(),
                        F::IsIpv6InSubnet => address.is_ipv6(),
                        _ => true,
                    };
                    family_ok && in_subnet(address, &subnet)
                });
                Some(Value::Bool(inside))
            }
            _ => None,
        }
    }
}

fn finite<'v>(n: f64) -> Option<Value<'v>> {
    n.is_finite().then_some(Value::Num(n))
}

fn number_at(arguments: &[Option<Value<'_>>], index: usize) -> Option<f64> {
    arguments.get(index)?.as_ref()?.as_number()
}

fn whole_number_at(arguments: &[Option<Value<'_>>], index: usize) -> Option<i64> {
    let n = number_at(arguments, index)?;
    // Indexes beyond any string length behave the same, so clamping is harmless.
    #[allow(clippy::cast_possible_truncation)]
    let clamped = n.trunc().clamp(-1e15, 1e15) as i64;
    Some(clamped)
}

fn text_at(arguments: &[Option<Value<'_>>], index: usize) -> Option<String> {
    Some(arguments.get(index)?.as_ref()?.to_text().into_owned())
}

fn trim<'v>(subject: Value<'v>, characters: Option<&Value<'_>>, side: ScalarFunction) -> Value<'v> {
    let set: Option<Vec<char>> = characters.map(|c| c.to_text().chars().collect());
    let strip = |c: char| match &set {
        Some(set) => set.contains(&c),
        None => c.is_whitespace(),
    };
    let cut = |text: &str| -> (usize, usize) {
        let start = match side {
            ScalarFunction::RightTrim => 0,
            _ => text.len() - text.trim_start_matches(strip).len(),
        };
        let end = match side {
            ScalarFunction::LeftTrim => text.len(),
            _ => text.trim_end_matches(strip).len(),
        };
        (start, end.max(start))
    };
    match subject {
        Value::Str(Cow::Borrowed(text)) => {
            let (start, end) = cut(text);
            Value::Str(Cow::Borrowed(text.get(start..end).unwrap_or("")))
        }
        other => {
            let text = other.to_text();
            let (start, end) = cut(&text);
            Value::Str(Cow::Owned(text.get(start..end).unwrap_or("").to_owned()))
        }
    }
}

/// `substr` counts in Unicode code points from zero, as AWS's `substr("xyZfooxyZ", 3, 3)`
/// returning `"foo"` shows.
fn substring(subject: &str, start: i64, length: Option<i64>) -> String {
    let skip = usize::try_from(start.max(0)).unwrap_or(usize::MAX);
    let chars = subject.chars().skip(skip);
    match length {
        Some(length) => chars
            .take(usize::try_from(length.max(0)).unwrap_or(usize::MAX))
            .collect(),
        None => chars.collect(),
    }
}

fn parse_ip(value: &Value<'_>) -> Option<IpAddr> {
    value.to_text().trim().parse().ok()
}

fn in_subnet(address: IpAddr, subnet: &str) -> bool {
    let Some((network, prefix)) = subnet.trim().split_once('/') else {
        return false;
    };
    let (Ok(network), Ok(prefix)) = (network.parse::<IpAddr>(), prefix.parse::<u32>()) else {
        return false;
    };
    match (address, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) if prefix <= 32 => {
            let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if prefix <= 128 => {
            let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PeriodUnit {
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

/// A time period such as `5m` or `1mo`, as used by `bin`, `datefloor` and `dateceil`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Period {
    amount: i64,
    unit: PeriodUnit,
}

/// Monday 1970-01-05 is day 4 of the epoch; weeks are aligned to Mondays.
const FIRST_MONDAY_MS: i64 = 4 * MILLIS_PER_DAY;
const EPOCH_MONTH_INDEX: i64 = 1970 * 12;

impl Period {
    /// Reads a period from its amount and unit. The unit names are those the AWS
    /// `stats` page lists for `bin`; units longer than one letter may take a plural `s`.
    pub(super) fn parse(amount: &str, unit: &str) -> Result<Period, String> {
        let lower = unit.to_ascii_lowercase();
        let unit = unit_named(&lower)
            .or_else(|| {
                lower
                    .strip_suffix('s')
                    .filter(|singular| singular.len() > 1)
                    .and_then(unit_named)
            })
            .ok_or_else(|| format!("unknown time unit '{unit}'"))?;
        let amount: i64 = amount
            .parse()
            .map_err(|_| format!("time period amount '{amount}' must be a whole number"))?;
        let period = Period { amount, unit };
        if amount < 1 || period.step_ms().is_none() && period.months().is_none() {
            return Err(format!("time period amount '{amount}' is out of range"));
        }
        Ok(period)
    }

    fn step_ms(self) -> Option<i64> {
        let unit_ms = match self.unit {
            PeriodUnit::Millisecond => 1,
            PeriodUnit::Second => 1000,
            PeriodUnit::Minute => 60_000,
            PeriodUnit::Hour => 3_600_000,
            PeriodUnit::Day => MILLIS_PER_DAY,
            PeriodUnit::Week => 7 * MILLIS_PER_DAY,
            PeriodUnit::Month | PeriodUnit::Quarter | PeriodUnit::Year => return None,
        };
        self.amount.checked_mul(unit_ms)
    }

    fn months(self) -> Option<i64> {
        let unit_months = match self.unit {
            PeriodUnit::Month => 1,
            PeriodUnit::Quarter => 3,
            PeriodUnit::Year => 12,
            _ => return None,
        };
        // More than a million years per bucket is not a calendar period.
        self.amount
            .checked_mul(unit_months)
            .filter(|months| *months <= 12_000_000)
    }

    /// The start of the period containing `ms`. Fixed-length periods count from
    /// the epoch (days at UTC midnight, weeks from Monday); months, quarters and
    /// years follow the UTC calendar.
    pub(super) fn floor(self, ms: i64) -> Option<i64> {
        if let Some(step) = self.step_ms() {
            let origin = if self.unit == PeriodUnit::Week {
                FIRST_MONDAY_MS
            } else {
                0
            };
            let offset = ms.checked_sub(origin)?;
            return offset
                .div_euclid(step)
                .checked_mul(step)?
                .checked_add(origin);
        }
        let step = self.months()?;
        let (year, month, _) = civil_from_days(ms.div_euclid(MILLIS_PER_DAY));
        let month_index = year * 12 + month - 1 - EPOCH_MONTH_INDEX;
        month_start_ms(month_index.div_euclid(step) * step)
    }

    /// The smallest period boundary at or after `ms`.
    pub(super) fn ceil(self, ms: i64) -> Option<i64> {
        let floor = self.floor(ms)?;
        if floor == ms {
            return Some(ms);
        }
        if let Some(step) = self.step_ms() {
            return floor.checked_add(step);
        }
        let step = self.months()?;
        let (year, month, _) = civil_from_days(floor.div_euclid(MILLIS_PER_DAY));
        month_start_ms(year * 12 + month - 1 - EPOCH_MONTH_INDEX + step)
    }
}

fn month_start_ms(months_since_epoch: i64) -> Option<i64> {
    let absolute = months_since_epoch.checked_add(EPOCH_MONTH_INDEX)?;
    let days = days_from_civil(absolute.div_euclid(12), absolute.rem_euclid(12) + 1, 1);
    days.checked_mul(MILLIS_PER_DAY)
}

fn unit_named(name: &str) -> Option<PeriodUnit> {
    Some(match name {
        "ms" | "msec" | "millisecond" => PeriodUnit::Millisecond,
        "s" | "sec" | "second" => PeriodUnit::Second,
        "m" | "min" | "minute" => PeriodUnit::Minute,
        "h" | "hr" | "hour" => PeriodUnit::Hour,
        "d" | "day" => PeriodUnit::Day,
        "w" | "week" => PeriodUnit::Week,
        "mo" | "mon" | "month" => PeriodUnit::Month,
        "q" | "qtr" | "quarter" => PeriodUnit::Quarter,
        "y" | "yr" | "year" => PeriodUnit::Year,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::value::parse_timestamp_text;
    use super::*;

    /// A function, its arguments and the text of the expected result.
    type Case<'a> = (ScalarFunction, Vec<Option<Value<'a>>>, Option<&'a str>);

    fn text(s: &str) -> Option<Value<'_>> {
        Some(Value::Str(Cow::Borrowed(s)))
    }

    fn num<'v>(n: f64) -> Option<Value<'v>> {
        Some(Value::Num(n))
    }

    fn shown(value: Option<Value<'_>>) -> Option<String> {
        value.map(|v| v.to_text().into_owned())
    }

    /// Examples from the AWS function tables.
    #[test]
    fn documented_string_function_examples() {
        use ScalarFunction as F;
        let cases: Vec<Case<'_>> = vec![
            (
                F::LeftTrim,
                vec![text("xyZfooxyZ"), text("xyZ")],
                Some("fooxyZ"),
            ),
            (
                F::RightTrim,
                vec![text("xyZfooxyZ"), text("xyZ")],
                Some("xyZfoo"),
            ),
            (F::Trim, vec![text("xyZfooxyZ"), text("xyZ")], Some("foo")),
            (F::Trim, vec![text("  padded \t")], Some("padded")),
            (
                F::Substr,
                vec![text("xyZfooxyZ"), num(3.0), num(3.0)],
                Some("foo"),
            ),
            (F::Substr, vec![text("xyZfooxyZ"), num(6.0)], Some("xyZ")),
            (F::Substr, vec![text("abc"), num(10.0)], Some("")),
            (
                F::Replace,
                vec![text("foo"), text("o"), text("0")],
                Some("f00"),
            ),
            (
                F::StrContains,
                vec![text("Exception here"), text("Exception")],
                Some("1"),
            ),
            (
                F::StrContains,
                vec![text("all good"), text("Exception")],
                Some("0"),
            ),
            (
                F::Concat,
                vec![text("GetItem"), text("-"), num(200.0)],
                Some("GetItem-200"),
            ),
            (F::StrLen, vec![text("héllo")], Some("5")),
            (F::ToUpper, vec![text("abc")], Some("ABC")),
            (F::ToLower, vec![text("ABC")], Some("abc")),
            (F::Coalesce, vec![None, text("second")], Some("second")),
            // _NEG: a missing input gives a missing result.
            (F::StrLen, vec![None], None),
            (F::Replace, vec![None, text("o"), text("0")], None),
        ];
        for (function, arguments, expected) in cases {
            let description = format!("{function:?}({arguments:?})");
            assert_eq!(
                shown(function.apply(arguments)).as_deref(),
                expected,
                "{description}"
            );
        }
    }

    #[test]
    fn presence_functions() {
        use ScalarFunction as F;
        let cases: &[(ScalarFunction, Option<Value<'_>>, &str)] = &[
            (F::IsPresent, text(""), "1"),
            (F::IsPresent, None, "0"),
            (F::IsEmpty, text(""), "1"),
            (F::IsEmpty, None, "1"),
            (F::IsEmpty, text(" "), "0"),
            (F::IsBlank, text(" \t"), "1"),
            (F::IsBlank, text("x"), "0"),
        ];
        for (function, argument, expected) in cases {
            assert_eq!(
                shown(function.apply_one(argument.clone())).as_deref(),
                Some(*expected),
                "{function:?}"
            );
        }
    }

    #[test]
    fn numeric_functions() {
        use ScalarFunction as F;
        let cases: Vec<Case<'_>> = vec![
            (F::Abs, vec![num(-4.5)], Some("4.5")),
            (F::Ceil, vec![text("1.2")], Some("2")),
            (F::Floor, vec![num(-1.2)], Some("-2")),
            (F::Sqrt, vec![num(16.0)], Some("4")),
            (F::Log, vec![num(1.0)], Some("0")),
            (F::Pow, vec![num(2.0), num(10.0)], Some("1024")),
            (F::Greatest, vec![num(3.0), text("7"), None], Some("7")),
            (F::Least, vec![num(3.0), text("7")], Some("3")),
            // _NEG: undefined results and non-numbers are missing, not errors.
            (F::Log, vec![num(0.0)], None),
            (F::Sqrt, vec![num(-1.0)], None),
            (F::Abs, vec![text("abc")], None),
        ];
        for (function, arguments, expected) in cases {
            assert_eq!(
                shown(function.apply(arguments)).as_deref(),
                expected,
                "{function:?}"
            );
        }
    }

    #[test]
    fn ip_functions() {
        use ScalarFunction as F;
        let cases: Vec<(ScalarFunction, Vec<Option<Value<'_>>>, &str)> = vec![
            (F::IsValidIp, vec![text("192.0.2.10")], "1"),
            (F::IsValidIpV4, vec![text("2001:db8::1")], "0"),
            (F::IsValidIpV6, vec![text("2001:db8::1")], "1"),
            (F::IsValidIp, vec![text("300.1.1.1")], "0"),
            (
                F::IsIpv4InSubnet,
                vec![text("192.0.2.77"), text("192.0.2.0/24")],
                "1",
            ),
            (
                F::IsIpv4InSubnet,
                vec![text("192.0.3.1"), text("192.0.2.0/24")],
                "0",
            ),
            (
                F::IsIpv6InSubnet,
                vec![text("2001:db8::5"), text("2001:db8::/32")],
                "1",
            ),
            (
                F::IsIpInSubnet,
                vec![text("10.1.2.3"), text("0.0.0.0/0")],
                "1",
            ),
            (
                F::IsIpInSubnet,
                vec![text("10.1.2.3"), text("not-a-subnet")],
                "0",
            ),
        ];
        for (function, arguments, expected) in cases {
            assert_eq!(
                shown(function.apply(arguments)).as_deref(),
                Some(expected),
                "{function:?}"
            );
        }
    }

    fn at(text: &str) -> i64 {
        parse_timestamp_text(text).unwrap_or(i64::MIN)
    }

    #[test]
    fn periods_floor_and_ceil() {
        let cases: &[(&str, &str, &str, &str, &str)] = &[
            (
                "5",
                "m",
                "2024-01-02 03:07:05.678",
                "2024-01-02 03:05:00.000",
                "2024-01-02 03:10:00.000",
            ),
            (
                "1",
                "h",
                "2024-01-02 03:04:05.678",
                "2024-01-02 03:00:00.000",
                "2024-01-02 04:00:00.000",
            ),
            (
                "100",
                "ms",
                "2024-01-02 03:04:05.678",
                "2024-01-02 03:04:05.600",
                "2024-01-02 03:04:05.700",
            ),
            (
                "30",
                "secs",
                "2024-01-02 03:04:45.000",
                "2024-01-02 03:04:30.000",
                "2024-01-02 03:05:00.000",
            ),
            (
                "1",
                "d",
                "2024-01-02 03:04:05.678",
                "2024-01-02 00:00:00.000",
                "2024-01-03 00:00:00.000",
            ),
            // 2024-01-03 is a Wednesday; its week starts on Monday the 1st.
            (
                "1",
                "w",
                "2024-01-03 10:00:00.000",
                "2024-01-01 00:00:00.000",
                "2024-01-08 00:00:00.000",
            ),
            (
                "1",
                "mo",
                "2024-02-29 10:00:00.000",
                "2024-02-01 00:00:00.000",
                "2024-03-01 00:00:00.000",
            ),
            (
                "1",
                "q",
                "2024-05-15 00:00:00.000",
                "2024-04-01 00:00:00.000",
                "2024-07-01 00:00:00.000",
            ),
            (
                "1",
                "yrs",
                "2024-05-15 00:00:00.000",
                "2024-01-01 00:00:00.000",
                "2025-01-01 00:00:00.000",
            ),
            (
                "1",
                "h",
                "2024-01-02 03:00:00.000",
                "2024-01-02 03:00:00.000",
                "2024-01-02 03:00:00.000",
            ),
        ];
        for (amount, unit, input, floor, ceil) in cases {
            let period = Period::parse(amount, unit);
            assert!(period.is_ok(), "{amount}{unit}");
            let Ok(period) = period else { continue };
            assert_eq!(
                period.floor(at(input)),
                Some(at(floor)),
                "floor {amount}{unit} {input}"
            );
            assert_eq!(
                period.ceil(at(input)),
                Some(at(ceil)),
                "ceil {amount}{unit} {input}"
            );
        }
    }

    #[test]
    fn invalid_periods_are_rejected() {
        for (amount, unit) in [
            ("5", "x"),
            ("0", "m"),
            ("1.5", "h"),
            ("99999999999999999", "w"),
            ("1", "s2"),
        ] {
            assert!(Period::parse(amount, unit).is_err(), "_NEG {amount}{unit}");
        }
    }
}
