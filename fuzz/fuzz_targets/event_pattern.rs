//! Any bytes as an EventBridge event pattern and an event: the first line is the pattern,
//! the rest the event it is tested against. Never a panic, never a stack overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail::services::events::pattern::EventPattern;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (pattern, event) = text
        .split_once('\n')
        .unwrap_or((text, r#"{"source":"a","detail":{"x":[1,{"y":"z"}]}}"#));
    if let Ok(pattern) = EventPattern::parse(pattern) {
        let _ = pattern.matches_str(event);
    }
});
