//! What we publish to other servers: our posts and comments, with the facts their `Page` and
//! `Note` need. A private group's content is served only to the instances of its approved
//! followers (the rule of [`crate::access::may_read`]), and deleted or removed content to no
//! one (as not found).

use crate::{
    access::{may_read, Reader},
    Conn, CoreError,
};
use cenacle_db::{
    actors::{self, Group, PersonActor},
    content::{self as store, Author, Comment, Post},
    media::{self, Attachment},
};
use cenacle_domain::mentions::{mentioned_handles, BareNames};

/// The people a text mentions whom we know — our members, and people of other servers we have
/// met (a handle never seen is not looked up over the network while publishing) — at most
/// [`MENTIONS_MAX`](cenacle_domain::mentions::MENTIONS_MAX), in the order written: whom its
/// `Page` or `Note` tags, so that their servers tell them, and whom a public group's new text
/// is also sent to. `local`: the text was written here (else a bare `@name` is someone on its
/// author's server, whom we cannot name).
pub async fn mentioned_people(
    conn: &mut Conn,
    (our_host, local): (&str, bool),
    text: &str,
) -> Result<Vec<PersonActor>, CoreError> {
    let bare = if local {
        BareNames::Ours
    } else {
        BareNames::Theirs
    };
    let mut people = Vec::new();
    for handle in mentioned_handles(text, our_host, bare) {
        let person = match &handle.host {
            None => actors::local_person_by_name(conn, &handle.name).await?,
            Some(host) => actors::remote_person_by_handle(conn, &handle.name, host).await?,
        };
        people.extend(person.filter(|p| p.ap_id.is_some()));
    }
    Ok(people)
}

/// The group of a post of ours, if `reader` may read it.
async fn readable_group(
    conn: &mut Conn,
    post: &Post,
    reader: Reader<'_>,
) -> Result<Option<Group>, CoreError> {
    let Some(group) = actors::group_by_id(conn, post.group_id).await? else {
        return Ok(None);
    };
    Ok(may_read(conn, &group, reader).await?.then_some(group))
}

/// A post of ours, if it may be served to `reader`: local, live, and readable by them.
pub async fn published_post(
    conn: &mut Conn,
    id: i64,
    reader: Reader<'_>,
) -> Result<Option<(Post, Group)>, CoreError> {
    let Some(post) = store::post_by_id(conn, id).await?.filter(|p| {
        p.local && p.deleted_at.is_none() && p.approval.is_none() && p.removed_at.is_none()
    }) else {
        return Ok(None);
    };
    let group = readable_group(conn, &post, reader).await?;
    Ok(group.map(|g| (post, g)))
}

/// A comment of ours, if it may be served to `reader` (its post too).
pub async fn published_comment(
    conn: &mut Conn,
    id: i64,
    reader: Reader<'_>,
) -> Result<Option<(Comment, Post, Group)>, CoreError> {
    let Some(comment) = store::comment_by_id(conn, id)
        .await?
        .filter(|c| c.local && c.deleted_at.is_none() && c.removed_at.is_none())
    else {
        return Ok(None);
    };
    let Some(post) = store::post_by_id(conn, comment.post_id)
        .await?
        .filter(|p| p.deleted_at.is_none() && p.approval.is_none() && p.removed_at.is_none())
    else {
        return Ok(None);
    };
    let group = readable_group(conn, &post, reader).await?;
    Ok(group.map(|g| (comment, post, g)))
}

/// A group's pinned posts (its `featured` collection), for a reader who may read it.
pub async fn featured(conn: &mut Conn, group: &Group) -> Result<Vec<Post>, CoreError> {
    Ok(store::pinned_posts(conn, group.id).await?)
}

/// What a post's `Page` says besides the post itself.
pub struct PageFacts {
    pub group: Group,
    pub author_ap_id: Option<String>,
    pub accepted_answer_ap_id: Option<String>,
    pub attachments: Vec<Attachment>,
}

pub async fn page_facts(conn: &mut Conn, post: &Post) -> Result<PageFacts, CoreError> {
    let group = actors::group_by_id(conn, post.group_id)
        .await?
        .ok_or(CoreError::NotFound("group"))?;
    let accepted_answer_ap_id = match post.accepted_comment_id {
        Some(id) => store::comment_by_id(conn, id).await?.map(|c| c.ap_id),
        None => None,
    };
    let author_ap_id = author(conn, post.author_id).await?.and_then(|a| a.ap_id);
    let attachments = media::attachments(conn, post.id).await?;
    Ok(PageFacts {
        group,
        author_ap_id,
        accepted_answer_ap_id,
        attachments,
    })
}

/// What a comment's `Note` says besides the comment itself.
pub struct NoteFacts {
    pub post: Post,
    pub group: Group,
    pub author_ap_id: Option<String>,
    /// The id of what it replies to: its parent comment, or its post.
    pub in_reply_to: String,
    /// Who wrote what it replies to (mentioned, so that Mastodon repliers keep the group).
    pub replied_to_author: Option<Author>,
}

pub async fn note_facts(conn: &mut Conn, comment: &Comment) -> Result<NoteFacts, CoreError> {
    let post = store::post_by_id(conn, comment.post_id)
        .await?
        .ok_or(CoreError::NotFound("post"))?;
    let group = actors::group_by_id(conn, post.group_id)
        .await?
        .ok_or(CoreError::NotFound("group"))?;
    let (in_reply_to, replied_to) = answered(conn, comment, &post).await?;
    let author_ap_id = author(conn, comment.author_id).await?.and_then(|a| a.ap_id);
    let replied_to_author = author(conn, replied_to).await?;
    Ok(NoteFacts {
        post,
        group,
        author_ap_id,
        in_reply_to,
        replied_to_author,
    })
}

/// What `comment` answers (its parent comment, else `post`, its post): that text's id and
/// its author's row id.
async fn answered(
    conn: &mut Conn,
    comment: &Comment,
    post: &Post,
) -> Result<(String, i64), CoreError> {
    let parent = match comment.parent_id {
        Some(id) => store::comment_by_id(conn, id).await?,
        None => None,
    };
    Ok(match parent {
        Some(p) => (p.ap_id, p.author_id),
        None => (post.ap_id.clone(), post.author_id),
    })
}

/// Who wrote what `comment` answers, as its `Note` mentions them ([`note_facts`]), without
/// the rest of the note.
pub async fn replied_to_author(
    conn: &mut Conn,
    comment: &Comment,
) -> Result<Option<Author>, CoreError> {
    let post = store::post_by_id(conn, comment.post_id)
        .await?
        .ok_or(CoreError::NotFound("post"))?;
    let (_, replied_to) = answered(conn, comment, &post).await?;
    author(conn, replied_to).await
}

async fn author(conn: &mut Conn, id: i64) -> Result<Option<Author>, CoreError> {
    Ok(store::authors(conn, &[id]).await?.pop())
}

/// A post or comment by row id, whatever its state (for the outbox side, which sends what
/// happened to it, deletion included).
/// A post as other servers may know it: one waiting for approval (or rejected) was never
/// published, so nothing about it (an edit, a deletion, a vote) leaves either.
pub async fn post_by_id(conn: &mut Conn, id: i64) -> Result<Option<Post>, CoreError> {
    Ok(store::post_by_id(conn, id)
        .await?
        .filter(|p| p.approval.is_none()))
}

pub async fn comment_by_id(conn: &mut Conn, id: i64) -> Result<Option<Comment>, CoreError> {
    Ok(store::comment_by_id(conn, id).await?)
}

/// Whether a post or comment with this ActivityPub id is stored here.
pub async fn exists(conn: &mut Conn, ap_id: &str) -> Result<bool, CoreError> {
    Ok(store::post_by_ap_id(conn, ap_id).await?.is_some()
        || store::comment_by_ap_id(conn, ap_id).await?.is_some())
}
