//! Pure rules of Cénacle. Nothing here touches a database, the network or the clock:
//! every rule is a function of its inputs, so it is tested with plain unit tests.

pub mod account;
pub mod approval;
pub mod auctions;
pub mod boards;
pub mod bounties;
pub mod byte_range;
pub mod champions;
pub mod client_address;
pub mod content;
pub mod delivery;
pub mod digest;
pub mod engagement;
pub mod group_bans;
pub mod html;
pub mod influence;
pub mod insights;
pub mod instance_lists;
pub mod mail;
pub mod mentions;
pub mod moderation;
pub mod moderators;
pub mod mood;
pub mod notification_mail;
pub mod notifications;
pub mod numbers;
pub mod onboarding;
pub mod origin;
pub mod reports;
pub mod role;
pub mod sentiment;
pub mod shop;
pub mod training;
pub mod typography;

pub use account::{
    decide_registration, is_webfinger_name, validate_email, validate_group_name,
    validate_group_text, validate_password, validate_profile, validate_username, AccountStatus,
    Language, ProfileChange, RegistrationDecision, RegistrationMode, RegistrationRefusal,
    ValidationError, INSTANCE_ACTOR_NAME, REPORTING_ACTOR_NAME,
};
pub use client_address::{client_address, limit_key, IpNetwork};
pub use role::{Permission, Role};
