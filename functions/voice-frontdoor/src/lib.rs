//! `/voice-frontdoor`, the number's Voice URL (spec §3): signature, blocklist, call claimed once
//! per CallSid (a Twilio retry is not counted again), per-caller rate limit (fail open; callers
//! without a caller ID share a larger bucket, `ratelimit::HIDDEN_CALLER_LIMITS`), then the
//! greeting, recording notice and consent `<Gather>`.
//!
//! DynamoDB round trips: the claim and the (cached) number lookup run concurrently, then the rate
//! limit counters (concurrently with each other) and the known-caller lookup (issue 14: "Welcome
//! back, Sam" in the caller's language; any failure → the normal greeting).
//!
//! Hybrid forwarding (issue 11): a call carrying `ForwardedFrom` (the carrier forwarded it from a
//! customer's SIM) is looked up by that SIM in the same wait. On a config being verified, our own
//! test call (caller and `To` both the config's forwarding number) marks it `verified` and ends
//! politely; a call forwarded from the SIM of a *verified* config is routed as its org's
//! forwarding number (business name, targets, language) whatever `To` is (`ForwardedCalls` by
//! `Mode`); a pending, verifying or unverified config routes nothing (the call goes by `To`).

use telephony_aws::calls::Claim;
use telephony_aws::forwarding::ForwardingState;
use telephony_aws::ratelimit::{self, Verdict};
use telephony_aws::{glue, metrics, now_secs, Body, Deps, Error, Request, Response, Webhook};
use telephony_core::{flow, mask_phone, Route, Twiml, E164};

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: Some(&telephony_aws::needs::VOICE_STEP),
    groups: &[
        &telephony_aws::needs::CALLER_LIMITS,
        &telephony_aws::needs::KNOWN_CALLERS,
        &telephony_aws::needs::VOICEMAIL_NOTICES,
    ],
};

/// Handles one request; always 200 TwiML unless the signature is missing or bad.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    glue::voice_webhook(deps, req, Route::Frontdoor, answer).await
}

async fn answer(deps: &Deps, hook: &Webhook) -> Result<Twiml, Error> {
    let config = &deps.config;
    let sid = hook.params.call_sid()?;
    let from = hook.params.get("From").unwrap_or("anonymous");
    let to = hook.params.get("To").unwrap_or("");
    if config.blocked_callers.iter().any(|b| b == from) {
        tracing::info!(call_sid = %sid, from = %mask_phone(from), "blocked caller rejected");
        metrics::count("CallsBlocked", None);
        return Ok(flow::blocked());
    }
    let now = now_secs();
    let calls = deps.calls();
    let (claim, number, (forwarded, bounce)) = tokio::join!(
        calls.claim_call(&sid, from, to, now),
        deps.number_config(to),
        forwarded_from(deps, hook, &sid, now)
    );
    let claim = claim?;
    // Our own Dial came back forwarded from the mobile it rings (issue 24 §3): refused, so the
    // caller's call goes to our voicemail from its Dial action, and the config stops routing.
    if bounce {
        tracing::warn!(call_sid = %sid, forwarded_from = %mask_phone(hook.params.get("ForwardedFrom").unwrap_or("")), "forwarding loop refused");
        telephony_aws::loops::mark_looping(deps, forwarded.as_ref(), &sid, now).await;
        return Ok(flow::forwarding_loop());
    }
    let number = match forwarded {
        // Our verification call comes back forwarded from the SIM *to this config's own
        // number*, with that number as the caller (issue 27 §1: forwarded anywhere else proves
        // nothing); a customer's call forwarded meanwhile is routed by `To`.
        Some(route)
            if route.state == ForwardingState::Verifying
                && route.destination == from
                && route.destination == to =>
        {
            return Ok(verified(deps, &route, &number, &sid).await);
        }
        // Only a verified config routes by its SIM (issue 27 §3).
        Some(route) if route.state == ForwardingState::Verified => {
            metrics::count("ForwardedCalls", Some(("Mode", mode_dim(route.mode))));
            if route.destination == to {
                number
            } else {
                deps.number_config(&route.destination).await
            }
        }
        _ => number,
    };
    let limited = async {
        Ok::<bool, Error>(match claim {
            Claim::AlreadyExists => calls.get_call(&sid).await?.is_some_and(|c| c.rate_limited),
            Claim::Created => {
                // Hidden caller IDs share one larger bucket of their own (issue 27 §8).
                let (key, limits) = telephony_core::ratelimit::caller_bucket(
                    hook.params.get("From"),
                    &config.rate_limits,
                );
                match ratelimit::check_all(
                    deps.dynamo(),
                    &config.rate_limits_table,
                    key,
                    limits,
                    now,
                )
                .await
                {
                    Ok(Verdict::Allowed) => false,
                    Ok(Verdict::Limited) => {
                        calls.mark_rate_limited(&sid, now).await?;
                        true
                    }
                    Err(e) => {
                        tracing::warn!(call_sid = %sid, error = %e, "rate-limit store unreachable; allowing the call");
                        metrics::count("RateLimitFailOpen", None);
                        false
                    }
                }
            }
        })
    };
    // The known-caller lookup rides along with the rate-limit counters: no extra round trip.
    let (limited, contact) = tokio::join!(limited, deps.known_caller(&number, from, now));
    let limited = limited?;
    if limited {
        tracing::info!(call_sid = %sid, from = %mask_phone(from), "caller rate limited");
        metrics::count("CallsRateLimited", None);
        return Ok(flow::rate_limited());
    }
    if let Some(stop) = gate(deps, hook, &sid, &number, contact.is_some(), now).await {
        return Ok(stop);
    }
    tracing::info!(call_sid = %sid, from = %mask_phone(from), to = %mask_phone(to), "call received");
    metrics::count("CallsReceived", None);
    let replies = deps.replies(
        &number,
        contact.as_ref().and_then(|c| c.language.as_deref()),
    );
    if contact.is_some() {
        metrics::count("KnownCallers", None);
    }
    Ok(replies.greeting(
        &number.business_name,
        contact.as_ref().map(|c| c.first_name.as_str()),
    ))
}

/// The verified-caller gate (issue 24 §2; [`telephony_core::gate`]): `Some` reply when the
/// call stops here — the check ("press 5") for an unknown caller the number's switch gates, or
/// the goodbye when the check (`?gate=answer`) got no 5; `None` to go on to the greeting. The
/// verdict is stored on the call and counted (`CallsGated` by `Verstat` and `Outcome`); a
/// storage failure changes nothing the caller hears.
async fn gate(
    deps: &Deps,
    hook: &Webhook,
    sid: &telephony_core::CallSid,
    number: &flow::NumberConfig,
    known: bool,
    now: u64,
) -> Option<Twiml> {
    use telephony_core::gate::{self, Attestation};
    let verstat = Attestation::from_verstat(hook.params.get("StirVerstat"));
    let from = hook.params.get("From").unwrap_or("anonymous");
    let to = hook.params.get("To").unwrap_or("");
    let (outcome, reply) = if hook.query.get("gate") == Some("answer") {
        let digits = hook.params.get("Digits").filter(|d| !d.trim().is_empty());
        match (gate::passed(digits), digits) {
            (true, _) => ("passed", None),
            (false, Some(_)) => ("failed", Some(())),
            (false, None) => ("silent", Some(())),
        }
    } else if gate::must_check(number, verstat, known, from, to) {
        ("checked", Some(()))
    } else {
        return None;
    };
    tracing::info!(call_sid = %sid, verstat = verstat.as_str(), outcome, "verified-caller gate");
    metrics::count_by(
        "CallsGated",
        &[("Verstat", verstat.as_str()), ("Outcome", outcome)],
    );
    if let Err(e) = deps
        .calls()
        .record_gate(sid, verstat.as_str(), outcome, now)
        .await
    {
        tracing::error!(call_sid = %sid, error = %e, "gate outcome not stored");
        metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
    }
    reply?;
    let replies = deps.replies(number, hook.query.get("lang"));
    Some(if outcome == "checked" {
        replies.gate_check(&number.business_name)
    } else {
        replies.gate_goodbye()
    })
}

fn mode_dim(mode: forwarding::ForwardingMode) -> &'static str {
    match mode {
        forwarding::ForwardingMode::SafetyNet => "safety_net",
        forwarding::ForwardingMode::TotalAi => "total_ai",
    }
}

/// For a call carrying `ForwardedFrom`: the forwarding config of that SIM (when the stack has
/// forwarding; `None` on any failure: the call goes on by `To`), and whether the number is one
/// another call of ours is dialling right now ([`telephony_aws::loops`]; an unreadable marker
/// counts as no bounce).
async fn forwarded_from(
    deps: &Deps,
    hook: &Webhook,
    sid: &telephony_core::CallSid,
    now: u64,
) -> (Option<telephony_aws::forwarding::SimRoute>, bool) {
    let Some(sim) = hook
        .params
        .get("ForwardedFrom")
        .and_then(|f| E164::parse_syntax(f).ok())
    else {
        return (None, false);
    };
    let route = async {
        let table = deps.config.forwarding_table.as_deref()?;
        match telephony_aws::forwarding::sim_route(deps.dynamo(), table, sim.as_str()).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "forwarding lookup failed; routing by To");
                metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
                None
            }
        }
    };
    let bounce = async {
        telephony_aws::loops::is_bounce(deps, sid, sim.as_str(), now)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "dialling marker unreadable; no loop check");
                false
            })
    };
    tokio::join!(route, bounce)
}

/// Our verification call came back forwarded: the config is `verified`; a confirmation and
/// Hangup.
async fn verified(
    deps: &Deps,
    route: &telephony_aws::forwarding::SimRoute,
    number: &flow::NumberConfig,
    sid: &telephony_core::CallSid,
) -> Twiml {
    if let Some(table) = deps.config.forwarding_table.as_deref() {
        let store = telephony_aws::forwarding::OrgStore::new(deps.dynamo(), table, &route.org);
        match store.config(&route.config_id).await {
            Ok(Some(c)) if c.state == ForwardingState::Verifying => {
                match store.mark_verified(&c, now_secs()).await {
                    Ok(telephony_aws::forwarding::Transition::Moved) => {
                        tracing::info!(call_sid = %sid, config = %c.id, "forwarding verified");
                        metrics::count("ForwardingVerifications", Some(("Outcome", "verified")));
                        if c.verify_origin.as_deref() == Some("monitor") {
                            metrics::count(
                                "ForwardingReverifications",
                                Some(("Outcome", "verified")),
                            );
                        }
                    }
                    Ok(telephony_aws::forwarding::Transition::Stale) => {}
                    Err(e) => {
                        tracing::error!(call_sid = %sid, error = %e, "forwarding verified but not recorded")
                    }
                }
            }
            Ok(_) => {}
            Err(e) => tracing::error!(call_sid = %sid, error = %e, "forwarding config unreadable"),
        }
    }
    deps.replies(number, None).forwarding_verified()
}
