//! Any text as a metric math expression (GetMetricData, alarms): parse, then list what the
//! evaluator would resolve. Never a panic; nesting is capped at parse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail::services::cloudwatch::math::{Expression, SearchQuery};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(expression) = Expression::parse(text) {
        let _ = expression.referenced_ids();
        for call in expression.search_calls() {
            let _ = SearchQuery::parse(&call.expression);
        }
    }
    // SEARCH's own language, given directly.
    let _ = SearchQuery::parse(text);
});
