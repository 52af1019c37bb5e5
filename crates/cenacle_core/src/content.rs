//! Posts, comments and answers, votes, accepted answers and the idea pipeline. Every function
//! takes a [`Caller`], so a member on our pages and a remote person whose activity reached our
//! inbox go through the same rules.

use crate::{accounts::Session, Context, CoreError};
use cenacle_db::{
    actors::{self, Group},
    content::{self as store, Comment, NewComment, NewPost, Post, PostFilter, VoteTarget},
    federation, DbError,
};
use cenacle_domain::{
    content::{
        can_accept_answer, can_change_idea_status, can_edit, can_moderate, can_post, can_read,
        check_idea_transition, validate_comment, validate_post, Actor, GroupRole, IdeaStatus,
        PostKind, Visibility, Vote,
    },
    Language, Role, ValidationError,
};
use diesel_async::{AsyncConnection, AsyncPgConnection};

/// Outbox events the federation side turns into activities.
pub const EVENT_POST_CREATED: &str = "post_created";
pub const EVENT_POST_UPDATED: &str = "post_updated";
pub const EVENT_POST_DELETED: &str = "post_deleted";
pub const EVENT_COMMENT_CREATED: &str = "comment_created";
pub const EVENT_COMMENT_UPDATED: &str = "comment_updated";
pub const EVENT_COMMENT_DELETED: &str = "comment_deleted";
pub const EVENT_POST_VOTED: &str = "post_voted";
pub const EVENT_COMMENT_VOTED: &str = "comment_voted";

/// Who is acting: a local account (with its instance role) or a remote person.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub person_id: i64,
    pub instance_role: Option<Role>,
}

impl From<&Session> for Caller {
    fn from(session: &Session) -> Self {
        Caller {
            person_id: session.account.person_id,
            instance_role: Some(session.account.role),
        }
    }
}

fn visibility(group: &Group) -> Visibility {
    group.visibility.parse().unwrap_or(Visibility::Private)
}

async fn actor_in(
    conn: &mut AsyncPgConnection,
    group: &Group,
    caller: &Caller,
) -> Result<Actor, CoreError> {
    let role = store::membership_role(conn, group.id, caller.person_id).await?;
    Ok(Actor {
        instance_role: caller.instance_role,
        group_role: role.and_then(|r| r.parse::<GroupRole>().ok()),
    })
}

/// The group of a post, if the caller may read it. Unreadable and missing look the same (404),
/// so that private groups do not reveal what they contain.
async fn readable_post(
    conn: &mut AsyncPgConnection,
    caller: Option<&Caller>,
    post_id: i64,
) -> Result<(Post, Group, Option<Actor>), CoreError> {
    let post = store::post_by_id(conn, post_id)
        .await?
        .filter(|p| p.deleted_at.is_none())
        .ok_or(CoreError::NotFound("post"))?;
    let group = actors::group_by_id(conn, post.group_id)
        .await?
        .ok_or(CoreError::NotFound("post"))?;
    let actor = match caller {
        Some(c) => Some(actor_in(conn, &group, c).await?),
        None => None,
    };
    if !can_read(visibility(&group), actor.as_ref()) {
        return Err(CoreError::NotFound("post"));
    }
    Ok((post, group, actor))
}

fn forbid(action: &'static str) -> CoreError {
    CoreError::NotAllowed(action)
}

fn normalise_tags(tags: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().trim_start_matches('#').to_lowercase();
        if !tag.is_empty() && !out.contains(&tag) {
            out.push(tag);
        }
    }
    out
}

pub struct PostInput {
    pub kind: PostKind,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub language: Option<Language>,
    /// Uploads of the author (`POST /api/v1/media`), in order.
    pub attachments: Vec<i64>,
    /// A remote post's attachments: (URL, media type).
    pub remote_attachments: Vec<(String, Option<String>)>,
}

/// At most this many attachments per post.
pub const ATTACHMENTS_MAX: usize = 10;

/// A new post in a local group. Remote posts arrive through federation with their own ids
/// (`ap_id` given); local ones get `<base>/p/<id>`.
pub async fn create_post(
    ctx: &Context,
    caller: &Caller,
    group: &Group,
    input: PostInput,
    remote_ap_id: Option<&str>,
) -> Result<Post, CoreError> {
    let tags = normalise_tags(input.tags);
    validate_post(&input.title, &input.body, &tags)?;
    if input.attachments.len() + input.remote_attachments.len() > ATTACHMENTS_MAX {
        return Err(ValidationError {
            field: "attachments",
            code: "too_many",
        }
        .into());
    }
    let mut conn = ctx.conn().await?;
    // Only one's own uploads can be attached.
    let owned = cenacle_db::media::media_by_ids(&mut conn, &input.attachments).await?;
    if owned.len() != input.attachments.len()
        || owned.iter().any(|m| m.uploader_id != caller.person_id)
    {
        return Err(CoreError::NotFound("media"));
    }
    let actor = actor_in(&mut conn, group, caller).await?;
    if !can_post(visibility(group), &actor) {
        return Err(forbid("post_in_group"));
    }
    if group.archived_at.is_some() {
        return Err(forbid("group_archived"));
    }
    let new = NewPost {
        group_id: group.id,
        author_id: caller.person_id,
        kind: input.kind.as_str().into(),
        title: input.title.trim().into(),
        body: input.body,
        language: input.language.unwrap_or_default().as_str().into(),
        tags,
        idea_status: (input.kind == PostKind::Idea).then(|| IdeaStatus::Submitted.as_str().into()),
        ap_id: remote_ap_id
            .map(str::to_owned)
            .unwrap_or_else(|| format!("urn:uuid:{}", uuid_like())),
        local: remote_ap_id.is_none(),
    };
    let base = ctx.settings.public_base();
    conn.transaction::<_, CoreError, _>(async |conn| {
        let mut post = store::insert_post(conn, &new).await?;
        if remote_ap_id.is_none() {
            post = store::set_post_ap_id(conn, post.id, &format!("{base}/p/{}", post.id)).await?;
        }
        cenacle_db::media::attach(conn, post.id, &input.attachments).await?;
        crate::engagement::on_post(conn, ctx, caller.person_id, post.id).await?;
        cenacle_db::media::attach_remote(conn, post.id, &input.remote_attachments).await?;
        federation::insert_outbox_event_by(conn, EVENT_POST_CREATED, post.id, caller.person_id, "")
            .await?;
        Ok(post)
    })
    .await
}

fn uuid_like() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A post with what the caller may see of it.
pub struct PostDetail {
    pub post: Post,
    pub group: Group,
    /// Accepted answer first, then oldest first.
    pub comments: Vec<Comment>,
}

pub async fn get_post(
    ctx: &Context,
    caller: Option<&Caller>,
    post_id: i64,
) -> Result<PostDetail, CoreError> {
    let mut conn = ctx.conn().await?;
    let (post, group, _) = readable_post(&mut conn, caller, post_id).await?;
    let mut comments: Vec<Comment> = store::comments_of(&mut conn, post.id)
        .await?
        .into_iter()
        .filter(|c| c.deleted_at.is_none())
        .collect();
    if let Some(accepted) = post.accepted_comment_id {
        comments.sort_by_key(|c| (c.id != accepted, c.id));
    }
    Ok(PostDetail {
        post,
        group,
        comments,
    })
}

pub async fn list_group_posts(
    ctx: &Context,
    caller: Option<&Caller>,
    group: &Group,
    mut filter: PostFilter,
) -> Result<Vec<Post>, CoreError> {
    let mut conn = ctx.conn().await?;
    let actor = match caller {
        Some(c) => Some(actor_in(&mut conn, group, c).await?),
        None => None,
    };
    if !can_read(visibility(group), actor.as_ref()) {
        return Err(CoreError::NotFound("group"));
    }
    filter.group_id = Some(group.id);
    Ok(store::list_posts(&mut conn, &filter).await?)
}

pub async fn edit_post(
    ctx: &Context,
    caller: &Caller,
    post_id: i64,
    title: Option<String>,
    body: Option<String>,
    tags: Option<Vec<String>>,
) -> Result<Post, CoreError> {
    let mut conn = ctx.conn().await?;
    let (post, _, actor) = readable_post(&mut conn, Some(caller), post_id).await?;
    if !can_edit(
        &actor.expect("caller given"),
        post.author_id == caller.person_id,
    ) {
        // Trusted local members may edit others' posts (wiki-style), past a reputation threshold.
        let threshold = ctx.settings.engagement.privileges.edit_others_posts;
        if caller.instance_role.is_none() {
            return Err(forbid("edit_post"));
        }
        crate::engagement::require_reputation(&mut conn, caller, threshold).await?;
    }
    let title = title.unwrap_or_else(|| post.title.clone());
    let body = body.unwrap_or_else(|| post.body.clone());
    let tags = tags
        .map(normalise_tags)
        .unwrap_or_else(|| post.tags.clone());
    validate_post(&title, &body, &tags)?;
    conn.transaction::<_, CoreError, _>(async |conn| {
        let edited =
            store::edit_post(conn, &post, caller.person_id, title.trim(), &body, &tags).await?;
        federation::insert_outbox_event_by(conn, EVENT_POST_UPDATED, post.id, caller.person_id, "")
            .await?;
        Ok(edited)
    })
    .await
}

pub async fn delete_post(ctx: &Context, caller: &Caller, post_id: i64) -> Result<(), CoreError> {
    let mut conn = ctx.conn().await?;
    let (post, _, actor) = readable_post(&mut conn, Some(caller), post_id).await?;
    if !can_edit(
        &actor.expect("caller given"),
        post.author_id == caller.person_id,
    ) {
        return Err(forbid("delete_post"));
    }
    conn.transaction::<_, CoreError, _>(async |conn| {
        store::soft_delete_post(conn, post.id).await?;
        federation::insert_outbox_event_by(conn, EVENT_POST_DELETED, post.id, caller.person_id, "")
            .await?;
        Ok(())
    })
    .await
}

/// Lock (no new comments) or pin a post: group moderators and community managers.
pub async fn moderate_post(
    ctx: &Context,
    caller: &Caller,
    post_id: i64,
    locked: Option<bool>,
    pinned: Option<bool>,
) -> Result<Post, CoreError> {
    let mut conn = ctx.conn().await?;
    let (post, _, actor) = readable_post(&mut conn, Some(caller), post_id).await?;
    if !can_moderate(&actor.expect("caller given")) {
        return Err(forbid("moderate_post"));
    }
    Ok(store::set_post_flags(&mut conn, post.id, locked, pinned).await?)
}

/// A comment, or an answer when it is top-level under a question.
pub async fn add_comment(
    ctx: &Context,
    caller: &Caller,
    post_id: i64,
    parent_id: Option<i64>,
    body: &str,
    remote_ap_id: Option<&str>,
) -> Result<Comment, CoreError> {
    validate_comment(body)?;
    let mut conn = ctx.conn().await?;
    let (post, group, actor) = readable_post(&mut conn, Some(caller), post_id).await?;
    if post.locked {
        return Err(forbid("post_locked"));
    }
    if group.archived_at.is_some() {
        return Err(forbid("group_archived"));
    }
    if !can_post(visibility(&group), &actor.expect("caller given")) {
        return Err(forbid("post_in_group"));
    }
    let depth = match parent_id {
        Some(pid) => {
            let parent = store::comment_by_id(&mut conn, pid)
                .await?
                .filter(|c| c.post_id == post.id)
                .ok_or(CoreError::NotFound("comment"))?;
            parent.depth + 1
        }
        None => 0,
    };
    let new = NewComment {
        post_id: post.id,
        parent_id,
        author_id: caller.person_id,
        body: body.to_owned(),
        depth,
        ap_id: remote_ap_id
            .map(str::to_owned)
            .unwrap_or_else(|| format!("urn:uuid:{}", uuid_like())),
        local: remote_ap_id.is_none(),
    };
    let base = ctx.settings.public_base();
    conn.transaction::<_, CoreError, _>(async |conn| {
        let mut comment = store::insert_comment(conn, &new).await?;
        if remote_ap_id.is_none() {
            comment =
                store::set_comment_ap_id(conn, comment.id, &format!("{base}/c/{}", comment.id))
                    .await?;
        }
        federation::insert_outbox_event_by(
            conn,
            EVENT_COMMENT_CREATED,
            comment.id,
            caller.person_id,
            "",
        )
        .await?;
        crate::engagement::on_reply(conn, ctx, caller.person_id, comment.id).await?;
        Ok(comment)
    })
    .await
}

/// Edits a comment (its author or a group moderator).
pub async fn edit_comment(
    ctx: &Context,
    caller: &Caller,
    comment_id: i64,
    body: &str,
) -> Result<Comment, CoreError> {
    validate_comment(body)?;
    let (comment, _) = editable_comment(ctx, caller, comment_id).await?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<_, CoreError, _>(async |conn| {
        let edited = store::edit_comment(conn, comment.id, body).await?;
        federation::insert_outbox_event_by(
            conn,
            EVENT_COMMENT_UPDATED,
            comment.id,
            caller.person_id,
            "",
        )
        .await?;
        Ok(edited)
    })
    .await
}

/// Deletes a comment (its author or a group moderator); an accepted answer stops being one.
pub async fn delete_comment(
    ctx: &Context,
    caller: &Caller,
    comment_id: i64,
) -> Result<(), CoreError> {
    let (comment, post) = editable_comment(ctx, caller, comment_id).await?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<_, CoreError, _>(async |conn| {
        store::soft_delete_comment(conn, comment.id).await?;
        if post.accepted_comment_id == Some(comment.id) {
            store::set_accepted_answer(conn, post.id, None).await?;
        }
        federation::insert_outbox_event_by(
            conn,
            EVENT_COMMENT_DELETED,
            comment.id,
            caller.person_id,
            "",
        )
        .await?;
        Ok(())
    })
    .await
}

async fn editable_comment(
    ctx: &Context,
    caller: &Caller,
    comment_id: i64,
) -> Result<(Comment, Post), CoreError> {
    let mut conn = ctx.conn().await?;
    let comment = store::comment_by_id(&mut conn, comment_id)
        .await?
        .filter(|c| c.deleted_at.is_none())
        .ok_or(CoreError::NotFound("comment"))?;
    let (post, _, actor) = readable_post(&mut conn, Some(caller), comment.post_id).await?;
    if !can_edit(
        &actor.expect("caller given"),
        comment.author_id == caller.person_id,
    ) {
        return Err(forbid("edit_comment"));
    }
    Ok((comment, post))
}

/// Marks (or with `None` clears) the accepted answer of a question.
pub async fn accept_answer(
    ctx: &Context,
    caller: &Caller,
    post_id: i64,
    comment_id: Option<i64>,
) -> Result<Post, CoreError> {
    let mut conn = ctx.conn().await?;
    let (post, _, actor) = readable_post(&mut conn, Some(caller), post_id).await?;
    if post.kind != PostKind::Question.as_str() {
        return Err(CoreError::Validation(cenacle_domain::ValidationError {
            field: "post",
            code: "not_a_question",
        }));
    }
    if !can_accept_answer(
        &actor.expect("caller given"),
        post.author_id == caller.person_id,
    ) {
        return Err(forbid("accept_answer"));
    }
    if let Some(cid) = comment_id {
        let answer = store::comment_by_id(&mut conn, cid).await?;
        if !answer.is_some_and(|c| {
            c.post_id == post.id && c.parent_id.is_none() && c.deleted_at.is_none()
        }) {
            return Err(CoreError::NotFound("answer"));
        }
    }
    conn.transaction::<_, CoreError, _>(async |conn| {
        let locked = store::post_for_update(conn, post.id)
            .await?
            .ok_or(CoreError::NotFound("post"))?;
        let updated = store::set_accepted_answer(conn, post.id, comment_id).await?;
        crate::engagement::on_accept(
            conn,
            ctx,
            caller.person_id,
            post.group_id,
            locked.accepted_comment_id,
            comment_id,
        )
        .await?;
        federation::insert_outbox_event_by(conn, EVENT_POST_UPDATED, post.id, caller.person_id, "")
            .await?;
        Ok(updated)
    })
    .await
}

pub async fn change_idea_status(
    ctx: &Context,
    caller: &Caller,
    post_id: i64,
    to: IdeaStatus,
    duplicate_of: Option<i64>,
    comment: Option<&str>,
) -> Result<Post, CoreError> {
    let mut conn = ctx.conn().await?;
    let (post, _, actor) = readable_post(&mut conn, Some(caller), post_id).await?;
    if !can_change_idea_status(&actor.expect("caller given")) {
        return Err(forbid("change_idea_status"));
    }
    let from: IdeaStatus = post
        .idea_status
        .as_deref()
        .and_then(|s| s.parse().ok())
        .ok_or(CoreError::Validation(cenacle_domain::ValidationError {
            field: "post",
            code: "not_an_idea",
        }))?;
    check_idea_transition(from, to, duplicate_of)?;
    if let Some(original) = duplicate_of {
        if original == post.id || store::post_by_id(&mut conn, original).await?.is_none() {
            return Err(CoreError::NotFound("original idea"));
        }
    }
    conn.transaction::<_, CoreError, _>(async |conn| {
        let locked = store::post_for_update(conn, post.id)
            .await?
            .ok_or(CoreError::NotFound("post"))?;
        let updated = store::change_idea_status(
            conn,
            &locked,
            Some(caller.person_id),
            to.as_str(),
            duplicate_of,
            comment,
        )
        .await?;
        if to == IdeaStatus::Done {
            crate::engagement::evaluate_badges(
                conn,
                post.author_id,
                crate::engagement::BadgeTrigger::IdeaDone,
            )
            .await?;
        }
        federation::insert_outbox_event_by(conn, EVENT_POST_UPDATED, post.id, caller.person_id, "")
            .await?;
        Ok(updated)
    })
    .await
}

/// Likes, dislikes (`Some`) or withdraws (`None`) a vote. Returns the new (likes, dislikes).
pub async fn vote(
    ctx: &Context,
    caller: &Caller,
    target: VoteTarget,
    choice: Option<Vote>,
    activity_id: Option<&str>,
) -> Result<(i32, i32), CoreError> {
    let mut conn = ctx.conn().await?;
    let post_id = match target {
        VoteTarget::Post(id) => id,
        VoteTarget::Comment(id) => {
            store::comment_by_id(&mut conn, id)
                .await?
                .ok_or(CoreError::NotFound("comment"))?
                .post_id
        }
    };
    let (_, group, _) = readable_post(&mut conn, Some(caller), post_id).await?;
    if choice == Some(Vote::Dislike) && !group.dislikes_enabled {
        return Err(forbid("dislikes_disabled"));
    }
    if choice == Some(Vote::Dislike) {
        crate::engagement::require_reputation(
            &mut conn,
            caller,
            ctx.settings.engagement.privileges.dislike,
        )
        .await?;
    }
    let value = choice.map(Vote::value);
    // Two first votes of one person racing both find no row; the loser's insert breaks the
    // unique index and is retried once, when it finds the winner's row.
    for attempt in 0..2 {
        let result = conn
            .transaction::<_, CoreError, _>(async |conn| {
                let before =
                    store::cast_vote(conn, caller.person_id, target, value, activity_id).await?;
                crate::engagement::on_vote(conn, ctx, caller.person_id, target, before, value)
                    .await?;
                // Votes that arrived as activities were already relayed by their sender's path;
                // only our members' own votes leave through the outbox.
                if before != value && activity_id.is_none() {
                    let (kind, id) = match target {
                        VoteTarget::Post(id) => (EVENT_POST_VOTED, id),
                        VoteTarget::Comment(id) => (EVENT_COMMENT_VOTED, id),
                    };
                    let payload = format!("{}", value.unwrap_or(0));
                    federation::insert_outbox_event_by(conn, kind, id, caller.person_id, &payload)
                        .await?;
                }
                Ok(())
            })
            .await;
        match result {
            Err(CoreError::Database(ref e)) if attempt == 0 && is_unique_violation(e) => continue,
            other => other?,
        }
        break;
    }
    let counts = match target {
        VoteTarget::Post(id) => store::post_by_id(&mut conn, id)
            .await?
            .map(|p| (p.likes, p.dislikes)),
        VoteTarget::Comment(id) => store::comment_by_id(&mut conn, id)
            .await?
            .map(|c| (c.likes, c.dislikes)),
    };
    counts.ok_or(CoreError::NotFound("target"))
}

fn is_unique_violation(e: &DbError) -> bool {
    matches!(
        e.constraint_violation(),
        Some(cenacle_db::ConstraintViolation::Unique(_))
    )
}

/// 1–5 stars on an idea or a note (`None` withdraws the rating). Returns (average, count).
pub async fn rate_post(
    ctx: &Context,
    caller: &Caller,
    post_id: i64,
    stars: Option<u8>,
) -> Result<(f64, i32), CoreError> {
    if stars.is_some_and(|s| !(1..=5).contains(&s)) {
        return Err(ValidationError {
            field: "stars",
            code: "out_of_range",
        }
        .into());
    }
    let mut conn = ctx.conn().await?;
    let (post, _, _) = readable_post(&mut conn, Some(caller), post_id).await?;
    if post.kind == PostKind::Question.as_str() {
        return Err(ValidationError {
            field: "post",
            code: "questions_are_not_rated",
        }
        .into());
    }
    let (sum, count) = conn
        .transaction::<_, CoreError, _>(async |conn| {
            Ok(store::rate_post(conn, post.id, caller.person_id, stars.map(i16::from)).await?)
        })
        .await?;
    Ok((
        if count > 0 {
            f64::from(sum) / f64::from(count)
        } else {
            0.0
        },
        count,
    ))
}

pub use cenacle_db::content::{FeedScope, FeedSort};

/// What a feed shows and how.
pub struct FeedOptions {
    pub scope: FeedScope,
    pub sort: FeedSort,
    /// Only posts since then (top of the day, week, month).
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub unanswered: bool,
    pub offset: i64,
    pub limit: i64,
}

/// The instance feed (every group the viewer may read) or the home feed (groups joined or
/// followed, people followed).
pub async fn feed(
    ctx: &Context,
    caller: Option<&Caller>,
    options: FeedOptions,
) -> Result<Vec<Post>, CoreError> {
    let FeedOptions {
        scope,
        sort,
        since,
        unanswered,
        offset,
        limit,
    } = options;
    let mut conn = ctx.conn().await?;
    let viewer = match caller {
        Some(c) => {
            let ap_id = actors::person_by_id(&mut conn, c.person_id)
                .await?
                .and_then(|p| p.ap_id)
                .unwrap_or_default();
            Some((c.person_id, ap_id))
        }
        None if scope == FeedScope::Home => return Err(CoreError::Unauthenticated),
        None => None,
    };
    let query = store::FeedQuery {
        scope,
        viewer,
        sort,
        since,
        unanswered,
        offset,
        limit,
    };
    Ok(store::feed(&mut conn, &query).await?)
}

pub async fn search(
    ctx: &Context,
    caller: Option<&Caller>,
    mut query: store::SearchQuery,
) -> Result<Vec<Post>, CoreError> {
    if query.text.trim().is_empty() {
        return Err(ValidationError {
            field: "q",
            code: "empty",
        }
        .into());
    }
    query.viewer_id = caller.map(|c| c.person_id);
    let mut conn = ctx.conn().await?;
    Ok(store::search(&mut conn, &query).await?)
}
