//! Ranks reached: a member whose contributions lift them to a higher rank is told, once per
//! rank. A rank lost is not told (removed content or a like taken back lower the score), and
//! reaching it again is not news twice: each member's highest rank told is kept.
//!
//! The rank is computed from counts (see `people::rank_of`), too dear to count on every like
//! the inbox receives; what can raise it marks the member instead (`mark_rank_due`: a post, a
//! reply, an accepted answer, a restore; a like marks it in the statement that counts it),
//! and the periodic job here looks at the marked ones.

use crate::{
    notifications::{notify, Notice},
    people, Conn, Context, CoreError,
};
use cenacle_db::engagement as ledger;
use cenacle_domain::{engagement::rank_reached_detail, notifications::Kind};
use std::future::Future;

/// Marks a local `person`'s rank to be looked at by the next run of [`tell_ranks_reached`]. Locks
/// their reputation row: call it where the order of locks allows (see `rewards::lock_people`).
pub(crate) async fn mark_rank_due(conn: &mut Conn, person: i64) -> Result<(), CoreError> {
    Ok(ledger::mark_rank_due(conn, person).await?)
}

/// At most `limit` people whose rank is marked to be looked at, read without locking: each is
/// then claimed by [`tell_rank_reached`] in a transaction of its own.
pub async fn ranks_due(conn: &mut Conn, limit: i64) -> Result<Vec<i64>, CoreError> {
    Ok(ledger::ranks_due(conn, limit).await?)
}

/// Drops `person`'s mark without a look: after a look that failed, so that it does not fail
/// every later run (their next contribution marks them again; nothing was recorded as told).
pub async fn drop_rank_mark(conn: &mut Conn, person: i64) -> Result<(), CoreError> {
    Ok(ledger::rank_looked_at(conn, person, None).await?)
}

/// The job: looks at each of `due` with `look` ([`tell_rank_reached`] in its own transaction,
/// so that a like or a post of theirs waits at most for their own count, never for a batch;
/// several servers may run it side by side, a mark being claimed with SKIP LOCKED), and
/// drops the mark of one whose look fails (logged). How many were told. The caller runs the
/// transactions (core opens none).
pub async fn tell_ranks_reached<L, LF, D, DF>(
    due: Vec<i64>,
    mut look: L,
    mut drop_mark: D,
) -> Result<usize, CoreError>
where
    L: FnMut(i64) -> LF,
    LF: Future<Output = Result<bool, CoreError>>,
    D: FnMut(i64) -> DF,
    DF: Future<Output = Result<(), CoreError>>,
{
    let mut told = 0;
    for person in due {
        match look(person).await {
            Ok(true) => told += 1,
            Ok(false) => {}
            Err(err) => {
                tracing::warn!(person, error = %err, "looking at a rank failed; mark dropped");
                drop_mark(person).await?;
            }
        }
    }
    Ok(told)
}

/// One marked person, claimed: whether they were told of a new rank (nothing when their mark
/// was looked at meanwhile, or another server holds it).
pub async fn tell_rank_reached(
    conn: &mut Conn,
    ctx: &Context,
    person: i64,
) -> Result<bool, CoreError> {
    let Some(due) = ledger::claim_rank_due(conn, person).await? else {
        // Looked at meanwhile, or being looked at by another server.
        return Ok(false);
    };
    // People of other servers are marked by the likes they receive here; their rank is their
    // home's business.
    let rank = match due.local {
        true => people::rank_of(conn, ctx, person).await?.1,
        false => None,
    };
    let Some(rank) = rank else {
        ledger::rank_looked_at(conn, person, None).await?;
        return Ok(false);
    };
    // None: never looked at, on a server upgraded with members in it: their current rank is
    // recorded without a word (old news).
    let mut told = false;
    if due.rank_told.is_some_and(|was| rank.min_score > was) {
        let detail = rank_reached_detail(&rank);
        let notice = Notice::new(Kind::RankReached, person, None).detail(&detail);
        told = notify(conn, notice).await?;
    }
    let highest = due
        .rank_told
        .map_or(rank.min_score, |was| was.max(rank.min_score));
    ledger::rank_looked_at(conn, person, Some(highest)).await?;
    Ok(told)
}
