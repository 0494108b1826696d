//! The authorization endpoint's rules: an authorization request checked
//! against its client and server, what the consent page shows, and the
//! signed-in user's decision turned into the redirect back to the client.

use super::request::{self, AuthorizationRequest, Refusal};
use super::service::OAuth;
use super::{ErrorCode, OAuthError};
use crate::store::oauth::{Client, ClientKind, ServerTarget};
use app::model::{AppError, ConsentView, UserView};
use std::collections::HashMap;

/// An authorization request that may be shown to the user.
pub struct Pending {
    pub request: AuthorizationRequest,
    pub client: Client,
    pub server: ServerTarget,
}

/// What the user chose on the consent page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
}

impl OAuth {
    /// Checks an authorization request: its client (a metadata document is
    /// fetched), redirect URI, PKCE, scope, and the server it names.
    pub async fn check_authorization(
        &self,
        params: &HashMap<String, String>,
    ) -> Result<Result<Pending, Refusal>, AppError> {
        let client_id = params.get("client_id").map(String::as_str).unwrap_or("");
        let client = if client_id.is_empty() {
            None
        } else {
            match self.client(client_id).await? {
                Ok(client) => Some(client),
                Err(error) => return Ok(Err(Refusal::ToUser(error))),
            }
        };
        let registered = client.as_ref().map(|c| c.redirect_uris.as_slice());
        let request = match request::authorization(params, registered, &self.issuer()) {
            Ok(request) => request,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let client = client.expect("a checked request has a known client");
        let server = self.store.server_for_slug(&request.slug).await?.filter(|server| server.live_with_oauth);
        let Some(server) = server else {
            return Ok(Err(Refusal::ToClient {
                error: OAuthError::new(
                    ErrorCode::InvalidTarget,
                    format!("no server at /mcp/{} is live with OAuth sign-in", request.slug),
                ),
                redirect_uri: request.redirect_uri,
                state: request.state,
            }));
        };
        Ok(Ok(Pending { request, client, server }))
    }

    /// What the consent page shows (`user`: who is signed in, if anyone).
    pub async fn consent_view(
        &self,
        params: &HashMap<String, String>,
        user: Option<&UserView>,
    ) -> Result<ConsentView, AppError> {
        let pending = match self.check_authorization(params).await? {
            Ok(pending) => pending,
            Err(Refusal::ToUser(error) | Refusal::ToClient { error, .. }) => {
                return Err(AppError::invalid("authorization request", error.description));
            }
        };
        let Pending { request, client, server } = pending;
        let host = |url: &str| url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned));
        let client_domain = match client.kind {
            ClientKind::Document => host(&client.client_id),
            ClientKind::Registered => client.client_uri.as_deref().and_then(host),
        };
        Ok(ConsentView {
            client_name: client.name.clone().unwrap_or_else(|| client.client_id.clone()),
            client_id: client.client_id,
            client_domain,
            redirect_host: host(&request.redirect_uri).unwrap_or_default(),
            server_name: server.name.clone(),
            server_endpoint: super::metadata::resource(&self.public_url, &request.slug),
            signed_in_as: user.map(|u| u.email.clone()),
            refusal: user.and_then(|u| refusal(&server, u)),
        })
    }

    /// The redirect that answers the client: a code when the user allowed
    /// and may connect, `access_denied` otherwise.
    pub async fn decide(&self, pending: Pending, user: &UserView, decision: Decision) -> Result<String, AppError> {
        let Pending { request, client, server } = pending;
        let issuer = self.issuer();
        let denied = |why: &str| {
            let error = OAuthError::new(ErrorCode::AccessDenied, why);
            request::error_redirect(&request.redirect_uri, &error, request.state.as_deref(), &issuer)
        };
        if decision == Decision::Deny {
            tracing::info!(client_id = %client.client_id, server_id = %server.id, "authorization denied by the user");
            return Ok(denied("the user denied the request"));
        }
        if let Some(why) = refusal(&server, user) {
            return Ok(denied(&why));
        }
        let code = self
            .store
            .consent(&server.id, &client.client_id, &user.id, &request.redirect_uri, request.challenge.as_str())
            .await?;
        tracing::info!(client_id = %client.client_id, server_id = %server.id, user_id = %user.id, "client connected");
        Ok(request::redirect_with(&request.redirect_uri, &[("code", &code)], request.state.as_deref(), &issuer))
    }
}

/// Why `user` may not connect a client to `server`, if they may not.
fn refusal(server: &ServerTarget, user: &UserView) -> Option<String> {
    (!server.access.allows(user.id == server.owner_id, &user.email))
        .then(|| format!("the owner of this server does not let {} connect clients to it", user.email))
}
