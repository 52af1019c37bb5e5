//! The home page: a signed-in member's feed (their groups and the people they follow), or
//! everything this instance shows to everyone.

use super::post_list::{post_line, PostLine};
use crate::{
    render::{page, Chrome, PageError},
    session::Visitor,
};
use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use cenacle_api::AppState;
use cenacle_core::{
    feeds::{self, FeedOptions, FeedScope, FeedSort},
    groups, CoreError,
};

const FEED_SIZE: i64 = 30;

#[derive(Template)]
#[template(path = "feed.html")]
struct FeedPage {
    c: Chrome,
    heading: String,
    home: bool,
    posts: Vec<PostLine>,
}

async fn show(state: AppState, v: Visitor, scope: FeedScope) -> Response {
    let caller = v.caller();
    let scope = if caller.is_none() {
        FeedScope::Instance
    } else {
        scope
    };
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let posts = feeds::feed(
            &mut conn,
            caller.as_ref(),
            FeedOptions {
                scope,
                sort: FeedSort::Hot,
                since: None,
                unanswered: false,
                offset: 0,
                limit: FEED_SIZE,
            },
        )
        .await?;
        let ids: Vec<i64> = posts.iter().map(|p| p.group_id).collect();
        let names = groups::display_names(&mut conn, &ids).await?;
        Ok::<_, CoreError>((posts, names))
    }
    .await;
    let (posts, names) = match read {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    let home = scope == FeedScope::Home;
    let t = v.words;
    page(
        &v,
        StatusCode::OK,
        &FeedPage {
            c: Chrome::of(&v, if home { "/" } else { "/all" }),
            heading: t.t(if home { "feed-home" } else { "feed-instance" }),
            home,
            posts: posts
                .into_iter()
                .map(|p| {
                    let group = names.get(&p.group_id).cloned();
                    post_line(p, group, t)
                })
                .collect(),
        },
    )
}

pub async fn home(State(state): State<AppState>, v: Visitor) -> Response {
    show(state, v, FeedScope::Home).await
}

pub async fn everything(State(state): State<AppState>, v: Visitor) -> Response {
    show(state, v, FeedScope::Instance).await
}
