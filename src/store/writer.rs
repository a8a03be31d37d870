//! The single writer: group commit with acknowledgement after commit.
//!
//! SQLite allows one writer at a time, so every write is sent here. The task takes whatever
//! writes are queued, runs each inside a savepoint of one transaction, commits once, and only
//! then answers each caller. Under load many writes share one commit (and one WAL sync), which
//! is what makes "a 200 means it is on disk" cheap; a failing write rolls back its savepoint
//! alone.

use std::future::Future;
use std::pin::Pin;

use sqlx::{Connection, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

use super::{Result, StoreError};

pub type WriteFuture<'c, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'c>>;

/// At most this many writes share one transaction, so one commit's latency stays bounded.
const MAX_BATCH: usize = 1024;
const QUEUE_DEPTH: usize = 8192;

trait Job: Send {
    fn run<'c>(
        &'c mut self,
        conn: &'c mut SqliteConnection,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'c>>;
    fn finish(self: Box<Self>, committed: Result<()>);
}

struct TypedJob<T, F> {
    work: Option<F>,
    output: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> Job for TypedJob<T, F>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut SqliteConnection) -> WriteFuture<'c, T> + Send + 'static,
{
    fn run<'c>(
        &'c mut self,
        conn: &'c mut SqliteConnection,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'c>> {
        Box::pin(async move {
            let Some(work) = self.work.take() else {
                return Ok(());
            };
            let outcome = work(conn).await;
            let failed = outcome.is_err();
            self.output = Some(outcome);
            if failed {
                Err(StoreError::Closed)
            } else {
                Ok(())
            }
        })
    }

    fn finish(self: Box<Self>, committed: Result<()>) {
        let this = *self;
        let answer = match (this.output, committed) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(_)), Err(e)) => Err(e),
            (Some(Ok(v)), Ok(())) => Ok(v),
            (None, Err(e)) => Err(e),
            (None, Ok(())) => Err(StoreError::Closed),
        };
        // The caller may have gone away (client disconnected); the write stands regardless.
        let _ = this.reply.send(answer);
    }
}

#[derive(Clone)]
pub struct WriterHandle {
    queue: mpsc::Sender<Box<dyn Job>>,
    closed: std::sync::Arc<tokio::sync::Notify>,
}

/// The writer's task; await it after [`super::Db::close`] to know every write is committed.
pub type WriterTask = tokio::task::JoinHandle<()>;

impl WriterHandle {
    pub async fn submit<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> WriteFuture<'c, T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(TypedJob {
            work: Some(work),
            output: None,
            reply,
        });
        self.queue.send(job).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    pub fn close(&self) {
        self.closed.notify_one();
    }
}

pub fn spawn(conn: SqliteConnection) -> (WriterHandle, WriterTask) {
    let (queue, rx) = mpsc::channel(QUEUE_DEPTH);
    let closed = std::sync::Arc::new(tokio::sync::Notify::new());
    let task = tokio::spawn(run(conn, rx, closed.clone()));
    (WriterHandle { queue, closed }, task)
}

async fn run(
    mut conn: SqliteConnection,
    mut rx: mpsc::Receiver<Box<dyn Job>>,
    closed: std::sync::Arc<tokio::sync::Notify>,
) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    loop {
        tokio::select! {
            biased;
            received = rx.recv_many(&mut batch, MAX_BATCH) => {
                if received == 0 {
                    break;
                }
            }
            () = closed.notified() => {
                // Refuse new writes, then drain what is already queued below.
                rx.close();
                continue;
            }
        }
        let committed = commit_batch(&mut conn, &mut batch).await;
        let shared = committed.map_err(|e| e.to_string());
        for job in batch.drain(..) {
            let outcome = match &shared {
                Ok(()) => Ok(()),
                Err(message) => Err(StoreError::Corrupt(format!("commit failed: {message}"))),
            };
            job.finish(outcome);
        }
    }
    let _ = conn.close().await;
}

async fn commit_batch(conn: &mut SqliteConnection, batch: &mut [Box<dyn Job>]) -> Result<()> {
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    for job in batch.iter_mut() {
        if let Err(e) = run_in_savepoint(conn, job.as_mut()).await {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            return Err(e);
        }
    }
    if let Err(e) = sqlx::query("COMMIT").execute(&mut *conn).await {
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        return Err(e.into());
    }
    Ok(())
}

/// Runs one job; its failure undoes only its own changes. Errors returned here are failures of
/// the transaction itself.
async fn run_in_savepoint(conn: &mut SqliteConnection, job: &mut dyn Job) -> Result<()> {
    sqlx::query("SAVEPOINT job").execute(&mut *conn).await?;
    if job.run(conn).await.is_err() {
        sqlx::query("ROLLBACK TO job").execute(&mut *conn).await?;
    }
    sqlx::query("RELEASE job").execute(&mut *conn).await?;
    Ok(())
}
