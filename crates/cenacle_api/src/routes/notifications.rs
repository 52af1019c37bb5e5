//! `/api/v1/notifications…`: the signed-in member's notifications (newest first, unread
//! filter), their unread count, marking read, and per-kind preferences. Notifications are
//! written by the use cases that cause them (`cenacle_core::notifications`).

use crate::{
    error::{ApiResult, ErrorBody},
    extract::{ApiJson, ApiQuery, Auth},
    pagination::{Page, PageQuery},
    AppState,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use cenacle_core::{
    digests,
    notifications::{self as cases, Notification},
    Caller, ScopedFutureExt,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct NotificationView {
    pub id: i64,
    /// reply, answer_accepted, like, idea_status, badge_awarded, join_request, moderation,
    /// accept_reminder, bounty_won, contest_result, mention, champion or rank_reached.
    pub kind: String,
    /// The latest person who acted (`name`, or `name@host` for someone elsewhere); null when
    /// the instance itself tells (a reminder), and for a moderation decision where the
    /// instance hides moderators' names (`moderation.show_moderator_names`).
    pub actor: Option<String>,
    /// How many people acted: likes are grouped ("N people liked it") while unread.
    pub actor_count: i64,
    pub post_id: Option<i64>,
    /// Null when the post's private group is no longer readable by the member, and when the
    /// post or comment was taken down since (`taken_down`).
    pub post_title: Option<String>,
    pub comment_id: Option<i64>,
    pub group: Option<String>,
    /// The badge's slug (badge_awarded).
    pub badge: Option<String>,
    /// The person it is about (`name`, or `name@host` for someone elsewhere): the person a
    /// closed report was about (moderation). Never the moderator, whom `actor` names.
    pub person: Option<String>,
    /// That person's display name, when they have one.
    pub person_display_name: Option<String>,
    /// The contest whose result it tells (contest_result), and its title.
    pub contest_id: Option<i64>,
    pub contest_title: Option<String>,
    /// What changed: an idea's new status, approved/declined, removed/restored,
    /// resolved/dismissed; the points a bounty paid (bounty_won); the place in a contest
    /// (contest_result); the programme's step (champion: invited, charter_published, renewed,
    /// removed, lapsed); the rank reached (rank_reached: its English name, a line break, its
    /// French name).
    pub detail: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Last change (a grouped notification grows).
    pub updated_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    /// Its post or comment was deleted or removed after the notification; its title is no
    /// longer shown. False when the title is hidden already (the post's private group is no
    /// longer readable by the member: what happens there since is not theirs to know), and
    /// for a notice of a removal itself, written with it (unless taken down again since).
    pub taken_down: bool,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        // A title taken down is often the very thing a moderator removed (abuse, a leaked
        // secret): the notification stays listed, for its news, but no longer quotes it.
        let taken_down = n.taken_down_since && n.post_title.is_some();
        NotificationView {
            id: n.id,
            kind: n.kind,
            actor: n.actor,
            actor_count: n.actor_count,
            post_id: n.post_id,
            post_title: n.post_title.filter(|_| !taken_down),
            comment_id: n.comment_id,
            group: n.group_name,
            badge: n.badge,
            person: n.person,
            person_display_name: n.person_display_name,
            contest_id: n.contest_id,
            contest_title: n.contest_title,
            detail: n.detail,
            created_at: n.created_at,
            updated_at: n.updated_at,
            read_at: n.read_at,
            taken_down,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only unread ones.
    #[serde(default)]
    pub unread: bool,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// My notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = Page<NotificationView>), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Page<NotificationView>>> {
    let caller = Caller::from(&session);
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    let limit = page.limit()?;
    let before = Some(page.after_id()?).filter(|id| *id > 0);
    let mut conn = state.ctx.conn().await?;
    let rows = cases::list(&mut conn, &state.ctx, &caller, q.unread, before, limit + 1).await?;
    Ok(Json(Page::from_rows(
        rows,
        limit,
        |n| n.id,
        NotificationView::from,
    )))
}

#[derive(Serialize, ToSchema)]
pub struct UnreadCount {
    pub unread: i64,
}

#[utoipa::path(get, path = "/api/v1/notifications/unread-count", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = UnreadCount), (status = 401, body = ErrorBody)))]
pub async fn unread_count(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<Json<UnreadCount>> {
    let caller = Caller::from(&session);
    let mut conn = state.ctx.conn().await?;
    let unread = cases::unread_count(&mut conn, &caller).await?;
    Ok(Json(UnreadCount { unread }))
}

/// Marks one of my notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let caller = Caller::from(&session);
    let caller = &caller;
    state
        .ctx
        .transaction(|conn| cases::mark_read(conn, caller, id).scope_boxed())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct MarkedRead {
    /// How many were unread.
    pub marked: usize,
}

/// Marks all my notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = MarkedRead), (status = 401, body = ErrorBody)))]
pub async fn mark_all_read(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<Json<MarkedRead>> {
    let caller = Caller::from(&session);
    let caller = &caller;
    let marked = state
        .ctx
        .transaction(|conn| cases::mark_all_read(conn, caller).scope_boxed())
        .await?;
    Ok(Json(MarkedRead { marked }))
}

/// Kind → delivery (in_app, email_immediate, email_daily, email_weekly or off), for every kind,
/// and the time zone the digests are sent by.
#[derive(Serialize, ToSchema)]
pub struct Preferences {
    pub preferences: BTreeMap<String, String>,
    /// The member's time zone, an IANA name (`Europe/Paris`, `America/Montreal`, `UTC`):
    /// digests go at `email.digest_hour` of its local time, summer time followed. Null: the
    /// instance's default (`email.default_time_zone`).
    pub time_zone: Option<String>,
}

/// What to change: the kinds given (the others stay as they are) and, when given, the time
/// zone. Any other field (the removed `utc_offset_minutes` among them) is refused, 422
/// `invalid_body` naming it, rather than ignored with nothing changed.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesUpdate {
    #[serde(default)]
    pub preferences: BTreeMap<String, String>,
    /// An IANA time-zone name PostgreSQL knows, spelled as it does (`Europe/Paris`); an
    /// unknown one is refused (422 `unknown_time_zone`) and nothing is changed. `null`: back
    /// to the instance's default. Left out: unchanged.
    #[serde(default, deserialize_with = "super::course_authoring::nullable")]
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<Option<String>>,
}

impl From<digests::NotificationSettings> for Preferences {
    fn from(settings: digests::NotificationSettings) -> Self {
        Preferences {
            preferences: settings
                .preferences
                .into_iter()
                .map(|(k, d)| (k.as_str().to_owned(), d.as_str().to_owned()))
                .collect(),
            time_zone: settings.time_zone,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/notifications/preferences", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = Preferences), (status = 401, body = ErrorBody)))]
pub async fn preferences(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<Json<Preferences>> {
    let caller = Caller::from(&session);
    let mut conn = state.ctx.conn().await?;
    let settings = digests::settings(&mut conn, &caller).await?;
    Ok(Json(settings.into()))
}

/// Sets the delivery of the kinds given (the others stay as they are) and the time zone if
/// given. `off` stops that kind being created at all; the e-mail values also keep it in the
/// app.
#[utoipa::path(put, path = "/api/v1/notifications/preferences", tag = "notifications", security(("bearer" = [])),
    request_body = PreferencesUpdate,
    responses((status = 200, body = Preferences), (status = 422, body = ErrorBody)))]
pub async fn set_preferences(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<PreferencesUpdate>,
) -> ApiResult<Json<Preferences>> {
    let caller = Caller::from(&session);
    let changes: Vec<(String, String)> = req.preferences.into_iter().collect();
    let zone = req.time_zone.as_ref().map(|z| z.as_deref());
    let (ctx, caller, changes) = (&state.ctx, &caller, &changes);
    let saved = ctx
        .transaction(|conn| digests::save_settings(conn, ctx, caller, changes, zone).scope_boxed())
        .await?;
    Ok(Json(saved.into()))
}
