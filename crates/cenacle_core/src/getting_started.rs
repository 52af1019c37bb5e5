//! The built-in "getting started" course (issue 17, deliverable 6): how to use the community
//! itself, in French and English — ask, answer, accept, like, follow a group, earn points and
//! badges, find help — with a short quiz and its badge, open to everyone and owned by the
//! instance (no owner: no member's departure can take it away). The onboarding journey's
//! `finish_getting_started` step is done while its certificate is in force (paid once, when it is issued).
//!
//! Written by the server at start rather than by a migration: its discussion group is a
//! federated actor whose key pair and URLs (from the public URL) only the server makes. The
//! instance writes it once in its life (`instance_seed`, claimed in the writing
//! transaction): restarts, and two servers starting together, leave exactly one; a
//! community manager may edit or unpublish it like any course and it stays so.

use crate::{
    courses::{
        prepare_checked, write_course, ChoiceInput, CourseInput, LessonInput, PreparedCourse,
        QuestionInput, QuizInput,
    },
    Conn, Context, CoreError,
};
use cenacle_db::{actors, builtin_courses as store};

/// The key of the built-in course (`course.builtin`) and of its seed.
pub use cenacle_db::builtin_courses::GETTING_STARTED;

/// The getting-started course ready to be written: its discussion group's key pair is made
/// before any transaction opens (it is slow work that must not hold a connection).
pub struct PreparedGettingStarted(PreparedCourse);

/// The name the course's discussion group will take, or `None` when this instance already
/// wrote the course once (a withdrawn or deleted course is not written again). The server
/// asks at every start: `prepare_getting_started`, then `write_getting_started` in one
/// transaction.
pub async fn getting_started_owed(conn: &mut Conn) -> Result<Option<String>, CoreError> {
    if store::seeded(conn, GETTING_STARTED).await? {
        return Ok(None);
    }
    Ok(Some(free_group_name(conn).await?))
}

pub async fn prepare_getting_started(
    ctx: &Context,
    group_name: &str,
) -> Result<PreparedGettingStarted, CoreError> {
    Ok(PreparedGettingStarted(
        prepare_checked(ctx, course(group_name)).await?,
    ))
}

/// Writes the course, with its seed claimed in the same transaction: of several servers
/// starting at once on one database, one writes it and the others get `None`.
pub async fn write_getting_started(
    conn: &mut Conn,
    prepared: &PreparedGettingStarted,
) -> Result<Option<i64>, CoreError> {
    if !store::claim_seed(conn, GETTING_STARTED).await? {
        return Ok(None);
    }
    let id = write_course(conn, &prepared.0, None, None, None, None).await?;
    store::mark_builtin(conn, id, GETTING_STARTED).await?;
    Ok(Some(id))
}

/// The built-in course's id, if it still exists and is published.
pub async fn getting_started_course(conn: &mut Conn) -> Result<Option<i64>, CoreError> {
    Ok(store::builtin_course(conn, GETTING_STARTED).await?)
}

/// `getting_started`, or a free variant on an instance whose groups or members already took
/// the name (people and groups share one name space: a member called `getting_started` would
/// otherwise make the seeding fail at every start).
async fn free_group_name(conn: &mut Conn) -> Result<String, CoreError> {
    for suffix in ["", "_course", "_2", "_3", "_4", "_5"] {
        let name = format!("{GETTING_STARTED}{suffix}");
        if actors::local_group_by_name(conn, &name).await?.is_none()
            && actors::local_person_by_name(conn, &name).await?.is_none()
        {
            return Ok(name);
        }
    }
    Err(CoreError::Conflict("getting_started_group_name"))
}

fn lesson(position: i32, title: (&str, &str), body: (&str, &str), minutes: i32) -> LessonInput {
    LessonInput {
        position,
        title_fr: title.0.into(),
        title_en: title.1.into(),
        body_fr: body.0.into(),
        body_en: body.1.into(),
        minutes,
    }
}

/// A single-choice question; the first choice is the right one (shuffled when shown).
fn question(
    prompt: (&str, &str),
    explanation: (&str, &str),
    choices: [(&str, &str); 3],
) -> QuestionInput {
    QuestionInput {
        kind: "single".into(),
        prompt_fr: prompt.0.into(),
        prompt_en: prompt.1.into(),
        explanation_fr: explanation.0.into(),
        explanation_en: explanation.1.into(),
        numeric_answer: None,
        numeric_tolerance: 0.0,
        choices: choices
            .into_iter()
            .enumerate()
            .map(|(i, (fr, en))| ChoiceInput {
                label_fr: fr.into(),
                label_en: en.into(),
                correct: i == 0,
            })
            .collect(),
    }
}

/// The course as written at the first start.
pub fn course(group_name: &str) -> CourseInput {
    CourseInput {
        title_fr: "Bien démarrer dans la communauté".into(),
        title_en: "Getting started in the community".into(),
        summary_fr: "Poser une question, répondre, accepter une réponse, aimer, suivre un \
                     groupe, gagner des points et des badges, trouver de l’aide : l’essentiel \
                     en quelques minutes."
            .into(),
        summary_en: "Asking a question, answering, accepting an answer, liking, following a \
                     group, earning points and badges, finding help: the essentials in a few \
                     minutes."
            .into(),
        cover_media_id: None,
        published: true,
        audience: "everyone".into(),
        audience_group: None,
        audience_reputation: None,
        audience_badge: None,
        validity_days: None,
        unlock_group: None,
        prerequisites: vec![],
        group_name: group_name.into(),
        lessons: vec![
            lesson(
                1,
                ("Poser une question", "Asking a question"),
                (
                    "Tout se passe dans les **groupes**. Ouvrez le groupe qui correspond à \
                     votre sujet, puis écrivez une publication de type **question**.\n\n\
                     - Un titre court qui dit ce que vous cherchez.\n\
                     - Le détail : ce que vous avez essayé, ce qui s’est passé.\n\
                     - Quelques étiquettes, pour que les bonnes personnes la trouvent.\n\n\
                     Une notification vous attend dès que quelqu’un répond.",
                    "Everything happens in **groups**. Open the group that matches your \
                     topic, then write a post of the **question** kind.\n\n\
                     - A short title that says what you are looking for.\n\
                     - The details: what you tried, what happened.\n\
                     - A few tags, so that the right people find it.\n\n\
                     You are notified as soon as someone answers.",
                ),
                3,
            ),
            lesson(
                2,
                ("Répondre et accepter une réponse", "Answering and accepting an answer"),
                (
                    "Sous une question, écrivez votre **réponse** : ce que vous savez, avec \
                     un exemple si possible.\n\n\
                     Quand une réponse a résolu votre problème, **acceptez-la** : c’est \
                     l’auteur de la question qui le fait (ou, à défaut, un modérateur). La réponse acceptée est montrée en \
                     premier et la question est marquée résolue, ce qui aide toutes celles \
                     et ceux qui auront la même question.",
                    "Under a question, write your **answer**: what you know, with an \
                     example if you can.\n\n\
                     When an answer solved your problem, **accept it**: the question's \
                     author does it (or else a moderator). The accepted answer is shown first and the question is \
                     marked solved, which helps everyone who will have the same question.",
                ),
                3,
            ),
            lesson(
                3,
                ("Aimer et suivre un groupe", "Liking and following a group"),
                (
                    "**Aimez** les questions, idées et réponses utiles : c’est un merci \
                     rapide, et cela fait remonter les meilleures contributions.\n\n\
                     **Rejoignez** (suivez) les groupes qui vous intéressent : leurs \
                     publications arrivent dans votre fil. Les \
                     groupes d’autres serveurs se suivent aussi, par leur adresse \
                     `!nom@serveur`.",
                    "**Like** useful questions, ideas and answers: it is a quick thank-you, \
                     and it brings the best contributions up.\n\n\
                     **Join** (follow) the groups you care about: their posts reach your \
                     feed. Groups on other servers can be followed \
                     too, by their `!name@server` address.",
                ),
                2,
            ),
            lesson(
                4,
                ("Points, badges et aide", "Points, badges and help"),
                (
                    "Vos contributions vous rapportent des **points** et de la réputation : \
                     une réponse acceptée, des mentions « j’aime » reçues, les étapes de \
                     votre parcours d’accueil. Les **badges** récompensent des étapes, comme \
                     celle de terminer ce cours.\n\n\
                     **Besoin d’aide ?** Posez votre question dans le groupe de discussion \
                     de ce cours : les formateurs et les autres membres y répondent. La page \
                     « Bien démarrer » rappelle aussi vos premiers pas.",
                    "Your contributions earn you **points** and reputation: an accepted \
                     answer, likes received, the steps of your welcome journey. **Badges** \
                     reward milestones, such as finishing this course.\n\n\
                     **Need help?** Ask your question in this course's discussion group: \
                     trainers and other members answer there. The “Getting started” \
                     page also reminds you of your first steps.",
                ),
                2,
            ),
        ],
        quizzes: vec![QuizInput {
            position: 1,
            after_lesson: None,
            title_fr: "Petit quiz".into(),
            title_en: "Short quiz".into(),
            pass_mark: 60,
            max_attempts: None,
            cool_down_seconds: 0,
            questions: vec![
                question(
                    (
                        "Qui accepte une réponse à une question ?",
                        "Who accepts an answer to a question?",
                    ),
                    (
                        "L’auteur de la question choisit la réponse qui l’a aidé.",
                        "The question's author picks the answer that helped them.",
                    ),
                    [
                        ("L’auteur de la question", "The question's author"),
                        ("N’importe quel membre", "Any member"),
                        ("Personne, c’est automatique", "Nobody, it is automatic"),
                    ],
                ),
                question(
                    (
                        "Que vous apporte le fait de rejoindre un groupe ?",
                        "What does joining a group give you?",
                    ),
                    (
                        "Les publications des groupes que vous suivez arrivent dans votre fil.",
                        "The posts of the groups you follow reach your feed.",
                    ),
                    [
                        (
                            "Ses publications dans votre fil",
                            "Its posts in your feed",
                        ),
                        ("La modération du groupe", "Moderating the group"),
                        ("Le droit de supprimer ses messages", "The right to delete its posts"),
                    ],
                ),
                question(
                    (
                        "Où demander de l’aide pour utiliser la communauté ?",
                        "Where do you ask for help using the community?",
                    ),
                    (
                        "Le groupe de discussion de ce cours est fait pour cela.",
                        "This course's discussion group is there for that.",
                    ),
                    [
                        (
                            "Dans le groupe de discussion de ce cours",
                            "In this course's discussion group",
                        ),
                        ("Nulle part", "Nowhere"),
                        ("En dehors de la communauté", "Outside the community"),
                    ],
                ),
            ],
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_course_passes_the_trainers_checks() {
        let course = course(GETTING_STARTED);
        crate::courses::check_course(&course).unwrap();
        assert_eq!(course.audience, "everyone");
        assert!(course.published);
        // Each question has exactly one right choice among three.
        for q in &course.quizzes[0].questions {
            assert_eq!(q.choices.iter().filter(|c| c.correct).count(), 1);
        }
    }

    /// Every French text of the course keeps its punctuation on the line (a no-break space
    /// before `: ; ? ! »` and after `«`), as the pages' own words do.
    #[test]
    fn the_built_in_courses_french_keeps_its_punctuation_on_the_line() {
        let course = course(GETTING_STARTED);
        let mut texts = vec![&course.title_fr, &course.summary_fr];
        for lesson in &course.lessons {
            texts.extend([&lesson.title_fr, &lesson.body_fr]);
        }
        for quiz in &course.quizzes {
            texts.push(&quiz.title_fr);
            for q in &quiz.questions {
                texts.extend([&q.prompt_fr, &q.explanation_fr]);
                texts.extend(q.choices.iter().map(|c| &c.label_fr));
            }
        }
        let faulty: Vec<&String> = texts
            .into_iter()
            .filter(|t| !cenacle_domain::typography::french_spacing_faults(t).is_empty())
            .collect();
        assert!(faulty.is_empty(), "{faulty:#?}");
    }
}
