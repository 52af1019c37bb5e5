//! A group's approval queue, for its moderators: the posts waiting (first posts of newcomers,
//! members below a reputation, instances our admins limited), approving or rejecting each with
//! a reason for its author, and the group's approval settings.

use super::{acting, signed_in};
use crate::{
    render::{after_action, page, Chrome, PageError},
    session::Visitor,
};
use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use cenacle_api::AppState;
use cenacle_apub::objects::content::markdown_to_page_html;
use cenacle_core::{approval, groups, people, CoreError, ScopedFutureExt};
use serde::Deserialize;

pub struct Pending {
    id: i64,
    title: String,
    body_html: String,
    author: String,
    when: String,
}

#[derive(Template)]
#[template(path = "approval.html")]
struct QueuePage {
    c: Chrome,
    name: String,
    title: String,
    enabled: bool,
    first_posts: i32,
    min_reputation: i64,
    posts: Vec<Pending>,
}

pub async fn queue(
    State(state): State<AppState>,
    v: Visitor,
    Path(name): Path<String>,
) -> Response {
    let here = format!("/groups/{name}/pending");
    let caller = match signed_in(&v, &here) {
        Ok(c) => c,
        Err(redirect) => return redirect.into_response(),
    };
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let group = groups::local_group(&mut conn, &name).await?;
        let settings = approval::settings(&mut conn, &caller, &group).await?;
        let posts = approval::pending_posts(&mut conn, &caller, &group, 0, 100).await?;
        let mut pending = Vec::with_capacity(posts.len());
        for post in posts {
            let author = people::person_by_id(&mut conn, post.author_id).await?;
            pending.push(Pending {
                id: post.id,
                body_html: markdown_to_page_html(&post.body),
                title: post.title,
                author: match author.handle_host() {
                    Some(host) => format!("{}@{host}", author.username),
                    None => author.username,
                },
                when: v.words.date(&post.created_at),
            });
        }
        Ok::<_, CoreError>((group, settings, pending))
    }
    .await;
    let (group, settings, posts) = match read {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    page(
        &v,
        StatusCode::OK,
        &QueuePage {
            c: Chrome::of(&v, &here),
            name: group.name,
            title: group.title,
            enabled: settings.enabled,
            first_posts: settings.first_posts,
            min_reputation: settings.min_reputation,
            posts,
        },
    )
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf: String,
    /// "approve" or "reject".
    #[serde(default)]
    decision: String,
    /// The reason its author sees (a rejection).
    #[serde(default)]
    reason: String,
}

/// Approves (it is published and federated now) or rejects (never published) a post.
pub async fn decide(
    State(state): State<AppState>,
    v: Visitor,
    Path((name, id)): Path<(String, i64)>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let here = format!("/groups/{name}/pending");
    let caller = match acting(&v, &here, &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let approve = match form.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return PageError::bad_request(&v).into_response(),
    };
    let (ctx, caller, reason) = (&state.ctx, &caller, form.reason.as_str());
    let decided = ctx
        .transaction(|conn| {
            async move {
                if approve {
                    approval::approve(conn, ctx, caller, id).await?;
                } else {
                    approval::reject(conn, caller, id, reason).await?;
                }
                Ok(())
            }
            .scope_boxed()
        })
        .await;
    after_action(decided, &v, &here)
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    csrf: String,
    /// The checkbox.
    enabled: Option<String>,
    #[serde(default)]
    first_posts: String,
    #[serde(default)]
    min_reputation: String,
}

/// The group's approval settings.
pub async fn change_settings(
    State(state): State<AppState>,
    v: Visitor,
    Path(name): Path<String>,
    Form(form): Form<SettingsForm>,
) -> Response {
    let here = format!("/groups/{name}/pending");
    let caller = match acting(&v, &here, &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let number = |s: &str| {
        let s = s.trim();
        if s.is_empty() {
            Some(0)
        } else {
            s.parse::<i64>().ok()
        }
    };
    let (Some(first_posts), Some(min_reputation)) =
        (number(&form.first_posts), number(&form.min_reputation))
    else {
        return PageError::bad_request(&v).into_response();
    };
    let settings = approval::Settings {
        enabled: form.enabled.is_some(),
        first_posts: i32::try_from(first_posts).unwrap_or(i32::MAX),
        min_reputation,
    };
    let (caller, name) = (&caller, &name);
    let changed = state
        .ctx
        .transaction(|conn| {
            async move {
                let group = groups::local_group(conn, name).await?;
                approval::set_settings(conn, caller, &group, settings).await?;
                Ok(())
            }
            .scope_boxed()
        })
        .await;
    after_action(changed, &v, &here)
}
