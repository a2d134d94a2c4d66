//! The HTTP client: `POST {base_url}/chat/completions` with `Authorization: Bearer <key>`, the
//! response read as server-sent events, chunk by chunk (reqwest's `Response::chunk`).

use crate::sse::{Event, Parser};
use crate::{ChatRequest, Chunk, Delta, LlmError};
use std::collections::VecDeque;

/// A Chat Completions endpoint.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    api_key: Option<String>,
}

impl Client {
    /// `base_url` such as `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1` (Ollama);
    /// `api_key` sent as a bearer token when given. Timeouts belong to `http` and the caller.
    pub fn new(http: reqwest::Client, base_url: &str, api_key: Option<String>) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
        }
    }

    /// Starts a streamed completion.
    ///
    /// Errors: [`LlmError::Connect`] (unreachable), [`LlmError::Status`] (non-2xx: 429 throttled,
    /// 401, 5xx).
    pub async fn stream(&self, req: &ChatRequest<'_>) -> Result<ChatStream, LlmError> {
        let mut b = self
            .http
            .post(format!("{}/chat/completions", self.base_url))
            .header("content-type", "application/json")
            .header("accept", "text/event-stream")
            .body(serde_json::to_vec(req).map_err(|e| LlmError::Protocol(e.to_string()))?);
        if let Some(key) = &self.api_key {
            b = b.bearer_auth(key);
        }
        let resp = b
            .send()
            .await
            .map_err(|e| LlmError::Connect(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(LlmError::Status {
                status: resp.status().as_u16(),
            });
        }
        Ok(ChatStream {
            resp,
            parser: Parser::default(),
            queue: VecDeque::new(),
            done: false,
        })
    }
}

/// A completion being streamed: [`ChatStream::next`] gives its [`Delta`]s in order.
#[derive(Debug)]
pub struct ChatStream {
    resp: reqwest::Response,
    parser: Parser,
    queue: VecDeque<Delta>,
    done: bool,
}

impl ChatStream {
    /// The next delta; `None` after `[DONE]` or the end of the body.
    ///
    /// Errors: [`LlmError::Connect`] (the body broke off), [`LlmError::Protocol`] (an event that
    /// is not a chunk).
    pub async fn next(&mut self) -> Result<Option<Delta>, LlmError> {
        loop {
            if let Some(d) = self.queue.pop_front() {
                return Ok(Some(d));
            }
            if self.done {
                return Ok(None);
            }
            let Some(bytes) = self
                .resp
                .chunk()
                .await
                .map_err(|e| LlmError::Connect(e.to_string()))?
            else {
                self.done = true;
                continue;
            };
            for event in self.parser.feed(&bytes).map_err(LlmError::Protocol)? {
                match event {
                    Event::Done => self.done = true,
                    Event::Data(data) => {
                        let chunk: Chunk = serde_json::from_str(&data)
                            .map_err(|e| LlmError::Protocol(e.to_string()))?;
                        self.queue.extend(chunk.deltas());
                    }
                }
            }
        }
    }
}
