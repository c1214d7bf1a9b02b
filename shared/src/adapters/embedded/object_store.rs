//! [`ObjectStore`] as files under a root directory, small objects inline in SQLite.

use super::EmbeddedError;
use super::sqlite::Db;
use crate::ports::{ObjectError, ObjectStore, validate_key};
use async_trait::async_trait;
use bytes::Bytes;
use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// Objects up to this size live in a small SQLite database beside the files
/// (`<root>/~inline.db`, a name no valid key can take, or the queue's database when
/// opened by [`super::EmbeddedBackend`]), committed through a group-commit writer:
/// one WAL fsync then covers many concurrent puts (and, shared with the queue, their jobs),
/// where a file costs a file fsync and a directory fsync each. Larger objects are files.
pub const INLINE_MAX: usize = 64 * 1024;

/// File name of the inline database inside the root (not a valid object key).
pub const INLINE_DB: &str = "~inline.db";

const INLINE_SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS objects (key TEXT PRIMARY KEY, body BLOB NOT NULL) WITHOUT ROWID;";

/// Prefix of the temporary files a `put` writes before renaming them into place.
/// Leftovers of a crash mid-`put` carry it and can be deleted at any time.
pub const TEMP_PREFIX: &str = ".tmp-";

/// Objects as files: key `in/mm4/abc.eml` is the file `<root>/in/mm4/abc.eml`.
///
/// A `put` writes a temporary file in the target directory, fsyncs it, renames it
/// over the target and fsyncs the directory (and every directory it had to create),
/// so a `put` that returned `Ok` survives a crash or power loss, and a reader sees the
/// old or the new content, never a mix. The content type is not stored (the port
/// never returns it).
///
/// Unlike S3, a key cannot also be the directory of another key (`a` and `a/b`): the
/// second `put` fails with [`ObjectError::Io`]. The MMSC's key scheme never does that.
#[derive(Clone)]
pub struct DirObjectStore {
    root: PathBuf,
    inline: Arc<Db>,
    /// Directories known to be durably linked into their parent (created and the
    /// parent fsynced, by us or before we started), so a `put` into them needs no
    /// extra directory fsync.
    durable_dirs: Arc<Mutex<HashSet<PathBuf>>>,
}

impl std::fmt::Debug for DirObjectStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirObjectStore")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl DirObjectStore {
    /// Creates `root` (durably linked into its parent) if needed.
    async fn prepare_root(root: &Path) -> Result<(), EmbeddedError> {
        let owned = root.to_path_buf();
        tokio::task::spawn_blocking(move || {
            fs::create_dir_all(&owned)?;
            sync_dir(&owned)?;
            if let Some(parent) = owned.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent)?;
            }
            Ok(())
        })
        .await
        .map_err(|e| EmbeddedError::Task {
            path: root.to_path_buf(),
            reason: e.to_string(),
        })?
        .map_err(|source| EmbeddedError::Io {
            path: root.to_path_buf(),
            source,
        })?;
        Ok(())
    }

    /// Opens the store rooted at `root`, creating the directory if needed.
    pub async fn open(root: &Path) -> Result<Self, EmbeddedError> {
        Self::prepare_root(root).await?;

        let db_path = root.join(INLINE_DB);
        let inline = tokio::task::spawn_blocking(move || {
            Db::open_blocking(&db_path, INLINE_SCHEMA, 4, "mmsc-objects-writer")
        })
        .await
        .map_err(|e| EmbeddedError::Task {
            path: root.to_path_buf(),
            reason: e.to_string(),
        })??;
        Ok(DirObjectStore {
            root: root.to_path_buf(),
            inline: Arc::new(inline),
            durable_dirs: Arc::default(),
        })
    }

    /// Opens the store rooted at `root` with its small objects kept in `inline`, a
    /// database another store also writes (the embedded backend passes the queue's):
    /// a message's object and its job then go out in the same group commit, one fsync
    /// for both.
    pub(crate) async fn open_sharing(root: &Path, inline: Arc<Db>) -> Result<Self, EmbeddedError> {
        Self::prepare_root(root).await?;
        inline
            .write(|c| c.execute_batch(INLINE_SCHEMA))
            .await
            .map_err(|e| EmbeddedError::Task {
                path: root.to_path_buf(),
                reason: format!("creating the inline object table: {e}"),
            })?;
        Ok(DirObjectStore {
            root: root.to_path_buf(),
            inline,
            durable_dirs: Arc::default(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The database holding the small objects.
    pub(crate) fn inline_db(&self) -> &Arc<Db> {
        &self.inline
    }

    /// After a small version of `key` was committed inline: removes a larger earlier
    /// version (a file), which the inline one now shadows. A stat is cheap enough to
    /// make on every put; the common case stops at it.
    pub(crate) async fn drop_shadowed_file(&self, key: &str) -> Result<(), ObjectError> {
        if !self.root.join(key).is_file() {
            return Ok(());
        }
        self.blocking(key, |root, key, _| match fs::remove_file(root.join(key)) {
            Err(e) if !is_absent(&e) && !root.join(key).is_dir() => Err(e),
            _ => Ok(()),
        })
        .await
    }

    /// Runs blocking file work for `key` on the blocking pool.
    async fn blocking<T, F>(&self, key: &str, f: F) -> Result<T, ObjectError>
    where
        T: Send + 'static,
        F: FnOnce(&Path, &str, &Mutex<HashSet<PathBuf>>) -> io::Result<T> + Send + 'static,
    {
        validate_key(key)?;
        let (root, owned_key) = (self.root.clone(), key.to_string());
        let durable = Arc::clone(&self.durable_dirs);
        tokio::task::spawn_blocking(move || f(&root, &owned_key, &durable))
            .await
            .map_err(|e| ObjectError::Backend(format!("blocking task failed: {e}")))?
            .map_err(|source| ObjectError::Io {
                key: key.to_string(),
                source,
            })
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// True for errors that mean "there is no object at this path".
fn is_absent(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::NotFound | ErrorKind::NotADirectory | ErrorKind::IsADirectory
    )
}

/// Creates the directories of `key` below `root` one level at a time and makes sure
/// each is durably linked into its parent before returning: a directory this call
/// created, or one it has not seen before (created by a concurrent `put` whose fsync
/// may still be running, or by an earlier process), gets its parent fsynced once.
fn ensure_dirs(root: &Path, key: &str, durable: &Mutex<HashSet<PathBuf>>) -> io::Result<PathBuf> {
    let mut dir = root.to_path_buf();
    let mut segments: Vec<&str> = key.split('/').collect();
    segments.pop();
    for seg in segments {
        let next = dir.join(seg);
        let known = durable
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&next);
        if !known {
            match fs::create_dir(&next) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            sync_dir(&dir)?;
            durable
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(next.clone());
        }
        dir = next;
    }
    Ok(dir)
}

fn put_blocking(
    root: &Path,
    key: &str,
    body: &[u8],
    durable: &Mutex<HashSet<PathBuf>>,
) -> io::Result<()> {
    let dir = ensure_dirs(root, key, durable)?;
    let target = root.join(key);
    let tmp = dir.join(format!("{TEMP_PREFIX}{}", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(body)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, &target)?;
        sync_dir(&dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Stores a small object in the inline table; runs on the writer of [`INLINE_DB`] (or
/// of the database shared with the queue), inside its transaction.
pub(crate) fn insert_inline(
    c: &rusqlite::Connection,
    key: &str,
    body: &[u8],
) -> rusqlite::Result<()> {
    c.prepare_cached("INSERT OR REPLACE INTO objects (key, body) VALUES (?1, ?2)")?
        .execute(rusqlite::params![key, body])
        .map(|_| ())
}

fn inline_error(key: &str, e: super::sqlite::DbError) -> ObjectError {
    ObjectError::Backend(format!("inline object {key}: {e}"))
}

#[async_trait]
impl ObjectStore for DirObjectStore {
    async fn put(&self, key: &str, body: Bytes, _content_type: &str) -> Result<(), ObjectError> {
        validate_key(key)?;
        let owned = key.to_string();
        if body.len() <= INLINE_MAX {
            let k = owned.clone();
            self.inline
                .write(move |c| insert_inline(c, &k, &body))
                .await
                .map_err(|e| inline_error(key, e))?;
            return self.drop_shadowed_file(key).await;
        }
        self.blocking(key, move |root, key, durable| {
            put_blocking(root, key, &body, durable)
        })
        .await?;
        // The file is durable; now drop a smaller earlier version that would shadow it.
        // A new key (the common case) has none: a read says so without a durable
        // commit, which would add a second fsync wait to every large put.
        let k = owned.clone();
        let shadowed = self
            .inline
            .read(move |c| {
                c.prepare_cached("SELECT EXISTS (SELECT 1 FROM objects WHERE key = ?1)")?
                    .query_row([k], |r| r.get::<_, bool>(0))
            })
            .await
            .map_err(|e| inline_error(key, e))?;
        if !shadowed {
            return Ok(());
        }
        self.inline
            .write(move |c| {
                c.prepare_cached("DELETE FROM objects WHERE key = ?1")?
                    .execute([owned])
            })
            .await
            .map_err(|e| inline_error(key, e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, ObjectError> {
        validate_key(key)?;
        let k = key.to_string();
        let inline = self
            .inline
            .read(move |c| {
                use rusqlite::OptionalExtension;
                c.prepare_cached("SELECT body FROM objects WHERE key = ?1")?
                    .query_row([k], |r| r.get::<_, Vec<u8>>(0))
                    .optional()
            })
            .await
            .map_err(|e| inline_error(key, e))?;
        if let Some(body) = inline {
            return Ok(Some(Bytes::from(body)));
        }
        self.blocking(key, |root, key, _| match fs::read(root.join(key)) {
            Ok(bytes) => Ok(Some(Bytes::from(bytes))),
            Err(e) if is_absent(&e) => Ok(None),
            // A directory (the prefix of other keys) is not an object.
            Err(_) if root.join(key).is_dir() => Ok(None),
            Err(e) => Err(e),
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        validate_key(key)?;
        let k = key.to_string();
        self.inline
            .write(move |c| {
                c.prepare_cached("DELETE FROM objects WHERE key = ?1")?
                    .execute([k])
            })
            .await
            .map_err(|e| inline_error(key, e))?;
        self.blocking(key, |root, key, _| {
            let path = root.join(key);
            match fs::remove_file(&path) {
                Ok(()) => match path.parent() {
                    Some(dir) => sync_dir(dir),
                    None => Ok(()),
                },
                Err(e) if is_absent(&e) => Ok(()),
                // A directory (the prefix of other keys) is not an object.
                Err(e) if path.is_dir() => {
                    tracing::debug!(error = %e, "delete of a key that is a directory");
                    Ok(())
                }
                Err(e) => Err(e),
            }
        })
        .await
    }
}
