//! The champions programme's rows: the charter's versions and their acceptances, each
//! person's place in the programme, their terms, groups, objectives, the notices broadcast to
//! champions and the audit trail (migration `2026-11-30-000901_champions_programme`).

use crate::{actors::Group, schema::community_group, DbError, PrepareOnce};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    prelude::*,
    sql_types::{Array, BigInt, Bool, Date, Int4, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, QueryableByName)]
pub struct Charter {
    #[diesel(sql_type = Int4)]
    pub version: i32,
    #[diesel(sql_type = Text)]
    pub text_en: String,
    #[diesel(sql_type = Text)]
    pub text_fr: String,
    #[diesel(sql_type = Timestamptz)]
    pub published_at: DateTime<Utc>,
}

pub async fn current_charter(conn: &mut AsyncPgConnection) -> Result<Option<Charter>, DbError> {
    Ok(diesel::sql_query(
        "SELECT version, text_en, text_fr, published_at FROM champion_charter \
         ORDER BY version DESC LIMIT 1",
    )
    .prepared()
    .get_result(conn)
    .await
    .optional()?)
}

/// Publishes the next version. The table is locked for the transaction so that two managers
/// publishing at once get versions n and n+1, not a collision.
/// Takes the charter's lock for the rest of the transaction: publications (and the champions
/// group the first one makes) happen one at a time.
pub async fn lock_charter(conn: &mut AsyncPgConnection) -> Result<(), DbError> {
    diesel::sql_query("LOCK TABLE champion_charter IN SHARE ROW EXCLUSIVE MODE")
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn publish_charter(
    conn: &mut AsyncPgConnection,
    text_en: &str,
    text_fr: &str,
    by: i64,
) -> Result<Charter, DbError> {
    lock_charter(conn).await?;
    Ok(diesel::sql_query(
        "INSERT INTO champion_charter (version, text_en, text_fr, published_by) \
         SELECT COALESCE(MAX(version), 0) + 1, $1, $2, $3 FROM champion_charter \
         RETURNING version, text_en, text_fr, published_at",
    )
    .bind::<Text, _>(text_en)
    .bind::<Text, _>(text_fr)
    .bind::<BigInt, _>(by)
    .get_result(conn)
    .await?)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct ChampionRow {
    #[diesel(sql_type = BigInt)]
    pub person_id: i64,
    #[diesel(sql_type = Text)]
    pub username: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub title: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub nominated_by: Option<i64>,
    #[diesel(sql_type = Timestamptz)]
    pub nominated_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub charter_version: Option<i32>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub charter_accepted_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub active_since: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub renewal_due: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    pub exit_reason: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub exited_at: Option<DateTime<Utc>>,
}

const CHAMPION_COLUMNS: &str = "c.person_id, p.username, c.status, c.title, c.nominated_by, \
     c.nominated_at, c.charter_version, c.charter_accepted_at, c.active_since, c.renewal_due, \
     c.exit_reason, c.exited_at FROM champion c JOIN person p ON p.id = c.person_id";

/// A person's row, locked for the rest of the transaction: the steps of one person's
/// lifecycle serialise on it.
pub async fn champion_for_update(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<Option<ChampionRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {CHAMPION_COLUMNS} WHERE c.person_id = $1 FOR UPDATE OF c"
    ))
    .bind::<BigInt, _>(person_id)
    .prepared()
    .get_result(conn)
    .await
    .optional()?)
}

pub async fn champion(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<Option<ChampionRow>, DbError> {
    Ok(
        diesel::sql_query(format!("SELECT {CHAMPION_COLUMNS} WHERE c.person_id = $1"))
            .bind::<BigInt, _>(person_id)
            .prepared()
            .get_result(conn)
            .await
            .optional()?,
    )
}

/// Everyone in the programme with `status` (all when None), by name.
pub async fn champions(
    conn: &mut AsyncPgConnection,
    status: Option<&str>,
) -> Result<Vec<ChampionRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {CHAMPION_COLUMNS} WHERE $1::text IS NULL OR c.status = $1 ORDER BY p.username"
    ))
    .bind::<Nullable<Text>, _>(status)
    .prepared()
    .load(conn)
    .await?)
}

/// Active champions whose review falls before `before`, soonest first.
pub async fn renewals_due(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
) -> Result<Vec<ChampionRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {CHAMPION_COLUMNS} WHERE c.status = 'active' AND c.renewal_due <= $1 \
         ORDER BY c.renewal_due, p.username"
    ))
    .bind::<Timestamptz, _>(before)
    .prepared()
    .load(conn)
    .await?)
}

/// A (new or renewed) nomination: back to `invited`, what a former term left cleared.
pub async fn nominate(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    by: i64,
    title: Option<&str>,
) -> Result<bool, DbError> {
    // Conditional: of two nominations racing for someone not yet in the programme, the second
    // waits on the first's row and then finds it `invited`, so it changes nothing (false).
    let changed = diesel::sql_query(
        "INSERT INTO champion (person_id, status, title, nominated_by) VALUES ($1, 'invited', $2, $3) \
         ON CONFLICT (person_id) DO UPDATE SET status = 'invited', title = $2, nominated_by = $3, \
           nominated_at = now(), charter_version = NULL, charter_accepted_at = NULL, \
           active_since = NULL, renewal_due = NULL, exit_reason = NULL, exited_at = NULL \
         WHERE champion.status IN ('declined', 'exited')",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Nullable<Text>, _>(title)
    .bind::<BigInt, _>(by)
    .execute(conn)
    .await?;
    Ok(changed == 1)
}

pub async fn set_status(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    status: &str,
) -> Result<(), DbError> {
    diesel::sql_query("UPDATE champion SET status = $2 WHERE person_id = $1")
        .bind::<BigInt, _>(person_id)
        .bind::<Text, _>(status)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records that the person accepted charter `version` now.
pub async fn accept_charter(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    version: i32,
) -> Result<DateTime<Utc>, DbError> {
    diesel::sql_query(
        "INSERT INTO champion_charter_acceptance (person_id, version) VALUES ($1, $2) \
         ON CONFLICT DO NOTHING",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Int4, _>(version)
    .execute(conn)
    .await?;
    #[derive(QueryableByName)]
    struct At {
        #[diesel(sql_type = Timestamptz)]
        at: DateTime<Utc>,
    }
    let at: At = diesel::sql_query(
        "UPDATE champion SET charter_version = $2, charter_accepted_at = now() \
         WHERE person_id = $1 RETURNING charter_accepted_at AS at",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Int4, _>(version)
    .get_result(conn)
    .await?;
    Ok(at.at)
}

/// The person becomes an active champion: a term opens, the first review is due `renewal_due`.
pub async fn activate(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    renewal_due: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE champion SET status = 'active', active_since = now(), renewal_due = $2 \
         WHERE person_id = $1",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Timestamptz, _>(renewal_due)
    .execute(conn)
    .await?;
    diesel::sql_query("INSERT INTO champion_term (person_id) VALUES ($1)")
        .bind::<BigInt, _>(person_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_renewal_due(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    renewal_due: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::sql_query("UPDATE champion SET renewal_due = $2 WHERE person_id = $1")
        .bind::<BigInt, _>(person_id)
        .bind::<Timestamptz, _>(renewal_due)
        .execute(conn)
        .await?;
    Ok(())
}

/// The term ends at `at` (the caller's clock, the one that dates the badge's revocation):
/// status `exited` with its reason, the open term closed, the groups they championed let go
/// (their tools go with them).
pub async fn end(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE champion SET status = 'exited', exit_reason = $2, exited_at = $3 \
         WHERE person_id = $1",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<diesel::sql_types::Nullable<Text>, _>(reason)
    .bind::<diesel::sql_types::Timestamptz, _>(at)
    .execute(conn)
    .await?;
    diesel::sql_query(
        "UPDATE champion_term SET ended_at = $2 WHERE person_id = $1 AND ended_at IS NULL",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<diesel::sql_types::Timestamptz, _>(at)
    .execute(conn)
    .await?;
    set_groups(conn, person_id, &[]).await
}

/// The groups they champion become exactly `group_ids` (those kept keep their since-when).
pub async fn set_groups(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    group_ids: &[i64],
) -> Result<(), DbError> {
    diesel::sql_query(
        "DELETE FROM champion_group WHERE person_id = $1 AND NOT (group_id = ANY($2))",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Array<BigInt>, _>(group_ids)
    .execute(conn)
    .await?;
    diesel::sql_query(
        "INSERT INTO champion_group (person_id, group_id) SELECT $1, unnest($2::bigint[]) \
         ON CONFLICT DO NOTHING",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Array<BigInt>, _>(group_ids)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, QueryableByName)]
pub struct ChampionedGroup {
    #[diesel(sql_type = BigInt)]
    pub group_id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub ap_id: String,
    #[diesel(sql_type = Timestamptz)]
    pub since: DateTime<Utc>,
}

/// The groups a person is named champion of (kept while invited, used once active).
pub async fn groups_of(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<Vec<ChampionedGroup>, DbError> {
    Ok(diesel::sql_query(
        "SELECT g.id AS group_id, g.name, g.ap_id, cg.since FROM champion_group cg \
         JOIN community_group g ON g.id = cg.group_id WHERE cg.person_id = $1 ORDER BY g.name",
    )
    .bind::<BigInt, _>(person_id)
    .prepared()
    .load(conn)
    .await?)
}

/// Groups championed by an active champion: what their Person actor tells other servers.
pub async fn active_groups_of(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<Vec<ChampionedGroup>, DbError> {
    Ok(diesel::sql_query(
        "SELECT g.id AS group_id, g.name, g.ap_id, cg.since FROM champion_group cg \
         JOIN champion c ON c.person_id = cg.person_id AND c.status = 'active' \
         JOIN community_group g ON g.id = cg.group_id \
         WHERE cg.person_id = $1 AND NOT g.local_only ORDER BY g.name",
    )
    .bind::<BigInt, _>(person_id)
    .prepared()
    .load(conn)
    .await?)
}

/// The programme's champions group (the one local-only group), if created.
pub async fn local_only_group(conn: &mut AsyncPgConnection) -> Result<Option<Group>, DbError> {
    Ok(community_group::table
        .filter(community_group::local.eq(true))
        .filter(community_group::local_only.eq(true))
        .order(community_group::id.asc())
        .select(Group::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn set_objective(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    metric: &str,
    target: i32,
    by: i64,
) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO champion_objective (person_id, metric, target, set_by) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (person_id, metric) DO UPDATE SET target = $3, set_by = $4, created_at = now()",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Text, _>(metric)
    .bind::<Int4, _>(target)
    .bind::<BigInt, _>(by)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, QueryableByName)]
pub struct Objective {
    #[diesel(sql_type = Text)]
    pub metric: String,
    #[diesel(sql_type = Int4)]
    pub target: i32,
    /// This calendar month so far, from the posts and comments themselves.
    #[diesel(sql_type = BigInt)]
    pub progress: i64,
}

/// A person's objectives with this month's progress.
pub async fn objectives(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<Vec<Objective>, DbError> {
    Ok(diesel::sql_query(
        "SELECT o.metric, o.target, CASE o.metric \
           WHEN 'answers_per_month' THEN (SELECT count(*) FROM comment c JOIN post p ON p.id = c.post_id \
             WHERE c.author_id = o.person_id AND c.parent_id IS NULL AND c.deleted_at IS NULL \
               AND p.kind = 'question' AND c.created_at >= date_trunc('month', now())) \
           ELSE (SELECT count(*) FROM post p JOIN comment c ON c.id = p.accepted_comment_id \
             WHERE c.author_id = o.person_id AND p.deleted_at IS NULL \
               AND p.accepted_at >= date_trunc('month', now())) END AS progress \
         FROM champion_objective o WHERE o.person_id = $1 ORDER BY o.metric",
    )
    .bind::<BigInt, _>(person_id)
    .prepared()
    .load(conn)
    .await?)
}

pub async fn record_audit(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    actor_id: Option<i64>,
    action: &str,
    reason: Option<&str>,
    detail: Option<&str>,
) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO champion_audit (person_id, actor_id, action, reason, detail) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Nullable<BigInt>, _>(actor_id)
    .bind::<Text, _>(action)
    .bind::<Nullable<Text>, _>(reason)
    .bind::<Nullable<Text>, _>(detail)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, QueryableByName)]
pub struct AuditEntry {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub actor: Option<String>,
    #[diesel(sql_type = Text)]
    pub action: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub reason: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub detail: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// A person's trail in the programme, oldest first.
pub async fn audit_of(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<Vec<AuditEntry>, DbError> {
    Ok(diesel::sql_query(
        "SELECT a.id, p.username AS actor, a.action, a.reason, a.detail, a.created_at \
         FROM champion_audit a LEFT JOIN person p ON p.id = a.actor_id \
         WHERE a.person_id = $1 ORDER BY a.id",
    )
    .bind::<BigInt, _>(person_id)
    .prepared()
    .load(conn)
    .await?)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct Notice {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub author: Option<String>,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

pub async fn insert_notice(
    conn: &mut AsyncPgConnection,
    author_id: i64,
    body: &str,
) -> Result<i64, DbError> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let id: Id = diesel::sql_query(
        "INSERT INTO champion_notice (author_id, body) VALUES ($1, $2) RETURNING id",
    )
    .bind::<BigInt, _>(author_id)
    .bind::<Text, _>(body)
    .get_result(conn)
    .await?;
    Ok(id.id)
}

/// The latest notices, newest first.
pub async fn notices(conn: &mut AsyncPgConnection, limit: i64) -> Result<Vec<Notice>, DbError> {
    Ok(diesel::sql_query(
        "SELECT n.id, p.username AS author, n.body, n.created_at FROM champion_notice n \
         LEFT JOIN person p ON p.id = n.author_id ORDER BY n.id DESC LIMIT $1",
    )
    .bind::<BigInt, _>(limit)
    .prepared()
    .load(conn)
    .await?)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct QuestionRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub group_name: String,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Text)]
    pub author: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

const QUESTION_COLUMNS: &str = "SELECT q.id, g.name AS group_name, q.title, a.username AS author, \
     q.created_at FROM post q JOIN community_group g ON g.id = q.group_id \
     JOIN person a ON a.id = q.author_id \
     WHERE q.kind = 'question' AND q.deleted_at IS NULL AND q.accepted_comment_id IS NULL \
       AND q.approval IS NULL";

/// Unanswered questions (no accepted answer) of the groups a person champions, newest first:
/// champions see new questions first. Not those of a group they are banned from (a ban in
/// force: their tools are refused there).
pub async fn new_questions_for(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    limit: i64,
) -> Result<Vec<QuestionRow>, DbError> {
    // Only what they may read: a private group's questions when they are one of its members.
    Ok(diesel::sql_query(format!(
        "{QUESTION_COLUMNS} AND q.group_id IN \
           (SELECT group_id FROM champion_group WHERE person_id = $1) \
         AND NOT EXISTS (SELECT 1 FROM group_ban b WHERE b.group_id = q.group_id \
           AND b.person_id = $1 AND b.lifted_at IS NULL \
           AND (b.expires_at IS NULL OR b.expires_at > now())) \
         AND (g.visibility <> 'private' OR EXISTS (SELECT 1 FROM group_membership m \
           WHERE m.group_id = g.id AND m.person_id = $1)) \
         ORDER BY q.created_at DESC, q.id DESC LIMIT $2"
    ))
    .bind::<BigInt, _>(person_id)
    .bind::<BigInt, _>(limit)
    .prepared()
    .load(conn)
    .await?)
}

/// The priority queue for community managers: unanswered questions asked by active
/// champions, oldest first (they have waited longest).
pub async fn priority_queue(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> Result<Vec<QuestionRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "{QUESTION_COLUMNS} AND NOT g.local_only AND q.author_id IN \
           (SELECT person_id FROM champion WHERE status = 'active' \
              AND charter_version = (SELECT MAX(version) FROM champion_charter)) \
         ORDER BY q.created_at, q.id LIMIT $1"
    ))
    .bind::<BigInt, _>(limit)
    .prepared()
    .load(conn)
    .await?)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct MonthShare {
    #[diesel(sql_type = Date)]
    pub month: NaiveDate,
    #[diesel(sql_type = BigInt)]
    pub accepted: i64,
    #[diesel(sql_type = BigInt)]
    pub by_champions: i64,
}

/// Per calendar month since `from`: the answers accepted that month, and how many of them
/// were written by someone who was an active champion at the moment of acceptance.
pub async fn solutions_share(
    conn: &mut AsyncPgConnection,
    from: NaiveDate,
) -> Result<Vec<MonthShare>, DbError> {
    Ok(diesel::sql_query(
        "SELECT date_trunc('month', p.accepted_at)::date AS month, count(*) AS accepted, \
           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM champion_term t \
             WHERE t.person_id = c.author_id AND t.started_at <= p.accepted_at \
               AND (t.ended_at IS NULL OR t.ended_at > p.accepted_at))) AS by_champions \
         FROM post p JOIN comment c ON c.id = p.accepted_comment_id \
         WHERE p.accepted_at >= $1 AND p.deleted_at IS NULL \
         GROUP BY 1 ORDER BY 1",
    )
    .bind::<Date, _>(from)
    .prepared()
    .load(conn)
    .await?)
}

/// Why [`move_post`] moved nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotMoved {
    /// Its author deleted the post (or it is no more).
    Gone,
    /// A moderator removed the post.
    Removed,
    /// The post is no longer in the group the caller read it in (another move committed
    /// meanwhile): what the caller checked of that group no longer applies.
    NotInGroup,
    /// The post is in the destination already (the same move sent twice, the first
    /// committed meanwhile): nothing to do.
    AlreadyThere,
}

/// Moves the post `post_id` from the group `from_group` (where the caller read it, and checked
/// what a move from there asks) to `group_id` (its comments follow it), unless it was deleted,
/// a moderator removed it or it is no longer in `from_group`, all read under the row's lock,
/// so that a deletion, a removal or another move committing meanwhile is seen (or it is in
/// `group_id` already).
///
/// The row is locked FOR UPDATE first, which the update of its group alone would not take
/// (the group is no key): it waits for the replies being written (and edited), which hold the
/// post FOR KEY SHARE from before they read its group (`content::PostHold::InItsGroup`), so
/// that the caller's later statements find them (the pass over the replies of people banned
/// from the new group, their rewards moved with the post), and makes the replies that start
/// meanwhile wait and read the new group. So does everything else that holds the post's key
/// until it commits (a vote in flight, a report or a notification about the post being
/// written): the move waits for them and they for the move; the bounty settler skips the
/// question meanwhile (SKIP LOCKED) and settles it on a later pass.
pub async fn move_post(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    from_group: i64,
    group_id: i64,
) -> Result<Result<(), NotMoved>, DbError> {
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = BigInt)]
        group_id: i64,
        #[diesel(sql_type = Bool)]
        deleted: bool,
        #[diesel(sql_type = Bool)]
        removed: bool,
    }
    let locked: Option<Locked> = diesel::sql_query(
        "SELECT group_id, deleted_at IS NOT NULL AS deleted, removed_at IS NOT NULL AS removed \
         FROM post WHERE id = $1 FOR UPDATE",
    )
    .bind::<BigInt, _>(post_id)
    .get_result(conn)
    .await
    .optional()?;
    let at = match locked {
        None | Some(Locked { deleted: true, .. }) => return Ok(Err(NotMoved::Gone)),
        Some(Locked { removed: true, .. }) => return Ok(Err(NotMoved::Removed)),
        Some(Locked { group_id: at, .. }) => at,
    };
    if at == group_id {
        return Ok(Err(NotMoved::AlreadyThere));
    }
    if at != from_group {
        return Ok(Err(NotMoved::NotInGroup));
    }
    diesel::sql_query("UPDATE post SET group_id = $2, updated_at = now() WHERE id = $1")
        .bind::<BigInt, _>(post_id)
        .bind::<BigInt, _>(group_id)
        .execute(conn)
        .await?;
    // The reputation earned by the post and its comments follows it; the rollup triggers
    // (migration 000502) move the group leaderboards' totals with the rows.
    diesel::sql_query(
        "UPDATE reputation_event SET group_id = $2 WHERE group_id IS DISTINCT FROM $2 \
           AND (post_id = $1 OR comment_id IN (SELECT id FROM comment WHERE post_id = $1))",
    )
    .bind::<BigInt, _>(post_id)
    .bind::<BigInt, _>(group_id)
    .execute(conn)
    .await?;
    Ok(Ok(()))
}

/// Removes the comments on `post_id` whose authors are banned from `group_id` with removal of
/// their content (a ban in force: not lifted, not expired), each with its ban's reason, as
/// the ban removed what they wrote there (`reports::remove_content_of`): a post moved into
/// the group does not bring them back. Locked `FOR UPDATE` as that removal locks them. What
/// it removed, for the rewards.
pub async fn remove_comments_of_banned(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    group_id: i64,
) -> Result<Vec<crate::reports::RemovedItem>, DbError> {
    Ok(diesel::sql_query(
        "UPDATE comment c SET removed_at = now(), removal_reason = b.reason \
         FROM group_ban b \
         WHERE c.id IN (SELECT c2.id FROM comment c2 JOIN group_ban b2 \
                          ON b2.group_id = $2 AND b2.person_id = c2.author_id \
                        WHERE c2.post_id = $1 AND c2.removed_at IS NULL AND b2.remove_data \
                          AND b2.lifted_at IS NULL \
                          AND (b2.expires_at IS NULL OR b2.expires_at > now()) \
                        ORDER BY c2.id FOR UPDATE OF c2) \
           AND b.group_id = $2 AND b.person_id = c.author_id \
         RETURNING c.post_id, c.id AS comment_id",
    )
    .bind::<BigInt, _>(post_id)
    .bind::<BigInt, _>(group_id)
    .load(conn)
    .await?)
}

/// A local account's status (`active`, `suspended`...), None for people without one.
pub async fn account_status(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<Option<String>, DbError> {
    use crate::schema::local_user;
    Ok(local_user::table
        .find(person_id)
        .select(local_user::status)
        .first(conn)
        .await
        .optional()?)
}

/// Replaces what a remote person's home instance says they champion (`cenacle:champion`).
pub async fn set_home_champion(
    conn: &mut AsyncPgConnection,
    person_ap_id: &str,
    groups: &[(String, DateTime<Utc>)],
) -> Result<(), DbError> {
    diesel::sql_query(
        "DELETE FROM remote_champion_group WHERE person_id = \
           (SELECT id FROM person WHERE ap_id = $1 AND NOT local)",
    )
    .bind::<Text, _>(person_ap_id)
    .execute(conn)
    .await?;
    let (ids, since): (Vec<&str>, Vec<DateTime<Utc>>) =
        groups.iter().map(|(g, s)| (g.as_str(), *s)).unzip();
    diesel::sql_query(
        "INSERT INTO remote_champion_group (person_id, group_ap_id, since) \
         SELECT p.id, g.id, g.since FROM person p, unnest($2::text[], $3::timestamptz[]) AS g(id, since) \
         WHERE p.ap_id = $1 AND NOT p.local ON CONFLICT DO NOTHING",
    )
    .bind::<Text, _>(person_ap_id)
    .bind::<Array<Text>, _>(ids)
    .bind::<Array<Timestamptz>, _>(since)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, QueryableByName)]
pub struct HomeChampion {
    #[diesel(sql_type = Text)]
    pub group_ap_id: String,
    #[diesel(sql_type = Timestamptz)]
    pub since: DateTime<Utc>,
}

/// What a remote person's home instance said they champion.
pub async fn home_champion(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<Vec<HomeChampion>, DbError> {
    Ok(diesel::sql_query(
        "SELECT group_ap_id, since FROM remote_champion_group WHERE person_id = $1 \
         ORDER BY group_ap_id",
    )
    .bind::<BigInt, _>(person_id)
    .prepared()
    .load(conn)
    .await?)
}
