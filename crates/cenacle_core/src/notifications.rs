//! Notifications: written by the use case whose action causes them, in its transaction (so
//! a reply through the API, the inbox or a web page notifies alike), read, marked read and
//! tuned per kind by their recipient; and the periodic accept reminder.
//!
//! This module sits at the bottom with `caller`: the content, reward and group use cases call
//! [`notify`]; it calls none of them.

use crate::{identity::local_host, Caller, Conn, Context, CoreError};
use cenacle_db::notifications::{self as store, NewNotification, NotificationRow};
use cenacle_domain::{
    digest::Cadence,
    mentions::{mentioned_usernames, BareNames, MENTIONS_MAX},
    notifications::{may_notify, Audience, Delivery, Kind},
};
use chrono::{DateTime, Duration, Utc};

pub use cenacle_db::notifications::NotificationRow as Notification;

/// Something to tell one person.
#[derive(Debug, Clone, Copy)]
pub struct Notice<'a> {
    pub kind: Kind,
    pub recipient: i64,
    /// Who acted (None: the instance itself).
    pub actor: Option<i64>,
    pub post_id: Option<i64>,
    pub comment_id: Option<i64>,
    /// The group of the content (its privacy is checked), or the group a join request was for.
    pub group_id: Option<i64>,
    pub badge_id: Option<i64>,
    /// The person it is about (a report about them), not the one who acted.
    pub person_id: Option<i64>,
    /// The contest whose result it tells.
    pub contest_id: Option<i64>,
    pub detail: Option<&'a str>,
}

impl<'a> Notice<'a> {
    pub fn new(kind: Kind, recipient: i64, actor: Option<i64>) -> Self {
        Notice {
            kind,
            recipient,
            actor,
            post_id: None,
            comment_id: None,
            group_id: None,
            badge_id: None,
            person_id: None,
            contest_id: None,
            detail: None,
        }
    }

    /// About a post (and a comment of it) in `group_id`.
    pub fn about(mut self, group_id: i64, post_id: i64, comment_id: Option<i64>) -> Self {
        self.group_id = Some(group_id);
        self.post_id = Some(post_id);
        self.comment_id = comment_id;
        self
    }

    /// About a person, whom anyone may look up: no group's privacy applies.
    pub fn about_person(mut self, person_id: i64) -> Self {
        self.person_id = Some(person_id);
        self
    }

    pub fn detail(mut self, detail: &'a str) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// How a member hears of `kind` given the preference they stored for it (`None`: none set):
/// that preference, else the kind's default.
pub(crate) fn delivery_of(kind: Kind, stored: Option<&str>) -> Delivery {
    stored
        .and_then(|d| d.parse().ok())
        .unwrap_or(kind.default_delivery())
}

/// Whether a notification of `kind` is mailed at once to a member who stored `stored` for it
/// (`None`: nothing): what [`notify`] marks, and the worker mails
/// (`notification_mails::mail_immediate_notifications`).
pub(crate) fn mailed_at_once(kind: Kind, stored: Option<&str>) -> bool {
    delivery_of(kind, stored).mail_cadence() == Delivery::EmailImmediate.mail_cadence()
}

/// What [`notify`] marks a notification of `kind` with (`notification.mail_due`) for a member
/// who stored `stored` for it: `immediate` where [`mailed_at_once`] holds (the one rule an
/// admin's retry of a parked notification mail asks again, so that the two cannot drift),
/// else the cadence of the digest its delivery puts it in (`Cadence::delivery`, which the
/// retry of a parked digest asks too), else nothing.
pub(crate) fn mail_due(kind: Kind, stored: Option<&str>) -> Option<&'static str> {
    if mailed_at_once(kind, stored) {
        return Delivery::EmailImmediate.mail_cadence();
    }
    let delivery = delivery_of(kind, stored);
    Cadence::ALL
        .into_iter()
        .find(|cadence| cadence.delivery() == delivery.as_str())
        .map(Cadence::as_str)
}

/// Every (kind, stored preference) under which [`mailed_at_once`] holds, over every kind and
/// every preference one may store (or none): [`mailed_at_once`] as a table, for the store to
/// ask again of a notification mail tried before (an admin's `retry_parked_mails` and every
/// worker's `mail::claim_mails`) without a second copy of the rule.
pub(crate) fn mailed_at_once_table() -> Vec<(&'static str, Option<&'static str>)> {
    Kind::ALL
        .into_iter()
        .flat_map(|kind| {
            std::iter::once(None)
                .chain(Delivery::ALL.into_iter().map(|d| Some(d.as_str())))
                .filter(move |stored| mailed_at_once(kind, *stored))
                .map(move |stored| (kind.as_str(), stored))
        })
        .collect()
}

/// Tells the recipient, unless the rules say not to (their own action, a remote person, a
/// private group's content and they are not in it) or they turned the kind off. Whether a
/// notification was written (or a grouped one grew). A kind they hear of by e-mail is marked
/// to be mailed, at once or in their digest.
pub async fn notify(conn: &mut Conn, notice: Notice<'_>) -> Result<bool, CoreError> {
    if notice.actor == Some(notice.recipient) {
        return Ok(false);
    }
    // Only content is private: a join request's decision names a group whose card anyone
    // may read.
    let content_group = notice.group_id.filter(|_| notice.post_id.is_some());
    let Some(facts) =
        store::recipient_facts(conn, notice.recipient, notice.kind.as_str(), content_group).await?
    else {
        return Ok(false);
    };
    let stored = facts.delivery.as_deref();
    let delivery = delivery_of(notice.kind, stored);
    let audience = Audience {
        recipient_local: facts.local,
        recipient_is_actor: false,
        private_group: facts.private_group,
        recipient_member: facts.member,
    };
    if !may_notify(audience) || !delivery.creates() {
        return Ok(false);
    }
    let new = NewNotification {
        recipient_id: notice.recipient,
        kind: notice.kind.as_str(),
        actor_id: notice.actor,
        post_id: notice.post_id,
        comment_id: notice.comment_id,
        group_id: notice.group_id,
        badge_id: notice.badge_id,
        person_id: notice.person_id,
        contest_id: notice.contest_id,
        detail: notice.detail,
        // Marked in this transaction: the mail worker (at once) or the digest job mails it
        // once this commits, and never if it does not (see `notification_mails`).
        mail_due: mail_due(notice.kind, stored),
    };
    Ok(store::insert(conn, &new, notice.kind.grouped()).await?)
}

/// The caller's notifications, newest first: those with ids below `before` (None: from the
/// newest), unread ones only if asked. Where the instance hides moderators' names
/// (`moderation.show_moderator_names`), a moderation decision names nobody: least of all to
/// the person it concerns, who is the likeliest to harass the moderator who took it (read
/// here, not at writing, so that turning the setting on hides earlier notices too). The person
/// a closed report was about stays named: the reporter named them.
pub async fn list(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    unread_only: bool,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<NotificationRow>, CoreError> {
    let before = before.unwrap_or(i64::MAX);
    let mut rows = store::list(conn, caller.person_id, unread_only, before, limit).await?;
    if !ctx.settings.moderation.show_moderator_names {
        for row in rows
            .iter_mut()
            .filter(|r| r.kind == Kind::Moderation.as_str())
        {
            row.actor = None;
            row.actor_count = 0;
        }
    }
    Ok(rows)
}

pub async fn unread_count(conn: &mut Conn, caller: &Caller) -> Result<i64, CoreError> {
    Ok(store::unread_count(conn, caller.person_id).await?)
}

/// Marks one of the caller's notifications read (someone else's is not found).
pub async fn mark_read(conn: &mut Conn, caller: &Caller, id: i64) -> Result<(), CoreError> {
    if !store::mark_read(conn, caller.person_id, id).await? {
        return Err(CoreError::NotFound("notification"));
    }
    Ok(())
}

/// Marks all the caller's notifications read; how many were unread.
pub async fn mark_all_read(conn: &mut Conn, caller: &Caller) -> Result<usize, CoreError> {
    Ok(store::mark_all_read(conn, caller.person_id).await?)
}

/// The caller's delivery for every kind (the default where they set none), in `Kind::ALL`
/// order.
pub async fn preferences(
    conn: &mut Conn,
    caller: &Caller,
) -> Result<Vec<(Kind, Delivery)>, CoreError> {
    let set = store::preferences(conn, caller.person_id).await?;
    Ok(Kind::ALL
        .into_iter()
        .map(|kind| {
            let stored = set.iter().find(|(k, _)| k == kind.as_str());
            (kind, delivery_of(kind, stored.map(|(_, d)| d.as_str())))
        })
        .collect())
}

/// Sets the caller's delivery of some kinds (by their names); every name is checked before
/// anything is stored. Returns all their preferences.
pub async fn set_preferences(
    conn: &mut Conn,
    caller: &Caller,
    changes: &[(String, String)],
) -> Result<Vec<(Kind, Delivery)>, CoreError> {
    let parsed = changes
        .iter()
        .map(|(k, d)| Ok((k.parse::<Kind>()?, d.parse::<Delivery>()?)))
        .collect::<Result<Vec<_>, cenacle_domain::ValidationError>>()?;
    for (kind, delivery) in parsed {
        store::set_preference(conn, caller.person_id, kind.as_str(), delivery.as_str()).await?;
    }
    preferences(conn, caller).await
}

/// Reminds askers to accept an answer: every question of ours with an answer (by someone
/// else) older than `delay` at `now` and none accepted gets one reminder, ever (a unique
/// index makes a second run, here or on another server, a no-op). At most `limit` a call;
/// how many were sent. `now` is the caller's clock (tests pass their own).
pub async fn send_accept_reminders(
    conn: &mut Conn,
    now: DateTime<Utc>,
    delay: Duration,
    limit: i64,
) -> Result<usize, CoreError> {
    let due = store::reminders_due(conn, now - delay, limit).await?;
    let mut sent = 0;
    for q in due {
        let notice =
            Notice::new(Kind::AcceptReminder, q.author_id, None).about(q.group_id, q.post_id, None);
        if notify(conn, notice).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

/// [`send_accept_reminders`] now, after the configured delay (`notifications.
/// accept_reminder_after_hours`), at most 500 a call: what the server's periodic job runs.
pub async fn send_due_accept_reminders(conn: &mut Conn, ctx: &Context) -> Result<usize, CoreError> {
    let hours = ctx.settings.notifications.accept_reminder_after_hours;
    send_accept_reminders(conn, Utc::now(), Duration::hours(i64::from(hours)), 500).await
}

/// The members `text` mentions (`@name`, or `@name@our-host`: see [`mentioned_usernames`];
/// only the latter in a text `local` is false for, written elsewhere).
fn mentioned_in(ctx: &Context, (text, local): (&str, bool)) -> Vec<String> {
    let bare = if local {
        BareNames::Ours
    } else {
        BareNames::Theirs
    };
    mentioned_usernames(text, &local_host(&ctx.settings), bare)
}

/// Tells the members named in `names` that `by` mentioned them in a post (and comment) of
/// `group_id`, unless that text already told them (the reply's notice went to them, or an
/// earlier version named them: a name edited out and back in is not news twice). The usual
/// rules apply: nobody is told of their own text, nor of a private group's content outside
/// it.
///
/// One text tells at most [`MENTIONS_MAX`] members over all its versions: each version names
/// at most that many, but without a count per text ten edits naming ten new members each
/// would page a hundred.
async fn tell_mentioned(
    conn: &mut Conn,
    by: i64,
    (group_id, post_id, comment_id): (i64, i64, Option<i64>),
    names: Vec<String>,
) -> Result<(), CoreError> {
    if names.is_empty() {
        return Ok(());
    }
    let told = store::mentions_told(conn, post_id, comment_id).await?;
    let mut left = (MENTIONS_MAX as i64 - told).max(0);
    for name in names {
        if left == 0 {
            break;
        }
        let Some(person) = cenacle_db::actors::local_person_by_name(conn, &name).await? else {
            continue;
        };
        if store::told_of(conn, person.id, post_id, comment_id).await? {
            continue;
        }
        let notice =
            Notice::new(Kind::Mention, person.id, Some(by)).about(group_id, post_id, comment_id);
        if notify(conn, notice).await? {
            left -= 1;
        }
    }
    Ok(())
}

/// An edit by `by` tells only the members its new text mentions and its old one did not:
/// a name added is news, a name kept is not told twice. An edit of a text taken down (its
/// author still edits a post a moderator removed; a group elsewhere mirrors the edit of one)
/// tells nobody: the notice would quote, and link, what a moderator took down, which no
/// notification list nor mail shows once it is taken down (`taken_down_since`).
pub(crate) async fn notify_added_mentions(
    conn: &mut Conn,
    ctx: &Context,
    by: i64,
    at: (i64, i64, Option<i64>),
    (old, new, local): (&str, &str, bool),
) -> Result<(), CoreError> {
    let before = mentioned_in(ctx, (old, local));
    let mut added = mentioned_in(ctx, (new, local));
    added.retain(|name| !before.contains(name));
    if added.is_empty() {
        return Ok(());
    }
    let (_, post_id, comment_id) = at;
    if store::taken_down_now(conn, post_id, comment_id).await? {
        return Ok(());
    }
    tell_mentioned(conn, by, at, added).await
}

/// A new reply (`comment` on `post`) tells whom it answers (`replied_to`: the post's or the
/// parent comment's author) and the members it mentions: the same for a reply written here,
/// received in one of our groups, or mirrored from a group elsewhere.
pub(crate) async fn notify_reply(
    conn: &mut Conn,
    ctx: &Context,
    post: &cenacle_db::content::Post,
    comment: &cenacle_db::content::Comment,
    replied_to: i64,
) -> Result<(), CoreError> {
    let at = (post.group_id, post.id, Some(comment.id));
    let notice =
        Notice::new(Kind::Reply, replied_to, Some(comment.author_id)).about(at.0, at.1, at.2);
    notify(conn, notice).await?;
    let names = mentioned_in(ctx, (&comment.body, comment.local));
    tell_mentioned(conn, comment.author_id, at, names).await
}

/// Tells the members a newly published post mentions, in its title or its text.
pub(crate) async fn notify_post_mentions(
    conn: &mut Conn,
    ctx: &Context,
    post: &cenacle_db::content::Post,
) -> Result<(), CoreError> {
    let names = mentioned_in(ctx, (&post_text(post), post.local));
    tell_mentioned(conn, post.author_id, (post.group_id, post.id, None), names).await
}

/// What of a post may mention someone: its title and its text (the federated `Page` tags
/// the people this names, as the notifications tell them).
pub fn post_text(post: &cenacle_db::content::Post) -> String {
    format!("{}\n{}", post.title, post.body)
}

/// An idea's new status, told to its author and to our members who like it.
pub(crate) async fn idea_status_changed(
    conn: &mut Conn,
    by: i64,
    group_id: i64,
    post_id: i64,
    author_id: i64,
    status: &str,
) -> Result<(), CoreError> {
    let mut people = store::local_likers(conn, post_id).await?;
    if !people.contains(&author_id) {
        people.insert(0, author_id);
    }
    for person in people {
        let notice = Notice::new(Kind::IdeaStatus, person, Some(by))
            .about(group_id, post_id, None)
            .detail(status);
        notify(conn, notice).await?;
    }
    Ok(())
}

/// Awards a badge (`by` a manager, or None: a rule or a programme) and tells its new holder:
/// every award goes through here. The new award, `None` when the person held the badge.
pub(crate) async fn award_badge(
    conn: &mut Conn,
    badge_id: i64,
    person: i64,
    by: Option<i64>,
    reason: Option<&str>,
) -> Result<Option<i64>, CoreError> {
    let Some(award) = cenacle_db::badges::award(conn, badge_id, person, by, reason).await? else {
        return Ok(None);
    };
    let mut notice = Notice::new(Kind::BadgeAwarded, person, by);
    notice.badge_id = Some(badge_id);
    notify(conn, notice).await?;
    Ok(Some(award))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table, written out by hand from `Kind::default_delivery`'s documented defaults:
    /// the kinds mailed at once when the member set nothing (no preference stored), and every
    /// kind once set to `email_immediate`; no other preference. A change of a default, or of
    /// the rule, must show here (and in the copy `cenacle_db`'s `tests/mail_queue.rs` keeps of
    /// the rows it uses, see below).
    #[test]
    fn the_table_of_mails_at_once_is_the_defaults_and_the_immediate_setting() {
        let at_once_by_default = [
            "reply",
            "answer_accepted",
            "join_request",
            "moderation",
            "bounty_won",
            "contest_result",
            "mention",
            "champion",
        ];
        let in_app_by_default = [
            "like",
            "idea_status",
            "badge_awarded",
            "accept_reminder",
            "rank_reached",
        ];
        let mut expected: Vec<(&str, Option<&str>)> = at_once_by_default
            .iter()
            .flat_map(|kind| [(*kind, None), (*kind, Some("email_immediate"))])
            .chain(
                in_app_by_default
                    .iter()
                    .map(|kind| (*kind, Some("email_immediate"))),
            )
            .collect();
        expected.sort();
        let mut table = mailed_at_once_table();
        table.sort();
        assert_eq!(table, expected);
    }

    /// The rows `cenacle_db`'s `tests/mail_queue.rs` copies into its `RULES` (it cannot call
    /// this crate): the table's rows for its kinds, exactly, so that the copy cannot silently
    /// state another rule.
    #[test]
    fn the_rows_the_store_tests_copy_are_the_tables() {
        let mut copied: [(&str, Option<&str>); 5] = [
            ("reply", None),
            ("reply", Some("email_immediate")),
            ("mention", None),
            ("mention", Some("email_immediate")),
            ("like", Some("email_immediate")),
        ];
        let mut table: Vec<_> = mailed_at_once_table()
            .into_iter()
            .filter(|(kind, _)| ["reply", "mention", "like"].contains(kind))
            .collect();
        table.sort();
        copied.sort();
        assert_eq!(table, copied);
    }

    /// What `notify` marks, by hand: at once by default or as set, in the digest of the
    /// cadence set, else nothing (in the app only, or off).
    #[test]
    fn notify_marks_by_the_rule_at_once_then_the_digests_cadence() {
        for (kind, stored, due) in [
            (Kind::Reply, None, Some("immediate")),
            (Kind::Reply, Some("email_immediate"), Some("immediate")),
            (Kind::Reply, Some("email_daily"), Some("daily")),
            (Kind::Reply, Some("in_app"), None),
            (Kind::Reply, Some("off"), None),
            (Kind::Like, None, None),
            (Kind::Like, Some("email_immediate"), Some("immediate")),
            (Kind::Like, Some("email_weekly"), Some("weekly")),
            (Kind::Like, Some("not a delivery"), None),
        ] {
            assert_eq!(mail_due(kind, stored), due, "{kind:?} {stored:?}");
        }
    }
}
