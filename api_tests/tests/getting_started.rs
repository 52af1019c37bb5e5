//! The built-in getting-started course (issue 17, deliverable 6) and trainers' answers
//! (deliverable 5), on a real server and database: a fresh instance has exactly one
//! getting-started course, owned by the instance, even after restarts (and a manager's
//! unpublishing stays); a newcomer sees it, completes it, and the onboarding step shows done,
//! its points paid once. In a course's discussion group a trainer's answer is marked, in the
//! API and on the question's page (FR/EN), a learner's is not, nor a trainer's elsewhere.

use cenacle_api_tests::{
    browser::Browser,
    database::{connect, number},
    Hosts, Instance,
};
use serde_json::{json, Value};

const BUILTIN: &str = "SELECT count(*) FROM course WHERE builtin = 'getting_started'";

/// The getting-started course as `token` lists it.
async fn listed_course(alpha: &Instance, token: &str) -> Option<Value> {
    let (status, listed) = alpha.get("/api/v1/courses", Some(token)).await;
    assert_eq!(status, 200, "{listed}");
    listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["title_en"] == "Getting started in the community")
        .cloned()
}

/// The onboarding step of the course, as `token` sees it now.
async fn course_step(alpha: &Instance, token: &str) -> Value {
    let (status, mine) = alpha.get("/api/v1/onboarding", Some(token)).await;
    assert_eq!(status, 200, "{mine}");
    mine["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "finish_getting_started")
        .cloned()
        .unwrap_or_else(|| panic!("no getting-started step: {mine}"))
}

/// Right answers to the course's quiz: each question's right choice, read from the course's
/// source (the first choice as written), by its English label.
fn right_answers(attempt: &Value) -> Value {
    let right = [
        "The question's author",
        "Its posts in your feed",
        "In this course's discussion group",
    ];
    let answers: Vec<Value> = attempt["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            let choice = q["choices"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| right.contains(&c["label_en"].as_str().unwrap()))
                .unwrap_or_else(|| panic!("no right choice in {q}"));
            json!({"question_id": q["id"], "choices": [choice["id"]]})
        })
        .collect();
    json!({ "answers": answers })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_finishes_the_getting_started_course_and_the_journey_step_is_done() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    let mut db = connect(&alpha).await;

    // From the first start: one course, the instance's (no owner), published, open to all,
    // with its badge and its public discussion group.
    assert_eq!(number(&mut db, BUILTIN).await, 1);
    assert_eq!(
        number(
            &mut db,
            "SELECT count(*) FROM course c JOIN badge b ON b.id = c.badge_id \
             WHERE c.builtin = 'getting_started' AND c.owner_id IS NULL AND c.published \
               AND c.audience = 'everyone'"
        )
        .await,
        1
    );
    let nina = alpha.member("nina").await;
    let course = listed_course(&alpha, &nina)
        .await
        .expect("a newcomer sees the getting-started course");
    let id = course["id"].as_i64().unwrap();
    let (status, shown) = alpha
        .get(&format!("/api/v1/courses/{id}"), Some(&nina))
        .await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["owner_id"], Value::Null, "{shown}");
    assert_eq!(shown["title_fr"], "Bien démarrer dans la communauté");
    let group = shown["discussion_group"].as_str().unwrap().to_owned();
    let (_, g) = alpha.get(&format!("/api/v1/groups/{group}"), None).await;
    assert_eq!(g["visibility"], "public", "{g}");

    // The journey's step is there, not done.
    let step = course_step(&alpha, &nina).await;
    assert_eq!(step["done"], false, "{step}");
    let points = step["points"].as_i64().unwrap();
    assert!(points > 0, "{step}");

    // Nina takes the course: enrols, reads the lessons, passes the quiz.
    let (status, body) = alpha
        .post(
            &format!("/api/v1/courses/{id}/enrol"),
            Some(&nina),
            json!({}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (_, read) = alpha
        .get(&format!("/api/v1/courses/{id}"), Some(&nina))
        .await;
    let lessons = read["lessons"].as_array().unwrap();
    assert!(lessons.len() >= 3, "{read}");
    for lesson in lessons {
        assert_ne!(lesson["body_fr"], "", "{lesson}");
        assert_ne!(lesson["body_en"], "", "{lesson}");
        let (status, _) = alpha
            .post(
                &format!("/api/v1/lessons/{}/done", lesson["id"]),
                Some(&nina),
                json!({}),
            )
            .await;
        assert_eq!(status, 204);
    }
    // Lessons alone do not finish the course.
    assert_eq!(course_step(&alpha, &nina).await["done"], false);
    let nina_id = number(
        &mut db,
        "SELECT id FROM person WHERE username = 'nina' AND local",
    )
    .await;
    let before = number(
        &mut db,
        &format!(
            "SELECT coalesce(sum(delta), 0)::bigint FROM points_ledger WHERE person_id = {nina_id}"
        ),
    )
    .await;
    let quiz = read["quizzes"][0]["id"].as_i64().unwrap();
    let (status, attempt) = alpha
        .post(
            &format!("/api/v1/quizzes/{quiz}/attempts"),
            Some(&nina),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{attempt}");
    let (status, result) = alpha
        .post(
            &format!("/api/v1/attempts/{}/submit", attempt["attempt_id"]),
            Some(&nina),
            right_answers(&attempt),
        )
        .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["passed"], true, "{result}");
    assert!(result["certificate"]["code"].is_string(), "{result}");

    // The certificate's transaction paid the step, before the journey is read; then it is
    // done, and paid once however often the journey is read.
    let step_rows = format!(
        "SELECT count(*) FROM points_ledger WHERE person_id = {nina_id} \
         AND reason = 'onboarding: finish_getting_started'"
    );
    assert_eq!(number(&mut db, &step_rows).await, 1);
    for _ in 0..2 {
        assert_eq!(course_step(&alpha, &nina).await["done"], true);
    }
    let after = number(
        &mut db,
        &format!(
            "SELECT coalesce(sum(delta), 0)::bigint FROM points_ledger WHERE person_id = {nina_id}"
        ),
    )
    .await;
    assert_eq!(after - before, points);
    assert_eq!(
        number(
            &mut db,
            &format!(
                "SELECT count(*) FROM points_ledger WHERE person_id = {nina_id} \
                 AND reason = 'onboarding: finish_getting_started'"
            )
        )
        .await,
        1
    );
    // The course's badge came with the certificate.
    assert_eq!(
        number(
            &mut db,
            &format!(
                "SELECT count(*) FROM badge_award a JOIN course c ON c.badge_id = a.badge_id \
                 WHERE c.id = {id} AND a.person_id = {nina_id}"
            )
        )
        .await,
        1
    );

    // A community manager unpublishes it like any course; restarts write no second course
    // and do not publish it again.
    let (status, body) = alpha
        .post(
            &format!("/api/v1/courses/{id}/publish"),
            Some(&admin),
            json!({"published": false}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    drop(db);
    alpha.stop();
    alpha.start();
    alpha.stop();
    alpha.start();
    let mut db = connect(&alpha).await;
    assert_eq!(number(&mut db, BUILTIN).await, 1);
    assert_eq!(
        number(&mut db, "SELECT count(*) FROM course WHERE published").await,
        0
    );
    let newcomer = alpha.member("olga").await;
    assert!(listed_course(&alpha, &newcomer).await.is_none());
    // Nor does her journey send her to a course she cannot open.
    let (status, mine) = alpha.get("/api/v1/onboarding", Some(&newcomer)).await;
    assert_eq!(status, 200, "{mine}");
    assert!(
        !mine["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "finish_getting_started"),
        "{mine}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trainers_answer_in_a_course_group_is_marked_a_learners_is_not() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    let tina = alpha.member("tina").await;
    alpha.set_role(&admin, "tina", "staff").await;
    let marie = alpha.member("marie").await;
    let paul = alpha.member("paul").await;

    // Marie and Paul learn in the getting-started course; Marie asks in its group.
    let id = listed_course(&alpha, &marie).await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let (_, shown) = alpha
        .get(&format!("/api/v1/courses/{id}"), Some(&marie))
        .await;
    let group = shown["discussion_group"].as_str().unwrap().to_owned();
    for learner in [&marie, &paul] {
        let (status, body) = alpha
            .post(
                &format!("/api/v1/courses/{id}/enrol"),
                Some(learner),
                json!({}),
            )
            .await;
        assert_eq!(status, 204, "{body}");
    }
    let ask = |group: String, title: &'static str| {
        let (alpha, marie) = (&alpha, &marie);
        async move {
            let (status, q) = alpha
                .post(
                    &format!("/api/v1/groups/{group}/posts"),
                    Some(marie),
                    json!({"kind": "question", "title": title}),
                )
                .await;
            assert_eq!(status, 201, "{q}");
            q["post"]["id"].as_i64().unwrap()
        }
    };
    let question = ask(group.clone(), "Comment accepter une réponse ?").await;
    let answer = |token: &str, post: i64, body: &str| {
        let (alpha, token, body) = (&alpha, token.to_owned(), body.to_owned());
        async move {
            let (status, c) = alpha
                .post(
                    &format!("/api/v1/posts/{post}/comments"),
                    Some(&token),
                    json!({ "body": body }),
                )
                .await;
            assert_eq!(status, 201, "{c}");
            c
        }
    };
    let by_tina = answer(&tina, question, "Le bouton « Accepter » sous la réponse.").await;
    assert_eq!(by_tina["trainer"], true, "{by_tina}");
    let by_paul = answer(&paul, question, "Je crois que c'est l'auteur.").await;
    assert_eq!(by_paul["trainer"], false, "{by_paul}");
    let (_, detail) = alpha
        .get(&format!("/api/v1/posts/{question}"), Some(&marie))
        .await;
    let marks: Vec<(i64, bool)> = detail["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_i64().unwrap(), c["trainer"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        marks,
        [
            (by_tina["id"].as_i64().unwrap(), true),
            (by_paul["id"].as_i64().unwrap(), false)
        ],
        "{detail}"
    );

    // The question's page marks Tina's answer, in French and in English, and only hers.
    for (lang, label) in [
        ("fr", "Réponse d&#x27;un formateur"),
        ("en", "Trainer&#x27;s answer"),
    ] {
        let page = alpha
            .http
            .get(alpha.url(&format!("/posts/{question}")))
            .header("Cookie", format!("cenacle_lang={lang}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(page.matches("marker trainer").count(), 1, "{lang}: {page}");
        let marked = page
            .split("<li id=\"answer-")
            .find(|a| a.contains("marker trainer"))
            .unwrap();
        assert!(
            marked.starts_with(&format!("{}\"", by_tina["id"])),
            "{marked}"
        );
        // In the course's group her word is the trainer's, not also "official".
        assert!(!page.contains("marker official"), "{lang}: {page}");
        assert!(
            page.contains(label) || page.contains(&label.replace("&#x27;", "&#39;")),
            "{lang}: {page}"
        );
    }

    // Outside a course's group, Tina is staff (official), not a trainer there.
    let (status, _) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "cafe", "title": "Café"}),
        )
        .await;
    assert_eq!(status, 201);
    let elsewhere = ask("cafe".into(), "Une question ailleurs").await;
    let other = answer(&tina, elsewhere, "Ailleurs.").await;
    assert_eq!(
        (other["trainer"].as_bool(), other["official"].as_bool()),
        (Some(false), Some(true)),
        "{other}"
    );
}

/// In the browser, in French: a newcomer's journey leads to the getting-started course, and
/// on a question in its discussion group the trainer's answer carries its marker.
#[tokio::test]
async fn a_newcomer_finds_the_course_from_her_journey_and_sees_the_trainers_answer() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    let tina = alpha.member("tina").await;
    alpha.set_role(&admin, "tina", "staff").await;
    let marie = alpha.member("marie").await;
    let course = listed_course(&alpha, &marie).await.unwrap();
    let id = course["id"].as_i64().unwrap();
    let (_, shown) = alpha.get(&format!("/api/v1/courses/{id}"), None).await;
    let group = shown["discussion_group"].as_str().unwrap().to_owned();
    let (status, question) = alpha
        .post(
            &format!("/api/v1/groups/{group}/posts"),
            Some(&marie),
            json!({"kind": "question", "title": "Où trouver de l'aide ?"}),
        )
        .await;
    assert_eq!(status, 201, "{question}");
    let question = question["post"]["id"].as_i64().unwrap();
    let (status, answer) = alpha
        .post(
            &format!("/api/v1/posts/{question}/comments"),
            Some(&tina),
            json!({"body": "Ici même, dans ce groupe."}),
        )
        .await;
    assert_eq!(status, 201, "{answer}");

    let b = Browser::start("fr").await;
    b.sign_up(&alpha, "lea").await;
    b.goto(&alpha.url("/welcome")).await;
    let step = "#step-finish_getting_started a";
    assert_eq!(b.text(step).await, "Terminez le cours « Bien démarrer »");
    b.key_page("welcome-getting-started-fr").await;
    b.click(step).await;
    b.wait_path("the course's page", |p| p == format!("/courses/{id}"))
        .await;
    assert_eq!(b.text("h1").await, "Bien démarrer dans la communauté");
    b.find("#enrol").await;

    b.goto(&alpha.url(&format!("/posts/{question}"))).await;
    assert_eq!(
        b.text(&format!("#answer-{} .marker.trainer", answer["id"]))
            .await,
        "Réponse d'un formateur"
    );
    b.key_page("trainer-answer-fr").await;
    b.close().await;
}

/// The getting-started course requires no other course: its journey step would wait on
/// them. A manager's edit giving it one is refused with its code, and saves nothing (not
/// even the other fields it changed); other edits still go through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_getting_started_course_is_given_no_prerequisites() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    let builtin = listed_course(&alpha, &admin)
        .await
        .expect("the getting-started course");
    let id = builtin["id"].as_i64().unwrap();
    let (status, other) = alpha
        .post(
            "/api/v1/courses",
            Some(&admin),
            json!({"title_fr": "Avancé", "title_en": "Advanced", "group_name": "advanced",
                   "published": true,
                   "lessons": [{"position": 1, "title_fr": "Un", "title_en": "One",
                                "body_en": "x", "minutes": 5}]}),
        )
        .await;
    assert_eq!(status, 201, "{other}");
    let other = other["id"].as_i64().unwrap();
    let course = format!("/api/v1/courses/{id}");
    let patch = |change: Value| alpha.patch(&course, Some(&admin), change);
    let (status, body) = patch(json!({"title_en": "Changed", "prerequisites": [other]})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("builtin_course_prerequisites")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("getting-started"),
        "{body}"
    );
    let (_, shown) = alpha
        .get(&format!("/api/v1/courses/{id}"), Some(&admin))
        .await;
    assert_eq!(
        (&shown["prerequisites"], &shown["title_en"]),
        (&json!([]), &json!("Getting started in the community")),
        "nothing saved: {shown}"
    );
    // Its other fields, and an empty list, stay editable.
    let (status, body) = patch(json!({"title_en": "Changed", "prerequisites": []})).await;
    assert_eq!(
        (status, &body["title_en"]),
        (200, &json!("Changed")),
        "{body}"
    );

    // Its page says so instead of offering boxes it would refuse, and saves as before.
    let b = Browser::start("en").await;
    b.sign_in(&alpha, "admin").await;
    b.goto(&alpha.url(&format!("/courses/{id}/edit"))).await;
    assert!(
        b.text("#prerequisites-builtin")
            .await
            .starts_with("The getting-started course requires no other course"),
        "explained on the page"
    );
    b.wait_count("#prerequisites input", 0).await;
    b.fill("#title-en", "Changed on its page").await;
    b.click_and_wait_reload("#course-save").await;
    b.find("#course-saved").await;
    let (_, shown) = alpha.get(&course, Some(&admin)).await;
    assert_eq!(
        (&shown["title_en"], &shown["prerequisites"]),
        (&json!("Changed on its page"), &json!([])),
        "{shown}"
    );
    b.close().await;
}
