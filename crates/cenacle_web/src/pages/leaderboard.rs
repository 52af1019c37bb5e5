//! The leaderboard: who earned the most reputation this week, month, year or ever, on the
//! whole instance or in one group, with the viewer's own position even outside the top.

use crate::{
    i18n::Words,
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
    groups,
    leaderboards::{self, Board, Span},
    model::Author,
    people, CoreError,
};
use cenacle_domain::boards::BoardPeriod;
use chrono::Utc;
use serde::Deserialize;
use std::collections::HashMap;

/// Lines a board shows.
const BOARD_SIZE: i64 = 20;
const PERIODS: [&str; 4] = ["week", "month", "year", "all"];

#[derive(Deserialize)]
pub struct BoardQuery {
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    group: Option<String>,
}

/// A line of a board (the leaderboard, a contest's).
pub struct BoardLine {
    pub(super) rank: i64,
    pub(super) name: String,
    pub(super) link: String,
    pub(super) points: String,
    pub(super) mine: bool,
}

/// A board's row as a line: the person's name and profile link, their points as the
/// visitor's language writes numbers.
pub(super) fn board_line(
    row: &cenacle_core::model::LeaderboardRow,
    authors: &HashMap<i64, Author>,
    viewer: Option<i64>,
    t: Words,
) -> BoardLine {
    let (name, link) = match authors.get(&row.person_id) {
        Some(a) => {
            let handle = match &a.handle_host {
                Some(host) if !a.local => format!("{}@{host}", a.username),
                _ => a.username.clone(),
            };
            (
                a.display_name.clone().unwrap_or_else(|| handle.clone()),
                format!("/people/{handle}"),
            )
        }
        None => ("?".into(), "/".into()),
    };
    BoardLine {
        rank: row.rank,
        name,
        link,
        points: t.number(row.points),
        mine: Some(row.person_id) == viewer,
    }
}

#[derive(Template)]
#[template(path = "leaderboard.html")]
struct LeaderboardPage {
    c: Chrome,
    /// (key, label, link, whether it is shown)
    periods: Vec<(&'static str, String, String, bool)>,
    group: Option<(String, String)>,
    lines: Vec<BoardLine>,
    /// The viewer's line when outside the top.
    me: Option<BoardLine>,
}

pub async fn show(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<BoardQuery>,
) -> Response {
    let period = q
        .period
        .as_deref()
        .and_then(BoardPeriod::parse)
        .unwrap_or(BoardPeriod::Month);
    let group_name = q.group.filter(|g| !g.is_empty());
    let caller = v.caller();
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let group = match &group_name {
            Some(name) => Some(groups::readable_group(&mut conn, caller.as_ref(), name).await?),
            None => None,
        };
        let board = Board {
            span: Span::Period(period, Utc::now().date_naive()),
            group_id: group.as_ref().map(|g| g.id),
        };
        let viewer = caller.as_ref().map(|c| c.person_id);
        let (rows, mine) = leaderboards::leaderboard(&mut conn, board, BOARD_SIZE, viewer).await?;
        let ids: Vec<i64> = rows
            .iter()
            .chain(mine.iter())
            .map(|r| r.person_id)
            .collect();
        let authors = people::authors(&mut conn, &ids).await?;
        Ok::<_, CoreError>((group, rows, mine, authors))
    }
    .await;
    let (group, rows, mine, authors) = match read {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    let t = v.words;
    let viewer = caller.as_ref().map(|c| c.person_id);
    let line = |row: &cenacle_core::model::LeaderboardRow| board_line(row, &authors, viewer, t);
    let lines: Vec<BoardLine> = rows.iter().map(line).collect();
    let me = mine
        .filter(|m| !rows.iter().any(|r| r.person_id == m.person_id))
        .map(|m| line(&m));
    let in_group = group_name
        .as_deref()
        .map(|g| format!("&group={}", super::encode_path(g)))
        .unwrap_or_default();
    page(
        &v,
        StatusCode::OK,
        &LeaderboardPage {
            c: Chrome::of(&v, "/leaderboard"),
            periods: PERIODS
                .iter()
                .map(|p| {
                    (
                        *p,
                        t.t(&format!("board-{p}")),
                        format!("/leaderboard?period={p}{in_group}"),
                        *p == period.as_str(),
                    )
                })
                .collect(),
            group: group.map(|g| (g.name, g.title)),
            lines,
            me,
        },
    )
}
