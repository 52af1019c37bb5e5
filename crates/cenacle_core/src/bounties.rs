//! Bounties on questions: points held in escrow, awarded by the sponsor before the end or
//! settled at the end by the half-to-the-best-answer rule.
//!
//! Only our own members hold points, so only they are paid. A member of another instance who
//! wins (the sponsor's pick, or the best answer at the end) is credited on the bounty itself
//! (its `winner`) and with the `bounty_won` badge on their profile; the escrow is spent all
//! the same — were it returned, awarding a friendly remote account would make every bounty
//! free to post.
//!
//! While a bounty runs — open: neither awarded nor settled, even past its end before the
//! settler's pass — the question's author cannot delete it, and neither its author nor the
//! bounty's sponsor can delete or remove it as a moderator (`bounty_running`, 409, as on Stack
//! Overflow; see [`refuse_take_down_by`]): the take-down would hand the escrow back, an
//! author-sponsor could escape the lapse rule by taking the question down just before (or
//! after) the end, and a sponsor who moderates could take someone else's question down to get
//! their escrow back.
//!
//! A question that goes anyway before the end (another moderator removes or deletes it, its server
//! deletes it, another moderator's ban removes it) takes its running bounty with it: the bounty is
//! closed as `cancelled` and the escrow given back to the sponsor, in the transaction that takes
//! the question down (see `rewards::cancel_and_refund`) — the sponsor did not choose it. A restore
//! does not reopen it: the sponsor may offer again. A question that goes after the end, before the
//! settler ran, leaves its bounty to the lapse rule, applied when the settler runs as to any other:
//! half to the best-scored answer still live then, among those posted while the bounty ran, by the
//! votes first cast before the end as they stand then (see [`settle_expired_bounties`]), the rest
//! spent — a bounty's payment is never taken back by a later take-down either. The settler also
//! heals a bounty left open on a question gone before its end (data from before the cancellation
//! existed): cancelled and refunded, by the same refund, once.
//!
//! Locks: the question's post row first, then the bounty, then balances — a take-down takes
//! the post FOR UPDATE, an offer and an award FOR SHARE — so that none of them deadlocks with
//! another, and none commits a bounty on a question a take-down has just taken away. The
//! settler, which finds bounties by their end, takes the post (FOR KEY SHARE), then the
//! bounty, both SKIP LOCKED, and waits on neither.

use crate::{
    access::readable_post,
    notifications::{notify, Notice},
    rewards, Caller, Conn, Context, CoreError,
};
use cenacle_db::{
    bounties as bounty_store, content as store,
    engagement::{self as ledger, Bounty},
    shop as shop_store,
};
use cenacle_domain::{
    bounties::{refunded_when_gone, BountyRefusal},
    notifications::Kind,
    shop::ShopRefusal,
    ValidationError,
};
use chrono::{Duration, Utc};

/// Bounds of a bounty, in points.
pub const BOUNTY_MIN: i64 = 10;
pub const BOUNTY_MAX: i64 = 5_000;
/// How long a bounty runs when its sponsor does not say.
pub const BOUNTY_DAYS: i64 = 7;

/// Offers points on a question: a member with enough reputation, or a community manager. The
/// amount leaves the sponsor's balance at once (escrow: the balance cannot go negative, so an
/// offer beyond the points available — the balance less what auction bids hold — is refused
/// with `insufficient_points`, as a redemption or a bid is) and goes to the answer the sponsor
/// awards, or is settled at the end by the half-to-the-best-answer rule (see
/// [`settle_expired_bounties`]). Locks the question's row (FOR SHARE), then the bounty, then
/// the sponsor's balance: the order of a take-down, which it waits for or makes wait.
pub async fn offer_bounty(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    post_id: i64,
    amount: i64,
    days: Option<i64>,
) -> Result<Bounty, CoreError> {
    if !(BOUNTY_MIN..=BOUNTY_MAX).contains(&amount) {
        return Err(ValidationError {
            field: "amount",
            code: "out_of_range",
        }
        .into());
    }
    let days = days.unwrap_or(BOUNTY_DAYS);
    if !(1..=30).contains(&days) {
        return Err(ValidationError {
            field: "days",
            code: "out_of_range",
        }
        .into());
    }
    // Who may read it first; then its row share-locked before anything else (see the module's
    // notes on locks) and every check made on the row as the lock found it: a take-down in
    // progress was waited for, and a question it took away is refused here rather than given a
    // bounty that no award or settlement would then pay.
    readable_post(conn, Some(caller), post_id).await?;
    let post = bounty_store::question_for_share(conn, post_id)
        .await?
        .ok_or(CoreError::NotFound("post"))?;
    // Its author still reads a question a moderator removed; nobody else can answer it, and it
    // is gone for the bounty as a deleted one is.
    if post.deleted_at.is_some() || post.removed_at.is_some() {
        return Err(CoreError::NotFound("post"));
    }
    if post.kind != "question" {
        return Err(ValidationError {
            field: "post",
            code: "not_a_question",
        }
        .into());
    }
    // Held for approval (or rejected): nobody else sees it, so nobody could answer for it.
    if post.approval.is_some() {
        return Err(CoreError::Conflict("post_not_published"));
    }
    // Answered or locked: nobody can win it any more.
    if post.accepted_comment_id.is_some() || post.locked {
        return Err(CoreError::Conflict("question_closed"));
    }
    rewards::require_reputation(
        conn,
        caller,
        ctx.settings.engagement.privileges.offer_bounty,
    )
    .await?;
    // Two offers racing past the check below (both hold the post FOR SHARE) meet the partial
    // unique index: the insert's violation gives the same refusal.
    if ledger::open_bounty_for_update(conn, post_id)
        .await?
        .is_some()
    {
        return Err(BountyRefusal::Running { post_id }.into());
    }
    // Checked under the balance's lock, against what bids hold too: left to the balance's two
    // CHECKs (kept as the backstop), an offer beyond both would get whichever code PostgreSQL
    // happens to test first.
    ledger::lock_points(conn, caller.person_id).await?;
    let available = shop_store::available_points(conn, caller.person_id).await?;
    if amount > available.points() {
        return Err(ShopRefusal::InsufficientPoints.into());
    }
    let ends_at = Utc::now() + Duration::days(days);
    let bounty = match ledger::insert_bounty(conn, post_id, caller.person_id, amount, ends_at).await
    {
        // The other offer of a race committed first: the same refusal as the check's, naming
        // the question too (the transaction is aborted, and the caller's rollback takes the rest).
        Err(e)
            if e.constraint_violation()
                == Some(cenacle_db::ConstraintViolation::Unique(
                    "bounty_open_post_key",
                )) =>
        {
            return Err(BountyRefusal::Running { post_id }.into());
        }
        inserted => inserted?,
    };
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
}

/// The sponsor awards the escrowed amount to an answer (not their own) before the end: once
/// the end has passed, only the settling rule decides, even if the settler has not run yet.
pub async fn award_bounty(
    conn: &mut Conn,
    caller: &Caller,
    post_id: i64,
    comment_id: i64,
) -> Result<Bounty, CoreError> {
    // The question's row first, share-locked (the order of a take-down: post, bounty,
    // balances; the winner's notification takes a key lock on it too): a take-down in
    // progress is waited for, and one that comes later waits for the award. An answer's
    // take-down locks the post first as well, so the answer read below stays as read.
    let question = bounty_store::question_for_share(conn, post_id).await?;
    let bounty = ledger::open_bounty_for_update(conn, post_id)
        .await?
        .ok_or(CoreError::NotFound("bounty"))?;
    if bounty.sponsor_id != caller.person_id {
        return Err(CoreError::NotAllowed("award_bounty"));
    }
    if bounty.ends_at <= Utc::now() {
        return Err(CoreError::Conflict("bounty_ended"));
    }
    // A question gone before the end cancels its bounty in the same transaction; this is the
    // backstop should a bounty ever be left open on one (the settler heals those).
    question
        .filter(|q| q.deleted_at.is_none() && q.removed_at.is_none())
        .ok_or(CoreError::NotFound("post"))?;
    // A live top-level answer of the question (a moderator's removal takes an answer out of
    // the running too), key-locked before any balance: a take-down of it in progress (a ban's
    // removes comments without locking their posts first) is waited for here, not after the
    // balances, where the winner's notification would wait for it.
    let answer = store::live_answer_locked(conn, post_id, comment_id)
        .await?
        .ok_or(CoreError::NotFound("answer"))?;
    if answer.author_id == caller.person_id {
        return Err(CoreError::NotAllowed("award_own_answer"));
    }
    let winner = Winner {
        comment_id: answer.id,
        person_id: answer.author_id,
        local: answer.local,
    };
    pay_winner(
        conn,
        &bounty,
        "awarded",
        winner,
        bounty.amount,
        "bounty_awarded",
    )
    .await
}

/// Who wins a bounty: an answer and its author.
#[derive(Debug, Clone, Copy)]
struct Winner {
    comment_id: i64,
    person_id: i64,
    local: bool,
}

/// Closes a bounty won by `winner`: `amount` points to them if they are one of our members
/// (ledger row and balance in this transaction), the `bounty_won` badge to them wherever they
/// are, and a notification to tell them (from the sponsor who awarded it, or from the
/// instance when the bounty ran out), linked to the question and the answer only while the
/// question is there.
async fn pay_winner(
    conn: &mut Conn,
    bounty: &Bounty,
    status: &str,
    winner: Winner,
    amount: i64,
    reason: &str,
) -> Result<Bounty, CoreError> {
    let paid = if winner.local { amount } else { 0 };
    if paid > 0 {
        ledger::record_points(
            conn,
            winner.person_id,
            paid,
            reason,
            &format!("bounty:{}:award", bounty.id),
            None,
        )
        .await?;
    }
    bounty_store::award_badge_once(conn, "bounty_won", winner.person_id).await?;
    if let Some(post) = store::post_by_id(conn, bounty.post_id).await? {
        let by = (status == "awarded").then_some(bounty.sponsor_id);
        let paid_text = paid.to_string();
        let notice = Notice::new(Kind::BountyWon, winner.person_id, by).detail(&paid_text);
        // A question gone after the end (settled by the lapse rule all the same) is linked to
        // nobody: the notice tells of the win and the points alone, not of a thread (its title
        // included) that nobody may read any more.
        let notice = if post.deleted_at.is_none() && post.removed_at.is_none() {
            notice.about(post.group_id, post.id, Some(winner.comment_id))
        } else {
            notice
        };
        notify(conn, notice).await?;
    }
    Ok(ledger::close_bounty(
        conn,
        bounty.id,
        status,
        Some((winner.comment_id, winner.person_id)),
        paid,
    )
    .await?)
}

/// Settles bounties whose time ran out without an award — the half-to-the-best-answer rule:
/// half the amount (rounded down) goes to the best-scored answer posted while the bounty ran
/// by someone other than the sponsor (when the sponsor's own answer scores best, the next one
/// wins), if its score is at least 1. Each vote cast before the end weighs its voter's instance
/// weight (0 for a blocked instance, 1 for our members); the author's own counts nothing (see
/// [`bounty_store::best_qualifying_answer`]). The rest of the escrow is not returned (the offer
/// was spent, as on Stack Overflow, so that bounties are not free to post and let lapse). A
/// question gone after the end (taken down before this pass) changes nothing: the rule applies
/// as to any other. It reads the thread as it is when it runs, not as it stood at the end:
/// only answers still live (neither deleted nor removed) compete, scored by the votes first
/// cast before the end as they stand then (one withdrawn since counts no more, one changed
/// since counts as changed) — an answer that led at the end and was taken down since leaves
/// the next best to win.
///
/// It heals too: a bounty still open on a question that went before its end (deleted or
/// removed without its take-down cancelling it: data from before that existed) is cancelled
/// and refunded as a take-down does (`rewards::cancel_and_refund`, the same once-only refund),
/// whether or not its end has passed — instead of lapsing with nobody paid.
///
/// Returns how many bounties it closed. Safe to run from several servers at once, and beside
/// take-downs: rows are claimed SKIP LOCKED, never waited for (see
/// `bounty_store::due_bounties`).
pub async fn settle_expired_bounties(conn: &mut Conn) -> Result<usize, CoreError> {
    let due = bounty_store::due_bounties(conn, 100).await?;
    let mut cancelled = Vec::new();
    let mut expired = Vec::new();
    let mut winners = Vec::new();
    for item in due {
        let bounty = item.bounty;
        if item
            .gone_at
            .is_some_and(|gone_at| refunded_when_gone(bounty.ends_at, gone_at))
        {
            cancelled.push(bounty);
            continue;
        }
        // Past its end (a question gone since went at or after the end): the lapse rule.
        let best = bounty_store::best_qualifying_answer(
            conn,
            bounty.post_id,
            bounty.created_at,
            bounty.ends_at,
            bounty.sponsor_id,
            1.0,
        )
        .await?;
        if let Some(answer) = &best {
            if !bounty_store::lock_winning_answer(conn, answer.comment_id).await? {
                // Being taken down: settled on a later pass, on what it leaves.
                continue;
            }
        }
        expired.push(bounty);
        winners.push(best.map(|answer| Winner {
            comment_id: answer.comment_id,
            person_id: answer.author_id,
            local: answer.author_local,
        }));
    }
    // Every winner and every sponsor refunded locked up front in person order (see
    // `rewards::lock_people`), not in the order of the bounties: another writer paying two of
    // them would otherwise deadlock.
    let people: Vec<_> = winners
        .iter()
        .flatten()
        .map(|w| (w.person_id, w.local))
        .chain(cancelled.iter().map(|b| (b.sponsor_id, true)))
        .collect();
    rewards::lock_people(conn, &people).await?;
    rewards::cancel_and_refund(conn, &cancelled).await?;
    for (bounty, winner) in expired.iter().zip(winners) {
        match winner {
            Some(winner) => {
                pay_winner(
                    conn,
                    bounty,
                    "expired",
                    winner,
                    bounty.amount / 2,
                    "bounty_half_awarded",
                )
                .await?;
            }
            None => {
                ledger::close_bounty(conn, bounty.id, "expired", None, 0).await?;
            }
        }
    }
    Ok(cancelled.len() + expired.len())
}

/// Refuses a take-down of questions by one of our members — a deletion, a moderator's
/// removal, or the removal of content a ban orders — while a bounty runs on one of them
/// (open: neither awarded nor settled, even past its end until the settler ran) when they
/// asked that question or sponsor that bounty (`bounty_running`, 409, as on Stack Overflow,
/// naming the question: a ban may take down many).
/// The take-down would hand the escrow back: an author-sponsor could escape the lapse rule by
/// deleting, or removing then restoring, their question just before (or after) the end, and a
/// sponsor who moderates could take someone else's question down — by hand, or by banning its
/// author with their content removed, then lifting the ban and restoring it — to get their
/// escrow back. Called by `posts::delete_post` under the post's FOR UPDATE lock, and by
/// `moderation::set_removal` (a post's removal, not its restore nor a comment's) and the bans
/// (`group_bans::apply_ban`, `instance_moderation::ban`) right after their update removed the
/// posts, which locks them as well: an offer's and an award's FOR SHARE wait for that lock
/// (and the settler skips it), so the answer cannot change before the take-down commits, and
/// the refusal rolls the removal back with the rest of the caller's transaction. A moderator
/// who is neither (cancelling the bounty and refunding its sponsor if its end was still to
/// come, leaving it to the lapse rule otherwise: see the module's notes), a remote author's
/// Delete and a remote moderator's removal or ban (their server did it; remote people sponsor
/// nothing) go through. An answer's removal is not refused: it gives no escrow back (a
/// sponsor who moderates could remove the leading answer after the end and leave half the
/// escrow to the next one, which they could as well have awarded by hand).
pub(crate) async fn refuse_take_down_by(
    conn: &mut Conn,
    post_ids: &[i64],
    person_id: i64,
) -> Result<(), CoreError> {
    if let Some(post_id) = bounty_store::bounty_running_for(conn, post_ids, person_id).await? {
        return Err(BountyRefusal::Running { post_id }.into());
    }
    Ok(())
}

/// [`refuse_take_down_by`] for the content a ban's removal took (`gone`): the questions among
/// it, by the moderator `person_id` who banned.
pub(crate) async fn refuse_removal_by(
    conn: &mut Conn,
    gone: &[rewards::Gone],
    person_id: i64,
) -> Result<(), CoreError> {
    refuse_take_down_by(conn, &rewards::Gone::post_ids(gone), person_id).await
}

/// A question's latest bounty, for whoever may read the question.
pub async fn bounty_of(
    conn: &mut Conn,
    caller: Option<&Caller>,
    post_id: i64,
) -> Result<Option<Bounty>, CoreError> {
    readable_post(conn, caller, post_id).await?;
    bounty_of_read_post(conn, post_id).await
}

/// The latest bounty of a question its caller has already read as its viewer may
/// (`posts::get_post` on the question page): the post is not read a second time.
pub async fn bounty_of_read_post(
    conn: &mut Conn,
    post_id: i64,
) -> Result<Option<Bounty>, CoreError> {
    Ok(ledger::latest_bounty(conn, post_id).await?)
}
