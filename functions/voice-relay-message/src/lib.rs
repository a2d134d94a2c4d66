//! `$default` of the ConversationRelay WebSocket API (issue 28 §2–§5): one invocation per
//! ConversationRelay message, possibly in parallel for one call, so every step is keyed by the
//! CallSid and guarded by the session's generation and version ([`telephony_aws::conversations`]).
//!
//! - `setup`: the call's single-use relay token (`token` `<Parameter>`, [`telephony_core::stream`])
//!   is checked and claimed by creating the session; a bad or replayed token closes the socket
//!   (`RelayRefused`).
//! - `prompt` (final): a turn ([`turn::run`]): the model streams the reply, phrase by phrase, as
//!   `text` tokens; tools run in-process; a hand-off sends `end`.
//! - `interrupt`: bumps the generation (the reply still streaming stops before its next phrase)
//!   and keeps in the history only what the caller heard (`RelayInterrupts`).
//! - `dtmf` `0`: `end` with a transfer hand-off; other keys are ignored.
//! - `error`: logged (`RelayErrors`).
//!
//! Settings of this function only (`Runtime::load`, [`RUNTIME_VARS`]): `RELAY_MANAGEMENT_URL` (the stage's
//! `https://…/{stage}` for `@connections`), `LLM_BASE_URL` (OpenAI-compatible, default
//! `https://api.openai.com/v1`), `LLM_MODEL` (default `gpt-4o-mini`), `LLM_API_KEY` (optional;
//! from Secrets Manager in the template).

pub mod turn;

use conversation::relay::{self, Inbound, Outbound, Setup};
use conversation::turn::{apply_interrupt, dtmf, Handoff};
use telephony_aws::calls::Claim;
use telephony_aws::conversations::{Connection, SessionStart};
use telephony_aws::relay::Relay;
use telephony_aws::ws::WsEvent;
use telephony_aws::{metrics, now_ms, now_secs, ConfigError, Deps};
use telephony_core::prompts::{self, Lang};
use telephony_core::{stream, CallSid};

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: None,
    groups: &[
        &RUNTIME_VARS,
        &telephony_aws::needs::NUMBERS,
        &telephony_aws::needs::NUMBER_DEFAULTS,
        &telephony_aws::needs::CALLS,
        &telephony_aws::needs::HOTLINE,
        &telephony_aws::needs::KNOWN_CALLERS,
        &telephony_aws::needs::STREAM_TOKENS,
        &telephony_aws::needs::VOICEMAIL_NOTICES,
    ],
};

/// The variables [`Runtime::load`] reads.
pub const RUNTIME_VARS: telephony_aws::VarGroup = telephony_aws::VarGroup {
    required: &["RELAY_MANAGEMENT_URL"],
    optional: &["LLM_BASE_URL", "LLM_API_KEY", "LLM_MODEL"],
};

/// What this function builds once besides [`Deps`].
#[derive(Debug)]
pub struct Runtime {
    /// Replies on the socket.
    pub relay: Relay,
    /// The model.
    pub llm: llm_api::Client,
    /// Model id.
    pub model: String,
    /// Connection id → what it serves, as read once (it never changes for a connection).
    connections: std::sync::Mutex<std::collections::HashMap<String, Connection>>,
}

/// Connections remembered by a warm function before the memory is cleared.
const MAX_REMEMBERED_CONNECTIONS: usize = 1_000;

impl Runtime {
    /// From the function's environment (module docs; [`RUNTIME_VARS`]).
    ///
    /// Errors: [`ConfigError`] for a missing `RELAY_MANAGEMENT_URL` or SDK settings.
    pub fn load(
        env: &telephony_aws::Env<'_>,
        sdk: &telephony_aws::SdkConfig,
    ) -> Result<Self, ConfigError> {
        let var = |k: &str| env.get(k);
        let management = env.required("RELAY_MANAGEMENT_URL")?;
        Ok(Self::new(
            sdk,
            &management,
            &var("LLM_BASE_URL").unwrap_or_else(|| "https://api.openai.com/v1".into()),
            var("LLM_API_KEY"),
            &var("LLM_MODEL").unwrap_or_else(|| "gpt-4o-mini".into()),
        ))
    }

    /// The clients for `management` (stage URL) and the model at `llm_base_url`.
    pub fn new(
        sdk: &telephony_aws::SdkConfig,
        management: &str,
        llm_base_url: &str,
        api_key: Option<String>,
        model: &str,
    ) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(3))
            .timeout(std::time::Duration::from_secs(25))
            .build()
            .unwrap_or_default();
        Self {
            relay: Relay::new(sdk, management),
            llm: llm_api::Client::new(http, llm_base_url, api_key),
            model: model.to_owned(),
            connections: Default::default(),
        }
    }

    /// What `conn` serves: remembered, else read from the table (`None` before `setup`).
    ///
    /// Errors: storage failures.
    pub async fn connection(
        &self,
        deps: &Deps,
        conn: &str,
    ) -> Result<Option<Connection>, telephony_aws::Error> {
        if let Some(c) = self
            .connections
            .lock()
            .ok()
            .and_then(|m| m.get(conn).cloned())
        {
            return Ok(Some(c));
        }
        let found = deps.calls().connection(conn).await?;
        if let (Some(c), Ok(mut m)) = (&found, self.connections.lock()) {
            if m.len() >= MAX_REMEMBERED_CONNECTIONS {
                m.clear();
            }
            m.insert(conn.to_owned(), c.clone());
        }
        Ok(found)
    }

    /// Sends one message on `connection_id`; a failure is logged and counted (the caller's side
    /// ends on the Connect action if the socket is gone).
    pub async fn send(&self, connection_id: &str, msg: &Outbound) -> bool {
        match self.relay.send(connection_id, &msg.to_json()).await {
            Ok(telephony_aws::relay::Sent::Delivered) => true,
            Ok(telephony_aws::relay::Sent::Gone) => false,
            Err(e) => {
                tracing::error!(connection_id, error = %e, "relay send failed");
                metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
                false
            }
        }
    }

    /// Ends the session with `handoff` (the Connect action decides what the caller hears).
    pub async fn end(&self, connection_id: &str, handoff: &Handoff) -> bool {
        self.send(
            connection_id,
            &Outbound::End {
                handoff_data: handoff.to_json(),
            },
        )
        .await
    }
}

/// Handles one message; always 200 (API Gateway only logs other statuses), except a storage
/// failure (500).
pub async fn handler(deps: &Deps, rt: &Runtime, ev: WsEvent) -> u16 {
    let msg = match relay::parse(&ev.body) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(connection_id = %ev.connection_id, error = %e, "unknown relay message ignored");
            metrics::count("RelayErrors", Some(("Kind", "bad_message")));
            return 200;
        }
    };
    let result = match msg {
        Inbound::Setup(s) => setup(deps, rt, &ev.connection_id, &s).await,
        Inbound::Prompt {
            voice_prompt, last, ..
        } if last != Some(false) => turn::run(deps, rt, &ev.connection_id, &voice_prompt).await,
        Inbound::Prompt { .. } => Ok(()),
        Inbound::Interrupt {
            utterance_until_interrupt,
            ..
        } => interrupt(deps, rt, &ev.connection_id, &utterance_until_interrupt).await,
        Inbound::Dtmf { digit } => match dtmf(&digit) {
            Some(h) => transfer_on_key(deps, rt, &ev.connection_id, &h).await,
            None => Ok(()),
        },
        Inbound::Error { description } => {
            tracing::warn!(connection_id = %ev.connection_id, description, "ConversationRelay reported an error");
            metrics::count("RelayErrors", Some(("Kind", "twilio")));
            Ok(())
        }
    };
    match result {
        Ok(()) => 200,
        Err(e) => {
            tracing::error!(connection_id = %ev.connection_id, error = %e, "relay message not handled");
            metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
            500
        }
    }
}

async fn setup(
    deps: &Deps,
    rt: &Runtime,
    conn: &str,
    s: &Setup,
) -> Result<(), telephony_aws::Error> {
    let refuse = |why: &'static str| async move {
        tracing::warn!(connection_id = conn, reason = why, "relay setup refused");
        metrics::count("RelayRefused", Some(("Reason", why)));
        if let Err(e) = rt.relay.close(conn).await {
            tracing::error!(connection_id = conn, error = %e, "refused relay socket not closed");
        }
    };
    let Ok(sid) = CallSid::parse(&s.call_sid) else {
        refuse("bad_call_sid").await;
        return Ok(());
    };
    let Some(secret) = &deps.config.stream_secret else {
        refuse("not_configured").await;
        return Ok(());
    };
    let token = s
        .custom_parameters
        .get("token")
        .map(String::as_str)
        .unwrap_or("");
    if stream::verify(secret.0.as_bytes(), token, sid.as_str(), now_secs()).is_err() {
        refuse("bad_token").await;
        return Ok(());
    }
    let lang = Lang::from_tag(
        s.custom_parameters
            .get("language")
            .map_or("en", String::as_str),
    );
    let consent = if s.custom_parameters.get("consent").map(String::as_str) == Some("yes") {
        "yes"
    } else {
        "no"
    };
    let number = deps.number_config(&s.to).await;
    let welcome = prompts::fill(lang.texts().ai_welcome, &number.business_name, "", "");
    let start = SessionStart {
        call_sid: &sid,
        session_id: &s.session_id,
        connection_id: conn,
        from: &s.from,
        to: &s.to,
        lang: lang.code(),
        consent,
        started_ms: now_ms(),
        welcome: &welcome,
    };
    match deps.calls().claim_session(&start, now_secs()).await? {
        Claim::Created => {
            tracing::info!(call_sid = %sid, "relay session started");
            metrics::count("RelaySessions", None);
        }
        Claim::AlreadyExists => refuse("token_reused").await,
    }
    Ok(())
}

async fn interrupt(
    deps: &Deps,
    rt: &Runtime,
    conn: &str,
    heard: &str,
) -> Result<(), telephony_aws::Error> {
    let calls = deps.calls();
    let Some(sid) = rt.connection(deps, conn).await?.map(|c| c.call_sid) else {
        return Ok(());
    };
    let heard = conversation::prompt::caller_text(heard);
    calls
        .update_session(&sid, None, |s| {
            s.generation += 1;
            apply_interrupt(&mut s.history, &heard);
            true
        })
        .await?;
    metrics::count("RelayInterrupts", None);
    Ok(())
}

async fn transfer_on_key(
    deps: &Deps,
    rt: &Runtime,
    conn: &str,
    h: &Handoff,
) -> Result<(), telephony_aws::Error> {
    let calls = deps.calls();
    let Some(sid) = calls.call_of_connection(conn).await? else {
        return Ok(());
    };
    turn::hand_off(deps, rt, &sid, conn, h).await
}
