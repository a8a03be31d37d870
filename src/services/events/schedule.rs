//! Schedule expressions of scheduled rules: `rate(value unit)` and AWS's six-field
//! `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, evaluated in UTC.
//!
//! AWS's cron dialect is not the Unix one (a year field, `?`, `L`, `W`, `#`, Sunday = 1), and the
//! cron crates that speak it only partly, so the evaluator is written here. It walks days rather
//! than minutes: a day is tested against the year, month and day fields, and only a matching day
//! is searched for its first matching hour and minute.
//!
//! Rates fire relative to an anchor: AWS counts them from the rule's creation (or last update).
//! [`Schedule::parse`] anchors at the epoch; call [`Schedule::anchored_at`] with the rule's
//! creation time to get AWS's phase.

use chrono::{Datelike, NaiveDate, Weekday};

/// The message PutRule answers (as `ValidationException`) for an expression it cannot use.
pub const INVALID_EXPRESSION: &str = "Parameter ScheduleExpression is not valid.";

const MINUTE_MS: i64 = 60_000;
const FIRST_YEAR: i32 = 1970;
const LAST_YEAR: i32 = 2199;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Rate { period_ms: i64, anchor_ms: i64 },
    Cron(Box<Cron>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Cron {
    minutes: Vec<bool>,
    hours: Vec<bool>,
    days: DaySpec,
    months: Vec<bool>,
    /// Indexed by `year - FIRST_YEAR`.
    years: Vec<bool>,
}

/// Which days fire: exactly one of the two day fields is `?` and the other one decides.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DaySpec {
    OfMonth(MonthDays),
    OfWeek(WeekDays),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct MonthDays {
    /// Indexed by day (1..=31).
    plain: Vec<bool>,
    last: bool,
    last_weekday: bool,
    /// `nW`: the weekday nearest to day n, within the month.
    nearest_weekday: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct WeekDays {
    /// Indexed by AWS's day number: 1 = Sunday … 7 = Saturday.
    plain: Vec<bool>,
    /// `nL`: the last such weekday of the month.
    last_of: Vec<u32>,
    /// `n#k`: the k-th such weekday of the month.
    nth: Vec<(u32, u32)>,
}

impl Schedule {
    /// Parses a rule's ScheduleExpression; the error is AWS's message for it.
    pub fn parse(expr: &str) -> Result<Schedule, String> {
        let invalid = || INVALID_EXPRESSION.to_string();
        let kind = if let Some(body) = strip_call(expr, "rate") {
            parse_rate(body).ok_or_else(invalid)?
        } else if let Some(body) = strip_call(expr, "cron") {
            Kind::Cron(Box::new(parse_cron(body).ok_or_else(invalid)?))
        } else {
            return Err(invalid());
        };
        Ok(Schedule { kind })
    }

    /// Phases a rate schedule from `anchor_ms` (the rule's creation time), as AWS does: the
    /// first firing is one period after it. Cron schedules are unaffected.
    pub fn anchored_at(mut self, anchor_ms: i64) -> Schedule {
        if let Kind::Rate { anchor_ms: a, .. } = &mut self.kind {
            *a = anchor_ms;
        }
        self
    }

    /// The first firing strictly after `after_ms`, or `None` if the schedule never fires again
    /// (a cron whose years are over).
    pub fn next_fire_after(&self, after_ms: i64) -> Option<i64> {
        match &self.kind {
            Kind::Rate {
                period_ms,
                anchor_ms,
            } => {
                // Checked: a firing past the end of time is no firing (None), never a wrapped
                // time in the past that would fire at once and for ever.
                if after_ms < *anchor_ms {
                    return anchor_ms.checked_add(*period_ms);
                }
                let periods = after_ms
                    .checked_sub(*anchor_ms)?
                    .checked_div(*period_ms)?
                    .checked_add(1)?;
                anchor_ms.checked_add(periods.checked_mul(*period_ms)?)
            }
            Kind::Cron(cron) => cron.next_after(after_ms),
        }
    }

    /// The period of a rate schedule, in milliseconds.
    pub fn rate_period_ms(&self) -> Option<i64> {
        match self.kind {
            Kind::Rate { period_ms, .. } => Some(period_ms),
            Kind::Cron(_) => None,
        }
    }
}

fn strip_call<'a>(expr: &'a str, name: &str) -> Option<&'a str> {
    expr.strip_prefix(name)?
        .strip_prefix('(')?
        .strip_suffix(')')
}

fn parse_rate(body: &str) -> Option<Kind> {
    let mut parts = body.split(' ');
    // AWS reads the value as a 32-bit integer: larger values are not a valid expression
    // (and rate(106751991167 days) would otherwise reach the end of i64 milliseconds).
    let value: i64 = parts
        .next()
        .filter(|v| is_digits(v))?
        .parse::<i32>()
        .ok()?
        .into();
    let unit = parts.next()?;
    if parts.next().is_some() || value <= 0 {
        return None;
    }
    // AWS insists on the singular unit for 1 and the plural for anything else.
    let unit_ms = match (unit, value == 1) {
        ("minute", true) | ("minutes", false) => MINUTE_MS,
        ("hour", true) | ("hours", false) => 60 * MINUTE_MS,
        ("day", true) | ("days", false) => 1440 * MINUTE_MS,
        _ => return None,
    };
    Some(Kind::Rate {
        period_ms: value.checked_mul(unit_ms)?,
        anchor_ms: 0,
    })
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

const MONTH_NAMES: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn parse_cron(body: &str) -> Option<Cron> {
    let fields: Vec<&str> = body.split(' ').collect();
    let [minutes, hours, dom, month, dow, year] = fields.as_slice() else {
        return None;
    };
    let days = match (*dom == "?", *dow == "?") {
        (false, true) => DaySpec::OfMonth(parse_month_days(dom)?),
        (true, false) => DaySpec::OfWeek(parse_week_days(dow)?),
        _ => return None,
    };
    Some(Cron {
        minutes: parse_simple(minutes, 0, 59, &[])?,
        hours: parse_simple(hours, 0, 23, &[])?,
        days,
        months: parse_simple(month, 1, 12, &MONTH_NAMES)?,
        years: parse_simple(year, FIRST_YEAR as u32, LAST_YEAR as u32, &[])?
            .split_off(FIRST_YEAR as usize),
    })
}

/// A number or (case-insensitively) a name; names number from 1.
fn parse_value(text: &str, min: u32, max: u32, names: &[&str]) -> Option<u32> {
    let value = if is_digits(text) {
        text.parse().ok()?
    } else {
        let upper = text.to_ascii_uppercase();
        names.iter().position(|n| *n == upper)? as u32 + 1
    };
    (min..=max).contains(&value).then_some(value)
}

/// `*`, `v`, `a-b`, `*/n`, `v/n`, `a-b/n`, comma-separated; ranges may wrap (`FRI-MON`).
fn parse_simple(field: &str, min: u32, max: u32, names: &[&str]) -> Option<Vec<bool>> {
    let mut set = vec![false; max as usize + 1];
    for item in field.split(',') {
        add_item(&mut set, item, min, max, names)?;
    }
    Some(set)
}

fn add_item(set: &mut [bool], item: &str, min: u32, max: u32, names: &[&str]) -> Option<()> {
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => {
            let step: u32 = step.parse().ok().filter(|_| is_digits(step))?;
            if step == 0 || step > max {
                return None;
            }
            (range, step)
        }
        None => (item, 1),
    };
    let (start, end) = if range == "*" {
        (min, max)
    } else if let Some((a, b)) = range.split_once('-') {
        (
            parse_value(a, min, max, names)?,
            parse_value(b, min, max, names)?,
        )
    } else {
        let v = parse_value(range, min, max, names)?;
        // `v/n` runs from v to the end of the field; a lone `v` is just v.
        (v, if item.contains('/') { max } else { v })
    };
    let span = if end >= start {
        end - start
    } else {
        max - start + 1 + end - min
    };
    let mut offset = 0;
    while offset <= span {
        let mut v = start + offset;
        if v > max {
            v = v - max - 1 + min;
        }
        set[v as usize] = true;
        offset += step;
    }
    Some(())
}

fn parse_month_days(field: &str) -> Option<MonthDays> {
    let mut days = MonthDays {
        plain: vec![false; 32],
        ..MonthDays::default()
    };
    for item in field.split(',') {
        if item == "L" {
            days.last = true;
        } else if item == "LW" {
            days.last_weekday = true;
        } else if let Some(day) = item.strip_suffix('W') {
            days.nearest_weekday.push(parse_value(day, 1, 31, &[])?);
        } else {
            add_item(&mut days.plain, item, 1, 31, &[])?;
        }
    }
    Some(days)
}

fn parse_week_days(field: &str) -> Option<WeekDays> {
    let mut days = WeekDays {
        plain: vec![false; 8],
        ..WeekDays::default()
    };
    for item in field.split(',') {
        if item == "L" {
            // A lone L in the day-of-week field means Saturday, the last day of the week.
            days.plain[7] = true;
        } else if let Some((day, nth)) = item.split_once('#') {
            let nth = parse_value(nth, 1, 5, &[])?;
            days.nth.push((parse_value(day, 1, 7, &DAY_NAMES)?, nth));
        } else if let Some(day) = item.strip_suffix('L').filter(|d| !d.is_empty()) {
            days.last_of.push(parse_value(day, 1, 7, &DAY_NAMES)?);
        } else {
            add_item(&mut days.plain, item, 1, 7, &DAY_NAMES)?;
        }
    }
    Some(days)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(ny, nm, 1)
        .and_then(|d| d.pred_opt())
        .map_or(28, |d| d.day())
}

/// The weekday nearest to `day` without leaving the month (`15W`, `1W`, `LW`).
fn nearest_weekday(year: i32, month: u32, day: u32) -> Option<u32> {
    let last = days_in_month(year, month);
    if day > last {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    Some(match date.weekday() {
        Weekday::Sat if day == 1 => 3,
        Weekday::Sat => day - 1,
        Weekday::Sun if day == last => day - 2,
        Weekday::Sun => day + 1,
        _ => day,
    })
}

impl MonthDays {
    fn matches(&self, date: NaiveDate) -> bool {
        let (y, m, d) = (date.year(), date.month(), date.day());
        let last = days_in_month(y, m);
        self.plain[d as usize]
            || (self.last && d == last)
            || (self.last_weekday && nearest_weekday(y, m, last) == Some(d))
            || self
                .nearest_weekday
                .iter()
                .any(|n| nearest_weekday(y, m, *n) == Some(d))
    }
}

impl WeekDays {
    fn matches(&self, date: NaiveDate) -> bool {
        let weekday = date.weekday().number_from_sunday();
        let d = date.day();
        self.plain[weekday as usize]
            || (self.last_of.contains(&weekday) && d + 7 > days_in_month(date.year(), date.month()))
            || self.nth.contains(&(weekday, (d - 1) / 7 + 1))
    }
}

impl Cron {
    fn day_matches(&self, date: NaiveDate) -> bool {
        match &self.days {
            DaySpec::OfMonth(days) => days.matches(date),
            DaySpec::OfWeek(days) => days.matches(date),
        }
    }

    /// The first (hour, minute) of a day at or after `from_minute_of_day`.
    fn first_time_in_day(&self, from_minute_of_day: u32) -> Option<u32> {
        let (h0, m0) = (from_minute_of_day / 60, from_minute_of_day % 60);
        (h0..24).filter(|h| self.hours[*h as usize]).find_map(|h| {
            let start = if h == h0 { m0 } else { 0 };
            (start..60)
                .find(|m| self.minutes[*m as usize])
                .map(|m| h * 60 + m)
        })
    }

    fn next_after(&self, after_ms: i64) -> Option<i64> {
        let first_minute = after_ms.div_euclid(MINUTE_MS) + 1;
        let mut day = first_minute.div_euclid(1440);
        let mut from = u32::try_from(first_minute.rem_euclid(1440)).ok()?;
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
        loop {
            let date = epoch.checked_add_days(chrono::Days::new(u64::try_from(day).ok()?))?;
            let year = date.year();
            if year > LAST_YEAR {
                return None;
            }
            if !self.years[(year - FIRST_YEAR) as usize] {
                let next_year = NaiveDate::from_ymd_opt(year + 1, 1, 1)?;
                day = (next_year - epoch).num_days();
                from = 0;
                continue;
            }
            if !self.months[date.month() as usize] {
                let (ny, nm) = if date.month() == 12 {
                    (year + 1, 1)
                } else {
                    (year, date.month() + 1)
                };
                day = (NaiveDate::from_ymd_opt(ny, nm, 1)? - epoch).num_days();
                from = 0;
                continue;
            }
            if self.day_matches(date) {
                if let Some(minute) = self.first_time_in_day(from) {
                    return Some((day * 1440 + i64::from(minute)) * MINUTE_MS);
                }
            }
            day += 1;
            from = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn ms(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .map(|t| t.timestamp_millis())
            .unwrap_or_default()
    }

    fn next(expr: &str, after: i64) -> Option<i64> {
        Schedule::parse(expr)
            .map(|s| s.next_fire_after(after))
            .unwrap()
    }

    fn fires(expr: &str, from: i64, count: usize) -> Vec<i64> {
        let s = Schedule::parse(expr).unwrap();
        let mut out = Vec::new();
        let mut t = from;
        for _ in 0..count {
            t = s.next_fire_after(t).unwrap();
            out.push(t);
        }
        out
    }

    #[test]
    fn daily_at_ten() {
        // 2024-03-05 09:59:30 → 10:00 that day; right at 10:00 → the next day.
        assert_eq!(
            next("cron(0 10 * * ? *)", ms(2024, 3, 5, 9, 59) + 30_000),
            Some(ms(2024, 3, 5, 10, 0))
        );
        assert_eq!(
            next("cron(0 10 * * ? *)", ms(2024, 3, 5, 10, 0)),
            Some(ms(2024, 3, 6, 10, 0))
        );
    }

    #[test]
    fn last_friday_of_month_within_years() {
        // Last Fridays: 2022-01-28, 2022-02-25, 2022-03-25.
        assert_eq!(
            fires("cron(15 10 ? * 6L 2022-2026)", ms(2021, 6, 1, 0, 0), 3),
            vec![
                ms(2022, 1, 28, 10, 15),
                ms(2022, 2, 25, 10, 15),
                ms(2022, 3, 25, 10, 15)
            ]
        );
        // After the last one of 2026 (2026-12-25) it never fires again.
        assert_eq!(
            next("cron(15 10 ? * 6L 2022-2026)", ms(2026, 12, 25, 10, 15)),
            None
        );
    }

    #[test]
    fn every_fifteen_minutes() {
        assert_eq!(
            fires("cron(0/15 * * * ? *)", ms(2024, 1, 1, 23, 40), 3),
            vec![
                ms(2024, 1, 1, 23, 45),
                ms(2024, 1, 2, 0, 0),
                ms(2024, 1, 2, 0, 15)
            ]
        );
    }

    #[test]
    fn nearest_weekday_to_the_first() {
        // 2022-01-01 is a Saturday: 1W moves forward to Monday the 3rd (not into December);
        // 2022-05-01 is a Sunday: Monday the 2nd; 2022-02-01 is a Tuesday.
        assert_eq!(
            fires("cron(0 8 1W * ? *)", ms(2021, 12, 31, 0, 0), 2),
            vec![ms(2022, 1, 3, 8, 0), ms(2022, 2, 1, 8, 0)]
        );
        assert_eq!(
            next("cron(0 8 1W * ? *)", ms(2022, 4, 20, 0, 0)),
            Some(ms(2022, 5, 2, 8, 0))
        );
        // 15W with the 15th on a Saturday (2022-01-15) → Friday the 14th.
        assert_eq!(
            next("cron(0 8 15W * ? *)", ms(2022, 1, 1, 0, 0)),
            Some(ms(2022, 1, 14, 8, 0))
        );
    }

    #[test]
    fn second_monday() {
        // Mondays of March 2024: 4, 11 → the second is the 11th; April 2024: 1, 8.
        assert_eq!(
            fires("cron(0 12 ? * MON#2 *)", ms(2024, 3, 1, 0, 0), 2),
            vec![ms(2024, 3, 11, 12, 0), ms(2024, 4, 8, 12, 0)]
        );
        assert_eq!(
            next("cron(0 12 ? * 2#2 *)", ms(2024, 3, 1, 0, 0)),
            Some(ms(2024, 3, 11, 12, 0))
        );
    }

    #[test]
    fn weekdays_evenings_and_last_day_of_month() {
        // 2024-03-08 is a Friday: after 18:00 the next is Monday the 11th.
        assert_eq!(
            next("cron(0 18 ? * MON-FRI *)", ms(2024, 3, 8, 18, 0)),
            Some(ms(2024, 3, 11, 18, 0))
        );
        // 2024 is a leap year.
        assert_eq!(
            fires("cron(30 23 L * ? *)", ms(2024, 1, 31, 23, 30), 2),
            vec![ms(2024, 2, 29, 23, 30), ms(2024, 3, 31, 23, 30)]
        );
        // LW: last weekday; 2024-03-31 is a Sunday → Friday the 29th.
        assert_eq!(
            next("cron(0 9 LW * ? *)", ms(2024, 3, 1, 0, 0)),
            Some(ms(2024, 3, 29, 9, 0))
        );
        // Month names and lists; wrapping day range FRI-MON from a Tuesday (2024-03-05).
        assert_eq!(
            next("cron(0 0 1 jan,JUL ? *)", ms(2024, 1, 1, 0, 0)),
            Some(ms(2024, 7, 1, 0, 0))
        );
        assert_eq!(
            next("cron(0 0 ? * FRI-MON *)", ms(2024, 3, 5, 0, 0)),
            Some(ms(2024, 3, 8, 0, 0))
        );
        assert_eq!(
            fires("cron(0 8-10/2 * * ? *)", ms(2024, 3, 5, 0, 0), 3),
            vec![
                ms(2024, 3, 5, 8, 0),
                ms(2024, 3, 5, 10, 0),
                ms(2024, 3, 6, 8, 0)
            ]
        );
    }

    #[test]
    fn huge_rates_are_invalid_and_late_firings_never_wrap() {
        // The campaign's case: 106751991167 days is just under i64::MAX milliseconds, so the
        // next firing (anchor + period) wrapped into the past and fired every second.
        assert_eq!(
            Schedule::parse("rate(106751991167 days)"),
            Err(INVALID_EXPRESSION.to_string())
        );
        assert_eq!(
            Schedule::parse("rate(2147483648 minutes)"),
            Err(INVALID_EXPRESSION.to_string())
        );
        let largest = Schedule::parse("rate(2147483647 days)").unwrap();
        assert_eq!(largest.rate_period_ms(), Some(2_147_483_647 * 86_400_000));
        let now = 1_764_583_200_000;
        assert_eq!(
            largest.clone().anchored_at(now).next_fire_after(now),
            Some(now + 2_147_483_647 * 86_400_000)
        );
        // Near the end of time there is no next firing rather than a wrapped one.
        assert_eq!(largest.anchored_at(i64::MAX - 10).next_fire_after(0), None);
        let minute = Schedule::parse("rate(1 minute)").unwrap();
        assert_eq!(minute.next_fire_after(i64::MAX - 1), None);
    }

    #[test]
    fn rates_fire_a_period_after_their_anchor() {
        let s = Schedule::parse("rate(5 minutes)").unwrap();
        assert_eq!(s.rate_period_ms(), Some(300_000));
        assert_eq!(s.next_fire_after(1_000), Some(300_000));
        let anchored = s.anchored_at(ms(2024, 1, 1, 0, 2));
        assert_eq!(
            anchored.next_fire_after(ms(2024, 1, 1, 0, 2)),
            Some(ms(2024, 1, 1, 0, 7))
        );
        assert_eq!(
            anchored.next_fire_after(ms(2024, 1, 1, 0, 7)),
            Some(ms(2024, 1, 1, 0, 12))
        );
        assert_eq!(
            Schedule::parse("rate(1 hour)").unwrap().rate_period_ms(),
            Some(3_600_000)
        );
        assert_eq!(
            Schedule::parse("rate(2 days)").unwrap().rate_period_ms(),
            Some(172_800_000)
        );
    }

    #[test]
    fn invalid_expressions_are_rejected_with_aws_message() {
        for expr in [
            "rate(1 minutes)",
            "rate(5 minute)",
            "rate(0 minutes)",
            "rate(-1 minutes)",
            "rate(5 weeks)",
            "rate(five minutes)",
            "cron(0 10 * * * *)",
            "cron(0 10 ? * ? *)",
            "cron(*/1 * * * *)",
            "cron(*/60 * * * ? *)",
            "cron(60 10 * * ? *)",
            "cron(0 24 * * ? *)",
            "cron(0 10 32 * ? *)",
            "cron(0 10 ? * 8 *)",
            "cron(0 10 ? * MON#6 *)",
            "cron(0 10 * 13 ? *)",
            "cron(0 10 * * ? 1969)",
            "cron(15 12 ? * -1 *)",
            "every 5 minutes",
            "",
        ] {
            assert_eq!(
                Schedule::parse(expr),
                Err(INVALID_EXPRESSION.to_string()),
                "{expr}"
            );
        }
    }
}
