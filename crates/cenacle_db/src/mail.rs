//! The mail queue (claimed under leases, retried, parked), members' per-kind opt-outs and the
//! instance's signing secret.

use crate::DbError;
use chrono::{DateTime, Utc};
use diesel::{
    sql_types::{Array, BigInt, Bool, Double, Int4, Nullable, Text, Timestamptz},
    OptionalExtension, QueryableByName,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

pub struct NewMail<'a> {
    pub person_id: Option<i64>,
    pub kind: &'a str,
    pub to_address: &'a str,
    pub subject: &'a str,
    pub text_body: &'a str,
    pub html_body: &'a str,
    pub unsubscribe_url: Option<&'a str>,
    pub message_id: &'a str,
    /// What, within its kind, the mail is about where a preference of the member decides
    /// whether it is sent (a notification mail's notification kind, a digest's cadence): asked
    /// again when an admin retries it parked ([`retry_parked_mails`]).
    pub topic: Option<&'a str>,
    /// The notification a notification mail tells of: whether what it is about is still up
    /// and readable by its member is asked again on retry ([`retry_parked_mails`]).
    pub notification_id: Option<i64>,
    /// The onboarding rule that sent a triggered mail: whether it is still enabled, and its
    /// stop condition, are asked again on retry ([`retry_parked_mails`]).
    pub onboarding_rule_id: Option<i64>,
    /// The posts a digest's sections quote (new answers, unanswered questions, top ideas;
    /// empty: none): whether each may still be in a digest of its member is asked on retry
    /// ([`retry_parked_mails`]). `None` for other mails.
    pub quoted_post_ids: Option<&'a [i64]>,
    /// The notifications a digest's notices tell of (empty: none): each is asked on retry
    /// as a notification mail's notification is ([`retry_parked_mails`]). `None` for other
    /// mails.
    pub quoted_notification_ids: Option<&'a [i64]>,
}

pub async fn insert_mail(conn: &mut AsyncPgConnection, mail: &NewMail<'_>) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO mail_queue (person_id, kind, to_address, subject, text_body, html_body, \
           unsubscribe_url, message_id, topic, notification_id, onboarding_rule_id, \
           quoted_post_ids, quoted_notification_ids) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind::<Nullable<BigInt>, _>(mail.person_id)
    .bind::<Text, _>(mail.kind)
    .bind::<Text, _>(mail.to_address)
    .bind::<Text, _>(mail.subject)
    .bind::<Text, _>(mail.text_body)
    .bind::<Text, _>(mail.html_body)
    .bind::<Nullable<Text>, _>(mail.unsubscribe_url)
    .bind::<Text, _>(mail.message_id)
    .bind::<Nullable<Text>, _>(mail.topic)
    .bind::<Nullable<BigInt>, _>(mail.notification_id)
    .bind::<Nullable<BigInt>, _>(mail.onboarding_rule_id)
    .bind::<Nullable<Array<BigInt>>, _>(mail.quoted_post_ids)
    .bind::<Nullable<Array<BigInt>>, _>(mail.quoted_notification_ids)
    .execute(conn)
    .await?;
    Ok(())
}

/// Binds the kinds' rules (`$rules`, a [`StillWanted`]) to `$query` as the parameters `$3` to
/// `$13` of the condition [`wanted`], in its order: the query must have bound `$1` and `$2`.
macro_rules! bind_still_wanted {
    ($query:expr, $rules:expr) => {{
        let rules: &StillWanted<'_> = $rules;
        $query
            .bind::<Array<Text>, _>(rules.always_sent)
            .bind::<Array<Text>, _>(rules.to_any_address)
            .bind::<Array<Text>, _>(rules.link_kinds)
            .bind::<Array<Text>, _>(rules.link_purposes)
            .bind::<Text, _>(rules.notification_kind)
            .bind::<Array<Text>, _>(rules.at_once_kinds)
            .bind::<Array<Nullable<Text>>, _>(rules.at_once_preferences)
            .bind::<Text, _>(rules.digest_kind)
            .bind::<Array<Text>, _>(rules.digest_cadences)
            .bind::<Array<Text>, _>(rules.digest_deliveries)
            .bind::<Array<BigInt>, _>(rules.digest_periods)
    }};
}

/// A queued mail a worker leased.
#[derive(Debug, Clone, QueryableByName)]
pub struct ClaimedMail {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub to_address: String,
    #[diesel(sql_type = Text)]
    pub subject: String,
    #[diesel(sql_type = Text)]
    pub text_body: String,
    #[diesel(sql_type = Text)]
    pub html_body: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub unsubscribe_url: Option<String>,
    #[diesel(sql_type = Text)]
    pub message_id: String,
    /// Attempts including this one.
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
    /// The lease's end: the mail is this worker's while the row still holds it.
    #[diesel(sql_type = Timestamptz)]
    pub locked_until: DateTime<Utc>,
}

/// What a claim did: the mails it leased, and those it deleted instead.
#[derive(Debug, Clone, Default)]
pub struct Claim {
    pub mails: Vec<ClaimedMail>,
    /// Mails tried before whose member no longer wants them ([`claim_mails`]), deleted: by id
    /// and kind, what the logs may keep (never their addresses or bodies).
    pub dropped: Vec<DroppedMail>,
}

/// Leases up to `limit` due mails (oldest first, but `tried_last` after any other) for
/// `lease_seconds`; rows other workers are claiming are skipped, not waited for.
///
/// A mail tried before (a failed attempt counted, or a worker that died during one) is asked
/// first whether it is still wanted, by the rule an admin's retry of a parked mail asks
/// (`wanted`, under `rules`): a retry hours after its queueing must not reach a member who
/// left the private group a notification or a digest quotes, refused its kind, was suspended,
/// nor quote a post taken down since. Those no longer wanted are deleted, in the same
/// statement, not leased (nothing would ever send them, and their bodies may carry a token).
/// A mail's first attempt is not asked: it was queued under those rules just before.
pub async fn claim_mails(
    conn: &mut AsyncPgConnection,
    limit: i64,
    lease_seconds: f64,
    tried_last: &[i64],
    rules: &StillWanted<'_>,
) -> Result<Claim, DbError> {
    #[derive(QueryableByName)]
    struct Judged {
        #[diesel(embed)]
        mail: ClaimedMail,
        #[diesel(sql_type = Bool)]
        dropped: bool,
    }
    // The columns `wanted` reads are taken with the row's lock (as the lock found the row, not
    // as the statement's snapshot did); `wanted` is asked of rows tried before only (a CASE
    // evaluates its branches lazily: the first attempt's claim costs what it did). A deleted
    // mail is returned by id and kind, its other columns blank.
    let sql = format!(
        "WITH chosen AS ( \
           SELECT id, attempts, person_id, kind, to_address, topic, created_at, \
             notification_id, onboarding_rule_id, quoted_post_ids, quoted_notification_ids \
           FROM mail_queue \
           WHERE parked_at IS NULL AND next_attempt_at <= now() \
             AND (locked_until IS NULL OR locked_until < now()) \
           ORDER BY id = ANY($14), next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED), \
         judged AS ( \
           SELECT q.id, CASE WHEN q.attempts = 0 THEN true ELSE {wanted} END AS wanted \
           FROM chosen q LEFT JOIN local_user u ON u.person_id = q.person_id), \
         dropped AS ( \
           DELETE FROM mail_queue m USING judged WHERE m.id = judged.id AND NOT judged.wanted \
           RETURNING m.id, m.kind), \
         claimed AS ( \
           UPDATE mail_queue m SET locked_until = now() + $2 * interval '1 second', \
             attempts = m.attempts + 1 \
           FROM judged WHERE m.id = judged.id AND judged.wanted \
           RETURNING m.id, m.kind, m.to_address, m.subject, m.text_body, m.html_body, \
             m.unsubscribe_url, m.message_id, m.attempts, m.locked_until) \
         SELECT false AS dropped, claimed.* FROM claimed \
         UNION ALL \
         SELECT true, id, kind, '', '', '', '', NULL, '', 0, now() FROM dropped",
        wanted = wanted(),
    );
    let query = diesel::sql_query(sql)
        .bind::<BigInt, _>(limit)
        .bind::<Double, _>(lease_seconds);
    let rows: Vec<Judged> = bind_still_wanted!(query, rules)
        .bind::<Array<BigInt>, _>(tried_last)
        .load(conn)
        .await?;
    let mut claim = Claim::default();
    for Judged { mail, dropped } in rows {
        if dropped {
            claim.dropped.push(DroppedMail {
                id: mail.id,
                kind: mail.kind,
            });
        } else {
            claim.mails.push(mail);
        }
    }
    claim.dropped.sort_by_key(|mail| mail.id);
    Ok(claim)
}

/// The SMTP server accepted the mail: it leaves the queue.
pub async fn mail_sent(conn: &mut AsyncPgConnection, id: i64) -> Result<(), DbError> {
    diesel::sql_query("DELETE FROM mail_queue WHERE id = $1")
        .bind::<BigInt, _>(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A mail parked by a worker, as its parking left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParkedMail {
    pub id: i64,
    /// When it was parked: [`unpark_mails`] puts it back only while it is still so parked.
    pub parked_at: DateTime<Utc>,
}

/// What a failed attempt's record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureRecorded {
    /// Tried again at `at`.
    Retried {
        at: DateTime<Utc>,
    },
    Parked(ParkedMail),
    /// The mail was no longer under the lease it was claimed with: nothing changed.
    LeaseLost,
}

/// A failed attempt: tried again at `retry_at`, or parked (kept, not tried again) when `None`.
/// Only while the mail is still under the lease it was claimed with (`lease`): a record that
/// comes after the lease ran out must not undo another worker's claim (nor park the mail it
/// is sending); it then changes nothing.
pub async fn mail_failed(
    conn: &mut AsyncPgConnection,
    id: i64,
    lease: DateTime<Utc>,
    retry_at: Option<DateTime<Utc>>,
    error: &str,
) -> Result<FailureRecorded, DbError> {
    #[derive(QueryableByName)]
    struct Recorded {
        #[diesel(sql_type = Nullable<Timestamptz>)]
        parked_at: Option<DateTime<Utc>>,
        #[diesel(sql_type = Timestamptz)]
        next_attempt_at: DateTime<Utc>,
    }
    let recorded = diesel::sql_query(
        "UPDATE mail_queue SET locked_until = NULL, last_error = $3, \
           next_attempt_at = COALESCE($2, next_attempt_at), \
           parked_at = CASE WHEN $2 IS NULL THEN now() END \
         WHERE id = $1 AND locked_until = $4 RETURNING parked_at, next_attempt_at",
    )
    .bind::<BigInt, _>(id)
    .bind::<Nullable<Timestamptz>, _>(retry_at)
    .bind::<Text, _>(error)
    .bind::<Timestamptz, _>(lease)
    .get_result::<Recorded>(conn)
    .await
    .optional()?;
    Ok(match recorded {
        None => FailureRecorded::LeaseLost,
        Some(Recorded {
            parked_at: None,
            next_attempt_at,
        }) => FailureRecorded::Retried {
            at: next_attempt_at,
        },
        Some(Recorded {
            parked_at: Some(parked_at),
            ..
        }) => FailureRecorded::Parked(ParkedMail { id, parked_at }),
    })
}

/// Puts parked mails back in the queue, as the hand-back of a claim does: the attempt that
/// parked them not counted, due as they were, `error` as their `last_error` (`None` keeps the
/// last one). Only mails still
/// parked as `parked` says: one an admin dealt with since (put back, or parked again after
/// another try) is left as it is. Returns how many went back.
pub async fn unpark_mails(
    conn: &mut AsyncPgConnection,
    parked: &[ParkedMail],
    error: Option<&str>,
) -> Result<usize, DbError> {
    let (ids, parked_at): (Vec<i64>, Vec<DateTime<Utc>>) =
        parked.iter().map(|mail| (mail.id, mail.parked_at)).unzip();
    Ok(diesel::sql_query(
        "UPDATE mail_queue m SET parked_at = NULL, attempts = GREATEST(m.attempts - 1, 0), \
           last_error = COALESCE($3, m.last_error) \
         FROM unnest($1::bigint[], $2::timestamptz[]) AS ours(id, parked_at) \
         WHERE m.id = ours.id AND m.parked_at = ours.parked_at AND m.locked_until IS NULL",
    )
    .bind::<diesel::sql_types::Array<BigInt>, _>(&ids)
    .bind::<diesel::sql_types::Array<Timestamptz>, _>(&parked_at)
    .bind::<Nullable<Text>, _>(error)
    .execute(conn)
    .await?)
}

/// A parked mail as an admin sees it: who it is for and why it was given up on, never its
/// bodies (they may carry a token or a sign-in link).
#[derive(Debug, Clone, QueryableByName)]
pub struct ParkedMailView {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub to_address: String,
    #[diesel(sql_type = Text)]
    pub subject: String,
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_error: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub parked_at: DateTime<Utc>,
}

/// Parked mails after `after_id`, oldest first, at most `limit`.
pub async fn parked_mails(
    conn: &mut AsyncPgConnection,
    after_id: i64,
    limit: i64,
) -> Result<Vec<ParkedMailView>, DbError> {
    Ok(diesel::sql_query(
        "SELECT id, kind, to_address, subject, attempts, last_error, created_at, parked_at \
         FROM mail_queue WHERE parked_at IS NOT NULL AND id > $1 ORDER BY id LIMIT $2",
    )
    .bind::<BigInt, _>(after_id)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}

/// Puts parked mails back in line, due now with their attempts reset (an admin mended what
/// made them fail): the one `id`, or every one to a recipient at `domain` (any domain when
/// `None`; compared without case). `last_error` stays, for whoever looks at the mail again.
///
/// Only mails still wanted go back, by the rules a mail is queued under (see `rules`): a
/// mail parked for weeks must not reach a member who has since refused its kind, been
/// suspended or changed address; nor quote to them a post since taken down or in a private
/// group they have since left (a notification mail, a digest); nor hand them a digest older
/// than its cadence's period, behind the next one; nor nag them by an onboarding rule since
/// disabled or deleted, or whose stop condition they have since met. The others are deleted
/// in the same statement: nothing would ever send them, and their bodies may carry a token.
///
/// The deleted mails are counted, and named (by id and kind) up to the first `name_at_most`:
/// a retry of thousands must not carry thousands of rows back to a page or a log line.
///
/// The mail workers are woken when some went back (at commit).
pub async fn retry_parked_mails(
    conn: &mut AsyncPgConnection,
    which: RetryParked<'_>,
    rules: &StillWanted<'_>,
    name_at_most: i64,
) -> Result<RetryOutcome, DbError> {
    #[derive(QueryableByName)]
    struct Counts {
        #[diesel(sql_type = BigInt)]
        retried: i64,
        #[diesel(sql_type = BigInt)]
        dropped: i64,
        #[diesel(sql_type = Array<BigInt>)]
        dropped_ids: Vec<i64>,
        #[diesel(sql_type = Array<Text>)]
        dropped_kinds: Vec<String>,
    }
    let (id, domain) = match which {
        RetryParked::One(id) => (Some(id), None),
        RetryParked::ToDomain(domain) => (None, domain),
    };
    // Whether each mail is still wanted: `wanted`. Rows are locked first (FOR UPDATE OF q)
    // so that the outcome tells what happened to each one exactly.
    let sql = format!(
        "WITH chosen AS ( \
           SELECT q.id, {wanted} AS wanted \
           FROM mail_queue q LEFT JOIN local_user u ON u.person_id = q.person_id \
           WHERE q.parked_at IS NOT NULL AND ($1::bigint IS NULL OR q.id = $1) \
             AND ($2::text IS NULL \
                  OR lower(substring(q.to_address FROM '@([^@]*)$')) = lower($2)) \
           FOR UPDATE OF q), \
         retried AS ( \
           UPDATE mail_queue m SET parked_at = NULL, attempts = 0, next_attempt_at = now() \
           FROM chosen WHERE m.id = chosen.id AND chosen.wanted RETURNING m.id), \
         dropped AS ( \
           DELETE FROM mail_queue m USING chosen WHERE m.id = chosen.id AND NOT chosen.wanted \
           RETURNING m.id, m.kind), \
         named AS (SELECT id, kind FROM dropped ORDER BY id LIMIT $14) \
         SELECT (SELECT count(*) FROM retried) AS retried, \
           (SELECT count(*) FROM dropped) AS dropped, \
           COALESCE((SELECT array_agg(id ORDER BY id) FROM named), '{{}}') AS dropped_ids, \
           COALESCE((SELECT array_agg(kind ORDER BY id) FROM named), '{{}}') AS dropped_kinds",
        wanted = wanted(),
    );
    let query = diesel::sql_query(sql)
        .bind::<Nullable<BigInt>, _>(id)
        .bind::<Nullable<Text>, _>(domain);
    let counts: Counts = bind_still_wanted!(query, rules)
        .bind::<BigInt, _>(name_at_most)
        .get_result(conn)
        .await?;
    let dropped_mails: Vec<DroppedMail> = counts
        .dropped_ids
        .into_iter()
        .zip(counts.dropped_kinds)
        .map(|(id, kind)| DroppedMail { id, kind })
        .collect();
    let outcome = RetryOutcome {
        retried: counts.retried as usize,
        dropped: counts.dropped as usize,
        dropped_mails,
    };
    if outcome.retried > 0 {
        // The queue's trigger NOTIFYs on inserts only: without this an idle worker would
        // find the mails only at its next wake-up (up to half a minute later).
        diesel::sql_query("SELECT pg_notify('cenacle_mail', '')")
            .execute(conn)
            .await?;
    }
    Ok(outcome)
}

/// Whether the mail `q` (an SQL alias of a `mail_queue` row, or of one with its columns) is
/// still wanted, `u` being its member's `local_user` row (a LEFT JOIN: none for a mail to
/// nobody's account, or to an account gone). An SQL condition, the one rule of an admin's
/// retry of parked mails ([`retry_parked_mails`]) and of a worker's claim of a mail it tries
/// again ([`claim_mails`]). Its parameters are `$3` to `$13`, the kinds' rules as
/// `bind_still_wanted!` binds them: the statement's own parameters come before and after.
///
/// The queue-time rule of `cenacle_core::mail::enqueue_mail` and the account
/// mails: a mail to nobody's account, or of a kind always sent, or to an active, verified
/// member who did not refuse its kind; and to the account's address as it stands (kinds
/// sent to another address aside); and, for a mail carrying a link, a member not suspended
/// with a link of that purpose to that address still live (a reset parked for hours has
/// expired, a verification is spent once the address is verified). A mail whose member has
/// no account any more is not wanted. The preference that decided the mail is asked again
/// where the mail names what it is about (`topic`): a notification mail is wanted only
/// while the member's preference for its notification kind (as stored, or none) is one the
/// caller says mails it at once; a digest only while the member still gets digests of its
/// cadence, by the very condition the digest run picks its members with
/// (`digests::subscribed`). Mails queued before `topic` existed are not asked.
///
/// A digest is also wanted only while younger than its cadence's period (a daily one a day,
/// a weekly one seven days, as the caller says), measured from its queueing. Older, the next
/// digest of that cadence is due or already sent: this one would arrive beside or after it,
/// telling as this period's news what is a period old, and a member reading "your daily
/// summary" twice, out of order, learns to ignore both. Dropping it costs them no news: the
/// notifications it gathered are still on their notifications page (the digest took only
/// their mail mark), and its other lines are the groups' content, still there to read. The
/// next digest does not repeat it (it covers the period since), so what is given up is a
/// late reminder of what they can still read, not the news itself.
///
/// What the mail tells of is asked again too, where the mail names it. A notification
/// mail (`notification_id`) is wanted only while its notification still tells its member
/// what the mail told them (`notification_still_told`). A digest is wanted only while
/// each notification its notices told of (`quoted_notification_ids`) still does, by that
/// very condition (a digest's notice quotes the titles a notification mail would, its
/// contest's among them, and tells news of the notification's time, not the digest's),
/// and while each post its sections quoted (`quoted_post_ids`) may still be in a digest
/// of its member, by the rule the sections picked it with (`digests::in_digest_of`: still
/// up and published, in a group they still belong to). One line gone spoils the whole
/// digest (its bodies are written once, not line by line). A triggered mail
/// (`onboarding_rule_id`) is wanted only while its rule exists, is enabled and its stop
/// condition does not spare the member, by the condition the rule picks its members with
/// (`onboarding::spared_by_stop_condition`). Mails queued before these columns existed
/// are not asked.
fn wanted() -> String {
    format!(
        "(q.person_id IS NULL OR COALESCE( \
           u.person_id IS NOT NULL \
           AND NOT EXISTS (SELECT 1 FROM unnest($5::text[], $6::text[]) AS l(kind, purpose) \
              WHERE l.kind = q.kind AND (u.status = 'suspended' OR NOT EXISTS ( \
                SELECT 1 FROM account_token t WHERE t.person_id = q.person_id \
                  AND t.purpose = l.purpose AND t.used_at IS NULL AND t.expires_at > now() \
                  AND lower(t.email) = lower(q.to_address)))) \
           AND (q.kind = ANY($3) OR (u.status = 'active' AND u.email_verified_at IS NOT NULL \
              AND NOT EXISTS (SELECT 1 FROM email_opt_out o \
                              WHERE o.person_id = q.person_id AND o.kind = q.kind))) \
           AND (q.kind = ANY($4) OR lower(q.to_address) = lower(u.email)) \
           AND (q.topic IS NULL OR q.kind <> $7 OR EXISTS ( \
              SELECT 1 FROM unnest($8::text[], $9::text[]) AS r(kind, delivery) \
              WHERE r.kind = q.topic AND r.delivery IS NOT DISTINCT FROM ( \
                SELECT np.delivery FROM notification_preference np \
                WHERE np.person_id = q.person_id AND np.kind = q.topic))) \
           AND (q.topic IS NULL OR q.kind <> $10 OR EXISTS ( \
              SELECT 1 FROM unnest($11::text[], $12::text[], $13::bigint[]) \
                AS c(cadence, delivery, period) \
              WHERE c.cadence = q.topic AND {digest_subscribed} \
                AND q.created_at > now() - c.period * interval '1 second')) \
           AND (q.quoted_post_ids IS NULL OR NOT EXISTS ( \
              SELECT 1 FROM unnest(q.quoted_post_ids) AS quoted(id) WHERE NOT EXISTS ( \
                SELECT 1 FROM post p WHERE p.id = quoted.id AND {in_digest}))) \
           AND (q.quoted_notification_ids IS NULL OR NOT EXISTS ( \
              SELECT 1 FROM unnest(q.quoted_notification_ids) AS quoted(id) \
              WHERE NOT {quoted_notification_still_told})) \
           AND (q.notification_id IS NULL OR {notification_still_told}) \
           AND (q.onboarding_rule_id IS NULL OR EXISTS ( \
              SELECT 1 FROM onboarding_rule r WHERE r.id = q.onboarding_rule_id \
                AND r.enabled AND NOT {spared_by_stop})), \
           false))",
        digest_subscribed = crate::digests::subscribed("q.person_id", "c.delivery"),
        in_digest = crate::digests::in_digest_of("q.person_id"),
        quoted_notification_still_told = notification_still_told("quoted.id", "q.person_id"),
        notification_still_told = notification_still_told("q.notification_id", "q.person_id"),
        spared_by_stop = crate::onboarding::spared_by_stop_condition("r", "q.person_id"),
    )
}

/// Whether the notification `notification` (an SQL expression of its id) still tells the
/// member `person` (of their id) what a mail of it told them, so that the mail is still
/// theirs to get. An SQL condition over the notification as its member reads it now, by the
/// very query that rendered the mail (`notifications::ROW_SELECT`): it must be theirs and
/// still show the titles of its post and its contest (leaving a private group, or being
/// removed from it, hides them; a notification gone shows nothing; a mail queued without a
/// title, its member already gone, goes too), and neither its post nor its comment may have
/// been taken down since (`taken_down_since`, measured from the notification's time, as
/// when the mail was first queued: the core's `notice_text` writes nothing of such a row).
/// The one rule of a retried notification mail and of each notice of a retried digest
/// ([`wanted`]). SQL expressions only: constants, never text from outside.
fn notification_still_told(notification: &'static str, person: &'static str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM ({notification_as_read}) n WHERE n.id = {notification} \
           AND n.recipient_id = {person} \
           AND (n.post_id IS NULL OR n.post_title IS NOT NULL) \
           AND (n.contest_id IS NULL OR n.contest_title IS NOT NULL) \
           AND NOT n.taken_down_since)",
        notification_as_read = crate::notifications::ROW_SELECT,
    )
}

/// The kinds of mail whose rules differ, named by the caller (the kinds are the domain's, not
/// the store's to know).
#[derive(Debug, Clone, Copy)]
pub struct StillWanted<'a> {
    /// Sent whatever the member's status and preferences (they protect the account).
    pub always_sent: &'a [&'a str],
    /// Sent to an address that need not be the account's (a new address being confirmed,
    /// the old one told of the change).
    pub to_any_address: &'a [&'a str],
    /// Kinds carrying a single-use link, and (at the same place) the purpose of its token:
    /// useless once no such token to that address is live.
    pub link_kinds: &'a [&'a str],
    pub link_purposes: &'a [&'a str],
    /// The kind of the notification mails, whose `topic` is the notification kind.
    pub notification_kind: &'a str,
    /// The notification kinds (`at_once_kinds`) and, at the same place, the stored preference
    /// for it (`None`: the member set none) under which a notification of that kind is mailed
    /// at once: a parked notification mail whose member's preference for its kind is not
    /// listed with it is no longer wanted.
    pub at_once_kinds: &'a [&'a str],
    pub at_once_preferences: &'a [Option<&'a str>],
    /// The kind of the digests, whose `topic` is the cadence.
    pub digest_kind: &'a str,
    /// The cadences and, at the same place, the notification delivery that puts a kind in
    /// that digest (`email_daily`…) and the cadence's period in seconds: a parked digest whose
    /// member has no kind so set any more, or older than its cadence's period, is no longer
    /// wanted.
    pub digest_cadences: &'a [&'a str],
    pub digest_deliveries: &'a [&'a str],
    pub digest_periods: &'a [i64],
}

/// What [`retry_parked_mails`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RetryOutcome {
    /// Mails put back in line.
    pub retried: usize,
    /// Mails deleted: no longer wanted (see [`retry_parked_mails`]).
    pub dropped: usize,
    /// Which, by id (oldest first), the first of them only (see [`retry_parked_mails`]):
    /// what an admin may be told and the logs may keep (never their addresses or bodies).
    pub dropped_mails: Vec<DroppedMail>,
}

impl RetryOutcome {
    /// Some deleted mails are not named in `dropped_mails`: more were deleted than it lists.
    pub fn dropped_mails_truncated(&self) -> bool {
        self.dropped > self.dropped_mails.len()
    }
}

/// A parked mail [`retry_parked_mails`] deleted, no longer wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedMail {
    pub id: i64,
    pub kind: String,
}

/// Which parked mails [`retry_parked_mails`] puts back.
#[derive(Debug, Clone, Copy)]
pub enum RetryParked<'a> {
    One(i64),
    /// Those to this recipient domain, or all.
    ToDomain(Option<&'a str>),
}

/// Hands claimed mails back, their claim's attempt not counted, due as they were, with
/// `error` as their `last_error` (why they wait; `None` keeps the last one). Only mails still
/// under this worker's lease (`leases`: id and lease end, as claimed): one whose lease ran out
/// may be another worker's by now, and taking back its attempt or its lock could have it sent
/// twice.
pub async fn release_mails(
    conn: &mut AsyncPgConnection,
    leases: &[(i64, DateTime<Utc>)],
    error: Option<&str>,
) -> Result<(), DbError> {
    let (ids, ends): (Vec<i64>, Vec<DateTime<Utc>>) = leases.iter().copied().unzip();
    diesel::sql_query(
        "UPDATE mail_queue m SET locked_until = NULL, attempts = GREATEST(m.attempts - 1, 0), \
           last_error = COALESCE($3, m.last_error) \
         FROM unnest($1::bigint[], $2::timestamptz[]) AS ours(id, locked_until) \
         WHERE m.id = ours.id AND m.locked_until = ours.locked_until AND m.parked_at IS NULL",
    )
    .bind::<diesel::sql_types::Array<BigInt>, _>(&ids)
    .bind::<diesel::sql_types::Array<Timestamptz>, _>(&ends)
    .bind::<diesel::sql_types::Nullable<Text>, _>(error)
    .execute(conn)
    .await?;
    Ok(())
}

/// When the next queued mail falls due (a leased one when its lease runs out).
pub async fn next_mail_due(conn: &mut AsyncPgConnection) -> Result<Option<DateTime<Utc>>, DbError> {
    #[derive(QueryableByName)]
    struct Due {
        #[diesel(sql_type = Nullable<Timestamptz>)]
        at: Option<DateTime<Utc>>,
    }
    Ok(diesel::sql_query(
        "SELECT min(GREATEST(next_attempt_at, COALESCE(locked_until, next_attempt_at))) AS at \
         FROM mail_queue WHERE parked_at IS NULL",
    )
    .get_result::<Due>(conn)
    .await?
    .at)
}

/// LISTENs for queued mails on a dedicated connection, ringing `wake` for each NOTIFY (and
/// once each time the LISTEN is established: what was queued meanwhile told no one);
/// reconnects after a failure. Runs until aborted.
pub async fn listen_for_mails(database_url: String, wake: std::sync::Arc<tokio::sync::Notify>) {
    use diesel_async::AsyncConnection;
    use futures_util::StreamExt;
    loop {
        match AsyncPgConnection::establish(&database_url).await {
            Ok(mut conn) => {
                if diesel::sql_query("LISTEN cenacle_mail")
                    .execute(&mut conn)
                    .await
                    .is_ok()
                {
                    wake.notify_one();
                    let mut notifications = std::pin::pin!(conn.notifications_stream());
                    while let Some(Ok(_)) = notifications.next().await {
                        wake.notify_one();
                    }
                }
            }
            Err(err) => tracing::warn!(error = %err, "mail listener cannot connect"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

pub async fn opted_out(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    kind: &str,
) -> Result<bool, DbError> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Bool)]
        found: bool,
    }
    Ok(diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM email_opt_out WHERE person_id = $1 AND kind = $2) AS found",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Text, _>(kind)
    .get_result::<Found>(conn)
    .await?
    .found)
}

/// Records an opt-out (again: nothing changes); false when there is no such local account.
pub async fn opt_out(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    kind: &str,
) -> Result<bool, DbError> {
    let n = diesel::sql_query(
        "INSERT INTO email_opt_out (person_id, kind) \
         SELECT person_id, $2 FROM local_user WHERE person_id = $1 ON CONFLICT DO NOTHING",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Text, _>(kind)
    .execute(conn)
    .await?;
    if n == 1 {
        return Ok(true);
    }
    opted_out(conn, person_id, kind).await
}

pub async fn opt_outs(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<Vec<String>, DbError> {
    #[derive(QueryableByName)]
    struct Kind {
        #[diesel(sql_type = Text)]
        kind: String,
    }
    Ok(
        diesel::sql_query("SELECT kind FROM email_opt_out WHERE person_id = $1 ORDER BY kind")
            .bind::<BigInt, _>(person_id)
            .load::<Kind>(conn)
            .await?
            .into_iter()
            .map(|k| k.kind)
            .collect(),
    )
}

pub async fn opt_in(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    kind: &str,
) -> Result<(), DbError> {
    diesel::sql_query("DELETE FROM email_opt_out WHERE person_id = $1 AND kind = $2")
        .bind::<BigInt, _>(person_id)
        .bind::<Text, _>(kind)
        .execute(conn)
        .await?;
    Ok(())
}

/// The instance's secret of this name (made by the migrations).
pub async fn instance_secret(
    conn: &mut AsyncPgConnection,
    name: &str,
) -> Result<Option<Vec<u8>>, DbError> {
    #[derive(QueryableByName)]
    struct Secret {
        #[diesel(sql_type = diesel::sql_types::Bytea)]
        value: Vec<u8>,
    }
    Ok(
        diesel::sql_query("SELECT value FROM instance_secret WHERE name = $1")
            .bind::<Text, _>(name)
            .get_result::<Secret>(conn)
            .await
            .optional()?
            .map(|s| s.value),
    )
}
