//! Any text as a composite alarm's AlarmRule: parse, then walk the tree the way describe and
//! the evaluator do. Never a panic, never a stack overflow (nesting is capped at parse).
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail::services::cloudwatch::alarms::composite;
use watchtrail::services::cloudwatch::alarms::model::StateValue;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(rule) = composite::parse(text) {
        let names = rule.alarm_names();
        let _ = rule.evaluate(&|name: &str| {
            names.iter().position(|n| n == name).map(|i| match i % 3 {
                0 => StateValue::Alarm,
                1 => StateValue::Ok,
                _ => StateValue::InsufficientData,
            })
        });
    }
});
