//! A list of posts as the group pages and the feeds show them (`templates/post_list.html`).

use crate::i18n::Words;
use cenacle_core::model::Post;

/// One line of a list of posts.
pub struct PostLine {
    pub id: i64,
    /// The group's name, in lists that mix groups.
    pub group: Option<String>,
    pub kind: String,
    pub title: String,
    pub pinned: bool,
    pub solved: bool,
    pub score: String,
    pub answers: String,
    pub when: String,
}

pub fn post_line(p: Post, group: Option<String>, t: Words) -> PostLine {
    PostLine {
        id: p.id,
        group,
        kind: t.t(&format!("kind-{}", p.kind)),
        solved: p.accepted_comment_id.is_some(),
        pinned: p.pinned,
        score: t.count("score", i64::from(p.likes - p.dislikes)),
        answers: t.count("answers-count", i64::from(p.comment_count)),
        when: t.date(&p.created_at),
        title: p.title,
    }
}
