//! Runtime values of the Logs Insights language and the conversions between them.
//!
//! Log data is text, so most values are strings that turn into numbers only when
//! an operator or function asks for one; that is how AWS lets `duration > 2000`
//! work on a JSON field or on a value extracted by `parse`. Computed values keep
//! their own type (number, boolean, timestamp) so that results print the way AWS
//! prints them: timestamps as `2024-01-02 03:04:05.678`, booleans as `1`/`0`.
//! Strings are `Cow` so that evaluation can borrow from the log event instead of
//! copying it for every record.

use std::borrow::Cow;
use std::cmp::Ordering;

pub(super) const MILLIS_PER_DAY: i64 = 86_400_000;

/// A non-missing value. A missing field is represented by `Option::None` around it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value<'a> {
    Str(Cow<'a, str>),
    Num(f64),
    Bool(bool),
    /// Milliseconds since the Unix epoch, UTC.
    Time(i64),
}

impl Value<'_> {
    /// Detaches the value from whatever it borrows so it can outlive the record.
    pub(super) fn into_owned(self) -> Value<'static> {
        match self {
            Value::Str(text) => Value::Str(Cow::Owned(text.into_owned())),
            Value::Num(n) => Value::Num(n),
            Value::Bool(b) => Value::Bool(b),
            Value::Time(t) => Value::Time(t),
        }
    }

    /// A cheap view of the value that borrows its text instead of cloning it.
    pub(super) fn reborrow(&self) -> Value<'_> {
        match self {
            Value::Str(text) => Value::Str(Cow::Borrowed(text.as_ref())),
            Value::Num(n) => Value::Num(*n),
            Value::Bool(b) => Value::Bool(*b),
            Value::Time(t) => Value::Time(*t),
        }
    }

    /// The numeric reading of the value, if it has one.
    pub(super) fn as_number(&self) -> Option<f64> {
        match self {
            Value::Str(text) => parse_numeric(text),
            Value::Num(n) => Some(*n),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            // Exact for every instant within ±285,000 years of the epoch.
            #[allow(clippy::cast_precision_loss)]
            Value::Time(t) => Some(*t as f64),
        }
    }

    /// The value read as an instant: timestamps, epoch milliseconds, or timestamp text.
    pub(super) fn as_time_ms(&self) -> Option<i64> {
        match self {
            Value::Time(t) => Some(*t),
            Value::Str(text) => parse_numeric(text)
                .and_then(millis_from_number)
                .or_else(|| parse_timestamp_text(text)),
            Value::Num(n) => millis_from_number(*n),
            Value::Bool(_) => None,
        }
    }

    /// The text AWS shows for the value.
    pub(super) fn to_text(&self) -> Cow<'_, str> {
        match self {
            Value::Str(text) => Cow::Borrowed(text.as_ref()),
            Value::Num(n) => Cow::Owned(format_number(*n)),
            Value::Bool(b) => Cow::Borrowed(if *b { "1" } else { "0" }),
            Value::Time(t) => Cow::Owned(format_timestamp(*t)),
        }
    }

    /// Whether the sort order treats the value as a number.
    fn sort_number(&self) -> Option<f64> {
        match self {
            Value::Str(text) => parse_numeric(text),
            other => other.as_number(),
        }
    }
}

/// Converts a float to whole epoch milliseconds, refusing values an `i64` cannot hold.
pub(super) fn millis_from_number(n: f64) -> Option<i64> {
    // 9.2e18 is the i64 range; anything beyond is not an instant.
    const LIMIT: f64 = 9.0e18;
    if n.is_finite() && n.abs() < LIMIT {
        #[allow(clippy::cast_possible_truncation)]
        let whole = n.floor() as i64;
        Some(whole)
    } else {
        None
    }
}

/// Reads text as a number only when it is entirely a decimal number.
///
/// Rust's own float parser would also accept `inf`, `NaN` and `infinity`, which in
/// log data are words, not numbers.
pub(super) fn parse_numeric(text: &str) -> Option<f64> {
    let trimmed = text.trim_matches(|c: char| c.is_ascii_whitespace());
    let bytes = trimmed.as_bytes();
    let mut index = 0;
    if matches!(bytes.first(), Some(b'-' | b'+')) {
        index += 1;
    }
    let integer_digits = count_digits(bytes, index);
    index += integer_digits;
    let mut fraction_digits = 0;
    if bytes.get(index) == Some(&b'.') {
        index += 1;
        fraction_digits = count_digits(bytes, index);
        index += fraction_digits;
    }
    if integer_digits == 0 && fraction_digits == 0 {
        return None;
    }
    if matches!(bytes.get(index), Some(b'e' | b'E')) {
        index += 1;
        if matches!(bytes.get(index), Some(b'-' | b'+')) {
            index += 1;
        }
        let exponent_digits = count_digits(bytes, index);
        if exponent_digits == 0 {
            return None;
        }
        index += exponent_digits;
    }
    if index != bytes.len() {
        return None;
    }
    trimmed.parse::<f64>().ok().filter(|n| n.is_finite())
}

fn count_digits(bytes: &[u8], from: usize) -> usize {
    bytes.get(from..).map_or(0, |rest| {
        rest.iter().take_while(|b| b.is_ascii_digit()).count()
    })
}

/// Prints a number the way query results show it: whole numbers without a
/// fraction, everything else in the shortest form that reads back exactly.
pub(super) fn format_number(n: f64) -> String {
    // Beyond 2^53 not every integer is representable, so the integer form would lie.
    const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;
    if n.fract() == 0.0 && n.abs() < EXACT_INTEGER_LIMIT {
        #[allow(clippy::cast_possible_truncation)]
        let whole = n as i64;
        whole.to_string()
    } else {
        n.to_string()
    }
}

/// Formats epoch milliseconds as `YYYY-MM-DD HH:MM:SS.mmm` in UTC, as the console and
/// `GetQueryResults` show `@timestamp`.
pub(super) fn format_timestamp(ms: i64) -> String {
    let days = ms.div_euclid(MILLIS_PER_DAY);
    let in_day = ms.rem_euclid(MILLIS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03}",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
///
/// Works in 400-year eras, each of which has exactly 146,097 days, with years
/// starting in March so that the leap day falls at the end of the year.
pub(super) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // 0 = March
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The inverse of [`civil_from_days`].
pub(super) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let march_year = if month <= 2 { year - 1 } else { year };
    let era = march_year.div_euclid(400);
    let year_of_era = march_year.rem_euclid(400);
    let month_index = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Reads `YYYY-MM-DD`, optionally followed by `T` or a space and `HH:MM[:SS[.fff]]`
/// and an optional `Z`, as UTC. This covers the form results are printed in, so a
/// timestamp that went through `concat` or `parse` can be read back.
pub(super) fn parse_timestamp_text(text: &str) -> Option<i64> {
    let text = text.trim();
    let text = text.strip_suffix('Z').unwrap_or(text);
    let (date, time) = match text.find(['T', ' ']) {
        Some(split) => (text.get(..split)?, Some(text.get(split + 1..)?)),
        None => (text, None),
    };
    let mut date_parts = date.split('-');
    let year = fixed_digits(date_parts.next()?, 4)?;
    let month = fixed_digits(date_parts.next()?, 2)?;
    let day = fixed_digits(date_parts.next()?, 2)?;
    if date_parts.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut millis = days_from_civil(year, month, day).checked_mul(MILLIS_PER_DAY)?;
    if let Some(time) = time {
        let (clock, fraction) = match time.split_once('.') {
            Some((clock, fraction)) => (clock, Some(fraction)),
            None => (time, None),
        };
        let mut clock_parts = clock.split(':');
        let hour = fixed_digits(clock_parts.next()?, 2)?;
        let minute = fixed_digits(clock_parts.next()?, 2)?;
        let second = match clock_parts.next() {
            Some(part) => fixed_digits(part, 2)?,
            None => 0,
        };
        if clock_parts.next().is_some() || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let fraction_ms = match fraction {
            Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                // Only the first three digits are milliseconds; the rest is finer than we keep.
                let padded = format!("{:0<3}", digits.get(..digits.len().min(3))?);
                padded.parse::<i64>().ok()?
            }
            Some(_) => return None,
            None => 0,
        };
        millis = millis.checked_add(((hour * 60 + minute) * 60 + second) * 1000 + fraction_ms)?;
    }
    Some(millis)
}

fn fixed_digits(text: &str, width: usize) -> Option<i64> {
    if text.len() == width && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

/// Compares two values for `=`, `<` and friends: numerically when both read as
/// numbers, otherwise as text.
pub(super) fn compare_values(left: &Value<'_>, right: &Value<'_>) -> Option<Ordering> {
    match (left.as_number(), right.as_number()) {
        (Some(a), Some(b)) => a.partial_cmp(&b),
        _ => Some(left.to_text().as_ref().cmp(right.to_text().as_ref())),
    }
}

/// The ascending order of the `sort` command, as AWS documents it: every
/// non-number sorts before every number; numbers compare by value; other text
/// compares in chunks of digits and non-digits, digit chunks by length and then
/// value, other chunks by Unicode code point.
pub(super) fn compare_for_sort(left: &Value<'_>, right: &Value<'_>) -> Ordering {
    match (left.sort_number(), right.sort_number()) {
        (Some(a), Some(b)) => a.total_cmp(&b),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => natural_text_cmp(&left.to_text(), &right.to_text()),
    }
}

fn natural_text_cmp(left: &str, right: &str) -> Ordering {
    let mut left_chunks = DigitChunks { rest: left };
    let mut right_chunks = DigitChunks { rest: right };
    loop {
        match (left_chunks.next(), right_chunks.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(a), Some(b)) => {
                let order = compare_chunks(a, b);
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

fn compare_chunks(left: &str, right: &str) -> Ordering {
    let is_digits = |chunk: &str| chunk.bytes().next().is_some_and(|b| b.is_ascii_digit());
    if is_digits(left) && is_digits(right) {
        left.len().cmp(&right.len()).then_with(|| left.cmp(right))
    } else {
        left.cmp(right)
    }
}

/// Splits text into maximal runs of ASCII digits and of everything else.
struct DigitChunks<'a> {
    rest: &'a str,
}

impl<'a> Iterator for DigitChunks<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let first = self.rest.bytes().next()?;
        let digits = first.is_ascii_digit();
        let split = self
            .rest
            .find(|c: char| c.is_ascii_digit() != digits)
            .unwrap_or(self.rest.len());
        let (chunk, rest) = self.rest.split_at(split);
        self.rest = rest;
        Some(chunk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value<'_> {
        Value::Str(Cow::Borrowed(s))
    }

    #[test]
    fn parse_numeric_accepts_only_decimal_numbers() {
        let cases: &[(&str, Option<f64>)] = &[
            ("2000", Some(2000.0)),
            ("-3.5", Some(-3.5)),
            ("+7", Some(7.0)),
            (".5", Some(0.5)),
            ("1e3", Some(1000.0)),
            (" 42 ", Some(42.0)),
            // _NEG: words Rust would accept, partial numbers and overflow.
            ("inf", None),
            ("NaN", None),
            ("12abc", None),
            ("1e", None),
            ("-", None),
            ("", None),
            ("1e400", None),
            ("1.2.3", None),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_numeric(input), *expected, "input {input:?}");
        }
    }

    #[test]
    fn numbers_print_like_query_results() {
        let cases: &[(f64, &str)] = &[
            (3.0, "3"),
            (1.5, "1.5"),
            (-0.25, "-0.25"),
            (1e20, "100000000000000000000"),
            (0.1 + 0.2, "0.30000000000000004"),
        ];
        for (input, expected) in cases {
            assert_eq!(format_number(*input), *expected);
        }
    }

    #[test]
    fn timestamps_print_in_the_console_format() {
        let cases: &[(i64, &str)] = &[
            (0, "1970-01-01 00:00:00.000"),
            (1_704_164_645_678, "2024-01-02 03:04:05.678"),
            (951_782_400_000, "2000-02-29 00:00:00.000"),
            (-1, "1969-12-31 23:59:59.999"),
        ];
        for (input, expected) in cases {
            assert_eq!(format_timestamp(*input), *expected);
            assert_eq!(parse_timestamp_text(expected), Some(*input));
        }
    }

    #[test]
    fn timestamp_text_parsing_rejects_malformed_dates() {
        assert_eq!(
            parse_timestamp_text("2024-01-02T03:04:05Z"),
            Some(1_704_164_645_000)
        );
        assert_eq!(parse_timestamp_text("2024-01-02"), Some(1_704_153_600_000));
        for bad in [
            "2024-13-01",
            "2024-1-02",
            "yesterday",
            "2024-01-02 25:00",
            "",
        ] {
            assert_eq!(parse_timestamp_text(bad), None, "_NEG {bad:?}");
        }
    }

    #[test]
    fn civil_conversion_round_trips() {
        for days in [-719_468, -1, 0, 59, 10_957, 19_723, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    /// The ascending example list from the `sort` page of the AWS documentation.
    #[test]
    fn sort_order_matches_the_documented_example() {
        let documented = [
            "!:",
            "#",
            "*%04",
            "0#",
            "5A",
            "111A",
            "2345_",
            "@",
            "@_",
            "A",
            "A9876fghj",
            "a12345hfh",
            "0",
        ];
        let mut shuffled: Vec<&str> = documented.iter().rev().copied().collect();
        shuffled.rotate_left(5);
        shuffled.sort_by(|a, b| compare_for_sort(&text(a), &text(b)));
        assert_eq!(shuffled, documented);
    }

    #[test]
    fn numbers_sort_by_value_and_after_text() {
        assert_eq!(compare_for_sort(&text("10"), &text("9")), Ordering::Greater);
        assert_eq!(
            compare_for_sort(&Value::Num(2.0), &text("b")),
            Ordering::Greater
        );
        assert_eq!(
            compare_for_sort(&Value::Time(5), &Value::Time(7)),
            Ordering::Less
        );
    }

    #[test]
    fn comparisons_are_numeric_only_when_both_sides_are_numbers() {
        let cases: &[(Value<'_>, Value<'_>, Ordering)] = &[
            (text("2500"), Value::Num(2000.0), Ordering::Greater),
            (
                text("123456789012"),
                Value::Num(123_456_789_012.0),
                Ordering::Equal,
            ),
            (text("9"), text("10"), Ordering::Less),
            // _NEG: text compares by code point, so "b" > "abc".
            (text("b"), text("abc"), Ordering::Greater),
        ];
        for (left, right, expected) in cases {
            assert_eq!(compare_values(left, right), Some(*expected));
        }
    }
}
