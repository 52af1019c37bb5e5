//! Notifications and their per-kind preferences. Plain SQL over the tables of migration
//! `2026-11-30-002101_notifications`.

use crate::{DbError, PrepareOnce};
use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Bool, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// What the rules need to know of a recipient before telling them something.
#[derive(QueryableByName, Debug)]
pub struct RecipientFacts {
    #[diesel(sql_type = Bool)]
    pub local: bool,
    /// Their preference for the kind (null: none set).
    #[diesel(sql_type = Nullable<Text>)]
    pub delivery: Option<String>,
    /// The group is private (false when none was named).
    #[diesel(sql_type = Bool)]
    pub private_group: bool,
    #[diesel(sql_type = Bool)]
    pub member: bool,
}

/// None when the recipient does not exist.
pub async fn recipient_facts(
    conn: &mut AsyncPgConnection,
    recipient: i64,
    kind: &str,
    group_id: Option<i64>,
) -> Result<Option<RecipientFacts>, DbError> {
    Ok(diesel::sql_query(
        "SELECT p.local, \
           (SELECT delivery FROM notification_preference np WHERE np.person_id = p.id AND np.kind = $2) AS delivery, \
           coalesce((SELECT g.visibility = 'private' FROM community_group g WHERE g.id = $3), false) AS private_group, \
           EXISTS (SELECT 1 FROM group_membership m WHERE m.group_id = $3 AND m.person_id = p.id) AS member \
         FROM person p WHERE p.id = $1",
    )
    .bind::<BigInt, _>(recipient)
    .bind::<Text, _>(kind)
    .bind::<Nullable<BigInt>, _>(group_id)
    .prepared()
    .get_result(conn)
    .await
    .optional()?)
}

pub struct NewNotification<'a> {
    pub recipient_id: i64,
    pub kind: &'a str,
    pub actor_id: Option<i64>,
    pub post_id: Option<i64>,
    pub comment_id: Option<i64>,
    pub group_id: Option<i64>,
    pub badge_id: Option<i64>,
    /// The person it is about (a report about them), not the one who acted.
    pub person_id: Option<i64>,
    /// The contest whose result it tells.
    pub contest_id: Option<i64>,
    pub detail: Option<&'a str>,
    /// When it is to be mailed (`immediate`, `daily`, `weekly`), None: not mailed.
    pub mail_due: Option<&'a str>,
}

/// Stores a notification. `grouped`: folded into the recipient's unread row of that kind
/// and object when there is one (the actor added to its actors once). Otherwise a duplicate
/// of a once-only kind (an accept reminder) is ignored. Whether a row was written.
///
/// A grouped row that grows keeps its mail mark: likes on one object are mailed once while
/// unread, not once each.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: &NewNotification<'_>,
    grouped: bool,
) -> Result<bool, DbError> {
    let conflict = if grouped {
        "ON CONFLICT (recipient_id, kind, coalesce(post_id, 0), coalesce(comment_id, 0)) \
           WHERE read_at IS NULL AND kind = 'like' \
         DO UPDATE SET actor_id = EXCLUDED.actor_id, updated_at = now(), \
           actor_ids = CASE WHEN EXCLUDED.actor_id = ANY (notification.actor_ids) \
             THEN notification.actor_ids ELSE notification.actor_ids || EXCLUDED.actor_id END"
    } else {
        "ON CONFLICT DO NOTHING"
    };
    let sql = format!(
        "INSERT INTO notification \
           (recipient_id, kind, actor_id, actor_ids, post_id, comment_id, group_id, badge_id, detail, \
            mail_due, person_id, contest_id) \
         VALUES ($1, $2, $3, CASE WHEN $3 IS NULL THEN '{{}}'::bigint[] ELSE ARRAY[$3] END, \
           $4, $5, $6, $7, $8, $9, $10, $11) {conflict}"
    );
    let n = diesel::sql_query(sql)
        .bind::<BigInt, _>(new.recipient_id)
        .bind::<Text, _>(new.kind)
        .bind::<Nullable<BigInt>, _>(new.actor_id)
        .bind::<Nullable<BigInt>, _>(new.post_id)
        .bind::<Nullable<BigInt>, _>(new.comment_id)
        .bind::<Nullable<BigInt>, _>(new.group_id)
        .bind::<Nullable<BigInt>, _>(new.badge_id)
        .bind::<Nullable<Text>, _>(new.detail)
        .bind::<Nullable<Text>, _>(new.mail_due)
        .bind::<Nullable<BigInt>, _>(new.person_id)
        .bind::<Nullable<BigInt>, _>(new.contest_id)
        // One of two constant texts (grouped or not): each prepared once per connection.
        .prepared()
        .execute(conn)
        .await?;
    Ok(n > 0)
}

/// How many members this post (or this comment of it) has told of a mention, over all its
/// versions.
pub async fn mentions_told(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    comment_id: Option<i64>,
) -> Result<i64, DbError> {
    #[derive(QueryableByName)]
    struct Told {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    // `=` and `IS NULL` apart, not `IS NOT DISTINCT FROM`: the index's second column is then
    // used.
    let same_text = match comment_id {
        Some(_) => "comment_id = $2",
        None => "comment_id IS NULL AND $2 IS NULL",
    };
    let row: Told = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM notification WHERE post_id = $1 \
           AND {same_text} AND kind = 'mention'"
    ))
    .bind::<BigInt, _>(post_id)
    .bind::<Nullable<BigInt>, _>(comment_id)
    .get_result(conn)
    .await?;
    Ok(row.n)
}

/// Whether `recipient` was told of this post (or this comment of it) already, by a reply's
/// notice or a mention.
pub async fn told_of(
    conn: &mut AsyncPgConnection,
    recipient: i64,
    post_id: i64,
    comment_id: Option<i64>,
) -> Result<bool, DbError> {
    #[derive(QueryableByName)]
    struct Told {
        #[diesel(sql_type = Bool)]
        told: bool,
    }
    let row: Told = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM notification WHERE recipient_id = $1 AND post_id = $2 \
           AND comment_id IS NOT DISTINCT FROM $3 AND kind IN ('reply', 'mention')) AS told",
    )
    .bind::<BigInt, _>(recipient)
    .bind::<BigInt, _>(post_id)
    .bind::<Nullable<BigInt>, _>(comment_id)
    .get_result(conn)
    .await?;
    Ok(row.told)
}

/// Whether the post whose id is `$post`, or the comment whose id is `$comment` (SQL
/// expressions), was deleted or removed after the time `$after` (an SQL expression): an SQL
/// condition, false when neither id names a row (a null one names none). The one statement
/// of what "taken down" is, for both questions asked of it: was a notification's news taken
/// down since it was told (`taken_down_since!`: after the notification's time), and is a
/// text taken down now (`taken_down_now`: after `'-infinity'`, at any time). One macro, not
/// two copies of the condition: a copy left behind (a third way of taking content down added
/// to one only) would hide a title from the list yet tell the mentions an edit adds to the
/// same text, or the reverse. A macro, not a function, so that `ROW_SELECT` stays a constant.
macro_rules! taken_down_after {
    ($post:expr, $comment:expr, $after:expr) => {
        concat!(
            "(EXISTS (SELECT 1 FROM post tp WHERE tp.id = ",
            $post,
            " AND (tp.deleted_at > ",
            $after,
            " OR tp.removed_at > ",
            $after,
            ")) OR EXISTS (SELECT 1 FROM comment tc WHERE tc.id = ",
            $comment,
            " AND (tc.deleted_at > ",
            $after,
            " OR tc.removed_at > ",
            $after,
            ")))"
        )
    };
}

/// Whether the post `post_id`, or its comment `comment_id`, is deleted or removed now: a
/// text whose news nobody is told (a mention an edit adds to it), as no list or mail quotes
/// what was taken down since it was told (`taken_down_since!`).
pub async fn taken_down_now(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    comment_id: Option<i64>,
) -> Result<bool, DbError> {
    #[derive(QueryableByName)]
    struct TakenDown {
        #[diesel(sql_type = Bool)]
        taken_down: bool,
    }
    // After `-infinity`: taken down at any time (a null time, never taken down, is after
    // nothing).
    let row: TakenDown = diesel::sql_query(concat!(
        "SELECT ",
        taken_down_after!("$1", "$2", "'-infinity'::timestamptz"),
        " AS taken_down"
    ))
    .bind::<BigInt, _>(post_id)
    .bind::<Nullable<BigInt>, _>(comment_id)
    .get_result(conn)
    .await?;
    Ok(row.taken_down)
}

/// A notification as its recipient reads it.
#[derive(QueryableByName, Debug, Clone)]
pub struct NotificationRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub recipient_id: i64,
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// The latest person who acted: `name` or `name@host`.
    #[diesel(sql_type = Nullable<Text>)]
    pub actor: Option<String>,
    /// How many people acted (a grouped kind counts them; 1 otherwise, 0 for the instance).
    #[diesel(sql_type = BigInt)]
    pub actor_count: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub post_id: Option<i64>,
    /// Null when the recipient may no longer read the post's group.
    #[diesel(sql_type = Nullable<Text>)]
    pub post_title: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub comment_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub group_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub badge: Option<String>,
    /// The person it is about (a report about them): `name` or `name@host`.
    #[diesel(sql_type = Nullable<Text>)]
    pub person: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub person_display_name: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub contest_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub contest_title: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub detail: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub read_at: Option<DateTime<Utc>>,
    /// Its post or its comment was deleted or removed after the notification's time (see
    /// `taken_down_since!`): no mail may quote it; the app still lists it, for its news, but
    /// neither shows the post's title nor links it (the API says `taken_down` instead, the
    /// web page "a post or reply since removed": the one flag does not say which went).
    #[diesel(sql_type = Bool)]
    pub taken_down_since: bool,
}

/// Whether the group `$group` (an SQL alias of a `community_group` row) lets the person
/// `$person` (an SQL expression of their id) read its posts' titles: a private group only its
/// members. An SQL condition, not true when no group row was found: the rule of a
/// notification showing a post's title ([`ROW_SELECT`]; a notification mail, and a digest's
/// notices, are asked again through it when retried, by `mail::notification_still_told`). A
/// macro, not a function, so that `ROW_SELECT` stays a constant.
macro_rules! group_readable_by {
    ($group:literal, $person:literal) => {
        concat!(
            "(",
            $group,
            ".visibility <> 'private' OR EXISTS (SELECT 1 FROM group_membership m \
             WHERE m.group_id = ",
            $group,
            ".id AND m.person_id = ",
            $person,
            "))"
        )
    };
}

/// Whether the post or the comment the notification `$notification` (an SQL alias of a
/// `notification` row) tells of was deleted or removed after the notification's time: news
/// of content since taken down, which no mail may quote (a notification mail is queued after
/// its notification by the worker, a digest up to a cadence later, a retry later still). The
/// notification's time, not the mail's: content taken down in between would otherwise pass;
/// a notice of a removal, written with it, is not taken down since. An SQL condition, false
/// for a notification about neither. The one rule of a notification's mail when it is first
/// queued ([`ROW_SELECT`]'s `taken_down_since`, read by the core's `notice_text`) and when it
/// is retried (`mail::notification_still_told`, through the same column), and of the app's
/// list no longer showing its title. What "taken down" is, `taken_down_after!` says, for
/// `taken_down_now` too. A macro, not a function, so that `ROW_SELECT` stays a constant.
macro_rules! taken_down_since {
    ($notification:literal) => {
        taken_down_after!(
            concat!($notification, ".post_id"),
            concat!($notification, ".comment_id"),
            concat!($notification, ".created_at")
        )
    };
}

/// A notification as its recipient reads it (`n`): a post's title is shown only while its
/// group is readable by the recipient, so someone who left a private group is not shown (nor
/// mailed) what was written there since; a contest's title only while they may read every
/// group it covers (as the contest's page); and whether what it tells of was taken down
/// since (`taken_down_since`: its mail, or a digest's notice of it, is not queued). A retry of
/// a notification mail, or of a digest telling of it, reads its notification so again
/// (`mail::notification_still_told`).
pub(crate) const ROW_SELECT: &str = concat!(
    "SELECT n.id, n.recipient_id, n.kind, \
       CASE WHEN a.local THEN a.username ELSE a.username || '@' || COALESCE(a.handle_host, a.instance_host) END AS actor, \
       cardinality(n.actor_ids)::bigint AS actor_count, n.post_id, \
       CASE WHEN ",
    group_readable_by!("g", "n.recipient_id"),
    " THEN p.title END AS post_title, \
       n.comment_id, g.name AS group_name, b.slug AS badge, \
       CASE WHEN s.local THEN s.username ELSE s.username || '@' || COALESCE(s.handle_host, s.instance_host) END AS person, \
       s.display_name AS person_display_name, n.contest_id, \
       CASE WHEN NOT EXISTS (SELECT 1 FROM community_group cg WHERE cg.id = ANY (c.group_ids) \
           AND cg.visibility = 'private' AND NOT EXISTS (SELECT 1 FROM group_membership cm \
             WHERE cm.group_id = cg.id AND cm.person_id = n.recipient_id)) \
         THEN c.title END AS contest_title, n.detail, \
       n.created_at, n.updated_at, n.read_at, ",
    taken_down_since!("n"),
    " AS taken_down_since \
     FROM notification n \
     LEFT JOIN person a ON a.id = n.actor_id \
     LEFT JOIN person s ON s.id = n.person_id \
     LEFT JOIN post p ON p.id = n.post_id \
     LEFT JOIN community_group g ON g.id = coalesce(p.group_id, n.group_id) \
     LEFT JOIN badge b ON b.id = n.badge_id \
     LEFT JOIN contest c ON c.id = n.contest_id"
);

/// Up to `limit` notifications to mail at once, oldest first, locked for this transaction
/// (another worker skips them): the caller mails them and clears their mark before it commits.
pub async fn claim_immediate(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> Result<Vec<NotificationRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "{ROW_SELECT} WHERE n.mail_due = 'immediate' ORDER BY n.id LIMIT $1 \
         FOR UPDATE OF n SKIP LOCKED"
    ))
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}

/// The recipient's notifications waiting for their `cadence` digest, oldest first, locked for
/// this transaction.
pub async fn claim_for_digest(
    conn: &mut AsyncPgConnection,
    recipient: i64,
    cadence: &str,
    limit: i64,
) -> Result<Vec<NotificationRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "{ROW_SELECT} WHERE n.recipient_id = $1 AND n.mail_due = $2 ORDER BY n.id LIMIT $3 \
         FOR UPDATE OF n"
    ))
    .bind::<BigInt, _>(recipient)
    .bind::<Text, _>(cadence)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}

/// The notifications were mailed (or will never be): their mark goes.
pub async fn clear_mail_due(conn: &mut AsyncPgConnection, ids: &[i64]) -> Result<(), DbError> {
    diesel::sql_query("UPDATE notification SET mail_due = NULL WHERE id = ANY ($1)")
        .bind::<diesel::sql_types::Array<BigInt>, _>(ids)
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes the mail mark off up to `limit` notifications, oldest first (skipping those a mail
/// worker holds); how many.
pub async fn forget_mail_marks(conn: &mut AsyncPgConnection, limit: i64) -> Result<usize, DbError> {
    Ok(diesel::sql_query(
        "UPDATE notification SET mail_due = NULL WHERE id = ANY (ARRAY( \
           SELECT id FROM notification WHERE mail_due IS NOT NULL \
           ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED))",
    )
    .bind::<BigInt, _>(limit)
    .execute(conn)
    .await?)
}

/// The recipient's notifications, newest first, with ids below `before`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    recipient: i64,
    unread_only: bool,
    before: i64,
    limit: i64,
) -> Result<Vec<NotificationRow>, DbError> {
    // A post's title is shown only while its group is readable by the recipient: someone
    // who left a private group is not shown what was written there since.
    Ok(diesel::sql_query(format!(
        "{ROW_SELECT} WHERE n.recipient_id = $1 AND n.id < $2 AND (NOT $3 OR n.read_at IS NULL) \
             ORDER BY n.id DESC LIMIT $4"
    ))
    .bind::<BigInt, _>(recipient)
    .bind::<BigInt, _>(before)
    .bind::<Bool, _>(unread_only)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

pub async fn unread_count(conn: &mut AsyncPgConnection, recipient: i64) -> Result<i64, DbError> {
    Ok(diesel::sql_query(
        "SELECT count(*) AS n FROM notification WHERE recipient_id = $1 AND read_at IS NULL",
    )
    .bind::<BigInt, _>(recipient)
    .get_result::<Count>(conn)
    .await?
    .n)
}

/// Marks one of the recipient's notifications read; false when they have none with that id.
pub async fn mark_read(
    conn: &mut AsyncPgConnection,
    recipient: i64,
    id: i64,
) -> Result<bool, DbError> {
    let n = diesel::sql_query(
        "UPDATE notification SET read_at = coalesce(read_at, now()) \
         WHERE id = $1 AND recipient_id = $2",
    )
    .bind::<BigInt, _>(id)
    .bind::<BigInt, _>(recipient)
    .execute(conn)
    .await?;
    Ok(n > 0)
}

/// Marks every unread notification of the recipient read; how many.
pub async fn mark_all_read(conn: &mut AsyncPgConnection, recipient: i64) -> Result<usize, DbError> {
    Ok(diesel::sql_query(
        "UPDATE notification SET read_at = now() WHERE recipient_id = $1 AND read_at IS NULL",
    )
    .bind::<BigInt, _>(recipient)
    .execute(conn)
    .await?)
}

#[derive(QueryableByName)]
struct PreferenceRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    delivery: String,
}

/// The preferences a person set: (kind, delivery).
pub async fn preferences(
    conn: &mut AsyncPgConnection,
    person: i64,
) -> Result<Vec<(String, String)>, DbError> {
    Ok(diesel::sql_query(
        "SELECT kind, delivery FROM notification_preference WHERE person_id = $1 ORDER BY kind",
    )
    .bind::<BigInt, _>(person)
    .load::<PreferenceRow>(conn)
    .await?
    .into_iter()
    .map(|r| (r.kind, r.delivery))
    .collect())
}

pub async fn set_preference(
    conn: &mut AsyncPgConnection,
    person: i64,
    kind: &str,
    delivery: &str,
) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO notification_preference (person_id, kind, delivery) VALUES ($1, $2, $3) \
         ON CONFLICT (person_id, kind) DO UPDATE SET delivery = EXCLUDED.delivery",
    )
    .bind::<BigInt, _>(person)
    .bind::<Text, _>(kind)
    .bind::<Text, _>(delivery)
    .execute(conn)
    .await?;
    Ok(())
}

/// A question owed an accept reminder.
#[derive(QueryableByName, Debug)]
pub struct ReminderDue {
    #[diesel(sql_type = BigInt)]
    pub post_id: i64,
    #[diesel(sql_type = BigInt)]
    pub author_id: i64,
    #[diesel(sql_type = BigInt)]
    pub group_id: i64,
}

/// Live, published questions by our members with no accepted answer, whose first live answer
/// by someone else was written at or before `answered_by`, never reminded of, and whose asker
/// would be told (kind not turned off, still in the question's private group): those never
/// leave this list, so they must not fill it. Only questions asked in the 30 days before
/// `answered_by`: an instance upgraded to reminders does not remind every asker of years past.
pub async fn reminders_due(
    conn: &mut AsyncPgConnection,
    answered_by: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ReminderDue>, DbError> {
    Ok(diesel::sql_query(
        "SELECT p.id AS post_id, p.author_id, p.group_id FROM post p \
         JOIN person a ON a.id = p.author_id AND a.local \
         JOIN community_group g ON g.id = p.group_id \
         WHERE p.kind = 'question' AND p.accepted_comment_id IS NULL \
           AND p.deleted_at IS NULL AND p.removed_at IS NULL AND p.approval IS NULL \
           AND p.created_at > $1 - interval '30 days' \
           AND EXISTS (SELECT 1 FROM comment c WHERE c.post_id = p.id AND c.parent_id IS NULL \
               AND c.deleted_at IS NULL AND c.removed_at IS NULL \
               AND c.author_id <> p.author_id AND c.created_at <= $1) \
           AND NOT EXISTS (SELECT 1 FROM notification n \
               WHERE n.post_id = p.id AND n.kind = 'accept_reminder') \
           AND NOT EXISTS (SELECT 1 FROM notification_preference np WHERE np.person_id = p.author_id \
               AND np.kind = 'accept_reminder' AND np.delivery = 'off') \
           AND (g.visibility <> 'private' OR EXISTS (SELECT 1 FROM group_membership m \
               WHERE m.group_id = g.id AND m.person_id = p.author_id)) \
         ORDER BY p.id LIMIT $2",
    )
    .bind::<Timestamptz, _>(answered_by)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Our members who like a post (an idea's supporters).
pub async fn local_likers(conn: &mut AsyncPgConnection, post_id: i64) -> Result<Vec<i64>, DbError> {
    Ok(diesel::sql_query(
        "SELECT v.person_id AS id FROM vote v JOIN person p ON p.id = v.person_id AND p.local \
         WHERE v.post_id = $1 AND v.comment_id IS NULL AND v.value = 1 ORDER BY v.person_id",
    )
    .bind::<BigInt, _>(post_id)
    .load::<Id>(conn)
    .await?
    .into_iter()
    .map(|r| r.id)
    .collect())
}
