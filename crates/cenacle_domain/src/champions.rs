//! The champions (superuser) programme's rules: where a member stands in its lifecycle, who
//! may be nominated, which charter version may be accepted, when champion tools work, how
//! objectives are bounded and when a term is due for renewal.

use chrono::{DateTime, Months, Utc};
use std::str::FromStr;

/// The badge the programme awards and revokes (the former honorific "Superuser"): never by
/// hand.
pub const CHAMPION_BADGE: &str = "superuser";

/// Where a person stands in the programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChampionStatus {
    /// Nominated by a community manager; the invitation waits for their answer.
    Invited,
    /// They declined the invitation.
    Declined,
    /// They accepted the invitation; the current charter waits for their acceptance.
    PendingCharter,
    /// A champion: status, badge, title, the champions group, tools.
    Active,
    /// Left (voluntarily, removed, or lapsed at renewal).
    Exited,
}

impl ChampionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChampionStatus::Invited => "invited",
            ChampionStatus::Declined => "declined",
            ChampionStatus::PendingCharter => "pending_charter",
            ChampionStatus::Active => "active",
            ChampionStatus::Exited => "exited",
        }
    }
}

impl FromStr for ChampionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "invited" => ChampionStatus::Invited,
            "declined" => ChampionStatus::Declined,
            "pending_charter" => ChampionStatus::PendingCharter,
            "active" => ChampionStatus::Active,
            "exited" => ChampionStatus::Exited,
            other => return Err(format!("unknown champion status `{other}`")),
        })
    }
}

/// Why the programme refuses a step. Each has a stable API code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.code())]
pub enum ChampionRefusal {
    /// Only this instance's own members can be champions here.
    RemotePerson,
    /// A suspended account cannot be nominated.
    SuspendedPerson,
    /// An account still awaiting approval cannot be nominated.
    PendingPerson,
    /// Already nominated, invited or a champion.
    AlreadyInProgramme,
    /// The step needs an invitation they have not got (or answered already).
    NoInvitation,
    /// The step needs an active champion.
    NotActive,
    /// No charter was published yet.
    NoCharter,
    /// The version offered is not the current one.
    CharterOutdated,
    /// An objective below zero.
    NegativeTarget,
    /// An objective the programme does not measure.
    UnknownMetric,
    /// A group a champion is named for must be one of ours and federated (not the champions
    /// group itself).
    UnsuitableGroup,
    /// Champion tools for someone who is not an active champion.
    NotAChampion,
    /// A new charter version waits for their acceptance: tools are suspended until then.
    CharterNotAccepted,
    /// A champion acting in a group they do not champion.
    NotTheirGroup,
    /// A reason is required (removal, lapse, renewal note).
    ReasonRequired,
    /// The champions group's membership is the programme's: no join, invitation, request,
    /// role or leave by hand (activation and exit change it).
    ProgrammeOnlyGroup,
    /// The champion badge comes and goes with the programme, never by hand.
    ProgrammeOnlyBadge,
    /// A move between groups of different visibility (or out of ours) would show the post to
    /// people it was not written for.
    MoveAcrossVisibility,
    /// A champion does not accept their own answer with the tools.
    OwnAnswer,
    /// A group already has the name the programme's champions group needs.
    GroupNameTaken,
}

/// How the API answers a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// The request itself is wrong (422).
    Invalid,
    /// It conflicts with the current state (409).
    Conflict,
    /// The caller may not do it (403).
    Forbidden,
}

impl ChampionRefusal {
    pub const ALL: [ChampionRefusal; 20] = [
        ChampionRefusal::RemotePerson,
        ChampionRefusal::SuspendedPerson,
        ChampionRefusal::PendingPerson,
        ChampionRefusal::AlreadyInProgramme,
        ChampionRefusal::NoInvitation,
        ChampionRefusal::NotActive,
        ChampionRefusal::NoCharter,
        ChampionRefusal::CharterOutdated,
        ChampionRefusal::NegativeTarget,
        ChampionRefusal::UnknownMetric,
        ChampionRefusal::UnsuitableGroup,
        ChampionRefusal::NotAChampion,
        ChampionRefusal::CharterNotAccepted,
        ChampionRefusal::NotTheirGroup,
        ChampionRefusal::ReasonRequired,
        ChampionRefusal::ProgrammeOnlyGroup,
        ChampionRefusal::ProgrammeOnlyBadge,
        ChampionRefusal::MoveAcrossVisibility,
        ChampionRefusal::OwnAnswer,
        ChampionRefusal::GroupNameTaken,
    ];

    pub fn code(self) -> &'static str {
        use ChampionRefusal::*;
        match self {
            RemotePerson => "champion_person_remote",
            SuspendedPerson => "champion_person_suspended",
            PendingPerson => "champion_person_pending",
            AlreadyInProgramme => "champion_already_in_programme",
            NoInvitation => "champion_no_invitation",
            NotActive => "champion_not_active",
            NoCharter => "champion_no_charter",
            CharterOutdated => "champion_charter_outdated",
            NegativeTarget => "champion_objective_negative",
            UnknownMetric => "champion_objective_unknown_metric",
            UnsuitableGroup => "champion_group_unsuitable",
            NotAChampion => "champion_tools_not_a_champion",
            CharterNotAccepted => "champion_tools_charter_not_accepted",
            NotTheirGroup => "champion_tools_not_their_group",
            ReasonRequired => "champion_reason_required",
            ProgrammeOnlyGroup => "group_programme_only",
            ProgrammeOnlyBadge => "badge_programme_only",
            MoveAcrossVisibility => "champion_move_visibility",
            OwnAnswer => "champion_own_answer",
            GroupNameTaken => "champion_group_name_taken",
        }
    }

    pub fn kind(self) -> RefusalKind {
        use ChampionRefusal::*;
        match self {
            RemotePerson | SuspendedPerson | PendingPerson | NegativeTarget | UnknownMetric
            | UnsuitableGroup | ReasonRequired | MoveAcrossVisibility => RefusalKind::Invalid,
            AlreadyInProgramme | NoInvitation | NotActive | NoCharter | CharterOutdated
            | GroupNameTaken => RefusalKind::Conflict,
            NotAChampion | CharterNotAccepted | NotTheirGroup | ProgrammeOnlyGroup
            | ProgrammeOnlyBadge | OwnAnswer => RefusalKind::Forbidden,
        }
    }
}

/// Who may be nominated: a local, active account (`account_status` of its local account: not
/// suspended, not awaiting approval) not already in the programme (one who declined or left
/// may be nominated again).
pub fn may_nominate(
    local: bool,
    account_status: Option<&str>,
    current: Option<ChampionStatus>,
) -> Result<(), ChampionRefusal> {
    if !local {
        return Err(ChampionRefusal::RemotePerson);
    }
    match account_status {
        Some("suspended") => return Err(ChampionRefusal::SuspendedPerson),
        Some("active") | None => {}
        Some(_) => return Err(ChampionRefusal::PendingPerson),
    }
    match current {
        None | Some(ChampionStatus::Declined | ChampionStatus::Exited) => Ok(()),
        Some(_) => Err(ChampionRefusal::AlreadyInProgramme),
    }
}

/// Whether a post may move from one group to another (both local, both championed): only
/// between groups of the same visibility, so a move never shows a post to people it was not
/// written for; never out of or into a private group (its members are its own audience).
pub fn may_move(from_visibility: &str, to_visibility: &str) -> Result<(), ChampionRefusal> {
    if from_visibility == to_visibility && from_visibility != "private" {
        Ok(())
    } else {
        Err(ChampionRefusal::MoveAcrossVisibility)
    }
}

/// `scheme://host[:port]` of an ActivityPub id (None when it has none).
fn origin(id: &str) -> Option<&str> {
    let (scheme, rest) = id.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    (!scheme.is_empty() && !authority.is_empty()).then(|| &id[..scheme.len() + 3 + end])
}

/// Whether a remote person's home instance may say they champion `group_id`: only a group of
/// the same instance (same scheme, host and port), never someone else's.
pub fn home_may_vouch(person_id: &str, group_id: &str) -> bool {
    match (origin(person_id), origin(group_id)) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// Only the current charter version may be accepted.
pub fn check_charter_version(offered: i32, current: Option<i32>) -> Result<(), ChampionRefusal> {
    match current {
        None => Err(ChampionRefusal::NoCharter),
        Some(current) if current == offered => Ok(()),
        Some(_) => Err(ChampionRefusal::CharterOutdated),
    }
}

/// Champion tools work for an active champion who accepted the current charter, in the groups
/// they champion.
pub fn may_use_tools(
    status: Option<ChampionStatus>,
    accepted_version: Option<i32>,
    current_version: Option<i32>,
    champions_group: bool,
) -> Result<(), ChampionRefusal> {
    if status != Some(ChampionStatus::Active) {
        return Err(ChampionRefusal::NotAChampion);
    }
    if accepted_version.is_none() || accepted_version != current_version {
        return Err(ChampionRefusal::CharterNotAccepted);
    }
    if !champions_group {
        return Err(ChampionRefusal::NotTheirGroup);
    }
    Ok(())
}

/// What an objective measures, over the current calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Answers (top-level comments on questions) written.
    AnswersPerMonth,
    /// Answers of theirs accepted.
    AcceptedAnswersPerMonth,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::AnswersPerMonth => "answers_per_month",
            Metric::AcceptedAnswersPerMonth => "accepted_answers_per_month",
        }
    }
}

/// An objective as asked: a known metric and a target of zero or more.
pub fn validate_objective(metric: &str, target: i64) -> Result<(Metric, i32), ChampionRefusal> {
    let metric = match metric {
        "answers_per_month" => Metric::AnswersPerMonth,
        "accepted_answers_per_month" => Metric::AcceptedAnswersPerMonth,
        _ => return Err(ChampionRefusal::UnknownMetric),
    };
    if target < 0 {
        return Err(ChampionRefusal::NegativeTarget);
    }
    Ok((metric, i32::try_from(target).unwrap_or(i32::MAX)))
}

/// A reason that says something.
pub fn require_reason(reason: Option<&str>) -> Result<&str, ChampionRefusal> {
    match reason.map(str::trim) {
        Some(r) if !r.is_empty() => Ok(r),
        _ => Err(ChampionRefusal::ReasonRequired),
    }
}

/// A term runs a year: the next review is a year after it started or was last renewed.
pub fn next_renewal(from: DateTime<Utc>) -> DateTime<Utc> {
    from.checked_add_months(Months::new(12)).unwrap_or(from)
}

/// Share of a month's accepted solutions given by champions, in percent (None: no solution).
pub fn share_percent(by_champions: i64, accepted: i64) -> Option<f64> {
    (accepted > 0).then(|| (by_champions as f64) * 100.0 / (accepted as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_home_instance_vouches_only_for_its_own_groups() {
        assert!(home_may_vouch(
            "https://other.test/u/zoe",
            "https://other.test/g/jardin"
        ));
        assert!(home_may_vouch(
            "https://Other.test:8443/u/zoe",
            "https://other.test:8443/g/jardin"
        ));
        for group in [
            "https://elsewhere.test/g/rust",
            "https://other.test.evil/g/rust",
            "https://other.test:9/g/rust",
            "http://other.test/g/rust",
            "not a url",
        ] {
            assert!(
                !home_may_vouch("https://other.test/u/zoe", group),
                "{group}"
            );
        }
    }

    #[test]
    fn moves_keep_their_visibility() {
        assert_eq!(may_move("public", "public"), Ok(()));
        assert_eq!(
            may_move("private", "private"),
            Err(ChampionRefusal::MoveAcrossVisibility)
        );
        assert_eq!(
            may_move("private", "public"),
            Err(ChampionRefusal::MoveAcrossVisibility)
        );
        assert_eq!(
            may_move("public", "restricted"),
            Err(ChampionRefusal::MoveAcrossVisibility)
        );
    }

    #[test]
    fn only_local_active_members_outside_the_programme_are_nominated() {
        let active = Some("active");
        assert_eq!(
            may_nominate(false, None, None),
            Err(ChampionRefusal::RemotePerson)
        );
        assert_eq!(
            may_nominate(true, Some("suspended"), None),
            Err(ChampionRefusal::SuspendedPerson)
        );
        assert_eq!(
            may_nominate(true, Some("pending_approval"), None),
            Err(ChampionRefusal::PendingPerson)
        );
        assert_eq!(
            may_nominate(true, active, Some(ChampionStatus::Active)),
            Err(ChampionRefusal::AlreadyInProgramme)
        );
        assert!(may_nominate(true, active, Some(ChampionStatus::Exited)).is_ok());
        assert!(may_nominate(true, active, None).is_ok());
    }

    #[test]
    fn only_the_current_charter_is_accepted() {
        assert_eq!(
            check_charter_version(1, None),
            Err(ChampionRefusal::NoCharter)
        );
        assert_eq!(
            check_charter_version(1, Some(2)),
            Err(ChampionRefusal::CharterOutdated)
        );
        assert!(check_charter_version(2, Some(2)).is_ok());
    }

    #[test]
    fn tools_need_an_active_champion_the_current_charter_and_their_group() {
        use ChampionStatus::*;
        assert_eq!(
            may_use_tools(None, None, Some(1), true),
            Err(ChampionRefusal::NotAChampion)
        );
        assert_eq!(
            may_use_tools(Some(PendingCharter), None, Some(1), true),
            Err(ChampionRefusal::NotAChampion)
        );
        assert_eq!(
            may_use_tools(Some(Active), Some(1), Some(2), true),
            Err(ChampionRefusal::CharterNotAccepted)
        );
        assert_eq!(
            may_use_tools(Some(Active), Some(2), Some(2), false),
            Err(ChampionRefusal::NotTheirGroup)
        );
        assert!(may_use_tools(Some(Active), Some(2), Some(2), true).is_ok());
    }

    #[test]
    fn objectives_are_known_metrics_with_targets_of_zero_or_more() {
        assert_eq!(
            validate_objective("answers_per_month", -1),
            Err(ChampionRefusal::NegativeTarget)
        );
        assert_eq!(
            validate_objective("likes", 3),
            Err(ChampionRefusal::UnknownMetric)
        );
        assert_eq!(
            validate_objective("answers_per_month", 0),
            Ok((Metric::AnswersPerMonth, 0))
        );
    }

    #[test]
    fn a_term_is_reviewed_a_year_on_and_codes_are_distinct() {
        let start = Utc.with_ymd_and_hms(2026, 2, 28, 10, 0, 0).unwrap();
        assert_eq!(
            next_renewal(start),
            Utc.with_ymd_and_hms(2027, 2, 28, 10, 0, 0).unwrap()
        );
        let mut codes: Vec<_> = ChampionRefusal::ALL.iter().map(|r| r.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), ChampionRefusal::ALL.len());
        assert_eq!(share_percent(0, 0), None);
        assert_eq!(share_percent(2, 4), Some(50.0));
    }
}
