//! Who is acting.

use crate::CoreError;
use cenacle_db::accounts::Account;
use cenacle_domain::{Permission, Role};

/// Who is calling, as proven by a bearer token (see `accounts::authenticate`). Here, beside
/// [`Caller`], so that the use cases that take one need not import the accounts module.
#[derive(Debug, Clone)]
pub struct Session {
    pub account: Account,
    pub token_id: i64,
}

/// A local account (with its instance role) or a remote person whose activity reached our
/// inbox (no instance role here: their own server decides what they may do there). Every use
/// case takes one, so both go through the same rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub person_id: i64,
    pub instance_role: Option<Role>,
}

impl Caller {
    /// A remote person, acting through an activity.
    pub fn remote(person_id: i64) -> Caller {
        Caller {
            person_id,
            instance_role: None,
        }
    }

    pub fn is_local(&self) -> bool {
        self.instance_role.is_some()
    }
}

impl From<&Session> for Caller {
    fn from(session: &Session) -> Self {
        Caller {
            person_id: session.account.person_id,
            instance_role: Some(session.account.role),
        }
    }
}

/// The session's role allows `permission`, or the refusal naming it.
pub fn require(session: &Session, permission: Permission) -> Result<(), CoreError> {
    if session.account.role.allows(permission) {
        Ok(())
    } else {
        Err(CoreError::Forbidden(permission))
    }
}
