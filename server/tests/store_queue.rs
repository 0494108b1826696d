//! The wizards' and the job queue's stores on both backends: a wizard's
//! state moves only from the state it was read in; documents are stored
//! once per account and content, counted, and deleted when no unfinished
//! wizard refers to them; one open job per wizard; claims are fair between accounts and
//! take over a job whose holder stopped beating; close and hand-back apply
//! only for the holder.

mod common;

use common::stores;
use server::store::documents::{DocumentStore, NewDocument};
use server::store::jobs::{ClaimRule, Enqueued, JobState, JobStore};
use server::store::wizards::{NewWizard, StateColumns, WizardStore};

fn wizard<'a>(id: &'a str, owner: &'a str, document: Option<&'a str>) -> NewWizard<'a> {
    NewWizard {
        id,
        owner_id: owner,
        description: "pets",
        openapi_url: None,
        document_sha256: document,
        step: "describe",
        processing: "processing",
        at: 1,
    }
}

fn rule(me: &str, now: i64) -> ClaimRule<'_> {
    ClaimRule { me, now, lease_until: now + 60, alive_since_ms: now * 1000 - 5_000, per_account: 1 }
}

#[tokio::test]
async fn wizards_and_jobs_on_both_backends() {
    for test in stores::both().await {
        let backend = test.backend;
        for (id, email) in [("u1", "a@example.com"), ("u2", "b@example.com")] {
            test.exec("insert into users (id, email, password_hash, created_at) values ($1, $2, 'x', 0)", &[id, email])
                .await;
        }
        for instance in ["me", "other"] {
            test.exec(
                "insert into instances (id, host, pid, started_at, heartbeat_at) values ($1, 'h', 1, 0, 100000)",
                &[instance],
            )
            .await;
        }
        let wizards = WizardStore::new(test.db.clone());
        let jobs = JobStore::new(test.db.clone());

        // Wizards: inserted with their jobs in one transaction; room counted;
        // a document stored once however often it is put.
        let documents = DocumentStore::new(test.db.clone());
        let mut tx = test.db.begin().await.unwrap();
        let doc = |owner| NewDocument { owner_id: owner, sha256: "abc", text_bytes: 14, body: b"0123456789", at: 1 };
        for owner in ["u1", "u1", "u2"] {
            documents.put(&mut tx, doc(owner)).await.unwrap();
        }
        documents.set_operations(&mut tx, "u1", "abc", b"index").await.unwrap();
        assert_eq!(documents.held_bytes(&mut tx, "u1").await.unwrap(), 15, "{backend}: body and index");
        assert!(documents.holds(&mut tx, "u2", "abc").await.unwrap());
        wizards.insert(&mut tx, wizard("w1", "u1", Some("abc"))).await.unwrap();
        wizards.insert(&mut tx, wizard("w2", "u1", None)).await.unwrap();
        wizards.insert(&mut tx, wizard("w3", "u2", None)).await.unwrap();
        assert_eq!(wizards.unfinished_count(&mut tx, "u1").await.unwrap(), 2, "{backend}");
        assert_eq!(documents.prune(&mut tx, "u1").await.unwrap(), 0, "{backend}: w1 refers to it");
        assert_eq!(documents.prune(&mut tx, "u2").await.unwrap(), 1, "{backend}: no wizard of u2 does");
        for (w, owner) in [("w1", "u1"), ("w2", "u1"), ("w3", "u2")] {
            assert_eq!(jobs.enqueue(&mut tx, w, owner, 10).await.unwrap(), Enqueued::Done);
        }
        assert_eq!(jobs.enqueue(&mut tx, "w1", "u1", 11).await.unwrap(), Enqueued::AlreadyOpen, "{backend}");
        assert_eq!(jobs.open_for(&mut tx, "u1").await.unwrap(), 2);
        tx.commit().await.unwrap();

        let describe = || StateColumns { step: "describe", processing: "processing", error: None };
        let actions = || StateColumns { step: "actions", processing: "idle", error: None };
        let mut tx = test.db.begin().await.unwrap();
        assert!(wizards.set_state(&mut tx, "w1", describe(), actions(), 20).await.unwrap());
        assert!(!wizards.set_state(&mut tx, "w1", describe(), actions(), 21).await.unwrap(), "{backend}: moved");
        wizards.set_proposal(&mut tx, "w1", "{\"tools\":[]}").await.unwrap();
        tx.commit().await.unwrap();
        let row = wizards.get("u1", "w1").await.unwrap().unwrap();
        assert_eq!((row.wizard_step.as_str(), row.document_sha256.as_deref()), ("actions", Some("abc")), "{backend}");
        let stored = documents.get("u1", "abc").await.unwrap().unwrap();
        assert_eq!((stored.body.as_slice(), stored.operations.as_deref()), (&b"0123456789"[..], Some(&b"index"[..])));
        assert_eq!(documents.operations("u2", "abc").await.unwrap(), None, "{backend}: owner-scoped");
        assert!(wizards.get("u2", "w1").await.unwrap().is_none(), "{backend}: owner-scoped");

        // Claims: fair between accounts (one running each), then nothing.
        let first = jobs.claim(&rule("me", 100)).await.unwrap().unwrap();
        let second = jobs.claim(&rule("me", 100)).await.unwrap().unwrap();
        assert_ne!(first.owner_id, second.owner_id, "{backend}: the other account's job comes next");
        assert!(jobs.claim(&rule("me", 100)).await.unwrap().is_none(), "{backend}: one running per account");
        assert_eq!(jobs.holder(&first.id).await.unwrap(), Some((JobState::Running, Some("me".into()))));

        // Hand back and close apply only for the holder.
        jobs.hand_back(&first.id, "other", 101).await.unwrap();
        assert_eq!(jobs.holder(&first.id).await.unwrap().unwrap().0, JobState::Running, "{backend}: not other's");
        jobs.hand_back(&first.id, "me", 101).await.unwrap();
        assert_eq!(jobs.holder(&first.id).await.unwrap(), Some((JobState::Queued, None)));
        let mut tx = test.db.begin().await.unwrap();
        assert!(!jobs.close(&mut tx, &second.id, "other", JobState::Succeeded, None, 102).await.unwrap());
        assert!(jobs.close(&mut tx, &second.id, "me", JobState::Failed, Some("boom"), 102).await.unwrap(), "{backend}");
        tx.commit().await.unwrap();

        // A holder whose heartbeat stopped loses its job to another instance
        // (which may also pick the account's other queued job first).
        let taken = jobs.claim(&rule("me", 100)).await.unwrap().unwrap();
        test.exec("update instances set heartbeat_at = 0 where id = $1", &["me"]).await;
        let other = ClaimRule { per_account: 2, ..rule("other", 100) };
        let a = jobs.claim(&other).await.unwrap().unwrap();
        let b = jobs.claim(&other).await.unwrap().unwrap();
        let over = [a, b].into_iter().find(|c| c.id == taken.id).expect("the stale holder's job is taken over");
        assert_eq!(over.attempts, taken.attempts + 1, "{backend}: counted as another attempt");
        assert_eq!(jobs.holder(&taken.id).await.unwrap(), Some((JobState::Running, Some("other".into()))));
    }
}
