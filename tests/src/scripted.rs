//! A scripted Twilio in front of Prism (issue 9's failure tests): requests matching a rule get
//! the rule's next scripted answer (a 400 "number no longer available", a 429, a 503…); once a
//! rule's answers are used up, or for requests no rule matches, the request goes on to the
//! upstream (the Prism mock, so every call still meets Twilio's specification) or gets 404 when
//! there is none. Every request is recorded (method and path), so tests can count what was sent.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Requests with this method whose path contains `path` get `answers` in turn.
pub struct Rule {
    /// `GET`, `POST`, `DELETE`.
    pub method: &'static str,
    /// A part of the path, e.g. `/IncomingPhoneNumbers.json`.
    pub path: String,
    /// `(status, JSON body)` answers, used once each.
    pub answers: VecDeque<(u16, String)>,
}

/// A running scripted server.
pub struct Scripted {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// `"METHOD /path?query"` of every request received, in order.
    pub log: Arc<Mutex<Vec<String>>>,
    /// The body of each request of [`Scripted::log`], in the same order.
    pub bodies: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Scripted {
    /// The form fields of the requests with `method` whose path contains `path`, in order.
    pub fn forms(&self, method: &str, path: &str) -> Vec<Vec<(String, String)>> {
        let log = self.log.lock().unwrap();
        let bodies = self.bodies.lock().unwrap();
        log.iter()
            .zip(bodies.iter())
            .filter(|(l, _)| l.starts_with(&format!("{method} ")) && l.contains(path))
            .map(|(_, b)| {
                url::form_urlencoded::parse(b)
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .collect()
    }

    /// How many requests with `method` had a path containing `path`.
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with(&format!("{method} ")) && l.contains(path))
            .count()
    }
}

/// Starts the server on a free port (stops with the test's runtime).
pub async fn start(upstream: Option<String>, rules: Vec<Rule>) -> Scripted {
    start_routed(upstream.map(|u| vec![("/", u)]).unwrap_or_default(), rules).await
}

/// [`start`] with one upstream per path prefix (Twilio's numbers host serves the v1 and v2
/// documents, which are two Prism servers here): a request goes to the first upstream whose
/// prefix its path starts with.
pub async fn start_routed(upstreams: Vec<(&'static str, String)>, rules: Vec<Rule>) -> Scripted {
    start_with_hook(upstreams, rules, Arc::new(|_: &str| {})).await
}

/// Called with `"METHOD /path?query"` after each request is answered (e.g. to cut AWS off right
/// after Twilio accepted an order).
pub type Hook = Arc<dyn Fn(&str) + Send + Sync>;

/// [`start_routed`], calling `hook` after each answer.
pub async fn start_with_hook(
    upstreams: Vec<(&'static str, String)>,
    rules: Vec<Rule>,
    hook: Hook,
) -> Scripted {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let bodies: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let body_sink = bodies.clone();
    let rules = Arc::new(Mutex::new(rules));
    let http = reqwest::Client::new();
    let sink = log.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (rules, sink, upstreams, http) =
                (rules.clone(), sink.clone(), upstreams.clone(), http.clone());
            let body_sink = body_sink.clone();
            let hook = hook.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let (rules, sink, upstreams, http) =
                            (rules.clone(), sink.clone(), upstreams.clone(), http.clone());
                        let body_sink = body_sink.clone();
                        let hook = hook.clone();
                        async move {
                            let method = req.method().as_str().to_owned();
                            let target = req
                                .uri()
                                .path_and_query()
                                .map_or("/".to_owned(), |p| p.as_str().to_owned());
                            let headers = req.headers().clone();
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            {
                                // One lock order (log, then bodies) keeps the two aligned.
                                let mut log = sink.lock().unwrap();
                                log.push(format!("{method} {target}"));
                                body_sink.lock().unwrap().push(body.to_vec());
                            }
                            let scripted = rules.lock().unwrap().iter_mut().find_map(|r| {
                                (r.method == method && target.contains(&r.path))
                                    .then(|| r.answers.pop_front())
                                    .flatten()
                            });
                            let upstream = upstreams
                                .iter()
                                .find(|(prefix, _)| target.starts_with(prefix))
                                .map(|(_, u)| u.clone());
                            let (status, body) = match (scripted, upstream) {
                                (Some(answer), _) => answer,
                                (None, Some(up)) => {
                                    let mut fwd = http.request(
                                        reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                                        format!("{up}{target}"),
                                    );
                                    for name in ["authorization", "content-type"] {
                                        if let Some(v) = headers.get(name) {
                                            fwd = fwd.header(name, v.as_bytes());
                                        }
                                    }
                                    match fwd.body(body).send().await {
                                        Ok(r) => (
                                            r.status().as_u16(),
                                            r.text().await.unwrap_or_default(),
                                        ),
                                        Err(e) => (502, format!("{{\"message\":\"{e}\"}}")),
                                    }
                                }
                                (None, None) => (
                                    404,
                                    r#"{"code":20404,"message":"not found","status":404}"#
                                        .to_owned(),
                                ),
                            };
                            hook(&format!("{method} {target}"));
                            let mut resp = hyper::Response::new(Full::new(Bytes::from(body)));
                            *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                            resp.headers_mut().insert(
                                "content-type",
                                hyper::header::HeaderValue::from_static("application/json"),
                            );
                            Ok::<_, std::convert::Infallible>(resp)
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Scripted {
        base_url,
        log,
        bodies,
    }
}

/// Twilio's error document for `status` (`code`, `message`, `more_info`, `status`).
pub fn twilio_error(status: u16, code: u32, message: &str) -> (u16, String) {
    (
        status,
        serde_json::json!({"code": code, "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status})
        .to_string(),
    )
}
