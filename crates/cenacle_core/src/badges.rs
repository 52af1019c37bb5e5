//! Badges given by hand (honorific ones such as Superuser or Staff), revoked with a reason,
//! and worn as a title. Automatic badges are awarded in `rewards`.

use crate::{accounts::Session, caller::require, people, Caller, Conn, Context, CoreError};
use cenacle_db::badges::{self as store, Badge};
use cenacle_domain::{
    champions::{ChampionRefusal, CHAMPION_BADGE},
    Permission, ValidationError,
};
use chrono::Utc;

/// Refuses changes by hand to the champion badge: it follows the champions programme
/// (activation awards it, exit revokes it), so a manager's award, revocation, restoration or
/// contest prize would make someone look like a champion who is not, or the reverse.
pub(crate) fn require_manual(slug: &str) -> Result<(), CoreError> {
    if slug == CHAMPION_BADGE {
        return Err(ChampionRefusal::ProgrammeOnlyBadge.into());
    }
    Ok(())
}

async fn badge(conn: &mut Conn, slug: &str) -> Result<Badge, CoreError> {
    store::badge_by_slug(conn, slug)
        .await?
        .ok_or(CoreError::NotFound("badge"))
}

/// Every badge there is.
pub async fn catalogue(conn: &mut Conn) -> Result<Vec<Badge>, CoreError> {
    Ok(store::catalogue(conn).await?)
}

/// A community manager awards a badge by hand.
pub async fn award_badge(
    conn: &mut Conn,
    session: &Session,
    person: i64,
    slug: &str,
    reason: Option<&str>,
) -> Result<(), CoreError> {
    require(session, Permission::ManageGroups)?;
    require_manual(slug)?;
    let badge = badge(conn, slug).await?;
    if crate::notifications::award_badge(
        conn,
        badge.id,
        person,
        Some(session.account.person_id),
        reason,
    )
    .await?
    .is_none()
    {
        return Err(CoreError::Conflict("badge_held"));
    }
    Ok(())
}

/// A community manager revokes a badge, with a reason (kept in its history).
pub async fn revoke_badge(
    conn: &mut Conn,
    session: &Session,
    person: i64,
    slug: &str,
    reason: &str,
) -> Result<(), CoreError> {
    require(session, Permission::ManageGroups)?;
    require_manual(slug)?;
    if reason.trim().is_empty() {
        return Err(ValidationError {
            field: "reason",
            code: "empty",
        }
        .into());
    }
    let badge = badge(conn, slug).await?;
    if !store::revoke(
        conn,
        badge.id,
        person,
        store::Revoker::Manager(session.account.person_id),
        reason.trim(),
        Utc::now(),
    )
    .await?
    {
        return Err(CoreError::NotFound("badge award"));
    }
    Ok(())
}

/// A community manager restores a revoked badge, with a reason: automatic badges, once
/// revoked, are not awarded again by their rule; only this brings one back. 404 when the
/// person never had it revoked, 409 `badge_held` when they hold it.
pub async fn restore_badge(
    conn: &mut Conn,
    session: &Session,
    person: i64,
    slug: &str,
    reason: &str,
) -> Result<(), CoreError> {
    require(session, Permission::ManageGroups)?;
    require_manual(slug)?;
    if reason.trim().is_empty() {
        return Err(ValidationError {
            field: "reason",
            code: "empty",
        }
        .into());
    }
    let badge = badge(conn, slug).await?;
    if store::last_revocation(conn, badge.id, person)
        .await?
        .is_none()
    {
        if store::held(conn, person)
            .await?
            .iter()
            .any(|(b, _)| b.id == badge.id)
        {
            return Err(CoreError::Conflict("badge_held"));
        }
        return Err(CoreError::NotFound("revoked badge"));
    }
    // A new award, by the manager: the revocation stays in the history.
    if crate::notifications::award_badge(
        conn,
        badge.id,
        person,
        Some(session.account.person_id),
        Some(reason.trim()),
    )
    .await?
    .is_none()
    {
        return Err(CoreError::Conflict("badge_held"));
    }
    Ok(())
}

/// What a community manager does to someone's badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadgeChange {
    Award,
    Revoke,
    Restore,
}

impl BadgeChange {
    pub fn parse(text: &str) -> Option<BadgeChange> {
        match text {
            "award" => Some(BadgeChange::Award),
            "revoke" => Some(BadgeChange::Revoke),
            "restore" => Some(BadgeChange::Restore),
            _ => None,
        }
    }
}

/// A community manager's change to the badge of the person named by `handle` (`username` or
/// `user@host`): the one entry the API and the admin page share. Revoking and restoring need
/// a reason.
pub async fn change_badge(
    conn: &mut Conn,
    ctx: &Context,
    session: &Session,
    handle: &str,
    slug: &str,
    reason: Option<&str>,
    change: BadgeChange,
) -> Result<(), CoreError> {
    require(session, Permission::ManageGroups)?;
    let person = people::person_by_handle(conn, ctx, handle.trim()).await?.id;
    match change {
        BadgeChange::Award => award_badge(conn, session, person, slug, reason).await,
        BadgeChange::Revoke => {
            revoke_badge(conn, session, person, slug, reason.unwrap_or("")).await
        }
        BadgeChange::Restore => {
            restore_badge(conn, session, person, slug, reason.unwrap_or("")).await
        }
    }
}

/// Wears one of one's badges as a title (None: no title).
pub async fn set_title(
    conn: &mut Conn,
    caller: &Caller,
    slug: Option<&str>,
) -> Result<(), CoreError> {
    let id = match slug {
        Some(slug) => {
            let held = store::held(conn, caller.person_id).await?;
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
    Ok(store::set_title(conn, caller.person_id, id).await?)
}
