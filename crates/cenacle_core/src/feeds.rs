//! Feeds (the instance's and one's home) and full-text search.

use crate::{Caller, Conn, CoreError};
use cenacle_db::{
    actors,
    content::{self as store, Post},
};
use cenacle_domain::ValidationError;

pub use cenacle_db::content::{FeedScope, FeedSort, SearchQuery};

/// What a feed shows and how.
pub struct FeedOptions {
    pub scope: FeedScope,
    pub sort: FeedSort,
    /// Only posts since then (top of the day, week, month).
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub unanswered: bool,
    pub offset: i64,
    pub limit: i64,
}

/// The instance feed (every group the viewer may read) or the home feed (groups joined or
/// followed, people followed).
pub async fn feed(
    conn: &mut Conn,
    caller: Option<&Caller>,
    options: FeedOptions,
) -> Result<Vec<Post>, CoreError> {
    let FeedOptions {
        scope,
        sort,
        since,
        unanswered,
        offset,
        limit,
    } = options;
    let viewer = match caller {
        Some(c) => {
            let ap_id = actors::person_by_id(conn, c.person_id)
                .await?
                .and_then(|p| p.ap_id)
                .unwrap_or_default();
            Some((c.person_id, ap_id))
        }
        None if scope == FeedScope::Home => return Err(CoreError::Unauthenticated),
        None => None,
    };
    let query = store::FeedQuery {
        scope,
        viewer,
        sort,
        since,
        unanswered,
        offset,
        limit,
    };
    Ok(store::feed(conn, &query).await?)
}

/// Full-text search over posts and their comments; private groups only for their members.
pub async fn search(
    conn: &mut Conn,
    caller: Option<&Caller>,
    mut query: SearchQuery,
) -> Result<Vec<Post>, CoreError> {
    if query.text.trim().is_empty() {
        return Err(ValidationError {
            field: "q",
            code: "empty",
        }
        .into());
    }
    query.viewer_id = caller.map(|c| c.person_id);
    Ok(store::search(conn, &query).await?)
}

/// The most answers a widget lists.
pub const WIDGET_ANSWERS_MAX: i64 = 20;

/// The latest accepted answers of our public groups, for another site to show: only what
/// anyone may read (public groups of ours; nothing held, removed or deleted), `tag`'s or
/// `group`'s when asked. (question, its accepted answer), newest first.
pub async fn latest_answers(
    conn: &mut Conn,
    tag: Option<&str>,
    group: Option<&str>,
    limit: i64,
) -> Result<Vec<(Post, store::Comment)>, CoreError> {
    // A group that is not public answers as a missing one: a widget must not tell that a
    // private group exists.
    let group_id = match group {
        Some(name) => match actors::local_group_by_name(conn, name).await? {
            Some(g) if g.visibility == "public" => Some(g.id),
            _ => return Err(CoreError::NotFound("group")),
        },
        None => None,
    };
    let tag = tag
        .map(|t| t.trim().trim_start_matches('#').to_lowercase())
        .filter(|t| !t.is_empty());
    Ok(store::latest_answered(
        conn,
        tag.as_deref(),
        group_id,
        limit.clamp(1, WIDGET_ANSWERS_MAX),
    )
    .await?)
}
