//! The `watchtrail` binary: parse the configuration, set up logging, serve until SIGTERM or
//! Ctrl-C. Everything else lives in the library so that tests start the very same server.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use watchtrail::config::{Command, Config};

/// glibc's allocator contends between threads under load (a quarter of the CPU time of a
/// PutMetricData benchmark went to malloc/free); mimalloc keeps per-thread heaps. Its `no_thp`
/// build keeps transparent huge pages from committing whole arenas up front (idle RSS 19 MiB
/// with them, 10 MiB without).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    match config.command {
        Some(Command::Healthcheck) => return healthcheck(config.port),
        Some(Command::VerifyJournal) => return verify_journal(&config.data_dir).await,
        _ => {}
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_new(&config.log_level).unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let addr = SocketAddr::new(config.bind, config.port);
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("watchtrail listening on http://{addr}");
    match watchtrail::serve(
        listener,
        config,
        Arc::new(watchtrail::clock::SystemClock),
        shutdown_signal(),
    )
    .await
    {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn verify_journal(data_dir: &std::path::Path) -> ExitCode {
    match watchtrail::services::cloudtrail::verify_data_dir(data_dir).await {
        Ok(v) => {
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            if v.intact {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("cannot read the journal in {}: {e}", data_dir.display());
            ExitCode::from(2)
        }
    }
}

fn healthcheck(port: u16) -> ExitCode {
    use std::io::{Read, Write};
    let probe = || -> std::io::Result<bool> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(std::time::Duration::from_secs(2)))?;
        stream.write_all(b"GET /_watchtrail/health HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        Ok(response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200"))
    };
    match probe() {
        Ok(true) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: draining requests");
}
