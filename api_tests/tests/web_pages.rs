//! The web pages in a real headless Chromium against a real `cenacle serve`: a member signs
//! up, joins a group and asks; another answers; the first accepts, and the accepted answer
//! shows first with its marker after a reload — in English and in French. Forms without the
//! CSRF token are refused; titles and Markdown with markup render as text; an expired session
//! goes to sign-in and back; unknown pages are localised HTML, not JSON.

use cenacle_api_tests::{
    browser::{Browser, TINY_PNG},
    Hosts, Instance, PASSWORD,
};
use serde_json::json;

async fn instance_with_group() -> (Hosts, Instance) {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    let (status, body) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "support", "title": "Support", "description": "Ask anything"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (hosts, alpha)
}

async fn sign_out(b: &Browser) {
    b.click("header form button").await;
    b.find("a[href='/signin']").await;
}

#[tokio::test]
async fn a_question_is_asked_answered_and_accepted_in_the_browser() {
    let (_hosts, alpha) = instance_with_group().await;
    let b = Browser::start("en").await;

    // Alice signs up, joins the group and asks.
    b.sign_up(&alpha, "alice").await;
    b.key_page("groups-en").await;
    b.click("a[href='/groups/support']").await;
    b.click("form[action='/groups/support/join'] button").await;
    b.click("a[href='/groups/support/ask']").await;
    b.fill("#title", "How do I reset the router?").await;
    b.fill("#body", "It blinks **red** since yesterday.").await;
    // With a photo of the router, described for those who cannot see it.
    let photo_dir = tempfile::tempdir().unwrap();
    let photo = photo_dir.path().join("router.png");
    std::fs::write(&photo, TINY_PNG).unwrap();
    b.attach("#image", &photo).await;
    b.fill("#description", "The router, its light red").await;
    b.key_page("composer-en").await;
    // The preview shows the Markdown as it will read and the image attached, the text kept.
    b.click("button[value=preview]").await;
    b.find("#preview-heading").await;
    assert!(
        b.source().await.contains("<strong>red</strong>"),
        "preview rendered"
    );
    b.find(".attached img[alt='The router, its light red']")
        .await;
    assert_eq!(
        b.find("#title")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("How do I reset the router?")
    );
    b.key_page("composer-preview-en").await;
    // A second preview keeps the image attached once, with no new file chosen.
    b.click("button[value=preview]").await;
    b.wait_count(".attached img", 1).await;
    b.click("button[value=publish]").await;
    let question = b
        .wait_path("the question's page", |p| p.starts_with("/posts/"))
        .await;
    assert_eq!(b.text("h1").await, "How do I reset the router?");
    assert!(
        b.source().await.contains("<strong>red</strong>"),
        "Markdown rendered"
    );
    // The image was attached once (not once per preview), shows, and carries its alt text.
    b.wait_count(".media img", 1).await;
    b.find(".media img[alt='The router, its light red']").await;
    assert_eq!(b.image_width(".media img").await, 1, "the image loads");

    // The same form sent twice at once (a double click on Publish) publishes once: both
    // answers lead to one post.
    b.click("a[href='/groups/support']").await;
    b.click("a[href='/groups/support/ask']").await;
    b.fill("#title", "Is the blue cable the right one?").await;
    let landed = b
        .js_async(
            "const f = document.querySelector('form[action$=\"/ask\"]');
             const send = () => { const d = new FormData(f); d.set('action', 'publish');
                                  return fetch(f.getAttribute('action'), {method: 'POST', body: d}); };
             Promise.all([send(), send()]).then(rs => done(rs.map(r => [r.status, new URL(r.url).pathname])));",
        )
        .await;
    assert_eq!(landed[0], landed[1], "both on the same post: {landed}");
    assert_eq!(landed[0][0], 200, "{landed}");
    assert!(
        landed[0][1].as_str().unwrap().starts_with("/posts/"),
        "{landed}"
    );
    let (_, listed) = alpha.get("/api/v1/groups/support/posts", None).await;
    let copies = listed
        .to_string()
        .matches("Is the blue cable the right one?")
        .count();
    assert_eq!(copies, 1, "published once: {listed}");
    sign_out(&b).await;

    // Bob answers twice.
    b.sign_up(&alpha, "bob").await;
    b.goto(&alpha.url(&question)).await;
    for (n, answer) in [
        "Try turning it off and on again.",
        "Hold the reset button for ten seconds.",
    ]
    .into_iter()
    .enumerate()
    {
        b.fill("#answer-body", answer).await;
        b.click("form[action$='/answers'] button").await;
        b.wait_count(".answers > li", n + 1).await;
    }
    sign_out(&b).await;

    // Alice accepts the second, later answer.
    b.sign_in(&alpha, "alice").await;
    b.goto(&alpha.url(&question)).await;
    assert_eq!(b.text("#answers-heading").await, "2 answers");
    let first = b.text(".answers > li:first-child .body").await;
    assert_eq!(first, "Try turning it off and on again.");
    b.click(".answers > li:nth-child(2) form[action$='/accept'] button")
        .await;
    b.find(".answer.accepted").await;

    // After a reload, the accepted answer is first, with its marker.
    b.goto(&alpha.url(&question)).await;
    let first = b.find(".answers > li:first-child").await;
    assert_eq!(
        first.attr("class").await.unwrap().as_deref(),
        Some("answer accepted")
    );
    let text = first.text().await.unwrap();
    assert!(text.contains("Accepted answer"), "{text}");
    assert!(text.contains("Hold the reset button"), "{text}");
    b.key_page("question-en").await;

    // Bob's profile counts the accepted answer; reward points show on one's own profile only.
    b.goto(&alpha.url("/people/bob")).await;
    let figures = b.text(".figures").await;
    assert!(figures.contains("Accepted answers\n1"), "{figures}");
    assert!(!figures.contains("Reward points"), "{figures}");
    b.key_page("profile-en").await;
    b.click("header a.me").await;
    b.wait_path("my profile", |p| p == "/people/alice").await;
    assert!(b.text(".figures").await.contains("Reward points"));

    // The month's leaderboard: Bob first with his accepted answer's reputation, Alice's own
    // line marked.
    b.click("header a[href='/leaderboard']").await;
    b.find(".board").await;
    let first = b.text(".board tbody tr:first-child").await;
    assert!(first.starts_with("1 bob"), "{first}");
    assert!(b.text(".board tr.mine").await.contains("alice"));
    b.key_page("leaderboard-en").await;
    b.close().await;

    // The same pages in French, for a browser that asks for French.
    let fr = Browser::start("fr").await;
    fr.goto(&alpha.url(&question)).await;
    let marker = fr.text(".answer.accepted .marker").await;
    assert_eq!(marker, "✔ Réponse acceptée");
    assert_eq!(fr.text("#answers-heading").await, "2 réponses");
    assert!(fr.source().await.contains("<html lang=\"fr\">"));
    fr.key_page("question-fr").await;
    fr.goto(&alpha.url("/groups")).await;
    assert_eq!(fr.text("h1").await, "Groupes");
    // The home page of someone not signed in: everything the instance shows to all.
    fr.goto(&alpha.url("/")).await;
    assert_eq!(fr.text("h1").await, "Tout ici");
    assert_eq!(
        fr.text(&format!(".posts li a[href='{question}']")).await,
        "How do I reset the router?"
    );
    fr.key_page("feed-fr").await;
    // Search, through its form.
    fr.click("a[href='/search']").await;
    fr.fill("#q", "router").await;
    fr.click("form[role=search] button").await;
    fr.wait_text("main h2", "1 résultat").await;
    assert_eq!(
        fr.text(".posts li a[href^='/posts/']").await,
        "How do I reset the router?"
    );
    fr.key_page("search-fr").await;
    // The leaderboard, and a widget asked in French.
    fr.goto(&alpha.url("/leaderboard?period=month")).await;
    assert_eq!(fr.text("h1").await, "Classement");
    assert_eq!(fr.text(".sorts [aria-current]").await, "Ce mois-ci");
    fr.key_page("leaderboard-fr").await;
    fr.goto(&alpha.url("/widgets/answers?lang=fr")).await;
    assert_eq!(fr.text("h1").await, "Dernières réponses de la communauté");
    assert!(fr
        .text(".widget-answers")
        .await
        .contains("Réponse acceptée"));
    fr.goto(&alpha.url("/signin")).await;
    fr.key_page("sign-in-fr").await;
    fr.goto(&alpha.url("/groups/support")).await;
    fr.key_page("group-fr").await;
    fr.goto(&alpha.url("/nowhere")).await;
    assert_eq!(fr.text("h1").await, "Page introuvable");
    fr.close().await;
}

#[tokio::test]
async fn forms_need_their_token_and_members_markup_stays_text() {
    let (_hosts, alpha) = instance_with_group().await;
    let token = alpha.member("mallory").await;
    alpha
        .post("/api/v1/groups/support/join", Some(&token), json!({}))
        .await;
    let (status, body) = alpha
        .post(
            "/api/v1/groups/support/posts",
            Some(&token),
            json!({"kind": "question", "title": "<script>alert(1)</script>",
                   "body": "<img src=x onerror=alert(2)> [x](javascript:alert(3))"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["post"]["id"].as_i64().unwrap();

    // A form posted without the CSRF token (another site's form) changes nothing.
    let forged = alpha
        .http
        .post(alpha.url("/signup"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=intruder&password=correct+horse+battery")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let (status, _) = alpha
        .post(
            "/api/v1/account/login",
            None,
            json!({"username": "intruder", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 401, "no account was made");

    // With a real session and its CSRF cookie, a wrong or missing token is refused all the
    // same, and nothing is written; the right one goes through.
    let cookie_of = |reply: &reqwest::Response, name: &str| -> String {
        reply
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix(&format!("{name}=")))
            .and_then(|c| c.split(';').next())
            .unwrap_or_else(|| panic!("no {name} cookie"))
            .to_owned()
    };
    // A client that shows redirects instead of following them (the session comes with one).
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve("alpha.test", "127.0.0.1:0".parse().unwrap())
        .build()
        .unwrap();
    let form_post = |path: String, cookies: String, body: String| {
        http.post(alpha.url(&path))
            .header("cookie", cookies)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let first = http.get(alpha.url("/signin")).send().await.unwrap();
    let csrf = cookie_of(&first, "cenacle_csrf");
    let signed = form_post(
        "/signin".into(),
        format!("cenacle_csrf={csrf}"),
        format!("csrf={csrf}&username=mallory&password=correct+horse+battery&next=%2F"),
    )
    .await
    .unwrap();
    assert_eq!(signed.status(), 303);
    let session = cookie_of(&signed, "cenacle_session");
    let csrf = cookie_of(&signed, "cenacle_csrf");
    let cookies = format!("cenacle_session={session}; cenacle_csrf={csrf}");
    for body in ["csrf=wrong&body=Forged+answer", "body=Forged+answer"] {
        let refused = form_post(format!("/posts/{id}/answers"), cookies.clone(), body.into())
            .await
            .unwrap();
        assert_eq!(refused.status(), 403, "{body}");
    }
    let (_, post) = alpha.get(&format!("/api/v1/posts/{id}"), None).await;
    assert_eq!(post["comments"], json!([]), "nothing was written");
    let accepted = form_post(
        format!("/posts/{id}/answers"),
        cookies.clone(),
        format!("csrf={csrf}&body=Real+answer"),
    )
    .await
    .unwrap();
    assert_eq!(accepted.status(), 303);
    let (_, post) = alpha.get(&format!("/api/v1/posts/{id}"), None).await;
    assert_eq!(post["comments"][0]["body"], "Real answer");
    // A value no page offers (a vote of "maybe") is a bad request, said so in a page that
    // keeps the member signed in; nothing changes.
    let odd = form_post(
        format!("/posts/{id}/vote"),
        cookies.clone(),
        format!("csrf={csrf}&vote=maybe"),
    )
    .await
    .unwrap();
    assert_eq!(odd.status(), 400);
    let page = odd.text().await.unwrap();
    assert!(
        page.contains("go back and try again") && page.contains("mallory"),
        "{page}"
    );
    let (_, post) = alpha.get(&format!("/api/v1/posts/{id}"), None).await;
    assert_eq!(post["post"]["score"], 0, "{post}");

    let b = Browser::start("en").await;
    b.goto(&alpha.url(&format!("/posts/{id}"))).await;
    assert_eq!(b.text("h1").await, "<script>alert(1)</script>");
    let html = b.source().await;
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<img src=\"x\""), "{html}");
    assert!(!html.to_lowercase().contains("javascript:alert"), "{html}");
    assert!(
        b.client.get_alert_text().await.is_err(),
        "no script of the member ran"
    );

    // A session that ends while the page is open (here: every session of the member revoked
    // from elsewhere): the composer sends to sign-in, then back to the composer.
    b.sign_in(&alpha, "mallory").await;
    let (status, body) = alpha
        .post("/api/v1/account/logout-all", Some(&token), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    b.goto(&alpha.url("/groups/support/ask")).await;
    b.wait_path("the sign-in page", |p| p.starts_with("/signin?next="))
        .await;
    b.find(".notice").await;
    b.fill("#username", "mallory").await;
    b.fill("#password", PASSWORD).await;
    b.click("form.stack button[type=submit]").await;
    b.wait_path("the composer again", |p| p == "/groups/support/ask")
        .await;
    // An invalid form comes back with the error and what was written.
    b.fill("#title", " ").await;
    b.fill("#body", "what I wrote").await;
    b.click("form.stack button[type=submit]").await;
    // The error stands right after the field it is about, and says what is wrong.
    assert_eq!(
        b.text("#title + p#form-error").await,
        "This field cannot be empty."
    );
    b.key_page("composer-error-en").await;
    assert_eq!(
        b.find("#body")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("what I wrote")
    );
    // An unknown page keeps the signed-in member's menu (signing out still works from it).
    b.goto(&alpha.url("/nowhere")).await;
    b.wait_text("main h1", "Page not found").await;
    assert_eq!(b.text(".me").await, "mallory");
    b.close().await;

    // An unknown page, asked by a browser: an HTML page, not the API's JSON.
    let page = alpha
        .http
        .get(alpha.url("/nowhere"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    assert!(page.text().await.unwrap().contains("Page not found"));
}

/// A group's page lists everything, or one kind of post: its notes in one list, say — the
/// kind kept when the sort changes, and said in French too.
#[tokio::test]
async fn a_group_page_lists_one_kind_of_post_at_a_time() {
    let (_hosts, alpha) = instance_with_group().await;
    let admin = alpha.login("admin").await;
    for (kind, title) in [
        ("question", "How do I reset the router?"),
        ("idea", "A router with two antennas"),
        ("note", "Opening hours over the holidays"),
        ("note", "The new firmware is out"),
    ] {
        let (status, body) = alpha
            .post(
                "/api/v1/groups/support/posts",
                Some(&admin),
                json!({"kind": kind, "title": title}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let b = Browser::start("en").await;
    b.goto(&alpha.url("/groups/support")).await;
    b.wait_count("ol.posts li", 4).await;
    b.click("nav.kinds a[href='?sort=new&kind=note']").await;
    b.wait_count("ol.posts li", 2).await;
    let listed = b.text("ol.posts").await;
    assert!(
        listed.contains("Opening hours") && listed.contains("firmware"),
        "{listed}"
    );
    assert_eq!(
        b.text("nav.kinds a[aria-current=page]").await.trim(),
        "Notes"
    );
    b.key_page("group-notes-en").await;
    // Another sort keeps the kind.
    b.click("nav.sorts a[href='?sort=top&kind=note']").await;
    b.find("nav.kinds a[href='?sort=top&kind=note'][aria-current=page]")
        .await;
    b.wait_count("ol.posts li", 2).await;
    // Everything again.
    b.click("nav.kinds a[href='?sort=top']").await;
    b.wait_count("ol.posts li", 4).await;

    let fr = Browser::start("fr").await;
    fr.goto(&alpha.url("/groups/support?kind=idea")).await;
    fr.wait_count("ol.posts li", 1).await;
    assert_eq!(
        fr.text("nav.kinds a[aria-current=page]").await.trim(),
        "Les idées"
    );
}

#[tokio::test]
async fn a_moderator_moves_an_idea_along_the_board() {
    let (_hosts, alpha) = instance_with_group().await;
    let carol = alpha.member("carol").await;
    alpha
        .post("/api/v1/groups/support/join", Some(&carol), json!({}))
        .await;
    let (status, body) = alpha
        .post(
            "/api/v1/groups/support/posts",
            Some(&carol),
            json!({"kind": "idea", "title": "Dark mode for the app"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let idea = format!("/posts/{}", body["post"]["id"]);

    let b = Browser::start("en").await;
    // A member sees the status but cannot change it.
    b.sign_in(&alpha, "carol").await;
    b.goto(&alpha.url(&idea)).await;
    assert_eq!(b.text("#idea-status").await, "Submitted");
    assert!(
        !b.source().await.contains("/status\""),
        "no status form for a member"
    );
    sign_out(&b).await;

    // The admin (who moderates every group) moves it to planned, in progress, then done.
    b.sign_in(&alpha, "admin").await;
    for (to, label, comment) in [
        ("planned", "Planned", "For the spring release"),
        ("in_progress", "In progress", ""),
        ("done", "Done", "Shipped in 2.4"),
    ] {
        b.goto(&alpha.url(&idea)).await;
        b.find(&format!("#to option[value='{to}']"))
            .await
            .click()
            .await
            .unwrap();
        b.fill("#status-comment", comment).await;
        b.click("form[action$='/status'] button").await;
        b.wait_text("#idea-status", label).await;
    }
    assert_eq!(b.text("#idea-status").await, "Done");
    let history = b.text(".history").await;
    assert!(
        history.contains("Submitted → Planned — For the spring release"),
        "{history}"
    );
    assert!(history.contains("In progress → Done"), "{history}");

    b.goto(&alpha.url("/groups/support/ideas")).await;
    assert!(b
        .text("#col-done + ol")
        .await
        .contains("Dark mode for the app"));
    assert!(!b.text("#col-submitted + ol").await.contains("Dark mode"));
    b.key_page("idea-board-en").await;

    // Removed by a moderator, the idea keeps its status: no form offers what the server
    // refuses (403 `post_removed`).
    let (status, body) = alpha
        .post(
            &format!("/api/v1{idea}/removal"),
            Some(&alpha.login("admin").await),
            json!({"reason": "duplicate"}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    b.goto(&alpha.url(&idea)).await;
    assert_eq!(b.text("#idea-status").await, "Done");
    assert!(
        !b.source().await.contains("/status\""),
        "no status form for a removed idea"
    );
    b.close().await;
}

#[tokio::test]
async fn a_member_follows_a_group_of_another_server_by_its_handle() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    hosts.add("beta");
    let mut alpha = Instance::new("alpha", &hosts);
    let mut beta = Instance::new("beta", &hosts);
    alpha.start();
    beta.start();
    let admin = alpha.admin().await;
    let (status, body) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "support", "title": "Support", "description": "Ask anything"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let b = Browser::start("en").await;
    b.sign_up(&beta, "bob").await;
    b.goto(&beta.url("/groups")).await;
    // A handle that leads nowhere: the same page, the error, what was typed kept.
    b.fill("#target", "!nothing@alpha.test").await;
    b.click("form[action='/groups/follow'] button").await;
    b.find("#form-error").await;
    assert_eq!(
        b.find("#target")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("!nothing@alpha.test")
    );
    b.fill("#target", &format!("!support@{}", alpha.host)).await;
    b.click("form[action='/groups/follow'] button").await;
    let page = b
        .wait_path("the followed group's page", |p| {
            p.starts_with("/groups/support@")
        })
        .await;
    assert_eq!(page, format!("/groups/support@{}", alpha.host));
    assert_eq!(b.text("h1").await, "Support");
    b.key_page("remote-group-en").await;
    b.close().await;
}

#[tokio::test]
async fn a_private_group_shows_its_card_only_until_a_moderator_lets_one_in() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    let (status, body) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "coffre", "title": "Coffre", "description": "Staff only",
                   "visibility": "private"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = alpha
        .post(
            "/api/v1/groups/coffre/posts",
            Some(&admin),
            json!({"kind": "question", "title": "Launch date zq7secret"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let post = format!("/posts/{}", body["post"]["id"]);

    let b = Browser::start("en").await;
    b.sign_up(&alpha, "dave").await;
    for page in ["/groups/coffre", "/groups/coffre/ideas", "/", "/all", &post] {
        b.goto(&alpha.url(page)).await;
        b.find("h1").await;
        assert!(!b.source().await.contains("zq7secret"), "{page} leaks");
    }
    b.goto(&alpha.url("/groups/coffre")).await;
    assert_eq!(b.text("h1").await, "Coffre", "the card is shown");
    b.key_page("private-group-card-en").await;
    b.click("form[action='/groups/coffre/join'] button").await;
    b.find(".notice").await;

    // Dave cannot see the requests; the admin, a moderator of the group, approves his.
    b.goto(&alpha.url("/groups/coffre/requests")).await;
    assert_eq!(b.text("h1").await, "Page not found", "not for Dave");
    assert!(!b.source().await.contains("request-"), "not for Dave");
    sign_out(&b).await;
    b.sign_in(&alpha, "admin").await;
    b.goto(&alpha.url("/groups/coffre")).await;
    b.click("a[href='/groups/coffre/requests']").await;
    b.find(".requests li a[href='/people/dave']").await;
    b.key_page("join-requests-en").await;
    b.click(".requests li button[value=approve]").await;
    b.find(".empty").await;
    sign_out(&b).await;
    b.sign_in(&alpha, "dave").await;
    b.goto(&alpha.url("/groups/coffre")).await;
    assert_eq!(
        b.text(".posts li a[href^='/posts/']").await,
        "Launch date zq7secret"
    );
    b.close().await;
}

#[tokio::test]
async fn a_moderator_removes_an_answer_and_restores_it() {
    let (_hosts, alpha) = instance_with_group().await;
    let alice = alpha.member("alice").await;
    let bob = alpha.member("bob").await;
    for token in [&alice, &bob] {
        alpha
            .post("/api/v1/groups/support/join", Some(token), json!({}))
            .await;
    }
    let (_, body) = alpha
        .post(
            "/api/v1/groups/support/posts",
            Some(&alice),
            json!({"kind": "question", "title": "Which cable?"}),
        )
        .await;
    let id = body["post"]["id"].as_i64().unwrap();
    let (status, body) = alpha
        .post(
            &format!("/api/v1/posts/{id}/comments"),
            Some(&bob),
            json!({"body": "Buy my cables at spam.example"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let answers_seen_by_all = || async {
        let (_, post) = alpha.get(&format!("/api/v1/posts/{id}"), None).await;
        post["comments"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(answers_seen_by_all().await, 1);

    let b = Browser::start("en").await;
    b.sign_in(&alpha, "admin").await;
    b.goto(&alpha.url(&format!("/posts/{id}"))).await;
    b.fill(".answer .removal input[name=reason]", "Advertising")
        .await;
    b.click(".answer .removal button").await;
    b.wait_text(
        ".answer .marker.removed",
        "Removed by a moderator: Advertising",
    )
    .await;
    b.key_page("removed-answer-en").await;
    assert_eq!(answers_seen_by_all().await, 0, "hidden from everyone else");
    let (_, log) = alpha
        .get("/api/v1/groups/support/moderation-log", None)
        .await;
    assert_eq!(log["items"][0]["action"], "remove_comment", "{log}");
    assert_eq!(log["items"][0]["reason"], "Advertising");

    b.click(".answer form[action$='/restore'] button").await;
    b.find(".answer .removal").await;
    assert!(!b.source().await.contains("Removed by a moderator"));
    assert_eq!(answers_seen_by_all().await, 1, "back for everyone");
    b.close().await;
}

#[tokio::test]
async fn votes_change_in_place_and_a_bounty_is_offered_and_awarded_from_the_page() {
    let (_hosts, alpha) = instance_with_group().await;
    let admin = alpha.login("admin").await;
    let bob = alpha.member("bob").await;
    let carol = alpha.member("carol").await;
    for token in [&bob, &carol] {
        alpha
            .post("/api/v1/groups/support/join", Some(token), json!({}))
            .await;
    }
    let (status, body) = alpha
        .post(
            "/api/v1/groups/support/posts",
            Some(&bob),
            json!({"kind": "question", "title": "Wi-Fi drops at night", "body": "Every night."}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let question = body["post"]["id"].as_i64().unwrap();
    let (status, body) = alpha
        .post(
            &format!("/api/v1/posts/{question}/comments"),
            Some(&carol),
            json!({"body": "Turn off the night mode."}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let answer = body["id"].as_i64().unwrap();
    let likes = |path: String| {
        let alpha = &alpha;
        async move { alpha.get(&path, None).await.1 }
    };

    // Carol likes the question: the score changes in place (the page is not reloaded: a mark
    // left on it survives), the button shows pressed; pressing again withdraws the like.
    let b = Browser::start("en").await;
    b.sign_in(&alpha, "carol").await;
    b.goto(&alpha.url(&format!("/posts/{question}"))).await;
    b.js_value("window.notReloaded = true; return true").await;
    let like = "article form[data-vote] button[value=like]";
    b.click(like).await;
    b.wait_text("article form[data-vote] .score", "1").await;
    assert_eq!(
        b.find(like)
            .await
            .attr("aria-pressed")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    assert_eq!(
        b.js_value("return window.notReloaded === true").await,
        json!(true),
        "the page was not reloaded"
    );
    let detail = likes(format!("/api/v1/posts/{question}")).await;
    assert_eq!(detail["post"]["likes"], 1, "{detail}");
    b.click(like).await;
    b.wait_text("article form[data-vote] .score", "0").await;
    let detail = likes(format!("/api/v1/posts/{question}")).await;
    assert_eq!(detail["post"]["likes"], 0, "withdrawn: {detail}");
    // The same press sent twice (a double click, a resend after a lost answer) is applied
    // once: the second copy finds the vote changed since the page showed it.
    let mine = b
        .js_async(
            "const f = document.querySelector('article form[data-vote]');\n\
             const send = () => { const body = new URLSearchParams(new FormData(f)); body.set('vote', 'like');\n\
               return fetch(f.action, { method: 'POST', body, headers: { Accept: 'application/json' } }).then(r => r.json()); };\n\
             send().then(a => send().then(b => done([a.mine, b.mine])));",
        )
        .await;
    assert_eq!(
        mine,
        json!(["like", "like"]),
        "the second copy changed nothing"
    );
    let detail = likes(format!("/api/v1/posts/{question}")).await;
    assert_eq!(detail["post"]["likes"], 1, "liked once: {detail}");
    b.goto(&alpha.url(&format!("/posts/{question}"))).await;
    b.wait_text("article form[data-vote] .score", "1").await;
    b.click(like).await;
    b.wait_text("article form[data-vote] .score", "0").await;
    b.key_page("votes-en").await;
    sign_out(&b).await;

    // The admin (exempt from the reputation gate) offers 50 of her points; they are held at
    // once, and she awards them to Carol's answer.
    let (status, body) = alpha
        .post(
            "/api/v1/admin/points",
            Some(&admin),
            json!({"handle": "admin", "delta": 120, "reason": "test budget"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    b.sign_in(&alpha, "admin").await;
    b.goto(&alpha.url(&format!("/posts/{question}"))).await;
    let points = |token: String| {
        let alpha = &alpha;
        async move { alpha.get("/api/v1/account/points", Some(&token)).await.1 }
    };
    // (Read after her visit today, whose point is paid once a day.)
    let admin_before = points(admin.clone()).await["balance"].as_i64().unwrap();
    // More than she has: the page again, the reason beside the form, the figure kept,
    // nothing held.
    b.fill("#bounty-amount", "5000").await;
    b.click("#bounty form button[type=submit]").await;
    b.find("#bounty-error").await;
    assert_eq!(
        b.find("#bounty-amount")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("5000")
    );
    assert_eq!(
        points(admin.clone()).await["balance"].as_i64().unwrap(),
        admin_before,
        "nothing held"
    );
    b.fill("#bounty-amount", "50").await;
    b.fill("#bounty-days", "3").await;
    b.click("#bounty form button[type=submit]").await;
    b.wait_text(".bounty-amount", "50 points").await;
    let admin_after = points(admin.clone()).await["balance"].as_i64().unwrap();
    assert_eq!(
        admin_before - admin_after,
        50,
        "the points are held at once"
    );
    b.key_page("bounty-en").await;
    let carol_before = points(carol.clone()).await["balance"].as_i64().unwrap();
    b.click(&format!(
        "#answer-{answer} form[action$='/bounty/award'] button"
    ))
    .await;
    b.find(".bounty-status[data-status=awarded]").await;
    let carol_after = points(carol.clone()).await["balance"].as_i64().unwrap();
    assert_eq!(carol_after - carol_before, 50, "the bounty paid the answer");
    b.close().await;

    // Carol is told, with the points, and led to her answer.
    let c = Browser::start("en").await;
    c.sign_in(&alpha, "carol").await;
    c.goto(&alpha.url("/notifications")).await;
    let told = c.text(".notifications li:first-child").await;
    assert!(
        told.starts_with("admin awarded you their bounty (50 points) on Wi-Fi drops at night"),
        "{told}"
    );
    c.find(&format!(
        ".notifications li:first-child a[href='/posts/{question}#answer-{answer}']"
    ))
    .await;
    c.close().await;
}

#[tokio::test]
async fn an_admin_changes_a_role_and_blocks_and_weighs_an_instance_from_the_pages() {
    let (_hosts, alpha) = instance_with_group().await;
    alpha.member("bob").await;
    let b = Browser::start("en").await;

    // A member has no administration menu, and the pages refuse him.
    b.sign_in(&alpha, "bob").await;
    assert!(!b.source().await.contains("href=\"/admin/accounts\""));
    b.goto(&alpha.url("/admin/accounts")).await;
    assert_eq!(
        b.find("main h1").await.text().await.unwrap(),
        "Something went wrong"
    );
    sign_out(&b).await;

    // The admin makes Bob a moderator.
    b.sign_in(&alpha, "admin").await;
    b.click("header a[href='/admin/accounts']").await;
    b.find("#account-bob").await;
    b.key_page("admin-accounts-en").await;
    let role = b.find("#role-bob").await;
    role.select_by_value("moderator").await.unwrap();
    b.click_and_wait_reload("#account-bob form[action$='/role'] button")
        .await;
    b.wait_path("the accounts again", |p| p.starts_with("/admin/accounts"))
        .await;
    let (_, me) = alpha
        .get("/api/v1/account/me", Some(&alpha.login("bob").await))
        .await;
    assert_eq!(me["role"], "moderator", "{me}");

    // Makes an invitation, whose code lets someone sign up.
    b.click("form[action='/admin/invites'] button").await;
    let code = b.text("#invite-code").await;
    assert!(code.starts_with("inv_"), "{code}");
    let (status, body) = alpha
        .post(
            "/api/v1/account/register",
            None,
            json!({"username": "invited", "password": PASSWORD, "invite_code": code}),
        )
        .await;
    assert_eq!(status, 201, "the code works: {body}");

    // Blocks an instance by name, then weighs another's votes.
    b.goto(&alpha.url("/admin/instances")).await;
    b.fill("#block-host", "spam.test").await;
    b.click("form[action='/admin/instances'] button[type=submit]")
        .await;
    b.find("#instance-spam\\.test .state").await;
    b.fill("#weight-spam\\.test", "0.5").await;
    b.click_and_wait_reload("#instance-spam\\.test form input[value=weight] ~ button")
        .await;
    b.wait_path("the instances again", |p| p.starts_with("/admin/instances"))
        .await;
    assert_eq!(
        b.find("#weight-spam\\.test")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("0.5")
    );
    b.key_page("admin-instances-en").await;
    b.close().await;
}

#[tokio::test]
async fn a_member_redeems_rewards_in_the_shop_and_sees_her_orders_and_code() {
    let (_hosts, alpha) = instance_with_group().await;
    let admin = alpha.login("admin").await;
    alpha.member("bea").await;
    let reward = |body: serde_json::Value| {
        let (alpha, admin) = (&alpha, &admin);
        async move {
            let (status, body) = alpha.post("/api/v1/shop/rewards", Some(admin), body).await;
            assert_eq!(status, 201, "{body}");
            body["id"].as_i64().unwrap()
        }
    };
    let mug = reward(
        json!({"name_en": "Brand mug", "name_fr": "Mug de la marque",
        "description_en": "A mug.", "description_fr": "Un mug.", "kind": "physical",
        "price": 40, "stock": 5}),
    )
    .await;
    let ebook = reward(
        json!({"name_en": "Router e-book", "name_fr": "Livre numérique",
        "description_en": "The guide.", "description_fr": "Le guide.", "kind": "digital",
        "price": 30}),
    )
    .await;
    let (status, body) = alpha
        .post(
            &format!("/api/v1/shop/rewards/{ebook}/codes"),
            Some(&admin),
            json!({"codes": ["BOOK-123"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = alpha
        .post(
            "/api/v1/admin/points",
            Some(&admin),
            json!({"handle": "bea", "delta": 80, "reason": "welcome gift"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let b = Browser::start("en").await;
    b.sign_in(&alpha, "bea").await;
    b.click("header a[href='/shop']").await;
    b.find(&format!("#reward-{mug}")).await;
    let before = b.text("#balance").await;
    b.key_page("shop-en").await;
    // The mug, delivered to her address.
    b.fill(&format!("#address-{mug}"), "1 rue de la Paix, Paris")
        .await;
    b.click(&format!("#reward-{mug} form button")).await;
    b.wait_path("her orders", |p| p.starts_with("/shop/orders"))
        .await;
    assert!(b.text(".orders").await.contains("Brand mug"));
    assert!(b.text(".order-status").await.contains("requested"));
    // The e-book: its code at once.
    b.goto(&alpha.url("/shop")).await;
    b.click(&format!("#reward-{ebook} form button")).await;
    b.wait_path("her orders", |p| p.starts_with("/shop/orders"))
        .await;
    assert_eq!(b.text(".orders .code").await, "BOOK-123");
    b.key_page("shop-orders-en").await;
    // A second mug is more than what is left of her points: refused beside it, the address
    // kept, nothing taken.
    b.goto(&alpha.url("/shop")).await;
    let after_two = b.text("#balance").await;
    assert_ne!(before, after_two);
    b.fill(&format!("#address-{mug}"), "2 rue de Rivoli").await;
    b.click(&format!("#reward-{mug} form button")).await;
    b.find(&format!("#refused-{mug}")).await;
    assert_eq!(
        b.find(&format!("#address-{mug}"))
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("2 rue de Rivoli")
    );
    assert_eq!(b.text("#balance").await, after_two, "nothing taken");
    let (_, orders) = alpha
        .get("/api/v1/shop/orders", Some(&alpha.login("bea").await))
        .await;
    assert_eq!(orders.as_array().map(Vec::len), Some(2), "{orders}");
    b.close().await;
}

#[tokio::test]
async fn a_member_reports_an_answer_and_a_moderator_resolves_it_with_a_ban() {
    let (_hosts, alpha) = instance_with_group().await;
    let alice = alpha.member("alice").await;
    let bob = alpha.member("bob").await;
    for token in [&alice, &bob] {
        alpha
            .post("/api/v1/groups/support/join", Some(token), json!({}))
            .await;
    }
    let (_, body) = alpha
        .post(
            "/api/v1/groups/support/posts",
            Some(&alice),
            json!({"kind": "question", "title": "Which charger?"}),
        )
        .await;
    let id = body["post"]["id"].as_i64().unwrap();
    let (status, body) = alpha
        .post(
            &format!("/api/v1/posts/{id}/comments"),
            Some(&bob),
            json!({"body": "Cheap chargers at spam.example"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let answer = body["id"].as_i64().expect("the answer's id");

    // Alice reports the answer from the question page, in her words.
    let b = Browser::start("en").await;
    b.sign_in(&alpha, "alice").await;
    b.goto(&alpha.url(&format!("/posts/{id}"))).await;
    b.click(&format!("#answer-{answer} a[href^='/report']"))
        .await;
    b.find("input[name=reason][value=spam]").await;
    b.key_page("report-form-en").await;
    // A reason is required: the browser keeps the form until one is chosen; the server
    // refuses a forged one and keeps what she typed.
    b.fill("#report-text", "<b>sells</b> chargers").await;
    b.js_value("document.querySelectorAll('input[name=reason]').forEach(r => r.required = false); return null").await;
    b.click("form.stack button[type=submit]").await;
    b.find("#form-error").await;
    assert_eq!(
        b.js_value("return document.querySelector('#report-text').value")
            .await,
        "<b>sells</b> chargers"
    );
    b.click("input[name=reason][value=spam]").await;
    b.click("form.stack button[type=submit]").await;
    b.wait_path("her reports", |p| p == "/reports/mine").await;
    assert_eq!(b.text(".report-status").await, "open");
    let (_, mine) = alpha.get("/api/v1/reports/mine", Some(&alice)).await;
    assert_eq!(mine["items"].as_array().map_or(0, Vec::len), 1, "{mine}");
    assert_eq!(mine["items"][0]["reason"], "spam", "{mine}");
    sign_out(&b).await;

    // The group's moderator finds it in the group's queue, markup shown as text, and
    // resolves it with a note and a ban.
    b.sign_in(&alpha, "admin").await;
    b.goto(&alpha.url("/groups/support")).await;
    b.click("a[href='/groups/support/reports']").await;
    b.find(&format!(
        "form[action='/reports/{}/close']",
        mine["items"][0]["id"]
    ))
    .await;
    assert!(
        b.source().await.contains("&lt;b&gt;sells&lt;/b&gt;"),
        "the reporter's words as text"
    );
    b.key_page("reports-queue-en").await;
    b.fill(
        ".reports input[name=note]",
        "Advertising removed, seller banned",
    )
    .await;
    b.click(".reports input[name=ban]").await;
    b.click(".reports button[value=resolve]").await;
    b.wait_text(".empty", "No report.").await;
    b.goto(&alpha.url("/groups/support/reports?status=resolved"))
        .await;
    assert_eq!(
        b.text(".report-note").await,
        "Advertising removed, seller banned"
    );
    let admin = alpha.login("admin").await;
    let (_, bans) = alpha.get("/api/v1/groups/support/bans", Some(&admin)).await;
    assert!(
        bans.to_string().contains("bob"),
        "bob banned from the group: {bans}"
    );
    let (status, _) = alpha
        .post(
            &format!("/api/v1/posts/{id}/comments"),
            Some(&bob),
            json!({"body": "Still here"}),
        )
        .await;
    assert_eq!(status, 403, "a banned member cannot answer");
    sign_out(&b).await;

    // Alice sees the outcome, in French once she switches.
    b.sign_in(&alpha, "alice").await;
    b.goto(&alpha.url("/reports/mine")).await;
    assert_eq!(b.text(".report-status").await, "resolved");
    assert_eq!(
        b.text(".report-note").await,
        "Advertising removed, seller banned"
    );
    b.click("a[hreflang=fr]").await;
    b.wait_text(".report-status", "traité").await;
    b.key_page("my-reports-fr").await;

    // Nobody else may open the group's queue.
    b.goto(&alpha.url("/groups/support/reports?status=resolved"))
        .await;
    // (The resolved tab, where the report and its note would show.)
    assert_eq!(b.text("main h1").await, "Une erreur est survenue");
    let page = b.source().await;
    assert!(!page.contains("seller banned"), "not her queue: {page}");
    b.close().await;
}

#[tokio::test]
async fn a_moderator_holds_newcomers_posts_and_approves_or_rejects_them_from_the_queue() {
    let (_hosts, alpha) = instance_with_group().await;
    let alice = alpha.member("alice").await;
    alpha
        .post("/api/v1/groups/support/join", Some(&alice), json!({}))
        .await;

    // The moderator holds every member's first two posts.
    let b = Browser::start("en").await;
    b.sign_in(&alpha, "admin").await;
    b.goto(&alpha.url("/groups/support")).await;
    b.click("a[href='/groups/support/pending']").await;
    b.find(".empty").await;
    b.click("input[name=enabled]").await;
    b.fill("#first-posts", "2").await;
    b.click_and_wait_reload("form[action$='/pending/settings'] button")
        .await;
    b.wait_path("the queue again", |p| p == "/groups/support/pending")
        .await;
    assert_eq!(
        b.js_value("return document.querySelector('#first-posts').value")
            .await,
        "2"
    );

    let mut ids = vec![];
    for title in ["My first question", "My first question, again"] {
        let (status, body) = alpha
            .post(
                "/api/v1/groups/support/posts",
                Some(&alice),
                json!({"kind": "question", "title": title}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["post"]["id"].as_i64().unwrap());
    }
    let public = |id: i64| {
        let alpha = &alpha;
        async move { alpha.get(&format!("/api/v1/posts/{id}"), None).await.0 }
    };
    assert_eq!(public(ids[0]).await, 404, "held: nobody else sees it");

    // Both wait in the queue; the first is approved, the second rejected with a reason.
    b.goto(&alpha.url("/groups/support/pending")).await;
    b.wait_count(".reports > li", 2).await;
    b.key_page("approval-queue-en").await;
    b.click(&format!("#pending-{} button[value=approve]", ids[0]))
        .await;
    b.wait_count(".reports > li", 1).await;
    b.fill(&format!("#reason-{}", ids[1]), "Asked twice").await;
    b.click(&format!("#pending-{} button[value=reject]", ids[1]))
        .await;
    b.find(".empty").await;
    assert_eq!(public(ids[0]).await, 200, "approved: published");
    assert_eq!(public(ids[1]).await, 404, "rejected: never published");
    sign_out(&b).await;

    // Alice sees why her second post is not published.
    b.sign_in(&alpha, "alice").await;
    b.goto(&alpha.url(&format!("/posts/{}", ids[1]))).await;
    assert_eq!(
        b.text(".marker.pending").await,
        "Not published by the moderators: Asked twice"
    );
    b.close().await;
}

#[tokio::test]
async fn members_propose_a_group_back_it_and_it_opens_at_the_threshold() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.set_env("CENACLE_GROUPS__PROPOSAL_THRESHOLD", "2");
    alpha.start();
    alpha.admin().await;
    let alice = alpha.member("alice").await;

    // The community manager proposes (a newcomer lacks the reputation: refused beside the
    // form, what she typed kept).
    let b = Browser::start("en").await;
    b.sign_in(&alpha, "alice").await;
    b.goto(&alpha.url("/groups")).await;
    b.click("a[href='/proposals']").await;
    b.find(".empty").await;
    b.fill("#proposal-name", "cyclisme").await;
    b.fill("#proposal-title", "Cyclisme").await;
    b.click("form[action='/proposals'] button").await;
    b.find("#form-error").await;
    assert_eq!(
        b.js_value("return document.querySelector('#proposal-name').value")
            .await,
        "cyclisme"
    );
    sign_out(&b).await;
    b.sign_in(&alpha, "admin").await;
    b.goto(&alpha.url("/proposals")).await;
    b.fill("#proposal-name", "cyclisme").await;
    b.fill("#proposal-title", "Cyclisme").await;
    b.fill("#proposal-purpose", "Sorties du dimanche").await;
    b.click("form[action='/proposals'] button").await;
    b.wait_text(".backing", "1 backer / 2").await;
    b.key_page("proposals-en").await;
    sign_out(&b).await;

    // Alice backs it: the group opens, she is invited, its title links to it.
    b.sign_in(&alpha, "alice").await;
    b.goto(&alpha.url("/proposals")).await;
    b.click("form[action$='/back'] button").await;
    b.wait_text(".proposal-status", "open now").await;
    b.click("h2 a[href='/groups/cyclisme']").await;
    b.wait_text("main h1", "Cyclisme").await;
    let (status, group) = alpha.get("/api/v1/groups/cyclisme", Some(&alice)).await;
    assert_eq!(status, 200, "{group}");
    b.close().await;
}

#[tokio::test]
async fn a_community_manager_edits_restocks_and_writes_off_a_reward_and_sees_what_her_bids_hold() {
    let (_hosts, alpha) = instance_with_group().await;
    let admin = alpha.login("admin").await;
    let (status, body) = alpha
        .post(
            "/api/v1/shop/rewards",
            Some(&admin),
            json!({"name_en": "Brand mug", "name_fr": "Mug de la marque", "kind": "physical",
                   "price": 40, "stock": 2}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let mug = body["id"].as_i64().unwrap();
    // A digital reward, capped at ten sold: its units are its codes, none counted by hand; only
    // its cap is corrected.
    let (status, body) = alpha
        .post(
            "/api/v1/shop/rewards",
            Some(&admin),
            json!({"name_en": "Router e-book", "name_fr": "Livre numérique", "kind": "digital",
                   "price": 30, "stock": 10}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let ebook = body["id"].as_i64().unwrap();
    let (status, body) = alpha
        .post(
            "/api/v1/admin/points",
            Some(&admin),
            json!({"handle": "admin", "delta": 100, "reason": "test"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // A lot she bids on: its points held, no longer available.
    let (status, body) = alpha
        .post(
            "/api/v1/auctions",
            Some(&admin),
            json!({"reward_id": mug, "ends_at": chrono::Utc::now() + chrono::Duration::hours(1),
                   "starting_price": 37, "min_increment": 1}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let auction = body["id"].as_i64().unwrap();
    let (status, body) = alpha
        .post(
            &format!("/api/v1/auctions/{auction}/bids"),
            Some(&admin),
            json!({"amount": 37}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let b = Browser::start("en").await;
    b.sign_in(&alpha, "admin").await;
    b.goto(&alpha.url("/shop")).await;
    assert!(
        b.text("#held").await.contains("37"),
        "{}",
        b.text("#held").await
    );
    let balance: i64 = b
        .text("#balance")
        .await
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap();
    assert!(
        b.text("#available")
            .await
            .contains(&(balance - 37).to_string()),
        "{}",
        b.text("#available").await
    );
    // The e-book's adjustment offers a correction of its cap only (nothing of it is damaged,
    // lost, given away or received), and shows its history.
    b.find(&format!("#adjustments-title-{ebook}")).await;
    b.wait_count(&format!("#adjust-{ebook} select[name=reason] option"), 1)
        .await;
    b.find(&format!(
        "#adjust-{ebook} select[name=reason] option[value=correction]"
    ))
    .await;
    b.find(&format!("#adjust-{mug}")).await;
    // Edits the reward's name and price.
    b.click(&format!("#reward-{mug} details summary")).await;
    b.key_page("shop-manager-en").await;
    b.fill(&format!("#name-en-{mug}"), "Big brand mug").await;
    b.fill(&format!("#price-{mug}"), "55").await;
    b.click(&format!("form[action='/shop/rewards/{mug}/edit'] button"))
        .await;
    b.wait_text(&format!("#reward-{mug} h2"), "Big brand mug")
        .await;
    // Restocks it: the lot took one of the two, three more come in.
    b.click(&format!("#reward-{mug} details summary")).await;
    b.fill(&format!("#restock-{mug}"), "3").await;
    b.click(&format!(
        "form[action='/shop/rewards/{mug}/restock'] button"
    ))
    .await;
    b.wait_text(&format!("#reward-{mug} .stock"), "4 left")
        .await;
    // More than one restock takes (typed where the browser does not check the bounds):
    // refused under the field, on the shop page, with what she typed; nothing restocked.
    b.js_value(&format!(
        "document.getElementById('restock-{mug}').removeAttribute('max'); return null"
    ))
    .await;
    b.click(&format!("#reward-{mug} details summary")).await;
    b.fill(&format!("#restock-{mug}"), "2000000").await;
    b.click_and_wait_reload(&format!(
        "form[action='/shop/rewards/{mug}/restock'] button"
    ))
    .await;
    let why = b.text(&format!("#restock-{mug}-error")).await;
    assert!(!why.trim().is_empty(), "{}", b.source().await);
    assert_eq!(
        b.js_value(&format!(
            "return document.getElementById('restock-{mug}').value"
        ))
        .await,
        json!("2000000")
    );
    b.find(&format!("#restock-{mug}[aria-invalid=true]")).await;
    b.wait_text(&format!("#reward-{mug} .stock"), "4 left")
        .await;
    // Writes off more than the free units (the lot holds a fifth): refused under the field,
    // what she typed kept.
    b.click(&format!("#adjust-{mug} summary")).await;
    b.fill(&format!("#adjust-delta-{mug}"), "-5").await;
    b.find(&format!("#adjust-reason-{mug}"))
        .await
        .select_by_value("lost")
        .await
        .unwrap();
    b.fill(&format!("#adjust-note-{mug}"), "Lost in the move")
        .await;
    let adjust = format!("form[action='/shop/rewards/{mug}/stock-adjustments'] button");
    b.click_and_wait_reload(&adjust).await;
    assert!(
        b.text(&format!("#adjust-delta-{mug}-error"))
            .await
            .contains("promised to open orders or auction lots"),
        "{}",
        b.text(&format!("#adjust-delta-{mug}-error")).await
    );
    let typed = b
        .js_value(&format!(
            "return ['delta', 'reason', 'note'].map(f => \
             document.getElementById('adjust-' + f + '-{mug}').value)"
        ))
        .await;
    assert_eq!(typed, json!(["-5", "lost", "Lost in the move"]));
    b.key_page("shop-stock-adjustment-en").await;
    // Two broke in transit: written off, and listed with why and by whom.
    b.fill(&format!("#adjust-delta-{mug}"), "-2").await;
    b.find(&format!("#adjust-reason-{mug}"))
        .await
        .select_by_value("damaged")
        .await
        .unwrap();
    b.fill(&format!("#adjust-note-{mug}"), "Broken in transit")
        .await;
    b.click_and_wait_reload(&adjust).await;
    b.wait_text(&format!("#reward-{mug} .stock"), "2 left")
        .await;
    let latest = b.text(&format!("#adjustments-{mug} li:first-child")).await;
    for words in ["-2", "damaged", "Broken in transit", "admin"] {
        assert!(latest.contains(words), "{latest}");
    }
    assert!(
        b.text(&format!("#adjustments-{mug} li:nth-child(2)"))
            .await
            .contains("+3 · restocked"),
        "{}",
        b.text(&format!("#adjustments-{mug}")).await
    );
    let (_, reward) = alpha
        .get(&format!("/api/v1/shop/rewards/{mug}"), None)
        .await;
    assert_eq!(reward["price"], 55, "{reward}");
    assert_eq!(reward["stock"], 2, "{reward}");
    let (status, history) = alpha
        .get(
            &format!("/api/v1/shop/rewards/{mug}/stock-adjustments"),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["items"][0]["reason"], "damaged", "{history}");
    assert_eq!(history["items"].as_array().unwrap().len(), 2, "{history}");
    b.close().await;

    // A member sees the shop, the lot and the contests, and none of the managers' forms.
    alpha.member("bea").await;
    let m = Browser::start("en").await;
    m.sign_in(&alpha, "bea").await;
    m.goto(&alpha.url("/shop")).await;
    m.find(&format!("form[action='/shop/rewards/{mug}/redeem']"))
        .await;
    m.wait_count(
        "form[action$='/edit'], form[action$='/restock'], \
         form[action$='/stock-adjustments'], .stock-history",
        0,
    )
    .await;
    m.goto(&alpha.url(&format!("/auctions/{auction}"))).await;
    m.find(&format!("form[action='/auctions/{auction}/bid']"))
        .await;
    m.wait_count("form[action$='/cancel']", 0).await;
    m.goto(&alpha.url("/auctions")).await;
    m.find("main h1").await;
    m.wait_count("form[action='/auctions']", 0).await;
    m.goto(&alpha.url("/contests")).await;
    m.find("main h1").await;
    m.wait_count("form[action='/contests']", 0).await;
    m.close().await;
}

#[tokio::test]
async fn a_member_reads_her_notifications_marks_them_read_and_turns_a_kind_off() {
    let (_hosts, alpha) = instance_with_group().await;
    let alice = alpha.member("alice").await;
    let bob = alpha.member("bob").await;
    for token in [&alice, &bob] {
        alpha
            .post("/api/v1/groups/support/join", Some(token), json!({}))
            .await;
    }
    let (_, body) = alpha
        .post(
            "/api/v1/groups/support/posts",
            Some(&alice),
            json!({"kind": "question", "title": "Which cable?"}),
        )
        .await;
    let id = body["post"]["id"].as_i64().unwrap();
    let answer = async || {
        let (status, body) = alpha
            .post(
                &format!("/api/v1/posts/{id}/comments"),
                Some(&bob),
                json!({"body": "The blue one"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    };
    answer().await;

    let b = Browser::start("en").await;
    b.sign_in(&alpha, "alice").await;
    // Her first-question badge and Bob's answer.
    b.wait_text("#unread-count", "2").await;
    b.click("#nav-notifications").await;
    b.wait_path("the notifications", |p| p == "/notifications")
        .await;
    let reply = b.text(".notifications li:first-child").await;
    assert!(reply.starts_with("bob replied to Which cable?"), "{reply}");
    b.key_page("notifications-en").await;
    b.click(".notifications li:first-child form button").await;
    b.wait_text("#unread-count", "1").await;
    b.click("#mark-all-read").await;
    b.wait_count("#unread-count", 0).await;
    b.wait_count(".notifications li.is-unread", 0).await;

    // Replies turned off on the account's notification settings: Bob's next answer tells
    // her nothing.
    b.click("a[href='/account']").await;
    b.click("a[href='/account/notifications']").await;
    b.js_value("document.querySelector('#pref-reply').value = 'off'")
        .await;
    b.key_page("account-en").await;
    // A zone PostgreSQL does not know (a forged option: the list offers only real ones) is
    // refused under its field, the form kept as typed, nothing saved.
    b.js_value(
        "const s = document.querySelector('#time-zone'); \
         s.add(new Option('Atlantis', 'Europe/Atlantis')); s.value = 'Europe/Atlantis'",
    )
    .await;
    b.click_and_wait_reload("#save-preferences").await;
    b.find("#time-zone[aria-invalid=true][aria-describedby=time-zone-error]")
        .await;
    let why = b.text("#time-zone-error").await;
    assert!(why.contains("Unknown time zone"), "{why}");
    let violations = b.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "the refused form: {violations:#?}");
    assert_eq!(
        b.js_value("return document.querySelector('#time-zone').value")
            .await,
        "Europe/Atlantis"
    );
    assert_eq!(
        b.js_value("return document.querySelector('#pref-reply').value")
            .await,
        "off",
        "kept as typed"
    );
    let (_, prefs) = alpha
        .get("/api/v1/notifications/preferences", Some(&alice))
        .await;
    assert_ne!(
        prefs["preferences"]["reply"], "off",
        "nothing saved: {prefs}"
    );
    // Her time zone, which her digests go by, summer time included.
    b.js_value("document.querySelector('#time-zone').value = 'Europe/Paris'")
        .await;
    b.click("#save-preferences").await;
    b.wait_path("the saved preferences", |p| {
        p == "/account/notifications?saved=1"
    })
    .await;
    assert_eq!(
        b.js_value("return document.querySelector('#pref-reply').value")
            .await,
        "off"
    );
    assert_eq!(
        b.js_value("return document.querySelector('#time-zone').value")
            .await,
        "Europe/Paris"
    );
    let (_, prefs) = alpha
        .get("/api/v1/notifications/preferences", Some(&alice))
        .await;
    assert_eq!(prefs["time_zone"], "Europe/Paris", "{prefs}");
    answer().await;
    let (_, count) = alpha
        .get("/api/v1/notifications/unread-count", Some(&alice))
        .await;
    assert_eq!(count["unread"], 0, "replies are off");

    // She reports Bob himself; the admin acts on it: the notice names him, linking his profile.
    let (status, filed) = alpha
        .post(
            "/api/v1/reports",
            Some(&alice),
            json!({"person": "bob", "reason": "spam", "text": "He sells cables"}),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    let admin = alpha.login("admin").await;
    let (status, closed) = alpha
        .post(
            &format!("/api/v1/reports/{}/resolve", filed["id"]),
            Some(&admin),
            json!({"note": "Warned"}),
        )
        .await;
    assert_eq!(status, 200, "{closed}");
    b.goto(&alpha.url("/notifications")).await;
    let outcome = b.text(".notifications li:first-child").await;
    assert!(
        outcome.starts_with("admin acted on your report about bob"),
        "{outcome}"
    );
    b.find(".notifications li:first-child a[href='/people/bob']")
        .await;

    // Her question removed by a moderator: Bob's reply, told before, no longer quotes its
    // title nor links it; the notice of the removal itself, written with it, still does.
    let (_, told) = alpha.get("/api/v1/notifications", Some(&alice)).await;
    let reply_id = told["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "reply")
        .unwrap_or_else(|| panic!("no reply: {told}"))["id"]
        .clone();
    let (status, removed) = alpha
        .post(
            &format!("/api/v1/posts/{id}/removal"),
            Some(&admin),
            json!({"reason": "off topic"}),
        )
        .await;
    assert_eq!(status, 204, "{removed}");
    b.goto(&alpha.url("/notifications")).await;
    let notice = b.text(".notifications li:first-child").await;
    assert!(
        notice.starts_with("admin removed your contribution to Which cable?"),
        "{notice}"
    );
    b.find(&format!(
        ".notifications li:first-child a[href='/posts/{id}']"
    ))
    .await;
    let reply = b.text(&format!("#notification-{reply_id}")).await;
    assert!(
        reply.starts_with("bob replied to a post or reply since removed"),
        "{reply}"
    );
    b.wait_count(&format!("#notification-{reply_id} a[href^='/posts/']"), 0)
        .await;

    b.close().await;
}

/// The number of points a text of the page says.
async fn points_in(b: &Browser, css: &str) -> i64 {
    let text = b.text(css).await;
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("{css}: {text:?}"))
}

/// Sets a `datetime-local` field (typing into one depends on the browser's locale).
async fn set_time(b: &Browser, css: &str, at: chrono::DateTime<chrono::Utc>) {
    let value = at.format("%Y-%m-%dT%H:%M").to_string();
    b.js_value(&format!(
        "document.querySelector({css:?}).value = {value:?}; return null"
    ))
    .await;
}

#[tokio::test]
async fn members_outbid_each_other_live_and_a_community_manager_runs_the_lot_from_the_pages() {
    let (_hosts, alpha) = instance_with_group().await;
    let admin = alpha.login("admin").await;
    let (status, body) = alpha
        .post(
            "/api/v1/shop/rewards",
            Some(&admin),
            json!({"name_en": "Meet-up seat", "name_fr": "Place au meet-up", "kind": "physical",
                   "price": 500, "stock": 1}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let seat = body["id"].as_i64().unwrap();
    for who in ["bea", "carl"] {
        alpha.member(who).await;
        let (status, body) = alpha
            .post(
                "/api/v1/admin/points",
                Some(&admin),
                json!({"handle": who, "delta": 100, "reason": "test"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    // The community manager puts the seat up; an end in the past comes back refused under
    // its field (marked for screen readers), the starting price she typed kept.
    let manager = Browser::start("en").await;
    manager.sign_in(&alpha, "admin").await;
    manager.goto(&alpha.url("/auctions")).await;
    assert_eq!(
        manager.find("#reward").await.prop("value").await.unwrap(),
        Some(seat.to_string())
    );
    set_time(
        &manager,
        "#ends-at",
        chrono::Utc::now() - chrono::Duration::hours(1),
    )
    .await;
    manager.fill("#starting-price", "10").await;
    manager.fill("#extension", "3").await;
    manager.click("form[action='/auctions'] button").await;
    manager.find("#ends-at-error").await;
    manager
        .find("#ends-at[aria-invalid=true][aria-describedby=ends-at-error]")
        .await;
    manager.wait_count("#put-up-refused", 0).await;
    assert_eq!(
        manager
            .find("#starting-price")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("10")
    );
    set_time(
        &manager,
        "#ends-at",
        chrono::Utc::now() + chrono::Duration::hours(2),
    )
    .await;
    manager.click("form[action='/auctions'] button").await;
    let lot_path = manager
        .wait_path("the lot's page", |p| {
            p.starts_with("/auctions/") && p[10..].chars().all(|c| c.is_ascii_digit())
        })
        .await;
    manager.key_page("auction-manager-en").await;
    // The extension she typed in minutes, kept across the refusal, is the lot's.
    let (_, lot) = alpha.get(&format!("/api/v1{lot_path}"), None).await;
    assert_eq!(lot["auction"]["extension_seconds"], 180, "{lot}");
    let (_, reward) = alpha
        .get(&format!("/api/v1/shop/rewards/{seat}"), None)
        .await;
    assert_eq!(
        reward["stock"], 0,
        "the lot's unit left the shelf: {reward}"
    );

    // Bea bids the starting price and leads.
    let bea = Browser::start("en").await;
    bea.sign_in(&alpha, "bea").await;
    bea.goto(&alpha.url(&lot_path)).await;
    bea.fill("#amount", "10").await;
    bea.click_and_wait_reload("#bid-form button").await;
    bea.wait_count("#you-lead:not([hidden])", 1).await;
    bea.wait_text("#leading", "10 points").await;

    // Bea's page stays as it is from now on (a reload would drop this mark).
    bea.js_value("document.body.dataset.kept = 'yes'; return null")
        .await;

    // Carl, in French: the same amount is refused beside the form, his amount kept; more wins.
    let carl = Browser::start("fr").await;
    carl.sign_in(&alpha, "carl").await;
    carl.goto(&alpha.url(&lot_path)).await;
    // Past the browser's own check (a page older than the last bid): the server refuses.
    carl.js_value("document.getElementById('amount').removeAttribute('min'); return null")
        .await;
    carl.fill("#amount", "10").await;
    carl.click_and_wait_reload("#bid-form button").await;
    carl.find("#bid-refused").await;
    assert_eq!(
        carl.find("#amount")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("10")
    );
    carl.fill("#amount", "15").await;
    carl.click_and_wait_reload("#bid-form button").await;
    carl.wait_count("#you-lead:not([hidden])", 1).await;
    // His page in French (his account's language was English).
    carl.click("a[hreflang='fr']").await;
    carl.wait_text("#lot-status", "en cours").await;
    carl.key_page("auction-fr").await;

    // Bea's page, not reloaded, shows she was outbid; her points are free again.
    bea.wait_text("#leading", "15 points").await;
    bea.wait_count("#you-lead[hidden]", 1).await;
    bea.wait_count("#outbid:not([hidden])", 1).await;
    bea.wait_count("body[data-kept]", 1).await;
    bea.goto(&alpha.url("/shop")).await;
    assert_eq!(
        points_in(&bea, "#available").await,
        points_in(&bea, "#balance").await
    );

    // The manager cancels: Carl's points and the seat go back.
    manager.goto(&alpha.url(&lot_path)).await;
    manager
        .click_and_wait_reload("form[action$='/cancel'] button")
        .await;
    manager.wait_text("#lot-status", "cancelled").await;
    let (_, reward) = alpha
        .get(&format!("/api/v1/shop/rewards/{seat}"), None)
        .await;
    assert_eq!(reward["stock"], 1, "{reward}");
    carl.goto(&alpha.url("/shop")).await;
    assert_eq!(
        points_in(&carl, "#available").await,
        points_in(&carl, "#balance").await
    );
    for b in [manager, bea, carl] {
        b.close().await;
    }
}

#[tokio::test]
async fn a_member_answers_her_champion_invitation_accepts_the_charter_and_leaves_from_her_page() {
    let (_hosts, alpha) = instance_with_group().await;
    let admin = alpha.login("admin").await;
    alpha.member("bea").await;
    let (status, body) = alpha
        .post(
            "/api/v1/champions/charter",
            Some(&admin),
            json!({"text_en": "Be **kind** and <b>helpful</b>.", "text_fr": "Soyez **bienveillant** et <b>utile</b>."}),
        )
        .await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let (status, body) = alpha
        .post(
            "/api/v1/champions/nominations",
            Some(&admin),
            json!({"person": "bea", "groups": ["support"], "title": "Support champion"}),
        )
        .await;
    assert!(status == 200 || status == 201, "{status} {body}");

    let b = Browser::start("en").await;
    b.sign_in(&alpha, "bea").await;
    b.goto(&alpha.url("/account")).await;
    b.click("a[href='/champions/me']").await;
    b.wait_path("her programme page", |p| p == "/champions/me")
        .await;
    assert_eq!(b.text("#champion-title").await, "Support champion");
    assert!(b.source().await.contains("href=\"/groups/support\""));
    b.key_page("champion-invited-en").await;
    b.click_and_wait_reload("#accept-invitation").await;

    // The charter: Markdown rendered, raw markup kept as text; accepting it makes her active.
    assert_eq!(b.text("#charter strong").await, "kind");
    assert!(b.text("#charter .body").await.contains("<b>helpful</b>"));
    b.key_page("champion-charter-en").await;
    b.click_and_wait_reload("#accept-charter").await;
    b.wait_text("#champion-status", "You are a champion. Thank you!")
        .await;
    let (_, me) = alpha
        .get("/api/v1/champions/me", Some(&alpha.login("bea").await))
        .await;
    assert_eq!(me["champion"]["status"], "active", "{me}");

    // A new charter version pauses her tools until she accepts it again.
    let (status, body) = alpha
        .post(
            "/api/v1/champions/charter",
            Some(&admin),
            json!({"text_en": "Be kind, helpful and **patient**.", "text_fr": "Soyez **patient**.", "reason": "patience"}),
        )
        .await;
    assert!(status == 200 || status == 201, "{status} {body}");
    b.goto(&alpha.url("/champions/me")).await;
    assert_eq!(b.text("#charter strong").await, "patient");
    b.click_and_wait_reload("#accept-charter").await;
    b.wait_count("#charter", 0).await;

    // She leaves, saying why; the page keeps her reason.
    b.click("details.manage summary").await;
    b.fill("#leave-reason", "Less time this year").await;
    b.click_and_wait_reload("#leave-programme").await;
    b.wait_text("#exit-reason", "Reason: Less time this year")
        .await;
    let (_, me) = alpha
        .get("/api/v1/champions/me", Some(&alpha.login("bea").await))
        .await;
    assert_eq!(me["champion"]["status"], "exited", "{me}");
    b.close().await;
}

#[tokio::test]
async fn a_community_manager_runs_a_contest_its_board_lives_and_closing_pays_the_prize() {
    let (_hosts, alpha) = instance_with_group().await;
    let bea = alpha.member("bea").await;
    let carl = alpha.member("carl").await;
    for token in [&bea, &carl] {
        alpha
            .post("/api/v1/groups/support/join", Some(token), json!({}))
            .await;
    }

    // The manager opens it from the page; an unknown group comes back refused, her title kept.
    let manager = Browser::start("en").await;
    manager.sign_in(&alpha, "admin").await;
    manager.goto(&alpha.url("/leaderboard")).await;
    manager.click("a[href='/contests']").await;
    manager.fill("#contest-title", "November helpers").await;
    set_time(
        &manager,
        "#contest-ends",
        chrono::Utc::now() + chrono::Duration::days(1),
    )
    .await;
    manager.fill("#contest-groups", "nosuchgroup").await;
    manager
        .click_and_wait_reload("form[action='/contests'] button")
        .await;
    manager
        .find("#contest-groups[aria-invalid=true][aria-describedby=contest-groups-error]")
        .await;
    assert_eq!(
        manager.text("#contest-groups-error").await,
        "No group of this instance has this name."
    );
    // The page opens on the field at fault.
    assert_eq!(
        manager
            .js_value("return document.activeElement.id")
            .await
            .as_str(),
        Some("contest-groups")
    );
    manager.key_page("contests-refused-en").await;
    assert_eq!(
        manager
            .find("#contest-title")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("November helpers")
    );
    // An end before the start comes back under the end's field, the causes ticked kept.
    manager.click("#cause-answer_accepted").await;
    set_time(
        &manager,
        "#contest-starts",
        chrono::Utc::now() + chrono::Duration::days(2),
    )
    .await;
    set_time(
        &manager,
        "#contest-ends",
        chrono::Utc::now() + chrono::Duration::days(1),
    )
    .await;
    manager.fill("#contest-groups", "support").await;
    manager
        .click_and_wait_reload("form[action='/contests'] button")
        .await;
    manager
        .find("#contest-ends[aria-invalid=true][aria-describedby=contest-ends-error]")
        .await;
    manager.find("#contest-ends-error").await;
    manager.wait_count("#contest-refused", 0).await;
    manager
        .wait_count("#cause-answer_accepted:checked", 1)
        .await;
    manager.wait_count("#contest-causes input:checked", 1).await;
    manager
        .js_value("document.getElementById('contest-starts').value = ''; return null")
        .await;
    set_time(
        &manager,
        "#contest-ends",
        chrono::Utc::now() + chrono::Duration::days(1),
    )
    .await;
    manager.click("form[action='/contests'] button").await;
    let contest_path = manager
        .wait_path("the contest's page", |p| {
            p.starts_with("/contests/") && p[10..].chars().all(|c| c.is_ascii_digit())
        })
        .await;
    manager.find("#contest-state").await;
    assert_eq!(manager.text("#contest-state").await, "running");
    // It counts what she ticked, and says so.
    assert_eq!(
        manager.text("#contest-counts").await,
        "What counts: Answers accepted"
    );
    let (_, contest) = alpha.get(&format!("/api/v1{contest_path}"), None).await;
    assert_eq!(contest["causes"], json!(["answer_accepted"]), "{contest}");

    // Carl's answer to Bea's question is accepted: he leads the live board.
    let (_, body) = alpha
        .post(
            "/api/v1/groups/support/posts",
            Some(&bea),
            json!({"kind": "question", "title": "Which cable?"}),
        )
        .await;
    let question = body["post"]["id"].as_i64().unwrap();
    let (status, body) = alpha
        .post(
            &format!("/api/v1/posts/{question}/comments"),
            Some(&carl),
            json!({"body": "The shielded one."}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let answer = body["id"].as_i64().unwrap();
    let (status, body) = alpha
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/posts/{question}/accepted-answer"),
            Some(&bea),
            Some(json!({"comment_id": answer})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let b = Browser::start("en").await;
    b.sign_in(&alpha, "carl").await;
    b.goto(&alpha.url("/contests")).await;
    b.click(&format!("a[href='{contest_path}']")).await;
    b.wait_text(
        "#contest-board tbody tr:first-child td:nth-child(2)",
        "carl",
    )
    .await;
    b.wait_count("#contest-board tr.mine", 1).await;
    b.key_page("contest-en").await;

    // Closed with a prize and a badge for the first rank: Carl is paid, once, wears the
    // badge, and the board is frozen.
    let (_, before) = alpha.get("/api/v1/account/points", Some(&carl)).await;
    manager.goto(&alpha.url(&contest_path)).await;
    // The champions programme's badge is not the manager's to give.
    manager
        .wait_count("#contest-badge option[value=superuser]", 0)
        .await;
    manager.fill("#prize-1", "25").await;
    manager
        .js_value("document.getElementById('contest-badge').value = 'staff'; return null")
        .await;
    manager
        .click_and_wait_reload("form[action$='/close'] button")
        .await;
    manager.wait_text("#contest-state", "closed").await;
    manager.wait_count("form[action$='/close']", 0).await;
    let (_, after) = alpha.get("/api/v1/account/points", Some(&carl)).await;
    assert_eq!(
        after["balance"].as_i64().unwrap() - before["balance"].as_i64().unwrap(),
        25,
        "{before} → {after}"
    );
    let (_, profile) = alpha.get("/api/v1/people/carl", None).await;
    assert!(
        profile["badges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["slug"] == "staff"),
        "{profile}"
    );
    for b in [manager, b] {
        b.close().await;
    }
}

#[tokio::test]
async fn a_community_manager_awards_revokes_and_restores_a_badge_from_the_badges_page() {
    let (_hosts, alpha) = instance_with_group().await;
    alpha.member("bea").await;
    let badges_of_bea = || async {
        let (_, profile) = alpha.get("/api/v1/people/bea", None).await;
        profile["badges"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|b| b["slug"].as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let b = Browser::start("en").await;
    b.sign_in(&alpha, "admin").await;
    b.goto(&alpha.url("/admin/accounts")).await;
    b.click("a[href='/admin/badges']").await;
    b.find("#badge-staff").await;
    b.key_page("admin-badges-en").await;
    // The champion badge follows the programme: not offered here.
    b.wait_count("#badge-slug option[value=superuser]", 0).await;

    b.fill("#badge-handle", "bea").await;
    b.js_value("document.getElementById('badge-slug').value = 'staff'; return null")
        .await;
    b.click_and_wait_reload("#badge-award").await;
    b.find("#badge-done").await;
    assert!(badges_of_bea().await.contains(&"staff".to_owned()));

    // Revoking needs a reason: refused beside the form, the member and badge kept.
    b.fill("#badge-handle", "bea").await;
    b.js_value("document.getElementById('badge-slug').value = 'staff'; return null")
        .await;
    b.click_and_wait_reload("#badge-revoke").await;
    b.find("#badge-refused").await;
    assert_eq!(
        b.find("#badge-handle")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("bea")
    );
    assert!(badges_of_bea().await.contains(&"staff".to_owned()));
    b.fill("#badge-reason", "Left the company").await;
    b.click_and_wait_reload("#badge-revoke").await;
    b.find("#badge-done").await;
    assert!(!badges_of_bea().await.contains(&"staff".to_owned()));

    b.fill("#badge-handle", "bea").await;
    b.js_value("document.getElementById('badge-slug').value = 'staff'; return null")
        .await;
    b.fill("#badge-reason", "Came back").await;
    b.click_and_wait_reload("#badge-restore").await;
    b.find("#badge-done").await;
    assert!(badges_of_bea().await.contains(&"staff".to_owned()));
    b.close().await;
}

/// A report about alpha's group forwarded to beta reaches marie, beta's member the group
/// lists as a moderator, on her own instance's page of the groups she moderates elsewhere;
/// she resolves it there and alpha's copy is resolved with her note. Another member of beta
/// finds nothing on that page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderator_elsewhere_resolves_a_forwarded_report_from_her_own_instance() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    hosts.add("beta");
    let (mut alpha, mut beta) = (
        Instance::new("alpha", &hosts),
        Instance::new("beta", &hosts),
    );
    alpha.start();
    beta.start();
    let deadline = std::time::Duration::from_secs(60);
    let admin = alpha.admin().await;
    alpha.create_group(&admin, "entraide", "Entraide").await;
    let marie = beta.member("marie").await;
    let _paul = beta.member("paul").await;
    beta.follow_group(&marie, &format!("!entraide@{}", alpha.host), deadline)
        .await;
    let (status, body) = alpha
        .call(
            reqwest::Method::PUT,
            &format!(
                "/api/v1/groups/entraide/members/marie%40{}",
                beta.host.replace(':', "%3A")
            ),
            Some(&admin),
            Some(json!({"role": "moderator"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let question = alpha
        .create_post(&admin, "entraide", "question", "Vendez-vous des cours ?")
        .await;
    let jean = alpha.member("jean").await;
    let (status, filed) = alpha
        .post(
            "/api/v1/reports",
            Some(&jean),
            json!({"post_id": question.id, "reason": "spam", "text": "doublon"}),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    let forwarded = cenacle_api_tests::eventually("the report on beta", deadline, || async {
        let (_, page) = beta
            .get("/api/v1/reports/moderated-elsewhere", Some(&marie))
            .await;
        page["items"].as_array()?.first().cloned()
    })
    .await;

    let b = Browser::start("en").await;
    b.sign_in(&beta, "paul").await;
    b.goto(&beta.url("/moderation/reports/elsewhere")).await;
    b.wait_text(".empty", "No report.").await;
    sign_out(&b).await;

    b.sign_in(&beta, "marie").await;
    b.goto(&beta.url("/reports/mine")).await;
    b.click("a[href='/moderation/reports/elsewhere']").await;
    b.find(&format!(
        "form[action='/reports/{}/close']",
        forwarded["id"]
    ))
    .await;
    b.key_page("reports-elsewhere-en").await;
    b.fill(".reports input[name=note]", "Doublon fermé").await;
    b.click_and_wait_reload(".reports button[value=resolve]")
        .await;
    b.wait_text(".empty", "No report.").await;
    cenacle_api_tests::eventually("alpha's copy resolved", deadline, || async {
        let (_, page) = alpha
            .get(
                "/api/v1/groups/entraide/reports?status=resolved",
                Some(&admin),
            )
            .await;
        page["items"]
            .as_array()?
            .iter()
            .find(|r| {
                r["text"] == "doublon"
                    && r["resolution_note"]
                        .as_str()
                        .is_some_and(|n| n.contains("Doublon fermé"))
            })
            .cloned()
    })
    .await;
    b.close().await;
}

#[tokio::test]
async fn a_newcomer_reads_the_welcome_follows_her_first_steps_and_hides_it() {
    let (_hosts, alpha) = instance_with_group().await;
    let admin = alpha.login("admin").await;
    let (status, body) = alpha
        .call(
            reqwest::Method::PUT,
            "/api/v1/admin/onboarding/welcome",
            Some(&admin),
            Some(json!({
                "message_fr": "Bienvenue **chez nous** !",
                "message_en": "Welcome **home**!",
                "manager": "admin",
                "group": "support",
                "post_in_group": true
            })),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let b = Browser::start("en").await;
    b.sign_up(&alpha, "newcomer").await;
    b.click("#nav-welcome").await;
    b.wait_path("the welcome", |p| p == "/welcome").await;
    assert_eq!(b.text("#welcome-panel strong").await, "home");
    assert_eq!(b.text("#welcome-panel .introducer a").await, "admin");
    b.wait_count("#step-join_group.is-done", 0).await;
    b.key_page("welcome-en").await;

    // A step done anywhere (here through the API) shows done on the page.
    let newcomer = alpha.login("newcomer").await;
    let (status, body) = alpha
        .post("/api/v1/groups/support/join", Some(&newcomer), json!({}))
        .await;
    assert!(status < 300, "{body}");
    b.goto(&alpha.url("/welcome")).await;
    b.find("#step-join_group.is-done").await;

    b.click_and_wait_reload("#dismiss-welcome").await;
    b.wait_count("#welcome-panel", 0).await;
    b.find("#step-join_group.is-done").await;
    b.close().await;
}

/// A community manager writes the welcome, a journey step and a triggered e-mail on the
/// onboarding page: each refused form comes back as typed with the refusal under the field at
/// fault (marked invalid), and what is saved is what the API reads. A member sees no way in.
#[tokio::test]
async fn a_community_manager_runs_the_welcome_and_journey_from_the_onboarding_page() {
    let (_hosts, alpha) = instance_with_group().await;
    let admin = alpha.login("admin").await;
    alpha.member("camille").await;
    alpha.set_role(&admin, "camille", "community_manager").await;
    let b = Browser::start("en").await;
    b.sign_in(&alpha, "camille").await;
    b.click("#nav-onboarding").await;
    b.wait_path("the onboarding page", |p| p == "/admin/onboarding")
        .await;

    // The welcome: a group that does not exist is refused under its field, the rest kept.
    b.fill("#welcome-en", "Welcome **home**!").await;
    b.fill("#welcome-manager", "camille").await;
    b.fill("#welcome-group", "nowhere").await;
    b.click_and_wait_reload("#welcome-save").await;
    b.find("#welcome-group[aria-invalid=true]").await;
    b.find("#welcome-group-error").await;
    let kept = b.find("#welcome-en").await.prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some("Welcome **home**!"));
    b.fill("#welcome-group", "support").await;
    b.click_and_wait_reload("#welcome-save").await;
    b.wait_count("#welcome-group-error", 0).await;
    let (_, welcome) = alpha
        .get("/api/v1/admin/onboarding/welcome", Some(&admin))
        .await;
    assert_eq!(welcome["message_en"], "Welcome **home**!", "{welcome}");
    assert_eq!(welcome["group"], "support", "{welcome}");

    // A new step whose count is not a number, then fixed.
    let steps = || async {
        let (_, steps) = alpha
            .get("/api/v1/admin/onboarding/steps", Some(&admin))
            .await;
        steps["items"]
            .as_array()
            .or(steps.as_array())
            .cloned()
            .unwrap_or_default()
    };
    let before = steps().await.len();
    b.js_value("document.getElementById('step-new-kind').value = 'ask_question'; return null")
        .await;
    b.fill("#step-new-target", "two").await;
    b.click_and_wait_reload("#step-new button[value=save]")
        .await;
    b.find("#step-new-target[aria-invalid=true]").await;
    assert_eq!(steps().await.len(), before, "nothing saved");
    b.fill("#step-new-target", "2").await;
    b.click_and_wait_reload("#step-new button[value=save]")
        .await;
    b.wait_count("#step-new-target[aria-invalid=true]", 0).await;
    assert_eq!(steps().await.len(), before + 1);

    // A triggered e-mail whose text uses a variable that does not exist: refused naming it,
    // under the text's field; fixed, saved, and dry-run.
    b.fill("#rule-new-delay", "0").await;
    b.fill("#rule-new-subject-fr", "Bienvenue").await;
    b.fill("#rule-new-body-fr", "Bonjour {{name}} !").await;
    b.fill("#rule-new-subject-en", "Welcome").await;
    b.fill("#rule-new-body-en", "Hello {{nom}}!").await;
    b.click_and_wait_reload("#rule-new button[value=save]")
        .await;
    b.find("#rule-new-body-en[aria-invalid=true]").await;
    assert!(
        b.text("#rule-body-en-error").await.contains("{{nom}}"),
        "the unknown variable is named"
    );
    b.key_page("admin-onboarding-en").await;
    b.fill("#rule-new-body-en", "Hello {{name}}!").await;
    b.click_and_wait_reload("#rule-new button[value=save]")
        .await;
    b.wait_count("#rule-new-body-en[aria-invalid=true]", 0)
        .await;
    let (_, rules) = alpha
        .get("/api/v1/admin/onboarding/rules", Some(&admin))
        .await;
    let rules = rules["items"]
        .as_array()
        .or(rules.as_array())
        .cloned()
        .unwrap_or_default();
    let rule = rules
        .iter()
        .find(|r| r["body_en"] == "Hello {{name}}!")
        .unwrap_or_else(|| panic!("the rule is saved: {rules:?}"));
    let id = rule["id"].as_i64().unwrap();
    b.click(&format!("#preview-{id}")).await;
    b.find("#preview").await;
    b.close().await;

    // A member sees neither the way in nor the forms.
    alpha.member("bea").await;
    let m = Browser::start("en").await;
    m.sign_in(&alpha, "bea").await;
    m.wait_count("#nav-onboarding", 0).await;
    m.goto(&alpha.url("/admin/onboarding")).await;
    m.find("p.notice[role=alert]").await;
    m.wait_count("#welcome-save", 0).await;
    m.close().await;
}
