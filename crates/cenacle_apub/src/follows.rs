//! Finding remote actors and following them: what `/api/v1/resolve` and `/api/v1/follows` do;
//! and the pass that has our members follow groups elsewhere again once their bans there ran out.

use crate::{
    activities::{follow::follow_again, Follow, Undo},
    objects::{group::ApubGroup, person::ApubPerson, ApubActor},
    queue, ApubError, Federation,
};
use activitypub_federation::{
    fetch::object_id::ObjectId,
    traits::{Actor, Object},
};
use cenacle_core::{
    accounts::Session, actors, federation, identity::urls, instance_moderation, model::FollowRow,
    CoreError, ScopedFutureExt,
};
use either::Either;
use url::Url;

/// A person or group found by handle or URL, local or remote.
pub enum Resolved {
    Person(ApubPerson),
    Group(ApubGroup),
}

impl Resolved {
    pub fn id(&self) -> &Url {
        match self {
            Resolved::Person(p) => p.id(),
            Resolved::Group(g) => g.id(),
        }
    }

    fn inbox(&self) -> Url {
        match self {
            Resolved::Person(p) => p.inbox(),
            Resolved::Group(g) => g.inbox(),
        }
    }

    pub fn is_local(&self) -> bool {
        match self {
            Resolved::Person(p) => p.row.local,
            Resolved::Group(g) => g.row.local,
        }
    }
}

impl From<ApubActor> for Resolved {
    fn from(actor: ApubActor) -> Self {
        match actor {
            Either::Left(p) => Resolved::Person(p),
            Either::Right(g) => Resolved::Group(g),
        }
    }
}

/// Resolves `!group@host`, `@person@host`, `name@host` or an actor URL. Local names are looked
/// up directly; remote ones through WebFinger and a (signed) fetch, then cached.
pub async fn resolve(fed: &Federation, query: &str) -> Result<Resolved, ApubError> {
    let data = fed.data();
    let query = query.trim();
    if query.starts_with("https://") || query.starts_with("http://") {
        let url = Url::parse(query).map_err(|e| ApubError::Malformed(e.to_string()))?;
        return Ok(ObjectId::<ApubActor>::from(url)
            .dereference(&data)
            .await?
            .into());
    }
    let prefers_group = query.starts_with('!');
    let handle = query.trim_start_matches(['!', '@']);
    let (name, host) = handle
        .rsplit_once('@')
        .ok_or_else(|| ApubError::Malformed("expected name@host or a URL".into()))?;
    if host.eq_ignore_ascii_case(&cenacle_core::identity::local_host(&data.ctx.settings)) {
        let base = data.base();
        // Our names are lower-case, whatever capitals a member writes.
        let name = &name.to_ascii_lowercase();
        let (group_id, person_id) = (urls::group(&base, name), urls::person(&base, name));
        let mut conn = data.db.conn().await?;
        let group = actors::group_by_ap_id(&mut conn, &group_id).await?;
        let person = actors::person_by_ap_id(&mut conn, &person_id).await?;
        return match (group, person) {
            (Some(g), Some(_)) if prefers_group => Ok(Resolved::Group(ApubGroup::new(g)?)),
            (_, Some(p)) => Ok(Resolved::Person(ApubPerson::new(p)?)),
            (Some(g), None) => Ok(Resolved::Group(ApubGroup::new(g)?)),
            (None, None) => Err(ApubError::NotFound),
        };
    }
    Ok(crate::webfinger_lookup::find_by_handle::<ApubActor>(
        &format!("{name}@{host}"),
        // Lemmy's way: `!name@host` is a community. Otherwise the last link, as the
        // federation library chose: Lemmy's community, for the group-follow form where
        // members write `@name@host` too.
        prefers_group.then_some("Group"),
        &data,
    )
    .await?
    .into())
}

/// The caller follows `target`. Remote: a pending follow and a Follow activity, committed
/// together; the Accept completes it. Local: accepted at once.
pub async fn follow(
    fed: &Federation,
    session: &Session,
    target: &str,
) -> Result<(Resolved, String), ApubError> {
    let data = fed.data();
    // Resolving may fetch: before the transaction.
    let target = resolve(fed, target).await?;
    let me = local_actor(fed, session).await?;
    let follow = Follow::new(&data, me.id(), target.id());
    let local = target.is_local();
    let remote_person = !local && matches!(target, Resolved::Person(_));
    let inbox = target.inbox();
    let target_id = target.id().clone();
    let data = &data;
    let followed = data
        .db
        .transaction(|conn| {
            async move {
                // A person of a blocked instance (by their actor's host, or the host their
                // confirmed handle names) is not followed: read here, holding their handle
                // host and its verdict, so that a block or a confirmation committing meanwhile
                // finds this follow and drops it, or is seen and refuses it. The resolution
                // above may have just confirmed their handle (dropping their follows): this
                // check comes after it.
                if remote_person {
                    let ctx = &data.ctx;
                    if let Some(host) =
                        instance_moderation::blocked_instance_of(conn, ctx, target_id.as_str())
                            .await?
                    {
                        return Ok(Err(host));
                    }
                }
                let state = federation::follow(
                    conn,
                    &me.row,
                    target_id.as_str(),
                    local,
                    follow.id.as_str(),
                )
                .await?;
                if !local {
                    queue::send(
                        conn,
                        data,
                        &follow.id,
                        me.id(),
                        &follow,
                        [inbox.to_string()],
                    )
                    .await?;
                }
                Ok(Ok(state))
            }
            .scope_boxed()
        })
        .await?;
    // The API answers 403 `instance_blocked`, as for a fetch refused for a blocked host.
    let state = followed.map_err(ApubError::Blocked)?;
    Ok((target, state.to_owned()))
}

/// The caller stops following `target` (an id): the follow goes, and an Undo of the original
/// Follow is sent to remote targets.
pub async fn unfollow(fed: &Federation, session: &Session, target: &str) -> Result<(), ApubError> {
    let data = fed.data();
    let me = local_actor(fed, session).await?;
    let target_url = Url::parse(target).map_err(|e| ApubError::Malformed(e.to_string()))?;
    let inbox = if data.is_local(&target_url) {
        None
    } else {
        Some(resolve(fed, target).await?.inbox())
    };
    let data = &data;
    data.db
        .transaction(|conn| {
            async move {
                let existing = federation::unfollow(conn, me.id().as_str(), target).await?;
                if let Some(inbox) = inbox {
                    let mut original = Follow::new(data, me.id(), &target_url);
                    original.id = Url::parse(&existing.follow_activity_id)
                        .map_err(|e| CoreError::Internal(e.to_string()))?;
                    let undo = Undo::of_follow(data, original);
                    queue::send(conn, data, &undo.id, me.id(), &undo, [inbox.to_string()]).await?;
                }
                Ok(())
            }
            .scope_boxed()
        })
        .await?;
    Ok(())
}

/// Bans that ran out handled per transaction. Public for the test that one pass goes on past
/// the first batch (cenacle_api's `bans_run_out_pass`), which sizes its bans by it.
pub const BANS_RUN_OUT_BATCH: i64 = 100;

/// How long after a ban's end its Follow waits at least: the clock skew between servers it
/// allows for (a server that still sees the ban in force drops the Follow, and nothing would
/// send it again).
const BANS_RUN_OUT_GRACE: chrono::TimeDelta = chrono::TimeDelta::seconds(120);

/// One pass over the bans of our members from groups elsewhere that ran out since the last
/// one: each member who still follows the group here has their Follow sent again, as when a
/// ban is lifted (`activities::follow::follow_again`). A ban that simply runs out comes with
/// no `Undo{Block}` (Lemmy never sends one), and the group's server dropped the member's
/// follow when it banned them: without this pass they would show as following and receive
/// nothing from the group, forever.
///
/// A batch per transaction, the bans claimed with SKIP LOCKED and marked handled (once per
/// ban: banning again clears the mark), so that several servers may run the pass side by
/// side. Returns how many bans were handled, those of members banned from our instance now
/// included: set aside, no Follow, until that ban ends (see
/// `cenacle_db::reports::claim_bans_run_out_elsewhere`).
///
/// Only bans that ran out at least [`BANS_RUN_OUT_GRACE`] ago (or one beat, when beats are
/// shorter): a server whose clock is a little behind ours has seen the ban end too when the
/// Follow comes. Each Follow in a savepoint of its own: one that fails is logged and rolled
/// back alone, its ban tried again later (a minute, then twice as long after each failure, at
/// most a day: `federation::defer_ban_run_out`), and the others go.
pub async fn follow_again_after_bans_ran_out(fed: &Federation) -> Result<usize, ApubError> {
    let data = fed.data();
    let data = &*data;
    let beat = chrono::TimeDelta::seconds(
        data.ctx.settings.federation.bans_run_out_interval_seconds as i64,
    );
    let grace = BANS_RUN_OUT_GRACE.min(beat);
    let mut handled = 0;
    loop {
        let (claimed, failed) = data
            .db
            .transaction(|conn| {
                async move {
                    let (claimed, due) =
                        federation::claim_bans_run_out(conn, BANS_RUN_OUT_BATCH, grace).await?;
                    let mut failed = 0;
                    for (group, person) in &due {
                        let sent = cenacle_core::in_savepoint(conn, |conn| {
                            follow_again(conn, data, group, person).scope_boxed()
                        })
                        .await;
                        if let Err(err) = sent {
                            match federation::defer_ban_run_out(conn, group.id, person.id)
                                .await?
                            {
                                Some(retry_at) => tracing::error!(error = %err, group = %group.ap_id, person = person.id, %retry_at, "following again after a ban ran out failed; tried again later"),
                                // The claim holds the row: never, short of a bug.
                                None => tracing::error!(error = %err, group = %group.ap_id, person = person.id, "following again after a ban ran out failed, and its ban could not be deferred: not tried again"),
                            }
                            failed += 1;
                        }
                    }
                    Ok((claimed, failed))
                }
                .scope_boxed()
            })
            .await?;
        handled += claimed - failed;
        // A ban that failed is deferred (not claimed again before its retry time): the next
        // batch holds other bans, and the loop ends when one comes back short — at the end,
        // or when bans were left for a later pass (their instance ban being lifted right now:
        // `claim_bans_run_out_elsewhere`).
        if (claimed as i64) < BANS_RUN_OUT_BATCH {
            return Ok(handled);
        }
    }
}

/// The caller's follows, newest first, with the cached group title where the target is a group.
pub async fn my_follows(
    fed: &Federation,
    session: &Session,
) -> Result<Vec<(FollowRow, Option<String>)>, ApubError> {
    let me = local_actor(fed, session).await?;
    let mut conn = fed.config.db.conn().await?;
    Ok(federation::follows_of(&mut conn, me.id().as_str()).await?)
}

async fn local_actor(fed: &Federation, session: &Session) -> Result<ApubPerson, ApubError> {
    let mut conn = fed.config.db.conn().await?;
    let id = urls::person(
        &fed.config.ctx.settings.public_base(),
        &session.account.username,
    );
    let row = actors::person_by_ap_id(&mut conn, &id)
        .await?
        .ok_or(ApubError::Core(CoreError::NotFound("actor")))?;
    ApubPerson::new(row)
}
