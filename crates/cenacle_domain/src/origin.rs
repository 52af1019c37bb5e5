//! Origin rules: who may create, change or remove what arrives from other servers.
//!
//! A server speaks only for its own people and objects, and a group's server only for the
//! group's content. Every incoming activity passes these rules before any use case runs;
//! what fails them is forged (answered 403, nothing stored). They are written once here, as
//! plain functions of ids and facts, and used by the inbox whichever activity carries them.

/// Why an incoming activity is refused as forged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forgery {
    /// An object's id must be on the host of the actor that creates or changes it.
    ObjectNotOnActorHost,
    /// A Create's object must be attributed to the Create's actor.
    NotCreatedByActor,
    /// A group's Announce may carry only activities addressed to that group.
    NotAddressedToGroup,
    /// A group's Announce may change only content that belongs to that group.
    NotTheGroupsContent,
    /// Content that originates here is changed only here, never by another server's Announce.
    OurOwnContent,
    /// A stored object is changed only by its author (moderators: see [`Change`]).
    NotTheOrigin,
    /// An Undo undoes only its own actor's activity.
    UndoOfSomeoneElse,
}

impl Forgery {
    /// A stable label, for logs and the `cenacle_inbox_refused_total{rule}` metric.
    pub fn rule(self) -> &'static str {
        match self {
            Forgery::ObjectNotOnActorHost => "object_not_on_actor_host",
            Forgery::NotCreatedByActor => "not_created_by_actor",
            Forgery::NotAddressedToGroup => "not_addressed_to_group",
            Forgery::NotTheGroupsContent => "not_the_groups_content",
            Forgery::OurOwnContent => "our_own_content",
            Forgery::NotTheOrigin => "not_the_origin",
            Forgery::UndoOfSomeoneElse => "undo_of_someone_else",
        }
    }
}

/// The authority (host, with its port if any) of an id, lowercased as URLs keep hosts:
/// `https://a.example:8443/u/x` → `a.example:8443`. Empty for something that is not a URL.
pub fn authority(id: &str) -> &str {
    let Some((_, rest)) = id.split_once("://") else {
        return "";
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    // Credentials before an `@` are not part of the host.
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

/// Whether two ids are on the same server.
pub fn same_host(a: &str, b: &str) -> bool {
    let (a, b) = (authority(a), authority(b));
    !a.is_empty() && a.eq_ignore_ascii_case(b)
}

/// An actor may create or change only objects whose ids are on its own server.
pub fn check_object_on_actor_host(object_id: &str, actor_id: &str) -> Result<(), Forgery> {
    if same_host(object_id, actor_id) {
        Ok(())
    } else {
        Err(Forgery::ObjectNotOnActorHost)
    }
}

/// A Create's object is the actor's own: on the actor's server and attributed to it.
pub fn check_created_by_actor(
    object_id: &str,
    attributed_to: &str,
    actor_id: &str,
) -> Result<(), Forgery> {
    check_object_on_actor_host(object_id, actor_id)?;
    if attributed_to != actor_id {
        return Err(Forgery::NotCreatedByActor);
    }
    Ok(())
}

/// An activity a group announces must be addressed to it: the group (or its followers
/// collection) among its `to`, `cc` and `audience`. Votes, Undos and Deletes often carry no
/// addressing at all (`required` false): they are then judged by the content they touch,
/// which must belong to the group ([`check_announced_change`]); when they do carry some, it
/// must include the group.
pub fn check_addressed_to(
    group_id: &str,
    group_followers: Option<&str>,
    addressing: &[&str],
    required: bool,
) -> Result<(), Forgery> {
    if addressing.is_empty() && !required {
        return Ok(());
    }
    if addressing
        .iter()
        .any(|a| *a == group_id || Some(*a) == group_followers)
    {
        Ok(())
    } else {
        Err(Forgery::NotAddressedToGroup)
    }
}

/// Facts about a stored object an announced activity touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredObject {
    /// It belongs to the group that announces the change.
    pub in_announcing_group: bool,
    /// It originates on this server (one of our members wrote it).
    pub ours: bool,
}

/// Who, inside a group's Announce, acts on a stored object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnnouncedActor {
    /// The object's author (its origin).
    pub is_author: bool,
    /// On the group's own server: its staff and moderators, for whom the group's server
    /// vouches (the group's server is the authority over its group's state).
    pub on_group_host: bool,
}

/// What an announced Update may change of a stored object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdateScope {
    /// Its words (title, body, tags): only its author, and never ours (we are their origin).
    pub words: bool,
    /// A question's accepted answer: the question's author, or the group's own server.
    pub accepted_answer: bool,
    /// An idea's status: only the group's own server (its moderators decide it).
    pub idea_status: bool,
}

/// A group's Announce may change only content that belongs to that group, and each part only
/// by whoever decides it: the words by their author, the group's state of a post by the
/// group's own server (which vouches for its moderators). Anyone else's Update is forged.
pub fn announced_update_scope(
    object: StoredObject,
    actor: AnnouncedActor,
) -> Result<UpdateScope, Forgery> {
    if !object.in_announcing_group {
        return Err(Forgery::NotTheGroupsContent);
    }
    let scope = UpdateScope {
        words: actor.is_author && !object.ours,
        accepted_answer: actor.is_author || actor.on_group_host,
        idea_status: actor.on_group_host,
    };
    if scope
        == (UpdateScope {
            words: false,
            accepted_answer: false,
            idea_status: false,
        })
    {
        return Err(Forgery::NotTheOrigin);
    }
    Ok(scope)
}

/// A group's Announce may delete only content that belongs to that group: by its author, or
/// by the group's own server (which removes from its group whatever it decides, our
/// members' posts included). A moderator of the group on another server removes with a
/// `Delete` carrying a `summary`, judged by `crate::moderators` instead; a plain Delete from
/// them is acknowledged and ignored.
pub fn announced_delete(object: StoredObject, actor: AnnouncedActor) -> Result<Verdict, Forgery> {
    if !object.in_announcing_group {
        return Err(Forgery::NotTheGroupsContent);
    }
    Ok(
        if (actor.is_author && !object.ours) || actor.on_group_host {
            Verdict::Allowed
        } else {
            Verdict::NotYetFederated
        },
    )
}

/// What an actor does to a stored object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Update,
    Delete,
}

/// What the rules say about one actor changing one stored object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// A moderator of the object's group acting on someone else's object from another server:
    /// not forged, but not honoured yet (moderation across servers is its own piece of work).
    /// Acknowledged and ignored.
    NotYetFederated,
    Forged(Forgery),
}

/// A stored object is updated only by its origin (its author), and removed by its author or
/// a moderator of its group. A moderator's update of someone else's object is
/// [`Verdict::NotYetFederated`]; anyone else's is forged.
pub fn may_change(change: Change, is_author: bool, is_group_moderator: bool) -> Verdict {
    match (change, is_author, is_group_moderator) {
        (_, true, _) => Verdict::Allowed,
        (Change::Delete, false, true) => Verdict::Allowed,
        (Change::Update, false, true) => Verdict::NotYetFederated,
        (_, false, false) => Verdict::Forged(Forgery::NotTheOrigin),
    }
}

/// An Undo undoes only an activity of its own actor, itself from that actor's server.
pub fn check_undo(undo_actor: &str, undone_actor: &str, undone_id: &str) -> Result<(), Forgery> {
    if undo_actor != undone_actor {
        return Err(Forgery::UndoOfSomeoneElse);
    }
    check_object_on_actor_host(undone_id, undone_actor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_is_the_host_and_port() {
        assert_eq!(authority("https://a.example/u/x"), "a.example");
        assert_eq!(authority("http://a.test:8700/p/1?x#y"), "a.test:8700");
        assert_eq!(authority("https://user@a.example/x"), "a.example");
        assert_eq!(authority("https://a.example"), "a.example");
        assert_eq!(authority("not a url"), "");
        assert!(same_host("https://A.example/x", "https://a.example/y"));
        assert!(!same_host(
            "https://a.example/x",
            "https://a.example:8443/y"
        ));
        assert!(!same_host("nothing", "nothing"));
    }

    #[test]
    fn objects_are_created_only_by_their_author_on_its_server() {
        let actor = "https://b.example/u/pierre";
        assert_eq!(
            check_created_by_actor("https://b.example/c/1", actor, actor),
            Ok(())
        );
        assert_eq!(
            check_created_by_actor("https://c.example/c/1", actor, actor),
            Err(Forgery::ObjectNotOnActorHost)
        );
        assert_eq!(
            check_created_by_actor("https://b.example/c/1", "https://b.example/u/marie", actor),
            Err(Forgery::NotCreatedByActor)
        );
    }

    #[test]
    fn a_group_announces_only_what_is_addressed_to_it() {
        let group = "https://g.example/c/rust";
        let followers = Some("https://g.example/c/rust/followers");
        let public = "https://www.w3.org/ns/activitystreams#Public";
        assert_eq!(
            check_addressed_to(group, followers, &[public, group], true),
            Ok(())
        );
        assert_eq!(
            check_addressed_to(
                group,
                followers,
                &["https://g.example/c/rust/followers"],
                true
            ),
            Ok(())
        );
        assert_eq!(
            check_addressed_to(group, followers, &[public, "https://h.example/c/go"], true),
            Err(Forgery::NotAddressedToGroup)
        );
        assert_eq!(
            check_addressed_to(group, followers, &[], true),
            Err(Forgery::NotAddressedToGroup)
        );
        // A vote without addressing is judged by what it touches.
        assert_eq!(check_addressed_to(group, followers, &[], false), Ok(()));
        assert_eq!(
            check_addressed_to(group, followers, &["https://h.example/c/go"], false),
            Err(Forgery::NotAddressedToGroup)
        );
    }

    #[test]
    fn an_announce_changes_only_the_groups_own_content_each_part_by_whoever_decides_it() {
        let theirs = StoredObject {
            in_announcing_group: true,
            ours: false,
        };
        let ours = StoredObject {
            ours: true,
            ..theirs
        };
        let elsewhere = StoredObject {
            in_announcing_group: false,
            ours: false,
        };
        let author = AnnouncedActor {
            is_author: true,
            on_group_host: false,
        };
        let group_staff = AnnouncedActor {
            is_author: false,
            on_group_host: true,
        };
        let stranger = AnnouncedActor {
            is_author: false,
            on_group_host: false,
        };
        assert_eq!(
            announced_update_scope(theirs, author),
            Ok(UpdateScope {
                words: true,
                accepted_answer: true,
                idea_status: false
            }),
            "an author edits, accepts an answer to their question, never moves their idea"
        );
        assert_eq!(
            announced_update_scope(theirs, group_staff),
            Ok(UpdateScope {
                words: false,
                accepted_answer: true,
                idea_status: true
            })
        );
        assert_eq!(
            announced_update_scope(ours, group_staff),
            Ok(UpdateScope {
                words: false,
                accepted_answer: true,
                idea_status: true
            }),
            "the group's server moves the idea of one of our members along"
        );
        assert_eq!(
            announced_update_scope(theirs, stranger),
            Err(Forgery::NotTheOrigin)
        );
        assert_eq!(
            announced_update_scope(elsewhere, author),
            Err(Forgery::NotTheGroupsContent)
        );
        assert_eq!(announced_delete(theirs, author), Ok(Verdict::Allowed));
        assert_eq!(announced_delete(theirs, group_staff), Ok(Verdict::Allowed));
        assert_eq!(
            announced_delete(ours, group_staff),
            Ok(Verdict::Allowed),
            "the group's server removes our member's post from its group"
        );
        assert_eq!(
            announced_delete(theirs, stranger),
            Ok(Verdict::NotYetFederated)
        );
        assert_eq!(
            announced_delete(elsewhere, group_staff),
            Err(Forgery::NotTheGroupsContent)
        );
    }

    #[test]
    fn only_the_author_updates_and_moderators_may_also_remove() {
        assert_eq!(may_change(Change::Update, true, false), Verdict::Allowed);
        assert_eq!(may_change(Change::Delete, true, false), Verdict::Allowed);
        assert_eq!(may_change(Change::Delete, false, true), Verdict::Allowed);
        assert_eq!(
            may_change(Change::Update, false, true),
            Verdict::NotYetFederated
        );
        assert_eq!(
            may_change(Change::Update, false, false),
            Verdict::Forged(Forgery::NotTheOrigin)
        );
        assert_eq!(
            may_change(Change::Delete, false, false),
            Verdict::Forged(Forgery::NotTheOrigin)
        );
    }

    #[test]
    fn an_undo_is_its_actors_own() {
        let pierre = "https://b.example/u/pierre";
        assert_eq!(
            check_undo(pierre, pierre, "https://b.example/likes/1"),
            Ok(())
        );
        assert_eq!(
            check_undo(
                pierre,
                "https://b.example/u/marie",
                "https://b.example/likes/1"
            ),
            Err(Forgery::UndoOfSomeoneElse)
        );
        assert_eq!(
            check_undo(pierre, pierre, "https://c.example/likes/1"),
            Err(Forgery::ObjectNotOnActorHost)
        );
    }
}
