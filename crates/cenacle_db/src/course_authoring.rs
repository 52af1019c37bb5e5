//! What a trainer changes in a course after writing it: its texts and audience, its lessons
//! (edited, reordered, deleted), its quizzes' settings, questions and choices.

use crate::{training::CourseRow, DbError};
use diesel::{
    sql_types::{Array, BigInt, Bool, Double, Int4, Nullable, Text},
    OptionalExtension, QueryableByName,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// The course row, locked until the caller's transaction ends: two trainers' edits of one
/// course (a reorder and a delete, say) run one after the other and never leave a gap.
pub async fn lock_course(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> Result<Option<CourseRow>, DbError> {
    let locked: Option<Id> = diesel::sql_query("SELECT id FROM course WHERE id = $1 FOR UPDATE")
        .bind::<BigInt, _>(id)
        .get_result(conn)
        .await
        .optional()?;
    match locked {
        Some(_) => crate::training::course(conn, id).await,
        None => Ok(None),
    }
}

/// Holds the course row against trainers' changes (which lock it for update) until the
/// caller's transaction ends: a quiz attempt starting waits for a rewrite of its questions
/// in progress, and a rewrite waits for it (then sees the attempt, and refuses).
pub async fn share_course(conn: &mut AsyncPgConnection, id: i64) -> Result<(), DbError> {
    diesel::sql_query("SELECT id FROM course WHERE id = $1 FOR SHARE")
        .bind::<BigInt, _>(id)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

pub struct CourseEdit<'a> {
    pub title_fr: &'a str,
    pub title_en: &'a str,
    pub summary_fr: &'a str,
    pub summary_en: &'a str,
    pub cover_media_id: Option<i64>,
    pub audience: &'a str,
    pub audience_group_id: Option<i64>,
    pub audience_reputation: Option<i64>,
    pub audience_badge_id: Option<i64>,
    pub validity_days: Option<i32>,
}

pub async fn update_course(
    conn: &mut AsyncPgConnection,
    id: i64,
    c: &CourseEdit<'_>,
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE course SET title_fr = $2, title_en = $3, summary_fr = $4, summary_en = $5, \
           cover_media_id = $6, audience = $7, audience_group_id = $8, \
           audience_reputation = $9, audience_badge_id = $10, validity_days = $11 \
         WHERE id = $1",
    )
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(c.title_fr)
    .bind::<Text, _>(c.title_en)
    .bind::<Text, _>(c.summary_fr)
    .bind::<Text, _>(c.summary_en)
    .bind::<Nullable<BigInt>, _>(c.cover_media_id)
    .bind::<Text, _>(c.audience)
    .bind::<Nullable<BigInt>, _>(c.audience_group_id)
    .bind::<Nullable<BigInt>, _>(c.audience_reputation)
    .bind::<Nullable<BigInt>, _>(c.audience_badge_id)
    .bind::<Nullable<Int4>, _>(c.validity_days)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn clear_prerequisites(conn: &mut AsyncPgConnection, id: i64) -> Result<(), DbError> {
    diesel::sql_query("DELETE FROM course_prerequisite WHERE course_id = $1")
        .bind::<BigInt, _>(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether requiring `required` would make `course_id` require itself: one of them is the
/// course, or reaches it through the prerequisites already saved. Takes a transaction-wide
/// lock first, so that two trainers making two courses require each other at the same time
/// run one after the other (the second then sees the first's link).
pub async fn prerequisites_reach(
    conn: &mut AsyncPgConnection,
    course_id: i64,
    required: &[i64],
) -> Result<bool, DbError> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Bool)]
        found: bool,
    }
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('course_prerequisite'))")
        .execute(conn)
        .await?;
    let row: Found = diesel::sql_query(
        "WITH RECURSIVE reach(id) AS ( \
           SELECT unnest($2::bigint[]) \
           UNION \
           SELECT p.required_id FROM course_prerequisite p JOIN reach r ON p.course_id = r.id \
         ) SELECT EXISTS (SELECT 1 FROM reach WHERE id = $1) AS found",
    )
    .bind::<BigInt, _>(course_id)
    .bind::<Array<BigInt>, _>(required)
    .get_result(conn)
    .await?;
    Ok(row.found)
}

pub async fn update_lesson(
    conn: &mut AsyncPgConnection,
    id: i64,
    title: (&str, &str),
    body: (&str, &str),
    minutes: i32,
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE lesson SET title_fr = $2, title_en = $3, body_fr = $4, body_en = $5, \
           minutes = $6 WHERE id = $1",
    )
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(title.0)
    .bind::<Text, _>(title.1)
    .bind::<Text, _>(body.0)
    .bind::<Text, _>(body.1)
    .bind::<Int4, _>(minutes)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_lesson(conn: &mut AsyncPgConnection, id: i64) -> Result<(), DbError> {
    diesel::sql_query("DELETE FROM lesson WHERE id = $1")
        .bind::<BigInt, _>(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Numbers the course's lessons 1, 2, … in the order of `ids` (every lesson of the course,
/// checked by the caller). Positions are first made negative: the unique (course, position)
/// holds after each statement.
pub async fn set_lesson_order(
    conn: &mut AsyncPgConnection,
    course_id: i64,
    ids: &[i64],
) -> Result<(), DbError> {
    diesel::sql_query("UPDATE lesson SET position = -position WHERE course_id = $1")
        .bind::<BigInt, _>(course_id)
        .execute(conn)
        .await?;
    diesel::sql_query(
        "UPDATE lesson l SET position = o.ord::int \
         FROM unnest($2::bigint[]) WITH ORDINALITY AS o(id, ord) \
         WHERE l.id = o.id AND l.course_id = $1",
    )
    .bind::<BigInt, _>(course_id)
    .bind::<Array<BigInt>, _>(ids)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the quizzes placed after a lesson along with it: `old[i]` becomes `new[i]` (0: at
/// the end of the course), in one statement so that a swap does not chain.
pub async fn remap_quiz_lessons(
    conn: &mut AsyncPgConnection,
    course_id: i64,
    old: &[i32],
    new: &[i32],
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE quiz q SET after_lesson = NULLIF(m.new, 0) \
         FROM unnest($2::int[], $3::int[]) AS m(old, new) \
         WHERE q.course_id = $1 AND q.after_lesson = m.old",
    )
    .bind::<BigInt, _>(course_id)
    .bind::<Array<Int4>, _>(old)
    .bind::<Array<Int4>, _>(new)
    .execute(conn)
    .await?;
    Ok(())
}

pub struct QuizSettings<'a> {
    pub after_lesson: Option<i32>,
    pub title_fr: &'a str,
    pub title_en: &'a str,
    pub pass_mark: i32,
    pub max_attempts: Option<i32>,
    pub cool_down_seconds: i32,
}

pub async fn update_quiz(
    conn: &mut AsyncPgConnection,
    id: i64,
    q: &QuizSettings<'_>,
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE quiz SET after_lesson = $2, title_fr = $3, title_en = $4, pass_mark = $5, \
           max_attempts = $6, cool_down_seconds = $7 WHERE id = $1",
    )
    .bind::<BigInt, _>(id)
    .bind::<Nullable<Int4>, _>(q.after_lesson)
    .bind::<Text, _>(q.title_fr)
    .bind::<Text, _>(q.title_en)
    .bind::<Int4, _>(q.pass_mark)
    .bind::<Nullable<Int4>, _>(q.max_attempts)
    .bind::<Int4, _>(q.cool_down_seconds)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes a quiz and numbers the course's others 1, 2, … again.
pub async fn delete_quiz(
    conn: &mut AsyncPgConnection,
    course_id: i64,
    id: i64,
) -> Result<(), DbError> {
    diesel::sql_query("DELETE FROM quiz WHERE id = $1")
        .bind::<BigInt, _>(id)
        .execute(conn)
        .await?;
    diesel::sql_query("UPDATE quiz SET position = -position WHERE course_id = $1")
        .bind::<BigInt, _>(course_id)
        .execute(conn)
        .await?;
    diesel::sql_query(
        "UPDATE quiz q SET position = r.n::int FROM \
           (SELECT id, row_number() OVER (ORDER BY -position) AS n FROM quiz \
            WHERE course_id = $1) r WHERE q.id = r.id",
    )
    .bind::<BigInt, _>(course_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether anyone started an attempt at the quiz (submitted or not).
pub async fn quiz_has_attempts(
    conn: &mut AsyncPgConnection,
    quiz_id: i64,
) -> Result<bool, DbError> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Bool)]
        found: bool,
    }
    let row: Found =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM quiz_attempt WHERE quiz_id = $1) AS found")
            .bind::<BigInt, _>(quiz_id)
            .get_result(conn)
            .await?;
    Ok(row.found)
}

/// The quiz a question belongs to.
pub async fn question_quiz(
    conn: &mut AsyncPgConnection,
    question_id: i64,
) -> Result<Option<i64>, DbError> {
    let row: Option<Id> =
        diesel::sql_query("SELECT quiz_id AS id FROM quiz_question WHERE id = $1")
            .bind::<BigInt, _>(question_id)
            .get_result(conn)
            .await
            .optional()?;
    Ok(row.map(|r| r.id))
}

pub async fn update_question(
    conn: &mut AsyncPgConnection,
    id: i64,
    kind: &str,
    prompt: (&str, &str),
    explanation: (&str, &str),
    numeric: (Option<f64>, f64),
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE quiz_question SET kind = $2, prompt_fr = $3, prompt_en = $4, \
           explanation_fr = $5, explanation_en = $6, numeric_answer = $7, \
           numeric_tolerance = $8 WHERE id = $1",
    )
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(kind)
    .bind::<Text, _>(prompt.0)
    .bind::<Text, _>(prompt.1)
    .bind::<Text, _>(explanation.0)
    .bind::<Text, _>(explanation.1)
    .bind::<Nullable<Double>, _>(numeric.0)
    .bind::<Double, _>(numeric.1)
    .execute(conn)
    .await?;
    diesel::sql_query("DELETE FROM quiz_choice WHERE question_id = $1")
        .bind::<BigInt, _>(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes a question and numbers its quiz's others 1, 2, … again.
pub async fn delete_question(
    conn: &mut AsyncPgConnection,
    quiz_id: i64,
    id: i64,
) -> Result<(), DbError> {
    diesel::sql_query("DELETE FROM quiz_question WHERE id = $1")
        .bind::<BigInt, _>(id)
        .execute(conn)
        .await?;
    diesel::sql_query(
        "UPDATE quiz_question q SET position = r.n::int FROM \
           (SELECT id, row_number() OVER (ORDER BY position, id) AS n FROM quiz_question \
            WHERE quiz_id = $1) r WHERE q.id = r.id",
    )
    .bind::<BigInt, _>(quiz_id)
    .execute(conn)
    .await?;
    Ok(())
}
