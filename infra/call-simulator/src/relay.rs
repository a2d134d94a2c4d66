//! Twilio's side of a `<Connect><ConversationRelay>` (issue 28 §9): the WebSocket handshake
//! signed like Twilio signs it (`X-Twilio-Signature` over the relay URL, no parameters), the
//! `setup` message with the `<Parameter>`s, then the caller's turns as `prompt`s (or `dtmf:D`
//! for a key, `interrupt:HEARD` for a barge-in, `wait:SECONDS` to listen in silence), collecting the `text` tokens of each reply until
//! its last one and a short quiet, and the `end` with its `handoffData`.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// How long a reply may take to start (the receptionist's filler comes after 2.5 s, the
/// hand-off after 8 s).
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(12);
/// Quiet after a reply's last token before the caller speaks again (a tool round may follow).
pub const QUIET: Duration = Duration::from_millis(700);

/// An open relay socket.
pub struct RelaySocket {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl RelaySocket {
    /// Opens `url` with `signature` as `X-Twilio-Signature` (none when `None`).
    ///
    /// Errors: the handshake was refused (the status) or the connection failed.
    pub async fn connect(url: &str, signature: Option<&str>) -> Result<Self, String> {
        let mut req = url.into_client_request().map_err(|e| e.to_string())?;
        if let Some(sig) = signature {
            req.headers_mut().insert(
                "X-Twilio-Signature",
                sig.parse().map_err(|_| "bad signature header")?,
            );
        }
        let (ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .map_err(|e| match e {
                tokio_tungstenite::tungstenite::Error::Http(r) => {
                    format!("handshake refused: {}", r.status().as_u16())
                }
                other => other.to_string(),
            })?;
        Ok(Self { ws })
    }

    /// Sends one JSON message.
    pub async fn send(&mut self, v: &Value) -> bool {
        self.ws
            .send(Message::Text(v.to_string().into()))
            .await
            .is_ok()
    }

    /// The next JSON message within `timeout`; `None` on timeout or when the socket closed.
    pub async fn next(&mut self, timeout: Duration) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.ws.next()).await.ok()?? {
                Ok(Message::Text(t)) => return serde_json::from_str(&t).ok(),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Whether the server closed the socket within `timeout`.
    pub async fn closed_within(&mut self, timeout: Duration) -> bool {
        matches!(
            tokio::time::timeout(timeout, self.ws.next()).await,
            Ok(None | Some(Ok(Message::Close(_)) | Err(_)))
        )
    }

    /// Closes the socket (the caller hung up).
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// One caller turn and what came back.
#[derive(Debug, Clone, Default)]
pub struct RelayTurn {
    /// What the caller said (or `dtmf:0`).
    pub said: String,
    /// The reply's phrases, in order.
    pub heard: Vec<String>,
    /// Prompt sent → first `text` token, milliseconds.
    pub latency_ms: Option<u64>,
}

/// What happened on a relay session.
#[derive(Debug, Clone, Default)]
pub struct RelayRun {
    /// The turns.
    pub turns: Vec<RelayTurn>,
    /// `handoffData` of the `end`, if the receptionist ended the session.
    pub handoff: Option<String>,
    /// Why the session failed (handshake refused, socket closed by the server).
    pub error: Option<String>,
    /// The caller hung up after the last turn (no `end` came).
    pub hung_up: bool,
}

/// The `setup` message for a call.
pub fn setup_message(
    call_sid: &str,
    account_sid: &str,
    from: &str,
    to: &str,
    parameters: &[(String, String)],
) -> Value {
    let custom: serde_json::Map<String, Value> = parameters
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "type": "setup",
        "sessionId": format!("VX{}", &call_sid.get(2..).unwrap_or("")),
        "accountSid": account_sid,
        "parentCallSid": "",
        "callSid": call_sid,
        "from": from,
        "to": to,
        "forwardedFrom": "",
        "callType": "PSTN",
        "callerName": "",
        "direction": "inbound",
        "callStatus": "IN-PROGRESS",
        "customParameters": custom,
    })
}

/// The message for one scripted caller turn: `dtmf:D`, `interrupt:HEARD`, or speech.
pub fn turn_message(said: &str) -> Value {
    if let Some(d) = said.strip_prefix("dtmf:") {
        json!({"type": "dtmf", "digit": d})
    } else if let Some(h) = said.strip_prefix("interrupt:") {
        json!({"type": "interrupt", "utteranceUntilInterrupt": h, "durationUntilInterruptMs": 900})
    } else {
        json!({"type": "prompt", "voicePrompt": said, "lang": "en-US", "last": true})
    }
}

/// Plays a whole session: connect (signed with `auth_token`), `setup`, each of `says`, then hang
/// up unless the receptionist ended it.
pub async fn converse(url: &str, auth_token: &str, setup: &Value, says: &[String]) -> RelayRun {
    let mut run = RelayRun::default();
    let sig = telephony_core::signature::compute(auth_token, url, &[]);
    let mut ws = match RelaySocket::connect(url, Some(&sig)).await {
        Ok(ws) => ws,
        Err(e) => {
            run.error = Some(e);
            return run;
        }
    };
    ws.send(setup).await;
    for said in says {
        let mut turn = RelayTurn {
            said: said.clone(),
            ..Default::default()
        };
        let sent = Instant::now();
        // `wait:SECONDS`: the caller stays silent and listens that long.
        let mut wait = match said
            .strip_prefix("wait:")
            .and_then(|s| s.parse::<u64>().ok())
        {
            Some(secs) => Duration::from_secs(secs),
            None => {
                ws.send(&turn_message(said)).await;
                REPLY_TIMEOUT
            }
        };
        while let Some(msg) = ws.next(wait).await {
            match msg["type"].as_str() {
                Some("text") => {
                    turn.latency_ms
                        .get_or_insert(sent.elapsed().as_millis() as u64);
                    let token = msg["token"].as_str().unwrap_or("").trim();
                    if !token.is_empty() {
                        turn.heard.push(token.to_owned());
                    }
                    wait = if msg["last"] == true {
                        QUIET
                    } else {
                        REPLY_TIMEOUT
                    };
                }
                Some("end") => {
                    run.handoff = msg["handoffData"].as_str().map(str::to_owned);
                    run.turns.push(turn);
                    return run;
                }
                _ => {}
            }
        }
        run.turns.push(turn);
        if said.starts_with("interrupt:") {
            continue;
        }
    }
    if ws.closed_within(Duration::from_millis(50)).await {
        run.error = Some("socket closed by the server".into());
        return run;
    }
    run.hung_up = true;
    ws.close().await;
    run
}
