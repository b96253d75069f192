//! Admission control, applied to every route as one layer that runs after
//! routing and before the handler — so before a request body is read: a
//! flood is refused for the price of its headers.
//!
//! - A request with a valid token (admin or department client) takes a slot
//!   of the **authenticated** budget ([`Limits::authenticated_concurrency`])
//!   and is not rate-limited per address: anonymous traffic cannot use that
//!   budget, so it cannot starve stamping and issuance.
//! - Every other request is charged to its client address (see
//!   [`super::client_address`]) in a token bucket of its kind — verification,
//!   the QR and upload pages, the TSA, everything else — kept by `governor`
//!   (GCRA, one small state per address, old ones dropped every
//!   [`HOUSEKEEPING_INTERVAL`]). An empty bucket answers 429 with
//!   `Retry-After`.
//! - Anonymous requests then take a slot of the **public** budget, and
//!   verifications also one of the **verification** budget (half the cores
//!   by default); a request that finds none free within
//!   [`Limits::queue_wait`] gets 503 with `Retry-After`. While
//!   authenticated work is in flight, a verification slot rests after each
//!   use in proportion to the time it was busy
//!   ([`Limits::verify_duty_percent`]), so anonymous verification yields a
//!   bounded share of the CPU to departments even when its slots are never
//!   idle; with no department work waiting, it runs unthrottled.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::AppState;
use super::client_address::{TrustedProxies, bucket};
use super::error::ApiError;
use crate::access::{self, Principal};
use crate::config::{Config, Limits, Rate, TsaAccess};

/// How often the limiters forget addresses whose buckets are full again.
pub const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(30);

/// What kind of work a request asks for, as far as limits go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An anonymous verification (API or upload page).
    Verify,
    /// The QR verification page or the upload form.
    Page,
    /// The public TSA.
    Tsa,
    /// Any other request.
    Read,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Verify => "verify",
            Kind::Page => "page",
            Kind::Tsa => "tsa",
            Kind::Read => "read",
        }
    }
}

/// The kind of an anonymous request to `route` (the matched path).
pub fn kind_of(method: &Method, route: Option<&str>) -> Kind {
    match (route, *method == Method::POST) {
        (Some("/v1/verify" | "/verify"), true) => Kind::Verify,
        (Some("/v/{payload}"), _) | (Some("/verify"), false) => Kind::Page,
        (Some("/v1/tsa"), _) => Kind::Tsa,
        _ => Kind::Read,
    }
}

/// A caller the admission layer authenticated; the [`super::auth::Caller`]
/// extractor takes it from the request instead of asking the database again.
#[derive(Clone, Debug)]
pub struct Authenticated(pub Principal);

/// The limiters and budgets of one server.
#[derive(Debug)]
pub struct Admission {
    verify: DefaultKeyedRateLimiter<IpAddr>,
    pages: DefaultKeyedRateLimiter<IpAddr>,
    tsa: DefaultKeyedRateLimiter<IpAddr>,
    reads: DefaultKeyedRateLimiter<IpAddr>,
    verify_slots: Arc<Semaphore>,
    public_slots: Arc<Semaphore>,
    authenticated_slots: Arc<Semaphore>,
    authenticated_capacity: usize,
    queue_wait: Duration,
    verify_duty_percent: u8,
    proxies: TrustedProxies,
    tsa_access: TsaAccess,
}

fn quota(rate: Rate) -> Quota {
    let per_minute = NonZeroU32::new(rate.per_minute).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(rate.burst).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(per_minute).allow_burst(burst)
}

impl Admission {
    /// The limits of `config`.
    pub fn new(config: &Config) -> Self {
        let Limits {
            verify,
            pages,
            tsa,
            reads,
            verify_concurrency,
            public_concurrency,
            authenticated_concurrency,
            queue_wait,
            verify_duty_percent,
        } = config.limits.clone();
        Admission {
            verify: RateLimiter::keyed(quota(verify)),
            pages: RateLimiter::keyed(quota(pages)),
            tsa: RateLimiter::keyed(quota(tsa)),
            reads: RateLimiter::keyed(quota(reads)),
            verify_slots: Arc::new(Semaphore::new(verify_concurrency.max(1))),
            public_slots: Arc::new(Semaphore::new(public_concurrency.max(1))),
            authenticated_slots: Arc::new(Semaphore::new(authenticated_concurrency.max(1))),
            authenticated_capacity: authenticated_concurrency.max(1),
            queue_wait,
            verify_duty_percent: verify_duty_percent.clamp(1, 100),
            proxies: TrustedProxies::new(config.trusted_proxies.clone()),
            tsa_access: config.tsa_access,
        }
    }

    fn limiter(&self, kind: Kind) -> &DefaultKeyedRateLimiter<IpAddr> {
        match kind {
            Kind::Verify => &self.verify,
            Kind::Page => &self.pages,
            Kind::Tsa => &self.tsa,
            Kind::Read => &self.reads,
        }
    }

    /// Takes one request from `client`'s bucket of `kind`; the wait before
    /// the next one is allowed when the bucket is empty.
    pub fn check(&self, kind: Kind, client: IpAddr) -> Result<(), Duration> {
        self.limiter(kind)
            .check_key(&bucket(client))
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Addresses currently remembered by all limiters.
    pub fn tracked_addresses(&self) -> usize {
        [&self.verify, &self.pages, &self.tsa, &self.reads]
            .iter()
            .map(|l| l.len())
            .sum()
    }

    /// Forgets addresses whose buckets have refilled, and gives the memory back.
    pub fn housekeeping(&self) {
        for limiter in [&self.verify, &self.pages, &self.tsa, &self.reads] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        metrics::gauge!("govseal_rate_limit_tracked_addresses")
            .set(self.tracked_addresses() as f64);
    }

    /// Gives a verification slot back: at once when no authenticated
    /// request is in flight, otherwise after its rest (see
    /// [`Limits::verify_duty_percent`]), at most 10 s later.
    fn rest(&self, permit: OwnedSemaphorePermit, busy: Duration) {
        let duty = u32::from(self.verify_duty_percent);
        let departments_idle =
            self.authenticated_slots.available_permits() >= self.authenticated_capacity;
        if duty >= 100 || departments_idle {
            return;
        }
        let rest = (busy * (100 - duty) / duty).min(Duration::from_secs(10));
        tokio::spawn(async move {
            tokio::time::sleep(rest).await;
            drop(permit);
        });
    }

    async fn slot(&self, slots: &Arc<Semaphore>, wait: bool) -> Option<OwnedSemaphorePermit> {
        if wait {
            return slots.clone().acquire_owned().await.ok();
        }
        tokio::time::timeout(self.queue_wait, slots.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
    }
}

/// Decrements a gauge when dropped (the request finished or was cancelled).
struct InFlight(&'static str);

impl InFlight {
    fn start(name: &'static str) -> Self {
        metrics::gauge!(name).increment(1.0);
        InFlight(name)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!(self.0).decrement(1.0);
    }
}

fn retry_after(mut response: Response, wait: Duration) -> Response {
    // Whole seconds, rounded up: a client that waits that long is let in.
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

/// The web pages answer people in HTML; the API in its JSON error body.
fn is_page(route: Option<&str>) -> bool {
    matches!(route, Some("/verify" | "/v/{payload}"))
}

fn refusal(route: Option<&str>, error: ApiError, zh: &str, en: &str) -> Response {
    if !is_page(route) {
        return error.into_response();
    }
    use super::pages::html::{Lang, Tone, page, verdict};
    let body = verdict(Tone::Warn, zh, en);
    (
        error.status,
        axum::response::Html(page(Lang::Zh, "电子证照验证", "/verify?lang=en", &body)),
    )
        .into_response()
}

fn too_many(route: Option<&str>, kind: Kind, wait: Duration) -> Response {
    metrics::counter!("govseal_rate_limited_total", "kind" => kind.as_str()).increment(1);
    let error = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!(
            "too many {} requests from this address; retry after the time in Retry-After",
            kind.as_str()
        ),
    );
    retry_after(
        refusal(
            route,
            error,
            "请求过于频繁，请稍后再试。",
            "Too many requests from this address; please try again shortly.",
        ),
        wait,
    )
}

fn busy(route: Option<&str>, budget: &'static str) -> Response {
    metrics::counter!("govseal_busy_rejections_total", "budget" => budget).increment(1);
    let error = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "busy",
        "the server is busy with other requests of this kind; retry after the time in Retry-After",
    );
    retry_after(
        refusal(
            route,
            error,
            "服务繁忙，请稍后再试。",
            "The service is busy; please try again shortly.",
        ),
        Duration::from_secs(1),
    )
}

fn bearer_token(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

async fn authenticate(state: &AppState, token: &str) -> Result<Option<Principal>, Response> {
    let mut conn = state
        .db
        .pool
        .acquire()
        .await
        .map_err(|e| ApiError::internal(e).into_response())?;
    access::authenticate(&mut conn, &state.admin_token_hash, token)
        .await
        .map_err(|e| ApiError::internal(e).into_response())
}

/// The admission layer (see the module documentation).
pub async fn admit(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let admission = state.admission.clone();
    let principal = match bearer_token(&request) {
        Some(token) => match authenticate(&state, token).await {
            Ok(principal) => principal,
            Err(response) => return response,
        },
        None => None,
    };
    if let Some(principal) = principal {
        let Some(_permit) = admission.slot(&admission.authenticated_slots, true).await else {
            return busy(None, "authenticated");
        };
        let _in_flight = InFlight::start("govseal_authenticated_requests_in_flight");
        request.extensions_mut().insert(Authenticated(principal));
        return next.run(request).await;
    }
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let kind = kind_of(request.method(), route.as_deref());
    if kind == Kind::Tsa && admission.tsa_access == TsaAccess::Clients {
        return ApiError::unauthorized(
            "this time-stamping authority serves department clients only: send Authorization: Bearer <token>",
        )
        .into_response();
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    let client = admission.proxies.client_address(peer, request.headers());
    if let Err(wait) = admission.check(kind, client) {
        return too_many(route.as_deref(), kind, wait);
    }
    let Some(_public) = admission.slot(&admission.public_slots, false).await else {
        return busy(route.as_deref(), "public");
    };
    // The QR page verifies a license record: it shares the verification budget.
    if kind == Kind::Verify || route.as_deref() == Some("/v/{payload}") {
        let Some(verify) = admission.slot(&admission.verify_slots, false).await else {
            return busy(route.as_deref(), "verify");
        };
        let started = std::time::Instant::now();
        let response = {
            let _in_flight = InFlight::start("govseal_verifications_in_flight");
            next.run(request).await
        };
        admission.rest(verify, started.elapsed());
        return response;
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_classified_by_their_matched_path() {
        assert_eq!(kind_of(&Method::POST, Some("/v1/verify")), Kind::Verify);
        assert_eq!(kind_of(&Method::POST, Some("/verify")), Kind::Verify);
        assert_eq!(kind_of(&Method::GET, Some("/verify")), Kind::Page);
        assert_eq!(kind_of(&Method::GET, Some("/v/{payload}")), Kind::Page);
        assert_eq!(kind_of(&Method::POST, Some("/v1/tsa")), Kind::Tsa);
        assert_eq!(kind_of(&Method::GET, Some("/v1/trust")), Kind::Read);
        assert_eq!(kind_of(&Method::GET, None), Kind::Read);
    }

    #[test]
    fn a_bucket_empties_and_names_its_wait() {
        let mut config = Config::new("unused".into());
        config.limits.tsa = Rate {
            per_minute: 60,
            burst: 2,
        };
        let admission = Admission::new(&config);
        let ip: IpAddr = "198.51.100.1".parse().unwrap();
        assert!(admission.check(Kind::Tsa, ip).is_ok());
        assert!(admission.check(Kind::Tsa, ip).is_ok());
        let wait = admission.check(Kind::Tsa, ip).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        // Another address, and another kind for the same address, are not affected.
        assert!(
            admission
                .check(Kind::Tsa, "198.51.100.2".parse().unwrap())
                .is_ok()
        );
        assert!(admission.check(Kind::Read, ip).is_ok());
        assert_eq!(admission.tracked_addresses(), 3);
    }

    #[tokio::test]
    async fn a_verification_slot_rests_in_proportion_to_its_work_while_departments_wait() {
        let mut config = Config::new("unused".into());
        config.limits.verify_concurrency = 1;
        config.limits.verify_duty_percent = 25;
        let admission = Admission::new(&config);
        // No department work in flight: the slot is free at once.
        let permit = admission
            .slot(&admission.verify_slots, false)
            .await
            .unwrap();
        admission.rest(permit, Duration::from_millis(100));
        assert_eq!(admission.verify_slots.available_permits(), 1);
        // 100 ms of work at a 25 % duty while a department's request runs: 300 ms of rest.
        let department = admission
            .slot(&admission.authenticated_slots, true)
            .await
            .unwrap();
        let permit = admission
            .slot(&admission.verify_slots, false)
            .await
            .unwrap();
        admission.rest(permit, Duration::from_millis(100));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            admission.verify_slots.available_permits(),
            0,
            "still resting"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(admission.verify_slots.available_permits(), 1, "rested");
        // At 100 % the slot is free at once.
        config.limits.verify_duty_percent = 100;
        let admission = Admission::new(&config);
        let _department = admission
            .slot(&admission.authenticated_slots, true)
            .await
            .unwrap();
        let permit = admission
            .slot(&admission.verify_slots, false)
            .await
            .unwrap();
        admission.rest(permit, Duration::from_secs(5));
        assert_eq!(admission.verify_slots.available_permits(), 1);
        drop(department);
    }

    #[test]
    fn refilled_buckets_are_forgotten() {
        let mut config = Config::new("unused".into());
        config.limits.reads = Rate {
            per_minute: 600_000,
            burst: 1,
        };
        let admission = Admission::new(&config);
        for n in 0..1000u32 {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n));
            assert!(admission.check(Kind::Read, ip).is_ok());
        }
        // IPv6 hosts of one /64 share a bucket.
        for n in 0..100u128 {
            let ip = IpAddr::from(std::net::Ipv6Addr::from((0x2001_0db8u128 << 96) + n));
            let _ = admission.check(Kind::Read, ip);
        }
        assert_eq!(admission.tracked_addresses(), 1001);
        std::thread::sleep(Duration::from_millis(20));
        admission.housekeeping();
        assert_eq!(admission.tracked_addresses(), 0);
    }
}
