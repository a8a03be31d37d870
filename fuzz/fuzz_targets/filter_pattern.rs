//! Any bytes as a CloudWatch Logs filter pattern and a log message: the first line is the
//! pattern, the rest the message it is matched against. Never a panic, never a stack overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail::services::logs::filter_pattern::FilterPattern;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (pattern, message) = text.split_once('\n').unwrap_or((text, "{\"a\":1}"));
    if let Ok(pattern) = FilterPattern::parse(pattern) {
        let _ = pattern.matches(message);
        let _ = pattern.match_fields(message);
    }
});
