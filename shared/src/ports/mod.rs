//! Ports: the narrow traits every handler is written against. The embedded adapters
//! (`crate::adapters::embedded`) and the AWS adapters implement them, and both run the
//! same contract tests (`crate::ports::contract`).

mod charging;
mod clock;
pub mod contract;
mod intake;
mod object_store;
mod queue;
mod state_store;

pub use charging::{ChargeOutcome, ChargeRequest, Charging, ChargingError, ChargingOp, NoCharging};
pub use clock::{Clock, ManualClock, SystemClock};
pub use intake::{Arrival, Intake, IntakeError, SeparateIntake};
pub use object_store::{ObjectError, ObjectStore, validate_key};
pub use queue::{Queue, QueueError, QueueMessage, queues};
pub use state_store::{Item, Key, StateStore, StoreError, Version};
mod mm4_transport;
pub use mm4_transport::{Envelope, Mm4Transport, TransportError};
