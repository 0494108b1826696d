//! The sources store on both backends: shared sources are visible to every
//! account, private ones only to their owner; updates, the count of servers
//! made from a source, and deletion.

mod common;

use common::stores;
use server::store::sources::{SourceFields, SourceStore};

fn fields(name: &str) -> SourceFields<'_> {
    SourceFields { name, url: "https://mcp.example/mcp", description: "", enabled: true }
}

#[tokio::test]
async fn shared_and_private_sources_on_both_backends() {
    for test in stores::both().await {
        let backend = test.backend;
        for (id, email) in [("u1", "a@example.com"), ("u2", "b@example.com")] {
            test.exec("insert into users (id, email, password_hash, created_at) values ($1, $2, 'x', 0)", &[id, email])
                .await;
        }
        let store = SourceStore::new(test.db.clone());
        store.insert("shared", None, "u1", fields("B shared"), 10).await.unwrap();
        store.insert("mine", Some("u1"), "u1", fields("A mine"), 10).await.unwrap();

        let names = |rows: Vec<server::store::sources::SourceRow>| rows.into_iter().map(|r| r.name).collect::<Vec<_>>();
        assert_eq!(names(store.visible_to("u1").await.unwrap()), ["A mine", "B shared"], "{backend}");
        assert_eq!(names(store.visible_to("u2").await.unwrap()), ["B shared"], "{backend}");
        assert!(store.visible("u2", "mine").await.unwrap().is_none(), "{backend}: private");
        assert!(store.visible("u2", "shared").await.unwrap().is_some());

        let off = SourceFields { enabled: false, ..fields("A renamed") };
        store.update("mine", off, 20).await.unwrap();
        let row = store.visible("u1", "mine").await.unwrap().unwrap();
        assert_eq!((row.name.as_str(), row.enabled, row.updated_at), ("A renamed", false, 20), "{backend}");

        test.exec(
            "insert into servers (id, owner_id, slug, name, spec, created_at, updated_at, kind, source_id)
             values ('s1', 'u1', 'from-mine', 'From mine', '{}', 0, 0, 'mcp', $1)",
            &["mine"],
        )
        .await;
        assert_eq!(store.servers_using("mine").await.unwrap(), 1, "{backend}");
        assert_eq!(store.servers_using("shared").await.unwrap(), 0);
        store.delete("shared").await.unwrap();
        assert!(store.visible("u1", "shared").await.unwrap().is_none(), "{backend}");
    }
}
