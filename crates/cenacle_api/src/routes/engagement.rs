//! Reputation, points, ranks and leaderboards.

use crate::{
    error::{ApiError, ApiResult, ErrorBody},
    extract::{ApiJson, ApiQuery, Auth, IdempotencyKey},
    i18n,
    pagination::Page,
    AppState,
};
use axum::{
    extract::{Path, State},
    Json,
};
use cenacle_core::{
    accounts::Session,
    admin,
    badges::{self as badge_cases, BadgeChange},
    bounties, champions, contests, groups, identity,
    leaderboards::{self, Board, Span},
    model::{Author, Badge, Bounty, Contest, LeaderboardRow, PersonActor},
    people, points, Caller, Conn, Context, CoreError, ScopedFutureExt,
};
use cenacle_domain::{boards::BoardPeriod, engagement::RankTier, Language};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct RankView {
    /// In the request's language.
    pub name: String,
    pub score: i64,
}

fn rank_view(score: i64, tier: Option<RankTier>) -> RankView {
    let name = tier
        .map(|t| match i18n::current_language() {
            Language::Fr => t.name_fr,
            Language::En => t.name_en,
        })
        .unwrap_or_default();
    RankView { name, score }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn history_window(q: &HistoryQuery) -> ApiResult<(i64, i64)> {
    let page = crate::pagination::PageQuery {
        limit: q.limit,
        cursor: q.cursor.clone(),
    };
    let limit = page.limit()?;
    let before = page.after_id()?;
    Ok((limit, if before == 0 { i64::MAX } else { before }))
}

#[derive(Serialize, ToSchema)]
pub struct ReputationEventView {
    pub delta: i64,
    /// answer_liked, question_liked, idea_liked, other_liked, answer_accepted,
    /// accepted_an_answer, post_disliked, disliked_an_answer.
    pub cause: String,
    /// This event undoes an earlier one (a like withdrawn, an acceptance changed).
    pub reversal: bool,
    pub at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct ReputationView {
    pub reputation: i64,
    pub rank: RankView,
    /// Newest first.
    pub history: Vec<ReputationEventView>,
    pub next_cursor: Option<String>,
}

/// My reputation, rank and reputation history.
#[utoipa::path(get, path = "/api/v1/account/reputation", tag = "engagement", security(("bearer" = [])),
    params(HistoryQuery),
    responses((status = 200, body = ReputationView), (status = 401, body = ErrorBody)))]
pub async fn my_reputation(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<ReputationView>> {
    let (limit, before) = history_window(&q)?;
    let me = session.account.person_id;
    let mut conn = state.ctx.conn().await?;
    let (reputation, rows) = points::reputation_history(&mut conn, me, before, limit + 1).await?;
    let (score, tier) = people::rank_of(&mut conn, &state.ctx, me).await?;
    let page = Page::from_rows(
        rows,
        limit,
        |r| r.id,
        |r| ReputationEventView {
            delta: r.delta,
            cause: r.cause,
            reversal: r.reverses.is_some(),
            at: r.created_at,
        },
    );
    Ok(Json(ReputationView {
        reputation,
        rank: rank_view(score, tier),
        history: page.items,
        next_cursor: page.next_cursor,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct PointsEntryView {
    pub delta: i64,
    /// reply, accepted_answer, new_post, like_given, like_received, daily_visit, or
    /// "grant: <reason>".
    pub reason: String,
    /// This row takes back an earlier one whose cause went (content deleted, a like
    /// withdrawn, an acceptance changed).
    pub reversal: bool,
    pub at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct PointsView {
    pub balance: i64,
    /// What your leading bids hold of the balance (released when outbid).
    pub held: i64,
    /// What you may spend or bid: the balance less what bids hold.
    pub available: i64,
    /// What your open bounties hold: taken from the balance when offered, so not part of it.
    pub in_open_bounties: i64,
    pub history: Vec<PointsEntryView>,
    pub next_cursor: Option<String>,
}

/// My reward points: balance, what bids hold of it and what is available, and ledger.
#[utoipa::path(get, path = "/api/v1/account/points", tag = "engagement", security(("bearer" = [])),
    params(HistoryQuery),
    responses((status = 200, body = PointsView), (status = 401, body = ErrorBody)))]
pub async fn my_points(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<PointsView>> {
    let (limit, before) = history_window(&q)?;
    let me = session.account.person_id;
    let mut conn = state.ctx.conn().await?;
    let (balance, rows) = points::points_history(&mut conn, me, before, limit + 1).await?;
    let standing = points::standing(&mut conn, me).await?;
    let page = Page::from_rows(
        rows,
        limit,
        |r| r.id,
        |r| PointsEntryView {
            delta: r.delta,
            reason: r.reason,
            reversal: r.reverses.is_some(),
            at: r.created_at,
        },
    );
    Ok(Json(PointsView {
        balance,
        held: standing.held,
        available: balance - standing.held,
        in_open_bounties: standing.in_open_bounties,
        history: page.items,
        next_cursor: page.next_cursor,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    /// `username`, or `user@host`.
    pub handle: String,
    /// Positive to grant, negative to correct.
    pub delta: i64,
    /// Required (422 `validation_failed` on `reason` when missing or blank).
    #[serde(default)]
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct BalanceView {
    pub balance: i64,
}

/// Grant or correct someone's points, with a reason (community managers and admins). Send an
/// `Idempotency-Key` header (your own unique string, up to 255 visible ASCII characters) to
/// retry safely: the same key with the same grant answers the first call's result again and
/// pays once; with another grant it is refused (422 `idempotency_key_reused`).
#[utoipa::path(post, path = "/api/v1/admin/points", tag = "engagement", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "the client's key for retrying this grant safely")),
    request_body = GrantRequest,
    responses((status = 200, body = BalanceView), (status = 400, description = "an unusable idempotency key", body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "the balance would go below zero", body = ErrorBody), (status = 422, description = "no reason, or an idempotency key used for another grant", body = ErrorBody)))]
pub async fn grant(
    State(state): State<AppState>,
    Auth(session): Auth,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(req): ApiJson<GrantRequest>,
) -> ApiResult<Json<BalanceView>> {
    let (ctx, session, req, key) = (&state.ctx, &session, &req, key.as_deref());
    let balance = ctx
        .transaction(|conn| {
            async move {
                let person = person_by_handle(conn, ctx, &req.handle).await?;
                points::grant_points(conn, session, person.id, req.delta, &req.reason, key).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(Json(BalanceView { balance }))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightRequest {
    /// 1.0 counts fully, 0 not at all.
    pub weight: f64,
}

/// How much votes from another instance count toward reputation here (admins).
#[utoipa::path(put, path = "/api/v1/admin/instances/{host}/weight", tag = "engagement", security(("bearer" = [])),
    params(("host" = String, Path)), request_body = WeightRequest,
    responses((status = 200, body = WeightRequest), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_weight(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(host): Path<String>,
    ApiJson(req): ApiJson<WeightRequest>,
) -> ApiResult<Json<WeightRequest>> {
    let weight = req.weight;
    state
        .ctx
        .transaction(|conn| admin::set_instance_weight(conn, &session, &host, weight).scope_boxed())
        .await?;
    Ok(Json(req))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeaderboardQuery {
    /// `week` (ISO, from Monday), `month`, `year` — calendar periods in UTC — `all` (default),
    /// or `custom` with `from` and `to`.
    pub period: Option<String>,
    /// Any day of the week, month or year to show (default: today, UTC): past boards stay
    /// readable.
    pub at: Option<NaiveDate>,
    /// First day of a custom board.
    pub from: Option<NaiveDate>,
    /// The day after a custom board's last (at most 31 days after `from`).
    pub to: Option<NaiveDate>,
    /// A local group's name: reputation earned in it (a private group's board: its members
    /// only, 404 to others).
    pub group: Option<String>,
    /// Entries, 1 to 100 (default 20).
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct LeaderboardEntry {
    /// Dense rank: equal totals share a rank.
    pub rank: i64,
    pub handle: String,
    pub display_name: Option<String>,
    pub reputation: i64,
}

/// A leaderboard line with its person's handle and name.
fn entry(r: &LeaderboardRow, people: &HashMap<i64, Author>, local_host: &str) -> LeaderboardEntry {
    let person = people.get(&r.person_id);
    LeaderboardEntry {
        rank: r.rank,
        handle: person
            .map(|p| {
                format!(
                    "{}@{}",
                    p.username,
                    p.handle_host.as_deref().unwrap_or(local_host)
                )
            })
            .unwrap_or_default(),
        display_name: person.and_then(|p| p.display_name.clone()),
        reputation: r.points,
    }
}

#[derive(Serialize, ToSchema)]
pub struct LeaderboardView {
    /// week, month, year, all or custom.
    pub period: String,
    /// The first day the board covers (null for all time).
    pub from: Option<NaiveDate>,
    /// The day after the last it covers (null for all time).
    pub to: Option<NaiveDate>,
    pub entries: Vec<LeaderboardEntry>,
    /// The caller's own line, even outside the top (null when unranked or anonymous).
    pub me: Option<LeaderboardEntry>,
}

/// Who earned the most reputation, over a calendar week, month or year, all time, or some
/// days, instance-wide or in a group.
#[utoipa::path(get, path = "/api/v1/leaderboard", tag = "engagement",
    params(LeaderboardQuery),
    responses((status = 200, body = LeaderboardView), (status = 400, body = ErrorBody), (status = 422, description = "a custom board longer than 31 days, or ending before it starts", body = ErrorBody)))]
pub async fn leaderboard(
    State(state): State<AppState>,
    crate::extract::MaybeAuth(session): crate::extract::MaybeAuth,
    ApiQuery(q): ApiQuery<LeaderboardQuery>,
) -> ApiResult<Json<LeaderboardView>> {
    let period = q.period.as_deref().unwrap_or("all");
    let span = match (BoardPeriod::parse(period), q.from, q.to) {
        (Some(p), None, None) => Span::Period(p, q.at.unwrap_or_else(|| Utc::now().date_naive())),
        (None, Some(from), Some(to)) if period == "custom" && q.at.is_none() => {
            Span::Days { from, to }
        }
        _ => {
            return Err(ApiError::invalid_query(
                "period must be week, month, year or all (with at, a day), or custom with from and to (days)",
            ))
        }
    };
    let (from, to) = match span {
        Span::Period(p, day) => p.bounds(day).unzip(),
        Span::Days { from, to } => (Some(from), Some(to)),
    };
    let limit = crate::pagination::PageQuery {
        limit: q.limit,
        cursor: None,
    }
    .limit()?;
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
    let board = Board { span, group_id };
    let viewer = session.as_ref().map(|s| s.account.person_id);
    let (rows, mine) = leaderboards::leaderboard(&mut conn, board, limit, viewer).await?;
    let ids: Vec<i64> = rows
        .iter()
        .map(|r| r.person_id)
        .chain(mine.iter().map(|m| m.person_id))
        .collect();
    let people = people::authors(&mut conn, &ids).await?;
    let host = identity::local_host(&state.ctx.settings);
    Ok(Json(LeaderboardView {
        period: period.to_owned(),
        from,
        to,
        entries: rows.iter().map(|r| entry(r, &people, &host)).collect(),
        me: mine.as_ref().map(|r| entry(r, &people, &host)),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct PersonView {
    pub handle: String,
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub local: bool,
    /// Reputation earned here.
    pub reputation: i64,
    pub rank: RankView,
    /// What the rank and the automatic badges count here.
    pub progress: ProgressView,
    /// For people of other Cénacle instances: their reputation and rank at home, as their
    /// instance says; shown beside ours, never added to it.
    pub home_reputation: Option<i64>,
    pub home_rank: Option<String>,
    /// The badge worn as a title, if any.
    pub title: Option<BadgeView>,
    /// Badges held, oldest first.
    pub badges: Vec<BadgeView>,
    /// The groups they champion (the champions programme), since when: ours for our members,
    /// what their home instance says (`cenacle:champion`) for people of other Cénacle
    /// instances.
    pub champion_of: Vec<ChampionOfView>,
}

#[derive(Serialize, ToSchema)]
pub struct ChampionOfView {
    /// The group's ActivityPub id.
    pub group: String,
    pub since: DateTime<Utc>,
}

/// Counts toward the rank and the automatic badges: only what counts (never one's own likes
/// or acceptances, nor votes from instances weighted 0 or blocked).
#[derive(Serialize, ToSchema)]
pub struct ProgressView {
    /// Live likes received (the `hundred_likes` badge).
    pub likes_received: i64,
    /// Answers accepted by someone else (`first_accepted_answer`, `ten_accepted_answers`).
    pub accepted_answers: i64,
}

async fn person_by_handle(
    conn: &mut Conn,
    ctx: &Context,
    handle: &str,
) -> Result<PersonActor, CoreError> {
    people::person_by_handle(conn, ctx, handle).await
}

/// A person's public profile with their reputation and rank.
#[utoipa::path(get, path = "/api/v1/people/{handle}", tag = "engagement",
    params(("handle" = String, Path, description = "username, or user@host")),
    responses((status = 200, body = PersonView), (status = 404, body = ErrorBody)))]
pub async fn person(
    State(state): State<AppState>,
    Path(handle): Path<String>,
) -> ApiResult<Json<PersonView>> {
    let mut conn = state.ctx.conn().await?;
    let person = person_by_handle(&mut conn, &state.ctx, &handle).await?;
    let champion_of: Vec<ChampionOfView> = if person.local {
        champions::championed_groups(&mut conn, person.id)
            .await?
            .into_iter()
            .map(|g| ChampionOfView {
                group: g.ap_id,
                since: g.since,
            })
            .collect()
    } else {
        champions::home_champion(&mut conn, person.id)
            .await?
            .into_iter()
            .map(|g| ChampionOfView {
                group: g.group_ap_id,
                since: g.since,
            })
            .collect()
    };
    let profile = people::profile(&mut conn, &state.ctx, person).await?;
    drop(conn);
    let person = profile.person;
    let host = person
        .handle_host()
        .map(str::to_owned)
        .unwrap_or_else(|| identity::local_host(&state.ctx.settings));
    Ok(Json(PersonView {
        handle: format!("{}@{host}", person.username),
        display_name: person.display_name,
        bio: person.bio,
        local: person.local,
        reputation: profile.reputation,
        rank: rank_view(profile.rank_score, profile.rank),
        progress: ProgressView {
            likes_received: profile.contributions.likes_received,
            accepted_answers: profile.contributions.accepted_answers,
        },
        home_reputation: profile.home_reputation,
        home_rank: profile.home_rank,
        title: profile.title.map(badge_view),
        badges: profile.badges.into_iter().map(badge_view).collect(),
        champion_of,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct BountyView {
    pub id: i64,
    pub amount: i64,
    /// open, awarded, expired, or cancelled (its question deleted or removed: the escrow went
    /// back to the sponsor).
    pub status: String,
    pub awarded_answer_id: Option<i64>,
    /// Points actually paid: all when awarded, half or none at expiry; none to a winner from
    /// another instance (only our members hold points), who gets the `bounty_won` badge.
    pub paid: i64,
    /// Who won it (a person's id; kept when the answer is deleted later).
    pub winner_id: Option<i64>,
    pub ends_at: DateTime<Utc>,
}

fn bounty_view(b: Bounty) -> BountyView {
    BountyView {
        id: b.id,
        amount: b.amount,
        status: b.status,
        awarded_answer_id: b.awarded_comment_id,
        paid: b.paid,
        winner_id: b.winner_id,
        ends_at: b.ends_at,
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BountyRequest {
    /// Points, 10 to 5000, taken from your balance now and held until awarded.
    pub amount: i64,
    /// 1 to 30 (default 7).
    pub days: Option<i64>,
}

/// Offer a bounty on an open question. If you do not award it before it ends, half goes to
/// the best-scored answer posted after it began by someone else (score at least 1, votes
/// weighted as for reputation, the author's own not counted); the rest is not returned.
#[utoipa::path(post, path = "/api/v1/posts/{id}/bounty", tag = "engagement", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = BountyRequest,
    responses((status = 201, body = BountyView), (status = 403, body = ErrorBody), (status = 404, description = "no such question, or it is gone (deleted or removed)", body = ErrorBody), (status = 409, description = "a bounty runs already (`bounty_running`, `details.post_id` naming the question), the question is closed (`question_closed`) or held for approval (`post_not_published`), or not enough points (`insufficient_points`)", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn offer_bounty(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<BountyRequest>,
) -> ApiResult<(axum::http::StatusCode, Json<BountyView>)> {
    let caller = Caller::from(&session);
    let ctx = &state.ctx;
    let bounty = ctx
        .transaction(|conn| {
            bounties::offer_bounty(conn, ctx, &caller, id, req.amount, req.days).scope_boxed()
        })
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(bounty_view(bounty))))
}

/// A question's latest bounty (404 when it never had one).
#[utoipa::path(get, path = "/api/v1/posts/{id}/bounty", tag = "engagement",
    params(("id" = i64, Path)),
    responses((status = 200, body = BountyView), (status = 404, body = ErrorBody)))]
pub async fn get_bounty(
    State(state): State<AppState>,
    crate::extract::MaybeAuth(session): crate::extract::MaybeAuth,
    Path(id): Path<i64>,
) -> ApiResult<Json<BountyView>> {
    let caller = session.as_ref().map(Caller::from);
    let mut conn = state.ctx.conn().await?;
    let bounty = bounties::bounty_of(&mut conn, caller.as_ref(), id)
        .await?
        .ok_or(CoreError::NotFound("bounty"))?;
    Ok(Json(bounty_view(bounty)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AwardRequest {
    pub comment_id: i64,
}

/// Award your running bounty to someone else's answer, before it ends.
#[utoipa::path(put, path = "/api/v1/posts/{id}/bounty/award", tag = "engagement", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = AwardRequest,
    responses((status = 200, body = BountyView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "the bounty has ended", body = ErrorBody)))]
pub async fn award_bounty(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<AwardRequest>,
) -> ApiResult<Json<BountyView>> {
    let caller = Caller::from(&session);
    let bounty = state
        .ctx
        .transaction(|conn| bounties::award_bounty(conn, &caller, id, req.comment_id).scope_boxed())
        .await?;
    Ok(Json(bounty_view(bounty)))
}

// ---- badges ----

#[derive(Serialize, ToSchema)]
pub struct BadgeView {
    pub slug: String,
    /// bronze, silver or gold.
    pub tier: String,
    /// In the request's language.
    pub name: String,
    pub description: String,
    /// Awarded by hand only.
    pub honorific: bool,
}

fn badge_view(b: Badge) -> BadgeView {
    let fr = i18n::current_language() == Language::Fr;
    BadgeView {
        name: if fr { b.name_fr } else { b.name_en },
        description: if fr {
            b.description_fr
        } else {
            b.description_en
        },
        slug: b.slug,
        tier: b.tier,
        honorific: b.honorific,
    }
}

/// Every badge there is, and how it is earned.
#[utoipa::path(get, path = "/api/v1/badges", tag = "engagement",
    responses((status = 200, body = Vec<BadgeView>)))]
pub async fn badges(State(state): State<AppState>) -> ApiResult<Json<Vec<BadgeView>>> {
    let mut conn = state.ctx.conn().await?;
    let all = badge_cases::catalogue(&mut conn).await?;
    Ok(Json(all.into_iter().map(badge_view).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BadgeAwardRequest {
    /// `username`, or `user@host`.
    pub handle: String,
    pub badge: String,
    pub reason: Option<String>,
}

/// The one transaction of the three badge endpoints.
async fn change_badge(
    state: &AppState,
    session: &Session,
    req: &BadgeAwardRequest,
    change: BadgeChange,
) -> ApiResult<axum::http::StatusCode> {
    let ctx = &state.ctx;
    ctx.transaction(|conn| {
        badge_cases::change_badge(
            conn,
            ctx,
            session,
            &req.handle,
            &req.badge,
            req.reason.as_deref(),
            change,
        )
        .scope_boxed()
    })
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Award a badge by hand (community managers), e.g. Superuser.
#[utoipa::path(post, path = "/api/v1/admin/badges/award", tag = "engagement", security(("bearer" = [])),
    request_body = BadgeAwardRequest,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn award_badge(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<BadgeAwardRequest>,
) -> ApiResult<axum::http::StatusCode> {
    change_badge(&state, &session, &req, BadgeChange::Award).await
}

/// Revoke a badge, with a reason (community managers). An automatic badge revoked is not
/// awarded again by its rule; only a restore brings it back.
#[utoipa::path(post, path = "/api/v1/admin/badges/revoke", tag = "engagement", security(("bearer" = [])),
    request_body = BadgeAwardRequest,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn revoke_badge(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<BadgeAwardRequest>,
) -> ApiResult<axum::http::StatusCode> {
    change_badge(&state, &session, &req, BadgeChange::Revoke).await
}

/// Restore a revoked badge, with a reason (community managers); the revocation stays in its
/// history.
#[utoipa::path(post, path = "/api/v1/admin/badges/restore", tag = "engagement", security(("bearer" = [])),
    request_body = BadgeAwardRequest,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, description = "the person never had this badge revoked", body = ErrorBody), (status = 409, description = "the person holds it", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn restore_badge(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<BadgeAwardRequest>,
) -> ApiResult<axum::http::StatusCode> {
    change_badge(&state, &session, &req, BadgeChange::Restore).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TitleRequest {
    /// The slug of a badge you hold, or null for no title.
    pub badge: Option<String>,
}

/// Wear one of your badges as a title beside your name.
#[utoipa::path(put, path = "/api/v1/account/title", tag = "engagement", security(("bearer" = [])),
    request_body = TitleRequest,
    responses((status = 204), (status = 404, description = "you do not hold that badge", body = ErrorBody)))]
pub async fn set_title(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<TitleRequest>,
) -> ApiResult<axum::http::StatusCode> {
    let caller = Caller::from(&session);
    let badge = req.badge.as_deref();
    state
        .ctx
        .transaction(|conn| badge_cases::set_title(conn, &caller, badge).scope_boxed())
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

// ---- contests ----

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContestRequest {
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Local group names; empty: every group.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Reputation causes that score (e.g. `answer_liked`, `answer_accepted`); empty: all.
    #[serde(default)]
    pub causes: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ContestView {
    pub id: i64,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub closed: bool,
    /// The reputation causes it counts (empty: every cause).
    pub causes: Vec<String>,
    /// Live while open; the frozen winners once closed.
    pub board: Vec<LeaderboardEntry>,
}

async fn contest_view(
    conn: &mut Conn,
    ctx: &Context,
    contest: Contest,
    board: Vec<LeaderboardRow>,
) -> Result<ContestView, CoreError> {
    let ids: Vec<i64> = board.iter().map(|r| r.person_id).collect();
    let people = people::authors(conn, &ids).await?;
    let host = identity::local_host(&ctx.settings);
    Ok(ContestView {
        id: contest.id,
        title: contest.title,
        starts_at: contest.starts_at,
        ends_at: contest.ends_at,
        closed: contest.closed_at.is_some(),
        causes: contest.causes,
        board: board.iter().map(|r| entry(r, &people, &host)).collect(),
    })
}

/// Open a contest (community managers).
#[utoipa::path(post, path = "/api/v1/contests", tag = "engagement", security(("bearer" = [])),
    request_body = ContestRequest,
    responses((status = 201, body = ContestView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_contest(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<ContestRequest>,
) -> ApiResult<(axum::http::StatusCode, Json<ContestView>)> {
    let (ctx, session, req) = (&state.ctx, &session, &req);
    let view = ctx
        .transaction(|conn| {
            async move {
                let contest = contests::create_contest(
                    conn,
                    session,
                    &req.title,
                    req.starts_at,
                    req.ends_at,
                    &req.groups,
                    &req.causes,
                )
                .await?;
                contest_view(conn, ctx, contest, vec![]).await
            }
            .scope_boxed()
        })
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(view)))
}

#[derive(Serialize, ToSchema)]
pub struct ContestSummary {
    pub id: i64,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub closed: bool,
}

/// The latest contests you may read: running ones first, then the closed ones (up to 50).
#[utoipa::path(get, path = "/api/v1/contests", tag = "engagement",
    responses((status = 200, body = Vec<ContestSummary>)))]
pub async fn list_contests(
    State(state): State<AppState>,
    crate::extract::MaybeAuth(session): crate::extract::MaybeAuth,
) -> ApiResult<Json<Vec<ContestSummary>>> {
    let caller = session.as_ref().map(Caller::from);
    let mut conn = state.ctx.conn().await?;
    let found = contests::recent_contests(&mut conn, caller.as_ref(), 50).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|c| ContestSummary {
                id: c.id,
                title: c.title,
                starts_at: c.starts_at,
                ends_at: c.ends_at,
                closed: c.closed_at.is_some(),
            })
            .collect(),
    ))
}

/// A contest and its board (a contest over a private group: its members only, 404 to others).
#[utoipa::path(get, path = "/api/v1/contests/{id}", tag = "engagement",
    params(("id" = i64, Path)),
    responses((status = 200, body = ContestView), (status = 404, body = ErrorBody)))]
pub async fn get_contest(
    State(state): State<AppState>,
    crate::extract::MaybeAuth(session): crate::extract::MaybeAuth,
    Path(id): Path<i64>,
) -> ApiResult<Json<ContestView>> {
    let caller = session.as_ref().map(Caller::from);
    let mut conn = state.ctx.conn().await?;
    let (contest, board) = contests::contest(&mut conn, caller.as_ref(), id).await?;
    Ok(Json(
        contest_view(&mut conn, &state.ctx, contest, board).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseContestRequest {
    /// Points for rank 1, 2, 3…; the number of prizes is the number of winning ranks.
    #[serde(default)]
    pub prizes: Vec<i64>,
    /// A badge (slug) for every winner.
    pub badge: Option<String>,
}

/// Close a contest: freeze its winners and give their prizes (community managers).
#[utoipa::path(post, path = "/api/v1/contests/{id}/close", tag = "engagement", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = CloseContestRequest,
    responses((status = 200, body = ContestView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn close_contest(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<CloseContestRequest>,
) -> ApiResult<Json<ContestView>> {
    let (ctx, session, req) = (&state.ctx, &session, &req);
    let view = ctx
        .transaction(|conn| {
            async move {
                contests::close_contest(conn, session, id, &req.prizes, req.badge.as_deref())
                    .await?;
                let caller = Caller::from(session);
                let (contest, board) = contests::contest(conn, Some(&caller), id).await?;
                contest_view(conn, ctx, contest, board).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(Json(view))
}
