//! The writer connection with group commit: writes that arrive while another
//! is running share one SQLite transaction, so a busy console takes the
//! database's write lock once per group instead of once per request.
//!
//! Why: another process (`otwatch ingest`, a sensor) that writes batch after
//! batch leaves the lock free only for moments. With one transaction per
//! request, every analyst's status change had to catch such a moment on its
//! own; under the load test they queued for seconds. Now the first writer to
//! get the lock runs its change inside a savepoint and, if others are
//! waiting, leaves the transaction open for them; the last one commits, and
//! everyone learns the outcome of the commit before answering. A write that
//! fails rolls back only its own savepoint; a failure that ends the whole
//! transaction (disk full, I/O) is reported to every member, so nobody is
//! told "saved" for a change that was not. A group is bounded in members and
//! in the time it stays open.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use otwatch_store::{Result, StoreError};

use crate::backend_err;

/// Most writes that wait on one group's commit.
const GROUP_MAX: usize = 64;

/// Longest a group transaction stays open to take in more writes. About one
/// ingest batch: under the load test the console got the lock after each
/// batch of `otwatch ingest` (≈ 0.35 s waits), and at 50 ms its groups ended
/// while status changes were still queued (PATCH p50 3.5 s; 1.2–1.3 s at 250 ms).
const GROUP_OPEN_MAX: Duration = Duration::from_millis(250);

/// The writer connection and the group it may have open.
pub(crate) struct Writer {
    slot: Mutex<Slot>,
    /// Threads waiting for `slot`.
    waiting: AtomicUsize,
    outcomes: Mutex<Outcomes>,
    closed: Condvar,
}

/// What the holder of the writer lock owns.
pub(crate) struct Slot {
    /// The connection. Outside `Writer::write` no group is open on it.
    pub(crate) conn: Connection,
    group: Option<Group>,
    last_id: u64,
}

struct Group {
    id: u64,
    /// Members that handed the open transaction on and wait for its outcome.
    handed_off: usize,
    opened: Instant,
}

#[derive(Default)]
struct Outcomes {
    /// The highest group id that has been committed or has failed.
    closed: u64,
    /// Failed groups: the error, and how many members have yet to read it.
    failed: HashMap<u64, (StoreError, usize)>,
}

/// A copy of an error for each member of a failed group.
fn copy_err(e: &StoreError) -> StoreError {
    match e {
        StoreError::Full(m) => StoreError::Full(m.clone()),
        StoreError::Backend(m) => StoreError::Backend(m.clone()),
        other => StoreError::Backend(other.to_string()),
    }
}

impl Writer {
    pub(crate) fn new(conn: Connection) -> Writer {
        Writer {
            slot: Mutex::new(Slot { conn, group: None, last_id: 0 }),
            waiting: AtomicUsize::new(0),
            outcomes: Mutex::new(Outcomes::default()),
            closed: Condvar::new(),
        }
    }

    fn acquire(&self) -> MutexGuard<'_, Slot> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        // A poisoned lock means a write panicked; `write` ended its group
        // before unwinding, so the connection is in a known state.
        let slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        slot
    }

    /// The connection with no transaction open: an open group is committed
    /// first. For work that manages its own transaction (ingest, settings).
    pub(crate) fn exclusive(&self) -> MutexGuard<'_, Slot> {
        let mut slot = self.acquire();
        if slot.group.is_some() {
            // The members waiting on it learn the outcome; this caller has no stake in it.
            let _ = self.commit(&mut slot);
        }
        slot
    }

    /// Runs `f` as one member of a group transaction and returns once the
    /// transaction holding its changes has committed (or failed).
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let mut slot = self.acquire();
        if slot.group.is_none() {
            slot.conn.execute_batch("BEGIN IMMEDIATE").map_err(backend_err)?;
            slot.last_id += 1;
            let id = slot.last_id;
            slot.group = Some(Group { id, handed_off: 0, opened: Instant::now() });
        }
        if let Err(e) = slot.conn.execute_batch("SAVEPOINT member") {
            let e = backend_err(e);
            self.fail(&mut slot, &e);
            return Err(e);
        }
        let out = match catch_unwind(AssertUnwindSafe(|| f(&slot.conn))) {
            Ok(Ok(v)) => match slot.conn.execute_batch("RELEASE member") {
                Ok(()) => Ok(v),
                Err(e) => {
                    let e = backend_err(e);
                    self.fail(&mut slot, &e);
                    return Err(e);
                }
            },
            Ok(Err(e)) => {
                self.undo_member(&mut slot, &e);
                Err(e)
            }
            Err(panic) => {
                let e = StoreError::Backend("a write panicked and was rolled back".into());
                self.undo_member(&mut slot, &e);
                if slot.group.is_some() {
                    let _ = self.commit(&mut slot);
                }
                drop(slot);
                resume_unwind(panic);
            }
        };
        let Some(g) = slot.group.as_mut() else {
            // The group ended with this member's own error; nothing to wait for.
            return out;
        };
        let stake = out.is_ok();
        let more = self.waiting.load(Ordering::SeqCst) > 0
            && g.handed_off < GROUP_MAX
            && g.opened.elapsed() < GROUP_OPEN_MAX;
        if more {
            let id = g.id;
            if stake {
                g.handed_off += 1;
            }
            drop(slot);
            if stake {
                self.wait_for(id)?;
            }
            return out;
        }
        let committed = self.commit(&mut slot);
        drop(slot);
        match (out, committed) {
            (Ok(_), Err(e)) => Err(e),
            (out, _) => out,
        }
    }

    /// Rolls back the current member's savepoint; ends the group when SQLite
    /// has already rolled the whole transaction back.
    fn undo_member(&self, slot: &mut Slot, cause: &StoreError) {
        if slot.conn.is_autocommit() {
            self.fail(slot, cause);
            return;
        }
        if let Err(e) = slot.conn.execute_batch("ROLLBACK TO member; RELEASE member") {
            self.fail(slot, &backend_err(e));
        }
    }

    /// Commits the open group and tells its members.
    fn commit(&self, slot: &mut Slot) -> Result<()> {
        let Some(g) = slot.group.take() else { return Ok(()) };
        let res = slot.conn.execute_batch("COMMIT").map_err(backend_err);
        if res.is_err() && !slot.conn.is_autocommit() {
            let _ = slot.conn.execute_batch("ROLLBACK");
        }
        self.publish(&g, res.as_ref().err());
        res
    }

    /// Ends the open group as failed: rolls it back and tells its members.
    fn fail(&self, slot: &mut Slot, e: &StoreError) {
        if !slot.conn.is_autocommit() {
            let _ = slot.conn.execute_batch("ROLLBACK");
        }
        if let Some(g) = slot.group.take() {
            self.publish(&g, Some(e));
        }
    }

    fn publish(&self, g: &Group, err: Option<&StoreError>) {
        let mut o = self.outcomes.lock().unwrap_or_else(|p| p.into_inner());
        o.closed = o.closed.max(g.id);
        if let Some(e) = err
            && g.handed_off > 0
        {
            o.failed.insert(g.id, (copy_err(e), g.handed_off));
        }
        drop(o);
        self.closed.notify_all();
    }

    /// Waits until group `id` has closed; its error, if it failed.
    fn wait_for(&self, id: u64) -> Result<()> {
        let mut o = self.outcomes.lock().unwrap_or_else(|p| p.into_inner());
        while o.closed < id {
            o = self.closed.wait(o).unwrap_or_else(|p| p.into_inner());
        }
        let Some((e, left)) = o.failed.get_mut(&id) else { return Ok(()) };
        let e = copy_err(e);
        *left -= 1;
        if *left == 0 {
            o.failed.remove(&id);
        }
        Err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;
    use std::sync::{Arc, Barrier};

    fn open(dir: &tempfile::TempDir) -> (Arc<Writer>, Arc<AtomicU64>) {
        let mut conn = Connection::open(dir.path().join("w.db")).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB);",
        )
        .unwrap();
        let commits = Arc::new(AtomicU64::new(0));
        let c = commits.clone();
        conn.commit_hook(Some(move || {
            c.fetch_add(1, Ordering::SeqCst);
            false
        }))
        .unwrap();
        (Arc::new(Writer::new(conn)), commits)
    }

    fn rows(dir: &tempfile::TempDir) -> Vec<i64> {
        let c = Connection::open(dir.path().join("w.db")).unwrap();
        let mut st = c.prepare("SELECT id FROM t ORDER BY id").unwrap();
        st.query_map([], |r| r.get(0)).unwrap().collect::<rusqlite::Result<_>>().unwrap()
    }

    /// Runs `threads` writers at once, each calling `body` with its number.
    fn concurrently<T: Send + 'static>(
        threads: usize,
        body: impl Fn(usize) -> T + Send + Sync + 'static,
    ) -> Vec<T> {
        let body = Arc::new(body);
        let start = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let (body, start) = (body.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    body(i)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    }

    #[test]
    fn concurrent_writes_share_commits_and_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let (w, commits) = open(&dir);
        let w2 = w;
        let results = concurrently(8, move |i| {
            w2.write(|c| {
                c.execute("INSERT INTO t (id) VALUES (?)", [i as i64]).map_err(backend_err)?;
                // Long enough that the other seven are waiting for the lock.
                std::thread::sleep(Duration::from_millis(20));
                Ok(i)
            })
        });
        assert!(results.iter().all(|r| r.is_ok()));
        assert_eq!(rows(&dir), (0..8).collect::<Vec<_>>());
        let n = commits.load(Ordering::SeqCst);
        assert!(n < 8, "eight writes took {n} commits; waiting writes should have joined a group");
    }

    #[test]
    fn a_failing_write_undoes_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let (w, _) = open(&dir);
        let w2 = w.clone();
        let results = concurrently(8, move |i| {
            w2.write(|c| {
                c.execute("INSERT INTO t (id) VALUES (?)", [i as i64]).map_err(backend_err)?;
                std::thread::sleep(Duration::from_millis(10));
                if i % 3 == 0 {
                    return Err(StoreError::invalid("test", format!("write {i} refuses")));
                }
                Ok(())
            })
        });
        for (i, r) in results.iter().enumerate() {
            assert_eq!(r.is_err(), i % 3 == 0, "write {i}: {r:?}");
        }
        assert_eq!(rows(&dir), vec![1, 2, 4, 5, 7]);
        // The connection is usable and no transaction is left open.
        w.write(|c| c.execute("INSERT INTO t (id) VALUES (100)", []).map_err(backend_err)).unwrap();
        assert!(w.exclusive().conn.is_autocommit());
        assert_eq!(rows(&dir).len(), 6);
    }

    #[test]
    fn when_storage_fills_every_acknowledged_write_is_stored_and_no_other() {
        let dir = tempfile::tempdir().unwrap();
        let (w, _) = open(&dir);
        // A small cap on the file: writes start failing with "full" part way.
        let _: i64 =
            w.exclusive().conn.query_row("PRAGMA max_page_count = 64", [], |r| r.get(0)).unwrap();
        let w2 = w;
        let results = concurrently(16, move |i| {
            (0..20)
                .map(|k| {
                    let id = (i * 100 + k) as i64;
                    let r = w2.write(|c| {
                        c.execute("INSERT INTO t (id, v) VALUES (?, zeroblob(2000))", [id])
                            .map_err(backend_err)
                            .map(|_| ())
                    });
                    (id, r)
                })
                .collect::<Vec<_>>()
        });
        let results: Vec<_> = results.into_iter().flatten().collect();
        let ok: Vec<i64> = {
            let mut v: Vec<_> =
                results.iter().filter(|(_, r)| r.is_ok()).map(|(id, _)| *id).collect();
            v.sort_unstable();
            v
        };
        let full = results.iter().filter(|(_, r)| matches!(r, Err(StoreError::Full(_)))).count();
        assert!(full > 0, "the cap was reached");
        assert_eq!(full + ok.len(), results.len(), "every failure says the storage is full");
        assert_eq!(rows(&dir), ok, "stored rows are exactly the acknowledged writes");
    }

    #[test]
    fn a_panicking_write_leaves_the_others_and_the_writer_intact() {
        let dir = tempfile::tempdir().unwrap();
        let (w, _) = open(&dir);
        let w2 = w.clone();
        let results = concurrently(6, move |i| {
            std::panic::catch_unwind(AssertUnwindSafe(|| {
                w2.write(|c| {
                    c.execute("INSERT INTO t (id) VALUES (?)", [i as i64]).map_err(backend_err)?;
                    std::thread::sleep(Duration::from_millis(10));
                    assert!(i != 2, "write 2 panics");
                    Ok(())
                })
            }))
        });
        for (i, r) in results.iter().enumerate() {
            match r {
                Ok(inner) => assert!(inner.is_ok(), "write {i}: {inner:?}"),
                Err(_) => assert_eq!(i, 2),
            }
        }
        assert_eq!(rows(&dir), vec![0, 1, 3, 4, 5]);
        w.write(|c| c.execute("INSERT INTO t (id) VALUES (9)", []).map_err(backend_err)).unwrap();
        assert_eq!(rows(&dir), vec![0, 1, 3, 4, 5, 9]);
    }
}
