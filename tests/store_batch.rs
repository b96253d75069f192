//! Group commit (`Database::write_batched`): writes queued together share
//! one transaction, a failing write is rolled back alone (the others of its
//! batch are run again, each alone), and a caller that gives up does not cut
//! the batch short.

use govseal::store::batch::BatchFuture;
use govseal::store::{Connection, Database, StoreError, settings};
use tokio::sync::oneshot;

use crate::common;

/// Inserts settings `names` one after the other (a plain INSERT: a name
/// already there is a unique violation).
async fn insert(conn: &mut Connection, names: Vec<String>) -> Result<usize, StoreError> {
    for name in &names {
        sqlx::query("INSERT INTO settings (name, value) VALUES ($1, 'v')")
            .bind(name)
            .execute(&mut *conn)
            .await
            .map_err(|e| StoreError::duplicate_as(e, name))?;
    }
    Ok(names.len())
}

/// Queues a write that inserts `names`.
async fn write(db: &Database, names: &[&str]) -> Result<usize, StoreError> {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    db.write_batched(move |conn: &mut Connection| -> BatchFuture<'_, _> {
        Box::pin(insert(conn, names.clone()))
    })
    .await
}

/// Queues a write that holds its batch's transaction open until `release`
/// fires, so the writes queued meanwhile all go into the next batch.
fn hold(db: &Database) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (release, released) = oneshot::channel::<()>();
    let released = std::sync::Mutex::new(Some(released));
    let db = db.clone();
    let holder = tokio::spawn(async move {
        db.write_batched(move |_: &mut Connection| -> BatchFuture<'_, _> {
            let released = released.lock().unwrap().take();
            Box::pin(async move {
                if let Some(released) = released {
                    let _ = released.await;
                }
                Ok::<_, StoreError>(())
            })
        })
        .await
        .expect("holding write");
    });
    (release, holder)
}

async fn has(db: &Database, name: &str) -> bool {
    let mut conn = db.pool.acquire().await.unwrap();
    settings::get(&mut conn, name).await.unwrap().is_some()
}

async fn fresh() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database_url(dir.path()).await;
    let db = Database::connect(&url).await.unwrap();
    (dir, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_write_is_rolled_back_alone_and_the_others_of_its_batch_commit() {
    let (_dir, db) = fresh().await;
    write(&db, &["taken"]).await.unwrap();

    let (release, holder) = hold(&db);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    // Twenty good writes and one that inserts a name, then a duplicate: all
    // queue behind the held batch and share the next transaction.
    let good: Vec<_> = (0..20)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move { write(&db, &[&format!("good-{i}")]).await })
        })
        .collect();
    let bad = {
        let db = db.clone();
        tokio::spawn(async move { write(&db, &["half-written", "taken"]).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    release.send(()).unwrap();
    holder.await.unwrap();

    for g in good {
        assert_eq!(g.await.unwrap().unwrap(), 1);
    }
    match bad.await.unwrap() {
        Err(StoreError::Duplicate(what)) => assert_eq!(what, "taken"),
        other => panic!("expected the duplicate, got {other:?}"),
    }
    for i in 0..20 {
        assert!(has(&db, &format!("good-{i}")).await, "good-{i} committed");
    }
    assert!(
        !has(&db, "half-written").await,
        "the failing write left nothing behind"
    );
    // The writer goes on after a failure.
    assert_eq!(write(&db, &["after"]).await.unwrap(), 1);
    assert!(has(&db, "after").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_failing_write_leaves_nothing() {
    let (_dir, db) = fresh().await;
    write(&db, &["taken"]).await.unwrap();
    assert!(matches!(
        write(&db, &["partial", "taken"]).await,
        Err(StoreError::Duplicate(_))
    ));
    assert!(!has(&db, "partial").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_whose_caller_gives_up_is_still_committed() {
    let (_dir, db) = fresh().await;
    let (release, holder) = hold(&db);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let abandoned = {
        let db = db.clone();
        tokio::spawn(async move { write(&db, &["abandoned"]).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    abandoned.abort();
    assert!(abandoned.await.unwrap_err().is_cancelled());
    release.send(()).unwrap();
    holder.await.unwrap();
    // The batch it was queued in ran to its commit.
    write(&db, &["later"]).await.unwrap();
    assert!(has(&db, "abandoned").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_is_answered_while_batch_tasks_stop_and_start() {
    // Writers that come and go: the batch task often finds the queue empty
    // and stops just as the next write arrives and starts another.
    let (_dir, db) = fresh().await;
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let db = db.clone();
            tokio::spawn(async move {
                for i in 0..150 {
                    write(&db, &[&format!("w{w}-{i}")]).await.expect("answered");
                    if i % 7 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let mut conn = db.pool.acquire().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM settings WHERE name LIKE 'w%'")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(n, 600);
}
