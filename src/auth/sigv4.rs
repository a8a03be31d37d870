//! Server-side verification of AWS Signature Version 4 (header and presigned-query forms).
//!
//! The `aws-sigv4` crate only signs: it has no verifier and keeps its canonical-request builder
//! private. So this module rebuilds the canonical request from what the client declared it signed
//! (its own `SignedHeaders` list) and reuses only the crate's key derivation and HMAC.
//!
//! It is split in two steps on purpose: [`parse`] is cheap (no hashing, no body access) so that a
//! caller that does not enforce signatures can still learn the caller's access key and region,
//! and [`verify`] does the expensive, security-relevant part.
//!
//! The canonical URI follows the rules for every service except S3: the received (already
//! percent-encoded once) path is normalized and encoded a second time, which is exactly what the
//! AWS SDKs compute on their side. With HTTP/2 the host arrives as `:authority`, not as a header:
//! the caller must put it into the header map as `host` before calling [`verify`].

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sigv4::sign::v4::{calculate_signature, generate_signing_key};
use http::HeaderMap;
use percent_encoding::{percent_decode_str, percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// AWS rejects a request whose time stamp is more than 15 minutes away from its own clock.
const MAX_SKEW_SECS: i64 = 15 * 60;
/// The signing key is only valid for seven days, which bounds `X-Amz-Expires`.
const MAX_EXPIRES_SECS: i64 = 604_800;
const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
/// RFC 3986 unreserved characters are the only ones SigV4 leaves unencoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
const PATH_UNRESERVED: &AsciiSet = &UNRESERVED.remove(b'/');

/// The parts of an HTTP request that take part in a SigV4 signature.
pub struct SigningInput<'a> {
    pub method: &'a str,
    /// Raw request path as received (still percent-encoded).
    pub path: &'a str,
    /// Raw query string, without '?'.
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// `AKID/YYYYMMDD/region/service/aws4_request`, split up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
}

/// What a request claims about its signature, before any of it is checked.
#[derive(Debug, Clone)]
pub struct SignatureInfo {
    pub scope: CredentialScope,
    /// Lower-cased header names, in the order the client listed them.
    pub signed_headers: Vec<String>,
    pub signature: String,
    /// From `X-Amz-Date` (header or query parameter), else from the `Date` header.
    pub amz_date: String,
    pub security_token: Option<String>,
    pub presigned: bool,
}

/// Why a request's signature is refused; `Display` is AWS's message.
#[derive(Debug, thiserror::Error)]
pub enum SigV4Error {
    /// Raised by the caller when signatures are required and [`parse`] found none.
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,
    /// The signature is malformed or lacks a component, which the message names.
    #[error("{0}")]
    IncompleteSignature(String),
    /// A well-formed signature that is refused: AWS uses one code for a wrong signature, a
    /// skewed clock and a wrong credential scope, and tells them apart only by the message.
    #[error("{0}")]
    SignatureDoesNotMatch(String),
    /// A presigned request used after its `X-Amz-Expires`.
    #[error("Request has expired.")]
    RequestExpired,
    /// Raised by the caller when the access key id is not known.
    #[error("The security token included in the request is invalid.")]
    UnknownAccessKey,
}

impl SigV4Error {
    /// For the caller to raise when the credential scope names a region it does not serve.
    pub fn wrong_region(region: &str) -> Self {
        Self::SignatureDoesNotMatch(format!(
            "Credential should be scoped to a valid region, not '{region}'. "
        ))
    }

    /// For the caller to raise when the credential scope names another service than `expected`.
    pub fn wrong_service(expected: &str) -> Self {
        Self::SignatureDoesNotMatch(format!(
            "Credential should be scoped to correct service: '{expected}'. "
        ))
    }

    /// The AWS error code: query-protocol services (CloudWatch, IAM, STS) and JSON-protocol
    /// services (Logs, EventBridge, CloudTrail) name the same failures differently.
    pub fn code(&self, json_protocol: bool) -> &'static str {
        match (self, json_protocol) {
            (Self::MissingAuthenticationToken, false) => "MissingAuthenticationToken",
            (Self::MissingAuthenticationToken, true) => "MissingAuthenticationTokenException",
            (Self::IncompleteSignature(_), false) => "IncompleteSignature",
            (Self::IncompleteSignature(_), true) => "IncompleteSignatureException",
            (Self::SignatureDoesNotMatch(_), false) => "SignatureDoesNotMatch",
            (Self::SignatureDoesNotMatch(_), true) => "InvalidSignatureException",
            (Self::RequestExpired, _) => "RequestExpired",
            (Self::UnknownAccessKey, false) => "InvalidClientTokenId",
            (Self::UnknownAccessKey, true) => "UnrecognizedClientException",
        }
    }

    /// The HTTP status a query-protocol service answers with.
    pub fn http_status(&self) -> u16 {
        self.http_status_for(false)
    }

    /// The HTTP status: JSON-protocol services answer 400 to a refused signature, where
    /// query-protocol services answer 403.
    pub fn http_status_for(&self, json_protocol: bool) -> u16 {
        match self {
            Self::MissingAuthenticationToken | Self::UnknownAccessKey => 403,
            Self::SignatureDoesNotMatch(_) if !json_protocol => 403,
            _ => 400,
        }
    }
}

/// Reads the signature a request claims to carry; `Ok(None)` when it carries none (anonymous).
pub fn parse(input: &SigningInput<'_>) -> Result<Option<SignatureInfo>, SigV4Error> {
    let mut query = Fields::default();
    for (name, value) in query_pairs(input.query.unwrap_or("")) {
        let slot = match name {
            "X-Amz-Algorithm" => &mut query.algorithm,
            "X-Amz-Credential" => &mut query.credential,
            "X-Amz-Signature" => &mut query.signature,
            "X-Amz-SignedHeaders" => &mut query.signed_headers,
            "X-Amz-Date" => &mut query.date,
            "X-Amz-Security-Token" => &mut query.token,
            _ => continue,
        };
        *slot = Some(String::from_utf8_lossy(&form_decode(value)).into_owned());
    }
    let presigned =
        query.algorithm.is_some() || query.credential.is_some() || query.signature.is_some();
    let authorization = input.headers.get(http::header::AUTHORIZATION);
    match (authorization.map(|v| String::from_utf8_lossy(v.as_bytes())), presigned) {
        (None, false) => Ok(None),
        (None, true) => query.into_info(None).map(Some),
        (Some(value), false) => Fields::from_header(&value, input.headers)
            .into_info(Some(&value))
            .map(Some),
        (Some(_), true) => Err(SigV4Error::IncompleteSignature("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified".into())),
    }
}

/// Checks the signature [`parse`] found against `secret_access_key`, the clock and the expiry.
pub fn verify(
    info: &SignatureInfo,
    input: &SigningInput<'_>,
    secret_access_key: &str,
    now: SystemTime,
) -> Result<(), SigV4Error> {
    // What a signature must cover, whatever the client chose to list: the host (else a
    // captured request replays against another endpoint) and its own time stamp (else it
    // replays outside the 15-minute window). A presigned request's X-Amz-Date is in the query,
    // which is always signed.
    require_signed(info, &["host", ":authority"], "'Host' or ':authority'")?;
    if !info.presigned {
        if input.headers.contains_key("x-amz-date") {
            require_signed(info, &["x-amz-date"], "'X-Amz-Date'")?;
        } else {
            require_signed(info, &["date"], "'Date'")?;
        }
    }
    let amz_date = &info.amz_date;
    let signed_at = parse_amz_date(amz_date).ok_or_else(|| SigV4Error::IncompleteSignature(format!(
        "Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601"
    )))?;
    let request_date = amz_date.get(..8).unwrap_or_default();
    if info.scope.date != request_date {
        return Err(SigV4Error::SignatureDoesNotMatch(format!("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{request_date}', from '{amz_date}'.", info.scope.date)));
    }
    // Time checks come first: they are cheap and spare hashing the body of a stale request.
    check_time(info, input.query.unwrap_or(""), signed_at, now)?;

    // Outside S3 the payload hash is always the body's own SHA-256, whatever
    // x-amz-content-sha256 declares: UNSIGNED-PAYLOAD (or any other marker) would leave the body
    // out of the signature, and a tampered body would pass. Only a presigned request without a
    // body may have been signed as UNSIGNED-PAYLOAD: there is no payload to protect.
    let body_hash = hex::encode(Sha256::digest(input.body));
    let payload_hashes: Vec<Cow<'_, str>> = if info.presigned && input.body.is_empty() {
        vec![body_hash.into(), "UNSIGNED-PAYLOAD".into()]
    } else {
        vec![body_hash.into()]
    };
    let day = UNIX_EPOCH + Duration::from_secs(u64::try_from(signed_at).unwrap_or_default());
    let scope = &info.scope;
    let key = generate_signing_key(secret_access_key, day, &scope.region, &scope.service);
    let head = canonical_head(info, input);
    let mut first_failure = None;
    for payload_hash in &payload_hashes {
        let canonical_request = format!("{head}{payload_hash}");
        let string_to_sign = format!(
            "{ALGORITHM}\n{amz_date}\n{}/{}/{}/aws4_request\n{}",
            scope.date,
            scope.region,
            scope.service,
            hex::encode(Sha256::digest(&canonical_request))
        );
        let expected = calculate_signature(key.as_ref(), string_to_sign.as_bytes());
        if bool::from(expected.as_bytes().ct_eq(info.signature.as_bytes())) {
            return Ok(());
        }
        first_failure.get_or_insert((canonical_request, string_to_sign));
    }
    let (canonical_request, string_to_sign) = first_failure.unwrap_or_default();
    // AWS echoes both so that a client can diff them against its own.
    Err(SigV4Error::SignatureDoesNotMatch(format!("{MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical_request}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n")))
}

/// Refuses a signature whose SignedHeaders list none of `names` (lower-case), as AWS does:
/// `'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.`
pub fn require_signed(
    info: &SignatureInfo,
    names: &[&str],
    display: &str,
) -> Result<(), SigV4Error> {
    if info
        .signed_headers
        .iter()
        .any(|signed| names.contains(&signed.as_str()))
    {
        return Ok(());
    }
    Err(SigV4Error::IncompleteSignature(format!(
        "{display} must be a 'SignedHeader' in the AWS Authorization."
    )))
}

/// The signature parts of a request, from its query string or from its headers.
#[derive(Default)]
struct Fields {
    algorithm: Option<String>,
    credential: Option<String>,
    signature: Option<String>,
    signed_headers: Option<String>,
    date: Option<String>,
    token: Option<String>,
}

impl Fields {
    fn from_header(value: &str, headers: &HeaderMap) -> Self {
        let (scheme, params) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
        let text = |name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let mut fields = Fields {
            algorithm: Some(scheme.to_owned()),
            date: text("x-amz-date").or_else(|| text("date")),
            token: text("x-amz-security-token"),
            ..Fields::default()
        };
        for (name, param) in params.split(',').filter_map(|p| p.split_once('=')) {
            let slot = match name.trim() {
                "Credential" => &mut fields.credential,
                "SignedHeaders" => &mut fields.signed_headers,
                "Signature" => &mut fields.signature,
                _ => continue,
            };
            *slot = Some(param.trim().to_owned()).filter(|p| !p.is_empty());
        }
        fields
    }

    /// `authorization` is the header's value, or `None` for a presigned query.
    fn into_info(self, authorization: Option<&str>) -> Result<SignatureInfo, SigV4Error> {
        let incomplete = |message: String| Err(SigV4Error::IncompleteSignature(message));
        let Fields {
            algorithm: Some(algorithm),
            credential: Some(credential),
            signature: Some(signature),
            signed_headers: Some(signed_headers),
            date: Some(amz_date),
            token,
        } = self
        else {
            // In the order AWS lists them; the header form always has an algorithm (its scheme).
            let parts = [
                (self.algorithm.is_none(), "X-Amz-Algorithm"),
                (self.credential.is_none(), "X-Amz-Credential"),
                (self.signature.is_none(), "X-Amz-Signature"),
                (self.signed_headers.is_none(), "X-Amz-SignedHeaders"),
                (self.date.is_none(), "X-Amz-Date"),
            ];
            let missing = parts.iter().filter(|part| part.0).map(|part| part.1);
            let message: String = match authorization {
                Some(value) => missing
                    .map(|name| match name.trim_start_matches("X-Amz-") {
                        "Date" => "existence of either a 'X-Amz-Date' or a 'Date' header".into(),
                        parameter => format!("'{parameter}' parameter"),
                    })
                    .map(|what| format!("Authorization header requires {what}. "))
                    .chain([format!("Authorization={value}")])
                    .collect(),
                None => missing
                    .map(|name| format!("AWS query-string parameters must include '{name}'. "))
                    .chain(["Re-examine the query-string parameters.".to_owned()])
                    .collect(),
            };
            return incomplete(message);
        };
        if algorithm != ALGORITHM {
            return incomplete(match authorization {
                None => "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"".into(),
                Some(_) => "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.".into(),
            });
        }
        let parts: Vec<&str> = credential.split('/').collect();
        let (&[key, date, region, service, "aws4_request"], false) =
            (parts.as_slice(), parts.iter().any(|part| part.is_empty()))
        else {
            let context = match authorization {
                None => "Error parsing the X-Amz-Credential parameter",
                Some(_) => "The authorization header is malformed",
            };
            return incomplete(format!("{context}; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."));
        };
        let signed_headers = signed_headers
            .split(';')
            .map(|name| name.trim().to_ascii_lowercase());
        Ok(SignatureInfo {
            scope: CredentialScope {
                access_key_id: key.to_owned(),
                date: date.to_owned(),
                region: region.to_owned(),
                service: service.to_owned(),
            },
            signed_headers: signed_headers.filter(|name| !name.is_empty()).collect(),
            signature,
            amz_date,
            security_token: token,
            presigned: authorization.is_none(),
        })
    }
}

fn query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    let pairs = query.split('&').filter(|pair| !pair.is_empty());
    pairs.map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

/// `application/x-www-form-urlencoded` decoding, as the SDK signers apply to query strings.
fn form_decode(text: &str) -> Vec<u8> {
    percent_decode_str(&text.replace('+', "%20")).collect()
}

fn check_time(
    info: &SignatureInfo,
    query: &str,
    signed_at: i64,
    now: SystemTime,
) -> Result<(), SigV4Error> {
    let now = match now.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    };
    let (amz_date, now_text) = (&info.amz_date, format_amz_date(now));
    if signed_at.saturating_sub(now) > MAX_SKEW_SECS {
        let latest = format_amz_date(now.saturating_add(MAX_SKEW_SECS));
        return Err(SigV4Error::SignatureDoesNotMatch(format!("Signature not yet current: {amz_date} is still later than {latest} ({now_text} + 15 min.)")));
    }
    if !info.presigned {
        if now.saturating_sub(signed_at) > MAX_SKEW_SECS {
            let earliest = format_amz_date(now.saturating_sub(MAX_SKEW_SECS));
            return Err(SigV4Error::SignatureDoesNotMatch(format!("Signature expired: {amz_date} is now earlier than {earliest} ({now_text} - 15 min.)")));
        }
        return Ok(());
    }
    // Without X-Amz-Expires a presigned request gets the same window as a signed header.
    let expires = match query_pairs(query).find(|(name, _)| *name == "X-Amz-Expires") {
        None => MAX_SKEW_SECS,
        Some((_, raw)) => raw.parse::<u32>().map(i64::from).map_err(|_| {
            SigV4Error::IncompleteSignature("X-Amz-Expires should be a number".into())
        })?,
    };
    if expires > MAX_EXPIRES_SECS {
        return Err(SigV4Error::IncompleteSignature("X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds".into()));
    }
    match now > signed_at.saturating_add(expires) {
        true => Err(SigV4Error::RequestExpired),
        false => Ok(()),
    }
}

/// The canonical request up to, not including, the payload hash.
fn canonical_head(info: &SignatureInfo, input: &SigningInput<'_>) -> String {
    let path = normalize_path(input.path);
    let path = percent_encode(path.as_bytes(), PATH_UNRESERVED);
    let query = canonical_query(input.query.unwrap_or(""), info.presigned);
    let mut out = format!("{}\n{path}\n{query}\n", input.method);
    for name in &info.signed_headers {
        out.push_str(name);
        out.push(':');
        // Each value trimmed, with runs of spaces folded into one, as SigV4 requires.
        let values: Vec<String> = input
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|value| {
                let value = String::from_utf8_lossy(value.as_bytes());
                let words = value
                    .trim_matches([' ', '\t'])
                    .split(' ')
                    .filter(|w| !w.is_empty());
                words.collect::<Vec<_>>().join(" ")
            })
            .collect();
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&info.signed_headers.join(";"));
    out.push('\n');
    out
}

/// Removes empty, `.` and `..` segments (RFC 3986 dot-segment removal plus slash merging).
fn normalize_path(raw: &str) -> Cow<'_, str> {
    let is_dot = |segment: &str| segment == "." || segment == "..";
    if raw.starts_with('/') && !raw.contains("//") && !raw.split('/').any(is_dot) {
        return Cow::Borrowed(raw);
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in raw.split('/') {
        match segment {
            "" | "." => {}
            ".." => drop(segments.pop()),
            kept => segments.push(kept),
        }
    }
    let mut path: String = segments.iter().flat_map(|s| ["/", s]).collect();
    if raw.ends_with('/') || raw.rsplit('/').next().is_some_and(is_dot) || segments.is_empty() {
        path.push('/');
    }
    Cow::Owned(path)
}

/// Decodes then re-encodes every parameter so that any client spelling of it compares equal.
fn canonical_query(raw: &str, presigned: bool) -> String {
    let encode = |text: &str| percent_encode(&form_decode(text), UNRESERVED).to_string();
    let mut pairs: Vec<(String, String)> = query_pairs(raw)
        .filter(|(name, _)| !(presigned && *name == "X-Amz-Signature"))
        .map(|(name, value)| (encode(name), encode(value)))
        .collect();
    pairs.sort_unstable();
    let pairs: Vec<String> = pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    pairs.join("&")
}

/// `YYYYMMDD'T'HHMMSS'Z'` (UTC), the time stamp form of SigV4, as seconds since the epoch.
fn parse_amz_date(text: &str) -> Option<i64> {
    let digits = |at: usize, len: usize| -> Option<i64> {
        let field = text.get(at..at + len)?;
        field
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| field.parse().ok())?
    };
    if text.len() != 16 || text.get(8..9) != Some("T") || text.get(15..) != Some("Z") {
        return None;
    }
    let (year, month, day) = (digits(0, 4)?, digits(4, 2)?, digits(6, 2)?);
    let (hour, minute, second) = (digits(9, 2)?, digits(11, 2)?, digits(13, 2)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        2 => 28 + i64::from(leap),
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let valid = (1..=12).contains(&month) && (1..=month_days).contains(&day);
    if !valid || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days since 1970-01-01, with years starting in March so that the leap day comes last.
    let year = if month <= 2 { year - 1 } else { year };
    let (era, year_of_era) = (year.div_euclid(400), year.rem_euclid(400));
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// The inverse of [`parse_amz_date`].
fn format_amz_date(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400) + 719_468, unix.rem_euclid(86_400));
    let (era, day_of_era) = (days.div_euclid(146_097), days.rem_euclid(146_097));
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let (hour, minute, second) = (secs / 3600, secs % 3600 / 60, secs % 60);
    format!("{year:04}{month:02}{day:02}T{hour:02}{minute:02}{second:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderName, HeaderValue};

    const AKID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    /// 2015-08-30T12:36:00Z, the time of every AWS published example below.
    const EXAMPLE_TIME: u64 = 1_440_938_160;
    const IAM_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
    const IAM_CANONICAL_REQUEST: &str = "GET\n/\nAction=ListUsers&Version=2010-05-08\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const IAM_STRING_TO_SIGN: &str = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\nf536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59";

    fn at(unix: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(unix)
    }

    fn header_map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn input<'a>(
        method: &'a str,
        path: &'a str,
        query: Option<&'a str>,
        headers: &'a HeaderMap,
        body: &'a [u8],
    ) -> SigningInput<'a> {
        SigningInput {
            method,
            path,
            query,
            headers,
            body,
        }
    }

    fn check(
        signing: &SigningInput<'_>,
        secret: &str,
        now: SystemTime,
    ) -> Result<SignatureInfo, SigV4Error> {
        let info = parse(signing)?.expect("a signature");
        verify(&info, signing, secret, now).map(|()| info)
    }

    fn is_mismatch(err: &SigV4Error) -> bool {
        matches!(err, SigV4Error::SignatureDoesNotMatch(message) if message.starts_with(MISMATCH))
    }

    fn iam_headers(authorization: &str, amz_date: &str) -> HeaderMap {
        header_map(&[
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            ("host", "iam.amazonaws.com"),
            ("x-amz-date", amz_date),
            ("authorization", authorization),
        ])
    }

    #[test]
    fn aws_documented_iam_list_users_example() {
        let headers = iam_headers(IAM_AUTHORIZATION, "20150830T123600Z");
        let request = input(
            "GET",
            "/",
            Some("Action=ListUsers&Version=2010-05-08"),
            &headers,
            b"",
        );
        let info = parse(&request).unwrap().unwrap();
        assert_eq!(
            info.scope,
            CredentialScope {
                access_key_id: AKID.into(),
                date: "20150830".into(),
                region: "us-east-1".into(),
                service: "iam".into()
            }
        );
        assert_eq!(info.signed_headers, ["content-type", "host", "x-amz-date"]);
        assert!(!info.presigned && info.security_token.is_none());

        let canonical = canonical_head(&info, &request) + EMPTY_SHA256;
        assert_eq!(canonical, IAM_CANONICAL_REQUEST);
        assert_eq!(
            hex::encode(Sha256::digest(&canonical)),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        let key = generate_signing_key(SECRET, at(EXAMPLE_TIME), "us-east-1", "iam");
        assert_eq!(
            hex::encode(key.as_ref()),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
        verify(&info, &request, SECRET, at(EXAMPLE_TIME)).unwrap();
        // Clients differ in the blanks around the parameters; the signature does not.
        let compact = IAM_AUTHORIZATION.replace(", ", ",");
        let headers = iam_headers(&compact, "20150830T123600Z");
        let request = input("GET", "/", request.query, &headers, b"");
        check(&request, SECRET, at(EXAMPLE_TIME)).unwrap();
    }

    #[test]
    fn aws_documented_iam_example_neg_wrong_secret_echoes_canonical_request() {
        let headers = iam_headers(IAM_AUTHORIZATION, "20150830T123600Z");
        let request = input(
            "GET",
            "/",
            Some("Action=ListUsers&Version=2010-05-08"),
            &headers,
            b"",
        );
        let err = check(&request, "not-the-secret", at(EXAMPLE_TIME)).unwrap_err();
        assert!(is_mismatch(&err), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "The request signature we calculated does not match the signature you provided. \
                 Check your AWS Secret Access Key and signing method. Consult the service \
                 documentation for details.\n\nThe Canonical String for this request should \
                 have been\n'{IAM_CANONICAL_REQUEST}'\n\nThe String-to-Sign should have been\n\
                 '{IAM_STRING_TO_SIGN}'\n"
            )
        );
        assert_eq!(
            (err.code(false), err.code(true)),
            ("SignatureDoesNotMatch", "InvalidSignatureException")
        );
        assert_eq!((err.http_status(), err.http_status_for(true)), (403, 400));
    }

    struct SuiteCase {
        name: &'static str,
        method: &'static str,
        path: &'static str,
        query: Option<&'static str>,
        headers: &'static [(&'static str, &'static str)],
        body: &'static [u8],
    }

    const HOST: (&str, &str) = ("host", "example.amazonaws.com");
    const DATE: (&str, &str) = ("x-amz-date", "20150830T123600Z");
    const SCOPE: &str =
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";

    /// Cases of AWS's published SigV4 test suite (header form): request as received, signature.
    const SUITE: &[(SuiteCase, &str, &str)] = &[
        (SuiteCase { name: "get-vanilla", method: "GET", path: "/", query: None, headers: &[HOST, DATE], body: b"" },
            "host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        (SuiteCase { name: "get-vanilla-query-order-key-case", method: "GET", path: "/", query: Some("Param2=value2&Param1=value1"), headers: &[HOST, DATE], body: b"" },
            "host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        (SuiteCase { name: "get-vanilla-query-unreserved", method: "GET", path: "/", query: Some("-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"), headers: &[HOST, DATE], body: b"" },
            "host;x-amz-date", "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
        (SuiteCase { name: "get-vanilla-utf8-query", method: "GET", path: "/", query: Some("\u{1234}=bar"), headers: &[HOST, DATE], body: b"" },
            "host;x-amz-date", "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
        (SuiteCase { name: "get-space-normalized", method: "GET", path: "/example space/", query: None, headers: &[HOST, DATE], body: b"" },
            "host;x-amz-date", "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"),
        (SuiteCase { name: "get-utf8", method: "GET", path: "/\u{1234}", query: None, headers: &[HOST, DATE], body: b"" },
            "host;x-amz-date", "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
        (SuiteCase { name: "get-unreserved", method: "GET", path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", query: None, headers: &[HOST, DATE], body: b"" },
            "host;x-amz-date", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
        (SuiteCase { name: "get-slash-dot-slash-normalized", method: "GET", path: "/./", query: None, headers: &[HOST, DATE], body: b"" },
            "host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        (SuiteCase { name: "get-slashes-normalized", method: "GET", path: "//example//", query: None, headers: &[HOST, DATE], body: b"" },
            "host;x-amz-date", "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"),
        (SuiteCase { name: "get-relative-relative-normalized", method: "GET", path: "/example1/example2/../..", query: None, headers: &[HOST, DATE], body: b"" },
            "host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        (SuiteCase { name: "get-header-value-trim", method: "GET", path: "/", query: None, headers: &[HOST, ("my-header1", " value1"), ("my-header2", "\"a   b   c\""), DATE], body: b"" },
            "host;my-header1;my-header2;x-amz-date", "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
        (SuiteCase { name: "get-header-key-duplicate", method: "GET", path: "/", query: None, headers: &[HOST, ("my-header1", "value2"), ("my-header1", "value2"), ("my-header1", "value1"), DATE], body: b"" },
            "host;my-header1;x-amz-date", "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
        (SuiteCase { name: "post-header-key-sort", method: "POST", path: "/", query: None, headers: &[HOST, ("my-header1", "value1"), DATE], body: b"" },
            "host;my-header1;x-amz-date", "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"),
        (SuiteCase { name: "post-x-www-form-urlencoded", method: "POST", path: "/", query: None, headers: &[("content-type", "application/x-www-form-urlencoded"), HOST, ("content-length", "13"), DATE, ("x-amz-content-sha256", "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e")], body: b"Param1=value1" },
            "content-length;content-type;host;x-amz-content-sha256;x-amz-date", "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"),
        (SuiteCase { name: "get-vanilla-with-session-token", method: "GET", path: "/", query: None, headers: &[HOST, ("x-amz-security-token", "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"), DATE], body: b"" },
            "host;x-amz-date;x-amz-security-token", "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"),
    ];

    #[test]
    fn aws_signature_test_suite_header_form() {
        for (case, signed_headers, signature) in SUITE {
            let authorization =
                format!("{SCOPE}SignedHeaders={signed_headers}, Signature={signature}");
            let mut headers = header_map(case.headers);
            headers.insert(
                "authorization",
                HeaderValue::from_str(&authorization).unwrap(),
            );
            let request = input(case.method, case.path, case.query, &headers, case.body);
            let info = check(&request, SECRET, at(EXAMPLE_TIME))
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            assert_eq!(info.scope.service, "service", "{}", case.name);
            let token = case
                .headers
                .iter()
                .find(|(n, _)| *n == "x-amz-security-token")
                .map(|(_, v)| v.to_string());
            assert_eq!(info.security_token, token, "{}", case.name);
        }
    }

    #[test]
    fn aws_signature_test_suite_header_form_neg_tampered() {
        for (case, signed_headers, signature) in SUITE {
            let mut wrong = signature.to_string();
            wrong.replace_range(63.., if signature.ends_with('0') { "1" } else { "0" });
            let authorization = format!("{SCOPE}SignedHeaders={signed_headers}, Signature={wrong}");
            let mut headers = header_map(case.headers);
            headers.insert(
                "authorization",
                HeaderValue::from_str(&authorization).unwrap(),
            );
            let request = input(case.method, case.path, case.query, &headers, case.body);
            let err = check(&request, SECRET, at(EXAMPLE_TIME)).unwrap_err();
            assert!(is_mismatch(&err), "{}: {err:?}", case.name);
            // The right signature over another body: a declared x-amz-content-sha256 must not
            // vouch for a body it is not the digest of.
            let authorization =
                format!("{SCOPE}SignedHeaders={signed_headers}, Signature={signature}");
            headers.insert(
                "authorization",
                HeaderValue::from_str(&authorization).unwrap(),
            );
            let request = input(
                case.method,
                case.path,
                case.query,
                &headers,
                b"Param1=value2",
            );
            let err = check(&request, SECRET, at(EXAMPLE_TIME)).unwrap_err();
            assert!(is_mismatch(&err), "{}: {err:?}", case.name);
        }
    }

    /// AWS's published test suite, query (presigned) form, X-Amz-Expires=3600.
    /// Method, query, headers, body.
    type Presigned = (
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
        &'static [u8],
    );

    const PRESIGNED_SUITE: &[Presigned] = &[
        ("GET", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature=e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d", &[HOST], b""),
        ("GET", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Security-Token=6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267&X-Amz-Signature=7ff2b50b376cb4d151970630573d6291dc128cc5c2a12ffb237f73cc53f67b6c", &[HOST], b""),
        ("POST", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost&X-Amz-Expires=3600&X-Amz-Signature=89a40deed0f26f9461242825a082d2222717248abc7ab41f552ad84a94ad46e9", &[("content-type", "application/x-www-form-urlencoded"), HOST, ("content-length", "13")], b"Param1=value1"),
    ];

    #[test]
    fn aws_signature_test_suite_query_form_and_expiry() {
        for (method, query, headers, body) in PRESIGNED_SUITE {
            let headers = header_map(headers);
            let request = input(method, "/", Some(query), &headers, body);
            let info = check(&request, SECRET, at(EXAMPLE_TIME))
                .unwrap_or_else(|e| panic!("{query}: {e}"));
            assert!(info.presigned);
            assert_eq!(info.security_token.is_some(), query.contains("Token"));
            // Valid up to X-Amz-Expires after X-Amz-Date, then RequestExpired.
            check(&request, SECRET, at(EXAMPLE_TIME + 3600)).unwrap();
            let err = check(&request, SECRET, at(EXAMPLE_TIME + 3601)).unwrap_err();
            assert!(matches!(err, SigV4Error::RequestExpired), "{err:?}");
            assert_eq!(
                (err.code(false), err.code(true), err.http_status()),
                ("RequestExpired", "RequestExpired", 400)
            );
            let err = check(&request, SECRET, at(EXAMPLE_TIME - 901)).unwrap_err();
            assert!(
                err.to_string().starts_with("Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z (20150830T122059Z + 15 min.)"),
                "{err:?}"
            );
        }
    }

    #[test]
    fn presigned_neg_tampered_query_path_header_or_body() {
        let (method, query, headers, body) = PRESIGNED_SUITE[2];
        let headers = header_map(headers);
        let mut other_host = headers.clone();
        other_host.insert("host", HeaderValue::from_static("example.amazonaws.org"));
        let longer_query = format!("{query}&Param1=value1");
        let expires_changed = query.replace("X-Amz-Expires=3600", "X-Amz-Expires=3599");
        let cases = [
            input(method, "/", Some(&longer_query), &headers, body),
            input(method, "/", Some(&expires_changed), &headers, body),
            input(method, "/x", Some(query), &headers, body),
            input(method, "/", Some(query), &other_host, body),
            input(method, "/", Some(query), &headers, b"Param1=value2"),
            input("PUT", "/", Some(query), &headers, body),
        ];
        for request in &cases {
            let err = check(request, SECRET, at(EXAMPLE_TIME)).unwrap_err();
            assert!(is_mismatch(&err), "{err:?}");
        }
    }

    mod signer {
        use super::*;
        use aws_credential_types::Credentials;
        use aws_sigv4::http_request::{
            sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
        };
        use aws_smithy_runtime_api::client::identity::Identity;

        /// 2024-01-02T03:04:05Z
        pub const SIGNED_AT: u64 = 1_704_164_645;

        pub struct Signed {
            pub method: String,
            pub path: String,
            pub query: Option<String>,
            pub headers: HeaderMap,
            pub body: Vec<u8>,
        }

        impl Signed {
            pub fn input(&self) -> SigningInput<'_> {
                input(
                    &self.method,
                    &self.path,
                    self.query.as_deref(),
                    &self.headers,
                    &self.body,
                )
            }
        }

        pub enum Payload {
            Hashed,
            Unsigned,
        }

        /// Signs as an AWS SDK would, then returns the request as a server receives it.
        pub fn signed(
            method: &str,
            uri: &str,
            headers: &[(&str, &str)],
            body: &[u8],
            presign: Option<(u64, Payload)>,
            token: Option<&str>,
        ) -> Signed {
            sign_as_sdk(method, uri, headers, body, presign, token, false)
        }

        /// A header-signed request whose client declared `x-amz-content-sha256:
        /// UNSIGNED-PAYLOAD` and signed that marker instead of the body's hash (what S3
        /// clients do).
        pub fn signed_unsigned_payload(uri: &str, headers: &[(&str, &str)], body: &[u8]) -> Signed {
            sign_as_sdk("POST", uri, headers, body, None, None, true)
        }

        fn sign_as_sdk(
            method: &str,
            uri: &str,
            headers: &[(&str, &str)],
            body: &[u8],
            presign: Option<(u64, Payload)>,
            token: Option<&str>,
            unsigned_header: bool,
        ) -> Signed {
            let identity: Identity = Credentials::new(
                "AKIDROUNDTRIP",
                "round/trip+secret",
                token.map(str::to_owned),
                None,
                "test",
            )
            .into();
            let mut settings = SigningSettings::default();
            let mut payload = SignableBody::Bytes(body);
            if unsigned_header {
                settings.payload_checksum_kind =
                    aws_sigv4::http_request::PayloadChecksumKind::XAmzSha256;
                payload = SignableBody::UnsignedPayload;
            }
            if let Some((expires, kind)) = presign {
                settings.signature_location = SignatureLocation::QueryParams;
                settings.expires_in = Some(Duration::from_secs(expires));
                if let Payload::Unsigned = kind {
                    payload = SignableBody::UnsignedPayload;
                }
            }
            let params = aws_sigv4::sign::v4::SigningParams::builder()
                .identity(&identity)
                .region("eu-west-1")
                .name("logs")
                .time(at(SIGNED_AT))
                .settings(settings)
                .build()
                .unwrap()
                .into();
            let signable =
                SignableRequest::new(method, uri, headers.iter().copied(), payload).unwrap();
            let (instructions, _) = sign(signable, &params).unwrap().into_parts();
            let mut request = http::Request::builder().method(method).uri(uri);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let mut request = request.body(()).unwrap();
            instructions.apply_to_request_http1x(&mut request);
            let mut headers = request.headers().clone();
            let host = request.uri().authority().unwrap().as_str().to_owned();
            headers.insert("host", HeaderValue::from_str(&host).unwrap());
            Signed {
                method: method.to_owned(),
                path: request.uri().path().to_owned(),
                query: request.uri().query().map(str::to_owned),
                headers,
                body: body.to_vec(),
            }
        }
    }

    use signer::{signed, Payload, Signed, SIGNED_AT};

    const JSON_HEADERS: &[(&str, &str)] = &[
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", "Logs_20140328.PutLogEvents"),
    ];
    const FORM_HEADERS: &[(&str, &str)] = &[(
        "content-type",
        "application/x-www-form-urlencoded; charset=utf-8",
    )];

    fn round_trip_cases() -> Vec<(&'static str, Signed)> {
        let json = br#"{"logGroupName":"app","logStreamName":"s 1","logEvents":[]}"#;
        let form = b"Action=PutMetricData&Version=2010-08-01&Namespace=My%2FApp&MetricData.member.1.MetricName=Hits";
        let uri = "https://logs.eu-west-1.amazonaws.com/";
        let presign_uri = "https://logs.eu-west-1.amazonaws.com/a%20b/c?Action=ListMetrics&Namespace=AWS%2FEC2&Version=2010-08-01";
        let token = Some("FQoGZXIvYXdzEXAMPLE/token+with=chars");
        vec![
            ("json", signed("POST", uri, JSON_HEADERS, json, None, None)),
            (
                "json+token",
                signed("POST", uri, JSON_HEADERS, json, None, token),
            ),
            ("form", signed("POST", uri, FORM_HEADERS, form, None, None)),
            (
                "form+token",
                signed("POST", uri, FORM_HEADERS, form, None, token),
            ),
            (
                "get+query",
                signed("GET", presign_uri, &[], b"", None, None),
            ),
            (
                "presigned",
                signed(
                    "GET",
                    presign_uri,
                    &[],
                    b"",
                    Some((300, Payload::Hashed)),
                    None,
                ),
            ),
            (
                "presigned+token",
                signed(
                    "GET",
                    presign_uri,
                    &[],
                    b"",
                    Some((300, Payload::Hashed)),
                    token,
                ),
            ),
            // Presigned as UNSIGNED-PAYLOAD: accepted only without a body, as there is then
            // nothing the signature leaves out.
            (
                "presigned+unsigned+token",
                signed(
                    "GET",
                    presign_uri,
                    &[],
                    b"",
                    Some((60, Payload::Unsigned)),
                    token,
                ),
            ),
        ]
    }

    #[test]
    fn round_trip_requests_signed_by_the_sdk_signer_verify() {
        for (name, request) in round_trip_cases() {
            let info = check(&request.input(), "round/trip+secret", at(SIGNED_AT + 30))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(info.scope.access_key_id, "AKIDROUNDTRIP", "{name}");
            assert_eq!(
                (info.scope.region.as_str(), info.scope.service.as_str()),
                ("eu-west-1", "logs")
            );
            assert_eq!(info.presigned, name.starts_with("presigned"), "{name}");
            let token = info.security_token.as_deref();
            assert_eq!(token.is_some(), name.ends_with("token"), "{name}");
            assert!(
                token.is_none_or(|t| t == "FQoGZXIvYXdzEXAMPLE/token+with=chars"),
                "{name}"
            );
        }
    }

    #[test]
    fn round_trip_neg_any_flipped_signed_byte_is_signature_does_not_match() {
        for (name, request) in round_trip_cases() {
            let mut variants: Vec<(&str, Signed)> = Vec::new();
            let flipped = || Signed {
                method: request.method.clone(),
                path: request.path.clone(),
                query: request.query.clone(),
                headers: request.headers.clone(),
                body: request.body.clone(),
            };
            let mut host = flipped();
            host.headers.insert(
                "host",
                HeaderValue::from_static("logs.eu-west-2.amazonaws.com"),
            );
            variants.push(("host header", host));
            let mut path = flipped();
            path.path.push('x');
            variants.push(("path", path));
            let mut method = flipped();
            method.method = "PUT".into();
            variants.push(("method", method));
            let mut query = flipped();
            query.query = Some(format!("{}&extra=1", query.query.unwrap_or_default()));
            variants.push(("query", query));
            if request.headers.contains_key("x-amz-target") {
                let mut target = flipped();
                target.headers.insert(
                    "x-amz-target",
                    HeaderValue::from_static("Logs_20140328.DeleteLogGroup"),
                );
                variants.push(("target header", target));
            }
            // Every body is signed, even where the client declared it unsigned.
            let mut body = flipped();
            body.body.push(b' ');
            variants.push(("body", body));
            for (what, variant) in variants {
                let err = check(&variant.input(), "round/trip+secret", at(SIGNED_AT)).unwrap_err();
                assert!(is_mismatch(&err), "{name}/{what}: {err:?}");
            }
        }
    }

    #[test]
    fn unsigned_payload_is_refused_outside_s3() {
        let json = br#"{"logGroupName":"app"}"#;
        let uri = "https://logs.eu-west-1.amazonaws.com/";
        // x-amz-content-sha256: UNSIGNED-PAYLOAD in the header form, whether the body is the
        // one sent or a tampered one: the payload hash is the body's own.
        let request = signer::signed_unsigned_payload(uri, JSON_HEADERS, json);
        assert_eq!(
            request.headers["x-amz-content-sha256"],
            HeaderValue::from_static("UNSIGNED-PAYLOAD")
        );
        let err = check(&request.input(), "round/trip+secret", at(SIGNED_AT)).unwrap_err();
        assert!(is_mismatch(&err), "{err:?}");
        let sha = hex::encode(Sha256::digest(json));
        assert!(err.to_string().contains(&sha), "{err}");
        let mut tampered = request.input();
        tampered.body = br#"{"logGroupName":"victim"}"#;
        assert!(is_mismatch(
            &check(&tampered, "round/trip+secret", at(SIGNED_AT)).unwrap_err()
        ));
        // Presigned as UNSIGNED-PAYLOAD with a body: the body is not covered, so refused.
        let presigned = signed(
            "POST",
            uri,
            JSON_HEADERS,
            json,
            Some((60, Payload::Unsigned)),
            None,
        );
        assert!(is_mismatch(
            &check(&presigned.input(), "round/trip+secret", at(SIGNED_AT)).unwrap_err()
        ));
    }

    #[test]
    fn host_and_the_time_stamp_must_be_signed() {
        // The IAM example re-signed over content-type;x-amz-date only: refused before any
        // hashing, whatever the signature.
        let unsigned_host =
            IAM_AUTHORIZATION.replace("content-type;host;x-amz-date", "content-type;x-amz-date");
        let headers = iam_headers(&unsigned_host, "20150830T123600Z");
        let request = input(
            "GET",
            "/",
            Some("Action=ListUsers&Version=2010-05-08"),
            &headers,
            b"",
        );
        let err = check(&request, SECRET, at(EXAMPLE_TIME)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        );
        assert_eq!(
            (err.code(false), err.code(true)),
            ("IncompleteSignature", "IncompleteSignatureException")
        );
        let unsigned_date =
            IAM_AUTHORIZATION.replace("content-type;host;x-amz-date", "content-type;host");
        let headers = iam_headers(&unsigned_date, "20150830T123600Z");
        let request = input(
            "GET",
            "/",
            Some("Action=ListUsers&Version=2010-05-08"),
            &headers,
            b"",
        );
        assert_eq!(
            check(&request, SECRET, at(EXAMPLE_TIME))
                .unwrap_err()
                .to_string(),
            "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."
        );
        // Without X-Amz-Date, the Date header carries the time and must be signed instead.
        let headers = header_map(&[
            ("authorization", &unsigned_date),
            ("host", "iam.amazonaws.com"),
            ("date", "20150830T123600Z"),
        ]);
        let request = input("GET", "/", None, &headers, b"");
        assert_eq!(
            check(&request, SECRET, at(EXAMPLE_TIME))
                .unwrap_err()
                .to_string(),
            "'Date' must be a 'SignedHeader' in the AWS Authorization."
        );
    }

    #[test]
    fn round_trip_neg_wrong_secret() {
        for (name, request) in round_trip_cases() {
            let err = check(&request.input(), "round/trip+secreT", at(SIGNED_AT)).unwrap_err();
            assert!(is_mismatch(&err), "{name}: {err:?}");
        }
    }

    #[test]
    fn anonymous_requests_parse_to_none() {
        let empty = HeaderMap::new();
        for query in [
            None,
            Some(""),
            Some("Action=ListMetrics&Version=2010-08-01"),
            Some("X-Amz-Date=20150830T123600Z"),
        ] {
            assert!(
                parse(&input("GET", "/", query, &empty, b""))
                    .unwrap()
                    .is_none(),
                "{query:?}"
            );
        }
    }

    const MISSING_ALL: &str = "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=";

    #[test]
    fn incomplete_signatures_name_the_missing_component() {
        let credential = "Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request";
        let signed = "SignedHeaders=host;x-amz-date";
        let signature =
            "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
        let date = Some("20150830T123600Z");
        let mal_formed = "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".";
        let cases: Vec<(String, Option<&str>, String)> = vec![
            ("Basic dXNlcjpwYXNz".into(), None, format!("{MISSING_ALL}Basic dXNlcjpwYXNz")),
            (format!("AWS4-HMAC-SHA256 {signed}, {signature}"), date,
                format!("Authorization header requires 'Credential' parameter. Authorization=AWS4-HMAC-SHA256 {signed}, {signature}")),
            (format!("AWS4-HMAC-SHA256 {credential}, {signed}"), date,
                format!("Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 {credential}, {signed}")),
            (format!("AWS4-HMAC-SHA256 {credential}, {signature}"), date,
                format!("Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 {credential}, {signature}")),
            (format!("AWS4-HMAC-SHA256 {credential}, {signed}, Signature="), date,
                format!("Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 {credential}, {signed}, Signature=")),
            (format!("AWS4-HMAC-SHA256 {credential}, {signed}, {signature}"), None,
                format!("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 {credential}, {signed}, {signature}")),
            (format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam, {signed}, {signature}"), date,
                format!("The authorization header is malformed; {mal_formed}")),
            (format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws5_request, {signed}, {signature}"), date,
                format!("The authorization header is malformed; {mal_formed}")),
            (format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE//us-east-1/iam/aws4_request, {signed}, {signature}"), date,
                format!("The authorization header is malformed; {mal_formed}")),
            (format!("AWS4-HMAC-SHA512 {credential}, {signed}, {signature}"), date,
                "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.".into()),
        ];
        for (authorization, amz_date, expected) in cases {
            let mut headers = header_map(&[("authorization", &authorization)]);
            if let Some(amz_date) = amz_date {
                headers.insert("x-amz-date", HeaderValue::from_str(amz_date).unwrap());
            }
            let err = parse(&input("GET", "/", None, &headers, b"")).unwrap_err();
            assert!(matches!(err, SigV4Error::IncompleteSignature(_)), "{err:?}");
            assert_eq!(err.to_string(), expected);
            assert_eq!(
                (err.code(false), err.code(true), err.http_status()),
                ("IncompleteSignature", "IncompleteSignatureException", 400)
            );
        }
    }

    #[test]
    fn incomplete_presigned_queries_name_the_missing_parameter() {
        let none = HeaderMap::new();
        let cases = [
            ("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Flogs%2Faws4_request",
                "AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters."),
            ("X-Amz-Signature=abc&X-Amz-SignedHeaders=host&X-Amz-Date=20150830T123600Z",
                "AWS query-string parameters must include 'X-Amz-Algorithm'. AWS query-string parameters must include 'X-Amz-Credential'. Re-examine the query-string parameters."),
            ("X-Amz-Algorithm=AWS4-HMAC-SHA1&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Flogs%2Faws4_request&X-Amz-Signature=abc&X-Amz-SignedHeaders=host&X-Amz-Date=20150830T123600Z",
                "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""),
            ("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Flogs&X-Amz-Signature=abc&X-Amz-SignedHeaders=host&X-Amz-Date=20150830T123600Z",
                "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."),
        ];
        for (query, expected) in cases {
            let err = parse(&input("GET", "/", Some(query), &none, b"")).unwrap_err();
            assert!(matches!(err, SigV4Error::IncompleteSignature(_)), "{err:?}");
            assert_eq!(err.to_string(), expected);
        }
        let both = header_map(&[("authorization", IAM_AUTHORIZATION)]);
        let err = parse(&input("GET", "/", Some(PRESIGNED_SUITE[0].1), &both, b"")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Only one auth mechanism allowed"),
            "{err}"
        );
    }

    #[test]
    fn presigned_expires_must_be_a_number_of_at_most_a_week() {
        let headers = header_map(&[HOST]);
        for (expires, expected) in [
            ("604801", "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds"),
            ("-1", "X-Amz-Expires should be a number"),
            ("1e3", "X-Amz-Expires should be a number"),
            ("99999999999999999999999", "X-Amz-Expires should be a number"),
        ] {
            let query = PRESIGNED_SUITE[0].1.replace("X-Amz-Expires=3600", &format!("X-Amz-Expires={expires}"));
            let err = check(&input("GET", "/", Some(&query), &headers, b""), SECRET, at(EXAMPLE_TIME)).unwrap_err();
            assert_eq!(err.to_string(), expected);
        }
    }

    #[test]
    fn clock_skew_is_fifteen_minutes_either_way() {
        let headers = iam_headers(IAM_AUTHORIZATION, "20150830T123600Z");
        let request = input(
            "GET",
            "/",
            Some("Action=ListUsers&Version=2010-05-08"),
            &headers,
            b"",
        );
        check(&request, SECRET, at(EXAMPLE_TIME + 900)).unwrap();
        check(&request, SECRET, at(EXAMPLE_TIME - 900)).unwrap();
        let late = check(&request, SECRET, at(EXAMPLE_TIME + 901)).unwrap_err();
        assert_eq!(
            late.to_string(),
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)"
        );
        let early = check(&request, SECRET, at(EXAMPLE_TIME - 901)).unwrap_err();
        assert_eq!(
            early.to_string(),
            "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z (20150830T122059Z + 15 min.)"
        );
        for err in [late, early] {
            assert_eq!(
                (err.code(false), err.code(true)),
                ("SignatureDoesNotMatch", "InvalidSignatureException")
            );
            assert_eq!((err.http_status(), err.http_status_for(true)), (403, 400));
        }
    }

    #[test]
    fn scope_date_must_be_the_request_date() {
        let headers = iam_headers(IAM_AUTHORIZATION, "20150831T000000Z");
        let request = input(
            "GET",
            "/",
            Some("Action=ListUsers&Version=2010-05-08"),
            &headers,
            b"",
        );
        let err = check(&request, SECRET, at(EXAMPLE_TIME)).unwrap_err();
        assert_eq!(err.to_string(), "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150830' != '20150831', from '20150831T000000Z'.");
        let headers = iam_headers(IAM_AUTHORIZATION, "2015-08-30T12:36:00Z");
        let request = input(
            "GET",
            "/",
            Some("Action=ListUsers&Version=2010-05-08"),
            &headers,
            b"",
        );
        let err = check(&request, SECRET, at(EXAMPLE_TIME)).unwrap_err();
        assert_eq!(err.to_string(), "Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'. See http://en.wikipedia.org/wiki/ISO_8601");
    }

    #[test]
    fn date_header_is_the_fallback_time_stamp() {
        for (date, amz_date) in [
            ("20150830T123600Z", "20150830T123600Z"),
            (
                "Sun, 30 Aug 2015 12:36:00 GMT",
                "Sun, 30 Aug 2015 12:36:00 GMT",
            ),
        ] {
            let headers = header_map(&[("authorization", IAM_AUTHORIZATION), ("date", date)]);
            let info = parse(&input("GET", "/", None, &headers, b""))
                .unwrap()
                .unwrap();
            assert_eq!(info.amz_date, amz_date);
        }
    }

    #[test]
    fn amz_dates_parse_and_format() {
        for (text, unix) in [
            ("19700101T000000Z", 0),
            ("19691231T235959Z", -1),
            ("20150830T123600Z", 1_440_938_160),
            ("20000229T235959Z", 951_868_799),
            ("21000301T000000Z", 4_107_542_400),
        ] {
            assert_eq!(parse_amz_date(text), Some(unix), "{text}");
            assert_eq!(format_amz_date(unix), text);
        }
        for invalid in [
            "21000229T000000Z",
            "20150230T000000Z",
            "20151301T000000Z",
            "20150800T000000Z",
            "20150830T240000Z",
            "20150830T126000Z",
            "20150830T123660Z",
            "2015-08-30T12:36:00Z",
            "20150830T123600",
            "2015083OT123600Z",
            "20150830T12360Z",
            "+0150830T123600Z",
            "",
            "20150830T123600Zé",
        ] {
            assert_eq!(parse_amz_date(invalid), None, "{invalid}");
        }
    }

    #[test]
    fn canonical_uri_and_query_encoding() {
        for (raw, expected) in [
            ("", "/"),
            ("/", "/"),
            ("/a%20b/c", "/a%2520b/c"),
            (
                "/test/@connections/JBDvjfGEIAMCERw%3D",
                "/test/%40connections/JBDvjfGEIAMCERw%253D",
            ),
            ("/a/./b/../c/", "/a/c/"),
            ("/a/..", "/"),
            ("/../../x", "/x"),
        ] {
            let path = normalize_path(raw);
            assert_eq!(
                percent_encode(path.as_bytes(), PATH_UNRESERVED).to_string(),
                expected,
                "{raw}"
            );
        }
        for (raw, presigned, expected) in [
            ("b=2&a=1&a=0", false, "a=0&a=1&b=2"),
            ("a=b+c&d=%7e&e", false, "a=b%20c&d=~&e="),
            ("x=%zz&y=%4", false, "x=%25zz&y=%254"),
            ("X-Amz-Signature=abc&A=1", true, "A=1"),
            ("X-Amz-Signature=abc&A=1", false, "A=1&X-Amz-Signature=abc"),
            ("&&a=1&", false, "a=1"),
        ] {
            assert_eq!(canonical_query(raw, presigned), expected, "{raw}");
        }
    }

    #[test]
    fn error_codes_and_statuses_per_protocol() {
        let cases = [
            (
                SigV4Error::MissingAuthenticationToken,
                "MissingAuthenticationToken",
                "MissingAuthenticationTokenException",
                403,
                403,
            ),
            (
                SigV4Error::UnknownAccessKey,
                "InvalidClientTokenId",
                "UnrecognizedClientException",
                403,
                403,
            ),
            (
                SigV4Error::wrong_region("us-west-9"),
                "SignatureDoesNotMatch",
                "InvalidSignatureException",
                403,
                400,
            ),
            (
                SigV4Error::wrong_service("logs"),
                "SignatureDoesNotMatch",
                "InvalidSignatureException",
                403,
                400,
            ),
            (
                SigV4Error::RequestExpired,
                "RequestExpired",
                "RequestExpired",
                400,
                400,
            ),
        ];
        for (err, query_code, json_code, query_status, json_status) in cases {
            assert_eq!(
                (err.code(false), err.code(true)),
                (query_code, json_code),
                "{err:?}"
            );
            assert_eq!(
                (err.http_status(), err.http_status_for(true)),
                (query_status, json_status),
                "{err:?}"
            );
        }
        assert_eq!(
            SigV4Error::UnknownAccessKey.to_string(),
            "The security token included in the request is invalid."
        );
        assert_eq!(
            SigV4Error::wrong_region("us-west-9").to_string(),
            "Credential should be scoped to a valid region, not 'us-west-9'. "
        );
        assert_eq!(
            SigV4Error::MissingAuthenticationToken.to_string(),
            "Request is missing Authentication Token"
        );
    }
}
