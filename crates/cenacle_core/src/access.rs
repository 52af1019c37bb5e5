//! Who may see and act on a group and its posts: the facts the rules of
//! `cenacle_domain::content` need, read in the caller's transaction.

use crate::{Caller, Conn, CoreError};
use cenacle_db::{
    actors::{self, Group},
    content::{self as store, Comment, Post, PostHold},
    federation as fed_store,
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

/// Who asks to read a group's content.
#[derive(Debug, Clone, Copy)]
pub enum Reader<'a> {
    /// Someone not signed in, or a fetch that proves no instance.
    Anonymous,
    /// A signed-in person (or a remote person acting through the inbox).
    Person(&'a Caller),
    /// Another server, proven by a signed fetch: its base URL, `scheme://host[:port]/`.
    Instance(&'a str),
}

impl<'a> From<Option<&'a Caller>> for Reader<'a> {
    fn from(caller: Option<&'a Caller>) -> Self {
        caller.map_or(Reader::Anonymous, Reader::Person)
    }
}

impl<'a> From<&'a Caller> for Reader<'a> {
    fn from(caller: &'a Caller) -> Self {
        Reader::Person(caller)
    }
}

/// Whether `reader` may see what `group` holds: its posts, comments, files, members,
/// followers, boards and contests. Public and restricted groups: anyone. Private groups: their
/// members and those who moderate every group (the rule of `cenacle_domain::content::can_read`),
/// and another server only when one of its people's follows of the group was approved (its
/// members there). Everything that shows one group's content asks here; the feeds and search,
/// which list many groups at once, filter in SQL (`cenacle_db::content` `READABLE`) by
/// membership only — stricter: they leave out the private groups an admin does not belong to.
/// The group's card (name, title, description, how to ask to join) is not content: everyone
/// sees it.
pub async fn may_read(
    conn: &mut Conn,
    group: &Group,
    reader: Reader<'_>,
) -> Result<bool, CoreError> {
    let visibility = visibility(group);
    if visibility != Visibility::Private {
        return Ok(true);
    }
    Ok(match reader {
        Reader::Anonymous => can_read(visibility, None),
        Reader::Person(caller) => {
            let actor = actor_in(conn, group, caller).await?;
            can_read(visibility, Some(&actor))
        }
        // A local-only group is never served to another server, follower or not.
        Reader::Instance(base) => {
            group.local
                && !group.local_only
                && fed_store::has_follower_under(conn, &group.ap_id, base).await?
        }
    })
}

/// Refuses a reader who may not see `group`'s content as if it did not exist (404 naming
/// `what`): a private group does not even reveal what it holds.
pub async fn require_readable(
    conn: &mut Conn,
    group: &Group,
    reader: Reader<'_>,
    what: &'static str,
) -> Result<(), CoreError> {
    if may_read(conn, group, reader).await? {
        Ok(())
    } else {
        Err(CoreError::NotFound(what))
    }
}

/// A local group by name whose content `reader` may see; 404 otherwise, as for a missing one.
pub async fn readable_local_group(
    conn: &mut Conn,
    name: &str,
    reader: Reader<'_>,
) -> Result<Group, CoreError> {
    let group = actors::local_group_by_name(conn, name)
        .await?
        .ok_or(CoreError::NotFound("group"))?;
    require_readable(conn, &group, reader, "group").await?;
    Ok(group)
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
    let post = store::post_by_id(conn, post_id).await?;
    readable(conn, caller, post).await
}

/// [`readable_post`] of a post already read (`None`: missing).
async fn readable(
    conn: &mut Conn,
    caller: Option<&Caller>,
    post: Option<Post>,
) -> Result<ReadablePost, CoreError> {
    let post = post
        .filter(|p| p.deleted_at.is_none())
        .ok_or(CoreError::NotFound("post"))?;
    let group = actors::group_by_id(conn, post.group_id)
        .await?
        .ok_or(CoreError::NotFound("post"))?;
    // The standing is read once, for the rule below and for the caller's next checks.
    let actor = match caller {
        Some(c) => Some(actor_in(conn, &group, c).await?),
        None => None,
    };
    if !can_read(visibility(&group), actor.as_ref()) {
        return Err(CoreError::NotFound("post"));
    }
    // A post in the approval queue (or rejected) is its author's and the moderators' only.
    if post.approval.is_some() {
        let is_author = caller.is_some_and(|c| c.person_id == post.author_id);
        if !is_author && !actor.as_ref().is_some_and(can_moderate) {
            return Err(CoreError::NotFound("post"));
        }
    }
    // Removed by a moderator: for the group's moderators and the author only (they see it
    // marked removed, with the reason); for everyone else, gone.
    if post.removed_at.is_some()
        && !actor.as_ref().is_some_and(can_moderate)
        && caller.map(|c| c.person_id) != Some(post.author_id)
    {
        return Err(CoreError::NotFound("post"));
    }
    Ok(ReadablePost { post, group, actor })
}

/// As [`readable_post`], for an acting caller: their standing is always known.
pub async fn post_for(
    conn: &mut Conn,
    caller: &Caller,
    post_id: i64,
) -> Result<(Post, Group, Actor), CoreError> {
    acting(readable_post(conn, Some(caller), post_id).await?)
}

/// As [`post_for`], for a write: the post held (`hold`) before it is read, so that its group,
/// the caller's rights and bans there are those of the group the post stays in until the
/// write commits, whatever move is being written (see `store::PostHold`). The caller's
/// standing is held first, as every write orders its locks (standings, then rows: see
/// `ban_checks::hold_standing`), for the ban checks that follow.
///
/// The lock comes before the check that the caller may read the post: anyone signed in who
/// names a private group's post holds it for as long as their refused request lasts (one
/// statement more, then the rollback), and learns nothing from the answer (404, as for a
/// missing one). Checking first would read the post twice on every write, the hot reply path
/// included, or reopen the race with a move this lock closes.
pub async fn post_held(
    conn: &mut Conn,
    caller: &Caller,
    post_id: i64,
    hold: PostHold,
) -> Result<(Post, Group, Actor), CoreError> {
    crate::ban_checks::hold_standing(conn, caller).await?;
    let post = store::post_held(conn, post_id, hold).await?;
    acting(readable(conn, Some(caller), post).await?)
}

/// As [`post_held`], for a write on the live comment `comment_id` (an edit, a deletion, a
/// report): its post held (`hold`, after the caller's standing) before the comment and the
/// rights are read — a comment never changes posts — so that a deletion being written is
/// waited for and the comment then found gone, and the rights are those of the group the
/// post stays in until the write commits. 404 `comment` when there is no such live comment.
pub async fn comment_held(
    conn: &mut Conn,
    caller: &Caller,
    comment_id: i64,
    hold: PostHold,
) -> Result<(Comment, Post, Group, Actor), CoreError> {
    crate::ban_checks::hold_standing(conn, caller).await?;
    let post = store::post_of_comment_held(conn, comment_id, hold)
        .await?
        .ok_or(CoreError::NotFound("comment"))?;
    let comment = store::comment_by_id(conn, comment_id)
        .await?
        .filter(|c| c.deleted_at.is_none())
        .ok_or(CoreError::NotFound("comment"))?;
    // A comment of a post the caller may not read answers as a missing one (not "post": that
    // would tell whoever names an id of a private group's comment that it exists).
    let found = readable(conn, Some(caller), Some(post))
        .await
        .map_err(as_missing("comment"))?;
    let (post, group, actor) = acting(found).map_err(as_missing("comment"))?;
    Ok((comment, post, group, actor))
}

/// A refusal as "not found" said of `what` (the thing the caller named), other errors as they
/// are.
pub(crate) fn as_missing(what: &'static str) -> impl Fn(CoreError) -> CoreError {
    move |e| match e {
        CoreError::NotFound(_) => CoreError::NotFound(what),
        e => e,
    }
}

/// A post read for an acting caller, whose standing is always known.
fn acting(found: ReadablePost) -> Result<(Post, Group, Actor), CoreError> {
    let actor = found.actor.ok_or(CoreError::NotFound("post"))?;
    Ok((found.post, found.group, actor))
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
