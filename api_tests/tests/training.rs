//! The training space end to end, on a real server and database: a trainer's course refused
//! whole on bad input; a member enrols, does the lessons, fails a quiz, is held by the
//! cool-down, passes (two racing submissions counting once), receives the certificate, the
//! badge and the membership that lets a refused post through; the verification URL shows
//! it; expiry takes the membership back and re-taking the final quiz renews it. Answers are
//! in no response before submission; the attempts limit holds.

use cenacle_api_tests::{
    browser::{Browser, TINY_PNG},
    database::{connect, lit, number},
    eventually, Hosts, Instance,
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

/// The members-only group the tests' courses unlock, created by `admin`.
async fn create_experts(alpha: &Instance, admin: &str) {
    let (status, body) = alpha
        .post(
            "/api/v1/groups",
            Some(admin),
            json!({"name": "experts", "title": "Experts", "visibility": "private"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

/// An instance whose expiry sweep (taking back expired certificates' badges and memberships)
/// runs every second.
fn sweeping_alpha() -> (Hosts, Instance) {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.set_env("CENACLE_TRAINING__EXPIRY_INTERVAL_SECONDS", "1");
    alpha.start();
    (hosts, alpha)
}

/// Writes the course `body` as `token`: its id and its first quiz's.
async fn write_course(alpha: &Instance, token: &str, body: Value) -> (i64, i64) {
    let (status, body) = alpha.post("/api/v1/courses", Some(token), body).await;
    assert_eq!(status, 201, "{body}");
    (
        body["id"].as_i64().unwrap(),
        body["quizzes"][0]["id"].as_i64().unwrap(),
    )
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
    let (_hosts, alpha) = sweeping_alpha();
    let admin = alpha.admin().await;
    let mut db = connect(&alpha).await;

    // The members-only group a certificate unlocks, and a trainer (staff).
    create_experts(&alpha, &admin).await;
    let tina = alpha.member("tina").await;
    let marie = alpha.member("marie").await;
    alpha.set_role(&admin, "tina", "staff").await;
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
    // An hour passes (the failed attempt moved back in the database).
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
    assert_eq!(
        profile_badges(&alpha, "marie").await,
        ["course-product_basics"]
    );
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
    // The same sweep took the badge back, as a revocation: her profile no longer shows it.
    eventually(
        "the expired certificate's badge to go",
        DEADLINE,
        || async move {
            profile_badges(instance, "marie")
                .await
                .is_empty()
                .then_some(())
        },
    )
    .await;
    assert_eq!(
        number(
            &mut db,
            "SELECT count(*) FROM badge_award a JOIN badge b ON b.id = a.badge_id \
             WHERE b.slug = 'course-product_basics' AND a.revoked_at IS NOT NULL \
               AND a.revoke_reason = 'certificate expired'"
        )
        .await,
        1
    );
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
    // The renewal gave the badge back.
    assert_eq!(
        profile_badges(&alpha, "marie").await,
        ["course-product_basics"]
    );
}

/// The course badges someone's public profile shows (their posts may earn others).
async fn profile_badges(alpha: &Instance, username: &str) -> Vec<String> {
    let (status, profile) = alpha.get(&format!("/api/v1/people/{username}"), None).await;
    assert_eq!(status, 200, "{profile}");
    profile["badges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["slug"].as_str().unwrap().to_owned())
        .filter(|slug| slug.starts_with("course-"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_attempts_limit_and_the_audience_hold() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    create_experts(&alpha, &admin).await;
    let paul = alpha.member("paul").await;

    let mut once = course("once");
    once["quizzes"][0]["max_attempts"] = json!(1);
    once["quizzes"][0]["cool_down_seconds"] = json!(0);
    let (id, quiz) = write_course(&alpha, &admin, once).await;
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

/// The learner's path in the browser, in French: the courses, enrolling, the lessons, a
/// failed quiz with its explanations, a passed one, and the certificate's page.
#[tokio::test]
async fn a_learner_takes_a_course_in_the_browser() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    create_experts(&alpha, &admin).await;
    let mut written = course("bases");
    written["quizzes"][0]["cool_down_seconds"] = json!(0);
    let (id, _) = write_course(&alpha, &admin, written).await;

    let b = Browser::start("fr").await;
    b.sign_up(&alpha, "lea").await;

    b.goto(&alpha.url("/courses")).await;
    assert_eq!(b.text("h1").await, "Cours");
    b.click_and_wait_reload(&format!("#courses a[href='/courses/{id}']"))
        .await;
    assert_eq!(b.text("h1").await, "Les bases du produit");
    b.click_and_wait_reload("#enrol").await;
    assert_eq!(
        b.text("#lessons-progress").await,
        "Leçons terminées : 0 / 2"
    );
    b.key_page("course-fr").await;
    assert!(
        !b.source().await.contains("course-statistics"),
        "for trainers only"
    );
    for position in [1, 2] {
        b.click_and_wait_reload(&format!("#lesson-{position} a"))
            .await;
        if position == 1 {
            assert_eq!(
                b.text("#lesson-body strong").await,
                "puis",
                "Markdown rendered"
            );
        }
        b.click_and_wait_reload("#lesson-done").await;
    }
    assert_eq!(
        b.text("#lessons-progress").await,
        "Leçons terminées : 2 / 2"
    );

    // The quiz form: questions and choices, never the answers.
    b.click_and_wait_reload("#quizzes form button").await;
    b.find("#quiz-form").await;
    // The same form in English too (the visitor's explicit choice of language, for one
    // request): neither shows an answer or an explanation, in either language.
    let english = b
        .js_async(
            "document.cookie = 'cenacle_lang=en; path=/';
             fetch(location.href).then(r => r.text()).then(page => {
                 document.cookie = 'cenacle_lang=; path=/; max-age=0';
                 done(page);
             });",
        )
        .await;
    let english = english.as_str().unwrap().to_owned();
    assert!(english.contains("How many minutes?"), "{english}");
    let french = b.source().await;
    assert!(french.contains("Combien de minutes"), "{french}");
    for (language, source) in [("French", &french), ("English", &english)] {
        for secret in [
            "EXPLICATION",
            "EXPLANATION",
            "correct",
            "numeric_answer",
            "tolerance",
            "✓",
        ] {
            assert!(
                !source.contains(secret),
                "the {language} form shows {secret}"
            );
        }
    }
    b.key_page("quiz-form-fr").await;
    b.click("input[data-label='Rien']").await;
    b.click("input[data-label='A']").await;
    b.fill("#quiz-form input[inputmode=decimal]", "99").await;
    b.click_and_wait_reload("#quiz-submit").await;
    let result = b.text("#attempt-result").await;
    assert!(
        result.starts_with("Votre note : 0 %") && result.ends_with("non réussi"),
        "{result}"
    );
    assert!(
        b.source().await.contains("EXPLICATION-DEUX"),
        "explained after"
    );
    b.key_page("quiz-result-fr").await;

    // Again (no cool-down here), right this time: the certificate.
    b.goto(&alpha.url(&format!("/courses/{id}"))).await;
    b.click_and_wait_reload("#quizzes form button").await;
    b.click("input[data-label='Télécharger']").await;
    b.click("input[data-label='A']").await;
    b.click("input[data-label='B']").await;
    b.fill("#quiz-form input[inputmode=decimal]", "15").await;
    // The server reads each question's kind itself: a form saying the numeric question is a
    // single choice one (its number then read as a choice, refused) changes nothing.
    b.js_value(
        "for (const input of document.querySelectorAll('#quiz-form input[inputmode=decimal]')) {
           const id = input.name.slice(1);
           for (const h of document.querySelectorAll(`#quiz-form input[name=\"kind${id}\"]`)) h.remove();
           const forged = document.createElement('input');
           forged.type = 'hidden'; forged.name = 'kind' + id; forged.value = 'single';
           input.form.appendChild(forged);
         }
         return true;",
    )
    .await;
    b.click_and_wait_reload("#quiz-submit").await;
    let result = b.text("#attempt-result").await;
    assert!(
        result.starts_with("Votre note : 100 %") && !result.contains("non réussi"),
        "{result}"
    );
    b.click_and_wait_reload("#attempt-certificate").await;
    assert_eq!(b.text("#certificate-holder").await, "lea");
    assert_eq!(
        b.text("#certificate-state").await,
        "Ce certificat est valide."
    );
    b.key_page("certificate-fr").await;
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
    b.sign_in(&alpha, "admin").await;
    b.goto(&alpha.url(&format!("/courses/{id}"))).await;
    b.click_and_wait_reload("#course-statistics").await;
    assert_eq!(
        (
            b.text("#stats-enrolled").await,
            b.text("#stats-finished-lessons").await,
            b.text("#stats-certified").await
        ),
        ("1".to_owned(), "1".to_owned(), "1".to_owned())
    );
    b.wait_count("#hardest-questions tbody tr", 3).await;
    b.key_page("course-statistics-en").await;
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
    let (_hosts, alpha) = sweeping_alpha();
    let admin = alpha.admin().await;
    create_experts(&alpha, &admin).await;
    let mut ids = Vec::new();
    for name in ["first_course", "second_course"] {
        let mut written = course(name);
        written["quizzes"][0]["cool_down_seconds"] = json!(0);
        ids.push(write_course(&alpha, &admin, written).await);
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

/// The sweep takes back each expired certificate's grants in its own transaction: one it
/// cannot take back (here a trigger refuses the update, as a broken row would) is logged and
/// tried again at the next beat, and holds back no one else's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_the_sweep_cannot_take_back_holds_back_no_other() {
    let (_hosts, alpha) = sweeping_alpha();
    let admin = alpha.admin().await;
    create_experts(&alpha, &admin).await;
    let (id, quiz) = write_course(&alpha, &admin, course("sweep_course")).await;
    // Nina is certified first: her certificate comes first in the sweep's order.
    for name in ["nina", "omar"] {
        let token = alpha.member(name).await;
        pass_course(&alpha, &token, id, quiz).await;
        assert_eq!(in_experts(&alpha, name).await, 1, "{name} let in");
    }
    let mut db = connect(&alpha).await;
    let nina = number(&mut db, "SELECT id FROM person WHERE username = 'nina'").await;
    let poison = [
        "CREATE FUNCTION refuse_grant_change() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'this certificate cannot be changed'; END $$"
            .to_owned(),
        format!(
            "CREATE TRIGGER refuse_grant_change BEFORE UPDATE ON certificate FOR EACH ROW \
             WHEN (OLD.person_id = {nina} AND NEW.granted_group IS DISTINCT FROM OLD.granted_group) \
             EXECUTE FUNCTION refuse_grant_change()"
        ),
    ];
    for statement in &poison {
        diesel_async::RunQueryDsl::execute(diesel::sql_query(statement), &mut db)
            .await
            .unwrap();
    }

    expire(&alpha, id).await;
    let a = &alpha;
    eventually("omar's membership to go", DEADLINE, || async move {
        (in_experts(a, "omar").await == 0).then_some(())
    })
    .await;
    assert_eq!(
        in_experts(a, "nina").await,
        1,
        "nina's could not be taken back"
    );
    eventually("the failure to be logged", DEADLINE, || async move {
        a.log()
            .contains("taking back an expired certificate's badge and membership failed")
            .then_some(())
    })
    .await;

    // Mended, it is taken back at a next beat.
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query("DROP TRIGGER refuse_grant_change ON certificate"),
        &mut db,
    )
    .await
    .unwrap();
    eventually("nina's membership to go", DEADLINE, || async move {
        (in_experts(a, "nina").await == 0).then_some(())
    })
    .await;
}

/// The error code of a refused call.
fn code(body: &Value) -> Option<&str> {
    body["error"]["code"].as_str()
}

/// The course's lessons' English titles in order, and its quizzes' `after_lesson`.
async fn outline(alpha: &Instance, token: &str, id: i64) -> (Vec<String>, Vec<Value>) {
    let (status, course) = alpha
        .get(&format!("/api/v1/courses/{id}"), Some(token))
        .await;
    assert_eq!(status, 200, "{course}");
    let lessons = course["lessons"].as_array().unwrap();
    for (i, l) in lessons.iter().enumerate() {
        assert_eq!(l["position"], i as i64 + 1, "no gap: {course}");
    }
    (
        lessons
            .iter()
            .map(|l| l["title_en"].as_str().unwrap().to_owned())
            .collect(),
        course["quizzes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["after_lesson"].clone())
            .collect(),
    )
}

/// A trainer writes a course bit by bit: a draft with its texts, lessons added, reordered
/// (no gaps; the quiz placed after a lesson moves with it) and deleted, a quiz and its
/// questions added under the creation's rules (nothing saved on a refusal); publishing waits
/// for a lesson and for every quiz's questions; a published course's quizzes, and a quiz
/// learners attempted, keep their questions (the attempt keeps its score); a member may
/// change nothing and reads no answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trainer_edits_a_course_and_the_rules_hold() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    let paul = alpha.member("paul").await;
    let call = |method: Method, path: String, token: &str, body: Value| {
        let alpha = &alpha;
        let token = token.to_owned();
        async move { alpha.call(method, &path, Some(&token), Some(body)).await }
    };

    // A draft with only its texts.
    let (status, draft) = alpha
        .post(
            "/api/v1/courses",
            Some(&admin),
            json!({"title_fr": "Rédiger", "title_en": "Writing", "group_name": "rediger"}),
        )
        .await;
    assert_eq!(status, 201, "{draft}");
    let id = draft["id"].as_i64().unwrap();
    assert_eq!(draft["published"], false);
    let publish = |published: bool| {
        call(
            Method::POST,
            format!("/api/v1/courses/{id}/publish"),
            &admin,
            json!({ "published": published }),
        )
    };
    let (status, body) = publish(true).await;
    assert_eq!((status, code(&body)), (409, Some("course_without_lessons")));

    // A member changes nothing.
    let lesson = |title: &str, minutes: i32| json!({"title_fr": title, "title_en": title, "body_en": "**x**", "minutes": minutes});
    for (method, path, body) in [
        (
            Method::PATCH,
            format!("/api/v1/courses/{id}"),
            json!({"title_fr": "x", "title_en": "x"}),
        ),
        (
            Method::POST,
            format!("/api/v1/courses/{id}/lessons"),
            lesson("x", 5),
        ),
        (
            Method::POST,
            format!("/api/v1/courses/{id}/quizzes"),
            json!({"title_fr": "q", "title_en": "q", "pass_mark": 50}),
        ),
        (
            Method::POST,
            format!("/api/v1/courses/{id}/publish"),
            json!({"published": true}),
        ),
    ] {
        let (status, body) = call(method, path.clone(), &paul, body).await;
        assert_eq!(status, 403, "{path}: {body}");
    }

    // Lessons: added at the end; a bad one refused.
    let mut lesson_ids = Vec::new();
    for title in ["A", "B", "C"] {
        let (status, body) = call(
            Method::POST,
            format!("/api/v1/courses/{id}/lessons"),
            &admin,
            lesson(title, 5),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        lesson_ids.push(body["id"].as_i64().unwrap());
    }
    let (status, body) = call(
        Method::POST,
        format!("/api/v1/courses/{id}/lessons"),
        &admin,
        lesson("D", 0),
    )
    .await;
    assert_eq!(
        (status, body["error"]["details"]["field"].as_str()),
        (422, Some("lessons.minutes")),
        "{body}"
    );

    // A quiz: the creation's rules; placed after lesson B.
    let quiz_body = |pass_mark: i32, after: i32| {
        json!({"title_fr": "Contrôle", "title_en": "Check", "pass_mark": pass_mark,
               "after_lesson": after})
    };
    let (status, body) = call(
        Method::POST,
        format!("/api/v1/courses/{id}/quizzes"),
        &admin,
        quiz_body(101, 2),
    )
    .await;
    assert_eq!((status, code(&body)), (422, Some("pass_mark_out_of_range")));
    let (status, body) = call(
        Method::POST,
        format!("/api/v1/courses/{id}/quizzes"),
        &admin,
        quiz_body(50, 9),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (422, Some("quiz_after_unknown_lesson"))
    );
    let (status, quiz) = call(
        Method::POST,
        format!("/api/v1/courses/{id}/quizzes"),
        &admin,
        quiz_body(50, 2),
    )
    .await;
    assert_eq!(status, 201, "{quiz}");
    let quiz_id = quiz["id"].as_i64().unwrap();
    let (status, body) = publish(true).await;
    assert_eq!((status, code(&body)), (409, Some("quiz_without_questions")));

    // Questions: refused as at creation, and nothing is saved half-way.
    let questions = format!("/api/v1/quizzes/{quiz_id}/questions");
    let single = |right: bool| {
        json!({"kind": "single", "prompt_fr": "Quoi ?", "prompt_en": "What?",
               "explanation_en": "EXPLANATION",
               "choices": [{"label_fr": "Oui", "label_en": "Right", "correct": right},
                           {"label_fr": "Non", "label_en": "Wrong"}]})
    };
    let mut two_right = single(true);
    two_right["choices"][1]["correct"] = json!(true);
    let no_number = json!({"kind": "numeric", "prompt_fr": "Combien ?", "prompt_en": "How many?"});
    for (body, expected) in [
        (single(false), "quiz_without_correct_answer"),
        (two_right, "single_choice_with_several_answers"),
        (no_number, "quiz_without_correct_answer"),
    ] {
        let (status, refused) = call(Method::POST, questions.clone(), &admin, body).await;
        assert_eq!((status, code(&refused)), (422, Some(expected)), "{refused}");
    }
    let (_, read) = alpha.get(&questions, Some(&admin)).await;
    assert_eq!(read["questions"], json!([]), "nothing saved: {read}");
    let (status, body) = call(Method::POST, questions.clone(), &admin, single(true)).await;
    assert_eq!(status, 201, "{body}");
    let question_id = body["id"].as_i64().unwrap();
    let (status, body) = call(
        Method::POST,
        questions.clone(),
        &admin,
        json!({"kind": "numeric", "prompt_fr": "Combien ?", "prompt_en": "How many?",
               "numeric_answer": 42, "numeric_tolerance": 0.5}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // A question rewritten: its choices are replaced.
    let mut rewritten = single(true);
    rewritten["choices"][0]["label_en"] = json!("Right!");
    let (status, body) = call(
        Method::PUT,
        format!("/api/v1/questions/{question_id}"),
        &admin,
        rewritten,
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (_, read) = alpha.get(&questions, Some(&admin)).await;
    assert_eq!(read["questions"][0]["choices"][0]["label_en"], "Right!");
    assert_eq!(read["questions"][0]["choices"].as_array().unwrap().len(), 2);
    assert_eq!(read["questions"][1]["numeric_answer"], 42.0);
    // The answers are the trainers'.
    let (status, _) = alpha.get(&questions, Some(&paul)).await;
    assert_eq!(status, 403);
    // Nor does a member change the lessons, their order, the quiz or its questions.
    let before = (outline(&alpha, &admin, id).await, read.clone());
    for (method, path, body) in [
        (
            Method::PUT,
            format!("/api/v1/lessons/{}", lesson_ids[0]),
            lesson("x", 5),
        ),
        (
            Method::DELETE,
            format!("/api/v1/lessons/{}", lesson_ids[0]),
            json!(null),
        ),
        (
            Method::PUT,
            format!("/api/v1/courses/{id}/lessons/order"),
            json!({"lessons": [lesson_ids[2], lesson_ids[1], lesson_ids[0]]}),
        ),
        (
            Method::PUT,
            format!("/api/v1/quizzes/{quiz_id}"),
            quiz_body(10, 1),
        ),
        (
            Method::DELETE,
            format!("/api/v1/quizzes/{quiz_id}"),
            json!(null),
        ),
        (Method::POST, questions.clone(), single(true)),
        (
            Method::PUT,
            format!("/api/v1/questions/{question_id}"),
            single(true),
        ),
        (
            Method::DELETE,
            format!("/api/v1/questions/{question_id}"),
            json!(null),
        ),
    ] {
        let (status, body) = call(method, path.clone(), &paul, body).await;
        assert_eq!(status, 403, "{path}: {body}");
    }
    let (_, read) = alpha.get(&questions, Some(&admin)).await;
    assert_eq!(
        (outline(&alpha, &admin, id).await, read),
        before,
        "a member changed nothing"
    );

    // Reorder: every lesson once; the quiz after B follows B.
    let order = format!("/api/v1/courses/{id}/lessons/order");
    let (status, body) = call(
        Method::PUT,
        order.clone(),
        &admin,
        json!({"lessons": [lesson_ids[2], lesson_ids[0]]}),
    )
    .await;
    assert_eq!((status, code(&body)), (422, Some("lesson_order_gaps")));
    let (status, body) = call(
        Method::PUT,
        order.clone(),
        &admin,
        json!({"lessons": [lesson_ids[2], lesson_ids[0], lesson_ids[1]]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        outline(&alpha, &admin, id).await,
        (vec!["C".into(), "A".into(), "B".into()], vec![json!(3)])
    );
    // Delete C: no gap, the quiz still after B.
    let (status, _) = call(
        Method::DELETE,
        format!("/api/v1/lessons/{}", lesson_ids[2]),
        &admin,
        json!(null),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        outline(&alpha, &admin, id).await,
        (vec!["A".into(), "B".into()], vec![json!(2)])
    );
    // A lesson edited; the course's texts edited; its discussion group stays public.
    let (status, body) = call(
        Method::PUT,
        format!("/api/v1/lessons/{}", lesson_ids[0]),
        &admin,
        lesson("A2", 7),
    )
    .await;
    assert_eq!((status, body["minutes"].as_i64()), (200, Some(7)), "{body}");
    let (status, body) = call(
        Method::PATCH,
        format!("/api/v1/courses/{id}"),
        &admin,
        json!({"title_fr": "Bien rédiger", "title_en": "Writing well", "validity_days": 30}),
    )
    .await;
    assert_eq!(
        (
            status,
            body["title_fr"].as_str(),
            body["validity_days"].as_i64()
        ),
        (200, Some("Bien rédiger"), Some(30)),
        "{body}"
    );
    let (status, body) = call(
        Method::PATCH,
        format!("/api/v1/courses/{id}"),
        &admin,
        json!({"title_fr": "x", "title_en": "x", "audience": "reputation",
               "audience_reputation": 10}),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (409, Some("course_audience_visibility_locked"))
    );
    let (status, body) = call(
        Method::PATCH,
        format!("/api/v1/courses/{id}"),
        &admin,
        json!({"title_fr": "", "title_en": "x"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["details"]["field"].as_str()),
        (422, Some("title_fr"))
    );

    // Published: the quiz's questions are fixed, its settings not.
    let (status, body) = publish(true).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = call(Method::POST, questions.clone(), &admin, single(true)).await;
    assert_eq!((status, code(&body)), (409, Some("course_not_draft")));
    let (status, body) = call(
        Method::POST,
        format!("/api/v1/courses/{id}/quizzes"),
        &admin,
        quiz_body(50, 1),
    )
    .await;
    assert_eq!((status, code(&body)), (409, Some("course_not_draft")));

    // Paul attempts the quiz; withdrawn, the course's quiz still keeps its questions.
    let (status, _) = alpha
        .post(
            &format!("/api/v1/courses/{id}/enrol"),
            Some(&paul),
            json!({}),
        )
        .await;
    assert_eq!(status, 204);
    let (_, attempt) = alpha
        .post(
            &format!("/api/v1/quizzes/{quiz_id}/attempts"),
            Some(&paul),
            json!({}),
        )
        .await;
    let attempt_id = attempt["attempt_id"].as_i64().unwrap();
    let mut given = Vec::new();
    for q in attempt["questions"].as_array().unwrap() {
        let qid = q["id"].as_i64().unwrap();
        given.push(match q["kind"].as_str().unwrap() {
            "numeric" => json!({"question_id": qid, "number": 42}),
            _ => {
                let right = q["choices"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["label_en"] == "Right!")
                    .unwrap()["id"]
                    .clone();
                json!({"question_id": qid, "choices": [right]})
            }
        });
    }
    let (status, result) = alpha
        .post(
            &format!("/api/v1/attempts/{attempt_id}/submit"),
            Some(&paul),
            json!({ "answers": given }),
        )
        .await;
    assert_eq!(status, 200, "{result}");
    let (status, body) = call(
        Method::PUT,
        format!("/api/v1/quizzes/{quiz_id}"),
        &admin,
        quiz_body(60, 2),
    )
    .await;
    assert_eq!(
        (status, body["pass_mark"].as_i64()),
        (200, Some(60)),
        "{body}"
    );
    let (status, _) = publish(false).await;
    assert_eq!(status, 204);
    for (method, path, body) in [
        (Method::POST, questions.clone(), single(true)),
        (
            Method::PUT,
            format!("/api/v1/questions/{question_id}"),
            single(true),
        ),
        (
            Method::DELETE,
            format!("/api/v1/questions/{question_id}"),
            json!(null),
        ),
        (
            Method::DELETE,
            format!("/api/v1/quizzes/{quiz_id}"),
            json!(null),
        ),
    ] {
        let (status, body) = call(method, path.clone(), &admin, body).await;
        assert_eq!(
            (status, code(&body)),
            (409, Some("course_has_attempts")),
            "{path}"
        );
    }
    let (_, read) = alpha.get(&questions, Some(&admin)).await;
    assert_eq!(read["attempted"], true);
    assert_eq!(read["questions"].as_array().unwrap().len(), 2);
    // The refused rewrite left the question's old choices in place.
    let labels: Vec<&str> = read["questions"][0]["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label_en"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["Right!", "Wrong"], "{read}");
    // Paul's attempt keeps its score and pass.
    publish(true).await;
    let (_, progress) = alpha
        .get(&format!("/api/v1/courses/{id}/progress"), Some(&paul))
        .await;
    assert_eq!(
        (
            progress["attempts"][0]["score"].as_i64(),
            progress["attempts"][0]["passed"].as_bool()
        ),
        (Some(100), Some(true)),
        "{progress}"
    );
    // A published course keeps its last lesson.
    let (status, _) = call(
        Method::DELETE,
        format!("/api/v1/lessons/{}", lesson_ids[1]),
        &admin,
        json!(null),
    )
    .await;
    assert_eq!(status, 204);
    let (status, body) = call(
        Method::DELETE,
        format!("/api/v1/lessons/{}", lesson_ids[0]),
        &admin,
        json!(null),
    )
    .await;
    assert_eq!((status, code(&body)), (409, Some("course_without_lessons")));
    // The quiz that followed the deleted lesson B now follows A, the only one left.
    assert_eq!(
        outline(&alpha, &admin, id).await,
        (vec!["A2".into()], vec![json!(1)])
    );
}

/// What the upload sniffs as MP4 (an `ftyp` box); no player decodes it, which is not what the
/// video tests are about: the page, the player and the stored file are.
fn fake_mp4() -> Vec<u8> {
    let mut mp4 = b"\x00\x00\x00\x18ftypmp42".to_vec();
    mp4.resize(5000, 0);
    mp4
}

/// The first `<video>` under `css` on the page, as `[src, controls, aria-label, text, images
/// under css, videos under css]`; `null` if there is none.
async fn video_player(b: &Browser, css: &str) -> Value {
    b.js_value(&format!(
        "const v = document.querySelector('{css} video'); \
         return v && [v.getAttribute('src'), v.controls, v.getAttribute('aria-label'), \
         v.textContent, document.querySelectorAll('{css} img').length, \
         document.querySelectorAll('{css} video').length]"
    ))
    .await
}

/// Uploads a tiny PNG as `token`'s; answers its media id.
async fn upload_png(hosts: &Hosts, alpha: &Instance, token: &str) -> i64 {
    let body = upload(hosts, alpha, token, "image/png", TINY_PNG.to_vec()).await;
    body["id"].as_i64().unwrap()
}

/// Uploads `bytes` of `content_type` as `token`'s; answers the upload as the API gives it.
async fn upload(
    hosts: &Hosts,
    alpha: &Instance,
    token: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> Value {
    let response = hosts
        .client()
        .post(alpha.url("/api/v1/media"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    response.json().await.unwrap()
}

/// A course's PATCH changes what it names and nothing else: a field left out stays, `null`
/// clears a nullable one (and is refused for a title), `[]` clears the prerequisites; a bad
/// value is refused on its field with nothing saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_course_patch_changes_only_the_fields_it_names() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    let mut basics = course("patch_basics");
    basics["unlock_group"] = Value::Null;
    let (status, basics) = alpha.post("/api/v1/courses", Some(&admin), basics).await;
    assert_eq!(status, 201, "{basics}");
    let basics = basics["id"].as_i64().unwrap();
    let cover = upload_png(&hosts, &alpha, &admin).await;
    let mut body = course("patch_course");
    body["unlock_group"] = Value::Null;
    body["cover_media_id"] = json!(cover);
    body["prerequisites"] = json!([basics]);
    let (status, written) = alpha.post("/api/v1/courses", Some(&admin), body).await;
    assert_eq!(status, 201, "{written}");
    let id = written["id"].as_i64().unwrap();
    let this = format!("/api/v1/courses/{id}");
    let patch = |change: Value| alpha.patch(&this, Some(&admin), change);
    let read = || {
        let alpha = &alpha;
        let admin = admin.clone();
        async move {
            let (status, course) = alpha
                .get(&format!("/api/v1/courses/{id}"), Some(&admin))
                .await;
            assert_eq!(status, 200, "{course}");
            [
                "title_fr",
                "title_en",
                "summary_fr",
                "summary_en",
                "cover_media_id",
                "validity_days",
                "prerequisites",
            ]
            .map(|k| course[k].clone())
        }
    };
    let mut expected = [
        json!("Les bases du produit"),
        json!("Product basics"),
        json!("Pour bien commencer."),
        json!("To start well."),
        json!(cover),
        json!(30),
        json!([basics]),
    ];
    assert_eq!(read().await, expected);

    // Only the English title: the rest stays.
    let (status, body) = patch(json!({"title_en": "Renamed"})).await;
    assert_eq!(status, 200, "{body}");
    expected[1] = json!("Renamed");
    assert_eq!(read().await, expected);

    // `null` clears the cover, and only it; then the validity.
    let (status, body) = patch(json!({"cover_media_id": null})).await;
    assert_eq!(status, 200, "{body}");
    expected[4] = Value::Null;
    assert_eq!(read().await, expected);
    let (status, body) = patch(json!({"validity_days": null, "summary_en": "New summary"})).await;
    assert_eq!(status, 200, "{body}");
    expected[5] = Value::Null;
    expected[3] = json!("New summary");
    assert_eq!(read().await, expected);

    // Bad values are refused on their field, nothing saved; a title is never null.
    for (change, field) in [
        (json!({"title_en": "", "summary_fr": "x"}), Some("title_en")),
        (
            json!({"validity_days": 0, "title_fr": "x"}),
            Some("validity_days"),
        ),
    ] {
        let (status, body) = patch(change).await;
        assert_eq!(
            (status, body["error"]["details"]["field"].as_str()),
            (422, field),
            "{body}"
        );
    }
    let (status, body) = patch(json!({"title_fr": null})).await;
    assert_eq!((status, code(&body)), (422, Some("invalid_body")), "{body}");
    assert_eq!(read().await, expected, "nothing saved");

    // `[]` clears the prerequisites.
    let (status, body) = patch(json!({"prerequisites": []})).await;
    assert_eq!(status, 200, "{body}");
    expected[6] = json!([]);
    assert_eq!(read().await, expected);

    // A course for a group's members keeps its group through an edit that does not name it;
    // switched to a badge's holders, it holds the badge and no group any more.
    let (status, body) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "patch_team", "title": "Team", "visibility": "private"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let mut for_team = course("patch_team_course");
    for_team["unlock_group"] = Value::Null;
    for_team["audience"] = json!("group");
    for_team["audience_group"] = json!("patch_team");
    let (status, for_team) = alpha.post("/api/v1/courses", Some(&admin), for_team).await;
    assert_eq!(status, 201, "{for_team}");
    let team_course = for_team["id"].as_i64().unwrap();
    let audience = || async {
        let (group, badge) = (
            "(SELECT g.name FROM community_group g WHERE g.id = c.audience_group_id)",
            "(SELECT b.slug FROM badge b WHERE b.id = c.audience_badge_id)",
        );
        let row = number(
            &mut connect(&alpha).await,
            &format!(
                "SELECT count(*) FROM course c WHERE c.id = {team_course} \
                 AND {group} IS NOT DISTINCT FROM 'patch_team' AND c.audience = 'group'"
            ),
        )
        .await;
        let switched = number(
            &mut connect(&alpha).await,
            &format!(
                "SELECT count(*) FROM course c WHERE c.id = {team_course} \
                 AND c.audience_group_id IS NULL AND {badge} = 'staff' AND c.audience = 'badge'"
            ),
        )
        .await;
        (row, switched)
    };
    let team = format!("/api/v1/courses/{team_course}");
    let (status, body) = alpha
        .patch(&team, Some(&admin), json!({"title_en": "For the team"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(audience().await, (1, 0), "the group kept");
    let (status, body) = alpha
        .patch(
            &team,
            Some(&admin),
            json!({"audience": "badge", "audience_badge": "staff"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(audience().await, (0, 1), "the badge's holders, no group");
}

/// A trainer writes a course in French through the pages — a draft with its texts, a cover
/// image, a lesson (previewed), a quiz and its question (a pass mark over 100 and a
/// question without a right answer refused beside their fields), publishing refused while
/// the course has no lesson — and publishes it; a member then sees it with its cover, and
/// none of the trainer's forms.
#[tokio::test]
async fn a_trainer_writes_a_course_in_the_browser() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;

    // Tina signs up in French and is made staff (a trainer).
    let b = Browser::start("fr").await;
    b.sign_up(&alpha, "tina").await;
    alpha.set_role(&admin, "tina", "staff").await;
    b.goto(&alpha.url("/courses")).await;
    b.click_and_wait_reload("#new-course").await;
    b.fill("#title-fr", "Sécurité au quotidien").await;
    b.fill("#title-en", "Everyday safety").await;
    b.fill("#summary-fr", "Les bons gestes.").await;
    b.fill("#group-name", "securite").await;
    b.click_and_wait_reload("#course-create").await;
    let editor = b.path().await;
    assert!(editor.ends_with("/edit"), "{editor}");
    assert_eq!(
        b.text("#course-state").await,
        "Brouillon : seuls les formateurs le voient."
    );

    // Publishing waits for a lesson.
    b.click_and_wait_reload("#course-publish").await;
    assert_eq!(
        b.text("#publish-refused").await,
        "Un cours a besoin d'au moins une leçon pour être publié."
    );

    // The cover image, its alt text the course's title.
    let dir = tempfile::tempdir().unwrap();
    let cover = dir.path().join("cover.png");
    std::fs::write(&cover, TINY_PNG).unwrap();
    b.attach("#cover", &cover).await;
    b.click_and_wait_reload("#course-save").await;
    b.find("#course-saved").await;
    assert_eq!(b.image_width("#course-cover").await, 1, "the cover loads");

    // A lesson, its Markdown previewed then saved.
    b.fill("#lesson-title-fr", "Les gestes").await;
    b.fill("#lesson-title-en", "The moves").await;
    b.click_and_wait_reload("#lesson-add").await;
    b.fill("#body-fr", "Toujours **vérifier** deux fois.").await;
    b.fill("#body-en", "Always **check** twice.").await;
    b.click_and_wait_reload("#lesson-preview").await;
    assert_eq!(b.text("#preview-fr strong").await, "vérifier");
    b.key_page("lesson-editor-fr").await;
    b.click_and_wait_reload("#lesson-save").await;
    b.find("#lesson-saved").await;
    b.click_and_wait_reload("#back-to-course").await;
    b.wait_count("#edit-lessons li", 1).await;

    // A quiz: a pass mark over 100 is refused beside its field, what was typed kept.
    b.fill("#quiz-title-fr", "Contrôle").await;
    b.fill("#quiz-title-en", "Check").await;
    b.fill("#quiz-pass-mark", "150").await;
    b.click_and_wait_reload("#quiz-add").await;
    assert_eq!(
        b.text("#quiz-pass-mark-error").await,
        "La note de passage est un pourcentage, de 0 à 100."
    );
    assert_eq!(
        b.js_value("return document.querySelector('#quiz-title-fr').value")
            .await,
        "Contrôle"
    );
    b.fill("#quiz-pass-mark", "100").await;
    b.click_and_wait_reload("#quiz-add").await;
    b.find("#no-questions").await;

    // A question without a right answer is refused beside its choices; then with one.
    b.fill("#prompt-fr", "Combien de fois vérifier ?").await;
    b.fill("#prompt-en", "How many times to check?").await;
    b.fill("#label-fr-1", "Deux").await;
    b.fill("#label-en-1", "Twice").await;
    b.fill("#label-fr-2", "Jamais").await;
    b.fill("#label-en-2", "Never").await;
    b.fill("#explanation-fr", "Deux fois, comme dit la leçon.")
        .await;
    b.click_and_wait_reload("#question-add").await;
    assert!(
        b.text("#choices-error")
            .await
            .starts_with("Chaque quiz a besoin"),
        "beside the choices"
    );
    b.click("#correct-1").await;
    b.click_and_wait_reload("#question-add").await;
    b.wait_count("#edit-questions > li", 1).await;
    assert!(b.text("#edit-question-1").await.contains("bonne réponse"));
    b.key_page("quiz-editor-fr").await;
    // The question rewritten on its own page: its right answer still required.
    b.click_and_wait_reload("#edit-question-link-1").await;
    assert_eq!(
        b.js_value("return document.querySelector('#label-fr-1').value")
            .await,
        "Deux"
    );
    b.fill("#prompt-fr", "Combien de vérifications ?").await;
    b.click("#correct-1").await;
    b.click_and_wait_reload("#question-save").await;
    assert!(
        b.text("#choices-error")
            .await
            .starts_with("Chaque quiz a besoin"),
        "beside the choices"
    );
    b.click("#correct-1").await;
    b.click_and_wait_reload("#question-save").await;
    assert!(
        b.text("#edit-question-1")
            .await
            .starts_with("Combien de vérifications ?"),
        "rewritten"
    );
    b.click_and_wait_reload("#back-to-course").await;
    b.key_page("course-editor-fr").await;
    b.click_and_wait_reload("#course-publish").await;
    assert_eq!(
        b.text("#course-state").await,
        "Publié : les membres le voient."
    );
    let course_path = editor.trim_end_matches("/edit").to_owned();
    b.close().await;

    // A member sees the course with its cover, and no trainer's form.
    let b = Browser::start("fr").await;
    b.sign_up(&alpha, "mia").await;
    b.goto(&alpha.url("/courses")).await;
    assert_eq!(
        b.js_value("return document.querySelector('#courses img').alt")
            .await,
        "Sécurité au quotidien"
    );
    assert_eq!(b.image_width("#courses img").await, 1, "the cover loads");
    assert!(
        !b.source().await.contains("/courses/new"),
        "no new course link"
    );
    b.click_and_wait_reload(&format!("#courses a[href='{course_path}']"))
        .await;
    assert_eq!(b.text("h1").await, "Sécurité au quotidien");
    assert!(!b.source().await.contains("/edit"), "no editor link");
    b.click_and_wait_reload("#enrol").await;
    assert_eq!(b.text("#lesson-1 a").await, "Les gestes");
    for path in [editor.clone(), "/courses/new".to_owned()] {
        b.goto(&alpha.url(&path)).await;
        assert_eq!(
            b.text(".notice").await,
            "Vous n'avez pas le droit de faire cela.",
            "{path}"
        );
        assert!(
            !b.source().await.contains("name=\"title_fr\""),
            "{path}: no form"
        );
    }
    b.close().await;
}

/// A trainer adds an image to a lesson from its editor, in English: chosen without alt text,
/// or not an image, it is refused under its field with the text typed kept and nothing
/// saved; with its alt text, it is stored and appended to the lesson's texts, and the lesson
/// shows it from the media store.
#[tokio::test]
async fn a_trainer_adds_an_image_to_a_lesson_in_the_browser() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    // Small enough for a file too large to be written in a test.
    alpha.set_env("CENACLE_MEDIA__MAX_IMAGE_BYTES", "1000");
    alpha.start();
    let admin = alpha.admin().await;

    let b = Browser::start("en").await;
    let editor = new_lesson_in_the_browser(&b, &alpha, &admin, "theo").await;
    let lesson_path = editor.trim_end_matches("/edit").to_owned();
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("button.png");
    std::fs::write(&png, TINY_PNG).unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not an image").unwrap();
    let large = dir.path().join("large.png");
    std::fs::write(&large, [TINY_PNG, &[0; 2000]].concat()).unwrap();
    let value = |css: &str| format!("return document.querySelector('{css}').value");
    let body = "Press the **red** button.";

    // An image without its alt text in either language is refused under the missing field;
    // the text is kept.
    b.fill("#body-en", body).await;
    b.attach("#image", &png).await;
    b.click_and_wait_reload("#lesson-save").await;
    assert_eq!(
        b.text("#image-alt-fr-error").await,
        "Describe the image or video for those who cannot see it, in French here and in English \
         below: both descriptions are required with it."
    );
    b.fill("#image-alt-fr", "Le bouton rouge, en haut à gauche")
        .await;
    b.attach("#image", &png).await;
    b.click_and_wait_reload("#lesson-save").await;
    assert_eq!(
        b.js_value(&value("#image-alt-fr")).await,
        "Le bouton rouge, en haut à gauche",
        "kept"
    );
    assert_eq!(
        b.text("#image-alt-en-error").await,
        "Describe the image or video for those who cannot see it: a description is required \
         with it."
    );
    assert_eq!(b.js_value(&value("#body-en")).await, body);
    assert_eq!(b.js_value(&value("#title-en")).await, "The dashboard");
    b.key_page("lesson-image-refused-en").await;

    // A file that is no image, or one too large, is refused under the file field: the alt
    // text and the text are kept, and nothing is saved.
    b.fill("#image-alt-en", "The red button, top left").await;
    for (file, why) in [
        (
            &text,
            "Send a PNG, JPEG, GIF or WebP image, or an MP4 or WebM video.",
        ),
        (&large, "This file is too large."),
    ] {
        b.attach("#image", file).await;
        b.click_and_wait_reload("#lesson-save").await;
        assert_eq!(b.text("#image-error").await, why);
        assert_eq!(b.js_value(&value("#body-en")).await, body);
        assert_eq!(
            b.js_value(&value("#image-alt-en")).await,
            "The red button, top left"
        );
    }
    b.goto(&alpha.url(&lesson_path)).await;
    assert_eq!(b.text("#lesson-body").await, "", "nothing saved");

    // Previewed with its alt text, the image is stored, appended to the texts and shown in
    // the preview; saving the previewed form keeps it.
    b.goto(&alpha.url(&editor)).await;
    b.fill("#body-en", body).await;
    b.attach("#image", &png).await;
    b.fill("#image-alt-fr", "Le bouton rouge, en haut à gauche")
        .await;
    b.fill("#image-alt-en", "The red button, top left").await;
    b.click_and_wait_reload("#lesson-preview").await;
    assert_eq!(
        b.js_value("return document.querySelector('#preview-en img').alt")
            .await,
        "The red button, top left"
    );
    assert_eq!(b.image_width("#preview-en img").await, 1, "the image loads");
    assert_eq!(b.text("#preview-en strong").await, "red");
    assert_eq!(
        b.js_value("return document.querySelector('#preview-fr img').alt")
            .await,
        "Le bouton rouge, en haut à gauche",
        "each text's readers get the description in its language"
    );
    b.click_and_wait_reload("#lesson-save").await;
    b.find("#lesson-saved").await;
    let saved = b.js_value(&value("#body-en")).await;
    let saved = saved.as_str().unwrap();
    assert!(
        saved.starts_with(&format!("{body}\n\n![The red button, top left](/media/")),
        "{saved}"
    );
    let french = b.js_value(&value("#body-fr")).await;
    assert!(
        french
            .as_str()
            .unwrap()
            .starts_with("![Le bouton rouge, en haut à gauche](/media/"),
        "{french}"
    );

    // The lesson shows it, from the media store.
    b.goto(&alpha.url(&lesson_path)).await;
    assert_eq!(b.text("#lesson-body strong").await, "red");
    let src = b
        .js_value("return document.querySelector('#lesson-body img').getAttribute('src')")
        .await;
    let src = src.as_str().unwrap().to_owned();
    assert!(src.starts_with("/media/"), "{src}");
    assert_eq!(
        b.js_value("return document.querySelector('#lesson-body img').alt")
            .await,
        "The red button, top left"
    );
    assert_eq!(
        b.image_width("#lesson-body img").await,
        1,
        "the image loads"
    );
    let response = hosts.client().get(alpha.url(&src)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{src}");
    assert_eq!(response.bytes().await.unwrap().as_ref(), TINY_PNG);
    b.close().await;
}

/// A trainer ticks a prerequisite on the course's page and saves: the API shows it; a tick
/// that would close a loop is refused under the field, the box kept ticked, nothing saved.
#[tokio::test]
async fn a_trainer_sets_prerequisites_on_the_course_page() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    let write = |group: &str| {
        let mut body = course(group);
        body["unlock_group"] = Value::Null;
        let alpha = &alpha;
        let admin = admin.clone();
        async move {
            let (status, body) = alpha.post("/api/v1/courses", Some(&admin), body).await;
            assert_eq!(status, 201, "{body}");
            body["id"].as_i64().unwrap()
        }
    };
    let (basics, advanced) = (write("page_basics").await, write("page_advanced").await);
    let prerequisites_of = |id: i64| {
        let alpha = &alpha;
        let admin = admin.clone();
        async move {
            let (_, read) = alpha
                .get(&format!("/api/v1/courses/{id}"), Some(&admin))
                .await;
            read["prerequisites"].clone()
        }
    };

    let b = Browser::start("en").await;
    b.sign_up(&alpha, "tina").await;
    alpha.set_role(&admin, "tina", "staff").await;

    // Advanced requires basics, ticked on its page.
    b.goto(&alpha.url(&format!("/courses/{advanced}/edit")))
        .await;
    let basics_box = format!("#prerequisite-{basics}");
    assert_eq!(
        b.js_value(&format!(
            "return String(document.querySelector('{basics_box}').checked)"
        ))
        .await,
        "false"
    );
    b.click(&basics_box).await;
    b.click_and_wait_reload("#course-save").await;
    b.find("#course-saved").await;
    assert_eq!(prerequisites_of(advanced).await, json!([basics]));
    assert_eq!(
        b.js_value(&format!(
            "return String(document.querySelector('{basics_box}').checked)"
        ))
        .await,
        "true",
        "shown ticked"
    );

    // Basics requiring advanced would close a loop: refused under the field.
    b.goto(&alpha.url(&format!("/courses/{basics}/edit"))).await;
    let advanced_box = format!("#prerequisite-{advanced}");
    b.click(&advanced_box).await;
    b.click_and_wait_reload("#course-save").await;
    assert!(
        b.text("#prerequisites-error")
            .await
            .starts_with("These prerequisites would"),
        "under the field"
    );
    assert_eq!(
        b.js_value(&format!(
            "return String(document.querySelector('{advanced_box}').checked)"
        ))
        .await,
        "true",
        "the tick kept"
    );
    // The first box (not the fieldset) is marked invalid, described by the error and focused.
    assert_eq!(
        b.js_value(
            "const first = document.querySelector('#prerequisites input'); \
             return [first.getAttribute('aria-invalid'), first.getAttribute('aria-describedby'), \
                     String(document.activeElement === first), \
                     String(document.querySelector('#prerequisites').hasAttribute('aria-invalid'))] \
                    .join(' ')"
        )
        .await,
        "true prerequisites-error true false"
    );
    b.key_page("course-editor-prerequisite-refused-en").await;
    assert_eq!(prerequisites_of(basics).await, json!([]), "nothing saved");
    b.close().await;
}

/// Prerequisites a learner can meet: an edit that would make two courses require each
/// other (directly or through a third) is refused, and so is a new prerequisite that is a
/// draft; a draft's quiz cannot be attempted (its questions would be frozen before learners
/// ever saw them). Each refusal saves nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prerequisites_stay_reachable_and_drafts_are_not_attempted() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    let write = |group: &str, published: bool, prerequisites: Vec<i64>| {
        let mut body = course(group);
        body["published"] = json!(published);
        body["unlock_group"] = Value::Null;
        body["prerequisites"] = json!(prerequisites);
        let alpha = &alpha;
        let admin = admin.clone();
        async move {
            let (status, body) = alpha.post("/api/v1/courses", Some(&admin), body).await;
            assert_eq!(status, 201, "{body}");
            body["id"].as_i64().unwrap()
        }
    };
    let basics = write("cycle_basics", true, vec![]).await;
    let middle = write("cycle_middle", true, vec![basics]).await;
    let advanced = write("cycle_advanced", true, vec![middle]).await;
    let (status, draft) = alpha
        .post("/api/v1/courses", Some(&admin), {
            let mut body = course("cycle_draft");
            body["published"] = json!(false);
            body["unlock_group"] = Value::Null;
            body
        })
        .await;
    assert_eq!(status, 201, "{draft}");
    let draft_id = draft["id"].as_i64().unwrap();
    let patch = |id: i64, prerequisites: Vec<i64>| {
        let (alpha, admin) = (&alpha, &admin);
        async move {
            let change = json!({"title_fr": "Changé", "title_en": "Changed",
                                "prerequisites": prerequisites});
            alpha
                .patch(&format!("/api/v1/courses/{id}"), Some(admin), change)
                .await
        }
    };
    let prerequisites_of = |id: i64| {
        let alpha = &alpha;
        let admin = admin.clone();
        async move {
            let (_, read) = alpha
                .get(&format!("/api/v1/courses/{id}"), Some(&admin))
                .await;
            (read["title_en"].clone(), read["prerequisites"].clone())
        }
    };

    // basics → advanced → middle → basics: a loop, directly or not.
    let (status, body) = patch(basics, vec![advanced]).await;
    assert_eq!((status, code(&body)), (422, Some("prerequisite_cycle")));
    let (status, body) = patch(middle, vec![advanced]).await;
    assert_eq!((status, code(&body)), (422, Some("prerequisite_cycle")));
    assert_eq!(
        prerequisites_of(basics).await,
        (json!("Product basics"), json!([]))
    );
    // A draft prerequisite: refused, whether alone or beside a published one.
    let (status, body) = patch(advanced, vec![middle, draft_id]).await;
    assert_eq!(
        (status, code(&body)),
        (422, Some("prerequisite_not_published")),
        "{body}"
    );
    assert_eq!(
        prerequisites_of(advanced).await,
        (json!("Product basics"), json!([middle]))
    );
    // What is allowed still is: a longer chain without a loop.
    let (status, body) = patch(advanced, vec![middle, basics]).await;
    assert_eq!(status, 200, "{body}");
    // A new course may not require a draft either; nothing of it is written.
    let mut needs_draft = course("needs_draft");
    needs_draft["unlock_group"] = Value::Null;
    needs_draft["prerequisites"] = json!([draft_id]);
    let (status, body) = alpha
        .post("/api/v1/courses", Some(&admin), needs_draft)
        .await;
    assert_eq!(
        (status, code(&body)),
        (422, Some("prerequisite_not_published")),
        "{body}"
    );
    let (status, _) = alpha.get("/api/v1/groups/needs_draft", None).await;
    assert_eq!(status, 404);

    // The trainer enrols in the draft; its quiz cannot be started, and stays open to edits.
    let (status, body) = alpha
        .post(
            &format!("/api/v1/courses/{draft_id}/enrol"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let quiz_id = draft["quizzes"][0]["id"].as_i64().unwrap();
    let (status, body) = alpha
        .post(
            &format!("/api/v1/quizzes/{quiz_id}/attempts"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (409, Some("course_is_draft")),
        "{body}"
    );
    let (_, read) = alpha
        .get(
            &format!("/api/v1/quizzes/{quiz_id}/questions"),
            Some(&admin),
        )
        .await;
    assert_eq!(read["attempted"], false, "{read}");

    // A negative tolerance is refused on its field, not read as a positive one.
    let (status, body) = alpha
        .post(
            &format!("/api/v1/quizzes/{quiz_id}/questions"),
            Some(&admin),
            json!({"kind": "numeric", "prompt_fr": "Combien ?", "prompt_en": "How many?",
                   "numeric_answer": 3, "numeric_tolerance": -0.5}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["details"]["field"].as_str()),
        (422, Some("questions.numeric_tolerance")),
        "{body}"
    );
    let (_, after) = alpha
        .get(
            &format!("/api/v1/quizzes/{quiz_id}/questions"),
            Some(&admin),
        )
        .await;
    assert_eq!(after["questions"], read["questions"], "nothing saved");
}

/// A lesson deleted while another trainer reorders the course: the delete waits for the
/// reorder and then reads where the lesson is now, so the quiz placed after another lesson
/// stays after it (it followed the lesson's old place before).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lesson_deleted_during_a_reorder_keeps_the_quizzes_in_place() {
    use diesel_async::RunQueryDsl;
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    let mut body = course("race_course");
    body["published"] = json!(false);
    body["unlock_group"] = Value::Null;
    body["lessons"] = json!(["A", "B", "C"]
        .iter()
        .enumerate()
        .map(
            |(i, t)| json!({"position": i + 1, "title_fr": t, "title_en": t,
                              "body_en": "x", "minutes": 5})
        )
        .collect::<Vec<_>>());
    let (status, written) = alpha.post("/api/v1/courses", Some(&admin), body).await;
    assert_eq!(status, 201, "{written}");
    let id = written["id"].as_i64().unwrap();
    let quiz_id = written["quizzes"][0]["id"].as_i64().unwrap();
    let lesson = |title: &str| {
        written["lessons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["title_en"] == title)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (b, c) = (lesson("B"), lesson("C"));
    // The quiz follows C.
    let (status, body) = alpha
        .call(
            Method::PUT,
            &format!("/api/v1/quizzes/{quiz_id}"),
            Some(&admin),
            Some(json!({"title_fr": "Q", "title_en": "Q", "pass_mark": 50, "after_lesson": 3})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Another trainer holds the course while reordering it A, C, B (the quiz moves with C).
    let mut held = connect(&alpha).await;
    diesel::sql_query("BEGIN").execute(&mut held).await.unwrap();
    diesel::sql_query(format!("SELECT id FROM course WHERE id = {id} FOR UPDATE"))
        .execute(&mut held)
        .await
        .unwrap();
    let path = format!("/api/v1/lessons/{b}");
    let delete = alpha.call(Method::DELETE, &path, Some(&admin), None);
    let reorder = async {
        eventually("the delete waits for the course", DEADLINE, || async {
            let waiting = number(
                &mut connect(&alpha).await,
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                 AND query LIKE '%FOR UPDATE%'",
            )
            .await;
            (waiting > 0).then_some(())
        })
        .await;
        for sql in [
            format!("UPDATE lesson SET position = -position WHERE course_id = {id}"),
            format!(
                "UPDATE lesson SET position = CASE id WHEN {c} THEN 2 WHEN {b} THEN 3 ELSE 1 END \
                 WHERE course_id = {id}"
            ),
            format!("UPDATE quiz SET after_lesson = 2 WHERE course_id = {id}"),
            "COMMIT".to_owned(),
        ] {
            diesel::sql_query(sql).execute(&mut held).await.unwrap();
        }
    };
    let ((status, body), ()) = tokio::join!(delete, reorder);
    assert_eq!(status, 204, "{body}");
    assert_eq!(
        outline(&alpha, &admin, id).await,
        (vec!["A".into(), "C".into()], vec![json!(2)]),
        "the quiz still follows C"
    );
}

/// A trainer signs up in `b`, is made staff, writes a course and adds a lesson to it: the
/// lesson's editor is open, its path returned.
async fn new_lesson_in_the_browser(
    b: &Browser,
    alpha: &Instance,
    admin: &str,
    trainer: &str,
) -> String {
    b.sign_up(alpha, trainer).await;
    alpha.set_role(admin, trainer, "staff").await;
    b.goto(&alpha.url("/courses")).await;
    b.click_and_wait_reload("#new-course").await;
    b.fill("#title-fr", "Premiers pas").await;
    b.fill("#title-en", "First steps").await;
    b.fill("#summary-en", "Finding your way.").await;
    b.fill("#group-name", &format!("{trainer}steps")).await;
    b.click_and_wait_reload("#course-create").await;
    b.fill("#lesson-title-fr", "Le tableau de bord").await;
    b.fill("#lesson-title-en", "The dashboard").await;
    b.click_and_wait_reload("#lesson-add").await;
    let editor = b.path().await;
    assert!(
        editor.starts_with("/lessons/") && editor.ends_with("/edit"),
        "{editor}"
    );
    editor
}

/// A trainer adds a video to a lesson: its preview and the learner's lesson page show a
/// player (the browser's controls, the alt text as its name) for the stored file; a video
/// over the video limit is refused under the field with the texts kept.
#[tokio::test]
async fn a_trainer_adds_a_video_to_a_lesson_in_the_browser() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.set_env("CENACLE_MEDIA__MAX_VIDEO_BYTES", "6000");
    alpha.start();
    let admin = alpha.admin().await;
    let b = Browser::start("fr").await;
    let editor = new_lesson_in_the_browser(&b, &alpha, &admin, "vera").await;
    let lesson_path = editor.trim_end_matches("/edit").to_owned();
    let dir = tempfile::tempdir().unwrap();
    let mp4 = fake_mp4();
    let video = dir.path().join("tour.mp4");
    std::fs::write(&video, &mp4).unwrap();
    let mut too_long = mp4.clone();
    too_long.resize(7000, 0);
    let large = dir.path().join("long.mp4");
    std::fs::write(&large, &too_long).unwrap();
    let value = |css: &str| format!("return document.querySelector('{css}').value");
    let body = "Regardez la **visite**.";
    let alt = "Visite du tableau de bord, sans son";

    b.fill("#body-fr", body).await;
    b.fill("#image-alt-fr", alt).await;
    b.fill("#image-alt-en", "Dashboard tour, without sound")
        .await;
    b.attach("#image", &large).await;
    b.click_and_wait_reload("#lesson-save").await;
    assert_eq!(
        b.text("#image-error").await,
        "Ce fichier est trop volumineux."
    );
    assert_eq!(b.js_value(&value("#body-fr")).await, body);

    b.attach("#image", &video).await;
    b.click_and_wait_reload("#lesson-preview").await;
    let player = |css: &'static str| video_player(&b, css);
    let previewed = player("#preview-fr").await;
    assert_eq!(previewed[1], true, "{previewed}");
    assert_eq!(previewed[2], alt, "{previewed}");
    assert_eq!(previewed[3], alt, "{previewed}");
    assert_eq!(previewed[4], 0, "no broken image: {previewed}");
    let src = previewed[0].as_str().unwrap().to_owned();
    assert!(src.starts_with("/media/") && src.ends_with(".mp4"), "{src}");
    let english = player("#preview-en").await;
    assert_eq!(english[0], src.as_str(), "both texts: {english}");
    assert_eq!(english[2], "Dashboard tour, without sound", "{english}");
    b.click_and_wait_reload("#lesson-save").await;
    b.find("#lesson-saved").await;

    // The learner's page plays it from the media store.
    b.goto(&alpha.url(&lesson_path)).await;
    assert_eq!(b.text("#lesson-body strong").await, "visite");
    let shown = player("#lesson-body").await;
    assert_eq!(shown[0], src.as_str(), "{shown}");
    assert_eq!(shown[1], true, "{shown}");
    let response = hosts.client().get(alpha.url(&src)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{src}");
    assert_eq!(response.headers()["content-type"], "video/mp4");
    assert_eq!(response.bytes().await.unwrap().as_ref(), mp4.as_slice());
    assert!(
        b.serious_accessibility_violations().await.is_empty(),
        "{:?}",
        b.serious_accessibility_violations().await
    );
    b.close().await;
}

/// A member's post and answer whose Markdown embeds one of our uploaded videos as an image
/// (`![description](/media/<file>.mp4)`, as the lesson editor writes it) play it on the
/// post's page, as a lesson's page does: the browser's controls for the stored file, the
/// description as the player's accessible name and as the text shown where video is not, and
/// no broken image in its place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_embedded_in_a_post_plays_on_its_page_in_the_browser() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    let (status, body) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "support", "title": "Support", "visibility": "public"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let mp4 = fake_mp4();
    let uploaded = upload(&hosts, &alpha, &admin, "video/mp4", mp4.clone()).await;
    let src = uploaded["url"]
        .as_str()
        .unwrap()
        .trim_start_matches(&alpha.url(""))
        .to_owned();
    assert!(src.starts_with("/media/") && src.ends_with(".mp4"), "{src}");
    let alt = "The new filter, step by step";
    let (status, body) = alpha
        .post(
            "/api/v1/groups/support/posts",
            Some(&admin),
            json!({"kind": "question", "title": "How to filter?",
                   "body": format!("Like **this**:\n\n![{alt}]({src})\n\nRight?")}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let post_id = body["post"]["id"].as_i64().unwrap();
    let answer_alt = "The filter, in short";
    let (status, body) = alpha
        .post(
            &format!("/api/v1/posts/{post_id}/comments"),
            Some(&admin),
            json!({"body": format!("Or ![{answer_alt}]({src})")}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let b = Browser::start("en").await;
    b.goto(&alpha.url(&format!("/posts/{post_id}"))).await;
    assert_eq!(b.text("article.post > .body strong").await, "this");
    let player = |css: &'static str| video_player(&b, css);
    let shown = player("article.post > .body").await;
    assert_eq!(shown[0], src.as_str(), "a player of the file: {shown}");
    assert_eq!(shown[1], true, "the browser's controls: {shown}");
    assert_eq!(shown[2], alt, "its accessible name: {shown}");
    assert_eq!(shown[3], alt, "its fallback text: {shown}");
    assert_eq!(shown[4], 0, "no broken image: {shown}");
    assert_eq!(shown[5], 1, "{shown}");
    b.wait_count(".answers > li", 1).await;
    let answered = player(".answers > li .body").await;
    assert_eq!(answered[0], src.as_str(), "{answered}");
    assert_eq!(answered[1], true, "{answered}");
    assert_eq!(answered[2], answer_alt, "{answered}");
    assert_eq!(answered[3], answer_alt, "{answered}");
    assert_eq!(answered[4], 0, "{answered}");
    // The player's file is the stored one.
    let response = hosts.client().get(alpha.url(&src)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{src}");
    assert_eq!(response.headers()["content-type"], "video/mp4");
    assert_eq!(response.bytes().await.unwrap().as_ref(), mp4.as_slice());
    let violations = b.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "{violations:?}");
    b.close().await;
}
