//! A small real HTTP API on loopback that records what it receives: the
//! stand-in for the third-party APIs that actions call.

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Clone)]
pub struct Upstream {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    document: Arc<Mutex<Option<String>>>,
}

#[derive(Clone)]
struct Shared {
    seen: Arc<Mutex<Vec<Seen>>>,
    document: Arc<Mutex<Option<String>>>,
}

impl Upstream {
    /// Routes (any method):
    /// - `/status/{code}`: answers that status with a short text body
    /// - `/slow/{ms}`: waits, then answers JSON
    /// - `/stall/{ms}`: sends the headers and half the JSON at once, the rest after `ms`
    /// - `/big`: a 2 MiB body
    /// - `/text`: text/plain
    /// - `/redirect-away`: 302 to another host
    /// - anything else: 200 JSON describing the request
    /// - `/openapi`: the document set with [`Upstream::serve_document`]
    pub async fn start() -> Self {
        let shared = Shared { seen: Arc::new(Mutex::new(Vec::new())), document: Arc::new(Mutex::new(None)) };
        let app = axum::Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Upstream { addr, seen: shared.seen, document: shared.document }
    }

    /// Serves `text` at `/openapi` (not recorded as a call).
    pub fn serve_document(&self, text: String) {
        *self.document.lock().unwrap() = Some(text);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn last(&self) -> Seen {
        self.seen().pop().expect("the upstream received a request")
    }
}

async fn handle(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if parts.uri.path() == "/openapi"
        && let Some(document) = shared.document.lock().unwrap().clone()
    {
        return ([("content-type", "application/yaml")], document).into_response();
    }
    let seen = shared.seen;
    let body = axum::body::to_bytes(body, 10 * 1024 * 1024).await.unwrap();
    let path = parts.uri.path().to_owned();
    let record = Seen {
        method: parts.method.clone(),
        path: path.clone(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers.clone(),
        body: body.clone(),
    };
    seen.lock().unwrap().push(record);

    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["status", code] => {
            let status = StatusCode::from_u16(code.parse().unwrap()).unwrap();
            (status, format!("upstream says {code}: something is off")).into_response()
        }
        ["slow", ms] => {
            tokio::time::sleep(Duration::from_millis(ms.parse().unwrap())).await;
            axum::Json(serde_json::json!({"slow": true})).into_response()
        }
        ["stall", ms] => {
            let pause = Duration::from_millis(ms.parse().unwrap());
            let parts = futures_util::stream::unfold(0, move |part| async move {
                match part {
                    0 => Some((Ok::<_, std::io::Error>(Bytes::from_static(b"{\"stalled\":")), 1)),
                    1 => {
                        tokio::time::sleep(pause).await;
                        Some((Ok(Bytes::from_static(b"true}")), 2))
                    }
                    _ => None,
                }
            });
            ([("content-type", "application/json")], axum::body::Body::from_stream(parts)).into_response()
        }
        ["big"] => (StatusCode::OK, vec![b'x'; 2 * 1024 * 1024]).into_response(),
        ["text"] => ([("content-type", "text/plain")], "plain text answer").into_response(),
        ["redirect-away"] => (StatusCode::FOUND, [("location", "http://other.invalid/")]).into_response(),
        _ => axum::Json(serde_json::json!({
            "method": parts.method.as_str(),
            "path": path,
            "query": parts.uri.query(),
            "body": String::from_utf8_lossy(&body),
            "data": { "items": [1, 2, 3], "next": null },
        }))
        .into_response(),
    }
}
