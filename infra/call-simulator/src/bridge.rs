//! The AI side of a `<Connect><Stream>` for local runs and tests (issue 12): a small fake media
//! bridge (a WebSocket server speaking Twilio's Media Streams messages) and Twilio's side of the
//! stream, which the simulator plays.
//!
//! Messages (Twilio "Media Streams — WebSocket messages"), Twilio → bridge: `connected`, `start`
//! (with `start.customParameters`: the `<Parameter>`s, among them `token`), `media` (base64
//! 8 kHz µ-law), `dtmf`, `stop`; bridge → Twilio: `media`, `mark`. The stream ends when either side
//! closes the socket; Twilio then requests the `<Connect action>`.
//!
//! The fake bridge verifies the stream token (`STREAM_SECRET`) and closes with 1008 (policy
//! violation) on a bad one. The caller "speaks" to it with keys: `1` books an appointment, `0`
//! asks for a person; after the tool call the AI says goodbye and closes (a normal end).

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use telephony_core::stream;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// How the AI bridge behaves on a call (`--ai`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AiPlay {
    /// Connects at once; the caller books an appointment; the AI ends the call.
    Ok,
    /// Connects 3.5 s after the `<Connect>` (past the 3 s watchdog), then as `Ok`.
    Late,
    /// The bridge is down: no WebSocket, a `stream-error` (31920, handshake error).
    Fail,
    /// Connects at once; the caller asks for a person; the AI hands over.
    Transfer,
}

impl AiPlay {
    /// From `ok|late|fail|transfer`.
    ///
    /// Errors: a message listing the modes.
    pub fn parse(v: &str) -> Result<Self, String> {
        match v {
            "ok" => Ok(AiPlay::Ok),
            "late" => Ok(AiPlay::Late),
            "fail" => Ok(AiPlay::Fail),
            "transfer" => Ok(AiPlay::Transfer),
            other => Err(format!("--ai {other:?}: use ok, late, fail or transfer")),
        }
    }

    /// Delay before the stream connects.
    pub fn delay(self) -> Duration {
        match self {
            AiPlay::Late => Duration::from_millis(3_500),
            _ => Duration::ZERO,
        }
    }

    /// The key the caller presses to the AI: `1` (book) or `0` (a person).
    pub fn digit(self) -> &'static str {
        match self {
            AiPlay::Transfer => "0",
            _ => "1",
        }
    }
}

/// What Twilio observed on one stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamRun {
    /// Unix ms the WebSocket was accepted (`stream-started`); `None` if it never was.
    pub started_at_ms: Option<u64>,
    /// `StreamError` to report (`stream-error`), if the stream failed.
    pub error: Option<String>,
    /// What happened, for the log.
    pub notes: Vec<String>,
}

/// One `<Connect><Stream>` as Twilio starts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRequest {
    /// `<Stream url>`.
    pub url: String,
    /// The call.
    pub call_sid: String,
    /// Its account.
    pub account_sid: String,
    /// `<Parameter>`s.
    pub parameters: Vec<(String, String)>,
    /// How the bridge behaves.
    pub play: AiPlay,
}

impl StreamRequest {
    /// The `token` parameter.
    pub fn token(&self) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.as_str())
    }

    /// The stream SID Twilio would give this stream (derived from the CallSid).
    pub fn stream_sid(&self) -> String {
        format!("MZ{}", self.call_sid.get(2..).unwrap_or(""))
    }
}

/// Unix milliseconds now.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The tool call the AI makes when the caller presses `digit` (`1` → `book_appointment`, `0` →
/// `transfer_to_human`), as the JSON body of `POST /voice-action`; `None` for other keys.
pub fn tool_call_for(digit: &str, call_sid: &str) -> Option<Value> {
    let tail = call_sid
        .get(call_sid.len().saturating_sub(8)..)
        .unwrap_or("x");
    let id = format!("fake-{tail}-{digit}");
    // Tomorrow 09:00–11:00 at UTC−7: always a window in the future.
    let day = (chrono::Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%d");
    match digit {
        "1" => Some(json!({
            "call_sid": call_sid,
            "tool": "book_appointment",
            "tool_call_id": id,
            "arguments": {
                "caller_name": "Sam Lee",
                "callback": "+14035550123",
                "window_start": format!("{day}T09:00:00-07:00"),
                "window_end": format!("{day}T11:00:00-07:00"),
                "reason": "Furnace service quote",
            },
        })),
        "0" => Some(json!({
            "call_sid": call_sid,
            "tool": "transfer_to_human",
            "tool_call_id": id,
            "arguments": { "reason": "caller asked for a person" },
        })),
        _ => None,
    }
}

/// Runs the fake bridge on `listener`: one task per WebSocket; tool calls go to `action_url`
/// (`…/voice-action`) with the call's token. Runs until the process ends.
pub async fn serve(listener: TcpListener, secret: String, action_url: String) {
    let http = reqwest::Client::new();
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let (secret, action_url, http) = (secret.clone(), action_url.clone(), http.clone());
        tokio::spawn(async move {
            if let Err(e) = session(tcp, &secret, &action_url, &http).await {
                eprintln!("fake-bridge: {e}");
            }
        });
    }
}

async fn session(
    tcp: tokio::net::TcpStream,
    secret: &str,
    action_url: &str,
    http: &reqwest::Client,
) -> Result<(), String> {
    let mut ws = tokio_tungstenite::accept_async(tcp)
        .await
        .map_err(|e| e.to_string())?;
    let mut call: Option<(String, String, String)> = None; // (call sid, stream sid, token)
    while let Some(msg) = ws.next().await {
        let Ok(Message::Text(text)) = msg else {
            continue;
        };
        let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        match v["event"].as_str() {
            Some("start") => {
                let sid = v["start"]["callSid"].as_str().unwrap_or("").to_owned();
                let stream_sid = v["streamSid"].as_str().unwrap_or("").to_owned();
                let token = v["start"]["customParameters"]["token"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned();
                let now = now_ms() / 1000;
                if let Err(e) = stream::verify(secret.as_bytes(), &token, &sid, now) {
                    eprintln!("fake-bridge: {sid}: token refused ({e}); closing");
                    let _ = ws
                        .close(Some(CloseFrame {
                            code: CloseCode::Policy,
                            reason: e.to_string().into(),
                        }))
                        .await;
                    return Ok(());
                }
                let name = v["start"]["customParameters"]["business_name"]
                    .as_str()
                    .unwrap_or("");
                eprintln!("fake-bridge: {sid}: answering for {name}");
                let silence = base64::engine::general_purpose::STANDARD.encode([0xFFu8; 160]);
                let greeting = json!({"event": "media", "streamSid": stream_sid, "media": {"payload": silence}});
                let mark =
                    json!({"event": "mark", "streamSid": stream_sid, "mark": {"name": "greeting"}});
                for m in [greeting, mark] {
                    ws.send(Message::Text(m.to_string().into()))
                        .await
                        .map_err(|e| e.to_string())?;
                }
                call = Some((sid, stream_sid, token));
            }
            Some("dtmf") => {
                let digit = v["dtmf"]["digit"].as_str().unwrap_or("");
                let Some((sid, _, token)) = &call else {
                    continue;
                };
                let Some(body) = tool_call_for(digit, sid) else {
                    continue;
                };
                let reply = http
                    .post(action_url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await;
                match reply {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let text = r.text().await.unwrap_or_default();
                        eprintln!("fake-bridge: {sid}: {} → {status} {text}", body["tool"]);
                    }
                    Err(e) => eprintln!("fake-bridge: {sid}: tool call failed: {e}"),
                }
                // The AI's turn is over: it ends the stream (goodbye or hand-over).
                let _ = ws.close(None).await;
                return Ok(());
            }
            Some("stop") => return Ok(()),
            _ => {}
        }
    }
    Ok(())
}

/// Twilio's side of a stream against a real bridge: after `req.play`'s delay, opens the
/// WebSocket, sends `connected`, `start` (the parameters as `customParameters`), a few `media`
/// frames and the caller's key as `dtmf`, then waits (at most 10 s) for the bridge to close.
/// Unreachable bridge or `AiPlay::Fail` → `stream-error` 31920 without a start; a close with
/// 1008 or any protocol failure after the start → `stream-error` 31921.
pub async fn play_twilio_side(req: &StreamRequest) -> StreamRun {
    let mut run = StreamRun::default();
    if req.play == AiPlay::Fail {
        run.error = Some("31920 Stream - WebSocket - Handshake Error (bridge unavailable)".into());
        run.notes.push("bridge down: no WebSocket".into());
        return run;
    }
    tokio::time::sleep(req.play.delay()).await;
    let (mut ws, _) = match tokio_tungstenite::connect_async(req.url.as_str()).await {
        Ok(ok) => ok,
        Err(e) => {
            run.error = Some(format!("31920 Stream - WebSocket - Handshake Error ({e})"));
            run.notes
                .push(format!("could not connect to {}: {e}", req.url));
            return run;
        }
    };
    run.started_at_ms = Some(now_ms());
    let stream_sid = req.stream_sid();
    let params: serde_json::Map<String, Value> = req
        .parameters
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let silence = base64::engine::general_purpose::STANDARD.encode([0xFFu8; 160]);
    let mut out = vec![
        json!({"event": "connected", "protocol": "Call", "version": "1.0.0"}),
        json!({"event": "start", "sequenceNumber": "1", "streamSid": stream_sid, "start": {
            "accountSid": req.account_sid, "streamSid": stream_sid, "callSid": req.call_sid,
            "tracks": ["inbound"], "customParameters": params,
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}),
    ];
    for i in 0..3 {
        out.push(json!({"event": "media", "sequenceNumber": (i + 2).to_string(), "streamSid": stream_sid,
            "media": {"track": "inbound", "chunk": (i + 1).to_string(), "timestamp": (i * 20).to_string(), "payload": silence}}));
    }
    out.push(
        json!({"event": "dtmf", "sequenceNumber": "5", "streamSid": stream_sid,
        "dtmf": {"track": "inbound_track", "digit": req.play.digit()}}),
    );
    for m in out {
        if let Err(e) = ws.send(Message::Text(m.to_string().into())).await {
            run.error = Some(format!("31921 Stream - WebSocket - Close Error ({e})"));
            return run;
        }
    }
    let mut received = 0;
    let wait = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(msg) = ws.next().await {
            match msg {
                Ok(Message::Close(frame)) => return frame,
                Ok(_) => received += 1,
                Err(_) => return None,
            }
        }
        None
    })
    .await;
    match wait {
        Ok(Some(frame)) if frame.code == CloseCode::Policy => {
            run.error = Some(format!(
                "31921 Stream - WebSocket - Close Error ({})",
                frame.reason
            ));
            run.notes
                .push(format!("bridge refused the stream: {}", frame.reason));
        }
        Ok(_) => run.notes.push(format!(
            "bridge answered ({received} messages) and ended the stream"
        )),
        Err(_) => {
            let _ = ws
                .send(Message::Text(
                    json!({"event": "stop", "streamSid": stream_sid})
                        .to_string()
                        .into(),
                ))
                .await;
            run.notes
                .push("bridge kept the stream open 10 s; the caller hung up".into());
        }
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_tool_calls() {
        assert_eq!(AiPlay::parse("late"), Ok(AiPlay::Late));
        assert!(AiPlay::parse("slow")
            .unwrap_err()
            .contains("ok, late, fail or transfer"));
        assert!(AiPlay::Late.delay() > Duration::from_secs(3));
        let call = "CA0123456789abcdef0123456789abcdef";
        assert_eq!(
            tool_call_for("1", call).unwrap()["tool"],
            "book_appointment"
        );
        assert_eq!(
            tool_call_for("0", call).unwrap()["tool"],
            "transfer_to_human"
        );
        assert!(tool_call_for("5", call).is_none());
    }

    /// The fake bridge against Twilio's side over a real socket: a good token is answered and the
    /// AI ends the stream; a forged one is refused with 1008.
    #[tokio::test]
    async fn the_fake_bridge_verifies_the_token() {
        let secret = "s".repeat(32);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/media", listener.local_addr().unwrap());
        // Tool calls go nowhere (a closed port): the bridge still ends the stream.
        tokio::spawn(serve(
            listener,
            secret.clone(),
            "http://127.0.0.1:9/voice-action".into(),
        ));
        let call = "CA0123456789abcdef0123456789abcdef";
        let req = |token: String| StreamRequest {
            url: url.clone(),
            call_sid: call.into(),
            account_sid: "AC0123456789abcdef0123456789abcdef".into(),
            parameters: vec![("token".into(), token)],
            play: AiPlay::Ok,
        };
        let good = stream::issue(secret.as_bytes(), call, now_ms() / 1000);
        let run = play_twilio_side(&req(good)).await;
        assert!(
            run.started_at_ms.is_some() && run.error.is_none(),
            "{run:?}"
        );
        let forged = stream::issue(b"another-secret", call, now_ms() / 1000);
        let run = play_twilio_side(&req(forged)).await;
        assert!(
            run.error.as_deref().unwrap().starts_with("31921"),
            "{run:?}"
        );
    }
}
