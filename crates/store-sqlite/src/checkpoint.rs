//! Checkpoints on a thread of their own.
//!
//! In WAL mode a commit appends pages to the `-wal` file; a checkpoint later
//! copies them into the database file. Left to SQLite, the checkpoint runs
//! inside the writer's commit once the WAL holds `wal_autocheckpoint` pages,
//! and every append waits for it (at national scale, a sixth of an import's
//! time). Here a second connection copies them in the background, beside
//! the writer, while the writer keeps a late checkpoint of its own
//! (`wal_autocheckpoint` in `PRAGMAS`): it copies only what the background
//! has not, and lets the WAL start over from its beginning when a stream of
//! small commits never leaves the background a moment to finish.
//!
//! A checkpoint is PASSIVE: it never waits for and never blocks the writer
//! or a reader. One that fails loses nothing: the pages stay in the WAL,
//! durable and read from there, until the next one copies them.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use casetrail_ledger::{StoreError, StoreResult};
use rusqlite::Connection;

use crate::db;

/// How often the background looks for pages to copy.
const INTERVAL: Duration = Duration::from_millis(100);

/// The background checkpoint of one database file; stops when dropped.
pub(crate) struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub(crate) fn start(path: &Path) -> StoreResult<Self> {
        let connection = Connection::open(path).map_err(db("opening the checkpoint connection"))?;
        // A checkpoint syncs the WAL before copying and the file after, as
        // the writer's own would.
        connection.pragma_update(None, "synchronous", "FULL").map_err(db("setting the checkpoint's pragmas"))?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    let _ = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
            })
            .map_err(|error| StoreError::database("starting the checkpoint thread", error))?;
        Ok(Self { stop: Some(stop), thread: Some(thread) })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Closing the channel ends the loop at once.
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
