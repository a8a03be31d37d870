//! Any text as a Logs Insights query: the first line is the query, the rest one log message
//! it runs over (field discovery flattens JSON messages). Never a panic, never a stack
//! overflow: expression nesting is capped at parse, and evaluation follows the parsed tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail::services::logs::insights::{self, LogRecord};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (query, message) = text
        .split_once('\n')
        .unwrap_or((text, r#"{"a":{"b":[1,2]},"level":"ERROR"}"#));
    let Ok(query) = insights::parse(query) else { return };
    let mut execution = query.start_with_row_cap(100);
    execution.push(&LogRecord {
        timestamp_ms: 1_700_000_000_000,
        ingestion_time_ms: 1_700_000_000_001,
        message,
        log_stream: "s",
        log_group: "g",
        ptr: "p",
    });
    let _ = execution.finish();
});
