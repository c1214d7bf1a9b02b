//! An SDK interceptor that counts the HTTP requests every client sends, by service and
//! operation (retries included: it counts transmissions, which is what AWS bills).

use aws_sdk_s3::config::ConfigBag;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Requests sent, keyed by `(service, operation)` (`("S3", "PutObject")`).
pub type RequestCounts = BTreeMap<(String, String), u64>;

/// Cheap to clone; every clone adds to the same counts.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter(Arc<Mutex<RequestCounts>>);

impl RequestCounter {
    /// A copy of the counts so far.
    pub fn snapshot(&self) -> RequestCounts {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Totals per service.
    pub fn by_service(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for ((service, _), n) in self.snapshot() {
            *out.entry(service).or_insert(0) += n;
        }
        out
    }

    pub fn reset(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Counts of `later` minus counts of `earlier` (both snapshots of one counter).
    pub fn diff(earlier: &RequestCounts, later: &RequestCounts) -> RequestCounts {
        later
            .iter()
            .filter_map(|(k, n)| {
                let d = n.saturating_sub(earlier.get(k).copied().unwrap_or(0));
                (d > 0).then(|| (k.clone(), d))
            })
            .collect()
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_string(), m.name().to_string()))
            .unwrap_or_else(|| ("unknown".into(), "unknown".into()));
        *self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((service, operation))
            .or_insert(0) += 1;
        Ok(())
    }
}
