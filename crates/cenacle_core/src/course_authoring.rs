//! A trainer changes a course after writing it: its texts, audience, prerequisites, cover
//! and validity; its lessons (added, edited, reordered, deleted); its quizzes (added, their
//! settings edited, deleted) and their questions (added, edited, deleted). Each action is one
//! use case in the caller's transaction, checked by the same rules as a course written
//! whole (`courses::check_course`), so a refusal saves nothing.
//!
//! Who: anyone holding `ManageTraining` (the course's owner is one: writing a course needs
//! it, and an owner who lost the role no longer edits).
//!
//! The rule for quizzes: their structure (the quiz itself, its questions, their kinds,
//! choices and correct answers) changes only while the course is a draft
//! (`course_not_draft`) and nobody has attempted the quiz (`course_has_attempts`, drafts
//! included: withdrawing a course keeps its attempts). A submitted attempt records its
//! answers by question and choice, and its score and pass as they were: changing the
//! questions under it would either rescore past attempts silently (and with them the
//! certificates they earned) or leave results no quiz explains any more, and deleting a
//! question would delete learners' recorded answers with it. A trainer who must change a
//! quiz learners took adds a new quiz instead. A quiz's settings (titles, pass mark,
//! attempts, cool-down, place) may change at any time: they apply to attempts still to come,
//! and a past attempt keeps the pass it was given.

use crate::{
    accounts::Session,
    caller::require,
    courses::{
        check_course_texts, check_lesson, check_question_input, check_quiz_settings, invalid,
        resolve_audience, ChoiceInput, LessonInput, QuestionInput,
    },
    Caller, Conn, CoreError,
};
use cenacle_db::{
    course_authoring::{self as edit, CourseEdit},
    training::{self as store, ChoiceRow, CourseRow, NewQuestion, NewQuiz, QuestionRow, QuizRow},
};
use cenacle_domain::{training::TrainingRefusal, Permission};

/// A change to a course's texts and settings (the discussion group, badge and unlocked group
/// stay as written): `None` leaves a field as it is; for a nullable one, `Some(None)` clears
/// it. The change is merged into the course read under its lock, so two trainers editing
/// different fields at once both keep theirs.
#[derive(Debug, Clone, Default)]
pub struct CourseEditInput {
    pub title_fr: Option<String>,
    pub title_en: Option<String>,
    pub summary_fr: Option<String>,
    pub summary_en: Option<String>,
    /// One of the trainer's own uploads (another's id is refused as not found).
    pub cover_media_id: Option<Option<i64>>,
    pub audience: Option<String>,
    pub audience_group: Option<Option<String>>,
    pub audience_reputation: Option<Option<i64>>,
    pub audience_badge: Option<Option<String>>,
    pub validity_days: Option<Option<i32>>,
    /// The whole new list (`Some(vec![])` clears it).
    pub prerequisites: Option<Vec<i64>>,
}

/// An audience's group or badge: the one the course holds (by id), or one the change names.
#[derive(Debug)]
enum Chosen {
    Held(i64),
    Named(String),
}

impl Chosen {
    /// The course's own, unless the change names another (`Some(None)` clears it).
    fn merged(given: &Option<Option<String>>, held: Option<i64>) -> Option<Chosen> {
        match given {
            Some(named) => named.clone().map(Chosen::Named),
            None => held.map(Chosen::Held),
        }
    }

    fn name(chosen: &Option<Chosen>) -> Option<&str> {
        match chosen {
            Some(Chosen::Named(name)) => Some(name),
            _ => None,
        }
    }

    fn id(chosen: &Option<Chosen>) -> Option<i64> {
        match chosen {
            Some(Chosen::Held(id)) => Some(*id),
            _ => None,
        }
    }
}

/// A course's texts and settings whole: the edit merged into what the course holds.
struct CourseSettings {
    title_fr: String,
    title_en: String,
    summary_fr: String,
    summary_en: String,
    cover_media_id: Option<i64>,
    audience: String,
    audience_group: Option<Chosen>,
    audience_reputation: Option<i64>,
    audience_badge: Option<Chosen>,
    validity_days: Option<i32>,
}

impl CourseSettings {
    /// `change` over the course as it is. The audience's group and badge it keeps stay ids:
    /// an edit of the title need not look them up again by name.
    fn merged(change: &CourseEditInput, course: &CourseRow) -> Self {
        let or =
            |given: &Option<String>, held: &str| given.clone().unwrap_or_else(|| held.to_owned());
        CourseSettings {
            title_fr: or(&change.title_fr, &course.title_fr),
            title_en: or(&change.title_en, &course.title_en),
            summary_fr: or(&change.summary_fr, &course.summary_fr),
            summary_en: or(&change.summary_en, &course.summary_en),
            cover_media_id: change.cover_media_id.unwrap_or(course.cover_media_id),
            audience: or(&change.audience, &course.audience),
            audience_group: Chosen::merged(&change.audience_group, course.audience_group_id),
            audience_reputation: change
                .audience_reputation
                .unwrap_or(course.audience_reputation),
            audience_badge: Chosen::merged(&change.audience_badge, course.audience_badge_id),
            validity_days: change.validity_days.unwrap_or(course.validity_days),
        }
    }
}

/// A quiz's settings: everything but its questions.
#[derive(Debug, Clone)]
pub struct QuizSettingsInput {
    pub after_lesson: Option<i32>,
    pub title_fr: String,
    pub title_en: String,
    pub pass_mark: i32,
    pub max_attempts: Option<i32>,
    pub cool_down_seconds: i32,
}

/// The course, locked for the rest of the transaction, if the session writes courses.
async fn authored(conn: &mut Conn, session: &Session, id: i64) -> Result<CourseRow, CoreError> {
    require(session, Permission::ManageTraining)?;
    edit::lock_course(conn, id)
        .await?
        .ok_or(CoreError::NotFound("course"))
}

/// The lesson and its course (locked), if the session writes courses. The lesson is read
/// again once the course is locked: a position read before would be stale after a
/// concurrent reorder or delete, which the lock made wait.
async fn authored_lesson(
    conn: &mut Conn,
    session: &Session,
    lesson_id: i64,
) -> Result<(CourseRow, store::LessonRow), CoreError> {
    require(session, Permission::ManageTraining)?;
    let course_id = store::lesson(conn, lesson_id)
        .await?
        .ok_or(CoreError::NotFound("lesson"))?
        .course_id;
    let course = authored(conn, session, course_id).await?;
    let lesson = store::lesson(conn, lesson_id)
        .await?
        .ok_or(CoreError::NotFound("lesson"))?;
    Ok((course, lesson))
}

/// The quiz and its course (locked), if the session writes courses.
async fn authored_quiz(
    conn: &mut Conn,
    session: &Session,
    quiz_id: i64,
) -> Result<(CourseRow, QuizRow), CoreError> {
    require(session, Permission::ManageTraining)?;
    let course_id = store::quiz(conn, quiz_id)
        .await?
        .ok_or(CoreError::NotFound("quiz"))?
        .course_id;
    let course = authored(conn, session, course_id).await?;
    // Read again under the lock: a concurrent delete has ended by now.
    let quiz = store::quiz(conn, quiz_id)
        .await?
        .ok_or(CoreError::NotFound("quiz"))?;
    Ok((course, quiz))
}

/// The module's rule on quiz structure (see the top of this file).
async fn may_restructure(
    conn: &mut Conn,
    course: &CourseRow,
    quiz_id: Option<i64>,
) -> Result<(), CoreError> {
    if course.published {
        return Err(TrainingRefusal::CourseNotDraft.into());
    }
    if let Some(quiz) = quiz_id {
        if edit::quiz_has_attempts(conn, quiz).await? {
            return Err(TrainingRefusal::CourseHasAttempts.into());
        }
    }
    Ok(())
}

/// Edits a course's texts and settings: what `change` leaves out stays as it is.
pub async fn edit_course(
    conn: &mut Conn,
    session: &Session,
    id: i64,
    change: &CourseEditInput,
) -> Result<CourseRow, CoreError> {
    let course = authored(conn, session, id).await?;
    let input = CourseSettings::merged(change, &course);
    check_course_texts(
        (&input.title_fr, &input.title_en),
        &input.audience,
        (
            input.audience_group.is_some(),
            input.audience_reputation.is_some(),
            input.audience_badge.is_some(),
        ),
        input.validity_days,
    )?;
    // The discussion group was made public or private for the audience; turning one into
    // the other would publish (or strand) what its members wrote. Kept as written.
    if (input.audience == "everyone") != (course.audience == "everyone") {
        return Err(TrainingRefusal::AudienceVisibilityLocked.into());
    }
    if let Some(media) = input
        .cover_media_id
        .filter(|m| Some(*m) != course.cover_media_id)
    {
        let caller = Caller::from(session);
        let own = crate::media::own_uploads(conn, Some(&caller), &[media]).await?;
        let Some(upload) = own.first() else {
            return Err(CoreError::NotFound("media"));
        };
        if !upload.content_type.starts_with("image/") {
            return Err(invalid("cover_media_id", "unsupported_type"));
        }
    }
    if let Some(prerequisites) = &change.prerequisites {
        check_prerequisites(conn, &course, prerequisites).await?;
    }
    // Names given are looked up; ids kept are the course's own. Only the audience's kind keeps
    // its group or badge (switching to "everyone" drops them, as writing the course does).
    let (named_group, named_badge) = resolve_audience(
        conn,
        &input.audience,
        Chosen::name(&input.audience_group),
        Chosen::name(&input.audience_badge),
    )
    .await?;
    let audience_group_id = named_group
        .or(Chosen::id(&input.audience_group))
        .filter(|_| input.audience == "group");
    let audience_badge_id = named_badge
        .or(Chosen::id(&input.audience_badge))
        .filter(|_| input.audience == "badge");
    edit::update_course(
        conn,
        id,
        &CourseEdit {
            title_fr: input.title_fr.trim(),
            title_en: input.title_en.trim(),
            summary_fr: input.summary_fr.trim(),
            summary_en: input.summary_en.trim(),
            cover_media_id: input.cover_media_id,
            audience: &input.audience,
            audience_group_id,
            audience_reputation: input
                .audience_reputation
                .filter(|_| input.audience == "reputation"),
            audience_badge_id,
            validity_days: input.validity_days,
        },
    )
    .await?;
    if let Some(given) = &change.prerequisites {
        edit::clear_prerequisites(conn, id).await?;
        let mut prerequisites = given.clone();
        prerequisites.sort_unstable();
        prerequisites.dedup();
        for required in prerequisites {
            store::insert_prerequisite(conn, id, required).await?;
        }
    }
    store::course(conn, id)
        .await?
        .ok_or(CoreError::NotFound("course"))
}

/// A course's new prerequisites: other courses, published (unless already required), that
/// do not lead back to it; none for the getting-started course.
async fn check_prerequisites(
    conn: &mut Conn,
    course: &CourseRow,
    prerequisites: &[i64],
) -> Result<(), CoreError> {
    // A built-in course is the end of a journey step, which would wait on its prerequisites.
    if !prerequisites.is_empty() && course.builtin.is_some() {
        return Err(TrainingRefusal::BuiltinCoursePrerequisites.into());
    }
    for &required in prerequisites {
        if required == course.id {
            return Err(invalid("prerequisites", "self"));
        }
        let found = store::course(conn, required)
            .await?
            .ok_or(CoreError::NotFound("prerequisite course"))?;
        // Only a new one: a prerequisite withdrawn since it was chosen does not stop its
        // dependants' trainers from editing their texts.
        if !found.published && !course.prerequisites.contains(&required) {
            return Err(TrainingRefusal::PrerequisiteNotPublished.into());
        }
    }
    if edit::prerequisites_reach(conn, course.id, prerequisites).await? {
        return Err(TrainingRefusal::PrerequisiteCycle.into());
    }
    Ok(())
}

/// The names of the course's audience group and badge, as the trainer types them.
async fn audience_names(
    conn: &mut Conn,
    course: &CourseRow,
) -> Result<(Option<String>, Option<String>), CoreError> {
    let group = match course.audience_group_id {
        Some(g) => cenacle_db::actors::group_by_id(conn, g)
            .await?
            .map(|g| g.name),
        None => None,
    };
    let badge = match course.audience_badge_id {
        Some(b) => cenacle_db::badges::badge_by_id(conn, b)
            .await?
            .map(|badge| badge.slug),
        None => None,
    };
    Ok((group, badge))
}

/// A course as its trainer edits it: a draft included, lessons with their bodies, and its
/// audience's group and badge by name.
pub struct CourseDraft {
    pub course: crate::courses::Course,
    pub audience_group: Option<String>,
    pub audience_badge: Option<String>,
}

pub async fn course_for_editing(
    conn: &mut Conn,
    session: &Session,
    id: i64,
) -> Result<CourseDraft, CoreError> {
    require(session, Permission::ManageTraining)?;
    let course = crate::courses::course(conn, Some(&Caller::from(session)), id).await?;
    let (audience_group, audience_badge) = audience_names(conn, &course.row).await?;
    Ok(CourseDraft {
        course,
        audience_group,
        audience_badge,
    })
}

/// Adds a lesson after the course's last one (its `position` is ignored).
pub async fn add_lesson(
    conn: &mut Conn,
    session: &Session,
    course_id: i64,
    lesson: &LessonInput,
) -> Result<store::LessonRow, CoreError> {
    authored(conn, session, course_id).await?;
    check_lesson(lesson)?;
    let position = store::lessons(conn, course_id).await?.len() as i32 + 1;
    crate::media::hold_uploads_named_in(conn, &[&lesson.body_fr, &lesson.body_en]).await?;
    let id = store::insert_lesson(
        conn,
        course_id,
        position,
        (lesson.title_fr.trim(), lesson.title_en.trim()),
        (&lesson.body_fr, &lesson.body_en),
        lesson.minutes,
    )
    .await?;
    store::lesson(conn, id)
        .await?
        .ok_or(CoreError::NotFound("lesson"))
}

/// Edits a lesson's texts and time (its `position` is ignored: [`reorder_lessons`] moves it).
pub async fn edit_lesson(
    conn: &mut Conn,
    session: &Session,
    lesson_id: i64,
    lesson: &LessonInput,
) -> Result<store::LessonRow, CoreError> {
    authored_lesson(conn, session, lesson_id).await?;
    check_lesson(lesson)?;
    crate::media::hold_uploads_named_in(conn, &[&lesson.body_fr, &lesson.body_en]).await?;
    edit::update_lesson(
        conn,
        lesson_id,
        (lesson.title_fr.trim(), lesson.title_en.trim()),
        (&lesson.body_fr, &lesson.body_en),
        lesson.minutes,
    )
    .await?;
    store::lesson(conn, lesson_id)
        .await?
        .ok_or(CoreError::NotFound("lesson"))
}

/// Puts the course's lessons in the order of `ids`, which must name each of them exactly
/// once (`lesson_order_gaps` otherwise). Quizzes placed after a lesson move with it.
pub async fn reorder_lessons(
    conn: &mut Conn,
    session: &Session,
    course_id: i64,
    ids: &[i64],
) -> Result<Vec<store::LessonRow>, CoreError> {
    authored(conn, session, course_id).await?;
    let lessons = store::lessons(conn, course_id).await?;
    let mut given = ids.to_vec();
    given.sort_unstable();
    let mut held: Vec<i64> = lessons.iter().map(|l| l.id).collect();
    held.sort_unstable();
    if given != held {
        return Err(TrainingRefusal::LessonOrderGaps.into());
    }
    let (old, new): (Vec<i32>, Vec<i32>) = lessons
        .iter()
        .map(|l| {
            let at = ids.iter().position(|id| *id == l.id).unwrap_or(0);
            (l.position, at as i32 + 1)
        })
        .unzip();
    edit::set_lesson_order(conn, course_id, ids).await?;
    edit::remap_quiz_lessons(conn, course_id, &old, &new).await?;
    Ok(store::lessons(conn, course_id).await?)
}

/// Deletes a lesson (and who marked it done); the others close the gap, and the quizzes
/// placed after it move after the lesson before it. A published course keeps at least one.
/// Answers the course's id.
pub async fn delete_lesson(
    conn: &mut Conn,
    session: &Session,
    lesson_id: i64,
) -> Result<i64, CoreError> {
    let (course, found) = authored_lesson(conn, session, lesson_id).await?;
    let lessons = store::lessons(conn, course.id).await?;
    if course.published && lessons.len() <= 1 {
        return Err(TrainingRefusal::CourseWithoutLessons.into());
    }
    edit::delete_lesson(conn, lesson_id).await?;
    let remaining: Vec<i64> = lessons
        .iter()
        .filter(|l| l.id != lesson_id)
        .map(|l| l.id)
        .collect();
    edit::set_lesson_order(conn, course.id, &remaining).await?;
    let gone = found.position;
    let (old, new): (Vec<i32>, Vec<i32>) = lessons
        .iter()
        .map(|l| {
            let to = match l.position {
                p if p < gone => p,
                p if p > gone => p - 1,
                // The quizzes after the deleted lesson: after the one before it (the first
                // when it was first; at the end when none is left).
                _ if remaining.is_empty() => 0,
                p => (p - 1).max(1),
            };
            (l.position, to)
        })
        .unzip();
    edit::remap_quiz_lessons(conn, course.id, &old, &new).await?;
    Ok(course.id)
}

/// Moves a lesson one place up (the first stays first), as the pages' arrows do; answers
/// the course's id.
pub async fn move_lesson_up(
    conn: &mut Conn,
    session: &Session,
    lesson_id: i64,
) -> Result<i64, CoreError> {
    let (_, found) = authored_lesson(conn, session, lesson_id).await?;
    let mut ids: Vec<i64> = store::lessons(conn, found.course_id)
        .await?
        .iter()
        .map(|l| l.id)
        .collect();
    if let Some(at) = ids
        .iter()
        .position(|l| *l == lesson_id)
        .filter(|at| *at > 0)
    {
        ids.swap(at, at - 1);
    }
    reorder_lessons(conn, session, found.course_id, &ids).await?;
    Ok(found.course_id)
}

fn check_settings(settings: &QuizSettingsInput, lessons: usize) -> Result<(), CoreError> {
    check_quiz_settings(
        &settings.title_fr,
        &settings.title_en,
        settings.pass_mark,
        settings.max_attempts,
        settings.cool_down_seconds,
    )?;
    if settings
        .after_lesson
        .is_some_and(|p| p < 1 || p as usize > lessons)
    {
        return Err(TrainingRefusal::QuizAfterUnknownLesson.into());
    }
    Ok(())
}

/// Adds a quiz without questions after the course's last quiz (a draft's only: see the top
/// of this file); publishing waits for its questions.
pub async fn add_quiz(
    conn: &mut Conn,
    session: &Session,
    course_id: i64,
    settings: &QuizSettingsInput,
) -> Result<QuizRow, CoreError> {
    let course = authored(conn, session, course_id).await?;
    may_restructure(conn, &course, None).await?;
    check_settings(settings, store::lessons(conn, course_id).await?.len())?;
    let position = store::quizzes(conn, course_id).await?.len() as i32 + 1;
    let id = store::insert_quiz(
        conn,
        &NewQuiz {
            course_id,
            position,
            after_lesson: settings.after_lesson,
            title_fr: settings.title_fr.trim(),
            title_en: settings.title_en.trim(),
            pass_mark: settings.pass_mark,
            max_attempts: settings.max_attempts,
            cool_down_seconds: settings.cool_down_seconds,
        },
    )
    .await?;
    store::quiz(conn, id)
        .await?
        .ok_or(CoreError::NotFound("quiz"))
}

/// Edits a quiz's settings, at any time (see the top of this file).
pub async fn edit_quiz(
    conn: &mut Conn,
    session: &Session,
    quiz_id: i64,
    settings: &QuizSettingsInput,
) -> Result<QuizRow, CoreError> {
    let (course, _) = authored_quiz(conn, session, quiz_id).await?;
    check_settings(settings, store::lessons(conn, course.id).await?.len())?;
    edit::update_quiz(
        conn,
        quiz_id,
        &edit::QuizSettings {
            after_lesson: settings.after_lesson,
            title_fr: settings.title_fr.trim(),
            title_en: settings.title_en.trim(),
            pass_mark: settings.pass_mark,
            max_attempts: settings.max_attempts,
            cool_down_seconds: settings.cool_down_seconds,
        },
    )
    .await?;
    store::quiz(conn, quiz_id)
        .await?
        .ok_or(CoreError::NotFound("quiz"))
}

/// Answers the course's id.
pub async fn delete_quiz(
    conn: &mut Conn,
    session: &Session,
    quiz_id: i64,
) -> Result<i64, CoreError> {
    let (course, _) = authored_quiz(conn, session, quiz_id).await?;
    may_restructure(conn, &course, Some(quiz_id)).await?;
    edit::delete_quiz(conn, course.id, quiz_id).await?;
    Ok(course.id)
}

async fn insert_choices(
    conn: &mut Conn,
    question_id: i64,
    choices: &[ChoiceInput],
) -> Result<(), CoreError> {
    for (j, choice) in choices.iter().enumerate() {
        store::insert_choice(
            conn,
            question_id,
            j as i32 + 1,
            (choice.label_fr.trim(), choice.label_en.trim()),
            choice.correct,
        )
        .await?;
    }
    Ok(())
}

/// Adds a question at the end of a quiz.
pub async fn add_question(
    conn: &mut Conn,
    session: &Session,
    quiz_id: i64,
    question: &QuestionInput,
) -> Result<i64, CoreError> {
    let (course, _) = authored_quiz(conn, session, quiz_id).await?;
    may_restructure(conn, &course, Some(quiz_id)).await?;
    check_question_input(question)?;
    let position = store::questions(conn, quiz_id).await?.len() as i32 + 1;
    let id = store::insert_question(
        conn,
        &NewQuestion {
            quiz_id,
            position,
            kind: &question.kind,
            prompt: (question.prompt_fr.trim(), question.prompt_en.trim()),
            explanation: (&question.explanation_fr, &question.explanation_en),
            numeric_answer: question.numeric_answer,
            numeric_tolerance: question.numeric_tolerance,
        },
    )
    .await?;
    insert_choices(conn, id, &question.choices).await?;
    Ok(id)
}

async fn authored_question(
    conn: &mut Conn,
    session: &Session,
    question_id: i64,
) -> Result<(CourseRow, i64), CoreError> {
    require(session, Permission::ManageTraining)?;
    let quiz = edit::question_quiz(conn, question_id)
        .await?
        .ok_or(CoreError::NotFound("question"))?;
    let (course, _) = authored_quiz(conn, session, quiz).await?;
    // Read again under the lock: a question deleted meanwhile is not found (rather than
    // its rewrite failing on the choices' foreign key).
    edit::question_quiz(conn, question_id)
        .await?
        .ok_or(CoreError::NotFound("question"))?;
    Ok((course, quiz))
}

/// Rewrites a question whole (its choices are replaced).
pub async fn edit_question(
    conn: &mut Conn,
    session: &Session,
    question_id: i64,
    question: &QuestionInput,
) -> Result<(), CoreError> {
    let (course, quiz) = authored_question(conn, session, question_id).await?;
    may_restructure(conn, &course, Some(quiz)).await?;
    check_question_input(question)?;
    edit::update_question(
        conn,
        question_id,
        &question.kind,
        (question.prompt_fr.trim(), question.prompt_en.trim()),
        (&question.explanation_fr, &question.explanation_en),
        (question.numeric_answer, question.numeric_tolerance),
    )
    .await?;
    insert_choices(conn, question_id, &question.choices).await
}

pub async fn delete_question(
    conn: &mut Conn,
    session: &Session,
    question_id: i64,
) -> Result<(), CoreError> {
    let (course, quiz) = authored_question(conn, session, question_id).await?;
    may_restructure(conn, &course, Some(quiz)).await?;
    Ok(edit::delete_question(conn, quiz, question_id).await?)
}

/// The quiz a question belongs to, for its trainer's editor.
pub async fn quiz_of_question(
    conn: &mut Conn,
    session: &Session,
    question_id: i64,
) -> Result<i64, CoreError> {
    require(session, Permission::ManageTraining)?;
    edit::question_quiz(conn, question_id)
        .await?
        .ok_or(CoreError::NotFound("question"))
}

/// A quiz as its trainer edits it: with its questions' answers.
#[derive(Debug, Clone)]
pub struct QuizDraft {
    pub course: CourseRow,
    pub quiz: QuizRow,
    pub questions: Vec<(QuestionRow, Vec<ChoiceRow>)>,
    /// Whether learners attempted it (its questions are then fixed).
    pub attempted: bool,
    /// The course's lessons, to place the quiz after one.
    pub lessons: Vec<store::LessonRow>,
}

pub async fn quiz_draft(
    conn: &mut Conn,
    session: &Session,
    quiz_id: i64,
) -> Result<QuizDraft, CoreError> {
    require(session, Permission::ManageTraining)?;
    let quiz = store::quiz(conn, quiz_id)
        .await?
        .ok_or(CoreError::NotFound("quiz"))?;
    let course = store::course(conn, quiz.course_id)
        .await?
        .ok_or(CoreError::NotFound("course"))?;
    let lessons_of = course.id;
    let choices = store::choices(conn, quiz_id).await?;
    let questions = store::questions(conn, quiz_id)
        .await?
        .into_iter()
        .map(|q| {
            let own = choices
                .iter()
                .filter(|c| c.question_id == q.id)
                .cloned()
                .collect();
            (q, own)
        })
        .collect();
    Ok(QuizDraft {
        course,
        quiz,
        questions,
        attempted: edit::quiz_has_attempts(conn, quiz_id).await?,
        lessons: store::lessons(conn, lessons_of).await?,
    })
}
