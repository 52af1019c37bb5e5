//! Search: words, in French and English, with filters (kind, tag, unanswered questions);
//! private groups' posts only for their members (the rule of the use case).

use super::post_list::{post_line, PostLine};
use crate::{
    render::{page, Chrome, PageError},
    session::Visitor,
};
use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use cenacle_api::AppState;
use cenacle_core::{
    feeds::{self, SearchQuery},
    groups, CoreError,
};
use serde::Deserialize;

const RESULTS: i64 = 30;

#[derive(Deserialize, Default)]
pub struct SearchForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    answered: Option<String>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    c: Chrome,
    q: String,
    tag: String,
    unanswered: bool,
    kinds: Vec<(&'static str, String, bool)>,
    searched: bool,
    results_heading: String,
    posts: Vec<PostLine>,
}

pub async fn search(
    State(state): State<AppState>,
    v: Visitor,
    Query(form): Query<SearchForm>,
) -> Response {
    let t = v.words;
    let kind = Some(form.kind.as_str()).filter(|k| ["question", "idea", "note"].contains(k));
    let unanswered = form.answered.as_deref() == Some("false");
    let searched = !form.q.trim().is_empty();
    let mut posts = vec![];
    if searched {
        let caller = v.caller();
        let query = SearchQuery {
            text: form.q.clone(),
            viewer_id: None,
            group_id: None,
            kind: kind.map(str::to_owned),
            tag: Some(form.tag.trim().trim_start_matches('#').to_lowercase())
                .filter(|t| !t.is_empty()),
            idea_status: None,
            answered: unanswered.then_some(false),
            offset: 0,
            limit: RESULTS,
        };
        let found = async {
            let mut conn = state.ctx.conn().await?;
            let found = feeds::search(&mut conn, caller.as_ref(), query).await?;
            let ids: Vec<i64> = found.iter().map(|p| p.group_id).collect();
            let names = groups::display_names(&mut conn, &ids).await?;
            Ok::<_, CoreError>((found, names))
        }
        .await;
        match found {
            Ok((found, names)) => {
                posts = found
                    .into_iter()
                    .map(|p| {
                        let group = names.get(&p.group_id).cloned();
                        post_line(p, group, t)
                    })
                    .collect()
            }
            Err(e) => return PageError::from_core(e, &v).into_response(),
        }
    }
    let kinds = [
        ("", "kind-any"),
        ("question", "kind-question"),
        ("idea", "kind-idea"),
        ("note", "kind-note"),
    ]
    .into_iter()
    .map(|(key, label)| (key, t.t(label), kind.unwrap_or("") == key))
    .collect();
    page(
        &v,
        StatusCode::OK,
        &SearchPage {
            c: Chrome::of(&v, "/search"),
            q: form.q,
            tag: form.tag,
            unanswered,
            kinds,
            searched,
            results_heading: t.count("search-results", posts.len() as i64),
            posts,
        },
    )
}
