//! The call log store on both backends: a batch of calls and the monthly
//! counters in one transaction (counters add up across batches), read back
//! newest first for one server and owner, pruned by age.

mod common;

use common::stores;
use server::engine::calllog::CallRecord;
use server::store::calls::CallStore;
use std::collections::BTreeMap;

fn call(server: &str, owner: &str, at: i64, client: Option<&str>) -> CallRecord {
    CallRecord {
        server_id: server.into(),
        owner_id: owner.into(),
        tool: "ping".into(),
        started_at_ms: at,
        duration_ms: 3,
        outcome: "ok",
        upstream_status: Some(200),
        error: None,
        month: "2026-12".into(),
        counted: true,
        oauth_client: client.map(str::to_owned),
        oauth_user: client.map(|_| "u@example.com".to_owned()),
    }
}

#[tokio::test]
async fn calls_and_usage_on_both_backends() {
    for test in stores::both().await {
        let backend = test.backend;
        let store = CallStore::new(test.db.clone());
        // More rows than one multi-row insert holds.
        let batch: Vec<CallRecord> = (0..250).map(|i| call("s1", "o1", 1_000 + i, None)).collect();
        let usage = BTreeMap::from([(("o1", "2026-12"), 250), (("o2", "2026-12"), 1)]);
        store.write(&batch, &usage).await.unwrap();
        store
            .write(&[call("s1", "o1", 5_000, Some("Claude"))], &BTreeMap::from([(("o1", "2026-12"), 1)]))
            .await
            .unwrap();

        let mut counted = store.usage("2026-12").await.unwrap();
        counted.sort();
        assert_eq!(counted, [("o1".to_owned(), 251), ("o2".to_owned(), 1)], "{backend}");
        assert!(store.usage("2026-11").await.unwrap().is_empty());

        let recent = store.recent("s1", "o1", 3).await.unwrap();
        assert_eq!(recent.iter().map(|c| c.started_at).collect::<Vec<_>>(), [5_000, 1_249, 1_248], "{backend}");
        assert_eq!(recent[0].oauth_client.as_deref(), Some("Claude"));
        assert_eq!(recent[1].upstream_status, Some(200));
        assert!(store.recent("s1", "someone-else", 10).await.unwrap().is_empty(), "{backend}: owner-scoped");

        assert_eq!(store.prune(1_100).await.unwrap(), 100, "{backend}");
        assert_eq!(store.recent("s1", "o1", 1000).await.unwrap().len(), 151);
    }
}
