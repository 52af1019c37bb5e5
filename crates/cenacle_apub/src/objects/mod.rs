//! Our actors as ActivityPub documents, and remote ones as database rows.

pub mod actor_document;
pub mod content;
pub mod group;
pub mod instance;
pub mod person;

use crate::ApubError;

pub use actor_document::{Endpoints, InlineCollection};

/// People or groups: the actors that may appear as the `actor` of an activity we accept.
pub type ApubActor = either::Either<person::ApubPerson, group::ApubGroup>;

/// The person who sent an activity that only people send (groups and the instance actor
/// never post, vote or follow).
pub fn person_of(actor: ApubActor) -> Result<cenacle_core::model::PersonActor, ApubError> {
    actor
        .left()
        .map(|p| p.row)
        .ok_or_else(|| ApubError::Malformed("only people send this activity".into()))
}
