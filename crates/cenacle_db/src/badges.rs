//! Badges and their awards.

use crate::{
    schema::{badge, badge_award, person},
    DbError, PrepareOnce,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = badge)]
pub struct Badge {
    pub id: i64,
    pub slug: String,
    pub tier: String,
    pub name_en: String,
    pub name_fr: String,
    pub description_en: String,
    pub description_fr: String,
    pub honorific: bool,
}

pub async fn catalogue(conn: &mut AsyncPgConnection) -> Result<Vec<Badge>, DbError> {
    Ok(badge::table
        .order(badge::id.asc())
        .select(Badge::as_select())
        .load(conn)
        .await?)
}

pub async fn badge_by_slug(
    conn: &mut AsyncPgConnection,
    slug: &str,
) -> Result<Option<Badge>, DbError> {
    Ok(badge::table
        .filter(badge::slug.eq(slug))
        .select(Badge::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn badge_by_id(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<Badge>, DbError> {
    Ok(badge::table
        .find(id)
        .select(Badge::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Awards a badge unless the person holds it already; returns the new award, `None` when they
/// held it.
pub async fn award(
    conn: &mut AsyncPgConnection,
    badge_id: i64,
    person_id: i64,
    by: Option<i64>,
    reason: Option<&str>,
) -> Result<Option<i64>, DbError> {
    Ok(diesel::insert_into(badge_award::table)
        .values((
            badge_award::badge_id.eq(badge_id),
            badge_award::person_id.eq(person_id),
            badge_award::awarded_by.eq(by),
            badge_award::reason.eq(reason),
        ))
        .on_conflict_do_nothing()
        .returning(badge_award::id)
        .get_result(conn)
        .await
        .optional()?)
}

/// The award by which the person holds this badge now, if they do.
pub async fn live_award(
    conn: &mut AsyncPgConnection,
    badge_id: i64,
    person_id: i64,
) -> Result<Option<i64>, DbError> {
    Ok(badge_award::table
        .filter(badge_award::badge_id.eq(badge_id))
        .filter(badge_award::person_id.eq(person_id))
        .filter(badge_award::revoked_at.is_null())
        .select(badge_award::id)
        .first(conn)
        .await
        .optional()?)
}

/// Who ends an award: a manager, by hand, or a certificate's expiry (no one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoker {
    Manager(i64),
    CertificateExpiry,
}

/// How a person's last award of a badge ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// By anything but a certificate's expiry: a manager, a programme ending (the champions
    /// badge), a revoker whose account is gone since.
    ByHand,
    /// By the expiry of the certificate that awarded it.
    OnExpiry,
}

/// Revokes a held badge at `at`, the caller's clock (and takes it off as a title); false when
/// not held.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    badge_id: i64,
    person_id: i64,
    by: Revoker,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbError> {
    let n = diesel::update(
        badge_award::table
            .filter(badge_award::badge_id.eq(badge_id))
            .filter(badge_award::person_id.eq(person_id))
            .filter(badge_award::revoked_at.is_null()),
    )
    .set((
        badge_award::revoked_at.eq(at),
        badge_award::revoked_by.eq(match by {
            Revoker::Manager(manager) => Some(manager),
            Revoker::CertificateExpiry => None,
        }),
        badge_award::revoked_on_expiry.eq(by == Revoker::CertificateExpiry),
        badge_award::revoke_reason.eq(reason),
    ))
    .execute(conn)
    .await?;
    diesel::update(
        person::table
            .find(person_id)
            .filter(person::title_badge_id.eq(badge_id)),
    )
    .set(person::title_badge_id.eq(None::<i64>))
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// Badges a person holds now, with when they were awarded.
pub async fn held(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<Vec<(Badge, DateTime<Utc>)>, DbError> {
    Ok(badge_award::table
        .inner_join(badge::table)
        .filter(badge_award::person_id.eq(person_id))
        .filter(badge_award::revoked_at.is_null())
        .order(badge_award::created_at.asc())
        .select((Badge::as_select(), badge_award::created_at))
        .load(conn)
        .await?)
}

/// The slugs of the badges a person holds or held (revoked since): an automatic badge
/// revoked is not awarded again by its rule.
pub async fn ever_awarded(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<Vec<String>, DbError> {
    Ok(badge_award::table
        .inner_join(badge::table)
        .filter(badge_award::person_id.eq(person_id))
        .select(badge::slug)
        .distinct()
        .load(conn)
        .await?)
}

/// How the person's last award of this badge ended, when it was revoked and they hold no
/// other: None when they hold it or never had it. (An award is made only while none is held,
/// so a live award is always the last.)
pub async fn last_revocation(
    conn: &mut AsyncPgConnection,
    badge_id: i64,
    person_id: i64,
) -> Result<Option<Revoked>, DbError> {
    let last: Option<(bool, bool)> = badge_award::table
        .filter(badge_award::badge_id.eq(badge_id))
        .filter(badge_award::person_id.eq(person_id))
        // By id, not by `created_at` (a transaction's start): the newest award is the last.
        .order(badge_award::id.desc())
        .select((
            badge_award::revoked_at.is_not_null(),
            badge_award::revoked_on_expiry,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(match last {
        Some((true, true)) => Some(Revoked::OnExpiry),
        Some((true, false)) => Some(Revoked::ByHand),
        _ => None,
    })
}

pub async fn set_title(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    badge_id: Option<i64>,
) -> Result<(), DbError> {
    diesel::update(person::table.find(person_id))
        .set(person::title_badge_id.eq(badge_id))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn title(conn: &mut AsyncPgConnection, person_id: i64) -> Result<Option<Badge>, DbError> {
    let id: Option<i64> = person::table
        .find(person_id)
        .select(person::title_badge_id)
        .first(conn)
        .await?;
    match id {
        Some(id) => Ok(badge::table
            .find(id)
            .select(Badge::as_select())
            .first(conn)
            .await
            .optional()?),
        None => Ok(None),
    }
}

/// The longest run of consecutive visit days ending today (from the daily-visit points).
pub async fn visit_streak(conn: &mut AsyncPgConnection, person_id: i64) -> Result<i64, DbError> {
    #[derive(QueryableByName)]
    struct Streak {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        days: i64,
    }
    let s: Streak = diesel::sql_query(
        "WITH days AS (SELECT DISTINCT created_at::date AS day FROM points_ledger \
                       WHERE person_id = $1 AND reason = 'daily_visit'), \
              runs AS (SELECT day, day - (ROW_NUMBER() OVER (ORDER BY day))::int AS run FROM days) \
         SELECT COALESCE((SELECT count(*) FROM runs WHERE run = (SELECT run FROM runs WHERE day = current_date)), 0)::bigint AS days",
    )
    .bind::<diesel::sql_types::BigInt, _>(person_id)
    .prepared()
    .get_result(conn)
    .await?;
    Ok(s.days)
}

/// Whether one of the person's ideas reached "done" (and still stands: a deleted or removed
/// idea counts no more than for the other badges).
pub async fn has_done_idea(conn: &mut AsyncPgConnection, person_id: i64) -> Result<bool, DbError> {
    use crate::schema::post;
    let n: i64 = post::table
        .filter(post::author_id.eq(person_id))
        .filter(post::idea_status.eq("done"))
        .filter(post::deleted_at.is_null())
        .filter(post::removed_at.is_null())
        .count()
        .get_result(conn)
        .await?;
    Ok(n > 0)
}

pub async fn question_count(conn: &mut AsyncPgConnection, person_id: i64) -> Result<i64, DbError> {
    use crate::schema::post;
    Ok(post::table
        .filter(post::author_id.eq(person_id))
        .filter(post::kind.eq("question"))
        .filter(post::deleted_at.is_null())
        .filter(post::removed_at.is_null())
        .filter(post::approval.is_null())
        .count()
        .get_result(conn)
        .await?)
}
