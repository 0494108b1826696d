//! The accounts store on both backends (a SQLite file and a throwaway
//! PostgreSQL): the first account is the admin, emails are unique, sessions
//! expire, API tokens are found by hash, listed newest first, deleted only by
//! their owner, and their last-used times never move back.

mod common;

use app::model::Tier;
use common::stores;
use server::store::accounts::{AccountStore, Insert, NewUserRow, TokenRow};
use std::collections::HashMap;

fn user<'a>(id: &'a str, email: &'a str) -> NewUserRow<'a> {
    NewUserRow { id, email, password_hash: "argon2id-hash", admin: false, tier: Tier::Free, created_at: 100 }
}

#[tokio::test]
async fn users_sessions_and_tokens_behave_the_same_on_both_backends() {
    for test in stores::both().await {
        let backend = test.backend;
        let store = AccountStore::new(test.db.clone());

        // The first account is the admin; an email is taken once.
        assert_eq!(store.insert_user(user("u1", "a@example.com")).await.unwrap(), Insert::Done, "{backend}");
        assert_eq!(store.insert_user(user("u2", "b@example.com")).await.unwrap(), Insert::Done);
        assert_eq!(store.insert_user(user("u3", "a@example.com")).await.unwrap(), Insert::Taken, "{backend}");
        let first = store.user_by_email("a@example.com").await.unwrap().unwrap();
        assert!(first.is_admin, "{backend}");
        assert!(!store.user_by_id("u2").await.unwrap().unwrap().is_admin);
        assert!(store.set_tier("u2", Tier::Paid).await.unwrap());
        assert!(!store.set_tier("nobody", Tier::Paid).await.unwrap());
        let listed: Vec<String> = store.users().await.unwrap().into_iter().map(|u| u.tier).collect();
        assert_eq!(listed, ["free", "paid"], "{backend}");

        // Sessions: live until they expire; expired ones are cleared out.
        store.insert_session("old", "u1", 100, 150).await.unwrap();
        store.insert_session("new", "u1", 200, 300).await.unwrap();
        assert_eq!(store.session_user("new", 250).await.unwrap().map(|u| u.id), Some("u1".into()));
        assert!(store.session_user("new", 300).await.unwrap().is_none(), "{backend}");
        assert!(store.session_user("old", 120).await.unwrap().is_none(), "pruned by the second insert");
        store.delete_session("new").await.unwrap();
        assert!(store.session_user("new", 250).await.unwrap().is_none());

        // API tokens.
        for (id, at) in [("t1", 10), ("t2", 20)] {
            let row = TokenRow { id: id.into(), name: id.into(), created_at: at, last_used_at: None, expires_at: None };
            store.insert_token("u2", &row, &format!("hash-{id}")).await.unwrap();
        }
        assert_eq!(store.count_tokens("u2").await.unwrap(), 2);
        let names: Vec<String> = store.tokens("u2").await.unwrap().into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["t2", "t1"], "{backend}");
        assert_eq!(store.token_by_hash("hash-t1").await.unwrap(), Some(("t1".into(), None)));
        assert_eq!(store.token_user("t1").await.unwrap().map(|u| u.id), Some("u2".into()));
        store.write_token_uses(&HashMap::from([("t1".to_owned(), 500)])).await.unwrap();
        store.write_token_uses(&HashMap::from([("t1".to_owned(), 400)])).await.unwrap();
        let used = store.tokens("u2").await.unwrap().into_iter().find(|t| t.id == "t1").unwrap().last_used_at;
        assert_eq!(used, Some(500), "{backend}: never moved back");
        assert!(!store.delete_token("u1", "t1").await.unwrap(), "{backend}: only its owner deletes it");
        assert!(store.delete_token("u2", "t1").await.unwrap());
        assert_eq!(store.token_by_hash("hash-t1").await.unwrap(), None);
    }
}
