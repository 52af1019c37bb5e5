//! Community insights for community managers (issue 12): a member's statistics over a period,
//! the champions shortlist of a topic, and the negative-leader alerts. Every figure is read
//! from rollups that the content's own statements keep (`cenacle_db::insights`); the rules
//! are `cenacle_domain::{influence, mood}` (docs/influence.md).

use crate::{access::Reader, caller::require, Conn, CoreError};
use cenacle_db::{
    actors::Group,
    insights::{self as store, MemberSums, PendingStats, ScoredContribution, StatsSums, TopicRows},
};
use cenacle_domain::{
    influence::{self, Candidate, TopicActivity, TopicNorms},
    insights::{check_period, week_start},
    mood::{self, MoodShift, Scored},
    Permission, ValidationError,
};
use chrono::{Datelike, NaiveDate};

/// What a report is about: a tag (in one group or all), a group, or the whole instance.
#[derive(Debug, Clone, Default)]
pub struct Topic {
    pub tag: Option<String>,
    pub group: Option<Group>,
}

/// The days [from, to) of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    fn weeks(self) -> f64 {
        (self.to - self.from).num_days() as f64 / 7.0
    }
}

/// Checks who asks (community managers and admins), the period and the topic; the rows the
/// topic covers.
async fn topic_rows(
    conn: &mut Conn,
    session: &crate::accounts::Session,
    topic: &Topic,
    period: Period,
) -> Result<TopicRows, CoreError> {
    require(session, Permission::ReadCommunityInsights)?;
    // A named group's figures are for whoever may read its content (404 otherwise, as
    // anywhere); instance-wide figures leave private groups out (`cenacle_db::insights`).
    if let Some(group) = &topic.group {
        let caller = crate::Caller::from(session);
        crate::access::require_readable(conn, group, Reader::Person(&caller), "group").await?;
    }
    check_period(period.from, period.to).map_err(|e| ValidationError {
        field: "to",
        code: e.code(),
    })?;
    let tag = match &topic.tag {
        Some(tag) => {
            // As posts store them ("#Printers" is "printers").
            let tag = crate::posts::normalise_tags(vec![tag.clone()])
                .pop()
                .unwrap_or_default();
            let group_id = topic.group.as_ref().map(|g| g.id);
            if tag.is_empty() || !store::tag_known(conn, &tag, group_id).await? {
                return Err(ValidationError {
                    field: "tag",
                    code: "unknown_tag",
                }
                .into());
            }
            tag
        }
        None => String::new(),
    };
    Ok(TopicRows {
        tag,
        group_id: topic.group.as_ref().map(|g| g.id),
    })
}

/// One week of a member's activity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeekActivity {
    /// Its Monday.
    pub week: NaiveDate,
    /// Threads, ideas and replies.
    pub contributions: i64,
    pub accepted: i64,
}

/// A member's statistics in a topic over a period.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberStats {
    pub totals: StatsSums,
    /// Distinct people whose questions they answered.
    pub people_helped: i64,
    /// Their accepted answers over all the answers accepted in the topic (None when none was).
    pub accepted_share: Option<f64>,
    /// Mean seconds the questions they answered first had waited (None: none).
    pub mean_first_reply_secs: Option<f64>,
    /// Every week of the period, oldest first, zero when idle.
    pub trend: Vec<WeekActivity>,
}

/// A member's statistics over a period, per group and/or tag.
pub async fn member_stats(
    conn: &mut Conn,
    session: &crate::accounts::Session,
    person_id: i64,
    topic: &Topic,
    period: Period,
) -> Result<MemberStats, CoreError> {
    let rows = topic_rows(conn, session, topic, period).await?;
    let (weeks, people_helped) =
        store::member_weeks(conn, person_id, &rows, period.from, period.to).await?;
    let topic_accepted = store::topic_accepted(conn, &rows, period.from, period.to).await?;
    let mut totals = StatsSums::default();
    for w in &weeks {
        add(&mut totals, &w.sums);
    }
    let mut trend = Vec::new();
    let mut week = week_start(period.from);
    while week < period.to {
        let found = weeks.iter().find(|w| w.week == week).map(|w| w.sums);
        let sums = found.unwrap_or_default();
        trend.push(WeekActivity {
            week,
            contributions: sums.threads + sums.ideas + sums.replies,
            accepted: sums.accepted,
        });
        week += chrono::Duration::days(7);
    }
    Ok(MemberStats {
        accepted_share: (topic_accepted > 0)
            .then(|| totals.accepted as f64 / topic_accepted as f64),
        mean_first_reply_secs: (totals.first_replies > 0)
            .then(|| totals.first_reply_secs as f64 / totals.first_replies as f64),
        people_helped,
        totals,
        trend,
    })
}

fn add(into: &mut StatsSums, more: &StatsSums) {
    into.threads += more.threads;
    into.ideas += more.ideas;
    into.replies += more.replies;
    into.accepted += more.accepted;
    into.likes += more.likes;
    into.views += more.views;
    into.first_replies += more.first_replies;
    into.first_reply_secs += more.first_reply_secs;
}

/// A candidate of the shortlist with the figures that put them there.
#[derive(Debug, Clone, PartialEq)]
pub struct ShortlistEntry {
    pub candidate: Candidate<i64>,
    pub activity: TopicActivity,
}

/// The topic's members ranked by influence (at most `top`), and the topic's acceptance rate.
pub async fn shortlist(
    conn: &mut Conn,
    session: &crate::accounts::Session,
    topic: &Topic,
    period: Period,
    top: usize,
) -> Result<(Vec<ShortlistEntry>, TopicNorms), CoreError> {
    let rows = topic_rows(conn, session, topic, period).await?;
    ranked(conn, &rows, period, top).await
}

async fn ranked(
    conn: &mut Conn,
    rows: &TopicRows,
    period: Period,
    top: usize,
) -> Result<(Vec<ShortlistEntry>, TopicNorms), CoreError> {
    let members = store::topic_members(conn, rows, period.from, period.to).await?;
    let (replies, accepted) = members.iter().fold((0i64, 0i64), |(r, a), m| {
        (r + m.sums.replies, a + m.sums.accepted)
    });
    let norms = TopicNorms {
        acceptance_rate: if replies > 0 {
            accepted as f64 / replies as f64
        } else {
            0.0
        },
    };
    let activities: Vec<(i64, TopicActivity)> = members
        .iter()
        .map(|m| (m.person_id, activity(m, period)))
        .collect();
    let list = influence::shortlist(&activities, &norms, top)
        .into_iter()
        .map(|candidate| ShortlistEntry {
            activity: activities
                .iter()
                .find(|(id, _)| *id == candidate.member)
                .map(|(_, a)| *a)
                .unwrap_or_default(),
            candidate,
        })
        .collect();
    Ok((list, norms))
}

/// A member's rollups as the influence rules read them. Endorsements are not recorded yet
/// (they come with the champions programme): 0.
fn activity(m: &MemberSums, period: Period) -> TopicActivity {
    let s = &m.sums;
    TopicActivity {
        replies: s.replies.max(0) as u32,
        accepted: s.accepted.max(0) as u32,
        weighted_likes: s.likes,
        endorsements: 0,
        contributions_per_week: (s.threads + s.ideas + s.replies).max(0) as f64 / period.weeks(),
        people_answered: m.helped.max(0) as u32,
        views: s.views.max(0) as u64,
    }
}

/// How many of a topic's most influential members are watched for a negative turn.
pub const WATCHED_CANDIDATES: usize = 50;
/// How many contributions an alert names.
pub const ALERT_CAUSES: usize = 5;

/// An influential member whose mood turned negative, with the contributions that did it.
#[derive(Debug, Clone, PartialEq)]
pub struct NegativeLeader {
    pub person_id: i64,
    pub influence: f64,
    pub shift: MoodShift,
    pub causes: Vec<ScoredContribution>,
}

/// The negative leaders of a topic: among its most influential members over the period, those
/// whose mood over the last `recent_days` of it fell (cenacle_domain::mood).
pub async fn negative_leaders(
    conn: &mut Conn,
    session: &crate::accounts::Session,
    topic: &Topic,
    period: Period,
    recent_days: u32,
) -> Result<Vec<NegativeLeader>, CoreError> {
    let rows = topic_rows(conn, session, topic, period).await?;
    let (list, _) = ranked(conn, &rows, period, WATCHED_CANDIDATES).await?;
    let watched: Vec<(i64, f64)> = list
        .iter()
        .filter(|e| e.candidate.figures.influence >= mood::WATCHED_INFLUENCE)
        .map(|e| (e.candidate.member, e.candidate.figures.influence))
        .collect();
    if watched.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = watched.iter().map(|(id, _)| *id).collect();
    let contributions =
        store::scored_contributions(conn, &ids, &rows, period.from, period.to).await?;
    let since = day_number(
        period
            .to
            .checked_sub_days(chrono::Days::new(u64::from(recent_days.max(1))))
            .unwrap_or(period.from),
    );
    let mut alerts = Vec::new();
    for (person_id, influence) in watched {
        let mine: Vec<&ScoredContribution> = contributions
            .iter()
            .filter(|c| c.author_id == person_id)
            .collect();
        let scored: Vec<Scored<usize>> = mine
            .iter()
            .enumerate()
            .map(|(i, c)| Scored {
                contribution: i,
                day: day_number(c.created_at.date_naive()),
                score: f64::from(c.sentiment),
            })
            .collect();
        let Some(shift) = mood::mood_shift(&scored, since) else {
            continue;
        };
        if mood::is_negative_leader(influence, &shift) {
            alerts.push(NegativeLeader {
                person_id,
                influence,
                shift,
                causes: mood::causes(&scored, since, ALERT_CAUSES)
                    .into_iter()
                    .map(|i| mine[i].clone())
                    .collect(),
            });
        }
    }
    Ok(alerts)
}

/// Days since 1970-01-01, as the mood rules count them.
fn day_number(day: NaiveDate) -> i64 {
    i64::from(day.num_days_from_ce()) - 719_163
}

/// Folds up to `batch` of the statistics changes that actions appended (one row each, shared
/// with no other transaction, so that likes and views of one author never queue on a common
/// row) into the day rows; how many it took. Readers see folded and unfolded changes alike, so
/// how often this runs changes no figure, only how many rows the readers add up.
pub async fn fold_statistics(conn: &mut Conn, batch: i32) -> Result<i64, CoreError> {
    Ok(store::fold_pending_stats(conn, batch).await?)
}

/// How many statistics changes wait for [`fold_statistics`], and the age of the oldest: what
/// tells an operator that the fold stopped or falls behind (readers still see exact figures,
/// only slower).
pub async fn pending_statistics(conn: &mut Conn) -> Result<PendingStats, CoreError> {
    Ok(store::pending_stats(conn).await?)
}
