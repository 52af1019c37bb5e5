pub mod account;
pub mod admin;
pub mod federation;
pub mod groups;
pub mod instance;
pub mod membership;
pub mod posts;
pub mod views;
