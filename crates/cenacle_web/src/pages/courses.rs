//! The training space in the browser, the learner's path: the courses, a course (enrol, its
//! lessons and quizzes, where one stands), a lesson (mark it done), a quiz attempt's form
//! (questions in the attempt's shuffled order, no answers) and its result (the answers and
//! explanations, the certificate when earned). The certificate's own page is `certificates`.

use super::{acting, signed_in, CsrfOnly};
use crate::{
    render::{page, see_other, Chrome, PageError},
    session::Visitor,
};
use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use cenacle_api::{error::ApiError, AppState};
use cenacle_apub::objects::content::markdown_to_page_html;
use cenacle_core::{
    courses,
    quizzes::{self, AttemptState},
    CoreError, ScopedFutureExt,
};
use cenacle_domain::Permission;
use chrono::Utc;

/// A refusal the learner can act on (a 4xx: prerequisites, cool-down, attempts used up…)
/// in their words, to show beside the form; anything else as the error page.
fn refusal(e: CoreError, v: &Visitor) -> Result<String, Box<Response>> {
    let e = ApiError::from(e);
    if !e.status.is_client_error() || e.status == StatusCode::NOT_FOUND {
        return Err(Box::new(
            PageError::from_api(e, v.words)
                .for_visitor(v)
                .into_response(),
        ));
    }
    let mut why = cenacle_api::i18n::message(e.code, v.words.0).to_owned();
    // The cool-down says when the next attempt may start.
    if let Some(until) = e
        .details
        .as_ref()
        .and_then(|d| d["until"].as_str())
        .and_then(|u| u.parse::<chrono::DateTime<Utc>>().ok())
    {
        why = format!(
            "{why} {} {}",
            v.words.t("quiz-next-at"),
            v.words.date(&until)
        );
    }
    Ok(why)
}

pub struct CourseLine {
    id: i64,
    title: String,
    summary: String,
    /// The cover image's address; its alt text is the title.
    cover: Option<String>,
    /// A draft (trainers see theirs in the list).
    draft: bool,
}

#[derive(Template)]
#[template(path = "courses.html")]
struct CoursesPage {
    c: Chrome,
    courses: Vec<CourseLine>,
    /// Whether the visitor writes courses: the way to a new one shows.
    trainer: bool,
}

/// Whether the visitor writes courses (the core checks again on every action).
fn is_trainer(v: &Visitor) -> bool {
    v.session
        .as_ref()
        .is_some_and(|s| s.account.role.allows(Permission::ManageTraining))
}

fn cover_of(covers: &[(i64, String)], course: i64) -> Option<String> {
    covers
        .iter()
        .find(|(c, _)| *c == course)
        .map(|(_, file)| format!("/media/{file}"))
}

pub async fn list(State(state): State<AppState>, v: Visitor) -> Response {
    let caller = v.caller();
    let found = async {
        let mut conn = state.ctx.conn().await?;
        let rows = courses::courses(&mut conn, caller.as_ref()).await?;
        let covers = courses::cover_files(&mut conn, &rows).await?;
        Ok::<_, CoreError>((rows, covers))
    }
    .await;
    let (rows, covers) = match found {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    page(
        &v,
        StatusCode::OK,
        &CoursesPage {
            c: Chrome::of(&v, "/courses"),
            courses: rows
                .iter()
                .map(|c| CourseLine {
                    id: c.id,
                    title: v.words.pick(&c.title_fr, &c.title_en).to_owned(),
                    summary: v.words.pick(&c.summary_fr, &c.summary_en).to_owned(),
                    cover: cover_of(&covers, c.id),
                    draft: !c.published,
                })
                .collect(),
            trainer: is_trainer(&v),
        },
    )
}

pub struct LessonLine {
    id: i64,
    position: i32,
    title: String,
    minutes: i32,
    done: bool,
}

pub struct QuizLine {
    id: i64,
    title: String,
    pass_mark: i32,
    passed: bool,
    /// An attempt started and not submitted, to resume.
    open: Option<i64>,
}

#[derive(Template)]
#[template(path = "course.html")]
struct CoursePage {
    c: Chrome,
    id: i64,
    title: String,
    summary: String,
    cover: Option<String>,
    draft: bool,
    group: String,
    signed_in: bool,
    enrolled: bool,
    lessons: Vec<LessonLine>,
    lessons_done: usize,
    quizzes: Vec<QuizLine>,
    certificate: Option<(String, bool)>,
    /// Whether the visitor writes courses (and so reads their statistics).
    trainer: bool,
    refused: Option<String>,
}

async fn course_page(
    state: &AppState,
    v: &Visitor,
    id: i64,
    status: StatusCode,
    refused: Option<String>,
) -> Response {
    let caller = v.caller();
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let course = courses::course(&mut conn, caller.as_ref(), id).await?;
        let progress = match &caller {
            Some(c) => Some(courses::progress(&mut conn, &state.ctx, c, id).await?),
            None => None,
        };
        let covers = courses::cover_files(&mut conn, std::slice::from_ref(&course.row)).await?;
        Ok::<_, CoreError>((course, progress, covers))
    }
    .await;
    let (course, progress, covers) = match read {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, v).into_response(),
    };
    let done = |lesson: i64| {
        progress
            .as_ref()
            .is_some_and(|p| p.lessons_done.contains(&lesson))
    };
    page(
        v,
        status,
        &CoursePage {
            c: Chrome::of(v, &format!("/courses/{id}")),
            id,
            title: v
                .words
                .pick(&course.row.title_fr, &course.row.title_en)
                .to_owned(),
            summary: v
                .words
                .pick(&course.row.summary_fr, &course.row.summary_en)
                .to_owned(),
            cover: cover_of(&covers, id),
            draft: !course.row.published,
            group: course.discussion_group.clone(),
            signed_in: caller.is_some(),
            enrolled: progress.as_ref().is_some_and(|p| p.enrolled_at.is_some()),
            lessons_done: progress.as_ref().map_or(0, |p| p.lessons_done.len()),
            lessons: course
                .lessons
                .iter()
                .map(|l| LessonLine {
                    id: l.id,
                    position: l.position,
                    title: v.words.pick(&l.title_fr, &l.title_en).to_owned(),
                    minutes: l.minutes,
                    done: done(l.id),
                })
                .collect(),
            quizzes: course
                .quizzes
                .iter()
                .map(|q| QuizLine {
                    id: q.id,
                    title: v.words.pick(&q.title_fr, &q.title_en).to_owned(),
                    pass_mark: q.pass_mark,
                    passed: progress
                        .as_ref()
                        .is_some_and(|p| p.quizzes_passed.contains(&q.id)),
                    open: progress.as_ref().and_then(|p| {
                        p.open_attempts
                            .iter()
                            .find(|a| a.quiz_id == q.id)
                            .map(|a| a.id)
                    }),
                })
                .collect(),
            certificate: progress
                .and_then(|p| p.certificate)
                .map(|c| (format!("/certificates/{}", c.code), c.valid)),
            trainer: is_trainer(v),
            refused,
        },
    )
}

pub async fn show(State(state): State<AppState>, v: Visitor, Path(id): Path<i64>) -> Response {
    course_page(&state, &v, id, StatusCode::OK, None).await
}

pub async fn enrol(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let here = format!("/courses/{id}");
    let caller = match acting(&v, &here, &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let caller = &caller;
    let enrolled = state
        .ctx
        .transaction(|conn| courses::enrol(conn, caller, id, Utc::now()).scope_boxed())
        .await;
    match enrolled {
        Ok(()) => see_other(&here, vec![]),
        Err(e) => match refusal(e, &v) {
            Ok(why) => course_page(&state, &v, id, StatusCode::FORBIDDEN, Some(why)).await,
            Err(page) => *page,
        },
    }
}

#[derive(Template)]
#[template(path = "lesson.html")]
struct LessonPage {
    c: Chrome,
    id: i64,
    course: i64,
    title: String,
    minutes: i32,
    body_html: String,
    signed_in: bool,
}

pub async fn lesson(State(state): State<AppState>, v: Visitor, Path(id): Path<i64>) -> Response {
    let caller = v.caller();
    let found = async {
        let mut conn = state.ctx.conn().await?;
        courses::lesson(&mut conn, caller.as_ref(), id).await
    }
    .await;
    let lesson = match found {
        Ok(l) => l,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    page(
        &v,
        StatusCode::OK,
        &LessonPage {
            c: Chrome::of(&v, &format!("/lessons/{id}")),
            id,
            course: lesson.course_id,
            title: v.words.pick(&lesson.title_fr, &lesson.title_en).to_owned(),
            minutes: lesson.minutes,
            body_html: markdown_to_page_html(v.words.pick(&lesson.body_fr, &lesson.body_en)),
            signed_in: caller.is_some(),
        },
    )
}

/// Marks the lesson done and goes back to the course.
pub async fn lesson_done(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let caller = match acting(&v, &format!("/lessons/{id}"), &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let caller = &caller;
    let done = state
        .ctx
        .transaction(|conn| {
            async move {
                courses::mark_lesson_done(conn, caller, id).await?;
                courses::lesson(conn, Some(caller), id).await
            }
            .scope_boxed()
        })
        .await;
    match done {
        Ok(lesson) => see_other(&format!("/courses/{}", lesson.course_id), vec![]),
        Err(e) => PageError::from_core(e, &v).into_response(),
    }
}

/// Starts (or resumes) an attempt and shows its form; a refusal (cool-down, no attempt
/// left, not enrolled) shows on the course's page.
pub async fn start(
    State(state): State<AppState>,
    v: Visitor,
    Path((course, quiz)): Path<(i64, i64)>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let caller = match acting(&v, &format!("/courses/{course}"), &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let caller = &caller;
    let started = state
        .ctx
        .transaction(|conn| quizzes::start_attempt(conn, caller, quiz, Utc::now()).scope_boxed())
        .await;
    match started {
        Ok(open) => see_other(&format!("/attempts/{}", open.attempt.id), vec![]),
        Err(e) => match refusal(e, &v) {
            Ok(why) => course_page(&state, &v, course, StatusCode::CONFLICT, Some(why)).await,
            Err(page) => *page,
        },
    }
}

pub struct ChoiceLine {
    id: i64,
    label: String,
    /// After submission: whether it was a right choice.
    right: bool,
}

pub struct QuestionLine {
    id: i64,
    kind: String,
    prompt: String,
    choices: Vec<ChoiceLine>,
    /// After submission.
    correct: bool,
    explanation: String,
    numeric_answer: Option<f64>,
}

#[derive(Template)]
#[template(path = "attempt.html")]
struct AttemptPage {
    c: Chrome,
    id: i64,
    course: i64,
    title: String,
    questions: Vec<QuestionLine>,
    /// Submitted: (score, pass mark, passed).
    result: Option<(i32, i32, bool)>,
    certificate: Option<String>,
    refused: Option<String>,
}

async fn attempt_page(
    state: &AppState,
    v: &Visitor,
    id: i64,
    status: StatusCode,
    refused: Option<String>,
) -> Response {
    let caller = match signed_in(v, &format!("/attempts/{id}")) {
        Ok(c) => c,
        Err(to) => return to.into_response(),
    };
    let read = async {
        let mut conn = state.ctx.conn().await?;
        quizzes::attempt(&mut conn, &state.ctx, &caller, id).await
    }
    .await;
    let AttemptState {
        shown: open,
        result,
    } = match read {
        Ok(x) => x,
        Err(e) => return PageError::from_core(e, v).into_response(),
    };
    let done = result.as_ref();
    let quiz = &open.quiz;
    let questions = open
        .questions
        .iter()
        .map(|q| {
            let outcome = done.and_then(|d| d.questions.iter().find(|r| r.question_id == q.id));
            QuestionLine {
                id: q.id,
                kind: q.kind.clone(),
                prompt: v.words.pick(&q.prompt_fr, &q.prompt_en).to_owned(),
                choices: q
                    .choices
                    .iter()
                    .map(|c| ChoiceLine {
                        id: c.id,
                        label: v.words.pick(&c.label_fr, &c.label_en).to_owned(),
                        right: outcome.is_some_and(|o| o.correct_choices.contains(&c.id)),
                    })
                    .collect(),
                correct: outcome.is_some_and(|o| o.correct),
                explanation: outcome
                    .map(|o| {
                        v.words
                            .pick(&o.explanation_fr, &o.explanation_en)
                            .to_owned()
                    })
                    .unwrap_or_default(),
                numeric_answer: outcome.and_then(|o| o.numeric_answer),
            }
        })
        .collect();
    page(
        v,
        status,
        &AttemptPage {
            c: Chrome::of(v, &format!("/attempts/{id}")),
            id,
            course: quiz.course_id,
            title: v.words.pick(&quiz.title_fr, &quiz.title_en).to_owned(),
            questions,
            result: done.map(|d| {
                (
                    d.attempt.score.unwrap_or(0),
                    d.pass_mark,
                    d.attempt.passed == Some(true),
                )
            }),
            certificate: done
                .and_then(|d| d.certificate.as_ref())
                .map(|c| format!("/certificates/{}", c.code)),
            refused,
        },
    )
}

pub async fn attempt(State(state): State<AppState>, v: Visitor, Path(id): Path<i64>) -> Response {
    attempt_page(&state, &v, id, StatusCode::OK, None).await
}

/// The quiz form's fields: `csrf`, and `q{id}` once per chosen choice (a checkbox may repeat
/// it) or with the number typed.
pub async fn submit(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let caller = match acting(&v, &format!("/attempts/{id}"), csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    // Each question's values, read by the core by the question's kind as stored (the form
    // says nothing about kinds the server would trust).
    let answers: Vec<(i64, String)> = fields
        .iter()
        .filter_map(|(key, value)| {
            let question = key.strip_prefix('q')?.parse::<i64>().ok()?;
            Some((question, value.clone()))
        })
        .collect();
    let (caller, answers, ctx) = (&caller, &answers, &state.ctx);
    let submitted = state
        .ctx
        .transaction(|conn| {
            quizzes::submit_form(conn, ctx, caller, id, answers, Utc::now()).scope_boxed()
        })
        .await;
    match submitted {
        Ok(_) => see_other(&format!("/attempts/{id}"), vec![]),
        Err(e) => match refusal(e, &v) {
            Ok(why) => attempt_page(&state, &v, id, StatusCode::CONFLICT, Some(why)).await,
            Err(page) => *page,
        },
    }
}

pub struct HardQuestion {
    prompt: String,
    answers: i64,
    wrong: i64,
}

#[derive(Template)]
#[template(path = "course_statistics.html")]
struct StatisticsPage {
    c: Chrome,
    id: i64,
    title: String,
    enrolled: i64,
    finished_lessons: i64,
    certified: i64,
    valid_certificates: i64,
    hardest: Vec<HardQuestion>,
}

/// A course's statistics, for trainers (403 to others).
pub async fn statistics(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
) -> Response {
    let here = format!("/courses/{id}/statistics");
    if let Err(to) = signed_in(&v, &here) {
        return to.into_response();
    }
    let Some(session) = v.session.as_ref() else {
        return PageError::from_core(CoreError::Unauthenticated, &v).into_response();
    };
    let caller = v.caller();
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let stats = courses::statistics(&mut conn, session, id, Utc::now()).await?;
        let course = courses::course(&mut conn, caller.as_ref(), id).await?;
        Ok::<_, CoreError>((stats, course))
    }
    .await;
    let (stats, course) = match read {
        Ok(x) => x,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    page(
        &v,
        StatusCode::OK,
        &StatisticsPage {
            c: Chrome::of(&v, &here),
            id,
            title: v
                .words
                .pick(&course.row.title_fr, &course.row.title_en)
                .to_owned(),
            enrolled: stats.counts.enrolled,
            finished_lessons: stats.counts.finished_lessons,
            certified: stats.counts.certified,
            valid_certificates: stats.counts.valid_certificates,
            hardest: stats
                .hardest
                .iter()
                .map(|q| HardQuestion {
                    prompt: v.words.pick(&q.prompt_fr, &q.prompt_en).to_owned(),
                    answers: q.answers,
                    wrong: q.wrong,
                })
                .collect(),
        },
    )
}
