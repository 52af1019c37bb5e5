//! A trainer changes a course after writing it: `PATCH /api/v1/courses/{id}` (texts,
//! audience, prerequisites, cover, validity), its lessons (`/api/v1/courses/{id}/lessons`,
//! `/api/v1/lessons/{id}`, the order at `/api/v1/courses/{id}/lessons/order`), its quizzes
//! (`/api/v1/courses/{id}/quizzes`, `/api/v1/quizzes/{id}`) and their questions
//! (`/api/v1/quizzes/{id}/questions`, `/api/v1/questions/{id}`). A quiz's questions change
//! only while the course is a draft and nobody attempted it (`course_not_draft`,
//! `course_has_attempts`): see `cenacle_core::course_authoring`.

use crate::{
    error::{ApiResult, ErrorBody},
    extract::{ApiJson, Auth},
    routes::training::{CourseSummary, LessonView, QuestionRequest, QuizView},
    AppState,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use cenacle_core::{
    course_authoring::{self as authoring, CourseEditInput, QuizSettingsInput},
    courses::LessonInput,
    ScopedFutureExt,
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// A change to a course's texts and settings: a field left out stays as it is; `null`
/// clears a nullable one (the cover, the audience's group, reputation or badge, the
/// validity) and is refused for the others (`invalid_body`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CourseEditRequest {
    #[serde(default, deserialize_with = "given")]
    #[schema(nullable = false)]
    pub title_fr: Option<String>,
    #[serde(default, deserialize_with = "given")]
    #[schema(nullable = false)]
    pub title_en: Option<String>,
    #[serde(default, deserialize_with = "given")]
    #[schema(nullable = false)]
    pub summary_fr: Option<String>,
    #[serde(default, deserialize_with = "given")]
    #[schema(nullable = false)]
    pub summary_en: Option<String>,
    /// One of your uploads (`POST /api/v1/media`); `null`: no cover.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub cover_media_id: Option<Option<i64>>,
    /// As when writing the course; a change between everyone and a restricted audience is
    /// refused (`course_audience_visibility_locked`): the discussion group stays as it is.
    #[serde(default, deserialize_with = "given")]
    #[schema(nullable = false)]
    pub audience: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub audience_group: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub audience_reputation: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub audience_badge: Option<Option<String>>,
    /// Days a certificate stays valid; `null`: forever.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub validity_days: Option<Option<i32>>,
    /// The whole new list of required courses; `[]` clears it.
    #[serde(default, deserialize_with = "given")]
    #[schema(nullable = false)]
    pub prerequisites: Option<Vec<i64>>,
}

/// A field that, when present, holds a value (`null` is refused).
fn given<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A field that, when present, holds a value or `null` (cleared): told apart from absent.
/// (Also the notification preferences' `time_zone`.)
pub(crate) fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Change a course's texts, audience, prerequisites, cover and validity: only the fields
/// given (`null` clears a nullable one).
#[utoipa::path(patch, path = "/api/v1/courses/{id}", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = CourseEditRequest,
    responses((status = 200, body = CourseSummary), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn edit_course(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<CourseEditRequest>,
) -> ApiResult<Json<CourseSummary>> {
    let change = CourseEditInput {
        title_fr: req.title_fr,
        title_en: req.title_en,
        summary_fr: req.summary_fr,
        summary_en: req.summary_en,
        cover_media_id: req.cover_media_id,
        audience: req.audience,
        audience_group: req.audience_group,
        audience_reputation: req.audience_reputation,
        audience_badge: req.audience_badge,
        validity_days: req.validity_days,
        prerequisites: req.prerequisites,
    };
    let (session, change) = (&session, &change);
    let row = state
        .ctx
        .transaction(|conn| authoring::edit_course(conn, session, id, change).scope_boxed())
        .await?;
    Ok(Json(CourseSummary::from(&row)))
}

/// A lesson's texts (its place is the order's business).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LessonTextRequest {
    pub title_fr: String,
    pub title_en: String,
    /// Markdown.
    #[serde(default)]
    pub body_fr: String,
    #[serde(default)]
    pub body_en: String,
    /// Estimated minutes (1 to 1440).
    pub minutes: i32,
}

impl From<LessonTextRequest> for LessonInput {
    fn from(r: LessonTextRequest) -> Self {
        LessonInput {
            position: 0,
            title_fr: r.title_fr,
            title_en: r.title_en,
            body_fr: r.body_fr,
            body_en: r.body_en,
            minutes: r.minutes,
        }
    }
}

/// Add a lesson after the course's last one.
#[utoipa::path(post, path = "/api/v1/courses/{id}/lessons", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = LessonTextRequest,
    responses((status = 201, body = LessonView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_lesson(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<LessonTextRequest>,
) -> ApiResult<(StatusCode, Json<LessonView>)> {
    let lesson = LessonInput::from(req);
    let (session, lesson) = (&session, &lesson);
    let row = state
        .ctx
        .transaction(|conn| authoring::add_lesson(conn, session, id, lesson).scope_boxed())
        .await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Edit a lesson's texts and time.
#[utoipa::path(put, path = "/api/v1/lessons/{id}", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = LessonTextRequest,
    responses((status = 200, body = LessonView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_lesson(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<LessonTextRequest>,
) -> ApiResult<Json<LessonView>> {
    let lesson = LessonInput::from(req);
    let (session, lesson) = (&session, &lesson);
    let row = state
        .ctx
        .transaction(|conn| authoring::edit_lesson(conn, session, id, lesson).scope_boxed())
        .await?;
    Ok(Json(row.into()))
}

/// Delete a lesson: the others close the gap; a published course keeps one
/// (`course_without_lessons`).
#[utoipa::path(delete, path = "/api/v1/lessons/{id}", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn delete_lesson(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let session = &session;
    state
        .ctx
        .transaction(|conn| authoring::delete_lesson(conn, session, id).scope_boxed())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LessonOrderRequest {
    /// Every lesson of the course, once, in the new order (`lesson_order_gaps` otherwise).
    pub lessons: Vec<i64>,
}

/// Reorder a course's lessons; quizzes placed after a lesson move with it.
#[utoipa::path(put, path = "/api/v1/courses/{id}/lessons/order", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = LessonOrderRequest,
    responses((status = 200, body = Vec<LessonView>), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reorder_lessons(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<LessonOrderRequest>,
) -> ApiResult<Json<Vec<LessonView>>> {
    let (session, ids) = (&session, &req.lessons);
    let rows = state
        .ctx
        .transaction(|conn| authoring::reorder_lessons(conn, session, id, ids).scope_boxed())
        .await?;
    Ok(Json(rows.into_iter().map(LessonView::from).collect()))
}

/// A quiz's settings, without its questions.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuizSettingsRequest {
    /// Shown after the lesson at this position (none: at the end).
    pub after_lesson: Option<i32>,
    pub title_fr: String,
    pub title_en: String,
    /// 0 to 100.
    pub pass_mark: i32,
    pub max_attempts: Option<i32>,
    #[serde(default)]
    pub cool_down_seconds: i32,
}

impl From<QuizSettingsRequest> for QuizSettingsInput {
    fn from(r: QuizSettingsRequest) -> Self {
        QuizSettingsInput {
            after_lesson: r.after_lesson,
            title_fr: r.title_fr,
            title_en: r.title_en,
            pass_mark: r.pass_mark,
            max_attempts: r.max_attempts,
            cool_down_seconds: r.cool_down_seconds,
        }
    }
}

/// Add a quiz, without questions yet, to a draft course.
#[utoipa::path(post, path = "/api/v1/courses/{id}/quizzes", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = QuizSettingsRequest,
    responses((status = 201, body = QuizView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn add_quiz(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<QuizSettingsRequest>,
) -> ApiResult<(StatusCode, Json<QuizView>)> {
    let settings = QuizSettingsInput::from(req);
    let (session, settings) = (&session, &settings);
    let row = state
        .ctx
        .transaction(|conn| authoring::add_quiz(conn, session, id, settings).scope_boxed())
        .await?;
    Ok((StatusCode::CREATED, Json(QuizView::from(&row))))
}

/// Edit a quiz's settings (at any time: they apply to attempts still to come).
#[utoipa::path(put, path = "/api/v1/quizzes/{id}", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = QuizSettingsRequest,
    responses((status = 200, body = QuizView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_quiz(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<QuizSettingsRequest>,
) -> ApiResult<Json<QuizView>> {
    let settings = QuizSettingsInput::from(req);
    let (session, settings) = (&session, &settings);
    let row = state
        .ctx
        .transaction(|conn| authoring::edit_quiz(conn, session, id, settings).scope_boxed())
        .await?;
    Ok(Json(QuizView::from(&row)))
}

/// Delete a quiz of a draft course nobody attempted.
#[utoipa::path(delete, path = "/api/v1/quizzes/{id}", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn delete_quiz(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let session = &session;
    state
        .ctx
        .transaction(|conn| authoring::delete_quiz(conn, session, id).scope_boxed())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct DraftChoiceView {
    pub id: i64,
    pub label_fr: String,
    pub label_en: String,
    pub correct: bool,
}

/// A question as its trainer reads it: with its answer.
#[derive(Serialize, ToSchema)]
pub struct DraftQuestionView {
    pub id: i64,
    pub position: i32,
    pub kind: String,
    pub prompt_fr: String,
    pub prompt_en: String,
    pub explanation_fr: String,
    pub explanation_en: String,
    pub numeric_answer: Option<f64>,
    pub numeric_tolerance: f64,
    pub choices: Vec<DraftChoiceView>,
}

#[derive(Serialize, ToSchema)]
pub struct QuizDraftView {
    pub quiz: QuizView,
    /// Learners attempted it: its questions no longer change.
    pub attempted: bool,
    pub questions: Vec<DraftQuestionView>,
}

/// A quiz's questions with their answers, for trainers.
#[utoipa::path(get, path = "/api/v1/quizzes/{id}/questions", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = QuizDraftView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn quiz_questions(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<QuizDraftView>> {
    let mut conn = state.ctx.conn().await?;
    let draft = authoring::quiz_draft(&mut conn, &session, id).await?;
    Ok(Json(QuizDraftView {
        quiz: QuizView::from(&draft.quiz),
        attempted: draft.attempted,
        questions: draft
            .questions
            .into_iter()
            .map(|(q, choices)| DraftQuestionView {
                id: q.id,
                position: q.position,
                kind: q.kind,
                prompt_fr: q.prompt_fr,
                prompt_en: q.prompt_en,
                explanation_fr: q.explanation_fr,
                explanation_en: q.explanation_en,
                numeric_answer: q.numeric_answer,
                numeric_tolerance: q.numeric_tolerance,
                choices: choices
                    .into_iter()
                    .map(|c| DraftChoiceView {
                        id: c.id,
                        label_fr: c.label_fr,
                        label_en: c.label_en,
                        correct: c.correct,
                    })
                    .collect(),
            })
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct QuestionCreated {
    pub id: i64,
}

/// Add a question at the end of a quiz (checked as when writing a course whole).
#[utoipa::path(post, path = "/api/v1/quizzes/{id}/questions", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = QuestionRequest,
    responses((status = 201, body = QuestionCreated), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn add_question(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<QuestionRequest>,
) -> ApiResult<(StatusCode, Json<QuestionCreated>)> {
    let question = req.into();
    let (session, question) = (&session, &question);
    let created = state
        .ctx
        .transaction(|conn| authoring::add_question(conn, session, id, question).scope_boxed())
        .await?;
    Ok((StatusCode::CREATED, Json(QuestionCreated { id: created })))
}

/// Rewrite a question whole (its choices are replaced).
#[utoipa::path(put, path = "/api/v1/questions/{id}", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = QuestionRequest,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_question(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<QuestionRequest>,
) -> ApiResult<StatusCode> {
    let question = req.into();
    let (session, question) = (&session, &question);
    state
        .ctx
        .transaction(|conn| authoring::edit_question(conn, session, id, question).scope_boxed())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/questions/{id}", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn delete_question(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let session = &session;
    state
        .ctx
        .transaction(|conn| authoring::delete_question(conn, session, id).scope_boxed())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
