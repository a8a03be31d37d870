//! Any bytes, as an OTLP logs or metrics body in protobuf and in OTLP/JSON, must decode to
//! events and datapoints or to an error: never a panic (/v1/logs and /v1/metrics answer 400 for
//! what fails here).
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail::otlp_metrics::{decode_metrics, metric_data, Deltas};

fuzz_target!(|data: &[u8]| {
    let _ = watchtrail::otlp::decode_logs(data, false, 0);
    let _ = watchtrail::otlp::decode_logs(data, true, 0);
    let deltas = Deltas::default();
    for json in [false, true] {
        if let Ok(export) = decode_metrics(data, json) {
            let _ = metric_data(&export, &deltas, "000000000000", 0);
        }
    }
});
