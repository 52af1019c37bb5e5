//! Group membership, posts, comments, votes, and their histories.

use crate::{
    schema::{comment, group_membership, idea_status_change, person, post, post_edit, vote},
    DbError,
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
    Ok(diesel::insert_into(post::table)
        .values(new)
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

/// Locks the post row for the rest of the transaction (accepting an answer, changing status).
pub async fn post_for_update(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> Result<Option<Post>, DbError> {
    Ok(post::table
        .find(id)
        .select(Post::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?)
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

pub async fn soft_delete_post(conn: &mut AsyncPgConnection, id: i64) -> Result<(), DbError> {
    diesel::update(post::table.find(id).filter(post::deleted_at.is_null()))
        .set(post::deleted_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    Ok(())
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

pub async fn set_accepted_answer(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    comment_id: Option<i64>,
) -> Result<Post, DbError> {
    Ok(diesel::update(post::table.find(post_id))
        .set(post::accepted_comment_id.eq(comment_id))
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

/// Posts not deleted, pinned first within a group, then by the sort.
pub async fn list_posts(
    conn: &mut AsyncPgConnection,
    f: &PostFilter,
) -> Result<Vec<Post>, DbError> {
    let mut query = post::table
        .filter(post::deleted_at.is_null())
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
    let created = diesel::insert_into(comment::table)
        .values(new)
        .returning(Comment::as_returning())
        .get_result(conn)
        .await?;
    diesel::update(post::table.find(new.post_id))
        .set((
            post::comment_count.eq(post::comment_count + 1),
            post::last_activity_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
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
    Ok(diesel::update(comment::table.find(id))
        .set((
            comment::body.eq(body),
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

/// Sets (`Some`) or removes (`None`) a person's vote and moves the target's counters by the
/// difference, in the caller's transaction. The vote row is locked first, so concurrent votes of
/// one person serialise; different people only meet in the counter UPDATE, which PostgreSQL
/// applies one after the other. Returns the previous vote value.
pub async fn cast_vote(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    target: VoteTarget,
    value: Option<i16>,
    activity_id: Option<&str>,
) -> Result<Option<i16>, DbError> {
    let existing = {
        let q = vote::table
            .filter(vote::person_id.eq(person_id))
            .select((vote::id, vote::value))
            .for_update();
        match target {
            VoteTarget::Post(id) => q
                .filter(vote::post_id.eq(id))
                .first::<(i64, i16)>(conn)
                .await
                .optional()?,
            VoteTarget::Comment(id) => q
                .filter(vote::comment_id.eq(id))
                .first::<(i64, i16)>(conn)
                .await
                .optional()?,
        }
    };
    let before = existing.map(|(_, v)| v);
    if before == value {
        return Ok(before);
    }
    match (existing, value) {
        (Some((id, _)), Some(v)) => {
            diesel::update(vote::table.find(id))
                .set((vote::value.eq(v), vote::activity_id.eq(activity_id)))
                .execute(conn)
                .await?;
        }
        (Some((id, _)), None) => {
            diesel::delete(vote::table.find(id)).execute(conn).await?;
        }
        (None, Some(v)) => {
            let (post_id, comment_id) = match target {
                VoteTarget::Post(id) => (Some(id), None),
                VoteTarget::Comment(id) => (None, Some(id)),
            };
            diesel::insert_into(vote::table)
                .values((
                    vote::person_id.eq(person_id),
                    vote::post_id.eq(post_id),
                    vote::comment_id.eq(comment_id),
                    vote::value.eq(v),
                    vote::activity_id.eq(activity_id),
                ))
                .execute(conn)
                .await?;
        }
        (None, None) => {}
    }
    let count = |v: Option<i16>| (i32::from(v == Some(1)), i32::from(v == Some(-1)));
    let (b, a) = (count(before), count(value));
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
    Ok(before)
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
    pub instance_host: Option<String>,
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
            person::instance_host,
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
    diesel::update(post::table.find(id))
        .set((
            post::title.eq(title),
            post::body.eq(body),
            post::tags.eq(tags),
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
        .count()
        .get_result(conn)
        .await?)
}
