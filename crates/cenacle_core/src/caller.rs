//! Who is acting.

use crate::accounts::Session;
use cenacle_domain::Role;

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
