//! A group's approval queue: its settings, its pending posts, and the activity a remote
//! member's held post arrived with.

use crate::{content::Post, schema::post, DbError, PrepareOnce};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Bool, Int4, Nullable, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, QueryableByName)]
pub struct GroupApproval {
    #[diesel(sql_type = Bool)]
    pub enabled: bool,
    #[diesel(sql_type = Int4)]
    pub first_posts: i32,
    #[diesel(sql_type = BigInt)]
    pub min_reputation: i64,
}

/// A group's settings (off when never set).
pub async fn settings(
    conn: &mut AsyncPgConnection,
    group_id: i64,
) -> Result<GroupApproval, DbError> {
    Ok(diesel::sql_query(
        "SELECT enabled, first_posts, min_reputation FROM group_approval WHERE group_id = $1",
    )
    .bind::<BigInt, _>(group_id)
    .prepared()
    .get_result(conn)
    .await
    .optional()?
    .unwrap_or_default())
}

pub async fn set_settings(
    conn: &mut AsyncPgConnection,
    group_id: i64,
    s: &GroupApproval,
) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO group_approval (group_id, enabled, first_posts, min_reputation) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (group_id) DO UPDATE SET enabled = EXCLUDED.enabled, \
           first_posts = EXCLUDED.first_posts, min_reputation = EXCLUDED.min_reputation, \
           updated_at = now()",
    )
    .bind::<BigInt, _>(group_id)
    .bind::<Bool, _>(s.enabled)
    .bind::<Int4, _>(s.first_posts)
    .bind::<BigInt, _>(s.min_reputation)
    .prepared()
    .execute(conn)
    .await?;
    Ok(())
}

/// The author's posts published (not pending, not rejected, not deleted) in the group.
pub async fn published_posts_in_group(
    conn: &mut AsyncPgConnection,
    group_id: i64,
    author_id: i64,
) -> Result<i64, DbError> {
    Ok(post::table
        .filter(post::group_id.eq(group_id))
        .filter(post::author_id.eq(author_id))
        .filter(post::approval.is_null())
        .filter(post::deleted_at.is_null())
        .count()
        .get_result(conn)
        .await?)
}

/// Marks a new post pending.
pub async fn hold(conn: &mut AsyncPgConnection, post_id: i64) -> Result<Post, DbError> {
    Ok(diesel::update(post::table.find(post_id))
        .set(post::approval.eq("pending"))
        .returning(Post::as_returning())
        .get_result(conn)
        .await?)
}

/// Decides a pending post: `None` publishes it, `Some(reason)` rejects it. Returns the post
/// as decided, or None when it was not pending (decided before, or never held) or, to publish
/// it, when it was removed (by a moderator, or a ban with removal of its author's content);
/// the row is locked, so two moderators deciding at once decide once, and a removal
/// committing meanwhile is seen (the condition is read again once the row's lock is had).
pub async fn decide(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    rejection: Option<&str>,
) -> Result<Option<Post>, DbError> {
    let pending = post::table
        .find(post_id)
        .filter(post::approval.eq("pending"))
        .filter(post::deleted_at.is_null());
    let decided = match rejection {
        Some(reason) => {
            diesel::update(pending)
                .set((
                    post::approval.eq("rejected"),
                    post::approval_reason.eq(reason),
                ))
                .returning(Post::as_returning())
                .get_result(conn)
                .await
        }
        None => {
            diesel::update(pending.filter(post::removed_at.is_null()))
                .set((
                    post::approval.eq(None::<String>),
                    // Published now: it sorts and counts as a new post.
                    post::created_at.eq(diesel::dsl::now),
                    post::last_activity_at.eq(diesel::dsl::now),
                ))
                .returning(Post::as_returning())
                .get_result(conn)
                .await
        }
    };
    Ok(decided.optional()?)
}

/// A group's pending posts after `after_id`, oldest first. A removed one (by a moderator, or
/// a ban with removal of its author's content) waits for nobody: it is listed again if it is
/// restored.
pub async fn pending_posts(
    conn: &mut AsyncPgConnection,
    group_id: i64,
    after_id: i64,
    limit: i64,
) -> Result<Vec<Post>, DbError> {
    Ok(post::table
        .filter(post::group_id.eq(group_id))
        .filter(post::approval.eq("pending"))
        .filter(post::deleted_at.is_null())
        .filter(post::removed_at.is_null())
        .filter(post::id.gt(after_id))
        .order(post::id.asc())
        .limit(limit)
        .select(Post::as_select())
        .load(conn)
        .await?)
}

/// Keeps the activity a held remote post arrived with. An `Update` of a post already held
/// is not kept beside it: its object replaces the kept `Create`'s (same id, same author), so
/// the Create relayed on approval carries the latest version and the Update never leaves
/// before it.
pub async fn keep_activity(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    activity: &str,
) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO held_activity (post_id, activity) VALUES ($1, $2) \
         ON CONFLICT (post_id) DO UPDATE SET activity = CASE \
           WHEN (EXCLUDED.activity::jsonb ->> 'type') = 'Update' \
             AND (held_activity.activity::jsonb ->> 'type') = 'Create' \
           THEN jsonb_set(held_activity.activity::jsonb, '{object}', \
                          EXCLUDED.activity::jsonb -> 'object')::text \
           ELSE held_activity.activity END",
    )
    .bind::<BigInt, _>(post_id)
    .bind::<Text, _>(activity)
    .prepared()
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes (and forgets) the activity a held post arrived with.
pub async fn take_activity(
    conn: &mut AsyncPgConnection,
    post_id: i64,
) -> Result<Option<String>, DbError> {
    #[derive(QueryableByName)]
    struct Held {
        #[diesel(sql_type = Nullable<Text>)]
        activity: Option<String>,
    }
    let held: Option<Held> =
        diesel::sql_query("DELETE FROM held_activity WHERE post_id = $1 RETURNING activity")
            .bind::<BigInt, _>(post_id)
            .prepared()
            .get_result(conn)
            .await
            .optional()?;
    Ok(held.and_then(|h| h.activity))
}
