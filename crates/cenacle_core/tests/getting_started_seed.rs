//! The getting-started course is written once in an instance's life: two servers starting
//! together on one database write one course between them, a later start writes none, and
//! a course a community manager deleted does not come back.

mod common;

use cenacle_core::getting_started::{ensure_getting_started, getting_started_course};
use common::World;
use diesel_async::RunQueryDsl;

async fn builtin_courses(w: &World) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = w.ctx.conn().await.unwrap();
    diesel::sql_query("SELECT count(*) AS n FROM course WHERE builtin = 'getting_started'")
        .get_result::<Count>(&mut conn)
        .await
        .unwrap()
        .n
}

#[tokio::test]
async fn two_starts_at_once_write_one_course_and_a_deleted_one_stays_deleted() {
    let w = World::new().await;
    // Both find nothing seeded, both prepare the group's key pair, one claims the seed.
    let (a, b) = tokio::join!(
        ensure_getting_started(&w.ctx),
        ensure_getting_started(&w.ctx)
    );
    let written: Vec<i64> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(builtin_courses(&w).await, 1);
    let mut conn = w.ctx.conn().await.unwrap();
    assert_eq!(
        getting_started_course(&mut conn).await.unwrap(),
        Some(written[0])
    );

    // A restart writes nothing more.
    assert_eq!(ensure_getting_started(&w.ctx).await.unwrap(), None);
    assert_eq!(builtin_courses(&w).await, 1);

    // Deleted by its community managers: it stays so.
    diesel::sql_query("DELETE FROM course WHERE builtin = 'getting_started'")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(ensure_getting_started(&w.ctx).await.unwrap(), None);
    assert_eq!(builtin_courses(&w).await, 0);
    assert_eq!(getting_started_course(&mut conn).await.unwrap(), None);
}
