//! The training space's rules: what makes a course, a lesson order and a quiz valid, how a
//! quiz attempt is shuffled and scored, when another attempt may start, and when a
//! certificate is still valid. No I/O: the use cases in `cenacle_core::training` read the
//! facts and ask here.

use chrono::{DateTime, Duration, Utc};

/// Why the training space refuses something. Each has a stable code and an HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrainingRefusal {
    /// A single or multiple choice question with no choice marked correct, or a numeric one
    /// without its answer.
    #[error("quiz_without_correct_answer")]
    QuizWithoutCorrectAnswer,
    /// A single choice question with more than one choice marked correct.
    #[error("single_choice_with_several_answers")]
    SingleChoiceWithSeveralAnswers,
    #[error("pass_mark_out_of_range")]
    PassMarkOutOfRange,
    /// Lesson (or quiz) positions that are not exactly 1, 2, …, n.
    #[error("lesson_order_gaps")]
    LessonOrderGaps,
    /// A quiz placed after a lesson the course does not have.
    #[error("quiz_after_unknown_lesson")]
    QuizAfterUnknownLesson,
    /// Audience "group", "reputation" or "badge" without its value.
    #[error("course_audience_incomplete")]
    AudienceIncomplete,
    #[error("prerequisites_unmet")]
    PrerequisitesUnmet,
    /// The course is for a group's members, a reputation or a badge the member lacks.
    #[error("course_not_open_to_you")]
    NotInAudience,
    #[error("not_enrolled")]
    NotEnrolled,
    #[error("quiz_attempts_exhausted")]
    AttemptsExhausted,
    /// A failed attempt's cool-down has not ended: another may start at `until`.
    #[error("quiz_cooling_down")]
    CoolingDown { until: DateTime<Utc> },
    #[error("attempt_already_submitted")]
    AlreadySubmitted,
    /// An answer naming a choice of another question, several choices for a single choice
    /// question, or no number for a numeric one.
    #[error("answer_invalid")]
    AnswerInvalid,
    /// Publishing a course with no lesson.
    #[error("course_without_lessons")]
    CourseWithoutLessons,
    /// Publishing a course with a quiz that has no question yet.
    #[error("quiz_without_questions")]
    QuizWithoutQuestions,
    /// A quiz's questions (or the quiz itself) changed while learners see the course: the
    /// trainer withdraws it first.
    #[error("course_not_draft")]
    CourseNotDraft,
    /// A quiz's questions (or the quiz itself) changed after learners attempted it.
    #[error("course_has_attempts")]
    CourseHasAttempts,
    /// An audience change that would turn the discussion group public or private.
    #[error("course_audience_visibility_locked")]
    AudienceVisibilityLocked,
    /// Prerequisites that would, through one another, require the course itself: nobody
    /// could ever enrol in any course of the loop.
    #[error("prerequisite_cycle")]
    PrerequisiteCycle,
    /// A new prerequisite that learners cannot see (a draft): nobody could meet it.
    #[error("prerequisite_not_published")]
    PrerequisiteNotPublished,
    /// A quiz attempt in a draft: it would freeze the quiz's questions before learners
    /// ever see them.
    #[error("course_is_draft")]
    CourseIsDraft,
    /// Prerequisites for the built-in getting-started course: the onboarding journey's step
    /// would wait on other courses first, and a newcomer could not finish it.
    #[error("builtin_course_prerequisites")]
    BuiltinCoursePrerequisites,
}

/// The HTTP family a refusal belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainingStatus {
    Invalid,
    Forbidden,
    Conflict,
}

impl TrainingRefusal {
    pub const CODES: [&'static str; 22] = [
        "quiz_without_correct_answer",
        "single_choice_with_several_answers",
        "pass_mark_out_of_range",
        "lesson_order_gaps",
        "quiz_after_unknown_lesson",
        "course_audience_incomplete",
        "prerequisites_unmet",
        "course_not_open_to_you",
        "not_enrolled",
        "quiz_attempts_exhausted",
        "quiz_cooling_down",
        "attempt_already_submitted",
        "answer_invalid",
        "course_without_lessons",
        "quiz_without_questions",
        "course_not_draft",
        "course_has_attempts",
        "course_audience_visibility_locked",
        "prerequisite_cycle",
        "prerequisite_not_published",
        "course_is_draft",
        "builtin_course_prerequisites",
    ];

    pub fn code(&self) -> &'static str {
        use TrainingRefusal::*;
        match self {
            QuizWithoutCorrectAnswer => "quiz_without_correct_answer",
            SingleChoiceWithSeveralAnswers => "single_choice_with_several_answers",
            PassMarkOutOfRange => "pass_mark_out_of_range",
            LessonOrderGaps => "lesson_order_gaps",
            QuizAfterUnknownLesson => "quiz_after_unknown_lesson",
            AudienceIncomplete => "course_audience_incomplete",
            PrerequisitesUnmet => "prerequisites_unmet",
            NotInAudience => "course_not_open_to_you",
            NotEnrolled => "not_enrolled",
            AttemptsExhausted => "quiz_attempts_exhausted",
            CoolingDown { .. } => "quiz_cooling_down",
            AlreadySubmitted => "attempt_already_submitted",
            AnswerInvalid => "answer_invalid",
            CourseWithoutLessons => "course_without_lessons",
            QuizWithoutQuestions => "quiz_without_questions",
            CourseNotDraft => "course_not_draft",
            CourseHasAttempts => "course_has_attempts",
            AudienceVisibilityLocked => "course_audience_visibility_locked",
            PrerequisiteCycle => "prerequisite_cycle",
            PrerequisiteNotPublished => "prerequisite_not_published",
            CourseIsDraft => "course_is_draft",
            BuiltinCoursePrerequisites => "builtin_course_prerequisites",
        }
    }

    pub fn status(&self) -> TrainingStatus {
        use TrainingRefusal::*;
        match self {
            QuizWithoutCorrectAnswer
            | SingleChoiceWithSeveralAnswers
            | PassMarkOutOfRange
            | LessonOrderGaps
            | QuizAfterUnknownLesson
            | AudienceIncomplete
            | AnswerInvalid
            | PrerequisiteCycle
            | PrerequisiteNotPublished => TrainingStatus::Invalid,
            PrerequisitesUnmet | NotInAudience | NotEnrolled => TrainingStatus::Forbidden,
            AttemptsExhausted
            | CoolingDown { .. }
            | AlreadySubmitted
            | CourseWithoutLessons
            | QuizWithoutQuestions
            | CourseNotDraft
            | CourseHasAttempts
            | AudienceVisibilityLocked
            | CourseIsDraft
            | BuiltinCoursePrerequisites => TrainingStatus::Conflict,
        }
    }
}

/// The kinds of question a quiz holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionKind {
    Single,
    Multiple,
    Numeric,
}

impl QuestionKind {
    pub fn parse(text: &str) -> Option<QuestionKind> {
        match text {
            "single" => Some(QuestionKind::Single),
            "multiple" => Some(QuestionKind::Multiple),
            "numeric" => Some(QuestionKind::Numeric),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            QuestionKind::Single => "single",
            QuestionKind::Multiple => "multiple",
            QuestionKind::Numeric => "numeric",
        }
    }
}

/// Positions must be 1, 2, …, n in some order: a gap or a repeat would leave learners unsure
/// which lesson comes next.
pub fn check_order(positions: &[i32]) -> Result<(), TrainingRefusal> {
    let mut sorted = positions.to_vec();
    sorted.sort_unstable();
    if sorted
        .iter()
        .enumerate()
        .all(|(i, &p)| i64::from(p) == i as i64 + 1)
    {
        Ok(())
    } else {
        Err(TrainingRefusal::LessonOrderGaps)
    }
}

pub fn check_pass_mark(pass_mark: i32) -> Result<(), TrainingRefusal> {
    if (0..=100).contains(&pass_mark) {
        Ok(())
    } else {
        Err(TrainingRefusal::PassMarkOutOfRange)
    }
}

/// A question as written: choice questions need their correct choices (exactly one for a
/// single choice), numeric ones their answer.
pub fn check_question(
    kind: QuestionKind,
    correct_flags: &[bool],
    numeric_answer: Option<f64>,
) -> Result<(), TrainingRefusal> {
    let correct = correct_flags.iter().filter(|c| **c).count();
    match kind {
        QuestionKind::Numeric if numeric_answer.is_some_and(f64::is_finite) => Ok(()),
        QuestionKind::Numeric => Err(TrainingRefusal::QuizWithoutCorrectAnswer),
        _ if correct == 0 => Err(TrainingRefusal::QuizWithoutCorrectAnswer),
        QuestionKind::Single if correct > 1 => Err(TrainingRefusal::SingleChoiceWithSeveralAnswers),
        _ => Ok(()),
    }
}

/// What a learner answered to one question.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Choices(Vec<i64>),
    Number(f64),
}

/// Whether an answer is right: the exact set of correct choices (order and repeats do not
/// matter), or a number within the tolerance. An answer of the wrong shape is refused.
pub fn is_correct(
    kind: QuestionKind,
    choices: &[(i64, bool)],
    numeric_answer: Option<f64>,
    tolerance: f64,
    answer: Option<&Answer>,
) -> Result<bool, TrainingRefusal> {
    match (kind, answer) {
        (_, None) => Ok(false),
        (QuestionKind::Numeric, Some(Answer::Number(n))) => {
            // A hair of slack for binary fractions: 2.6 is within 2.5 ± 0.1 as a person reads it.
            Ok(numeric_answer.is_some_and(|a| (a - n).abs() <= tolerance.abs() + 1e-9))
        }
        (QuestionKind::Single | QuestionKind::Multiple, Some(Answer::Choices(chosen))) => {
            let mut chosen = chosen.clone();
            chosen.sort_unstable();
            chosen.dedup();
            if kind == QuestionKind::Single && chosen.len() > 1 {
                return Err(TrainingRefusal::AnswerInvalid);
            }
            if chosen
                .iter()
                .any(|c| !choices.iter().any(|(id, _)| id == c))
            {
                return Err(TrainingRefusal::AnswerInvalid);
            }
            let mut right: Vec<i64> = choices
                .iter()
                .filter(|(_, correct)| *correct)
                .map(|(id, _)| *id)
                .collect();
            right.sort_unstable();
            Ok(chosen == right)
        }
        _ => Err(TrainingRefusal::AnswerInvalid),
    }
}

/// The score in whole percent, rounded down (so that 2 of 3 is 66 %, below a 67 % mark).
pub fn score_percent(right: usize, total: usize) -> i32 {
    if total == 0 {
        return 100;
    }
    (right * 100 / total) as i32
}

pub fn passed(score: i32, pass_mark: i32) -> bool {
    score >= pass_mark
}

/// Whether another attempt may start: `submitted` attempts of this cycle already used up the
/// limit, or the last one failed less than `cool_down` ago.
pub fn may_start_attempt(
    submitted: i64,
    limit: Option<i32>,
    last_failed_at: Option<DateTime<Utc>>,
    cool_down: Duration,
    now: DateTime<Utc>,
) -> Result<(), TrainingRefusal> {
    if limit.is_some_and(|l| submitted >= i64::from(l)) {
        return Err(TrainingRefusal::AttemptsExhausted);
    }
    if let Some(failed) = last_failed_at {
        let until = failed + cool_down;
        if until > now {
            return Err(TrainingRefusal::CoolingDown { until });
        }
    }
    Ok(())
}

/// Shuffles `items` in place from `seed`: the same attempt always shows the same order (it
/// can be resumed), another attempt another order. A xorshift generator is enough here: the
/// order only keeps learners from memorising positions; the answers never leave the server.
pub fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed | 1;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = (state % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// When a certificate issued at `issued_at` stops being valid (None: never).
pub fn expiry(issued_at: DateTime<Utc>, validity_days: Option<i32>) -> Option<DateTime<Utc>> {
    validity_days.map(|d| issued_at + Duration::days(i64::from(d)))
}

pub fn is_valid(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    expires_at.is_none_or(|e| e > now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_at_the_edge_of_the_tolerance_is_right() {
        let right = |n: f64| {
            is_correct(
                QuestionKind::Numeric,
                &[],
                Some(2.5),
                0.1,
                Some(&Answer::Number(n)),
            )
            .unwrap()
        };
        assert!(right(2.6));
        assert!(right(2.4));
        assert!(!right(2.61));
    }

    #[test]
    fn lesson_order_must_be_one_to_n() {
        assert_eq!(check_order(&[2, 1, 3]), Ok(()));
        assert_eq!(check_order(&[]), Ok(()));
        assert_eq!(check_order(&[1, 3]), Err(TrainingRefusal::LessonOrderGaps));
        assert_eq!(check_order(&[1, 1]), Err(TrainingRefusal::LessonOrderGaps));
        assert_eq!(check_order(&[0, 1]), Err(TrainingRefusal::LessonOrderGaps));
    }

    #[test]
    fn pass_mark_is_a_percentage() {
        assert_eq!(check_pass_mark(0), Ok(()));
        assert_eq!(check_pass_mark(100), Ok(()));
        assert_eq!(
            check_pass_mark(101),
            Err(TrainingRefusal::PassMarkOutOfRange)
        );
        assert_eq!(
            check_pass_mark(-1),
            Err(TrainingRefusal::PassMarkOutOfRange)
        );
    }

    #[test]
    fn a_question_needs_its_correct_answer() {
        use QuestionKind::*;
        assert_eq!(
            check_question(Single, &[false, false], None),
            Err(TrainingRefusal::QuizWithoutCorrectAnswer)
        );
        assert_eq!(
            check_question(Single, &[true, true], None),
            Err(TrainingRefusal::SingleChoiceWithSeveralAnswers)
        );
        assert_eq!(check_question(Multiple, &[true, true, false], None), Ok(()));
        assert_eq!(
            check_question(Numeric, &[], None),
            Err(TrainingRefusal::QuizWithoutCorrectAnswer)
        );
        assert_eq!(check_question(Numeric, &[], Some(42.0)), Ok(()));
    }

    #[test]
    fn scoring_needs_the_exact_set_of_choices_or_a_close_number() {
        use QuestionKind::*;
        let choices = [(1, true), (2, false), (3, true)];
        let many = |v: &[i64]| Some(Answer::Choices(v.to_vec()));
        assert_eq!(
            is_correct(Multiple, &choices, None, 0.0, many(&[3, 1]).as_ref()),
            Ok(true)
        );
        assert_eq!(
            is_correct(Multiple, &choices, None, 0.0, many(&[1]).as_ref()),
            Ok(false)
        );
        assert_eq!(
            is_correct(Multiple, &choices, None, 0.0, many(&[1, 9]).as_ref()),
            Err(TrainingRefusal::AnswerInvalid)
        );
        assert_eq!(
            is_correct(
                Single,
                &[(1, false), (2, true)],
                None,
                0.0,
                many(&[1, 2]).as_ref()
            ),
            Err(TrainingRefusal::AnswerInvalid)
        );
        assert_eq!(is_correct(Single, &choices, None, 0.0, None), Ok(false));
        let number = Some(Answer::Number(2.45));
        assert_eq!(
            is_correct(Numeric, &[], Some(2.5), 0.1, number.as_ref()),
            Ok(true)
        );
        assert_eq!(
            is_correct(Numeric, &[], Some(2.5), 0.0, number.as_ref()),
            Ok(false)
        );
        assert_eq!(
            is_correct(Numeric, &[], Some(3.0), 0.0, many(&[1]).as_ref()),
            Err(TrainingRefusal::AnswerInvalid)
        );
    }

    #[test]
    fn scores_round_down_against_the_pass_mark() {
        assert_eq!(score_percent(2, 3), 66);
        assert!(!passed(score_percent(2, 3), 67));
        assert!(passed(score_percent(3, 3), 100));
        assert!(passed(score_percent(0, 2), 0));
    }

    #[test]
    fn attempts_stop_at_the_limit_and_wait_out_the_cool_down() {
        let now = Utc::now();
        let hour = Duration::hours(1);
        assert_eq!(may_start_attempt(2, Some(3), None, hour, now), Ok(()));
        assert_eq!(
            may_start_attempt(3, Some(3), None, hour, now),
            Err(TrainingRefusal::AttemptsExhausted)
        );
        assert_eq!(may_start_attempt(30, None, None, hour, now), Ok(()));
        let failed = now - Duration::minutes(10);
        assert_eq!(
            may_start_attempt(1, None, Some(failed), hour, now),
            Err(TrainingRefusal::CoolingDown {
                until: failed + hour
            })
        );
        assert_eq!(
            may_start_attempt(1, None, Some(now - Duration::hours(2)), hour, now),
            Ok(())
        );
    }

    #[test]
    fn shuffling_is_a_permutation_fixed_by_its_seed() {
        let mut a: Vec<i32> = (0..20).collect();
        let mut b = a.clone();
        shuffle(&mut a, 7);
        shuffle(&mut b, 7);
        assert_eq!(a, b);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..20).collect::<Vec<_>>());
        let mut c: Vec<i32> = (0..20).collect();
        shuffle(&mut c, 8);
        assert_ne!(a, c);
        assert_ne!(a, (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn certificates_expire_after_their_validity() {
        let issued = Utc::now() - Duration::days(10);
        assert_eq!(expiry(issued, None), None);
        let expires = expiry(issued, Some(5));
        assert!(!is_valid(expires, Utc::now()));
        assert!(is_valid(expiry(issued, Some(30)), Utc::now()));
        assert!(is_valid(None, Utc::now()));
    }

    #[test]
    fn every_refusal_has_its_listed_code() {
        for code in TrainingRefusal::CODES {
            assert_eq!(
                TrainingRefusal::CODES
                    .iter()
                    .filter(|c| **c == code)
                    .count(),
                1
            );
        }
        assert_eq!(
            TrainingRefusal::CoolingDown { until: Utc::now() }.code(),
            "quiz_cooling_down"
        );
    }
}
