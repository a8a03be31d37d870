//! Timestamps on the wire: ISO 8601 in query and XML, epoch seconds in JSON, CBOR tag 1.
//!
//! Documents carry timestamps as epoch seconds (`f64`, millisecond precision is what every
//! service here stores), so only the edges convert.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Utc};

/// Earliest timestamp accepted from a client: 0001-01-01T00:00:00Z, in epoch seconds.
pub const MIN_EPOCH_SECONDS: f64 = -62_135_596_800.0;
/// Latest timestamp accepted from a client: 9999-12-31T23:59:59.999Z, in epoch seconds.
pub const MAX_EPOCH_SECONDS: f64 = 253_402_300_799.999;

/// Whether a client's timestamp is one a date can be (years 1 to 9999, as ISO 8601 and AWS's
/// own serializers write them). Everything a document carries past decoding lies in this range,
/// so epoch milliseconds of it (at most ±2.6e14) never overflow an `i64`, nor do differences
/// of two of them: services can do arithmetic on client times without wrapping.
pub fn in_range(epoch_seconds: f64) -> bool {
    (MIN_EPOCH_SECONDS..=MAX_EPOCH_SECONDS).contains(&epoch_seconds)
}

/// Parses the timestamp forms clients send: ISO 8601 with or without offset or fraction, or
/// epoch seconds as text. Times outside [`in_range`] are no timestamp.
pub fn parse(text: &str) -> Option<f64> {
    parse_any(text).filter(|s| in_range(*s))
}

fn parse_any(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return seconds.is_finite().then_some(seconds);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_millis() as f64 / 1000.0);
    }
    // ISO 8601 without an offset is UTC; clients also send a bare date.
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.fZ"))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%SZ"))
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
        })
        .ok()?;
    Some(Utc.from_utc_datetime(&naive).timestamp_millis() as f64 / 1000.0)
}

/// ISO 8601 in UTC with milliseconds, as AWS query responses write it (`2024-01-02T03:04:05.678Z`).
pub fn format_iso8601(epoch_seconds: f64) -> String {
    let millis = (epoch_seconds * 1000.0).round() as i64;
    match Utc.timestamp_millis_opt(millis).single() {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
        None => "1970-01-01T00:00:00.000Z".to_string(),
    }
}

/// Epoch milliseconds of a document timestamp.
pub fn to_millis(epoch_seconds: f64) -> i64 {
    (epoch_seconds * 1000.0).round() as i64
}

pub fn from_millis(millis: i64) -> f64 {
    millis as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_clients_send() {
        assert_eq!(parse("2024-01-02T03:04:05Z"), Some(1_704_164_645.0));
        assert_eq!(parse("2024-01-02T03:04:05.250Z"), Some(1_704_164_645.25));
        assert_eq!(parse("2024-01-02T04:04:05+01:00"), Some(1_704_164_645.0));
        assert_eq!(parse("2024-01-02T03:04:05"), Some(1_704_164_645.0));
        assert_eq!(parse("1704164645"), Some(1_704_164_645.0));
        assert_eq!(parse("2024-01-02"), Some(1_704_153_600.0));
        assert_eq!(parse("yesterday"), None);
        // Out of the years 1..=9999: no timestamp, whichever form.
        assert_eq!(parse("-1e300"), None);
        assert_eq!(parse("1e300"), None);
        assert_eq!(parse("253402300800"), None);
        assert_eq!(parse("253402300799"), Some(253_402_300_799.0));
        assert_eq!(parse("-62135596800"), Some(-62_135_596_800.0));
        assert_eq!(parse("-62135596801"), None);
        assert_eq!(parse("NaN"), None);
    }

    #[test]
    fn formats_with_milliseconds() {
        assert_eq!(format_iso8601(1_704_164_645.25), "2024-01-02T03:04:05.250Z");
        assert_eq!(format_iso8601(0.0), "1970-01-01T00:00:00.000Z");
    }
}
