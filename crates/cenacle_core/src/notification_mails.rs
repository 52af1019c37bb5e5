//! Notifications mailed at once: `notify` marks a notification whose kind the recipient hears
//! of by e-mail in the transaction that writes it (it cannot queue the mail itself: the use
//! cases calling it do not all carry the instance's settings); the mail worker turns the marks
//! into queued mails here, clearing each in the same transaction, so a notification is mailed
//! once, and only if it was committed.

use crate::{
    mail::{enqueue_mail_about, link_base, MailTopic},
    Conn, Context, CoreError,
};
use cenacle_db::{accounts as account_store, notifications as store};
use cenacle_domain::{
    notification_mail::{notification_mail, NoticeText},
    notifications::Kind,
};

/// Queues the mails of up to `limit` notifications marked to be mailed at once (locked: any
/// number of workers share them). How many notifications were handled (mailed or not: the
/// member may have refused notification mails or not verified their address).
pub async fn mail_immediate_notifications(
    conn: &mut Conn,
    ctx: &Context,
    limit: i64,
) -> Result<usize, CoreError> {
    let due = store::claim_immediate(conn, limit).await?;
    if due.is_empty() {
        return Ok(0);
    }
    for n in &due {
        queue_one(conn, ctx, n).await?;
    }
    let ids: Vec<i64> = due.iter().map(|n| n.id).collect();
    store::clear_mail_due(conn, &ids).await?;
    Ok(due.len())
}

/// Mail is off: takes the mail marks off up to `limit` notifications (they stay in the app);
/// how many. Nobody would mail them, and they would pile up, to be mailed all at once — news
/// months old — the day mail is turned on. Does nothing while mail is on.
pub async fn forget_marks_while_mail_is_off(
    conn: &mut Conn,
    ctx: &Context,
    limit: i64,
) -> Result<usize, CoreError> {
    if ctx.settings.email.enabled {
        return Ok(0);
    }
    Ok(store::forget_mail_marks(conn, limit).await?)
}

/// What a stored notification says, for the text of a mail (its own, or its notice in a
/// digest): nothing when its post or its comment was taken down since the notification
/// (`taken_down_since`: deleted by its author, removed by a moderator), whose title no mail
/// may quote — the same rule a retry of the mail asks again. (The app's list of
/// notifications still shows the notification, without the title.)
pub(crate) fn notice_text(n: &store::NotificationRow) -> Option<NoticeText<'_>> {
    if n.taken_down_since {
        return None;
    }
    Some(NoticeText {
        kind: n.kind.parse::<Kind>().ok()?,
        actor: n.actor.as_deref(),
        actor_count: n.actor_count,
        title: n.post_title.as_deref(),
        group: n.group_name.as_deref(),
        badge: n.badge.as_deref(),
        person: n.person_display_name.as_deref().or(n.person.as_deref()),
        contest: n.contest_title.as_deref(),
        detail: n.detail.as_deref(),
    })
}

/// Where a notification's link leads on our web pages: the post (at the comment), else the
/// group, else the contest, else the person's profile, else the notifications page.
pub(crate) fn notice_link(ctx: &Context, n: &store::NotificationRow) -> String {
    let base = link_base(ctx);
    if let (None, Some(contest)) = (n.post_id, n.contest_id) {
        return format!("{base}/contests/{contest}");
    }
    if n.kind == Kind::Champion.as_str() {
        return format!("{base}/champions/me");
    }
    match (n.post_id, n.post_title.is_some(), &n.group_name, &n.person) {
        (Some(post), true, _, _) => match n.comment_id {
            Some(c) => format!("{base}/posts/{post}#answer-{c}"),
            None => format!("{base}/posts/{post}"),
        },
        (None, _, Some(group), _) => format!("{base}/groups/{group}"),
        (None, _, None, Some(person)) => format!("{base}/people/{person}"),
        _ => format!("{base}/notifications"),
    }
}

async fn queue_one(
    conn: &mut Conn,
    ctx: &Context,
    n: &store::NotificationRow,
) -> Result<(), CoreError> {
    let Some(text) = notice_text(n) else {
        return Ok(());
    };
    let Some(account) = account_store::find_by_id(conn, n.recipient_id).await? else {
        return Ok(());
    };
    let link = notice_link(ctx, n);
    let instance = &ctx.settings.server.instance_name;
    // Its notification named, and its kind: an admin's retry of it parked asks the member's
    // preference for that kind again, and whether the notification still shows them what
    // this mail quotes.
    enqueue_mail_about(
        conn,
        ctx,
        n.recipient_id,
        MailTopic::Notification {
            kind: text.kind,
            notification_id: n.id,
        },
        |language| notification_mail(language, instance, &account.username, &text, &link),
    )
    .await?;
    Ok(())
}
