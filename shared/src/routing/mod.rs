//! Recipient routing: local subscriber ranges, partner number prefixes with longest
//! match, partner MMS domains, a default route, and the optional NowSMS-style routing
//! callback (`Type=MMSRouteCheck`, answered with `Route=<name>|Direct|WAPPush|BlockMessage`).

mod callback;

pub use callback::{CallbackAnswer, CallbackError, query_callback};

use crate::config::{CallbackFallback, Config};
use crate::domain::Address;
use std::collections::HashMap;
use std::time::Duration;

/// Where one recipient goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// One of our subscribers: stored for MM1 delivery.
    Local,
    /// Another operator's MMSC over MM4 (partner name).
    Partner(String),
    /// A content provider over MM7 (VASP id).
    Vasp(String),
    /// The routing callback told us to refuse it.
    Blocked,
    /// No route; the reason says why.
    Unroutable(String),
}

impl Route {
    pub fn describe(&self) -> String {
        match self {
            Route::Local => "local subscriber".into(),
            Route::Partner(p) => format!("MM4 partner {p}"),
            Route::Vasp(v) => format!("VASP {v}"),
            Route::Blocked => "blocked by routing callback".into(),
            Route::Unroutable(r) => format!("unroutable: {r}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    /// The callback failed and the configured fallback is to retry later.
    #[error("routing callback unavailable: {0}")]
    CallbackUnavailable(String),
}

/// A compiled number pattern: `*`, `+4477*`, `+447700900123`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    digits: String,
    exact: bool,
}

impl Pattern {
    fn parse(p: &str) -> Option<Pattern> {
        crate::config::check_pattern(p).ok()?;
        if p == "*" {
            return Some(Pattern {
                digits: String::new(),
                exact: false,
            });
        }
        let (body, wildcard) = match p.strip_suffix('*') {
            Some(b) => (b, true),
            None => (p, false),
        };
        let digits = body.strip_prefix('+').unwrap_or(body).to_string();
        // A bare prefix without '*' ("+44") is still a prefix unless it is a full
        // number; numbers shorter than 8 digits are treated as prefixes.
        let exact = !wildcard && digits.len() >= 8;
        Some(Pattern { digits, exact })
    }

    /// Match length (longer is more specific) or None.
    fn matches(&self, e164_digits: &str) -> Option<usize> {
        if self.exact {
            (e164_digits == self.digits).then_some(self.digits.len() + 1)
        } else {
            e164_digits
                .starts_with(&self.digits)
                .then_some(self.digits.len())
        }
    }
}

/// Static routing tables compiled from the configuration.
#[derive(Debug, Clone)]
pub struct Router {
    our_domain: String,
    local: Vec<Pattern>,
    prefixes: Vec<(Pattern, String)>,
    domains: HashMap<String, String>,
    short_codes: HashMap<String, String>,
    default_route: Option<String>,
    callback_url: Option<String>,
    callback_timeout: Duration,
    callback_fallback: CallbackFallback,
}

impl Router {
    pub fn new(cfg: &Config) -> Self {
        let mut prefixes = Vec::new();
        let mut domains = HashMap::new();
        for p in &cfg.partners {
            for pat in &p.prefixes {
                if let Some(c) = Pattern::parse(pat) {
                    prefixes.push((c, p.name.clone()));
                }
            }
            domains.insert(p.domain.to_ascii_lowercase(), p.name.clone());
        }
        let short_codes = cfg
            .vasps
            .iter()
            .flat_map(|v| v.short_codes.iter().map(move |c| (c.clone(), v.id.clone())))
            .collect();
        Router {
            short_codes,
            our_domain: cfg.mmsc.domain.to_ascii_lowercase(),
            local: cfg
                .mmsc
                .local_numbers
                .iter()
                .filter_map(|p| Pattern::parse(p))
                .collect(),
            prefixes,
            domains,
            default_route: cfg.routing.default_route.clone(),
            callback_url: cfg.routing.callback_url.clone(),
            callback_timeout: Duration::from_millis(cfg.routing.callback_timeout_ms),
            callback_fallback: cfg.routing.callback_fallback,
        }
    }

    pub fn our_domain(&self) -> &str {
        &self.our_domain
    }

    /// Whether `e164` is in one of our subscriber ranges.
    pub fn is_local_number(&self, e164: &str) -> bool {
        let d = e164.trim_start_matches('+');
        self.local.iter().any(|p| p.matches(d).is_some())
    }

    /// The partner whose MMS domain is `domain`.
    pub fn partner_for_domain(&self, domain: &str) -> Option<&str> {
        self.domains
            .get(&domain.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// Routing from configuration alone: longest number-prefix match across local
    /// ranges and partner prefixes (a local range wins a tie), then the partner that
    /// owns the address's MMS domain, then the default route.
    pub fn static_route(&self, to: &Address) -> Route {
        match to {
            Address::Phone { e164, domain } => {
                let d = e164.trim_start_matches('+');
                let best_local = self.local.iter().filter_map(|p| p.matches(d)).max();
                let best_partner = self
                    .prefixes
                    .iter()
                    .filter_map(|(p, name)| p.matches(d).map(|len| (len, name)))
                    .max_by_key(|(len, _)| *len);
                match (best_local, best_partner) {
                    (Some(l), Some((p, _))) if l >= p => return Route::Local,
                    (Some(_), None) => return Route::Local,
                    (_, Some((_, name))) => return Route::Partner(name.clone()),
                    (None, None) => {}
                }
                if let Some(p) = domain.as_deref().and_then(|d| self.partner_for_domain(d)) {
                    return Route::Partner(p.to_string());
                }
                match &self.default_route {
                    Some(r) => Route::Partner(r.clone()),
                    None => Route::Unroutable(format!("no route for {}", to.redacted())),
                }
            }
            Address::Email { address } => {
                let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
                // `12345@<our domain>`: a VASP short code as MM4 peers address it.
                if domain.eq_ignore_ascii_case(&self.our_domain)
                    && let Some(vasp) = self.short_codes.get(local)
                {
                    return Route::Vasp(vasp.clone());
                }
                match self.partner_for_domain(domain) {
                    Some(p) => Route::Partner(p.to_string()),
                    None => Route::Unroutable(format!("no e-mail route to domain {domain}")),
                }
            }
            Address::ShortCode { code } => match self.short_codes.get(code) {
                Some(vasp) => Route::Vasp(vasp.clone()),
                None => Route::Unroutable(format!("no VASP serves short code {code}")),
            },
        }
    }

    /// Full routing: the callback when one is configured (with its fallback), else the
    /// static tables. `from` and `vaspin` (the inbound account the message came from)
    /// are passed to the callback as NowSMS does.
    pub async fn route(
        &self,
        from: &Address,
        to: &Address,
        vaspin: Option<&str>,
    ) -> Result<Route, RoutingError> {
        let Some(url) = &self.callback_url else {
            return Ok(self.static_route(to));
        };
        match query_callback(url, self.callback_timeout, from, to, vaspin).await {
            Ok(CallbackAnswer::Direct) => Ok(Route::Local),
            // "Convert to multimedia WAP push": still an MM1 delivery to our subscriber.
            Ok(CallbackAnswer::WapPush) => Ok(Route::Local),
            Ok(CallbackAnswer::Block) => Ok(Route::Blocked),
            Ok(CallbackAnswer::Route(name)) if self.is_partner(&name) => Ok(Route::Partner(name)),
            Ok(CallbackAnswer::Route(name)) => {
                tracing::warn!(route = %name, "routing callback named an unknown route; using static routing");
                Ok(self.static_route(to))
            }
            Ok(CallbackAnswer::NoRoute) => Ok(self.static_route(to)),
            Err(e) => match self.callback_fallback {
                CallbackFallback::Static => {
                    tracing::warn!(error = %e, "routing callback failed; using static routing");
                    Ok(self.static_route(to))
                }
                CallbackFallback::Reject => {
                    Ok(Route::Unroutable(format!("routing callback failed: {e}")))
                }
                CallbackFallback::Retry => Err(RoutingError::CallbackUnavailable(e.to_string())),
            },
        }
    }

    fn is_partner(&self, name: &str) -> bool {
        self.domains.values().any(|p| p == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PartnerConfig;

    fn cfg() -> Config {
        let mut c = Config::default();
        c.mmsc.domain = "mms.example.net".into();
        c.mmsc.local_numbers = vec!["+4477009*".into()];
        for (name, dom, pre) in [
            ("uk", "mms.uk.net", vec!["+44*"]),
            ("ng", "mms.ng.net", vec!["+234*", "+2348*"]),
            ("ng2", "mms.ng2.net", vec!["+23480*"]),
        ] {
            c.partners.push(PartnerConfig {
                name: name.into(),
                domain: dom.into(),
                prefixes: pre.into_iter().map(String::from).collect(),
                smtp_host: Some("127.0.0.1:25".into()),
                allowed_networks: vec!["10.0.0.0/8".parse().unwrap()],
                ..PartnerConfig::default()
            });
        }
        c
    }

    fn phone(s: &str) -> Address {
        Address::parse(s).unwrap()
    }

    #[test]
    fn longest_prefix_wins() {
        let r = Router::new(&cfg());
        assert_eq!(r.static_route(&phone("+447700900123")), Route::Local);
        assert_eq!(
            r.static_route(&phone("+447800900123")),
            Route::Partner("uk".into())
        );
        assert_eq!(
            r.static_route(&phone("+2347012345678")),
            Route::Partner("ng".into())
        );
        assert_eq!(
            r.static_route(&phone("+2348012345678")),
            Route::Partner("ng2".into())
        );
    }

    #[test]
    fn falls_back_to_domain_then_default() {
        let mut c = cfg();
        let r = Router::new(&c);
        assert_eq!(
            r.static_route(&phone("+15550100/TYPE=PLMN@MMS.NG.NET")),
            Route::Partner("ng".into())
        );
        assert!(matches!(
            r.static_route(&phone("+15550100")),
            Route::Unroutable(_)
        ));
        c.routing.default_route = Some("uk".into());
        let r = Router::new(&c);
        assert_eq!(
            r.static_route(&phone("+15550100")),
            Route::Partner("uk".into())
        );
    }

    #[test]
    fn wildcard_local_range_loses_to_a_longer_partner_prefix() {
        let mut c = cfg();
        c.mmsc.local_numbers = vec!["*".into()];
        let r = Router::new(&c);
        assert_eq!(r.static_route(&phone("+15550100")), Route::Local);
        assert_eq!(
            r.static_route(&phone("+447700900123")),
            Route::Partner("uk".into())
        );
    }

    #[test]
    fn exact_numbers_and_other_address_kinds() {
        let mut c = cfg();
        c.mmsc.local_numbers = vec!["+447800900123".into()];
        let r = Router::new(&c);
        assert_eq!(r.static_route(&phone("+447800900123")), Route::Local);
        assert_eq!(
            r.static_route(&phone("+447800900124")),
            Route::Partner("uk".into())
        );
        assert_eq!(
            r.static_route(&phone("bob@mms.uk.net")),
            Route::Partner("uk".into())
        );
        assert!(matches!(
            r.static_route(&phone("bob@gmail.com")),
            Route::Unroutable(_)
        ));
        assert!(matches!(
            r.static_route(&phone("12345")),
            Route::Unroutable(_)
        ));
        c.vasps.push(crate::config::VaspConfig {
            id: "news".into(),
            short_codes: vec!["12345".into()],
            ..Default::default()
        });
        let r = Router::new(&c);
        assert_eq!(r.static_route(&phone("12345")), Route::Vasp("news".into()));
        assert_eq!(
            r.static_route(&phone("12345@MMS.example.net")),
            Route::Vasp("news".into())
        );
        assert!(matches!(
            r.static_route(&phone("54321@mms.example.net")),
            Route::Unroutable(_)
        ));
    }

    #[tokio::test]
    async fn without_callback_route_is_static() {
        let r = Router::new(&cfg());
        let got = r
            .route(&phone("+447700900001"), &phone("+447800900123"), None)
            .await;
        assert_eq!(got, Ok(Route::Partner("uk".into())));
    }
}
