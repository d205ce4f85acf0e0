//! The writer's WAL, written a commit at a time.
//!
//! SQLite appends a commit to the `-wal` file frame by frame, and every
//! frame with two `pwrite` calls: its 24-byte header, then its page. A
//! group commit of a few dozen registrations writes some fifty frames, and
//! the hundred calls into the kernel's page cache were a sixth of the
//! writer thread's time (BENCHMARKS.md).
//!
//! This is SQLite's own default VFS with one change, for the files it opens
//! as a WAL: frames appended at the end of what this handle wrote are
//! gathered in memory and reach the file in one call, at the latest when
//! the commit frame's page is written. So a commit is in the file before
//! `xWrite` returns for its last frame, as it was without the buffer, and a
//! failure to write it is that `xWrite`'s error: SQLite publishes a commit
//! to other connections (the WAL index) only after that. Anything else
//! done to the file (a read, a sync, a truncation, its size, a write
//! anywhere but the end, closing it) first writes out what is gathered, so
//! that the file is always as SQLite believes it to be when it looks.
//! Frames still gathered when the transaction ends (spilled by one that
//! rolled back) are dropped, never written: the database file is wrapped
//! too, to see the WAL's write lock released ([`WALS`]).
//!
//! Only the connection that writes uses this VFS; readers and the
//! background checkpoint open the same file with the default one (locks
//! and the shared WAL index belong to the file, not to the VFS).

#![allow(unsafe_code)]

use std::alloc::Layout;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, OnceLock, PoisonError};

use rusqlite::ffi;

/// The VFS's name, to open a connection with it.
pub(crate) const VFS_NAME: &str = "casetrail-wal";
const VFS_NAME_C: &CStr = c"casetrail-wal";

/// A WAL file starts with a header of this size; SQLite writes it at
/// offset 0 when the log starts over from its beginning.
const WAL_HEADER_BYTES: usize = 32;
/// Every frame starts with a header of this size; its bytes 4..8 are the
/// database's size after a commit, and 0 in a frame that ends no commit.
const FRAME_HEADER_BYTES: usize = 24;
/// Gathered bytes are written out once they reach this (a large import's
/// commit holds thousands of frames).
const BUFFER_BYTES_MAX: usize = 8 * 1024 * 1024;
/// The most the default VFS writes in one call: it keeps only the low 17
/// bits of a write's length (`seekAndWriteFd`), so gathered bytes go out
/// in pieces below 128 KiB.
const WRITE_BYTES_MAX: usize = 124 * 1024;
/// Alignment of the default VFS's file object, allocated here.
const FILE_ALIGN: usize = 16;

/// Registers the VFS (once per process); `Err` says why it cannot be.
pub(crate) fn register() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            // SAFETY: sqlite3_vfs_find with NULL returns the default VFS,
            // which lives as long as the process; the VFS registered here
            // is leaked, so it too outlives every connection.
            unsafe {
                let default = ffi::sqlite3_vfs_find(ptr::null());
                if default.is_null() {
                    return Err("SQLite has no default VFS".to_owned());
                }
                let mut vfs: ffi::sqlite3_vfs = ptr::read(default);
                vfs.szOsFile = (*default).szOsFile.max(c_int::try_from(size_of::<Wrapped>()).unwrap_or(c_int::MAX));
                vfs.pNext = ptr::null_mut();
                vfs.zName = VFS_NAME_C.as_ptr();
                vfs.xOpen = Some(open);
                DEFAULT_VFS.set(default as usize).map_err(|_| "the default VFS was set twice".to_owned())?;
                let rc = ffi::sqlite3_vfs_register(Box::into_raw(Box::new(vfs)), 0);
                if rc != ffi::SQLITE_OK {
                    return Err(format!("SQLite refused to register the WAL VFS (code {rc})"));
                }
                Ok(())
            }
        })
        .clone()
}

/// The default VFS (its address), which does all the work.
static DEFAULT_VFS: OnceLock<usize> = OnceLock::new();

fn default_vfs() -> *mut ffi::sqlite3_vfs {
    DEFAULT_VFS.get().map_or(ptr::null_mut(), |address| *address as *mut ffi::sqlite3_vfs)
}

/// A file opened through this VFS and wrapped: SQLite's file object
/// first, so SQLite can treat a pointer to it as a `sqlite3_file`.
#[repr(C)]
struct Wrapped {
    base: ffi::sqlite3_file,
    /// The default VFS's file, allocated here with `layout`.
    real: *mut ffi::sqlite3_file,
    layout: Layout,
    state: *mut State,
}

struct State {
    /// The database file's path (a WAL's own database's).
    database: String,
    /// A WAL's gathered frames (`None` for a database file).
    gathered: Option<SharedGathered>,
}

/// Frames appended and not yet written.
#[derive(Default)]
struct Gathered {
    bytes: Vec<u8>,
    /// Where `bytes` go in the file.
    start: i64,
    /// The end of what this handle has written (gathered included); `None`
    /// when not known (just opened, truncated, or after a failed write).
    end: Option<i64>,
    /// The last frame header appended ends a commit: its page (and any
    /// padding after it) is written at once.
    in_commit_frame: bool,
}

impl Gathered {
    /// Forgets what is gathered without writing it. Where the handle's
    /// writes end stays as it was: it only decides what is gathered, and
    /// every write still goes where SQLite asked.
    fn discard(&mut self) {
        self.bytes.clear();
        self.in_commit_frame = false;
    }
}

/// The WALs open through this VFS, by their database's path.
///
/// A write transaction that rolls back may leave frames it spilled
/// gathered here; once it ends, another connection (or process) may append
/// its own frames at the same place, and writing the stale ones out later
/// would overwrite them. So when a connection releases the WAL's write
/// lock, the frames gathered for that database are dropped: a commit wrote
/// its own out already, and no other connection could append while the
/// lock was held.
static WALS: LazyLock<Mutex<HashMap<String, Vec<SharedGathered>>>> = LazyLock::new(Mutex::default);

/// A WAL's gathered frames, shared with [`WALS`].
type SharedGathered = Arc<Mutex<Gathered>>;

/// The lock SQLite's WAL index takes to append to the WAL (`WAL_WRITE_LOCK`).
const WAL_WRITE_LOCK: c_int = 0;

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // What is guarded stays consistent at every return: a panic elsewhere
    // does not make it unusable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A WAL's methods: the default VFS's, gathering appended frames.
static WAL_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

/// A database file's methods: the same (a database file gathers nothing),
/// with the shared-memory ones, watching the WAL's write lock.
static DATABASE_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: Some(fetch),
    xUnfetch: Some(unfetch),
    ..WAL_METHODS
};

unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let default = default_vfs();
    let Some(default_open) = (unsafe { default.as_ref() }).and_then(|vfs| vfs.xOpen) else {
        return ffi::SQLITE_ERROR;
    };
    // SAFETY (whole function): SQLite hands a file object of this VFS's
    // `szOsFile` bytes, at least the default VFS's and a `Wrapped`'s, and
    // names a database or WAL file by a NUL-terminated path.
    let is_wal = flags & ffi::SQLITE_OPEN_WAL != 0;
    if name.is_null() || !(is_wal || flags & ffi::SQLITE_OPEN_MAIN_DB != 0) {
        return unsafe { default_open(default, name, file, flags, out_flags) };
    }
    let path = unsafe { CStr::from_ptr(name) }.to_string_lossy();
    let database = if is_wal { path.strip_suffix("-wal").unwrap_or(&path) } else { &path }.to_owned();
    let size = usize::try_from(unsafe { (*default).szOsFile }).unwrap_or(0).max(1);
    let Ok(layout) = Layout::from_size_align(size, FILE_ALIGN) else { return ffi::SQLITE_ERROR };
    let real = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<ffi::sqlite3_file>();
    if real.is_null() {
        return ffi::SQLITE_NOMEM;
    }
    let rc = unsafe { default_open(default, name, real, flags, out_flags) };
    if rc != ffi::SQLITE_OK {
        // A file object with methods set is closed even when opening failed.
        unsafe {
            if let Some(close) = (*real).pMethods.as_ref().and_then(|methods| methods.xClose) {
                close(real);
            }
            std::alloc::dealloc(real.cast(), layout);
            (*file).pMethods = ptr::null();
        }
        return rc;
    }
    let gathered = is_wal.then(|| {
        let gathered = Arc::new(Mutex::new(Gathered::default()));
        locked(&WALS).entry(database.clone()).or_default().push(gathered.clone());
        gathered
    });
    let methods: &'static ffi::sqlite3_io_methods = if is_wal { &WAL_METHODS } else { &DATABASE_METHODS };
    let state = Box::into_raw(Box::new(State { database, gathered }));
    unsafe {
        file.cast::<Wrapped>().write(Wrapped { base: ffi::sqlite3_file { pMethods: methods }, real, layout, state });
    }
    ffi::SQLITE_OK
}

/// The wrapped file and its state.
///
/// SAFETY: `file` is a file this VFS opened and wrapped, not yet closed;
/// SQLite calls a file's methods from one thread at a time.
unsafe fn parts<'a>(file: *mut ffi::sqlite3_file) -> (&'a Wrapped, &'a State) {
    let wrapped = unsafe { &*file.cast::<Wrapped>() };
    (wrapped, unsafe { &*wrapped.state })
}

/// The default VFS's methods for the real file.
fn real_methods(wrapped: &Wrapped) -> &ffi::sqlite3_io_methods {
    // SAFETY: the default VFS set them when it opened the file.
    unsafe { &*(*wrapped.real).pMethods }
}

/// Writes out what is gathered.
fn write_out(wrapped: &Wrapped, gathered: &mut Gathered) -> c_int {
    if gathered.bytes.is_empty() {
        return ffi::SQLITE_OK;
    }
    let Some(real_write) = real_methods(wrapped).xWrite else { return ffi::SQLITE_IOERR_WRITE };
    let mut rc = ffi::SQLITE_OK;
    let mut offset = gathered.start;
    for piece in gathered.bytes.chunks(WRITE_BYTES_MAX) {
        let amount = c_int::try_from(piece.len()).unwrap_or(c_int::MAX);
        // SAFETY: the piece is `amount` bytes long.
        rc = unsafe { real_write(wrapped.real, piece.as_ptr().cast(), amount, offset) };
        if rc != ffi::SQLITE_OK {
            break;
        }
        offset += i64::from(amount);
    }
    gathered.bytes.clear();
    if rc != ffi::SQLITE_OK {
        // What the file holds past `start` is not known now.
        gathered.discard();
        gathered.end = None;
    }
    rc
}

/// Writes out what a WAL gathered (nothing for a database file).
fn write_out_any(wrapped: &Wrapped, state: &State) -> c_int {
    match &state.gathered {
        Some(gathered) => write_out(wrapped, &mut locked(gathered)),
        None => ffi::SQLITE_OK,
    }
}

unsafe extern "C" fn write(file: *mut ffi::sqlite3_file, data: *const c_void, amount: c_int, offset: i64) -> c_int {
    let (wrapped, state) = unsafe { parts(file) };
    let Some(real_write) = real_methods(wrapped).xWrite else { return ffi::SQLITE_IOERR_WRITE };
    let Some(gathered) = &state.gathered else {
        return unsafe { real_write(wrapped.real, data, amount, offset) };
    };
    let mut gathered = locked(gathered);
    let Ok(length) = usize::try_from(amount) else { return ffi::SQLITE_IOERR_WRITE };
    // SAFETY: SQLite passes `amount` readable bytes.
    let bytes = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), length) };
    let is_frame_header = length == FRAME_HEADER_BYTES;
    if is_frame_header {
        gathered.in_commit_frame = bytes[4..8] != [0, 0, 0, 0];
    }
    if offset == 0 && length == WAL_HEADER_BYTES {
        // The log starts over: what follows the header is new again.
        let rc = write_out(wrapped, &mut gathered);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        gathered.end = Some(0);
        gathered.in_commit_frame = false;
    }
    if gathered.end != Some(offset) {
        // Not an append (a frame rewritten in place, a checksum fixed):
        // straight to the file, after what was gathered before it.
        let rc = write_out(wrapped, &mut gathered);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        let rc = unsafe { real_write(wrapped.real, data, amount, offset) };
        gathered.end = if rc == ffi::SQLITE_OK { gathered.end.max(Some(offset + i64::from(amount))) } else { None };
        return rc;
    }
    if gathered.bytes.is_empty() {
        gathered.start = offset;
    }
    gathered.bytes.extend_from_slice(bytes);
    gathered.end = Some(offset + i64::from(amount));
    if !is_frame_header && (gathered.in_commit_frame || gathered.bytes.len() >= BUFFER_BYTES_MAX) {
        return write_out(wrapped, &mut gathered);
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    let (wrapped, state) = unsafe { parts(file) };
    let written = write_out_any(wrapped, state);
    if let Some(gathered) = &state.gathered {
        let mut wals = locked(&WALS);
        if let Some(open) = wals.get_mut(&state.database) {
            open.retain(|other| !Arc::ptr_eq(other, gathered));
            if open.is_empty() {
                wals.remove(&state.database);
            }
        }
    }
    let closed = match real_methods(wrapped).xClose {
        Some(real_close) => unsafe { real_close(wrapped.real) },
        None => ffi::SQLITE_OK,
    };
    // SAFETY: both were allocated in `open` and nothing uses them now.
    unsafe {
        drop(Box::from_raw(wrapped.state));
        std::alloc::dealloc(wrapped.real.cast(), wrapped.layout);
        (*file).pMethods = ptr::null();
    }
    if written != ffi::SQLITE_OK {
        written
    } else {
        closed
    }
}

/// Calls the default VFS's method (`$missing` when it has none), first
/// writing out what a WAL gathered when `$write_out_first` (the method
/// looks at the file's contents or size).
macro_rules! passed_on {
    ($name:ident, $method:ident, ($($arg:ident: $ty:ty),*), $missing:expr, $write_out_first:literal) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> c_int {
            let (wrapped, state) = unsafe { parts(file) };
            if $write_out_first {
                let rc = write_out_any(wrapped, state);
                if rc != ffi::SQLITE_OK {
                    return rc;
                }
            }
            match real_methods(wrapped).$method {
                Some(method) => unsafe { method(wrapped.real $(, $arg)*) },
                None => $missing,
            }
        }
    };
}

passed_on!(read, xRead, (data: *mut c_void, amount: c_int, offset: i64), ffi::SQLITE_IOERR_READ, true);
passed_on!(sync, xSync, (flags: c_int), ffi::SQLITE_IOERR_FSYNC, true);
passed_on!(file_size, xFileSize, (size: *mut i64), ffi::SQLITE_IOERR_FSTAT, true);
passed_on!(file_control, xFileControl, (op: c_int, arg: *mut c_void), ffi::SQLITE_NOTFOUND, true);
passed_on!(lock, xLock, (level: c_int), ffi::SQLITE_OK, false);
passed_on!(unlock, xUnlock, (level: c_int), ffi::SQLITE_OK, false);
passed_on!(check_reserved_lock, xCheckReservedLock, (out: *mut c_int), ffi::SQLITE_OK, false);
passed_on!(sector_size, xSectorSize, (), 4096, false);
passed_on!(device_characteristics, xDeviceCharacteristics, (), 0, false);
passed_on!(shm_map, xShmMap, (page: c_int, size: c_int, extend: c_int, out: *mut *mut c_void), ffi::SQLITE_IOERR_SHMMAP, false);
passed_on!(shm_unmap, xShmUnmap, (delete: c_int), ffi::SQLITE_OK, false);
passed_on!(fetch, xFetch, (offset: i64, amount: c_int, out: *mut *mut c_void), ffi::SQLITE_OK, false);
passed_on!(unfetch, xUnfetch, (offset: i64, page: *mut c_void), ffi::SQLITE_OK, false);

unsafe extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: i64) -> c_int {
    let (wrapped, state) = unsafe { parts(file) };
    if let Some(gathered) = &state.gathered {
        let mut gathered = locked(gathered);
        let rc = write_out(wrapped, &mut gathered);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        gathered.end = None;
    }
    match real_methods(wrapped).xTruncate {
        Some(method) => unsafe { method(wrapped.real, size) },
        None => ffi::SQLITE_IOERR_TRUNCATE,
    }
}

unsafe extern "C" fn shm_lock(file: *mut ffi::sqlite3_file, offset: c_int, n: c_int, flags: c_int) -> c_int {
    let (wrapped, state) = unsafe { parts(file) };
    let releases_write_lock = flags & ffi::SQLITE_SHM_UNLOCK != 0
        && flags & ffi::SQLITE_SHM_EXCLUSIVE != 0
        && (offset..offset.saturating_add(n)).contains(&WAL_WRITE_LOCK);
    if releases_write_lock {
        // Still held: no other connection has appended since this one's
        // transaction began.
        if let Some(wals) = locked(&WALS).get(&state.database) {
            for gathered in wals {
                locked(gathered).discard();
            }
        }
    }
    match real_methods(wrapped).xShmLock {
        Some(method) => unsafe { method(wrapped.real, offset, n, flags) },
        None => ffi::SQLITE_IOERR_SHMLOCK,
    }
}

unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    let (wrapped, _) = unsafe { parts(file) };
    if let Some(method) = real_methods(wrapped).xShmBarrier {
        unsafe { method(wrapped.real) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::{params, Connection, OpenFlags};

    fn writer(path: &std::path::Path) -> Connection {
        register().unwrap();
        let connection = Connection::open_with_flags_and_vfs(path, OpenFlags::default(), VFS_NAME).unwrap();
        connection.pragma_update(None, "journal_mode", "WAL").unwrap();
        connection.pragma_update(None, "synchronous", "NORMAL").unwrap();
        // No checkpoint of its own: the test decides when the log restarts.
        connection.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        connection.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)").unwrap();
        connection
    }

    fn count_and_sum(connection: &Connection) -> (i64, i64) {
        connection
            .query_row("SELECT count(*), coalesce(sum(length(v)), 0) FROM t", [], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
    }

    /// Rows of `size` bytes with keys from `first`, in one transaction.
    fn commit_rows(connection: &Connection, first: i64, rows: i64, size: usize) {
        connection.execute_batch("BEGIN IMMEDIATE").unwrap();
        for k in first..first + rows {
            connection
                .execute("INSERT INTO t (k, v) VALUES (?1, ?2)", params![k, vec![(k % 251) as u8; size]])
                .unwrap();
        }
        connection.execute_batch("COMMIT").unwrap();
    }

    /// The database opened again, as the next process would, once its
    /// integrity is checked.
    fn reopened_intact(path: &std::path::Path) -> Connection {
        let again = Connection::open(path).unwrap();
        let check: String = again.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
        assert_eq!(check, "ok");
        again
    }

    /// A copy of the database and its log taken now, opened: what a crash
    /// at this moment leaves on disk (the OS keeps what was written).
    fn copy_after_crash(path: &std::path::Path) -> (tempfile::TempDir, Connection) {
        let copy = tempfile::tempdir().unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        for suffix in ["", "-wal"] {
            std::fs::copy(format!("{}{suffix}", path.display()), copy.path().join(format!("{name}{suffix}"))).unwrap();
        }
        let recovered = Connection::open(copy.path().join(&*name)).unwrap();
        (copy, recovered)
    }

    #[test]
    fn every_commit_is_in_the_file_when_it_returns_and_other_connections_read_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.db");
        let writer = writer(&path);
        let reader = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        // As the background checkpoint does: another connection, SQLite's
        // default VFS.
        let checkpointer = Connection::open(&path).unwrap();
        let (mut rows, mut bytes) = (0i64, 0i64);
        // Small commits, a commit of some 2 MB (gathered bytes go out in
        // pieces), and commits after the log started over.
        let sizes = [(1, 100), (40, 700), (3, 5000), (500, 4000), (7, 100)];
        for round in 0..3 {
            for (n, size) in sizes {
                commit_rows(&writer, rows + 1, n, size);
                rows += n;
                bytes += n * size as i64;
                assert_eq!(count_and_sum(&reader), (rows, bytes), "round {round}, after {n} rows of {size} bytes");
            }
            let (busy, _, _): (i64, i64, i64) = checkpointer
                .query_row("PRAGMA wal_checkpoint(RESTART)", [], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .unwrap();
            assert_eq!(busy, 0, "the checkpoint ran");
        }
        drop((reader, checkpointer, writer));
        assert_eq!(count_and_sum(&reopened_intact(&path)), (rows, bytes));
    }

    #[test]
    fn a_committed_transaction_survives_a_crash_of_the_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crash.db");
        let writer = writer(&path);
        commit_rows(&writer, 1, 30, 900);
        let (_copy, recovered) = copy_after_crash(&path);
        assert_eq!(count_and_sum(&recovered), (30, 30 * 900));
        drop(writer);
    }

    #[test]
    fn a_transaction_larger_than_the_page_cache_commits_or_rolls_back_whole() {
        // A small page cache spills pages into the log before the commit,
        // and a rollback leaves frames in the log that the next
        // transaction writes over.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spill.db");
        let writer = writer(&path);
        writer.pragma_update(None, "cache_size", 20).unwrap();
        let reader = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        writer.execute_batch("BEGIN IMMEDIATE").unwrap();
        for k in 1..=400i64 {
            writer.execute("INSERT INTO t (k, v) VALUES (?1, ?2)", params![k, vec![1u8; 2000]]).unwrap();
        }
        writer.execute_batch("ROLLBACK").unwrap();
        assert_eq!(count_and_sum(&reader), (0, 0));
        commit_rows(&writer, 1, 400, 1500);
        writer.execute("UPDATE t SET v = ?1 WHERE k % 3 = 0", params![vec![2u8; 10]]).unwrap();
        let expected = (400, 267 * 1500 + 133 * 10);
        assert_eq!(count_and_sum(&reader), expected);
        drop(reader);
        drop(writer);
        reopened_intact(&path);
    }

    #[test]
    fn frames_of_a_rolled_back_transaction_never_overwrite_another_connections_commit() {
        // The writer spills frames and rolls back; another connection then
        // appends its own commit where they were; the writer's next
        // transaction must not write the stale frames over it.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("two.db");
        let first = writer(&path);
        first.pragma_update(None, "cache_size", 10).unwrap();
        let second = Connection::open(&path).unwrap();
        second.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        commit_rows(&first, 1, 10, 100);
        first.execute_batch("BEGIN IMMEDIATE").unwrap();
        for k in 1000..1300i64 {
            first.execute("INSERT INTO t (k, v) VALUES (?1, ?2)", params![k, vec![3u8; 3000]]).unwrap();
        }
        first.execute_batch("ROLLBACK").unwrap();
        commit_rows(&second, 2000, 600, 3000);
        commit_rows(&first, 3000, 5, 100);
        drop((first, second));
        assert_eq!(count_and_sum(&reopened_intact(&path)), (615, 10 * 100 + 600 * 3000 + 5 * 100));
    }

    #[test]
    fn a_writer_opened_on_a_log_that_holds_frames_appends_whole_commits() {
        // The log outlives the first writer (a reader keeps it open), so
        // the second writer's first frame lands in the middle of the file.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reopen.db");
        let first = writer(&path);
        let reader = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        commit_rows(&first, 1, 3, 100);
        drop(first);
        register().unwrap();
        let second = Connection::open_with_flags_and_vfs(&path, OpenFlags::default(), VFS_NAME).unwrap();
        for k in 10..15 {
            // One row, one page, one frame: the commit frame comes first.
            commit_rows(&second, k, 1, 10);
            assert_eq!(count_and_sum(&reader).0, k - 6);
        }
        let (_copy, recovered) = copy_after_crash(&path);
        assert_eq!(count_and_sum(&recovered), (8, 3 * 100 + 5 * 10));
        drop((second, reader));
    }
}
