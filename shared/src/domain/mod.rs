//! Domain model: addresses, messages, recipients, their state machines and the job
//! envelope that travels on queues.

mod address;
mod job;
mod message;
mod time;

pub use address::{Address, AddressError};
pub use job::{Interface, Job, JobError, OutboundPdu};
pub use message::{
    Direction, EventRecord, MessageId, MessageRecord, MessageState, Origin, RecipientRecord,
    RecipientState, TransitionError,
};
pub use time::Timestamp;
