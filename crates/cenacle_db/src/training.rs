//! The training space's storage: courses, lessons, quizzes with their questions and choices,
//! enrolments, lessons done, quiz attempts and answers, and certificates.

use crate::DbError;
use chrono::{DateTime, Utc};
use diesel::{
    sql_types::{Array, BigInt, Bool, Double, Int4, Nullable, Text, Timestamptz},
    OptionalExtension, QueryableByName,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, QueryableByName)]
pub struct CourseRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub title_fr: String,
    #[diesel(sql_type = Text)]
    pub title_en: String,
    #[diesel(sql_type = Text)]
    pub summary_fr: String,
    #[diesel(sql_type = Text)]
    pub summary_en: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub cover_media_id: Option<i64>,
    /// `None`: the instance's own course (the built-in getting-started one).
    #[diesel(sql_type = Nullable<BigInt>)]
    pub owner_id: Option<i64>,
    #[diesel(sql_type = Bool)]
    pub published: bool,
    #[diesel(sql_type = Text)]
    pub audience: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub audience_group_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub audience_reputation: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub audience_badge_id: Option<i64>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub validity_days: Option<i32>,
    #[diesel(sql_type = BigInt)]
    pub badge_id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub unlock_group_id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    pub discussion_group_id: i64,
    #[diesel(sql_type = Array<BigInt>)]
    pub prerequisites: Vec<i64>,
    /// Which built-in course this is (`getting_started`), if it is one.
    #[diesel(sql_type = Nullable<Text>)]
    pub builtin: Option<String>,
}

const COURSE_COLUMNS: &str = "c.id, c.title_fr, c.title_en, c.summary_fr, c.summary_en, \
    c.cover_media_id, c.owner_id, c.published, c.audience, c.audience_group_id, \
    c.audience_reputation, c.audience_badge_id, c.validity_days, c.badge_id, \
    c.unlock_group_id, c.discussion_group_id, c.builtin, \
    ARRAY(SELECT required_id FROM course_prerequisite p WHERE p.course_id = c.id \
          ORDER BY required_id) AS prerequisites";

pub struct NewCourse<'a> {
    pub title_fr: &'a str,
    pub title_en: &'a str,
    pub summary_fr: &'a str,
    pub summary_en: &'a str,
    pub cover_media_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub published: bool,
    pub audience: &'a str,
    pub audience_group_id: Option<i64>,
    pub audience_reputation: Option<i64>,
    pub audience_badge_id: Option<i64>,
    pub validity_days: Option<i32>,
    pub badge_id: i64,
    pub unlock_group_id: Option<i64>,
    pub discussion_group_id: i64,
}

/// The course's own badge, named after it.
pub async fn insert_badge(
    conn: &mut AsyncPgConnection,
    slug: &str,
    name_en: &str,
    name_fr: &str,
) -> Result<i64, DbError> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let row: Id = diesel::sql_query(
        "INSERT INTO badge (slug, tier, name_en, name_fr, description_en, description_fr, honorific) \
         VALUES ($1, 'silver', $2, $3, 'Certified: ' || $2, 'Certifié : ' || $3, FALSE) RETURNING id",
    )
    .bind::<Text, _>(slug)
    .bind::<Text, _>(name_en)
    .bind::<Text, _>(name_fr)
    .get_result(conn)
    .await?;
    Ok(row.id)
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

pub async fn insert_course(
    conn: &mut AsyncPgConnection,
    c: &NewCourse<'_>,
) -> Result<i64, DbError> {
    let row: Id = diesel::sql_query(
        "INSERT INTO course (title_fr, title_en, summary_fr, summary_en, cover_media_id, owner_id, \
           published, audience, audience_group_id, audience_reputation, audience_badge_id, \
           validity_days, badge_id, unlock_group_id, discussion_group_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
    )
    .bind::<Text, _>(c.title_fr)
    .bind::<Text, _>(c.title_en)
    .bind::<Text, _>(c.summary_fr)
    .bind::<Text, _>(c.summary_en)
    .bind::<Nullable<BigInt>, _>(c.cover_media_id)
    .bind::<Nullable<BigInt>, _>(c.owner_id)
    .bind::<Bool, _>(c.published)
    .bind::<Text, _>(c.audience)
    .bind::<Nullable<BigInt>, _>(c.audience_group_id)
    .bind::<Nullable<BigInt>, _>(c.audience_reputation)
    .bind::<Nullable<BigInt>, _>(c.audience_badge_id)
    .bind::<Nullable<Int4>, _>(c.validity_days)
    .bind::<BigInt, _>(c.badge_id)
    .bind::<Nullable<BigInt>, _>(c.unlock_group_id)
    .bind::<BigInt, _>(c.discussion_group_id)
    .get_result(conn)
    .await?;
    Ok(row.id)
}

pub async fn insert_prerequisite(
    conn: &mut AsyncPgConnection,
    course_id: i64,
    required_id: i64,
) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO course_prerequisite (course_id, required_id) VALUES ($1, $2) \
         ON CONFLICT DO NOTHING",
    )
    .bind::<BigInt, _>(course_id)
    .bind::<BigInt, _>(required_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_published(
    conn: &mut AsyncPgConnection,
    course_id: i64,
    published: bool,
) -> Result<(), DbError> {
    diesel::sql_query("UPDATE course SET published = $2 WHERE id = $1")
        .bind::<BigInt, _>(course_id)
        .bind::<Bool, _>(published)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn course(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<CourseRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {COURSE_COLUMNS} FROM course c WHERE c.id = $1"
    ))
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await
    .optional()?)
}

/// The owner of the course whose discussion group is `group_id` (`Some(None)`: the
/// instance's own course), or `None` when the group is no course's.
pub async fn discussion_course_owner(
    conn: &mut AsyncPgConnection,
    group_id: i64,
) -> Result<Option<Option<i64>>, DbError> {
    #[derive(QueryableByName)]
    struct Owner {
        #[diesel(sql_type = Nullable<BigInt>)]
        owner_id: Option<i64>,
    }
    Ok(
        diesel::sql_query("SELECT owner_id FROM course WHERE discussion_group_id = $1")
            .bind::<BigInt, _>(group_id)
            .get_result::<Owner>(conn)
            .await
            .optional()?
            .map(|o| o.owner_id),
    )
}

/// Published courses, and the drafts `viewer` owns (every draft when `all_drafts`).
pub async fn courses(
    conn: &mut AsyncPgConnection,
    viewer: i64,
    all_drafts: bool,
) -> Result<Vec<CourseRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {COURSE_COLUMNS} FROM course c \
         WHERE c.published OR c.owner_id = $1 OR $2 ORDER BY c.id DESC LIMIT 200"
    ))
    .bind::<BigInt, _>(viewer)
    .bind::<Bool, _>(all_drafts)
    .load(conn)
    .await?)
}

/// A course's titles, for lists that name courses.
#[derive(Debug, Clone, QueryableByName)]
pub struct CourseTitles {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub title_fr: String,
    #[diesel(sql_type = Text)]
    pub title_en: String,
}

/// The courses the course `course_id` may require, titles only, in one query: the `newest`
/// published courses (the last created: highest ids), and always those it requires already
/// (`required`), published or not and however old, so that saving its editor never drops a
/// prerequisite it did not show.
pub async fn requirable_courses(
    conn: &mut AsyncPgConnection,
    course_id: i64,
    required: &[i64],
    newest: i64,
) -> Result<Vec<CourseTitles>, DbError> {
    Ok(diesel::sql_query(
        "SELECT id, title_fr, title_en FROM course \
         WHERE id <> $1 AND (id = ANY($2) OR id IN (\
             SELECT id FROM course WHERE published AND id <> $1 ORDER BY id DESC LIMIT $3)) \
         ORDER BY id DESC",
    )
    .bind::<BigInt, _>(course_id)
    .bind::<Array<BigInt>, _>(required)
    .bind::<BigInt, _>(newest)
    .load(conn)
    .await?)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct LessonRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub course_id: i64,
    #[diesel(sql_type = Int4)]
    pub position: i32,
    #[diesel(sql_type = Text)]
    pub title_fr: String,
    #[diesel(sql_type = Text)]
    pub title_en: String,
    #[diesel(sql_type = Text)]
    pub body_fr: String,
    #[diesel(sql_type = Text)]
    pub body_en: String,
    #[diesel(sql_type = Int4)]
    pub minutes: i32,
}

const LESSON_COLUMNS: &str =
    "id, course_id, position, title_fr, title_en, body_fr, body_en, minutes";

pub async fn insert_lesson(
    conn: &mut AsyncPgConnection,
    course_id: i64,
    position: i32,
    title: (&str, &str),
    body: (&str, &str),
    minutes: i32,
) -> Result<i64, DbError> {
    let row: Id = diesel::sql_query(
        "INSERT INTO lesson (course_id, position, title_fr, title_en, body_fr, body_en, minutes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind::<BigInt, _>(course_id)
    .bind::<Int4, _>(position)
    .bind::<Text, _>(title.0)
    .bind::<Text, _>(title.1)
    .bind::<Text, _>(body.0)
    .bind::<Text, _>(body.1)
    .bind::<Int4, _>(minutes)
    .get_result(conn)
    .await?;
    Ok(row.id)
}

pub async fn lessons(
    conn: &mut AsyncPgConnection,
    course_id: i64,
) -> Result<Vec<LessonRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {LESSON_COLUMNS} FROM lesson WHERE course_id = $1 ORDER BY position"
    ))
    .bind::<BigInt, _>(course_id)
    .load(conn)
    .await?)
}

pub async fn lesson(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<LessonRow>, DbError> {
    Ok(
        diesel::sql_query(format!("SELECT {LESSON_COLUMNS} FROM lesson WHERE id = $1"))
            .bind::<BigInt, _>(id)
            .get_result(conn)
            .await
            .optional()?,
    )
}

#[derive(Debug, Clone, QueryableByName)]
pub struct QuizRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub course_id: i64,
    #[diesel(sql_type = Int4)]
    pub position: i32,
    #[diesel(sql_type = Nullable<Int4>)]
    pub after_lesson: Option<i32>,
    #[diesel(sql_type = Text)]
    pub title_fr: String,
    #[diesel(sql_type = Text)]
    pub title_en: String,
    #[diesel(sql_type = Int4)]
    pub pass_mark: i32,
    #[diesel(sql_type = Nullable<Int4>)]
    pub max_attempts: Option<i32>,
    #[diesel(sql_type = Int4)]
    pub cool_down_seconds: i32,
}

const QUIZ_COLUMNS: &str = "id, course_id, position, after_lesson, title_fr, title_en, \
    pass_mark, max_attempts, cool_down_seconds";

pub struct NewQuiz<'a> {
    pub course_id: i64,
    pub position: i32,
    pub after_lesson: Option<i32>,
    pub title_fr: &'a str,
    pub title_en: &'a str,
    pub pass_mark: i32,
    pub max_attempts: Option<i32>,
    pub cool_down_seconds: i32,
}

pub async fn insert_quiz(conn: &mut AsyncPgConnection, q: &NewQuiz<'_>) -> Result<i64, DbError> {
    let row: Id = diesel::sql_query(
        "INSERT INTO quiz (course_id, position, after_lesson, title_fr, title_en, pass_mark, \
           max_attempts, cool_down_seconds) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind::<BigInt, _>(q.course_id)
    .bind::<Int4, _>(q.position)
    .bind::<Nullable<Int4>, _>(q.after_lesson)
    .bind::<Text, _>(q.title_fr)
    .bind::<Text, _>(q.title_en)
    .bind::<Int4, _>(q.pass_mark)
    .bind::<Nullable<Int4>, _>(q.max_attempts)
    .bind::<Int4, _>(q.cool_down_seconds)
    .get_result(conn)
    .await?;
    Ok(row.id)
}

pub async fn quizzes(
    conn: &mut AsyncPgConnection,
    course_id: i64,
) -> Result<Vec<QuizRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {QUIZ_COLUMNS} FROM quiz WHERE course_id = $1 ORDER BY position"
    ))
    .bind::<BigInt, _>(course_id)
    .load(conn)
    .await?)
}

pub async fn quiz(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<QuizRow>, DbError> {
    Ok(
        diesel::sql_query(format!("SELECT {QUIZ_COLUMNS} FROM quiz WHERE id = $1"))
            .bind::<BigInt, _>(id)
            .get_result(conn)
            .await
            .optional()?,
    )
}

#[derive(Debug, Clone, QueryableByName)]
pub struct QuestionRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Int4)]
    pub position: i32,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub prompt_fr: String,
    #[diesel(sql_type = Text)]
    pub prompt_en: String,
    #[diesel(sql_type = Text)]
    pub explanation_fr: String,
    #[diesel(sql_type = Text)]
    pub explanation_en: String,
    #[diesel(sql_type = Nullable<Double>)]
    pub numeric_answer: Option<f64>,
    #[diesel(sql_type = Double)]
    pub numeric_tolerance: f64,
}

pub struct NewQuestion<'a> {
    pub quiz_id: i64,
    pub position: i32,
    pub kind: &'a str,
    pub prompt: (&'a str, &'a str),
    pub explanation: (&'a str, &'a str),
    pub numeric_answer: Option<f64>,
    pub numeric_tolerance: f64,
}

pub async fn insert_question(
    conn: &mut AsyncPgConnection,
    q: &NewQuestion<'_>,
) -> Result<i64, DbError> {
    let row: Id = diesel::sql_query(
        "INSERT INTO quiz_question (quiz_id, position, kind, prompt_fr, prompt_en, \
           explanation_fr, explanation_en, numeric_answer, numeric_tolerance) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind::<BigInt, _>(q.quiz_id)
    .bind::<Int4, _>(q.position)
    .bind::<Text, _>(q.kind)
    .bind::<Text, _>(q.prompt.0)
    .bind::<Text, _>(q.prompt.1)
    .bind::<Text, _>(q.explanation.0)
    .bind::<Text, _>(q.explanation.1)
    .bind::<Nullable<Double>, _>(q.numeric_answer)
    .bind::<Double, _>(q.numeric_tolerance)
    .get_result(conn)
    .await?;
    Ok(row.id)
}

pub async fn questions(
    conn: &mut AsyncPgConnection,
    quiz_id: i64,
) -> Result<Vec<QuestionRow>, DbError> {
    Ok(diesel::sql_query(
        "SELECT id, position, kind, prompt_fr, prompt_en, explanation_fr, explanation_en, \
           numeric_answer, numeric_tolerance FROM quiz_question WHERE quiz_id = $1 \
         ORDER BY position, id",
    )
    .bind::<BigInt, _>(quiz_id)
    .load(conn)
    .await?)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct ChoiceRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub question_id: i64,
    #[diesel(sql_type = Text)]
    pub label_fr: String,
    #[diesel(sql_type = Text)]
    pub label_en: String,
    #[diesel(sql_type = Bool)]
    pub correct: bool,
}

pub async fn insert_choice(
    conn: &mut AsyncPgConnection,
    question_id: i64,
    position: i32,
    label: (&str, &str),
    correct: bool,
) -> Result<i64, DbError> {
    let row: Id = diesel::sql_query(
        "INSERT INTO quiz_choice (question_id, position, label_fr, label_en, correct) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind::<BigInt, _>(question_id)
    .bind::<Int4, _>(position)
    .bind::<Text, _>(label.0)
    .bind::<Text, _>(label.1)
    .bind::<Bool, _>(correct)
    .get_result(conn)
    .await?;
    Ok(row.id)
}

/// Every choice of every question of a quiz.
pub async fn choices(
    conn: &mut AsyncPgConnection,
    quiz_id: i64,
) -> Result<Vec<ChoiceRow>, DbError> {
    Ok(diesel::sql_query(
        "SELECT c.id, c.question_id, c.label_fr, c.label_en, c.correct FROM quiz_choice c \
         JOIN quiz_question q ON q.id = c.question_id WHERE q.quiz_id = $1 \
         ORDER BY c.question_id, c.position, c.id",
    )
    .bind::<BigInt, _>(quiz_id)
    .load(conn)
    .await?)
}

/// Enrols the member; whether they were not enrolled before.
pub async fn enrol(
    conn: &mut AsyncPgConnection,
    course_id: i64,
    person_id: i64,
) -> Result<bool, DbError> {
    Ok(diesel::sql_query(
        "INSERT INTO course_enrolment (course_id, person_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind::<BigInt, _>(course_id)
    .bind::<BigInt, _>(person_id)
    .execute(conn)
    .await?
        == 1)
}

/// Whether `person_id` is enrolled, locking their enrolment: starting and submitting the
/// quizzes of one course take turns per member, so that two requests cannot both pass the
/// attempts limit.
pub async fn lock_enrolment(
    conn: &mut AsyncPgConnection,
    course_id: i64,
    person_id: i64,
) -> Result<bool, DbError> {
    #[derive(QueryableByName)]
    struct One {
        #[diesel(sql_type = BigInt)]
        #[allow(dead_code)]
        course_id: i64,
    }
    let row: Option<One> = diesel::sql_query(
        "SELECT course_id FROM course_enrolment WHERE course_id = $1 AND person_id = $2 FOR UPDATE",
    )
    .bind::<BigInt, _>(course_id)
    .bind::<BigInt, _>(person_id)
    .get_result(conn)
    .await
    .optional()?;
    Ok(row.is_some())
}

pub async fn enrolled_at(
    conn: &mut AsyncPgConnection,
    course_id: i64,
    person_id: i64,
) -> Result<Option<DateTime<Utc>>, DbError> {
    #[derive(QueryableByName)]
    struct At {
        #[diesel(sql_type = Timestamptz)]
        enrolled_at: DateTime<Utc>,
    }
    let row: Option<At> = diesel::sql_query(
        "SELECT enrolled_at FROM course_enrolment WHERE course_id = $1 AND person_id = $2",
    )
    .bind::<BigInt, _>(course_id)
    .bind::<BigInt, _>(person_id)
    .get_result(conn)
    .await
    .optional()?;
    Ok(row.map(|r| r.enrolled_at))
}

pub async fn mark_done(
    conn: &mut AsyncPgConnection,
    lesson_id: i64,
    person_id: i64,
) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO lesson_done (lesson_id, person_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind::<BigInt, _>(lesson_id)
    .bind::<BigInt, _>(person_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The lessons of a course `person_id` has done.
pub async fn lessons_done(
    conn: &mut AsyncPgConnection,
    course_id: i64,
    person_id: i64,
) -> Result<Vec<i64>, DbError> {
    Ok(diesel::sql_query(
        "SELECT d.lesson_id AS id FROM lesson_done d JOIN lesson l ON l.id = d.lesson_id \
         WHERE l.course_id = $1 AND d.person_id = $2 ORDER BY l.position",
    )
    .bind::<BigInt, _>(course_id)
    .bind::<BigInt, _>(person_id)
    .load::<Id>(conn)
    .await?
    .into_iter()
    .map(|r| r.id)
    .collect())
}

#[derive(Debug, Clone, QueryableByName)]
pub struct AttemptRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub quiz_id: i64,
    #[diesel(sql_type = BigInt)]
    pub person_id: i64,
    #[diesel(sql_type = BigInt)]
    pub seed: i64,
    #[diesel(sql_type = Timestamptz)]
    pub started_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub submitted_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub score: Option<i32>,
    #[diesel(sql_type = Nullable<Bool>)]
    pub passed: Option<bool>,
}

const ATTEMPT_COLUMNS: &str =
    "id, quiz_id, person_id, seed, started_at, submitted_at, score, passed";

pub async fn open_attempt(
    conn: &mut AsyncPgConnection,
    quiz_id: i64,
    person_id: i64,
) -> Result<Option<AttemptRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {ATTEMPT_COLUMNS} FROM quiz_attempt \
         WHERE quiz_id = $1 AND person_id = $2 AND submitted_at IS NULL"
    ))
    .bind::<BigInt, _>(quiz_id)
    .bind::<BigInt, _>(person_id)
    .get_result(conn)
    .await
    .optional()?)
}

/// Opens an attempt started at `started_at`: the caller's clock, the one the cool-down and
/// the certificate's cycle are reckoned on (never the database's `now()`).
pub async fn insert_attempt(
    conn: &mut AsyncPgConnection,
    quiz_id: i64,
    person_id: i64,
    seed: i64,
    started_at: DateTime<Utc>,
) -> Result<AttemptRow, DbError> {
    Ok(diesel::sql_query(format!(
        "INSERT INTO quiz_attempt (quiz_id, person_id, seed, started_at) VALUES ($1, $2, $3, $4) \
         RETURNING {ATTEMPT_COLUMNS}"
    ))
    .bind::<BigInt, _>(quiz_id)
    .bind::<BigInt, _>(person_id)
    .bind::<BigInt, _>(seed)
    .bind::<Timestamptz, _>(started_at)
    .get_result(conn)
    .await?)
}

pub async fn attempt(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<AttemptRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {ATTEMPT_COLUMNS} FROM quiz_attempt WHERE id = $1"
    ))
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await
    .optional()?)
}

/// The attempts of this cycle (submitted after `since`, the current certificate's issue, or
/// ever): how many were submitted, and when the latest failed one was. An attempt belongs to
/// the cycle it was submitted in: one started before the certificate and submitted after is
/// the new cycle's (the certifying attempt itself was submitted at the issue, not after).
pub async fn attempt_cycle(
    conn: &mut AsyncPgConnection,
    quiz_id: i64,
    person_id: i64,
    since: Option<DateTime<Utc>>,
) -> Result<(i64, Option<DateTime<Utc>>), DbError> {
    #[derive(QueryableByName)]
    struct Cycle {
        #[diesel(sql_type = BigInt)]
        submitted: i64,
        #[diesel(sql_type = Nullable<Timestamptz>)]
        last_failed: Option<DateTime<Utc>>,
    }
    let row: Cycle = diesel::sql_query(
        "SELECT count(*) AS submitted, \
           max(submitted_at) FILTER (WHERE NOT passed) AS last_failed \
         FROM quiz_attempt WHERE quiz_id = $1 AND person_id = $2 AND submitted_at IS NOT NULL \
           AND ($3::timestamptz IS NULL OR submitted_at > $3)",
    )
    .bind::<BigInt, _>(quiz_id)
    .bind::<BigInt, _>(person_id)
    .bind::<Nullable<Timestamptz>, _>(since)
    .get_result(conn)
    .await?;
    Ok((row.submitted, row.last_failed))
}

pub async fn insert_answer(
    conn: &mut AsyncPgConnection,
    attempt_id: i64,
    question_id: i64,
    choice_ids: &[i64],
    numeric_value: Option<f64>,
    correct: bool,
) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO quiz_answer (attempt_id, question_id, choice_ids, numeric_value, correct) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind::<BigInt, _>(attempt_id)
    .bind::<BigInt, _>(question_id)
    .bind::<Array<BigInt>, _>(choice_ids)
    .bind::<Nullable<Double>, _>(numeric_value)
    .bind::<Bool, _>(correct)
    .execute(conn)
    .await?;
    Ok(())
}

/// Closes an attempt still open at `submitted_at`, the caller's clock as for its start
/// (`None` when another request submitted it first: the row is updated once, whatever the
/// interleaving).
pub async fn submit_attempt(
    conn: &mut AsyncPgConnection,
    id: i64,
    score: i32,
    passed: bool,
    submitted_at: DateTime<Utc>,
) -> Result<Option<AttemptRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "UPDATE quiz_attempt SET submitted_at = $4, score = $2, passed = $3 \
         WHERE id = $1 AND submitted_at IS NULL RETURNING {ATTEMPT_COLUMNS}"
    ))
    .bind::<BigInt, _>(id)
    .bind::<Int4, _>(score)
    .bind::<Bool, _>(passed)
    .bind::<Timestamptz, _>(submitted_at)
    .get_result(conn)
    .await
    .optional()?)
}

/// A member's submitted attempts at a course's quizzes, latest first.
pub async fn attempts(
    conn: &mut AsyncPgConnection,
    course_id: i64,
    person_id: i64,
) -> Result<Vec<AttemptRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {ATTEMPT_COLUMNS} FROM quiz_attempt WHERE person_id = $2 \
           AND quiz_id IN (SELECT id FROM quiz WHERE course_id = $1) \
         ORDER BY id DESC"
    ))
    .bind::<BigInt, _>(course_id)
    .bind::<BigInt, _>(person_id)
    .load(conn)
    .await?)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct CertificateRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub code: String,
    #[diesel(sql_type = BigInt)]
    pub course_id: i64,
    #[diesel(sql_type = BigInt)]
    pub person_id: i64,
    #[diesel(sql_type = Timestamptz)]
    pub issued_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub expires_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub granted_group: Option<i64>,
    /// The badge award this certificate made, which its expiry revokes.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub granted_badge_award: Option<i64>,
}

const CERTIFICATE_COLUMNS: &str =
    "id, code, course_id, person_id, issued_at, expires_at, granted_group, granted_badge_award";

pub async fn certificate(
    conn: &mut AsyncPgConnection,
    course_id: i64,
    person_id: i64,
) -> Result<Option<CertificateRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {CERTIFICATE_COLUMNS} FROM certificate WHERE course_id = $1 AND person_id = $2"
    ))
    .bind::<BigInt, _>(course_id)
    .bind::<BigInt, _>(person_id)
    .get_result(conn)
    .await
    .optional()?)
}

pub async fn certificate_by_code(
    conn: &mut AsyncPgConnection,
    code: &str,
) -> Result<Option<CertificateRow>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {CERTIFICATE_COLUMNS} FROM certificate WHERE code = $1"
    ))
    .bind::<Text, _>(code)
    .get_result(conn)
    .await
    .optional()?)
}

/// Issues the certificate, or renews it in place (same code, new dates).
pub async fn issue_certificate(
    conn: &mut AsyncPgConnection,
    course_id: i64,
    person_id: i64,
    code: &str,
    issued_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<CertificateRow, DbError> {
    Ok(diesel::sql_query(format!(
        "INSERT INTO certificate (course_id, person_id, code, issued_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (course_id, person_id) DO UPDATE SET issued_at = EXCLUDED.issued_at, \
           expires_at = EXCLUDED.expires_at \
         RETURNING {CERTIFICATE_COLUMNS}"
    ))
    .bind::<BigInt, _>(course_id)
    .bind::<BigInt, _>(person_id)
    .bind::<Text, _>(code)
    .bind::<Timestamptz, _>(issued_at)
    .bind::<Nullable<Timestamptz>, _>(expires_at)
    .get_result(conn)
    .await?)
}

/// What a certificate grants while valid, and remembers granting so that its expiry takes
/// back that and nothing else: the course's badge (the award it made) or the membership of
/// the group the course unlocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    BadgeAward,
    UnlockedGroup,
}

impl Grant {
    /// The certificate's column remembering the grant.
    fn remembered_in(self) -> &'static str {
        match self {
            Grant::BadgeAward => "granted_badge_award",
            Grant::UnlockedGroup => "granted_group",
        }
    }

    /// The course's column naming what it grants (the badge, the group).
    fn granted_by(self) -> &'static str {
        match self {
            Grant::BadgeAward => "badge_id",
            Grant::UnlockedGroup => "unlock_group_id",
        }
    }
}

/// Remembers (or forgets, with `None`) what the certificate granted: the award's id, the
/// group's.
pub async fn set_granted(
    conn: &mut AsyncPgConnection,
    certificate_id: i64,
    grant: Grant,
    granted: Option<i64>,
) -> Result<(), DbError> {
    diesel::sql_query(format!(
        "UPDATE certificate SET {} = $2 WHERE id = $1",
        grant.remembered_in()
    ))
    .bind::<BigInt, _>(certificate_id)
    .bind::<Nullable<BigInt>, _>(granted)
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets that any certificate of `person_id` gave them their membership of `group_id`: it
/// is gone (a ban put them out, they left), and a membership they get back later is theirs,
/// which no expiry of those certificates takes. Returns how many certificates forgot it.
pub async fn forget_granted_group(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    group_id: i64,
) -> Result<usize, DbError> {
    Ok(diesel::sql_query(
        "UPDATE certificate SET granted_group = NULL \
         WHERE person_id = $1 AND granted_group = $2",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<BigInt, _>(group_id)
    .execute(conn)
    .await?)
}

/// Another certificate of `person_id`, still valid at `now`, whose course grants `what` (the
/// badge's id, the group's) too: what an expiring certificate granted passes to it instead of
/// being taken back.
pub async fn other_valid_grant(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    (grant, what): (Grant, i64),
    except_certificate: i64,
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbError> {
    let found: Option<Id> = diesel::sql_query(format!(
        "SELECT c.id FROM certificate c JOIN course k ON k.id = c.course_id \
         WHERE c.person_id = $1 AND k.{} = $2 AND c.id <> $3 \
           AND (c.expires_at IS NULL OR c.expires_at > $4) \
         ORDER BY c.expires_at DESC NULLS FIRST LIMIT 1",
        grant.granted_by()
    ))
    .bind::<BigInt, _>(person_id)
    .bind::<BigInt, _>(what)
    .bind::<BigInt, _>(except_certificate)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
    .optional()?;
    Ok(found.map(|f| f.id))
}

/// An expired certificate still granting something, with its course's badge.
#[derive(Debug, Clone, QueryableByName)]
pub struct ExpiredGrant {
    #[diesel(embed)]
    pub certificate: CertificateRow,
    #[diesel(sql_type = BigInt)]
    pub badge_id: i64,
}

/// Expired certificates whose unlocked membership or awarded badge is still held, after
/// `after` (an id: the sweep's cursor), read without a lock: each is claimed on its own by
/// [`claim_expired_grant`].
pub async fn expired_grant_ids(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    after: i64,
    limit: i64,
) -> Result<Vec<i64>, DbError> {
    let found: Vec<Id> = diesel::sql_query(
        "SELECT id FROM certificate \
         WHERE (granted_group IS NOT NULL OR granted_badge_award IS NOT NULL) \
           AND expires_at <= $1 AND id > $2 \
         ORDER BY id LIMIT $3",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<BigInt, _>(after)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?;
    Ok(found.into_iter().map(|f| f.id).collect())
}

/// The certificate, with its course's badge, if it still is expired and granting something,
/// claimed (SKIP LOCKED, so that several servers sweep side by side: one another holds is
/// theirs).
pub async fn claim_expired_grant(
    conn: &mut AsyncPgConnection,
    certificate_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<ExpiredGrant>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {CERTIFICATE_COLUMNS}, \
           (SELECT badge_id FROM course WHERE course.id = certificate.course_id) AS badge_id \
         FROM certificate \
         WHERE id = $1 AND (granted_group IS NOT NULL OR granted_badge_award IS NOT NULL) \
           AND expires_at <= $2 \
         FOR UPDATE SKIP LOCKED"
    ))
    .bind::<BigInt, _>(certificate_id)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
    .optional()?)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct CourseCounts {
    #[diesel(sql_type = BigInt)]
    pub enrolled: i64,
    /// Members holding a certificate, valid or not.
    #[diesel(sql_type = BigInt)]
    pub certified: i64,
    #[diesel(sql_type = BigInt)]
    pub valid_certificates: i64,
    /// Enrolled members who marked every lesson done.
    #[diesel(sql_type = BigInt)]
    pub finished_lessons: i64,
}

/// A course's counts, certificates valid at `now` (the clock expiry is decided on).
pub async fn course_counts(
    conn: &mut AsyncPgConnection,
    course_id: i64,
    now: DateTime<Utc>,
) -> Result<CourseCounts, DbError> {
    Ok(diesel::sql_query(
        "SELECT \
           (SELECT count(*) FROM course_enrolment WHERE course_id = $1) AS enrolled, \
           (SELECT count(*) FROM certificate WHERE course_id = $1) AS certified, \
           (SELECT count(*) FROM certificate WHERE course_id = $1 \
              AND (expires_at IS NULL OR expires_at > $2)) AS valid_certificates, \
           (SELECT count(*) FROM course_enrolment e WHERE e.course_id = $1 \
              AND (SELECT count(*) FROM lesson_done d JOIN lesson l ON l.id = d.lesson_id \
                   WHERE l.course_id = $1 AND d.person_id = e.person_id) \
                  = (SELECT count(*) FROM lesson WHERE course_id = $1)) AS finished_lessons",
    )
    .bind::<BigInt, _>(course_id)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await?)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct QuestionStats {
    #[diesel(sql_type = BigInt)]
    pub question_id: i64,
    #[diesel(sql_type = BigInt)]
    pub quiz_id: i64,
    #[diesel(sql_type = Text)]
    pub prompt_fr: String,
    #[diesel(sql_type = Text)]
    pub prompt_en: String,
    #[diesel(sql_type = BigInt)]
    pub answers: i64,
    #[diesel(sql_type = BigInt)]
    pub wrong: i64,
}

/// The course's questions, the most often answered wrong first (by share, then count).
pub async fn hardest_questions(
    conn: &mut AsyncPgConnection,
    course_id: i64,
    limit: i64,
) -> Result<Vec<QuestionStats>, DbError> {
    Ok(diesel::sql_query(
        "SELECT q.id AS question_id, q.quiz_id, q.prompt_fr, q.prompt_en, \
           count(a.question_id) AS answers, count(a.question_id) FILTER (WHERE NOT a.correct) AS wrong \
         FROM quiz_question q JOIN quiz z ON z.id = q.quiz_id \
         LEFT JOIN quiz_answer a ON a.question_id = q.id \
         WHERE z.course_id = $1 GROUP BY q.id \
         ORDER BY (count(a.question_id) FILTER (WHERE NOT a.correct))::float8 \
                  / greatest(count(a.question_id), 1) DESC, \
                  count(a.question_id) FILTER (WHERE NOT a.correct) DESC, q.id \
         LIMIT $2",
    )
    .bind::<BigInt, _>(course_id)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}

/// Which questions an attempt got right.
pub async fn answers_of(
    conn: &mut AsyncPgConnection,
    attempt_id: i64,
) -> Result<Vec<(i64, bool)>, DbError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        question_id: i64,
        #[diesel(sql_type = Bool)]
        correct: bool,
    }
    Ok(
        diesel::sql_query("SELECT question_id, correct FROM quiz_answer WHERE attempt_id = $1")
            .bind::<BigInt, _>(attempt_id)
            .load::<Row>(conn)
            .await?
            .into_iter()
            .map(|r| (r.question_id, r.correct))
            .collect(),
    )
}
