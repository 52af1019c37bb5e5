//! Contests: time-boxed leaderboards over chosen groups and causes; closing freezes the
//! winners and pays their prizes and badge.

use crate::{
    access::require_readable,
    accounts::Session,
    caller::require,
    notifications::{notify, Notice},
    rewards, Caller, Conn, CoreError,
};
use cenacle_db::{
    actors, badges,
    engagement::{self as ledger, Contest, LeaderboardRow},
};
use cenacle_domain::{
    engagement::ReputationCause, notifications::Kind, Permission, ValidationError,
};
use chrono::{DateTime, Utc};

/// A community manager opens a contest over a period, some local groups by name (none: all)
/// and some reputation causes (none: all).
pub async fn create_contest(
    conn: &mut Conn,
    session: &Session,
    title: &str,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    groups: &[String],
    causes: &[String],
) -> Result<Contest, CoreError> {
    require(session, Permission::ManageGroups)?;
    if title.trim().is_empty() {
        return Err(ValidationError {
            field: "title",
            code: "empty",
        }
        .into());
    }
    if ends_at <= starts_at {
        return Err(ValidationError {
            field: "ends_at",
            code: "before_start",
        }
        .into());
    }
    let known: Vec<&str> = ReputationCause::ALL.iter().map(|c| c.as_str()).collect();
    if causes.iter().any(|c| !known.contains(&c.as_str())) {
        return Err(ValidationError {
            field: "causes",
            code: "unknown_cause",
        }
        .into());
    }
    let mut group_ids = Vec::new();
    for name in groups {
        let group = actors::local_group_by_name(conn, name)
            .await?
            .ok_or(CoreError::NotFound("group"))?;
        group_ids.push(group.id);
    }
    Ok(ledger::insert_contest(
        conn,
        title.trim(),
        starts_at,
        ends_at,
        &group_ids,
        causes,
        session.account.person_id,
    )
    .await?)
}

/// Closes a contest: its current top is frozen as the winners; `prizes[i]` points go to the
/// people ranked i + 1 who are our members (ties share a rank and its prize), and the badge
/// `badge_slug` to every winner, wherever they are.
pub async fn close_contest(
    conn: &mut Conn,
    session: &Session,
    id: i64,
    prizes: &[i64],
    badge_slug: Option<&str>,
) -> Result<Vec<LeaderboardRow>, CoreError> {
    require(session, Permission::ManageGroups)?;
    if prizes.iter().any(|p| *p < 0) || prizes.len() > 100 {
        return Err(ValidationError {
            field: "prizes",
            code: "invalid",
        }
        .into());
    }
    let by = session.account.person_id;
    let contest = ledger::contest_for_update(conn, id)
        .await?
        .ok_or(CoreError::NotFound("contest"))?;
    if contest.closed_at.is_some() {
        return Err(CoreError::Conflict("contest_closed"));
    }
    if let Some(slug) = badge_slug {
        crate::badges::require_manual(slug)?;
    }
    let badge = match badge_slug {
        Some(slug) => Some(
            badges::badge_by_slug(conn, slug)
                .await?
                .ok_or(CoreError::NotFound("badge"))?,
        ),
        None => None,
    };
    let board = ledger::contest_board(conn, &contest, 1000).await?;
    let winners: Vec<_> = board
        .into_iter()
        .filter(|r| (r.rank as usize) <= prizes.len().max(1))
        .collect();
    // Only our own members hold points: a winner from another instance keeps their rank
    // on the frozen board and the badge, with no prize paid (recorded as 0).
    let mut people = Vec::with_capacity(winners.len());
    for row in &winners {
        let local = actors::person_by_id(conn, row.person_id)
            .await?
            .is_some_and(|p| p.local);
        people.push((row.person_id, local));
    }
    // Locked up front in person order (see `rewards::lock_people`), not in rank order.
    rewards::lock_people(conn, &people).await?;
    for (row, &(_, local)) in winners.iter().zip(&people) {
        let prize = match prizes.get(row.rank as usize - 1) {
            Some(prize) if local => *prize,
            _ => 0,
        };
        ledger::freeze_winner(conn, contest.id, row, prize).await?;
        if prize > 0 {
            ledger::record_points(
                conn,
                row.person_id,
                prize,
                "contest_prize",
                &format!("contest:{}:{}", contest.id, row.person_id),
                Some(by),
            )
            .await?;
        }
        let place = row.rank.to_string();
        // Told by the instance: a manager who places in the contest they close hears too.
        let mut notice = Notice::new(Kind::ContestResult, row.person_id, None).detail(&place);
        notice.contest_id = Some(contest.id);
        notify(conn, notice).await?;
        if let Some(badge) = &badge {
            crate::notifications::award_badge(
                conn,
                badge.id,
                row.person_id,
                Some(by),
                Some(&contest.title),
            )
            .await?;
        }
    }
    ledger::close_contest(conn, contest.id).await?;
    Ok(winners)
}

/// A contest with its board: live while open, the frozen winners once closed. A contest over
/// a private group is that group's content: 404 to whoever may not read every group it covers.
pub async fn contest(
    conn: &mut Conn,
    caller: Option<&Caller>,
    id: i64,
) -> Result<(Contest, Vec<LeaderboardRow>), CoreError> {
    let contest = ledger::contest(conn, id)
        .await?
        .ok_or(CoreError::NotFound("contest"))?;
    for &group_id in &contest.group_ids {
        if let Some(group) = actors::group_by_id(conn, group_id).await? {
            require_readable(conn, &group, caller.into(), "contest").await?;
        }
    }
    let board = if contest.closed_at.is_some() {
        ledger::contest_winners(conn, id).await?
    } else {
        ledger::contest_board(conn, &contest, 100).await?
    };
    Ok((contest, board))
}

/// The latest contests the caller may read (one over a private group only for its members),
/// unclosed ones first.
pub async fn recent_contests(
    conn: &mut Conn,
    caller: Option<&Caller>,
    limit: i64,
) -> Result<Vec<Contest>, CoreError> {
    let viewer = caller.map_or(-1, |c| c.person_id);
    Ok(ledger::recent_contests(conn, viewer, limit).await?)
}
