//! Quiz attempts: an enrolled member starts (or resumes) an attempt and sees the questions
//! and choices in an order shuffled for that attempt, without correct flags or
//! explanations; the server scores the submission once, and a pass may issue the course's
//! certificate (`certificates`).

use crate::{certificates, courses::visible_course, Caller, Conn, Context, CoreError};
use cenacle_db::training::{self as store, AttemptRow, ChoiceRow, CourseRow, QuestionRow, QuizRow};
use cenacle_domain::numbers::parse_number;
use cenacle_domain::training::{
    is_correct, may_start_attempt, passed, score_percent, shuffle, Answer, QuestionKind,
    TrainingRefusal,
};
use chrono::{DateTime, Duration, Utc};

/// A choice as a learner sees it before submitting: no `correct` flag exists here to leak.
#[derive(Debug, Clone)]
pub struct ChoiceShown {
    pub id: i64,
    pub label_fr: String,
    pub label_en: String,
}

/// A question as a learner sees it before submitting: no answer, no explanation.
#[derive(Debug, Clone)]
pub struct QuestionShown {
    pub id: i64,
    pub kind: String,
    pub prompt_fr: String,
    pub prompt_en: String,
    pub choices: Vec<ChoiceShown>,
}

#[derive(Debug, Clone)]
pub struct OpenAttempt {
    pub attempt: AttemptRow,
    pub quiz: QuizRow,
    pub questions: Vec<QuestionShown>,
}

/// The questions in this attempt's order (fixed by its seed, so a resumed attempt shows the
/// same order), each one's choices shuffled too.
fn shown(seed: i64, questions: Vec<QuestionRow>, choices: &[ChoiceRow]) -> Vec<QuestionShown> {
    let mut shown: Vec<QuestionShown> = questions
        .into_iter()
        .map(|q| {
            let mut own: Vec<ChoiceShown> = choices
                .iter()
                .filter(|c| c.question_id == q.id)
                .map(|c| ChoiceShown {
                    id: c.id,
                    label_fr: c.label_fr.clone(),
                    label_en: c.label_en.clone(),
                })
                .collect();
            shuffle(&mut own, (seed as u64) ^ (q.id as u64).rotate_left(17));
            QuestionShown {
                id: q.id,
                kind: q.kind,
                prompt_fr: q.prompt_fr,
                prompt_en: q.prompt_en,
                choices: own,
            }
        })
        .collect();
    shuffle(&mut shown, seed as u64);
    shown
}

/// The quiz and the course it belongs to, if the caller may see that course.
async fn quiz_of(
    conn: &mut Conn,
    caller: &Caller,
    quiz_id: i64,
) -> Result<(QuizRow, CourseRow), CoreError> {
    let quiz = store::quiz(conn, quiz_id)
        .await?
        .ok_or(CoreError::NotFound("quiz"))?;
    let course = visible_course(conn, Some(caller), quiz.course_id).await?;
    Ok((quiz, course))
}

/// When the attempts of this cycle began: a certified member's renewal counts its attempts
/// afresh from the certificate's issue (those submitted since, whenever they were started).
async fn cycle_start(
    conn: &mut Conn,
    course_id: i64,
    person_id: i64,
) -> Result<Option<DateTime<Utc>>, CoreError> {
    Ok(store::certificate(conn, course_id, person_id)
        .await?
        .map(|c| c.issued_at))
}

/// Starts an attempt, or resumes the one in progress. Refused beyond the attempts limit and
/// during a failed attempt's cool-down (with the time it ends).
pub async fn start_attempt(
    conn: &mut Conn,
    caller: &Caller,
    quiz_id: i64,
    now: DateTime<Utc>,
) -> Result<OpenAttempt, CoreError> {
    let (quiz, course) = quiz_of(conn, caller, quiz_id).await?;
    // One member's starts and submissions in a course take turns (see lock_enrolment).
    if !store::lock_enrolment(conn, quiz.course_id, caller.person_id).await? {
        return Err(TrainingRefusal::NotEnrolled.into());
    }
    // Read under a shared lock: the quiz's questions cannot change between this check and
    // the attempt's insert (see `course_authoring`, which refuses once an attempt exists).
    cenacle_db::course_authoring::share_course(conn, quiz.course_id).await?;
    // A draft's quiz is its trainer's to rewrite: an attempt would freeze its questions
    // (`course_has_attempts`) before learners ever saw them. Read again under the lock.
    let published = store::course(conn, quiz.course_id)
        .await?
        .is_some_and(|c| c.published);
    if !published {
        return Err(TrainingRefusal::CourseIsDraft.into());
    }
    // The audience is the course's today: a member who left its group or lost its badge
    // since enrolling is not certified for it.
    if !crate::courses::in_audience(conn, caller, &course).await? {
        return Err(TrainingRefusal::NotInAudience.into());
    }
    let attempt = match store::open_attempt(conn, quiz_id, caller.person_id).await? {
        Some(open) => open,
        None => {
            let since = cycle_start(conn, quiz.course_id, caller.person_id).await?;
            let (submitted, last_failed) =
                store::attempt_cycle(conn, quiz_id, caller.person_id, since).await?;
            may_start_attempt(
                submitted,
                quiz.max_attempts,
                last_failed,
                Duration::seconds(i64::from(quiz.cool_down_seconds)),
                now,
            )?;
            store::insert_attempt(conn, quiz_id, caller.person_id, rand::random::<i64>(), now)
                .await?
        }
    };
    let questions = store::questions(conn, quiz_id).await?;
    let choices = store::choices(conn, quiz_id).await?;
    Ok(OpenAttempt {
        questions: shown(attempt.seed, questions, &choices),
        attempt,
        quiz,
    })
}

/// One question after submission: whether the learner was right, the right answer and its
/// explanation (shown now, never before).
#[derive(Debug, Clone)]
pub struct QuestionResult {
    pub question_id: i64,
    pub correct: bool,
    pub correct_choices: Vec<i64>,
    pub numeric_answer: Option<f64>,
    pub explanation_fr: String,
    pub explanation_en: String,
}

#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub attempt: AttemptRow,
    pub pass_mark: i32,
    pub questions: Vec<QuestionResult>,
    /// Issued or renewed by this pass.
    pub certificate: Option<certificates::Certificate>,
}

/// Scores a submission on the server. An attempt is submitted once: a second submission —
/// even one racing the first — is refused (`attempt_already_submitted`) and counts nothing.
pub async fn submit_attempt(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    attempt_id: i64,
    answers: &[(i64, Answer)],
    now: DateTime<Utc>,
) -> Result<AttemptResult, CoreError> {
    submit(
        conn,
        ctx,
        caller,
        attempt_id,
        Submission::Answers(answers),
        now,
    )
    .await
}

/// Submits answers as the quiz form posts them: `(question, value)` pairs, a choice's id (one
/// pair per choice ticked) or the number typed. Each value is read by its question's kind as
/// stored (`read_form`): nothing the form says about a question is trusted.
pub async fn submit_form(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    attempt_id: i64,
    fields: &[(i64, String)],
    now: DateTime<Utc>,
) -> Result<AttemptResult, CoreError> {
    submit(conn, ctx, caller, attempt_id, Submission::Form(fields), now).await
}

/// What a learner sends: answers already typed (the API's JSON), or the quiz form's raw pairs,
/// read once the quiz's questions are loaded for scoring.
enum Submission<'a> {
    Answers(&'a [(i64, Answer)]),
    Form(&'a [(i64, String)]),
}

async fn submit(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    attempt_id: i64,
    submission: Submission<'_>,
    now: DateTime<Utc>,
) -> Result<AttemptResult, CoreError> {
    let attempt = store::attempt(conn, attempt_id)
        .await?
        .filter(|a| a.person_id == caller.person_id)
        .ok_or(CoreError::NotFound("attempt"))?;
    let (quiz, _) = quiz_of(conn, caller, attempt.quiz_id).await?;
    if !store::lock_enrolment(conn, quiz.course_id, caller.person_id).await? {
        return Err(TrainingRefusal::NotEnrolled.into());
    }
    // Read again under the lock: a concurrent submission that went first is seen here.
    let attempt = store::attempt(conn, attempt_id)
        .await?
        .ok_or(CoreError::NotFound("attempt"))?;
    if attempt.submitted_at.is_some() {
        return Err(TrainingRefusal::AlreadySubmitted.into());
    }
    let since = cycle_start(conn, quiz.course_id, caller.person_id).await?;
    let (submitted, _) = store::attempt_cycle(conn, quiz.id, caller.person_id, since).await?;
    if quiz.max_attempts.is_some_and(|m| submitted >= i64::from(m)) {
        return Err(TrainingRefusal::AttemptsExhausted.into());
    }
    let questions = store::questions(conn, quiz.id).await?;
    let choices = store::choices(conn, quiz.id).await?;
    let read;
    let answers = match submission {
        Submission::Answers(answers) => answers,
        Submission::Form(fields) => {
            read = read_form(&questions, fields)?;
            &read[..]
        }
    };
    if answers
        .iter()
        .any(|(q, _)| !questions.iter().any(|question| question.id == *q))
    {
        return Err(TrainingRefusal::AnswerInvalid.into());
    }
    let mut results = Vec::with_capacity(questions.len());
    for question in &questions {
        let kind = QuestionKind::parse(&question.kind)
            .ok_or_else(|| CoreError::Internal(format!("question kind {}", question.kind)))?;
        let own: Vec<(i64, bool)> = choices
            .iter()
            .filter(|c| c.question_id == question.id)
            .map(|c| (c.id, c.correct))
            .collect();
        let answer = answers
            .iter()
            .find(|(q, _)| *q == question.id)
            .map(|(_, a)| a);
        let correct = is_correct(
            kind,
            &own,
            question.numeric_answer,
            question.numeric_tolerance,
            answer,
        )?;
        let (chosen, number) = match answer {
            Some(Answer::Choices(c)) => (c.clone(), None),
            Some(Answer::Number(n)) => (vec![], Some(*n)),
            None => (vec![], None),
        };
        store::insert_answer(conn, attempt_id, question.id, &chosen, number, correct).await?;
        results.push(QuestionResult {
            question_id: question.id,
            correct,
            correct_choices: own.iter().filter(|(_, c)| *c).map(|(id, _)| *id).collect(),
            numeric_answer: question.numeric_answer,
            explanation_fr: question.explanation_fr.clone(),
            explanation_en: question.explanation_en.clone(),
        });
    }
    let right = results.iter().filter(|r| r.correct).count();
    let score = score_percent(right, results.len());
    let passed = passed(score, quiz.pass_mark);
    let attempt = store::submit_attempt(conn, attempt_id, score, passed, now)
        .await?
        .ok_or(TrainingRefusal::AlreadySubmitted)?;
    let certificate = if passed {
        certificates::after_pass(conn, ctx, &quiz, caller.person_id, now).await?
    } else {
        None
    };
    Ok(AttemptResult {
        attempt,
        pass_mark: quiz.pass_mark,
        questions: results,
        certificate,
    })
}

/// The quiz form's `(question, value)` pairs as answers, each value read by its question's
/// kind as stored. A value naming no question of the quiz is kept as a choice, for `submit` to
/// refuse. A blank number is no answer; text that is not a number (or not a finite one) is
/// refused (`answer_invalid`) before anything is written, so that a typo does not use up the
/// attempt.
fn read_form(
    questions: &[QuestionRow],
    fields: &[(i64, String)],
) -> Result<Vec<(i64, Answer)>, TrainingRefusal> {
    let mut answers: Vec<(i64, Answer)> = Vec::new();
    for (question, value) in fields {
        let numeric = questions.iter().any(|q| {
            q.id == *question && QuestionKind::parse(&q.kind) == Some(QuestionKind::Numeric)
        });
        if numeric {
            let typed = value.trim();
            if typed.is_empty() {
                continue;
            }
            match parse_number::<f64>(typed) {
                Some(n) if n.is_finite() => answers.push((*question, Answer::Number(n))),
                _ => return Err(TrainingRefusal::AnswerInvalid),
            }
            continue;
        }
        let Ok(choice) = value.trim().parse::<i64>() else {
            return Err(TrainingRefusal::AnswerInvalid);
        };
        match answers.iter_mut().find(|(q, _)| q == question) {
            Some((_, Answer::Choices(chosen))) => chosen.push(choice),
            _ => answers.push((*question, Answer::Choices(vec![choice]))),
        }
    }
    Ok(answers)
}

/// An attempt as its learner finds it again: its questions in the attempt's order (never
/// with answers), and once submitted its result (the answers and explanations).
#[derive(Debug, Clone)]
pub struct AttemptState {
    pub shown: OpenAttempt,
    pub result: Option<AttemptResult>,
}

/// The caller's own attempt (404 for anyone else's).
pub async fn attempt(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    attempt_id: i64,
) -> Result<AttemptState, CoreError> {
    let attempt = store::attempt(conn, attempt_id)
        .await?
        .filter(|a| a.person_id == caller.person_id)
        .ok_or(CoreError::NotFound("attempt"))?;
    let (quiz, _) = quiz_of(conn, caller, attempt.quiz_id).await?;
    let questions = store::questions(conn, quiz.id).await?;
    let choices = store::choices(conn, quiz.id).await?;
    let result = if attempt.submitted_at.is_some() {
        let right = store::answers_of(conn, attempt_id).await?;
        let results = questions
            .iter()
            .map(|q| QuestionResult {
                question_id: q.id,
                correct: right.iter().any(|(id, correct)| *id == q.id && *correct),
                correct_choices: choices
                    .iter()
                    .filter(|c| c.question_id == q.id && c.correct)
                    .map(|c| c.id)
                    .collect(),
                numeric_answer: q.numeric_answer,
                explanation_fr: q.explanation_fr.clone(),
                explanation_en: q.explanation_en.clone(),
            })
            .collect();
        let certificate = match store::certificate(conn, quiz.course_id, caller.person_id).await? {
            Some(row) if attempt.passed == Some(true) => {
                Some(certificates::certificate_view(conn, ctx, row).await?)
            }
            _ => None,
        };
        Some(AttemptResult {
            attempt: attempt.clone(),
            pass_mark: quiz.pass_mark,
            questions: results,
            certificate,
        })
    } else {
        None
    };
    Ok(AttemptState {
        shown: OpenAttempt {
            questions: shown(attempt.seed, questions, &choices),
            attempt,
            quiz,
        },
        result,
    })
}
