//! Messages, recipients and their state machines.

use super::{Address, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Our own message id: 32 lowercase hex digits, unguessable (UUID v4).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub String);

impl MessageId {
    pub fn generate() -> Self {
        MessageId(uuid::Uuid::new_v4().simple().to_string())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// True when `s` has the shape of one of our ids (used by `mmsc trace` to decide
    /// whether an argument is ours or a peer's id).
    pub fn looks_like(s: &str) -> bool {
        s.len() == 32
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which interface and which peer a message came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "interface", rename_all = "lowercase")]
pub enum Origin {
    Mm4 { partner: String },
    Mm7 { vasp: String },
    Mm1 { msisdn: String },
}

impl Origin {
    pub fn peer(&self) -> &str {
        match self {
            Origin::Mm4 { partner } => partner,
            Origin::Mm7 { vasp } => vasp,
            Origin::Mm1 { msisdn } => msisdn,
        }
    }
}

/// Where a recipient is delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "lowercase")]
pub enum Direction {
    /// A local subscriber, delivered over MM1.
    Local,
    /// Another operator, over MM4.
    Mm4 { partner: String },
    /// A content provider, over MM7.
    Mm7 { vasp: String },
}

/// State of one recipient of one message.
///
/// ```text
/// accepted -> routed -> forwarded -> delivered
///                    \-> notified -> retrieved -> delivered
/// any non-terminal -> rejected | expired | failed
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientState {
    Accepted,
    Routed,
    /// Handed to another MMSC or a VASP (MM4 / MM7).
    Forwarded,
    /// The handset was notified (MM1 m-notification.ind).
    Notified,
    /// The handset fetched the content.
    Retrieved,
    /// End-to-end evidence of delivery (acknowledgement or delivery report).
    Delivered,
    Rejected,
    Expired,
    Failed,
}

impl RecipientState {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RecipientState::Delivered
                | RecipientState::Rejected
                | RecipientState::Expired
                | RecipientState::Failed
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RecipientState::Accepted => "accepted",
            RecipientState::Routed => "routed",
            RecipientState::Forwarded => "forwarded",
            RecipientState::Notified => "notified",
            RecipientState::Retrieved => "retrieved",
            RecipientState::Delivered => "delivered",
            RecipientState::Rejected => "rejected",
            RecipientState::Expired => "expired",
            RecipientState::Failed => "failed",
        }
    }

    /// Whether `self -> to` is a legal move. Staying in the same non-terminal state is
    /// allowed (a re-notification, a repeated acknowledgement).
    pub fn can_move_to(self, to: RecipientState) -> bool {
        use RecipientState::*;
        if self.is_terminal() {
            return false;
        }
        if self == to {
            return true;
        }
        matches!(
            (self, to),
            (_, Rejected | Expired | Failed)
                | (Accepted, Routed)
                | (Routed, Forwarded | Notified | Delivered | Retrieved)
                | (Forwarded, Delivered | Retrieved)
                | (Notified, Retrieved | Delivered)
                | (Retrieved, Delivered)
        )
    }

    pub fn transition(self, to: RecipientState) -> Result<RecipientState, TransitionError> {
        if self.can_move_to(to) {
            Ok(to)
        } else {
            Err(TransitionError { from: self, to })
        }
    }
}

impl fmt::Display for RecipientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("illegal recipient state change {from} -> {to}")]
pub struct TransitionError {
    pub from: RecipientState,
    pub to: RecipientState,
}

/// Aggregate state of a message, derived from its recipients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    /// Parsed and recorded; recipients not yet all routed.
    Accepted,
    /// Every recipient has a route; some are still in flight.
    InProgress,
    /// Every recipient reached a terminal state.
    Completed,
    /// The whole message was refused (no recipient could be accepted).
    Rejected,
}

impl MessageState {
    pub fn from_recipients<'a>(states: impl IntoIterator<Item = &'a RecipientState>) -> Self {
        let mut any = false;
        let mut all_terminal = true;
        let mut all_rejected = true;
        let mut any_accepted = false;
        for s in states {
            any = true;
            all_terminal &= s.is_terminal();
            all_rejected &= *s == RecipientState::Rejected;
            any_accepted |= *s == RecipientState::Accepted;
        }
        match (any, all_rejected, all_terminal, any_accepted) {
            (false, _, _, _) => MessageState::Accepted,
            (true, true, _, _) => MessageState::Rejected,
            (true, false, true, _) => MessageState::Completed,
            (true, false, false, true) => MessageState::Accepted,
            _ => MessageState::InProgress,
        }
    }
}

/// The record of one message (partition `msg#<id>`, sort key `meta`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub id: MessageId,
    pub origin: Origin,
    /// The originating MMSC's / VASP's message id (MM4 `X-Mms-Message-ID`), if any.
    pub peer_message_id: Option<String>,
    /// The peer's transaction id (MM4 `X-Mms-Transaction-ID`, MM7 `TransactionID`).
    pub peer_transaction_id: Option<String>,
    pub from: Address,
    pub subject: Option<String>,
    /// Object store key of the raw PDU as received.
    pub content_key: String,
    pub content_type: Option<String>,
    pub size: u64,
    pub received_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub delivery_report: bool,
    pub read_report: bool,
    pub state: MessageState,
    pub recipient_count: u32,
}

/// One recipient of one message (partition `msg#<id>`, sort key `rcpt#<index>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecipientRecord {
    pub message_id: MessageId,
    pub index: u32,
    pub address: Address,
    pub state: RecipientState,
    pub direction: Option<Direction>,
    /// Why the recipient is in its state (a route name, an error, a peer's status).
    pub reason: Option<String>,
    /// Transaction id we used towards the next hop, for `.RES` correlation.
    pub our_transaction_id: Option<String>,
    pub attempts: u32,
    pub updated_at: Timestamp,
}

impl RecipientRecord {
    /// Recipient `index` of message `message_id`, just accepted (not yet routed).
    pub fn accepted(message_id: &MessageId, index: u32, address: Address, now: Timestamp) -> Self {
        RecipientRecord {
            message_id: message_id.clone(),
            index,
            address,
            state: RecipientState::Accepted,
            direction: None,
            reason: None,
            our_transaction_id: None,
            attempts: 0,
            updated_at: now,
        }
    }

    /// Applies a state change, keeping the reason and time; refuses illegal moves.
    pub fn advance(
        &mut self,
        to: RecipientState,
        reason: Option<String>,
        at: Timestamp,
    ) -> Result<(), TransitionError> {
        self.state = self.state.transition(to)?;
        if reason.is_some() {
            self.reason = reason;
        }
        self.updated_at = at;
        Ok(())
    }
}

/// One entry of a message's timeline (partition `msg#<id>`, sort key
/// `event#<millis>#<n>`), shown by `mmsc trace`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    pub at: Timestamp,
    /// Short machine-readable kind: `received`, `routed`, `forwarded`, `ack-sent`, ...
    pub kind: String,
    pub recipient: Option<String>,
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::RecipientState::*;
    use super::*;

    #[test]
    fn follows_the_happy_paths() {
        for path in [
            &[Accepted, Routed, Forwarded, Delivered][..],
            &[Accepted, Routed, Notified, Retrieved, Delivered][..],
            &[Accepted, Routed, Notified, Notified, Retrieved][..],
        ] {
            let mut s = path[0];
            for &next in &path[1..] {
                s = s.transition(next).unwrap();
            }
        }
    }

    #[test]
    fn terminal_states_are_final() {
        for t in [Delivered, Rejected, Expired, Failed] {
            assert!(t.is_terminal());
            assert_eq!(
                t.transition(Routed),
                Err(TransitionError {
                    from: t,
                    to: Routed
                })
            );
            assert!(t.transition(t).is_err());
        }
    }

    #[test]
    fn refuses_skipping_backwards() {
        assert!(Forwarded.transition(Routed).is_err());
        assert!(Retrieved.transition(Notified).is_err());
        assert!(Accepted.transition(Forwarded).is_err());
        assert!(Accepted.transition(Failed).is_ok());
    }

    #[test]
    fn aggregates_message_state() {
        assert_eq!(
            MessageState::from_recipients(&[Rejected, Rejected]),
            MessageState::Rejected
        );
        assert_eq!(
            MessageState::from_recipients(&[Rejected, Delivered]),
            MessageState::Completed
        );
        assert_eq!(
            MessageState::from_recipients(&[Forwarded, Delivered]),
            MessageState::InProgress
        );
        assert_eq!(
            MessageState::from_recipients(&[Accepted, Delivered]),
            MessageState::Accepted
        );
        assert_eq!(MessageState::from_recipients(&[]), MessageState::Accepted);
    }

    #[test]
    fn message_ids_are_unique_and_recognisable() {
        let a = MessageId::generate();
        assert!(MessageId::looks_like(a.as_str()));
        assert_ne!(a, MessageId::generate());
        assert!(!MessageId::looks_like("148478240@mmsc.hub"));
    }
}
