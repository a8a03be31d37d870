//! watchtrail: a local emulator of Amazon CloudWatch, CloudWatch Logs, EventBridge and
//! CloudTrail that AWS clients talk to as if it were AWS.
//!
//! A tour, in the order a request meets the modules:
//!
//! - [`listener`]: the TCP listener: connection cap and idle timeout.
//! - [`server`]: the axum host; emulator endpoints (`/_watchtrail/...`) and one fallback that
//!   hands AWS requests to [`dispatch`].
//! - [`dispatch`]: detect → identify → decode → validate → handle → encode, the only module
//!   that sees both the wire and the services.
//! - [`protocol`]: the AWS protocols (query/XML, awsJson, RPC v2 CBOR) driven by the embedded
//!   service models, validation from the models, and AWS's error bodies.
//! - [`admin`]: who may use the emulator's own endpoints under `--enforce-signatures`.
//! - [`auth`]: SigV4 parsing and verification; identity and account from the access key.
//! - [`services`]: one folder per service with its handlers, engines and SQL.
//! - [`store`]: the SQLite database, its group-commit writer and the migrations.
//! - [`clock`], [`context`], [`config`]: time, per-request facts, settings.
//!
//! [`serve`] is what `main` and the integration tests both start.

pub mod admin;
pub mod auth;
pub mod clock;
pub mod config;
pub mod console;
pub mod context;
pub mod dispatch;
pub mod listener;
pub mod otlp;
pub mod otlp_metrics;
pub mod protocol;
pub mod server;
pub mod services;
pub mod statsd;
pub mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use std::time::Duration;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;

use crate::auth::{Credentials, CredentialsError};
use crate::clock::SharedClock;
use crate::config::Config;
use crate::store::{Db, Location, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// A started server: its address and the handle to wait for its end.
pub struct Running {
    pub local_addr: SocketAddr,
    pub state: server::AppState,
}

/// Opens the store and builds the application state.
pub async fn build(
    config: Config,
    clock: SharedClock,
) -> Result<(server::AppState, store::writer::WriterTask), StartError> {
    let location = if config.ephemeral {
        Location::Ephemeral
    } else {
        Location::Directory(config.data_dir.clone())
    };
    let (db, writer) = Db::open(&location).await?;
    let credentials = match &config.credentials_file {
        Some(path) => Credentials::load(path, &config.account_id)?,
        None => Credentials::new(&config.account_id),
    };
    // Service events (alarm state changes, API calls via CloudTrail) travel to EventBridge's
    // default bus through this channel.
    let (emitter, emitted) = services::bus::channel();
    let cloudwatch = services::cloudwatch::CloudWatch::new(db.clone());
    cloudwatch.set_event_emitter(emitter.clone());
    cloudwatch.start_alarm_evaluator(
        clock.clone(),
        std::time::Duration::from_millis(config.alarm_evaluation_ms.max(10)),
    );
    let logs = services::logs::Logs::new(db.clone(), clock.clone(), cloudwatch.publisher())
        .with_live_tail_session_limit(std::time::Duration::from_millis(
            config.live_tail_session_ms.max(1),
        ));
    let log_deliverer = logs.deliverer();
    let services = services::Services {
        cloudwatch,
        logs,
        cloudtrail: services::cloudtrail::CloudTrail::new(
            db.clone(),
            config.journal,
            log_deliverer.clone(),
            std::time::Duration::from_millis(config.trail_delivery_ms.max(10)),
            clock.clone(),
            emitter.clone(),
        ),
        events: services::events::Events::new(
            db.clone(),
            clock.clone(),
            services::deliveries::Deliveries::new(db.clone()),
            log_deliverer.clone(),
            emitted,
        ),
        sts: services::sts::Sts,
        deliveries: services::deliveries::Deliveries::new(db.clone()),
    };
    services.cloudtrail.refresh_data_selection().await;
    let _ = &emitter;
    let state = Arc::new(server::Inner {
        config,
        db,
        services,
        credentials,
        clock,
        otlp_deltas: Default::default(),
        statsd: Default::default(),
    });
    Ok((state, writer))
}

/// Serves on `listener` until `shutdown` resolves, then drains in-flight requests and waits
/// until every acknowledged write is committed.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    clock: SharedClock,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let cap = config
        .max_connections
        .unwrap_or_else(listener::default_connection_cap);
    let idle = (config.idle_timeout_ms > 0).then(|| Duration::from_millis(config.idle_timeout_ms));
    let (state, writer) = build(config, clock).await?;
    let app = server::router(state.clone());
    // The StatsD listener exists only when asked for: nothing binds or runs otherwise.
    let statsd_stop = tokio_util::sync::CancellationToken::new();
    let statsd = match state.config.statsd_port {
        Some(port) => Some(
            statsd::start(
                state.clone(),
                port,
                std::time::Duration::from_millis(state.config.statsd_flush_ms.max(10)),
                statsd_stop.clone(),
            )
            .await?,
        ),
        None => None,
    };
    let live = state.services.logs.live().clone();
    let shutdown = async move {
        shutdown.await;
        // Open live tails would hold their connections (and so the drain) open for ever.
        live.close();
    };
    // `tap_io` only to get axum's connect-info for a listener of our own.
    let listener = listener::Guarded::new(listener, cap, idle).tap_io(|_| {});
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    // The StatsD listener publishes its last interval while the store still takes writes.
    statsd_stop.cancel();
    if let Some(task) = statsd {
        let _ = task.await;
    }
    // The alarm evaluator stops before the store: a pass in progress finishes its commit.
    state.services.cloudwatch.shutdown().await;
    // EventBridge's tasks stop first: a delivery being written finishes before the store closes.
    state.services.events.shutdown().await;
    // Every acknowledged call is journaled before the store stops taking writes.
    state.services.cloudtrail.shutdown().await;
    state.db.close();
    let _ = writer.await;
    Ok(())
}
