//! Who is visiting: their session (from the HttpOnly session cookie), the language pages
//! speak to them, and their CSRF token.
//!
//! CSRF uses the double-submit pattern: a random token in a `SameSite=Lax` cookie, repeated
//! in a hidden field of every form; a POST whose field does not match its cookie is refused
//! before anything runs. Another site can make a browser send the cookie, never read it.

use crate::i18n::Words;
use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts, HeaderMap, HeaderValue},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use cenacle_api::{extract::session_of_token, AppState};
use cenacle_core::{accounts::Session, Caller};
use cenacle_domain::{Language, Permission};
use rand::RngCore;

pub const SESSION_COOKIE: &str = "cenacle_session";
pub const CSRF_COOKIE: &str = "cenacle_csrf";
pub const LANG_COOKIE: &str = "cenacle_lang";

/// A cookie's name as this instance sets it: over https with the `__Host-` prefix, which
/// browsers accept only from this very host, with `Secure` and `Path=/` — so a sibling
/// subdomain cannot plant its own session or CSRF cookie for us (cookie tossing).
pub fn cookie_name(base: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

pub struct Visitor {
    pub session: Option<Session>,
    pub words: Words,
    /// The token to put in this page's forms.
    pub csrf: String,
    /// The CSRF cookie to set with the answer (first visit): `None` when the browser has one.
    pub new_csrf_cookie: Option<String>,
    /// Whether cookies get `Secure` (the instance is served over https).
    pub secure: bool,
    /// The browser sent a session cookie that no longer proves a session (expired, revoked):
    /// pages that need one send the visitor to sign in again, and back.
    pub session_expired: bool,
    /// The instance's name, for titles.
    pub instance: String,
    /// The signed-in member's unread notifications, for the menu.
    pub unread: i64,
}

impl Visitor {
    pub fn caller(&self) -> Option<Caller> {
        self.session.as_ref().map(Caller::from)
    }

    /// Whether the visitor is signed in with a role that allows `permission` (what a page
    /// offers; the core checks again on every action).
    pub fn may(&self, permission: Permission) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| s.account.role.allows(permission))
    }

    pub fn username(&self) -> Option<&str> {
        self.session.as_ref().map(|s| s.account.username.as_str())
    }

    /// Whether a form's token is the one of this browser's cookie.
    pub fn csrf_matches(&self, submitted: &str) -> bool {
        self.new_csrf_cookie.is_none()
            && constant_time_eq(submitted.as_bytes(), self.csrf.as_bytes())
    }

    /// `Set-Cookie` for the session token issued at sign-in, for as long as the token lives.
    pub fn session_cookie(&self, token: &str, max_age_seconds: i64) -> HeaderValue {
        cookie(
            &cookie_name(SESSION_COOKIE, self.secure),
            token,
            max_age_seconds,
            self.secure,
        )
    }

    /// `Set-Cookie` that removes the session cookie (sign out).
    pub fn clear_session_cookie(&self) -> HeaderValue {
        cookie(
            &cookie_name(SESSION_COOKIE, self.secure),
            "",
            0,
            self.secure,
        )
    }

    /// `Set-Cookie` with a new CSRF token: given at sign-in and sign-out, so that a token
    /// known before the session changed is worth nothing after.
    pub fn fresh_csrf_cookie(&self) -> HeaderValue {
        csrf_cookie(&fresh_token(), self.secure)
    }
}

/// The CSRF cookie, kept a year: the token is not a secret from the browser that holds it,
/// only from other sites.
pub fn csrf_cookie(token: &str, secure: bool) -> HeaderValue {
    cookie(
        &cookie_name(CSRF_COOKIE, secure),
        token,
        365 * 24 * 3600,
        secure,
    )
}

/// A cookie for the whole site, out of reach of scripts, not sent by other sites' forms.
pub fn cookie(name: &str, value: &str, max_age_seconds: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Max-Age={max_age_seconds}; HttpOnly; SameSite=Lax{secure}"
    ))
    .expect("cookie values are base64 or token characters")
}

pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn fresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The page's language: the visitor's explicit choice, else the member's, else the browser's.
fn language(headers: &HeaderMap, session: Option<&Session>) -> Language {
    cookie_value(headers, LANG_COOKIE)
        .and_then(Language::parse)
        .or(session.map(|s| s.account.language))
        .unwrap_or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(Language::from_accept_language)
                .unwrap_or_default()
        })
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = crate::render::PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let secure = state.ctx.settings.server.public_url.scheme() == "https";
        let mut session_expired = false;
        let session = match cookie_value(&parts.headers, &cookie_name(SESSION_COOKIE, secure)) {
            None => None,
            Some(token) => match session_of_token(state, token).await {
                Ok(session) => Some(session),
                // Expired, revoked, or its account suspended or banned: the session is over.
                Err(e)
                    if e.status == axum::http::StatusCode::UNAUTHORIZED
                        || e.code == "account_suspended"
                        || e.code == "banned_from_instance" =>
                {
                    session_expired = true;
                    None
                }
                Err(e) => {
                    return Err(crate::render::PageError::from_api(
                        e,
                        Words(language(&parts.headers, None)),
                    ))
                }
            },
        };
        let words = Words(language(&parts.headers, session.as_ref()));
        // One count a page for a signed-in member, on a connection given back before the
        // handler takes its own. A failure shows no count rather than no page.
        let unread = match &session {
            Some(s) => unread_of(state, &Caller::from(s)).await.unwrap_or(0),
            None => 0,
        };
        let (csrf, new_csrf_cookie) =
            match cookie_value(&parts.headers, &cookie_name(CSRF_COOKIE, secure)) {
                Some(token) if token.len() == 43 => (token.to_owned(), None),
                _ => {
                    let token = fresh_token();
                    (token.clone(), Some(token))
                }
            };
        Ok(Visitor {
            session,
            words,
            csrf,
            new_csrf_cookie,
            secure,
            session_expired,
            instance: state.ctx.settings.server.instance_name.clone(),
            unread,
        })
    }
}

async fn unread_of(state: &AppState, caller: &Caller) -> Result<i64, cenacle_core::CoreError> {
    let mut conn = state.ctx.conn().await?;
    cenacle_core::notifications::unread_count(&mut conn, caller).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static(
                "x_cenacle_session=evil; cenacle_session=tok; cenacle_lang=fr",
            ),
        );
        assert_eq!(cookie_value(&headers, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie_value(&headers, LANG_COOKIE), Some("fr"));
        assert_eq!(cookie_value(&headers, CSRF_COOKIE), None);
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert_eq!(fresh_token().len(), 43);
    }

    #[test]
    fn over_https_cookies_are_bound_to_this_host() {
        assert_eq!(cookie_name(SESSION_COOKIE, true), "__Host-cenacle_session");
        assert_eq!(cookie_name(CSRF_COOKIE, false), "cenacle_csrf");
        let c = csrf_cookie("t", true);
        let c = c.to_str().unwrap();
        assert!(
            c.starts_with("__Host-cenacle_csrf=t; Path=/;") && c.contains("Secure"),
            "{c}"
        );
        assert!(!c.contains("Domain"));
    }

    #[test]
    fn session_cookies_are_http_only_and_lax() {
        let c = cookie(SESSION_COOKIE, "t", 60, true);
        let c = c.to_str().unwrap();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
        assert!(!cookie(SESSION_COOKIE, "t", 60, false)
            .to_str()
            .unwrap()
            .contains("Secure"));
    }
}
