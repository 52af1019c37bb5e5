//! The courses the instance writes for itself (the getting-started course): whether it was
//! written once already, and which course row it is.

use crate::DbError;
use diesel::{
    sql_types::{BigInt, Bool, Text},
    OptionalExtension, QueryableByName,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Bool)]
    found: bool,
}

/// Whether `name` was seeded already (a read before the slow preparation; the claim below
/// decides).
pub async fn seeded(conn: &mut AsyncPgConnection, name: &str) -> Result<bool, DbError> {
    let row: Found =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM instance_seed WHERE name = $1) AS found")
            .bind::<Text, _>(name)
            .get_result(conn)
            .await?;
    Ok(row.found)
}

/// Claims `name` for the caller's transaction: true once in the instance's life. A second
/// server starting at the same moment waits on the row and then gets false.
pub async fn claim_seed(conn: &mut AsyncPgConnection, name: &str) -> Result<bool, DbError> {
    let inserted = diesel::sql_query(
        "INSERT INTO instance_seed (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
    )
    .bind::<Text, _>(name)
    .execute(conn)
    .await?;
    Ok(inserted == 1)
}

/// Records which built-in course `course_id` is.
pub async fn mark_builtin(
    conn: &mut AsyncPgConnection,
    course_id: i64,
    key: &str,
) -> Result<(), DbError> {
    diesel::sql_query("UPDATE course SET builtin = $2 WHERE id = $1")
        .bind::<BigInt, _>(course_id)
        .bind::<Text, _>(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// The built-in getting-started course's key (`course.builtin`).
pub const GETTING_STARTED: &str = "getting_started";

/// The built-in course `key`, if it exists and is published (a community manager may have
/// withdrawn or deleted it: then nobody is sent to it).
pub async fn builtin_course(
    conn: &mut AsyncPgConnection,
    key: &str,
) -> Result<Option<i64>, DbError> {
    Ok(
        diesel::sql_query("SELECT id FROM course WHERE builtin = $1 AND published")
            .bind::<Text, _>(key)
            .get_result::<Id>(conn)
            .await
            .optional()?
            .map(|r| r.id),
    )
}
