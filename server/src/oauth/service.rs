//! The authorization server's rules over its storage: resolving a client
//! (a registered one, or a metadata document fetched through the SSRF
//! guard), registering clients within a per-address limit, the token
//! endpoint (code with PKCE, refresh with rotation) and revocation.

use super::access_cache::AccessCache;
use super::client_metadata::{self, MAX_DOCUMENT_BYTES};
use super::request::{self, TokenRequest};
use super::{ErrorCode, OAuthError};
use crate::db::now;
use crate::engine::caller::{AccessTokens, OAuthCaller};
use crate::engine::outbound::Outbound;
use crate::store::oauth::{Client, ClientKind, Issued, OAuthStore, Outcome};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use url::Url;

/// Clients one address may register per hour.
pub const REGISTRATIONS_PER_HOUR: i64 = 20;
/// A metadata document is fetched again after this long.
pub const DOCUMENT_FRESH_FOR: Duration = Duration::from_secs(60 * 60);
/// The most a document fetch may take.
pub const DOCUMENT_FETCH_TIME: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct OAuth {
    pub store: OAuthStore,
    outbound: Outbound,
    pub public_url: Url,
    /// When this process last noted each grant's use (to write it at most
    /// once a minute, off the request path).
    touched: Arc<Mutex<HashMap<String, Instant>>>,
    /// Access tokens checked recently (forgotten on any revocation).
    access_cache: AccessCache,
}

/// How often a grant's "last used" time is written.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

#[async_trait::async_trait]
impl AccessTokens for OAuth {
    async fn caller(&self, access_token: &str) -> Result<Option<Arc<OAuthCaller>>, String> {
        let token_hash = super::tokens::hash(access_token);
        let caller = match self.access_cache.get(&token_hash, now()) {
            Some(caller) => caller,
            None => {
                let seen = self.access_cache.revocations_seen();
                let Some((caller, expires_at)) =
                    self.store.access_by_hash(&token_hash).await.map_err(|e| e.to_string())?
                else {
                    return Ok(None);
                };
                let caller = Arc::new(caller);
                self.access_cache.remember(token_hash, caller.clone(), expires_at, seen, now());
                caller
            }
        };
        self.touch(&caller.grant_id);
        Ok(Some(caller))
    }
}

impl OAuth {
    pub fn new(store: OAuthStore, outbound: Outbound, public_url: Url) -> Self {
        let access_cache = AccessCache::new(store.revocations().clone());
        OAuth { store, outbound, public_url, touched: Arc::default(), access_cache }
    }

    fn touch(&self, grant_id: &str) {
        {
            let mut touched = self.touched.lock().expect("the touch map is never poisoned");
            if touched.get(grant_id).is_some_and(|at| at.elapsed() < TOUCH_EVERY) {
                return;
            }
            if touched.len() > 100_000 {
                touched.retain(|_, at| at.elapsed() < TOUCH_EVERY);
            }
            touched.insert(grant_id.to_owned(), Instant::now());
        }
        let (store, grant_id) = (self.store.clone(), grant_id.to_owned());
        tokio::spawn(async move {
            if let Err(error) = store.touch_grant(&grant_id).await {
                tracing::debug!(%error, "a grant's last use was not written");
            }
        });
    }

    pub fn issuer(&self) -> String {
        super::metadata::issuer(&self.public_url)
    }

    /// The client a `client_id` names: registered here, or the metadata
    /// document at that https URL (cached for an hour).
    pub async fn client(&self, client_id: &str) -> Outcome<Client> {
        let stored = self.store.client(client_id).await?;
        if let Some(client) = &stored {
            let fresh = now() - client.fetched_at < DOCUMENT_FRESH_FOR.as_secs() as i64;
            if client.kind == ClientKind::Registered || fresh {
                return Ok(Ok(client.clone()));
            }
        }
        let url = match client_metadata::check_document_url(client_id) {
            Ok(url) => url,
            Err(error) => return Ok(Err(error)),
        };
        let metadata = match self.fetch_document(&url).await {
            Ok(body) => match client_metadata::check_document(client_id, &body) {
                Ok(metadata) => metadata,
                Err(error) => return Ok(Err(error)),
            },
            Err(error) => return Ok(Err(error)),
        };
        self.store.save_client(client_id, ClientKind::Document, &metadata, None).await?;
        Ok(Ok(Client {
            client_id: client_id.to_owned(),
            kind: ClientKind::Document,
            name: metadata.name,
            client_uri: metadata.client_uri,
            redirect_uris: metadata.redirect_uris,
            fetched_at: now(),
        }))
    }

    async fn fetch_document(&self, url: &Url) -> Result<Vec<u8>, OAuthError> {
        let fail = |why: String| OAuthError::new(ErrorCode::InvalidClient, format!("client metadata at {url}: {why}"));
        let request = self
            .outbound
            .client()
            .get(url.clone())
            .header("accept", "application/json")
            .timeout(DOCUMENT_FETCH_TIME)
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let response =
            self.outbound.send_with_limit(request, MAX_DOCUMENT_BYTES).await.map_err(|e| fail(e.to_string()))?;
        if !response.status.is_success() {
            return Err(fail(format!("answered HTTP {}", response.status.as_u16())));
        }
        Ok(response.body.to_vec())
    }

    /// RFC 7591 registration: a public client with a new id.
    pub async fn register(&self, body: &[u8], from: &str) -> Outcome<Value> {
        let since = now() - 3600;
        if self.store.registrations_since(from, since).await? >= REGISTRATIONS_PER_HOUR {
            return Ok(Err(OAuthError::new(
                ErrorCode::InvalidRequest,
                format!("at most {REGISTRATIONS_PER_HOUR} clients may be registered per hour from one address"),
            )));
        }
        let metadata = match client_metadata::check_registration(body) {
            Ok(metadata) => metadata,
            Err(error) => return Ok(Err(error)),
        };
        let client_id = format!("amcp_client_{}", uuid::Uuid::now_v7().simple());
        self.store.save_client(&client_id, ClientKind::Registered, &metadata, Some(from)).await?;
        Ok(Ok(json!({
            "client_id": client_id,
            "client_id_issued_at": now(),
            "client_name": metadata.name,
            "redirect_uris": metadata.redirect_uris,
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        })))
    }

    /// The token endpoint.
    pub async fn token(&self, form: &HashMap<String, String>) -> Outcome<Value> {
        let request = match request::token(form) {
            Ok(request) => request,
            Err(error) => return Ok(Err(error)),
        };
        let issued = match request {
            TokenRequest::Code { code, client_id, redirect_uri, verifier, resource } => {
                self.redeem(&code, &client_id, redirect_uri.as_deref(), &verifier, resource.as_deref()).await?
            }
            TokenRequest::Refresh { refresh_token, client_id, resource } => {
                self.refresh(&refresh_token, &client_id, resource.as_deref()).await?
            }
        };
        Ok(issued.map(|issued| {
            json!({
                "access_token": issued.access_token,
                "token_type": "Bearer",
                "expires_in": issued.expires_in,
                "refresh_token": issued.refresh_token,
                "scope": super::metadata::SCOPE,
            })
        }))
    }

    async fn redeem(
        &self,
        code: &str,
        client_id: &str,
        redirect_uri: Option<&str>,
        verifier: &str,
        resource: Option<&str>,
    ) -> Outcome<Issued> {
        let redeemed = match self.store.redeem_code(code, client_id).await? {
            Ok(redeemed) => redeemed,
            Err(error) => return Ok(Err(error)),
        };
        if redirect_uri.is_some_and(|uri| uri != redeemed.redirect_uri) {
            return Ok(Err(OAuthError::new(
                ErrorCode::InvalidGrant,
                "redirect_uri differs from the authorization request's",
            )));
        }
        if let Err(error) = super::pkce::Challenge::stored(redeemed.challenge).verify(Some(verifier)) {
            return Ok(Err(error));
        }
        if let Err(error) = self.check_resource(&redeemed.grant_id, resource).await? {
            return Ok(Err(error));
        }
        Ok(Ok(self.store.issue_tokens(&redeemed.grant_id, None).await?))
    }

    async fn refresh(&self, refresh_token: &str, client_id: &str, resource: Option<&str>) -> Outcome<Issued> {
        let (grant_id, family) = match self.store.spend_refresh(refresh_token, client_id).await? {
            Ok(spent) => spent,
            Err(error) => return Ok(Err(error)),
        };
        if let Err(error) = self.check_resource(&grant_id, resource).await? {
            return Ok(Err(error));
        }
        Ok(Ok(self.store.issue_tokens(&grant_id, Some(&family)).await?))
    }

    /// A `resource` in a token request must be the grant's server.
    async fn check_resource(&self, grant_id: &str, resource: Option<&str>) -> Outcome<()> {
        let Some(resource) = resource else { return Ok(Ok(())) };
        let slug = self.store.grant_slug(grant_id).await?;
        let issuer = self.issuer();
        if request::slug_of_resource(&issuer, resource) == slug.as_deref() {
            Ok(Ok(()))
        } else {
            Ok(Err(OAuthError::new(
                ErrorCode::InvalidTarget,
                format!("`{resource}` is not the server this grant is for"),
            )))
        }
    }

    /// RFC 7009 revocation: always 200 for a well-formed request.
    pub async fn revoke(&self, form: &HashMap<String, String>) -> Outcome<()> {
        let (Some(token), Some(client_id)) = (form.get("token"), form.get("client_id")) else {
            return Ok(Err(OAuthError::new(ErrorCode::InvalidRequest, "token and client_id are required")));
        };
        self.store.revoke_token(token, client_id).await?;
        Ok(Ok(()))
    }
}
