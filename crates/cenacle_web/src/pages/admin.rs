//! The administration pages: accounts (roles, registrations waiting for approval), the
//! other instances (block, limit, how much their votes weigh) and the mails the queue parked
//! (put back in line once the cause is mended). The use cases check the caller's role; these
//! pages only show what each one may change.

use super::{acting_session, signed_in};
use crate::{
    render::{after_action, field_refusal, page, Chrome, FieldRefusal, PageError},
    session::Visitor,
};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use cenacle_api::{pagination::Page, AppState};
use cenacle_core::{accounts::Session, admin, instance_moderation, CoreError, ScopedFutureExt};
use cenacle_domain::{numbers::parse_number, AccountStatus, Role};
use serde::Deserialize;

/// Accounts and instances a page lists (a community has thousands of members at most on
/// this page's first screen; the API pages through all of them).
const LISTED: i64 = 200;

/// The signed-in session behind an admin page, or the way to sign in first.
fn session_of<'a>(v: &'a Visitor, here: &str) -> Result<&'a Session, Box<Response>> {
    signed_in(v, here).map_err(|r| Box::new(r.into_response()))?;
    v.session.as_ref().ok_or_else(|| {
        Box::new(
            PageError::not_found(v.words, v.instance.clone())
                .for_visitor(v)
                .into_response(),
        )
    })
}

pub struct AccountLine {
    username: String,
    role: &'static str,
    pending: bool,
}

#[derive(Template)]
#[template(path = "admin_accounts.html")]
struct AccountsPage {
    c: Chrome,
    pending_only: bool,
    /// An invitation just made: its code (shown this once) and when it expires.
    issued: Option<(String, String)>,
    accounts: Vec<AccountLine>,
    /// (key, label)
    roles: Vec<(&'static str, String)>,
}

#[derive(Deserialize)]
pub struct AccountsQuery {
    #[serde(default)]
    pending: Option<String>,
}

pub async fn accounts(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<AccountsQuery>,
) -> Response {
    accounts_page(&state, &v, q.pending.is_some(), None).await
}

async fn accounts_page(
    state: &AppState,
    v: &Visitor,
    pending_only: bool,
    issued: Option<(String, String)>,
) -> Response {
    let session = match session_of(v, "/admin/accounts") {
        Ok(s) => s,
        Err(redirect) => return *redirect,
    };
    let status = pending_only.then_some(AccountStatus::PendingApproval);
    let listed = async {
        let mut conn = state.ctx.conn().await?;
        admin::list_accounts(&mut conn, session, 0, LISTED, status).await
    }
    .await;
    let list = match listed {
        Ok(list) => list,
        Err(e) => return PageError::from_core(e, v).into_response(),
    };
    let t = v.words;
    page(
        v,
        StatusCode::OK,
        &AccountsPage {
            c: Chrome::of(v, "/admin/accounts"),
            pending_only,
            issued,
            accounts: list
                .into_iter()
                .map(|a| AccountLine {
                    pending: a.status == AccountStatus::PendingApproval,
                    role: a.role.as_str(),
                    username: a.username,
                })
                .collect(),
            roles: Role::ALL
                .iter()
                .map(|r| (r.as_str(), t.t(&format!("role-{}", r.as_str()))))
                .collect(),
        },
    )
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
}

pub async fn set_role(
    State(state): State<AppState>,
    v: Visitor,
    Path(username): Path<String>,
    Form(form): Form<RoleForm>,
) -> Response {
    let here = "/admin/accounts";
    let session = match acting_session(&v, here, &form.csrf) {
        Ok(session) => Some(session),
        Err(refused) => return refused.into_response(),
    };
    let Ok(role) = form.role.parse::<Role>() else {
        return PageError::bad_request(&v).into_response();
    };
    let changed = state
        .ctx
        .transaction(|conn| admin::set_role(conn, session, &username, role).scope_boxed())
        .await;
    after_action(
        changed.map(|_| ()),
        &v,
        &format!("{here}#account-{username}"),
    )
}

pub async fn approve(
    State(state): State<AppState>,
    v: Visitor,
    Path(username): Path<String>,
    Form(form): Form<super::CsrfOnly>,
) -> Response {
    let here = "/admin/accounts?pending=1";
    let session = match acting_session(&v, here, &form.csrf) {
        Ok(session) => session,
        Err(refused) => return refused.into_response(),
    };
    let ctx = &state.ctx;
    let approved = ctx
        .transaction(|conn| {
            admin::approve_registration(conn, ctx, session, &username).scope_boxed()
        })
        .await;
    after_action(approved.map(|_| ()), &v, here)
}

/// Makes a single-use invitation and shows its code once (the way in when registration is by
/// invitation only).
pub async fn invite(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<super::CsrfOnly>,
) -> Response {
    let session = match acting_session(&v, "/admin/accounts", &form.csrf) {
        Ok(session) => session,
        Err(refused) => return refused.into_response(),
    };
    let ctx = &state.ctx;
    let issued = ctx
        .transaction(|conn| admin::create_invite(conn, ctx, session).scope_boxed())
        .await;
    match issued {
        Ok(invite) => {
            let expires = v.words.date(&invite.expires_at);
            accounts_page(&state, &v, false, Some((invite.code, expires))).await
        }
        Err(e) => PageError::from_core(e, &v).into_response(),
    }
}

pub struct InstanceLine {
    host: String,
    blocked: bool,
    limited: bool,
    weight: String,
    dead: bool,
}

#[derive(Template)]
#[template(path = "admin_instances.html")]
struct InstancesPage {
    c: Chrome,
    instances: Vec<InstanceLine>,
}

pub async fn instances(State(state): State<AppState>, v: Visitor) -> Response {
    let session = match session_of(&v, "/admin/instances") {
        Ok(s) => s,
        Err(redirect) => return *redirect,
    };
    let listed = async {
        let mut conn = state.ctx.conn().await?;
        instance_moderation::known_instances(&mut conn, session, LISTED).await
    }
    .await;
    let list = match listed {
        Ok(list) => list,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    page(
        &v,
        StatusCode::OK,
        &InstancesPage {
            c: Chrome::of(&v, "/admin/instances"),
            instances: list
                .into_iter()
                .map(|i| InstanceLine {
                    host: i.host,
                    blocked: i.blocked,
                    limited: i.limited,
                    weight: format!("{}", i.reputation_weight),
                    dead: i.dead,
                })
                .collect(),
        },
    )
}

#[derive(Deserialize)]
pub struct InstanceForm {
    #[serde(default)]
    csrf: String,
    /// The instance's host name (with `:port` when it has one).
    #[serde(default)]
    host: String,
    /// "block", "unblock", "limit", "unlimit" or "weight".
    #[serde(default)]
    action: String,
    #[serde(default)]
    weight: String,
}

/// One change to how we treat an instance, through the same use cases as the API.
pub async fn change_instance(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<InstanceForm>,
) -> Response {
    let here = "/admin/instances";
    let session = match acting_session(&v, here, &form.csrf) {
        Ok(session) => session,
        Err(refused) => return refused.into_response(),
    };
    let host = form.host.trim().to_ascii_lowercase();
    let (ctx, host_ref) = (&state.ctx, host.as_str());
    let action = form.action.as_str();
    // Not a number: out of range, as the use case says of any weight it refuses.
    let weight = parse_number::<f64>(&form.weight).unwrap_or(-1.0);
    let changed = ctx
        .transaction(|conn| {
            async move {
                match action {
                    "block" | "unblock" => {
                        let blocked = action == "block";
                        instance_moderation::set_blocked(conn, ctx, session, host_ref, blocked)
                            .await
                            .map(|_| ())
                    }
                    "limit" | "unlimit" => {
                        instance_moderation::set_limited(conn, session, host_ref, action == "limit")
                            .await
                            .map(|_| ())
                    }
                    "weight" => admin::set_instance_weight(conn, session, host_ref, weight).await,
                    _ => Err(CoreError::NotFound("action")),
                }
            }
            .scope_boxed()
        })
        .await;
    after_action(changed, &v, &format!("{here}#instance-{host}"))
}

pub struct ParkedMailLine {
    id: i64,
    kind: String,
    to_address: String,
    subject: String,
    /// How many attempts it had, in words.
    attempts: String,
    last_error: String,
    parked_at: String,
}

#[derive(Template)]
#[template(path = "admin_mail.html")]
struct ParkedMailsPage {
    c: Chrome,
    mails: Vec<ParkedMailLine>,
    /// More are parked than the page lists: the cursor of the next page, the last id listed
    /// (retrying all puts every one back, not only this page's).
    next: Option<i64>,
    /// This page's cursor (0: the first page), carried by the retry forms so that the admin
    /// lands back on the page they were reading.
    after: i64,
    /// What the last retry did, said in words.
    notice: Option<String>,
    /// The domain as typed, shown again beside its refusal.
    domain: String,
    refusal: FieldRefusal,
}

/// What the last retry did, carried by the redirect back to the list.
#[derive(Deserialize)]
pub struct ParkedMailsQuery {
    #[serde(default)]
    retried: Option<i64>,
    #[serde(default)]
    dropped: Option<i64>,
    /// The mail asked for was no longer parked (sent, or put back by another click).
    #[serde(default)]
    gone: bool,
    /// The page after this id (keyset paging, as the API's cursor): the first when absent.
    /// Read as text (see [`page_after`]).
    #[serde(default)]
    after: Option<String>,
}

/// The cursor of a page of parked mails, as a link or a form carried it: anything but a
/// positive id (an edited or truncated link) is the first page, not a bare "400" in English.
fn page_after(after: Option<&str>) -> i64 {
    after
        .and_then(|a| a.trim().parse::<i64>().ok())
        .filter(|id| *id > 0)
        .unwrap_or(0)
}

/// The list at the page after `after` (the first when 0), `notice` (query pairs, possibly
/// none) saying what the last retry did.
fn parked_mails_at(after: i64, notice: &str) -> String {
    let page = (after > 0).then(|| format!("after={after}"));
    let query: Vec<&str> = page
        .as_deref()
        .into_iter()
        .chain(Some(notice).filter(|n| !n.is_empty()))
        .collect();
    if query.is_empty() {
        PARKED_MAILS.to_owned()
    } else {
        format!("{PARKED_MAILS}?{}", query.join("&"))
    }
}

impl ParkedMailsQuery {
    fn notice(&self, t: &crate::i18n::Words) -> Option<String> {
        if self.gone {
            return Some(t.t("admin-mail-gone"));
        }
        let retried = self.retried.map(|n| t.count("admin-mail-retried", n));
        let dropped = self
            .dropped
            .filter(|n| *n > 0)
            .map(|n| t.count("admin-mail-dropped", n));
        match (retried, dropped) {
            (Some(r), Some(d)) => Some(format!("{r} {d}")),
            (r, d) => r.or(d),
        }
    }
}

const PARKED_MAILS: &str = "/admin/mail";

pub async fn parked_mails(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<ParkedMailsQuery>,
) -> Response {
    let notice = q.notice(&v.words);
    parked_mails_page(
        &state,
        &v,
        StatusCode::OK,
        notice,
        page_after(q.after.as_deref()),
        String::new(),
        FieldRefusal::default(),
    )
    .await
}

/// The list of parked mails after the id `after`, with a notice of the last retry or a
/// refusal of the form.
async fn parked_mails_page(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    notice: Option<String>,
    after: i64,
    domain: String,
    refusal: FieldRefusal,
) -> Response {
    let session = match session_of(v, PARKED_MAILS) {
        Ok(s) => s,
        Err(redirect) => return *redirect,
    };
    let listed = async {
        let mut conn = state.ctx.conn().await?;
        admin::parked_mails(&mut conn, session, after, LISTED + 1).await
    }
    .await;
    let listed = match listed {
        Ok(list) => Page::from_rows(list, LISTED, |m| m.id, |m| m),
        Err(e) => return PageError::from_core(e, v).into_response(),
    };
    // The API's cursor is opaque; the page's is the last id listed, when more follow.
    let next = listed
        .next_cursor
        .as_ref()
        .and(listed.items.last())
        .map(|m| m.id);
    let t = v.words;
    page(
        v,
        status,
        &ParkedMailsPage {
            c: Chrome::of(v, PARKED_MAILS),
            next,
            after,
            notice,
            domain,
            refusal,
            mails: listed
                .items
                .into_iter()
                .map(|m| ParkedMailLine {
                    id: m.id,
                    kind: m.kind,
                    to_address: m.to_address,
                    subject: m.subject,
                    attempts: t.count("admin-mail-attempts", m.attempts.into()),
                    last_error: m.last_error.unwrap_or_default(),
                    parked_at: t.date(&m.parked_at),
                })
                .collect(),
        },
    )
}

/// The form of a parked mail's "Retry".
#[derive(Deserialize)]
pub struct RetryOneForm {
    #[serde(default)]
    csrf: String,
    /// The page it was on (see [`page_after`]).
    #[serde(default)]
    after: Option<String>,
}

/// Puts one parked mail back in line, through the same use case as the API. A mail no longer
/// parked (a second click, or sent meanwhile) or no longer wanted (deleted instead) lands
/// back on the list with a notice: there is nothing left for the admin to do about it. Back
/// on the page it was on: an admin working through page 3 stays there.
pub async fn retry_parked_mail(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<RetryOneForm>,
) -> Response {
    let session = match acting_session(&v, PARKED_MAILS, &form.csrf) {
        Ok(session) => session,
        Err(refused) => return refused.into_response(),
    };
    let retried = state
        .ctx
        .transaction(|conn| admin::retry_parked_mail(conn, session, id).scope_boxed())
        .await;
    let after = page_after(form.after.as_deref());
    match retried {
        Ok(admin::MailRetry::Retried) => after_action(Ok(()), &v, &parked_mails_at(after, "")),
        Ok(admin::MailRetry::Dropped) => {
            after_action(Ok(()), &v, &parked_mails_at(after, "dropped=1"))
        }
        Err(CoreError::NotFound("parked_mail")) => {
            after_action(Ok(()), &v, &parked_mails_at(after, "gone=true"))
        }
        Err(e) => PageError::from_core(e, &v).into_response(),
    }
}

#[derive(Deserialize)]
pub struct RetryAllForm {
    #[serde(default)]
    csrf: String,
    /// Only mails to this recipient domain; all when left empty.
    #[serde(default)]
    domain: String,
    /// The page it was sent from (see [`page_after`]), shown again with a refusal.
    #[serde(default)]
    after: Option<String>,
}

/// Puts every parked mail (or those to one domain) back in line, then says how many went and
/// how many were deleted, no longer wanted. A domain refused is said beside its field.
pub async fn retry_parked_mails(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<RetryAllForm>,
) -> Response {
    let session = match acting_session(&v, PARKED_MAILS, &form.csrf) {
        Ok(session) => session,
        Err(refused) => return refused.into_response(),
    };
    // The form's empty field is how a browser says "no domain": all of them. (The use case
    // refuses an empty domain, which from the API is a mistake, not a wish for all.)
    let domain = Some(form.domain.trim()).filter(|d| !d.is_empty());
    let retried = state
        .ctx
        .transaction(|conn| admin::retry_parked_mails(conn, session, domain).scope_boxed())
        .await;
    match retried {
        // Back to the first page: every page's mails moved (back in line, or deleted).
        Ok(n) => after_action(
            Ok(()),
            &v,
            &format!("{PARKED_MAILS}?retried={}&dropped={}", n.retried, n.dropped),
        ),
        Err(e) => match field_refusal(e, &v) {
            Ok(refusal) => {
                let after = page_after(form.after.as_deref());
                parked_mails_page(
                    &state,
                    &v,
                    refusal.status,
                    None,
                    after,
                    form.domain,
                    refusal,
                )
                .await
            }
            Err(page) => *page,
        },
    }
}
