//! Who may moderate a group: one rule for our members' API calls and for activities from
//! other servers.
//!
//! A group is moderated by its owner and moderators (local or remote people, as listed in its
//! moderators collection) and by the staff of the instance that holds it (admins and
//! community managers). For a group of ours, a remote person's action counts only when they
//! are listed among its moderators — the trust Lemmy 1.0 applies. For a group elsewhere, its
//! own server is the authority: we apply a moderator's action on our copy only when that
//! group relays it (its `Announce`), and only from someone listed for that group (or on the
//! group's own server, whose staff it vouches for). A moderator of another group, or anyone
//! acting directly on our copy of a remote group, is refused.

/// What we know about one person acting on one group's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModeratorFacts {
    /// The group is ours (we are its server).
    pub group_is_ours: bool,
    /// The action reached us inside that group's own `Announce`.
    pub announced_by_the_group: bool,
    /// The person is the group's owner or one of its listed moderators.
    pub listed: bool,
    /// The person is a local admin or community manager (never true for remote people).
    pub instance_staff: bool,
    /// The person is on the group's own server (its staff, vouched for by its `Announce`).
    pub on_group_host: bool,
    /// The person is one of our members, acting through our API.
    pub local_person: bool,
    /// The content acted on belongs to that group.
    pub content_in_group: bool,
}

/// Why a moderation action is refused (a stable code, for the API and the inbox logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeratorRefusal {
    /// Not among the group's moderators (nor its instance's staff).
    NotAModerator,
    /// A remote group's content changes here only through that group's `Announce`.
    NotThroughTheGroup,
    /// The content belongs to another group.
    ContentOutsideGroup,
    /// A group elsewhere named one of our members its moderator, who never joined it here.
    LocalPersonNotFollowing,
}

impl ModeratorRefusal {
    pub fn code(self) -> &'static str {
        match self {
            ModeratorRefusal::NotAModerator => "not_a_moderator_of_group",
            ModeratorRefusal::NotThroughTheGroup => "moderation_not_through_group",
            ModeratorRefusal::ContentOutsideGroup => "content_outside_group",
            ModeratorRefusal::LocalPersonNotFollowing => "local_moderator_not_following_group",
        }
    }
}

/// Whether the action is honoured.
pub fn may_moderate(facts: ModeratorFacts) -> Result<(), ModeratorRefusal> {
    if !facts.content_in_group {
        return Err(ModeratorRefusal::ContentOutsideGroup);
    }
    if facts.group_is_ours {
        return if facts.listed || facts.instance_staff {
            Ok(())
        } else {
            Err(ModeratorRefusal::NotAModerator)
        };
    }
    // A group elsewhere: our own members listed for it act through our API (we apply it to
    // our copy and send it to the group); remote people only through the group's Announce.
    if facts.local_person {
        return if facts.listed {
            Ok(())
        } else {
            Err(ModeratorRefusal::NotAModerator)
        };
    }
    if !facts.announced_by_the_group {
        return Err(ModeratorRefusal::NotThroughTheGroup);
    }
    if facts.listed || facts.on_group_host {
        Ok(())
    } else {
        Err(ModeratorRefusal::NotAModerator)
    }
}

/// Whether a group's own say-so (its `Add` to its moderators collection, relayed or sent,
/// or the collection it serves) makes `person` its moderator here. A group of ours: its
/// moderators decide (the action was authorised by [`may_moderate`]). A group elsewhere is the
/// authority on its moderators on other servers (as Lemmy trusts it; a moderator of it on a
/// third server is then honoured when the group relays their actions), but not on our own
/// members: one of them becomes a moderator of a group elsewhere only if they follow that group
/// here — their own choice — never by that group's word alone (else any server could make our
/// members moderators, and members, of its groups).
pub fn may_enrol(
    group_is_ours: bool,
    local_person: bool,
    follows_group: bool,
) -> Result<(), ModeratorRefusal> {
    if group_is_ours || !local_person || follows_group {
        Ok(())
    } else {
        Err(ModeratorRefusal::LocalPersonNotFollowing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> ModeratorFacts {
        ModeratorFacts {
            group_is_ours: true,
            announced_by_the_group: false,
            listed: false,
            instance_staff: false,
            on_group_host: false,
            local_person: false,
            content_in_group: true,
        }
    }

    #[test]
    fn in_our_groups_listed_moderators_and_staff_act_nobody_else() {
        let listed = ModeratorFacts {
            listed: true,
            ..facts()
        };
        assert_eq!(may_moderate(listed), Ok(()));
        let staff = ModeratorFacts {
            instance_staff: true,
            ..facts()
        };
        assert_eq!(may_moderate(staff), Ok(()));
        assert_eq!(
            may_moderate(facts()),
            Err(ModeratorRefusal::NotAModerator),
            "a moderator of another group is not listed for this one"
        );
        assert_eq!(
            may_moderate(ModeratorFacts {
                content_in_group: false,
                ..listed
            }),
            Err(ModeratorRefusal::ContentOutsideGroup)
        );
    }

    #[test]
    fn a_remote_groups_copy_changes_through_its_announce() {
        let remote = ModeratorFacts {
            group_is_ours: false,
            ..facts()
        };
        // A listed moderator of the remote group acting on our copy directly: refused.
        let listed = ModeratorFacts {
            listed: true,
            ..remote
        };
        assert_eq!(
            may_moderate(listed),
            Err(ModeratorRefusal::NotThroughTheGroup)
        );
        // Our own member listed for it acts through our API.
        assert_eq!(
            may_moderate(ModeratorFacts {
                local_person: true,
                ..listed
            }),
            Ok(())
        );
        let announced = ModeratorFacts {
            announced_by_the_group: true,
            ..remote
        };
        assert_eq!(
            may_moderate(announced),
            Err(ModeratorRefusal::NotAModerator)
        );
        assert_eq!(
            may_moderate(ModeratorFacts {
                listed: true,
                ..announced
            }),
            Ok(())
        );
        assert_eq!(
            may_moderate(ModeratorFacts {
                on_group_host: true,
                ..announced
            }),
            Ok(())
        );
        assert_eq!(
            may_moderate(ModeratorFacts {
                on_group_host: true,
                content_in_group: false,
                ..announced
            }),
            Err(ModeratorRefusal::ContentOutsideGroup)
        );
    }

    #[test]
    fn a_group_elsewhere_enrols_our_members_only_when_they_follow_it() {
        assert_eq!(
            may_enrol(false, true, false),
            Err(ModeratorRefusal::LocalPersonNotFollowing)
        );
        assert_eq!(may_enrol(false, true, true), Ok(()));
        assert_eq!(may_enrol(false, false, false), Ok(()), "its own people");
        assert_eq!(
            may_enrol(true, true, false),
            Ok(()),
            "our group: ours to decide"
        );
    }
}
