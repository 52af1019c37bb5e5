pub mod account;
pub mod admin;
pub mod instance;
pub mod views;
