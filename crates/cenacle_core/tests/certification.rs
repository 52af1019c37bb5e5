//! Certification cycles at the application's clock (the `now` every training action takes):
//! expiry takes back the badge a certificate gave and a renewal gives it again; the quiz
//! cool-down is reckoned on the clock that wrote the attempt times; an attempt left open
//! when the certificate was issued counts in the next cycle.

mod common;

use cenacle_core::{
    accounts::Session,
    badges, certificates, champions,
    courses::{self, ChoiceInput, CourseInput, LessonInput, QuestionInput, QuizInput},
    getting_started, group_bans,
    quizzes::{self, AttemptResult, OpenAttempt},
    Caller, CoreError, ScopedFutureExt,
};
use cenacle_db::{content, onboarding, training};
use cenacle_domain::{
    onboarding::StepKind,
    training::{Answer, TrainingRefusal},
    Role,
};
use chrono::{DateTime, Duration, DurationRound, Utc};
use common::World;
use diesel_async::RunQueryDsl;

const HOUR: i32 = 3600;

/// A course of `quizzes` quizzes (one question each: "right" or "wrong"), valid `days` days.
fn course_input(group_name: &str, quizzes: i32, days: i32) -> CourseInput {
    CourseInput {
        title_fr: format!("Cours {group_name}"),
        title_en: format!("Course {group_name}"),
        summary_fr: String::new(),
        summary_en: String::new(),
        cover_media_id: None,
        published: true,
        audience: "everyone".into(),
        audience_group: None,
        audience_reputation: None,
        audience_badge: None,
        validity_days: Some(days),
        unlock_group: None,
        prerequisites: vec![],
        group_name: group_name.into(),
        lessons: vec![LessonInput {
            position: 1,
            title_fr: "Leçon".into(),
            title_en: "Lesson".into(),
            body_fr: String::new(),
            body_en: String::new(),
            minutes: 5,
        }],
        quizzes: (1..=quizzes)
            .map(|position| QuizInput {
                position,
                after_lesson: None,
                title_fr: format!("Quiz {position}"),
                title_en: format!("Quiz {position}"),
                pass_mark: 100,
                max_attempts: Some(5),
                cool_down_seconds: HOUR,
                questions: vec![QuestionInput {
                    kind: "single".into(),
                    prompt_fr: "Laquelle ?".into(),
                    prompt_en: "Which?".into(),
                    explanation_fr: String::new(),
                    explanation_en: String::new(),
                    numeric_answer: None,
                    numeric_tolerance: 0.0,
                    choices: vec![
                        ChoiceInput {
                            label_fr: "juste".into(),
                            label_en: "right".into(),
                            correct: true,
                        },
                        ChoiceInput {
                            label_fr: "faux".into(),
                            label_en: "wrong".into(),
                            correct: false,
                        },
                    ],
                }],
            })
            .collect(),
    }
}

/// The course written by `trainer`: its id, its quizzes' ids in order, its badge's slug.
async fn create(w: &World, trainer: &Session, input: CourseInput) -> (i64, Vec<i64>, String) {
    let slug = format!("course-{}", input.group_name);
    let prepared = courses::prepare_course(&w.ctx, trainer, input)
        .await
        .unwrap();
    let course = w
        .act(|conn, _| {
            async move { courses::create_course(conn, trainer, &prepared).await }.scope_boxed()
        })
        .await
        .unwrap();
    (
        course.row.id,
        course.quizzes.iter().map(|q| q.id).collect(),
        slug,
    )
}

async fn enrol(w: &World, learner: &Caller, course: i64, now: DateTime<Utc>) {
    w.act(|conn, _| async move { courses::enrol(conn, learner, course, now).await }.scope_boxed())
        .await
        .unwrap();
}

async fn start(
    w: &World,
    learner: &Caller,
    quiz: i64,
    now: DateTime<Utc>,
) -> Result<OpenAttempt, CoreError> {
    w.act(|conn, _| {
        async move { quizzes::start_attempt(conn, learner, quiz, now).await }.scope_boxed()
    })
    .await
}

/// Submits the open attempt, answering "right" or "wrong".
async fn submit(
    w: &World,
    learner: &Caller,
    open: &OpenAttempt,
    right: bool,
    now: DateTime<Utc>,
) -> AttemptResult {
    let label = if right { "right" } else { "wrong" };
    let answers: Vec<(i64, Answer)> = open
        .questions
        .iter()
        .map(|q| {
            let choice = q.choices.iter().find(|c| c.label_en == label).unwrap();
            (q.id, Answer::Choices(vec![choice.id]))
        })
        .collect();
    let id = open.attempt.id;
    w.act(|conn, ctx| {
        async move { quizzes::submit_attempt(conn, ctx, learner, id, &answers, now).await }
            .scope_boxed()
    })
    .await
    .unwrap()
}

/// Starts an attempt and submits it at once.
async fn take(
    w: &World,
    learner: &Caller,
    quiz: i64,
    right: bool,
    now: DateTime<Utc>,
) -> AttemptResult {
    let open = start(w, learner, quiz, now).await.unwrap();
    submit(w, learner, &open, right, now).await
}

/// Enrols `learner` in `course` and passes its one quiz at `now`: certified.
async fn certify(w: &World, learner: &Caller, course: i64, quiz: i64, now: DateTime<Utc>) {
    enrol(w, learner, course, now).await;
    let result = take(w, learner, quiz, true, now).await;
    assert!(result.certificate.is_some(), "certified");
}

/// One pass of the expiry sweep at `now`, `page` certificates listed at a time, as the server
/// runs it (listing on a plain connection, each certificate in its own transaction), except
/// that taking back the certificates in `failing` fails. Returns the pass's account and how
/// many pages it listed.
async fn sweep_pass(
    w: &World,
    now: DateTime<Utc>,
    page: i64,
    failing: &[i64],
) -> (certificates::Swept, usize) {
    let mut listed = 0;
    let swept = certificates::sweep_expired_certificates(
        page,
        |after, page| {
            listed += 1;
            async move {
                let mut conn = w.ctx.conn().await?;
                certificates::expired_certificates(&mut conn, now, after, page).await
            }
        },
        |id| async move {
            if failing.contains(&id) {
                return Err(CoreError::Conflict("this certificate cannot be taken back"));
            }
            w.act(|conn, _| {
                async move { certificates::expire_certificate(conn, id, now).await }.scope_boxed()
            })
            .await
        },
    )
    .await;
    assert!(!swept.listing_failed);
    (swept, listed)
}

/// Runs the expiry sweep at `now` as the server does, and checks it left nothing behind.
async fn sweep(w: &World, now: DateTime<Utc>) {
    let (swept, _) = sweep_pass(w, now, certificates::SWEEP_PAGE, &[]).await;
    assert!(swept.failed.is_empty());
    assert_eq!(
        expired(w, now).await,
        Vec::<i64>::new(),
        "a certificate handled is not found again"
    );
}

/// The certificates the sweep would take grants back from at `now`.
async fn expired(w: &World, now: DateTime<Utc>) -> Vec<i64> {
    let mut conn = w.ctx.conn().await.unwrap();
    certificates::expired_certificates(&mut conn, now, 0, certificates::SWEEP_PAGE)
        .await
        .unwrap()
}

async fn held(w: &World, person: i64) -> Vec<String> {
    let mut conn = w.ctx.conn().await.unwrap();
    cenacle_db::badges::held(&mut conn, person)
        .await
        .unwrap()
        .into_iter()
        .map(|(b, _)| b.slug)
        .collect()
}

async fn title(w: &World, person: i64) -> Option<String> {
    let mut conn = w.ctx.conn().await.unwrap();
    cenacle_db::badges::title(&mut conn, person)
        .await
        .unwrap()
        .map(|b| b.slug)
}

/// The badge's history for the person: (revoked, revoked by someone, reason) per award.
async fn history(w: &World, person: i64, slug: &str) -> Vec<(bool, bool, Option<String>)> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        revoked: bool,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        by_someone: bool,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        revoke_reason: Option<String>,
    }
    let mut conn = w.ctx.conn().await.unwrap();
    diesel::sql_query(
        "SELECT a.revoked_at IS NOT NULL AS revoked, a.revoked_by IS NOT NULL AS by_someone, \
           a.revoke_reason FROM badge_award a JOIN badge b ON b.id = a.badge_id \
         WHERE a.person_id = $1 AND b.slug = $2 ORDER BY a.id",
    )
    .bind::<diesel::sql_types::BigInt, _>(person)
    .bind::<diesel::sql_types::Text, _>(slug)
    .load::<Row>(&mut conn)
    .await
    .unwrap()
    .into_iter()
    .map(|r| (r.revoked, r.by_someone, r.revoke_reason))
    .collect()
}

#[tokio::test]
async fn an_expired_certificate_takes_its_badge_back_and_a_renewal_gives_it_again() {
    let w = World::new().await;
    let trainer = w.member("tina", Role::Staff).await;
    let manager = w.member("manon", Role::CommunityManager).await;
    let marie_session = w.member("marie", Role::Member).await;
    let paul_session = w.member("paul", Role::Member).await;
    let marie = Caller::from(&marie_session);
    let paul = Caller::from(&paul_session);
    let (course, quizzes, slug) = create(&w, &trainer, course_input("basics", 1, 30)).await;
    let quiz = quizzes[0];
    let t0 = Utc::now();

    // Marie is certified, holds the badge and wears it as her title.
    certify(&w, &marie, course, quiz, t0).await;
    assert_eq!(held(&w, marie.person_id).await, [slug.as_str()]);
    let wear = slug.clone();
    w.act(|conn, _| {
        async move { badges::set_title(conn, &marie, Some(&wear)).await }.scope_boxed()
    })
    .await
    .unwrap();

    // Paul had the badge from a manager's hand before he was certified: that award is not
    // the certificate's, and outlives it.
    let (paul_id, paul_slug) = (paul.person_id, slug.clone());
    w.act(|conn, _| {
        async move { badges::award_badge(conn, &manager, paul_id, &paul_slug, None).await }
            .scope_boxed()
    })
    .await
    .unwrap();
    certify(&w, &paul, course, quiz, t0).await;

    // Still valid the day before: nothing changes.
    sweep(&w, t0 + Duration::days(29)).await;
    assert_eq!(held(&w, marie.person_id).await, [slug.as_str()]);

    // Expired: the sweep revokes it as a revocation by hand would (history, reason, title),
    // by no one.
    let expired = t0 + Duration::days(30) + Duration::seconds(1);
    sweep(&w, expired).await;
    assert!(held(&w, marie.person_id).await.is_empty());
    assert_eq!(title(&w, marie.person_id).await, None);
    assert_eq!(
        history(&w, marie.person_id, &slug).await,
        [(
            true,
            false,
            Some(certificates::CERTIFICATE_EXPIRED.to_owned())
        )]
    );
    assert_eq!(held(&w, paul.person_id).await, [slug.as_str()]);

    // Renewal (re-taking the final quiz) is an explicit re-award: the badge comes back.
    let renewed = t0 + Duration::days(31);
    assert!(take(&w, &marie, quiz, true, renewed)
        .await
        .certificate
        .is_some());
    assert_eq!(held(&w, marie.person_id).await, [slug.as_str()]);
    // ...and the renewed certificate takes it back at its own expiry.
    sweep(&w, renewed + Duration::days(29)).await;
    assert_eq!(held(&w, marie.person_id).await, [slug.as_str()]);
    sweep(&w, renewed + Duration::days(30) + Duration::seconds(1)).await;
    assert!(held(&w, marie.person_id).await.is_empty());
    assert_eq!(history(&w, marie.person_id, &slug).await.len(), 2);
}

#[tokio::test]
async fn a_badge_two_certificates_award_lasts_as_long_as_one_is_valid() {
    let w = World::new().await;
    let trainer = w.member("tina", Role::Staff).await;
    let marie_session = w.member("marie", Role::Member).await;
    let marie = Caller::from(&marie_session);
    let (short, short_quizzes, slug) = create(&w, &trainer, course_input("short", 1, 30)).await;
    let (long, long_quizzes, _) = create(&w, &trainer, course_input("long", 1, 60)).await;
    // Both courses award the same badge.
    {
        let mut conn = w.ctx.conn().await.unwrap();
        diesel::sql_query(format!(
            "UPDATE course SET badge_id = (SELECT badge_id FROM course WHERE id = {short}) \
             WHERE id = {long}"
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let t0 = Utc::now();
    for (course, quiz) in [(short, short_quizzes[0]), (long, long_quizzes[0])] {
        certify(&w, &marie, course, quiz, t0).await;
    }
    assert_eq!(held(&w, marie.person_id).await, [slug.as_str()]);
    // The short one expires: the long one still awards the badge.
    sweep(&w, t0 + Duration::days(30) + Duration::seconds(1)).await;
    assert_eq!(held(&w, marie.person_id).await, [slug.as_str()]);
    // Both expired: gone.
    sweep(&w, t0 + Duration::days(60) + Duration::seconds(1)).await;
    assert!(held(&w, marie.person_id).await.is_empty());
}

/// The database keeps microseconds: a time read back from it compares with this.
fn stored(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::microseconds(1)).unwrap()
}

/// The cool-down's end, or the refusal's absence.
async fn cooling_until(
    w: &World,
    learner: &Caller,
    quiz: i64,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match start(w, learner, quiz, now).await {
        Ok(_) => None,
        Err(CoreError::Training(TrainingRefusal::CoolingDown { until })) => Some(until),
        Err(other) => panic!("{other}"),
    }
}

#[tokio::test]
async fn the_cool_down_is_reckoned_on_the_clock_that_wrote_the_attempt() {
    let w = World::new().await;
    let trainer = w.member("tina", Role::Staff).await;
    let marie_session = w.member("marie", Role::Member).await;
    let marie = Caller::from(&marie_session);
    let (course, quizzes, _) = create(&w, &trainer, course_input("clock", 1, 30)).await;
    // The application's clock, three days ahead of the database's: every training action
    // takes its `now`, and the attempt's times are written from it.
    let t = Utc::now() + Duration::days(3);
    enrol(&w, &marie, course, t).await;
    let open = start(&w, &marie, quizzes[0], t).await.unwrap();
    assert_eq!(open.attempt.started_at, stored(t));
    let failed = submit(&w, &marie, &open, false, t).await;
    assert_eq!(failed.attempt.submitted_at, Some(stored(t)));
    // Ten minutes later on that clock the cool-down holds, until an hour after the failure.
    assert_eq!(
        cooling_until(&w, &marie, quizzes[0], t + Duration::minutes(10)).await,
        Some(stored(t) + Duration::hours(1))
    );
    assert_eq!(
        cooling_until(&w, &marie, quizzes[0], t + Duration::minutes(61)).await,
        None
    );
}

#[tokio::test]
async fn an_attempt_left_open_at_certification_counts_in_the_next_cycle() {
    let w = World::new().await;
    let trainer = w.member("tina", Role::Staff).await;
    let marie_session = w.member("marie", Role::Member).await;
    let marie = Caller::from(&marie_session);
    let (course, quizzes, _) = create(&w, &trainer, course_input("cycle", 2, 30)).await;
    let (first, last) = (quizzes[0], quizzes[1]);
    let t = Utc::now();
    enrol(&w, &marie, course, t).await;
    assert!(take(&w, &marie, first, true, t).await.certificate.is_none());
    // Another go at the first quiz, left open while the final quiz certifies her.
    let open = start(&w, &marie, first, t + Duration::minutes(1))
        .await
        .unwrap();
    assert!(take(&w, &marie, last, true, t + Duration::minutes(2))
        .await
        .certificate
        .is_some());
    // Submitted after the certificate, it is an attempt of the new cycle: its failure holds
    // the next one back like any other.
    submit(&w, &marie, &open, false, t + Duration::minutes(3)).await;
    assert_eq!(
        cooling_until(&w, &marie, first, t + Duration::minutes(4)).await,
        Some(stored(t + Duration::minutes(3)) + Duration::hours(1))
    );
}

#[tokio::test]
async fn the_getting_started_step_counts_a_certificate_in_force_only() {
    let w = World::new().await;
    // The built-in course, as a server writes it at its first start.
    let group = {
        let mut conn = w.ctx.conn().await.unwrap();
        getting_started::getting_started_owed(&mut conn)
            .await
            .unwrap()
            .unwrap()
    };
    let prepared = getting_started::prepare_getting_started(&w.ctx, &group)
        .await
        .unwrap();
    let course = w
        .ctx
        .transaction(|conn| getting_started::write_getting_started(conn, &prepared).scope_boxed())
        .await
        .unwrap()
        .unwrap();
    let marie = w.member("marie", Role::Member).await.account.person_id;
    let mut conn = w.ctx.conn().await.unwrap();
    let now = Utc::now();
    // A certificate of it that expired (issued when the course had a validity): not done.
    training::issue_certificate(
        &mut conn,
        course,
        marie,
        "expired-getting-started",
        now - Duration::days(40),
        Some(now - Duration::days(10)),
    )
    .await
    .unwrap();
    let finished = onboarding::step_count(&mut conn, marie, StepKind::FinishGettingStarted, now);
    assert_eq!(finished.await.unwrap(), 0);
    // Renewed, in force: done.
    training::issue_certificate(
        &mut conn,
        course,
        marie,
        "unused",
        now,
        Some(now + Duration::days(30)),
    )
    .await
    .unwrap();
    let finished = onboarding::step_count(&mut conn, marie, StepKind::FinishGettingStarted, now);
    assert_eq!(finished.await.unwrap(), 1);
    // On the caller's clock, a minute after the renewal expired, it is not in force any more,
    // though the database's own clock still sees it in force: the count follows the caller's
    // clock, the one that issued the certificate and sweeps it.
    let later = now + Duration::days(30) + Duration::minutes(1);
    let finished = onboarding::step_count(&mut conn, marie, StepKind::FinishGettingStarted, later);
    assert_eq!(finished.await.unwrap(), 0);
    let counts = onboarding::step_counts(&mut conn, marie, later)
        .await
        .unwrap();
    assert!(
        counts.contains(&(StepKind::FinishGettingStarted, 0)),
        "{counts:?}"
    );
}

/// A course badge a manager revoked (say, for cheating) stays revoked: neither the expiry nor
/// re-taking the final quiz gives it back; only a manager's restoration would.
#[tokio::test]
async fn a_badge_a_manager_revoked_is_not_given_back_by_a_renewal() {
    let w = World::new().await;
    let trainer = w.member("tina", Role::Staff).await;
    let manager = w.member("manon", Role::CommunityManager).await;
    let marie_session = w.member("marie", Role::Member).await;
    let marie = Caller::from(&marie_session);
    let (course, quizzes, slug) = create(&w, &trainer, course_input("basics", 1, 30)).await;
    let t0 = Utc::now();
    certify(&w, &marie, course, quizzes[0], t0).await;
    assert_eq!(held(&w, marie.person_id).await, [slug.as_str()]);

    let (marie_id, revoked_slug) = (marie.person_id, slug.clone());
    w.act(|conn, _| {
        async move {
            badges::revoke_badge(conn, &manager, marie_id, &revoked_slug, "copied answers").await
        }
        .scope_boxed()
    })
    .await
    .unwrap();
    assert!(held(&w, marie.person_id).await.is_empty());

    sweep(&w, t0 + Duration::days(30) + Duration::seconds(1)).await;
    let renewed = t0 + Duration::days(31);
    assert!(take(&w, &marie, quizzes[0], true, renewed)
        .await
        .certificate
        .is_some());
    assert!(held(&w, marie.person_id).await.is_empty());
    // One award in the history, revoked by the manager with her reason.
    assert_eq!(
        history(&w, marie.person_id, &slug).await,
        [(true, true, Some("copied answers".to_owned()))]
    );
}

/// A form value that is no answer (text where a choice's id or a number goes) is refused
/// before anything is written: the attempt stays open, and the learner answers again.
#[tokio::test]
async fn a_garbled_form_answer_is_refused_and_the_attempt_stays_open() {
    let w = World::new().await;
    let trainer = w.member("tina", Role::Staff).await;
    let marie_session = w.member("marie", Role::Member).await;
    let marie = Caller::from(&marie_session);
    let (course, quizzes, _) = create(&w, &trainer, course_input("basics", 1, 30)).await;
    let t0 = Utc::now();
    enrol(&w, &marie, course, t0).await;
    let open = start(&w, &marie, quizzes[0], t0).await.unwrap();
    let question = open.questions[0].id;
    let id = open.attempt.id;
    let (learner, garbled) = (&marie, vec![(question, "the second one".to_owned())]);
    let refused = w
        .act(|conn, ctx| {
            let garbled = &garbled;
            async move { quizzes::submit_form(conn, ctx, learner, id, garbled, t0).await }
                .scope_boxed()
        })
        .await;
    match refused {
        Err(CoreError::Training(refusal)) => assert_eq!(refusal.code(), "answer_invalid"),
        Err(other) => panic!("refused for another reason: {other:?}"),
        Ok(result) => panic!("a garbled answer was scored: {:?}", result.attempt.score),
    }
    // Still open: the right answer now certifies.
    assert!(submit(&w, &marie, &open, true, t0)
        .await
        .certificate
        .is_some());
}

/// A course's editor offers the newest published courses as prerequisites, and always those it
/// requires already, however old and even withdrawn: saving the page for another change must
/// not drop a prerequisite the list did not reach.
#[tokio::test]
async fn a_course_editor_keeps_offering_a_prerequisite_older_than_the_newest() {
    let w = World::new().await;
    let trainer = w.member("tina", Role::Staff).await;
    let old = create(&w, &trainer, course_input("old", 1, 30)).await.0;
    let middle = create(&w, &trainer, course_input("middle", 1, 30)).await.0;
    let withdrawn = create(&w, &trainer, course_input("withdrawn", 1, 30))
        .await
        .0;
    let newer = create(&w, &trainer, course_input("newer", 1, 30)).await.0;
    let newest = create(&w, &trainer, course_input("newest", 1, 30)).await.0;
    let mut input = course_input("advanced", 1, 30);
    input.prerequisites = vec![old, withdrawn];
    let advanced = create(&w, &trainer, input).await.0;
    let mut conn = w.ctx.conn().await.unwrap();
    training::set_published(&mut conn, withdrawn, false)
        .await
        .unwrap();
    let required = [old, withdrawn];
    let offered = training::requirable_courses(&mut conn, advanced, &required, 2);
    let offered: Vec<i64> = offered.await.unwrap().iter().map(|c| c.id).collect();
    // The two newest published (not the course itself), then what it requires already.
    assert_eq!(offered, vec![newest, newer, withdrawn, old]);
    let offered = training::requirable_courses(&mut conn, advanced, &required, 200);
    let offered: Vec<i64> = offered.await.unwrap().iter().map(|c| c.id).collect();
    // With room for all: every published course, the withdrawn one only as a requirement.
    assert_eq!(offered, vec![newest, newer, withdrawn, middle, old]);
    let row = training::course(&mut conn, advanced)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.prerequisites, vec![old, withdrawn]);
    let titles = courses::requirable_courses(&mut conn, &trainer, &row)
        .await
        .unwrap();
    assert!(titles
        .iter()
        .any(|c| c.id == middle && c.title_en == "Course middle"));
    let learner = w.member("marie", Role::Member).await;
    let refused = courses::requirable_courses(&mut conn, &learner, &row).await;
    assert!(
        matches!(refused, Err(CoreError::Forbidden(_))),
        "{refused:?}"
    );
}

/// The sweep reads expired certificates a page at a time: it reaches those past the first page,
/// stops after a short page, and one certificate that cannot be taken back holds back neither
/// its page nor the next ones (it is left, alone, for the next pass).
#[tokio::test]
async fn the_sweep_crosses_pages_and_one_failure_holds_back_no_other() {
    let w = World::new().await;
    let trainer = w.member("tina", Role::Staff).await;
    let (course, quizzes, slug) = create(&w, &trainer, course_input("paged", 1, 30)).await;
    let t0 = Utc::now();
    let mut people = Vec::new();
    for name in ["ana", "bob", "cyd", "dee", "eve"] {
        let learner = Caller::from(&w.member(name, Role::Member).await);
        certify(&w, &learner, course, quizzes[0], t0).await;
        people.push(learner.person_id);
    }
    let after_expiry = t0 + Duration::days(30) + Duration::seconds(1);
    let certificates = expired(&w, after_expiry).await;
    assert_eq!(certificates.len(), 5);
    // Pages of two: [1 2] [3 4] [5], the second certificate (bob's: certified second)
    // failing.
    let stuck = certificates[1];
    let (swept, listed) = sweep_pass(&w, after_expiry, 2, &[stuck]).await;
    assert_eq!(swept.taken_back, 4);
    assert_eq!(swept.failed, vec![stuck]);
    assert_eq!(listed, 3, "a short page ends the pass");
    let stuck_person = people[1];
    for (i, person) in people.iter().enumerate() {
        let holds = held(&w, *person).await;
        if *person == stuck_person {
            assert_eq!(holds, [slug.as_str()], "the failed one is left as it was");
        } else {
            assert!(holds.is_empty(), "member {i} still holds {holds:?}");
        }
    }
    // The next pass takes back the one left, alone; a full last page asks for one more, empty.
    assert_eq!(expired(&w, after_expiry).await, vec![stuck]);
    let (swept, listed) = sweep_pass(&w, after_expiry, 1, &[]).await;
    assert_eq!((swept.taken_back, swept.failed.len(), listed), (1, 0, 2));
    assert!(held(&w, stuck_person).await.is_empty());
    assert!(expired(&w, after_expiry).await.is_empty());
}

/// Expiry is decided on the application's clock, and so is everything said about it: the
/// sweep dates the badge's revocation at its own `now`, and a trainer's statistics count the
/// certificates valid at the caller's `now` (here a month ahead of the database's clock).
#[tokio::test]
async fn expiry_is_dated_and_counted_on_the_application_clock() {
    let w = World::new().await;
    let trainer = w.member("tina", Role::Staff).await;
    let marie = Caller::from(&w.member("marie", Role::Member).await);
    let (course, quizzes, slug) = create(&w, &trainer, course_input("clock", 1, 30)).await;
    let t0 = Utc::now();
    certify(&w, &marie, course, quizzes[0], t0).await;
    let valid_at = |now| {
        let (w, trainer) = (&w, &trainer);
        async move {
            let mut conn = w.ctx.conn().await.unwrap();
            let stats = courses::statistics(&mut conn, trainer, course, now);
            stats.await.unwrap().counts.valid_certificates
        }
    };
    assert_eq!(valid_at(t0).await, 1);
    let after_expiry = t0 + Duration::days(30) + Duration::seconds(1);
    assert_eq!(
        valid_at(after_expiry).await,
        0,
        "expired on the caller's clock"
    );
    sweep(&w, after_expiry).await;
    let mut conn = w.ctx.conn().await.unwrap();
    let revoked: Vec<DateTime<Utc>> = diesel::sql_query(
        "SELECT a.revoked_at FROM badge_award a JOIN badge b ON b.id = a.badge_id \
         WHERE a.person_id = $1 AND b.slug = $2",
    )
    .bind::<diesel::sql_types::BigInt, _>(marie.person_id)
    .bind::<diesel::sql_types::Text, _>(&slug)
    .load::<RevokedAt>(&mut conn)
    .await
    .unwrap()
    .into_iter()
    .map(|r| r.revoked_at)
    .collect();
    assert_eq!(revoked, vec![stored(after_expiry)]);
}

#[derive(diesel::QueryableByName)]
struct RevokedAt {
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    revoked_at: DateTime<Utc>,
}

/// The getting-started step is paid at the clock of the quiz that finished the course: the
/// certificate it issued is in force at that moment, whatever the database's clock says (here
/// the quiz's clock is forty days behind it, so the certificate, valid thirty days, has
/// expired on the database's clock).
#[tokio::test]
async fn the_getting_started_step_is_paid_at_the_clock_that_issued_the_certificate() {
    let w = World::new().await;
    let trainer = w.member("tina", Role::Staff).await;
    let marie = Caller::from(&w.member("marie", Role::Member).await);
    let (course, quizzes, _) = create(&w, &trainer, course_input("starter", 1, 30)).await;
    let mut conn = w.ctx.conn().await.unwrap();
    // This course stands for the built-in one.
    diesel::sql_query(format!(
        "UPDATE course SET builtin = 'getting_started' WHERE id = {course}"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    let then = Utc::now() - Duration::days(40);
    certify(&w, &marie, course, quizzes[0], then).await;
    let paid: Vec<Paid> = diesel::sql_query(
        "SELECT l.delta FROM points_ledger l JOIN onboarding_step s \
           ON l.source_key = 'onboarding:' || s.id || ':' || $1 \
         WHERE s.kind = 'finish_getting_started'",
    )
    .bind::<diesel::sql_types::BigInt, _>(marie.person_id)
    .load(&mut conn)
    .await
    .unwrap();
    assert_eq!(paid.len(), 1, "the step is paid once, with the certificate");
    assert!(paid[0].delta > 0);
}

#[derive(diesel::QueryableByName)]
struct Paid {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    delta: i64,
}

/// A ban put marie out of the course's group and of the group its certificate unlocks, and
/// neither her enrolment nor her certificate is a way back in: she enrols and is certified
/// (badge and all), without either membership. paul, banned from neither, gets both.
#[tokio::test]
async fn a_learner_banned_from_a_group_is_let_in_by_no_enrolment_or_certificate() {
    let w = World::new().await;
    let manager = w.member("manon", Role::CommunityManager).await;
    let marie = Caller::from(&w.member("marie", Role::Member).await);
    let paul = Caller::from(&w.member("paul", Role::Member).await);
    let experts = w.group(&manager, "experts").await;
    let mut input = course_input("basics", 1, 30);
    input.unlock_group = Some("experts".into());
    let (course, quizzes, slug) = create(&w, &manager, input).await;
    let moderator = Caller::from(&manager);
    for group in ["basics", "experts"] {
        let (moderator, marie) = (&moderator, marie.person_id);
        w.act(|conn, _| {
            async move {
                let terms = group_bans::BanTerms {
                    reason: "spam".into(),
                    ..Default::default()
                };
                group_bans::ban(conn, moderator, group, marie, &terms).await
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    }
    let basics = group_id(&w, "basics").await;
    let groups_of = |person: i64| {
        let w = &w;
        async move {
            let mut conn = w.ctx.conn().await.unwrap();
            let mut inside = vec![];
            for (name, group) in [("basics", basics), ("experts", experts.id)] {
                if content::membership_role(&mut conn, group, person)
                    .await
                    .unwrap()
                    .is_some()
                {
                    inside.push(name);
                }
            }
            inside
        }
    };

    let now = Utc::now();
    certify(&w, &marie, course, quizzes[0], now).await;
    assert!(
        groups_of(marie.person_id).await.is_empty(),
        "a banned learner got in"
    );
    assert_eq!(held(&w, marie.person_id).await, [slug.as_str()]);
    certify(&w, &paul, course, quizzes[0], now).await;
    assert_eq!(groups_of(paul.person_id).await, ["basics", "experts"]);
}

/// The id of our group `name`.
async fn group_id(w: &World, name: &str) -> i64 {
    let mut conn = w.ctx.conn().await.unwrap();
    cenacle_db::actors::local_group_by_name(&mut conn, name)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// What a certificate's expiry takes back is the membership it gave, and only while it is the
/// one that gave it. marie's certificate let her into experts; a ban put her out, and once it
/// was lifted she joined again by hand. paul's let him in too; he left, and joined again by
/// hand. When their certificates expire, both stay members: the memberships they have are
/// their own doing. Before, neither the ban nor the leaving forgot the certificate's grant
/// (`granted_group`), and the sweep took the membership they had got back by themselves.
#[tokio::test]
async fn an_expiry_leaves_a_membership_got_back_by_hand_after_a_ban_or_leaving() {
    let w = World::new().await;
    let manager = w.member("manon", Role::CommunityManager).await;
    let marie = Caller::from(&w.member("marie", Role::Member).await);
    let paul = Caller::from(&w.member("paul", Role::Member).await);
    let experts = w.group(&manager, "experts").await;
    let mut input = course_input("basics", 1, 30);
    input.unlock_group = Some("experts".into());
    let (course, quizzes, _) = create(&w, &manager, input).await;
    let moderator = Caller::from(&manager);
    let now = Utc::now();
    let in_experts = |person: i64| {
        let (w, experts) = (&w, experts.id);
        async move {
            let mut conn = w.ctx.conn().await.unwrap();
            content::membership_role(&mut conn, experts, person)
                .await
                .unwrap()
                .is_some()
        }
    };
    let join = |person: &Caller| {
        let (w, experts) = (&w, &experts);
        let person = *person;
        async move {
            w.act(|conn, _| {
                async move { cenacle_core::groups::join_group(conn, &person, experts, None).await }
                    .scope_boxed()
            })
            .await
            .unwrap()
        }
    };
    for learner in [&marie, &paul] {
        certify(&w, learner, course, quizzes[0], now).await;
        assert!(
            in_experts(learner.person_id).await,
            "the certificate let them in"
        );
    }

    // marie: banned (put out), the ban lifted, and she joins again.
    let (moderator, marie_id) = (&moderator, marie.person_id);
    w.act(|conn, _| {
        async move {
            let terms = group_bans::BanTerms {
                reason: "spam".into(),
                ..Default::default()
            };
            group_bans::ban(conn, moderator, "experts", marie_id, &terms).await?;
            group_bans::unban(conn, moderator, "experts", marie_id).await
        }
        .scope_boxed()
    })
    .await
    .unwrap();
    assert!(!in_experts(marie.person_id).await, "the ban left her in");
    assert!(join(&marie).await);
    // paul: leaves, and joins again.
    let leaver = paul;
    w.act(|conn, _| {
        async move {
            let experts = cenacle_core::groups::local_group(conn, "experts").await?;
            cenacle_core::groups::leave_group(conn, &leaver, &experts).await
        }
        .scope_boxed()
    })
    .await
    .unwrap();
    assert!(!in_experts(paul.person_id).await, "leaving left him in");
    assert!(join(&paul).await);

    sweep(&w, now + Duration::days(31)).await;
    assert!(
        in_experts(marie.person_id).await,
        "the expiry took the membership marie got back by hand after her ban"
    );
    assert!(
        in_experts(paul.person_id).await,
        "the expiry took the membership paul got back by hand after leaving"
    );
}

/// `member` (whose username is `handle`) made a champion: nominated by `manager` (for
/// `groups`), the invitation accepted, the current charter accepted.
async fn make_champion(
    w: &World,
    manager: &Session,
    member: &Caller,
    handle: &str,
    groups: &[String],
) {
    w.act(|conn, ctx| {
        async move {
            let nomination = champions::Nomination {
                handle,
                groups,
                title: Some("Champion"),
                reason: Some("from the shortlist"),
            };
            champions::nominate(conn, ctx, manager, &nomination).await?;
            champions::answer_invitation(conn, member, true, None).await?;
            let version = champions::current_charter(conn)
                .await?
                .expect("a charter in force")
                .version;
            champions::accept_charter(conn, member, version).await
        }
        .scope_boxed()
    })
    .await
    .unwrap();
}

/// What a certificate's expiry takes back is the membership it gave, and only while it is the
/// one that holds it. A course unlocks the programme's local-only champions group (one written
/// before the course editor refused that group); chloé passes it and the certificate lets her
/// in (`granted_group`). She is made a champion: from then on the programme holds her
/// membership, so her certificate's expiry during her term leaves her in. A manager ends her
/// status (out of the group), and she is made a champion again (back in). Before, her
/// activation kept the certificate's grant, and the sweep put a serving champion out of the
/// champions group.
#[tokio::test]
async fn a_certificates_expiry_leaves_a_champion_in_the_champions_group() {
    let w = World::new().await;
    let manager = w.member("manon", Role::CommunityManager).await;
    let chloe = Caller::from(&w.member("chloe", Role::Member).await);
    w.group(&manager, "rust").await;
    let manager_ref = &manager;
    w.act(|conn, ctx| {
        async move {
            champions::publish_charter(conn, ctx, manager_ref, "Help kindly.", "Aidez.", None).await
        }
        .scope_boxed()
    })
    .await
    .unwrap();
    let champions_group = {
        let mut conn = w.ctx.conn().await.unwrap();
        cenacle_db::champions::local_only_group(&mut conn)
            .await
            .unwrap()
            .expect("the first charter made the champions group")
    };
    // The course editor refuses the champions group as a course's unlocked group now
    // (`ProgrammeOnlyGroup`); a course that unlocks it (written before that rule) is set so
    // in the database.
    let (course, quizzes, _) = create(&w, &manager, course_input("basics", 1, 30)).await;
    {
        let mut conn = w.ctx.conn().await.unwrap();
        let updated = diesel::sql_query("UPDATE course SET unlock_group_id = $1 WHERE id = $2")
            .bind::<diesel::sql_types::BigInt, _>(champions_group.id)
            .bind::<diesel::sql_types::BigInt, _>(course)
            .execute(&mut conn)
            .await
            .unwrap();
        assert_eq!(updated, 1);
    }
    let now = Utc::now();
    let in_champions = || {
        let (w, group, person) = (&w, champions_group.id, chloe.person_id);
        async move {
            let mut conn = w.ctx.conn().await.unwrap();
            content::membership_role(&mut conn, group, person)
                .await
                .unwrap()
                .is_some()
        }
    };
    let granted_group = || {
        let (w, person) = (&w, chloe.person_id);
        async move {
            let mut conn = w.ctx.conn().await.unwrap();
            training::certificate(&mut conn, course, person)
                .await
                .unwrap()
                .expect("her certificate")
                .granted_group
        }
    };

    certify(&w, &chloe, course, quizzes[0], now).await;
    assert!(in_champions().await, "the certificate let her in");
    assert_eq!(
        granted_group().await,
        Some(champions_group.id),
        "the certificate holds the membership it gave"
    );
    let groups = ["rust".to_string()];
    make_champion(&w, &manager, &chloe, "chloe", &groups).await;
    assert!(in_champions().await, "a champion is in the champions group");
    assert_eq!(granted_group().await, None, "the programme holds it now");
    sweep(&w, now + Duration::days(31)).await;
    assert!(
        in_champions().await,
        "her certificate's expiry put a serving champion out of the champions group"
    );

    // A manager ends her status: out of the champions group.
    let manager_ref = &manager;
    w.act(|conn, ctx| {
        async move {
            champions::end_by_manager(
                conn,
                ctx,
                manager_ref,
                "chloe",
                champions::Exit::Removed,
                Some("inactive"),
            )
            .await
        }
        .scope_boxed()
    })
    .await
    .unwrap();
    assert!(
        !in_champions().await,
        "the exit left her in the champions group"
    );

    // Made a champion again: back in the champions group, by the programme.
    make_champion(&w, &manager, &chloe, "chloe", &groups).await;
    assert!(
        in_champions().await,
        "a champion again is in the champions group"
    );
}
