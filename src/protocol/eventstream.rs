//! The AWS event-stream framing (`application/vnd.amazon.eventstream`), the encoding side: what
//! a streaming response such as StartLiveTail's is made of.
//!
//! Each message is `total length (u32) | headers length (u32) | prelude CRC32 | headers |
//! payload | message CRC32`, big-endian, the CRCs being CRC-32 (IEEE) of the prelude's eight
//! bytes and of everything before the message CRC. Only string headers (type 7) are written:
//! the awsJson protocols put nothing else in them. The SDKs check both CRCs, so a frame that is
//! off by one byte ends the client's stream; the decoder here exists to prove the encoder right
//! in tests and fuzzing.

/// The header value type for strings.
const STRING_TYPE: u8 = 7;
/// Prelude (12 bytes) plus the message CRC (4 bytes).
const FRAMING_BYTES: usize = 16;
/// The largest message the SDKs accept (16 MiB).
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// One message of a response stream, as a service hands it to the protocol layer.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamMessage {
    /// A modeled event: `:event-type` names the member of the stream union.
    Event {
        event_type: &'static str,
        payload: serde_json::Value,
    },
    /// A modeled exception member of the stream union, sent in the stream (after a 200).
    Exception {
        exception_type: &'static str,
        message: String,
    },
}

/// Frames one message in awsJson's conventions (JSON payloads, `:content-type`).
pub fn encode(message: &StreamMessage) -> Vec<u8> {
    match message {
        StreamMessage::Event {
            event_type,
            payload,
        } => frame(
            &[
                (":message-type", "event"),
                (":event-type", event_type),
                (":content-type", "application/json"),
            ],
            payload.to_string().as_bytes(),
        ),
        StreamMessage::Exception {
            exception_type,
            message,
        } => frame(
            &[
                (":message-type", "exception"),
                (":exception-type", exception_type),
                (":content-type", "application/json"),
            ],
            serde_json::json!({ "message": message })
                .to_string()
                .as_bytes(),
        ),
    }
}

/// The first message of an awsJson event stream: the operation's non-stream output members
/// (none for StartLiveTail, so `{}`). botocore refuses a stream that does not open with it;
/// the Rust SDK takes it if present.
pub fn initial_response() -> Vec<u8> {
    frame(
        &[
            (":message-type", "event"),
            (":event-type", "initial-response"),
            (":content-type", "application/json"),
        ],
        b"{}",
    )
}

/// Frames a message from string headers and a payload. Header names longer than 255 bytes and
/// values longer than 65,535 bytes are cut, as the format cannot carry them (ours never are).
pub fn frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut encoded_headers = Vec::with_capacity(headers.len() * 32);
    for (name, value) in headers {
        let name = &name.as_bytes()[..name.len().min(u8::MAX as usize)];
        let value = &value.as_bytes()[..value.len().min(u16::MAX as usize)];
        encoded_headers.push(name.len() as u8);
        encoded_headers.extend_from_slice(name);
        encoded_headers.push(STRING_TYPE);
        encoded_headers.extend_from_slice(&(value.len() as u16).to_be_bytes());
        encoded_headers.extend_from_slice(value);
    }
    let total = FRAMING_BYTES + encoded_headers.len() + payload.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(encoded_headers.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&encoded_headers);
    out.extend_from_slice(payload);
    let message_crc = crc32fast::hash(&out);
    out.extend_from_slice(&message_crc.to_be_bytes());
    out
}

/// A decoded message: string headers and payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub headers: Vec<(String, String)>,
    pub payload: Vec<u8>,
}

impl Decoded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("the message is incomplete")]
    Incomplete,
    #[error("the prelude CRC does not match")]
    PreludeCrc,
    #[error("the message CRC does not match")]
    MessageCrc,
    #[error("the message is malformed: {0}")]
    Malformed(&'static str),
}

/// Decodes the first message of `bytes`; returns it and the bytes it used.
pub fn decode(bytes: &[u8]) -> Result<(Decoded, usize), FrameError> {
    let word = |at: usize| -> Result<u32, FrameError> {
        bytes
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
            .ok_or(FrameError::Incomplete)
    };
    let total = word(0)? as usize;
    let headers_len = word(4)? as usize;
    if crc32fast::hash(&bytes[..8]) != word(8)? {
        return Err(FrameError::PreludeCrc);
    }
    if !(FRAMING_BYTES..=MAX_MESSAGE_BYTES).contains(&total) || headers_len > total - FRAMING_BYTES
    {
        return Err(FrameError::Malformed("lengths out of range"));
    }
    if bytes.len() < total {
        return Err(FrameError::Incomplete);
    }
    if crc32fast::hash(&bytes[..total - 4]) != word(total - 4)? {
        return Err(FrameError::MessageCrc);
    }
    let mut headers = Vec::new();
    let mut rest = &bytes[12..12 + headers_len];
    while !rest.is_empty() {
        let name_len = rest[0] as usize;
        let name = rest
            .get(1..1 + name_len)
            .ok_or(FrameError::Malformed("header name"))?;
        rest = &rest[1 + name_len..];
        if rest.first() != Some(&STRING_TYPE) {
            return Err(FrameError::Malformed("header type"));
        }
        let value_len = rest
            .get(1..3)
            .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
            .ok_or(FrameError::Malformed("header value length"))?;
        let value = rest
            .get(3..3 + value_len)
            .ok_or(FrameError::Malformed("header value"))?;
        rest = &rest[3 + value_len..];
        headers.push((
            String::from_utf8_lossy(name).into_owned(),
            String::from_utf8_lossy(value).into_owned(),
        ));
    }
    let payload = bytes[12 + headers_len..total - 4].to_vec();
    Ok((Decoded { headers, payload }, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_frames_with_its_lengths_headers_and_crcs() {
        let bytes = encode(&StreamMessage::Event {
            event_type: "sessionUpdate",
            payload: serde_json::json!({"sessionResults": []}),
        });
        let payload = br#"{"sessionResults":[]}"#;
        let headers_len = (1 + 13 + 1 + 2 + 5) + (1 + 11 + 1 + 2 + 13) + (1 + 13 + 1 + 2 + 16);
        assert_eq!(
            u32::from_be_bytes(bytes[0..4].try_into().unwrap()) as usize,
            16 + headers_len + payload.len()
        );
        assert_eq!(bytes.len(), 16 + headers_len + payload.len());
        assert_eq!(
            u32::from_be_bytes(bytes[4..8].try_into().unwrap()) as usize,
            headers_len
        );
        // The first header, byte by byte: name length, name, type 7, value length, value.
        assert_eq!(&bytes[12..27], b"\x0d:message-type\x07");
        assert_eq!(&bytes[27..34], b"\x00\x05event");
        let (decoded, used) = decode(&bytes).unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(decoded.header(":event-type"), Some("sessionUpdate"));
        assert_eq!(decoded.header(":content-type"), Some("application/json"));
        assert_eq!(decoded.payload, payload);
    }

    #[test]
    fn the_crcs_are_crc32_of_the_prelude_and_of_the_message() {
        // A known vector: a message with no headers and no payload is 16 bytes, and CRC-32 of
        // 00 00 00 10 00 00 00 00 is 0x05c248eb.
        let bytes = frame(&[], b"");
        assert_eq!(
            bytes[..12],
            [0, 0, 0, 0x10, 0, 0, 0, 0, 0x05, 0xc2, 0x48, 0xeb]
        );
        assert_eq!(bytes[12..], [0x7d, 0x98, 0xc8, 0xff]);
        let mut broken = bytes.clone();
        broken[15] ^= 1;
        assert_eq!(decode(&broken), Err(FrameError::MessageCrc));
        broken[9] ^= 1;
        assert_eq!(decode(&broken), Err(FrameError::PreludeCrc));
    }

    #[test]
    fn an_exception_carries_its_type_and_message() {
        let bytes = encode(&StreamMessage::Exception {
            exception_type: "SessionTimeoutException",
            message: "over".into(),
        });
        let (decoded, _) = decode(&bytes).unwrap();
        assert_eq!(decoded.header(":message-type"), Some("exception"));
        assert_eq!(
            decoded.header(":exception-type"),
            Some("SessionTimeoutException")
        );
        assert_eq!(decoded.payload, br#"{"message":"over"}"#);
    }
}
