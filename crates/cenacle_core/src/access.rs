//! Who may see and act on a group and its posts: the facts the rules of
//! `cenacle_domain::content` need, read in the caller's transaction.

use crate::{Caller, Conn, CoreError};
use cenacle_db::{
    actors::{self, Group},
    content::{self as store, Post},
};
use cenacle_domain::content::{can_moderate, can_read, Actor, GroupRole, Visibility};

pub fn visibility(group: &Group) -> Visibility {
    group.visibility.parse().unwrap_or(Visibility::Private)
}

/// The caller as the rules see them in `group`: their instance role and group role.
pub async fn actor_in(conn: &mut Conn, group: &Group, caller: &Caller) -> Result<Actor, CoreError> {
    let role = store::membership_role(conn, group.id, caller.person_id).await?;
    Ok(Actor {
        instance_role: caller.instance_role,
        group_role: role.and_then(|r| r.parse::<GroupRole>().ok()),
    })
}

/// A post the caller may read, with its group and the caller's standing there. Unreadable
/// and missing look the same (404), so that private groups do not reveal what they contain.
pub struct ReadablePost {
    pub post: Post,
    pub group: Group,
    pub actor: Option<Actor>,
}

pub async fn readable_post(
    conn: &mut Conn,
    caller: Option<&Caller>,
    post_id: i64,
) -> Result<ReadablePost, CoreError> {
    let post = store::post_by_id(conn, post_id)
        .await?
        .filter(|p| p.deleted_at.is_none())
        .ok_or(CoreError::NotFound("post"))?;
    let group = actors::group_by_id(conn, post.group_id)
        .await?
        .ok_or(CoreError::NotFound("post"))?;
    let actor = match caller {
        Some(c) => Some(actor_in(conn, &group, c).await?),
        None => None,
    };
    if !can_read(visibility(&group), actor.as_ref()) {
        return Err(CoreError::NotFound("post"));
    }
    Ok(ReadablePost { post, group, actor })
}

/// Refuses (as not found: private groups do not reveal what they hold) a caller who may not
/// read `group`. Their membership is read only when it matters (private groups).
pub async fn require_readable(
    conn: &mut Conn,
    group: &Group,
    caller: &Caller,
    what: &'static str,
) -> Result<(), CoreError> {
    let visibility = visibility(group);
    if visibility != Visibility::Private {
        return Ok(());
    }
    let actor = actor_in(conn, group, caller).await?;
    if !can_read(visibility, Some(&actor)) {
        return Err(CoreError::NotFound(what));
    }
    Ok(())
}

/// As [`readable_post`], for an acting caller: their standing is always known.
pub async fn post_for(
    conn: &mut Conn,
    caller: &Caller,
    post_id: i64,
) -> Result<(Post, Group, Actor), CoreError> {
    let found = readable_post(conn, Some(caller), post_id).await?;
    let actor = found.actor.ok_or(CoreError::NotFound("post"))?;
    Ok((found.post, found.group, actor))
}

/// Refuses anyone who does not moderate `group`.
pub async fn require_moderator(
    conn: &mut Conn,
    group: &Group,
    caller: &Caller,
) -> Result<Actor, CoreError> {
    let actor = actor_in(conn, group, caller).await?;
    if !can_moderate(&actor) {
        return Err(CoreError::NotAllowed("moderate_group"));
    }
    Ok(actor)
}

/// Whether `person` moderates `group` (owner or moderator), by the group's own list.
pub async fn is_group_moderator(
    conn: &mut Conn,
    group_id: i64,
    person_id: i64,
) -> Result<bool, CoreError> {
    Ok(store::membership_role(conn, group_id, person_id)
        .await?
        .and_then(|r| r.parse::<GroupRole>().ok())
        >= Some(GroupRole::Moderator))
}

pub fn forbid(action: &'static str) -> CoreError {
    CoreError::NotAllowed(action)
}
