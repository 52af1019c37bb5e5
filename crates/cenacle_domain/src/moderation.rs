//! Moderation: what a moderation action is called in the public log, and the checks on what
//! a moderator gives with it (reason, expiry) that need nothing stored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// The longest reason a moderator may give (the log shows it to everyone).
pub const MAX_REASON_CHARS: usize = 2000;

/// Every kind of moderation action, by the stable code the log and the API show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModAction {
    RemovePost,
    RestorePost,
    RemoveComment,
    RestoreComment,
    LockPost,
    UnlockPost,
    PinPost,
    UnpinPost,
    AddModerator,
    RemoveModerator,
    BanFromGroup,
    UnbanFromGroup,
    BanFromInstance,
    UnbanFromInstance,
    ResolveReport,
    DismissReport,
    ApprovePost,
    RejectPost,
    BlockInstance,
    UnblockInstance,
    AllowInstance,
    LimitInstance,
    UnlimitInstance,
}

impl ModAction {
    pub const ALL: [ModAction; 23] = [
        ModAction::RemovePost,
        ModAction::RestorePost,
        ModAction::RemoveComment,
        ModAction::RestoreComment,
        ModAction::LockPost,
        ModAction::UnlockPost,
        ModAction::PinPost,
        ModAction::UnpinPost,
        ModAction::AddModerator,
        ModAction::RemoveModerator,
        ModAction::BanFromGroup,
        ModAction::UnbanFromGroup,
        ModAction::BanFromInstance,
        ModAction::UnbanFromInstance,
        ModAction::ResolveReport,
        ModAction::DismissReport,
        ModAction::ApprovePost,
        ModAction::RejectPost,
        ModAction::BlockInstance,
        ModAction::UnblockInstance,
        ModAction::AllowInstance,
        ModAction::LimitInstance,
        ModAction::UnlimitInstance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ModAction::RemovePost => "remove_post",
            ModAction::RestorePost => "restore_post",
            ModAction::RemoveComment => "remove_comment",
            ModAction::RestoreComment => "restore_comment",
            ModAction::LockPost => "lock_post",
            ModAction::UnlockPost => "unlock_post",
            ModAction::PinPost => "pin_post",
            ModAction::UnpinPost => "unpin_post",
            ModAction::AddModerator => "add_moderator",
            ModAction::RemoveModerator => "remove_moderator",
            ModAction::BanFromGroup => "ban_from_group",
            ModAction::UnbanFromGroup => "unban_from_group",
            ModAction::BanFromInstance => "ban_from_instance",
            ModAction::UnbanFromInstance => "unban_from_instance",
            ModAction::ResolveReport => "resolve_report",
            ModAction::DismissReport => "dismiss_report",
            ModAction::ApprovePost => "approve_post",
            ModAction::RejectPost => "reject_post",
            ModAction::BlockInstance => "block_instance",
            ModAction::UnblockInstance => "unblock_instance",
            ModAction::AllowInstance => "allow_instance",
            ModAction::LimitInstance => "limit_instance",
            ModAction::UnlimitInstance => "unlimit_instance",
        }
    }
}

impl fmt::Display for ModAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ModAction {
    type Err = String;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        ModAction::ALL
            .into_iter()
            .find(|a| a.as_str() == code)
            .ok_or_else(|| format!("unknown moderation action `{code}`"))
    }
}

/// Why a moderator's input is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ModerationInputError {
    #[error("the reason is longer than {MAX_REASON_CHARS} characters")]
    ReasonTooLong,
    #[error("the expiry is not in the future")]
    ExpiryInThePast,
}

impl ModerationInputError {
    /// The stable code the API answers with.
    pub fn code(self) -> &'static str {
        match self {
            ModerationInputError::ReasonTooLong => "moderation_reason_too_long",
            ModerationInputError::ExpiryInThePast => "moderation_expiry_in_past",
        }
    }
}

/// A reason as the log keeps it: trimmed, at most [`MAX_REASON_CHARS`].
pub fn check_reason(reason: &str) -> Result<String, ModerationInputError> {
    let reason = reason.trim();
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(ModerationInputError::ReasonTooLong);
    }
    Ok(reason.to_owned())
}

/// An expiry given with a ban (or any time-limited action) must be in the future: a ban that
/// has already expired would look applied and change nothing.
pub fn check_expiry(
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), ModerationInputError> {
    match expires_at {
        Some(at) if at <= now => Err(ModerationInputError::ExpiryInThePast),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn every_code_reads_back_as_its_action() {
        for action in ModAction::ALL {
            assert_eq!(action.as_str().parse::<ModAction>(), Ok(action));
        }
        assert!("remove_everything".parse::<ModAction>().is_err());
    }

    #[test]
    fn an_expiry_must_be_in_the_future() {
        let now = Utc::now();
        assert_eq!(check_expiry(None, now), Ok(()));
        assert_eq!(check_expiry(Some(now + Duration::hours(1)), now), Ok(()));
        assert_eq!(
            check_expiry(Some(now), now),
            Err(ModerationInputError::ExpiryInThePast)
        );
        assert_eq!(
            check_expiry(Some(now - Duration::days(1)), now),
            Err(ModerationInputError::ExpiryInThePast)
        );
    }

    #[test]
    fn a_reason_is_trimmed_and_bounded() {
        assert_eq!(check_reason("  spam \n").as_deref(), Ok("spam"));
        assert_eq!(
            check_reason(&"x".repeat(MAX_REASON_CHARS + 1)),
            Err(ModerationInputError::ReasonTooLong)
        );
        assert!(check_reason(&"é".repeat(MAX_REASON_CHARS)).is_ok());
    }
}
