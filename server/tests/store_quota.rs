//! The monthly quota's ledger on both backends: concurrent reservations
//! (as from several replicas) never grant more than the quota in total, a
//! month starts from the calls already logged, and unspent grants come back.

mod common;

use common::stores;
use server::store::quota::QuotaStore;

#[tokio::test]
async fn concurrent_reservations_never_pass_the_quota() {
    for test in stores::both().await {
        let store = QuotaStore::new(test.db.clone());
        // 8 reservers of up to 10 calls each, racing for a quota of 25.
        let reservers = (0..8).map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = 0;
                loop {
                    match store.reserve("ada", "2026-12", 10, 25).await.unwrap() {
                        0 => return mine,
                        granted => mine += granted,
                    }
                }
            })
        });
        let granted: Vec<i64> =
            futures_util::future::join_all(reservers).await.into_iter().map(Result::unwrap).collect();
        assert_eq!(granted.iter().sum::<i64>(), 25, "{}: {granted:?}", test.backend);
        assert_eq!(store.granted("ada", "2026-12").await.unwrap(), 25, "{}", test.backend);
        assert_eq!(store.reserve("bob", "2026-12", 10, 25).await.unwrap(), 10, "{}: per account", test.backend);

        store.give_back("ada", "2026-12", 4).await.unwrap();
        assert_eq!(store.reserve("ada", "2026-12", 10, 25).await.unwrap(), 4, "{}: given back", test.backend);
        assert_eq!(store.reserve("ada", "2027-01", 10, 25).await.unwrap(), 10, "{}: a new month", test.backend);
    }
}

#[tokio::test]
async fn a_month_starts_from_the_calls_already_logged() {
    for test in stores::both().await {
        test.exec("insert into monthly_usage (owner_id, month, calls) values ($1, '2026-12', 23)", &["ada"]).await;
        let store = QuotaStore::new(test.db.clone());
        assert_eq!(store.reserve("ada", "2026-12", 10, 25).await.unwrap(), 2, "{}", test.backend);
        assert_eq!(store.reserve("ada", "2026-12", 10, 25).await.unwrap(), 0, "{}", test.backend);
    }
}
