//! Reputation, points and badges earned (or lost) by contributions. Called by the content use
//! cases on their connection, inside their transaction, so an effect is recorded if and only if
//! its cause is.

use crate::{Caller, Conn, Context, CoreError};
use cenacle_db::{
    actors::{self, Group},
    badges,
    content::{self as store, Comment, Post, VoteTarget},
    engagement::{self as ledger, NewReputationEvent, ReputationState},
};
use cenacle_domain::{
    engagement::{reputation_delta, ReputationCause},
    Role,
};
use chrono::{NaiveDate, Utc};

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
    conn: &mut Conn,
    caller: &Caller,
    threshold: i64,
) -> Result<(), CoreError> {
    if !caller.is_local() || exempt(caller) {
        return Ok(());
    }
    if ledger::reputation_of(conn, caller.person_id).await? < threshold {
        return Err(CoreError::InsufficientReputation(threshold));
    }
    Ok(())
}

/// Applies a reputation cause to `person` (weighted, capped, floored) under `key`: two
/// statements, the person's row locked then the event recorded with the new score. Returns
/// the person's new state, or None when this key was already paid.
async fn earn(
    conn: &mut Conn,
    ctx: &Context,
    person: i64,
    cause: ReputationCause,
    key: &str,
    group_id: i64,
    instance_weight: f64,
) -> Result<Option<ReputationState>, CoreError> {
    let weights = &ctx.settings.engagement.reputation;
    let current = ledger::lock_reputation(conn, person).await?;
    let capped = cause.is_capped();
    let earned_today = if capped { current.capped_today } else { 0 };
    let delta = reputation_delta(weights, cause, instance_weight, current.score, earned_today);
    let event = NewReputationEvent {
        person_id: person,
        delta,
        cause: cause.as_str(),
        source_key: key,
        group_id: Some(group_id),
        capped,
        likes_change: i64::from(cause.is_like()),
    };
    Ok(ledger::record_reputation(conn, &event).await?)
}

/// Reverses what `key` earned, if it is live.
async fn reverse(conn: &mut Conn, key: &str) -> Result<(), CoreError> {
    ledger::reverse_reputation(conn, key).await?;
    Ok(())
}

/// Points for a person, once per key; only our own members hold points (`local`).
async fn pay(
    conn: &mut Conn,
    person: i64,
    local: bool,
    amount: i64,
    reason: &str,
    key: &str,
) -> Result<(), CoreError> {
    if amount != 0 && local {
        ledger::record_points(conn, person, amount, reason, key, None).await?;
    }
    Ok(())
}

/// How much `voter`'s vote on `subject` counts: 1 for our members, their instance's weight
/// for others — and no more than the weight of the instance of the group that relayed it.
async fn voter_weight(
    conn: &mut Conn,
    voter: &Caller,
    subject: &VoteSubject,
) -> Result<f64, CoreError> {
    let weight = if voter.is_local() {
        1.0
    } else {
        ledger::vote_weight_of(conn, voter.person_id).await?
    };
    Ok(match &subject.relayed_by {
        Some(host) => weight.min(ledger::instance_weight(conn, host).await?),
        None => weight,
    })
}

/// What a vote is on, as `votes` loaded it: its post (and comment) and group.
pub struct VoteSubject {
    pub target: VoteTarget,
    pub post: Post,
    pub comment: Option<Comment>,
    pub group: Group,
    /// The instance of the group that relayed the vote to us, when it came by an Announce.
    pub relayed_by: Option<String>,
}

impl VoteSubject {
    fn author(&self) -> (i64, bool) {
        match &self.comment {
            Some(c) => (c.author_id, c.local),
            None => (self.post.author_id, self.post.local),
        }
    }

    fn is_answer(&self) -> bool {
        self.comment
            .as_ref()
            .is_some_and(|c| c.parent_id.is_none() && self.post.kind == "question")
    }

    fn like_cause(&self) -> ReputationCause {
        match (&self.comment, self.post.kind.as_str()) {
            (Some(_), _) if self.is_answer() => ReputationCause::AnswerLiked,
            (Some(_), _) => ReputationCause::OtherLiked,
            (None, "question") => ReputationCause::QuestionLiked,
            (None, "idea") => ReputationCause::IdeaLiked,
            (None, _) => ReputationCause::OtherLiked,
        }
    }

    fn key(&self) -> String {
        match self.target {
            VoteTarget::Post(id) => format!("post:{id}"),
            VoteTarget::Comment(id) => format!("comment:{id}"),
        }
    }
}

/// Effects of `voter`'s vote going from `before` to `after` (1 like, -1 dislike, None none).
pub async fn on_vote(
    conn: &mut Conn,
    ctx: &Context,
    voter: &Caller,
    subject: &VoteSubject,
    before: Option<i16>,
    after: Option<i16>,
) -> Result<(), CoreError> {
    if before == after {
        return Ok(());
    }
    let (author, author_local) = subject.author();
    if author == voter.person_id {
        // One's own votes earn nothing.
        return Ok(());
    }
    let (subject_key, voter_id) = (subject.key(), voter.person_id);
    let like_key = format!("like:{subject_key}:by:{voter_id}");
    let dislike_key = format!("dislike:{subject_key}:by:{voter_id}");
    let dislike_cost_key = format!("dislike-cost:{subject_key}:by:{voter_id}");
    if before == Some(1) {
        reverse(conn, &like_key).await?;
    }
    if before == Some(-1) {
        reverse(conn, &dislike_key).await?;
        reverse(conn, &dislike_cost_key).await?;
    }
    let group_id = subject.post.group_id;
    match after {
        Some(1) => {
            let weight = voter_weight(conn, voter, subject).await?;
            let state = earn(
                conn,
                ctx,
                author,
                subject.like_cause(),
                &like_key,
                group_id,
                weight,
            )
            .await?;
            let rules = &ctx.settings.engagement.points;
            let given = (
                voter_id,
                voter.is_local(),
                rules.like_given,
                "like_given",
                format!("points:{like_key}"),
            );
            let received = (
                author,
                author_local,
                rules.like_received,
                "like_received",
                format!("points:received:{like_key}"),
            );
            // Balances are locked in person order: two members liking each other's posts at
            // the same moment must not wait on each other's locks.
            let (first, second) = if voter_id < author {
                (given, received)
            } else {
                (received, given)
            };
            for (person, local, amount, reason, key) in [first, second] {
                pay(conn, person, local, amount, reason, &key).await?;
            }
            // Checked when the count reaches the threshold, not at every like after it.
            if let Some(state) = state.filter(|_| author_local) {
                award_earned(
                    conn,
                    author,
                    &[("hundred_likes", state.likes_received == 100)],
                )
                .await?;
            }
        }
        Some(-1) => {
            let weight = voter_weight(conn, voter, subject).await?;
            let mut costs = vec![(
                author,
                ReputationCause::PostDisliked,
                dislike_key.as_str(),
                weight,
            )];
            if subject.is_answer() {
                costs.push((
                    voter_id,
                    ReputationCause::DislikedAnAnswer,
                    dislike_cost_key.as_str(),
                    1.0,
                ));
            }
            // Reputation rows are locked in person order (see the likes above).
            costs.sort_by_key(|(person, ..)| *person);
            for (person, cause, key, weight) in costs {
                earn(conn, ctx, person, cause, key, group_id, weight).await?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Effects of a question's accepted answer changing from `before` to `after`, by `acceptor`.
pub async fn on_accept(
    conn: &mut Conn,
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
        reverse(conn, &format!("accepted:comment:{old}")).await?;
        reverse(conn, &format!("acceptor:comment:{old}")).await?;
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
            answer.local,
            amount,
            "accepted_answer",
            &format!("points:{key}"),
        )
        .await?;
        if answer.local {
            evaluate_badges(conn, answer.author_id, BadgeTrigger::AnswerAccepted).await?;
        }
    }
    Ok(())
}

/// A new post by `author`: points and badges for our members.
pub async fn on_post(
    conn: &mut Conn,
    ctx: &Context,
    author: &Caller,
    post_id: i64,
) -> Result<(), CoreError> {
    if !author.is_local() {
        return Ok(());
    }
    pay(
        conn,
        author.person_id,
        true,
        ctx.settings.engagement.points.new_post,
        "new_post",
        &format!("points:post:{post_id}"),
    )
    .await?;
    evaluate_badges(conn, author.person_id, BadgeTrigger::Posted).await
}

/// A new comment or answer by `author`: points for our members.
pub async fn on_reply(
    conn: &mut Conn,
    ctx: &Context,
    author: &Caller,
    comment_id: i64,
) -> Result<(), CoreError> {
    pay(
        conn,
        author.person_id,
        author.is_local(),
        ctx.settings.engagement.points.reply,
        "reply",
        &format!("points:reply:{comment_id}"),
    )
    .await
}

// ---- the daily visit ----

/// Whether this process already paid `person` today's visit point: a visit then costs
/// nothing, not even a connection.
pub fn visit_paid_today(ctx: &Context, person: i64) -> bool {
    let today = Utc::now().date_naive();
    let paid = ctx.visits.lock().unwrap_or_else(|e| e.into_inner());
    paid.get(&person) == Some(&today)
}

/// The day's visit point, paid once per person and UTC day (idempotent by its key), with
/// the badges that visits earn. Returns the day paid, to hand to [`remember_visit`] once the
/// caller's transaction has committed.
pub async fn record_visit(
    conn: &mut Conn,
    ctx: &Context,
    person: i64,
) -> Result<NaiveDate, CoreError> {
    let today = Utc::now().date_naive();
    let amount = ctx.settings.engagement.points.daily_visit;
    pay(
        conn,
        person,
        true,
        amount,
        "daily_visit",
        &format!("points:visit:{person}:{today}"),
    )
    .await?;
    evaluate_badges(conn, person, BadgeTrigger::Visited).await?;
    Ok(today)
}

/// Remembers, after the commit, that `person` was paid for `day` (never before: a rolled
/// back payment must be retried by the next request).
pub fn remember_visit(ctx: &Context, person: i64, day: NaiveDate) {
    let mut paid = ctx.visits.lock().unwrap_or_else(|e| e.into_inner());
    if paid.len() > 100_000 {
        paid.retain(|_, d| *d == day);
    }
    paid.insert(person, day);
}

// ---- automatic badges ----

/// What just happened to a person, so that only the badge rules it can change are checked. (A
/// like received, the busiest path, checks its one rule against the likes count that its own
/// statement returned: see `on_vote`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadgeTrigger {
    Posted,
    AnswerAccepted,
    Visited,
    IdeaDone,
}

/// Awards the automatic badges whose rule the person now meets (idempotent: a badge held is
/// not awarded again). Local people only.
pub async fn evaluate_badges(
    conn: &mut Conn,
    person: i64,
    trigger: BadgeTrigger,
) -> Result<(), CoreError> {
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
        BadgeTrigger::Visited => vec![(
            "thirty_day_streak",
            badges::visit_streak(conn, person).await? >= 30,
        )],
        BadgeTrigger::IdeaDone => vec![("idea_done", badges::has_done_idea(conn, person).await?)],
    };
    award_earned(conn, person, &earned).await
}

/// Awards the badges of `earned` whose rule is met and that the person does not hold.
async fn award_earned(
    conn: &mut Conn,
    person: i64,
    earned: &[(&str, bool)],
) -> Result<(), CoreError> {
    if !earned.iter().any(|(_, ok)| *ok) {
        return Ok(());
    }
    let held: Vec<String> = badges::held(conn, person)
        .await?
        .into_iter()
        .map(|(b, _)| b.slug)
        .collect();
    for (slug, ok) in earned {
        if *ok && !held.iter().any(|h| h == slug) {
            if let Some(badge) = badges::badge_by_slug(conn, slug).await? {
                badges::award(conn, badge.id, person, None, None).await?;
            }
        }
    }
    Ok(())
}
