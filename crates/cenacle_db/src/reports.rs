//! Reports and the reasons groups offer for them; bans from a group. Plain SQL over the
//! tables of migration `2026-11-30-001401_reports_and_group_bans`.

use crate::{DbError, PrepareOnce};
use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{Array, BigInt, Bool, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

// ---- reasons ----

#[derive(QueryableByName)]
struct ReasonRow {
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = Text)]
    label: String,
}

/// A group's own reasons, in its order (empty: it uses the defaults).
pub async fn group_reasons(
    conn: &mut AsyncPgConnection,
    group_id: i64,
) -> Result<Vec<(String, String)>, DbError> {
    Ok(diesel::sql_query(
        "SELECT code, label FROM group_report_reason WHERE group_id = $1 ORDER BY position, code",
    )
    .bind::<BigInt, _>(group_id)
    .load::<ReasonRow>(conn)
    .await?
    .into_iter()
    .map(|r| (r.code, r.label))
    .collect())
}

/// Replaces a group's reasons with `list`, in that order.
pub async fn replace_group_reasons(
    conn: &mut AsyncPgConnection,
    group_id: i64,
    list: &[(String, String)],
) -> Result<(), DbError> {
    diesel::sql_query("DELETE FROM group_report_reason WHERE group_id = $1")
        .bind::<BigInt, _>(group_id)
        .execute(conn)
        .await?;
    let codes: Vec<&str> = list.iter().map(|(c, _)| c.as_str()).collect();
    let labels: Vec<&str> = list.iter().map(|(_, l)| l.trim()).collect();
    diesel::sql_query(
        "INSERT INTO group_report_reason (group_id, code, label, position) \
         SELECT $1, c, l, p::int FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t(c, l, p)",
    )
    .bind::<BigInt, _>(group_id)
    .bind::<Array<Text>, _>(codes)
    .bind::<Array<Text>, _>(labels)
    .execute(conn)
    .await?;
    Ok(())
}

// ---- reports ----

pub struct NewReport<'a> {
    pub group_id: Option<i64>,
    pub reporter_id: i64,
    pub share_identity: bool,
    pub target_person_id: i64,
    pub target_post_id: Option<i64>,
    pub target_comment_id: Option<i64>,
    pub reason_code: &'a str,
    pub body: &'a str,
    pub ap_id: Option<&'a str>,
    pub origin_host: Option<&'a str>,
    /// The group elsewhere whose `Announce` brought it (for its moderators here).
    pub forwarded_by_group_id: Option<i64>,
}

/// Stores a report; None when one with the same `ap_id` exists (a second copy of a Flag).
pub async fn insert_report(
    conn: &mut AsyncPgConnection,
    new: &NewReport<'_>,
) -> Result<Option<i64>, DbError> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    Ok(diesel::sql_query(
        "INSERT INTO report (group_id, reporter_id, share_identity, target_person_id, \
           target_post_id, target_comment_id, reason_code, body, ap_id, origin_host, \
           forwarded_by_group_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (ap_id) DO NOTHING RETURNING id",
    )
    .bind::<Nullable<BigInt>, _>(new.group_id)
    .bind::<BigInt, _>(new.reporter_id)
    .bind::<Bool, _>(new.share_identity)
    .bind::<BigInt, _>(new.target_person_id)
    .bind::<Nullable<BigInt>, _>(new.target_post_id)
    .bind::<Nullable<BigInt>, _>(new.target_comment_id)
    .bind::<Text, _>(new.reason_code)
    .bind::<Text, _>(new.body)
    .bind::<Nullable<Text>, _>(new.ap_id)
    .bind::<Nullable<Text>, _>(new.origin_host)
    .bind::<Nullable<BigInt>, _>(new.forwarded_by_group_id)
    .get_result::<Id>(conn)
    .await
    .optional()?
    .map(|r| r.id))
}

/// A report received before (by `ap_id`) arrives again in the `Announce` of its group: it is
/// now known to be forwarded by that group (so that the group's resolution may close it,
/// whichever copy came first).
pub async fn mark_forwarded(
    conn: &mut AsyncPgConnection,
    ap_id: &str,
    group_id: i64,
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE report SET forwarded_by_group_id = $2 \
         WHERE ap_id = $1 AND forwarded_by_group_id IS NULL AND group_id = $2",
    )
    .bind::<Text, _>(ap_id)
    .bind::<BigInt, _>(group_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_report_ap_id(
    conn: &mut AsyncPgConnection,
    id: i64,
    ap_id: &str,
) -> Result<(), DbError> {
    diesel::sql_query("UPDATE report SET ap_id = $2 WHERE id = $1")
        .bind::<BigInt, _>(id)
        .bind::<Text, _>(ap_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A report with the names and ids needed to show and federate it.
#[derive(Debug, Clone, QueryableByName)]
pub struct ReportRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub group_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub group_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub group_ap_id: Option<String>,
    #[diesel(sql_type = Nullable<Bool>)]
    pub group_local: Option<bool>,
    #[diesel(sql_type = Nullable<Text>)]
    pub group_inbox: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub reporter_id: i64,
    #[diesel(sql_type = Text)]
    pub reporter_username: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub reporter_host: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub reporter_ap_id: Option<String>,
    #[diesel(sql_type = Bool)]
    pub reporter_local: bool,
    #[diesel(sql_type = Nullable<Text>)]
    pub reporter_inbox: Option<String>,
    #[diesel(sql_type = Bool)]
    pub share_identity: bool,
    #[diesel(sql_type = BigInt)]
    pub target_person_id: i64,
    #[diesel(sql_type = Text)]
    pub target_username: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub target_host: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub target_ap_id: Option<String>,
    #[diesel(sql_type = Bool)]
    pub target_local: bool,
    #[diesel(sql_type = Nullable<Text>)]
    pub target_inbox: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub target_post_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub target_comment_id: Option<i64>,
    /// The reported post's or comment's ActivityPub id.
    #[diesel(sql_type = Nullable<Text>)]
    pub object_ap_id: Option<String>,
    /// The post whose page shows the reported content (the comment's thread).
    #[diesel(sql_type = Nullable<BigInt>)]
    pub thread_post_id: Option<i64>,
    #[diesel(sql_type = Text)]
    pub reason_code: String,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub resolution_note: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub resolved_by: Option<i64>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub resolved_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    pub ap_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub origin_host: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub forwarded_by_group_id: Option<i64>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

const REPORT_SELECT: &str =
    "SELECT r.id, r.group_id, g.name AS group_name, g.ap_id AS group_ap_id, \
       g.local AS group_local, COALESCE(g.shared_inbox_url, g.inbox_url) AS group_inbox, \
       r.reporter_id, rp.username AS reporter_username, rp.instance_host AS reporter_host, \
       rp.ap_id AS reporter_ap_id, rp.local AS reporter_local, \
       COALESCE(rp.shared_inbox_url, rp.inbox_url) AS reporter_inbox, r.share_identity, \
       r.target_person_id, tp.username AS target_username, tp.instance_host AS target_host, \
       tp.ap_id AS target_ap_id, tp.local AS target_local, \
       COALESCE(tp.shared_inbox_url, tp.inbox_url) AS target_inbox, \
       r.target_post_id, r.target_comment_id, COALESCE(c.ap_id, p.ap_id) AS object_ap_id, \
       COALESCE(r.target_post_id, c.post_id) AS thread_post_id, \
       r.reason_code, r.body, r.status, r.resolution_note, r.resolved_by, r.resolved_at, \
       r.ap_id, r.origin_host, r.forwarded_by_group_id, r.created_at \
     FROM report r \
     JOIN person rp ON rp.id = r.reporter_id \
     JOIN person tp ON tp.id = r.target_person_id \
     LEFT JOIN community_group g ON g.id = r.group_id \
     LEFT JOIN post p ON p.id = r.target_post_id \
     LEFT JOIN comment c ON c.id = r.target_comment_id ";

pub async fn report_by_id(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> Result<Option<ReportRow>, DbError> {
    Ok(
        diesel::sql_query(format!("{REPORT_SELECT} WHERE r.id = $1"))
            .bind::<BigInt, _>(id)
            .get_result(conn)
            .await
            .optional()?,
    )
}

pub async fn report_by_ap_id(
    conn: &mut AsyncPgConnection,
    ap_id: &str,
) -> Result<Option<ReportRow>, DbError> {
    Ok(
        diesel::sql_query(format!("{REPORT_SELECT} WHERE r.ap_id = $1"))
            .bind::<Text, _>(ap_id)
            .get_result(conn)
            .await
            .optional()?,
    )
}

/// The open reports filed here about any of `objects` (ActivityPub ids): about that post or
/// comment, or about that person when the report names no content.
pub async fn open_reports_filed_here_about(
    conn: &mut AsyncPgConnection,
    objects: &[String],
) -> Result<Vec<ReportRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "{REPORT_SELECT} WHERE r.status = 'open' AND r.origin_host IS NULL \
           AND (COALESCE(c.ap_id, p.ap_id) = ANY($1) \
             OR (r.target_post_id IS NULL AND r.target_comment_id IS NULL \
                 AND tp.ap_id = ANY($1))) \
         ORDER BY r.id"
    ))
    .bind::<Array<Text>, _>(objects)
    .load(conn)
    .await?)
}

/// Whose reports to list.
pub enum ReportFilter<'a> {
    Reporter(i64),
    Group(i64, &'a str),
    /// The instance's own queue: reports of people outside any group, and reports about
    /// groups this instance does not run (their moderators are elsewhere).
    Instance(&'a str),
    /// The queue of one of our members listed as owner or moderator of groups on other
    /// servers: the reports about those groups' content that reached us (the group's forwarded
    /// `Flag`, as Lemmy forwards reports to its moderators' instances).
    ModeratedElsewhere(i64, &'a str),
}

/// Reports, newest first, at most `limit`, older than `before` when given.
pub async fn list_reports(
    conn: &mut AsyncPgConnection,
    filter: ReportFilter<'_>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<ReportRow>, DbError> {
    let before = before.unwrap_or(i64::MAX);
    let (clause, id, status) = match filter {
        ReportFilter::Reporter(id) => ("r.reporter_id = $1 AND $2 = $2", id, ""),
        ReportFilter::Group(id, status) => ("r.group_id = $1 AND r.status = $2", id, status),
        ReportFilter::Instance(status) => (
            "(r.group_id IS NULL OR NOT g.local) AND $1 = $1 AND r.status = $2",
            0,
            status,
        ),
        ReportFilter::ModeratedElsewhere(person, status) => (
            "NOT g.local AND r.status = $2 \
               AND (r.target_post_id IS NOT NULL OR r.target_comment_id IS NOT NULL) \
               AND EXISTS (SELECT 1 FROM group_membership m \
               WHERE m.group_id = r.group_id AND m.person_id = $1 \
                 AND m.role IN ('owner', 'moderator'))",
            person,
            status,
        ),
    };
    Ok(diesel::sql_query(format!(
        "{REPORT_SELECT} WHERE {clause} AND r.id < $3 ORDER BY r.id DESC LIMIT $4"
    ))
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(status)
    .bind::<BigInt, _>(before)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}

/// Closes an open report; false when it was not open any more.
pub async fn close_report(
    conn: &mut AsyncPgConnection,
    id: i64,
    status: &str,
    note: &str,
    by: i64,
) -> Result<bool, DbError> {
    Ok(diesel::sql_query(
        "UPDATE report SET status = $2, resolution_note = $3, resolved_by = $4, \
           resolved_at = now() WHERE id = $1 AND status = 'open'",
    )
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(status)
    .bind::<Text, _>(note)
    .bind::<BigInt, _>(by)
    .execute(conn)
    .await?
        == 1)
}

// ---- bans from a group ----

#[derive(Debug, Clone, QueryableByName)]
pub struct BanRow {
    #[diesel(sql_type = BigInt)]
    pub group_id: i64,
    #[diesel(sql_type = BigInt)]
    pub person_id: i64,
    #[diesel(sql_type = Text)]
    pub username: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub host: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub person_ap_id: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub banned_by: Option<i64>,
    #[diesel(sql_type = Text)]
    pub reason: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub expires_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Bool)]
    pub remove_data: bool,
    #[diesel(sql_type = Nullable<Text>)]
    pub ap_id: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub lifted_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

const BAN_SELECT: &str = "SELECT b.group_id, b.person_id, p.username, p.instance_host AS host, \
       p.ap_id AS person_ap_id, b.banned_by, b.reason, b.expires_at, b.remove_data, b.ap_id, \
       b.lifted_at, b.created_at \
     FROM group_ban b JOIN person p ON p.id = b.person_id ";

pub struct NewBan<'a> {
    pub group_id: i64,
    pub person_id: i64,
    pub banned_by: Option<i64>,
    pub reason: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
    pub remove_data: bool,
    pub ap_id: Option<&'a str>,
}

/// Bans (or bans again, with the new terms) a person from a group. A ban again is a new one:
/// when it runs out, it is owed its own handling (`claim_bans_run_out_elsewhere`).
pub async fn upsert_ban(conn: &mut AsyncPgConnection, ban: &NewBan<'_>) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO group_ban (group_id, person_id, banned_by, reason, expires_at, remove_data, ap_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (group_id, person_id) DO UPDATE SET banned_by = EXCLUDED.banned_by, \
           reason = EXCLUDED.reason, expires_at = EXCLUDED.expires_at, \
           remove_data = EXCLUDED.remove_data, ap_id = EXCLUDED.ap_id, lifted_at = NULL, \
           expiry_handled_at = NULL, expiry_attempts = 0, expiry_retry_at = NULL, \
           created_at = now()",
    )
    .bind::<BigInt, _>(ban.group_id)
    .bind::<BigInt, _>(ban.person_id)
    .bind::<Nullable<BigInt>, _>(ban.banned_by)
    .bind::<Text, _>(ban.reason)
    .bind::<Nullable<Timestamptz>, _>(ban.expires_at)
    .bind::<Bool, _>(ban.remove_data)
    .bind::<Nullable<Text>, _>(ban.ap_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_ban_ap_id(
    conn: &mut AsyncPgConnection,
    group_id: i64,
    person_id: i64,
    ap_id: &str,
) -> Result<(), DbError> {
    diesel::sql_query("UPDATE group_ban SET ap_id = $3 WHERE group_id = $1 AND person_id = $2")
        .bind::<BigInt, _>(group_id)
        .bind::<BigInt, _>(person_id)
        .bind::<Text, _>(ap_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The ban of `person_id` from `group_id`, lifted or not, expired or not.
pub async fn ban_of(
    conn: &mut AsyncPgConnection,
    group_id: i64,
    person_id: i64,
) -> Result<Option<BanRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "{BAN_SELECT} WHERE b.group_id = $1 AND b.person_id = $2"
    ))
    .bind::<BigInt, _>(group_id)
    .bind::<BigInt, _>(person_id)
    // Read by every inbound activity in a group: planned once per connection.
    .prepared()
    .get_result(conn)
    .await
    .optional()?)
}

/// Lifts a ban; false when there was none to lift.
pub async fn lift_ban(
    conn: &mut AsyncPgConnection,
    group_id: i64,
    person_id: i64,
) -> Result<bool, DbError> {
    Ok(diesel::sql_query(
        "UPDATE group_ban SET lifted_at = now() \
         WHERE group_id = $1 AND person_id = $2 AND lifted_at IS NULL",
    )
    .bind::<BigInt, _>(group_id)
    .bind::<BigInt, _>(person_id)
    .execute(conn)
    .await?
        == 1)
}

/// A ban that ran out, claimed by [`claim_bans_run_out_elsewhere`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct BanRunOut {
    #[diesel(sql_type = BigInt)]
    pub group_id: i64,
    #[diesel(sql_type = BigInt)]
    pub person_id: i64,
    /// A ban of a member of ours from a group elsewhere: their Follow is owed again. (The
    /// others, from groups of ours or of people elsewhere, are only marked handled: nothing
    /// to send, and marked, they leave the claim's index instead of being read at every pass.
    /// False too for a member of ours banned from our instance now: their ban is set aside
    /// until that ban ends, see [`claim_bans_run_out_elsewhere`].)
    #[diesel(sql_type = Bool)]
    pub follow_again: bool,
}

/// Claims up to `limit` bans that ran out (`expires_at` passed) and were neither lifted nor
/// handled yet, and marks them handled (`expiry_handled_at`): for those of members of ours
/// (`person.local`) from groups elsewhere (`community_group.local` false), the caller's
/// transaction sends their Follow again, and a rollback puts them back. Rows locked by
/// another server's pass are skipped (SKIP LOCKED), so that passes may run side by side, each
/// ban claimed by one.
///
/// A member of ours banned from our instance now: nothing of theirs goes out while it lasts,
/// but their Follow is still owed once it ends (lifting an instance ban sends nothing, and
/// their follow here stays). Their ban is set aside, unmarked, until the instance ban's end
/// (`expiry_retry_at`; 'infinity' for a ban until lifted): out of the claim's range, it is no
/// longer read at every batch of every pass (it used to be, forever for a ban until lifted,
/// ahead of every other ban in the index's order). The lifting or replacing of the instance
/// ban brings it back at once (trigger `instance_ban_ends_set_aside`, migration 003149); a
/// ban that simply runs out, at its end. Returned with `follow_again` false: it counts among
/// the claimed, so that a batch full of them has the pass go on to the next.
///
/// The instance ban is read twice: in the statement's snapshot (`barred`), and locked FOR
/// SHARE (`held`) so that its lifting waits for this transaction and its trigger then finds
/// the ban set aside. A ban whose instance ban is locked (being lifted or replaced right now)
/// or was lifted since the snapshot is left as it is, for a later pass: setting it aside on
/// the snapshot alone could follow a lifting whose trigger has already run, and nothing would
/// bring it back. SKIP LOCKED there too: the pass waits for no lifting (whose trigger may
/// wait for the bans this holds). Left as it is, such a ban is not returned: the batch comes
/// back short, and the pass ends on purpose (the next would claim the same ban while the
/// lifting lasts); a later pass takes it, and the bans behind it.
///
/// `grace`: only bans that ran out at least that long ago, so that a server whose clock is a
/// little behind ours has seen the ban end too when the Follow reaches it (it would drop a
/// Follow of someone it still bans, and the ban, marked, would not be handled again).
///
/// A ban whose Follow failed is claimed again once its retry time has come
/// ([`defer_ban_run_out`]; the grace is behind it already). Claimed in the order they came due
/// (their end, or their retry time), the index's order: bans waiting for their retry are not
/// read first at every batch.
pub async fn claim_bans_run_out_elsewhere(
    conn: &mut AsyncPgConnection,
    limit: i64,
    grace: chrono::TimeDelta,
) -> Result<Vec<BanRunOut>, DbError> {
    Ok(diesel::sql_query(
        "WITH due AS ( \
           SELECT d.group_id, d.person_id, (NOT g.local AND p.local) AS ours \
           FROM group_ban d \
           JOIN community_group g ON g.id = d.group_id \
           JOIN person p ON p.id = d.person_id \
           WHERE d.expires_at IS NOT NULL \
             AND GREATEST(d.expires_at, d.expiry_retry_at) <= now() \
             AND d.expires_at <= now() - $2 \
             AND d.lifted_at IS NULL AND d.expiry_handled_at IS NULL \
           ORDER BY GREATEST(d.expires_at, d.expiry_retry_at) \
           LIMIT $1 \
           FOR UPDATE OF d SKIP LOCKED), \
         barred AS ( \
           SELECT i.person_id FROM instance_ban i \
           WHERE i.person_id IN (SELECT person_id FROM due WHERE ours) \
             AND (i.expires_at IS NULL OR i.expires_at > now())), \
         held AS ( \
           SELECT i.person_id, COALESCE(i.expires_at, 'infinity') AS until FROM instance_ban i \
           WHERE i.person_id IN (SELECT person_id FROM barred) \
             AND (i.expires_at IS NULL OR i.expires_at > now()) \
           FOR SHARE OF i SKIP LOCKED) \
         UPDATE group_ban b SET \
           expiry_handled_at = CASE WHEN h.person_id IS NULL THEN now() END, \
           expiry_retry_at = COALESCE(h.until, b.expiry_retry_at) \
         FROM due \
           LEFT JOIN barred x ON x.person_id = due.person_id AND due.ours \
           LEFT JOIN held h ON h.person_id = x.person_id \
         WHERE b.group_id = due.group_id AND b.person_id = due.person_id \
           AND (x.person_id IS NULL OR h.person_id IS NOT NULL) \
         RETURNING b.group_id, b.person_id, (due.ours AND x.person_id IS NULL) AS follow_again",
    )
    .bind::<BigInt, _>(limit)
    .bind::<diesel::sql_types::Interval, _>(grace)
    .load(conn)
    .await?)
}

/// The `Undo{Block}` of a ban of `person_id` from `group_id` that is no longer in force has
/// come: whether their Follow is owed now. Yes when this marks a ban that ran out handled (the
/// pass over bans that ran out has not sent it: [`claim_bans_run_out_elsewhere`] skips the row
/// while this holds it, and finds it marked after), or when no ban of theirs is known here
/// (its `Block` never reached us). No when the ban was lifted (the lifting sent it) or its
/// running out was handled already (the pass sent it; when the pass holds the row, this waits
/// for it): a second Follow would, in a private group, leave the follow pending here while the
/// group's server, which kept it, answers no Accept. A ban whose Follow failed and waits for
/// its retry is unmarked, so marked here: the Follow goes now. One statement.
pub async fn follow_owed_after_ban(
    conn: &mut AsyncPgConnection,
    group_id: i64,
    person_id: i64,
) -> Result<bool, DbError> {
    #[derive(QueryableByName)]
    struct Owed {
        #[diesel(sql_type = Bool)]
        owed: bool,
    }
    let owed: Owed = diesel::sql_query(
        "WITH marked AS ( \
           UPDATE group_ban SET expiry_handled_at = now() \
           WHERE group_id = $1 AND person_id = $2 AND lifted_at IS NULL \
             AND expiry_handled_at IS NULL AND expires_at <= now() \
           RETURNING 1) \
         SELECT EXISTS (SELECT 1 FROM marked) \
           OR NOT EXISTS (SELECT 1 FROM group_ban WHERE group_id = $1 AND person_id = $2) \
           AS owed",
    )
    .bind::<BigInt, _>(group_id)
    .bind::<BigInt, _>(person_id)
    .get_result(conn)
    .await?;
    Ok(owed.owed)
}

/// How long after its first failure the Follow owed after a ban ran out is tried again; each
/// failure doubles it, up to [`BAN_RUN_OUT_RETRY_MAX`].
pub const BAN_RUN_OUT_RETRY_FIRST: chrono::TimeDelta = chrono::TimeDelta::minutes(1);
/// The longest wait between two tries: a ban is never given up (its member would follow a
/// group that sends them nothing), but one that always fails is tried once a day.
pub const BAN_RUN_OUT_RETRY_MAX: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// Sending the Follow of `person_id` to `group_id` elsewhere after their ban ran out failed (its
/// savepoint rolled back): clears the ban's handled mark and sets when a later pass may claim it
/// again, [`BAN_RUN_OUT_RETRY_FIRST`] after the first failure, twice as long after each other,
/// at most [`BAN_RUN_OUT_RETRY_MAX`]. Until then the pass skips it: it neither takes a place
/// in every batch nor holds back the bans behind it. When it will be tried again; none when
/// the ban was not marked handled, which the pass never does (it holds the claimed row until
/// its transaction ends).
pub async fn defer_ban_run_out(
    conn: &mut AsyncPgConnection,
    group_id: i64,
    person_id: i64,
) -> Result<Option<DateTime<Utc>>, DbError> {
    #[derive(QueryableByName)]
    struct Deferred {
        #[diesel(sql_type = Timestamptz)]
        retry_at: DateTime<Utc>,
    }
    // The exponent is bounded before `power` (2^30 minutes is far past the cap, and no
    // overflow however many failures). From the clock, not the transaction's start: a batch
    // that ran longer than the wait must not let a later batch of the same pass claim it again.
    let deferred: Option<Deferred> = diesel::sql_query(
        "UPDATE group_ban SET expiry_handled_at = NULL, \
           expiry_attempts = expiry_attempts + 1, \
           expiry_retry_at = clock_timestamp() \
             + LEAST($3 * power(2, LEAST(expiry_attempts, 30)), $4) \
         WHERE group_id = $1 AND person_id = $2 AND expiry_handled_at IS NOT NULL \
         RETURNING expiry_retry_at AS retry_at",
    )
    .bind::<BigInt, _>(group_id)
    .bind::<BigInt, _>(person_id)
    .bind::<diesel::sql_types::Interval, _>(BAN_RUN_OUT_RETRY_FIRST)
    .bind::<diesel::sql_types::Interval, _>(BAN_RUN_OUT_RETRY_MAX)
    .get_result(conn)
    .await
    .optional()?;
    Ok(deferred.map(|d| d.retry_at))
}

/// A group's bans in force, newest first.
pub async fn bans_in_force(
    conn: &mut AsyncPgConnection,
    group_id: i64,
) -> Result<Vec<BanRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "{BAN_SELECT} WHERE b.group_id = $1 AND b.lifted_at IS NULL \
           AND (b.expires_at IS NULL OR b.expires_at > now()) ORDER BY b.created_at DESC"
    ))
    .bind::<BigInt, _>(group_id)
    .load(conn)
    .await?)
}

/// Marks every post and comment `person_id` wrote in `group_id` as removed by a moderator,
/// with `reason` (what was removed before keeps its first reason). Returns how many.
pub async fn remove_content_of(
    conn: &mut AsyncPgConnection,
    group_id: i64,
    person_id: i64,
    reason: &str,
) -> Result<RemovedContent, DbError> {
    // Locked FOR UPDATE as a single removal locks its content: votes in flight (KEY SHARE)
    // commit first, so that their rewards are taken back with the rest.
    let posts = diesel::sql_query(
        "UPDATE post SET removed_at = now(), removal_reason = $3 \
         WHERE id IN (SELECT id FROM post WHERE group_id = $1 AND author_id = $2 \
                        AND removed_at IS NULL ORDER BY id FOR UPDATE) \
         RETURNING id AS post_id, NULL::bigint AS comment_id",
    )
    .bind::<BigInt, _>(group_id)
    .bind::<BigInt, _>(person_id)
    .bind::<Text, _>(reason)
    .load(conn)
    .await?;
    let comments = diesel::sql_query(
        "UPDATE comment SET removed_at = now(), removal_reason = $3 \
         WHERE id IN (SELECT c.id FROM comment c JOIN post p ON p.id = c.post_id \
                      WHERE p.group_id = $1 AND c.author_id = $2 AND c.removed_at IS NULL \
                      ORDER BY c.id FOR UPDATE OF c) \
         RETURNING post_id, id AS comment_id",
    )
    .bind::<BigInt, _>(group_id)
    .bind::<BigInt, _>(person_id)
    .bind::<Text, _>(reason)
    .load(conn)
    .await?;
    Ok(RemovedContent { posts, comments })
}

/// A post or comment a ban removed (`comment_id` None for a post).
#[derive(Debug, Clone, Copy, QueryableByName)]
pub struct RemovedItem {
    #[diesel(sql_type = BigInt)]
    pub post_id: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    pub comment_id: Option<i64>,
}

/// What a ban removed: posts, then comments.
#[derive(Debug, Clone, Default)]
pub struct RemovedContent {
    pub posts: Vec<RemovedItem>,
    pub comments: Vec<RemovedItem>,
}

impl RemovedContent {
    pub fn count(&self) -> usize {
        self.posts.len() + self.comments.len()
    }
}
