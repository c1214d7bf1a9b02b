//! [`Intake`] on the embedded backend: a small PDU and its job in one transaction.

use super::journal::{Journal, Record};
use super::object_store::{DirObjectStore, INLINE_MAX, insert_inline};
use super::queue::{Outgoing, SqliteQueue};
use crate::ports::{Arrival, Intake, IntakeError, SeparateIntake, validate_key};
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// When the object store keeps its small objects in the queue's database (as
/// [`super::EmbeddedBackend`] opens them), a PDU of up to [`INLINE_MAX`] bytes and its
/// job go in together:
///
/// * with the data directory's intake journal ([`super::EmbeddedBackend::intake`]),
///   as one journal record: fsynced into the journal while the queue database's
///   writer inserts both in one transaction (see the `journal` module);
/// * without it, as one job of the queue database's writer: one transaction, so both
///   land or neither does, and one commit and one fsync wait instead of two.
///
/// Larger PDUs (files) go through [`SeparateIntake::at_once`]: the file and the job
/// are written at the same time.
pub struct EmbeddedIntake {
    objects: Arc<DirObjectStore>,
    queue: Arc<SqliteQueue>,
    separate: SeparateIntake,
    journal: Option<Arc<Journal>>,
}

impl EmbeddedIntake {
    pub fn new(objects: Arc<DirObjectStore>, queue: Arc<SqliteQueue>) -> Self {
        let separate = SeparateIntake::at_once(objects.clone(), queue.clone());
        EmbeddedIntake {
            objects,
            queue,
            separate,
            journal: None,
        }
    }

    pub(crate) fn with_journal(mut self, journal: Option<Arc<Journal>>) -> Self {
        self.journal = journal;
        self
    }

    fn shares_database(&self) -> bool {
        Arc::ptr_eq(self.objects.inline_db(), &self.queue.database())
    }
}

impl std::fmt::Debug for EmbeddedIntake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedIntake")
            .field("objects", &self.objects)
            .field("queue", &self.queue)
            .field("journal", &self.journal)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Intake for EmbeddedIntake {
    async fn accept(&self, a: Arrival<'_>) -> Result<(), IntakeError> {
        if a.body.len() > INLINE_MAX || !self.shares_database() {
            return self.separate.accept(a).await;
        }
        validate_key(a.key)?;
        let job = Outgoing::new(a.queue, a.job, Duration::ZERO)?;
        let (key, body) = (a.key.to_string(), a.body);
        let (key, body, job) = match &self.journal {
            Some(journal) => {
                let record = Record { key, body, job };
                if record.fits() {
                    journal.append(record).await.map_err(|e| {
                        IntakeError::Backend(format!("{} and its {} job: {e}", a.key, a.queue))
                    })?;
                    self.queue.sent(a.queue);
                    self.objects.drop_shadowed_file(a.key).await?;
                    return Ok(());
                }
                (record.key, record.body, record.job)
            }
            None => (key, body, job),
        };
        self.objects
            .inline_db()
            .write(move |c| {
                insert_inline(c, &key, &body)?;
                job.insert(c)
            })
            .await
            .map_err(|e| IntakeError::Backend(format!("{} and its {} job: {e}", a.key, a.queue)))?;
        self.queue.sent(a.queue);
        // The job may run before this; a handler reading the key already gets the
        // inline version, which takes precedence over a file.
        self.objects.drop_shadowed_file(a.key).await?;
        Ok(())
    }
}
