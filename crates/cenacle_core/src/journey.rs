//! The onboarding journey: steps community managers configure (complete the profile, join a
//! group, answer a question, post an idea, like three contributions…), each member's progress
//! computed from facts, and each step's points paid once through the points ledger (source
//! key per step and member: doing it again, or undoing and redoing, never pays twice).

use crate::{
    caller::{require, Session},
    Conn, CoreError,
};
use cenacle_db::{
    builtin_courses,
    engagement::{self as ledger, Content, NewPoints},
    onboarding::{self as store, StepRow, StepValues},
};
use cenacle_domain::{
    onboarding::{step_done, StepKind, MAX_STEP_POINTS, MAX_STEP_TARGET},
    Permission, ValidationError,
};
use chrono::{DateTime, Utc};

pub use cenacle_db::onboarding::StepRow as Step;

#[derive(Debug, Clone)]
pub struct StepInput {
    pub kind: String,
    pub target: i32,
    pub points: i64,
    pub position: i32,
}

fn check(input: &StepInput) -> Result<StepValues<'_>, CoreError> {
    let invalid = |field, code| CoreError::Validation(ValidationError { field, code });
    let kind = StepKind::parse(&input.kind).ok_or(invalid("kind", "unknown_step_kind"))?;
    if !(1..=MAX_STEP_TARGET).contains(&input.target) {
        return Err(invalid("target", "out_of_range"));
    }
    if !(0..=MAX_STEP_POINTS).contains(&input.points) {
        return Err(invalid("points", "out_of_range"));
    }
    Ok(StepValues {
        kind: kind.as_str(),
        target: input.target,
        points: input.points,
        position: input.position,
    })
}

pub async fn list_steps(conn: &mut Conn, session: &Session) -> Result<Vec<Step>, CoreError> {
    require(session, Permission::ManageOnboarding)?;
    Ok(store::steps(conn).await?)
}

pub async fn create_step(
    conn: &mut Conn,
    session: &Session,
    input: &StepInput,
) -> Result<Step, CoreError> {
    require(session, Permission::ManageOnboarding)?;
    Ok(store::insert_step(conn, &check(input)?).await?)
}

pub async fn update_step(
    conn: &mut Conn,
    session: &Session,
    id: i64,
    input: &StepInput,
) -> Result<Step, CoreError> {
    require(session, Permission::ManageOnboarding)?;
    store::update_step(conn, id, &check(input)?)
        .await?
        .ok_or(CoreError::NotFound("onboarding_step"))
}

pub async fn delete_step(conn: &mut Conn, session: &Session, id: i64) -> Result<(), CoreError> {
    require(session, Permission::ManageOnboarding)?;
    if store::delete_step(conn, id).await? {
        Ok(())
    } else {
        Err(CoreError::NotFound("onboarding_step"))
    }
}

/// How far the member got in one step.
#[derive(Debug, Clone)]
pub struct StepProgress {
    pub id: i64,
    pub kind: StepKind,
    pub target: i32,
    /// Capped at the target.
    pub count: i64,
    pub done: bool,
    pub points: i64,
}

/// The member's journey, step by step, measured at `now` (the caller's clock). Steps are paid
/// by the actions that finish them ([`pay_finished_steps`]); paying here too settles steps
/// finished before the step existed or by a path that does not pay (once per step and member,
/// ever: the ledger's source key).
pub async fn my_progress(
    conn: &mut Conn,
    session: &Session,
    now: DateTime<Utc>,
) -> Result<Vec<StepProgress>, CoreError> {
    let person_id = session.account.person_id;
    let counts = store::step_counts(conn, person_id, now).await?;
    // A step nobody can finish is not shown: the getting-started course withdrawn or gone.
    let course_open = builtin_courses::builtin_course(conn, builtin_courses::GETTING_STARTED)
        .await?
        .is_some();
    let mut progress = Vec::new();
    let mut locked = false;
    for step in store::steps(conn).await? {
        let Some(kind) = StepKind::parse(&step.kind) else {
            continue;
        };
        if kind == StepKind::FinishGettingStarted && !course_open {
            continue;
        }
        let n = counts
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, n)| *n);
        let done = step_done(n, step.target);
        if done && step.points > 0 {
            if !locked {
                ledger::lock_points(conn, person_id).await?;
                locked = true;
            }
            pay(conn, person_id, &step, kind).await?;
        }
        progress.push(StepProgress {
            id: step.id,
            kind,
            target: step.target,
            count: n.min(i64::from(step.target)),
            done,
            points: step.points,
        });
    }
    Ok(progress)
}

async fn pay(
    conn: &mut Conn,
    person_id: i64,
    step: &StepRow,
    kind: StepKind,
) -> Result<(), CoreError> {
    let reason = format!("onboarding: {}", kind.as_str());
    let source_key = format!("onboarding:{}:{person_id}", step.id);
    ledger::record_points_entry(
        conn,
        &NewPoints {
            person_id,
            delta: step.points,
            reason: &reason,
            source_key: &source_key,
            granted_by: None,
            capped: false,
            once: true,
            content: Content::default(),
        },
    )
    .await?;
    Ok(())
}

/// Pays the steps of `kind` that `person_id` has just finished, in the transaction of the
/// action that finished them (a post, an answer, a like, a join, a profile saved), so that a
/// member is paid whether or not they ever open their journey. Cheap when nothing is owed
/// (one indexed query, and none of the counting for remote people or steps already paid).
/// For the steps that count no time; a certificate's step is paid at the issuer's clock
/// ([`pay_finished_steps_at`]).
pub(crate) async fn pay_finished_steps(
    conn: &mut Conn,
    person_id: i64,
    kind: StepKind,
) -> Result<(), CoreError> {
    pay_finished_steps_at(conn, person_id, kind, Utc::now()).await
}

/// [`pay_finished_steps`] counting at `now`, the clock of the action that finished the step
/// (a certificate issued at `now` is in force at `now`, whatever the database's clock says).
pub(crate) async fn pay_finished_steps_at(
    conn: &mut Conn,
    person_id: i64,
    kind: StepKind,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    let owed = store::unpaid_steps(conn, person_id, kind.as_str()).await?;
    if owed.is_empty() {
        return Ok(());
    }
    let n = store::step_count(conn, person_id, kind, now).await?;
    let finished: Vec<&StepRow> = owed.iter().filter(|s| step_done(n, s.target)).collect();
    if finished.is_empty() {
        return Ok(());
    }
    // The member's points row first, as every points writer takes it (`rewards::lock_people`,
    // the journey page): paying takes the step's ledger key and then this row, and two
    // payers taking them in opposite orders would deadlock.
    ledger::lock_points(conn, person_id).await?;
    for step in finished {
        pay(conn, person_id, step, kind).await?;
    }
    Ok(())
}
