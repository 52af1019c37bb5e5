//! The pages of mailed links and of the account's address: forgot password, choosing a new
//! one, confirming an address (new or changed), unsubscribing, and the account page where the
//! address changes. Each form carries the CSRF token; each action is the API's.

use super::{acting, signed_in};
use crate::{
    render::{page, Chrome},
    session::Visitor,
};
use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use cenacle_api::{
    error::ApiError,
    extract::ClientIp,
    routes::email::{
        change_email, confirm_email, forgot_password, reset_password, unsubscribe_member,
        verify_email, UnsubscribeQuery,
    },
    AppState,
};
use serde::Deserialize;

pub struct Hidden {
    name: &'static str,
    value: String,
}

pub struct Field {
    name: &'static str,
    label: String,
    kind: &'static str,
    autocomplete: &'static str,
}

pub struct FormSpec {
    action: &'static str,
    hidden: Vec<Hidden>,
    fields: Vec<Field>,
    button: String,
}

pub struct Link {
    href: &'static str,
    label: String,
}

#[derive(Template)]
#[template(path = "mail_form.html")]
struct MailPage {
    c: Chrome,
    heading: String,
    notice: Option<String>,
    error: Option<String>,
    lines: Vec<String>,
    form: Option<FormSpec>,
    links: Vec<Link>,
}

impl MailPage {
    fn new(v: &Visitor, here: &str, heading: &str) -> MailPage {
        MailPage {
            c: Chrome::of(v, here),
            heading: v.words.t(heading),
            notice: None,
            error: None,
            lines: Vec::new(),
            form: None,
            links: Vec::new(),
        }
    }

    fn show(self, v: &Visitor, status: StatusCode) -> Response {
        page(v, status, &self)
    }

    /// The same page with the API's refusal above the form, in the page's language.
    fn refused(mut self, v: &Visitor, e: ApiError) -> Response {
        let field = e
            .details
            .as_ref()
            .and_then(|d| d.get("reason"))
            .and_then(|r| r.as_str())
            .map(|reason| v.words.invalid(reason));
        self.error =
            Some(field.unwrap_or_else(|| cenacle_api::i18n::message(e.code, v.words.0).to_owned()));
        let status = e.status;
        self.show(v, status)
    }

    /// Done: the notice, and no form.
    fn done(mut self, v: &Visitor, notice: &str, links: Vec<Link>) -> Response {
        self.notice = Some(v.words.t(notice));
        self.form = None;
        self.lines.clear();
        self.links.extend(links);
        self.show(v, StatusCode::OK)
    }
}

fn field(
    v: &Visitor,
    name: &'static str,
    label: &str,
    kind: &'static str,
    autocomplete: &'static str,
) -> Field {
    Field {
        name,
        label: v.words.t(label),
        kind,
        autocomplete,
    }
}

fn sign_in_link(v: &Visitor) -> Link {
    Link {
        href: "/signin",
        label: v.words.t("sign-in"),
    }
}

// ---- forgot password ----

fn forgot_page(v: &Visitor) -> MailPage {
    let mut p = MailPage::new(v, "/password/forgot", "forgot-password");
    p.lines.push(v.words.t("forgot-intro"));
    p.form = Some(FormSpec {
        action: "/password/forgot",
        hidden: vec![],
        fields: vec![field(v, "email", "field-account-email", "email", "email")],
        button: v.words.t("send-link"),
    });
    p
}

pub async fn forgot_form(v: Visitor) -> Response {
    forgot_page(&v).show(&v, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

pub async fn forgot(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    v: Visitor,
    Form(form): Form<EmailForm>,
) -> Response {
    if !v.csrf_matches(&form.csrf) {
        return crate::render::PageError::csrf(&v).into_response();
    }
    match forgot_password(&state, &ip, &form.email).await {
        Ok(()) => forgot_page(&v).done(&v, "forgot-sent", vec![sign_in_link(&v)]),
        Err(e) => forgot_page(&v).refused(&v, e),
    }
}

// ---- the pages of a mailed token ----

#[derive(Deserialize, Default)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

/// A mailed link's page: a button (a GET never spends the token: mail scanners open links).
fn token_page(v: &Visitor, what: TokenPage, token: &str) -> MailPage {
    let (action, heading, intro, button) = match what {
        TokenPage::Reset => ("/password/reset", "reset-password", None, "reset-password"),
        TokenPage::Verify => (
            "/email/verify",
            "verify-email",
            Some("verify-intro"),
            "verify-button",
        ),
        TokenPage::Confirm => (
            "/email/confirm",
            "confirm-email",
            Some("confirm-email-intro"),
            "confirm-email",
        ),
    };
    let mut p = MailPage::new(v, action, heading);
    p.lines.extend(intro.map(|k| v.words.t(k)));
    let fields = match what {
        TokenPage::Reset => vec![field(
            v,
            "password",
            "field-new-password",
            "password",
            "new-password",
        )],
        _ => vec![],
    };
    p.form = Some(FormSpec {
        action,
        hidden: vec![Hidden {
            name: "token",
            value: token.to_owned(),
        }],
        fields,
        button: v.words.t(button),
    });
    p
}

#[derive(Clone, Copy)]
enum TokenPage {
    Reset,
    Verify,
    Confirm,
}

pub async fn reset_form(v: Visitor, Query(q): Query<TokenQuery>) -> Response {
    token_page(&v, TokenPage::Reset, &q.token).show(&v, StatusCode::OK)
}

pub async fn verify_form(v: Visitor, Query(q): Query<TokenQuery>) -> Response {
    token_page(&v, TokenPage::Verify, &q.token).show(&v, StatusCode::OK)
}

pub async fn confirm_form(v: Visitor, Query(q): Query<TokenQuery>) -> Response {
    token_page(&v, TokenPage::Confirm, &q.token).show(&v, StatusCode::OK)
}

async fn spend_token(state: &AppState, v: &Visitor, what: TokenPage, form: TokenForm) -> Response {
    if !v.csrf_matches(&form.csrf) {
        return crate::render::PageError::csrf(v).into_response();
    }
    let (result, notice) = match what {
        TokenPage::Reset => (
            reset_password(state, &form.token, &form.password).await,
            "reset-done",
        ),
        TokenPage::Verify => (
            verify_email(state, &form.token).await.map(drop),
            "verify-done",
        ),
        TokenPage::Confirm => (
            confirm_email(state, &form.token).await.map(drop),
            "confirm-email-done",
        ),
    };
    let page = token_page(v, what, &form.token);
    match result {
        Ok(()) => page.done(v, notice, vec![sign_in_link(v)]),
        Err(e) => page.refused(v, e),
    }
}

pub async fn reset(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<TokenForm>,
) -> Response {
    spend_token(&state, &v, TokenPage::Reset, form).await
}

pub async fn verify(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<TokenForm>,
) -> Response {
    spend_token(&state, &v, TokenPage::Verify, form).await
}

pub async fn confirm(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<TokenForm>,
) -> Response {
    spend_token(&state, &v, TokenPage::Confirm, form).await
}

// ---- unsubscribing ----

fn unsubscribe_page(v: &Visitor, q: &UnsubscribeQuery) -> MailPage {
    let mut p = MailPage::new(v, "/unsubscribe", "unsubscribe");
    p.lines.push(v.words.t("unsubscribe-intro"));
    p.form = Some(FormSpec {
        action: "/unsubscribe",
        hidden: vec![
            Hidden {
                name: "p",
                value: q.p.to_string(),
            },
            Hidden {
                name: "k",
                value: q.k.clone(),
            },
            Hidden {
                name: "s",
                value: q.s.clone(),
            },
        ],
        fields: vec![],
        button: v.words.t("unsubscribe"),
    });
    p
}

pub async fn unsubscribe_form(v: Visitor, Query(q): Query<UnsubscribeQuery>) -> Response {
    unsubscribe_page(&v, &q).show(&v, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct UnsubscribeForm {
    #[serde(default)]
    csrf: String,
    p: i64,
    k: String,
    s: String,
}

pub async fn unsubscribe(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<UnsubscribeForm>,
) -> Response {
    if !v.csrf_matches(&form.csrf) {
        return crate::render::PageError::csrf(&v).into_response();
    }
    let q = UnsubscribeQuery {
        p: form.p,
        k: form.k,
        s: form.s,
    };
    let page = unsubscribe_page(&v, &q);
    match unsubscribe_member(&state, &q).await {
        Ok(_) => page.done(&v, "unsubscribe-done", vec![]),
        Err(e) => page.refused(&v, e),
    }
}

// ---- the account page ----

fn account_page(v: &Visitor) -> MailPage {
    let mut p = MailPage::new(v, "/account", "account");
    if let Some(session) = &v.session {
        let account = &session.account;
        p.lines.push(match &account.email {
            Some(email) => {
                let state = if account.email_verified_at.is_some() {
                    "account-verified"
                } else {
                    "account-unverified"
                };
                format!("{email} ({})", v.words.t(state))
            }
            None => v.words.t("account-no-email"),
        });
    }
    p.form = Some(FormSpec {
        action: "/account/email",
        hidden: vec![],
        fields: vec![
            field(v, "new_email", "field-new-email", "email", "email"),
            field(
                v,
                "password",
                "field-current-password",
                "password",
                "current-password",
            ),
        ],
        button: v.words.t("change-email"),
    });
    p.links.push(Link {
        href: "/account/notifications",
        label: v.words.t("preferences-title"),
    });
    p.links.push(Link {
        href: "/champions/me",
        label: v.words.t("account-champion-link"),
    });
    p
}

pub async fn account(v: Visitor) -> Response {
    if let Err(to_sign_in) = signed_in(&v, "/account") {
        return to_sign_in.into_response();
    }
    account_page(&v).show(&v, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct ChangeEmailForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    new_email: String,
    #[serde(default)]
    password: String,
}

pub async fn change(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    v: Visitor,
    Form(form): Form<ChangeEmailForm>,
) -> Response {
    if let Err(refused) = acting(&v, "/account", &form.csrf) {
        return refused.into_response();
    }
    let Some(session) = &v.session else {
        return crate::render::see_other("/signin?next=/account", vec![]);
    };
    match change_email(&state, &ip, session, &form.new_email, &form.password).await {
        Ok(()) => account_page(&v).done(&v, "change-email-sent", vec![]),
        Err(e) => account_page(&v).refused(&v, e),
    }
}
