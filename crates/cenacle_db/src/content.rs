//! Group membership, posts, comments, votes, and their histories.

use crate::{
    schema::{comment, group_membership, idea_status_change, person, post, post_edit, vote},
    DbError, PrepareOnce,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

// ---- membership ----

/// The person's role in the group ("member", "moderator", "owner"), if a member.
pub async fn membership_role(
    conn: &mut AsyncPgConnection,
    group_id: i64,
    person_id: i64,
) -> Result<Option<String>, DbError> {
    Ok(group_membership::table
        .find((group_id, person_id))
        .select(group_membership::role)
        .first(conn)
        .await
        .optional()?)
}

/// Adds a member, or changes the role of an existing one.
pub async fn set_membership(
    conn: &mut AsyncPgConnection,
    group_id: i64,
    person_id: i64,
    role: &str,
) -> Result<(), DbError> {
    diesel::insert_into(group_membership::table)
        .values((
            group_membership::group_id.eq(group_id),
            group_membership::person_id.eq(person_id),
            group_membership::role.eq(role),
        ))
        .on_conflict((group_membership::group_id, group_membership::person_id))
        .do_update()
        .set(group_membership::role.eq(role))
        .execute(conn)
        .await?;
    Ok(())
}

/// A remote group's moderators as its server lists them: `people` become its moderators here;
/// those listed before and no longer are members again when they are ours (they follow it) or
/// leave it when they are remote (they were here only as its moderators).
pub async fn replace_moderators(
    conn: &mut AsyncPgConnection,
    group_id: i64,
    people: &[i64],
) -> Result<(), DbError> {
    use diesel::sql_types::{Array, BigInt};
    diesel::sql_query(
        "DELETE FROM group_membership m USING person p WHERE m.group_id = $1 \
         AND p.id = m.person_id AND NOT p.local AND m.role IN ('owner', 'moderator') \
         AND NOT (m.person_id = ANY($2))",
    )
    .bind::<BigInt, _>(group_id)
    .bind::<Array<BigInt>, _>(people)
    .execute(conn)
    .await?;
    diesel::sql_query(
        "UPDATE group_membership SET role = 'member' WHERE group_id = $1 \
         AND role IN ('owner', 'moderator') AND NOT (person_id = ANY($2))",
    )
    .bind::<BigInt, _>(group_id)
    .bind::<Array<BigInt>, _>(people)
    .execute(conn)
    .await?;
    diesel::sql_query(
        "INSERT INTO group_membership (group_id, person_id, role) \
         SELECT $1, unnest($2::bigint[]), 'moderator' \
         ON CONFLICT (group_id, person_id) DO UPDATE SET role = 'moderator' \
         WHERE group_membership.role <> 'owner'",
    )
    .bind::<BigInt, _>(group_id)
    .bind::<Array<BigInt>, _>(people)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn remove_membership(
    conn: &mut AsyncPgConnection,
    group_id: i64,
    person_id: i64,
) -> Result<bool, DbError> {
    Ok(
        diesel::delete(group_membership::table.find((group_id, person_id)))
            .execute(conn)
            .await?
            == 1,
    )
}

/// Removes the person's membership only when it is a plain member's (a moderator's or the
/// owner's stays): what a ban takes, whose refusal of moderators may have read the role
/// before a promotion committed. True when a membership was removed.
pub async fn remove_plain_membership(
    conn: &mut AsyncPgConnection,
    group_id: i64,
    person_id: i64,
) -> Result<bool, DbError> {
    Ok(diesel::delete(
        group_membership::table
            .find((group_id, person_id))
            .filter(group_membership::role.eq("member")),
    )
    .execute(conn)
    .await?
        == 1)
}

pub async fn count_members(conn: &mut AsyncPgConnection, group_id: i64) -> Result<i64, DbError> {
    Ok(group_membership::table
        .filter(group_membership::group_id.eq(group_id))
        .count()
        .get_result(conn)
        .await?)
}

// ---- posts ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = post)]
pub struct Post {
    pub id: i64,
    pub group_id: i64,
    pub author_id: i64,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub language: String,
    pub tags: Vec<String>,
    pub idea_status: Option<String>,
    pub duplicate_of: Option<i64>,
    pub accepted_comment_id: Option<i64>,
    pub locked: bool,
    pub pinned: bool,
    pub likes: i32,
    pub dislikes: i32,
    pub comment_count: i32,
    pub ap_id: String,
    pub local: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub rating_sum: i32,
    pub rating_count: i32,
    /// Removed by a moderator (distinct from an author's delete): hidden from all but the
    /// group's moderators and the author. The reason stays after a restore.
    pub removed_at: Option<DateTime<Utc>>,
    pub removal_reason: Option<String>,
    /// None: published; `pending` (waits for a moderator) or `rejected`.
    pub approval: Option<String>,
    pub approval_reason: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = post)]
pub struct NewPost {
    pub group_id: i64,
    pub author_id: i64,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub language: String,
    pub tags: Vec<String>,
    pub idea_status: Option<String>,
    pub ap_id: String,
    pub local: bool,
}

pub async fn insert_post(conn: &mut AsyncPgConnection, new: &NewPost) -> Result<Post, DbError> {
    let mood = post_sentiment(&new.title, &new.body, &new.language);
    Ok(diesel::insert_into(post::table)
        .values((new, post::sentiment.eq(mood)))
        .returning(Post::as_returning())
        .get_result(conn)
        .await?)
}

/// Local posts get their id from their row id: insert with a placeholder, then set it.
pub async fn set_post_ap_id(
    conn: &mut AsyncPgConnection,
    id: i64,
    ap_id: &str,
) -> Result<Post, DbError> {
    Ok(diesel::update(post::table.find(id))
        .set(post::ap_id.eq(ap_id))
        .returning(Post::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn post_by_id(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<Post>, DbError> {
    Ok(post::table
        .find(id)
        .select(Post::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn post_by_ap_id(
    conn: &mut AsyncPgConnection,
    ap_id: &str,
) -> Result<Option<Post>, DbError> {
    Ok(post::table
        .filter(post::ap_id.eq(ap_id))
        .select(Post::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// How a write holds the post it acts on until its transaction ends: taken as the post is
/// first read, before its group, its rights and its bans are, so that they are those of the
/// group the post stays in until the write commits. Each strength conflicts with a champion's
/// move (FOR UPDATE, `champions::move_post`): a move being written is waited for and the post
/// then read in its new group; a move that starts later waits for the write, and then finds
/// it (a reply, a vote). Without it, a write read the post in the group a move was taking it
/// out of, and went through in the new group on the old one's say (its rights, its bans).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostHold {
    /// FOR KEY SHARE, for a reply (a comment, an answer) — and an edit of a comment, a report,
    /// a remote Flag: the lock a reply's row's foreign key takes on the post anyway, taken
    /// before the post is read. Other replies, votes and edits
    /// (which update the post's row without its key) do not wait for it.
    InItsGroup,
    /// FOR NO KEY UPDATE, for an edit of the post itself, a rating or a pin: the lock their
    /// update of the row takes anyway. It conflicts with another edit (the second reads the
    /// first's text, whose version it keeps in the history), not with the KEY SHARE of
    /// replies and votes (their updates of the post's counts wait for it, as for the update).
    Edit,
    /// FOR UPDATE, for a take-down (deletion, removal) or a change of the post's state
    /// (acceptance, idea status, restore, lock, pin by a moderator): conflicts with the KEY
    /// SHARE votes and replies take (`post_live_for_vote`), so that those in flight commit
    /// first (a removal takes their rewards back with the rest, a lock sees their replies) and
    /// later ones find it gone or locked. Taken first in the transaction, before any
    /// reputation or points row.
    Exclusive,
}

/// The post `id`, held (`hold`) until the transaction ends, read under that lock in the same
/// statement; `None` when there is no such row. Three statements, one per strength, each
/// prepared once per connection (the reply and the vote are on the hot path).
pub async fn post_held(
    conn: &mut AsyncPgConnection,
    id: i64,
    hold: PostHold,
) -> Result<Option<Post>, DbError> {
    let query = post::table.find(id).select(Post::as_select());
    let held = match hold {
        PostHold::InItsGroup => query.for_key_share().first(conn).await,
        PostHold::Edit => query.for_no_key_update().first(conn).await,
        PostHold::Exclusive => query.for_update().first(conn).await,
    };
    Ok(held.optional()?)
}

/// Keeps the previous version in `post_edit`, then applies the new one.
pub async fn edit_post(
    conn: &mut AsyncPgConnection,
    previous: &Post,
    editor_id: i64,
    title: &str,
    body: &str,
    tags: &[String],
) -> Result<Post, DbError> {
    diesel::insert_into(post_edit::table)
        .values((
            post_edit::post_id.eq(previous.id),
            post_edit::editor_id.eq(editor_id),
            post_edit::title.eq(&previous.title),
            post_edit::body.eq(&previous.body),
            post_edit::tags.eq(&previous.tags),
        ))
        .execute(conn)
        .await?;
    Ok(diesel::update(post::table.find(previous.id))
        .set((
            post::title.eq(title),
            post::body.eq(body),
            post::tags.eq(tags),
            post::sentiment.eq(post_sentiment(title, body, &previous.language)),
            post::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Post::as_returning())
        .get_result(conn)
        .await?)
}

#[derive(Debug, Clone, Queryable)]
pub struct PostEdit {
    pub editor_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub edited_at: DateTime<Utc>,
}

pub async fn post_edits(
    conn: &mut AsyncPgConnection,
    post_id: i64,
) -> Result<Vec<PostEdit>, DbError> {
    Ok(post_edit::table
        .filter(post_edit::post_id.eq(post_id))
        .order(post_edit::id.asc())
        .select((
            post_edit::editor_id,
            post_edit::title,
            post_edit::body,
            post_edit::tags,
            post_edit::edited_at,
        ))
        .load(conn)
        .await?)
}

/// The group of a post that is still there (None: gone), its row share-locked against its
/// deletion (FOR KEY SHARE) until the transaction ends: what a vote earns is then either
/// committed before the deletion, which takes it back, or refused after it — never committed
/// after the deletion took back the rest. KEY SHARE does not block the votes' counter updates
/// on the same row, so concurrent votes do not wait on each other here; only a FOR UPDATE of
/// the post does (a take-down, [`PostHold::Exclusive`]; an acceptance, an idea's status;
/// a champion's move, whose new group is then the one returned).
///
/// `withdrawing`: a vote taken back is still taken on content a moderator removed (it was
/// paid before the removal; left standing, a restore would pay it again).
pub async fn post_live_for_vote(
    conn: &mut AsyncPgConnection,
    id: i64,
    withdrawing: bool,
) -> Result<Option<i64>, DbError> {
    // A post waiting for approval (or rejected) takes no votes either, nor one a moderator
    // removed (what it earned was taken back; a vote now would be paid while it is hidden).
    let live: Option<(bool, i64)> = post::table
        .find(id)
        .select((
            post::deleted_at
                .is_null()
                .and(post::approval.is_null())
                .and(
                    post::removed_at
                        .is_null()
                        .or(withdrawing.into_sql::<diesel::sql_types::Bool>()),
                ),
            post::group_id,
        ))
        .for_key_share()
        .first(conn)
        .await
        .optional()?;
    Ok(live.filter(|(live, _)| *live).map(|(_, group_id)| group_id))
}

/// [`post_live_for_vote`] for a comment.
pub async fn comment_live_for_vote(
    conn: &mut AsyncPgConnection,
    id: i64,
    withdrawing: bool,
) -> Result<bool, DbError> {
    let live: Option<bool> = comment::table
        .find(id)
        .select(
            comment::deleted_at.is_null().and(
                comment::removed_at
                    .is_null()
                    .or(withdrawing.into_sql::<diesel::sql_types::Bool>()),
            ),
        )
        .for_key_share()
        .first(conn)
        .await
        .optional()?;
    Ok(live == Some(true))
}

/// The answer `id` when it is a live top-level answer of `post_id`, read under a share lock
/// that its take-down (FOR UPDATE) waits for: taken by an acceptance or a bounty's award once
/// it holds the post's lock, so that an answer deleted meanwhile is never accepted nor paid
/// (the take-down locks the post first, then the comment: the same order).
pub async fn live_answer_locked(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    id: i64,
) -> Result<Option<Comment>, DbError> {
    Ok(comment::table
        .find(id)
        .filter(comment::post_id.eq(post_id))
        .filter(comment::parent_id.is_null())
        .filter(comment::deleted_at.is_null())
        .filter(comment::removed_at.is_null())
        .select(Comment::as_select())
        .for_key_share()
        .first(conn)
        .await
        .optional()?)
}

/// [`post_held`] for the post of the comment `comment_id` (a comment never changes posts),
/// taken before the comment is read or written (None: no such comment): the post's row before
/// the comment's, in the order of a move (which locks the post, then the comments of people
/// banned from its new group) and of a take-down. An edit that updated the comment first and then took the post's
/// key lock (a notification of a mention it adds) could each wait for a move holding the post
/// and wanting the comment; a deletion that read its rights before would read them in the
/// group a move being written takes the comment out of.
pub async fn post_of_comment_held(
    conn: &mut AsyncPgConnection,
    comment_id: i64,
    hold: PostHold,
) -> Result<Option<Post>, DbError> {
    let of_the_comment = post::id.nullable().eq(comment::table
        .find(comment_id)
        .select(comment::post_id)
        .single_value());
    let query = post::table.filter(of_the_comment).select(Post::as_select());
    let held = match hold {
        PostHold::InItsGroup => query.for_key_share().first(conn).await,
        PostHold::Edit => query.for_no_key_update().first(conn).await,
        PostHold::Exclusive => query.for_update().first(conn).await,
    };
    Ok(held.optional()?)
}

/// Locks a comment before it goes (FOR UPDATE), after its post ([`PostHold::Exclusive`]):
/// votes in flight on it commit first, later ones find it gone.
pub async fn lock_comment_for_take_down(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> Result<(), DbError> {
    comment::table
        .find(id)
        .select(comment::id)
        .for_update()
        .first::<i64>(conn)
        .await
        .optional()?;
    Ok(())
}

pub async fn soft_delete_post(conn: &mut AsyncPgConnection, id: i64) -> Result<(), DbError> {
    diesel::update(post::table.find(id).filter(post::deleted_at.is_null()))
        .set(post::deleted_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes (`Some(reason)`) or restores (`None`) a post; whether that changed anything. A
/// restore keeps the last reason (what an Undo of the removal repeats).
pub async fn set_post_removal(
    conn: &mut AsyncPgConnection,
    id: i64,
    reason: Option<&str>,
) -> Result<bool, DbError> {
    let updated = match reason {
        Some(reason) => {
            diesel::update(post::table.find(id).filter(post::removed_at.is_null()))
                .set((
                    post::removed_at.eq(diesel::dsl::now),
                    post::removal_reason.eq(reason),
                ))
                .execute(conn)
                .await?
        }
        None => {
            diesel::update(post::table.find(id).filter(post::removed_at.is_not_null()))
                .set(post::removed_at.eq(None::<DateTime<Utc>>))
                .execute(conn)
                .await?
        }
    };
    Ok(updated > 0)
}

/// [`set_post_removal`] for a comment.
pub async fn set_comment_removal(
    conn: &mut AsyncPgConnection,
    id: i64,
    reason: Option<&str>,
) -> Result<bool, DbError> {
    let updated = match reason {
        Some(reason) => {
            diesel::update(
                comment::table
                    .find(id)
                    .filter(comment::removed_at.is_null()),
            )
            .set((
                comment::removed_at.eq(diesel::dsl::now),
                comment::removal_reason.eq(reason),
            ))
            .execute(conn)
            .await?
        }
        None => {
            diesel::update(
                comment::table
                    .find(id)
                    .filter(comment::removed_at.is_not_null()),
            )
            .set(comment::removed_at.eq(None::<DateTime<Utc>>))
            .execute(conn)
            .await?
        }
    };
    Ok(updated > 0)
}

pub async fn set_post_flags(
    conn: &mut AsyncPgConnection,
    id: i64,
    locked: Option<bool>,
    pinned: Option<bool>,
) -> Result<Post, DbError> {
    #[derive(AsChangeset)]
    #[diesel(table_name = post)]
    struct Flags {
        locked: Option<bool>,
        pinned: Option<bool>,
    }
    Ok(diesel::update(post::table.find(id))
        .set((
            Flags { locked, pinned },
            post::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Post::as_returning())
        .get_result(conn)
        .await?)
}

/// Sets (or clears) a question's accepted answer, and who accepted it (None when unknown:
/// a remote acceptance, or a clearing).
pub async fn set_accepted_answer(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    comment_id: Option<i64>,
    accepted_by: Option<i64>,
) -> Result<Post, DbError> {
    let accepted_by = comment_id.and(accepted_by);
    Ok(diesel::update(post::table.find(post_id))
        .set((
            post::accepted_comment_id.eq(comment_id),
            post::accepted_by.eq(accepted_by),
            post::accepted_at.eq(comment_id.map(|_| Utc::now())),
        ))
        .returning(Post::as_returning())
        .get_result(conn)
        .await?)
}

/// Changes an idea's status and records the change with its public comment.
pub async fn change_idea_status(
    conn: &mut AsyncPgConnection,
    previous: &Post,
    changed_by: Option<i64>,
    to: &str,
    duplicate_of: Option<i64>,
    comment_text: Option<&str>,
) -> Result<Post, DbError> {
    diesel::insert_into(idea_status_change::table)
        .values((
            idea_status_change::post_id.eq(previous.id),
            idea_status_change::changed_by.eq(changed_by),
            idea_status_change::from_status.eq(previous.idea_status.clone().unwrap_or_default()),
            idea_status_change::to_status.eq(to),
            idea_status_change::comment.eq(comment_text),
        ))
        .execute(conn)
        .await?;
    Ok(diesel::update(post::table.find(previous.id))
        .set((
            post::idea_status.eq(to),
            post::duplicate_of.eq(duplicate_of),
            post::last_activity_at.eq(diesel::dsl::now),
        ))
        .returning(Post::as_returning())
        .get_result(conn)
        .await?)
}

#[derive(Debug, Clone, Queryable)]
pub struct StatusChange {
    pub changed_by: Option<i64>,
    pub from_status: String,
    pub to_status: String,
    pub comment: Option<String>,
    pub changed_at: DateTime<Utc>,
}

pub async fn idea_history(
    conn: &mut AsyncPgConnection,
    post_id: i64,
) -> Result<Vec<StatusChange>, DbError> {
    Ok(idea_status_change::table
        .filter(idea_status_change::post_id.eq(post_id))
        .order(idea_status_change::id.asc())
        .select((
            idea_status_change::changed_by,
            idea_status_change::from_status,
            idea_status_change::to_status,
            idea_status_change::comment,
            idea_status_change::changed_at,
        ))
        .load(conn)
        .await?)
}

/// What to list and how.
#[derive(Debug, Clone, Default)]
pub struct PostFilter {
    pub group_id: Option<i64>,
    pub kind: Option<String>,
    pub idea_status: Option<String>,
    pub unanswered: bool,
    /// "new" (default), "top", "active".
    pub sort: String,
    pub offset: i64,
    pub limit: i64,
}

/// Posts not deleted nor removed by a moderator, pinned first within a group, then by the
/// sort.
pub async fn list_posts(
    conn: &mut AsyncPgConnection,
    f: &PostFilter,
) -> Result<Vec<Post>, DbError> {
    let mut query = post::table
        .filter(post::deleted_at.is_null())
        // Held and rejected posts are in the approval queue only.
        .filter(post::approval.is_null())
        .filter(post::removed_at.is_null())
        .select(Post::as_select())
        .into_boxed();
    if let Some(group_id) = f.group_id {
        query = query
            .filter(post::group_id.eq(group_id))
            .order(post::pinned.desc());
    }
    if let Some(kind) = &f.kind {
        query = query.filter(post::kind.eq(kind.clone()));
    }
    if let Some(status) = &f.idea_status {
        query = query.filter(post::idea_status.eq(status.clone()));
    }
    if f.unanswered {
        query = query
            .filter(post::kind.eq("question"))
            .filter(post::accepted_comment_id.is_null())
            .filter(post::comment_count.eq(0));
    }
    query = match f.sort.as_str() {
        "top" => query
            .then_order_by((post::likes - post::dislikes).desc())
            .then_order_by(post::id.desc()),
        "active" => query
            .then_order_by(post::last_activity_at.desc())
            .then_order_by(post::id.desc()),
        _ => query.then_order_by(post::id.desc()),
    };
    Ok(query.offset(f.offset).limit(f.limit).load(conn).await?)
}

// ---- comments ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = comment)]
pub struct Comment {
    pub id: i64,
    pub post_id: i64,
    pub parent_id: Option<i64>,
    pub author_id: i64,
    pub body: String,
    pub depth: i32,
    pub likes: i32,
    pub dislikes: i32,
    pub ap_id: String,
    pub local: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub language: String,
    /// A moderator's removal (restorable), apart from the author's own delete: see
    /// [`Post::removed_at`].
    pub removed_at: Option<DateTime<Utc>>,
    pub removal_reason: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = comment)]
pub struct NewComment {
    pub post_id: i64,
    pub parent_id: Option<i64>,
    pub author_id: i64,
    pub body: String,
    pub depth: i32,
    pub ap_id: String,
    pub local: bool,
}

/// Inserts a comment and counts it on its post, in the caller's transaction.
pub async fn insert_comment(
    conn: &mut AsyncPgConnection,
    new: &NewComment,
) -> Result<Comment, DbError> {
    // The post's counters first: its language gives the comment's mood.
    let language: String = diesel::update(post::table.find(new.post_id))
        .set((
            post::comment_count.eq(post::comment_count + 1),
            post::last_activity_at.eq(diesel::dsl::now),
        ))
        .returning(post::language)
        .get_result(conn)
        .await?;
    let mood = sentiment_of(&new.body, &language);
    let created = diesel::insert_into(comment::table)
        .values((new, comment::sentiment.eq(mood)))
        .returning(Comment::as_returning())
        .get_result(conn)
        .await?;
    Ok(created)
}

pub async fn set_comment_ap_id(
    conn: &mut AsyncPgConnection,
    id: i64,
    ap_id: &str,
) -> Result<Comment, DbError> {
    Ok(diesel::update(comment::table.find(id))
        .set(comment::ap_id.eq(ap_id))
        .returning(Comment::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn comment_by_id(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> Result<Option<Comment>, DbError> {
    Ok(comment::table
        .find(id)
        .select(Comment::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn comment_by_ap_id(
    conn: &mut AsyncPgConnection,
    ap_id: &str,
) -> Result<Option<Comment>, DbError> {
    Ok(comment::table
        .filter(comment::ap_id.eq(ap_id))
        .select(Comment::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn comments_of(
    conn: &mut AsyncPgConnection,
    post_id: i64,
) -> Result<Vec<Comment>, DbError> {
    Ok(comment::table
        .filter(comment::post_id.eq(post_id))
        .order(comment::id.asc())
        .select(Comment::as_select())
        .load(conn)
        .await?)
}

pub async fn edit_comment(
    conn: &mut AsyncPgConnection,
    id: i64,
    body: &str,
) -> Result<Comment, DbError> {
    // Read in its thread's language, as when it was written.
    let language: String = post::table
        .filter(
            post::id.nullable().eq(comment::table
                .find(id)
                .select(comment::post_id)
                .single_value()),
        )
        .select(post::language)
        .first(conn)
        .await?;
    Ok(diesel::update(comment::table.find(id))
        .set((
            comment::body.eq(body),
            comment::sentiment.eq(sentiment_of(body, &language)),
            comment::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Comment::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn soft_delete_comment(conn: &mut AsyncPgConnection, id: i64) -> Result<(), DbError> {
    diesel::update(
        comment::table
            .find(id)
            .filter(comment::deleted_at.is_null()),
    )
    .set(comment::deleted_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?;
    Ok(())
}

// ---- votes ----

/// What a vote is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteTarget {
    Post(i64),
    Comment(i64),
}

/// `person_id`'s votes on a post and on its comments: (the post's, (comment id, value)…).
pub async fn votes_on_thread(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    post_id: i64,
) -> Result<(Option<i16>, Vec<(i64, i16)>), DbError> {
    let on_post: Option<i16> = vote::table
        .filter(vote::person_id.eq(person_id))
        .filter(vote::post_id.eq(post_id))
        .select(vote::value)
        .first(conn)
        .await
        .optional()?;
    let on_comments: Vec<(Option<i64>, i16)> = vote::table
        .inner_join(comment::table.on(vote::comment_id.eq(comment::id.nullable())))
        .filter(vote::person_id.eq(person_id))
        .filter(comment::post_id.eq(post_id))
        .select((vote::comment_id, vote::value))
        .load(conn)
        .await?;
    Ok((
        on_post,
        on_comments
            .into_iter()
            .filter_map(|(id, value)| id.map(|id| (id, value)))
            .collect(),
    ))
}

/// Sets (`Some`) or removes (`None`) a person's vote and moves the target's counters by the
/// difference, in the caller's transaction. A first vote is inserted and counted at once; an
/// existing one is locked, so concurrent votes of one person serialise (two first votes racing:
/// the loser's insert does nothing and it finds the winner's row). Different people only meet
/// in the counter UPDATE. `counted`: whether the vote counts in scores (see `vote.counted`).
/// Returns the previous vote value.
pub async fn cast_vote(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    target: VoteTarget,
    value: Option<i16>,
    activity_id: Option<&str>,
    weight: f64,
) -> Result<Option<i16>, DbError> {
    // The usual case, a first vote: inserted and counted in one statement. When one exists it
    // is locked and changed; when it vanished in between (an Undo committed meanwhile), the
    // insert is tried again, so that a vote is never counted without its row.
    let mut existing = None;
    for _ in 0..3 {
        if let Some(v) = value {
            if first_vote(conn, person_id, target, v, activity_id, weight).await? {
                return Ok(None);
            }
        }
        existing = current_vote_for_update(conn, person_id, target).await?;
        if existing.is_some() || value.is_none() {
            break;
        }
    }
    if existing.is_none() && value.is_some() {
        return Err(DbError::Corrupt(
            "a vote kept vanishing while it was cast".into(),
        ));
    }
    let before = existing.map(|(_, v, _)| v);
    if before == value {
        return Ok(before);
    }
    // The shown counts hold only votes that count (weight above 0: not one's own, not from an
    // instance weighted 0 or blocked): what feeds sort by, like every other score.
    let counted_before = existing.and_then(|(_, v, counted)| counted.then_some(v));
    let counted_after = value.filter(|_| weight > 0.0);
    // The target's counters first, then the vote row: a vote's triggers move the member
    // statistics of the target's author (migration 000801), and a first vote takes the same
    // rows in this order (its counter update, then its triggers), so that a like and a
    // withdrawal of the same target never wait on each other in opposite orders.
    move_vote_counters(conn, target, counted_before, counted_after).await?;
    match (existing, value) {
        (Some((id, _, _)), Some(v)) => {
            diesel::update(vote::table.find(id))
                .set((
                    vote::value.eq(v),
                    vote::activity_id.eq(activity_id),
                    vote::counted.eq(weight > 0.0),
                    vote::weight.eq(weight),
                ))
                .execute(conn)
                .await?;
        }
        (Some((id, _, _)), None) => {
            diesel::delete(vote::table.find(id)).execute(conn).await?;
        }
        (None, _) => {}
    }
    Ok(before)
}

/// Inserts a person's first vote on `target` and counts it, in one statement; false (nothing
/// written) when they already have one.
async fn first_vote(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    target: VoteTarget,
    value: i16,
    activity_id: Option<&str>,
    weight: f64,
) -> Result<bool, DbError> {
    use diesel::sql_types::{BigInt, Double, Nullable, SmallInt, Text};
    let (table, column, id) = match target {
        VoteTarget::Post(id) => ("post", "post_id", id),
        VoteTarget::Comment(id) => ("comment", "comment_id", id),
    };
    let inserted = diesel::sql_query(format!(
        "WITH ins AS (INSERT INTO vote (person_id, {column}, value, activity_id, counted, weight) \
                      VALUES ($1, $2, $3, $4, $5 > 0, $5) ON CONFLICT DO NOTHING RETURNING value) \
         UPDATE {table} SET likes = likes + CASE WHEN ins.value = 1 AND $5 > 0 THEN 1 ELSE 0 END, \
                            dislikes = dislikes + CASE WHEN ins.value = -1 AND $5 > 0 THEN 1 ELSE 0 END \
         FROM ins WHERE {table}.id = $2"
    ))
    .bind::<BigInt, _>(person_id)
    .bind::<BigInt, _>(id)
    .bind::<SmallInt, _>(value)
    .bind::<Nullable<Text>, _>(activity_id)
    .bind::<Double, _>(weight)
    .prepared()
    .execute(conn)
    .await?;
    Ok(inserted == 1)
}

/// `person_id`'s vote on `target`, its row locked until the transaction ends.
pub async fn vote_of_for_update(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    target: VoteTarget,
) -> Result<Option<i16>, DbError> {
    Ok(current_vote_for_update(conn, person_id, target)
        .await?
        .map(|(_, value, _)| value))
}

async fn current_vote_for_update(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    target: VoteTarget,
) -> Result<Option<(i64, i16, bool)>, DbError> {
    let q = vote::table
        .filter(vote::person_id.eq(person_id))
        .select((vote::id, vote::value, vote::counted))
        .for_update();
    Ok(match target {
        VoteTarget::Post(id) => q
            .filter(vote::post_id.eq(id))
            .first::<(i64, i16, bool)>(conn)
            .await
            .optional()?,
        VoteTarget::Comment(id) => q
            .filter(vote::comment_id.eq(id))
            .first::<(i64, i16, bool)>(conn)
            .await
            .optional()?,
    })
}

async fn move_vote_counters(
    conn: &mut AsyncPgConnection,
    target: VoteTarget,
    before: Option<i16>,
    after: Option<i16>,
) -> Result<(), DbError> {
    let count = |v: Option<i16>| (i32::from(v == Some(1)), i32::from(v == Some(-1)));
    let (b, a) = (count(before), count(after));
    let (dl, dd) = (a.0 - b.0, a.1 - b.1);
    match target {
        VoteTarget::Post(id) => {
            diesel::update(post::table.find(id))
                .set((
                    post::likes.eq(post::likes + dl),
                    post::dislikes.eq(post::dislikes + dd),
                ))
                .execute(conn)
                .await?;
        }
        VoteTarget::Comment(id) => {
            diesel::update(comment::table.find(id))
                .set((
                    comment::likes.eq(comment::likes + dl),
                    comment::dislikes.eq(comment::dislikes + dd),
                ))
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// Whose votes a block uncounts.
#[derive(Debug, Clone, Copy)]
pub enum BlockedVoters<'a> {
    /// The people of a host: served from it, or whose confirmed handle names it.
    OfHost(&'a str),
    /// One person of another server, found to be a blocked instance's after its block (their
    /// handle, naming it, confirmed only then).
    Person(i64),
}

impl BlockedVoters<'_> {
    /// SQL over the voter `p` (a person row), its one parameter `$1`.
    fn voters(&self) -> &'static str {
        match self {
            BlockedVoters::OfHost(_) => {
                "NOT p.local AND (p.instance_host = $1 OR p.handle_host = $1)"
            }
            BlockedVoters::Person(_) => "NOT p.local AND p.id = $1",
        }
    }

    /// `query` with this one parameter bound, run.
    async fn execute(self, conn: &mut AsyncPgConnection, query: String) -> Result<usize, DbError> {
        use diesel::sql_types::{BigInt, Text};
        let query = diesel::sql_query(query);
        Ok(match self {
            BlockedVoters::OfHost(host) => query.bind::<Text, _>(host).execute(conn).await?,
            BlockedVoters::Person(id) => query.bind::<BigInt, _>(id).execute(conn).await?,
        })
    }

    async fn load<U>(self, conn: &mut AsyncPgConnection, query: String) -> Result<Vec<U>, DbError>
    where
        U: diesel::deserialize::QueryableByName<diesel::pg::Pg> + Send + 'static,
    {
        use diesel::sql_types::{BigInt, Text};
        let query = diesel::sql_query(query);
        Ok(match self {
            BlockedVoters::OfHost(host) => query.bind::<Text, _>(host).load(conn).await?,
            BlockedVoters::Person(id) => query.bind::<BigInt, _>(id).load(conn).await?,
        })
    }
}

/// The votes of `whose` that still count, from now on counted no more (their instance was
/// blocked): (voter, target) of each.
pub async fn uncount_votes_of(
    conn: &mut AsyncPgConnection,
    whose: BlockedVoters<'_>,
) -> Result<Vec<(i64, VoteTarget)>, DbError> {
    #[derive(QueryableByName)]
    struct Uncounted {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        person_id: i64,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
        post_id: Option<i64>,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
        comment_id: Option<i64>,
    }
    let voters = whose.voters();
    // The counters first, in id order, then the votes: the order `cast_vote` takes them in
    // (its target's counter, then its vote row), so a vote from this host arriving during the
    // block waits instead of deadlocking with it.
    for (table, column) in [("post", "post_id"), ("comment", "comment_id")] {
        let query = format!(
            "SELECT t.id FROM {table} t WHERE t.id IN \
               (SELECT v.{column} FROM vote v JOIN person p ON p.id = v.person_id \
                WHERE {voters} AND v.counted AND v.{column} IS NOT NULL) \
             ORDER BY t.id FOR UPDATE OF t"
        );
        whose.execute(conn, query).await?;
    }
    // They leave the shown counts too (see `cast_vote`), in the same statement.
    let query = format!(
        "WITH u AS (UPDATE vote v SET counted = FALSE, weight = 0 FROM person p \
                    WHERE p.id = v.person_id AND {voters} AND v.counted \
                    RETURNING v.person_id, v.post_id, v.comment_id, v.value), \
              posts AS (UPDATE post t SET likes = t.likes - x.l, dislikes = t.dislikes - x.d \
                        FROM (SELECT post_id, count(*) FILTER (WHERE value = 1)::int AS l, \
                                     count(*) FILTER (WHERE value = -1)::int AS d \
                              FROM u WHERE post_id IS NOT NULL GROUP BY post_id) x \
                        WHERE t.id = x.post_id), \
              comments AS (UPDATE comment t SET likes = t.likes - x.l, dislikes = t.dislikes - x.d \
                           FROM (SELECT comment_id, count(*) FILTER (WHERE value = 1)::int AS l, \
                                        count(*) FILTER (WHERE value = -1)::int AS d \
                                 FROM u WHERE comment_id IS NOT NULL GROUP BY comment_id) x \
                           WHERE t.id = x.comment_id) \
         SELECT person_id, post_id, comment_id FROM u"
    );
    let rows: Vec<Uncounted> = whose.load(conn, query).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| match (r.post_id, r.comment_id) {
            (Some(p), _) => Some((r.person_id, VoteTarget::Post(p))),
            (_, Some(c)) => Some((r.person_id, VoteTarget::Comment(c))),
            _ => None,
        })
        .collect())
}

/// The vote a person cast with the activity `activity_id` (for an Undo that names it).
pub async fn vote_by_activity(
    conn: &mut AsyncPgConnection,
    activity_id: &str,
) -> Result<Option<(i64, VoteTarget)>, DbError> {
    let row: Option<(i64, Option<i64>, Option<i64>)> = vote::table
        .filter(vote::activity_id.eq(activity_id))
        .select((vote::person_id, vote::post_id, vote::comment_id))
        .first(conn)
        .await
        .optional()?;
    Ok(row.and_then(
        |(person, post_id, comment_id)| match (post_id, comment_id) {
            (Some(p), _) => Some((person, VoteTarget::Post(p))),
            (_, Some(c)) => Some((person, VoteTarget::Comment(c))),
            _ => None,
        },
    ))
}

/// Who wrote something, as shown beside it.
#[derive(Debug, Clone, Queryable)]
pub struct Author {
    pub id: i64,
    pub username: String,
    pub display_name: Option<String>,
    pub local: bool,
    /// For an author of another server, the host of their handle as people write it: their
    /// confirmed handle host (`PersonActor::handle_host`), else their actor's.
    pub handle_host: Option<String>,
    pub ap_id: Option<String>,
    /// The instance role of a local author ("staff" marks official answers).
    pub role: Option<String>,
}

pub async fn authors(conn: &mut AsyncPgConnection, ids: &[i64]) -> Result<Vec<Author>, DbError> {
    use crate::schema::local_user;
    Ok(person::table
        .left_join(local_user::table)
        .filter(person::id.eq_any(ids))
        .select((
            person::id,
            person::username,
            person::display_name,
            person::local,
            diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>(
                "COALESCE(person.handle_host, person.instance_host)",
            ),
            person::ap_id,
            local_user::role.nullable(),
        ))
        .load(conn)
        .await?)
}

/// Makes a mirrored remote post look as its group's instance says (applied from the group's
/// Announce: the group decided, we follow).
pub async fn mirror_post(
    conn: &mut AsyncPgConnection,
    id: i64,
    title: &str,
    body: &str,
    tags: &[String],
    idea_status: Option<&str>,
    accepted_comment_id: Option<i64>,
) -> Result<(), DbError> {
    let language: String = post::table
        .find(id)
        .select(post::language)
        .first(conn)
        .await?;
    diesel::update(post::table.find(id))
        .set((
            post::title.eq(title),
            post::body.eq(body),
            post::tags.eq(tags),
            post::sentiment.eq(post_sentiment(title, body, &language)),
            post::idea_status.eq(idea_status),
            post::accepted_comment_id.eq(accepted_comment_id),
            post::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn count_local_posts(conn: &mut AsyncPgConnection) -> Result<i64, DbError> {
    Ok(post::table
        .filter(post::local.eq(true))
        .filter(post::deleted_at.is_null())
        .filter(post::approval.is_null())
        .filter(post::removed_at.is_null())
        .count()
        .get_result(conn)
        .await?)
}

// ---- ratings ----

/// Sets (`Some`) or removes (`None`) a person's star rating and moves the post's sum and count
/// by the difference, in the caller's transaction. Returns the new (sum, count).
pub async fn rate_post(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    person_id: i64,
    stars: Option<i16>,
) -> Result<(i32, i32), DbError> {
    use crate::schema::post_rating;
    let before: Option<i16> = post_rating::table
        .find((post_id, person_id))
        .select(post_rating::stars)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    match stars {
        Some(s) => {
            diesel::insert_into(post_rating::table)
                .values((
                    post_rating::post_id.eq(post_id),
                    post_rating::person_id.eq(person_id),
                    post_rating::stars.eq(s),
                ))
                .on_conflict((post_rating::post_id, post_rating::person_id))
                .do_update()
                .set((
                    post_rating::stars.eq(s),
                    post_rating::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
        }
        None => {
            diesel::delete(post_rating::table.find((post_id, person_id)))
                .execute(conn)
                .await?;
        }
    }
    let sum_delta = i32::from(stars.unwrap_or(0)) - i32::from(before.unwrap_or(0));
    let count_delta = i32::from(stars.is_some()) - i32::from(before.is_some());
    Ok(diesel::update(post::table.find(post_id))
        .set((
            post::rating_sum.eq(post::rating_sum + sum_delta),
            post::rating_count.eq(post::rating_count + count_delta),
        ))
        .returning((post::rating_sum, post::rating_count))
        .get_result(conn)
        .await?)
}

// ---- feeds and search ----

/// Which posts a feed shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedScope {
    /// Every group the viewer may read.
    Instance,
    /// Groups the viewer joined or follows, and people the viewer follows.
    Home,
}

/// How a feed is ordered. `Hot` is `(likes − dislikes + 1) / (hours + 2)^1.5`, the formula
/// of `cenacle_domain::content::hot_rank`, computed in SQL so that it sorts in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedSort {
    New,
    Active,
    Top,
    Hot,
}

#[derive(Debug, Clone)]
pub struct FeedQuery {
    pub scope: FeedScope,
    /// The viewer's person id and ActivityPub id; None for anonymous readers.
    pub viewer: Option<(i64, String)>,
    pub sort: FeedSort,
    /// Only posts newer than this (top of the day, week, month).
    pub since: Option<DateTime<Utc>>,
    pub unanswered: bool,
    pub offset: i64,
    pub limit: i64,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// Posts the viewer may read (private groups only to their members), in the feed's order.
const READABLE: &str = "p.deleted_at IS NULL AND p.approval IS NULL AND p.removed_at IS NULL \
     AND (g.visibility <> 'private' OR EXISTS \
     (SELECT 1 FROM group_membership m WHERE m.group_id = g.id AND m.person_id = $1))";

fn order_by(sort: FeedSort) -> &'static str {
    match sort {
        FeedSort::New => "p.id DESC",
        FeedSort::Active => "p.last_activity_at DESC, p.id DESC",
        FeedSort::Top => "(p.likes - p.dislikes) DESC, p.id DESC",
        FeedSort::Hot => {
            "GREATEST(p.likes - p.dislikes + 1, 0)::float8 \
             / power(EXTRACT(EPOCH FROM now() - p.created_at) / 3600.0 + 2.0, 1.5) DESC, p.id DESC"
        }
    }
}

pub async fn feed(conn: &mut AsyncPgConnection, q: &FeedQuery) -> Result<Vec<Post>, DbError> {
    use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz};
    let (viewer_id, viewer_ap) = q.viewer.clone().unwrap_or((-1, String::new()));
    let sql = format!(
        "SELECT p.id FROM post p JOIN community_group g ON g.id = p.group_id \
         WHERE {READABLE} \
           AND (NOT $2 OR EXISTS (SELECT 1 FROM group_membership m WHERE m.group_id = g.id AND m.person_id = $1) \
                OR EXISTS (SELECT 1 FROM follow f JOIN person a ON a.id = p.author_id \
                           WHERE f.follower_ap_id = $3 AND f.state = 'accepted' \
                             AND (f.target_ap_id = g.ap_id OR f.target_ap_id = a.ap_id))) \
           AND ($4::timestamptz IS NULL OR p.created_at >= $4) \
           AND (NOT $5 OR (p.kind = 'question' AND p.accepted_comment_id IS NULL AND p.comment_count = 0)) \
         ORDER BY {} LIMIT $6 OFFSET $7",
        order_by(q.sort)
    );
    let ids: Vec<i64> = diesel::sql_query(sql)
        .bind::<BigInt, _>(viewer_id)
        .bind::<Bool, _>(q.scope == FeedScope::Home)
        .bind::<Text, _>(viewer_ap)
        .bind::<Nullable<Timestamptz>, _>(q.since)
        .bind::<Bool, _>(q.unanswered)
        .bind::<BigInt, _>(q.limit)
        .bind::<BigInt, _>(q.offset)
        .prepared()
        .load::<IdRow>(conn)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    posts_in_order(conn, &ids).await
}

async fn posts_in_order(conn: &mut AsyncPgConnection, ids: &[i64]) -> Result<Vec<Post>, DbError> {
    let mut rows: Vec<Post> = post::table
        .filter(post::id.eq_any(ids))
        .select(Post::as_select())
        .load(conn)
        .await?;
    rows.sort_by_key(|p| ids.iter().position(|id| *id == p.id));
    Ok(rows)
}

#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub text: String,
    pub viewer_id: Option<i64>,
    pub group_id: Option<i64>,
    pub kind: Option<String>,
    pub tag: Option<String>,
    pub idea_status: Option<String>,
    /// Some(true): questions with an accepted answer; Some(false): without.
    pub answered: Option<bool>,
    pub offset: i64,
    pub limit: i64,
}

/// Full-text search over posts and their comments, in French and English (each post is
/// indexed in its own language; the query is read both ways), best matches first; private
/// groups only for their members.
pub async fn search(conn: &mut AsyncPgConnection, q: &SearchQuery) -> Result<Vec<Post>, DbError> {
    use diesel::sql_types::{BigInt, Nullable, Text};
    let sql = format!(
        "WITH q AS (SELECT websearch_to_tsquery('french', $2) || websearch_to_tsquery('english', $2) AS query) \
         SELECT p.id FROM post p JOIN community_group g ON g.id = p.group_id, q \
         WHERE {READABLE} \
           AND (p.search @@ q.query OR EXISTS (SELECT 1 FROM comment c WHERE c.post_id = p.id \
                AND c.deleted_at IS NULL AND c.removed_at IS NULL AND c.search @@ q.query)) \
           AND ($3::bigint IS NULL OR p.group_id = $3) \
           AND ($4::text IS NULL OR p.kind = $4) \
           AND ($5::text IS NULL OR $5 = ANY(p.tags)) \
           AND ($6::text IS NULL OR p.idea_status = $6) \
           AND ($7::text IS NULL OR (p.kind = 'question' AND (p.accepted_comment_id IS NOT NULL) = ($7 = 'answered'))) \
         ORDER BY ts_rank(p.search, q.query) DESC, p.id DESC LIMIT $8 OFFSET $9"
    );
    let answered = q
        .answered
        .map(|a| if a { "answered" } else { "unanswered" });
    let ids: Vec<i64> = diesel::sql_query(sql)
        .bind::<BigInt, _>(q.viewer_id.unwrap_or(-1))
        .bind::<Text, _>(&q.text)
        .bind::<Nullable<BigInt>, _>(q.group_id)
        .bind::<Nullable<Text>, _>(q.kind.as_deref())
        .bind::<Nullable<Text>, _>(q.tag.as_deref())
        .bind::<Nullable<Text>, _>(q.idea_status.as_deref())
        .bind::<Nullable<Text>, _>(answered)
        .bind::<BigInt, _>(q.limit)
        .bind::<BigInt, _>(q.offset)
        .prepared()
        .load::<IdRow>(conn)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    posts_in_order(conn, &ids).await
}

/// Questions of our public groups whose answer was accepted, newest first, each with that
/// answer (for the widgets another site embeds: what anyone may read, nothing else). Only
/// `tag`'s when given, only `group_id`'s when given.
pub async fn latest_answered(
    conn: &mut AsyncPgConnection,
    tag: Option<&str>,
    group_id: Option<i64>,
    limit: i64,
) -> Result<Vec<(Post, Comment)>, DbError> {
    use crate::schema::community_group as g;
    let mut query = post::table
        .inner_join(g::table)
        .inner_join(comment::table.on(comment::id.nullable().eq(post::accepted_comment_id)))
        .filter(g::local.eq(true))
        .filter(g::visibility.eq("public"))
        .filter(post::kind.eq("question"))
        .filter(post::deleted_at.is_null())
        .filter(post::approval.is_null())
        .filter(post::removed_at.is_null())
        .filter(comment::deleted_at.is_null())
        .filter(comment::removed_at.is_null())
        .select((Post::as_select(), Comment::as_select()))
        .order(post::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(tag) = tag {
        query = query.filter(post::tags.contains(vec![tag.to_owned()]));
    }
    if let Some(group_id) = group_id {
        query = query.filter(post::group_id.eq(group_id));
    }
    Ok(query.load(conn).await?)
}

/// A group's pinned posts (its `featured` collection), newest first.
pub async fn pinned_posts(
    conn: &mut AsyncPgConnection,
    group_id: i64,
) -> Result<Vec<Post>, DbError> {
    Ok(post::table
        .filter(post::group_id.eq(group_id))
        .filter(post::pinned.eq(true))
        .filter(post::deleted_at.is_null())
        .filter(post::approval.is_null())
        .filter(post::removed_at.is_null())
        .order(post::id.desc())
        .select(Post::as_select())
        .limit(20)
        .load(conn)
        .await?)
}

/// A contribution's mood, stored with its text whenever the text is written (created, edited,
/// mirrored), so that mood trends read a column: `cenacle_domain::sentiment` in the
/// contribution's language (English when the stored code is unknown).
fn sentiment_of(text: &str, language: &str) -> f32 {
    let language = cenacle_domain::Language::parse(language).unwrap_or_default();
    cenacle_domain::sentiment::sentiment(text, language) as f32
}

/// A post's mood: its title and body read as one text (the title's own words count).
fn post_sentiment(title: &str, body: &str, language: &str) -> f32 {
    sentiment_of(&format!("{title}.\n{body}"), language)
}
