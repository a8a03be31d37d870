//! Any bytes as an EventBridge target's input settings and an event: the first line is the
//! target (JSON with Input, InputPath or InputTransformer), the rest the event. Validation
//! as PutTargets does it, then rendering as delivery does it. Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use watchtrail::services::events::transform;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (target, event) = text
        .split_once('\n')
        .unwrap_or((text, r#"{"source":"a","detail":{"x":[1,{"y":"z"}]}}"#));
    let Ok(target) = serde_json::from_str::<Value>(target) else { return };
    let Ok(event) = serde_json::from_str::<Value>(event) else { return };
    if transform::validate_target_input(&target).is_ok() {
        let _ = transform::render_target_input(&target, &event);
    }
});
