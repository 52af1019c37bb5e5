//! `/api/v1/groups/{name}/moderation-log` and `/api/v1/instance/moderation-log`: the public
//! moderation log, newest first.

use crate::{
    error::{ApiResult, ErrorBody},
    extract::MaybeAuth,
    pagination::{Page, PageQuery},
    AppState,
};
use axum::{
    extract::{Path, Query, State},
    Json,
};
use cenacle_core::{access::Reader, moderation_log, Caller};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ModerationLogEntry {
    pub id: i64,
    /// The group it was taken in; absent for an instance-wide action.
    pub group: Option<String>,
    /// Stable code: remove_post, restore_post, remove_comment, restore_comment, lock_post,
    /// unlock_post, pin_post, unpin_post, add_moderator, remove_moderator, ban_from_group,
    /// unban_from_group, ban_from_instance, unban_from_instance, resolve_report,
    /// dismiss_report, approve_post, reject_post, block_instance, unblock_instance,
    /// allow_instance, limit_instance, unlimit_instance.
    pub action: String,
    /// Who took it (`name`, or `name@host` for a remote moderator); absent when the instance
    /// hides moderators' names or took it itself.
    pub moderator: Option<String>,
    /// The person it concerns (`name` or `name@host`).
    pub target_person: Option<String>,
    pub target_post_id: Option<i64>,
    pub target_post_title: Option<String>,
    pub target_comment_id: Option<i64>,
    /// The instance it concerns (its host).
    pub target_instance: Option<String>,
    pub reason: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<moderation_log::LoggedAction> for ModerationLogEntry {
    fn from(a: moderation_log::LoggedAction) -> Self {
        Self {
            id: a.id,
            group: a.group_name,
            action: a.action,
            moderator: a.moderator,
            target_person: a.target_person,
            target_post_id: a.target_post_id,
            target_post_title: a.target_post_title,
            target_comment_id: a.target_comment_id,
            target_instance: a.target_instance,
            reason: a.reason,
            expires_at: a.expires_at,
            created_at: a.created_at,
        }
    }
}

/// The page's bounds from the query: the entry the page starts before, and its size.
fn bounds(page: &PageQuery) -> ApiResult<(Option<i64>, i64)> {
    let before = Some(page.after_id()?).filter(|id| *id > 0);
    Ok((before, page.limit()?))
}

fn page_of(rows: Vec<moderation_log::LoggedAction>, limit: i64) -> Page<ModerationLogEntry> {
    Page::from_rows(rows, limit, |r| r.id, ModerationLogEntry::from)
}

/// A group's moderation log, newest first: every removal, restore, lock, pin, ban, report
/// resolution and approval, with its reason. A private group's log is shown to those who may
/// read the group only (404 to others).
#[utoipa::path(get, path = "/api/v1/groups/{name}/moderation-log", tag = "moderation",
    params(("name" = String, Path, description = "a local group's name, or `name@host`"), PageQuery),
    responses((status = 200, body = Page<ModerationLogEntry>), (status = 404, body = ErrorBody)))]
pub async fn group_log(
    State(state): State<AppState>,
    MaybeAuth(session): MaybeAuth,
    Path(name): Path<String>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<ModerationLogEntry>>> {
    let caller = session.as_ref().map(Caller::from);
    let (before, limit) = bounds(&page)?;
    let mut conn = state.ctx.conn().await?;
    let rows = moderation_log::group_log(
        &mut conn,
        &state.ctx,
        Reader::from(caller.as_ref()),
        &name,
        before,
        limit + 1,
    )
    .await?;
    Ok(Json(page_of(rows, limit)))
}

/// The instance's moderation log, newest first: bans from the instance and what was decided
/// about other instances (blocked, allowed, limited), with reasons.
#[utoipa::path(get, path = "/api/v1/instance/moderation-log", tag = "moderation",
    params(PageQuery),
    responses((status = 200, body = Page<ModerationLogEntry>), (status = 400, body = ErrorBody)))]
pub async fn instance_log(
    State(state): State<AppState>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<ModerationLogEntry>>> {
    let (before, limit) = bounds(&page)?;
    let mut conn = state.ctx.conn().await?;
    let rows = moderation_log::instance_log(&mut conn, &state.ctx, before, limit + 1).await?;
    Ok(Json(page_of(rows, limit)))
}
