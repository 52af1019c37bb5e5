//! The web interface of Cénacle: pages rendered on the server, plain HTML forms that work
//! without JavaScript, in French and English.
//!
//! Every page calls the same use cases of `cenacle_core` as the REST API, inside one
//! transaction per action. Browsers are signed in by an HttpOnly cookie holding a session
//! token of the same kind the API's bearer tokens are; every form carries a CSRF token
//! checked against a cookie (double submit), and every answer carries a strict
//! Content-Security-Policy.

mod i18n;
mod pages;
mod render;
mod router;
mod session;

pub use router::{router, with_html_errors};
