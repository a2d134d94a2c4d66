//! One caller turn (issue 28 §3–§5): the prompt is added to the history under a new generation;
//! the model's reply streams back as phrase-sized `text` tokens while that generation is
//! current; tool calls run in-process (idempotent by tool call id) and their results go back to
//! the model, at most [`MAX_TOOL_ROUNDS`] times; `transfer_to_human`, `end_call`, the caps and a
//! failing or silent model end the session with hand-off data. Metrics: `TurnLatencyMs` (prompt
//! in → first `text` out), `ModelFirstTokenMs`, `RelayFallbacks` by `Reason`, `RelayStaleReplies`.

use crate::Runtime;
use chrono::{DateTime, Utc};
use conversation::booking::{self, Booking, BookingArgs, Rules};
use conversation::prompt::{self, CallContext, TOOL_BOOK, TOOL_END, TOOL_MESSAGE, TOOL_TRANSFER};
use conversation::relay::Outbound;
use conversation::turn::{
    self, Handoff, HandoffCode, Phrases, MAX_CALLER_TURNS, MAX_SESSION_SECS, MAX_TOOL_ROUNDS,
};
use llm_api::{ChatRequest, Delta, Message, ToolCall, ToolCalls};
use serde_json::json;
use std::time::{Duration, Instant};
use telephony_aws::calls::Claim;
use telephony_aws::conversations::Session;
use telephony_aws::{metrics, now_ms, now_secs, Deps, Error};
use telephony_core::prompts::Lang;
use telephony_core::CallSid;

/// Runs the turn for the caller's final `prompt`.
///
/// Errors: storage failures ([`Error`]); model failures end the session instead.
pub async fn run(deps: &Deps, rt: &Runtime, conn: &str, said: &str) -> Result<(), Error> {
    let started = Instant::now();
    let calls = deps.calls();
    let Some(c) = rt.connection(deps, conn).await? else {
        tracing::warn!(connection_id = conn, "prompt before setup ignored");
        return Ok(());
    };
    let sid = c.call_sid;
    let text = prompt::caller_text(said);
    if text.is_empty() {
        return Ok(());
    }
    // The history write and the number's config (cached) and known-caller lookups are
    // independent: one wait.
    let (sess, number) = tokio::join!(
        calls.update_session(&sid, None, |s| {
            s.generation += 1;
            s.caller_turns += 1;
            s.history.push(Message::User {
                content: text.clone(),
            });
            true
        }),
        async {
            let number = deps.number_config(&c.to).await;
            let contact = deps.known_caller(&number, &c.from, now_secs()).await;
            (number, contact)
        }
    );
    let (number, contact) = number;
    let Some(sess) = sess? else {
        return Ok(());
    };
    let over_time = now_ms().saturating_sub(sess.started_ms) / 1000 > MAX_SESSION_SECS;
    if sess.caller_turns > MAX_CALLER_TURNS || over_time {
        metrics::count("RelayLimits", None);
        return hand_off(
            deps,
            rt,
            &sid,
            conn,
            &Handoff::new(HandoffCode::Limit, None),
        )
        .await;
    }
    let lang = Lang::from_tag(&sess.lang);
    let tz = number.hours.as_ref().map_or(chrono_tz_default(), |h| h.tz);
    let now: DateTime<Utc> = Utc::now();
    let ctx = CallContext {
        business_name: &number.business_name,
        knowledge: number.ai.as_ref().and_then(|a| a.knowledge.as_deref()),
        hours: number.hours.as_ref(),
        tz,
        now,
        lang,
        caller_first_name: contact.as_ref().map(|c| c.first_name.as_str()),
        consent: sess.consent == "yes",
    };
    let system = prompt::system_prompt(&ctx);
    let tools = prompt::tools();
    let rules = Rules {
        hours: number.hours.as_ref(),
        tz,
        now_secs: now.timestamp(),
        lang,
    };
    let mut sess = sess;
    let mut first_out: Option<Instant> = None;
    for _round in 0..MAX_TOOL_ROUNDS {
        let mut messages = Vec::with_capacity(sess.history.len() + 1);
        messages.push(Message::System {
            content: system.clone(),
        });
        messages.extend(sess.history.iter().cloned());
        let req = ChatRequest {
            model: &rt.model,
            messages: &messages,
            tools: &tools,
            stream: true,
            temperature: Some(0.2),
            max_completion_tokens: Some(300),
        };
        let reply =
            match stream_reply(deps, rt, &sid, conn, &sess, &req, started, &mut first_out).await? {
                Streamed::Reply(r) => r,
                Streamed::Stale => {
                    metrics::count("RelayStaleReplies", None);
                    return Ok(());
                }
                Streamed::Failed(reason) => {
                    tracing::warn!(call_sid = %sid, reason, "model failed; human path");
                    metrics::count("RelayFallbacks", Some(("Reason", reason)));
                    return hand_off(
                        deps,
                        rt,
                        &sid,
                        conn,
                        &Handoff::new(HandoffCode::Fallback, Some(reason)),
                    )
                    .await;
                }
            };
        let calls_made = reply.tool_calls.clone();
        let spoken = (!reply.text.is_empty()).then(|| reply.text.clone());
        let Some(stored) = deps
            .calls()
            .update_session(&sid, Some(sess.generation), |s| {
                s.history.push(Message::Assistant {
                    content: spoken.clone(),
                    tool_calls: calls_made.clone(),
                });
                true
            })
            .await?
        else {
            metrics::count("RelayStaleReplies", None);
            return Ok(());
        };
        sess = stored;
        if calls_made.is_empty() {
            return Ok(());
        }
        for call in &calls_made {
            metrics::count(
                "RelayToolCalls",
                Some(("Tool", tool_dim(&call.function.name))),
            );
            match call.function.name.as_str() {
                TOOL_TRANSFER => {
                    let reason =
                        serde_json::from_str::<serde_json::Value>(&call.function.arguments)
                            .ok()
                            .and_then(|v| v["reason"].as_str().map(str::to_owned));
                    return hand_off(
                        deps,
                        rt,
                        &sid,
                        conn,
                        &Handoff::new(HandoffCode::Transfer, reason.as_deref()),
                    )
                    .await;
                }
                TOOL_END => {
                    return hand_off(
                        deps,
                        rt,
                        &sid,
                        conn,
                        &Handoff::new(HandoffCode::Goodbye, None),
                    )
                    .await;
                }
                _ => {}
            }
            let result = run_tool(deps, &sid, &sess, call, &rules).await?;
            let Some(stored) = deps
                .calls()
                .update_session(&sid, Some(sess.generation), |s| {
                    if let Some(p) = &result.pending {
                        s.pending_booking = Some(p.clone());
                        s.pending_turn = Some(s.caller_turns);
                    }
                    if let Some(b) = &result.booked {
                        s.booking = Some(b.clone());
                        s.pending_booking = None;
                    }
                    s.history.push(Message::Tool {
                        tool_call_id: call.id.clone(),
                        content: result.content.to_string(),
                    });
                    true
                })
                .await?
            else {
                return Ok(());
            };
            sess = stored;
        }
    }
    Ok(())
}

/// The zone of a number without business hours (North American numbers; Toronto as the
/// default, as for the hours parser).
fn chrono_tz_default() -> chrono_tz::Tz {
    chrono_tz::America::Toronto
}

fn tool_dim(name: &str) -> &'static str {
    match name {
        TOOL_BOOK => TOOL_BOOK,
        TOOL_MESSAGE => TOOL_MESSAGE,
        TOOL_TRANSFER => TOOL_TRANSFER,
        TOOL_END => TOOL_END,
        _ => "unknown",
    }
}

/// Ends the session: records a transfer on the call (for the ops views), sends `end` with the
/// hand-off data and stores it on the session.
///
/// Errors: storage failures.
pub async fn hand_off(
    deps: &Deps,
    rt: &Runtime,
    sid: &CallSid,
    conn: &str,
    h: &Handoff,
) -> Result<(), Error> {
    if h.reason_code == HandoffCode::Transfer {
        deps.calls().request_transfer(sid, now_secs()).await?;
    }
    let data = h.to_json();
    deps.calls()
        .update_session(sid, None, |s| {
            s.handoff = Some(data.clone());
            true
        })
        .await?;
    rt.end(conn, h).await;
    Ok(())
}

/// What the model streamed.
struct Reply {
    text: String,
    tool_calls: Vec<ToolCall>,
}

enum Streamed {
    Reply(Reply),
    /// A newer prompt or an interrupt took over.
    Stale,
    /// The model failed; a [`turn::FALLBACK_REASONS`] code.
    Failed(&'static str),
}

/// Streams one completion to the caller: phrases as they complete, each sent only while the
/// turn's generation is current; a filler after [`turn::FILLER_AFTER_MS`] without a token; a
/// failure after [`turn::MODEL_DEADLINE_MS`].
#[allow(clippy::too_many_arguments)]
async fn stream_reply(
    deps: &Deps,
    rt: &Runtime,
    sid: &CallSid,
    conn: &str,
    sess: &Session,
    req: &ChatRequest<'_>,
    started: Instant,
    first_out: &mut Option<Instant>,
) -> Result<Streamed, Error> {
    let lang = Lang::from_tag(&sess.lang);
    let filler_at = started + Duration::from_millis(turn::FILLER_AFTER_MS);
    let deadline = started + Duration::from_millis(turn::MODEL_DEADLINE_MS);
    let mut filler_sent = first_out.is_some();
    let request_at = Instant::now();
    // Connect, then read deltas; before the first token, the filler and the deadline apply.
    let mut stream = loop {
        let wait = if filler_sent {
            deadline
        } else {
            filler_at.min(deadline)
        };
        match tokio::time::timeout_at(wait.into(), rt.llm.stream(req)).await {
            Ok(Ok(s)) => break s,
            Ok(Err(e)) => {
                tracing::warn!(call_sid = %sid, error = %e, "model request failed");
                return Ok(Streamed::Failed("model_unavailable"));
            }
            Err(_) if !filler_sent && Instant::now() < deadline => {
                filler_sent = true;
                say_filler(rt, conn, lang, first_out, started).await;
                // The request future was dropped: start it again (the endpoint saw a cancel).
            }
            Err(_) => return Ok(Streamed::Failed("model_slow")),
        }
    };
    let mut phrases = Phrases::default();
    let mut text = String::new();
    let mut tools = ToolCalls::default();
    let mut first_token = true;
    let mut sent_any = false;
    loop {
        let next = if first_token {
            let wait = if filler_sent {
                deadline
            } else {
                filler_at.min(deadline)
            };
            match tokio::time::timeout_at(wait.into(), stream.next()).await {
                Ok(r) => r,
                Err(_) if !filler_sent && Instant::now() < deadline => {
                    filler_sent = true;
                    say_filler(rt, conn, lang, first_out, started).await;
                    continue;
                }
                Err(_) => return Ok(Streamed::Failed("model_slow")),
            }
        } else {
            stream.next().await
        };
        let delta = match next {
            Ok(Some(d)) => d,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(call_sid = %sid, error = %e, "model stream broke off");
                if sent_any || !tools.is_empty() {
                    break;
                }
                return Ok(Streamed::Failed("model_unavailable"));
            }
        };
        if first_token {
            first_token = false;
            metrics::measure(
                "ModelFirstTokenMs",
                request_at.elapsed().as_secs_f64() * 1000.0,
                "Milliseconds",
            );
        }
        match delta {
            Delta::Text(t) => {
                text.push_str(&t);
                for phrase in phrases.push(&t) {
                    if !current(deps, sid, sess.generation).await? {
                        return Ok(Streamed::Stale);
                    }
                    send_text(rt, conn, phrase, false, first_out, started).await;
                    sent_any = true;
                }
            }
            Delta::ToolCall(f) => tools.push(f),
            Delta::Finish(_) => {}
        }
    }
    if let Some(rest) = phrases.finish() {
        if !current(deps, sid, sess.generation).await? {
            return Ok(Streamed::Stale);
        }
        send_text(rt, conn, rest, true, first_out, started).await;
    } else if sent_any {
        send_text(rt, conn, String::new(), true, first_out, started).await;
    }
    Ok(Streamed::Reply(Reply {
        text: text.trim().to_owned(),
        tool_calls: tools.finish(),
    }))
}

async fn current(deps: &Deps, sid: &CallSid, generation: u64) -> Result<bool, Error> {
    Ok(deps.calls().generation(sid).await? == Some(generation))
}

async fn say_filler(
    rt: &Runtime,
    conn: &str,
    lang: Lang,
    first_out: &mut Option<Instant>,
    started: Instant,
) {
    metrics::count("RelayFillers", None);
    send_text(
        rt,
        conn,
        turn::filler(lang).to_owned(),
        true,
        first_out,
        started,
    )
    .await;
}

async fn send_text(
    rt: &Runtime,
    conn: &str,
    token: String,
    last: bool,
    first_out: &mut Option<Instant>,
    started: Instant,
) {
    let token = if last || token.is_empty() {
        token
    } else {
        format!("{token} ")
    };
    rt.send(
        conn,
        &Outbound::Text {
            token,
            last,
            lang: None,
        },
    )
    .await;
    if first_out.is_none() {
        *first_out = Some(Instant::now());
        metrics::measure(
            "TurnLatencyMs",
            started.elapsed().as_secs_f64() * 1000.0,
            "Milliseconds",
        );
    }
}

/// A tool's result for the model, and what it changes on the session.
struct ToolResult {
    content: serde_json::Value,
    pending: Option<String>,
    booked: Option<String>,
}

async fn run_tool(
    deps: &Deps,
    sid: &CallSid,
    sess: &Session,
    call: &ToolCall,
    rules: &Rules<'_>,
) -> Result<ToolResult, Error> {
    let plain = |content| ToolResult {
        content,
        pending: None,
        booked: None,
    };
    match call.function.name.as_str() {
        TOOL_BOOK => {
            let args: BookingArgs = match serde_json::from_str(&call.function.arguments) {
                Ok(a) => a,
                Err(e) => return Ok(plain(json!({"status": "invalid", "error": e.to_string()}))),
            };
            let last_user = sess.history.iter().rev().find_map(|m| match m {
                Message::User { content } => Some(content.as_str()),
                _ => None,
            });
            let affirmed = sess.pending_turn.is_some_and(|t| sess.caller_turns > t)
                && last_user.is_some_and(booking::is_affirmative);
            let decision = booking::check(&args, rules, sess.pending_booking.as_deref(), affirmed);
            match &decision {
                Booking::Refuse { reason, say } => {
                    metrics::count("RelayBookings", Some(("Outcome", "refused")));
                    Ok(plain(
                        json!({"status": "refused", "reason": reason.code(), "say": say}),
                    ))
                }
                Booking::ReadBack { slot, say } => {
                    metrics::count("RelayBookings", Some(("Outcome", "read_back")));
                    Ok(ToolResult {
                        content: json!({"status": "read_back", "start": slot.local, "say": say}),
                        pending: Some(slot.local.clone()),
                        booked: None,
                    })
                }
                Booking::Accept { slot, say } => {
                    let rfc = |secs: i64| {
                        DateTime::from_timestamp(secs, 0)
                            .map(|t| t.with_timezone(&rules.tz).to_rfc3339())
                            .unwrap_or_default()
                    };
                    let details = json!({
                        "caller_name": args.caller_name.as_deref().map(|n| n.chars().take(100).collect::<String>()),
                        "callback": sess.from,
                        "window_start": rfc(slot.start_secs),
                        "window_end": rfc(slot.end_secs),
                        "reason": args.reason.as_deref().map(|r| r.chars().take(300).collect::<String>()),
                        "spoken": slot.spoken,
                    });
                    let claim = deps
                        .calls()
                        .claim_tool_call(&call.id, sid, TOOL_BOOK, &details.to_string(), now_secs())
                        .await?;
                    if claim == Claim::Created {
                        metrics::count("RelayBookings", Some(("Outcome", "booked")));
                    }
                    Ok(ToolResult {
                        content: json!({"status": "booked", "start": slot.local, "say": say}),
                        pending: None,
                        booked: Some(details.to_string()),
                    })
                }
            }
        }
        TOOL_MESSAGE => {
            let v: serde_json::Value =
                serde_json::from_str(&call.function.arguments).unwrap_or_default();
            let Some(message) = v["message"]
                .as_str()
                .map(prompt::caller_text)
                .filter(|m| !m.is_empty())
            else {
                return Ok(plain(
                    json!({"status": "invalid", "error": "message is required"}),
                ));
            };
            let details = json!({
                "message": message.chars().take(2000).collect::<String>(),
                "caller_name": v["caller_name"].as_str(),
                "callback": v["callback"].as_str().unwrap_or(&sess.from),
            });
            deps.calls()
                .claim_tool_call(
                    &call.id,
                    sid,
                    TOOL_MESSAGE,
                    &details.to_string(),
                    now_secs(),
                )
                .await?;
            let say = match Lang::from_tag(&sess.lang) {
                Lang::En => "I've passed your message on to the team.",
                Lang::Fr => "J'ai transmis votre message à l'équipe.",
            };
            Ok(plain(json!({"status": "taken", "say": say})))
        }
        other => Ok(plain(json!({"status": "unknown_tool", "tool": other}))),
    }
}
