//! SQLite settings for the length of a bulk import, and a second connection
//! that checkpoints the write-ahead log while the import writes.
//!
//! A checkpoint copies the pages a commit appended to the WAL into the
//! database file. Run by the importing connection (SQLite's automatic
//! checkpoint), it was about a sixth of the importing thread's time; on a
//! connection of its own it runs on the other core. The log can only start
//! again from the beginning when a write transaction begins with every
//! frame copied, so once the log has grown past `RESTART_FRAMES` the
//! importing connection copies the last frames itself between two writes,
//! and the log is reused rather than growing with the import. The
//! checkpointer is never more than one pass behind: the importing
//! connection waits for the pass it asked for last (in practice done long
//! before, while it wrote the next batch) before asking for another.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::DbConnection;

/// The log length (4 KiB frames: 64 MB) past which the importing
/// connection finishes a checkpoint itself, so that the log starts again.
const RESTART_FRAMES: i64 = 16_384;

/// What an import changes on its SQLite connection: a page cache that holds
/// a whole batch (64 MB rather than 2 MB; spilling mid-batch wrote pages
/// twice), statement journals in memory rather than in temporary files, and
/// checkpoints on a second connection (see the module doc; without one, an
/// automatic checkpoint every 64 MB rather than 4 MB, as each syncs the
/// disk twice). `end` puts back SQLite's defaults, which
/// `DbManager::connect` leaves alone, since the connection may go back to a
/// pool. Nothing on PostgreSQL.
pub struct ImportTuning {
    sqlite: bool,
    checkpointer: Option<Checkpointer>,
    restart_frames: i64,
}

impl ImportTuning {
    pub fn begin(conn: &mut DbConnection) -> Self {
        Self::begin_with(conn, RESTART_FRAMES)
    }

    fn begin_with(conn: &mut DbConnection, restart_frames: i64) -> Self {
        let DbConnection::Sqlite(c) = conn else {
            return ImportTuning {
                sqlite: false,
                checkpointer: None,
                restart_frames,
            };
        };
        let checkpointer = database_file(c).and_then(|file| {
            Checkpointer::start(&file, restart_frames)
                .inspect_err(|e| {
                    tracing::warn!(error = %e, "import: no second connection for checkpoints; the importing one will make them")
                })
                .ok()
        });
        // With a checkpointer, this connection checkpoints only when
        // `between_writes` says.
        let automatic = if checkpointer.is_some() {
            0
        } else {
            restart_frames
        };
        set(
            c,
            &format!(
                "PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = {automatic};"
            ),
        );
        ImportTuning {
            sqlite: true,
            checkpointer,
            restart_frames,
        }
    }

    /// Called on the importing connection between two write transactions:
    /// asks the checkpointer for a pass, or once the log is long, copies
    /// its last frames here so that the next write starts it again.
    pub fn between_writes(&self, conn: &mut DbConnection) {
        let (Some(checkpointer), DbConnection::Sqlite(c)) = (&self.checkpointer, conn) else {
            return;
        };
        let mut state = checkpointer.shared.idle();
        if state.log_frames >= self.restart_frames {
            // The checkpointer is idle, so this is the only checkpoint.
            match checkpoint(c) {
                Ok(_) => state.log_frames = 0,
                Err(e) => tracing::warn!(error = %e, "import: checkpoint failed"),
            }
            // No pass until the next write has started the log again: one
            // before it would see the old log's length.
            return;
        }
        state.asked += 1;
        checkpointer.shared.changed.notify_all();
    }

    pub fn end(self, conn: &mut DbConnection) {
        if let Some(checkpointer) = self.checkpointer {
            checkpointer.stop();
        }
        if let (true, DbConnection::Sqlite(c)) = (self.sqlite, conn) {
            set(
                c,
                "PRAGMA cache_size = -2000; PRAGMA temp_store = DEFAULT; PRAGMA wal_autocheckpoint = 1000;",
            );
        }
    }
}

fn set(conn: &mut SqliteConnection, pragmas: &str) {
    if let Err(e) = conn.batch_execute(pragmas) {
        tracing::warn!(error = %e, "import: could not set SQLite's cache and checkpoint sizes");
    }
}

/// The main database's file, or `None` for an in-memory one.
fn database_file(conn: &mut SqliteConnection) -> Option<String> {
    #[derive(QueryableByName)]
    struct Database {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        file: String,
    }
    let databases: Vec<Database> = diesel::sql_query("PRAGMA database_list").load(conn).ok()?;
    databases
        .into_iter()
        .find(|d| d.name == "main" && !d.file.is_empty())
        .map(|d| d.file)
}

/// What a passive checkpoint reports: frames in the log, and how many of
/// them are now in the database file.
#[derive(QueryableByName, Clone, Copy, PartialEq)]
struct Pass {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    log: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    checkpointed: i64,
}

/// Copies what it can without waiting for readers or writers.
fn checkpoint(conn: &mut SqliteConnection) -> QueryResult<Pass> {
    diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result(conn)
}

/// Passes asked for and done, and the log's length as the last one saw it.
#[derive(Default)]
struct State {
    asked: u64,
    done: u64,
    log_frames: i64,
    stop: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays whole if a holder panicked: plain numbers.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The state once every pass asked for is done.
    fn idle(&self) -> MutexGuard<'_, State> {
        let mut state = self.lock();
        while state.done < state.asked {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state
    }
}

/// A thread with its own connection that checkpoints when asked, until it
/// has caught up with the log.
struct Checkpointer {
    shared: Arc<Shared>,
    thread: JoinHandle<()>,
}

impl Checkpointer {
    fn start(file: &str, restart_frames: i64) -> anyhow::Result<Self> {
        let conn = super::sqlite_connection(file.as_ref())?;
        let shared = Arc::new(Shared::default());
        let thread = std::thread::Builder::new()
            .name("checkpointer".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || checkpoint_when_asked(conn, &shared, restart_frames)
            })?;
        Ok(Checkpointer { shared, thread })
    }

    fn stop(self) {
        self.shared.lock().stop = true;
        self.shared.changed.notify_all();
        if self.thread.join().is_err() {
            tracing::warn!("import: the checkpoint thread panicked");
        }
    }
}

fn checkpoint_when_asked(mut conn: SqliteConnection, shared: &Shared, restart_frames: i64) {
    loop {
        let asked = {
            let mut state = shared.lock();
            while state.done == state.asked && !state.stop {
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner());
            }
            if state.stop {
                return;
            }
            state.asked
        };
        let mut last = None;
        let mut log_frames = 0;
        // Passes until caught up, stuck behind a reader, or the log is long
        // enough for the importing connection to start it again.
        while let Ok(pass) = checkpoint(&mut conn).inspect_err(|e| {
            tracing::warn!(error = %e, "import: checkpoint failed");
        }) {
            log_frames = pass.log;
            if pass.checkpointed >= pass.log || last == Some(pass) || pass.log >= restart_frames {
                break;
            }
            last = Some(pass);
        }
        let mut state = shared.lock();
        state.done = asked;
        state.log_frames = log_frames;
        shared.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_bytes(dir: &std::path::Path) -> u64 {
        std::fs::metadata(dir.join("db.sqlite-wal"))
            .map(|m| m.len())
            .unwrap_or(0)
    }

    /// The log is reused once it passes the restart length, rather than
    /// growing with the import; every row is kept.
    #[test]
    fn the_log_starts_again_once_long_and_nothing_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("db.sqlite");
        let mut sqlite = SqliteConnection::establish(file.to_str().unwrap()).unwrap();
        sqlite
            .batch_execute(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                 CREATE TABLE t (n INTEGER PRIMARY KEY, body TEXT NOT NULL);",
            )
            .unwrap();
        let mut conn = DbConnection::Sqlite(sqlite);
        let restart_frames = 64;
        let tuning = ImportTuning::begin_with(&mut conn, restart_frames);
        assert!(tuning.checkpointer.is_some(), "a file database gets one");
        let mut longest = 0;
        for batch in 0..100 {
            conn.batch_execute(&format!(
                "BEGIN IMMEDIATE;
                 WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s WHERE v < 20)
                 INSERT INTO t (n, body) SELECT {batch} * 1000 + v, printf('%.2000c', 'x') FROM s;
                 COMMIT;"
            ))
            .unwrap();
            longest = longest.max(wal_bytes(dir.path()));
            tuning.between_writes(&mut conn);
        }
        tuning.end(&mut conn);
        // About 20 frames a batch, 2,000 in all: without starting again the
        // log would hold them all.
        assert!(
            longest < 4 * restart_frames as u64 * 4096,
            "the log grew to {longest} bytes"
        );
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let DbConnection::Sqlite(c) = &mut conn else {
            unreachable!()
        };
        let count: Count = diesel::sql_query("SELECT count(*) AS n FROM t")
            .get_result(c)
            .unwrap();
        assert_eq!(count.n, 2_000);
    }
}
