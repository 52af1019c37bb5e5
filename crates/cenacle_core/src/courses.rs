//! Courses: a trainer writes one (lessons, quizzes, audience, prerequisites, what its
//! certificate gives) in one transaction with its discussion group; members see the courses
//! open to them, enrol, mark lessons done and read their progress. Quiz attempts are in
//! `quizzes`, certificates in `certificates`.

use crate::{
    accounts::Session,
    caller::require,
    groups::{self, insert_group, prepare_group, PreparedGroup},
    Caller, Conn, Context, CoreError,
};
use cenacle_db::{
    actors, badges, content, engagement,
    training::{
        self as store, AttemptRow, CourseRow, LessonRow, NewCourse, NewQuestion, NewQuiz, QuizRow,
    },
};
use cenacle_domain::{
    content::Visibility,
    training::{
        check_order, check_pass_mark, check_question, is_valid, QuestionKind, TrainingRefusal,
    },
    Permission, ValidationError,
};
use chrono::{DateTime, Utc};

impl From<TrainingRefusal> for CoreError {
    fn from(refusal: TrainingRefusal) -> Self {
        CoreError::Training(refusal)
    }
}

#[derive(Debug, Clone)]
pub struct ChoiceInput {
    pub label_fr: String,
    pub label_en: String,
    pub correct: bool,
}

#[derive(Debug, Clone)]
pub struct QuestionInput {
    /// single, multiple or numeric.
    pub kind: String,
    pub prompt_fr: String,
    pub prompt_en: String,
    pub explanation_fr: String,
    pub explanation_en: String,
    pub numeric_answer: Option<f64>,
    pub numeric_tolerance: f64,
    pub choices: Vec<ChoiceInput>,
}

#[derive(Debug, Clone)]
pub struct QuizInput {
    pub position: i32,
    /// Shown after this lesson's position (None: at the end).
    pub after_lesson: Option<i32>,
    pub title_fr: String,
    pub title_en: String,
    pub pass_mark: i32,
    pub max_attempts: Option<i32>,
    pub cool_down_seconds: i32,
    pub questions: Vec<QuestionInput>,
}

#[derive(Debug, Clone)]
pub struct LessonInput {
    pub position: i32,
    pub title_fr: String,
    pub title_en: String,
    /// Markdown.
    pub body_fr: String,
    pub body_en: String,
    pub minutes: i32,
}

#[derive(Debug, Clone)]
pub struct CourseInput {
    pub title_fr: String,
    pub title_en: String,
    pub summary_fr: String,
    pub summary_en: String,
    pub cover_media_id: Option<i64>,
    pub published: bool,
    /// everyone, group, reputation or badge.
    pub audience: String,
    pub audience_group: Option<String>,
    pub audience_reputation: Option<i64>,
    pub audience_badge: Option<String>,
    pub validity_days: Option<i32>,
    /// A local group the certificate makes its holder a member of, while valid.
    pub unlock_group: Option<String>,
    pub prerequisites: Vec<i64>,
    /// The name of the course's discussion group, made with it.
    pub group_name: String,
    pub lessons: Vec<LessonInput>,
    pub quizzes: Vec<QuizInput>,
}

pub(crate) fn invalid(field: &'static str, code: &'static str) -> CoreError {
    ValidationError { field, code }.into()
}

fn required_text(field: &'static str, text: &str) -> Result<(), CoreError> {
    if text.trim().is_empty() {
        return Err(invalid(field, "empty"));
    }
    Ok(())
}

/// An audience names its value: a group, a reputation or a badge.
pub(crate) fn check_audience(
    audience: &str,
    group: bool,
    reputation: bool,
    badge: bool,
) -> Result<(), CoreError> {
    let complete = match audience {
        "everyone" => true,
        "group" => group,
        "reputation" => reputation,
        "badge" => badge,
        _ => return Err(invalid("audience", "unknown_audience")),
    };
    if !complete {
        return Err(TrainingRefusal::AudienceIncomplete.into());
    }
    Ok(())
}

pub(crate) fn check_lesson(lesson: &LessonInput) -> Result<(), CoreError> {
    required_text("lessons.title_fr", &lesson.title_fr)?;
    required_text("lessons.title_en", &lesson.title_en)?;
    if !(1..=1440).contains(&lesson.minutes) {
        return Err(invalid("lessons.minutes", "out_of_range"));
    }
    Ok(())
}

pub(crate) fn check_quiz_settings(
    title_fr: &str,
    title_en: &str,
    pass_mark: i32,
    max_attempts: Option<i32>,
    cool_down_seconds: i32,
) -> Result<(), CoreError> {
    required_text("quizzes.title_fr", title_fr)?;
    required_text("quizzes.title_en", title_en)?;
    check_pass_mark(pass_mark)?;
    if max_attempts.is_some_and(|m| m < 1) {
        return Err(invalid("quizzes.max_attempts", "out_of_range"));
    }
    if !(0..=365 * 86_400).contains(&cool_down_seconds) {
        return Err(invalid("quizzes.cool_down_seconds", "out_of_range"));
    }
    Ok(())
}

pub(crate) fn check_question_input(question: &QuestionInput) -> Result<(), CoreError> {
    let kind = QuestionKind::parse(&question.kind)
        .ok_or_else(|| invalid("questions.kind", "unknown_kind"))?;
    required_text("questions.prompt_fr", &question.prompt_fr)?;
    required_text("questions.prompt_en", &question.prompt_en)?;
    let flags: Vec<bool> = question.choices.iter().map(|c| c.correct).collect();
    check_question(kind, &flags, question.numeric_answer)?;
    // A negative tolerance is a typo, not a wider one: refused rather than guessed.
    if !question.numeric_tolerance.is_finite() || question.numeric_tolerance < 0.0 {
        return Err(invalid("questions.numeric_tolerance", "out_of_range"));
    }
    Ok(())
}

/// What a course is without its lessons and quizzes, checked alike when it is written whole
/// and when its trainer edits it: its titles, its audience (with its value) and validity.
pub(crate) fn check_course_texts(
    title: (&str, &str),
    audience: &str,
    audience_given: (bool, bool, bool),
    validity_days: Option<i32>,
) -> Result<(), CoreError> {
    required_text("title_fr", title.0)?;
    required_text("title_en", title.1)?;
    check_audience(
        audience,
        audience_given.0,
        audience_given.1,
        audience_given.2,
    )?;
    if validity_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        return Err(invalid("validity_days", "out_of_range"));
    }
    Ok(())
}

/// Everything that can be checked before anything is written: an invalid course is refused
/// whole, with the first problem's code.
pub fn check_course(input: &CourseInput) -> Result<(), CoreError> {
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
    let lesson_positions: Vec<i32> = input.lessons.iter().map(|l| l.position).collect();
    check_order(&lesson_positions)?;
    for lesson in &input.lessons {
        check_lesson(lesson)?;
    }
    // A course written whole and published at once obeys the rule of publishing.
    if input.published && input.lessons.is_empty() {
        return Err(TrainingRefusal::CourseWithoutLessons.into());
    }
    let quiz_positions: Vec<i32> = input.quizzes.iter().map(|q| q.position).collect();
    check_order(&quiz_positions)?;
    for quiz in &input.quizzes {
        check_quiz_settings(
            &quiz.title_fr,
            &quiz.title_en,
            quiz.pass_mark,
            quiz.max_attempts,
            quiz.cool_down_seconds,
        )?;
        if quiz
            .after_lesson
            .is_some_and(|p| !lesson_positions.contains(&p))
        {
            return Err(TrainingRefusal::QuizAfterUnknownLesson.into());
        }
        if quiz.questions.is_empty() {
            return Err(TrainingRefusal::QuizWithoutCorrectAnswer.into());
        }
        for question in &quiz.questions {
            check_question_input(question)?;
        }
    }
    Ok(())
}

/// A checked course with its discussion group's identity, made before any transaction opens
/// (a federated group's key pair is slow to generate).
pub struct PreparedCourse {
    input: CourseInput,
    group: PreparedGroup,
}

/// Checks a trainer's course and prepares its discussion group: a normal public group, or a
/// private one (never federated) when the course is not open to everyone.
pub async fn prepare_course(
    ctx: &Context,
    session: &Session,
    input: CourseInput,
) -> Result<PreparedCourse, CoreError> {
    require(session, Permission::ManageTraining)?;
    prepare_checked(ctx, input).await
}

/// Checks a course and prepares its discussion group, for a trainer or for the instance
/// itself (the built-in courses, `getting_started`).
pub(crate) async fn prepare_checked(
    ctx: &Context,
    input: CourseInput,
) -> Result<PreparedCourse, CoreError> {
    check_course(&input)?;
    let visibility = if input.audience == "everyone" {
        Visibility::Public
    } else {
        Visibility::Private
    };
    let group = prepare_group(
        ctx,
        &input.group_name,
        input.title_fr.trim(),
        input.summary_fr.trim(),
        visibility,
    )
    .await?;
    Ok(PreparedCourse { input, group })
}

async fn local_group_id(conn: &mut Conn, name: &str) -> Result<i64, CoreError> {
    let group = actors::local_group_by_name(conn, name)
        .await?
        .ok_or(CoreError::NotFound("group"))?;
    // The champions' group follows the programme alone: no certificate opens it.
    crate::groups::require_ordinary_membership(&group)?;
    Ok(group.id)
}

/// The ids of an audience's group and badge (the one the audience names).
pub(crate) async fn resolve_audience(
    conn: &mut Conn,
    audience: &str,
    group: Option<&str>,
    badge: Option<&str>,
) -> Result<(Option<i64>, Option<i64>), CoreError> {
    let group_id = match group {
        Some(name) if audience == "group" => Some(local_group_id(conn, name).await?),
        _ => None,
    };
    let badge_id = match badge {
        Some(slug) if audience == "badge" => Some(
            badges::badge_by_slug(conn, slug)
                .await?
                .ok_or(CoreError::NotFound("badge"))?
                .id,
        ),
        _ => None,
    };
    Ok((group_id, badge_id))
}

/// Writes the course, its badge, its discussion group (owned by the trainer), its lessons,
/// quizzes, questions and choices, all in the caller's transaction: a refusal anywhere
/// leaves nothing behind.
pub async fn create_course(
    conn: &mut Conn,
    session: &Session,
    prepared: &PreparedCourse,
) -> Result<Course, CoreError> {
    require(session, Permission::ManageTraining)?;
    let input = &prepared.input;
    let owner = session.account.person_id;
    let (audience_group_id, audience_badge_id) = resolve_audience(
        conn,
        &input.audience,
        input.audience_group.as_deref(),
        input.audience_badge.as_deref(),
    )
    .await?;
    let unlock_group_id = match &input.unlock_group {
        Some(name) => {
            let group = local_group_id(conn, name).await?;
            // A certificate opens a group its moderators agreed to: writing a course must
            // not be a way into a private group for its trainer (who may pass their own quiz).
            if !session.account.role.allows(Permission::ManageGroups)
                && !crate::access::is_group_moderator(conn, group, owner).await?
            {
                return Err(CoreError::NotAllowed("unlock_group"));
            }
            Some(group)
        }
        None => None,
    };
    for &required in &input.prerequisites {
        let found = store::course(conn, required)
            .await?
            .ok_or(CoreError::NotFound("prerequisite course"))?;
        // A draft cannot be passed: a course requiring one could not be enrolled in.
        if !found.published {
            return Err(TrainingRefusal::PrerequisiteNotPublished.into());
        }
    }
    let id = write_course(
        conn,
        prepared,
        Some(owner),
        audience_group_id,
        audience_badge_id,
        unlock_group_id,
    )
    .await?;
    let caller = Caller::from(session);
    course(conn, Some(&caller), id).await
}

/// Writes a checked course whose references are resolved (and allowed): its discussion
/// group, its badge, the course, its prerequisites, lessons, quizzes, questions and choices.
/// `owner` is `None` for a course the instance owns.
pub(crate) async fn write_course(
    conn: &mut Conn,
    prepared: &PreparedCourse,
    owner: Option<i64>,
    audience_group_id: Option<i64>,
    audience_badge_id: Option<i64>,
    unlock_group_id: Option<i64>,
) -> Result<i64, CoreError> {
    let input = &prepared.input;
    let group = insert_group(conn, &prepared.group, owner).await?;
    let badge_id = store::insert_badge(
        conn,
        &format!("course-{}", group.name),
        input.title_en.trim(),
        input.title_fr.trim(),
    )
    .await?;
    let id = store::insert_course(
        conn,
        &NewCourse {
            title_fr: input.title_fr.trim(),
            title_en: input.title_en.trim(),
            summary_fr: input.summary_fr.trim(),
            summary_en: input.summary_en.trim(),
            cover_media_id: input.cover_media_id,
            owner_id: owner,
            published: input.published,
            audience: &input.audience,
            audience_group_id,
            audience_reputation: input
                .audience_reputation
                .filter(|_| input.audience == "reputation"),
            audience_badge_id,
            validity_days: input.validity_days,
            badge_id,
            unlock_group_id,
            discussion_group_id: group.id,
        },
    )
    .await?;
    for &required in &input.prerequisites {
        store::insert_prerequisite(conn, id, required).await?;
    }
    for l in &input.lessons {
        crate::media::hold_uploads_named_in(conn, &[&l.body_fr, &l.body_en]).await?;
        store::insert_lesson(
            conn,
            id,
            l.position,
            (l.title_fr.trim(), l.title_en.trim()),
            (&l.body_fr, &l.body_en),
            l.minutes,
        )
        .await?;
    }
    for q in &input.quizzes {
        let quiz_id = store::insert_quiz(
            conn,
            &NewQuiz {
                course_id: id,
                position: q.position,
                after_lesson: q.after_lesson,
                title_fr: q.title_fr.trim(),
                title_en: q.title_en.trim(),
                pass_mark: q.pass_mark,
                max_attempts: q.max_attempts,
                cool_down_seconds: q.cool_down_seconds,
            },
        )
        .await?;
        for (i, question) in q.questions.iter().enumerate() {
            let question_id = store::insert_question(
                conn,
                &NewQuestion {
                    quiz_id,
                    position: i as i32 + 1,
                    kind: &question.kind,
                    prompt: (question.prompt_fr.trim(), question.prompt_en.trim()),
                    explanation: (&question.explanation_fr, &question.explanation_en),
                    numeric_answer: question.numeric_answer,
                    numeric_tolerance: question.numeric_tolerance,
                },
            )
            .await?;
            for (j, choice) in question.choices.iter().enumerate() {
                store::insert_choice(
                    conn,
                    question_id,
                    j as i32 + 1,
                    (choice.label_fr.trim(), choice.label_en.trim()),
                    choice.correct,
                )
                .await?;
            }
        }
    }
    Ok(id)
}

/// A course as anyone allowed to see it reads it: its lessons and its quizzes' settings,
/// never their questions' answers.
#[derive(Debug, Clone)]
pub struct Course {
    pub row: CourseRow,
    pub discussion_group: String,
    pub unlock_group: Option<String>,
    /// The lessons; their bodies only for those who may read them ([`Course::readable`]),
    /// empty for others, who see the outline.
    pub lessons: Vec<LessonRow>,
    pub quizzes: Vec<QuizRow>,
    /// Whether the caller reads the lessons: enrolled (which took the audience and the
    /// prerequisites), the owner or a trainer.
    pub readable: bool,
}

/// Whether the caller writes courses (and so sees drafts).
fn is_trainer(caller: Option<&Caller>) -> bool {
    caller
        .and_then(|c| c.instance_role)
        .is_some_and(|r| r.allows(Permission::ManageTraining))
}

/// Whether the caller owns the course (nobody owns the instance's own courses).
fn is_owner(caller: &Caller, course: &CourseRow) -> bool {
    course.owner_id == Some(caller.person_id)
}

/// A course the caller may see: a published one, or a draft to its owner and trainers (404
/// to others, as for a missing one).
pub(crate) async fn visible_course(
    conn: &mut Conn,
    caller: Option<&Caller>,
    id: i64,
) -> Result<CourseRow, CoreError> {
    let row = store::course(conn, id)
        .await?
        .ok_or(CoreError::NotFound("course"))?;
    if row.published || is_trainer(caller) || caller.is_some_and(|c| is_owner(c, &row)) {
        Ok(row)
    } else {
        Err(CoreError::NotFound("course"))
    }
}

pub async fn course(
    conn: &mut Conn,
    caller: Option<&Caller>,
    id: i64,
) -> Result<Course, CoreError> {
    let row = visible_course(conn, caller, id).await?;
    let discussion_group = actors::group_by_id(conn, row.discussion_group_id)
        .await?
        .map(|g| g.name)
        .unwrap_or_default();
    let unlock_group = match row.unlock_group_id {
        Some(g) => actors::group_by_id(conn, g).await?.map(|g| g.name),
        None => None,
    };
    let readable = reads_lessons(conn, caller, &row).await?;
    let mut lessons = store::lessons(conn, id).await?;
    if !readable {
        for lesson in &mut lessons {
            lesson.body_fr.clear();
            lesson.body_en.clear();
        }
    }
    let quizzes = store::quizzes(conn, id).await?;
    Ok(Course {
        row,
        discussion_group,
        unlock_group,
        lessons,
        quizzes,
        readable,
    })
}

/// Whether `caller` reads the course's lessons: content members get only here, so only its
/// learners (enrolment checked the audience and the prerequisites), its owner and trainers.
async fn reads_lessons(
    conn: &mut Conn,
    caller: Option<&Caller>,
    course: &CourseRow,
) -> Result<bool, CoreError> {
    let Some(caller) = caller else {
        return Ok(false);
    };
    if is_trainer(Some(caller)) || is_owner(caller, course) {
        return Ok(true);
    }
    Ok(store::enrolled_at(conn, course.id, caller.person_id)
        .await?
        .is_some())
}

/// The courses the caller may see (published ones; drafts to trainers and owners).
pub async fn courses(
    conn: &mut Conn,
    caller: Option<&Caller>,
) -> Result<Vec<CourseRow>, CoreError> {
    let viewer = caller.map_or(-1, |c| c.person_id);
    Ok(store::courses(conn, viewer, is_trainer(caller)).await?)
}

/// How many published courses a course's editor offers as prerequisites (the last created;
/// those it requires already are always offered too). An older course is added as a
/// prerequisite through the API, which takes any course id.
pub const REQUIRABLE_COURSES: i64 = 200;

/// The courses `course` may require, titles only, for its editor (trainers only): the newest
/// published ones and those it requires already.
pub async fn requirable_courses(
    conn: &mut Conn,
    session: &Session,
    course: &CourseRow,
) -> Result<Vec<store::CourseTitles>, CoreError> {
    require(session, Permission::ManageTraining)?;
    Ok(
        store::requirable_courses(conn, course.id, &course.prerequisites, REQUIRABLE_COURSES)
            .await?,
    )
}

/// The cover image's file of each course that has one, as (course id, file name): pages
/// show it under `/media/`.
pub async fn cover_files(
    conn: &mut Conn,
    rows: &[CourseRow],
) -> Result<Vec<(i64, String)>, CoreError> {
    let ids: Vec<i64> = rows.iter().filter_map(|c| c.cover_media_id).collect();
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let files = cenacle_db::media::media_by_ids(conn, &ids).await?;
    Ok(rows
        .iter()
        .filter_map(|c| {
            let media = files.iter().find(|m| Some(m.id) == c.cover_media_id)?;
            Some((c.id, media.file_name.clone()))
        })
        .collect())
}

/// The course's owner or a trainer publishes (or withdraws) a course. A course is published
/// with at least one lesson and no quiz without questions (a draft is written bit by bit).
pub async fn set_published(
    conn: &mut Conn,
    session: &Session,
    id: i64,
    published: bool,
) -> Result<(), CoreError> {
    require(session, Permission::ManageTraining)?;
    // Locked: a lesson deleted or a quiz added while this checks cannot slip past it.
    cenacle_db::course_authoring::lock_course(conn, id)
        .await?
        .ok_or(CoreError::NotFound("course"))?;
    if published {
        if store::lessons(conn, id).await?.is_empty() {
            return Err(TrainingRefusal::CourseWithoutLessons.into());
        }
        for quiz in store::quizzes(conn, id).await? {
            if store::questions(conn, quiz.id).await?.is_empty() {
                return Err(TrainingRefusal::QuizWithoutQuestions.into());
            }
        }
    }
    Ok(store::set_published(conn, id, published).await?)
}

/// Whether the member is in the course's audience (its trainers always are).
pub(crate) async fn in_audience(
    conn: &mut Conn,
    caller: &Caller,
    course: &CourseRow,
) -> Result<bool, CoreError> {
    if is_trainer(Some(caller)) || is_owner(caller, course) {
        return Ok(true);
    }
    Ok(match course.audience.as_str() {
        "group" => match course.audience_group_id {
            Some(group) => content::membership_role(conn, group, caller.person_id)
                .await?
                .is_some(),
            None => false,
        },
        "reputation" => {
            engagement::reputation_of(conn, caller.person_id).await?
                >= course.audience_reputation.unwrap_or(i64::MAX)
        }
        "badge" => {
            let held = badges::held(conn, caller.person_id).await?;
            course
                .audience_badge_id
                .is_some_and(|b| held.iter().any(|(badge, _)| badge.id == b))
        }
        _ => true,
    })
}

/// A member enrols: they must be in the course's audience and hold a valid certificate of
/// every prerequisite course. They join the course's discussion group. Enrolling twice
/// changes nothing.
pub async fn enrol(
    conn: &mut Conn,
    caller: &Caller,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    if !caller.is_local() {
        return Err(CoreError::NotAllowed("enrol"));
    }
    let course = visible_course(conn, Some(caller), id).await?;
    if !in_audience(conn, caller, &course).await? {
        return Err(TrainingRefusal::NotInAudience.into());
    }
    for &required in &course.prerequisites {
        let certificate = store::certificate(conn, required, caller.person_id).await?;
        if !certificate.is_some_and(|c| is_valid(c.expires_at, now)) {
            return Err(TrainingRefusal::PrerequisitesUnmet.into());
        }
    }
    let newly = store::enrol(conn, id, caller.person_id).await?;
    // Learners talk in the course's group: a restricted course's group is private, so its
    // learners are let in here (nobody else can be, short of a moderator's invitation) —
    // once: enrolling again does not bring back a learner its moderators removed. Nor does
    // enrolling let in a learner banned from the group: they enrol, without it.
    if newly {
        groups::admit_unless_banned(conn, course.discussion_group_id, caller.person_id).await?;
    }
    Ok(())
}

/// The enrolled member marks a lesson done (again: no change).
pub async fn mark_lesson_done(
    conn: &mut Conn,
    caller: &Caller,
    lesson_id: i64,
) -> Result<(), CoreError> {
    let lesson = store::lesson(conn, lesson_id)
        .await?
        .ok_or(CoreError::NotFound("lesson"))?;
    visible_course(conn, Some(caller), lesson.course_id).await?;
    if store::enrolled_at(conn, lesson.course_id, caller.person_id)
        .await?
        .is_none()
    {
        return Err(TrainingRefusal::NotEnrolled.into());
    }
    Ok(store::mark_done(conn, lesson_id, caller.person_id).await?)
}

/// A lesson of a course the caller may see.
pub async fn lesson(
    conn: &mut Conn,
    caller: Option<&Caller>,
    id: i64,
) -> Result<LessonRow, CoreError> {
    let lesson = store::lesson(conn, id)
        .await?
        .ok_or(CoreError::NotFound("lesson"))?;
    let course = visible_course(conn, caller, lesson.course_id).await?;
    if !reads_lessons(conn, caller, &course).await? {
        return Err(TrainingRefusal::NotEnrolled.into());
    }
    Ok(lesson)
}

/// Where a member stands in a course, to pick up where they left.
#[derive(Debug, Clone)]
pub struct Progress {
    pub course_id: i64,
    pub enrolled_at: Option<DateTime<Utc>>,
    pub lessons_done: Vec<i64>,
    pub lessons_total: usize,
    /// Submitted attempts, latest first.
    pub attempts: Vec<AttemptRow>,
    /// The attempt in progress at each quiz, to resume it.
    pub open_attempts: Vec<AttemptRow>,
    pub quizzes_passed: Vec<i64>,
    pub certificate: Option<crate::certificates::Certificate>,
}

pub async fn progress(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    id: i64,
) -> Result<Progress, CoreError> {
    visible_course(conn, Some(caller), id).await?;
    let enrolled_at = store::enrolled_at(conn, id, caller.person_id).await?;
    let lessons_done = store::lessons_done(conn, id, caller.person_id).await?;
    let lessons_total = store::lessons(conn, id).await?.len();
    let all = store::attempts(conn, id, caller.person_id).await?;
    let (attempts, open): (Vec<_>, Vec<_>) =
        all.into_iter().partition(|a| a.submitted_at.is_some());
    let mut quizzes_passed: Vec<i64> = attempts
        .iter()
        .filter(|a| a.passed == Some(true))
        .map(|a| a.quiz_id)
        .collect();
    quizzes_passed.sort_unstable();
    quizzes_passed.dedup();
    let certificate = match store::certificate(conn, id, caller.person_id).await? {
        Some(row) => Some(crate::certificates::certificate_view(conn, ctx, row).await?),
        None => None,
    };
    Ok(Progress {
        course_id: id,
        enrolled_at,
        lessons_done,
        lessons_total,
        attempts,
        open_attempts: open,
        quizzes_passed,
        certificate,
    })
}

/// What a trainer reads about a course: how many enrolled, finished the lessons and were
/// certified, and the questions learners get wrong most.
#[derive(Debug, Clone)]
pub struct Statistics {
    pub counts: store::CourseCounts,
    pub hardest: Vec<store::QuestionStats>,
}

/// The statistics of course `id`, certificates counted valid at `now`.
pub async fn statistics(
    conn: &mut Conn,
    session: &Session,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Statistics, CoreError> {
    require(session, Permission::ManageTraining)?;
    store::course(conn, id)
        .await?
        .ok_or(CoreError::NotFound("course"))?;
    Ok(Statistics {
        counts: store::course_counts(conn, id, now).await?,
        hardest: store::hardest_questions(conn, id, 10).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn course() -> CourseInput {
        CourseInput {
            title_fr: "Bases".into(),
            title_en: "Basics".into(),
            summary_fr: String::new(),
            summary_en: String::new(),
            cover_media_id: None,
            published: true,
            audience: "everyone".into(),
            audience_group: None,
            audience_reputation: None,
            audience_badge: None,
            validity_days: None,
            unlock_group: None,
            prerequisites: vec![],
            group_name: "bases".into(),
            lessons: vec![LessonInput {
                position: 1,
                title_fr: "Un".into(),
                title_en: "One".into(),
                body_fr: String::new(),
                body_en: String::new(),
                minutes: 5,
            }],
            quizzes: vec![QuizInput {
                position: 1,
                after_lesson: None,
                title_fr: "Quiz".into(),
                title_en: "Quiz".into(),
                pass_mark: 50,
                max_attempts: None,
                cool_down_seconds: 0,
                questions: vec![QuestionInput {
                    kind: "single".into(),
                    prompt_fr: "?".into(),
                    prompt_en: "?".into(),
                    explanation_fr: String::new(),
                    explanation_en: String::new(),
                    numeric_answer: None,
                    numeric_tolerance: 0.0,
                    choices: vec![ChoiceInput {
                        label_fr: "a".into(),
                        label_en: "a".into(),
                        correct: true,
                    }],
                }],
            }],
        }
    }

    fn refusal(input: &CourseInput) -> Option<&'static str> {
        match check_course(input) {
            Ok(()) => None,
            Err(CoreError::Training(r)) => Some(r.code()),
            Err(CoreError::Validation(v)) => Some(v.code),
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn a_course_is_checked_whole_before_anything_is_written() {
        assert_eq!(refusal(&course()), None);
        let mut gaps = course();
        gaps.lessons[0].position = 2;
        assert_eq!(refusal(&gaps), Some("lesson_order_gaps"));
        let mut mark = course();
        mark.quizzes[0].pass_mark = 101;
        assert_eq!(refusal(&mark), Some("pass_mark_out_of_range"));
        let mut wrong = course();
        wrong.quizzes[0].questions[0].choices[0].correct = false;
        assert_eq!(refusal(&wrong), Some("quiz_without_correct_answer"));
        let mut after = course();
        after.quizzes[0].after_lesson = Some(4);
        assert_eq!(refusal(&after), Some("quiz_after_unknown_lesson"));
        let mut audience = course();
        audience.audience = "badge".into();
        assert_eq!(refusal(&audience), Some("course_audience_incomplete"));
        let mut empty = course();
        empty.lessons.clear();
        empty.quizzes.clear();
        assert_eq!(refusal(&empty), Some("course_without_lessons"));
        empty.published = false;
        assert_eq!(refusal(&empty), None, "a draft is written bit by bit");
        let mut tolerance = course();
        tolerance.quizzes[0].questions[0].numeric_tolerance = f64::NAN;
        assert_eq!(refusal(&tolerance), Some("out_of_range"));
    }
}
