//! Instance moderation (issue 13, item 4), by this instance's admins and moderators:
//! instance-wide bans of people (local or remote), the allow-list, limited instances, and
//! what a block of an instance undoes.
//!
//! - A banned remote person's activities are acknowledged and ignored (202, the reason
//!   logged); a banned member of ours cannot log in (`banned_from_instance`) and the
//!   sessions they had stop working at once. On request their posts and comments are removed
//!   (`removed_at`, with the ban's reason).
//! - A blocked instance: its actors' follows of ours are dropped (our groups stop relaying to
//!   it), our members' follows of its actors end, and every delivery queued for it is
//!   cancelled. Unblocking restores none of it: its people follow again if they wish.
//! - An instance's people are those its server serves and those whose confirmed handle names
//!   it (`person.handle_host`: `alice@example.org` whose actor is at `social.example.org`, as
//!   Mastodon's `LOCAL_DOMAIN` / `WEB_DOMAIN` allow). Blocking `example.org` reaches them too:
//!   what they send, or a group relays of theirs, is acknowledged and ignored; their follows
//!   both ways are dropped and their votes uncounted; from then on our members' follows of
//!   them are refused (403 `instance_blocked`) and a text naming them is not sent on their
//!   account. Limiting it holds their posts. Only people whose handle was confirmed are known
//!   as its people (a blocked host is not asked to confirm one).
//! - What is queued for such a person's own inbox is cancelled at the block, and, when the
//!   block is an admin's (stored), dropped unsent by the delivery worker if queued after it:
//!   an inbox that only blocked people use (no other person or group stored here has it as
//!   their inbox or their shared inbox: a server may give everyone one inbox). A shared inbox
//!   on their actor's host is left alone unless that host is blocked as well.
//! - A handle confirmed to name a blocked host after its block (the block's sweep did not know
//!   it) undoes for that person what the block would have: their follows both ways, what is
//!   queued to their own inbox, what their votes counted ([`handle_host_confirmed`]).

use crate::moderation_log::{self, NewModAction};
use crate::{accounts::Session, caller::require, federation, Conn, Context, CoreError};
use cenacle_db::{
    accounts as account_store, actors,
    instance_moderation::{self as store, InstanceBan},
};
use cenacle_domain::{
    approval::normalise_host,
    moderation::{check_expiry, check_reason, ModAction},
    Permission, Role,
};
use chrono::{DateTime, Utc};

pub use cenacle_db::instance_moderation::InstanceBan as Ban;

/// An instance-wide ban as asked.
#[derive(Debug, Clone)]
pub struct BanRequest {
    /// A local username, or a remote person's actor id.
    pub person: String,
    pub reason: String,
    /// None: until lifted.
    pub expires_at: Option<DateTime<Utc>>,
    /// Also remove every post and comment of theirs.
    pub remove_content: bool,
}

/// A person of ours or known here, by local username or actor id.
async fn find_person(conn: &mut Conn, person: &str) -> Result<(i64, bool), CoreError> {
    let found = if person.contains("://") {
        actors::person_by_ap_id(conn, person).await?
    } else {
        match account_store::find_by_username(conn, person).await? {
            Some(account) => actors::person_by_id(conn, account.person_id).await?,
            None => None,
        }
    };
    let person = found.ok_or(CoreError::NotFound("person"))?;
    Ok((person.id, person.local))
}

/// Bans a person from the whole instance (a second ban replaces the first). Admins cannot be
/// banned: they would lock the instance out of its own administration. A person (ours or of
/// another server) is banned once their writes that read "not banned" have committed,
/// waiting for them a bounded time (see `hold_person_standing_for_change`; past it, the
/// API's 503 and nothing written).
pub async fn ban(
    conn: &mut Conn,
    session: &Session,
    request: &BanRequest,
) -> Result<Ban, CoreError> {
    require(session, Permission::BanPeople)?;
    check_expiry(request.expires_at, Utc::now())?;
    let reason = check_reason(&request.reason)?;
    let (person_id, local) = find_person(conn, &request.person).await?;
    // The refusal first: it need not wait for the person's writes.
    if local {
        let account = account_store::find_by_id(conn, person_id).await?;
        if account.is_some_and(|a| a.role == Role::Admin) || person_id == session.account.person_id
        {
            return Err(CoreError::NotAllowed("ban_admin"));
        }
    }
    // Then, holding nothing else: waits for the activities of theirs being applied (they
    // read "not banned" before this commits), so that the removal below finds what they
    // apply; those read after wait for this ban and see it. A person of ours the same: their
    // writes in a group hold their standing and read the ban (`ban_checks::refuse_if_banned`).
    cenacle_db::federation::hold_person_standing_for_change(conn, person_id).await?;
    store::upsert_ban(
        conn,
        person_id,
        &reason,
        request.expires_at,
        Some(session.account.person_id),
    )
    .await?;
    if local {
        // Their sessions stop working now; logging in again is refused while banned.
        account_store::revoke_all_tokens(conn, person_id).await?;
    }
    if request.remove_content {
        let removed = store::remove_content_of(conn, person_id, &reason).await?;
        let gone = crate::group_bans::removed_items(&removed);
        // Not a question whose running bounty the banning moderator sponsors: the removal
        // would hand them the escrow back (see `bounties::refuse_take_down_by`).
        crate::bounties::refuse_removal_by(conn, &gone, session.account.person_id).await?;
        crate::rewards::on_content_removed(conn, &gone).await?;
        federate_removals(conn, session, local, &removed).await?;
    }
    moderation_log::record(
        conn,
        NewModAction {
            moderator_id: Some(session.account.person_id),
            target_person_id: Some(person_id),
            reason,
            expires_at: request.expires_at,
            ..NewModAction::new(ModAction::BanFromInstance)
        },
    )
    .await?;
    store::active_ban(conn, person_id)
        .await?
        .ok_or_else(|| CoreError::Internal("the ban just written is not in force".into()))
}

/// The removals of an instance ban leave as a moderator's removals do (a `Delete` with the
/// ban's reason as `summary`, by the admin who banned): announced by our group, for content in
/// our groups, so that the copies on the instances that follow it go too; sent to the group,
/// for our own member's content in a group elsewhere (Lemmy honours a removal from the
/// object's own domain; a Cénacle group, whose rule is its listed moderators, acknowledges and
/// ignores it). A remote person's content in a group elsewhere is that group's to moderate:
/// removed here only.
///
/// Why not a `Block` of the person from our instance actor: INTEROP.md documents `Block` only
/// as a group's ban (`target` the group, relayed by its `Announce`); Mastodon reads a `Block`
/// as one account blocking another; Lemmy's site ban is an admin's `Block` with `target` its
/// site (admin, site and person on one domain), which would need our instance actor to read
/// as a Lemmy site — nothing INTEROP.md establishes. The removals are what peers act on.
async fn federate_removals(
    conn: &mut Conn,
    session: &Session,
    author_is_local: bool,
    removed: &cenacle_db::reports::RemovedContent,
) -> Result<(), CoreError> {
    let caller = crate::Caller::from(session);
    for item in removed.posts.iter().chain(&removed.comments) {
        let Some(post) = cenacle_db::content::post_by_id(conn, item.post_id).await? else {
            continue;
        };
        let Some(group) = actors::group_by_id(conn, post.group_id).await? else {
            continue;
        };
        if !group.local && !author_is_local {
            continue;
        }
        let event = match item.comment_id {
            Some(comment) => cenacle_db::federation::OutboxEvent::CommentRemoved(comment),
            None => cenacle_db::federation::OutboxEvent::PostRemoved(item.post_id),
        };
        federation::record_event(conn, &caller, event).await?;
    }
    Ok(())
}

/// Lifts a ban in force.
pub async fn unban(conn: &mut Conn, session: &Session, person: &str) -> Result<(), CoreError> {
    require(session, Permission::BanPeople)?;
    let (person_id, _) = find_person(conn, person).await?;
    if !store::delete_ban(conn, person_id).await? {
        return Err(CoreError::Conflict("not_banned"));
    }
    moderation_log::record(
        conn,
        NewModAction {
            moderator_id: Some(session.account.person_id),
            target_person_id: Some(person_id),
            ..NewModAction::new(ModAction::UnbanFromInstance)
        },
    )
    .await?;
    Ok(())
}

/// Bans in force after `after_person_id`, for admins and moderators.
pub async fn bans(
    conn: &mut Conn,
    session: &Session,
    after_person_id: i64,
    limit: i64,
) -> Result<Vec<Ban>, CoreError> {
    require(session, Permission::BanPeople)?;
    Ok(store::active_bans(conn, after_person_id, limit).await?)
}

/// The ban in force on the actor of an incoming activity, if any: the inbox acknowledges and
/// ignores everything they send. Read after their standing is held for the transaction
/// ([`activity_kept_out`] asks [`sender_blocked`], or [`blocked_instance_of`] for an
/// announced actor, first): a ban committing between this read and the caller's commit would
/// otherwise miss, in its removal, what the caller applies.
async fn actor_ban(conn: &mut Conn, actor_ap_id: &str) -> Result<Option<InstanceBan>, CoreError> {
    Ok(store::active_ban_by_ap_id(conn, actor_ap_id).await?)
}

/// Which of `hosts` is blocked, by configuration or by an admin, read in the caller's
/// transaction: a block committed before that read is seen, whatever this process remembers.
/// It takes no lock: one committed after the read, while the caller's transaction runs, is
/// not seen unless the caller held the verdicts first, as the inbox and a member's follow do
/// before they write anything ([`sender_blocked`], [`blocked_instance_of`]). The outgoing path
/// calls this after its writes, where waiting for a block (which rewrites reputation rows)
/// could deadlock; a delivery it queues meanwhile is dropped by the worker, which reads with
/// its claim whether the inbox's host is blocked, and whether the inbox is the personal inbox
/// of people whose handle names a blocked host (theirs alone, as a block's sweep decides;
/// a shared inbox on their actor's host is sent to). Allow-list mode is not asked
/// here: it keeps out the hosts we talk to, which are checked before; a handle's host is never
/// talked to on its people's behalf, and an admin who allowed the server of a person's actor
/// did not mean to keep them out for the domain their handle names.
pub async fn blocked_host<'h>(
    conn: &mut Conn,
    ctx: &Context,
    hosts: impl IntoIterator<Item = &'h str>,
) -> Result<Option<String>, CoreError> {
    for host in hosts {
        let host = host.to_ascii_lowercase();
        let configured = &ctx.settings.federation.blocked_instances;
        if cenacle_domain::instance_lists::names(configured, &host)
            || cenacle_db::federation::instance_state(conn, &host)
                .await?
                .blocked
        {
            return Ok(Some(host));
        }
    }
    Ok(None)
}

/// The blocked instance the person of another server `actor_ap_id` belongs to, if any: the
/// one serving their actor or the one their confirmed handle names (see [`blocked_host`]).
/// Not a person stored here: none. Their standing and its verdicts are held for reading
/// first ([`held_remote_person`]): a block, or a confirmation that their handle names a
/// blocked host, committing meanwhile waits for the caller's transaction, whose follow or
/// activity its sweep then finds; one committed before is seen.
pub async fn blocked_instance_of(
    conn: &mut Conn,
    ctx: &Context,
    actor_ap_id: &str,
) -> Result<Option<String>, CoreError> {
    let Some(person) = held_remote_person(conn, actor_ap_id).await? else {
        return Ok(None);
    };
    let hosts = [person.instance_host, person.handle_host];
    let hosts: Vec<&str> = hosts.iter().flatten().map(String::as_str).collect();
    cenacle_db::federation::hold_verdicts_for_reading(conn, &hosts).await?;
    blocked_host(conn, ctx, hosts).await
}

/// The person of another server `actor_ap_id`, read once their standing (handle host, bans)
/// is held for reading until the transaction ends (against [`handle_host_confirmed`] and the
/// bans), so that the host their handle names is the one committed last, and a ban read later
/// in the transaction too; None when no such person is stored. The
/// hold first, then the read, in statements of their own (each statement reads what was
/// committed when it starts). Waits a bounded time: past it, [`CoreError::is_overloaded`].
async fn held_remote_person(
    conn: &mut Conn,
    actor_ap_id: &str,
) -> Result<Option<cenacle_db::actors::PersonActor>, CoreError> {
    cenacle_db::federation::hold_person_standing_for_reading(conn, actor_ap_id).await?;
    Ok(actors::person_by_ap_id(conn, actor_ap_id)
        .await?
        .filter(|p| !p.local))
}

/// Why the sender of an incoming activity is kept out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderBlocked {
    /// The host serving their actor is blocked, or outside the allow-list: we do not talk
    /// with it (the inbox refuses, 403).
    ActorHost(String),
    /// The host their confirmed handle names is blocked, though their actor's is not: they
    /// are that instance's people (acknowledged and ignored).
    HandleHost(String),
}

/// Whether the sender of an incoming activity is kept out, read in the caller's transaction:
/// the inbox's earlier check of the actor's host may be seconds old (each process remembers a
/// verdict a few seconds) and the actor's fetch may run between it and the transaction, so a
/// block committed meanwhile would otherwise let one more activity of any kind in. `signer`:
/// the actor id of a person (None for a group), whose confirmed handle host is read here,
/// held as [`blocked_instance_of`] holds it (the one their fetched actor carried may be older
/// than a confirmation that it names a blocked host). One read of the verdicts for both hosts.
/// Allow-list mode applies to the actor's host only (see [`blocked_host`]). The holds wait a
/// bounded time (a block being written): past it, [`CoreError::is_overloaded`], which the
/// inbox answers with a 503 and `Retry-After`, nothing recorded.
pub async fn sender_blocked(
    conn: &mut Conn,
    ctx: &Context,
    actor_host: &str,
    signer: Option<&str>,
) -> Result<Option<SenderBlocked>, CoreError> {
    use cenacle_domain::instance_lists::names;
    let actor_host = actor_host.to_ascii_lowercase();
    let handle_host = match signer {
        Some(signer) => held_remote_person(conn, signer)
            .await?
            .and_then(|p| p.handle_host),
        None => None,
    };
    let handle_host = handle_host.map(|h| h.to_ascii_lowercase());
    let hosts: Vec<&str> = std::iter::once(actor_host.as_str())
        .chain(handle_host.as_deref())
        .collect();
    // Held until the transaction ends: a block of either host committing meanwhile waits for
    // this activity to commit first, so its sweep finds what this one applies.
    cenacle_db::federation::hold_verdicts_for_reading(conn, &hosts).await?;
    let verdicts = store::verdicts(conn, &hosts).await?;
    let verdict = |host: &str| verdicts.iter().find(|v| v.host == host);
    let actor_out = crate::federation::kept_out(
        ctx,
        &actor_host,
        verdict(&actor_host).is_some_and(|v| v.blocked),
        verdict(&actor_host).is_some_and(|v| v.allowed),
    );
    // Not remembered by this process either way: a transaction's read may be older than an
    // unblock (or a block) another request has just written here, and must not overwrite it.
    if actor_out {
        return Ok(Some(SenderBlocked::ActorHost(actor_host)));
    }
    // A handle's host: blocked only, the allow-list not asked (see [`blocked_host`]).
    let blocked = |host: &str| {
        names(&ctx.settings.federation.blocked_instances, host)
            || verdict(host).is_some_and(|v| v.blocked)
    };
    Ok(handle_host
        .filter(|host| blocked(host))
        .map(SenderBlocked::HandleHost))
}

/// Why an incoming activity is kept out, decided in its transaction before anything of it
/// is applied ([`activity_kept_out`]).
#[derive(Debug, Clone)]
pub enum KeptOut {
    /// The signer is kept out by an instance verdict (see [`SenderBlocked`]).
    Sender(SenderBlocked),
    /// The signer is banned from this instance.
    SenderBanned(InstanceBan),
    /// The person whose activity a group's `Announce` carries belongs to a blocked instance.
    AnnouncedBlocked(String),
    /// The person whose activity a group's `Announce` carries is banned from this instance.
    AnnouncedBanned(InstanceBan),
}

/// Whether an incoming activity is kept out, asked first in the inbox's transaction:
/// `actor_host` and `actor_id` its signer's, `signer` the signer when a person (whose handle
/// host is held and read, see [`sender_blocked`]), `announced` the actor of the activity a
/// group's `Announce` carries. Each person's standing is held before their ban is read, so
/// that a ban with removal committing meanwhile waits for the activity and removes what it
/// applies, and an activity that reads after the ban sees it.
pub async fn activity_kept_out(
    conn: &mut Conn,
    ctx: &Context,
    actor_host: &str,
    actor_id: &str,
    signer: Option<&str>,
    announced: Option<&str>,
) -> Result<Option<KeptOut>, CoreError> {
    if let Some(blocked) = sender_blocked(conn, ctx, actor_host, signer).await? {
        return Ok(Some(KeptOut::Sender(blocked)));
    }
    if let Some(ban) = actor_ban(conn, actor_id).await? {
        return Ok(Some(KeptOut::SenderBanned(ban)));
    }
    let Some(inner) = announced else {
        return Ok(None);
    };
    Ok(person_kept_out(conn, ctx, inner)
        .await?
        .map(|out| match out {
            PersonKeptOut::BlockedInstance(host) => KeptOut::AnnouncedBlocked(host),
            PersonKeptOut::Banned(ban) => KeptOut::AnnouncedBanned(ban),
        }))
}

/// Why a person whose content a group elsewhere relays is kept out ([`person_kept_out`]).
#[derive(Debug, Clone)]
pub enum PersonKeptOut {
    /// They belong to a blocked instance: the one serving their actor, or the one their
    /// confirmed handle names (see [`blocked_instance_of`]).
    BlockedInstance(String),
    /// They are banned from this instance.
    Banned(InstanceBan),
}

/// Whether the person `actor_ap_id`, whose content a group elsewhere relays (the actor of
/// the activity its `Announce` carries, or the author of a replied-to object fetched for a
/// relayed reply), is kept out: their standing is held for reading until the transaction
/// ends, then the verdicts on their hosts are held and read, then their instance ban is read.
/// Asked in the caller's transaction before anything of theirs is stored, so that a ban with
/// removal (or a block) committing meanwhile waits for the caller and removes (or sweeps)
/// what it stores, and one committed before is seen. One rule for both: the inbox's
/// [`activity_kept_out`] and `inbound::announced_create`'s parents.
pub async fn person_kept_out(
    conn: &mut Conn,
    ctx: &Context,
    actor_ap_id: &str,
) -> Result<Option<PersonKeptOut>, CoreError> {
    // Holds their standing before their ban is read.
    if let Some(host) = blocked_instance_of(conn, ctx, actor_ap_id).await? {
        return Ok(Some(PersonKeptOut::BlockedInstance(host)));
    }
    Ok(actor_ban(conn, actor_ap_id)
        .await?
        .map(PersonKeptOut::Banned))
}

/// Allows or disallows an instance for allow-list mode (admins). Applies at once in this
/// process; other processes read it within seconds.
pub async fn set_allowed(
    conn: &mut Conn,
    ctx: &Context,
    session: &Session,
    host: &str,
    allowed: bool,
) -> Result<String, CoreError> {
    require(session, Permission::BlockInstances)?;
    let host = normalise_host(host)?;
    // First, holding nothing else: waits for the activities that read this host's verdict.
    cenacle_db::federation::hold_verdict_for_change(conn, &host).await?;
    store::set_allowed(conn, &host, allowed).await?;
    // Allowing is logged; taking an instance off the list is logged as a block (in
    // allow-list mode that is what it does).
    let action = if allowed {
        ModAction::AllowInstance
    } else {
        ModAction::BlockInstance
    };
    log_instance_action(conn, session, action, &host).await?;
    // Read back through the one rule, which also refreshes this process's memory of it.
    federation::instance_state(conn, ctx, &host).await?;
    Ok(host)
}

/// Limits an instance we know (admins): every post of its people in our groups waits for a
/// moderator's approval.
pub async fn set_limited(
    conn: &mut Conn,
    session: &Session,
    host: &str,
    limited: bool,
) -> Result<String, CoreError> {
    require(session, Permission::BlockInstances)?;
    let host = normalise_host(host)?;
    if !store::set_limited(conn, &host, limited).await? {
        return Err(CoreError::NotFound("instance"));
    }
    let action = if limited {
        ModAction::LimitInstance
    } else {
        ModAction::UnlimitInstance
    };
    log_instance_action(conn, session, action, &host).await?;
    Ok(host)
}

/// Logs an admin's action on a whole instance.
pub(crate) async fn log_instance_action(
    conn: &mut Conn,
    session: &Session,
    action: ModAction,
    host: &str,
) -> Result<(), CoreError> {
    moderation_log::record(
        conn,
        NewModAction {
            moderator_id: Some(session.account.person_id),
            target_instance: Some(host.to_owned()),
            ..NewModAction::new(action)
        },
    )
    .await?;
    Ok(())
}

/// What a block undid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockEffects {
    pub follows_dropped: usize,
    pub deliveries_cancelled: usize,
}

/// What blocking `host` undoes, in the block's transaction: follows both ways, and the
/// deliveries queued for it, or to the personal inbox of a person whose handle names it
/// (their actor's host, not blocked, keeps what goes to its shared inbox). A person whose
/// handle is confirmed to name it after the block loses the same ([`handle_host_confirmed`]).
pub(crate) async fn on_blocked(conn: &mut Conn, host: &str) -> Result<BlockEffects, CoreError> {
    Ok(BlockEffects {
        follows_dropped: store::drop_follows_with(conn, host).await?,
        deliveries_cancelled: store::cancel_deliveries_to(conn, host).await?,
    })
}

/// Blocks or unblocks another instance (admins only). A block also takes back what its
/// people's votes earned anyone here (unblocking does not pay it again: votes count from
/// when they are cast).
///
/// A block also drops the follows between it and us and cancels what is queued for it (see
/// this module); the effects are returned.
pub async fn set_blocked(
    conn: &mut Conn,
    ctx: &Context,
    session: &Session,
    host: &str,
    blocked: bool,
) -> Result<BlockEffects, CoreError> {
    require(session, Permission::BlockInstances)?;
    let host = cenacle_domain::approval::normalise_host(host)?;
    // First, holding nothing else: the activities that read this host's verdict before the
    // block commit first, so that the sweep below (follows, deliveries) finds what they
    // applied; those that read it after wait for the block and see it.
    cenacle_db::federation::hold_verdict_for_change(conn, &host).await?;
    cenacle_db::federation::set_blocked(conn, &host, blocked).await?;
    let action = if blocked {
        cenacle_domain::moderation::ModAction::BlockInstance
    } else {
        cenacle_domain::moderation::ModAction::UnblockInstance
    };
    log_instance_action(conn, session, action, &host).await?;
    let mut effects = Default::default();
    if blocked {
        // Its people's votes count for nothing from now on, those cast before included.
        crate::rewards::on_instance_blocked(conn, &host).await?;
        effects = on_blocked(conn, &host).await?;
    }
    // Read back through the one rule (allow-list mode included), which also refreshes this
    // process's memory of it.
    crate::federation::instance_state(conn, ctx, &host).await?;
    Ok(effects)
}

pub use cenacle_db::instance_moderation::KnownInstance;

/// The instances we know, with how we treat each (admins and those who may block instances).
pub async fn known_instances(
    conn: &mut Conn,
    session: &Session,
    limit: i64,
) -> Result<Vec<KnownInstance>, CoreError> {
    require(session, Permission::BlockInstances)?;
    Ok(store::known_instances(conn, limit).await?)
}

/// Stores the host `person_id`'s confirmed handle names (`None`: their actor's host), in the
/// caller's transaction, as [`crate::people::set_handle_host`] does; when that host is
/// blocked, the person is found to be a blocked instance's only now (a block drops what it
/// finds: a handle confirmed after it, by queries asked before it or by a process that did not
/// know of it yet), so what the block would have undone of theirs is undone now: their follows
/// both ways, what is queued to their personal inbox (the same rule as [`on_blocked`]), and
/// what their votes counted ([`crate::rewards::on_person_blocked`]). From then on, their
/// activities are ignored and our members' follows of them refused ([`sender_blocked`],
/// [`blocked_instance_of`]). `asked_at`: when the lookup that confirmed it began asking
/// ([`crate::people::lookup_started_at`]); a confirmation older than the answer stored about
/// the person or about whoever holds the handle ([`crate::people::set_handle_host`]) stores
/// nothing and undoes nothing.
///
/// Holds first, holding nothing else: the person's standing for a change (the activities
/// and follows that read it before commit first, and those that read it after wait and see
/// the new host), then the host's verdict for reading (a block committing meanwhile either
/// finds the handle stored, or is seen here) — the order the readers take them in.
pub async fn handle_host_confirmed(
    conn: &mut Conn,
    ctx: &Context,
    person_id: i64,
    host: Option<&str>,
    asked_at: chrono::DateTime<chrono::Utc>,
) -> Result<BlockEffects, CoreError> {
    cenacle_db::federation::hold_person_standing_for_change(conn, person_id).await?;
    if let Some(host) = host {
        cenacle_db::federation::hold_verdicts_for_reading(conn, &[host]).await?;
    }
    let stored = crate::people::set_handle_host(conn, person_id, host, asked_at).await?;
    if !stored || blocked_host(conn, ctx, host).await?.is_none() {
        return Ok(BlockEffects::default());
    }
    crate::rewards::on_person_blocked(conn, person_id).await?;
    Ok(BlockEffects {
        follows_dropped: store::drop_follows_of_person(conn, person_id).await?,
        deliveries_cancelled: store::cancel_personal_deliveries_of(conn, person_id).await?,
    })
}
