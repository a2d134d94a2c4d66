//! The Lambda glue of the WebSocket API (issue 28 §2): API Gateway's WebSocket event
//! (`requestContext.routeKey` `$connect` / `$default` / `$disconnect`, `connectionId`,
//! `domainName`, `stage`; the frame in `body`; headers on `$connect`) in, `{"statusCode": n}`
//! out (a non-2xx on `$connect` refuses the handshake; on other routes API Gateway only logs it).

use crate::config::{process_env, Env, Needs};
use crate::{metrics, Deps, LambdaError};
use std::collections::HashMap;
use std::future::Future;

/// One WebSocket event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WsEvent {
    /// `$connect`, `$default`, `$disconnect`.
    pub route_key: String,
    /// API Gateway's id of the connection.
    pub connection_id: String,
    /// The text frame (`$default`), empty otherwise.
    pub body: String,
    /// Handshake headers, names lower-cased (`$connect`).
    pub headers: HashMap<String, String>,
}

impl WsEvent {
    /// From the event JSON.
    ///
    /// Errors: no `requestContext.routeKey` or `connectionId`.
    pub fn from_event(v: &serde_json::Value) -> Result<Self, String> {
        let ctx = &v["requestContext"];
        let field = |k: &str| {
            ctx[k]
                .as_str()
                .map(str::to_owned)
                .ok_or(format!("requestContext.{k} missing"))
        };
        let mut body = v["body"].as_str().unwrap_or("").to_owned();
        if v["isBase64Encoded"].as_bool() == Some(true) {
            use base64::Engine;
            body = base64::engine::general_purpose::STANDARD
                .decode(body.as_bytes())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or("body is not base64 UTF-8")?;
        }
        let headers = v["headers"]
            .as_object()
            .map(|h| {
                h.iter()
                    .filter_map(|(k, v)| Some((k.to_ascii_lowercase(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            route_key: field("routeKey")?,
            connection_id: field("connectionId")?,
            body,
            headers,
        })
    }

    /// A header (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// The route's answer: `{"statusCode": status}`.
pub fn ws_response(status: u16) -> serde_json::Value {
    serde_json::json!({ "statusCode": status })
}

/// Runs a WebSocket route: logging, [`Deps`] (the variables `needs` declares) and the
/// function's own state (`build`, from the same [`Env`]) built once, then `handler` per event (a
/// malformed event answers 400).
///
/// Errors: configuration errors at start-up.
pub async fn serve<T, B, F, Fut>(
    needs: &'static Needs,
    build: B,
    handler: F,
) -> Result<(), LambdaError>
where
    T: Send + Sync + 'static,
    B: FnOnce(&Deps, &Env<'_>) -> Result<T, LambdaError>,
    F: Fn(&'static Deps, &'static T, WsEvent) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = u16> + Send,
{
    crate::logging::init();
    let env = Env::new(needs, &process_env);
    let deps: &'static Deps = Box::leak(Box::new(Deps::load(&env)?));
    let extra: &'static T = Box::leak(Box::new(build(deps, &env)?));
    lambda_runtime::run_concurrent(lambda_runtime::service_fn(
        move |ev: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
            let status = match WsEvent::from_event(&ev.payload) {
                Ok(e) => Box::pin(handler(deps, extra, e)).await,
                Err(e) => {
                    tracing::warn!(error = %e, "malformed WebSocket event refused");
                    metrics::count("MalformedRequests", None);
                    400
                }
            };
            Ok::<_, std::convert::Infallible>(ws_response(status))
        },
    ))
    .await
}

/// The SDK settings from Lambda's environment (for clients a function builds beside [`Deps`]).
///
/// Errors: a missing region or credentials.
pub fn sdk_config() -> Result<crate::SdkConfig, crate::ConfigError> {
    Ok(crate::deps::AwsTarget::from_env()?.sdk_config())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn websocket_events_are_read_from_api_gateways_shape() {
        let ev = WsEvent::from_event(&json!({
            "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": "L0SM9cOFvHcCIhw=",
                               "domainName": "abc.execute-api.ca-central-1.amazonaws.com", "stage": "prod"},
            "headers": {"X-Twilio-Signature": "sig", "Host": "abc"},
            "isBase64Encoded": false
        }))
        .unwrap();
        assert_eq!(ev.route_key, "$connect");
        assert_eq!(ev.header("x-twilio-signature"), Some("sig"));
        let msg = WsEvent::from_event(&json!({
            "requestContext": {"routeKey": "$default", "connectionId": "c1"},
            "body": "eyJ0eXBlIjoiZHRtZiJ9", "isBase64Encoded": true
        }))
        .unwrap();
        assert_eq!(msg.body, r#"{"type":"dtmf"}"#);
        assert!(WsEvent::from_event(&json!({"body": "x"})).is_err());
        assert_eq!(ws_response(403), json!({"statusCode": 403}));
    }
}
