//! The pages, one file per part of the site.

pub mod account;
pub mod admin;
pub mod approval;
pub mod auctions;
pub mod badges;
pub mod bounty;
pub mod certificates;
pub mod champions;
pub mod composer;
pub mod contests;
pub mod course_authoring;
pub mod courses;
pub mod email;
pub mod feed;
pub mod groups;
pub mod join_requests;
pub mod leaderboard;
pub mod notifications;
pub mod onboarding_admin;
pub mod person;
pub mod post;
pub mod post_list;
pub mod proposals;
pub mod reports;
pub mod search;
pub mod shop;
pub mod votes;
pub mod welcome;
pub mod widgets;

use crate::{render::see_other, session::Visitor};
use axum::response::{IntoResponse, Response};
use cenacle_core::{accounts::Session, Caller};

/// The signed-in caller, or a redirect to the sign-in page that comes back to `here` (saying
/// the session expired when the browser's cookie no longer proves one).
pub fn signed_in(v: &Visitor, here: &str) -> Result<Caller, SignInFirst> {
    v.caller().ok_or_else(|| sign_in_first(v, here))
}

fn sign_in_first(v: &Visitor, here: &str) -> SignInFirst {
    let expired = if v.session_expired { "&expired=1" } else { "" };
    SignInFirst(format!("/signin?next={}{expired}", encode_path(here)))
}

/// The signed-in caller of a form whose CSRF token matches this browser's; otherwise the
/// answer to give instead (to the sign-in page and back to `here`, or the 403 page).
pub fn acting(v: &Visitor, here: &str, csrf: &str) -> Result<Caller, Refused> {
    acting_session(v, here, csrf).map(Caller::from)
}

/// [`acting`], as the session itself (what the use cases that check a role take).
pub fn acting_session<'a>(v: &'a Visitor, here: &str, csrf: &str) -> Result<&'a Session, Refused> {
    // A caller comes only from a session: taking the session here leaves no "signed in
    // without one" case for each handler to answer.
    let Some(session) = v.session.as_ref() else {
        return Err(Refused(Box::new(sign_in_first(v, here).into_response())));
    };
    if !v.csrf_matches(csrf) {
        return Err(Refused(Box::new(
            crate::render::PageError::csrf(v).into_response(),
        )));
    }
    Ok(session)
}

/// What a form's handler answers when [`acting`] refuses.
pub struct Refused(Box<Response>);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// The way to the sign-in page, and back.
pub struct SignInFirst(String);

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        see_other(&self.0, vec![])
    }
}

/// A form that carries nothing but its CSRF token (sign out, join…). A form without the
/// field is refused as any wrong token is (403), not as malformed.
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

/// A path as a query value (`/posts/3?x=1` → `%2Fposts%2F3%3Fx%3D1`).
pub fn encode_path(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
