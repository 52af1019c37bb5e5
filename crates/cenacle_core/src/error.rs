use cenacle_db::DbError;
use cenacle_domain::{Permission, ValidationError};

/// Why a use case refused or failed. The API maps each to a status and a stable code; the
/// command line prints it.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("invalid input: {0}")]
    Validation(#[from] ValidationError),
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("missing, expired or revoked token")]
    Unauthenticated,
    #[error("the account is waiting for approval")]
    AccountPendingApproval,
    #[error("the account is suspended")]
    AccountSuspended,
    /// `email.verification = "required"` and the address is not verified yet.
    #[error("the account's e-mail address is not verified")]
    EmailNotVerified,
    /// An e-mailed token (verification, reset, address change) nobody issued.
    #[error("unknown token")]
    TokenInvalid,
    #[error("this token was already used")]
    TokenUsed,
    #[error("this token has expired")]
    TokenExpired,
    /// An unsubscribe link whose signature does not match.
    #[error("invalid unsubscribe link")]
    BadUnsubscribeLink,
    /// Banned from this instance by its admins or moderators (until the ban expires or is
    /// lifted).
    #[error("banned from this instance")]
    BannedFromInstance,
    #[error("not allowed: {0:?}")]
    Forbidden(Permission),
    #[error("not allowed: {0}")]
    NotAllowed(&'static str),
    #[error("needs a reputation of {0}")]
    InsufficientReputation(i64),
    #[error("registrations are closed")]
    RegistrationClosed,
    #[error("an invitation is required to register")]
    InviteRequired,
    #[error("the invitation is unknown, used or expired")]
    InvalidInvite,
    #[error("the setup token is unknown or already used")]
    InvalidSetupToken,
    #[error("too large (limit {0} bytes)")]
    TooLarge(usize),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The champions programme refuses a step (its rules are in
    /// `cenacle_domain::champions`).
    #[error("champions programme: {}", .0.code())]
    Champion(#[from] cenacle_domain::champions::ChampionRefusal),
    /// A report or a ban refused (its rules are in `cenacle_domain::reports`).
    #[error("moderation: {}", .0.code())]
    ModerationRefused(cenacle_domain::reports::ModerationRefusal),
    /// The gift shop or an auction refuses a redemption, a bid or a fulfilment step (its
    /// rules are in `cenacle_domain::shop` and `cenacle_domain::auctions`).
    #[error("shop: {}", .0.code())]
    Shop(#[from] cenacle_domain::shop::ShopRefusal),
    /// A bounty's rules refuse an offer, or its author's deletion of a question a bounty runs
    /// on (see `cenacle_domain::bounties`).
    #[error("bounty: {}", .0.code())]
    Bounty(#[from] cenacle_domain::bounties::BountyRefusal),
    /// An `Idempotency-Key` used before for another request.
    #[error("this idempotency key was used for another request")]
    IdempotencyKeyReused,
    /// A moderator's input refused before anything changes (a reason too long, an expiry
    /// in the past).
    #[error("moderation: {}", .0.code())]
    Moderation(#[from] cenacle_domain::moderation::ModerationInputError),
    /// An activity from another server claims what only someone else may say (the origin
    /// rules of `cenacle_domain::origin`).
    #[error("forged: {}", .0.rule())]
    Forged(cenacle_domain::origin::Forgery),
    /// A template (of a triggered e-mail rule) refused when saved: an unknown `{{variable}}`
    /// (named) or one never closed.
    #[error("template {field}: {error}")]
    Template {
        field: &'static str,
        error: cenacle_domain::onboarding::TemplateError,
    },
    /// The training space refuses a course, an enrolment or a quiz attempt (its rules are in
    /// `cenacle_domain::training`).
    #[error("training: {}", .0.code())]
    Training(cenacle_domain::training::TrainingRefusal),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl CoreError {
    /// The database had no connection free in time, or a lock stayed held beyond its bounded
    /// wait (an admin's block of the instance being read): the server is busy, come back
    /// shortly. Nothing was written.
    pub fn is_overloaded(&self) -> bool {
        matches!(
            self,
            CoreError::Database(DbError::PoolTimeout | DbError::LockBusy)
        )
    }

    /// PostgreSQL gave up on the transaction because of a concurrent one (a deadlock it broke,
    /// a serialization failure): rolled back, nothing written, and the same request asked
    /// again may well succeed. Writers lock in one order so that it is rare; where two
    /// activities can still lock in opposite orders (two moderators' bans of each other, each
    /// holding its sender's standing), this says the peer should send again.
    pub fn is_transient_conflict(&self) -> bool {
        matches!(self, CoreError::Database(e) if e.is_transient_conflict())
    }
}

impl From<diesel::result::Error> for CoreError {
    fn from(err: diesel::result::Error) -> Self {
        CoreError::Database(DbError::Query(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind, Error as DieselError};

    fn database(kind: DatabaseErrorKind, message: &str) -> CoreError {
        CoreError::Database(DbError::Query(DieselError::DatabaseError(
            kind,
            Box::new(message.to_owned()),
        )))
    }

    #[test]
    fn a_deadlock_or_a_serialization_failure_is_a_transient_conflict() {
        assert!(database(DatabaseErrorKind::Unknown, "deadlock detected").is_transient_conflict());
        assert!(database(DatabaseErrorKind::SerializationFailure, "x").is_transient_conflict());
        assert!(!database(DatabaseErrorKind::UniqueViolation, "x").is_transient_conflict());
        assert!(!CoreError::Internal("deadlock detected".into()).is_transient_conflict());
    }
}
