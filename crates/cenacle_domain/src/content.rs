//! Rules of groups and their contributions: who may read, post, accept an answer or move an
//! idea along its pipeline; how votes change scores; how "hot" ranks posts.

use crate::{Role, ValidationError};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Who can see and post in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Anyone reads, anyone posts.
    Public,
    /// Anyone reads, members post.
    Restricted,
    /// Members only, for reading too; never federated publicly.
    Private,
}

impl FromStr for Visibility {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "public" => Ok(Self::Public),
            "restricted" => Ok(Self::Restricted),
            "private" => Ok(Self::Private),
            other => Err(format!("unknown visibility `{other}`")),
        }
    }
}

/// A person's standing in one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupRole {
    Member,
    Moderator,
    Owner,
}

impl FromStr for GroupRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "member" => Ok(Self::Member),
            "moderator" => Ok(Self::Moderator),
            "owner" => Ok(Self::Owner),
            other => Err(format!("unknown group role `{other}`")),
        }
    }
}

/// Who is acting, as far as content rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// The instance role of a local account; `None` for remote people.
    pub instance_role: Option<Role>,
    /// Membership in the group concerned, if any.
    pub group_role: Option<GroupRole>,
}

impl Actor {
    fn moderates(&self) -> bool {
        self.group_role >= Some(GroupRole::Moderator)
            || matches!(
                self.instance_role,
                Some(Role::Admin | Role::CommunityManager)
            )
    }
}

pub fn can_read(visibility: Visibility, actor: Option<&Actor>) -> bool {
    visibility != Visibility::Private
        || actor.is_some_and(|a| a.group_role.is_some() || a.moderates())
}

pub fn can_post(visibility: Visibility, actor: &Actor) -> bool {
    match visibility {
        Visibility::Public => true,
        Visibility::Restricted | Visibility::Private => {
            actor.group_role.is_some() || actor.moderates()
        }
    }
}

/// The question's author, a moderator of its group, or the organisation's staff.
pub fn can_accept_answer(actor: &Actor, is_question_author: bool) -> bool {
    is_question_author
        || actor.moderates()
        || matches!(actor.instance_role, Some(Role::Staff | Role::Moderator))
}

/// Only moderators and community managers move ideas along.
pub fn can_change_idea_status(actor: &Actor) -> bool {
    actor.moderates()
}

/// Authors edit their own contributions; moderators edit and delete anything in their group.
pub fn can_edit(actor: &Actor, is_author: bool) -> bool {
    is_author || actor.moderates()
}

pub fn can_moderate(actor: &Actor) -> bool {
    actor.moderates()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostKind {
    Question,
    Idea,
    Note,
}

impl PostKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PostKind::Question => "question",
            PostKind::Idea => "idea",
            PostKind::Note => "note",
        }
    }
}

impl FromStr for PostKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "question" => Ok(Self::Question),
            "idea" => Ok(Self::Idea),
            "note" => Ok(Self::Note),
            other => Err(format!("unknown post kind `{other}`")),
        }
    }
}

/// The idea pipeline: submitted → under_review → planned → in_progress → done, or declined /
/// duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdeaStatus {
    Submitted,
    UnderReview,
    Planned,
    InProgress,
    Done,
    Declined,
    Duplicate,
}

impl IdeaStatus {
    pub const ALL: [IdeaStatus; 7] = [
        IdeaStatus::Submitted,
        IdeaStatus::UnderReview,
        IdeaStatus::Planned,
        IdeaStatus::InProgress,
        IdeaStatus::Done,
        IdeaStatus::Declined,
        IdeaStatus::Duplicate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdeaStatus::Submitted => "submitted",
            IdeaStatus::UnderReview => "under_review",
            IdeaStatus::Planned => "planned",
            IdeaStatus::InProgress => "in_progress",
            IdeaStatus::Done => "done",
            IdeaStatus::Declined => "declined",
            IdeaStatus::Duplicate => "duplicate",
        }
    }

    /// The `CommunityPostTag` name other servers show (Lemmy 1.0, PieFed).
    pub fn tag(self) -> &'static str {
        match self {
            IdeaStatus::Submitted => "submitted",
            IdeaStatus::UnderReview => "under-review",
            IdeaStatus::Planned => "planned",
            IdeaStatus::InProgress => "in-progress",
            IdeaStatus::Done => "done",
            IdeaStatus::Declined => "declined",
            IdeaStatus::Duplicate => "duplicate",
        }
    }
}

impl FromStr for IdeaStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdeaStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s || st.tag() == s)
            .ok_or_else(|| format!("unknown idea status `{s}`"))
    }
}

/// A status change must change something, and a duplicate must name its original.
pub fn check_idea_transition(
    from: IdeaStatus,
    to: IdeaStatus,
    duplicate_of: Option<i64>,
) -> Result<(), ValidationError> {
    if from == to {
        return Err(ValidationError {
            field: "status",
            code: "unchanged",
        });
    }
    if (to == IdeaStatus::Duplicate) != duplicate_of.is_some() {
        return Err(ValidationError {
            field: "duplicate_of",
            code: "required_for_duplicate_only",
        });
    }
    Ok(())
}

/// A person's vote on a post or comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    Like,
    Dislike,
}

impl Vote {
    pub fn value(self) -> i16 {
        match self {
            Vote::Like => 1,
            Vote::Dislike => -1,
        }
    }

    pub fn from_value(value: i16) -> Option<Vote> {
        match value {
            1 => Some(Vote::Like),
            -1 => Some(Vote::Dislike),
            _ => None,
        }
    }
}

/// How (likes, dislikes) change when a person's vote goes from `before` to `after` (either
/// may be none: a new vote, an undone vote). The latest vote per person wins.
pub fn vote_delta(before: Option<Vote>, after: Option<Vote>) -> (i32, i32) {
    let count = |v: Option<Vote>| match v {
        Some(Vote::Like) => (1, 0),
        Some(Vote::Dislike) => (0, 1),
        None => (0, 0),
    };
    let (b, a) = (count(before), count(after));
    (a.0 - b.0, a.1 - b.1)
}

/// Hot rank: `(likes − dislikes + 1) / (hours since posting + 2)^1.5` — the score decays with
/// age so that new, liked posts rise and old ones sink (Hacker News' gravity, as Lemmy uses).
pub fn hot_rank(likes: i64, dislikes: i64, age_hours: f64) -> f64 {
    let score = (likes - dislikes + 1).max(0) as f64;
    score / (age_hours.max(0.0) + 2.0).powf(1.5)
}

pub const TITLE_MAX: usize = 200;
pub const BODY_MAX: usize = 50_000;
pub const TAGS_MAX: usize = 10;

pub fn validate_post(title: &str, body: &str, tags: &[String]) -> Result<(), ValidationError> {
    if title.trim().is_empty() {
        return Err(ValidationError {
            field: "title",
            code: "empty",
        });
    }
    if title.chars().count() > TITLE_MAX {
        return Err(ValidationError {
            field: "title",
            code: "too_long",
        });
    }
    if body.chars().count() > BODY_MAX {
        return Err(ValidationError {
            field: "body",
            code: "too_long",
        });
    }
    if tags.len() > TAGS_MAX || tags.iter().any(|t| t.is_empty() || t.chars().count() > 40) {
        return Err(ValidationError {
            field: "tags",
            code: "invalid",
        });
    }
    Ok(())
}

pub fn validate_comment(body: &str) -> Result<(), ValidationError> {
    if body.trim().is_empty() {
        return Err(ValidationError {
            field: "body",
            code: "empty",
        });
    }
    if body.chars().count() > BODY_MAX {
        return Err(ValidationError {
            field: "body",
            code: "too_long",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(instance_role: Option<Role>, group_role: Option<GroupRole>) -> Actor {
        Actor {
            instance_role,
            group_role,
        }
    }

    #[test]
    fn the_permission_matrix() {
        let outsider = actor(Some(Role::Member), None);
        let member = actor(Some(Role::Member), Some(GroupRole::Member));
        let moderator = actor(Some(Role::Member), Some(GroupRole::Moderator));
        let remote_member = actor(None, Some(GroupRole::Member));
        let manager = actor(Some(Role::CommunityManager), None);
        let staff = actor(Some(Role::Staff), None);

        assert!(can_read(Visibility::Public, None));
        assert!(can_read(Visibility::Restricted, None));
        assert!(!can_read(Visibility::Private, None));
        assert!(!can_read(Visibility::Private, Some(&outsider)));
        assert!(can_read(Visibility::Private, Some(&remote_member)));
        assert!(can_read(Visibility::Private, Some(&manager)));

        assert!(can_post(Visibility::Public, &outsider));
        assert!(!can_post(Visibility::Restricted, &outsider));
        assert!(can_post(Visibility::Restricted, &member));
        assert!(!can_post(Visibility::Private, &outsider));

        assert!(can_accept_answer(&outsider, true));
        assert!(!can_accept_answer(&member, false));
        assert!(can_accept_answer(&moderator, false));
        assert!(can_accept_answer(&staff, false));
        assert!(can_accept_answer(&manager, false));

        assert!(!can_change_idea_status(&member));
        assert!(!can_change_idea_status(&staff));
        assert!(can_change_idea_status(&moderator));
        assert!(can_change_idea_status(&manager));
    }

    #[test]
    fn idea_transitions() {
        use IdeaStatus::*;
        assert!(check_idea_transition(Submitted, Planned, None).is_ok());
        assert_eq!(
            check_idea_transition(Planned, Planned, None)
                .unwrap_err()
                .code,
            "unchanged"
        );
        assert!(check_idea_transition(Submitted, Duplicate, None).is_err());
        assert!(check_idea_transition(Submitted, Duplicate, Some(3)).is_ok());
        assert!(check_idea_transition(Submitted, Done, Some(3)).is_err());
        assert_eq!("under-review".parse::<IdeaStatus>().unwrap(), UnderReview);
        assert_eq!("in_progress".parse::<IdeaStatus>().unwrap(), InProgress);
    }

    #[test]
    fn votes_change_counts_by_the_latest_vote() {
        assert_eq!(vote_delta(None, Some(Vote::Like)), (1, 0));
        assert_eq!(vote_delta(Some(Vote::Like), Some(Vote::Like)), (0, 0));
        assert_eq!(vote_delta(Some(Vote::Like), Some(Vote::Dislike)), (-1, 1));
        assert_eq!(vote_delta(Some(Vote::Dislike), None), (0, -1));
    }

    #[test]
    fn hot_rank_prefers_new_liked_posts() {
        assert!(hot_rank(10, 0, 1.0) > hot_rank(10, 0, 24.0));
        assert!(hot_rank(10, 0, 5.0) > hot_rank(1, 0, 5.0));
        assert_eq!(hot_rank(0, 5, 1.0), 0.0);
    }
}
