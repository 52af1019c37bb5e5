//! The administration pages: accounts (roles, registrations waiting for approval) and the
//! other instances (block, limit, how much their votes weigh). The use cases check the
//! caller's role; these pages only show what each one may change.

use super::{acting, signed_in};
use crate::{
    render::{after_action, page, Chrome, PageError},
    session::Visitor,
};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use cenacle_api::AppState;
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
    if let Err(refused) = acting(&v, here, &form.csrf) {
        return refused.into_response();
    }
    let Ok(role) = form.role.parse::<Role>() else {
        return PageError::bad_request(&v).into_response();
    };
    let session = v.session.as_ref();
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
    let session = match acting(&v, here, &form.csrf) {
        Ok(_) => v.session.as_ref(),
        Err(refused) => return refused.into_response(),
    };
    let Some(session) = session else {
        unreachable!("acting found a session")
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
    if let Err(refused) = acting(&v, "/admin/accounts", &form.csrf) {
        return refused.into_response();
    }
    let Some(session) = v.session.as_ref() else {
        unreachable!("acting found a session")
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
    if let Err(refused) = acting(&v, here, &form.csrf) {
        return refused.into_response();
    }
    let Some(session) = v.session.as_ref() else {
        unreachable!("acting found a session")
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
