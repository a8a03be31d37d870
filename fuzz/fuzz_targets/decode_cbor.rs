//! Any bytes, decoded as a cbor request body for any operation of any service, must give a
//! document or an error: never a panic. The first byte picks the operation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail::protocol::{self, Protocol, ServiceId};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let service = ServiceId::ALL[usize::from(pick) % ServiceId::ALL.len()];
    let model = protocol::model::model(service);
    let mut operations: Vec<&str> = model.operation_names().collect();
    operations.sort_unstable();
    let Some(operation) = operations.get(usize::from(pick) % operations.len().max(1)) else { return };
    let protocol = match "cbor" {
        "json" => Protocol::Json11,
        "cbor" => Protocol::Cbor,
        _ => Protocol::Query,
    };
    let pairs = if protocol == Protocol::Query { protocol::query::parse_form(body).ok() } else { None };
    if let Ok(doc) = protocol::decode(service, protocol, operation, body, pairs.as_deref()) {
        if let Some(input) = model.operation(operation).and_then(|op| op.input) {
            let _ = protocol::validate::validate(service, model, input, &doc);
        }
    }
});
