//! The training space end to end, on a real server and database: a trainer's course refused
//! whole on bad input; a member enrols, does the lessons, fails a quiz, is held by the
//! cool-down, passes (two racing submissions counting once), receives the certificate, the
//! badge and the membership that lets a refused post through; the verification URL shows
//! it; expiry takes the membership back and re-taking the final quiz renews it. Answers are
//! in no response before submission; the attempts limit holds.

use cenacle_api_tests::{
    browser::Browser,
    database::{connect, lit, number},
    eventually, Hosts, Instance, PASSWORD,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

/// A course as a trainer writes it: two lessons, one final quiz of three questions (single,
/// multiple, numeric).
fn course(group_name: &str) -> Value {
    json!({
        "title_fr": "Les bases du produit",
        "title_en": "Product basics",
        "summary_fr": "Pour bien commencer.",
        "summary_en": "To start well.",
        "published": true,
        "validity_days": 30,
        "unlock_group": "experts",
        "group_name": group_name,
        "lessons": [
            {"position": 2, "title_fr": "Réglages", "title_en": "Settings",
             "body_fr": "## Réglages", "body_en": "## Settings", "minutes": 10},
            {"position": 1, "title_fr": "Installer", "title_en": "Install",
             "body_fr": "Télécharger **puis** installer.", "body_en": "Download **then** install.", "minutes": 5}
        ],
        "quizzes": [{
            "position": 1,
            "title_fr": "Contrôle final", "title_en": "Final check",
            "pass_mark": 100, "max_attempts": 5, "cool_down_seconds": 3600,
            "questions": [
                {"kind": "single", "prompt_fr": "Première étape ?", "prompt_en": "First step?",
                 "explanation_fr": "EXPLICATION-UNE", "explanation_en": "EXPLANATION-ONE",
                 "choices": [
                    {"label_fr": "Télécharger", "label_en": "Download", "correct": true},
                    {"label_fr": "Réglages", "label_en": "Settings"},
                    {"label_fr": "Rien", "label_en": "Nothing"}
                 ]},
                {"kind": "multiple", "prompt_fr": "Lesquels ?", "prompt_en": "Which?",
                 "explanation_fr": "EXPLICATION-DEUX", "explanation_en": "EXPLANATION-TWO",
                 "choices": [
                    {"label_fr": "A", "label_en": "A", "correct": true},
                    {"label_fr": "B", "label_en": "B", "correct": true},
                    {"label_fr": "C", "label_en": "C"}
                 ]},
                {"kind": "numeric", "prompt_fr": "Combien de minutes ?", "prompt_en": "How many minutes?",
                 "explanation_fr": "EXPLICATION-TROIS", "explanation_en": "EXPLANATION-THREE",
                 "numeric_answer": 15, "numeric_tolerance": 0.5}
            ]
        }]
    })
}

/// Answers to an attempt's questions: right ones read from the trainer's course (by label),
/// or wrong ones.
fn answers(attempt: &Value, right: bool) -> Value {
    let mut out = Vec::new();
    for q in attempt["questions"].as_array().unwrap() {
        let id = q["id"].as_i64().unwrap();
        let labels = |wanted: &[&str]| -> Vec<i64> {
            q["choices"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| wanted.contains(&c["label_en"].as_str().unwrap()))
                .map(|c| c["id"].as_i64().unwrap())
                .collect()
        };
        out.push(match (q["kind"].as_str().unwrap(), right) {
            ("single", true) => json!({"question_id": id, "choices": labels(&["Download"])}),
            ("single", false) => json!({"question_id": id, "choices": labels(&["Nothing"])}),
            ("multiple", true) => json!({"question_id": id, "choices": labels(&["A", "B"])}),
            ("multiple", false) => json!({"question_id": id, "choices": labels(&["A"])}),
            ("numeric", true) => json!({"question_id": id, "number": 15.2}),
            _ => json!({"question_id": id, "number": 99}),
        });
    }
    json!({ "answers": out })
}

/// What no response may carry before an attempt is submitted.
fn assert_no_answers(what: &str, body: &Value) {
    let text = body.to_string();
    for secret in [
        "correct",
        "explanation",
        "EXPLICATION",
        "EXPLANATION",
        "numeric_answer",
    ] {
        assert!(!text.contains(secret), "{what} shows {secret}: {text}");
    }
}

async fn post_in_experts(alpha: &Instance, token: &str, title: &str) -> u16 {
    alpha
        .post(
            "/api/v1/groups/experts/posts",
            Some(token),
            json!({"kind": "question", "title": title}),
        )
        .await
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_learns_fails_waits_passes_and_is_certified_until_expiry() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    // The sweep that takes back expired certificates' memberships runs every second.
    alpha.set_env("CENACLE_SHOP__SETTLE_INTERVAL_SECONDS", "1");
    alpha.start();
    let admin = alpha.admin().await;
    let mut db = connect(&alpha).await;

    // The members-only group a certificate unlocks, and a trainer (staff).
    let (status, body) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "experts", "title": "Experts", "visibility": "private"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let tina = alpha.member("tina").await;
    let marie = alpha.member("marie").await;
    let (status, body) = alpha
        .call(
            Method::PUT,
            "/api/v1/admin/accounts/tina/role",
            Some(&admin),
            Some(json!({"role": "staff"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // A certificate opens a group only with its moderators' consent: tina may not make a
    // course unlock the experts' group (and so let herself in) until she moderates it.
    let (status, body) = alpha
        .post("/api/v1/courses", Some(&tina), course("sneaky"))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    let (status, body) = alpha
        .call(
            Method::PUT,
            "/api/v1/groups/experts/members/tina",
            Some(&admin),
            Some(json!({"role": "moderator"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");

    // Bad input: each refused with its code, nothing saved.
    let (status, body) = alpha
        .post("/api/v1/courses", Some(&marie), course("by_marie"))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let mut no_answer = course("bad_one");
    no_answer["quizzes"][0]["questions"][0]["choices"][0]["correct"] = json!(false);
    let mut over_100 = course("bad_two");
    over_100["quizzes"][0]["pass_mark"] = json!(101);
    let mut gaps = course("bad_three");
    gaps["lessons"][0]["position"] = json!(3);
    for (bad, code) in [
        (no_answer, "quiz_without_correct_answer"),
        (over_100, "pass_mark_out_of_range"),
        (gaps, "lesson_order_gaps"),
    ] {
        let (status, body) = alpha.post("/api/v1/courses", Some(&tina), bad).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some(code)),
            "{body}"
        );
    }
    // Refused by the database after the group and the badge were written: rolled back whole.
    let mut late = course("bad_four");
    late["cover_media_id"] = json!(987654);
    let (status, body) = alpha.post("/api/v1/courses", Some(&tina), late).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid_reference")),
        "{body}"
    );
    // (The instance's own getting-started course aside.)
    assert_eq!(
        number(&mut db, "SELECT count(*) FROM course WHERE builtin IS NULL").await,
        0
    );
    assert_eq!(
        number(
            &mut db,
            "SELECT count(*) FROM community_group WHERE name LIKE 'bad\\_%'"
        )
        .await,
        0
    );
    assert_eq!(
        number(
            &mut db,
            "SELECT count(*) FROM badge WHERE slug LIKE 'course-%' \
               AND slug <> 'course-getting_started'"
        )
        .await,
        0
    );

    // The course, with its public discussion group; a second course requires it and is
    // restricted (a reputation), so its group is private.
    let (status, basics) = alpha
        .post("/api/v1/courses", Some(&tina), course("product_basics"))
        .await;
    assert_eq!(status, 201, "{basics}");
    assert_no_answers("the created course", &basics);
    let basics_id = basics["id"].as_i64().unwrap();
    let lessons: Vec<(i64, i64)> = basics["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["position"].as_i64().unwrap(), l["id"].as_i64().unwrap()))
        .collect();
    assert_eq!(lessons.iter().map(|l| l.0).collect::<Vec<_>>(), [1, 2]);
    let quiz_id = basics["quizzes"][0]["id"].as_i64().unwrap();
    assert_eq!(basics["discussion_group"], "product_basics");
    let (_, group) = alpha.get("/api/v1/groups/product_basics", None).await;
    assert_eq!(group["visibility"], "public", "{group}");
    let mut advanced = course("product_advanced");
    advanced["title_en"] = json!("Advanced");
    advanced["audience"] = json!("reputation");
    advanced["audience_reputation"] = json!(1);
    advanced["prerequisites"] = json!([basics_id]);
    advanced["unlock_group"] = Value::Null;
    let (status, advanced) = alpha.post("/api/v1/courses", Some(&tina), advanced).await;
    assert_eq!(status, 201, "{advanced}");
    let advanced_id = advanced["id"].as_i64().unwrap();
    let (_, group) = alpha.get("/api/v1/groups/product_advanced", None).await;
    assert_eq!(group["visibility"], "private", "{group}");

    // Anyone reads the course, without answers; its prerequisite is not met yet.
    let (status, shown) = alpha
        .get(&format!("/api/v1/courses/{basics_id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_no_answers("the course page", &shown);
    // The outline only: lessons are read by the course's learners.
    assert_eq!(shown["lessons"][0]["title_en"], "Install", "{shown}");
    assert_eq!(shown["lessons"][0]["body_en"], "", "{shown}");
    assert!(
        !shown.to_string().contains("Download **then** install"),
        "{shown}"
    );
    let (status, body) = alpha
        .post(
            &format!("/api/v1/courses/{advanced_id}/enrol"),
            Some(&marie),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("prerequisites_unmet"))
    );

    // Before the certificate, marie may not post in the experts' group.
    assert_ne!(post_in_experts(&alpha, &marie, "Avant ?").await, 201);

    // A quiz before enrolling is refused; then marie enrols and does the lessons.
    let (status, body) = alpha
        .post(
            &format!("/api/v1/quizzes/{quiz_id}/attempts"),
            Some(&marie),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("not_enrolled"))
    );
    let (status, _) = alpha
        .post(
            &format!("/api/v1/courses/{basics_id}/enrol"),
            Some(&marie),
            json!({}),
        )
        .await;
    assert_eq!(status, 204);
    let (_, read) = alpha
        .get(&format!("/api/v1/courses/{basics_id}"), Some(&marie))
        .await;
    assert_eq!(
        read["lessons"][0]["body_en"], "Download **then** install.",
        "{read}"
    );
    for (_, lesson) in &lessons {
        let (status, _) = alpha
            .post(
                &format!("/api/v1/lessons/{lesson}/done"),
                Some(&marie),
                json!({}),
            )
            .await;
        assert_eq!(status, 204);
    }
    let (_, progress) = alpha
        .get(
            &format!("/api/v1/courses/{basics_id}/progress"),
            Some(&marie),
        )
        .await;
    assert_eq!(
        progress["lessons_done"].as_array().unwrap().len(),
        2,
        "{progress}"
    );
    assert_eq!(progress["lessons_total"], 2);

    // An attempt: the questions and choices, never the answers; starting again resumes it.
    let (status, attempt) = alpha
        .post(
            &format!("/api/v1/quizzes/{quiz_id}/attempts"),
            Some(&marie),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{attempt}");
    assert_no_answers("the attempt", &attempt);
    assert_eq!(attempt["questions"].as_array().unwrap().len(), 3);
    let first = attempt["attempt_id"].as_i64().unwrap();
    let (_, resumed) = alpha
        .post(
            &format!("/api/v1/quizzes/{quiz_id}/attempts"),
            Some(&marie),
            json!({}),
        )
        .await;
    assert_eq!(resumed["attempt_id"].as_i64(), Some(first));
    assert_eq!(
        resumed["questions"], attempt["questions"],
        "same order when resumed"
    );
    let (_, progress) = alpha
        .get(
            &format!("/api/v1/courses/{basics_id}/progress"),
            Some(&marie),
        )
        .await;
    assert_no_answers("the progress", &progress);
    assert_eq!(
        progress["open_attempts"][0]["attempt_id"].as_i64(),
        Some(first)
    );

    // Fails: the explanations come now; a second submission counts nothing.
    let (status, result) = alpha
        .post(
            &format!("/api/v1/attempts/{first}/submit"),
            Some(&marie),
            answers(&attempt, false),
        )
        .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(
        (result["passed"].as_bool(), result["score"].as_i64()),
        (Some(false), Some(0))
    );
    assert!(result.to_string().contains("EXPLANATION-TWO"), "{result}");
    let (status, body) = alpha
        .post(
            &format!("/api/v1/attempts/{first}/submit"),
            Some(&marie),
            answers(&attempt, true),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("attempt_already_submitted"))
    );

    // The cool-down holds the next attempt, saying until when.
    let (status, body) = alpha
        .post(
            &format!("/api/v1/quizzes/{quiz_id}/attempts"),
            Some(&marie),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("quiz_cooling_down")),
        "{body}"
    );
    let until: chrono::DateTime<chrono::Utc> = body["error"]["details"]["until"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let wait = until - chrono::Utc::now();
    assert!(
        wait > chrono::Duration::minutes(55) && wait <= chrono::Duration::minutes(60),
        "{wait}"
    );
    // An hour passes (the failed attempt moved back in the database: its clock decides).
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE quiz_attempt SET submitted_at = submitted_at - interval '61 minutes', \
               started_at = started_at - interval '61 minutes' WHERE id = {first}"
        )),
        &mut db,
    )
    .await
    .unwrap();

    // Passes, submitting twice at once: one scores, the other is refused; one certificate.
    let (status, attempt) = alpha
        .post(
            &format!("/api/v1/quizzes/{quiz_id}/attempts"),
            Some(&marie),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{attempt}");
    let second = attempt["attempt_id"].as_i64().unwrap();
    assert_ne!(second, first);
    let path = format!("/api/v1/attempts/{second}/submit");
    let body = answers(&attempt, true);
    let (a, b) = tokio::join!(
        alpha.post(&path, Some(&marie), body.clone()),
        alpha.post(&path, Some(&marie), body.clone())
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{} / {}", a.1, b.1);
    let result = if a.0 == 200 { a.1 } else { b.1 };
    assert_eq!(
        (result["passed"].as_bool(), result["score"].as_i64()),
        (Some(true), Some(100))
    );
    assert_eq!(
        number(
            &mut db,
            &format!("SELECT count(*) FROM quiz_answer WHERE attempt_id = {second}")
        )
        .await,
        3
    );
    assert_eq!(number(&mut db, "SELECT count(*) FROM certificate").await, 1);
    let certificate = &result["certificate"];
    let code = certificate["code"]
        .as_str()
        .expect("a certificate")
        .to_owned();
    assert_eq!(
        certificate["url"],
        alpha.url(&format!("/certificates/{code}"))
    );
    assert_eq!(certificate["valid"], true);

    // The badge, the membership: the refused post now goes through.
    assert_eq!(
        number(
            &mut db,
            &format!(
                "SELECT count(*) FROM badge_award a JOIN badge b ON b.id = a.badge_id \
                 JOIN person p ON p.id = a.person_id \
                 WHERE b.slug = 'course-product_basics' AND p.username = {}",
                lit("marie")
            )
        )
        .await,
        1
    );
    assert_eq!(post_in_experts(&alpha, &marie, "Après ?").await, 201);
    // The prerequisite is met.
    let (status, _) = alpha
        .post(
            &format!("/api/v1/courses/{advanced_id}/enrol"),
            Some(&marie),
            json!({}),
        )
        .await;
    assert_eq!(status, 204);
    // Enrolled, she joins the restricted course's private discussion group and posts there.
    let (status, body) = alpha
        .post(
            "/api/v1/groups/product_advanced/posts",
            Some(&marie),
            json!({"kind": "question", "title": "Une question au formateur ?"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    // Anyone verifies it.
    let (status, verified) = alpha
        .get(&format!("/api/v1/certificates/{code}"), None)
        .await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(
        (
            verified["username"].as_str(),
            verified["course_title_en"].as_str(),
            verified["valid"].as_bool()
        ),
        (Some("marie"), Some("Product basics"), Some(true))
    );
    let (status, _) = alpha.get("/api/v1/certificates/not-a-code", None).await;
    assert_eq!(status, 404);
    // The verification URL is a page anyone opens, in their language.
    let page = alpha
        .http
        .get(alpha.url(&format!("/certificates/{code}")))
        .header("Accept-Language", "fr")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("marie")
            && html.contains("Les bases du produit")
            && html.contains("Ce certificat est valide."),
        "{html}"
    );

    // Expiry: the sweep takes the membership back.
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(
            "UPDATE certificate SET expires_at = now() - interval '1 second', \
               issued_at = issued_at - interval '31 days'",
        ),
        &mut db,
    )
    .await
    .unwrap();
    let instance = &alpha;
    eventually(
        "the expired certificate's membership to go",
        DEADLINE,
        || async move {
            let members = number(
            &mut connect(instance).await,
            "SELECT count(*) FROM group_membership m JOIN community_group g ON g.id = m.group_id \
             JOIN person p ON p.id = m.person_id WHERE g.name = 'experts' AND p.username = 'marie'",
        )
        .await;
            (members == 0).then_some(())
        },
    )
    .await;
    assert_ne!(post_in_experts(&alpha, &marie, "Expiré ?").await, 201);
    let (_, verified) = alpha
        .get(&format!("/api/v1/certificates/{code}"), None)
        .await;
    assert_eq!(verified["valid"], false);

    // Renewal: re-taking the final quiz (attempts counted afresh) renews the same certificate.
    let (status, attempt) = alpha
        .post(
            &format!("/api/v1/quizzes/{quiz_id}/attempts"),
            Some(&marie),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{attempt}");
    let (status, result) = alpha
        .post(
            &format!("/api/v1/attempts/{}/submit", attempt["attempt_id"]),
            Some(&marie),
            answers(&attempt, true),
        )
        .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["certificate"]["code"].as_str(), Some(code.as_str()));
    // The trainer's statistics: one learner, certified, who got each question wrong once in
    // three attempts; a member may not read them.
    let (status, stats) = alpha
        .get(
            &format!("/api/v1/courses/{basics_id}/statistics"),
            Some(&tina),
        )
        .await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(
        (
            stats["enrolled"].as_i64(),
            stats["finished_lessons"].as_i64(),
            stats["certified"].as_i64()
        ),
        (Some(1), Some(1), Some(1)),
        "{stats}"
    );
    let hardest = stats["hardest_questions"].as_array().unwrap();
    assert_eq!(hardest.len(), 3);
    assert!(
        hardest.iter().all(|q| q["answers"] == 3 && q["wrong"] == 1),
        "{stats}"
    );
    let (status, _) = alpha
        .get(
            &format!("/api/v1/courses/{basics_id}/statistics"),
            Some(&marie),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(result["certificate"]["valid"], true);
    assert_eq!(post_in_experts(&alpha, &marie, "Renouvelé ?").await, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_attempts_limit_and_the_audience_hold() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "experts", "title": "Experts", "visibility": "private"}),
        )
        .await;
    let paul = alpha.member("paul").await;

    let mut once = course("once");
    once["quizzes"][0]["max_attempts"] = json!(1);
    once["quizzes"][0]["cool_down_seconds"] = json!(0);
    let (status, once) = alpha.post("/api/v1/courses", Some(&admin), once).await;
    assert_eq!(status, 201, "{once}");
    let (id, quiz) = (
        once["id"].as_i64().unwrap(),
        once["quizzes"][0]["id"].as_i64().unwrap(),
    );
    alpha
        .post(
            &format!("/api/v1/courses/{id}/enrol"),
            Some(&paul),
            json!({}),
        )
        .await;
    let (_, attempt) = alpha
        .post(
            &format!("/api/v1/quizzes/{quiz}/attempts"),
            Some(&paul),
            json!({}),
        )
        .await;
    let attempt_id = attempt["attempt_id"].as_i64().unwrap();
    let (status, _) = alpha
        .post(
            &format!("/api/v1/attempts/{attempt_id}/submit"),
            Some(&paul),
            answers(&attempt, false),
        )
        .await;
    assert_eq!(status, 200);
    // No cool-down, but no attempt left: neither a new one nor the old one again.
    let (status, body) = alpha
        .post(
            &format!("/api/v1/quizzes/{quiz}/attempts"),
            Some(&paul),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("quiz_attempts_exhausted"))
    );
    let (status, body) = alpha
        .post(
            &format!("/api/v1/attempts/{attempt_id}/submit"),
            Some(&paul),
            answers(&attempt, true),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("attempt_already_submitted"))
    );
    // Another member's attempt is not paul's to submit.
    let claire = alpha.member("claire").await;
    let (status, _) = alpha
        .post(
            &format!("/api/v1/attempts/{attempt_id}/submit"),
            Some(&claire),
            answers(&attempt, true),
        )
        .await;
    assert_eq!(status, 404);

    // A course for a badge's holders refuses paul; a draft is hidden from him.
    let mut badge_only = course("badge_only");
    badge_only["audience"] = json!("badge");
    badge_only["audience_badge"] = json!("staff");
    let (status, badge_only) = alpha
        .post("/api/v1/courses", Some(&admin), badge_only)
        .await;
    assert_eq!(status, 201, "{badge_only}");
    let (status, body) = alpha
        .post(
            &format!("/api/v1/courses/{}/enrol", badge_only["id"]),
            Some(&paul),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("course_not_open_to_you"))
    );
    // A course for a group's members: paul enrols as a member, leaves the group, and may no
    // longer start its quiz.
    alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "club", "title": "Club"}),
        )
        .await;
    let mut members_only = course("members_only");
    members_only["audience"] = json!("group");
    members_only["audience_group"] = json!("club");
    let (status, members_only) = alpha
        .post("/api/v1/courses", Some(&admin), members_only)
        .await;
    assert_eq!(status, 201, "{members_only}");
    let (status, body) = alpha
        .post("/api/v1/groups/club/join", Some(&paul), json!({}))
        .await;
    assert!(status < 300, "{body}");
    let (status, body) = alpha
        .post(
            &format!("/api/v1/courses/{}/enrol", members_only["id"]),
            Some(&paul),
            json!({}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = alpha
        .post("/api/v1/groups/club/leave", Some(&paul), json!({}))
        .await;
    assert!(status < 300, "{body}");
    let (status, body) = alpha
        .post(
            &format!(
                "/api/v1/quizzes/{}/attempts",
                members_only["quizzes"][0]["id"]
            ),
            Some(&paul),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("course_not_open_to_you")),
        "{body}"
    );
    let mut draft = course("draft");
    draft["published"] = json!(false);
    let (_, draft) = alpha.post("/api/v1/courses", Some(&admin), draft).await;
    let (status, _) = alpha
        .get(&format!("/api/v1/courses/{}", draft["id"]), Some(&paul))
        .await;
    assert_eq!(status, 404);
    let (_, listed) = alpha.get("/api/v1/courses", Some(&paul)).await;
    let ids: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.contains(&id) && !ids.contains(&draft["id"].as_i64().unwrap()),
        "{listed}"
    );
}

/// Clicks `css` and waits until the page it leads to replaced this one.
async fn click_and_wait(b: &Browser, css: &str) {
    b.js_value("document.body.dataset.before = 'click'; return null")
        .await;
    b.click(css).await;
    b.wait_count("body[data-before]", 0).await;
}

/// Screenshot of a key page, and no serious or critical accessibility violation on it.
async fn key_page(b: &Browser, name: &str) {
    b.screenshot(name).await;
    let violations = b.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "{name}: {violations:#?}");
}

/// The learner's path in the browser, in French: the courses, enrolling, the lessons, a
/// failed quiz with its explanations, a passed one, and the certificate's page.
#[tokio::test]
async fn a_learner_takes_a_course_in_the_browser() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "experts", "title": "Experts", "visibility": "private"}),
        )
        .await;
    let mut written = course("bases");
    written["quizzes"][0]["cool_down_seconds"] = json!(0);
    let (status, body) = alpha.post("/api/v1/courses", Some(&admin), written).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();

    let b = Browser::start("fr").await;
    b.goto(&alpha.url("/signup")).await;
    b.fill("#username", "lea").await;
    b.fill("#password", PASSWORD).await;
    b.click("form.stack button[type=submit]").await;
    assert_eq!(b.text(".me").await, "lea");

    b.goto(&alpha.url("/courses")).await;
    assert_eq!(b.text("h1").await, "Cours");
    click_and_wait(&b, &format!("#courses a[href='/courses/{id}']")).await;
    assert_eq!(b.text("h1").await, "Les bases du produit");
    click_and_wait(&b, "#enrol").await;
    assert_eq!(
        b.text("#lessons-progress").await,
        "Leçons terminées : 0 / 2"
    );
    key_page(&b, "course-fr").await;
    assert!(
        !b.source().await.contains("course-statistics"),
        "for trainers only"
    );
    for position in [1, 2] {
        click_and_wait(&b, &format!("#lesson-{position} a")).await;
        if position == 1 {
            assert_eq!(
                b.text("#lesson-body strong").await,
                "puis",
                "Markdown rendered"
            );
        }
        click_and_wait(&b, "#lesson-done").await;
    }
    assert_eq!(
        b.text("#lessons-progress").await,
        "Leçons terminées : 2 / 2"
    );

    // The quiz form: questions and choices, never the answers.
    click_and_wait(&b, "#quizzes form button").await;
    b.find("#quiz-form").await;
    let source = b.source().await;
    for secret in ["EXPLICATION", "correct"] {
        assert!(!source.contains(secret), "the form shows {secret}");
    }
    key_page(&b, "quiz-form-fr").await;
    b.click("input[data-label='Rien']").await;
    b.click("input[data-label='A']").await;
    b.fill("#quiz-form input[inputmode=decimal]", "99").await;
    click_and_wait(&b, "#quiz-submit").await;
    let result = b.text("#attempt-result").await;
    assert!(
        result.starts_with("Votre note : 0 %") && result.ends_with("non réussi"),
        "{result}"
    );
    assert!(
        b.source().await.contains("EXPLICATION-DEUX"),
        "explained after"
    );
    key_page(&b, "quiz-result-fr").await;

    // Again (no cool-down here), right this time: the certificate.
    b.goto(&alpha.url(&format!("/courses/{id}"))).await;
    click_and_wait(&b, "#quizzes form button").await;
    b.click("input[data-label='Télécharger']").await;
    b.click("input[data-label='A']").await;
    b.click("input[data-label='B']").await;
    b.fill("#quiz-form input[inputmode=decimal]", "15").await;
    click_and_wait(&b, "#quiz-submit").await;
    let result = b.text("#attempt-result").await;
    assert!(
        result.starts_with("Votre note : 100 %") && !result.contains("non réussi"),
        "{result}"
    );
    click_and_wait(&b, "#attempt-certificate").await;
    assert_eq!(b.text("#certificate-holder").await, "lea");
    assert_eq!(
        b.text("#certificate-state").await,
        "Ce certificat est valide."
    );
    key_page(&b, "certificate-fr").await;
    b.goto(&alpha.url(&format!("/courses/{id}/statistics")))
        .await;
    assert!(
        b.text(".notice").await == "Vous n'avez pas le droit de faire cela."
            && !b.source().await.contains("stats-enrolled"),
        "not for learners"
    );
    b.close().await;

    // The trainer reads the course's statistics from its page.
    let b = Browser::start("en").await;
    b.goto(&alpha.url("/signin")).await;
    b.fill("#username", "admin").await;
    b.fill("#password", PASSWORD).await;
    b.click("form.stack button[type=submit]").await;
    b.wait_text(".me", "admin").await;
    b.goto(&alpha.url(&format!("/courses/{id}"))).await;
    click_and_wait(&b, "#course-statistics").await;
    assert_eq!(
        (
            b.text("#stats-enrolled").await,
            b.text("#stats-finished-lessons").await,
            b.text("#stats-certified").await
        ),
        ("1".to_owned(), "1".to_owned(), "1".to_owned())
    );
    b.wait_count("#hardest-questions tbody tr", 3).await;
    key_page(&b, "course-statistics-en").await;
    b.close().await;
}

/// Enrols `token` in course `id` and passes its quiz `quiz` at the first attempt.
async fn pass_course(alpha: &Instance, token: &str, id: i64, quiz: i64) {
    let (status, body) = alpha
        .post(
            &format!("/api/v1/courses/{id}/enrol"),
            Some(token),
            json!({}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, attempt) = alpha
        .post(
            &format!("/api/v1/quizzes/{quiz}/attempts"),
            Some(token),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{attempt}");
    let (status, result) = alpha
        .post(
            &format!("/api/v1/attempts/{}/submit", attempt["attempt_id"]),
            Some(token),
            answers(&attempt, true),
        )
        .await;
    assert_eq!(
        (status, result["passed"].as_bool()),
        (200, Some(true)),
        "{result}"
    );
}

async fn in_experts(alpha: &Instance, username: &str) -> i64 {
    number(
        &mut connect(alpha).await,
        &format!(
            "SELECT count(*) FROM group_membership m JOIN community_group g ON g.id = m.group_id \
             JOIN person p ON p.id = m.person_id WHERE g.name = 'experts' AND p.username = {}",
            lit(username)
        ),
    )
    .await
}

/// Makes the certificates of `course` expired.
async fn expire(alpha: &Instance, course: i64) {
    let mut db = connect(alpha).await;
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE certificate SET expires_at = now() - interval '1 second' \
             WHERE course_id = {course}"
        )),
        &mut db,
    )
    .await
    .unwrap();
}

/// How many certificates of `course` hold the membership they unlocked.
async fn granted_by(alpha: &Instance, course: i64) -> i64 {
    number(
        &mut connect(alpha).await,
        &format!(
            "SELECT count(*) FROM certificate WHERE course_id = {course} \
             AND granted_group IS NOT NULL"
        ),
    )
    .await
}

/// Two courses unlock the same group: when the certificate that let the member in expires,
/// the other, still valid, keeps them in; when that one expires too, the membership goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_membership_two_certificates_open_lasts_as_long_as_one_is_valid() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.set_env("CENACLE_SHOP__SETTLE_INTERVAL_SECONDS", "1");
    alpha.start();
    let admin = alpha.admin().await;
    let (status, body) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "experts", "title": "Experts", "visibility": "private"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let mut ids = Vec::new();
    for name in ["first_course", "second_course"] {
        let mut written = course(name);
        written["quizzes"][0]["cool_down_seconds"] = json!(0);
        let (status, body) = alpha.post("/api/v1/courses", Some(&admin), written).await;
        assert_eq!(status, 201, "{body}");
        ids.push((
            body["id"].as_i64().unwrap(),
            body["quizzes"][0]["id"].as_i64().unwrap(),
        ));
    }
    let nina = alpha.member("nina").await;
    for &(id, quiz) in &ids {
        pass_course(&alpha, &nina, id, quiz).await;
    }
    assert_eq!(post_in_experts(&alpha, &nina, "Membre ?").await, 201);

    let (first, second) = (ids[0].0, ids[1].0);
    let a = &alpha;
    assert_eq!(
        granted_by(a, first).await,
        1,
        "the first certificate let her in"
    );
    expire(a, first).await;
    eventually("the grant to pass on", DEADLINE, || async move {
        (granted_by(a, first).await == 0 && granted_by(a, second).await == 1).then_some(())
    })
    .await;
    assert_eq!(
        in_experts(a, "nina").await,
        1,
        "still in: the second certificate is valid"
    );
    expire(a, second).await;
    eventually("the membership to go", DEADLINE, || async move {
        (in_experts(a, "nina").await == 0).then_some(())
    })
    .await;
    assert_ne!(post_in_experts(&alpha, &nina, "Expiré ?").await, 201);
}
