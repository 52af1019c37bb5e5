//! Badges for community managers: the catalogue (how each is earned, which are given by
//! hand) and one form to award, revoke or restore a member's badge, with its reason.

use super::signed_in;
use crate::{
    render::{fixable_refusal, page, Chrome, PageError},
    session::Visitor,
};
use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use cenacle_api::AppState;
use cenacle_core::{
    badges::{self, BadgeChange},
    CoreError, ScopedFutureExt,
};
use cenacle_domain::{champions::CHAMPION_BADGE, Permission};
use serde::Deserialize;

const HERE: &str = "/admin/badges";

pub struct BadgeLine {
    slug: String,
    name: String,
    description: String,
    tier: String,
    /// Given by hand only (Superuser, Staff…), not by a rule.
    honorific: bool,
    /// Follows the champions programme: not changed by hand.
    programme_only: bool,
}

/// What the manager typed, kept when the change is refused.
#[derive(Default, Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    handle: String,
    #[serde(default)]
    badge: String,
    #[serde(default)]
    reason: String,
    /// `award`, `revoke` or `restore` (the button pressed).
    #[serde(default)]
    change: String,
}

#[derive(Template)]
#[template(path = "admin_badges.html")]
struct BadgesPage {
    c: Chrome,
    badges: Vec<BadgeLine>,
    form: ChangeForm,
    /// What was just done, or why it was refused.
    done: Option<String>,
    refused: Option<String>,
}

async fn badges_page(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    form: ChangeForm,
    outcome: Result<Option<String>, String>,
) -> Response {
    if let Err(to_sign_in) = signed_in(v, HERE) {
        return to_sign_in.into_response();
    }
    if !v.may(Permission::ManageGroups) {
        return PageError::from_core(CoreError::NotAllowed("manage_groups"), v).into_response();
    }
    let read = async {
        let mut conn = state.ctx.conn().await?;
        badges::catalogue(&mut conn).await
    }
    .await;
    let all = match read {
        Ok(all) => all,
        Err(e) => return PageError::from_core(e, v).into_response(),
    };
    let t = v.words;
    let (done, refused) = match outcome {
        Ok(done) => (done, None),
        Err(why) => (None, Some(why)),
    };
    page(
        v,
        status,
        &BadgesPage {
            c: Chrome::of(v, HERE),
            badges: all
                .into_iter()
                .map(|b| BadgeLine {
                    programme_only: b.slug == CHAMPION_BADGE,
                    slug: b.slug,
                    name: t.pick(b.name_fr, b.name_en),
                    description: t.pick(b.description_fr, b.description_en),
                    tier: b.tier,
                    honorific: b.honorific,
                })
                .collect(),
            form,
            done,
            refused,
        },
    )
}

pub async fn show(State(state): State<AppState>, v: Visitor) -> Response {
    badges_page(&state, &v, StatusCode::OK, ChangeForm::default(), Ok(None)).await
}

/// Awards, revokes or restores a member's badge; the page comes back saying what was done,
/// or why not with the form as typed.
pub async fn change(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<ChangeForm>,
) -> Response {
    if let Err(refused) = super::acting(&v, HERE, &form.csrf) {
        return refused.into_response();
    }
    let Some(change) = BadgeChange::parse(&form.change) else {
        return PageError::bad_request(&v).into_response();
    };
    let ctx = &state.ctx;
    let changed = match v.session.as_ref() {
        Some(session) => {
            let form = &form;
            let reason = Some(form.reason.trim()).filter(|r| !r.is_empty());
            ctx.transaction(|conn| {
                badges::change_badge(
                    conn,
                    ctx,
                    session,
                    &form.handle,
                    &form.badge,
                    reason,
                    change,
                )
                .scope_boxed()
            })
            .await
        }
        None => Err(CoreError::Unauthenticated),
    };
    match changed {
        Ok(()) => {
            let done = v.words.t(&format!("badges-done-{}", form.change));
            let done = format!("{done} {} · {}", form.badge, form.handle.trim());
            badges_page(
                &state,
                &v,
                StatusCode::OK,
                ChangeForm::default(),
                Ok(Some(done)),
            )
            .await
        }
        Err(e) => match fixable_refusal(e, &v) {
            Ok((status, why)) => badges_page(&state, &v, status, form, Err(why)).await,
            Err(page) => *page,
        },
    }
}
