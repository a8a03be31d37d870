//! Storage: one SQLite database (WAL) reached through sqlx.
//!
//! Reads go through a small pool of read-only connections; every write goes through the single
//! writer task in [`writer`], which commits concurrent writes together (group commit) and
//! answers each caller only after its commit. Services keep their SQL in their own `repo.rs` and
//! reach the database only through [`Db`]; the schema lives in `migrations/` alone.

pub mod writer;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, SqliteConnection, SqlitePool};

pub use writer::WriteFuture;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the data directory {0} is in use by another watchtrail process (lock file {1})")]
    Locked(PathBuf, PathBuf),
    #[error("data directory {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("the store is shutting down")]
    Closed,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Where the database lives.
#[derive(Debug, Clone)]
pub enum Location {
    /// A persistent database in this directory.
    Directory(PathBuf),
    /// A throwaway database in memory-backed temporary storage, deleted on exit.
    Ephemeral,
}

/// The handle every service gets: cheap to clone.
#[derive(Clone)]
pub struct Db {
    read: SqlitePool,
    writer: writer::WriterHandle,
    directory: PathBuf,
    _guard: std::sync::Arc<DirGuard>,
}

/// Holds the data directory's lock (and deletes an ephemeral directory) for the life of the store.
struct DirGuard {
    _lock: Option<std::fs::File>,
    _temp: Option<tempfile::TempDir>,
}

impl Db {
    pub async fn open(location: &Location) -> Result<(Db, writer::WriterTask)> {
        let (dir, lock, temp) = match location {
            Location::Directory(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Io(dir.clone(), e))?;
                let lock_path = dir.join("watchtrail.lock");
                let lock = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&lock_path)
                    .map_err(|e| StoreError::Io(lock_path.clone(), e))?;
                if lock.try_lock().is_err() {
                    return Err(StoreError::Locked(dir.clone(), lock_path));
                }
                (dir.clone(), Some(lock), None)
            }
            Location::Ephemeral => {
                // /dev/shm keeps an ephemeral database in memory where the OS offers it.
                let base = Path::new("/dev/shm");
                let temp = if base.is_dir() {
                    tempfile::Builder::new()
                        .prefix("watchtrail-")
                        .tempdir_in(base)
                } else {
                    tempfile::Builder::new().prefix("watchtrail-").tempdir()
                }
                .map_err(|e| StoreError::Io(PathBuf::from("temporary directory"), e))?;
                (temp.path().to_path_buf(), None, Some(temp))
            }
        };
        let file = dir.join("watchtrail.db");
        let ephemeral = matches!(location, Location::Ephemeral);
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(&file)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL in WAL mode: a commit is durable against a process crash (kill -9), which
            // is what "acknowledged only once committed" promises; fsync per commit would only
            // add power-loss safety at a large cost.
            .synchronous(if ephemeral {
                SqliteSynchronous::Off
            } else {
                SqliteSynchronous::Normal
            })
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory")
            .pragma("cache_size", "-32768")
            .disable_statement_logging();

        // Migrations run through a one-connection pool: `Migrator::run` on a bare connection
        // makes the whole start-up future lose `Send` (a known sqlx limitation).
        let migration_pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations").run(&migration_pool).await?;
        migration_pool.close().await;
        let write_conn = options.clone().connect().await?;

        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(0)
            .idle_timeout(Duration::from_secs(60))
            .connect_with(options.read_only(true).pragma("query_only", "1"))
            .await?;

        let (writer, task) = writer::spawn(write_conn);
        Ok((
            Db {
                read,
                writer,
                directory: dir.clone(),
                _guard: std::sync::Arc::new(DirGuard {
                    _lock: lock,
                    _temp: temp,
                }),
            },
            task,
        ))
    }

    /// The directory holding the database; services keep files beside it (trail deliveries).
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// The read-only pool.
    pub fn reader(&self) -> &SqlitePool {
        &self.read
    }

    /// Runs `work` inside the next group commit; resolves once that commit is durable.
    /// If `work` fails, its own changes are rolled back and the error returned; other writes in
    /// the same commit are unaffected.
    pub async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> WriteFuture<'c, T> + Send + 'static,
    {
        self.writer.submit(work).await
    }

    /// Deletes every row of every table (used by the reset endpoints). Append-only tables
    /// guard deletion with a `<table>_gate` table, opened here for the wipe alone and closed
    /// again in the same transaction; gates themselves are not wiped.
    pub async fn wipe(&self) -> Result<()> {
        self.write(|conn| {
            Box::pin(async move {
                let tables: Vec<(String,)> = sqlx::query_as(
                    "SELECT name FROM sqlite_master WHERE type = 'table' \
                     AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%'",
                )
                .fetch_all(&mut *conn)
                .await?;
                let (gates, data): (Vec<String>, Vec<String>) = tables
                    .into_iter()
                    .map(|(t,)| t)
                    .partition(|t| t.ends_with("_gate"));
                for gate in &gates {
                    sqlx::query(&format!("UPDATE \"{gate}\" SET open = 1"))
                        .execute(&mut *conn)
                        .await?;
                }
                for table in &data {
                    sqlx::query(&format!("DELETE FROM \"{table}\""))
                        .execute(&mut *conn)
                        .await?;
                }
                for gate in &gates {
                    sqlx::query(&format!("UPDATE \"{gate}\" SET open = 0"))
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// Stops accepting writes; the writer task finishes what is queued and exits.
    pub fn close(&self) {
        self.writer.close();
    }
}
