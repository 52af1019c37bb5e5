//! The widgets on the organisation's own site, in a real Chromium: a page of another origin
//! (a shop, listed in `web.widget_origins`) frames the latest answers for a tag, a member's
//! badge card and the "ask the community" box, which starts a question on the community in a
//! new window (signing in there); a site not listed is refused, by the browser
//! (`frame-ancestors`) and by the server (its framing request answered 403).

use axum::{response::Html, routing::get, Router};
use cenacle_api_tests::{browser::Browser, eventually, Hosts, Instance, PASSWORD};
use serde_json::json;
use std::time::Duration;

/// The shop's page, served for any host name: reached as `shop.test` it is the allowed
/// origin, as `evil.test` another.
async fn serve_shop_page(community: String) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Router X2 — Shop</title></head>
<body><main><h1>Router X2</h1>
<div data-cenacle-widget="answers" data-tag="router" data-title="Answers from the community"></div>
<div data-cenacle-widget="card" data-person="bob" data-title="Bob, our expert"></div>
<iframe id="ask" title="Ask the community" src="{community}/widgets/ask?group=support"></iframe>
<script src="{community}/widgets/embed.js"></script>
</main></body></html>"#
    );
    let app = Router::new().route("/", get(move || async move { Html(html) }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

#[tokio::test]
async fn another_site_frames_the_widgets_and_starts_a_question_and_others_are_refused() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    let shop_port = serve_shop_page(alpha.url("")).await;
    let shop = format!("http://shop.test:{shop_port}");
    let evil = format!("http://evil.test:{shop_port}");
    alpha.set_env("CENACLE_WEB__WIDGET_ORIGINS", &format!("[\"{shop}\"]"));
    alpha.start();

    // A group; Bob asks about the router, Carol answers, Bob accepts; another question,
    // answered about something else, must not show.
    let admin = alpha.admin().await;
    let (status, body) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "support", "title": "Support", "description": "Ask anything"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let bob = alpha.member("bob").await;
    let carol = alpha.member("carol").await;
    for token in [&bob, &carol] {
        alpha
            .post("/api/v1/groups/support/join", Some(token), json!({}))
            .await;
    }
    for (title, tag, answer) in [
        (
            "Router X2 blinks red",
            "router",
            "Hold **reset** for ten seconds.",
        ),
        ("Which printer ink?", "printer", "The blue cartridge."),
    ] {
        let (status, body) = alpha
            .post(
                "/api/v1/groups/support/posts",
                Some(&bob),
                json!({"kind": "question", "title": title, "body": "Help", "tags": [tag]}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let post = body["post"]["id"].as_i64().unwrap();
        let (status, body) = alpha
            .post(
                &format!("/api/v1/posts/{post}/comments"),
                Some(&carol),
                json!({"body": answer}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let comment = body["id"].as_i64().unwrap();
        let (status, body) = alpha
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/posts/{post}/accepted-answer"),
                Some(&bob),
                Some(json!({"comment_id": comment})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    // An answered question of a private group, with the same tag: never in a widget.
    let (status, body) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "vault", "title": "Vault", "description": "Staff", "visibility": "private"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = alpha
        .post(
            "/api/v1/groups/vault/posts",
            Some(&admin),
            json!({"kind": "question", "title": "Router X3 launch zq9secret", "body": "?", "tags": ["router"]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let secret = body["post"]["id"].as_i64().unwrap();
    let (status, body) = alpha
        .post(
            &format!("/api/v1/posts/{secret}/comments"),
            Some(&admin),
            json!({"body": "In May."}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let secret_answer = body["id"].as_i64().unwrap();
    let (status, body) = alpha
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/posts/{secret}/accepted-answer"),
            Some(&admin),
            Some(json!({"comment_id": secret_answer})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for query in ["tag=router", "group=vault", "lang=fr&tag=router"] {
        let page = alpha
            .http
            .get(alpha.url(&format!("/widgets/answers?{query}")))
            .send()
            .await
            .unwrap();
        let status = page.status().as_u16();
        let html = page.text().await.unwrap();
        assert!(!html.contains("zq9secret"), "{query}: {html}");
        if query.starts_with("group=") {
            assert_eq!(status, 404, "a private group is not told apart from none");
        }
        if query.starts_with("lang=fr") {
            assert!(html.contains("Dernières réponses"), "{html}");
        }
    }

    // The server: a framing request from the shop is served, framable by the shop only;
    // one from another site is refused.
    let framed_by = |site: &str| {
        alpha
            .http
            .get(alpha.url("/widgets/answers?tag=router"))
            .header("referer", format!("{site}/"))
            .header("sec-fetch-site", "cross-site")
            .header("sec-fetch-dest", "iframe")
            .send()
    };
    let served = framed_by(&shop).await.unwrap();
    assert_eq!(served.status(), 200);
    let policy = served.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains(&format!("frame-ancestors {shop}")),
        "{policy}"
    );
    assert_eq!(framed_by(&evil).await.unwrap().status(), 403);

    // The browser, on the shop's page: the answers for the tag, the card, the ask box.
    let b = Browser::start("en").await;
    b.goto(&format!("{shop}/")).await;
    let frame = b.find("[data-cenacle-widget=answers] iframe").await;
    frame.enter_frame().await.unwrap();
    b.wait_text(".widget-answers li a", "Router X2 blinks red")
        .await;
    let listed = b.text(".widget-answers").await;
    assert!(listed.contains("Hold reset for ten seconds."), "{listed}");
    assert!(
        !listed.contains("printer"),
        "only the tag's answers: {listed}"
    );
    let violations = b.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "answers widget: {violations:#?}");
    b.client.enter_parent_frame().await.unwrap();
    let card = b.find("[data-cenacle-widget=card] iframe").await;
    card.enter_frame().await.unwrap();
    b.wait_text(".widget-title a", "bob").await;
    b.client.enter_parent_frame().await.unwrap();
    b.screenshot("widgets-on-another-site-en").await;

    // "Ask the community": a new window on the community, sign in there, the composer has the
    // title typed in the shop's page; publishing starts the question.
    let shop_window = b.client.window().await.unwrap();
    b.find("#ask").await.enter_frame().await.unwrap();
    b.fill("#title", "Does the X2 work with fibre?").await;
    b.click(".widget-ask button").await;
    let community_window = eventually("the community's window", Duration::from_secs(30), || {
        let client = b.client.clone();
        let shop_window = shop_window.clone();
        async move {
            let windows = client.windows().await.ok()?;
            windows.into_iter().find(|w| *w != shop_window)
        }
    })
    .await;
    b.client.switch_to_window(community_window).await.unwrap();
    b.wait_path("the sign-in page", |p| p.starts_with("/signin?next="))
        .await;
    b.fill("#username", "bob").await;
    b.fill("#password", PASSWORD).await;
    b.click("form.stack button[type=submit]").await;
    b.wait_path("the composer", |p| p.starts_with("/groups/support/ask"))
        .await;
    assert_eq!(
        b.find("#title")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("Does the X2 work with fibre?")
    );
    b.click("button[value=publish]").await;
    b.wait_path("the new question", |p| p.starts_with("/posts/"))
        .await;
    assert_eq!(b.text("h1").await, "Does the X2 work with fibre?");
    b.client.switch_to_window(shop_window).await.unwrap();

    // Another site framing the same widgets: refused (the server logs it; nothing of ours
    // shows in its frame).
    let refusals = || alpha.log().matches("not in web.widget_origins").count();
    let before = refusals();
    assert!(before >= 1, "the server's refusal above is logged");
    b.goto(&format!("{evil}/")).await;
    eventually("the refusals in the log", Duration::from_secs(30), || {
        let now = refusals();
        async move { (now > before).then_some(()) }
    })
    .await;
    b.find("[data-cenacle-widget=answers] iframe")
        .await
        .enter_frame()
        .await
        .unwrap();
    let shown = b
        .js_value("return document.querySelector('.widget-answers') === null")
        .await;
    assert_eq!(shown, json!(true), "no widget in a refused frame");
    b.close().await;
}
