//! The welcome settings and panels, the onboarding journey's steps and the facts that measure
//! them, and the triggered e-mail rules with the one query that says whom a rule mails now.

use crate::{prepared::PrepareOnce, DbError};
use cenacle_domain::onboarding::StepKind;
use chrono::{DateTime, Utc};
use diesel::{
    sql_types::{BigInt, Bool, Int4, Nullable, Text, Timestamptz},
    OptionalExtension, QueryableByName,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, QueryableByName)]
pub struct WelcomeSettings {
    #[diesel(sql_type = Text)]
    pub welcome_fr: String,
    #[diesel(sql_type = Text)]
    pub welcome_en: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub manager_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub welcome_group_id: Option<i64>,
    #[diesel(sql_type = Bool)]
    pub post_in_group: bool,
}

pub async fn welcome_settings(conn: &mut AsyncPgConnection) -> Result<WelcomeSettings, DbError> {
    Ok(diesel::sql_query(
        "SELECT welcome_fr, welcome_en, manager_id, welcome_group_id, post_in_group \
         FROM onboarding_settings",
    )
    .get_result(conn)
    .await?)
}

pub async fn set_welcome_settings(
    conn: &mut AsyncPgConnection,
    s: &WelcomeSettings,
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE onboarding_settings SET welcome_fr = $1, welcome_en = $2, manager_id = $3, \
           welcome_group_id = $4, post_in_group = $5, updated_at = now()",
    )
    .bind::<Text, _>(&s.welcome_fr)
    .bind::<Text, _>(&s.welcome_en)
    .bind::<Nullable<BigInt>, _>(s.manager_id)
    .bind::<Nullable<BigInt>, _>(s.welcome_group_id)
    .bind::<Bool, _>(s.post_in_group)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn open_welcome_panel(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<(), DbError> {
    diesel::sql_query("INSERT INTO welcome_panel (person_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind::<BigInt, _>(person_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether the member is still owed their welcome mail (queued at sign-up only to a verified
/// address), locking their panel's row so that two verifications racing mail it once. A
/// welcome older than `within_days` is owed no more: a mail saying "welcome" months after
/// the sign-up would be noise.
pub async fn welcome_mail_owed(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    within_days: i32,
) -> Result<bool, DbError> {
    #[derive(QueryableByName)]
    struct Owed {
        #[diesel(sql_type = BigInt)]
        #[allow(dead_code)]
        person_id: i64,
    }
    let row: Option<Owed> = diesel::sql_query(
        "SELECT person_id FROM welcome_panel WHERE person_id = $1 AND mailed_at IS NULL \
           AND created_at > now() - make_interval(days => $2) FOR UPDATE",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Int4, _>(within_days)
    .get_result(conn)
    .await
    .optional()?;
    Ok(row.is_some())
}

pub async fn mark_welcome_mailed(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<(), DbError> {
    diesel::sql_query("UPDATE welcome_panel SET mailed_at = now() WHERE person_id = $1")
        .bind::<BigInt, _>(person_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Keeps a registration's welcome until an admin decides on it.
pub async fn hold_welcome(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    welcome_post: bool,
) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO welcome_held (person_id, welcome_post) VALUES ($1, $2) \
         ON CONFLICT (person_id) DO UPDATE SET welcome_post = EXCLUDED.welcome_post",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Bool, _>(welcome_post)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes a held welcome: whether the newcomer agreed to a welcome post, or `None` when none
/// was held (registered before welcomes were held, or already taken).
pub async fn take_held_welcome(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<Option<bool>, DbError> {
    #[derive(QueryableByName)]
    struct Held {
        #[diesel(sql_type = Bool)]
        welcome_post: bool,
    }
    let row: Option<Held> =
        diesel::sql_query("DELETE FROM welcome_held WHERE person_id = $1 RETURNING welcome_post")
            .bind::<BigInt, _>(person_id)
            .get_result(conn)
            .await
            .optional()?;
    Ok(row.map(|r| r.welcome_post))
}

/// Whether the member has a welcome panel they have not dismissed.
pub async fn welcome_panel_open(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<bool, DbError> {
    #[derive(QueryableByName)]
    struct Open {
        #[diesel(sql_type = Bool)]
        open: bool,
    }
    let row: Option<Open> = diesel::sql_query(
        "SELECT dismissed_at IS NULL AS open FROM welcome_panel WHERE person_id = $1",
    )
    .bind::<BigInt, _>(person_id)
    .get_result(conn)
    .await
    .optional()?;
    Ok(row.is_some_and(|r| r.open))
}

pub async fn dismiss_welcome_panel(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE welcome_panel SET dismissed_at = now() WHERE person_id = $1 AND dismissed_at IS NULL",
    )
    .bind::<BigInt, _>(person_id)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, QueryableByName)]
pub struct StepRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Int4)]
    pub target: i32,
    #[diesel(sql_type = BigInt)]
    pub points: i64,
    #[diesel(sql_type = Int4)]
    pub position: i32,
}

pub struct StepValues<'a> {
    pub kind: &'a str,
    pub target: i32,
    pub points: i64,
    pub position: i32,
}

const STEP_COLUMNS: &str = "id, kind, target, points, position";

pub async fn steps(conn: &mut AsyncPgConnection) -> Result<Vec<StepRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {STEP_COLUMNS} FROM onboarding_step ORDER BY position, id"
    ))
    .load(conn)
    .await?)
}

/// The steps of `kind` that pay points and that `person_id`, one of our members, has not been
/// paid yet (the ledger's live key `onboarding:{step}:{person}`; see `core::journey`). Empty for
/// remote people, so that their activity arriving by the inbox costs one indexed look-up.
pub async fn unpaid_steps(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    kind: &str,
) -> Result<Vec<StepRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {STEP_COLUMNS} FROM onboarding_step s \
         WHERE s.kind = $2 AND s.points > 0 \
           AND EXISTS (SELECT 1 FROM person p WHERE p.id = $1 AND p.local) \
           AND NOT EXISTS (SELECT 1 FROM points_ledger l \
                 WHERE l.source_key = 'onboarding:' || s.id || ':' || $1 \
                   AND l.reverses IS NULL AND (NOT l.reversed OR l.once)) \
         ORDER BY s.position, s.id"
    ))
    .bind::<BigInt, _>(person_id)
    .bind::<Text, _>(kind)
    .prepared()
    .load(conn)
    .await?)
}

pub async fn insert_step(
    conn: &mut AsyncPgConnection,
    v: &StepValues<'_>,
) -> Result<StepRow, DbError> {
    Ok(diesel::sql_query(format!(
        "INSERT INTO onboarding_step (kind, target, points, position) VALUES ($1, $2, $3, $4) \
         RETURNING {STEP_COLUMNS}"
    ))
    .bind::<Text, _>(v.kind)
    .bind::<Int4, _>(v.target)
    .bind::<BigInt, _>(v.points)
    .bind::<Int4, _>(v.position)
    .get_result(conn)
    .await?)
}

pub async fn update_step(
    conn: &mut AsyncPgConnection,
    id: i64,
    v: &StepValues<'_>,
) -> Result<Option<StepRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "UPDATE onboarding_step SET kind = $2, target = $3, points = $4, position = $5 \
         WHERE id = $1 RETURNING {STEP_COLUMNS}"
    ))
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(v.kind)
    .bind::<Int4, _>(v.target)
    .bind::<BigInt, _>(v.points)
    .bind::<Int4, _>(v.position)
    .get_result(conn)
    .await
    .optional()?)
}

pub async fn delete_step(conn: &mut AsyncPgConnection, id: i64) -> Result<bool, DbError> {
    Ok(
        diesel::sql_query("DELETE FROM onboarding_step WHERE id = $1")
            .bind::<BigInt, _>(id)
            .execute(conn)
            .await?
            == 1,
    )
}

/// What a step of `kind` counts for the member `$1` at the caller's clock `$2`, as one scalar
/// subquery. A post or comment counts while it is up (not deleted, removed, or held for or
/// refused at approval); a like counts where the rewards count it (not on one's own content,
/// not with a weight of 0).
fn step_count_sql(kind: StepKind) -> &'static str {
    match kind {
        StepKind::CompleteProfile => {
            "(SELECT CASE WHEN coalesce(p.display_name, '') <> '' AND coalesce(p.bio, '') <> '' \
                AND coalesce(p.avatar_url, '') <> '' THEN 1::int8 ELSE 0::int8 END \
                FROM person p WHERE p.id = $1)"
        }
        StepKind::JoinGroup => "(SELECT count(*) FROM group_membership WHERE person_id = $1)",
        StepKind::AnswerQuestion => {
            "(SELECT count(*) FROM comment c JOIN post q ON q.id = c.post_id \
                WHERE c.author_id = $1 AND c.deleted_at IS NULL AND c.removed_at IS NULL \
                  AND q.kind = 'question' AND q.author_id <> $1 \
                  AND q.deleted_at IS NULL AND q.removed_at IS NULL AND q.approval IS NULL)"
        }
        StepKind::PostIdea => {
            "(SELECT count(*) FROM post WHERE author_id = $1 AND kind = 'idea' \
                AND deleted_at IS NULL AND removed_at IS NULL AND approval IS NULL)"
        }
        StepKind::AskQuestion => {
            "(SELECT count(*) FROM post WHERE author_id = $1 AND kind = 'question' \
                AND deleted_at IS NULL AND removed_at IS NULL AND approval IS NULL)"
        }
        StepKind::LikeContributions => {
            "(SELECT count(*) FROM vote WHERE person_id = $1 AND value > 0 AND counted)"
        }
        // A certificate in force at the caller's clock (the one that issued and sweeps
        // certificates, not the database's): an expired one finished the course once, not now.
        StepKind::FinishGettingStarted => {
            "(SELECT count(*) FROM certificate t JOIN course c ON c.id = t.course_id \
                WHERE t.person_id = $1 AND c.builtin = 'getting_started' \
                  AND (t.expires_at IS NULL OR t.expires_at > $2))"
        }
    }
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// What every step kind counts for one member at `now` (for the journey page), in one query.
pub async fn step_counts(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<(StepKind, i64)>, DbError> {
    let sql = StepKind::ALL
        .iter()
        .map(|k| {
            format!(
                "SELECT '{}' AS kind, {} AS n",
                k.as_str(),
                step_count_sql(*k)
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let rows: Vec<Counted> = diesel::sql_query(sql)
        .bind::<BigInt, _>(person_id)
        .bind::<Timestamptz, _>(now)
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| StepKind::parse(&r.kind).map(|k| (k, r.n)))
        .collect())
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// What a step of `kind` counts for one member at `now`: only that step's subquery, for the
/// actions that may finish it (a comment need not count likes and memberships).
pub async fn step_count(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    kind: StepKind,
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    let row: Count = diesel::sql_query(format!("SELECT {} AS n", step_count_sql(kind)))
        .bind::<BigInt, _>(person_id)
        .bind::<Timestamptz, _>(now)
        .prepared()
        .get_result(conn)
        .await?;
    Ok(row.n)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct RuleRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub trigger: String,
    #[diesel(sql_type = Int4)]
    pub delay_days: i32,
    #[diesel(sql_type = Text)]
    pub stop_condition: String,
    #[diesel(sql_type = Text)]
    pub subject_fr: String,
    #[diesel(sql_type = Text)]
    pub body_fr: String,
    #[diesel(sql_type = Text)]
    pub subject_en: String,
    #[diesel(sql_type = Text)]
    pub body_en: String,
    #[diesel(sql_type = Bool)]
    pub enabled: bool,
}

pub struct RuleValues<'a> {
    pub trigger: &'a str,
    pub delay_days: i32,
    pub stop_condition: &'a str,
    pub subject_fr: &'a str,
    pub body_fr: &'a str,
    pub subject_en: &'a str,
    pub body_en: &'a str,
    pub enabled: bool,
}

const RULE_COLUMNS: &str =
    "id, trigger, delay_days, stop_condition, subject_fr, body_fr, subject_en, body_en, enabled";

pub async fn rules(conn: &mut AsyncPgConnection) -> Result<Vec<RuleRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {RULE_COLUMNS} FROM onboarding_rule ORDER BY id"
    ))
    .load(conn)
    .await?)
}

pub async fn rule(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<RuleRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {RULE_COLUMNS} FROM onboarding_rule WHERE id = $1"
    ))
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await
    .optional()?)
}

pub async fn insert_rule(
    conn: &mut AsyncPgConnection,
    v: &RuleValues<'_>,
) -> Result<RuleRow, DbError> {
    Ok(diesel::sql_query(format!(
        "INSERT INTO onboarding_rule (trigger, delay_days, stop_condition, subject_fr, body_fr, \
           subject_en, body_en, enabled) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         RETURNING {RULE_COLUMNS}"
    ))
    .bind::<Text, _>(v.trigger)
    .bind::<Int4, _>(v.delay_days)
    .bind::<Text, _>(v.stop_condition)
    .bind::<Text, _>(v.subject_fr)
    .bind::<Text, _>(v.body_fr)
    .bind::<Text, _>(v.subject_en)
    .bind::<Text, _>(v.body_en)
    .bind::<Bool, _>(v.enabled)
    .get_result(conn)
    .await?)
}

pub async fn update_rule(
    conn: &mut AsyncPgConnection,
    id: i64,
    v: &RuleValues<'_>,
) -> Result<Option<RuleRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "UPDATE onboarding_rule SET trigger = $2, delay_days = $3, stop_condition = $4, \
           subject_fr = $5, body_fr = $6, subject_en = $7, body_en = $8, enabled = $9, \
           updated_at = now() WHERE id = $1 RETURNING {RULE_COLUMNS}"
    ))
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(v.trigger)
    .bind::<Int4, _>(v.delay_days)
    .bind::<Text, _>(v.stop_condition)
    .bind::<Text, _>(v.subject_fr)
    .bind::<Text, _>(v.body_fr)
    .bind::<Text, _>(v.subject_en)
    .bind::<Text, _>(v.body_en)
    .bind::<Bool, _>(v.enabled)
    .get_result(conn)
    .await
    .optional()?)
}

pub async fn delete_rule(conn: &mut AsyncPgConnection, id: i64) -> Result<bool, DbError> {
    Ok(
        diesel::sql_query("DELETE FROM onboarding_rule WHERE id = $1")
            .bind::<BigInt, _>(id)
            .execute(conn)
            .await?
            == 1,
    )
}

/// Someone a rule mails now, and since when its trigger holds.
#[derive(Debug, Clone, QueryableByName)]
pub struct RuleRecipient {
    #[diesel(sql_type = BigInt)]
    pub person_id: i64,
    #[diesel(sql_type = Text)]
    pub username: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub display_name: Option<String>,
    #[diesel(sql_type = Text)]
    pub language: String,
    #[diesel(sql_type = Timestamptz)]
    pub since: DateTime<Utc>,
}

/// Whether the stop condition of the rule `rule` (an SQL alias of an `onboarding_rule` row)
/// spares the member `person` (an SQL expression of their id): `has_contributed` spares
/// whoever has a post or comment not deleted. An SQL condition: the one rule of whom a rule
/// does not mail ([`rule_recipients`]) and of whether a triggered mail retried is still wanted
/// (`mail::wanted`). Constants only (`'static`): its text is SQL, never a value from outside.
pub(crate) fn spared_by_stop_condition(rule: &'static str, person: &'static str) -> String {
    format!(
        "({rule}.stop_condition = 'has_contributed' AND ( \
           EXISTS (SELECT 1 FROM post WHERE author_id = {person} AND deleted_at IS NULL) \
           OR EXISTS (SELECT 1 FROM comment WHERE author_id = {person} AND deleted_at IS NULL)))"
    )
}

/// Whom rule `rule_id` mails at `now`: active local members with a verified address who did
/// not turn onboarding mails off (the mail queue's own rules, so nobody is counted as reached
/// whom no mail reaches), whose trigger has held for the rule's delay — for the newcomers'
/// triggers, within 30 days after it, so enabling a rule does not mail years of members —,
/// whom the stop condition does not spare and whom the rule never mailed. The sender and the
/// dry run both ask this, so the preview is exactly what would be sent.
pub async fn rule_recipients(
    conn: &mut AsyncPgConnection,
    rule_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<RuleRecipient>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT u.person_id, p.username, p.display_name, u.language, t.since \
         FROM onboarding_rule r \
         CROSS JOIN local_user u \
         JOIN person p ON p.id = u.person_id \
         CROSS JOIN LATERAL (SELECT CASE r.trigger \
             WHEN 'no_contribution_after_signup' THEN u.created_at \
             WHEN 'first_answer_accepted' THEN \
               (SELECT min(q.accepted_at) FROM post q JOIN comment c ON c.id = q.accepted_comment_id \
                WHERE c.author_id = u.person_id AND q.accepted_at IS NOT NULL) \
             WHEN 'inactive_for' THEN GREATEST(u.created_at, \
               (SELECT max(created_at) FROM post WHERE author_id = u.person_id), \
               (SELECT max(created_at) FROM comment WHERE author_id = u.person_id), \
               (SELECT max(created_at) FROM vote WHERE person_id = u.person_id)) \
           END AS since) t \
         WHERE r.id = $1 AND u.status = 'active' AND t.since IS NOT NULL \
           AND t.since <= $2 - r.delay_days * interval '1 day' \
           AND u.email IS NOT NULL AND u.email_verified_at IS NOT NULL \
           AND NOT EXISTS (SELECT 1 FROM email_opt_out o \
                           WHERE o.person_id = u.person_id AND o.kind = 'onboarding') \
           AND (r.trigger = 'inactive_for' \
                OR t.since > $2 - (r.delay_days + 30) * interval '1 day') \
           AND NOT EXISTS (SELECT 1 FROM onboarding_rule_sent s \
                           WHERE s.rule_id = r.id AND s.person_id = u.person_id) \
           AND NOT {spared} \
         ORDER BY u.person_id",
        spared = spared_by_stop_condition("r", "u.person_id"),
    ))
    .bind::<BigInt, _>(rule_id)
    .bind::<Timestamptz, _>(now)
    .load(conn)
    .await?)
}

/// Records that rule `rule_id` mailed `person_id`; false when it already had (the mail is
/// then not queued again).
pub async fn mark_rule_sent(
    conn: &mut AsyncPgConnection,
    rule_id: i64,
    person_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(diesel::sql_query(
        "INSERT INTO onboarding_rule_sent (rule_id, person_id, sent_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind::<BigInt, _>(rule_id)
    .bind::<BigInt, _>(person_id)
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await?
        == 1)
}

/// The enabled rules' ids, for the periodic task.
pub async fn enabled_rule_ids(conn: &mut AsyncPgConnection) -> Result<Vec<i64>, DbError> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let rows: Vec<Id> =
        diesel::sql_query("SELECT id FROM onboarding_rule WHERE enabled ORDER BY id")
            .load(conn)
            .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}
