//! The health monitor's store on both backends: the heartbeat is written on
//! the monitor's own connection (an upsert, with an optional scratch write),
//! old heartbeats are forgotten, reads are counted, an instance removed.

mod common;

use common::stores;
use server::store::health::Beat;
use std::time::Duration;

fn beat(id: &str, now_ms: i64, scratch_bytes: usize) -> Beat<'_> {
    Beat { instance_id: id, host: "host", pid: 42, started_at_ms: 1, now_ms, scratch_bytes }
}

#[tokio::test]
async fn heartbeats_on_both_backends() {
    for test in stores::both().await {
        let backend = test.backend;
        let mut probe = test.db.probe_connection(Duration::from_millis(250)).await.unwrap();
        probe.beat(&beat("old", 1_000, 0)).await.unwrap();
        probe.beat(&beat("me", 100_000_000, 0)).await.unwrap();
        probe.beat(&beat("me", 100_001_000, 32 * 1024)).await.unwrap();
        assert_eq!(test.db.read_instances().await.unwrap(), 1, "{backend}: upserted, and a day-old one forgotten");
        test.exec("insert into instances (id, host, pid, started_at, heartbeat_at) values ($1, 'h', 1, 0, 0)", &["x"])
            .await;
        test.db.remove_instance("x").await.unwrap();
        assert_eq!(test.db.read_instances().await.unwrap(), 1, "{backend}");
        probe.close().await.unwrap();
    }
}
