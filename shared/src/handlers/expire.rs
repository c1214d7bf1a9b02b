//! `expire`: the scheduled safety net for messages whose expiry passed while some
//! recipient was still in flight: forwarded to a partner that never reported,
//! stuck in an MM7 delivery, never routed because a job was lost to a dead-letter
//! queue. Each such recipient becomes `expired` through the same path as an MM1
//! recipient that never fetched ([`ingest::recipient_event`]): its charge is
//! released (or refunded), the originator gets the `Expired` delivery report it asked
//! for (m-delivery.ind, `MM4_delivery_report.REQ` or MM7 `DeliveryReportReq`), the
//! event goes on the message's timeline and the message's state is recomputed.
//! Recipients already final, or `retrieved` (the handset has the content; it was
//! reported and charged as such), keep their state; their charge is settled again,
//! which does nothing unless a settlement was lost.
//!
//! No scans: [`Records::create_message`] files every message in an expiry index by
//! the minute of its expiry, in [`EXPIRY_SHARDS`] partitions per minute (see
//! [`super::records`]). A run reads a cursor (the last minute fully done), walks the
//! minutes after it that are over (with [`SAFETY_MARGIN`] for writers' clocks and
//! in-flight writes), queries each shard, expires each message and deletes its entry,
//! and moves the cursor on by compare-and-set after each complete minute. A crash
//! only repeats idempotent work.
//!
//! A run holds a lease in the cursor record, so overlapping runs (the schedule's
//! tick and a catch-up job, a redelivered job) do not expire the same messages
//! twice at once (which would repeat a report to a handset); a run that finds the
//! lease held ends at once, and a crashed run's lease lapses after [`Limits::lease`].
//! A run does a bounded amount of work ([`Limits`]) and, when minutes are left,
//! queues another `expire` job so catch-up continues in the next invocation rather
//! than running into the Lambda timeout.
//!
//! Without a cursor (the first run), the walk starts [`BOOTSTRAP_HORIZON`] back (no
//! further than the retention period, beyond which entries are gone): messages
//! whose expiry passed longer before the first run are left to their record TTL. A
//! cursor older than the retention period skips ahead for the same reason.
//!
//! Content objects are left alone, as on MM1 expiry: the object store's lifecycle
//! rule removes them with the retention period, and a late report may still need
//! the message.

use super::records::{EXPIRY_SHARDS, IndexedExpiry, Records, expire_cursor_key, unix_minute};
use super::{HandlerError, Services, ingest};
use crate::domain::{Job, MessageId, RecipientState, Timestamp};
use crate::ports::{Key, Queue, StoreError, Version, queues};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tracing::{Instrument, debug, error, info, info_span, warn};

/// A minute is walked only once it ended at least this long ago: writers' clocks may
/// lag ours, and a message being created files itself under the current minute.
pub const SAFETY_MARGIN: Duration = Duration::from_secs(60);

/// How far back the first run (no cursor yet) starts.
pub const BOOTSTRAP_HORIZON: Duration = Duration::from_secs(24 * 3600);

/// The reason recorded on an expired recipient and sent in the report's status text.
pub const REASON: &str = "not delivered before the message expired";

/// How much one run may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Minutes walked (each is [`EXPIRY_SHARDS`] queries).
    pub minutes: u32,
    /// Messages looked at.
    pub messages: u32,
    /// Wall-clock time after which no new message is started.
    pub time: Duration,
    /// How long the lease of a run lasts; longer than a run can take (the `expire`
    /// Lambda's timeout is 300 s).
    pub lease: Duration,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        minutes: 120,
        messages: 500,
        time: Duration::from_secs(120),
        lease: Duration::from_secs(360),
    };
}

/// The cursor record (`expire` / `cursor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The last minute (since the Unix epoch) whose index entries are all done.
    pub minute: i64,
    /// A run is under way until then.
    pub lease_until: Option<Timestamp>,
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Another run held the lease (from the start: nothing was done; or it took the
    /// lease over mid-run, and carries on from where this run stopped).
    pub busy: bool,
    /// Minutes completed (the cursor moved this far).
    pub minutes: u32,
    /// Index entries handled.
    pub messages: u32,
    /// Recipients moved to `expired`.
    pub expired: u32,
    /// Work was left for the next run, and an `expire` job was queued for it.
    pub more: bool,
}

/// The `expire` job, with the default limits.
pub async fn run(svc: &Services) -> Result<(), HandlerError> {
    run_with(svc, Limits::DEFAULT).await.map(|_| ())
}

/// The `expire` job with explicit limits.
pub async fn run_with(svc: &Services, limits: Limits) -> Result<Report, HandlerError> {
    let started = svc.clock.now();
    let Some((mut cursor, mut version)) = acquire(svc, started, limits.lease).await? else {
        debug!("another expire run holds the lease");
        return Ok(Report {
            busy: true,
            ..Report::default()
        });
    };
    let retention = Duration::from_secs(svc.config.mmsc.retention_secs);
    let oldest = unix_minute(started.minus(retention)) - 1;
    if cursor.minute < oldest {
        info!(
            from = cursor.minute,
            to = oldest,
            "cursor is older than the retention period: skipping ahead"
        );
        cursor.minute = oldest;
    }
    let mut report = Report::default();
    let walked = walk(svc, limits, started, &mut cursor, &mut version, &mut report).await;
    if report.busy {
        warn!("the expire lease was taken over mid-run; leaving the rest to that run");
        return walked.map(|()| report);
    }
    cursor.lease_until = None;
    let released = save(svc, &cursor, version).await;
    match (walked, released) {
        (Err(e), released) => {
            if let Err(r) = released {
                warn!(error = %r, "could not release the expire lease; it lapses by itself");
            }
            return Err(e);
        }
        (Ok(()), Err(Saved::Lost)) => {
            warn!("the expire lease was taken over; leaving the rest to that run");
            return Ok(report);
        }
        (Ok(()), Err(Saved::Failed(e))) => return Err(e),
        (Ok(()), Ok(_)) => {}
    }
    if report.more {
        let job = Job::Expire {};
        svc.queue
            .send(job.queue(), &job.to_bytes(), Duration::ZERO)
            .await?;
    }
    info!(
        minutes = report.minutes,
        messages = report.messages,
        expired = report.expired,
        cursor = cursor.minute,
        more = report.more,
        "expire run done"
    );
    Ok(report)
}

/// The last minute that ended at least [`SAFETY_MARGIN`] ago.
fn last_closed_minute(now: Timestamp) -> i64 {
    unix_minute(now.minus(SAFETY_MARGIN)) - 1
}

fn store_error(e: StoreError) -> HandlerError {
    HandlerError::Transient(e.to_string())
}

fn encode(c: &Cursor) -> Vec<u8> {
    serde_json::to_vec(c).unwrap_or_default()
}

/// Takes the lease: the cursor and its version, or `None` when another run holds it.
async fn acquire(
    svc: &Services,
    now: Timestamp,
    lease: Duration,
) -> Result<Option<(Cursor, Version)>, HandlerError> {
    let key = expire_cursor_key();
    let lease_until = Some(now.plus(lease));
    for _ in 0..2 {
        let Some(item) = svc.state.get(&key).await.map_err(store_error)? else {
            let retention = Duration::from_secs(svc.config.mmsc.retention_secs);
            let horizon = BOOTSTRAP_HORIZON.min(retention);
            let cursor = Cursor {
                minute: unix_minute(now.minus(horizon)) - 1,
                lease_until,
            };
            match svc.state.create(&key, &encode(&cursor), None).await {
                Ok(v) => {
                    info!(
                        minute = cursor.minute,
                        "no expire cursor yet: starting one horizon back"
                    );
                    return Ok(Some((cursor, v)));
                }
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(store_error(e)),
            }
        };
        let mut cursor = match serde_json::from_slice::<Cursor>(&item.value) {
            Ok(c) => c,
            Err(e) => {
                // Not worth stopping expiry for: start over one horizon back.
                error!(error = %e, "unreadable expire cursor; replacing it");
                let horizon =
                    BOOTSTRAP_HORIZON.min(Duration::from_secs(svc.config.mmsc.retention_secs));
                Cursor {
                    minute: unix_minute(now.minus(horizon)) - 1,
                    lease_until: None,
                }
            }
        };
        if cursor.lease_until.is_some_and(|t| t > now) {
            return Ok(None);
        }
        cursor.lease_until = lease_until;
        return match svc
            .state
            .update(&key, item.version, &encode(&cursor), None)
            .await
        {
            Ok(v) => Ok(Some((cursor, v))),
            Err(e) if e.is_conflict() => Ok(None),
            Err(e) => Err(store_error(e)),
        };
    }
    Ok(None)
}

#[derive(Debug, thiserror::Error)]
enum Saved {
    /// Someone else wrote the cursor: our lease is gone.
    #[error("the cursor moved: another run took the lease over")]
    Lost,
    #[error(transparent)]
    Failed(HandlerError),
}

async fn save(svc: &Services, cursor: &Cursor, version: Version) -> Result<Version, Saved> {
    match svc
        .state
        .update(&expire_cursor_key(), version, &encode(cursor), None)
        .await
    {
        Ok(v) => Ok(v),
        Err(e) if e.is_conflict() => Err(Saved::Lost),
        Err(e) => Err(Saved::Failed(store_error(e))),
    }
}

/// Walks the closed minutes after the cursor within the limits.
async fn walk(
    svc: &Services,
    limits: Limits,
    started: Timestamp,
    cursor: &mut Cursor,
    version: &mut Version,
    report: &mut Report,
) -> Result<(), HandlerError> {
    let last = last_closed_minute(started);
    let mut minute = cursor.minute + 1;
    while minute <= last {
        if report.minutes >= limits.minutes || out_of_budget(svc, limits, started, report) {
            report.more = true;
            return Ok(());
        }
        if !expire_minute(svc, limits, started, minute, report).await? {
            report.more = true;
            return Ok(());
        }
        cursor.minute = minute;
        *version = match save(svc, cursor, *version).await {
            Ok(v) => v,
            Err(Saved::Lost) => {
                report.busy = true;
                return Ok(());
            }
            Err(Saved::Failed(e)) => return Err(e),
        };
        report.minutes += 1;
        minute += 1;
    }
    Ok(())
}

fn out_of_budget(svc: &Services, limits: Limits, started: Timestamp, report: &Report) -> bool {
    report.messages >= limits.messages || svc.clock.now().since(started) >= limits.time
}

/// Expires the messages of one minute. `Ok(false)`: the budget ran out first (the
/// entries done are deleted; the rest wait for the next run).
async fn expire_minute(
    svc: &Services,
    limits: Limits,
    started: Timestamp,
    minute: i64,
    report: &mut Report,
) -> Result<bool, HandlerError> {
    let records = svc.records();
    let mut failed = None;
    for shard in 0..EXPIRY_SHARDS {
        for indexed in records.expiring(minute, shard).await? {
            if out_of_budget(svc, limits, started, report) {
                return Ok(false);
            }
            let (key, entry) = match indexed {
                IndexedExpiry::Entry { key, entry } => (key, entry),
                IndexedExpiry::Unreadable { key, error } => {
                    error!(pk = %key.pk, sk = %key.sk, %error, "unreadable expiry index entry; dropped");
                    records.remove_expiry(&key).await?;
                    continue;
                }
            };
            report.messages += 1;
            let span = info_span!("expire", message_id = %entry.message_id);
            match expire_message(svc, &records, &entry.message_id, &key)
                .instrument(span)
                .await
            {
                Ok(n) => {
                    report.expired += n;
                    records.remove_expiry(&key).await?;
                }
                Err(HandlerError::Permanent(why)) => {
                    // Nothing a later run could do better (a corrupt record).
                    error!(message_id = %entry.message_id, error = %why, "cannot expire message; index entry dropped");
                    records.remove_expiry(&key).await?;
                }
                Err(e) => {
                    // Keep the entry (and the cursor) for the next attempt; go on with
                    // the others meanwhile.
                    warn!(message_id = %entry.message_id, error = %e, "expiring the message failed; will retry");
                    failed.get_or_insert(e);
                }
            }
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(true),
    }
}

/// Expires what is still in flight of one message; returns how many recipients it
/// moved to `expired`.
async fn expire_message(
    svc: &Services,
    records: &Records<'_>,
    id: &MessageId,
    key: &Key,
) -> Result<u32, HandlerError> {
    let Some(view) = records.load(id).await? else {
        debug!("message records are gone; nothing to expire");
        return Ok(0);
    };
    let expiry = records.expiry_of(&view.message);
    if expiry > svc.clock.now() {
        // Filed under a minute before its expiry: file it under its own.
        let refiled = records.index_expiry(&view.message).await?;
        warn!(from = %key.pk, to = %refiled.pk, "expiry index entry ahead of the message's expiry; refiled");
        return Ok(0);
    }
    let mut expired = 0;
    for r in &view.recipients {
        if r.state.is_terminal() || r.state == RecipientState::Retrieved {
            // Final already: make sure its charge was settled (a no-op unless a
            // settlement was lost).
            if let Some(outcome) = crate::charging::outcome_of_state(r.state) {
                crate::charging::settle(svc, id, r.index, outcome).await?;
            }
            continue;
        }
        info!(recipient = r.index, state = %r.state, %expiry, "recipient not delivered before expiry");
        ingest::recipient_event(svc, id, r.index, RecipientState::Expired, Some(REASON)).await?;
        expired += 1;
    }
    records.refresh_state(id).await?;
    Ok(expired)
}

/// The embedded backend's stand-in for the EventBridge schedule: puts an `expire`
/// job on the `expire` queue at once and then every `every`, until `shutdown`
/// turns true. A tick is skipped while an `expire` job is waiting or running (a
/// slow run, or catch-up that queues its own next job).
pub async fn tick(queue: Arc<dyn Queue>, every: Duration, mut shutdown: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    info!(every = ?every, "expire schedule running");
    while !*shutdown.borrow() {
        tokio::select! {
            _ = interval.tick() => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    return; // the sender is gone: stop as for a shutdown
                }
                continue;
            }
        }
        match queue.depth(queues::EXPIRE).await {
            Ok(n) if n > 0 => {
                debug!(waiting = n, "an expire job is pending; tick skipped");
                continue;
            }
            Ok(_) => {}
            Err(e) => warn!(error = %e, "expire queue depth unknown; queueing a tick anyway"),
        }
        let job = Job::Expire {};
        if let Err(e) = queue
            .send(job.queue(), &job.to_bytes(), Duration::ZERO)
            .await
        {
            warn!(error = %e, "could not queue the expire tick; trying again next time");
        }
    }
}

#[cfg(test)]
mod tests;
