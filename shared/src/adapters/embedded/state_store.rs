//! [`StateStore`] on SQLite: one table `items(pk, sk, value, version, expires_at)`.

use super::EmbeddedError;
use super::sqlite::{Db, DbError};
use crate::domain::Timestamp;
use crate::ports::{Clock, Item, Key, StateStore, StoreError, Version};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk         TEXT    NOT NULL,
    sk         TEXT    NOT NULL,
    value      BLOB    NOT NULL,
    version    INTEGER NOT NULL,
    expires_at INTEGER,            -- milliseconds since the Unix epoch, NULL = never
    PRIMARY KEY (pk, sk)
);
CREATE INDEX IF NOT EXISTS items_by_expiry ON items (expires_at) WHERE expires_at IS NOT NULL;
";

/// How often (in store-clock time) expired rows are physically deleted. Expired rows
/// are invisible at once; the purge only reclaims space.
pub const PURGE_INTERVAL: Duration = Duration::from_secs(60);

/// Rows deleted per purge statement, so a purge never holds the writer for long.
const PURGE_CHUNK: i64 = 500;

/// Reader connections per store.
const READERS: usize = 4;

/// Durable key-value state on SQLite (WAL, group commit, fsync before `Ok`).
///
/// Expiry is evaluated against the injected [`Clock`]: a record is live while
/// `now < expires_at`. Expired rows behave as absent everywhere (a `create` replaces
/// them, a `put` restarts their version at 1) and are deleted in the background every
/// [`PURGE_INTERVAL`] of clock time, or on demand with [`SqliteStateStore::purge_expired`].
pub struct SqliteStateStore {
    db: Db,
    clock: Arc<dyn Clock>,
    last_purge: AtomicI64,
}

impl std::fmt::Debug for SqliteStateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStateStore")
            .field("path", &self.db.path())
            .finish_non_exhaustive()
    }
}

fn backend(e: DbError) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn conflict(key: &Key) -> StoreError {
    StoreError::Conflict {
        pk: key.pk.clone(),
        sk: key.sk.clone(),
    }
}

fn version_of(row: &Row<'_>, idx: usize) -> rusqlite::Result<Version> {
    let v: i64 = row.get(idx)?;
    Version::try_from(v).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(idx, v))
}

fn expiry_of(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<Timestamp>> {
    Ok(row.get::<_, Option<i64>>(idx)?.map(Timestamp))
}

impl SqliteStateStore {
    /// Opens (creating if needed) the database file at `path`.
    pub async fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<Self, EmbeddedError> {
        let owned = path.to_path_buf();
        let db = tokio::task::spawn_blocking(move || {
            Db::open_blocking(&owned, SCHEMA, READERS, "mmsc-state-writer")
        })
        .await
        .map_err(|e| EmbeddedError::Task {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })??;
        Ok(SqliteStateStore {
            db,
            clock,
            // The first write after opening purges what expired while we were down.
            last_purge: AtomicI64::new(i64::MIN),
        })
    }

    /// Deletes every expired row now; returns how many were deleted.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        let now = self.clock.now().0;
        let mut total = 0u64;
        loop {
            let n = self
                .db
                .write(move |c| purge_chunk(c, now))
                .await
                .map_err(backend)?;
            total += n as u64;
            if (n as i64) < PURGE_CHUNK {
                return Ok(total);
            }
        }
    }

    /// Current clock time; queues a background purge when one is due.
    fn now_and_maybe_purge(&self) -> i64 {
        let now = self.clock.now().0;
        let last = self.last_purge.load(Ordering::Relaxed);
        let due = now.saturating_sub(last) >= PURGE_INTERVAL.as_millis() as i64;
        if due
            && self
                .last_purge
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.db.write_detached(move |c| purge_chunk(c, now));
        }
        now
    }
}

fn purge_chunk(c: &Connection, now: i64) -> rusqlite::Result<usize> {
    c.prepare_cached(
        "DELETE FROM items WHERE rowid IN \
         (SELECT rowid FROM items WHERE expires_at IS NOT NULL AND expires_at <= ?1 LIMIT ?2)",
    )?
    .execute(params![now, PURGE_CHUNK])
}

#[async_trait]
impl StateStore for SqliteStateStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let now = self.clock.now().0;
        let k = key.clone();
        self.db
            .read(move |c| {
                c.prepare_cached(
                    "SELECT value, version, expires_at FROM items \
                     WHERE pk = ?1 AND sk = ?2 AND (expires_at IS NULL OR expires_at > ?3)",
                )?
                .query_row(params![k.pk, k.sk, now], |r| {
                    Ok(Item {
                        key: k.clone(),
                        value: r.get(0)?,
                        version: version_of(r, 1)?,
                        expires_at: expiry_of(r, 2)?,
                    })
                })
                .optional()
            })
            .await
            .map_err(backend)
    }

    async fn put(
        &self,
        key: &Key,
        value: &[u8],
        expires_at: Option<Timestamp>,
    ) -> Result<Version, StoreError> {
        let now = self.now_and_maybe_purge();
        let (pk, sk, value) = (key.pk.clone(), key.sk.clone(), value.to_vec());
        let exp = expires_at.map(|t| t.0);
        self.db
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO items (pk, sk, value, version, expires_at) VALUES (?1, ?2, ?3, 1, ?4) \
                     ON CONFLICT (pk, sk) DO UPDATE SET \
                       value = excluded.value, \
                       expires_at = excluded.expires_at, \
                       version = CASE WHEN items.expires_at IS NOT NULL AND items.expires_at <= ?5 \
                                      THEN 1 ELSE items.version + 1 END \
                     RETURNING version",
                )?
                .query_row(params![pk, sk, value, exp, now], |r| version_of(r, 0))
            })
            .await
            .map_err(backend)
    }

    async fn create(
        &self,
        key: &Key,
        value: &[u8],
        expires_at: Option<Timestamp>,
    ) -> Result<Version, StoreError> {
        let now = self.now_and_maybe_purge();
        let (pk, sk, value) = (key.pk.clone(), key.sk.clone(), value.to_vec());
        let exp = expires_at.map(|t| t.0);
        // Insert, or replace a row only if it has expired; RETURNING yields no row when
        // the live row was left alone.
        let created = self
            .db
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO items (pk, sk, value, version, expires_at) VALUES (?1, ?2, ?3, 1, ?4) \
                     ON CONFLICT (pk, sk) DO UPDATE SET \
                       value = excluded.value, version = 1, expires_at = excluded.expires_at \
                     WHERE items.expires_at IS NOT NULL AND items.expires_at <= ?5 \
                     RETURNING version",
                )?
                .query_row(params![pk, sk, value, exp, now], |r| version_of(r, 0))
                .optional()
            })
            .await
            .map_err(backend)?;
        created.ok_or_else(|| conflict(key))
    }

    async fn update(
        &self,
        key: &Key,
        expected: Version,
        value: &[u8],
        expires_at: Option<Timestamp>,
    ) -> Result<Version, StoreError> {
        // No stored version can exceed i64::MAX, so such an expectation always loses.
        let Ok(expected) = i64::try_from(expected) else {
            return Err(conflict(key));
        };
        let now = self.now_and_maybe_purge();
        let (pk, sk, value) = (key.pk.clone(), key.sk.clone(), value.to_vec());
        let exp = expires_at.map(|t| t.0);
        let updated = self
            .db
            .write(move |c| {
                c.prepare_cached(
                    "UPDATE items SET value = ?3, version = version + 1, expires_at = ?4 \
                     WHERE pk = ?1 AND sk = ?2 AND version = ?5 \
                       AND (expires_at IS NULL OR expires_at > ?6) \
                     RETURNING version",
                )?
                .query_row(params![pk, sk, value, exp, expected, now], |r| {
                    version_of(r, 0)
                })
                .optional()
            })
            .await
            .map_err(backend)?;
        updated.ok_or_else(|| conflict(key))
    }

    async fn query(&self, pk: &str) -> Result<Vec<Item>, StoreError> {
        let now = self.clock.now().0;
        let pk = pk.to_string();
        self.db
            .read(move |c| {
                // BINARY collation: byte order of the UTF-8 sort keys, as DynamoDB sorts.
                let mut stmt = c.prepare_cached(
                    "SELECT sk, value, version, expires_at FROM items \
                     WHERE pk = ?1 AND (expires_at IS NULL OR expires_at > ?2) ORDER BY sk",
                )?;
                let rows = stmt.query_map(params![pk, now], |r| {
                    Ok(Item {
                        key: Key::new(pk.clone(), r.get::<_, String>(0)?),
                        value: r.get(1)?,
                        version: version_of(r, 2)?,
                        expires_at: expiry_of(r, 3)?,
                    })
                })?;
                rows.collect()
            })
            .await
            .map_err(backend)
    }

    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        self.now_and_maybe_purge();
        let (pk, sk) = (key.pk.clone(), key.sk.clone());
        self.db
            .write(move |c| {
                c.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")?
                    .execute(params![pk, sk])
                    .map(|_| ())
            })
            .await
            .map_err(backend)
    }
}
