//! Who may moderate a group: one rule (`cenacle_domain::moderators`) for every moderation
//! action, whether it comes through the API, the web pages or the inbox — removals, bans,
//! reports, join requests, the approval queue, the group's settings.

use crate::{access, Caller, Conn, CoreError};
use cenacle_db::actors::{Group, PersonActor};
use cenacle_domain::{
    content::{can_read, GroupRole},
    moderators::{may_moderate, ModeratorFacts},
    origin::same_host,
    Role,
};

/// Who acts.
#[derive(Clone, Copy)]
pub enum Moderator<'a> {
    /// One of our members, through the API.
    Local(&'a Caller),
    /// A remote person, through an activity sent to us directly (`announced_by` None) or
    /// relayed by the remote group that holds the content.
    Remote {
        person: &'a PersonActor,
        announced_by: Option<&'a Group>,
    },
}

impl Moderator<'_> {
    pub(crate) fn person_id(&self) -> i64 {
        match self {
            Moderator::Local(caller) => caller.person_id,
            Moderator::Remote { person, .. } => person.id,
        }
    }
}

/// Whether `who` may moderate `group` for content of `content_group` (the rule of
/// `cenacle_domain::moderators`); refused as not allowed with the rule's code, or as not found
/// for a local caller who may not even read the group.
pub async fn authorize(
    conn: &mut Conn,
    group: &Group,
    content_group_id: i64,
    who: Moderator<'_>,
) -> Result<(), CoreError> {
    let facts = match who {
        Moderator::Local(caller) => {
            let actor = access::actor_in(conn, group, caller).await?;
            if !can_read(access::visibility(group), Some(&actor)) {
                return Err(CoreError::NotFound("group"));
            }
            ModeratorFacts {
                group_is_ours: group.local,
                announced_by_the_group: false,
                listed: actor.group_role >= Some(GroupRole::Moderator),
                instance_staff: matches!(
                    caller.instance_role,
                    Some(Role::Admin | Role::CommunityManager)
                ),
                on_group_host: false,
                local_person: true,
                content_in_group: content_group_id == group.id,
            }
        }
        Moderator::Remote {
            person,
            announced_by,
        } => {
            let acting_on = announced_by.unwrap_or(group);
            ModeratorFacts {
                group_is_ours: acting_on.local,
                announced_by_the_group: announced_by.is_some(),
                listed: access::is_group_moderator(conn, acting_on.id, person.id).await?,
                instance_staff: false,
                on_group_host: person
                    .ap_id
                    .as_deref()
                    .is_some_and(|id| same_host(id, &acting_on.ap_id)),
                local_person: person.local,
                content_in_group: content_group_id == acting_on.id,
            }
        }
    };
    may_moderate(facts).map_err(|refusal| CoreError::NotAllowed(refusal.code()))
}

/// One of our members acting on a group itself (banning from it, closing its reports, naming
/// its moderators): the same rule as on its content, [`authorize`], so that no path lets in
/// someone another refuses (the instance's moderators, not its staff, moderate no group).
pub async fn require_group_moderator(
    conn: &mut Conn,
    group: &Group,
    caller: &Caller,
) -> Result<(), CoreError> {
    authorize(conn, group, group.id, Moderator::Local(caller)).await
}
