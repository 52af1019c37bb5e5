//! Trainers' answers are marked (issue 17, deliverable 5): in a course's discussion group,
//! what the course's owner or a trainer (the ManageTraining permission) writes is shown as a
//! trainer's answer — as staff answers are shown as official ones — so that learners tell
//! the trainers' word from other learners'.

use crate::{Conn, CoreError};
use cenacle_db::{
    actors::{self, Group},
    content::{self, Comment},
    training,
};
use cenacle_domain::{Permission, Role};
use std::collections::HashSet;

/// Which of `authors` write as trainers in `group`: none unless it is one of our courses'
/// discussion groups (a remote copy of a group knows nothing of its courses).
pub async fn trainers_among(
    conn: &mut Conn,
    group: &Group,
    authors: &[i64],
) -> Result<HashSet<i64>, CoreError> {
    if !group.local || authors.is_empty() {
        return Ok(HashSet::new());
    }
    let Some(owner) = training::discussion_course_owner(conn, group.id).await? else {
        return Ok(HashSet::new());
    };
    Ok(content::authors(conn, authors)
        .await?
        .into_iter()
        .filter(|a| a.local)
        .filter(|a| {
            owner == Some(a.id)
                || a.role
                    .as_deref()
                    .and_then(|r| r.parse::<Role>().ok())
                    .is_some_and(|r| r.allows(Permission::ManageTraining))
        })
        .map(|a| a.id)
        .collect())
}

/// Whether `comment` is marked as a trainer's answer (for the comment returned alone, after
/// it was written or edited).
pub async fn written_as_trainer(conn: &mut Conn, comment: &Comment) -> Result<bool, CoreError> {
    let Some(post) = content::post_by_id(conn, comment.post_id).await? else {
        return Ok(false);
    };
    let Some(group) = actors::group_by_id(conn, post.group_id).await? else {
        return Ok(false);
    };
    Ok(trainers_among(conn, &group, &[comment.author_id])
        .await?
        .contains(&comment.author_id))
}
