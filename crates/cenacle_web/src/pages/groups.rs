//! The groups: their directory, a group's page with its posts, joining, and the idea board.

use super::{
    acting, acting_session,
    post_list::{post_line, PostLine},
    CsrfOnly,
};
use crate::{
    render::{page, see_other, Chrome, PageError},
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
use cenacle_core::{access, groups, model::PostFilter, posts, CoreError, ScopedFutureExt};
use cenacle_domain::content::{can_moderate, IdeaStatus};
use serde::Deserialize;

/// The most groups the directory lists (a community has tens, not thousands).
const DIRECTORY_SIZE: i64 = 500;
/// Posts on a group's page.
const PAGE_SIZE: i64 = 30;

pub struct GroupCard {
    name: String,
    title: String,
    description: String,
    visibility: String,
    visibility_key: String,
}

#[derive(Template)]
#[template(path = "groups.html")]
struct GroupsPage {
    c: Chrome,
    groups: Vec<GroupCard>,
    /// The follow form: what was typed, and why it failed.
    target: String,
    error: Option<String>,
}

pub async fn directory(State(state): State<AppState>, v: Visitor) -> Response {
    directory_page(&state, &v, String::new(), None).await
}

async fn directory_page(
    state: &AppState,
    v: &Visitor,
    target: String,
    error: Option<String>,
) -> Response {
    let listed = async {
        let mut conn = state.ctx.conn().await?;
        groups::directory(&mut conn, DIRECTORY_SIZE).await
    }
    .await;
    match listed {
        Ok(list) => page(
            v,
            if error.is_some() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            },
            &GroupsPage {
                c: Chrome::of(v, "/groups"),
                target,
                error,
                groups: list
                    .into_iter()
                    .map(|g| GroupCard {
                        visibility_key: format!("visibility-{}", g.visibility),
                        name: g.name,
                        title: g.title,
                        description: g.description,
                        visibility: g.visibility,
                    })
                    .collect(),
            },
        ),
        Err(e) => PageError::from_core(e, v).into_response(),
    }
}

#[derive(Deserialize)]
pub struct FollowForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    target: String,
}

/// Follows a group of another server by its handle or URL (fetched before any transaction),
/// then shows its page here.
pub async fn follow(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<FollowForm>,
) -> Response {
    let session = match acting_session(&v, "/groups", &form.csrf) {
        Ok(session) => session,
        Err(refused) => return refused.into_response(),
    };
    match cenacle_apub::follows::follow(&state.federation, session, form.target.trim()).await {
        Ok((cenacle_apub::follows::Resolved::Group(group), _)) => {
            let row = &group.row;
            let name = if row.local {
                row.name.clone()
            } else {
                format!("{}@{}", row.name, row.instance_host)
            };
            see_other(&format!("/groups/{name}"), vec![])
        }
        Ok((cenacle_apub::follows::Resolved::Person(_), _)) | Err(_) => {
            let error = v.words.t("follow-failed");
            directory_page(&state, &v, form.target, Some(error)).await
        }
    }
}

#[derive(Template)]
#[template(path = "group.html")]
struct GroupPage {
    c: Chrome,
    name: String,
    title: String,
    description: String,
    member: bool,
    /// The visitor moderates it: the way to its join requests.
    moderates: bool,
    /// A private group the visitor may not read: its card and how to ask to join only.
    sealed: bool,
    /// The visitor just asked to join.
    requested: bool,
    /// (link, label, whether it is the current sort)
    sorts: Vec<(String, String, bool)>,
    /// (link, label, whether it is the kind shown): everything, or one kind of post.
    kinds: Vec<(String, String, bool)>,
    /// One kind is shown (none of it: "nothing of this kind", not "be the first to ask").
    one_kind: bool,
    posts: Vec<PostLine>,
}

#[derive(Deserialize)]
pub struct SortQuery {
    #[serde(default)]
    sort: Option<String>,
    /// One kind of post only (`question`, `idea`, `note`): a group's notes, say, in one list.
    #[serde(default)]
    kind: Option<String>,
    /// Set after a request to join a private group.
    #[serde(default)]
    requested: Option<String>,
}

const SORTS: [&str; 3] = ["new", "top", "active"];
/// The kinds a group page lists one at a time (none chosen: all of them).
const KINDS: [&str; 3] = ["question", "idea", "note"];

pub async fn group_page(
    State(state): State<AppState>,
    v: Visitor,
    Path(name): Path<String>,
    Query(q): Query<SortQuery>,
) -> Response {
    let sort = q
        .sort
        .filter(|s| SORTS.contains(&s.as_str()))
        .unwrap_or_else(|| "new".into());
    // An unknown kind lists everything, as an unknown sort lists the newest.
    let kind = q.kind.filter(|k| KINDS.contains(&k.as_str()));
    let caller = v.caller();
    let read = async {
        let mut conn = state.ctx.conn().await?;
        // Ours by name, or another server's that we know by `name@host`.
        let group = groups::group_by_name_or_handle(&mut conn, &state.ctx, &name).await?;
        // A private group shows its card to everyone (how to ask to join), its content only
        // to its readers.
        let readable = access::may_read(&mut conn, &group, caller.as_ref().into()).await?;
        if !readable {
            return Ok((group, false, false, false, vec![]));
        }
        let actor = match &caller {
            Some(c) => Some(access::actor_in(&mut conn, &group, c).await?),
            None => None,
        };
        let member = actor.as_ref().is_some_and(|a| a.group_role.is_some());
        let moderates = group.local && actor.as_ref().is_some_and(can_moderate);
        let filter = PostFilter {
            sort: sort.clone(),
            kind: kind.clone(),
            limit: PAGE_SIZE,
            ..Default::default()
        };
        let posts = posts::list_group_posts(&mut conn, caller.as_ref(), &group, filter).await?;
        Ok::<_, CoreError>((group, true, member, moderates, posts))
    }
    .await;
    let (group, readable, member, moderates, posts) = match read {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    let t = v.words;
    page(
        &v,
        StatusCode::OK,
        &GroupPage {
            c: Chrome::of(&v, &format!("/groups/{name}")),
            name: group.name,
            title: group.title,
            description: group.description,
            member,
            moderates,
            sealed: !readable,
            requested: q.requested.is_some(),
            // Each sort keeps the kind chosen, each kind the sort.
            sorts: SORTS
                .iter()
                .map(|s| {
                    let href = match &kind {
                        Some(k) => format!("?sort={s}&kind={k}"),
                        None => format!("?sort={s}"),
                    };
                    (href, t.t(&format!("sort-{s}")), *s == sort)
                })
                .collect(),
            one_kind: kind.is_some(),
            kinds: std::iter::once((format!("?sort={sort}"), t.t("kinds-all"), kind.is_none()))
                .chain(KINDS.iter().map(|k| {
                    (
                        format!("?sort={sort}&kind={k}"),
                        t.t(&format!("kinds-{k}")),
                        kind.as_deref() == Some(*k),
                    )
                }))
                .collect(),
            posts: posts.into_iter().map(|p| post_line(p, None, t)).collect(),
        },
    )
}

pub async fn join(
    State(state): State<AppState>,
    v: Visitor,
    Path(name): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let here = format!("/groups/{name}");
    let caller = match acting(&v, &here, &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let (ctx, caller, name) = (&state.ctx, &caller, &name);
    let joined = ctx
        .transaction(|conn| {
            async move {
                let group = groups::local_group(conn, name).await?;
                groups::join_group(conn, caller, &group, None).await
            }
            .scope_boxed()
        })
        .await;
    match joined {
        Ok(true) => see_other(&here, vec![]),
        // A private group: the moderators decide.
        Ok(false) => see_other(&format!("{here}?requested=1"), vec![]),
        Err(e) => PageError::from_core(e, &v).into_response(),
    }
}

#[derive(Template)]
#[template(path = "ideas.html")]
struct IdeaBoard {
    c: Chrome,
    name: String,
    title: String,
    /// (status, its label, its ideas, best first)
    columns: Vec<(&'static str, String, Vec<PostLine>)>,
}

/// Ideas most a column holds (the best first).
const COLUMN_SIZE: i64 = 50;

/// A group's ideas by status, one column per step of the pipeline, best first.
pub async fn idea_board(
    State(state): State<AppState>,
    v: Visitor,
    Path(name): Path<String>,
) -> Response {
    let caller = v.caller();
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let group = groups::readable_group(&mut conn, caller.as_ref(), &name).await?;
        let mut columns = vec![];
        for status in IdeaStatus::ALL {
            let filter = PostFilter {
                kind: Some("idea".into()),
                idea_status: Some(status.as_str().into()),
                sort: "top".into(),
                limit: COLUMN_SIZE,
                ..Default::default()
            };
            let ideas = posts::list_group_posts(&mut conn, caller.as_ref(), &group, filter).await?;
            columns.push((status, ideas));
        }
        Ok::<_, CoreError>((group, columns))
    }
    .await;
    let (group, columns) = match read {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    let t = v.words;
    page(
        &v,
        StatusCode::OK,
        &IdeaBoard {
            c: Chrome::of(&v, &format!("/groups/{name}/ideas")),
            name: group.name,
            title: group.title,
            columns: columns
                .into_iter()
                // Declined and duplicate ideas only when there are some.
                .filter(|(status, ideas)| {
                    !ideas.is_empty()
                        || !matches!(status, IdeaStatus::Declined | IdeaStatus::Duplicate)
                })
                .map(|(status, ideas)| {
                    (
                        status.as_str(),
                        t.t(&format!("status-{}", status.as_str())),
                        ideas.into_iter().map(|p| post_line(p, None, t)).collect(),
                    )
                })
                .collect(),
        },
    )
}
