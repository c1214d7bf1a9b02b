//! The state-store layout, in one place. Every record of a message lives in the
//! partition `msg#<id>` (one query loads it all; on DynamoDB one partition key):
//!
//! | sort key               | value             |
//! |------------------------|-------------------|
//! | `meta`                 | [`MessageRecord`] |
//! | `rcpt#<00000>`         | [`RecipientRecord`] |
//! | `event#<millis>#<rnd>` | [`EventRecord`]   |
//!
//! Lookups by other ids are small alias records `alias#<kind>#<value>` / `-` holding
//! the message id: peer Message-ID and Transaction-ID (for `mmsc trace`), our outbound
//! transaction ids (to correlate `.RES` and reports), and idempotency keys (dedup of a
//! partner's retransmitted request). Every record expires with the message plus the
//! retention period, so nothing needs a scan to clean up.
//!
//! The scheduled `expire` job finds messages by expiry without a scan, through an
//! index written with each message (see [`crate::handlers::expire`]):
//!
//! | partition                     | sort key                          | value          |
//! |-------------------------------|-----------------------------------|----------------|
//! | `expiry#<unix minute>#<00..15>` | `<expiry millis, 13 digits>#<id>` | [`ExpiryEntry`] |
//! | `expire`                      | `cursor`                          | the last minute fully expired, and a lease |
//!
//! The minute is the message's expiry (or, when that is already past on creation, the
//! current minute, so the entry is never behind the job's cursor); the shard is a
//! stable hash of the message id, so a burst of messages with one expiry does not
//! make one hot partition. Index entries expire with the message; the cursor never.

use crate::config::MmscConfig;
use crate::domain::{
    EventRecord, MessageId, MessageRecord, MessageState, RecipientRecord, Timestamp,
};
use crate::ports::{Clock, Item, Key, StateStore, StoreError, Version};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("corrupt record {pk}/{sk}: {error}")]
    Corrupt {
        pk: String,
        sk: String,
        error: String,
    },
    #[error("no message {0}")]
    NoSuchMessage(MessageId),
    #[error("message {0} has no recipient #{1}")]
    NoSuchRecipient(MessageId, u32),
    #[error("too much contention updating {0}")]
    Contention(String),
}

/// Kinds of alias records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliasKind {
    /// The originator's message id (`X-Mms-Message-ID`).
    PeerMessageId,
    /// A transaction id a peer used with us.
    PeerTransaction,
    /// A transaction id we used towards a partner (`.RES` correlation).
    OurTransaction,
    /// Idempotency key of an inbound request: `<interface>#<peer>#<transaction id>`.
    Dedup,
}

impl AliasKind {
    fn tag(self) -> &'static str {
        match self {
            AliasKind::PeerMessageId => "peer-msgid",
            AliasKind::PeerTransaction => "peer-txn",
            AliasKind::OurTransaction => "our-txn",
            AliasKind::Dedup => "dedup",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AliasRecord {
    pub message_id: MessageId,
    /// Recipient indexes the alias concerns (our outbound transaction ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<u32>,
}

/// Result of claiming an idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// First time: the caller owns the work.
    New,
    /// Seen before, for this message.
    Existing(AliasRecord),
}

/// Everything stored about one message.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageView {
    pub message: MessageRecord,
    pub recipients: Vec<RecipientRecord>,
    pub events: Vec<EventRecord>,
}

/// Typed access to the state store.
pub struct Records<'a> {
    pub state: &'a dyn StateStore,
    pub clock: &'a dyn Clock,
    /// How long records live past the message's expiry.
    pub retention: Duration,
    /// Expiry of a message that has none (`mmsc.default_expiry_secs`).
    pub default_expiry: Duration,
}

/// Shards of the expiry index per minute (partitions `expiry#<minute>#00` to `#15`).
pub const EXPIRY_SHARDS: u32 = 16;

/// One entry of the expiry index: message `message_id` expires at `expires_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpiryEntry {
    pub message_id: MessageId,
    pub expires_at: Timestamp,
}

/// What an expiry index partition holds.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexedExpiry {
    Entry {
        key: Key,
        entry: ExpiryEntry,
    },
    /// An entry that does not decode (the caller logs and drops it).
    Unreadable {
        key: Key,
        error: String,
    },
}

/// The minute (since the Unix epoch) `t` falls in.
pub fn unix_minute(t: Timestamp) -> i64 {
    t.millis().div_euclid(60_000)
}

/// The shard of the expiry index a message's entry lives in: the 32-bit FNV-1a hash
/// of the id (the same across builds and platforms), scaled to the shard count by
/// its high bits (FNV's low bits mix poorly).
pub fn expiry_shard(id: &MessageId) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in id.as_str().bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    ((u64::from(h) * u64::from(EXPIRY_SHARDS)) >> 32) as u32
}

pub fn expiry_pk(minute: i64, shard: u32) -> String {
    format!("expiry#{minute}#{shard:02}")
}

/// The key of a message's expiry index entry, filed under `minute`.
pub fn expiry_key(minute: i64, expires_at: Timestamp, id: &MessageId) -> Key {
    Key::new(
        expiry_pk(minute, expiry_shard(id)),
        format!("{:013}#{id}", expires_at.millis().max(0)),
    )
}

/// Where the `expire` job keeps its progress.
pub fn expire_cursor_key() -> Key {
    Key::new("expire", "cursor")
}

const CAS_ATTEMPTS: usize = 16;

pub fn message_pk(id: &MessageId) -> String {
    format!("msg#{id}")
}

fn rcpt_sk(index: u32) -> String {
    format!("rcpt#{index:05}")
}

fn alias_key(kind: AliasKind, value: &str) -> Key {
    Key::new(format!("alias#{}#{value}", kind.tag()), "-")
}

fn decode<T: DeserializeOwned>(item: &Item) -> Result<T, RecordError> {
    serde_json::from_slice(&item.value).map_err(|e| RecordError::Corrupt {
        pk: item.key.pk.clone(),
        sk: item.key.sk.clone(),
        error: e.to_string(),
    })
}

fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

impl<'a> Records<'a> {
    pub fn new(state: &'a dyn StateStore, clock: &'a dyn Clock, retention: Duration) -> Self {
        Records {
            state,
            clock,
            retention,
            default_expiry: Duration::from_secs(MmscConfig::default().default_expiry_secs),
        }
    }

    /// The same, with the configured expiry of messages that carry none.
    pub fn with_default_expiry(self, default_expiry: Duration) -> Self {
        Records {
            default_expiry,
            ..self
        }
    }

    /// When a message expires: its own expiry, or the default after its receipt.
    pub fn expiry_of(&self, msg: &MessageRecord) -> Timestamp {
        msg.expires_at
            .unwrap_or_else(|| msg.received_at.plus(self.default_expiry))
    }

    /// Expiry of every record of a message.
    pub fn ttl_for(&self, msg: &MessageRecord) -> Timestamp {
        msg.expires_at
            .unwrap_or(msg.received_at)
            .plus(self.retention)
    }

    /// Writes a new message with its recipients and its expiry index entry (the
    /// message record last, so a reader that sees `meta` sees the recipients too).
    /// Re-running it after a crash overwrites the same records with the same content.
    pub async fn create_message(
        &self,
        msg: &MessageRecord,
        recipients: &[RecipientRecord],
    ) -> Result<(), RecordError> {
        let pk = message_pk(&msg.id);
        let ttl = Some(self.ttl_for(msg));
        for r in recipients {
            self.state
                .put(&Key::new(&pk, rcpt_sk(r.index)), &encode(r), ttl)
                .await?;
        }
        self.index_expiry(msg).await?;
        self.state
            .put(&Key::new(&pk, "meta"), &encode(msg), ttl)
            .await?;
        Ok(())
    }

    /// Files the message in the expiry index under the minute of its expiry, or the
    /// current minute when that has passed already (the `expire` job only reads
    /// minutes that are over, so an entry is never filed behind its cursor).
    pub async fn index_expiry(&self, msg: &MessageRecord) -> Result<Key, RecordError> {
        let expires_at = self.expiry_of(msg);
        let minute = unix_minute(expires_at).max(unix_minute(self.clock.now()));
        let key = expiry_key(minute, expires_at, &msg.id);
        let entry = ExpiryEntry {
            message_id: msg.id.clone(),
            expires_at,
        };
        self.state
            .put(&key, &encode(&entry), Some(self.ttl_for(msg)))
            .await?;
        Ok(key)
    }

    /// The expiry index entries of one minute and shard, in expiry order.
    pub async fn expiring(
        &self,
        minute: i64,
        shard: u32,
    ) -> Result<Vec<IndexedExpiry>, RecordError> {
        let items = self.state.query(&expiry_pk(minute, shard)).await?;
        Ok(items
            .iter()
            .map(|item| match decode::<ExpiryEntry>(item) {
                Ok(entry) => IndexedExpiry::Entry {
                    key: item.key.clone(),
                    entry,
                },
                Err(e) => IndexedExpiry::Unreadable {
                    key: item.key.clone(),
                    error: e.to_string(),
                },
            })
            .collect())
    }

    /// Removes an expiry index entry (done with, or unreadable).
    pub async fn remove_expiry(&self, key: &Key) -> Result<(), RecordError> {
        self.state.delete(key).await?;
        Ok(())
    }

    pub async fn message(
        &self,
        id: &MessageId,
    ) -> Result<Option<(MessageRecord, Version)>, RecordError> {
        match self.state.get(&Key::new(message_pk(id), "meta")).await? {
            Some(item) => Ok(Some((decode(&item)?, item.version))),
            None => Ok(None),
        }
    }

    pub async fn recipient(
        &self,
        id: &MessageId,
        index: u32,
    ) -> Result<Option<RecipientRecord>, RecordError> {
        match self
            .state
            .get(&Key::new(message_pk(id), rcpt_sk(index)))
            .await?
        {
            Some(item) => Ok(Some(decode(&item)?)),
            None => Ok(None),
        }
    }

    /// The message, its recipients and its timeline in one query.
    pub async fn load(&self, id: &MessageId) -> Result<Option<MessageView>, RecordError> {
        let items = self.state.query(&message_pk(id)).await?;
        let mut message = None;
        let mut recipients = Vec::new();
        let mut events = Vec::new();
        for item in &items {
            if item.key.sk == "meta" {
                message = Some(decode::<MessageRecord>(item)?);
            } else if item.key.sk.starts_with("rcpt#") {
                recipients.push(decode::<RecipientRecord>(item)?);
            } else if item.key.sk.starts_with("event#") {
                events.push(decode::<EventRecord>(item)?);
            }
        }
        Ok(message.map(|message| MessageView {
            message,
            recipients,
            events,
        }))
    }

    /// Read-modify-write of one recipient with compare-and-set. `f` returns `false`
    /// to leave the record unchanged (an idempotent repeat). Returns the record as
    /// stored afterwards and whether `f` changed it.
    pub async fn update_recipient<E>(
        &self,
        msg: &MessageRecord,
        index: u32,
        mut f: impl FnMut(&mut RecipientRecord) -> Result<bool, E>,
    ) -> Result<Result<(RecipientRecord, bool), E>, RecordError> {
        let key = Key::new(message_pk(&msg.id), rcpt_sk(index));
        for _ in 0..CAS_ATTEMPTS {
            let item = self
                .state
                .get(&key)
                .await?
                .ok_or_else(|| RecordError::NoSuchRecipient(msg.id.clone(), index))?;
            let mut rec: RecipientRecord = decode(&item)?;
            match f(&mut rec) {
                Err(e) => return Ok(Err(e)),
                Ok(false) => return Ok(Ok((rec, false))),
                Ok(true) => {}
            }
            rec.updated_at = self.clock.now();
            match self
                .state
                .update(&key, item.version, &encode(&rec), Some(self.ttl_for(msg)))
                .await
            {
                Ok(_) => return Ok(Ok((rec, true))),
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(RecordError::Contention(format!("{}/{}", key.pk, key.sk)))
    }

    /// Recomputes the message's aggregate state from its recipients and stores it if
    /// it changed.
    pub async fn refresh_state(&self, id: &MessageId) -> Result<Option<MessageState>, RecordError> {
        for _ in 0..CAS_ATTEMPTS {
            let Some(view) = self.load(id).await? else {
                return Ok(None);
            };
            let Some((mut msg, version)) = self.message(id).await? else {
                return Ok(None);
            };
            let state = MessageState::from_recipients(view.recipients.iter().map(|r| &r.state));
            if msg.state == state {
                return Ok(Some(state));
            }
            msg.state = state;
            let key = Key::new(message_pk(id), "meta");
            match self
                .state
                .update(&key, version, &encode(&msg), Some(self.ttl_for(&msg)))
                .await
            {
                Ok(_) => return Ok(Some(state)),
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(RecordError::Contention(format!("msg#{id}/meta")))
    }

    /// Appends to the message's timeline.
    pub async fn event(
        &self,
        msg: &MessageRecord,
        kind: &str,
        recipient: Option<String>,
        detail: impl Into<String>,
    ) -> Result<(), RecordError> {
        let rnd = uuid::Uuid::new_v4().as_u128() as u32;
        let tag = format!("{rnd:08x}");
        self.put_event(msg, self.clock.now(), &tag, kind, recipient, detail.into())
            .await
    }

    /// Records an event that a handler may write again when its job is redelivered
    /// (a crash before the handler finished): the key is made of `at` and `tag`, so a
    /// second write replaces the first instead of adding a twin. For what happens on
    /// receipt, before the message record is created.
    pub async fn event_once(
        &self,
        msg: &MessageRecord,
        kind: &str,
        tag: &str,
        at: Timestamp,
        detail: impl Into<String>,
    ) -> Result<(), RecordError> {
        self.put_event(msg, at, tag, kind, None, detail.into())
            .await
    }

    async fn put_event(
        &self,
        msg: &MessageRecord,
        at: Timestamp,
        tag: &str,
        kind: &str,
        recipient: Option<String>,
        detail: String,
    ) -> Result<(), RecordError> {
        let key = Key::new(
            message_pk(&msg.id),
            format!("event#{:013}#{tag}", at.millis().max(0)),
        );
        let ev = EventRecord {
            at,
            kind: kind.to_string(),
            recipient,
            detail,
        };
        self.state
            .put(&key, &encode(&ev), Some(self.ttl_for(msg)))
            .await?;
        Ok(())
    }

    /// Claims an alias/idempotency key for a message: `New` when this call created
    /// it, `Existing` when it was there already.
    pub async fn claim(
        &self,
        kind: AliasKind,
        value: &str,
        alias: &AliasRecord,
        expires_at: Timestamp,
    ) -> Result<Claim, RecordError> {
        let key = alias_key(kind, value);
        match self
            .state
            .create(&key, &encode(alias), Some(expires_at))
            .await
        {
            Ok(_) => Ok(Claim::New),
            Err(e) if e.is_conflict() => match self.state.get(&key).await? {
                Some(item) => Ok(Claim::Existing(decode(&item)?)),
                // It expired between the two calls: try once more.
                None => {
                    self.state
                        .create(&key, &encode(alias), Some(expires_at))
                        .await?;
                    Ok(Claim::New)
                }
            },
            Err(e) => Err(e.into()),
        }
    }

    /// Files a transaction id we sent (`.REQ` to a partner) under its message and the
    /// recipients it is about, so the partner's `.RES` finds them; kept as long as the
    /// message.
    pub async fn note_our_transaction(
        &self,
        txid: &str,
        msg: &MessageRecord,
        recipients: Vec<u32>,
    ) -> Result<(), RecordError> {
        let alias = AliasRecord {
            message_id: msg.id.clone(),
            recipients,
        };
        self.set_alias(AliasKind::OurTransaction, txid, &alias, self.ttl_for(msg))
            .await
    }

    /// Sets an alias unconditionally (lookups for `mmsc trace`, correlation).
    pub async fn set_alias(
        &self,
        kind: AliasKind,
        value: &str,
        alias: &AliasRecord,
        expires_at: Timestamp,
    ) -> Result<(), RecordError> {
        self.state
            .put(&alias_key(kind, value), &encode(alias), Some(expires_at))
            .await?;
        Ok(())
    }

    pub async fn alias(
        &self,
        kind: AliasKind,
        value: &str,
    ) -> Result<Option<AliasRecord>, RecordError> {
        match self.state.get(&alias_key(kind, value)).await? {
            Some(item) => Ok(Some(decode(&item)?)),
            None => Ok(None),
        }
    }

    /// Finds a message by our id, the originator's Message-ID or a Transaction-ID
    /// (ours or a peer's). Quotes and angle brackets around the id are ignored.
    pub async fn resolve(&self, any_id: &str) -> Result<Option<MessageId>, RecordError> {
        let id = any_id
            .trim()
            .trim_matches(|c| c == '"' || c == '<' || c == '>');
        if MessageId::looks_like(id) {
            let mid = MessageId(id.to_string());
            if self.message(&mid).await?.is_some() {
                return Ok(Some(mid));
            }
        }
        for kind in [
            AliasKind::PeerMessageId,
            AliasKind::PeerTransaction,
            AliasKind::OurTransaction,
        ] {
            if let Some(a) = self.alias(kind, id).await? {
                return Ok(Some(a.message_id));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Address, Origin, RecipientState};
    use crate::ports::ManualClock;
    use crate::test_support::MemoryState;
    use std::sync::Arc;

    fn msg() -> MessageRecord {
        MessageRecord {
            id: MessageId::generate(),
            origin: Origin::Mm4 {
                partner: "p".into(),
            },
            peer_message_id: Some("148478240@mmsc.hub".into()),
            peer_transaction_id: Some("t-1".into()),
            from: Address::parse("+447779998888").unwrap(),
            subject: None,
            content_key: "in/x.eml".into(),
            content_type: None,
            size: 10,
            received_at: Timestamp(1_000),
            expires_at: None,
            delivery_report: false,
            read_report: false,
            state: MessageState::Accepted,
            recipient_count: 1,
        }
    }

    fn rcpt(m: &MessageRecord) -> RecipientRecord {
        RecipientRecord {
            message_id: m.id.clone(),
            index: 0,
            address: Address::parse("+447778889999").unwrap(),
            state: RecipientState::Accepted,
            direction: None,
            reason: None,
            our_transaction_id: None,
            attempts: 0,
            updated_at: Timestamp(1_000),
        }
    }

    #[tokio::test]
    async fn stores_loads_and_resolves_a_message() {
        let clock = Arc::new(ManualClock::new(Timestamp(1_000)));
        let state = MemoryState::with_clock(clock.clone());
        let r = Records::new(&state, clock.as_ref(), Duration::from_secs(3600));
        let m = msg();
        r.create_message(&m, &[rcpt(&m)]).await.unwrap();
        r.event(&m, "received", None, "from p").await.unwrap();
        let ttl = r.ttl_for(&m);
        let alias = AliasRecord {
            message_id: m.id.clone(),
            recipients: vec![],
        };
        r.set_alias(AliasKind::PeerMessageId, "148478240@mmsc.hub", &alias, ttl)
            .await
            .unwrap();
        let v = r.load(&m.id).await.unwrap().unwrap();
        assert_eq!(v.message, m);
        assert_eq!(v.recipients.len(), 1);
        assert_eq!(v.events[0].kind, "received");
        assert_eq!(
            r.resolve("\"148478240@mmsc.hub\"").await.unwrap(),
            Some(m.id.clone())
        );
        assert_eq!(r.resolve(m.id.as_str()).await.unwrap(), Some(m.id.clone()));
        assert_eq!(r.resolve("nope").await.unwrap(), None);
    }

    #[tokio::test]
    async fn updates_recipients_and_aggregate_state() {
        let clock = Arc::new(ManualClock::new(Timestamp(1_000)));
        let state = MemoryState::with_clock(clock.clone());
        let r = Records::new(&state, clock.as_ref(), Duration::from_secs(3600));
        let m = msg();
        r.create_message(&m, &[rcpt(&m)]).await.unwrap();
        let out = r
            .update_recipient(&m, 0, |rec| {
                rec.advance(RecipientState::Routed, None, Timestamp(2))
                    .map(|_| true)
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(out.0.state, RecipientState::Routed);
        let bad = r
            .update_recipient(&m, 0, |rec| {
                rec.advance(RecipientState::Accepted, None, Timestamp(3))
                    .map(|_| true)
            })
            .await
            .unwrap();
        assert!(bad.is_err());
        r.update_recipient(&m, 0, |rec| {
            rec.advance(RecipientState::Failed, None, Timestamp(3))
                .map(|_| true)
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            r.refresh_state(&m.id).await.unwrap(),
            Some(MessageState::Completed)
        );
        assert!(matches!(
            r.update_recipient(&m, 7, |_| Ok::<bool, ()>(true)).await,
            Err(RecordError::NoSuchRecipient(_, 7))
        ));
    }

    #[tokio::test]
    async fn create_message_files_the_message_in_the_expiry_index() {
        let now = Timestamp(1_700_000_000_000);
        let clock = Arc::new(ManualClock::new(now));
        let state = MemoryState::with_clock(clock.clone());
        let r = Records::new(&state, clock.as_ref(), Duration::from_secs(3600))
            .with_default_expiry(Duration::from_secs(600));
        // An expiry of its own, in the future: filed under that minute.
        let mut m = msg();
        m.received_at = now;
        m.expires_at = Some(Timestamp(1_700_000_123_456));
        r.create_message(&m, &[rcpt(&m)]).await.unwrap();
        let shard = expiry_shard(&m.id);
        let key = Key::new(
            format!("expiry#{}#{shard:02}", 1_700_000_123_456i64 / 60_000),
            format!("1700000123456#{}", m.id),
        );
        let item = state.get(&key).await.unwrap().expect("index entry");
        assert_eq!(item.expires_at, Some(r.ttl_for(&m)));
        assert_eq!(
            serde_json::from_slice::<ExpiryEntry>(&item.value).unwrap(),
            ExpiryEntry {
                message_id: m.id.clone(),
                expires_at: Timestamp(1_700_000_123_456),
            }
        );
        let listed = r.expiring(1_700_000_123_456 / 60_000, shard).await.unwrap();
        assert_eq!(
            listed,
            vec![IndexedExpiry::Entry {
                key: key.clone(),
                entry: ExpiryEntry {
                    message_id: m.id.clone(),
                    expires_at: Timestamp(1_700_000_123_456),
                },
            }]
        );
        // No expiry: received_at plus the default.
        let mut d = msg();
        d.received_at = now;
        d.expires_at = None;
        r.create_message(&d, &[rcpt(&d)]).await.unwrap();
        let at = now.plus(Duration::from_secs(600));
        assert_eq!(r.expiry_of(&d), at);
        let key = expiry_key(unix_minute(at), at, &d.id);
        assert_eq!(
            key.pk,
            format!("expiry#{}#{:02}", unix_minute(at), expiry_shard(&d.id))
        );
        assert!(state.get(&key).await.unwrap().is_some());
        // Expired already: filed under the current minute, with its own expiry.
        let mut late = msg();
        late.received_at = now;
        let past = Timestamp(1_699_999_880_000);
        late.expires_at = Some(past);
        r.create_message(&late, &[rcpt(&late)]).await.unwrap();
        let key = expiry_key(unix_minute(now), past, &late.id);
        assert_eq!(
            key.pk,
            format!("expiry#28333333#{:02}", expiry_shard(&late.id))
        );
        assert_eq!(key.sk, format!("1699999880000#{}", late.id));
        assert!(state.get(&key).await.unwrap().is_some());
        r.remove_expiry(&key).await.unwrap();
        assert!(state.get(&key).await.unwrap().is_none());
    }

    #[test]
    fn expiry_shards_are_stable_and_spread() {
        // Pinned: entries written by one build are found by the next.
        assert_eq!(expiry_shard(&MessageId("0".repeat(32))), 15);
        assert_eq!(expiry_shard(&MessageId("f".repeat(32))), 14);
        assert_eq!(
            expiry_shard(&MessageId("0123456789abcdef0123456789abcdef".into())),
            8
        );
        let mut seen = [0u32; EXPIRY_SHARDS as usize];
        for _ in 0..1600 {
            seen[expiry_shard(&MessageId::generate()) as usize] += 1;
        }
        assert!(seen.iter().all(|n| (50..=150).contains(n)), "{seen:?}");
    }

    #[tokio::test]
    async fn claims_idempotency_keys_once() {
        let clock = Arc::new(ManualClock::new(Timestamp(1_000)));
        let state = MemoryState::with_clock(clock.clone());
        let r = Records::new(&state, clock.as_ref(), Duration::from_secs(3600));
        let a = AliasRecord {
            message_id: MessageId::generate(),
            recipients: vec![],
        };
        let b = AliasRecord {
            message_id: MessageId::generate(),
            recipients: vec![],
        };
        assert_eq!(
            r.claim(AliasKind::Dedup, "mm4#p#t1", &a, Timestamp(9_999))
                .await
                .unwrap(),
            Claim::New
        );
        assert_eq!(
            r.claim(AliasKind::Dedup, "mm4#p#t1", &b, Timestamp(9_999))
                .await
                .unwrap(),
            Claim::Existing(a)
        );
    }
}
