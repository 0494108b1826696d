//! Our HTTP backend for rmcp's streamable HTTP client: reqwest, plus one
//! correction. A source that no longer knows our session may answer it with
//! HTTP 400 and a JSON-RPC error without an id (server-everything does);
//! rmcp 3.9 hands that error to nobody, and the call waits for its timeout.
//! On a session, such an answer is "session expired", so rmcp opens a new
//! session and sends the request again (as it does for a 404); without a
//! session, the error is given the request's id so the call gets it.

use futures_util::stream::BoxStream;
use http::{HeaderName, HeaderValue};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
};
use sse_stream::Sse;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Clone)]
pub struct SessionAware(pub reqwest::Client);

type Error = StreamableHttpError<reqwest::Error>;

/// rmcp's default limit on one SSE event (16 MiB; not exported by rmcp).
const MAX_SSE_EVENT: usize = 16 * 1024 * 1024;

impl StreamableHttpClient for SessionAware {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, Error> {
        // rmcp's transport always calls the sized variant; this keeps its default.
        self.post_message_with_max_sse_event_size(uri, message, session_id, auth_header, custom_headers, MAX_SSE_EVENT)
            .await
    }

    async fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<StreamableHttpPostResponse, Error> {
        let id = request_id(&message);
        let on_session = session_id.is_some();
        let answer = self
            .0
            .post_message_with_max_sse_event_size(
                uri,
                message,
                session_id,
                auth_header,
                custom_headers,
                max_sse_event_size,
            )
            .await;
        correct(answer, id, on_session)
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), Error> {
        self.0.delete_session(uri, session_id, auth_header, custom_headers).await
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, Error> {
        self.0.get_stream(uri, session_id, last_event_id, auth_header, custom_headers).await
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, Error> {
        self.0
            .get_stream_with_max_sse_event_size(
                uri,
                session_id,
                last_event_id,
                auth_header,
                custom_headers,
                max_sse_event_size,
            )
            .await
    }
}

fn request_id(message: &ClientJsonRpcMessage) -> Option<rmcp::model::RequestId> {
    match message {
        ClientJsonRpcMessage::Request(request) => Some(request.id.clone()),
        _ => None,
    }
}

/// An error answer to a request that does not name the request.
fn correct(
    answer: Result<StreamableHttpPostResponse, Error>,
    id: Option<rmcp::model::RequestId>,
    on_session: bool,
) -> Result<StreamableHttpPostResponse, Error> {
    let Some(id) = id else { return answer };
    match answer {
        Ok(StreamableHttpPostResponse::Json(ServerJsonRpcMessage::Error(mut error), session))
            if error.id.as_ref() != Some(&id) =>
        {
            if on_session {
                return Err(StreamableHttpError::SessionExpired);
            }
            error.id = Some(id);
            Ok(StreamableHttpPostResponse::Json(ServerJsonRpcMessage::Error(error), session))
        }
        other => other,
    }
}
