//! The Lambda glue every webhook shares (spec §2): the raw API Gateway event turned into a request
//! without panicking ([`crate::event`]), method and size checks, form parsing, signature
//! verification against the configured public URL + the event's raw path and query, and the
//! replies: TwiML 200 on every business path, the safe apology-and-voicemail TwiML on any internal
//! error (with one `error!` line carrying the CallSid, and a metric), 400 for malformed input,
//! 401/403 only for a missing/bad signature.

use crate::config::{process_env, Config, Env, Needs};
use crate::deps::Deps;
use crate::error::Error;
use crate::event::{self, Body, Request};
use crate::metrics;
use http::{header, Method, Response, StatusCode};
use std::future::Future;
use telephony_core::flow::Replies;
use telephony_core::signature::{self, SignedBody};
use telephony_core::{Params, Route, Twiml};

/// Largest accepted body (spec §2.6): 64 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An accepted (signed, parsed) webhook request.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// Form parameters of the body (empty for JSON bodies).
    pub params: Params,
    /// Query-string parameters (our own `?attempt=2`, `?kind=voicemail`, …), never merged with
    /// the body's.
    pub query: Params,
    /// `STAGE=local` only: the instant the call simulator plays the call at (`--at`), from its
    /// `X-Tradeline-Sim-Now` header (Unix seconds); `None` everywhere else, where the header is
    /// ignored.
    pub sim_now: Option<u64>,
}

impl Webhook {
    /// The time business hours are judged at: the simulator's `--at` instant locally, else now
    /// (Unix seconds).
    pub fn now(&self) -> u64 {
        self.sim_now.unwrap_or_else(crate::now_secs)
    }

    /// `CallSid` as sent (for logs), or `-`.
    pub fn call_sid_for_log(&self) -> &str {
        self.params.get("CallSid").unwrap_or("-")
    }
}

/// `X-Tradeline-Sim-Now` (Unix seconds), honoured only with `STAGE=local` (see
/// [`Webhook::sim_now`]).
fn sim_now(config: &Config, req: &Request) -> Option<u64> {
    if config.stage != "local" {
        return None;
    }
    req.headers()
        .get("x-tradeline-sim-now")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// The error a function's `main` returns (start-up configuration, or the runtime loop).
pub type LambdaError = lambda_runtime::Error;

/// Runs a webhook handler as a Lambda function: JSON logs, configuration and SDK clients built
/// once, then the runtime loop. Each raw event becomes a request through
/// [`event::request_from_event`]; a malformed one is answered 400 without reaching `handler`,
/// so no input can abort the instance. This is the whole of every function's `main`.
///
/// Errors: configuration errors at start-up (the Lambda init fails, and Twilio uses the
/// number's fallback URL), or a runtime error from `lambda_runtime`.
pub async fn serve<F, Fut>(needs: &'static Needs, handler: F) -> Result<(), LambdaError>
where
    F: Fn(&'static Deps, Request) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Response<Body>> + Send,
{
    serve_with(
        needs,
        |_, _| Ok(()),
        move |deps, _: &'static (), req| handler(deps, req),
    )
    .await
}

/// [`serve`] for a function with settings of its own: `build` makes them once from [`Deps`]
/// and the function's [`Env`] (so they are read through the same declaration), and `handler`
/// gets them with every request.
///
/// Errors: as [`serve`], and `build`'s.
pub async fn serve_with<S, B, F, Fut>(
    needs: &'static Needs,
    build: B,
    handler: F,
) -> Result<(), LambdaError>
where
    S: Send + Sync + 'static,
    B: FnOnce(&Deps, &Env<'_>) -> Result<S, LambdaError>,
    F: Fn(&'static Deps, &'static S, Request) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Response<Body>> + Send,
{
    crate::logging::init();
    let env = Env::new(needs, &process_env);
    let deps: &'static Deps = Box::leak(Box::new(Deps::load(&env)?));
    let settings: &'static S = Box::leak(Box::new(build(deps, &env)?));
    // `run_concurrent`: sequential unless Lambda's managed concurrency sets
    // `AWS_LAMBDA_MAX_CONCURRENCY` above 1 (then one long-poll loop per slot); unlike `run`, it
    // does not warn when `cargo lambda watch` sets it to 1.
    lambda_runtime::run_concurrent(lambda_runtime::service_fn(
        move |ev: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
            let resp = match event::request_from_event(ev.payload) {
                // Boxed: the handler futures are deep, and the runtime's own future wraps them.
                Ok(req) => Box::pin(handler(deps, settings, req)).await,
                Err(e) => {
                    tracing::warn!(error = %e, "malformed API Gateway event refused");
                    metrics::count("MalformedRequests", None);
                    plain(StatusCode::BAD_REQUEST, &e.to_string())
                }
            };
            Ok::<_, std::convert::Infallible>(event::response_to_event(resp))
        },
    ))
    .await
}

/// Runs a scheduled (EventBridge) function: JSON logs, configuration and SDK clients once, then
/// `handler` for every event; its JSON result is the invocation's result. The whole of the
/// monitor's `main`.
///
/// Errors: start-up configuration errors, or a runtime error from `lambda_runtime`.
pub async fn serve_scheduled<F, Fut>(needs: &'static Needs, handler: F) -> Result<(), LambdaError>
where
    F: Fn(&'static Deps) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Result<serde_json::Value, Error>> + Send,
{
    crate::logging::init();
    let deps: &'static Deps = Box::leak(Box::new(Deps::load(&Env::new(needs, &process_env))?));
    lambda_runtime::run_concurrent(lambda_runtime::service_fn(
        move |_event: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
            handler(deps).await.map_err(LambdaError::from)
        },
    ))
    .await
}

/// The public URL Twilio signed: `PUBLIC_BASE_URL` + the event's `rawPath` + `?` +
/// `rawQueryString` (spec §2.1). Nothing is taken from headers (`Host` included).
pub fn signed_url(config: &Config, req: &Request) -> String {
    let (path, query) = event::raw_target(req);
    if query.is_empty() {
        format!("{}{path}", config.public_base_url)
    } else {
        format!("{}{path}?{query}", config.public_base_url)
    }
}

/// Why a request was not accepted; [`Refusal::into_response`] gives its HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `OPTIONS` preflight: 204 with `Allow: POST, OPTIONS`.
    Preflight,
    /// Any method but POST: 405.
    MethodNotAllowed,
    /// Body over [`MAX_BODY_BYTES`]: 413.
    TooLarge,
    /// Body is not a form: 400.
    Malformed,
    /// Missing (401) or bad (403) signature; no detail in the body.
    Signature(signature::SignatureError),
}

impl Refusal {
    /// The HTTP answer (spec §2.1, §2.6).
    pub fn into_response(self) -> Response<Body> {
        match self {
            Refusal::Preflight => {
                let mut r = plain(StatusCode::NO_CONTENT, "");
                r.headers_mut().insert(
                    header::ALLOW,
                    header::HeaderValue::from_static("POST, OPTIONS"),
                );
                r
            }
            Refusal::MethodNotAllowed => {
                plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
            }
            Refusal::TooLarge => plain(StatusCode::PAYLOAD_TOO_LARGE, "body too large"),
            Refusal::Malformed => plain(StatusCode::BAD_REQUEST, "malformed form body"),
            Refusal::Signature(e) => plain(
                StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::FORBIDDEN),
                "",
            ),
        }
    }
}

/// Accepts a Twilio POST: checks method, size (64 KiB), form syntax and the signature against
/// the configured public URL. `Ok` carries the parsed parameters.
///
/// Errors: a [`Refusal`] to answer with.
pub fn accept(config: &Config, req: &Request) -> Result<Webhook, Refusal> {
    if req.method() == Method::OPTIONS {
        return Err(Refusal::Preflight);
    }
    if req.method() != Method::POST {
        return Err(Refusal::MethodNotAllowed);
    }
    let body: &[u8] = req.body().as_ref();
    if body.len() > MAX_BODY_BYTES {
        return Err(Refusal::TooLarge);
    }
    let query = Params::from_form(event::raw_target(req).1.as_bytes()).unwrap_or_default();
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    let params = if is_json {
        Params::default()
    } else {
        Params::from_form(body).map_err(|e| {
            tracing::warn!(error = %e, "malformed webhook body");
            Refusal::Malformed
        })?
    };
    if config.signature_bypass {
        tracing::warn!(
            path = event::raw_target(req).0,
            "STAGE=local: Twilio signature NOT checked (TWILIO_SIGNATURE_BYPASS)"
        );
        return Ok(Webhook {
            params,
            query,
            sim_now: sim_now(config, req),
        });
    }
    let header = req
        .headers()
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok());
    let pairs: Vec<(&str, &str)> = params.pairs().collect();
    let signed = if is_json {
        SignedBody::Json(body)
    } else {
        SignedBody::Pairs(&pairs)
    };
    let url = signed_url(config, req);
    let with_fragment = Route::from_path(event::raw_target(req).0)
        .filter(|r| r.asks_for_retries())
        .map(|_| format!("{url}{}", telephony_core::routes::CALLBACK_RETRY_FRAGMENT));
    let urls: Vec<&str> = std::iter::once(url.as_str())
        .chain(with_fragment.as_deref())
        .collect();
    match signature::verify_any(&config.token_refs(), &urls, signed, header) {
        Ok(()) => Ok(Webhook {
            params,
            query,
            sim_now: sim_now(config, req),
        }),
        Err(e) => {
            tracing::warn!(path = event::raw_target(req).0, reason = %e, "webhook refused");
            metrics::count("SignatureRejected", None);
            Err(Refusal::Signature(e))
        }
    }
}

/// How a handler's error is reported: bad input (a missing or malformed CallSid…) is a WARN
/// with the `InvalidRequests` metric; anything else is a dependency failure, an ERROR with
/// `DependencyErrors` by dependency (what the "database connection failures" alarm watches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The request's own parameters are wrong.
    BadInput,
    /// DynamoDB, S3, SNS or Twilio failed.
    Dependency(&'static str),
}

impl Failure {
    /// Classifies `e`.
    pub fn of(e: &Error) -> Self {
        match e {
            Error::Param(_) => Failure::BadInput,
            other => Failure::Dependency(other.dependency()),
        }
    }

    /// Emits the failure's metric.
    fn count(self) {
        match self {
            Failure::BadInput => metrics::count("InvalidRequests", None),
            Failure::Dependency(d) => metrics::count("DependencyErrors", Some(("Dependency", d))),
        }
    }
}

/// A plain-text (or empty) reply with `status`.
pub fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut r = Response::new(if text.is_empty() {
        Body::Empty
    } else {
        Body::Text(text.to_owned())
    });
    *r.status_mut() = status;
    if !text.is_empty() {
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    r
}

/// 200 with TwiML (`text/xml`).
pub fn twiml(doc: &Twiml) -> Response<Body> {
    let mut r = Response::new(Body::Text(doc.to_xml()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    r
}

/// A whole voice (TwiML) webhook: [`accept`], then `answer`, then [`voice_reply`]. Every
/// TwiML-answering function's handler is this call with its own `answer`.
pub async fn voice_webhook<F>(deps: &Deps, req: Request, route: Route, answer: F) -> Response<Body>
where
    F: AsyncFn(&Deps, &Webhook) -> Result<Twiml, Error>,
{
    match accept(&deps.config, &req) {
        Ok(hook) => {
            let doc = answer(deps, &hook).await;
            // A reply that dials leaves a marker, so our own Dial coming back forwarded is
            // recognised at the frontdoor (issue 24 §3, [`crate::loops`]).
            if let (Ok(doc), Ok(sid)) = (&doc, hook.params.call_sid()) {
                crate::loops::note_dials(deps, &sid, doc, crate::now_secs()).await;
            }
            voice_reply(&deps.config, &hook, route, doc)
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// A whole messaging webhook (inbound SMS/MMS): like [`voice_webhook`], but bad parameters
/// answer 200 with an empty `<Response/>` (nothing is sent to the texter), and a dependency
/// failure answers a retryable 503 (issue 27 §10: an unrecorded STOP must be delivered again),
/// each with one log line with the MessageSid and the `InvalidRequests` / `DependencyErrors`
/// metric (spec §4).
pub async fn messaging_webhook<F>(
    deps: &Deps,
    req: Request,
    route: Route,
    answer: F,
) -> Response<Body>
where
    F: AsyncFn(&Deps, &Webhook) -> Result<Twiml, Error>,
{
    let hook = match accept(&deps.config, &req) {
        Ok(hook) => hook,
        Err(refusal) => return refusal.into_response(),
    };
    match answer(deps, &hook).await {
        Ok(doc) => twiml(&doc),
        Err(e) => {
            let sid = hook
                .params
                .get("MessageSid")
                .or(hook.params.get("SmsSid"))
                .unwrap_or("-");
            let failure = Failure::of(&e);
            failure.count();
            if failure == Failure::BadInput {
                tracing::warn!(message_sid = sid, route = route.path(), error = %e, "bad message parameters; empty reply");
                return twiml(&Twiml::new());
            }
            // A write that did not happen (an opt-out among them) must not be lost: a
            // retryable 503, which the number's Messaging URL asks Twilio to retry
            // (`#rc=…&rp=all`, bound at onboarding); the retry redoes the idempotent writes
            // (issue 27 §10).
            tracing::error!(message_sid = sid, route = route.path(), error = %e, "message not handled; 503 so Twilio delivers it again");
            plain(StatusCode::SERVICE_UNAVAILABLE, "")
        }
    }
}

/// A whole callback webhook (status, recording, transcription): [`accept`], then `store`,
/// then [`callback_reply`].
pub async fn callback_webhook<F>(
    deps: &Deps,
    req: Request,
    route: Route,
    store: F,
) -> Response<Body>
where
    F: AsyncFn(&Deps, &Webhook) -> Result<(), Error>,
{
    match accept(&deps.config, &req) {
        Ok(hook) => callback_reply(&hook, route, store(deps, &hook).await),
        Err(refusal) => refusal.into_response(),
    }
}

/// The reply of a voice (TwiML) webhook: the handler's TwiML, or on error the safe
/// apology-and-voicemail TwiML, an `error!` with the CallSid, and the `FallbackReplies` and
/// `DependencyErrors` metrics. Always 200 (spec §2.2).
pub fn voice_reply(
    config: &Config,
    hook: &Webhook,
    route: Route,
    result: Result<Twiml, Error>,
) -> Response<Body> {
    match result {
        Ok(doc) => twiml(&doc),
        Err(e) => {
            let failure = Failure::of(&e);
            if failure == Failure::BadInput {
                tracing::warn!(call_sid = hook.call_sid_for_log(), route = route.path(), error = %e, "bad webhook parameters; serving the safe fallback TwiML");
            } else {
                tracing::error!(call_sid = hook.call_sid_for_log(), route = route.path(), error = %e, "serving the safe fallback TwiML");
            }
            failure.count();
            metrics::count("FallbackReplies", None);
            twiml(&safe_twiml(config))
        }
    }
}

/// The safe reply: apology and a voicemail recording (no DynamoDB needed).
pub fn safe_twiml(config: &Config) -> Twiml {
    Replies::new(&config.public_base_url, &config.default_number.language)
        .with_voices(config.voices)
        .apology_voicemail(config.voicemail_max)
}

/// The reply of a callback (status, recording, transcription): 204 once the write is done;
/// bad parameters → 400 with the reason; a dependency failure → 503 so Twilio retries
/// (no caller hears a callback's status, spec §2.2).
pub fn callback_reply(hook: &Webhook, route: Route, result: Result<(), Error>) -> Response<Body> {
    match result {
        Ok(()) => plain(StatusCode::NO_CONTENT, ""),
        Err(e) => match Failure::of(&e) {
            Failure::BadInput => {
                tracing::warn!(call_sid = hook.call_sid_for_log(), route = route.path(), error = %e, "bad callback parameters");
                Failure::BadInput.count();
                plain(StatusCode::BAD_REQUEST, &e.to_string())
            }
            failure => {
                tracing::error!(call_sid = hook.call_sid_for_log(), route = route.path(), error = %e, "callback failed; Twilio will retry");
                failure.count();
                plain(StatusCode::SERVICE_UNAVAILABLE, "")
            }
        },
    }
}

/// The call's language: the `lang` its callback URL carries (every URL the flow builds has it),
/// else — a request from before the caller chose, or a hand-written URL — the language of the
/// number `to` (a cached lookup). Deciding the language first lets a handler run the number
/// lookup and its own write concurrently.
pub async fn call_language(deps: &Deps, hook: &Webhook, to: &str) -> telephony_core::prompts::Lang {
    use telephony_core::prompts::Lang;
    match hook.query.get("lang") {
        Some(l) => Lang::from_tag(l),
        None => Lang::from_tag(&deps.number_config(to).await.language),
    }
}

/// The caller pressed 8: the replies in the other language, after recording the choice on the
/// call (`language`) and counting it (`LanguageSwitches` by language). A failed write is logged
/// and ignored: every later callback URL carries the language anyway.
pub async fn switch_language<'a>(
    deps: &'a Deps,
    sid: &telephony_core::CallSid,
    replies: Replies<'a>,
) -> Replies<'a> {
    let switched = replies.switched();
    let lang = switched.lang().code();
    metrics::count("LanguageSwitches", Some(("Language", lang)));
    if let Err(e) = deps
        .calls()
        .set_language(sid, lang, crate::now_secs())
        .await
    {
        tracing::warn!(call_sid = %sid, error = %e, "language choice not stored");
    }
    switched
}

#[cfg(test)]
mod tests {
    use super::*;
    use telephony_core::ParamError;

    #[test]
    fn bad_input_is_not_a_dependency_failure() {
        assert_eq!(
            Failure::of(&Error::Param(ParamError::Missing("CallSid"))),
            Failure::BadInput
        );
        let dynamo = Error::Dynamo {
            op: "GetItem calls",
            message: "timeout".into(),
        };
        assert_eq!(Failure::of(&dynamo), Failure::Dependency("dynamodb"));
    }

    #[test]
    fn the_simulated_clock_is_honoured_only_on_a_local_stack() {
        let config = |stage: &'static str| {
            let mut vars = crate::config::test_vars();
            vars.insert("STAGE", stage);
            Config::from_lookup(|k| vars.get(k).map(|v| v.to_string())).unwrap()
        };
        let req = http::Request::builder()
            .header("x-tradeline-sim-now", "1798210800")
            .body(Body::Empty)
            .unwrap();
        assert_eq!(sim_now(&config("local"), &req), Some(1_798_210_800));
        assert_eq!(sim_now(&config("prod"), &req), None);
    }
}
