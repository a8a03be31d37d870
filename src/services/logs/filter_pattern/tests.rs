//! Filter patterns checked against the examples in the CloudWatch Logs user guide ("Filter
//! pattern syntax for metric filters, subscription filters, filter log events, and Live Tail",
//! its earlier "Filter and Pattern Syntax" edition, and the metric filter walkthroughs). Each
//! table lists pattern, event and whether AWS says it matches; `_NEG` rows are the events the
//! guide says a pattern leaves out.

use super::*;

fn parse(pattern: &str) -> FilterPattern {
    match FilterPattern::parse(pattern) {
        Ok(p) => p,
        Err(e) => panic!("{pattern:?} should parse: {e:?}"),
    }
}

fn check(cases: &[(&str, &str, bool)]) {
    for (pattern, event, expected) in cases {
        assert_eq!(
            parse(pattern).matches(event),
            *expected,
            "pattern {pattern:?} on event {event:?}"
        );
    }
}

const BAD_REQUEST: &str = "[ERROR 400] BAD REQUEST";
const UNAUTHORIZED: &str = "[ERROR 401] UNAUTHORIZED REQUEST";
const MISSING: &str = "[ERROR 419] MISSING ARGUMENTS";
const INVALID: &str = "[ERROR 420] INVALID ARGUMENTS";

#[test]
fn unstructured_terms() {
    check(&[
        // Match a single term.
        ("ERROR", BAD_REQUEST, true),
        ("ERROR", UNAUTHORIZED, true),
        ("ERROR", MISSING, true),
        ("ERROR", INVALID, true),
        ("ERROR", "[INFO] REQUEST FAILED", false), // _NEG
        ("error", BAD_REQUEST, false),             // _NEG: case sensitive
        // Terms match substrings: "Exiting with ERRORCODE: -1" contains ERROR.
        ("ERROR", "Exiting with ERRORCODE: -1", true),
        // Match multiple terms.
        ("ERROR ARGUMENTS", MISSING, true),
        ("ERROR ARGUMENTS", INVALID, true),
        ("ERROR ARGUMENTS", BAD_REQUEST, false),  // _NEG
        ("ERROR ARGUMENTS", UNAUTHORIZED, false), // _NEG
        (
            "Failed to process the request",
            "[WARN] Failed to process the request",
            true,
        ),
        (
            "Failed to process the request",
            "[ERROR] Unable to continue: Failed to process the request",
            true,
        ),
        (
            "Failed to process the request",
            "[WARN] Failed to process",
            false,
        ), // _NEG
        // Match optional terms.
        ("?ERROR ?ARGUMENTS", BAD_REQUEST, true),
        ("?ERROR ?ARGUMENTS", UNAUTHORIZED, true),
        ("?ERROR ?ARGUMENTS", MISSING, true),
        ("?ERROR ?ARGUMENTS", INVALID, true),
        ("?ERROR ?ARGUMENTS", "[INFO] REQUEST FAILED", false), // _NEG
        // "?" terms are ignored once combined with other terms.
        ("?ERROR ?ARGUMENTS REQUEST", "[INFO] REQUEST FAILED", true),
        (
            "?ERROR ?ARGUMENTS REQUEST",
            "[WARN] UNAUTHORIZED REQUEST",
            true,
        ),
        ("?ERROR ?ARGUMENTS REQUEST", "[ERROR] 400 BAD REQUEST", true),
        ("?ERROR ?ARGUMENTS REQUEST", MISSING, false), // _NEG
        // Match exact phrases.
        (
            "\"INTERNAL SERVER ERROR\"",
            "[ERROR 500] INTERNAL SERVER ERROR",
            true,
        ),
        (
            "\"INTERNAL SERVER ERROR\"",
            "[ERROR 500] INTERNAL ERROR SERVER",
            false,
        ), // _NEG
        // Include and exclude terms.
        ("ERROR -ARGUMENTS", BAD_REQUEST, true),
        ("ERROR -ARGUMENTS", UNAUTHORIZED, true),
        ("ERROR -ARGUMENTS", MISSING, false), // _NEG
        ("ERROR -ARGUMENTS", INVALID, false), // _NEG
        (
            "ERROR -Exiting",
            "[ERROR] A fatal exception has occurred",
            true,
        ),
        ("ERROR -Exiting", "Exiting with ERRORCODE: -1", false), // _NEG
        // Match everything.
        ("\" \"", "anything at all", true),
        ("\"\"", "anything at all", true),
        ("", "anything at all", true),
        ("   ", "", true),
        // Quoted terms may hold any characters; escaped quotes and backslashes unescape.
        (r#""[ERROR 400]""#, BAD_REQUEST, true),
        (
            r#""level\\\":\\\"error""#,
            r#"{"log":"{\"level\":\"error\"}"}"#,
            true,
        ),
        (
            r#""level\":\"error""#,
            r#"{"log":"{\"level\":\"error\"}"}"#,
            false,
        ), // _NEG
        (r#""a\\b""#, r"a\b", true),
        // A standalone regex.
        ("%AUTHORIZED%", UNAUTHORIZED, true),
        ("%AUTHORIZED%", "[SUCCESS 200] AUTHORIZED REQUEST", true),
        ("%AUTHORIZED%", BAD_REQUEST, false), // _NEG
        ("-%ERROR 4[0-9]+%", "[ERROR 500] X", true),
        ("-%ERROR 4[0-9]+%", BAD_REQUEST, false), // _NEG
    ]);
}

#[test]
fn or_pattern_matching_from_the_earlier_guide() {
    let events = ["ERROR WARN message", "ERROR message", "WARN message"];
    for (pattern, expected) in [
        ("ERROR", [true, true, false]),
        ("?ERROR ?WARN", [true, true, true]),
        ("ERROR WARN", [true, false, false]),
        ("ERROR -WARN", [false, true, false]),
    ] {
        for (event, want) in events.iter().zip(expected) {
            assert_eq!(
                parse(pattern).matches(event),
                want,
                "{pattern:?} on {event:?}"
            );
        }
    }
}

/// The JSON event of the guide's "Using filter patterns to match terms in JSON log events",
/// merged with the `ThisFlag` property from the earlier edition.
const TRAIL_EVENT: &str = r#"{"eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111",
  "arrayKey": ["value", "another value"],
  "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
  "SomeObject": null, "ThisFlag": true, "cluster.name": "c"}"#;

#[test]
fn json_examples() {
    check(&[
        ("{ $.eventType = \"UpdateTrail\" }", TRAIL_EVENT, true),
        ("{ $.eventType = \"UpdateTrai\" }", TRAIL_EVENT, false), // _NEG: exact match
        ("{ $.eventType = UpdateTrail }", TRAIL_EVENT, true),
        ("{ $.sourceIPAddress != 123.123.* }", TRAIL_EVENT, true),
        ("{ $.sourceIPAddress != 111.111.* }", TRAIL_EVENT, false), // _NEG
        ("{ $.arrayKey[0] = \"value\" }", TRAIL_EVENT, true),
        ("{ $.arrayKey[1] = \"value\" }", TRAIL_EVENT, false), // _NEG
        ("{ $.objectList[1].id = 2 }", TRAIL_EVENT, true),
        ("{ $.objectList[0].id = 2 }", TRAIL_EVENT, false), // _NEG
        ("{ $.eventType = %Trail% }", TRAIL_EVENT, true),
        ("{ $.eventType = %^Trail% }", TRAIL_EVENT, false), // _NEG
        ("{ $.arrayKey[*] = %val.{2}% }", TRAIL_EVENT, true),
        ("{ $.arrayKey[*] = %vax% }", TRAIL_EVENT, false), // _NEG
        (r"{ $.* = %111\.111\.111\.1[0-9]{1,2}% }", TRAIL_EVENT, true),
        (
            r"{ $.* = %112\.111\.111\.1[0-9]{1,2}% }",
            TRAIL_EVENT,
            false,
        ), // _NEG
        ("{ $.['cluster.name'] = \"c\" }", TRAIL_EVENT, true),
        ("{ $.cluster.name = \"c\" }", TRAIL_EVENT, false), // _NEG: needs brackets
        ("{ $.SomeObject IS NULL }", TRAIL_EVENT, true),
        ("{ $.eventType IS NULL }", TRAIL_EVENT, false), // _NEG
        ("{ $.SomeOtherObject IS NULL }", TRAIL_EVENT, false), // _NEG: absent is not null
        ("{ $.SomeOtherObject NOT EXISTS }", TRAIL_EVENT, true),
        ("{ $.SomeObject NOT EXISTS }", TRAIL_EVENT, false), // _NEG: null exists
        ("{ $.ThisFlag IS TRUE }", TRAIL_EVENT, true),
        ("{ $.ThisFlag IS FALSE }", TRAIL_EVENT, false), // _NEG
        ("{ $.ThisFlag = true }", TRAIL_EVENT, false),   // _NEG: booleans need IS
        // Wildcard strings, and `*` alone for "any value".
        ("{ $.eventType = *Trail }", TRAIL_EVENT, true),
        ("{ $.eventType = Update* }", TRAIL_EVENT, true),
        ("{ $.eventType = \"Update*\" }", TRAIL_EVENT, true),
        ("{ $.eventType = Up*il }", TRAIL_EVENT, false), // _NEG: inner * is literal
        ("{ $.eventType = * }", TRAIL_EVENT, true),
        ("{ $.SomeObject = * }", TRAIL_EVENT, false), // _NEG: null is not a value node
        // OR in JSON filters.
        ("{$.foo = bar}", r#"{"foo": "bar"}"#, true),
        ("{$.foo = bar}", r#"{"foo": "baz"}"#, false), // _NEG
        ("{$.foo = baz }", r#"{"foo": "baz"}"#, true),
        ("{$.foo = bar || $.foo = baz }", r#"{"foo": "bar"}"#, true),
        ("{$.foo = bar || $.foo = baz }", r#"{"foo": "baz"}"#, true),
        ("{$.foo = bar || $.foo = baz }", r#"{"foo": "qux"}"#, false), // _NEG
        // Selectors pointing at arrays or objects never match, with = or !=.
        ("{ $.users = 1 }", r#"{"users": [1, 2, 3]}"#, false), // _NEG
        ("{ $.users != 1 }", r#"{"users": [1, 2, 3]}"#, false), // _NEG
        // Non-JSON events never match JSON patterns.
        (
            "{ $.eventType = \"UpdateTrail\" }",
            "eventType UpdateTrail",
            false,
        ), // _NEG
        ("{ $.x NOT EXISTS }", "not json at all", false), // _NEG
        ("{ $.x NOT EXISTS }", "{truncated", false),      // _NEG
    ]);
}

/// The JSON object of the guide's compound-expression examples.
const USERS_EVENT: &str = r#"{"user": {"id": 1, "email": "John.Stiles@example.com"},
  "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
  "actions": ["GET", "PUT", "DELETE"],
  "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]}"#;

#[test]
fn json_compound_conditions() {
    check(&[
        (
            r#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#,
            USERS_EVENT,
            true,
        ),
        (
            r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }"#,
            USERS_EVENT,
            true,
        ),
        (
            r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }"#,
            USERS_EVENT,
            true,
        ),
        // _NEG
        (
            r#"{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }"#,
            USERS_EVENT,
            false,
        ),
        // _NEG
        (
            r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }"#,
            USERS_EVENT,
            false,
        ),
        (
            "{ $.coordinates[2][0] = 7 && $.actions[*] = PUT }",
            USERS_EVENT,
            true,
        ),
        ("{ ((($.user.id = 1))) }", USERS_EVENT, true),
    ]);
}

#[test]
fn json_numeric_comparisons() {
    let event = r#"{"bandwidth": 80, "latency": 40, "refreshRate": 60, "responseTime": 5,
        "errorCode": 400, "number": [1000, 0.002], "numbers": [9.5],
        "processes": [{}, {}, {}, {}, {"averageRuntime": 55.5}], "id": 9007199254740993}"#;
    check(&[
        ("{ $.bandwidth > 75 }", event, true),
        ("{ $.bandwidth > 80 }", event, false), // _NEG
        ("{ $.latency < 50 }", event, true),
        ("{ $.latency < 40 }", event, false), // _NEG
        ("{ $.refreshRate >= 60 }", event, true),
        ("{ $.refreshRate >= 61 }", event, false), // _NEG
        ("{ $.responseTime <= 5 }", event, true),
        ("{ $.responseTime <= 4.9 }", event, false), // _NEG
        ("{ $.errorCode = 400}", event, true),
        ("{ $.errorCode = 401}", event, false), // _NEG
        ("{ $.errorCode != 500 }", event, true),
        ("{ $.errorCode != 400 }", event, false), // _NEG
        ("{ $.number[0] = 1e+3 }", event, true),
        ("{ $.number[1] != 1e-3 }", event, true),
        ("{ $.number[1] != 2e-3 }", event, false), // _NEG
        ("{ $.numbers[0] < 10e3 }", event, true),
        ("{ $.numbers[0] < 10e-3 }", event, false), // _NEG
        ("{ $.processes[4].averageRuntime <= 55.5 }", event, true),
        ("{ $.latency > +1000 }", event, false), // _NEG
        ("{ $.latency > -1000 }", event, true),
        ("{ $.errorCode = 4* }", event, true),
        ("{ $.id > 9007199254740992 }", event, true),
        ("{ $.missing > 1 }", event, false),  // _NEG
        ("{ $.missing != 1 }", event, false), // _NEG: nothing to compare
    ]);
}

const APACHE_404: &str =
    r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;
const APACHE_200: &str =
    r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355"#;
const APACHE_403: &str =
    r#"127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /index.html HTTP/1.0" 403 532"#;
const PROD_404: &str =
    r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;

#[test]
fn space_delimited_examples() {
    check(&[
        (
            r"[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]",
            PROD_404,
            true,
        ),
        // _NEG: another address.
        (
            r"[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]",
            r#"10.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#,
            false,
        ),
        ("[..., request =*.html*, status_code = 4*, bytes]", PROD_404, true),
        ("[..., request =*.html*, status_code = 4*, bytes]", APACHE_200, false), // _NEG
        (
            "[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]",
            PROD_404,
            true,
        ),
        // _NEG
        (
            "[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]",
            APACHE_403,
            false,
        ),
        ("[ip, user, username, timestamp, request, status_code, bytes]", APACHE_404, true),
        ("[ip, user, ...]", APACHE_404, true),
        ("[..., status_code, bytes]", APACHE_404, true),
        ("[ip, user, ..., status_code, bytes]", APACHE_404, true),
        ("[ip, user, username, timestamp, request, status_code, bytes > 1000]", APACHE_404, true),
        ("[ip, user, username, timestamp, request, status_code, bytes > 1000]", APACHE_403, false), // _NEG
        ("[ip, user, username, timestamp, request, status_code = 200, bytes]", APACHE_200, true),
        ("[ip, user, username, timestamp, request, status_code = 200, bytes]", APACHE_404, false), // _NEG
        ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", APACHE_404, true),
        ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", APACHE_200, false), // _NEG
        ("[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]", APACHE_403, true),
        ("[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]", APACHE_200, false), // _NEG
        (
            "[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]",
            APACHE_404,
            true,
        ),
        // _NEG
        (
            "[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]",
            APACHE_403,
            false,
        ),
        (
            "[ip, user, username, timestamp, request, status_code = 403 || status_code = 404, bytes]",
            APACHE_403,
            true,
        ),
        // _NEG
        (
            "[ip, user, username, timestamp, request, status_code = 403 || status_code = 404, bytes]",
            APACHE_200,
            false,
        ),
        // Too few fields in the event.
        ("[ip, user, username, timestamp, request, status_code, bytes, extra]", APACHE_404, false), // _NEG
        ("[a, b, ..., c, d, e, f, g, h]", APACHE_404, false), // _NEG
    ]);
}

const INFO_GET: &str = "INFO 09/25/2014 12:00:00 GET /service/resource/67 1200";
const INFO_POST: &str = "INFO 09/25/2014 12:00:01 POST /service/resource/67/part/111 1310";
const WARNING: &str = "WARNING 09/25/2014 12:00:02 Invalid user request";
const ERROR: &str = "ERROR 09/25/2014 12:00:02 Failed to process request";

#[test]
fn space_delimited_terms_in_order() {
    let events = [INFO_GET, INFO_POST, WARNING, ERROR];
    for (pattern, expected) in [
        ("[w1=ERROR, w2]", [false, false, false, true]),
        ("[w1=ERROR || w1=WARNING, w2]", [false, false, true, true]),
        ("[w1!=ERROR && w1!=WARNING, w2]", [true, true, false, false]),
        (
            "[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]",
            [true, false, false, false],
        ),
        (
            "[logLevel, date, time, method, url=%/service/resource/[0-9]+/part/[0-9]+$%, response_time]",
            [false, true, false, false],
        ),
        // Without a trailing blank field the single field takes the whole line.
        ("[w1=ERROR]", [false, false, false, false]),
    ] {
        for (event, want) in events.iter().zip(expected) {
            assert_eq!(parse(pattern).matches(event), want, "{pattern:?} on {event:?}");
        }
    }
    // The earlier guide's three-line example: the last field takes the rest of the line.
    check(&[
        ("[w1=ERROR, w2]", "ERROR message", true),
        ("[w1=ERROR || w1=WARN, w2]", "WARN message", true),
        ("[w1=ERROR || w1=WARN, w2]", "INFO message", false), // _NEG
        ("[w1=ERROR, w2=message]", "ERROR WARN message", false), // _NEG: w2 is "WARN message"
        (
            "[w1=ERROR, w2=\"WARN message\"]",
            "ERROR WARN message",
            true,
        ),
    ]);
}

fn fields_of(pattern: &str, event: &str, selectors: &[&str]) -> Vec<Option<String>> {
    let pattern = parse(pattern);
    let Some(hit) = pattern.match_fields(event) else {
        panic!("{event:?} should match");
    };
    selectors.iter().map(|s| hit.field(s)).collect()
}

#[test]
fn metric_filter_values_from_space_delimited_fields() {
    // The guide's extraction example: the trailing empty field is `$7`, the fields the
    // ellipsis covers are `$1` to `$4`.
    let event =
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;
    assert_eq!(
        fields_of(
            "[..., request=*.html*, status_code=4*,]",
            event,
            &[
                "$status_code",
                "$request",
                "$7",
                "$4",
                "$3",
                "$2",
                "$1",
                "$8",
                "$0",
                "$bytes"
            ]
        ),
        vec![
            Some("404".to_string()),
            Some("GET /index.html HTTP/1.0".to_string()),
            Some("1534".to_string()),
            Some("10/Oct/2000:13:25:15 -0700".to_string()),
            Some("frank".to_string()),
            Some("-".to_string()),
            Some("127.0.0.1".to_string()),
            None,
            None,
            None,
        ]
    );
    // "Example: Extract fields from an Apache log": metricValue `$size`, also `$7`.
    let apache = r#"127.0.0.1 - - [24/Sep/2013:11:49:52 -0700] "GET /index.html HTTP/1.1" 404 287"#;
    assert_eq!(
        fields_of(
            "[ip, id, user, timestamp, request, status_code, size]",
            apache,
            &["$size", "$7"]
        ),
        vec![Some("287".to_string()), Some("287".to_string())]
    );
    // "Example: Count HTTP 404 codes".
    let counting = parse("[ip, id, user, timestamp, request, status_code=404, size]");
    assert!(counting
        .match_fields(
            r#"127.0.0.1 - bob [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 404 2326"#
        )
        .is_some());
    assert!(counting
        .match_fields(r#"127.0.0.1 - bob [10/Oct/2000:13:55:36 -0700] "GET /apache_pb2.gif HTTP/1.0" 200 2326"#)
        .is_none()); // _NEG
                     // The last field takes the rest of the line.
    assert_eq!(
        fields_of("[w1=ERROR, w2]", ERROR, &["$w1", "$w2", "$3"]),
        vec![
            Some("ERROR".to_string()),
            Some("09/25/2014 12:00:02 Failed to process request".to_string()),
            None
        ]
    );
    // Ellipsis in the middle binds each name to its own field.
    assert_eq!(
        fields_of(
            "[ip, ..., status, bytes]",
            APACHE_404,
            &["$ip", "$status", "$bytes", "$5"]
        ),
        vec![
            Some("127.0.0.1".to_string()),
            Some("404".to_string()),
            Some("1534".to_string()),
            Some("GET /index.html HTTP/1.0".to_string())
        ]
    );
}

#[test]
fn metric_filter_values_from_json() {
    // "Publishing numerical values found in log entries": `{ $.latency = * }`, `$.latency`.
    let pattern = parse("{ $.latency = * }");
    let Some(hit) = pattern.match_fields(r#"{"latency": 50, "requestType": "GET"}"#) else {
        panic!("should match");
    };
    assert_eq!(hit.field("$.latency").as_deref(), Some("50"));
    assert_eq!(hit.field("$.requestType").as_deref(), Some("GET"));
    assert_eq!(hit.field("$.missing"), None);
    assert_eq!(hit.field("latency"), None);
    assert!(pattern.match_fields(r#"{"requestType": "GET"}"#).is_none()); // _NEG
    assert!(pattern.match_fields("latency 50").is_none()); // _NEG

    let pattern = parse("{ $.a.b[0] > 1 }");
    let Some(hit) = pattern.match_fields(r#"{"a": {"b": [2.5, "x"]}, "k.d": "v"}"#) else {
        panic!("should match");
    };
    assert_eq!(hit.field("$.a.b[0]").as_deref(), Some("2.5"));
    assert_eq!(hit.field("$.a.b[1]").as_deref(), Some("x"));
    assert_eq!(hit.field("$.['k.d']").as_deref(), Some("v"));
    assert_eq!(hit.field("$.a"), None, "objects are not value nodes");
}

#[test]
fn term_patterns_expose_no_fields() {
    let Some(hit) = parse("ERROR").match_fields(r#"{"ERROR": 1}"#) else {
        panic!("should match");
    };
    assert_eq!(hit.field("$.ERROR"), None);
    assert!(parse("ERROR").match_fields("INFO").is_none()); // _NEG
    assert!(parse("").match_fields("anything").is_some());
}

#[test]
fn invalid_patterns_give_the_aws_errors() {
    use FilterPatternError as E;
    let characters = |s: &str| E::InvalidCharacters(s.to_string());
    for (pattern, expected) in [
        ("{ $.a = 1", E::UnclosedJson),
        ("[time, level=ERROR, msg", E::UnclosedDelimited),
        // Unquoted terms with anything but letters, digits and `_`.
        ("?Status: timeout", characters(":")),
        (
            "PlayerSpawnedInWorld (reason: JoinMultiplayer",
            characters("("),
        ),
        (r#"level\":\"error"#, characters("\\")),
        ("`ERROR`", characters("`")),
        ("ERROR ?", characters("?")),
        ("ERROR -", characters("-")),
        ("ERROR*", characters("*")),
        ("\"a\"b", characters("b")),
        // Regex outside the documented dialect.
        ("%something!%", characters("!")),
        ("%(abc)%", characters("(")),
        (r"%\(abc\)%", characters("(")),
        ("%unclosed", characters("%")),
        // JSON.
        ("{ $.\"sc-status\" = 5* }", characters("$.\"")),
        (
            r#"{ $.message = "error-response", $.path = "/authenticate" }"#,
            characters(","),
        ),
        ("{ $.a = b@c }", characters("@")),
        ("{ $.a[*].b[*] = 1 }", E::TooManyWildcardSelectors),
        (
            "{ $.a[*] = 1 || $.b[*] = 1 || $.c[*] = 1 || $.d[*] = 1 }",
            E::TooManyWildcardSelectors,
        ),
        ("{ $.a = %x% || $.b = %y% || $.c = %z% }", E::TooManyRegex),
        ("%a% %b% %c%", E::TooManyRegex),
        ("[a=%x%, b=%y%, c=%z%]", E::TooManyRegex),
        ("[..., ... x]", characters(".")),
    ] {
        assert_eq!(
            FilterPattern::parse(pattern).unwrap_err(),
            expected,
            "{pattern:?}"
        );
    }
    for pattern in [
        "{}",
        "{ $.a }",
        "{ $.a = }",
        "{ $.a == 1 }",
        "{ status = \"401\" }",
        "{ $.x IS NOT NULL }",
        "{ $.x EXISTS }",
        "{ $.x IS MAYBE }",
        "{ $.x NOT THERE }",
        "{ $.a > abc }",
        "{ $.a > \"5\" }",
        "{ $.a = 1 && }",
        "{ ($.a = 1 }",
        "{ $.a = 1) }",
        "{ $.a = 1 $.b = 2 }",
        "\"unbalanced",
        // AWS rejects a field condition that names another field (the earlier guide's
        // `status_code = 4* && bytes > 1000`).
        "[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]",
        "[]",
        "[a, b > x]",
        "[a, = 5]",
        "[a, b = 1 c]",
    ] {
        assert!(
            matches!(FilterPattern::parse(pattern), Err(E::Invalid { .. })),
            "{pattern:?} -> {:?}",
            FilterPattern::parse(pattern).err()
        );
    }
}

#[test]
fn error_messages_are_the_ones_aws_returns() {
    for (error, message) in [
        (
            FilterPatternError::characters("("),
            "Invalid character(s) in term '('",
        ),
        (
            FilterPatternError::UnclosedJson,
            "If a filter pattern starts with '{' it must end with '}'",
        ),
        (
            FilterPatternError::UnclosedDelimited,
            "If a filter pattern starts with '[' it must end with ']'",
        ),
        (
            FilterPatternError::invalid("any reason"),
            "Invalid filter pattern",
        ),
    ] {
        assert_eq!(error.to_string(), message);
    }
}

#[test]
fn hostile_input_never_panics() {
    let deep_json = format!("{{ {}$.a = 1{} }}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(FilterPattern::parse(&deep_json).is_err());
    let ok_depth = format!("{{ {}$.a = 1{} }}", "(".repeat(20), ")".repeat(20));
    assert!(parse(&ok_depth).matches(r#"{"a": 1}"#));
    let deep_delimited = format!("[{}a = 1{}]", "(".repeat(10_000), ")".repeat(10_000));
    assert!(FilterPattern::parse(&deep_delimited).is_err());
    let deep_event = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(!parse("{ $.a NOT EXISTS }").matches(&deep_event));
    assert!(!parse("{ $.a > 1e999999 }").matches(r#"{"a": 1e308}"#));
    assert!(parse("{ $.a < 1e999999 }").matches(r#"{"a": 1e308}"#));
    assert!(FilterPattern::parse("%a{4294967295}%").is_err());
    assert!(FilterPattern::parse("{ $.a[340282366920938463463374607431768211456] = 1 }").is_err());
    for pattern in [
        "{",
        "[",
        "}",
        "]",
        "{ ] }",
        "[ } ]",
        "\u{0}",
        "é",
        "\"é\"",
        "{ $.é = 1 }",
    ] {
        let _ = FilterPattern::parse(pattern).map(|p| p.matches("é [ { \" \u{0}"));
    }
    assert!(parse("\"é\"").matches("café"));
}

#[test]
fn patterns_are_shareable() {
    fn assert_send_sync_clone<T: Send + Sync + Clone>() {}
    assert_send_sync_clone::<FilterPattern>();
    assert_send_sync_clone::<FilterPatternError>();
}
