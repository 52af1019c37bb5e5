//! Ranks reached: a member whose contributions lift them to a higher rank is told, once per
//! rank. A rank lost is not told (removed content or a like taken back lower the score), and
//! reaching it again is not news twice: each member's highest rank told is kept.
//!
//! The rank is computed from counts (see `people::rank_of`), too dear to count on every like
//! the inbox receives; what can raise it marks the member instead (`mark_rank_due`: a post, a
//! reply, an accepted answer; a like marks it in the statement that counts it), and the
//! periodic job here looks at the marked ones.

use crate::{
    notifications::{notify, Notice},
    people, Conn, Context, CoreError,
};
use cenacle_db::engagement as ledger;
use cenacle_domain::{engagement::rank_reached_detail, notifications::Kind};

/// Marks a local `person`'s rank to be looked at by the next [`tell_ranks_reached`].
pub(crate) async fn mark_rank_due(conn: &mut Conn, person: i64) -> Result<(), CoreError> {
    Ok(ledger::mark_rank_due(conn, person).await?)
}

/// Looks at the rank of at most `limit` marked people and tells those who reached a higher
/// one than they were told of. Several servers may run it side by side: the rows are claimed
/// with SKIP LOCKED. How many were told.
pub async fn tell_ranks_reached(
    conn: &mut Conn,
    ctx: &Context,
    limit: i64,
) -> Result<usize, CoreError> {
    let mut told = 0;
    for due in ledger::ranks_due(conn, limit).await? {
        // People of other servers are marked by the likes they receive here; their rank is
        // their home's business.
        let rank = match due.local {
            true => people::rank_of(conn, ctx, due.person_id).await?.1,
            false => None,
        };
        let Some(rank) = rank else {
            ledger::rank_looked_at(conn, due.person_id, None).await?;
            continue;
        };
        // None: never looked at, on a server upgraded with members in it: their current
        // rank is recorded without a word (old news).
        if due.rank_told.is_some_and(|was| rank.min_score > was) {
            let detail = rank_reached_detail(&rank);
            let notice = Notice::new(Kind::RankReached, due.person_id, None).detail(&detail);
            if notify(conn, notice).await? {
                told += 1;
            }
        }
        let highest = due
            .rank_told
            .map_or(rank.min_score, |was| was.max(rank.min_score));
        ledger::rank_looked_at(conn, due.person_id, Some(highest)).await?;
    }
    Ok(told)
}
