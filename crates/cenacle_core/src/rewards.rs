//! Reputation, points and badges earned (or lost) by contributions. Called by the content use
//! cases on their connection, inside their transaction, so an effect is recorded if and only if
//! its cause is.

use crate::{journey, ranks_reached::mark_rank_due, Caller, Conn, Context, CoreError};
use cenacle_db::{
    actors::{self, Group},
    badges,
    content::{self as store, Comment, Post, VoteTarget},
    engagement::{
        self as ledger, Content, LiveRewards, NewPoints, NewReputationEvent, ReputationState,
        Restored, Reversal,
    },
};
use cenacle_domain::{
    engagement::{
        self, acceptance_rewards, points_earned, reputation_delta, same_content, vote_counts,
        PointCause, ReputationCause,
    },
    onboarding::StepKind,
    Role,
};
use chrono::{NaiveDate, Utc};
use sha2::{Digest, Sha256};

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

/// Applies a reputation cause to `person` (weighted, capped; exact, the floor being applied
/// only when the score is read) under `key`, tagged with
/// the content it came from: two statements, the person's row locked then the event recorded
/// with the new score. Returns the person's new state, or None when this key was already paid.
#[allow(clippy::too_many_arguments)]
async fn earn(
    conn: &mut Conn,
    ctx: &Context,
    person: i64,
    cause: ReputationCause,
    key: &str,
    group_id: i64,
    instance_weight: f64,
    content: Content,
) -> Result<Option<ReputationState>, CoreError> {
    let weights = &ctx.settings.engagement.reputation;
    let current = ledger::lock_reputation(conn, person).await?;
    let capped = cause.is_capped();
    let earned_today = if capped { current.capped_today } else { 0 };
    let delta = reputation_delta(weights, cause, instance_weight, earned_today);
    let event = NewReputationEvent {
        person_id: person,
        delta,
        cause: cause.as_str(),
        source_key: key,
        group_id: Some(group_id),
        capped,
        // A like is its vote's weight of a like (for the rank score and the likes badge).
        likes_milli: if cause.is_like() {
            ledger::likes_milli(instance_weight)
        } else {
            0
        },
        content,
    };
    Ok(ledger::record_reputation(conn, &event).await?)
}

/// A payment of points to make: to whom, for what, under which key.
struct Payment {
    person: i64,
    /// Only our own members hold points.
    local: bool,
    cause: PointCause,
    /// The weight of the vote behind it (1.0 when none).
    weight: f64,
    key: String,
    content: Content,
}

/// Pays points (weighted, capped for the causes that are, once per key; nothing for people of
/// other servers). A capped cause locks the balance first, to read what today already paid;
/// the row and the balance's move are then one statement.
async fn pay(conn: &mut Conn, ctx: &Context, payment: &Payment) -> Result<(), CoreError> {
    if !payment.local {
        return Ok(());
    }
    let rules = &ctx.settings.engagement.points;
    let cause = payment.cause;
    let earned_today = if cause.is_capped() {
        ledger::lock_points(conn, payment.person)
            .await?
            .capped_today
    } else {
        0
    };
    let amount = points_earned(rules, cause, payment.weight, earned_today);
    if amount == 0 {
        return Ok(());
    }
    ledger::record_points_entry(
        conn,
        &NewPoints {
            person_id: payment.person,
            delta: amount,
            reason: cause.as_str(),
            source_key: &payment.key,
            granted_by: None,
            capped: cause.is_capped(),
            once: cause.once_per_content(),
            content: payment.content,
        },
    )
    .await?;
    Ok(())
}

/// Pays several people, their balances locked in person order (as every writer does, so that
/// two members rewarding each other at the same moment never wait on each other).
async fn pay_all(
    conn: &mut Conn,
    ctx: &Context,
    mut payments: Vec<Payment>,
) -> Result<(), CoreError> {
    payments.sort_by_key(|p| p.person);
    for payment in &payments {
        pay(conn, ctx, payment).await?;
    }
    Ok(())
}

/// Locks the reputation rows of `people`, then the points rows of those of them who are our
/// members, each in person order: the order of every writer. A use case that both takes back
/// and pays (a vote switched, an acceptance moved) would otherwise touch them in an order of
/// its own — a like's points taken back before a dislike's cost to the voter — and two of them
/// racing on the same people could deadlock. Later locks of the same rows are then free.
pub(crate) async fn lock_people(conn: &mut Conn, people: &[(i64, bool)]) -> Result<(), CoreError> {
    let mut people = people.to_vec();
    // One entry per person, whose points are locked if any entry says so.
    people.sort_unstable_by_key(|(person, local)| (*person, !*local));
    people.dedup_by_key(|(person, _)| *person);
    for (person, _) in &people {
        ledger::lock_reputation(conn, *person).await?;
    }
    for (person, local) in &people {
        if *local {
            ledger::lock_points(conn, *person).await?;
        }
    }
    Ok(())
}

/// Reverses the live reputation events and points rows that `which` selects, each by a row
/// that offsets it; reputation first, then points, each in person order (the order of every
/// other writer). Causes named by key (votes, acceptances) go for good: what their content's
/// removal took back is then not given back by its restore either.
async fn take_back(
    conn: &mut Conn,
    which: LiveRewards<'_>,
    why: Reversal,
) -> Result<(), CoreError> {
    // Everyone first (reversing reputation, then points, would otherwise lock a person's
    // points row after a lower person's reputation row — not the order of `lock_people`).
    let people = ledger::live_reward_people(conn, which).await?;
    lock_people(conn, &people).await?;
    for key in ledger::live_reward_keys(conn, false, which).await? {
        ledger::reverse_reputation(conn, &key, why).await?;
    }
    for key in ledger::live_reward_keys(conn, true, which).await? {
        ledger::reverse_points(conn, &key, why).await?;
    }
    if let LiveRewards::Keys(keys) = which {
        ledger::settle_removed(conn, keys).await?;
    }
    Ok(())
}

/// How much `voter`'s vote on `subject` counts (see `cenacle_domain::engagement::vote_weight`):
/// nothing on their own content or from a blocked instance; 1 for our members, their
/// instance's weight for others — and no more than the weight of the instance of the group
/// that relayed it.
pub async fn vote_weight(
    conn: &mut Conn,
    voter: &Caller,
    subject: &VoteSubject,
) -> Result<f64, CoreError> {
    let own = subject.author().0 == voter.person_id;
    if own {
        return Ok(0.0);
    }
    let mut weight = if voter.is_local() {
        1.0
    } else {
        let standing = ledger::voter_standing(conn, voter.person_id).await?;
        engagement::vote_weight(false, standing.blocked, standing.weight)
    };
    if let Some(host) = &subject.relayed_by {
        let group = ledger::instance_standing(conn, host).await?;
        weight = weight.min(engagement::vote_weight(false, group.blocked, group.weight));
    }
    Ok(weight)
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

    fn content(&self) -> Content {
        Content {
            post_id: Some(self.post.id),
            comment_id: self.comment.as_ref().map(|c| c.id),
        }
    }
}

/// The keys of what one person's vote on one target earns: one live row each.
struct VoteKeys {
    like: String,
    dislike: String,
    dislike_cost: String,
    like_given: String,
    like_received: String,
}

impl VoteKeys {
    fn new(target: VoteTarget, voter: i64) -> VoteKeys {
        let subject = match target {
            VoteTarget::Post(id) => format!("post:{id}"),
            VoteTarget::Comment(id) => format!("comment:{id}"),
        };
        let like = format!("like:{subject}:by:{voter}");
        VoteKeys {
            dislike: format!("dislike:{subject}:by:{voter}"),
            dislike_cost: format!("dislike-cost:{subject}:by:{voter}"),
            like_given: format!("points:{like}"),
            like_received: format!("points:received:{like}"),
            like,
        }
    }

    /// Every key the vote may have earned under.
    fn all(&self) -> [String; 5] {
        [
            self.like.clone(),
            self.dislike.clone(),
            self.dislike_cost.clone(),
            self.like_given.clone(),
            self.like_received.clone(),
        ]
    }
}

/// Effects of `voter`'s vote going from `before` to `after` (1 like, -1 dislike, None none),
/// the new vote counting `weight` (see [`vote_weight`]: 0 counts for nothing anywhere). What
/// the replaced vote earned is taken back exactly, whatever its weight was.
pub async fn on_vote(
    conn: &mut Conn,
    ctx: &Context,
    voter: &Caller,
    subject: &VoteSubject,
    before: Option<i16>,
    after: Option<i16>,
    weight: f64,
) -> Result<(), CoreError> {
    if before == after {
        return Ok(());
    }
    let (author, author_local) = subject.author();
    if author == voter.person_id {
        // One's own votes earn nothing (and never did).
        return Ok(());
    }
    let voter_id = voter.person_id;
    lock_people(
        conn,
        &[(author, author_local), (voter_id, voter.is_local())],
    )
    .await?;
    let keys = VoteKeys::new(subject.target, voter_id);
    if before.is_some() {
        take_back(conn, LiveRewards::Keys(&keys.all()), Reversal::Undone).await?;
    }
    if !vote_counts(weight) {
        return Ok(());
    }
    let (group_id, content) = (subject.post.group_id, subject.content());
    match after {
        Some(1) => {
            let state = earn(
                conn,
                ctx,
                author,
                subject.like_cause(),
                &keys.like,
                group_id,
                weight,
                content,
            )
            .await?;
            let given = Payment {
                person: voter_id,
                local: voter.is_local(),
                cause: PointCause::LikeGiven,
                weight,
                key: keys.like_given,
                content,
            };
            let received = Payment {
                person: author,
                local: author_local,
                cause: PointCause::LikeReceived,
                weight,
                key: keys.like_received,
                content,
            };
            pay_all(conn, ctx, vec![given, received]).await?;
            // Checked when the weighted count crosses the threshold, not at every like after it.
            if let Some(state) = state.filter(|_| author_local) {
                let hundred = ledger::likes_milli(100.0);
                let crossed = state.likes_milli >= hundred
                    && state.likes_milli - ledger::likes_milli(weight) < hundred;
                award_earned(conn, author, &[("hundred_likes", crossed)]).await?;
            }
        }
        Some(-1) => {
            let mut costs = vec![(
                author,
                ReputationCause::PostDisliked,
                keys.dislike.as_str(),
                weight,
            )];
            if subject.is_answer() {
                costs.push((
                    voter_id,
                    ReputationCause::DislikedAnAnswer,
                    keys.dislike_cost.as_str(),
                    1.0,
                ));
            }
            // Reputation rows are locked in person order (see the payments above).
            costs.sort_by_key(|(person, ..)| *person);
            for (person, cause, key, weight) in costs {
                earn(conn, ctx, person, cause, key, group_id, weight, content).await?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The keys of what an acceptance of `answer` earns.
fn acceptance_keys(answer: i64) -> Vec<String> {
    let accepted = format!("accepted:comment:{answer}");
    vec![
        format!("points:{accepted}"),
        accepted,
        format!("acceptor:comment:{answer}"),
    ]
}

/// Effects of a question's accepted answer changing from `before` to `after`, by `acceptor`:
/// what the previous acceptance earned is taken back (reputation and points); the new one
/// pays its author and the acceptor — nothing to anyone when they are the same person. No
/// acceptor (`None`: a champion's tool, not the asker) earns only the author their due.
pub async fn on_accept(
    conn: &mut Conn,
    ctx: &Context,
    acceptor: Option<i64>,
    group_id: i64,
    before: Option<i64>,
    after: Option<i64>,
) -> Result<(), CoreError> {
    if before == after {
        return Ok(());
    }
    // The people paid or taken back from, locked up front (see `lock_people`): the acceptor and
    // the authors of both answers (only they are paid points).
    let mut people: Vec<(i64, bool)> = acceptor.map(|a| (a, false)).into_iter().collect();
    let mut answers = Vec::new();
    for id in before.into_iter().chain(after) {
        let answer = store::comment_by_id(conn, id)
            .await?
            .ok_or(CoreError::NotFound("answer"))?;
        people.push((answer.author_id, answer.local));
        answers.push(answer);
    }
    lock_people(conn, &people).await?;
    if let Some(old) = before {
        take_back(
            conn,
            LiveRewards::Keys(&acceptance_keys(old)),
            Reversal::Undone,
        )
        .await?;
    }
    let Some(answer) = after.and_then(|new| answers.into_iter().find(|a| a.id == new)) else {
        return Ok(());
    };
    if acceptor.is_some_and(|a| !acceptance_rewards(a, answer.author_id)) {
        return Ok(());
    }
    let content = Content {
        post_id: Some(answer.post_id),
        comment_id: Some(answer.id),
    };
    let [points_key, accepted_key, acceptor_key] =
        <[String; 3]>::try_from(acceptance_keys(answer.id))
            .map_err(|_| CoreError::Internal("acceptance keys".into()))?;
    let mut earnings = vec![(
        answer.author_id,
        ReputationCause::AnswerAccepted,
        accepted_key,
    )];
    if let Some(acceptor) = acceptor {
        earnings.push((acceptor, ReputationCause::AcceptedAnAnswer, acceptor_key));
    }
    // Reputation rows are locked in person order.
    earnings.sort_by_key(|(person, ..)| *person);
    for (person, cause, key) in &earnings {
        earn(conn, ctx, *person, *cause, key, group_id, 1.0, content).await?;
    }
    let payment = Payment {
        person: answer.author_id,
        local: answer.local,
        cause: PointCause::AcceptedAnswer,
        weight: 1.0,
        key: points_key,
        content,
    };
    pay(conn, ctx, &payment).await?;
    if answer.local {
        mark_rank_due(conn, answer.author_id).await?;
        evaluate_badges(conn, answer.author_id, BadgeTrigger::AnswerAccepted).await?;
    }
    Ok(())
}

/// The key under which a contribution's points are paid: its author and its words (see
/// `same_content`; a reply's also its thread), hashed. Paid once, ever: the same content
/// written again pays nothing more.
fn content_key(author: i64, thread: Option<i64>, parts: &[&str]) -> String {
    let digest = Sha256::digest(same_content(parts).as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    match thread {
        Some(post) => format!("points:content:{author}:post:{post}:{hex}"),
        None => format!("points:content:{author}:{hex}"),
    }
}

/// A new post by `author`: points, the journey step it may finish, and badges, for our
/// members.
pub async fn on_post(
    conn: &mut Conn,
    ctx: &Context,
    author: &Caller,
    post: &Post,
) -> Result<(), CoreError> {
    if !author.is_local() {
        return Ok(());
    }
    let payment = Payment {
        person: author.person_id,
        local: true,
        cause: PointCause::NewPost,
        weight: 1.0,
        key: content_key(author.person_id, None, &[&post.title, &post.body]),
        content: Content {
            post_id: Some(post.id),
            comment_id: None,
        },
    };
    // Before `pay`: the reputation row is locked before the points row, as every writer
    // locks them (see `lock_people`); the other order could deadlock with a like.
    mark_rank_due(conn, author.person_id).await?;
    pay(conn, ctx, &payment).await?;
    let step = match post.kind.as_str() {
        "idea" => Some(StepKind::PostIdea),
        "question" => Some(StepKind::AskQuestion),
        _ => None,
    };
    if let Some(step) = step {
        journey::pay_finished_steps(conn, author.person_id, step).await?;
    }
    evaluate_badges(conn, author.person_id, BadgeTrigger::Posted).await
}

/// A new comment or answer by `author`: points for our members.
pub async fn on_reply(
    conn: &mut Conn,
    ctx: &Context,
    author: &Caller,
    comment: &Comment,
) -> Result<(), CoreError> {
    let payment = Payment {
        person: author.person_id,
        local: author.is_local(),
        cause: PointCause::Reply,
        weight: 1.0,
        key: content_key(author.person_id, Some(comment.post_id), &[&comment.body]),
        content: Content {
            post_id: Some(comment.post_id),
            comment_id: Some(comment.id),
        },
    };
    if author.is_local() {
        // Before `pay`, in the order of every writer (see `on_post`).
        mark_rank_due(conn, author.person_id).await?;
    }
    pay(conn, ctx, &payment).await?;
    if author.is_local() {
        journey::pay_finished_steps(conn, author.person_id, StepKind::AnswerQuestion).await?;
    }
    Ok(())
}

/// Content that went away (deleted, removed by a moderator, and any future way out of its
/// group): whatever was earned from it — its points, the likes and dislikes on it, its
/// acceptance, and for a post everything in its thread — is taken back, each by a row that
/// offsets it, reputation and points alike.
#[derive(Debug, Clone, Copy)]
pub enum Gone {
    Post(i64),
    Comment { post_id: i64, comment_id: i64 },
}

impl Gone {
    /// The posts (threads) among what goes: the ones whose running bounties go with them.
    pub fn post_ids(gone: &[Gone]) -> Vec<i64> {
        gone.iter()
            .filter_map(|g| match g {
                Gone::Post(id) => Some(*id),
                Gone::Comment { .. } => None,
            })
            .collect()
    }

    fn rewards(self) -> LiveRewards<'static> {
        match self {
            Gone::Post(id) => LiveRewards::Post(id),
            Gone::Comment {
                post_id,
                comment_id,
            } => LiveRewards::Comment {
                post_id,
                comment_id,
            },
        }
    }
}

/// A question among them also takes its running bounty if its end is still to come: cancelled,
/// the escrow back to the sponsor (see [`cancel_and_refund`]); one whose time is up is left to
/// the settler's lapse rule.
pub async fn on_content_gone(conn: &mut Conn, gone: Gone) -> Result<(), CoreError> {
    take_back_all(conn, &[gone], Reversal::Undone).await
}

/// Content a moderator removed (one post or comment, or all a ban removed): what it earned is
/// taken back as its deletion would, but by reversals marked as the removal's, which its
/// restore undoes (see [`on_content_restored`]) — all but a question's bounty, cancelled for
/// good as by a deletion (if its end was still to come).
pub async fn on_content_removed(conn: &mut Conn, removed: &[Gone]) -> Result<(), CoreError> {
    take_back_all(conn, removed, Reversal::Removed).await
}

/// The one way content goes, deleted or removed. A post that goes (`Gone::Post`) comes with its
/// row already locked FOR UPDATE (see `posts::take_down`, the moderators' removals); the
/// running bounties of its questions are locked next (post, bounty, then balances: the order
/// of an offer and an award), then everyone touched — sponsors included — in person order.
/// Comments a ban removes (`reports::remove_content_of`) come without their posts locked:
/// harmless here, as a `Gone::Comment` never touches a bounty (only a question's own
/// take-down cancels one).
async fn take_back_all(conn: &mut Conn, gone: &[Gone], why: Reversal) -> Result<(), CoreError> {
    let bounties = running_on_gone_questions(conn, gone).await?;
    let mut people: Vec<(i64, bool)> = bounties.iter().map(|b| (b.sponsor_id, true)).collect();
    for item in gone {
        people.extend(ledger::live_reward_people(conn, item.rewards()).await?);
    }
    lock_people(conn, &people).await?;
    for item in gone {
        take_back(conn, item.rewards(), why).await?;
    }
    cancel_and_refund(conn, &bounties).await
}

/// Locks the running bounties of the questions among `gone` whose end is still to come (in
/// question order, after the posts and before any balance: the order of `offer_bounty` and
/// `award_bounty`). A bounty whose time is up when its question goes is not among them: the
/// lapse rule settles it (see `bounties::settle_expired_bounties`), so that a question taken
/// down between the end and the settler's pass neither pays the escrow back nor robs the
/// answer that won. The caller locks their sponsors with everyone else it touches (see
/// [`lock_people`]), then calls [`cancel_and_refund`].
async fn running_on_gone_questions(
    conn: &mut Conn,
    gone: &[Gone],
) -> Result<Vec<cenacle_db::engagement::Bounty>, CoreError> {
    let posts = Gone::post_ids(gone);
    if posts.is_empty() {
        return Ok(Vec::new());
    }
    Ok(cenacle_db::bounties::unended_bounties_for_update(conn, &posts).await?)
}

/// Closes bounties whose question went before their end as `cancelled`, paying nobody, and
/// gives each escrow back to its sponsor by a row that offsets the offer (key
/// `bounty:{id}:refund`: paid once, whichever path — a take-down, the settler's heal — gets
/// there): nobody can answer the question any more, and a thread takes with it everything
/// earned in it. A restore of the question does not reopen the bounty (nor take the refund
/// back): the sponsor may offer again. The bounties are locked, and their sponsors' balances.
pub(crate) async fn cancel_and_refund(
    conn: &mut Conn,
    bounties: &[cenacle_db::engagement::Bounty],
) -> Result<(), CoreError> {
    for bounty in bounties {
        ledger::record_points(
            conn,
            bounty.sponsor_id,
            bounty.amount,
            "bounty_refunded",
            &format!("bounty:{}:refund", bounty.id),
            None,
        )
        .await?;
        ledger::close_bounty(conn, bounty.id, "cancelled", None, 0).await?;
    }
    Ok(())
}

/// Content a moderator restored. The choice made: a restore undoes exactly what the removal
/// took back — each removal reversal still pending is itself undone by a row that writes the
/// reversed reward again (same amount, cause, content and key, live again), rather than the
/// causes being paid anew: paying anew would meet today's caps and the weights of today, and
/// a remove → restore cycle could then lose (or, for a content's once-only points, never give
/// back) what it took. So any number of cycles nets exactly nothing, and the ledger keeps every
/// step. What went for good meanwhile stays gone: a vote withdrawn or an acceptance moved
/// settles its pending reversals (see `take_back`), and a comment still removed (or deleted)
/// on its own keeps its rewards out when its thread comes back, as a comment restored in a
/// thread still removed waits for the thread.
pub async fn on_content_restored(conn: &mut Conn, restored: Gone) -> Result<(), CoreError> {
    let what = match restored {
        Gone::Post(id) => Restored::Post(id),
        Gone::Comment {
            post_id,
            comment_id,
        } => Restored::Comment {
            post_id,
            comment_id,
        },
    };
    let reputation = ledger::pending_removals(conn, false, what).await?;
    let points = ledger::pending_removals(conn, true, what).await?;
    let people: Vec<(i64, bool)> = reputation
        .iter()
        .map(|r| (r.person_id, false))
        .chain(points.iter().map(|r| (r.person_id, true)))
        .collect();
    lock_people(conn, &people).await?;
    // What comes back counts for its author's rank again (their rows are locked already).
    for (person, _) in people.iter().filter(|(_, points)| *points) {
        mark_rank_due(conn, *person).await?;
    }
    for row in reputation {
        ledger::reinstate_reputation(conn, row.id).await?;
    }
    for row in points {
        ledger::reinstate_points(conn, row.id).await?;
    }
    Ok(())
}

/// An instance blocked: the votes its people cast before count no more, anywhere — what they
/// earned anyone is taken back, and they leave the scores.
pub async fn on_instance_blocked(conn: &mut Conn, host: &str) -> Result<(), CoreError> {
    uncount_votes(conn, store::BlockedVoters::OfHost(host)).await
}

/// A person of another server found to be a blocked instance's after its block (their handle,
/// naming it, confirmed only then): their votes count no more, as [`on_instance_blocked`] would
/// have uncounted them had it known them.
pub async fn on_person_blocked(conn: &mut Conn, person_id: i64) -> Result<(), CoreError> {
    uncount_votes(conn, store::BlockedVoters::Person(person_id)).await
}

async fn uncount_votes(conn: &mut Conn, whose: store::BlockedVoters<'_>) -> Result<(), CoreError> {
    let votes = store::uncount_votes_of(conn, whose).await?;
    let keys: Vec<String> = votes
        .iter()
        .flat_map(|(voter, target)| VoteKeys::new(*target, *voter).all())
        .collect();
    // Everyone touched, locked once up front in person order (see `lock_people`): batch after
    // batch would otherwise lock a lower person's row after a higher one's.
    let people = ledger::live_reward_people(conn, LiveRewards::Keys(&keys)).await?;
    lock_people(conn, &people).await?;
    // In batches: a large instance may have cast many votes.
    for batch in keys.chunks(1500) {
        take_back(conn, LiveRewards::Keys(batch), Reversal::Undone).await?;
    }
    Ok(())
}

/// Locks, in person order and before anything changes, everyone a comment's take-down touches:
/// who earned anything from it and, when it was its question's accepted answer, whoever clears
/// the acceptance (`by`) and its author — so that clearing the acceptance then taking back
/// its votes never locks a lower person after a higher one.
pub(crate) async fn lock_for_comment_gone(
    conn: &mut Conn,
    by: i64,
    post_id: i64,
    comment_id: i64,
    accepted: bool,
) -> Result<(), CoreError> {
    let mut people = ledger::live_reward_people(
        conn,
        LiveRewards::Comment {
            post_id,
            comment_id,
        },
    )
    .await?;
    if accepted {
        let answer = store::comment_by_id(conn, comment_id)
            .await?
            .ok_or(CoreError::NotFound("answer"))?;
        people.push((by, false));
        people.push((answer.author_id, answer.local));
    }
    lock_people(conn, &people).await
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
    let payment = Payment {
        person,
        local: true,
        cause: PointCause::DailyVisit,
        weight: 1.0,
        key: format!("points:visit:{person}:{today}"),
        content: Content::default(),
    };
    pay(conn, ctx, &payment).await?;
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

/// Awards the badges of `earned` whose rule is met and that the person never held: a badge
/// revoked stays revoked until a community manager restores it (`badges::restore_badge`).
async fn award_earned(
    conn: &mut Conn,
    person: i64,
    earned: &[(&str, bool)],
) -> Result<(), CoreError> {
    if !earned.iter().any(|(_, ok)| *ok) {
        return Ok(());
    }
    let held = badges::ever_awarded(conn, person).await?;
    for (slug, ok) in earned {
        if *ok && !held.iter().any(|h| h == slug) {
            if let Some(badge) = badges::badge_by_slug(conn, slug).await? {
                crate::notifications::award_badge(conn, badge.id, person, None, None).await?;
            }
        }
    }
    Ok(())
}
