//! The authorization server's storage rules on both backends, a real SQLite
//! file and a real PostgreSQL (a throwaway cluster on loopback): single-use
//! codes, refresh rotation with reuse detection, revocation, expiry and the
//! registration count a limit is built on.

mod common;

use common::oauth::CHALLENGE;
use common::stores::{self, TestDb};
use server::oauth::client_metadata::ClientMetadata;
use server::oauth::{ErrorCode, OAuthError};
use server::store::oauth::{ClientKind, OAuthStore};

const CLIENT: &str = "https://client.example/oauth/metadata.json";

/// A database with an owner, a server and a known client.
struct Fixture {
    test: TestDb,
    store: OAuthStore,
    server_id: String,
    user_id: String,
}

impl Fixture {
    async fn exec(&self, sql: &'static str) {
        self.test.exec(sql, &[]).await;
    }
}

/// The same fixture on SQLite and on PostgreSQL.
async fn both() -> Vec<Fixture> {
    let mut fixtures = Vec::new();
    for test in stores::both().await {
        let (user_id, server_id) = ("user-1".to_owned(), "server-1".to_owned());
        test.exec(
            "insert into users (id, email, password_hash, created_at) values ($1, 'owner@example.com', 'x', 0)",
            &[&user_id],
        )
        .await;
        test.exec(
            "insert into servers (id, owner_id, slug, name, spec, created_at, updated_at)
             values ($1, $2, 'pets', 'Pets', '{}', 0, 0)",
            &[&server_id, &user_id],
        )
        .await;
        let store = OAuthStore::new(test.db.clone());
        let metadata = ClientMetadata {
            name: Some("Example".into()),
            client_uri: None,
            redirect_uris: vec!["http://127.0.0.1/cb".into()],
        };
        store.save_client(CLIENT, ClientKind::Document, &metadata, None).await.unwrap();
        fixtures.push(Fixture { test, store, server_id, user_id });
    }
    fixtures
}

fn refused<T: std::fmt::Debug>(outcome: Result<T, OAuthError>, says: &str) {
    let error = outcome.unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidGrant);
    assert!(error.description.contains(says), "{error}");
}

#[tokio::test]
async fn a_code_is_spent_once_and_a_second_use_revokes_what_it_gave() {
    for f in both().await {
        let (store, server_id, user_id) = (&f.store, &f.server_id, &f.user_id);
        let code = store.consent(server_id, CLIENT, user_id, "http://127.0.0.1:5000/cb", CHALLENGE).await.unwrap();
        refused(store.redeem_code(&code, "https://other.example/m.json").await.unwrap(), "another client");
        let redeemed = store.redeem_code(&code, CLIENT).await.unwrap().unwrap();
        assert_eq!(redeemed.challenge, CHALLENGE);
        assert_eq!(redeemed.redirect_uri, "http://127.0.0.1:5000/cb");
        let issued = store.issue_tokens(&redeemed.grant_id, None).await.unwrap();
        let access = store.access(&issued.access_token).await.unwrap().unwrap();
        assert_eq!((access.server_id.as_str(), access.user_id.as_str()), (server_id.as_str(), user_id.as_str()));
        assert_eq!(access.client_id, CLIENT);

        refused(store.redeem_code(&code, CLIENT).await.unwrap(), "already used");
        assert_eq!(store.access(&issued.access_token).await.unwrap(), None, "revoked by the reuse");
        refused(store.redeem_code("amcp_oac_nonsense", CLIENT).await.unwrap(), "not valid");
    }
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_chain() {
    for f in both().await {
        let (store, server_id, user_id) = (&f.store, &f.server_id, &f.user_id);
        let code = store.consent(server_id, CLIENT, user_id, "http://127.0.0.1/cb", CHALLENGE).await.unwrap();
        let grant = store.redeem_code(&code, CLIENT).await.unwrap().unwrap().grant_id;
        let first = store.issue_tokens(&grant, None).await.unwrap();
        let (same_grant, family) = store.spend_refresh(&first.refresh_token, CLIENT).await.unwrap().unwrap();
        assert_eq!(same_grant, grant);
        let second = store.issue_tokens(&grant, Some(&family)).await.unwrap();
        assert!(store.access(&second.access_token).await.unwrap().is_some());

        // The first refresh token again: someone else holds a copy.
        refused(store.spend_refresh(&first.refresh_token, CLIENT).await.unwrap(), "already used");
        assert_eq!(store.access(&second.access_token).await.unwrap(), None);
        refused(store.spend_refresh(&second.refresh_token, CLIENT).await.unwrap(), "revoked");
    }
}

#[tokio::test]
async fn revocation_and_expiry_end_access() {
    for f in both().await {
        let (store, server_id, user_id) = (&f.store, &f.server_id, &f.user_id);
        let code = store.consent(server_id, CLIENT, user_id, "http://127.0.0.1/cb", CHALLENGE).await.unwrap();
        let grant = store.redeem_code(&code, CLIENT).await.unwrap().unwrap().grant_id;

        // RFC 7009 by the client: a refresh token takes its chain with it.
        let issued = store.issue_tokens(&grant, None).await.unwrap();
        store.revoke_token(&issued.refresh_token, "https://other.example/m.json").await.unwrap();
        assert!(store.access(&issued.access_token).await.unwrap().is_some(), "only the holder can revoke");
        store.revoke_token(&issued.refresh_token, CLIENT).await.unwrap();
        assert_eq!(store.access(&issued.access_token).await.unwrap(), None);

        // Expired access token.
        let issued = store.issue_tokens(&grant, None).await.unwrap();
        f.exec("update oauth_tokens set expires_at = 0 where kind = 'access'").await;
        assert_eq!(store.access(&issued.access_token).await.unwrap(), None);
        // That is what the refresh token is for: it still works.
        store.spend_refresh(&issued.refresh_token, CLIENT).await.unwrap().unwrap();

        // The owner revokes the connected client; a new consent renews it.
        let issued = store.issue_tokens(&grant, None).await.unwrap();
        assert!(store.revoke_grant(server_id, &grant).await.unwrap());
        assert_eq!(store.access(&issued.access_token).await.unwrap(), None);
        refused(store.spend_refresh(&issued.refresh_token, CLIENT).await.unwrap(), "revoked");

        // An expired code.
        let code = store.consent(server_id, CLIENT, user_id, "http://127.0.0.1/cb", CHALLENGE).await.unwrap();
        f.exec("update oauth_codes set expires_at = 0 where used_at is null").await;
        refused(store.redeem_code(&code, CLIENT).await.unwrap(), "expired");
    }
}

#[tokio::test]
async fn registrations_are_counted_per_address() {
    for f in both().await {
        let store = &f.store;
        let metadata =
            ClientMetadata { name: None, client_uri: None, redirect_uris: vec!["https://a.example/cb".into()] };
        for i in 0..3 {
            store.save_client(&format!("reg-{i}"), ClientKind::Registered, &metadata, Some("192.0.2.1")).await.unwrap();
        }
        store.save_client("reg-other", ClientKind::Registered, &metadata, Some("192.0.2.2")).await.unwrap();
        assert_eq!(store.registrations_since("192.0.2.1", 0).await.unwrap(), 3);
        let client = store.client("reg-1").await.unwrap().unwrap();
        assert_eq!(client.kind, ClientKind::Registered);
        assert_eq!(client.redirect_uris, ["https://a.example/cb"]);
        assert_eq!(store.client("nobody").await.unwrap(), None);
    }
}
