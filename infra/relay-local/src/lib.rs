//! Local stand-ins for the AI receptionist's two outside parts (issue 28 §9), used by `make run`
//! and the tests; neither is deployed.
//!
//! - [`gateway`]: API Gateway's WebSocket API on 127.0.0.1: accepts the ConversationRelay
//!   socket, invokes the `$connect`/`$default`/`$disconnect` functions with API Gateway's event
//!   shape (messages of one connection concurrently, as API Gateway does), and serves the
//!   Management API's `@connections` endpoint the functions reply through.
//! - [`standin`]: a deterministic model behind the streaming Chat Completions protocol
//!   (`POST /v1/chat/completions`, server-sent `chat.completion.chunk`s, `[DONE]`). It is a
//!   stand-in, not a model: simple rules on the last message (answers from the business facts,
//!   books times it reads, confirms on a yes, transfers, ends). Point `LLM_BASE_URL` at a real
//!   endpoint (OpenAI, or a local Ollama's `http://127.0.0.1:11434/v1`) to talk to a model.

pub mod gateway;
mod http_lite;
pub mod standin;
