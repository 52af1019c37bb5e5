//! JSON shapes returned by the API.

use cenacle_core::model::Account;
use cenacle_domain::{AccountStatus, Language, Role};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// A local account. `email` is present only for the account itself and for staff who manage
/// accounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub id: i64,
    pub username: String,
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub expertise_tags: Vec<String>,
    #[schema(value_type = String, example = "fr")]
    pub language: Language,
    #[schema(value_type = String, example = "member")]
    pub role: Role,
    #[schema(value_type = String, example = "active")]
    pub status: AccountStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the address is verified (shown with `email`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    pub created_at: DateTime<Utc>,
}

impl AccountView {
    /// The view an account's owner, or an account manager, sees.
    pub fn private(account: Account) -> Self {
        let email = account.email.clone();
        let email_verified = Some(account.email_verified_at.is_some());
        Self {
            email,
            email_verified,
            ..Self::public(account)
        }
    }

    pub fn public(account: Account) -> Self {
        Self {
            id: account.person_id,
            username: account.username,
            display_name: account.display_name,
            bio: account.bio,
            avatar_url: account.avatar_url,
            expertise_tags: account.expertise_tags,
            language: account.language,
            role: account.role,
            status: account.status,
            email: None,
            email_verified: None,
            created_at: account.created_at,
        }
    }
}
