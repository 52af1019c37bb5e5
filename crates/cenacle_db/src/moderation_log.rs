//! The moderation log's rows (migration `2026-11-30-001200_moderation_foundation`): appended
//! by every moderation action, read newest first per group or instance-wide.

use crate::{schema::moderation_action, DbError, PrepareOnce};
use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Default, Insertable)]
#[diesel(table_name = moderation_action)]
pub struct NewModerationAction {
    pub group_id: Option<i64>,
    pub moderator_id: Option<i64>,
    pub action: String,
    pub target_person_id: Option<i64>,
    pub target_post_id: Option<i64>,
    pub target_comment_id: Option<i64>,
    pub target_instance: Option<String>,
    pub reason: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub ap_id: Option<String>,
}

/// Appends one action. An action carried by an activity (`ap_id`) is kept once: a replayed
/// or relayed copy of it records nothing (`Ok(None)`).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: &NewModerationAction,
) -> Result<Option<i64>, DbError> {
    Ok(diesel::insert_into(moderation_action::table)
        .values(new)
        .on_conflict_do_nothing()
        .returning(moderation_action::id)
        .get_result(conn)
        .await
        .optional()?)
}

/// One entry of the log as people read it: the names of whom and what it concerns. A post
/// held for approval or rejected is named by its id only: its title was never published.
#[derive(Debug, Clone, QueryableByName)]
pub struct LoggedAction {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub group_name: Option<String>,
    #[diesel(sql_type = Text)]
    pub action: String,
    /// `name` for our members, `name@host` for others.
    #[diesel(sql_type = Nullable<Text>)]
    pub moderator: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub target_person: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub target_post_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub target_post_title: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub target_comment_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub target_instance: Option<String>,
    #[diesel(sql_type = Text)]
    pub reason: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub expires_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

const LOGGED_ACTION: &str = "SELECT a.id, g.name AS group_name, a.action, \
       CASE WHEN m.local THEN m.username ELSE m.username || '@' || COALESCE(m.handle_host, m.instance_host) END AS moderator, \
       CASE WHEN t.local THEN t.username ELSE t.username || '@' || COALESCE(t.handle_host, t.instance_host) END AS target_person, \
       a.target_post_id, CASE WHEN p.approval IS NULL THEN p.title END AS target_post_title, \
       a.target_comment_id, a.target_instance, \
       a.reason, a.expires_at, a.created_at \
  FROM moderation_action a \
  LEFT JOIN community_group g ON g.id = a.group_id \
  LEFT JOIN person m ON m.id = a.moderator_id \
  LEFT JOIN person t ON t.id = a.target_person_id \
  LEFT JOIN post p ON p.id = a.target_post_id";

/// A group's log, newest first, from before the entry `before` (all when `None`); at most
/// `limit` rows.
pub async fn for_group(
    conn: &mut AsyncPgConnection,
    group_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<LoggedAction>, DbError> {
    Ok(diesel::sql_query(format!(
        "{LOGGED_ACTION} WHERE a.group_id = $1 AND ($2::int8 IS NULL OR a.id < $2) \
         ORDER BY a.id DESC LIMIT $3"
    ))
    .bind::<BigInt, _>(group_id)
    .bind::<Nullable<BigInt>, _>(before)
    .bind::<BigInt, _>(limit)
    .prepared()
    .load(conn)
    .await?)
}

/// The instance-wide actions (bans from the instance, blocks of instances…), newest first.
pub async fn for_instance(
    conn: &mut AsyncPgConnection,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<LoggedAction>, DbError> {
    Ok(diesel::sql_query(format!(
        "{LOGGED_ACTION} WHERE a.group_id IS NULL AND ($1::int8 IS NULL OR a.id < $1) \
         ORDER BY a.id DESC LIMIT $2"
    ))
    .bind::<Nullable<BigInt>, _>(before)
    .bind::<BigInt, _>(limit)
    .prepared()
    .load(conn)
    .await?)
}
