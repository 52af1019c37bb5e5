//! Community insights for community managers (issue 12): a member's statistics over a period,
//! the champions shortlist of a topic, and the negative-leader alerts. Every figure is read
//! from rollups that the content's own statements keep (`cenacle_db::insights`); the rules
//! are `cenacle_domain::{influence, mood}` (docs/influence.md). The shortlist of the periods
//! managers keep asking for is kept per topic (`cenacle_db::shortlist_snapshots`), refreshed
//! in the background.

use crate::{access::Reader, caller::require, Conn, CoreError, ScopedFutureExt};
use cenacle_db::{
    actors::Group,
    insights::{self as store, MemberSums, PendingStats, ScoredContribution, StatsSums, TopicRows},
    shortlist_snapshots as snapshots,
};
use cenacle_domain::{
    influence::{self, Candidate, TopicActivity, TopicNorms},
    insights::{check_period, week_start},
    mood::{self, MoodShift, Scored},
    Permission, ValidationError,
};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use std::collections::HashMap;

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

/// A topic's shortlist, and when the rollups it was computed from were read.
#[derive(Debug, Clone, PartialEq)]
pub struct Shortlist {
    pub entries: Vec<ShortlistEntry>,
    pub norms: TopicNorms,
    pub as_of: DateTime<Utc>,
}

/// How many members a snapshot keeps: the most a request may ask for.
pub const SNAPSHOT_ENTRIES: usize = 100;
/// A snapshot is kept fresh while someone asked for it within this many days; after that it
/// is deleted (a request computes it again).
pub const SNAPSHOT_ASKED_WITHIN_DAYS: i32 = 30;
/// How often, at most, a request served from a snapshot writes that it was asked for (an
/// hour, against 30 days kept: a write per hour at most, whatever the requests).
const SNAPSHOT_TOUCH_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);
/// The lengths of the last N days a snapshot is kept for: the ones a manager's dashboard
/// offers (a week, a month, a quarter — the default —, half a year, a year). Each snapshot
/// kept is refreshed every few minutes while asked for: one per length a request may name
/// (up to two years' worth, per topic) would let anyone asking make the server refresh
/// hundreds per topic. Other lengths are computed for their request.
pub const SNAPSHOT_LENGTHS: [i32; 5] = [7, 30, 90, 180, 365];

/// The topic's members ranked by influence (at most `top`), the topic's acceptance rate, and
/// when the figures were read.
///
/// Summing every rollup row of a topic over its period and ranking every member who replied
/// there takes a third of a second at a million events: a period of the shape a community
/// manager keeps asking for — the last N days, today included, which is what the request
/// without `from`/`to` means — is answered from the topic's stored snapshot when that was
/// computed within `fresh_for` (the server recomputes the snapshots asked for lately in the
/// background, [`refresh_due_shortlist`]); otherwise it is computed here and stored. Other
/// periods are computed for the request.
///
/// Which days are "the last N" is the database's clock's to say ([`last_days`]), as for the
/// background pass: by this server's own clock, a few seconds off around midnight, a request
/// could store as today's a period the database's clock has already left (or not reached).
/// A request whose period is not the last N days by the database's clock — the API's default
/// period is from the server's clock — is computed for it and not stored.
///
/// Single-flight: when no fresh snapshot answers, the request takes the topic's advisory lock
/// ([`snapshots::hold_topic`]) in a transaction of its own (a savepoint of the caller's, if it
/// is in one) and looks again before computing,
/// so that of the requests arriving together for a topic whose snapshot is missing or stale
/// (a dashboard opened by several managers, the first ones after midnight) the first computes
/// and the others wait for it and read what it stored. A waiting request holds its pool
/// connection meanwhile: no more connections than if each computed (as each would, for as
/// long), but each waits at rest instead of adding a full computation to the database's load,
/// which would make every one of them slower. The background pass takes the same lock for
/// the topic it refreshes, so a request finding the snapshot stale while the pass refreshes
/// it waits for that refresh; the pass never waits for a request (it leaves the topic to
/// whoever holds it — a request computing it stores its answer, unless midnight passed or
/// its computation failed: then the snapshot stays stale until the next pass; see
/// `snapshots::claim_due`). The wait is bounded (`snapshots::TOPIC_WAIT`): past it the
/// answer is computed for the request and not stored — what the request would have done
/// without the single flight, rather than an error for a slow computation it did not start.
pub async fn shortlist(
    conn: &mut Conn,
    session: &crate::accounts::Session,
    topic: &Topic,
    period: Period,
    top: usize,
    fresh_for: Duration,
) -> Result<Shortlist, CoreError> {
    let rows = topic_rows(conn, session, topic, period).await?;
    // A snapshot keeps the most a request may ask for (`limit` ≤ 100); more is computed. Nor
    // is a period ending further than a day from tomorrow by this server's clock the last N
    // days by the database's (a few seconds off it, not days), whatever its length: computed
    // without reading the snapshot, which `last_days` would send to `live` anyway.
    let servers_tomorrow = Utc::now().date_naive() + Duration::days(1);
    let days = i32::try_from((period.to - period.from).num_days())
        .ok()
        .filter(|days| top <= SNAPSHOT_ENTRIES && SNAPSHOT_LENGTHS.contains(days))
        .filter(|_| (period.to - servers_tomorrow).num_days().abs() <= 1);
    let Some(days) = days else {
        return live(conn, &rows, period, top, Utc::now()).await;
    };
    let (now, stored) = snapshots::snapshot(conn, &rows, days).await?;
    if period != last_days(now, days) {
        return live(conn, &rows, period, top, now).await;
    }
    if let Some(found) = from_snapshot(conn, stored, period, top, now, fresh_for).await? {
        return Ok(found);
    }
    crate::in_savepoint(conn, move |conn| {
        async move {
            if !snapshots::hold_topic(conn, &rows, days).await? {
                // Its holder is still at it after the bounded wait: computed for this request,
                // not stored (the holder will store it).
                return live(conn, &rows, period, top, now).await;
            }
            // Whoever held it before has committed: what it stored is read here (each
            // statement reads what was committed before it started).
            let (now, stored) = snapshots::snapshot(conn, &rows, days).await?;
            if let Some(found) = from_snapshot(conn, stored, period, top, now, fresh_for).await? {
                return Ok(found);
            }
            // Midnight (the database's) passed since the first look: no longer the last N days.
            if period != last_days(now, days) {
                return live(conn, &rows, period, top, now).await;
            }
            // Read from the rollups now: the figures are as of this instant (or later).
            let mut computed = compute_snapshot(conn, &rows, period).await?;
            store_snapshot(conn, &rows, days, period, now, &computed, true).await?;
            computed.ranked.truncate(top);
            Ok(Shortlist {
                entries: computed
                    .ranked
                    .into_iter()
                    .map(|(entry, _)| entry)
                    .collect(),
                norms: computed.norms,
                as_of: now,
            })
        }
        .scope_boxed()
    })
    .await
}

/// A shortlist computed for its request from the rollups, and not stored, as of `as_of`: the
/// database's clock when the caller read it (the clock a snapshot's time is from, so that two
/// answers' times compare whichever way each was made), else this server's, read before the
/// rollups are.
async fn live(
    conn: &mut Conn,
    rows: &TopicRows,
    period: Period,
    top: usize,
    as_of: DateTime<Utc>,
) -> Result<Shortlist, CoreError> {
    let (entries, norms) = ranked(conn, rows, period, top).await?;
    Ok(Shortlist {
        entries,
        norms,
        as_of,
    })
}

/// The answer from a stored snapshot, when it is of `period`, computed within `fresh_for`
/// before `now` (the database's clock) and lists the `top` asked for.
async fn from_snapshot(
    conn: &mut Conn,
    stored: Option<snapshots::Snapshot>,
    period: Period,
    top: usize,
    now: DateTime<Utc>,
    fresh_for: Duration,
) -> Result<Option<Shortlist>, CoreError> {
    let fresh = stored.filter(|s| s.period_to == period.to && now - s.computed_at < fresh_for);
    let Some(snapshot) = fresh else {
        return Ok(None);
    };
    // People deleted since are left out (as a live answer would); if that leaves fewer than
    // asked of a list that was cut, the ones after it are unknown: computed by the caller.
    let members = &snapshot.members;
    if !snapshot.complete && members.len() < top {
        return Ok(None);
    }
    let touched_ago = (now - snapshot.last_asked_at).to_std().unwrap_or_default();
    if touched_ago >= SNAPSHOT_TOUCH_EVERY {
        snapshots::touch(conn, snapshot.id, SNAPSHOT_TOUCH_EVERY).await?;
    }
    let norms = TopicNorms {
        acceptance_rate: snapshot.acceptance_rate,
    };
    Ok(Some(Shortlist {
        entries: rank(members, &norms, period, top)
            .into_iter()
            .map(|(entry, _)| entry)
            .collect(),
        norms,
        as_of: snapshot.computed_at,
    }))
}

/// The last `days` days, today included, by the database's clock `now` (`to` is tomorrow,
/// days ending at midnight UTC): the one period a snapshot of that length keeps, for the
/// requests and the background pass alike — the one place that says what "today" is.
fn last_days(now: DateTime<Utc>, days: i32) -> Period {
    let to = now.date_naive() + Duration::days(1);
    Period {
        from: to - Duration::days(i64::from(days)),
        to,
    }
}

/// A topic's best members over a period, as a snapshot keeps them.
struct ComputedSnapshot {
    /// At most [`SNAPSHOT_ENTRIES`], best first, with their sums.
    ranked: Vec<(ShortlistEntry, MemberSums)>,
    norms: TopicNorms,
    /// Whether these are all the members with some influence.
    complete: bool,
}

/// Computes a topic's snapshot from its rollups: what a request for a period a snapshot keeps
/// does when none is fresh, and what the background refresh does, so that both show the same.
async fn compute_snapshot(
    conn: &mut Conn,
    rows: &TopicRows,
    period: Period,
) -> Result<ComputedSnapshot, CoreError> {
    let members = store::topic_members(conn, rows, period.from, period.to).await?;
    let norms = norms(&members);
    // One more than kept tells whether the list was cut.
    let mut ranked = rank(&members, &norms, period, SNAPSHOT_ENTRIES + 1);
    let complete = ranked.len() <= SNAPSHOT_ENTRIES;
    ranked.truncate(SNAPSHOT_ENTRIES);
    Ok(ComputedSnapshot {
        ranked,
        norms,
        complete,
    })
}

/// Stores a computed snapshot as of `computed_at` (the database's clock before the rollups
/// were read), `asked` for by a request or refreshed in the background (which keeps when it
/// was last asked for). Not written when another server is refreshing it (see
/// `snapshots::store`).
async fn store_snapshot(
    conn: &mut Conn,
    rows: &TopicRows,
    days: i32,
    period: Period,
    computed_at: DateTime<Utc>,
    computed: &ComputedSnapshot,
    asked: bool,
) -> Result<bool, CoreError> {
    let members: Vec<MemberSums> = computed.ranked.iter().map(|(_, sums)| *sums).collect();
    Ok(snapshots::store(
        conn,
        &snapshots::NewSnapshot {
            topic: rows,
            days,
            period_from: period.from,
            period_to: period.to,
            computed_at,
            acceptance_rate: computed.norms.acceptance_rate,
            complete: computed.complete,
            members: &members,
            asked,
        },
    )
    .await?)
}

/// A snapshot the background pass refreshed, or tried to.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshedShortlist {
    pub tag: String,
    pub group_id: Option<i64>,
    pub days: i32,
    pub outcome: Refresh,
}

/// What the background pass did with a snapshot due.
#[derive(Debug, Clone, PartialEq)]
pub enum Refresh {
    /// Computed and stored: how many members it keeps.
    Stored(usize),
    /// Why computing or storing it failed (the snapshot was kept as it was, and is taken again
    /// after the others: see `snapshots::claim_due`).
    Failed(String),
    /// Left to whoever holds its topic (a request computing it, which stores it; another
    /// server's pass), or stored meanwhile: not computed, nor taken again by this pass.
    Left,
}

/// Starts a background pass over the snapshots: its bounds, from the database's clock read
/// once (the clock `computed_at` is written with: a server's own clock ahead of it would make
/// the pass claim again what it has just refreshed). Due: computed `refresh_after` before, or
/// of yesterday's period.
pub async fn shortlist_pass(
    conn: &mut Conn,
    refresh_after: std::time::Duration,
) -> Result<snapshots::Pass, CoreError> {
    Ok(snapshots::Pass {
        started: snapshots::pass_started(conn).await?,
        refresh_after,
        asked_within_days: SNAPSHOT_ASKED_WITHIN_DAYS,
        skipped: Vec::new(),
    })
}

/// Refreshes one snapshot due by the pass's bounds that someone asked for within
/// [`SNAPSHOT_ASKED_WITHIN_DAYS`] (the oldest such), over its period as of today: None when
/// there is none left. Run it in a transaction of its own, one per topic: the snapshot and its
/// topic stay locked (skipped by other servers' passes, waited for by requests finding it
/// stale) until it commits. A pass keeping the same bounds ends: a refreshed snapshot is
/// computed after them, for a period as late, and one left is recorded in `pass`.
///
/// A topic held by another transaction — a request computing it, another server's pass — is
/// not waited for: it is [`Refresh::Left`] to whoever holds it, and the pass goes on with the
/// others (see `snapshots::claim_due`). So is one whose refresh was not written (a defence:
/// the pass holds its topic and row, so a write is always expected): left for this pass, whose
/// end then does not rest on every store being written. Nothing of it stays locked but, when it was
/// stored meanwhile, its topic until the caller's transaction ends: the caller ends it at once.
///
/// A topic whose computation fails (its data, a statement timeout) does not stop the pass:
/// what it did is undone (a savepoint), the failure recorded on its snapshot, which is taken
/// again only after the others and a refresh interval later, and the failure returned
/// ([`Refresh::Failed`]) for the caller to log; the caller goes on with the next. An error is
/// returned only when the claim or that record fails (the database itself).
pub async fn refresh_due_shortlist(
    conn: &mut Conn,
    pass: &mut snapshots::Pass,
) -> Result<Option<RefreshedShortlist>, CoreError> {
    let due = match snapshots::claim_due(conn, pass).await? {
        None => return Ok(None),
        Some(snapshots::Claim::Held(due)) => due,
        Some(snapshots::Claim::Left(due)) => {
            pass.skipped.push(due.id);
            return Ok(Some(RefreshedShortlist {
                tag: due.tag,
                group_id: due.group_id,
                days: due.days,
                outcome: Refresh::Left,
            }));
        }
    };
    let period = last_days(due.now, due.days);
    let rows = TopicRows {
        tag: due.tag,
        group_id: due.group_id,
    };
    let days = due.days;
    let topic = rows.clone();
    // The topic is held (taken by the claim): a request finding the snapshot stale meanwhile
    // waits for this refresh instead of computing it too.
    let refreshed = crate::in_savepoint(conn, move |conn| {
        async move {
            let computed = compute_snapshot(conn, &topic, period).await?;
            let written =
                store_snapshot(conn, &topic, days, period, due.now, &computed, false).await?;
            Ok(written.then_some(computed.ranked.len()))
        }
        .scope_boxed()
    })
    .await;
    if refreshed.is_err() {
        snapshots::refresh_failed(conn, due.id).await?;
    }
    Ok(Some(RefreshedShortlist {
        tag: rows.tag,
        group_id: rows.group_id,
        days,
        outcome: match refreshed {
            Ok(Some(entries)) => Refresh::Stored(entries),
            Ok(None) => {
                pass.skipped.push(due.id);
                Refresh::Left
            }
            Err(err) => Refresh::Failed(err.to_string()),
        },
    }))
}

/// Deletes the snapshots nobody asked for within [`SNAPSHOT_ASKED_WITHIN_DAYS`]: no longer
/// refreshed, they would never be fresh enough to serve. How many went.
pub async fn forget_unasked_shortlists(conn: &mut Conn) -> Result<usize, CoreError> {
    Ok(snapshots::forget_unasked(conn, SNAPSHOT_ASKED_WITHIN_DAYS).await?)
}

/// The topic's members who replied there, ranked (at most `top`), and its acceptance rate:
/// always from the rollups.
async fn ranked(
    conn: &mut Conn,
    rows: &TopicRows,
    period: Period,
    top: usize,
) -> Result<(Vec<ShortlistEntry>, TopicNorms), CoreError> {
    let members = store::topic_members(conn, rows, period.from, period.to).await?;
    let norms = norms(&members);
    let list = rank(&members, &norms, period, top)
        .into_iter()
        .map(|(entry, _)| entry)
        .collect();
    Ok((list, norms))
}

/// The topic's acceptance rate, from the sums of every member who replied there.
fn norms(members: &[MemberSums]) -> TopicNorms {
    let (replies, accepted) = members.iter().fold((0i64, 0i64), |(r, a), m| {
        (r + m.sums.replies, a + m.sums.accepted)
    });
    TopicNorms {
        acceptance_rate: if replies > 0 {
            accepted as f64 / replies as f64
        } else {
            0.0
        },
    }
}

/// Members ranked by influence (`cenacle_domain::influence`), best first, at most `top`, each
/// with their sums: what a live answer and a snapshot (when computed and at each read) run.
/// A member's figures depend on their own sums and the topic's norms only, so ranking the
/// snapshot's best members again keeps their order.
fn rank(
    members: &[MemberSums],
    norms: &TopicNorms,
    period: Period,
    top: usize,
) -> Vec<(ShortlistEntry, MemberSums)> {
    let activities: Vec<(i64, TopicActivity)> = members
        .iter()
        .map(|m| (m.person_id, activity(m, period)))
        .collect();
    let by_id: HashMap<i64, (&TopicActivity, &MemberSums)> = activities
        .iter()
        .zip(members)
        .map(|((id, a), m)| (*id, (a, m)))
        .collect();
    influence::shortlist(&activities, norms, top)
        .into_iter()
        .filter_map(|candidate| {
            let (activity, sums) = by_id.get(&candidate.member)?;
            Some((
                ShortlistEntry {
                    activity: **activity,
                    candidate,
                },
                **sums,
            ))
        })
        .collect()
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
