//! Certificates: passing every quiz of a course issues one (re-taking the final quiz renews
//! it) and, while valid, gives the course's badge and the membership of the group the course
//! unlocks. Anyone may verify one by its code. Expiry takes the badge and the unlocked
//! membership back through a periodic sweep (`expire_certificate`), not at each check: a member
//! keeps them until the next sweep (every `training.expiry_interval_seconds`).

use crate::{journey, Conn, Context, CoreError};
use cenacle_db::{
    actors, badges, content,
    training::{self as store, CertificateRow, CourseRow, Grant, QuizRow},
};
use cenacle_domain::{
    onboarding::StepKind,
    training::{expiry, is_valid},
};
use chrono::{DateTime, Utc};
use std::future::Future;

/// A certificate as its verification page shows it.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub code: String,
    pub course_id: i64,
    pub course_title_fr: String,
    pub course_title_en: String,
    pub username: String,
    pub display_name: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub valid: bool,
    /// The page anyone can open: `{public base}/certificates/{code}`.
    pub url: String,
}

pub(crate) async fn certificate_view(
    conn: &mut Conn,
    ctx: &Context,
    row: CertificateRow,
) -> Result<Certificate, CoreError> {
    let course = store::course(conn, row.course_id)
        .await?
        .ok_or(CoreError::NotFound("course"))?;
    let person = actors::person_by_id(conn, row.person_id)
        .await?
        .ok_or(CoreError::NotFound("person"))?;
    Ok(Certificate {
        url: format!(
            "{}/certificates/{}",
            ctx.settings.public_base().trim_end_matches('/'),
            row.code
        ),
        code: row.code,
        course_id: course.id,
        course_title_fr: course.title_fr,
        course_title_en: course.title_en,
        username: person.username,
        display_name: person.display_name,
        issued_at: row.issued_at,
        expires_at: row.expires_at,
        valid: is_valid(row.expires_at, Utc::now()),
    })
}

/// Anyone verifies a certificate by its code (expired ones show as such).
pub async fn verify(conn: &mut Conn, ctx: &Context, code: &str) -> Result<Certificate, CoreError> {
    let row = store::certificate_by_code(conn, code)
        .await?
        .ok_or(CoreError::NotFound("certificate"))?;
    certificate_view(conn, ctx, row).await
}

fn new_code() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// After a passed attempt at `quiz`: issues the certificate when every quiz of the course has
/// been passed, or renews it when a certified member passes the final quiz again.
pub(crate) async fn after_pass(
    conn: &mut Conn,
    ctx: &Context,
    quiz: &QuizRow,
    person_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<Certificate>, CoreError> {
    let course = store::course(conn, quiz.course_id)
        .await?
        .ok_or(CoreError::NotFound("course"))?;
    let quizzes = store::quizzes(conn, course.id).await?;
    let existing = store::certificate(conn, course.id, person_id).await?;
    let earned = match &existing {
        Some(_) => quizzes.last().is_some_and(|last| last.id == quiz.id),
        None => {
            let attempts = store::attempts(conn, course.id, person_id).await?;
            quizzes.iter().all(|q| {
                attempts
                    .iter()
                    .any(|a| a.quiz_id == q.id && a.passed == Some(true))
            })
        }
    };
    if !earned {
        return Ok(None);
    }
    let row = store::issue_certificate(
        conn,
        course.id,
        person_id,
        &new_code(),
        now,
        expiry(now, course.validity_days),
    )
    .await?;
    grant_badge(conn, &course, &row).await?;
    unlock(conn, &course, &row).await?;
    // The built-in getting-started course finishes a journey step: paid with the certificate.
    journey::pay_finished_steps_at(conn, person_id, StepKind::FinishGettingStarted, now).await?;
    Ok(Some(certificate_view(conn, ctx, row).await?))
}

/// Awards the course's badge, remembering the award when this certificate made it: someone
/// holding the badge already (from a manager, or from a certificate renewed before the sweep
/// came) keeps that award as it is. A renewal after expiry awards the badge again (the
/// expiry took it, the renewal gives it back); a badge a manager revoked stays revoked until
/// a manager restores it, as for every badge (re-taking a quiz must not undo a revocation for
/// cheating).
async fn grant_badge(
    conn: &mut Conn,
    course: &CourseRow,
    row: &CertificateRow,
) -> Result<(), CoreError> {
    if badges::last_revocation(conn, course.badge_id, row.person_id).await?
        == Some(badges::Revoked::ByHand)
    {
        return Ok(());
    }
    let award = crate::notifications::award_badge(
        conn,
        course.badge_id,
        row.person_id,
        None,
        Some(&course.title_en),
    )
    .await?;
    if award.is_some() {
        store::set_granted(conn, row.id, Grant::BadgeAward, award).await?;
    }
    Ok(())
}

/// Makes the holder a member of the group the course unlocks, remembering that the
/// certificate did it (someone already a member keeps their membership whatever happens to
/// the certificate). Not someone banned from that group: their certificate is issued, without
/// the membership.
async fn unlock(
    conn: &mut Conn,
    course: &CourseRow,
    row: &CertificateRow,
) -> Result<(), CoreError> {
    let Some(group) = course.unlock_group_id else {
        return Ok(());
    };
    if row.granted_group.is_some() {
        return Ok(());
    }
    if !crate::groups::admit_unless_banned(conn, group, row.person_id).await? {
        return Ok(());
    }
    store::set_granted(conn, row.id, Grant::UnlockedGroup, Some(group)).await?;
    Ok(())
}

/// How many expired certificates the sweep lists at a time.
pub const SWEEP_PAGE: i64 = 100;

/// The sweep's next expired certificates still granting something, after `after` (the id the
/// sweep reached), `page` at a time: each is then handled by [`expire_certificate`] in its own
/// transaction.
pub async fn expired_certificates(
    conn: &mut Conn,
    now: DateTime<Utc>,
    after: i64,
    page: i64,
) -> Result<Vec<i64>, CoreError> {
    Ok(store::expired_grant_ids(conn, now, after, page).await?)
}

/// What one pass of the sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Swept {
    /// Certificates whose grants were taken back.
    pub taken_back: usize,
    /// Certificates that could not be taken back (each logged): left for the next pass.
    pub failed: Vec<i64>,
    /// Listing the next page failed (logged): the pass ended there, what it did still stands.
    pub listing_failed: bool,
}

/// One pass of the expiry sweep over every expired certificate still granting something, by
/// id, `page` at a time. The caller runs the transactions (core opens none): `list(after,
/// page)` lists the next page ([`expired_certificates`], outside any transaction) and
/// `expire(id)` takes one certificate back in its own transaction ([`expire_certificate`]).
/// One that fails is logged and left for the next pass: it holds back no other, and the
/// cursor moves past it so that it cannot loop. An error listing ends the pass (the next one
/// starts over); what the pass did before is reported all the same. `page` is at least 1.
pub async fn sweep_expired_certificates<L, LF, X, XF>(
    page: i64,
    mut list: L,
    mut expire: X,
) -> Swept
where
    L: FnMut(i64, i64) -> LF,
    LF: Future<Output = Result<Vec<i64>, CoreError>>,
    X: FnMut(i64) -> XF,
    XF: Future<Output = Result<bool, CoreError>>,
{
    assert!(page > 0, "a sweep page holds at least one certificate");
    let mut swept = Swept::default();
    let mut after = 0;
    loop {
        let ids = match list(after, page).await {
            Ok(ids) => ids,
            Err(err) => {
                tracing::error!(error = %err, after, "listing expired certificates failed");
                swept.listing_failed = true;
                return swept;
            }
        };
        for &id in &ids {
            match expire(id).await {
                Ok(true) => swept.taken_back += 1,
                // Nothing left to take back, or another server's sweep holds it.
                Ok(false) => {}
                Err(err) => {
                    tracing::error!(
                        certificate = id,
                        error = %err,
                        "taking back an expired certificate's badge and membership failed"
                    );
                    swept.failed.push(id);
                }
            }
        }
        // A short page is the last one: no need to ask for an empty one.
        match ids.last() {
            Some(&last) if ids.len() as i64 >= page => after = last,
            _ => return swept,
        }
    }
}

/// Takes back the badge and the membership an expired certificate gave (a member promoted
/// since, to moderator or owner, keeps their place). One certificate per transaction: one
/// that fails is rolled back alone, and the sweep goes on with the others. False when there
/// was nothing (left) to take back, or another server's sweep holds it.
pub async fn expire_certificate(
    conn: &mut Conn,
    certificate_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, CoreError> {
    let Some(grant) = store::claim_expired_grant(conn, certificate_id, now).await? else {
        return Ok(false);
    };
    let row = &grant.certificate;
    if let Some(group) = row.granted_group {
        take_back_membership(conn, row, group, now).await?;
    }
    if let Some(award) = row.granted_badge_award {
        take_back_badge(conn, row, (grant.badge_id, award), now).await?;
    }
    Ok(true)
}

async fn take_back_membership(
    conn: &mut Conn,
    row: &CertificateRow,
    group: i64,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    // Another valid certificate unlocks the same group: the membership is its now.
    let grant = (Grant::UnlockedGroup, group);
    if let Some(other) = store::other_valid_grant(conn, row.person_id, grant, row.id, now).await? {
        store::set_granted(conn, other, Grant::UnlockedGroup, Some(group)).await?;
    } else if content::membership_role(conn, group, row.person_id)
        .await?
        .as_deref()
        == Some("member")
    {
        content::remove_membership(conn, group, row.person_id).await?;
    }
    store::set_granted(conn, row.id, Grant::UnlockedGroup, None).await?;
    Ok(())
}

/// Revokes the badge award the certificate made, as a manager's revocation does (kept in the
/// badge's history, with its reason, and off as a title), unless another certificate still
/// valid awards the same badge: the award is that one's now. An award revoked or replaced
/// since (a manager's hand) is not this certificate's to touch.
async fn take_back_badge(
    conn: &mut Conn,
    row: &CertificateRow,
    (badge_id, award): (i64, i64),
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    let grant = (Grant::BadgeAward, badge_id);
    if let Some(other) = store::other_valid_grant(conn, row.person_id, grant, row.id, now).await? {
        store::set_granted(conn, other, Grant::BadgeAward, Some(award)).await?;
    } else if badges::live_award(conn, badge_id, row.person_id).await? == Some(award) {
        badges::revoke(
            conn,
            badge_id,
            row.person_id,
            badges::Revoker::CertificateExpiry,
            CERTIFICATE_EXPIRED,
            now,
        )
        .await?;
    }
    store::set_granted(conn, row.id, Grant::BadgeAward, None).await?;
    Ok(())
}

/// The reason a badge's history gives when a certificate's expiry revoked it.
pub const CERTIFICATE_EXPIRED: &str = "certificate expired";
