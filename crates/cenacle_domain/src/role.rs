//! Instance roles and what each may do.

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// The role of a local account on this instance. Group roles (owner, group moderator) are
/// separate and come with groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    CommunityManager,
    Moderator,
    /// An employee of the organisation running the instance; their answers are "official".
    Staff,
    Member,
}

/// Instance-wide actions that depend on the caller's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// List accounts and see their e-mail and status.
    ListAccounts,
    /// Approve or reject registrations waiting for approval.
    ApproveRegistrations,
    /// Create invitations (the way in when registration is invite only).
    CreateInvites,
    /// Change another account's role.
    ChangeRoles,
    /// Create groups and edit any local group.
    ManageGroups,
    /// Block or unblock other instances, allow or limit them.
    BlockInstances,
    /// Ban a person (local or remote) from the whole instance, and lift the ban.
    BanPeople,
    /// See the federation queue's failures (parked outbox events) and put them back in line.
    ManageFederation,
    /// See the mail queue's parked mails (their recipients' addresses and the SMTP server's
    /// refusals) and put them back in line.
    ManageMailQueue,
    /// Run the champions programme: nominate, publish the charter, set objectives, renew,
    /// remove, broadcast to champions, read the programme's dashboard.
    RunChampionProgramme,
    /// Read members' statistics, the champions shortlist and the negative-leader alerts.
    ReadCommunityInsights,
    /// Run the gift shop and the auctions: the catalogue, its codes, fulfilment, reports.
    ManageRewards,
    /// Edit the welcome, the onboarding steps and the triggered e-mail rules.
    ManageOnboarding,
    /// Write courses, their lessons and quizzes, and read their statistics (the trainers:
    /// staff, whose answers are official, and community managers).
    ManageTraining,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::CommunityManager,
        Role::Moderator,
        Role::Staff,
        Role::Member,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::CommunityManager => "community_manager",
            Role::Moderator => "moderator",
            Role::Staff => "staff",
            Role::Member => "member",
        }
    }

    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            // Community managers run the community day to day: they let people in, but
            // handing out roles stays with admins so that nobody can promote themselves.
            Role::CommunityManager => {
                matches!(
                    permission,
                    ListAccounts
                        | ApproveRegistrations
                        | CreateInvites
                        | ManageGroups
                        | BanPeople
                        | RunChampionProgramme
                        | ManageOnboarding
                        | ReadCommunityInsights
                        | ManageRewards
                        | ManageTraining
                )
            }
            Role::Moderator => matches!(permission, ListAccounts | BanPeople),
            Role::Staff => permission == ManageTraining,
            Role::Member => false,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}` (expected admin, community_manager, moderator, staff or member)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("superuser".parse::<Role>().is_err());
    }

    #[test]
    fn only_admins_change_roles() {
        for role in Role::ALL {
            assert_eq!(role.allows(Permission::ChangeRoles), role == Role::Admin);
        }
    }

    #[test]
    fn members_and_staff_have_no_instance_permissions() {
        for p in [
            Permission::ListAccounts,
            Permission::ApproveRegistrations,
            Permission::CreateInvites,
            Permission::ChangeRoles,
            Permission::ManageGroups,
            Permission::BlockInstances,
            Permission::BanPeople,
            Permission::ManageFederation,
            Permission::ManageMailQueue,
            Permission::RunChampionProgramme,
            Permission::ReadCommunityInsights,
            Permission::ManageRewards,
            Permission::ManageOnboarding,
        ] {
            assert!(!Role::Member.allows(p));
            assert!(!Role::Staff.allows(p));
        }
        // Staff are the trainers: they write courses, and nothing else of the instance's.
        assert!(Role::Staff.allows(Permission::ManageTraining));
        assert!(!Role::Member.allows(Permission::ManageTraining));
        assert!(Role::CommunityManager.allows(Permission::ManageTraining));
        assert!(Role::CommunityManager.allows(Permission::ApproveRegistrations));
        assert!(
            Role::CommunityManager.allows(Permission::ManageGroups),
            "community managers run the groups"
        );
        assert!(!Role::CommunityManager.allows(Permission::BlockInstances));
        // The instance's moderators ban people; blocking whole instances stays with admins.
        assert!(Role::Moderator.allows(Permission::BanPeople));
        assert!(!Role::Moderator.allows(Permission::BlockInstances));
        // Community managers read the community's insights; moderators and staff do not.
        assert!(Role::CommunityManager.allows(Permission::ReadCommunityInsights));
        assert!(Role::Admin.allows(Permission::ReadCommunityInsights));
        assert!(!Role::Moderator.allows(Permission::ReadCommunityInsights));
        assert!(!Role::Staff.allows(Permission::ReadCommunityInsights));
        assert!(!Role::CommunityManager.allows(Permission::ManageFederation));
        assert!(!Role::Moderator.allows(Permission::ManageFederation));
        // Parked mails show members' addresses: the instance's admins only.
        assert!(Role::Admin.allows(Permission::ManageMailQueue));
        assert!(!Role::CommunityManager.allows(Permission::ManageMailQueue));
        assert!(!Role::Moderator.allows(Permission::ManageMailQueue));
        assert!(!Role::Moderator.allows(Permission::CreateInvites));
        assert!(Role::CommunityManager.allows(Permission::RunChampionProgramme));
        assert!(Role::Admin.allows(Permission::RunChampionProgramme));
        assert!(!Role::Moderator.allows(Permission::RunChampionProgramme));
    }
}
