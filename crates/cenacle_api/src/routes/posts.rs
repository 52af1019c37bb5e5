//! Posts (questions, ideas, notes), comments and answers, votes, accepted answers and the idea
//! pipeline.

use crate::{
    error::{ApiResult, ErrorBody},
    extract::{ApiJson, ApiQuery, Auth, ClientIp, MaybeAuth},
    pagination::Page,
    AppState,
};
use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    Json,
};
use cenacle_apub::mentions::{meet_mentioned, WrittenIn};
use cenacle_core::{
    answers, comments, feeds,
    feeds::{FeedOptions, FeedScope, FeedSort},
    groups, ideas,
    model::{Attachment, Author, Comment, Post, PostFilter, SearchQuery, VoteTarget},
    moderation, people, post_views,
    posts::{self, PostChange, PostInput},
    trainer_answers, votes, Caller, Conn, CoreError, ScopedFutureExt,
};
use cenacle_domain::{
    content::{IdeaStatus, PostKind, Vote},
    Language,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct AuthorView {
    pub id: i64,
    pub username: String,
    pub display_name: Option<String>,
    /// `username@host`.
    pub handle: String,
    pub local: bool,
    /// The author works for the organisation running this instance.
    pub staff: bool,
}

#[derive(Serialize, ToSchema)]
pub struct PostView {
    pub id: i64,
    pub ap_id: String,
    pub group: String,
    pub author: AuthorView,
    pub kind: String,
    pub title: String,
    /// Markdown.
    pub body: String,
    pub language: String,
    pub tags: Vec<String>,
    /// Ideas only: submitted, under_review, planned, in_progress, done, declined, duplicate.
    pub idea_status: Option<String>,
    pub duplicate_of: Option<i64>,
    /// Questions only: the accepted answer's id.
    pub accepted_answer_id: Option<i64>,
    pub locked: bool,
    pub pinned: bool,
    pub likes: i32,
    pub dislikes: i32,
    pub score: i32,
    pub comment_count: i32,
    /// Ideas and notes: average of 1–5 star ratings (0 when unrated) and their number.
    pub rating_average: f64,
    pub rating_count: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Only its author and the group's moderators see these: `pending` (waits for a
    /// moderator's approval) or `rejected`; absent once published, and while a held post is
    /// removed (it waits for nobody then: `removal` says why; restored, it is `pending`
    /// again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<String>,
    /// Why it was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_reason: Option<String>,
    /// Removed by a moderator: shown only to the group's moderators and the author.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removal: Option<RemovalView>,
}

/// A moderator's removal: when, and why.
#[derive(Serialize, ToSchema)]
pub struct RemovalView {
    pub removed_at: DateTime<Utc>,
    pub reason: Option<String>,
}

fn removal_view(at: Option<DateTime<Utc>>, reason: Option<String>) -> Option<RemovalView> {
    at.map(|removed_at| RemovalView { removed_at, reason })
}

#[derive(Serialize, ToSchema)]
pub struct CommentView {
    pub id: i64,
    pub ap_id: String,
    pub parent_id: Option<i64>,
    pub author: AuthorView,
    pub body: String,
    pub depth: i32,
    pub likes: i32,
    pub dislikes: i32,
    /// The accepted answer of its question.
    pub accepted: bool,
    /// Written by staff: shown as the official answer.
    pub official: bool,
    /// Written by the course's owner or a trainer in a course's discussion group: shown as a
    /// trainer's answer.
    pub trainer: bool,
    pub created_at: DateTime<Utc>,
    /// Removed by a moderator: shown only to the group's moderators and the author.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removal: Option<RemovalView>,
}

#[derive(Serialize, ToSchema)]
pub struct AttachmentView {
    pub url: String,
    pub media_type: Option<String>,
    /// Alt text: what the image or video shows, for those who cannot see it.
    pub description: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PostDetailView {
    pub post: PostView,
    /// Images, videos and links, in order.
    pub attachments: Vec<AttachmentView>,
    /// The accepted answer first, then oldest first.
    pub comments: Vec<CommentView>,
}

pub(crate) struct Authors(HashMap<i64, Author>);

impl Authors {
    pub(crate) async fn load(conn: &mut Conn, ids: &[i64]) -> Result<Authors, CoreError> {
        Ok(Authors(people::authors(conn, ids).await?))
    }

    fn view(&self, id: i64, local_host: &str) -> AuthorView {
        match self.0.get(&id) {
            Some(a) => AuthorView {
                id,
                handle: format!(
                    "{}@{}",
                    a.username,
                    a.handle_host.as_deref().unwrap_or(local_host)
                ),
                username: a.username.clone(),
                display_name: a.display_name.clone(),
                local: a.local,
                staff: a.role.as_deref() == Some("staff"),
            },
            None => AuthorView {
                id,
                username: "unknown".into(),
                display_name: None,
                handle: "unknown".into(),
                local: false,
                staff: false,
            },
        }
    }
}

pub(crate) fn post_view(post: Post, group: &str, authors: &Authors, local_host: &str) -> PostView {
    PostView {
        author: authors.view(post.author_id, local_host),
        id: post.id,
        ap_id: post.ap_id,
        group: group.to_owned(),
        kind: post.kind,
        title: post.title,
        body: post.body,
        language: post.language,
        tags: post.tags,
        idea_status: post.idea_status,
        duplicate_of: post.duplicate_of,
        accepted_answer_id: post.accepted_comment_id,
        locked: post.locked,
        pinned: post.pinned,
        likes: post.likes,
        dislikes: post.dislikes,
        score: post.likes - post.dislikes,
        comment_count: post.comment_count,
        rating_average: if post.rating_count > 0 {
            f64::from(post.rating_sum) / f64::from(post.rating_count)
        } else {
            0.0
        },
        rating_count: post.rating_count,
        removal: removal_view(post.removed_at, post.removal_reason.clone()),
        created_at: post.created_at,
        updated_at: post.updated_at,
        // A removed held post is shown removed, not waiting (the queue no longer lists it).
        approval: post
            .approval
            .filter(|a| post.removed_at.is_none() || a != cenacle_core::approval::PENDING),
        approval_reason: post.approval_reason,
    }
}

fn comment_view(
    c: Comment,
    accepted: Option<i64>,
    trainer: bool,
    authors: &Authors,
    local_host: &str,
) -> CommentView {
    let author = authors.view(c.author_id, local_host);
    CommentView {
        official: author.staff,
        trainer,
        author,
        accepted: accepted == Some(c.id),
        id: c.id,
        ap_id: c.ap_id,
        parent_id: c.parent_id,
        body: c.body,
        depth: c.depth,
        likes: c.likes,
        dislikes: c.dislikes,
        removal: removal_view(c.removed_at, c.removal_reason.clone()),
        created_at: c.created_at,
    }
}

pub(crate) fn local_host(state: &AppState) -> String {
    cenacle_core::identity::local_host(&state.ctx.settings)
}

/// A post as the caller sees it, read on the caller's connection (inside the transaction of
/// the action that changed it, if any).
pub(crate) async fn detail(
    conn: &mut Conn,
    state: &AppState,
    caller: Option<&Caller>,
    id: i64,
) -> Result<PostDetailView, CoreError> {
    let d = posts::get_post(conn, caller, id).await?;
    let mut ids: Vec<i64> = d.comments.iter().map(|c| c.author_id).collect();
    ids.push(d.post.author_id);
    let authors = Authors::load(conn, &ids).await?;
    let host = local_host(state);
    let accepted = d.post.accepted_comment_id;
    let base = state.ctx.settings.public_base();
    Ok(PostDetailView {
        attachments: d
            .attachments
            .into_iter()
            .map(|a| match a {
                Attachment::Local(m) => AttachmentView {
                    url: format!("{base}/media/{}", m.file_name),
                    media_type: Some(m.content_type),
                    description: m.description,
                },
                Attachment::Remote(a) => AttachmentView {
                    url: a.url,
                    media_type: a.media_type,
                    description: a.description,
                },
            })
            .collect(),
        comments: d
            .comments
            .into_iter()
            .map(|c| {
                let trainer = d.trainer_comments.contains(&c.id);
                comment_view(c, accepted, trainer, &authors, &host)
            })
            .collect(),
        post: post_view(d.post, &d.group.name, &authors, &host),
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPostRequest {
    #[schema(value_type = String, example = "question")]
    pub kind: PostKind,
    pub title: String,
    /// Markdown.
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[schema(value_type = Option<String>, example = "fr")]
    pub language: Option<Language>,
    /// Ids of your uploads (`POST /api/v1/media`), in order (at most 10).
    #[serde(default)]
    pub attachments: Vec<i64>,
}

/// Ask a question, propose an idea or write a note in a group: a local one by name, or one on
/// another server by `name@host` (resolve or follow it first); it is sent there.
#[utoipa::path(post, path = "/api/v1/groups/{name}/posts", tag = "posts", security(("bearer" = [])),
    params(("name" = String, Path)), request_body = NewPostRequest,
    responses((status = 201, body = PostDetailView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<NewPostRequest>,
) -> ApiResult<(StatusCode, Json<PostDetailView>)> {
    let caller = Caller::from(&session);
    let texts = [req.title.as_str(), &req.body];
    meet_mentioned(&state.federation, &texts, WrittenIn::GroupNamed(&name)).await;
    let input = PostInput {
        kind: req.kind,
        title: req.title,
        body: req.body,
        tags: req.tags,
        language: req.language.or(Some(session.account.language)),
        attachments: req.attachments,
        remote_attachments: vec![],
    };
    let (state, caller, name) = (&state, &caller, &name);
    let view = state
        .ctx
        .transaction(|conn| {
            async move {
                let group = groups::group_by_name_or_handle(conn, &state.ctx, name).await?;
                let post =
                    posts::create_post(conn, &state.ctx, caller, &group, input, None).await?;
                detail(conn, state, Some(caller), post.id).await
            }
            .scope_boxed()
        })
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PostListQuery {
    /// question, idea or note.
    pub kind: Option<String>,
    /// Ideas in this status.
    pub status: Option<String>,
    /// `new` (default), `top` (score) or `active` (latest activity).
    pub sort: Option<String>,
    /// Questions without answers.
    #[serde(default)]
    pub unanswered: bool,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A group's posts, pinned first, filtered and sorted: a local group by name, or (what this
/// instance received of) a followed remote group by `name@host`.
#[utoipa::path(get, path = "/api/v1/groups/{name}/posts", tag = "posts",
    params(("name" = String, Path), PostListQuery),
    responses((status = 200, body = Page<PostView>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    MaybeAuth(session): MaybeAuth,
    Path(name): Path<String>,
    ApiQuery(q): ApiQuery<PostListQuery>,
) -> ApiResult<Json<Page<PostView>>> {
    let page = crate::pagination::PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    let (limit, offset) = (page.limit()?, page.offset()?);
    if let Some(status) = &q.status {
        status
            .parse::<IdeaStatus>()
            .map_err(crate::error::ApiError::invalid_query)?;
    }
    let sort = q.sort.unwrap_or_else(|| "new".into());
    if !matches!(sort.as_str(), "new" | "top" | "active") {
        return Err(crate::error::ApiError::invalid_query(
            "sort must be new, top or active",
        ));
    }
    let caller = session.as_ref().map(Caller::from);
    let mut conn = state.ctx.conn().await?;
    let group = groups::group_by_name_or_handle(&mut conn, &state.ctx, &name).await?;
    let filter = PostFilter {
        kind: q.kind,
        idea_status: q.status.map(|s| {
            s.parse::<IdeaStatus>()
                .map(|s| s.as_str().to_owned())
                .unwrap_or(s)
        }),
        unanswered: q.unanswered,
        sort,
        offset,
        limit: limit + 1,
        ..Default::default()
    };
    let posts = posts::list_group_posts(&mut conn, caller.as_ref(), &group, filter).await?;
    let authors = Authors::load(
        &mut conn,
        &posts.iter().map(|p| p.author_id).collect::<Vec<_>>(),
    )
    .await?;
    let host = local_host(&state);
    Ok(Json(Page::from_offset(posts, limit, offset, |p| {
        post_view(p, &group.name, &authors, &host)
    })))
}

/// A post with its comments and answers (the accepted answer first). A post of a private group
/// is 404 to non-members.
#[utoipa::path(get, path = "/api/v1/posts/{id}", tag = "posts",
    params(("id" = i64, Path)),
    responses((status = 200, body = PostDetailView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    MaybeAuth(session): MaybeAuth,
    ClientIp(address): ClientIp,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<Json<PostDetailView>> {
    let caller = session.as_ref().map(Caller::from);
    let mut conn = state.ctx.conn().await?;
    let view = detail(&mut conn, &state, caller.as_ref(), id).await?;
    // Served: one view for its author's statistics (once per viewer and day; robots not).
    let reader = post_views::Reader {
        person_id: caller.as_ref().map(|c| c.person_id),
        author_id: view.post.author.id,
        address: &address,
        user_agent: headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
    };
    // A view that could not be counted never keeps the reader from the post.
    if let Err(e) = post_views::count_view(&mut conn, id, reader).await {
        tracing::warn!(error = %e, post = id, "a view was not counted");
    }
    Ok(Json(view))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditPostRequest {
    pub title: Option<String>,
    pub body: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// Edit a post (its author or a moderator); the previous version is kept in its history.
#[utoipa::path(patch, path = "/api/v1/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = EditPostRequest,
    responses((status = 200, body = PostDetailView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn edit(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<EditPostRequest>,
) -> ApiResult<Json<PostDetailView>> {
    let caller = Caller::from(&session);
    let texts = [req.title.as_deref(), req.body.as_deref()].map(Option::unwrap_or_default);
    meet_mentioned(&state.federation, &texts, WrittenIn::Post(id)).await;
    let change = PostChange {
        title: req.title,
        body: req.body,
        tags: req.tags,
    };
    let (state, caller) = (&state, &caller);
    let view = state
        .ctx
        .transaction(|conn| {
            async move {
                posts::edit_post(conn, &state.ctx, caller, id, change).await?;
                detail(conn, state, Some(caller), id).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(Json(view))
}

/// Delete a post (its author or a moderator). Neither its author nor the bounty's sponsor (as a
/// moderator) can delete a question while a bounty runs on it — until the bounty is awarded or
/// settled, even past its end (409 `bounty_running`); another moderator's deletion cancels the
/// bounty and refunds its sponsor if its end is still to come, and leaves it to the lapse rule
/// otherwise.
#[utoipa::path(delete, path = "/api/v1/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "a bounty runs on the question, and you asked it or sponsor the bounty (`bounty_running`, `details.post_id` naming the question)", body = ErrorBody), (status = 503, description = "`database_busy`: a ban being written kept this waiting past the bound, or no database connection was free; retry after `Retry-After`", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let caller = Caller::from(&session);
    state
        .ctx
        .transaction(|conn| posts::delete_post(conn, &caller, id).scope_boxed())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModerationRequest {
    pub locked: Option<bool>,
    pub pinned: Option<bool>,
}

/// Lock (no new comments) or pin a post: group moderators and community managers.
#[utoipa::path(put, path = "/api/v1/posts/{id}/moderation", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ModerationRequest,
    responses((status = 200, body = PostDetailView), (status = 403, body = ErrorBody)))]
pub async fn moderate(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<ModerationRequest>,
) -> ApiResult<Json<PostDetailView>> {
    let caller = Caller::from(&session);
    let (state, caller) = (&state, &caller);
    let view = state
        .ctx
        .transaction(|conn| {
            async move {
                moderation::moderate_post(conn, caller, id, req.locked, req.pinned).await?;
                detail(conn, state, Some(caller), id).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(Json(view))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCommentRequest {
    /// Markdown.
    pub body: String,
    /// The comment answered; absent for an answer (top level).
    pub parent_id: Option<i64>,
}

/// Answer a question or comment on a post (a reply when `parent_id` is given).
#[utoipa::path(post, path = "/api/v1/posts/{id}/comments", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = NewCommentRequest,
    responses((status = 201, body = CommentView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, description = "`database_busy`: a ban or a move being written kept it waiting past the bound (or no database connection was free); retry after `Retry-After`", body = ErrorBody)))]
pub async fn comment(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<NewCommentRequest>,
) -> ApiResult<(StatusCode, Json<CommentView>)> {
    let caller = Caller::from(&session);
    meet_mentioned(&state.federation, &[&req.body], WrittenIn::Post(id)).await;
    let (ctx, caller, req) = (&state.ctx, &caller, &req);
    let (created, authors, trainer) = ctx
        .transaction(|conn| {
            async move {
                let created =
                    comments::add_comment(conn, ctx, caller, id, req.parent_id, &req.body, None)
                        .await?;
                let authors = Authors::load(conn, &[created.author_id]).await?;
                let trainer = trainer_answers::written_as_trainer(conn, &created).await?;
                Ok((created, authors, trainer))
            }
            .scope_boxed()
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(comment_view(
            created,
            None,
            trainer,
            &authors,
            &local_host(&state),
        )),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    /// The answer to accept; null to clear.
    pub comment_id: Option<i64>,
}

/// Accept an answer (the question's author, a group moderator or staff); null clears it.
#[utoipa::path(put, path = "/api/v1/posts/{id}/accepted-answer", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = AcceptRequest,
    responses((status = 200, body = PostDetailView), (status = 403, description = "`forbidden` (`details.action` `accept_answer`): neither the question's author nor a moderator of the group it is in (read once a champion's move being written committed), nor staff", body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, description = "`database_busy`: a ban being written kept this waiting past the bound, or no database connection was free; retry after `Retry-After`", body = ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<AcceptRequest>,
) -> ApiResult<Json<PostDetailView>> {
    let caller = Caller::from(&session);
    let (state, caller) = (&state, &caller);
    let view = state
        .ctx
        .transaction(|conn| {
            async move {
                answers::accept_answer(conn, &state.ctx, caller, id, req.comment_id).await?;
                detail(conn, state, Some(caller), id).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(Json(view))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdeaStatusRequest {
    #[schema(value_type = String, example = "planned")]
    pub status: IdeaStatus,
    /// Required with `duplicate`: the original idea.
    pub duplicate_of: Option<i64>,
    /// A public comment shown in the idea's history.
    pub comment: Option<String>,
}

/// Move an idea along its pipeline (group moderators and community managers). Setting the
/// status it already has, with no comment or the comment its last change already has (the
/// same form sent twice), changes nothing and answers the idea as it is; with a new comment,
/// 422 (`reason` `unchanged`: the comment would be lost).
#[utoipa::path(put, path = "/api/v1/posts/{id}/idea-status", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = IdeaStatusRequest,
    responses((status = 200, body = PostDetailView), (status = 403, description = "`forbidden`: not a moderator of the group (`details.action` `change_idea_status`), or the idea was removed by a moderator (`post_removed`: it keeps its status until restored)", body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "held for approval (`post_not_published`)", body = ErrorBody), (status = 422, description = "`validation_failed`: a transition the pipeline does not allow, `duplicate_of` missing or given where it does not belong, or the status it has with a new comment (`reason` `unchanged`)", body = ErrorBody), (status = 503, description = "`database_busy`: a ban being written kept this waiting past the bound, or no database connection was free; retry after `Retry-After`", body = ErrorBody)))]
pub async fn idea_status(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<IdeaStatusRequest>,
) -> ApiResult<Json<PostDetailView>> {
    let caller = Caller::from(&session);
    let (state, caller, req) = (&state, &caller, &req);
    let view = state
        .ctx
        .transaction(|conn| {
            async move {
                ideas::change_idea_status(
                    conn,
                    caller,
                    id,
                    req.status,
                    req.duplicate_of,
                    req.comment.as_deref(),
                )
                .await?;
                detail(conn, state, Some(caller), id).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(Json(view))
}

#[derive(Serialize, ToSchema)]
pub struct HistoryView {
    /// Previous versions, oldest first.
    pub edits: Vec<EditView>,
    /// Ideas: every status change with its comment.
    pub status_changes: Vec<StatusChangeView>,
}

#[derive(Serialize, ToSchema)]
pub struct EditView {
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub replaced_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct StatusChangeView {
    pub from: String,
    pub to: String,
    pub comment: Option<String>,
    pub changed_at: DateTime<Utc>,
}

/// A post's edit history and, for ideas, its status history.
#[utoipa::path(get, path = "/api/v1/posts/{id}/history", tag = "posts",
    params(("id" = i64, Path)),
    responses((status = 200, body = HistoryView), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    MaybeAuth(session): MaybeAuth,
    Path(id): Path<i64>,
) -> ApiResult<Json<HistoryView>> {
    let caller = session.as_ref().map(Caller::from);
    let mut conn = state.ctx.conn().await?;
    let (edits, changes) = posts::history(&mut conn, caller.as_ref(), id).await?;
    Ok(Json(HistoryView {
        edits: edits
            .into_iter()
            .map(|e| EditView {
                title: e.title,
                body: e.body,
                tags: e.tags,
                replaced_at: e.edited_at,
            })
            .collect(),
        status_changes: changes
            .into_iter()
            .map(|c| StatusChangeView {
                from: c.from_status,
                to: c.to_status,
                comment: c.comment,
                changed_at: c.changed_at,
            })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoteRequest {
    /// `like`, `dislike`, or null to withdraw.
    #[schema(value_type = Option<String>, example = "like")]
    pub vote: Option<Vote>,
}

#[derive(Serialize, ToSchema)]
pub struct ScoreView {
    pub likes: i32,
    pub dislikes: i32,
    pub score: i32,
}

async fn cast(
    state: &AppState,
    session: &cenacle_core::accounts::Session,
    target: VoteTarget,
    vote: Option<Vote>,
) -> ApiResult<Json<ScoreView>> {
    let caller = Caller::from(session);
    let ctx = &state.ctx;
    let (likes, dislikes) = ctx
        .transaction(|conn| {
            async move {
                votes::vote(conn, ctx, &caller, target, vote, None).await?;
                votes::counts(conn, target).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(Json(ScoreView {
        likes,
        dislikes,
        score: likes - dislikes,
    }))
}

/// Like or dislike a post (one vote per person; the latest counts; null withdraws it).
#[utoipa::path(put, path = "/api/v1/posts/{id}/vote", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = VoteRequest,
    responses((status = 200, body = ScoreView), (status = 404, body = ErrorBody)))]
pub async fn vote_post(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<VoteRequest>,
) -> ApiResult<Json<ScoreView>> {
    cast(&state, &session, VoteTarget::Post(id), req.vote).await
}

/// Like or dislike a comment or answer.
#[utoipa::path(put, path = "/api/v1/comments/{id}/vote", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = VoteRequest,
    responses((status = 200, body = ScoreView), (status = 404, body = ErrorBody)))]
pub async fn vote_comment(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<VoteRequest>,
) -> ApiResult<Json<ScoreView>> {
    cast(&state, &session, VoteTarget::Comment(id), req.vote).await
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct JoinParams {
    /// For private groups: a word to the moderators who approve requests.
    pub message: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct JoinView {
    /// `member`, or `requested` when a private group's moderators must approve.
    pub status: String,
}

/// Join a group: at once for public and restricted groups and with an invitation; otherwise a
/// request that the group's moderators approve. Refused, in all three ways, to a person banned
/// from the group (403 `banned_from_group`) or from the instance (403 `banned_from_instance`).
#[utoipa::path(post, path = "/api/v1/groups/{name}/join", tag = "groups", security(("bearer" = [])),
    params(("name" = String, Path), JoinParams),
    responses((status = 200, body = JoinView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn join(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(name): Path<String>,
    ApiQuery(params): ApiQuery<JoinParams>,
) -> ApiResult<Json<JoinView>> {
    let caller = Caller::from(&session);
    let (caller, name, message) = (&caller, &name, params.message.as_deref());
    let member = state
        .ctx
        .transaction(|conn| {
            async move {
                let group = groups::local_group(conn, name).await?;
                groups::join_group(conn, caller, &group, message).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(Json(JoinView {
        status: if member { "member" } else { "requested" }.into(),
    }))
}

/// Leave a group.
#[utoipa::path(post, path = "/api/v1/groups/{name}/leave", tag = "groups", security(("bearer" = [])),
    params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn leave(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    let caller = Caller::from(&session);
    let (caller, name) = (&caller, &name);
    state
        .ctx
        .transaction(|conn| {
            async move {
                let group = groups::local_group(conn, name).await?;
                groups::leave_group(conn, caller, &group).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    /// 1 to 5, or null to withdraw.
    pub stars: Option<u8>,
}

#[derive(Serialize, ToSchema)]
pub struct RatingView {
    pub average: f64,
    pub count: i32,
}

/// Rate an idea or a note from 1 to 5 stars (one rating per person; null withdraws it).
#[utoipa::path(put, path = "/api/v1/posts/{id}/rating", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RatingRequest,
    responses((status = 200, body = RatingView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rate(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<RatingRequest>,
) -> ApiResult<Json<RatingView>> {
    let caller = Caller::from(&session);
    let (average, count) = state
        .ctx
        .transaction(|conn| votes::rate_post(conn, &caller, id, req.stars).scope_boxed())
        .await?;
    Ok(Json(RatingView { average, count }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// `instance` (default: every group you may read) or `home` (groups you joined or follow,
    /// people you follow; needs a token).
    pub scope: Option<String>,
    /// `new` (default), `active`, `top` or `hot` (score decaying with age:
    /// (likes − dislikes + 1) / (hours + 2)^1.5).
    pub sort: Option<String>,
    /// With `top`: `day`, `week`, `month` or `all` (default).
    pub period: Option<String>,
    /// Questions without answers only.
    #[serde(default)]
    pub unanswered: bool,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The instance's or your home feed of posts.
#[utoipa::path(get, path = "/api/v1/feed", tag = "posts",
    params(FeedQuery),
    responses((status = 200, body = Page<PostView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn feed(
    State(state): State<AppState>,
    MaybeAuth(session): MaybeAuth,
    ApiQuery(q): ApiQuery<FeedQuery>,
) -> ApiResult<Json<Page<PostView>>> {
    use crate::error::ApiError;
    let page = crate::pagination::PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    let (limit, offset) = (page.limit()?, page.offset()?);
    let scope = match q.scope.as_deref().unwrap_or("instance") {
        "instance" => FeedScope::Instance,
        "home" => FeedScope::Home,
        _ => return Err(ApiError::invalid_query("scope must be instance or home")),
    };
    let sort = match q.sort.as_deref().unwrap_or("new") {
        "new" => FeedSort::New,
        "active" => FeedSort::Active,
        "top" => FeedSort::Top,
        "hot" => FeedSort::Hot,
        _ => {
            return Err(ApiError::invalid_query(
                "sort must be new, active, top or hot",
            ))
        }
    };
    let since = match q.period.as_deref().unwrap_or("all") {
        "day" => Some(chrono::Duration::days(1)),
        "week" => Some(chrono::Duration::weeks(1)),
        "month" => Some(chrono::Duration::days(30)),
        "all" => None,
        _ => {
            return Err(ApiError::invalid_query(
                "period must be day, week, month or all",
            ))
        }
    }
    .map(|d| Utc::now() - d);
    let caller = session.as_ref().map(Caller::from);
    let options = FeedOptions {
        scope,
        sort,
        since,
        unanswered: q.unanswered,
        offset,
        limit: limit + 1,
    };
    let mut conn = state.ctx.conn().await?;
    let posts = feeds::feed(&mut conn, caller.as_ref(), options).await?;
    posts_page(&mut conn, &state, posts, limit, offset).await
}

/// Shapes a page of posts from several groups.
async fn posts_page(
    conn: &mut Conn,
    state: &AppState,
    posts: Vec<Post>,
    limit: i64,
    offset: i64,
) -> ApiResult<Json<Page<PostView>>> {
    let authors =
        Authors::load(conn, &posts.iter().map(|p| p.author_id).collect::<Vec<_>>()).await?;
    let group_ids: Vec<i64> = posts.iter().map(|p| p.group_id).collect();
    let names = groups::display_names(conn, &group_ids).await?;
    let host = local_host(state);
    Ok(Json(Page::from_offset(posts, limit, offset, |p| {
        let group = names.get(&p.group_id).cloned().unwrap_or_default();
        post_view(p, &group, &authors, &host)
    })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to find (web-search syntax: "quoted phrases", -excluded, or).
    pub q: String,
    /// A local group's name (a private group: its members only, 404 to others).
    pub group: Option<String>,
    pub kind: Option<String>,
    pub tag: Option<String>,
    /// Ideas in this status.
    pub status: Option<String>,
    /// `answered` or `unanswered` questions.
    pub answered: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Full-text search over posts and their comments, in French and English; private groups only
/// for their members.
#[utoipa::path(get, path = "/api/v1/search", tag = "posts",
    params(SearchParams),
    responses((status = 200, body = Page<PostView>), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    MaybeAuth(session): MaybeAuth,
    ApiQuery(q): ApiQuery<SearchParams>,
) -> ApiResult<Json<Page<PostView>>> {
    use crate::error::ApiError;
    let page = crate::pagination::PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    let (limit, offset) = (page.limit()?, page.offset()?);
    let caller = session.as_ref().map(Caller::from);
    let mut conn = state.ctx.conn().await?;
    let group_id = match &q.group {
        Some(name) => Some(
            groups::readable_group(&mut conn, caller.as_ref(), name)
                .await?
                .id,
        ),
        None => None,
    };
    let idea_status = match &q.status {
        Some(s) => Some(
            s.parse::<IdeaStatus>()
                .map_err(ApiError::invalid_query)?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let answered = match q.answered.as_deref() {
        None => None,
        Some("answered") => Some(true),
        Some("unanswered") => Some(false),
        Some(_) => {
            return Err(ApiError::invalid_query(
                "answered must be answered or unanswered",
            ))
        }
    };
    let query = SearchQuery {
        text: q.q,
        group_id,
        kind: q.kind,
        tag: q.tag.map(|t| t.trim_start_matches('#').to_lowercase()),
        idea_status,
        answered,
        offset,
        limit: limit + 1,
        ..Default::default()
    };
    let posts = feeds::search(&mut conn, caller.as_ref(), query).await?;
    posts_page(&mut conn, &state, posts, limit, offset).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditCommentRequest {
    pub body: String,
}

/// Edit a comment or answer (its author or a group moderator).
#[utoipa::path(patch, path = "/api/v1/comments/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = EditCommentRequest,
    responses((status = 200, body = CommentView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, description = "`database_busy`: a ban or a move being written kept it waiting past the bound (or no database connection was free); retry after `Retry-After`", body = ErrorBody)))]
pub async fn edit_comment(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<EditCommentRequest>,
) -> ApiResult<Json<CommentView>> {
    let caller = Caller::from(&session);
    meet_mentioned(&state.federation, &[&req.body], WrittenIn::Comment(id)).await;
    let (caller, body, ctx) = (&caller, &req.body, &state.ctx);
    let (edited, authors, trainer) = ctx
        .transaction(|conn| {
            async move {
                let edited = comments::edit_comment(conn, ctx, caller, id, body).await?;
                let authors = Authors::load(conn, &[edited.author_id]).await?;
                let trainer = trainer_answers::written_as_trainer(conn, &edited).await?;
                Ok((edited, authors, trainer))
            }
            .scope_boxed()
        })
        .await?;
    Ok(Json(comment_view(
        edited,
        None,
        trainer,
        &authors,
        &local_host(&state),
    )))
}

/// Delete a comment or answer (its author or a group moderator).
#[utoipa::path(delete, path = "/api/v1/comments/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, description = "`database_busy`: a ban being written kept this waiting past the bound, or no database connection was free; retry after `Retry-After`", body = ErrorBody)))]
pub async fn delete_comment(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let caller = Caller::from(&session);
    let ctx = &state.ctx;
    ctx.transaction(|conn| comments::delete_comment(conn, ctx, &caller, id).scope_boxed())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
