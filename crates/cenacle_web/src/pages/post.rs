//! A post's page (a question with its answers, accepted first), answering and accepting.

use super::acting;
use crate::{
    i18n::Words,
    render::{page, see_other, Chrome, PageError},
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
use cenacle_apub::mentions::{meet_mentioned, WrittenIn};
use cenacle_apub::objects::content::markdown_to_page_html;
use cenacle_core::{
    access, answers, bounties, comments, ideas,
    model::{Attachment, Bounty},
    moderation, people,
    posts::{self, PostDetail},
    votes::{self, ThreadVotes},
    CoreError, ScopedFutureExt,
};
use cenacle_domain::content::{can_accept_answer, can_change_idea_status, Actor, IdeaStatus, Vote};
use serde::Deserialize;
use std::collections::HashMap;

pub struct AnswerView {
    id: i64,
    body_html: String,
    author: String,
    author_link: String,
    when: String,
    /// The score (likes − dislikes), beside the vote buttons.
    points: i32,
    my_vote: MyVote,
    accepted: bool,
    official: bool,
    /// Written as a trainer in a course's discussion group.
    trainer: bool,
    /// Removed by a moderator (shown to moderators and its author only): the reason.
    removed: Option<String>,
}

#[derive(Template)]
#[template(path = "post.html")]
pub(crate) struct PostPage {
    c: Chrome,
    id: i64,
    group: String,
    group_title: String,
    kind: String,
    title: String,
    author: String,
    author_link: String,
    when: String,
    body_html: String,
    points: i32,
    my_vote: MyVote,
    /// Whether the group takes dislikes.
    dislikes: bool,
    /// A question's bounty, and what the viewer may do with it.
    bounty: Option<BountyBox>,
    may_offer_bounty: bool,
    /// Images and videos: (URL, alt text, is a video).
    media: Vec<(String, String, bool)>,
    answers_heading: String,
    answers: Vec<AnswerView>,
    may_accept: bool,
    /// What the member typed in the page's forms, and what was wrong with it.
    typed: Typed,
    /// Ideas: their status, its history (when, from, to, comment), and whether the viewer
    /// may move them along (with the statuses to choose from).
    idea_status: Option<String>,
    status_history: Vec<(String, String, String, String)>,
    may_moderate: bool,
    /// The idea's status form: a moderator's, while the idea stands (a removed idea keeps its
    /// status: `change_idea_status` refuses it, `post_removed`).
    may_change_status: bool,
    statuses: Vec<(&'static str, String)>,
    /// Not published: waiting for a moderator's approval, or rejected (and why); only its
    /// author and the moderators see such a page.
    approval: Option<String>,
    /// Removed by a moderator (or by a ban with removal), shown to the moderators and its
    /// author only, as an answer's removal is: the reason.
    removed: Option<String>,
}

/// What a post's page says of its standing: (its approval note, its removal's reason). A held
/// post that was removed waits for nobody (the queue no longer lists it): its author is told
/// it was removed, not that it waits; a rejection is told as such, removed or not.
fn standing_notes(
    t: Words,
    approval: Option<&str>,
    approval_reason: Option<&str>,
    removal_reason: Option<&str>,
) -> (Option<String>, Option<String>) {
    let approval = match (approval, removal_reason) {
        (None, _) | (Some("pending"), Some(_)) => None,
        (Some("pending"), None) => Some(t.t("post-pending")),
        (Some(_), _) => Some(format!(
            "{} {}",
            t.t("post-rejected"),
            approval_reason.unwrap_or_default()
        )),
    };
    (approval, removal_reason.map(str::to_owned))
}

/// What a member typed in the question page's forms, shown again with the error next to the
/// form it is about.
#[derive(Default)]
pub struct Typed {
    pub answer: String,
    pub answer_error: Option<String>,
    pub bounty_amount: String,
    pub bounty_days: String,
    pub bounty_error: Option<String>,
}

/// What the post page shows besides the post: its authors, and for ideas the status history
/// and whether the viewer moderates the group.
pub(crate) struct Extras {
    authors: HashMap<i64, cenacle_core::model::Author>,
    history: Vec<cenacle_core::model::StatusChange>,
    /// The viewer's standing in the post's group (instance and group roles), when signed in.
    actor: Option<Actor>,
    votes: Option<ThreadVotes>,
    bounty: Option<Bounty>,
}

/// A question's bounty as its page shows it.
pub struct BountyBox {
    amount: String,
    ends: String,
    /// "open", "awarded", "expired"…, and its label.
    status: String,
    status_label: String,
    /// The viewer sponsors it and may still award it.
    may_award: bool,
}

/// The viewer's vote on a post or an answer, as the vote buttons show it.
#[derive(Clone, Copy)]
pub struct MyVote(Option<Vote>);

impl MyVote {
    pub fn liked(&self) -> bool {
        self.0 == Some(Vote::Like)
    }

    pub fn disliked(&self) -> bool {
        self.0 == Some(Vote::Dislike)
    }

    /// As the form sends it back (`was`).
    pub fn key(&self) -> &'static str {
        match self.0 {
            Some(Vote::Like) => "like",
            Some(Vote::Dislike) => "dislike",
            None => "",
        }
    }
}

/// The profile page of an author: `/people/name`, or `/people/name@host` for a remote one.
fn profile_of(authors: &HashMap<i64, cenacle_core::model::Author>, id: i64) -> String {
    match authors.get(&id) {
        Some(a) => match &a.handle_host {
            Some(host) if !a.local => format!("/people/{}@{host}", a.username),
            _ => format!("/people/{}", a.username),
        },
        None => "/".into(),
    }
}

fn name_of(authors: &HashMap<i64, cenacle_core::model::Author>, id: i64) -> String {
    match authors.get(&id) {
        Some(a) => {
            let name = a.display_name.clone().unwrap_or_else(|| a.username.clone());
            match &a.handle_host {
                Some(host) if !a.local => format!("{name} ({}@{host})", a.username),
                _ => name,
            }
        }
        None => "?".into(),
    }
}

pub(crate) async fn load(
    state: &AppState,
    v: &Visitor,
    id: i64,
) -> Result<(PostDetail, Extras), CoreError> {
    let caller = v.caller();
    let mut conn = state.ctx.conn().await?;
    let detail = posts::get_post(&mut conn, caller.as_ref(), id).await?;
    let mut ids: Vec<i64> = detail.comments.iter().map(|c| c.author_id).collect();
    ids.push(detail.post.author_id);
    let authors = people::authors(&mut conn, &ids).await?;
    let history = if detail.post.kind == "idea" {
        posts::history(&mut conn, caller.as_ref(), id).await?.1
    } else {
        vec![]
    };
    let (actor, votes) = match &caller {
        Some(c) => (
            Some(access::actor_in(&mut conn, &detail.group, c).await?),
            Some(votes::votes_on_thread(&mut conn, c, id).await?),
        ),
        None => (None, None),
    };
    let bounty = if detail.post.kind == "question" {
        // `get_post` above checked the viewer may read it.
        bounties::bounty_of_read_post(&mut conn, id).await?
    } else {
        None
    };
    Ok((
        detail,
        Extras {
            authors,
            history,
            actor,
            votes,
            bounty,
        },
    ))
}

pub(crate) fn post_page(
    v: &Visitor,
    detail: PostDetail,
    extras: &Extras,
    typed: Typed,
) -> PostPage {
    let t: Words = v.words;
    let authors = &extras.authors;
    let status_label = |s: &str| t.t(&format!("status-{s}"));
    let post = detail.post;
    let accepted = post.accepted_comment_id;
    let media = detail
        .attachments
        .into_iter()
        .map(|a| match a {
            Attachment::Local(m) => (
                format!("/media/{}", m.file_name),
                m.description.unwrap_or_default(),
                m.content_type.starts_with("video/"),
            ),
            Attachment::Remote(a) => (
                a.url,
                a.description.unwrap_or_default(),
                a.media_type.is_some_and(|t| t.starts_with("video/")),
            ),
        })
        .collect();
    let answers: Vec<AnswerView> = detail
        .comments
        .iter()
        // Answers are the replies to the post itself; replies to replies stay with them.
        .filter(|c| c.parent_id.is_none())
        .map(|c| AnswerView {
            id: c.id,
            body_html: markdown_to_page_html(&c.body),
            author: name_of(authors, c.author_id),
            author_link: profile_of(authors, c.author_id),
            when: t.date(&c.created_at),
            points: c.likes - c.dislikes,
            my_vote: MyVote(
                extras
                    .votes
                    .as_ref()
                    .and_then(|v| v.comments.get(&c.id).copied()),
            ),
            accepted: Some(c.id) == accepted,
            official: authors
                .get(&c.author_id)
                .is_some_and(|a| a.role.as_deref() == Some("staff")),
            trainer: detail.trainer_comments.contains(&c.id),
            removed: c
                .removed_at
                .map(|_| c.removal_reason.clone().unwrap_or_default()),
        })
        .collect();
    let is_author = v.caller().is_some_and(|c| c.person_id == post.author_id);
    // The domain's rules, as the use cases apply them: the buttons show what would succeed.
    let may_accept = extras
        .actor
        .as_ref()
        .is_some_and(|a| can_accept_answer(a, is_author));
    let may_change_status = extras.actor.as_ref().is_some_and(can_change_idea_status);
    let (approval, removed) = standing_notes(
        t,
        post.approval.as_deref(),
        post.approval_reason.as_deref(),
        post.removed_at
            .map(|_| post.removal_reason.as_deref().unwrap_or_default()),
    );
    PostPage {
        c: Chrome::of(v, &format!("/posts/{}", post.id)),
        id: post.id,
        group: detail.group.name.clone(),
        group_title: detail.group.title.clone(),
        kind: t.t(&format!("kind-{}", post.kind)),
        author: name_of(authors, post.author_id),
        author_link: profile_of(authors, post.author_id),
        when: t.date(&post.created_at),
        body_html: markdown_to_page_html(&post.body),
        points: post.likes - post.dislikes,
        my_vote: MyVote(extras.votes.as_ref().and_then(|v| v.post)),
        dislikes: detail.group.dislikes_enabled,
        bounty: extras.bounty.as_ref().map(|b| {
            let open = b.status == "open" && b.ends_at > chrono::Utc::now();
            BountyBox {
                amount: t.count("bounty-points", b.amount),
                ends: t.date(&b.ends_at),
                status_label: t.t(&format!("bounty-{}", if open { "open" } else { "closed" })),
                status: b.status.clone(),
                may_award: open && v.caller().is_some_and(|c| c.person_id == b.sponsor_id),
            }
        }),
        may_offer_bounty: post.kind == "question"
            && v.caller().is_some()
            && post.accepted_comment_id.is_none()
            && !post.locked
            && extras.bounty.as_ref().is_none_or(|b| b.status != "open"),
        media,
        answers_heading: t.count("answers-count", answers.len() as i64),
        may_accept: may_accept && post.kind == "question",
        answers,
        idea_status: post.idea_status.as_deref().map(status_label),
        status_history: extras
            .history
            .iter()
            .map(|h| {
                (
                    t.date(&h.changed_at),
                    status_label(&h.from_status),
                    status_label(&h.to_status),
                    h.comment.clone().unwrap_or_default(),
                )
            })
            .collect(),
        may_moderate: may_change_status,
        may_change_status: may_change_status && post.removed_at.is_none(),
        statuses: IdeaStatus::ALL
            .iter()
            .filter(|s| **s != IdeaStatus::Duplicate)
            .map(|s| (s.as_str(), status_label(s.as_str())))
            .collect(),
        approval,
        removed,
        title: post.title,
        typed,
    }
}

pub async fn show(State(state): State<AppState>, v: Visitor, Path(id): Path<i64>) -> Response {
    match load(&state, &v, id).await {
        Ok((detail, extras)) => page(
            &v,
            StatusCode::OK,
            &post_page(&v, detail, &extras, Typed::default()),
        ),
        Err(e) => PageError::from_core(e, &v).into_response(),
    }
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
}

pub async fn answer(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<AnswerForm>,
) -> Response {
    let caller = match acting(&v, &format!("/posts/{id}"), &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    meet_mentioned(&state.federation, &[&form.body], WrittenIn::Post(id)).await;
    let (ctx, caller, body) = (&state.ctx, &caller, &form.body);
    let added = ctx
        .transaction(|conn| {
            comments::add_comment(conn, ctx, caller, id, None, body, None).scope_boxed()
        })
        .await;
    match added {
        Ok(comment) => see_other(&format!("/posts/{id}#answer-{}", comment.id), vec![]),
        Err(CoreError::Validation(invalid)) => match load(&state, &v, id).await {
            Ok((detail, extras)) => {
                let error = v.words.invalid(invalid.code);
                page(
                    &v,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &post_page(
                        &v,
                        detail,
                        &extras,
                        Typed {
                            answer: form.body,
                            answer_error: Some(error),
                            ..Typed::default()
                        },
                    ),
                )
            }
            Err(e) => PageError::from_core(e, &v).into_response(),
        },
        Err(e) => PageError::from_core(e, &v).into_response(),
    }
}

#[derive(Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    csrf: String,
    comment_id: i64,
}

pub async fn accept(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<AcceptForm>,
) -> Response {
    let caller = match acting(&v, &format!("/posts/{id}"), &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let (ctx, caller) = (&state.ctx, &caller);
    let accepted = ctx
        .transaction(|conn| {
            answers::accept_answer(conn, ctx, caller, id, Some(form.comment_id)).scope_boxed()
        })
        .await;
    match accepted {
        Ok(_) => see_other(&format!("/posts/{id}#answer-{}", form.comment_id), vec![]),
        Err(e) => PageError::from_core(e, &v).into_response(),
    }
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    csrf: String,
    to: String,
    #[serde(default)]
    comment: String,
}

/// Moves an idea along its pipeline (the group's moderators), with an optional public comment.
pub async fn change_status(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> Response {
    let caller = match acting(&v, &format!("/posts/{id}"), &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let Ok(to) = form.to.parse::<IdeaStatus>() else {
        return PageError::bad_request(&v).into_response();
    };
    let comment = Some(form.comment.trim()).filter(|c| !c.is_empty());
    let (ctx, caller) = (&state.ctx, &caller);
    let changed = ctx
        .transaction(|conn| {
            ideas::change_idea_status(conn, caller, id, to, None, comment).scope_boxed()
        })
        .await;
    match changed {
        Ok(_) => see_other(&format!("/posts/{id}"), vec![]),
        Err(e) => PageError::from_core(e, &v).into_response(),
    }
}

#[derive(Deserialize)]
pub struct RemovalForm {
    #[serde(default)]
    csrf: String,
    /// The post whose page to go back to.
    post: i64,
    #[serde(default)]
    reason: String,
}

/// A moderator removes an answer or comment, with a reason its author sees (the same use case
/// as the API's, federated as a `Delete` with a `summary`).
pub async fn remove_comment(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<RemovalForm>,
) -> Response {
    change_removal(state, v, id, form, true).await
}

/// A moderator restores what was removed.
pub async fn restore_comment(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<RemovalForm>,
) -> Response {
    change_removal(state, v, id, form, false).await
}

async fn change_removal(
    state: AppState,
    v: Visitor,
    id: i64,
    form: RemovalForm,
    remove: bool,
) -> Response {
    let back = format!("/posts/{}", form.post);
    let caller = match acting(&v, &back, &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let (ctx, caller, reason) = (&state.ctx, &caller, form.reason.as_str());
    let changed = ctx
        .transaction(|conn| {
            async move {
                if remove {
                    moderation::remove_comment(conn, caller, id, reason).await
                } else {
                    moderation::restore_comment(conn, caller, id).await
                }
            }
            .scope_boxed()
        })
        .await;
    match changed {
        Ok(()) => see_other(&format!("{back}#answer-{id}"), vec![]),
        Err(e) => PageError::from_core(e, &v).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cenacle_domain::Language;

    /// A held post removed (by a moderator, or a ban with removal) is shown removed to its
    /// author, with the reason, and not as waiting; rejected, it is shown rejected.
    #[test]
    fn a_removed_held_post_is_shown_removed_not_pending() {
        let en = Words(Language::En);
        let pending = standing_notes(en, Some("pending"), None, None);
        assert_eq!(pending, (Some(en.t("post-pending")), None));
        assert_eq!(
            standing_notes(en, Some("pending"), None, Some("Spam")),
            (None, Some("Spam".to_owned()))
        );
        let (rejected, removed) = standing_notes(en, Some("rejected"), Some("Twice"), Some("Spam"));
        assert_eq!(
            rejected.as_deref(),
            Some("Not published by the moderators: Twice")
        );
        assert_eq!(removed.as_deref(), Some("Spam"));
        // Published and removed: the removal alone.
        assert_eq!(
            standing_notes(en, None, None, Some("")),
            (None, Some(String::new()))
        );
        assert_eq!(standing_notes(en, None, None, None), (None, None));
    }
}
