//! The built-in "getting started" course (issue 17, deliverable 6): how to use the community
//! itself, in French and English — ask, answer, accept, like, follow a group, earn points and
//! badges, find help — with a short quiz and its badge, open to everyone and owned by the
//! instance (no owner: no member's departure can take it away). The onboarding journey's
//! `finish_getting_started` step is done once its certificate is issued.
//!
//! Written by the server at start rather than by a migration: its discussion group is a
//! federated actor whose key pair and URLs (from the public URL) only the server makes. The
//! instance writes it once in its life (`instance_seed`, claimed in the writing
//! transaction): restarts, and two servers starting together, leave exactly one; a
//! community manager may edit, unpublish or delete it like any course and it stays so.

use crate::{
    courses::{
        prepare_checked, write_course, ChoiceInput, CourseInput, LessonInput, QuestionInput,
        QuizInput,
    },
    Context, CoreError, ScopedFutureExt,
};
use cenacle_db::{actors, builtin_courses as store};

/// The key of the built-in course (`course.builtin`) and of its seed.
pub const GETTING_STARTED: &str = "getting_started";

/// Writes the getting-started course if this instance never did; returns its id when it
/// was written now.
pub async fn ensure_getting_started(ctx: &Context) -> Result<Option<i64>, CoreError> {
    let group_name = {
        let mut conn = ctx.conn().await?;
        if store::seeded(&mut conn, GETTING_STARTED).await? {
            return Ok(None);
        }
        free_group_name(&mut conn).await?
    };
    // The group's key pair is made before the transaction opens (it is slow).
    let prepared = prepare_checked(ctx, course(&group_name)).await?;
    ctx.transaction(|conn| {
        async move {
            if !store::claim_seed(conn, GETTING_STARTED).await? {
                return Ok(None);
            }
            let id = write_course(conn, &prepared, None, None, None, None).await?;
            store::mark_builtin(conn, id, GETTING_STARTED).await?;
            Ok(Some(id))
        }
        .scope_boxed()
    })
    .await
}

/// The built-in course's id, if it still exists.
pub async fn getting_started_course(conn: &mut crate::Conn) -> Result<Option<i64>, CoreError> {
    Ok(store::builtin_course(conn, GETTING_STARTED).await?)
}

/// `getting_started`, or a free variant on an instance whose members already took the name.
async fn free_group_name(conn: &mut crate::Conn) -> Result<String, CoreError> {
    for suffix in ["", "_course", "_2", "_3", "_4", "_5"] {
        let name = format!("{GETTING_STARTED}{suffix}");
        if actors::local_group_by_name(conn, &name).await?.is_none() {
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
                     groupe, gagner des points et des badges, trouver de l'aide : l'essentiel \
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
                     - Le détail : ce que vous avez essayé, ce qui s'est passé.\n\
                     - Quelques étiquettes, pour que les bonnes personnes la trouvent.\n\n\
                     Vous êtes prévenu dès que quelqu'un répond.",
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
                    "Sous une question, écrivez votre **réponse** : ce que vous savez, avec \
                     un exemple si possible.\n\n\
                     Quand une réponse a résolu votre problème, **acceptez-la** : c'est \
                     l'auteur de la question qui le fait (ou, à défaut, un modérateur). La réponse acceptée est montrée en \
                     premier et la question est marquée résolue, ce qui aide toutes celles \
                     et ceux qui auront la même question.",
                    "Under a question, write your **answer**: what you know, with an \
                     example if you can.\n\n\
                     When an answer solved your problem, **accept it**: the question's \
                     author does it (or else a moderator). The accepted answer is shown first and the question is \
                     marked answered, which helps everyone who will have the same question.",
                ),
                3,
            ),
            lesson(
                3,
                ("Aimer et suivre un groupe", "Liking and following a group"),
                (
                    "**Aimez** les questions, idées et réponses utiles : c'est un merci \
                     rapide, et cela fait remonter les meilleures contributions.\n\n\
                     **Rejoignez** (suivez) les groupes qui vous intéressent : leurs \
                     publications arrivent dans votre fil et vos résumés par e-mail. Les \
                     groupes d'autres serveurs se suivent aussi, par leur adresse \
                     `!nom@serveur`.",
                    "**Like** useful questions, ideas and answers: it is a quick thank-you, \
                     and it brings the best contributions up.\n\n\
                     **Join** (follow) the groups you care about: their posts reach your \
                     feed and your e-mail digests. Groups on other servers can be followed \
                     too, by their `!name@server` address.",
                ),
                2,
            ),
            lesson(
                4,
                ("Points, badges et aide", "Points, badges and help"),
                (
                    "Vos contributions vous rapportent des **points** et de la réputation : \
                     une réponse acceptée, des mentions « j'aime » reçues, les étapes de \
                     votre parcours d'accueil. Les **badges** récompensent des étapes, comme \
                     celle de terminer ce cours.\n\n\
                     **Besoin d'aide ?** Posez votre question dans le groupe de discussion \
                     de ce cours : les formateurs et les autres membres y répondent. Votre \
                     page d'accueil rappelle aussi vos premiers pas.",
                    "Your contributions earn you **points** and reputation: an accepted \
                     answer, likes received, the steps of your welcome journey. **Badges** \
                     reward milestones, such as finishing this course.\n\n\
                     **Need help?** Ask your question in this course's discussion group: \
                     trainers and other members answer there. Your welcome page also \
                     reminds you of your first steps.",
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
                        "Qui accepte une réponse à une question ?",
                        "Who accepts an answer to a question?",
                    ),
                    (
                        "L'auteur de la question choisit la réponse qui l'a aidé.",
                        "The question's author picks the answer that helped them.",
                    ),
                    [
                        ("L'auteur de la question", "The question's author"),
                        ("N'importe quel membre", "Any member"),
                        ("Personne, c'est automatique", "Nobody, it is automatic"),
                    ],
                ),
                question(
                    (
                        "Que vous apporte le fait de rejoindre un groupe ?",
                        "What does joining a group give you?",
                    ),
                    (
                        "Les publications des groupes que vous suivez arrivent dans votre fil.",
                        "The posts of the groups you follow reach your feed.",
                    ),
                    [
                        (
                            "Ses publications dans mon fil",
                            "Its posts in my feed",
                        ),
                        ("Des points à chaque visite", "Points at every visit"),
                        ("Le droit de supprimer ses messages", "The right to delete its posts"),
                    ],
                ),
                question(
                    (
                        "Où demander de l'aide pour utiliser la communauté ?",
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
}
