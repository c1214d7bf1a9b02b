//! The job envelope: what travels on a queue. Jobs are small (keys, never content;
//! SQS caps a message at 256 KiB) and serialise as JSON.

use super::{MessageId, RecipientState, Timestamp};
use crate::ports::queues;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interface {
    Mm1,
    Mm4,
    Mm7,
}

/// The MM4 PDU an `mm4-out` job carries (already built and stored; this says what it
/// is so the outcome of the SMTP delivery can be recorded against the right records).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "pdu", rename_all = "snake_case")]
pub enum OutboundPdu {
    /// `MM4_forward.REQ` carrying recipients `recipients` of message `message_id`.
    ForwardReq {
        message_id: MessageId,
        recipients: Vec<u32>,
        transaction_id: String,
    },
    /// `MM4_forward.RES` answering a partner's request.
    ForwardRes {
        transaction_id: String,
        message_id: Option<MessageId>,
    },
    /// `MM4_delivery_report.REQ` about one of our recipients.
    DeliveryReportReq {
        transaction_id: String,
        message_id: Option<MessageId>,
    },
    /// `MM4_delivery_report.RES` answering a partner's report.
    DeliveryReportRes { transaction_id: String },
    /// `MM4_read_reply_report.REQ`.
    ReadReplyReq {
        transaction_id: String,
        message_id: Option<MessageId>,
    },
    /// `MM4_read_reply_report.RES`.
    ReadReplyRes { transaction_id: String },
}

impl OutboundPdu {
    pub fn transaction_id(&self) -> &str {
        match self {
            OutboundPdu::ForwardReq { transaction_id, .. }
            | OutboundPdu::ForwardRes { transaction_id, .. }
            | OutboundPdu::DeliveryReportReq { transaction_id, .. }
            | OutboundPdu::DeliveryReportRes { transaction_id }
            | OutboundPdu::ReadReplyReq { transaction_id, .. }
            | OutboundPdu::ReadReplyRes { transaction_id } => transaction_id,
        }
    }
    pub fn name(&self) -> &'static str {
        match self {
            OutboundPdu::ForwardReq { .. } => "MM4_forward.REQ",
            OutboundPdu::ForwardRes { .. } => "MM4_forward.RES",
            OutboundPdu::DeliveryReportReq { .. } => "MM4_delivery_report.REQ",
            OutboundPdu::DeliveryReportRes { .. } => "MM4_delivery_report.RES",
            OutboundPdu::ReadReplyReq { .. } => "MM4_read_reply_report.REQ",
            OutboundPdu::ReadReplyRes { .. } => "MM4_read_reply_report.RES",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "kebab-case")]
pub enum Job {
    /// A raw PDU a front stored at `object_key`; `ingest` parses, routes and records it.
    Ingest {
        interface: Interface,
        object_key: String,
        /// The authenticated peer: MM4 partner name, VASP id or MM1 MSISDN.
        peer: String,
        remote_addr: Option<String>,
        /// SMTP envelope (MM4 only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mail_from: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        rcpt_to: Vec<String>,
        received_at: Timestamp,
    },
    /// Send the stored MM4 PDU at `object_key` to `partner` over SMTP.
    Mm4Out {
        partner: String,
        object_key: String,
        mail_from: String,
        rcpt_to: Vec<String>,
        pdu: OutboundPdu,
    },
    /// Notify a local recipient over MM1 (WAP Push).
    Mm1Notify {
        message_id: MessageId,
        recipient: u32,
    },
    /// Push a stored MM1 PDU (m-delivery.ind, m-read-orig.ind) to a handset.
    Mm1Push {
        msisdn: String,
        object_key: String,
        message_id: MessageId,
    },
    /// Deliver to a VASP over MM7.
    Mm7Out {
        vasp: String,
        message_id: MessageId,
        recipient: u32,
    },
    /// POST the stored MM7 request at `object_key` (a `DeliveryReportReq` or
    /// `ReadReplyReq` we built) to VASP `vasp`'s report URL.
    Mm7Request {
        vasp: String,
        object_key: String,
        /// The message it concerns, for its timeline.
        message_id: Option<MessageId>,
        /// The operation (`DeliveryReportReq`, `ReadReplyReq`).
        operation: String,
    },
    /// A scheduled tick: expire undelivered messages (the `expire` queue).
    Expire {},
    /// A recipient's state changed outside a PDU we parse (local retrieval, an
    /// operator's action); handled by `ingest` so reports and charging follow.
    RecipientEvent {
        message_id: MessageId,
        recipient: u32,
        state: RecipientState,
        reason: Option<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("job is not valid JSON for this version: {0}")]
    Decode(#[from] serde_json::Error),
}

impl Job {
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
    pub fn from_bytes(b: &[u8]) -> Result<Self, JobError> {
        Ok(serde_json::from_slice(b)?)
    }
    /// The queue this job belongs on.
    pub fn queue(&self) -> &'static str {
        match self {
            Job::Ingest { .. } | Job::RecipientEvent { .. } => queues::INGEST,
            Job::Mm4Out { .. } => queues::MM4_OUT,
            Job::Mm1Notify { .. } | Job::Mm1Push { .. } => queues::MM1_NOTIFY,
            Job::Mm7Out { .. } | Job::Mm7Request { .. } => queues::MM7_OUT,
            Job::Expire {} => queues::EXPIRE,
        }
    }
    pub fn kind(&self) -> &'static str {
        match self {
            Job::Ingest { .. } => "ingest",
            Job::Mm4Out { .. } => "mm4-out",
            Job::Mm1Notify { .. } => "mm1-notify",
            Job::Mm1Push { .. } => "mm1-push",
            Job::Mm7Out { .. } => "mm7-out",
            Job::Mm7Request { .. } => "mm7-request",
            Job::RecipientEvent { .. } => "recipient-event",
            Job::Expire {} => "expire",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_round_trip_as_json() {
        let jobs = vec![
            Job::Ingest {
                interface: Interface::Mm4,
                object_key: "in/mm4/abc.eml".into(),
                peer: "partner-a".into(),
                remote_addr: Some("127.0.0.1:5000".into()),
                mail_from: Some("+447779998888/TYPE=PLMN@mms.oper.com".into()),
                rcpt_to: vec!["+447778889999/TYPE=PLMN@mms.domain.com".into()],
                received_at: Timestamp(1),
            },
            Job::Mm4Out {
                partner: "p".into(),
                object_key: "out/x.eml".into(),
                mail_from: "a@b".into(),
                rcpt_to: vec!["c@d".into()],
                pdu: OutboundPdu::ForwardReq {
                    message_id: MessageId("0".repeat(32)),
                    recipients: vec![0, 2],
                    transaction_id: "t1".into(),
                },
            },
            Job::RecipientEvent {
                message_id: MessageId("1".repeat(32)),
                recipient: 0,
                state: RecipientState::Retrieved,
                reason: None,
            },
        ];
        for job in jobs {
            let bytes = job.to_bytes();
            assert_eq!(Job::from_bytes(&bytes).unwrap(), job);
        }
    }

    #[test]
    fn routes_jobs_to_their_queues() {
        let j = Job::Mm1Notify {
            message_id: MessageId::generate(),
            recipient: 0,
        };
        assert_eq!(j.queue(), queues::MM1_NOTIFY);
    }

    #[test]
    fn rejects_unknown_job_kinds() {
        assert!(Job::from_bytes(br#"{"job":"launch-rockets"}"#).is_err());
        assert!(Job::from_bytes(b"\xff").is_err());
    }
}
