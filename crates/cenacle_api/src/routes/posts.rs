//! Posts (questions, ideas, notes), comments and answers, votes, accepted answers and the idea
//! pipeline.

use crate::{
    error::{ApiResult, ErrorBody},
    extract::{ApiJson, ApiQuery, Auth, MaybeAuth},
    pagination::Page,
    AppState,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use cenacle_core::{
    content::{self, Caller, PostInput},
    groups, Context,
};
use cenacle_db::content::{self as store, Author, Comment, Post, PostFilter, VoteTarget};
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
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct AttachmentView {
    pub url: String,
    pub media_type: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PostDetailView {
    pub post: PostView,
    /// Images, videos and links, in order.
    pub attachments: Vec<AttachmentView>,
    /// The accepted answer first, then oldest first.
    pub comments: Vec<CommentView>,
}

struct Authors(HashMap<i64, Author>);

impl Authors {
    async fn load(ctx: &Context, ids: &[i64]) -> ApiResult<Authors> {
        let mut conn = ctx.conn().await?;
        let rows = store::authors(&mut conn, ids)
            .await
            .map_err(cenacle_core::CoreError::from)?;
        Ok(Authors(rows.into_iter().map(|a| (a.id, a)).collect()))
    }

    fn view(&self, id: i64, local_host: &str) -> AuthorView {
        match self.0.get(&id) {
            Some(a) => AuthorView {
                id,
                handle: format!(
                    "{}@{}",
                    a.username,
                    a.instance_host.as_deref().unwrap_or(local_host)
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

fn post_view(post: Post, group: &str, authors: &Authors, local_host: &str) -> PostView {
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
        created_at: post.created_at,
        updated_at: post.updated_at,
    }
}

fn comment_view(
    c: Comment,
    accepted: Option<i64>,
    authors: &Authors,
    local_host: &str,
) -> CommentView {
    let author = authors.view(c.author_id, local_host);
    CommentView {
        official: author.staff,
        author,
        accepted: accepted == Some(c.id),
        id: c.id,
        ap_id: c.ap_id,
        parent_id: c.parent_id,
        body: c.body,
        depth: c.depth,
        likes: c.likes,
        dislikes: c.dislikes,
        created_at: c.created_at,
    }
}

fn local_host(state: &AppState) -> String {
    cenacle_core::identity::local_host(&state.ctx.settings)
}

async fn detail(state: &AppState, caller: Option<&Caller>, id: i64) -> ApiResult<PostDetailView> {
    let d = content::get_post(&state.ctx, caller, id).await?;
    let mut ids: Vec<i64> = d.comments.iter().map(|c| c.author_id).collect();
    ids.push(d.post.author_id);
    let authors = Authors::load(&state.ctx, &ids).await?;
    let host = local_host(state);
    let accepted = d.post.accepted_comment_id;
    let attachments = {
        let mut conn = state.ctx.conn().await?;
        cenacle_db::media::attachments(&mut conn, d.post.id)
            .await
            .map_err(cenacle_core::CoreError::from)?
    };
    let base = state.ctx.settings.public_base();
    Ok(PostDetailView {
        attachments: attachments
            .into_iter()
            .map(|a| match a {
                cenacle_db::media::Attachment::Local(m) => AttachmentView {
                    url: format!("{base}/media/{}", m.file_name),
                    media_type: Some(m.content_type),
                },
                cenacle_db::media::Attachment::Remote { url, media_type } => {
                    AttachmentView { url, media_type }
                }
            })
            .collect(),
        comments: d
            .comments
            .into_iter()
            .map(|c| comment_view(c, accepted, &authors, &host))
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
    let group = groups::group_by_name_or_handle(&state.ctx, &name).await?;
    let input = PostInput {
        kind: req.kind,
        title: req.title,
        body: req.body,
        tags: req.tags,
        language: req.language.or(Some(session.account.language)),
        attachments: req.attachments,
        remote_attachments: vec![],
    };
    let post = content::create_post(&state.ctx, &caller, &group, input, None).await?;
    Ok((
        StatusCode::CREATED,
        Json(detail(&state, Some(&caller), post.id).await?),
    ))
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
    let group = groups::group_by_name_or_handle(&state.ctx, &name).await?;
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
    let posts = content::list_group_posts(&state.ctx, caller.as_ref(), &group, filter).await?;
    let authors = Authors::load(
        &state.ctx,
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
    Path(id): Path<i64>,
) -> ApiResult<Json<PostDetailView>> {
    let caller = session.as_ref().map(Caller::from);
    Ok(Json(detail(&state, caller.as_ref(), id).await?))
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
    content::edit_post(&state.ctx, &caller, id, req.title, req.body, req.tags).await?;
    Ok(Json(detail(&state, Some(&caller), id).await?))
}

/// Delete a post (its author or a moderator).
#[utoipa::path(delete, path = "/api/v1/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    content::delete_post(&state.ctx, &Caller::from(&session), id).await?;
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
    content::moderate_post(&state.ctx, &caller, id, req.locked, req.pinned).await?;
    Ok(Json(detail(&state, Some(&caller), id).await?))
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
    responses((status = 201, body = CommentView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn comment(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<NewCommentRequest>,
) -> ApiResult<(StatusCode, Json<CommentView>)> {
    let caller = Caller::from(&session);
    let created =
        content::add_comment(&state.ctx, &caller, id, req.parent_id, &req.body, None).await?;
    let authors = Authors::load(&state.ctx, &[created.author_id]).await?;
    Ok((
        StatusCode::CREATED,
        Json(comment_view(created, None, &authors, &local_host(&state))),
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
    responses((status = 200, body = PostDetailView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<AcceptRequest>,
) -> ApiResult<Json<PostDetailView>> {
    let caller = Caller::from(&session);
    content::accept_answer(&state.ctx, &caller, id, req.comment_id).await?;
    Ok(Json(detail(&state, Some(&caller), id).await?))
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

/// Move an idea along its pipeline (group moderators and community managers).
#[utoipa::path(put, path = "/api/v1/posts/{id}/idea-status", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = IdeaStatusRequest,
    responses((status = 200, body = PostDetailView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn idea_status(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<IdeaStatusRequest>,
) -> ApiResult<Json<PostDetailView>> {
    let caller = Caller::from(&session);
    content::change_idea_status(
        &state.ctx,
        &caller,
        id,
        req.status,
        req.duplicate_of,
        req.comment.as_deref(),
    )
    .await?;
    Ok(Json(detail(&state, Some(&caller), id).await?))
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
    content::get_post(&state.ctx, caller.as_ref(), id).await?;
    let mut conn = state.ctx.conn().await?;
    let edits = store::post_edits(&mut conn, id)
        .await
        .map_err(cenacle_core::CoreError::from)?;
    let changes = store::idea_history(&mut conn, id)
        .await
        .map_err(cenacle_core::CoreError::from)?;
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
    let (likes, dislikes) =
        content::vote(&state.ctx, &Caller::from(session), target, vote, None).await?;
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
/// request that the group's moderators approve.
#[utoipa::path(post, path = "/api/v1/groups/{name}/join", tag = "groups", security(("bearer" = [])),
    params(("name" = String, Path), JoinParams),
    responses((status = 200, body = JoinView), (status = 404, body = ErrorBody)))]
pub async fn join(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(name): Path<String>,
    ApiQuery(params): ApiQuery<JoinParams>,
) -> ApiResult<Json<JoinView>> {
    let group = groups::local_group(&state.ctx, &name).await?;
    let message = params.message;
    let member = groups::join_group(
        &state.ctx,
        &Caller::from(&session),
        &group,
        message.as_deref(),
    )
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
    let group = groups::local_group(&state.ctx, &name).await?;
    groups::leave_group(&state.ctx, &Caller::from(&session), &group).await?;
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
    responses((status = 200, body = RatingView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rate(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<RatingRequest>,
) -> ApiResult<Json<RatingView>> {
    let (average, count) =
        content::rate_post(&state.ctx, &Caller::from(&session), id, req.stars).await?;
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
    use content::{FeedScope, FeedSort};
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
    let options = content::FeedOptions {
        scope,
        sort,
        since,
        unanswered: q.unanswered,
        offset,
        limit: limit + 1,
    };
    let posts = content::feed(&state.ctx, caller.as_ref(), options).await?;
    posts_page(&state, posts, limit, offset).await
}

/// Shapes a page of posts from several groups.
async fn posts_page(
    state: &AppState,
    posts: Vec<Post>,
    limit: i64,
    offset: i64,
) -> ApiResult<Json<Page<PostView>>> {
    let authors = Authors::load(
        &state.ctx,
        &posts.iter().map(|p| p.author_id).collect::<Vec<_>>(),
    )
    .await?;
    let mut names = HashMap::new();
    {
        let mut conn = state.ctx.conn().await?;
        for group_id in posts.iter().map(|p| p.group_id) {
            if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(group_id) {
                let group = cenacle_db::actors::group_by_id(&mut conn, group_id)
                    .await
                    .map_err(cenacle_core::CoreError::from)?;
                slot.insert(
                    group
                        .map(|g| {
                            if g.local {
                                g.name
                            } else {
                                format!("{}@{}", g.name, g.instance_host)
                            }
                        })
                        .unwrap_or_default(),
                );
            }
        }
    }
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
    /// A local group's name.
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
    let group_id = match &q.group {
        Some(name) => Some(groups::local_group(&state.ctx, name).await?.id),
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
    let query = store::SearchQuery {
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
    let caller = session.as_ref().map(Caller::from);
    let posts = content::search(&state.ctx, caller.as_ref(), query).await?;
    posts_page(&state, posts, limit, offset).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditCommentRequest {
    pub body: String,
}

/// Edit a comment or answer (its author or a group moderator).
#[utoipa::path(patch, path = "/api/v1/comments/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = EditCommentRequest,
    responses((status = 200, body = CommentView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn edit_comment(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<EditCommentRequest>,
) -> ApiResult<Json<CommentView>> {
    let edited = content::edit_comment(&state.ctx, &Caller::from(&session), id, &req.body).await?;
    let authors = Authors::load(&state.ctx, &[edited.author_id]).await?;
    Ok(Json(comment_view(
        edited,
        None,
        &authors,
        &local_host(&state),
    )))
}

/// Delete a comment or answer (its author or a group moderator).
#[utoipa::path(delete, path = "/api/v1/comments/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_comment(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    content::delete_comment(&state.ctx, &Caller::from(&session), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
