//! Signing up, in and out, and choosing the pages' language.

use super::CsrfOnly;
use crate::{
    render::{local_path, page, see_other, Chrome, PageError},
    session::{cookie, Visitor, LANG_COOKIE},
};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use cenacle_api::{
    extract::ClientIp,
    routes::account::{log_in, register_account, RegisterRequest},
    AppState,
};
use cenacle_domain::{AccountStatus, Language};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    c: Chrome,
    next: String,
    username: String,
    error: Option<String>,
    expired: bool,
}

#[derive(Deserialize, Default)]
pub struct SignInQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    expired: Option<String>,
}

pub async fn sign_in_form(v: Visitor, Query(q): Query<SignInQuery>) -> Response {
    page(
        &v,
        StatusCode::OK,
        &SignInPage {
            c: Chrome::of(&v, "/signin"),
            next: local_path(&q.next),
            username: String::new(),
            error: None,
            expired: q.expired.is_some(),
        },
    )
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn sign_in(
    State(state): State<AppState>,
    v: Visitor,
    ClientIp(ip): ClientIp,
    Form(form): Form<SignInForm>,
) -> Response {
    if !v.csrf_matches(&form.csrf) {
        return PageError::csrf(&v).into_response();
    }
    match log_in(&state, &ip, &form.username, &form.password).await {
        Ok(issued) => {
            let ttl = (issued.expires_at - chrono::Utc::now())
                .num_seconds()
                .max(0);
            see_other(
                &local_path(&form.next),
                vec![v.session_cookie(&issued.token, ttl), v.fresh_csrf_cookie()],
            )
        }
        Err(e) => {
            let status = e.status;
            let error = cenacle_api::i18n::message(e.code, v.words.0).to_owned();
            page(
                &v,
                status,
                &SignInPage {
                    c: Chrome::of(&v, "/signin"),
                    next: local_path(&form.next),
                    username: form.username,
                    error: Some(error),
                    expired: false,
                },
            )
        }
    }
}

/// Signs out: the session's token is revoked on the server, not only forgotten by the browser.
pub async fn sign_out(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if !v.csrf_matches(&form.csrf) {
        return PageError::csrf(&v).into_response();
    }
    if let Some(session) = &v.session {
        let revoked = async {
            let mut conn = state.ctx.conn().await?;
            cenacle_core::accounts::logout(&mut conn, session).await
        }
        .await;
        if let Err(e) = revoked {
            return PageError::from_core(e, &v).into_response();
        }
    }
    see_other("/", vec![v.clear_session_cookie(), v.fresh_csrf_cookie()])
}

#[derive(Deserialize, Default)]
pub struct SignUpForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub invite_code: String,
    #[serde(default)]
    pub reason: String,
    /// The checkbox "welcome me by name in the welcome group": present only when ticked.
    #[serde(default)]
    pub welcome_post: Option<String>,
}

#[derive(Template)]
#[template(path = "sign_up.html")]
struct SignUpPage {
    c: Chrome,
    form: SignUpForm,
    error: Option<String>,
    /// The field the error is about, to mark it.
    field: String,
}

pub async fn sign_up_form(v: Visitor) -> Response {
    page(
        &v,
        StatusCode::OK,
        &SignUpPage {
            c: Chrome::of(&v, "/signup"),
            form: SignUpForm::default(),
            error: None,
            field: String::new(),
        },
    )
}

fn non_empty(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Registers, then signs in at once when the account is active; an account waiting for
/// approval gets a page saying so.
pub async fn sign_up(
    State(state): State<AppState>,
    v: Visitor,
    ClientIp(ip): ClientIp,
    Form(form): Form<SignUpForm>,
) -> Response {
    if !v.csrf_matches(&form.csrf) {
        return PageError::csrf(&v).into_response();
    }
    let request = RegisterRequest {
        username: form.username.trim().to_owned(),
        password: form.password.clone(),
        email: non_empty(&form.email),
        language: Some(v.words.0),
        invite_code: non_empty(&form.invite_code),
        reason: non_empty(&form.reason),
        welcome_post: form.welcome_post.is_some(),
    };
    let account = match register_account(&state, &ip, &request).await {
        Ok(account) => account,
        Err(e) => {
            let detail = |key: &str| {
                e.details
                    .as_ref()
                    .and_then(|d| d.get(key))
                    .and_then(|f| f.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            let field = detail("field");
            let error = if field.is_empty() {
                cenacle_api::i18n::message(e.code, v.words.0).to_owned()
            } else {
                v.words.invalid(&detail("reason"))
            };
            return page(
                &v,
                e.status,
                &SignUpPage {
                    c: Chrome::of(&v, "/signup"),
                    form: SignUpForm {
                        password: String::new(),
                        ..form
                    },
                    error: Some(error),
                    field,
                },
            );
        }
    };
    if account.status != AccountStatus::Active {
        return PageError {
            status: StatusCode::ACCEPTED,
            message: v.words.t("registered-pending"),
            words: v.words,
            instance: v.instance.clone(),
            signed_in: None,
        }
        .into_response();
    }
    match log_in(&state, &ip, &request.username, &request.password).await {
        Ok(issued) => {
            let ttl = (issued.expires_at - chrono::Utc::now())
                .num_seconds()
                .max(0);
            see_other(
                "/groups",
                vec![v.session_cookie(&issued.token, ttl), v.fresh_csrf_cookie()],
            )
        }
        // Verification required: the mail is on its way; the page says where to look.
        Err(e) if e.code == "email_not_verified" => PageError {
            status: StatusCode::ACCEPTED,
            message: cenacle_api::i18n::message(e.code, v.words.0).to_owned(),
            words: v.words,
            instance: v.instance.clone(),
            signed_in: None,
        }
        .into_response(),
        Err(_) => see_other("/signin", vec![]),
    }
}

#[derive(Deserialize)]
pub struct Back {
    #[serde(default)]
    back: String,
}

/// The language switch: remembered in a cookie for a year, then back to the page.
pub async fn choose_language(
    v: Visitor,
    Path(code): Path<String>,
    Query(q): Query<Back>,
) -> Response {
    let Some(language) = Language::parse(&code) else {
        return PageError::not_found(v.words, v.instance.clone())
            .for_visitor(&v)
            .into_response();
    };
    see_other(
        &local_path(&q.back),
        vec![cookie(
            LANG_COOKIE,
            language.as_str(),
            365 * 24 * 3600,
            v.secure,
        )],
    )
}
