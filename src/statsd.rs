//! A StatsD listener (UDP, `--statsd-port`), taking metrics as the CloudWatch agent's StatsD
//! input does and publishing them, every `--statsd-flush-ms`, to CloudWatch namespace `CWAgent`
//! through PutMetricData's handler.
//!
//! Lines are `name:value|type[|@rate][|#tag:value,tag]`, several per datagram separated by
//! newlines. As the agent publishes them:
//! - every metric carries the dimension `metric_type` (`counter`, `gauge`, `timing`, `set`)
//!   and one per DogStatsD tag `tag:value` (a bare `tag` becomes a dimension whose value is the
//!   tag itself);
//! - counters (`c`) are summed over the flush interval, each value divided by its sample rate;
//! - gauges (`g`) put their last value of the interval; `+n`/`-n` change it within the
//!   interval; a gauge not updated in an interval puts nothing (Telegraf's `delete_gauges`, which
//!   the agent's StatsD input is built on);
//! - timers and histograms (`ms`, `h`, `d`) keep every value, put as Values and Counts (a
//!   sample rate counts each value 1/rate times); `ms` gives the unit Milliseconds;
//! - sets (`s`) count the distinct values seen in the interval.
//!
//! A datagram that does not parse is counted (`malformedDatagrams` in `/_watchtrail/health`)
//! and skipped; the listener never stops for bad input, only at shutdown (after a last flush).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

use crate::context::RequestContext;
use crate::protocol::ServiceId;
use crate::server::AppState;

const NAMESPACE: &str = "CWAgent";

/// Counters shown in the health endpoint.
#[derive(Default, Debug)]
pub struct StatsdStats {
    pub datagrams: AtomicU64,
    pub malformed: AtomicU64,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Counter,
    Gauge { delta: bool },
    Timing { millis: bool },
    Set,
}

#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    kind: Kind,
    value: f64,
    raw: String,
    rate: f64,
    tags: Vec<(String, String)>,
}

/// One line → a sample, or `None` when it is malformed.
fn parse_line(line: &str) -> Option<Sample> {
    let (name, rest) = line.split_once(':')?;
    let mut fields = rest.split('|');
    let raw = fields.next()?.trim();
    let kind_text = fields.next()?.trim();
    if name.trim().is_empty() || raw.is_empty() {
        return None;
    }
    let kind = match kind_text {
        "c" => Kind::Counter,
        "g" => Kind::Gauge {
            delta: raw.starts_with('+') || raw.starts_with('-'),
        },
        "ms" => Kind::Timing { millis: true },
        "h" | "d" => Kind::Timing { millis: false },
        "s" => Kind::Set,
        _ => return None,
    };
    let value = if kind == Kind::Set {
        0.0
    } else {
        let v: f64 = raw.parse().ok()?;
        if !v.is_finite() {
            return None;
        }
        v
    };
    let mut rate = 1.0;
    let mut tags = Vec::new();
    for field in fields {
        if let Some(r) = field.strip_prefix('@') {
            rate = r.parse().ok().filter(|r: &f64| *r > 0.0 && *r <= 1.0)?;
        } else if let Some(list) = field.strip_prefix('#') {
            for tag in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                let (k, v) = tag.split_once(':').unwrap_or((tag, tag));
                tags.push((k.to_string(), v.to_string()));
            }
        } else if !field.is_empty() {
            return None;
        }
    }
    Some(Sample {
        name: name.trim().to_string(),
        kind,
        value,
        raw: raw.to_string(),
        rate,
        tags,
    })
}

#[derive(Default)]
struct Aggregate {
    counters: HashMap<Key, f64>,
    gauges: HashMap<Key, f64>,
    timings: HashMap<Key, (bool, Vec<(f64, f64)>)>,
    sets: HashMap<Key, HashSet<String>>,
}

type Key = (String, Vec<(String, String)>);

impl Aggregate {
    fn add(&mut self, sample: Sample) {
        let mut tags = sample.tags;
        tags.sort();
        tags.dedup_by(|a, b| a.0 == b.0);
        let key = (sample.name, tags);
        match sample.kind {
            Kind::Counter => *self.counters.entry(key).or_default() += sample.value / sample.rate,
            Kind::Gauge { delta: true } => *self.gauges.entry(key).or_default() += sample.value,
            Kind::Gauge { delta: false } => {
                self.gauges.insert(key, sample.value);
            }
            Kind::Timing { millis } => {
                let entry = self.timings.entry(key).or_insert((millis, Vec::new()));
                entry.1.push((sample.value, 1.0 / sample.rate));
            }
            Kind::Set => {
                self.sets.entry(key).or_default().insert(sample.raw);
            }
        }
    }

    /// The interval's metric data; every aggregate starts over.
    fn drain(&mut self, timestamp_s: f64) -> Vec<Value> {
        let item = |key: &Key, kind: &str| {
            let mut dims = vec![json!({"Name": "metric_type", "Value": kind})];
            dims.extend(
                key.1
                    .iter()
                    .filter(|(k, _)| k != "metric_type")
                    .take(29)
                    .map(|(k, v)| json!({"Name": k, "Value": v})),
            );
            json!({ "MetricName": key.0, "Timestamp": timestamp_s, "Dimensions": dims })
        };
        let mut out = Vec::new();
        for (key, sum) in self.counters.drain() {
            let mut m = item(&key, "counter");
            m["Value"] = json!(sum);
            out.push(m);
        }
        for (key, value) in self.gauges.drain() {
            let mut m = item(&key, "gauge");
            m["Value"] = json!(value);
            out.push(m);
        }
        for (key, (millis, values)) in self.timings.drain() {
            // Equal values merge, and PutMetricData takes 150 distinct values per item.
            let mut merged: Vec<(f64, f64)> = Vec::new();
            let mut sorted = values;
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
            for (v, c) in sorted {
                match merged.last_mut() {
                    Some(last) if last.0 == v => last.1 += c,
                    _ => merged.push((v, c)),
                }
            }
            for chunk in merged.chunks(150) {
                let mut m = item(&key, "timing");
                m["Values"] = json!(chunk.iter().map(|p| p.0).collect::<Vec<_>>());
                m["Counts"] = json!(chunk.iter().map(|p| p.1).collect::<Vec<_>>());
                if millis {
                    m["Unit"] = json!("Milliseconds");
                }
                out.push(m);
            }
        }
        for (key, members) in self.sets.drain() {
            let mut m = item(&key, "set");
            m["Value"] = json!(members.len() as f64);
            out.push(m);
        }
        out
    }
}

/// Binds the UDP port and runs the listener until `stop` is cancelled.
pub async fn start(
    state: AppState,
    port: u16,
    flush: Duration,
    stop: CancellationToken,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let socket = UdpSocket::bind((state.config.bind, port)).await?;
    tracing::info!(addr = %socket.local_addr()?, "StatsD listener");
    Ok(tokio::spawn(run(state, socket, flush, stop)))
}

async fn run(state: AppState, socket: UdpSocket, flush: Duration, stop: CancellationToken) {
    let stats: Arc<StatsdStats> = state.statsd.clone();
    let mut aggregate = Aggregate::default();
    let mut buffer = vec![0u8; 65_536];
    let mut ticker = tokio::time::interval(flush);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = stop.cancelled() => {
                publish(&state, &mut aggregate).await;
                return;
            }
            _ = ticker.tick() => publish(&state, &mut aggregate).await,
            received = socket.recv_from(&mut buffer) => {
                let Ok((n, _)) = received else { continue };
                stats.datagrams.fetch_add(1, Ordering::Relaxed);
                let text = String::from_utf8_lossy(&buffer[..n]);
                let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
                let samples: Option<Vec<Sample>> = lines.iter().map(|l| parse_line(l)).collect();
                match samples {
                    Some(samples) if !samples.is_empty() => samples.into_iter().for_each(|s| aggregate.add(s)),
                    _ => {
                        stats.malformed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }
}

async fn publish(state: &AppState, aggregate: &mut Aggregate) {
    let now_ms = state.clock.now_ms();
    let items = aggregate.drain(now_ms as f64 / 1000.0);
    if items.is_empty() {
        return;
    }
    // As an unsigned request would be: the default account and Region.
    let identity = state.credentials.identify(None);
    let ctx = RequestContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        account_id: identity.account_id.clone(),
        identity,
        region: state.config.default_region.clone(),
        now_ms,
        source_ip: "127.0.0.1".into(),
        user_agent: "statsd".into(),
        from_console: false,
    };
    for chunk in items.chunks(1000) {
        let input = json!({ "Namespace": NAMESPACE, "MetricData": chunk });
        if let Some(call) = state
            .services
            .call(ServiceId::CloudWatch, &ctx, "PutMetricData", input)
        {
            if let Err(e) = call.await {
                tracing::warn!(error = %e, "StatsD: publishing the interval's metrics failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_as_the_agent_reads_them() {
        let s = parse_line("api.hits:3|c|@0.5|#route:/pay,canary").unwrap();
        assert_eq!(s.name, "api.hits");
        assert_eq!(s.kind, Kind::Counter);
        assert_eq!((s.value, s.rate), (3.0, 0.5));
        assert_eq!(
            s.tags,
            [
                ("route".to_string(), "/pay".to_string()),
                ("canary".to_string(), "canary".to_string())
            ]
        );
        assert_eq!(
            parse_line("g:-2|g").unwrap().kind,
            Kind::Gauge { delta: true }
        );
        assert_eq!(
            parse_line("t:12|ms").unwrap().kind,
            Kind::Timing { millis: true }
        );
        assert_eq!(parse_line("u:alice|s").unwrap().raw, "alice");
        for bad in [
            "nocolon",
            "x:1",
            "x:abc|c",
            "x:1|q",
            "x:1|c|@2",
            ":1|c",
            "x:1|c|junk",
            "x:nan|g",
        ] {
            assert_eq!(parse_line(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_interval_sums_counters_takes_last_gauges_and_counts_sets() {
        let mut a = Aggregate::default();
        for line in [
            "c:1|c",
            "c:2|c|@0.5",
            "g:5|g",
            "g:+2|g",
            "s:a|s",
            "s:b|s",
            "s:a|s",
            "t:10|ms",
            "t:10|ms|@0.5",
            "t:30|ms",
        ] {
            a.add(parse_line(line).unwrap());
        }
        let items = a.drain(100.0);
        let find = |name: &str| {
            items
                .iter()
                .find(|i| i["MetricName"] == name)
                .unwrap()
                .clone()
        };
        assert_eq!(find("c")["Value"], 5.0);
        assert_eq!(find("g")["Value"], 7.0);
        assert_eq!(find("s")["Value"], 2.0);
        assert_eq!(find("t")["Values"], json!([10.0, 30.0]));
        assert_eq!(find("t")["Counts"], json!([3.0, 1.0]));
        assert_eq!(find("t")["Unit"], "Milliseconds");
        assert_eq!(
            find("c")["Dimensions"],
            json!([{"Name": "metric_type", "Value": "counter"}])
        );
        // The next interval starts over.
        assert!(a.drain(160.0).is_empty());
    }
}
