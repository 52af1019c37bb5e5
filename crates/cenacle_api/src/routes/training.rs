//! The training space: `/api/v1/courses` (trainers write them; members list, enrol, read
//! their progress), `/api/v1/lessons/{id}/done`, `/api/v1/quizzes/{id}/attempts` (start or
//! resume: questions shuffled, no answers), `/api/v1/attempts/{id}/submit` (scored on the
//! server; the answers and explanations come back only here) and
//! `/api/v1/certificates/{code}` (anyone verifies one).

use crate::{
    error::{ApiResult, ErrorBody},
    extract::{ApiJson, Auth, MaybeAuth},
    AppState,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use cenacle_core::model::{AttemptRow, CourseRow, LessonRow, QuizRow};
use cenacle_core::{
    certificates::{self, Certificate},
    courses::{
        self, ChoiceInput, Course, CourseInput, LessonInput, Progress, QuestionInput, QuizInput,
    },
    quizzes::{self, AttemptResult, OpenAttempt},
    Caller, ScopedFutureExt,
};
use cenacle_domain::training::Answer;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceRequest {
    pub label_fr: String,
    pub label_en: String,
    #[serde(default)]
    pub correct: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionRequest {
    /// single, multiple or numeric.
    pub kind: String,
    pub prompt_fr: String,
    pub prompt_en: String,
    /// Shown after an attempt is submitted, never before.
    #[serde(default)]
    pub explanation_fr: String,
    #[serde(default)]
    pub explanation_en: String,
    /// The answer of a numeric question.
    pub numeric_answer: Option<f64>,
    /// How far from it an answer still counts as right.
    #[serde(default)]
    pub numeric_tolerance: f64,
    #[serde(default)]
    pub choices: Vec<ChoiceRequest>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuizRequest {
    /// 1, 2, … n: a gap is refused (`lesson_order_gaps`).
    pub position: i32,
    /// Shown after the lesson at this position (none: at the end).
    pub after_lesson: Option<i32>,
    pub title_fr: String,
    pub title_en: String,
    /// 0 to 100 (percent of questions right).
    pub pass_mark: i32,
    /// Submitted attempts allowed (none: no limit; counted afresh after certification).
    pub max_attempts: Option<i32>,
    /// After a failed attempt, seconds before the next may start.
    #[serde(default)]
    pub cool_down_seconds: i32,
    pub questions: Vec<QuestionRequest>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LessonRequest {
    /// 1, 2, … n: a gap is refused (`lesson_order_gaps`).
    pub position: i32,
    pub title_fr: String,
    pub title_en: String,
    /// Markdown.
    #[serde(default)]
    pub body_fr: String,
    #[serde(default)]
    pub body_en: String,
    /// Estimated minutes.
    pub minutes: i32,
}

/// A whole course, written in one transaction: any refusal saves nothing.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CourseRequest {
    pub title_fr: String,
    pub title_en: String,
    #[serde(default)]
    pub summary_fr: String,
    #[serde(default)]
    pub summary_en: String,
    /// An uploaded image (media id).
    pub cover_media_id: Option<i64>,
    #[serde(default)]
    pub published: bool,
    /// everyone (default), group (`audience_group`), reputation (`audience_reputation`) or
    /// badge (`audience_badge`, a slug). A course not open to everyone gets a private
    /// discussion group.
    #[serde(default = "everyone")]
    pub audience: String,
    pub audience_group: Option<String>,
    pub audience_reputation: Option<i64>,
    pub audience_badge: Option<String>,
    /// Days a certificate stays valid (none: forever).
    pub validity_days: Option<i32>,
    /// A local group the certificate makes its holder a member of while it is valid.
    pub unlock_group: Option<String>,
    /// Courses whose valid certificate enrolling requires.
    #[serde(default)]
    pub prerequisites: Vec<i64>,
    /// The name of the course's discussion group, created with it.
    pub group_name: String,
    #[serde(default)]
    pub lessons: Vec<LessonRequest>,
    #[serde(default)]
    pub quizzes: Vec<QuizRequest>,
}

impl From<QuestionRequest> for QuestionInput {
    fn from(x: QuestionRequest) -> Self {
        QuestionInput {
            kind: x.kind,
            prompt_fr: x.prompt_fr,
            prompt_en: x.prompt_en,
            explanation_fr: x.explanation_fr,
            explanation_en: x.explanation_en,
            numeric_answer: x.numeric_answer,
            numeric_tolerance: x.numeric_tolerance,
            choices: x
                .choices
                .into_iter()
                .map(|c| ChoiceInput {
                    label_fr: c.label_fr,
                    label_en: c.label_en,
                    correct: c.correct,
                })
                .collect(),
        }
    }
}

pub(crate) fn everyone() -> String {
    "everyone".into()
}

impl From<CourseRequest> for CourseInput {
    fn from(r: CourseRequest) -> Self {
        CourseInput {
            title_fr: r.title_fr,
            title_en: r.title_en,
            summary_fr: r.summary_fr,
            summary_en: r.summary_en,
            cover_media_id: r.cover_media_id,
            published: r.published,
            audience: r.audience,
            audience_group: r.audience_group,
            audience_reputation: r.audience_reputation,
            audience_badge: r.audience_badge,
            validity_days: r.validity_days,
            unlock_group: r.unlock_group,
            prerequisites: r.prerequisites,
            group_name: r.group_name,
            lessons: r
                .lessons
                .into_iter()
                .map(|l| LessonInput {
                    position: l.position,
                    title_fr: l.title_fr,
                    title_en: l.title_en,
                    body_fr: l.body_fr,
                    body_en: l.body_en,
                    minutes: l.minutes,
                })
                .collect(),
            quizzes: r
                .quizzes
                .into_iter()
                .map(|q| QuizInput {
                    position: q.position,
                    after_lesson: q.after_lesson,
                    title_fr: q.title_fr,
                    title_en: q.title_en,
                    pass_mark: q.pass_mark,
                    max_attempts: q.max_attempts,
                    cool_down_seconds: q.cool_down_seconds,
                    questions: q.questions.into_iter().map(QuestionInput::from).collect(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CourseSummary {
    pub id: i64,
    pub title_fr: String,
    pub title_en: String,
    pub summary_fr: String,
    pub summary_en: String,
    pub cover_media_id: Option<i64>,
    pub published: bool,
    pub audience: String,
    pub audience_reputation: Option<i64>,
    pub validity_days: Option<i32>,
    pub prerequisites: Vec<i64>,
}

impl From<&CourseRow> for CourseSummary {
    fn from(c: &CourseRow) -> Self {
        CourseSummary {
            id: c.id,
            title_fr: c.title_fr.clone(),
            title_en: c.title_en.clone(),
            summary_fr: c.summary_fr.clone(),
            summary_en: c.summary_en.clone(),
            cover_media_id: c.cover_media_id,
            published: c.published,
            audience: c.audience.clone(),
            audience_reputation: c.audience_reputation,
            validity_days: c.validity_days,
            prerequisites: c.prerequisites.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LessonView {
    pub id: i64,
    pub position: i32,
    pub title_fr: String,
    pub title_en: String,
    /// Markdown.
    pub body_fr: String,
    pub body_en: String,
    pub minutes: i32,
}

impl From<LessonRow> for LessonView {
    fn from(l: LessonRow) -> Self {
        LessonView {
            id: l.id,
            position: l.position,
            title_fr: l.title_fr,
            title_en: l.title_en,
            body_fr: l.body_fr,
            body_en: l.body_en,
            minutes: l.minutes,
        }
    }
}

/// A quiz's settings (its questions come with an attempt, without their answers).
#[derive(Serialize, ToSchema)]
pub struct QuizView {
    pub id: i64,
    pub position: i32,
    pub after_lesson: Option<i32>,
    pub title_fr: String,
    pub title_en: String,
    pub pass_mark: i32,
    pub max_attempts: Option<i32>,
    pub cool_down_seconds: i32,
}

impl From<&QuizRow> for QuizView {
    fn from(q: &QuizRow) -> Self {
        QuizView {
            id: q.id,
            position: q.position,
            after_lesson: q.after_lesson,
            title_fr: q.title_fr.clone(),
            title_en: q.title_en.clone(),
            pass_mark: q.pass_mark,
            max_attempts: q.max_attempts,
            cool_down_seconds: q.cool_down_seconds,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CourseView {
    #[serde(flatten)]
    pub course: CourseSummary,
    /// None for a course the instance itself owns (the built-in getting-started course).
    pub owner_id: Option<i64>,
    /// The course's discussion group (its name).
    pub discussion_group: String,
    /// The group a valid certificate makes its holder a member of.
    pub unlock_group: Option<String>,
    pub badge_id: i64,
    pub lessons: Vec<LessonView>,
    pub quizzes: Vec<QuizView>,
}

impl From<Course> for CourseView {
    fn from(c: Course) -> Self {
        CourseView {
            course: CourseSummary::from(&c.row),
            owner_id: c.row.owner_id,
            discussion_group: c.discussion_group,
            unlock_group: c.unlock_group,
            badge_id: c.row.badge_id,
            lessons: c.lessons.into_iter().map(LessonView::from).collect(),
            quizzes: c.quizzes.iter().map(QuizView::from).collect(),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/courses", tag = "training", security(("bearer" = [])),
    request_body = CourseRequest,
    responses((status = 201, body = CourseView), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_course(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<CourseRequest>,
) -> ApiResult<(StatusCode, Json<CourseView>)> {
    let prepared = courses::prepare_course(&state.ctx, &session, req.into()).await?;
    let (session, prepared) = (&session, &prepared);
    let course = state
        .ctx
        .transaction(|conn| courses::create_course(conn, session, prepared).scope_boxed())
        .await?;
    Ok((StatusCode::CREATED, Json(course.into())))
}

#[utoipa::path(get, path = "/api/v1/courses", tag = "training",
    responses((status = 200, body = Vec<CourseSummary>)))]
pub async fn list_courses(
    State(state): State<AppState>,
    MaybeAuth(session): MaybeAuth,
) -> ApiResult<Json<Vec<CourseSummary>>> {
    let caller = session.as_ref().map(Caller::from);
    let mut conn = state.ctx.conn().await?;
    let found = courses::courses(&mut conn, caller.as_ref()).await?;
    Ok(Json(found.iter().map(CourseSummary::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/courses/{id}", tag = "training",
    params(("id" = i64, Path)),
    responses((status = 200, body = CourseView), (status = 404, body = ErrorBody)))]
pub async fn get_course(
    State(state): State<AppState>,
    MaybeAuth(session): MaybeAuth,
    Path(id): Path<i64>,
) -> ApiResult<Json<CourseView>> {
    let caller = session.as_ref().map(Caller::from);
    let mut conn = state.ctx.conn().await?;
    Ok(Json(
        courses::course(&mut conn, caller.as_ref(), id)
            .await?
            .into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    pub published: bool,
}

#[utoipa::path(post, path = "/api/v1/courses/{id}/publish", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = PublishRequest,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn publish_course(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<PublishRequest>,
) -> ApiResult<StatusCode> {
    let session = &session;
    state
        .ctx
        .transaction(|conn| courses::set_published(conn, session, id, req.published).scope_boxed())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/courses/{id}/enrol", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn enrol(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let caller = Caller::from(&session);
    let caller = &caller;
    state
        .ctx
        .transaction(|conn| courses::enrol(conn, caller, id, Utc::now()).scope_boxed())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/lessons/{id}/done", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn lesson_done(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let caller = Caller::from(&session);
    let caller = &caller;
    state
        .ctx
        .transaction(|conn| courses::mark_lesson_done(conn, caller, id).scope_boxed())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct CertificateView {
    pub code: String,
    pub course_id: i64,
    pub course_title_fr: String,
    pub course_title_en: String,
    pub username: String,
    pub display_name: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// False once expired.
    pub valid: bool,
    /// The verification page anyone can open.
    pub url: String,
}

impl From<Certificate> for CertificateView {
    fn from(c: Certificate) -> Self {
        CertificateView {
            code: c.code,
            course_id: c.course_id,
            course_title_fr: c.course_title_fr,
            course_title_en: c.course_title_en,
            username: c.username,
            display_name: c.display_name,
            issued_at: c.issued_at,
            expires_at: c.expires_at,
            valid: c.valid,
            url: c.url,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AttemptSummary {
    pub attempt_id: i64,
    pub quiz_id: i64,
    pub score: Option<i32>,
    pub passed: Option<bool>,
    pub started_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct ProgressView {
    pub course_id: i64,
    pub enrolled: bool,
    pub enrolled_at: Option<DateTime<Utc>>,
    pub lessons_done: Vec<i64>,
    pub lessons_total: usize,
    /// Submitted attempts, latest first.
    pub attempts: Vec<AttemptSummary>,
    /// Attempts started and not submitted (start the quiz again to resume them).
    pub open_attempts: Vec<AttemptSummary>,
    pub quizzes_passed: Vec<i64>,
    pub certificate: Option<CertificateView>,
}

impl From<Progress> for ProgressView {
    fn from(p: Progress) -> Self {
        let summary = |a: &AttemptRow| AttemptSummary {
            attempt_id: a.id,
            quiz_id: a.quiz_id,
            score: a.score,
            passed: a.passed,
            started_at: a.started_at,
            submitted_at: a.submitted_at,
        };
        ProgressView {
            course_id: p.course_id,
            enrolled: p.enrolled_at.is_some(),
            enrolled_at: p.enrolled_at,
            lessons_done: p.lessons_done,
            lessons_total: p.lessons_total,
            attempts: p.attempts.iter().map(summary).collect(),
            open_attempts: p.open_attempts.iter().map(summary).collect(),
            quizzes_passed: p.quizzes_passed,
            certificate: p.certificate.map(CertificateView::from),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/courses/{id}/progress", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ProgressView), (status = 404, body = ErrorBody)))]
pub async fn my_progress(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<ProgressView>> {
    let caller = Caller::from(&session);
    let mut conn = state.ctx.conn().await?;
    let progress = courses::progress(&mut conn, &state.ctx, &caller, id).await?;
    Ok(Json(progress.into()))
}

#[derive(Serialize, ToSchema)]
pub struct ChoiceView {
    pub id: i64,
    pub label_fr: String,
    pub label_en: String,
}

/// A question before submission: its answer and explanation are not part of it.
#[derive(Serialize, ToSchema)]
pub struct QuestionView {
    pub id: i64,
    /// single, multiple or numeric.
    pub kind: String,
    pub prompt_fr: String,
    pub prompt_en: String,
    pub choices: Vec<ChoiceView>,
}

#[derive(Serialize, ToSchema)]
pub struct AttemptView {
    pub attempt_id: i64,
    pub quiz: QuizView,
    pub started_at: DateTime<Utc>,
    /// In this attempt's shuffled order.
    pub questions: Vec<QuestionView>,
}

impl From<OpenAttempt> for AttemptView {
    fn from(a: OpenAttempt) -> Self {
        AttemptView {
            attempt_id: a.attempt.id,
            quiz: QuizView::from(&a.quiz),
            started_at: a.attempt.started_at,
            questions: a
                .questions
                .into_iter()
                .map(|q| QuestionView {
                    id: q.id,
                    kind: q.kind,
                    prompt_fr: q.prompt_fr,
                    prompt_en: q.prompt_en,
                    choices: q
                        .choices
                        .into_iter()
                        .map(|c| ChoiceView {
                            id: c.id,
                            label_fr: c.label_fr,
                            label_en: c.label_en,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Starts an attempt (or resumes the open one). Refused beyond the attempts limit
/// (`quiz_attempts_exhausted`) and during a cool-down (`quiz_cooling_down`, with `until`).
#[utoipa::path(post, path = "/api/v1/quizzes/{id}/attempts", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = AttemptView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn start_attempt(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<AttemptView>> {
    let caller = Caller::from(&session);
    let caller = &caller;
    let attempt = state
        .ctx
        .transaction(|conn| quizzes::start_attempt(conn, caller, id, Utc::now()).scope_boxed())
        .await?;
    Ok(Json(attempt.into()))
}

/// One answer: `choices` (ids) for a choice question, `number` for a numeric one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    pub question_id: i64,
    pub choices: Option<Vec<i64>>,
    pub number: Option<f64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    pub answers: Vec<AnswerRequest>,
}

#[derive(Serialize, ToSchema)]
pub struct QuestionResultView {
    pub question_id: i64,
    pub correct: bool,
    pub correct_choices: Vec<i64>,
    pub numeric_answer: Option<f64>,
    pub explanation_fr: String,
    pub explanation_en: String,
}

#[derive(Serialize, ToSchema)]
pub struct ResultView {
    pub attempt_id: i64,
    pub score: i32,
    pub pass_mark: i32,
    pub passed: bool,
    pub questions: Vec<QuestionResultView>,
    /// Issued (or renewed) by this attempt.
    pub certificate: Option<CertificateView>,
}

impl From<AttemptResult> for ResultView {
    fn from(r: AttemptResult) -> Self {
        ResultView {
            attempt_id: r.attempt.id,
            score: r.attempt.score.unwrap_or(0),
            pass_mark: r.pass_mark,
            passed: r.attempt.passed.unwrap_or(false),
            questions: r
                .questions
                .into_iter()
                .map(|q| QuestionResultView {
                    question_id: q.question_id,
                    correct: q.correct,
                    correct_choices: q.correct_choices,
                    numeric_answer: q.numeric_answer,
                    explanation_fr: q.explanation_fr,
                    explanation_en: q.explanation_en,
                })
                .collect(),
            certificate: r.certificate.map(CertificateView::from),
        }
    }
}

/// Scores the attempt once: a second submission is refused (`attempt_already_submitted`).
#[utoipa::path(post, path = "/api/v1/attempts/{id}/submit", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = SubmitRequest,
    responses((status = 200, body = ResultView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn submit_attempt(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<SubmitRequest>,
) -> ApiResult<Json<ResultView>> {
    let caller = Caller::from(&session);
    let answers: Vec<(i64, Answer)> = req
        .answers
        .into_iter()
        .map(|a| {
            let answer = match (a.choices, a.number) {
                (_, Some(n)) => Answer::Number(n),
                (choices, None) => Answer::Choices(choices.unwrap_or_default()),
            };
            (a.question_id, answer)
        })
        .collect();
    let (caller, answers, ctx) = (&caller, &answers, &state.ctx);
    let result = state
        .ctx
        .transaction(|conn| {
            quizzes::submit_attempt(conn, ctx, caller, id, answers, Utc::now()).scope_boxed()
        })
        .await?;
    Ok(Json(result.into()))
}

/// Anyone verifies a certificate by its code.
#[utoipa::path(get, path = "/api/v1/certificates/{code}", tag = "training",
    params(("code" = String, Path)),
    responses((status = 200, body = CertificateView), (status = 404, body = ErrorBody)))]
pub async fn verify_certificate(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<CertificateView>> {
    let mut conn = state.ctx.conn().await?;
    Ok(Json(
        certificates::verify(&mut conn, &state.ctx, &code)
            .await?
            .into(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct QuestionStatsView {
    pub question_id: i64,
    pub quiz_id: i64,
    pub prompt_fr: String,
    pub prompt_en: String,
    /// Answers submitted to it.
    pub answers: i64,
    /// Of which wrong.
    pub wrong: i64,
}

#[derive(Serialize, ToSchema)]
pub struct StatisticsView {
    pub enrolled: i64,
    /// Enrolled members who marked every lesson done.
    pub finished_lessons: i64,
    /// Members ever certified.
    pub certified: i64,
    /// Certificates valid now.
    pub valid_certificates: i64,
    /// The questions answered wrong most often (by share), the hardest first.
    pub hardest_questions: Vec<QuestionStatsView>,
}

/// A course's statistics, for trainers.
#[utoipa::path(get, path = "/api/v1/courses/{id}/statistics", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = StatisticsView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn statistics(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<StatisticsView>> {
    let mut conn = state.ctx.conn().await?;
    let stats = courses::statistics(&mut conn, &session, id, Utc::now()).await?;
    Ok(Json(StatisticsView {
        enrolled: stats.counts.enrolled,
        finished_lessons: stats.counts.finished_lessons,
        certified: stats.counts.certified,
        valid_certificates: stats.counts.valid_certificates,
        hardest_questions: stats
            .hardest
            .into_iter()
            .map(|q| QuestionStatsView {
                question_id: q.question_id,
                quiz_id: q.quiz_id,
                prompt_fr: q.prompt_fr,
                prompt_en: q.prompt_en,
                answers: q.answers,
                wrong: q.wrong,
            })
            .collect(),
    }))
}
