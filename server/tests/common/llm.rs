//! A small OpenAI-compatible chat-completions server on loopback: the
//! stand-in for the LLM API. It answers from a script, in order, and keeps
//! every request it received.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub enum Reply {
    /// A completion whose message content is this text.
    Content(String),
    /// An HTTP error with this body.
    Status(u16, String),
}

#[derive(Clone)]
struct Script {
    replies: Arc<Mutex<VecDeque<Reply>>>,
    requests: Arc<Mutex<Vec<serde_json::Value>>>,
    /// While false, answers wait (a slow model).
    open: tokio::sync::watch::Sender<bool>,
}

impl Default for Script {
    fn default() -> Self {
        Script { replies: Arc::default(), requests: Arc::default(), open: tokio::sync::watch::channel(true).0 }
    }
}

#[derive(Clone)]
pub struct FakeLlm {
    pub addr: SocketAddr,
    script: Script,
}

impl FakeLlm {
    pub async fn start() -> Self {
        let script = Script::default();
        let app =
            axum::Router::new().route("/v1/chat/completions", axum::routing::post(answer)).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeLlm { addr, script }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn push(&self, reply: Reply) {
        self.script.replies.lock().unwrap().push_back(reply);
    }

    pub fn push_json(&self, value: serde_json::Value) {
        self.push(Reply::Content(value.to_string()));
    }

    pub fn requests(&self) -> Vec<serde_json::Value> {
        self.script.requests.lock().unwrap().clone()
    }

    /// From now on, answers wait until [`FakeLlm::release`].
    pub fn hold(&self) {
        self.script.open.send_replace(false);
    }

    pub fn release(&self) {
        self.script.open.send_replace(true);
    }

    /// Waits until `n` requests have arrived.
    pub async fn wait_for(&self, n: usize) {
        for _ in 0..600 {
            if self.requests().len() >= n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the LLM was not asked {n} times within 30 s");
    }
}

async fn answer(State(script): State<Script>, axum::Json(body): axum::Json<serde_json::Value>) -> Response {
    script.requests.lock().unwrap().push(body);
    let _ = script.open.subscribe().wait_for(|open| *open).await;
    let reply = script.replies.lock().unwrap().pop_front();
    match reply {
        Some(Reply::Content(content)) => axum::Json(serde_json::json!({
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        }))
        .into_response(),
        Some(Reply::Status(code, body)) => (StatusCode::from_u16(code).unwrap(), body).into_response(),
        None => (StatusCode::INTERNAL_SERVER_ERROR, "the test script has no more answers").into_response(),
    }
}
