//! Configuration: every flag is also an environment variable, and `--help` explains each.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Clone, Parser)]
#[command(
    name = "watchtrail",
    version,
    about = "A local emulator of Amazon CloudWatch, CloudWatch Logs, EventBridge and CloudTrail"
)]
pub struct Config {
    /// TCP port to serve every service on.
    // Global: `watchtrail healthcheck --port P` is the documented form, as well as
    // `watchtrail --port P healthcheck`.
    #[arg(long, env = "WATCHTRAIL_PORT", default_value_t = 4566, global = true)]
    pub port: u16,

    /// Address to bind. The Docker image uses 0.0.0.0 so that other containers can reach it.
    #[arg(long, env = "WATCHTRAIL_BIND", default_value = "127.0.0.1")]
    pub bind: IpAddr,

    /// Directory of the persistent database. Only one watchtrail process may use it at a time.
    // Global: the README's `watchtrail verify-journal --data-dir D` must work.
    #[arg(
        long,
        env = "WATCHTRAIL_DATA_DIR",
        default_value = ".watchtrail",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Keep nothing: use a throwaway in-memory database instead of --data-dir.
    #[arg(long, env = "WATCHTRAIL_EPHEMERAL", default_value_t = false)]
    pub ephemeral: bool,

    /// Region for requests whose signature names none (unsigned requests).
    #[arg(long, env = "WATCHTRAIL_DEFAULT_REGION", default_value = "us-east-1")]
    pub default_region: String,

    /// Account id for access keys that are neither 12-digit ids nor listed in the credentials file.
    #[arg(long, env = "WATCHTRAIL_ACCOUNT_ID", default_value = "000000000000")]
    pub account_id: String,

    /// AWS-style credentials file: profiles with aws_access_key_id, aws_secret_access_key and
    /// optionally account_id and user_name. Needed to enforce signatures for keys other than test/test.
    #[arg(long, env = "WATCHTRAIL_CREDENTIALS_FILE")]
    pub credentials_file: Option<PathBuf>,

    /// Verify SigV4 signatures and answer AWS's signature errors (off: signatures identify the caller but are not checked).
    #[arg(long, env = "WATCHTRAIL_ENFORCE_SIGNATURES", default_value_t = false)]
    pub enforce_signatures: bool,

    /// With --enforce-signatures, the emulator's own endpoints (`/_watchtrail/*` but health and
    /// the console's files) need a SigV4-signed request or this token in the
    /// `x-watchtrail-admin-token` header. Without it, only signed requests are let in.
    #[arg(long, env = "WATCHTRAIL_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// Record every API call in the CloudTrail journal (LookupEvents). Turning it off only
    /// serves to measure what recording costs.
    #[arg(long, env = "WATCHTRAIL_JOURNAL", default_value_t = true, action = clap::ArgAction::Set)]
    pub journal: bool,

    /// How often logging trails deliver new records to their log group and bucket directory.
    #[arg(long, env = "WATCHTRAIL_TRAIL_DELIVERY_MS", default_value_t = 2000)]
    pub trail_delivery_ms: u64,

    /// How often the alarm evaluator evaluates every alarm (POST /_watchtrail/alarms/evaluate
    /// runs one pass on demand).
    #[arg(long, env = "WATCHTRAIL_ALARM_EVALUATION_MS", default_value_t = 5000)]
    pub alarm_evaluation_ms: u64,

    /// Most connections served at once; one more is answered 503 ServiceUnavailable and closed.
    /// Default: the open-file limit less 64 (1024 where it cannot be read).
    #[arg(long, env = "WATCHTRAIL_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,

    /// Close a connection on which nothing was sent or received for this long (a stalled
    /// request's headers or body, an idle keep-alive). 0 never closes one.
    #[arg(long, env = "WATCHTRAIL_IDLE_TIMEOUT_MS", default_value_t = 60_000)]
    pub idle_timeout_ms: u64,
    /// How long a StartLiveTail session stays open before it ends with AWS's
    /// SessionTimeoutException (AWS: three hours).
    #[arg(
        long,
        env = "WATCHTRAIL_LIVE_TAIL_SESSION_MS",
        default_value_t = 10_800_000
    )]
    pub live_tail_session_ms: u64,

    /// UDP port of a StatsD listener (the CloudWatch agent's StatsD input: metrics land in
    /// namespace CWAgent). Off unless given.
    #[arg(long, env = "WATCHTRAIL_STATSD_PORT")]
    pub statsd_port: Option<u16>,

    /// How often the StatsD listener publishes what it aggregated (the agent's 60 s).
    #[arg(long, env = "WATCHTRAIL_STATSD_FLUSH_MS", default_value_t = 60_000)]
    pub statsd_flush_ms: u64,

    /// Log filter, e.g. `info`, `debug`, `watchtrail=trace`.
    #[arg(long, env = "WATCHTRAIL_LOG", default_value = "info")]
    pub log_level: String,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve (the default).
    Serve,
    /// Exit 0 if a server answers `GET /_watchtrail/health` on --port of 127.0.0.1, else 1.
    /// For container health checks in images that carry no shell or curl.
    Healthcheck,
    /// Check the CloudTrail journal of --data-dir: every record's hash chain, and where it breaks.
    /// Exits 0 when intact, 1 when broken. Works while a server uses the directory.
    VerifyJournal,
}

impl Config {
    /// A configuration for tests and embedding: ephemeral store, ephemeral port.
    pub fn ephemeral() -> Self {
        Config {
            port: 0,
            bind: IpAddr::from([127, 0, 0, 1]),
            data_dir: PathBuf::from(".watchtrail"),
            ephemeral: true,
            default_region: "us-east-1".into(),
            account_id: "000000000000".into(),
            credentials_file: None,
            enforce_signatures: false,
            admin_token: None,
            journal: true,
            trail_delivery_ms: 100,
            alarm_evaluation_ms: 5000,
            max_connections: None,
            idle_timeout_ms: 60_000,
            live_tail_session_ms: 10_800_000,
            statsd_port: None,
            statsd_flush_ms: 60_000,
            log_level: "warn".into(),
            command: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subcommand_flags_may_follow_the_subcommand() {
        let after =
            Config::try_parse_from(["watchtrail", "verify-journal", "--data-dir", "/d"]).unwrap();
        assert!(matches!(after.command, Some(Command::VerifyJournal)));
        assert_eq!(after.data_dir, PathBuf::from("/d"));
        let before =
            Config::try_parse_from(["watchtrail", "--data-dir", "/e", "verify-journal"]).unwrap();
        assert_eq!(before.data_dir, PathBuf::from("/e"));
        let health =
            Config::try_parse_from(["watchtrail", "healthcheck", "--port", "4999"]).unwrap();
        assert!(matches!(health.command, Some(Command::Healthcheck)));
        assert_eq!(health.port, 4999);
    }
}
