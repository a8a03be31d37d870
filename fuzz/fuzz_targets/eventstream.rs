//! Event-stream framing: any headers and payload, framed, must decode to themselves (lengths and
//! both CRCs right); and any bytes given to the decoder give a message or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail::protocol::eventstream;

fuzz_target!(|data: &[u8]| {
    let _ = eventstream::decode(data);
    // First byte: header count; then header names and values cut from the rest.
    let Some((&count, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let mut parts = text.split('\u{0}');
    let mut headers = Vec::new();
    for _ in 0..count % 8 {
        let (Some(name), Some(value)) = (parts.next(), parts.next()) else { break };
        if name.is_empty() || name.len() > 255 || value.len() > 65_535 {
            continue;
        }
        headers.push((name.to_string(), value.to_string()));
    }
    let payload: Vec<u8> = parts.collect::<Vec<_>>().join("\u{0}").into_bytes();
    let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let framed = eventstream::frame(&pairs, &payload);
    let (decoded, used) = eventstream::decode(&framed).expect("a framed message decodes");
    assert_eq!(used, framed.len());
    assert_eq!(decoded.headers, headers);
    assert_eq!(decoded.payload, payload);
});
