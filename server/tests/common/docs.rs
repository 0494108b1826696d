//! A loopback server for OpenAPI documents (and an LLM stand-in's slow
//! cousin): serves set texts, can hold every response until released, and
//! records how many requests for a path were in flight at once.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

#[derive(Default)]
struct Counts {
    started: usize,
    in_flight: usize,
    most_in_flight: usize,
}

#[derive(Clone)]
struct Shared {
    documents: Arc<Mutex<HashMap<String, String>>>,
    counts: Arc<Mutex<HashMap<String, Counts>>>,
    open: watch::Sender<bool>,
}

#[derive(Clone)]
pub struct DocServer {
    pub addr: SocketAddr,
    shared: Shared,
}

impl DocServer {
    pub async fn start() -> Self {
        let (open, _) = watch::channel(true);
        let shared = Shared { documents: Arc::default(), counts: Arc::default(), open };
        let app = axum::Router::new().route("/docs/{name}", axum::routing::get(serve)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        DocServer { addr, shared }
    }

    /// Serves `text` at `/docs/{name}`; returns its URL.
    pub fn put(&self, name: &str, text: String) -> String {
        self.shared.documents.lock().unwrap().insert(name.to_owned(), text);
        format!("http://{}/docs/{name}", self.addr)
    }

    /// From now on, answers wait until [`DocServer::release`].
    pub fn hold(&self) {
        self.shared.open.send_replace(false);
    }

    pub fn release(&self) {
        self.shared.open.send_replace(true);
    }

    /// (requests started, most in flight at once) for `name`.
    pub fn counts(&self, name: &str) -> (usize, usize) {
        let counts = self.shared.counts.lock().unwrap();
        counts.get(name).map(|c| (c.started, c.most_in_flight)).unwrap_or((0, 0))
    }

    /// Waits until `name` has been requested `n` times.
    pub async fn wait_for(&self, name: &str, n: usize) {
        for _ in 0..600 {
            if self.counts(name).0 >= n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{name} was not requested {n} times within 30 s");
    }
}

/// Counts a request as in flight until dropped (also when the client goes away).
struct InFlight(Shared, String);

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(c) = self.0.counts.lock().unwrap().get_mut(&self.1) {
            c.in_flight -= 1;
        }
    }
}

async fn serve(State(shared): State<Shared>, Path(name): Path<String>) -> Response {
    {
        let mut counts = shared.counts.lock().unwrap();
        let c = counts.entry(name.clone()).or_default();
        c.started += 1;
        c.in_flight += 1;
        c.most_in_flight = c.most_in_flight.max(c.in_flight);
    }
    let _in_flight = InFlight(shared.clone(), name.clone());
    let mut open = shared.open.subscribe();
    let _ = open.wait_for(|open| *open).await;
    let text = shared.documents.lock().unwrap().get(&name).cloned();
    match text {
        Some(text) => ([("content-type", "application/json")], text).into_response(),
        None => (axum::http::StatusCode::NOT_FOUND, "no such document").into_response(),
    }
}
