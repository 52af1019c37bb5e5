//! Community insights for community managers and admins (permission
//! `ReadCommunityInsights`): a member's statistics, the champions shortlist of a topic and the
//! negative-leader alerts (docs/influence.md).

use crate::{
    error::{ApiError, ApiResult, ErrorBody},
    extract::{ApiQuery, Auth},
    AppState,
};
use axum::{
    extract::{Path, State},
    Json,
};
use cenacle_core::{
    groups,
    insights::{self, Period, Topic},
    people, Conn, CoreError,
};
use cenacle_domain::influence::Limiting;
use chrono::{Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InsightsQuery {
    /// A tag: contributions in threads carrying it (with `group`, in that group only).
    pub tag: Option<String>,
    /// A group's name (`name` or `name@host`).
    pub group: Option<String>,
    /// First day (UTC) of the period; default 90 days before `to`.
    pub from: Option<NaiveDate>,
    /// The day after the period's last; default tomorrow (today included). At most 731 days
    /// after `from`.
    pub to: Option<NaiveDate>,
    /// Shortlist entries, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// Alerts: the recent window, in days at the end of the period, whose mood is compared with
    /// the time before (default 30).
    pub recent_days: Option<u32>,
}

/// The topic and the period a query asks for (the topic's group looked up).
async fn topic_and_period(
    conn: &mut Conn,
    state: &AppState,
    q: &InsightsQuery,
) -> Result<(Topic, Period), CoreError> {
    let to =
        q.to.unwrap_or_else(|| Utc::now().date_naive() + Duration::days(1));
    let from = q
        .from
        .unwrap_or_else(|| to.checked_sub_signed(Duration::days(90)).unwrap_or(to));
    let group = match &q.group {
        Some(name) => Some(groups::group_by_name_or_handle(conn, &state.ctx, name).await?),
        None => None,
    };
    Ok((
        Topic {
            tag: q.tag.clone(),
            group,
        },
        Period { from, to },
    ))
}

#[derive(Serialize, ToSchema)]
pub struct WeekView {
    /// The Monday the week starts on.
    pub week: NaiveDate,
    /// Threads, ideas and replies.
    pub contributions: i64,
    pub accepted: i64,
}

#[derive(Serialize, ToSchema)]
pub struct MemberStatsView {
    pub handle: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub tag: Option<String>,
    pub group: Option<String>,
    /// Questions and notes they started.
    pub threads: i64,
    pub ideas: i64,
    /// Answers and replies.
    pub replies: i64,
    /// Their answers accepted (by someone else than themselves).
    pub accepted_answers: i64,
    /// Their accepted answers over all answers accepted in the topic (null when none was).
    pub accepted_share: Option<f64>,
    /// Likes received, each its recorded weight (the liker's instance weight).
    pub likes_received: f64,
    /// Views of their posts (one per viewer per post per day, robots excluded).
    pub views: i64,
    /// Distinct people whose questions they answered.
    pub people_helped: i64,
    /// Questions they answered first, and how long those had waited (mean seconds).
    pub first_answers: i64,
    pub mean_first_answer_secs: Option<f64>,
    /// Week by week over the period.
    pub trend: Vec<WeekView>,
}

/// A member's statistics over a period, instance-wide or per group and/or tag.
#[utoipa::path(get, path = "/api/v1/community/members/{handle}/stats", tag = "community",
    security(("bearer" = [])), params(("handle" = String, Path), InsightsQuery),
    responses((status = 200, body = MemberStatsView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "unknown tag, `to` not after `from`, or a period over 731 days", body = ErrorBody)))]
pub async fn member_stats(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(handle): Path<String>,
    ApiQuery(q): ApiQuery<InsightsQuery>,
) -> ApiResult<Json<MemberStatsView>> {
    let mut conn = state.ctx.conn().await?;
    cenacle_core::admin::require(&session, cenacle_domain::Permission::ReadCommunityInsights)?;
    let person = people::person_by_handle(&mut conn, &state.ctx, &handle).await?;
    let (topic, period) = topic_and_period(&mut conn, &state, &q).await?;
    let s = insights::member_stats(&mut conn, &session, person.id, &topic, period).await?;
    Ok(Json(MemberStatsView {
        handle,
        from: period.from,
        to: period.to,
        tag: topic.tag,
        group: topic.group.map(|g| g.name),
        threads: s.totals.threads,
        ideas: s.totals.ideas,
        replies: s.totals.replies,
        accepted_answers: s.totals.accepted,
        accepted_share: s.accepted_share,
        likes_received: s.totals.likes,
        views: s.totals.views,
        people_helped: s.people_helped,
        first_answers: s.totals.first_replies,
        mean_first_answer_secs: s.mean_first_reply_secs,
        trend: s
            .trend
            .iter()
            .map(|w| WeekView {
                week: w.week,
                contributions: w.contributions,
                accepted: w.accepted,
            })
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct CandidateView {
    pub rank: usize,
    pub handle: String,
    pub display_name: Option<String>,
    /// √(credibility × bandwidth), 0–1.
    pub influence: f64,
    pub credibility: f64,
    pub bandwidth: f64,
    /// The side that holds them back: `credibility` (much activity, little of it trusted),
    /// `bandwidth` (trusted, reaches few) or `balanced`.
    #[schema(value_type = String)]
    pub limiting: Limiting,
    /// Why, in the request's language.
    pub why: String,
    /// The figures: answers and replies, accepted answers, smoothed acceptance, weighted
    /// likes and per reply, contributions per week, people answered, views.
    pub replies: u32,
    pub accepted: u32,
    pub acceptance: f64,
    pub weighted_likes: f64,
    pub likes_per_reply: f64,
    pub contributions_per_week: f64,
    pub people_answered: u32,
    pub views: u64,
}

#[derive(Serialize, ToSchema)]
pub struct ShortlistView {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub tag: Option<String>,
    pub group: Option<String>,
    /// When the figures were read from the statistics. The shortlist of the last 7, 30, 90
    /// (no `from`/`to`), 180 or 365 days (`to` tomorrow) comes from the topic's snapshot,
    /// recomputed in the background: at most `insights.shortlist_refresh_seconds` old (15
    /// minutes by default). Other periods are computed for the request (now).
    pub as_of: chrono::DateTime<Utc>,
    /// Share of the topic's answers accepted over the period (the prior for members with few
    /// answers).
    pub topic_acceptance_rate: f64,
    pub candidates: Vec<CandidateView>,
}

/// Why a candidate stands where they do, for people.
fn why(limiting: Limiting, replies: u32, accepted: u32) -> String {
    let french = crate::i18n::current_language() == cenacle_domain::Language::Fr;
    match (limiting, french) {
        (Limiting::Credibility, false) => format!(
            "Very active, little of it trusted: {accepted} of {replies} answers accepted, few likes per reply."
        ),
        (Limiting::Credibility, true) => format!(
            "Très actif, mais peu suivi : {accepted} réponses acceptées sur {replies}, peu de mentions j'aime par réponse."
        ),
        (Limiting::Bandwidth, false) => {
            "Trusted, but reaches few people: posts rarely, answers few.".to_owned()
        }
        (Limiting::Bandwidth, true) => {
            "Écouté, mais touche peu de monde : publie rarement, répond à peu de personnes."
                .to_owned()
        }
        (Limiting::Balanced, false) => "Trusted and present.".to_owned(),
        (Limiting::Balanced, true) => "Écouté et présent.".to_owned(),
    }
}

/// The champions shortlist of a topic: its most influential members over the period (Michael
/// Wu's credibility × bandwidth), each with the figures that put them there and what limits
/// them. The last 7, 30, 90 (the default period), 180 or 365 days' come from a snapshot of the
/// topic at most `insights.shortlist_refresh_seconds` old (`as_of`); other periods are
/// computed at once.
#[utoipa::path(get, path = "/api/v1/community/shortlist", tag = "community",
    security(("bearer" = [])), params(InsightsQuery),
    responses((status = 200, body = ShortlistView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "unknown tag, `to` not after `from`, or a period over 731 days", body = ErrorBody)))]
pub async fn shortlist(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiQuery(q): ApiQuery<InsightsQuery>,
) -> ApiResult<Json<ShortlistView>> {
    let limit = crate::pagination::PageQuery {
        limit: q.limit,
        cursor: None,
    }
    .limit()?;
    let mut conn = state.ctx.conn().await?;
    cenacle_core::admin::require(&session, cenacle_domain::Permission::ReadCommunityInsights)?;
    let (topic, period) = topic_and_period(&mut conn, &state, &q).await?;
    let max_age = Duration::from_std(state.ctx.settings.insights.shortlist_max_age())
        .unwrap_or(Duration::MAX);
    let found =
        insights::shortlist(&mut conn, &session, &topic, period, limit as usize, max_age).await?;
    let ids: Vec<i64> = found.entries.iter().map(|e| e.candidate.member).collect();
    let names = handles(&mut conn, &state, &ids).await?;
    Ok(Json(ShortlistView {
        from: period.from,
        to: period.to,
        tag: topic.tag,
        group: topic.group.map(|g| g.name),
        as_of: found.as_of,
        topic_acceptance_rate: found.norms.acceptance_rate,
        candidates: found
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let (handle, display_name) =
                    names.get(&e.candidate.member).cloned().unwrap_or_default();
                let f = &e.candidate.figures;
                CandidateView {
                    rank: i + 1,
                    handle,
                    display_name,
                    influence: f.influence,
                    credibility: f.credibility,
                    bandwidth: f.bandwidth,
                    limiting: e.candidate.limiting,
                    why: why(
                        e.candidate.limiting,
                        e.activity.replies,
                        e.activity.accepted,
                    ),
                    replies: e.activity.replies,
                    accepted: e.activity.accepted,
                    acceptance: f.acceptance,
                    weighted_likes: e.activity.weighted_likes,
                    likes_per_reply: f.likes_per_reply,
                    contributions_per_week: e.activity.contributions_per_week,
                    people_answered: e.activity.people_answered,
                    views: e.activity.views,
                }
            })
            .collect(),
    }))
}

/// `user@host` and display name of people.
async fn handles(
    conn: &mut Conn,
    state: &AppState,
    ids: &[i64],
) -> Result<HashMap<i64, (String, Option<String>)>, CoreError> {
    let host = cenacle_core::identity::local_host(&state.ctx.settings);
    Ok(people::authors(conn, ids)
        .await?
        .into_iter()
        .map(|(id, a)| {
            let handle = format!(
                "{}@{}",
                a.username,
                a.handle_host.as_deref().unwrap_or(&host)
            );
            (id, (handle, a.display_name))
        })
        .collect())
}

#[derive(Serialize, ToSchema)]
pub struct ContributionView {
    /// `post` or `comment`.
    pub kind: String,
    pub id: i64,
    /// Its thread.
    pub post_id: i64,
    pub created_at: chrono::DateTime<Utc>,
    /// Its mood, −1 to 1.
    pub sentiment: f32,
    /// The start of its text.
    pub excerpt: String,
}

#[derive(Serialize, ToSchema)]
pub struct AlertView {
    pub handle: String,
    pub display_name: Option<String>,
    pub influence: f64,
    /// Mean mood before the recent window, and within it.
    pub mood_before: f64,
    pub mood_recent: f64,
    pub recent_contributions: usize,
    /// The recent contributions that turned the mood, most negative first.
    pub causes: Vec<ContributionView>,
}

#[derive(Serialize, ToSchema)]
pub struct AlertsView {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The recent window starts on this day.
    pub recent_from: NaiveDate,
    pub alerts: Vec<AlertView>,
}

/// Negative leaders: influential members of the topic whose mood turned negative over the
/// recent window of the period, with the contributions that caused it.
#[utoipa::path(get, path = "/api/v1/community/alerts", tag = "community",
    security(("bearer" = [])), params(InsightsQuery),
    responses((status = 200, body = AlertsView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "unknown tag, `to` not after `from`, or a period over 731 days", body = ErrorBody)))]
pub async fn alerts(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiQuery(q): ApiQuery<InsightsQuery>,
) -> ApiResult<Json<AlertsView>> {
    let recent_days = q.recent_days.unwrap_or(30);
    if !(1..=366).contains(&recent_days) {
        return Err(ApiError::invalid_query("recent_days must be 1 to 366"));
    }
    let mut conn = state.ctx.conn().await?;
    cenacle_core::admin::require(&session, cenacle_domain::Permission::ReadCommunityInsights)?;
    let (topic, period) = topic_and_period(&mut conn, &state, &q).await?;
    let found =
        insights::negative_leaders(&mut conn, &session, &topic, period, recent_days).await?;
    let ids: Vec<i64> = found.iter().map(|a| a.person_id).collect();
    let names = handles(&mut conn, &state, &ids).await?;
    Ok(Json(AlertsView {
        from: period.from,
        to: period.to,
        recent_from: period
            .to
            .checked_sub_signed(Duration::days(i64::from(recent_days)))
            .unwrap_or(period.from),
        alerts: found
            .into_iter()
            .map(|a| {
                let (handle, display_name) = names.get(&a.person_id).cloned().unwrap_or_default();
                AlertView {
                    handle,
                    display_name,
                    influence: a.influence,
                    mood_before: a.shift.before,
                    mood_recent: a.shift.recent,
                    recent_contributions: a.shift.recent_count,
                    causes: a
                        .causes
                        .into_iter()
                        .map(|c| ContributionView {
                            kind: c.kind,
                            id: c.id,
                            post_id: c.post_id,
                            created_at: c.created_at,
                            sentiment: c.sentiment,
                            excerpt: c.excerpt,
                        })
                        .collect(),
                }
            })
            .collect(),
    }))
}
