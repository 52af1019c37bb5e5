//! Reputation and points earned by contributions. Called by the content use cases inside their
//! transactions, so an effect is recorded if and only if its cause is.

use crate::{content::Caller, Context, CoreError};
use cenacle_db::{
    actors,
    content::{self as store, VoteTarget},
    engagement as ledger,
};
use cenacle_domain::{
    engagement::{reputation_delta, ReputationCause},
    Role,
};
use chrono::{Duration, Utc};
use diesel_async::AsyncPgConnection;

/// Whoever has one of these instance roles is exempt from reputation gates.
fn exempt(caller: &Caller) -> bool {
    matches!(
        caller.instance_role,
        Some(Role::Admin | Role::CommunityManager | Role::Moderator)
    )
}

/// Refuses a local member whose reputation is under `threshold`. Remote people are not gated
/// here: their votes are weighted per instance instead.
pub async fn require_reputation(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    threshold: i64,
) -> Result<(), CoreError> {
    if caller.instance_role.is_none() || exempt(caller) {
        return Ok(());
    }
    if ledger::reputation_of(conn, caller.person_id).await? < threshold {
        return Err(CoreError::InsufficientReputation(threshold));
    }
    Ok(())
}

fn start_of_today() -> chrono::DateTime<Utc> {
    let now = Utc::now();
    now - Duration::seconds(i64::from(chrono::Timelike::num_seconds_from_midnight(&now)))
}

/// Applies a reputation cause to `person` (weighted, capped, floored) under `key`.
async fn earn(
    conn: &mut AsyncPgConnection,
    ctx: &Context,
    person: i64,
    cause: ReputationCause,
    key: &str,
    group_id: i64,
    instance_weight: f64,
) -> Result<(), CoreError> {
    let weights = &ctx.settings.engagement.reputation;
    let current = ledger::reputation_for_update(conn, person).await?;
    let earned_today = if cause.is_capped() {
        ledger::capped_since(conn, person, start_of_today()).await?
    } else {
        0
    };
    let delta = reputation_delta(weights, cause, instance_weight, current, earned_today);
    ledger::record_reputation(
        conn,
        person,
        delta,
        cause.as_str(),
        key,
        Some(group_id),
        cause.is_capped(),
    )
    .await?;
    Ok(())
}

/// Points for a local person, once per key.
async fn pay(
    conn: &mut AsyncPgConnection,
    person: i64,
    amount: i64,
    reason: &str,
    key: &str,
) -> Result<(), CoreError> {
    if amount == 0 {
        return Ok(());
    }
    let is_local = actors::person_by_id(conn, person)
        .await?
        .is_some_and(|p| p.local);
    if is_local {
        ledger::record_points(conn, person, amount, reason, key, None).await?;
    }
    Ok(())
}

/// How much a voter's votes count: 1 for local people, the instance's weight for remote ones.
async fn voter_weight(conn: &mut AsyncPgConnection, voter: i64) -> Result<f64, CoreError> {
    let person = actors::person_by_id(conn, voter)
        .await?
        .ok_or(CoreError::NotFound("person"))?;
    Ok(match (person.local, person.instance_host) {
        (false, Some(host)) => ledger::instance_weight(conn, &host).await?,
        _ => 1.0,
    })
}

/// What a vote on `target` is worth, to whom, in which group.
async fn vote_subject(
    conn: &mut AsyncPgConnection,
    target: VoteTarget,
) -> Result<(i64, ReputationCause, bool, i64, String), CoreError> {
    // (author, cause of a like, is an answer, group, key part)
    match target {
        VoteTarget::Post(id) => {
            let post = store::post_by_id(conn, id)
                .await?
                .ok_or(CoreError::NotFound("post"))?;
            let cause = match post.kind.as_str() {
                "question" => ReputationCause::QuestionLiked,
                "idea" => ReputationCause::IdeaLiked,
                _ => ReputationCause::OtherLiked,
            };
            Ok((
                post.author_id,
                cause,
                false,
                post.group_id,
                format!("post:{id}"),
            ))
        }
        VoteTarget::Comment(id) => {
            let comment = store::comment_by_id(conn, id)
                .await?
                .ok_or(CoreError::NotFound("comment"))?;
            let post = store::post_by_id(conn, comment.post_id)
                .await?
                .ok_or(CoreError::NotFound("post"))?;
            let answer = comment.parent_id.is_none() && post.kind == "question";
            let cause = if answer {
                ReputationCause::AnswerLiked
            } else {
                ReputationCause::OtherLiked
            };
            Ok((
                comment.author_id,
                cause,
                answer,
                post.group_id,
                format!("comment:{id}"),
            ))
        }
    }
}

/// Effects of a vote going from `before` to `after` (1 like, -1 dislike, None none).
pub async fn on_vote(
    conn: &mut AsyncPgConnection,
    ctx: &Context,
    voter: i64,
    target: VoteTarget,
    before: Option<i16>,
    after: Option<i16>,
) -> Result<(), CoreError> {
    if before == after {
        return Ok(());
    }
    let (author, like_cause, is_answer, group_id, subject) = vote_subject(conn, target).await?;
    if author == voter {
        // One's own votes earn nothing.
        return Ok(());
    }
    let like_key = format!("like:{subject}:by:{voter}");
    let dislike_key = format!("dislike:{subject}:by:{voter}");
    let dislike_cost_key = format!("dislike-cost:{subject}:by:{voter}");
    if before == Some(1) {
        ledger::reverse_reputation(conn, &like_key).await?;
    }
    if before == Some(-1) {
        ledger::reverse_reputation(conn, &dislike_key).await?;
        ledger::reverse_reputation(conn, &dislike_cost_key).await?;
    }
    let weight = voter_weight(conn, voter).await?;
    match after {
        Some(1) => {
            earn(conn, ctx, author, like_cause, &like_key, group_id, weight).await?;
            let rules = &ctx.settings.engagement.points;
            pay(
                conn,
                voter,
                rules.like_given,
                "like_given",
                &format!("points:{like_key}"),
            )
            .await?;
            pay(
                conn,
                author,
                rules.like_received,
                "like_received",
                &format!("points:received:{like_key}"),
            )
            .await?;
            evaluate_badges(conn, author, BadgeTrigger::LikeReceived).await?;
        }
        Some(-1) => {
            earn(
                conn,
                ctx,
                author,
                ReputationCause::PostDisliked,
                &dislike_key,
                group_id,
                weight,
            )
            .await?;
            if is_answer {
                earn(
                    conn,
                    ctx,
                    voter,
                    ReputationCause::DislikedAnAnswer,
                    &dislike_cost_key,
                    group_id,
                    1.0,
                )
                .await?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Effects of a question's accepted answer changing from `before` to `after`.
pub async fn on_accept(
    conn: &mut AsyncPgConnection,
    ctx: &Context,
    acceptor: i64,
    group_id: i64,
    before: Option<i64>,
    after: Option<i64>,
) -> Result<(), CoreError> {
    if before == after {
        return Ok(());
    }
    if let Some(old) = before {
        ledger::reverse_reputation(conn, &format!("accepted:comment:{old}")).await?;
        ledger::reverse_reputation(conn, &format!("acceptor:comment:{old}")).await?;
    }
    if let Some(new) = after {
        let answer = store::comment_by_id(conn, new)
            .await?
            .ok_or(CoreError::NotFound("answer"))?;
        let key = format!("accepted:comment:{new}");
        earn(
            conn,
            ctx,
            answer.author_id,
            ReputationCause::AnswerAccepted,
            &key,
            group_id,
            1.0,
        )
        .await?;
        if acceptor != answer.author_id {
            earn(
                conn,
                ctx,
                acceptor,
                ReputationCause::AcceptedAnAnswer,
                &format!("acceptor:comment:{new}"),
                group_id,
                1.0,
            )
            .await?;
        }
        // Points for an accepted answer are paid once, whatever happens to the acceptance.
        let amount = ctx.settings.engagement.points.accepted_answer;
        pay(
            conn,
            answer.author_id,
            amount,
            "accepted_answer",
            &format!("points:{key}"),
        )
        .await?;
        evaluate_badges(conn, answer.author_id, BadgeTrigger::AnswerAccepted).await?;
    }
    Ok(())
}

pub async fn on_post(
    conn: &mut AsyncPgConnection,
    ctx: &Context,
    author: i64,
    post_id: i64,
) -> Result<(), CoreError> {
    pay(
        conn,
        author,
        ctx.settings.engagement.points.new_post,
        "new_post",
        &format!("points:post:{post_id}"),
    )
    .await?;
    evaluate_badges(conn, author, BadgeTrigger::Posted).await
}

pub async fn on_reply(
    conn: &mut AsyncPgConnection,
    ctx: &Context,
    author: i64,
    comment_id: i64,
) -> Result<(), CoreError> {
    pay(
        conn,
        author,
        ctx.settings.engagement.points.reply,
        "reply",
        &format!("points:reply:{comment_id}"),
    )
    .await
}

/// An admin's grant or correction of points, with its reason. A correction can never take the
/// balance below zero (the balance's CHECK refuses it).
pub async fn grant_points(
    ctx: &Context,
    admin: &crate::accounts::Session,
    person_id: i64,
    delta: i64,
    reason: &str,
) -> Result<i64, CoreError> {
    crate::admin::require(admin, cenacle_domain::Permission::ManageGroups)?;
    if reason.trim().is_empty() {
        return Err(cenacle_domain::ValidationError {
            field: "reason",
            code: "empty",
        }
        .into());
    }
    let mut conn = ctx.conn().await?;
    let key = format!("grant:{}:{}", admin.account.person_id, uuid_like());
    // A correction below zero is refused by the balance's CHECK; the API maps that
    // constraint to 409 `balance_would_be_negative` (error.rs, `from_database_error`).
    diesel_async::AsyncConnection::transaction::<_, CoreError, _>(&mut conn, async |conn| {
        ledger::record_points(
            conn,
            person_id,
            delta,
            &format!("grant: {}", reason.trim()),
            &key,
            Some(admin.account.person_id),
        )
        .await?;
        Ok(ledger::points_balance_of(conn, person_id).await?)
    })
    .await
}

fn uuid_like() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The day's visit point, paid once per person and day (UTC). Each process remembers whom it
/// already paid today, so a visit costs one write a day, not one per request.
pub async fn record_visit(
    conn: &mut AsyncPgConnection,
    ctx: &Context,
    person: i64,
) -> Result<(), CoreError> {
    let today = Utc::now().date_naive();
    {
        let mut paid = ctx.visits.lock().unwrap_or_else(|e| e.into_inner());
        if paid.get(&person) == Some(&today) {
            return Ok(());
        }
        if paid.len() > 100_000 {
            paid.retain(|_, day| *day == today);
        }
        paid.insert(person, today);
    }
    let amount = ctx.settings.engagement.points.daily_visit;
    pay(
        conn,
        person,
        amount,
        "daily_visit",
        &format!("points:visit:{person}:{today}"),
    )
    .await?;
    evaluate_badges(conn, person, BadgeTrigger::Visited).await
}

// ---- bounties ----

/// Bounds of a bounty, in points.
pub const BOUNTY_MIN: i64 = 10;
pub const BOUNTY_MAX: i64 = 5_000;
/// How long a bounty runs when its sponsor does not say.
pub const BOUNTY_DAYS: i64 = 7;

/// Offers points on a question: a member with enough reputation, or a community manager. The
/// amount leaves the sponsor's balance at once (escrow: the balance cannot go negative, so an
/// offer beyond it is refused) and goes to the answer the sponsor awards, or is settled at the
/// end by the half-to-the-best-answer rule (see [`settle_expired_bounties`]).
pub async fn offer_bounty(
    ctx: &Context,
    caller: &Caller,
    post_id: i64,
    amount: i64,
    days: Option<i64>,
) -> Result<ledger::Bounty, CoreError> {
    if !(BOUNTY_MIN..=BOUNTY_MAX).contains(&amount) {
        return Err(cenacle_domain::ValidationError {
            field: "amount",
            code: "out_of_range",
        }
        .into());
    }
    let days = days.unwrap_or(BOUNTY_DAYS);
    if !(1..=30).contains(&days) {
        return Err(cenacle_domain::ValidationError {
            field: "days",
            code: "out_of_range",
        }
        .into());
    }
    let detail = crate::content::get_post(ctx, Some(caller), post_id).await?;
    if detail.post.kind != "question" || detail.post.accepted_comment_id.is_some() {
        return Err(cenacle_domain::ValidationError {
            field: "post",
            code: "not_an_open_question",
        }
        .into());
    }
    let mut conn = ctx.conn().await?;
    require_reputation(
        &mut conn,
        caller,
        ctx.settings.engagement.privileges.offer_bounty,
    )
    .await?;
    // Two offers racing past the check below meet the partial unique index and an amount above
    // the balance meets its CHECK; the API maps both constraints to 409s (`from_database_error`).
    diesel_async::AsyncConnection::transaction::<_, CoreError, _>(&mut conn, async |conn| {
        if ledger::open_bounty_for_update(conn, post_id)
            .await?
            .is_some()
        {
            return Err(CoreError::Conflict("bounty_running"));
        }
        let bounty = ledger::insert_bounty(
            conn,
            post_id,
            caller.person_id,
            amount,
            Utc::now() + Duration::days(days),
        )
        .await?;
        ledger::record_points(
            conn,
            caller.person_id,
            -amount,
            "bounty_offered",
            &format!("bounty:{}:escrow", bounty.id),
            None,
        )
        .await?;
        Ok(bounty)
    })
    .await
}

/// The sponsor awards the escrowed amount to an answer (not their own) before the end.
pub async fn award_bounty(
    ctx: &Context,
    caller: &Caller,
    post_id: i64,
    comment_id: i64,
) -> Result<ledger::Bounty, CoreError> {
    let mut conn = ctx.conn().await?;
    diesel_async::AsyncConnection::transaction::<_, CoreError, _>(&mut conn, async |conn| {
        let bounty = ledger::open_bounty_for_update(conn, post_id)
            .await?
            .ok_or(CoreError::NotFound("bounty"))?;
        if bounty.sponsor_id != caller.person_id {
            return Err(CoreError::NotAllowed("award_bounty"));
        }
        let answer = store::comment_by_id(conn, comment_id)
            .await?
            .filter(|c| c.post_id == post_id && c.parent_id.is_none() && c.deleted_at.is_none())
            .ok_or(CoreError::NotFound("answer"))?;
        if answer.author_id == caller.person_id {
            return Err(CoreError::NotAllowed("award_own_answer"));
        }
        ledger::record_points(
            conn,
            answer.author_id,
            bounty.amount,
            "bounty_awarded",
            &format!("bounty:{}:award", bounty.id),
            None,
        )
        .await?;
        Ok(
            ledger::close_bounty(conn, bounty.id, "awarded", Some(answer.id), bounty.amount)
                .await?,
        )
    })
    .await
}

/// Settles bounties whose time ran out without an award — the half-to-the-best-answer rule:
/// half the amount (rounded down) goes to the best-scored answer posted after the bounty began,
/// if its score is at least 1; the rest of the escrow is not returned (the offer was spent, as
/// on Stack Overflow, so that bounties are not free to post and let lapse). Returns how many
/// were settled. Safe to run from several servers at once.
pub async fn settle_expired_bounties(ctx: &Context) -> Result<usize, CoreError> {
    let mut conn = ctx.conn().await?;
    diesel_async::AsyncConnection::transaction::<_, CoreError, _>(&mut conn, async |conn| {
        let expired = ledger::expired_bounties(conn, 100).await?;
        for bounty in &expired {
            let best = ledger::best_answer_since(conn, bounty.post_id, bounty.created_at).await?;
            match best {
                Some((comment_id, author, score)) if score >= 1 && author != bounty.sponsor_id => {
                    let half = bounty.amount / 2;
                    ledger::record_points(
                        conn,
                        author,
                        half,
                        "bounty_half_awarded",
                        &format!("bounty:{}:award", bounty.id),
                        None,
                    )
                    .await?;
                    ledger::close_bounty(conn, bounty.id, "expired", Some(comment_id), half)
                        .await?;
                }
                _ => {
                    ledger::close_bounty(conn, bounty.id, "expired", None, 0).await?;
                }
            }
        }
        Ok(expired.len())
    })
    .await
}

pub async fn bounty_of(ctx: &Context, post_id: i64) -> Result<Option<ledger::Bounty>, CoreError> {
    let mut conn = ctx.conn().await?;
    Ok(ledger::latest_bounty(&mut conn, post_id).await?)
}

// ---- badges ----

/// What just happened to a person, so that only the badge rules it can change are checked: a
/// like received must not recount their visits or their questions (votes are the busiest path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadgeTrigger {
    Posted,
    AnswerAccepted,
    LikeReceived,
    Visited,
    IdeaDone,
}

/// Awards the automatic badges whose rule the person now meets (idempotent: a badge held is
/// not awarded again; a revoked one is not given back by the rule that had earned it… until it
/// is earned anew by a later event of that kind). Local people only.
pub async fn evaluate_badges(
    conn: &mut AsyncPgConnection,
    person: i64,
    trigger: BadgeTrigger,
) -> Result<(), CoreError> {
    use cenacle_db::badges;
    if !actors::person_by_id(conn, person)
        .await?
        .is_some_and(|p| p.local)
    {
        return Ok(());
    }
    let earned: Vec<(&str, bool)> = match trigger {
        BadgeTrigger::Posted => vec![(
            "first_question",
            badges::question_count(conn, person).await? >= 1,
        )],
        BadgeTrigger::AnswerAccepted => {
            let c = ledger::contributions(conn, person).await?;
            vec![
                ("first_accepted_answer", c.accepted_answers >= 1),
                ("ten_accepted_answers", c.accepted_answers >= 10),
            ]
        }
        BadgeTrigger::LikeReceived => {
            let c = ledger::contributions(conn, person).await?;
            vec![("hundred_likes", c.likes_received >= 100)]
        }
        BadgeTrigger::Visited => vec![(
            "thirty_day_streak",
            badges::visit_streak(conn, person).await? >= 30,
        )],
        BadgeTrigger::IdeaDone => vec![("idea_done", badges::has_done_idea(conn, person).await?)],
    };
    if !earned.iter().any(|(_, ok)| *ok) {
        return Ok(());
    }
    let held: Vec<String> = badges::held(conn, person)
        .await?
        .into_iter()
        .map(|(b, _)| b.slug)
        .collect();
    for (slug, ok) in earned {
        if ok && !held.iter().any(|h| h == slug) {
            if let Some(badge) = badges::badge_by_slug(conn, slug).await? {
                badges::award(conn, badge.id, person, None, None).await?;
            }
        }
    }
    Ok(())
}

async fn badge(
    conn: &mut AsyncPgConnection,
    slug: &str,
) -> Result<cenacle_db::badges::Badge, CoreError> {
    cenacle_db::badges::badge_by_slug(conn, slug)
        .await?
        .ok_or(CoreError::NotFound("badge"))
}

/// A community manager awards a badge by hand (honorific ones such as Superuser or Staff).
pub async fn award_badge(
    ctx: &Context,
    session: &crate::accounts::Session,
    person: i64,
    slug: &str,
    reason: Option<&str>,
) -> Result<(), CoreError> {
    crate::admin::require(session, cenacle_domain::Permission::ManageGroups)?;
    let mut conn = ctx.conn().await?;
    let badge = badge(&mut conn, slug).await?;
    if !cenacle_db::badges::award(
        &mut conn,
        badge.id,
        person,
        Some(session.account.person_id),
        reason,
    )
    .await?
    {
        return Err(CoreError::Conflict("badge_held"));
    }
    Ok(())
}

/// A community manager revokes a badge, with a reason.
pub async fn revoke_badge(
    ctx: &Context,
    session: &crate::accounts::Session,
    person: i64,
    slug: &str,
    reason: &str,
) -> Result<(), CoreError> {
    crate::admin::require(session, cenacle_domain::Permission::ManageGroups)?;
    if reason.trim().is_empty() {
        return Err(cenacle_domain::ValidationError {
            field: "reason",
            code: "empty",
        }
        .into());
    }
    let mut conn = ctx.conn().await?;
    let badge = badge(&mut conn, slug).await?;
    if !cenacle_db::badges::revoke(
        &mut conn,
        badge.id,
        person,
        session.account.person_id,
        reason.trim(),
    )
    .await?
    {
        return Err(CoreError::NotFound("badge award"));
    }
    Ok(())
}

/// Wears one of one's badges as a title (None: no title).
pub async fn set_title(
    ctx: &Context,
    caller: &Caller,
    slug: Option<&str>,
) -> Result<(), CoreError> {
    let mut conn = ctx.conn().await?;
    let id = match slug {
        Some(slug) => {
            let held = cenacle_db::badges::held(&mut conn, caller.person_id).await?;
            Some(
                held.into_iter()
                    .find(|(b, _)| b.slug == slug)
                    .ok_or(CoreError::NotFound("badge"))?
                    .0
                    .id,
            )
        }
        None => None,
    };
    Ok(cenacle_db::badges::set_title(&mut conn, caller.person_id, id).await?)
}

// ---- contests ----

/// A community manager opens a contest over a period, some groups (none: all) and some causes
/// (none: all).
pub async fn create_contest(
    ctx: &Context,
    session: &crate::accounts::Session,
    title: &str,
    starts_at: chrono::DateTime<Utc>,
    ends_at: chrono::DateTime<Utc>,
    groups: &[String],
    causes: &[String],
) -> Result<ledger::Contest, CoreError> {
    crate::admin::require(session, cenacle_domain::Permission::ManageGroups)?;
    if title.trim().is_empty() {
        return Err(cenacle_domain::ValidationError {
            field: "title",
            code: "empty",
        }
        .into());
    }
    if ends_at <= starts_at {
        return Err(cenacle_domain::ValidationError {
            field: "ends_at",
            code: "before_start",
        }
        .into());
    }
    let known: Vec<&str> = [
        ReputationCause::AnswerLiked,
        ReputationCause::QuestionLiked,
        ReputationCause::IdeaLiked,
        ReputationCause::OtherLiked,
        ReputationCause::AnswerAccepted,
        ReputationCause::AcceptedAnAnswer,
        ReputationCause::PostDisliked,
        ReputationCause::DislikedAnAnswer,
    ]
    .iter()
    .map(|c| c.as_str())
    .collect();
    if causes.iter().any(|c| !known.contains(&c.as_str())) {
        return Err(cenacle_domain::ValidationError {
            field: "causes",
            code: "unknown_cause",
        }
        .into());
    }
    let mut group_ids = Vec::new();
    for name in groups {
        group_ids.push(crate::groups::local_group(ctx, name).await?.id);
    }
    let mut conn = ctx.conn().await?;
    Ok(ledger::insert_contest(
        &mut conn,
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
/// people ranked i + 1 (ties share a rank and its prize), and `badge` (a slug) to every winner.
pub async fn close_contest(
    ctx: &Context,
    session: &crate::accounts::Session,
    id: i64,
    prizes: &[i64],
    badge_slug: Option<&str>,
) -> Result<Vec<ledger::LeaderboardRow>, CoreError> {
    crate::admin::require(session, cenacle_domain::Permission::ManageGroups)?;
    if prizes.iter().any(|p| *p < 0) || prizes.len() > 100 {
        return Err(cenacle_domain::ValidationError {
            field: "prizes",
            code: "invalid",
        }
        .into());
    }
    let mut conn = ctx.conn().await?;
    let by = session.account.person_id;
    diesel_async::AsyncConnection::transaction::<_, CoreError, _>(&mut conn, async |conn| {
        let contest = ledger::contest_for_update(conn, id)
            .await?
            .ok_or(CoreError::NotFound("contest"))?;
        if contest.closed_at.is_some() {
            return Err(CoreError::Conflict("contest_closed"));
        }
        let badge = match badge_slug {
            Some(slug) => Some(badge(conn, slug).await?),
            None => None,
        };
        let board = ledger::contest_board(conn, &contest, 1000).await?;
        let winners: Vec<_> = board
            .into_iter()
            .filter(|r| (r.rank as usize) <= prizes.len().max(1))
            .collect();
        for row in &winners {
            let prize = prizes.get(row.rank as usize - 1).copied().unwrap_or(0);
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
            if let Some(badge) = &badge {
                cenacle_db::badges::award(
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
    })
    .await
}

/// A contest with its board: live while open, the frozen winners once closed.
pub async fn contest(
    ctx: &Context,
    id: i64,
) -> Result<(ledger::Contest, Vec<ledger::LeaderboardRow>), CoreError> {
    let mut conn = ctx.conn().await?;
    let contest = ledger::contest(&mut conn, id)
        .await?
        .ok_or(CoreError::NotFound("contest"))?;
    let board = if contest.closed_at.is_some() {
        ledger::contest_winners(&mut conn, id).await?
    } else {
        ledger::contest_board(&mut conn, &contest, 100).await?
    };
    Ok((contest, board))
}
