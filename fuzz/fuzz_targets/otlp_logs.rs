//! Any bytes, as an OTLP logs body in protobuf and in OTLP/JSON, must give events or an error:
//! never a panic (the /v1/logs endpoint answers 400 for what fails here).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = watchtrail::otlp::decode_logs(data, false, 0);
    let _ = watchtrail::otlp::decode_logs(data, true, 0);
});
