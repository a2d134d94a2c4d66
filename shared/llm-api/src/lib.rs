//! The OpenAI-compatible Chat Completions API with streaming (`POST {base}/chat/completions`,
//! `stream: true`), as OpenAI, Azure OpenAI, Amazon Bedrock's OpenAI-compatible endpoint, vLLM
//! and Ollama serve it. The contract is OpenAI's published OpenAPI document: requests are
//! `CreateChatCompletionRequest`, streamed chunks `CreateChatCompletionStreamResponse` (the tests
//! validate both against the vendored schemas in `infra/openai-oai/`).
//!
//! - [`Message`], [`ChatRequest`], [`ToolSpec`]: what we send;
//! - [`sse::Parser`]: server-sent events (WHATWG HTML "Server-sent events") → `data:` payloads;
//! - [`Chunk`] / [`Delta`]: one streamed chunk and what it adds; [`ToolCalls`] assembles the
//!   tool calls that arrive in fragments;
//! - [`Client`] (feature `client`): the HTTP client streaming [`Delta`]s.

#[cfg(feature = "client")]
mod client;
pub mod sse;

#[cfg(feature = "client")]
pub use client::{ChatStream, Client};

use serde::{Deserialize, Serialize};

/// One message of the conversation (`ChatCompletionRequestMessage`, by `role`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum Message {
    /// The rules (`ChatCompletionRequestSystemMessage`).
    System {
        /// The text.
        content: String,
    },
    /// What the caller said (`ChatCompletionRequestUserMessage`).
    User {
        /// The text.
        content: String,
    },
    /// What the model said or asked to run (`ChatCompletionRequestAssistantMessage`).
    Assistant {
        /// The text; `None` for a message with only tool calls.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<String>,
        /// Tools the model called.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall>,
    },
    /// A tool's result (`ChatCompletionRequestToolMessage`).
    Tool {
        /// The id of the call it answers.
        tool_call_id: String,
        /// The result (we send JSON text).
        content: String,
    },
}

/// A complete tool call (`ChatCompletionMessageToolCall`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The model's id of the call: our idempotency key for its effect.
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Which function, with which arguments.
    pub function: FunctionCall,
}

/// The function of a [`ToolCall`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// The tool's name.
    pub name: String,
    /// Its arguments as a JSON text (the model's, unparsed).
    pub arguments: String,
}

/// A tool the model may call (`ChatCompletionTool`): `{"type": "function", "function": {name,
/// description, parameters}}` with `parameters` a JSON Schema object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolSpec {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The function.
    pub function: FunctionSpec,
}

/// The function of a [`ToolSpec`] (`FunctionObject`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionSpec {
    /// `a-z A-Z 0-9 _ -`, at most 64 characters.
    pub name: &'static str,
    /// What it does, for the model.
    pub description: &'static str,
    /// A JSON Schema object of the arguments.
    pub parameters: serde_json::Value,
}

/// `POST /chat/completions` body (`CreateChatCompletionRequest`, the fields we use).
#[derive(Debug, Clone, Serialize)]
pub struct ChatRequest<'a> {
    /// Model id, e.g. `gpt-4o-mini`, `llama3.1`.
    pub model: &'a str,
    /// System message first, then the conversation.
    pub messages: &'a [Message],
    /// Tools offered; omitted when empty.
    #[serde(skip_serializing_if = "<[ToolSpec]>::is_empty")]
    pub tools: &'a [ToolSpec],
    /// Always `true` here: the reply is streamed.
    pub stream: bool,
    /// Sampling temperature 0–2; low for a receptionist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Upper bound on generated tokens (spoken replies are short).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
}

/// One streamed chunk (`CreateChatCompletionStreamResponse`, the fields we read).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Chunk {
    /// Usually one choice; empty in a usage-only last chunk.
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
}

/// A choice of a [`Chunk`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChunkChoice {
    /// What this chunk adds.
    #[serde(default)]
    pub delta: ChunkDelta,
    /// `stop`, `length`, `tool_calls`, `content_filter` on the last chunk of the choice.
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// `ChatCompletionStreamResponseDelta` (the fields we read).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ChunkDelta {
    /// A fragment of the reply text.
    #[serde(default)]
    pub content: Option<String>,
    /// Fragments of tool calls.
    #[serde(default)]
    pub tool_calls: Vec<ToolCallFragment>,
}

/// `ChatCompletionMessageToolCallChunk`: the first fragment of a call carries `id` and the
/// function `name`; later ones append to `arguments`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ToolCallFragment {
    /// Which call of this reply (0, 1, …).
    pub index: u32,
    /// The call's id (first fragment).
    #[serde(default)]
    pub id: Option<String>,
    /// Name and argument text fragments.
    #[serde(default)]
    pub function: Option<FunctionFragment>,
}

/// The function part of a [`ToolCallFragment`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct FunctionFragment {
    /// The name (first fragment).
    #[serde(default)]
    pub name: Option<String>,
    /// More argument text.
    #[serde(default)]
    pub arguments: Option<String>,
}

/// What one streamed event adds to the reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Delta {
    /// Reply text.
    Text(String),
    /// A fragment of a tool call (feed it to [`ToolCalls::push`]).
    ToolCall(ToolCallFragment),
    /// The choice finished, and why (`stop`, `tool_calls`, `length`, …).
    Finish(String),
}

impl Chunk {
    /// The deltas of the first choice, in order (other choices are not requested: `n` = 1).
    pub fn deltas(self) -> Vec<Delta> {
        let mut out = Vec::new();
        if let Some(choice) = self.choices.into_iter().next() {
            if let Some(t) = choice.delta.content.filter(|t| !t.is_empty()) {
                out.push(Delta::Text(t));
            }
            out.extend(choice.delta.tool_calls.into_iter().map(Delta::ToolCall));
            if let Some(r) = choice.finish_reason {
                out.push(Delta::Finish(r));
            }
        }
        out
    }
}

/// Assembles streamed [`ToolCallFragment`]s into complete [`ToolCall`]s, by `index`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolCalls {
    calls: Vec<(u32, ToolCall)>,
}

impl ToolCalls {
    /// Adds a fragment: a new index starts a call, a known one appends to its arguments.
    pub fn push(&mut self, f: ToolCallFragment) {
        let function = f.function.unwrap_or_default();
        match self.calls.iter_mut().find(|(i, _)| *i == f.index) {
            Some((_, call)) => {
                if let Some(id) = f.id {
                    call.id = id;
                }
                if let Some(name) = function.name {
                    call.function.name.push_str(&name);
                }
                if let Some(a) = function.arguments {
                    call.function.arguments.push_str(&a);
                }
            }
            None => self.calls.push((
                f.index,
                ToolCall {
                    id: f.id.unwrap_or_default(),
                    kind: "function".into(),
                    function: FunctionCall {
                        name: function.name.unwrap_or_default(),
                        arguments: function.arguments.unwrap_or_default(),
                    },
                },
            )),
        }
    }

    /// The calls, in index order.
    pub fn finish(mut self) -> Vec<ToolCall> {
        self.calls.sort_by_key(|(i, _)| *i);
        self.calls.into_iter().map(|(_, c)| c).collect()
    }

    /// Whether no fragment arrived.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }
}

/// Why a completion failed.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The endpoint could not be reached, or the connection broke mid-stream.
    #[error("model endpoint unreachable: {0}")]
    Connect(String),
    /// The endpoint answered a non-2xx status (429 throttled, 5xx, 401 bad key…).
    #[error("model endpoint answered {status}")]
    Status {
        /// HTTP status.
        status: u16,
    },
    /// The stream was not server-sent events of chunks.
    #[error("model stream malformed: {0}")]
    Protocol(String),
}

impl LlmError {
    /// A short, stable reason for metrics and hand-off data: `unreachable`, `throttled`,
    /// `status_<n>`, `protocol`.
    pub fn reason(&self) -> String {
        match self {
            LlmError::Connect(_) => "unreachable".into(),
            LlmError::Status { status: 429 } => "throttled".into(),
            LlmError::Status { status } => format!("status_{status}"),
            LlmError::Protocol(_) => "protocol".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_serialize_in_the_openai_shape() {
        let msgs = vec![
            Message::System {
                content: "rules".into(),
            },
            Message::User {
                content: "hi".into(),
            },
            Message::Assistant {
                content: None,
                tool_calls: vec![ToolCall {
                    id: "call_1".into(),
                    kind: "function".into(),
                    function: FunctionCall {
                        name: "end_call".into(),
                        arguments: "{}".into(),
                    },
                }],
            },
            Message::Tool {
                tool_call_id: "call_1".into(),
                content: "{\"ok\":true}".into(),
            },
        ];
        let req = ChatRequest {
            model: "m",
            messages: &msgs,
            tools: &[],
            stream: true,
            temperature: Some(0.2),
            max_completion_tokens: None,
        };
        let v = serde_json::to_value(&req).unwrap();
        assert_eq!(
            v["messages"][0],
            json!({"role": "system", "content": "rules"})
        );
        assert_eq!(
            v["messages"][2],
            json!({"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function",
                   "function": {"name": "end_call", "arguments": "{}"}}]})
        );
        assert_eq!(v["messages"][3]["role"], "tool");
        assert!(v.get("tools").is_none() && v.get("max_completion_tokens").is_none());
        assert_eq!(v["stream"], true);
    }

    #[test]
    fn tool_calls_are_assembled_from_fragments() {
        let mut calls = ToolCalls::default();
        let frag = |index, id: Option<&str>, name: Option<&str>, args: &str| ToolCallFragment {
            index,
            id: id.map(Into::into),
            function: Some(FunctionFragment {
                name: name.map(Into::into),
                arguments: Some(args.into()),
            }),
        };
        calls.push(frag(0, Some("c0"), Some("book_appointment"), "{\"start\":"));
        calls.push(frag(1, Some("c1"), Some("end_call"), "{}"));
        calls.push(frag(0, None, None, "\"2026-12-08T10:00\"}"));
        let done = calls.finish();
        assert_eq!(done.len(), 2);
        assert_eq!(done[0].id, "c0");
        assert_eq!(
            done[0].function.arguments,
            "{\"start\":\"2026-12-08T10:00\"}"
        );
        assert_eq!(done[1].function.name, "end_call");
    }

    #[test]
    fn chunks_give_text_tool_fragments_and_finish_in_order() {
        let c: Chunk = serde_json::from_value(json!({
            "id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": "Hel"}, "finish_reason": null}]
        }))
        .unwrap();
        assert_eq!(c.deltas(), vec![Delta::Text("Hel".into())]);
        let end: Chunk = serde_json::from_value(json!({
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]
        }))
        .unwrap();
        assert_eq!(end.deltas(), vec![Delta::Finish("stop".into())]);
        assert_eq!(LlmError::Status { status: 429 }.reason(), "throttled");
    }
}
