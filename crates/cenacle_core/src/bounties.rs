//! Bounties on questions: points held in escrow, awarded by the sponsor before the end or
//! settled at the end by the half-to-the-best-answer rule.
//!
//! Only our own members hold points, so only they are paid. A member of another instance who
//! wins (the sponsor's pick, or the best answer at the end) is credited on the bounty itself
//! (its `winner`) and with the `bounty_won` badge on their profile; the escrow is spent all
//! the same — were it returned, awarding a friendly remote account would make every bounty
//! free to post.
//!
//! A question that goes (its author deletes it, a moderator removes it, its server deletes
//! it) takes its running bounty with it: the bounty is closed as `cancelled` and the escrow
//! given back to the sponsor, in the transaction that takes the question down (see
//! `rewards::cancel_and_refund`). A restore does not reopen it: the sponsor may offer again.

use crate::{
    access::readable_post,
    notifications::{notify, Notice},
    rewards, Caller, Conn, Context, CoreError,
};
use cenacle_db::{
    bounties as settle, content as store,
    engagement::{self as ledger, Bounty},
    shop as shop_store,
};
use cenacle_domain::{notifications::Kind, shop::ShopRefusal, ValidationError};
use chrono::{Duration, Utc};

/// Bounds of a bounty, in points.
pub const BOUNTY_MIN: i64 = 10;
pub const BOUNTY_MAX: i64 = 5_000;
/// How long a bounty runs when its sponsor does not say.
pub const BOUNTY_DAYS: i64 = 7;

/// Offers points on a question: a member with enough reputation, or a community manager. The
/// amount leaves the sponsor's balance at once (escrow: the balance cannot go negative, so an
/// offer beyond the points available — the balance less what auction bids hold — is refused
/// with `insufficient_points`, as a redemption or a bid is) and goes to the answer the sponsor awards, or is settled at the
/// end by the half-to-the-best-answer rule (see [`settle_expired_bounties`]).
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
    let post = readable_post(conn, Some(caller), post_id).await?.post;
    // Its author still reads a question a moderator removed; nobody else can answer it, and it
    // is gone for the bounty as a deleted one is.
    if post.removed_at.is_some() {
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
    // Two offers racing past the check below meet the partial unique index; the API maps it
    // to a 409.
    if ledger::open_bounty_for_update(conn, post_id)
        .await?
        .is_some()
    {
        return Err(CoreError::Conflict("bounty_running"));
    }
    // Checked under the balance's lock, against what bids hold too: left to the balance's two
    // CHECKs (kept as the backstop), an offer beyond both would get whichever code PostgreSQL
    // happens to test first.
    ledger::lock_points(conn, caller.person_id).await?;
    let available = shop_store::available_points(conn, caller.person_id).await?;
    if amount > available.points() {
        return Err(ShopRefusal::InsufficientPoints.into());
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
}

/// The sponsor awards the escrowed amount to an answer (not their own) before the end: once
/// the end has passed, only the settling rule decides, even if the settler has not run yet.
pub async fn award_bounty(
    conn: &mut Conn,
    caller: &Caller,
    post_id: i64,
    comment_id: i64,
) -> Result<Bounty, CoreError> {
    let bounty = ledger::open_bounty_for_update(conn, post_id)
        .await?
        .ok_or(CoreError::NotFound("bounty"))?;
    if bounty.sponsor_id != caller.person_id {
        return Err(CoreError::NotAllowed("award_bounty"));
    }
    if bounty.ends_at <= Utc::now() {
        return Err(CoreError::Conflict("bounty_ended"));
    }
    // A question gone cancels its bounty in the same transaction; this is the backstop should
    // a bounty ever be left open on one.
    store::post_by_id(conn, post_id)
        .await?
        .filter(|q| q.deleted_at.is_none() && q.removed_at.is_none())
        .ok_or(CoreError::NotFound("post"))?;
    let answer = store::comment_by_id(conn, comment_id)
        .await?
        .filter(|c| {
            // A moderator's removal takes an answer out of the running too.
            c.post_id == post_id
                && c.parent_id.is_none()
                && c.deleted_at.is_none()
                && c.removed_at.is_none()
        })
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
/// instance when the bounty ran out).
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
    settle::award_badge_once(conn, "bounty_won", winner.person_id).await?;
    if let Some(post) = store::post_by_id(conn, bounty.post_id).await? {
        let by = (status == "awarded").then_some(bounty.sponsor_id);
        let paid_text = paid.to_string();
        let notice = Notice::new(Kind::BountyWon, winner.person_id, by)
            .about(post.group_id, post.id, Some(winner.comment_id))
            .detail(&paid_text);
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
/// [`settle::best_qualifying_answer`]). The rest of the escrow is not returned (the offer was
/// spent, as on Stack Overflow, so that bounties are not free to post and let lapse). Returns
/// how many were settled. Safe to run from several servers at once (rows are claimed SKIP
/// LOCKED).
pub async fn settle_expired_bounties(conn: &mut Conn) -> Result<usize, CoreError> {
    let expired = ledger::expired_bounties(conn, 100).await?;
    let mut winners = Vec::with_capacity(expired.len());
    for bounty in &expired {
        let best = settle::best_qualifying_answer(
            conn,
            bounty.post_id,
            bounty.created_at,
            bounty.ends_at,
            bounty.sponsor_id,
            1.0,
        )
        .await?;
        winners.push(best.map(|answer| Winner {
            comment_id: answer.comment_id,
            person_id: answer.author_id,
            local: answer.author_local,
        }));
    }
    // Every winner locked up front in person order (see `rewards::lock_people`), not in the
    // order of the bounties: another writer paying two of them would otherwise deadlock.
    let people: Vec<_> = winners
        .iter()
        .flatten()
        .map(|w| (w.person_id, w.local))
        .collect();
    rewards::lock_people(conn, &people).await?;
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
    Ok(expired.len())
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
