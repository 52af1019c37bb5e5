//! The getting-started course is written once in an instance's life: two servers starting
//! together on one database write one course between them, a later start writes none, and
//! a course a community manager deleted does not come back.

mod common;

use cenacle_core::{
    getting_started::{
        getting_started_course, getting_started_owed, prepare_getting_started,
        write_getting_started,
    },
    Context, CoreError, ScopedFutureExt,
};
use common::World;
use diesel_async::RunQueryDsl;

/// What a server does at start (`cenacle_server::serve`): the check, the key pair, the write.
async fn start(ctx: &Context) -> Result<Option<i64>, CoreError> {
    let owed = {
        let mut conn = ctx.conn().await?;
        getting_started_owed(&mut conn).await?
    };
    let Some(group_name) = owed else {
        return Ok(None);
    };
    let prepared = prepare_getting_started(ctx, &group_name).await?;
    ctx.transaction(|conn| write_getting_started(conn, &prepared).scope_boxed())
        .await
}

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
    let (a, b) = tokio::join!(start(&w.ctx), start(&w.ctx));
    let written: Vec<i64> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(builtin_courses(&w).await, 1);
    let mut conn = w.ctx.conn().await.unwrap();
    assert_eq!(
        getting_started_course(&mut conn).await.unwrap(),
        Some(written[0])
    );

    // A restart writes nothing more.
    assert_eq!(start(&w.ctx).await.unwrap(), None);
    assert_eq!(builtin_courses(&w).await, 1);

    // Gone from the database (there is no delete operation yet): it is not written again.
    diesel::sql_query("DELETE FROM course WHERE builtin = 'getting_started'")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(start(&w.ctx).await.unwrap(), None);
    assert_eq!(builtin_courses(&w).await, 0);
    assert_eq!(getting_started_course(&mut conn).await.unwrap(), None);
}
