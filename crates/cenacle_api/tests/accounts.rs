//! Accounts through the real router and a real database.

mod common;

use axum::http::{header, Method, Request, StatusCode};
use cenacle_domain::{RegistrationMode, Role};
use common::{TestApp, PASSWORD};
use serde_json::json;

#[tokio::test]
async fn register_login_call_logout_then_the_token_is_refused() {
    let t = TestApp::new().await;
    let reply = t.register("marie").await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.json["status"], "active");
    assert_eq!(reply.json["role"], "member");

    let token = t.token("marie").await;
    let me = t.get("/api/v1/account/me", Some(&token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["username"], "marie");

    let out = t
        .request(Method::POST, "/api/v1/account/logout", Some(&token), None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let refused = t.get("/api/v1/account/me", Some(&token)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.code(), "unauthenticated");
    assert!(refused.headers[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
}

#[tokio::test]
async fn logout_everywhere_revokes_every_token() {
    let t = TestApp::new().await;
    t.register("marie").await;
    let tokens = [
        t.token("marie").await,
        t.token("marie").await,
        t.token("marie").await,
    ];
    let out = t
        .request(
            Method::POST,
            "/api/v1/account/logout-all",
            Some(&tokens[1]),
            None,
        )
        .await;
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(out.json["revoked"], 3);
    for token in &tokens {
        assert_eq!(
            t.get("/api/v1/account/me", Some(token)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // A new login still works.
    let fresh = t.token("marie").await;
    assert_eq!(
        t.get("/api/v1/account/me", Some(&fresh)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn missing_or_garbage_tokens_get_401_with_a_challenge() {
    let t = TestApp::new().await;
    let none = t.get("/api/v1/account/me", None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert!(none.headers.contains_key(header::WWW_AUTHENTICATE));
    let garbage = t.get("/api/v1/account/me", Some("cen_not-a-token")).await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn wrong_password_is_401_invalid_credentials_and_unknown_user_looks_the_same() {
    let t = TestApp::new().await;
    t.register("marie").await;
    let wrong = t.login("marie", "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.code(), "invalid_credentials");
    assert!(wrong.json["error"]["message"].as_str().unwrap().len() > 5);
    let unknown = t.login("nobody", PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.json, wrong.json);
}

#[tokio::test]
async fn taken_username_is_409() {
    let t = TestApp::new().await;
    assert_eq!(t.register("marie").await.status, StatusCode::CREATED);
    let again = t.register("marie").await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "username_taken");
    let email =
        |name: &str, email: &str| json!({"username": name, "password": PASSWORD, "email": email});
    assert_eq!(
        t.post(
            "/api/v1/account/register",
            None,
            email("pierre", "p@example.org")
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let dup = t
        .post(
            "/api/v1/account/register",
            None,
            email("paul", "P@example.org"),
        )
        .await;
    assert_eq!(
        (dup.status, dup.code()),
        (StatusCode::CONFLICT, "email_taken")
    );
}

#[tokio::test]
async fn invalid_fields_are_422_naming_the_field() {
    let t = TestApp::new().await;
    let reply = t
        .post(
            "/api/v1/account/register",
            None,
            json!({"username": "Marie Curie", "password": PASSWORD}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.code(), "validation_failed");
    assert_eq!(reply.json["error"]["details"]["field"], "username");
    let short = t
        .post(
            "/api/v1/account/register",
            None,
            json!({"username": "marie", "password": "short"}),
        )
        .await;
    assert_eq!(
        short.json["error"]["details"],
        json!({"field": "password", "reason": "too_short"})
    );
    let missing = t
        .post(
            "/api/v1/account/register",
            None,
            json!({"username": "marie"}),
        )
        .await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body")
    );
    assert!(missing.json["error"]["details"]["problem"]
        .as_str()
        .unwrap()
        .contains("password"));
}

#[tokio::test]
async fn malformed_json_is_400_naming_the_problem() {
    let t = TestApp::new().await;
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/account/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(r#"{"username": "marie", "password": }"#.into())
        .unwrap();
    let reply = t.send(request).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "malformed_json");
    let problem = reply.json["error"]["details"]["problem"].as_str().unwrap();
    assert!(
        problem.contains("line 1"),
        "the parser's position is given: {problem}"
    );

    let no_type = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/account/login")
        .body("{}".into())
        .unwrap();
    assert_eq!(
        t.send(no_type).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let t = TestApp::with(|s| s.limits.max_body_bytes = 4096).await;
    let big = "x".repeat(5000);
    let reply = t
        .post(
            "/api/v1/account/register",
            None,
            json!({"username": "marie", "password": big}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.code(), "payload_too_large");
}

#[tokio::test]
async fn too_many_login_attempts_are_429_with_retry_after() {
    let t = TestApp::with(|s| {
        s.limits.login_per_account = 3;
        s.limits.login_per_ip = 100;
    })
    .await;
    t.register("marie").await;
    for _ in 0..3 {
        assert_eq!(
            t.login("marie", "wrong password!").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = t.login("marie", PASSWORD).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.code(), "rate_limited");
    let retry: u64 = limited.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry));
    // Another account from the same address is not blocked by marie's counter.
    t.register("pierre").await;
    assert_eq!(t.login("pierre", PASSWORD).await.status, StatusCode::OK);
}

/// Someone guessing a member's password from one address gets refused there, but cannot lock
/// the member out: the member's correct password from another address still signs in.
#[tokio::test]
async fn twenty_wrong_passwords_from_one_address_do_not_stop_the_members_login_from_another() {
    let t = TestApp::new().await;
    t.register("marie").await;
    let guesser = "198.51.100.66";
    let mut refused = 0;
    for _ in 0..20 {
        let reply = t
            .login_from(guesser, None, "marie", "wrong password!")
            .await;
        match reply.status {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("{other}: {}", reply.json),
        }
    }
    assert!(refused > 0, "the guesser is slowed down at its address");
    // The guesser stays refused for this account, even with the right password.
    assert_eq!(
        t.login_from(guesser, None, "marie", PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    let member = t.login_from("203.0.113.5", None, "marie", PASSWORD).await;
    assert_eq!(member.status, StatusCode::OK, "{}", member.json);
    // Again, and again: a correct password is never counted against the account.
    for _ in 0..3 {
        assert_eq!(
            t.login_from("203.0.113.5", None, "marie", PASSWORD)
                .await
                .status,
            StatusCode::OK
        );
    }
}

/// Behind no proxy of ours, `X-Forwarded-For` is whatever the client wrote: changing it at
/// each attempt must not give a guesser a fresh address (the old rule believed its left-most
/// entry whenever the compose file's `trust_forwarded_for` was on).
#[tokio::test]
async fn a_spoofed_forwarded_for_from_an_untrusted_peer_changes_nothing() {
    let t = TestApp::with(|s| {
        s.limits.login_per_ip = 2;
        s.server.trusted_proxies = vec!["10.0.0.1".parse().unwrap()];
    })
    .await;
    for i in 0..2 {
        let spoofed = format!("203.0.113.{i}");
        let reply = t
            .login_from("192.0.2.7", Some(&spoofed), "nobody", "wrong password!")
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let reply = t
        .login_from(
            "192.0.2.7",
            Some("203.0.113.99"),
            "nobody",
            "wrong password!",
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "counted under the TCP peer, not the header"
    );
}

/// Through our own proxy, the client is the right-most entry the proxy did not write itself
/// for one of ours: what the client put to its left is ignored.
#[tokio::test]
async fn a_trusted_proxys_forwarded_for_is_honoured_right_most_untrusted_first() {
    let t = TestApp::with(|s| {
        s.limits.login_per_ip = 2;
        s.server.trusted_proxies = vec!["10.0.0.0/24".parse().unwrap()];
    })
    .await;
    // One client behind the proxy, writing a different left-most entry each time.
    for i in 0..2 {
        let header = format!("6.6.6.{i}, 198.51.100.9");
        let reply = t
            .login_from("10.0.0.1", Some(&header), "nobody", "wrong password!")
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let reply = t
        .login_from("10.0.0.1", Some("6.6.6.77, 198.51.100.9"), "nobody", "x")
        .await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    // Another client through the same proxy (and a second proxy of ours) has its own count.
    let reply = t
        .login_from(
            "10.0.0.2",
            Some("198.51.100.10, 10.0.0.1"),
            "nobody",
            "wrong password!",
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn login_attempts_are_limited_per_address_too() {
    let t = TestApp::with(|s| s.limits.login_per_ip = 2).await;
    assert_eq!(
        t.login("a_user", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        t.login("b_user", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let limited = t.login("c_user", PASSWORD).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn registration_while_closed_is_403() {
    let t = TestApp::with(|s| s.accounts.registration_mode = RegistrationMode::Closed).await;
    let reply = t.register("marie").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.code(), "registrations_closed");
}

#[tokio::test]
async fn approval_mode_keeps_new_accounts_out_until_approved() {
    let t =
        TestApp::with(|s| s.accounts.registration_mode = RegistrationMode::ApprovalRequired).await;
    let reply = t.register("marie").await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.json["status"], "pending_approval");
    let pending = t.login("marie", PASSWORD).await;
    assert_eq!(
        (pending.status, pending.code()),
        (StatusCode::FORBIDDEN, "account_pending_approval")
    );

    let manager = t.with_role("claire", Role::CommunityManager).await;
    let list = t
        .get(
            "/api/v1/admin/accounts?status=pending_approval",
            Some(&manager),
        )
        .await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1);
    let approved = t
        .request(
            Method::POST,
            "/api/v1/admin/accounts/marie/approve",
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.json);
    assert_eq!(t.login("marie", PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn invite_only_needs_a_valid_single_use_invitation() {
    let t = TestApp::with(|s| s.accounts.registration_mode = RegistrationMode::InviteOnly).await;
    let without = t.register("marie").await;
    assert_eq!(
        (without.status, without.code()),
        (StatusCode::FORBIDDEN, "invite_required")
    );

    let admin = t.with_role("root", Role::Admin).await;
    let invite = t
        .request(Method::POST, "/api/v1/admin/invites", Some(&admin), None)
        .await;
    assert_eq!(invite.status, StatusCode::CREATED);
    let code = invite.json["code"].as_str().unwrap();
    let body = |name: &str| json!({"username": name, "password": PASSWORD, "invite_code": code});
    let with = t
        .post("/api/v1/account/register", None, body("marie"))
        .await;
    assert_eq!(with.status, StatusCode::CREATED);
    assert_eq!(with.json["status"], "active");
    let reused = t
        .post("/api/v1/account/register", None, body("pierre"))
        .await;
    assert_eq!(
        (reused.status, reused.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_invite")
    );
}

#[tokio::test]
async fn a_member_calling_an_admin_endpoint_is_403() {
    let t = TestApp::new().await;
    let member = t.member("marie").await;
    let list = t.get("/api/v1/admin/accounts", Some(&member)).await;
    assert_eq!(
        (list.status, list.code()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let promote = t
        .request(
            Method::PUT,
            "/api/v1/admin/accounts/marie/role",
            Some(&member),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(promote.status, StatusCode::FORBIDDEN);
    let me = t.get("/api/v1/account/me", Some(&member)).await;
    assert_eq!(
        me.json["role"], "member",
        "the refused promotion changed nothing"
    );
    // A community manager may list but not hand out roles.
    let manager = t.with_role("claire", Role::CommunityManager).await;
    assert_eq!(
        t.get("/api/v1/admin/accounts", Some(&manager)).await.status,
        StatusCode::OK
    );
    let by_manager = t
        .request(
            Method::PUT,
            "/api/v1/admin/accounts/marie/role",
            Some(&manager),
            Some(json!({"role": "staff"})),
        )
        .await;
    assert_eq!(by_manager.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn admins_set_roles_but_never_demote_the_last_admin() {
    let t = TestApp::new().await;
    let admin = t.with_role("root", Role::Admin).await;
    t.member("marie").await;
    let promoted = t
        .request(
            Method::PUT,
            "/api/v1/admin/accounts/marie/role",
            Some(&admin),
            Some(json!({"role": "staff"})),
        )
        .await;
    assert_eq!(
        (promoted.status, promoted.json["role"].as_str()),
        (StatusCode::OK, Some("staff"))
    );
    let last = t
        .request(
            Method::PUT,
            "/api/v1/admin/accounts/root/role",
            Some(&admin),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(
        (last.status, last.code()),
        (StatusCode::CONFLICT, "last_admin")
    );
    let unknown = t
        .request(
            Method::PUT,
            "/api/v1/admin/accounts/ghost/role",
            Some(&admin),
            Some(json!({"role": "staff"})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn accounts_list_pages_with_a_cursor() {
    let t = TestApp::new().await;
    let admin = t.with_role("root", Role::Admin).await;
    for name in ["user_a", "user_b", "user_c", "user_d"] {
        t.register(name).await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/admin/accounts?limit=2".to_owned();
    loop {
        let page = t.get(&path, Some(&admin)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.json);
        let items = page.json["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|a| a["username"].as_str().unwrap().to_owned()),
        );
        match page.json["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/admin/accounts?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["root", "user_a", "user_b", "user_c", "user_d"]);
    let bad = t
        .get("/api/v1/admin/accounts?cursor=%%%", Some(&admin))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let too_big = t
        .get("/api/v1/admin/accounts?limit=1000", Some(&admin))
        .await;
    assert_eq!(
        (too_big.status, too_big.code()),
        (StatusCode::BAD_REQUEST, "invalid_query")
    );
}

#[tokio::test]
async fn the_profile_is_editable_and_validated() {
    let t = TestApp::new().await;
    let token = t.member("marie").await;
    let change = json!({"display_name": "Marie Curie", "bio": "Chimiste", "expertise_tags": ["Physique", "chimie", "physique"], "language": "fr", "avatar_url": "https://example.org/m.png"});
    let reply = t
        .request(
            Method::PATCH,
            "/api/v1/account/me",
            Some(&token),
            Some(change),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let me = t.get("/api/v1/account/me", Some(&token)).await;
    assert_eq!(me.json["display_name"], "Marie Curie");
    assert_eq!(me.json["expertise_tags"], json!(["physique", "chimie"]));
    assert_eq!(me.json["language"], "fr");
    let bad = t
        .request(
            Method::PATCH,
            "/api/v1/account/me",
            Some(&token),
            Some(json!({"avatar_url": "javascript:x"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = t
        .request(
            Method::PATCH,
            "/api/v1/account/me",
            Some(&token),
            Some(json!({"karma": 1000})),
        )
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused, not ignored"
    );
}

#[tokio::test]
async fn the_setup_token_creates_the_first_admin_once() {
    use cenacle_core::{admin::issue_setup_token_if_needed, ScopedFutureExt};
    let t = TestApp::new().await;
    let issue = || {
        t.ctx
            .transaction(|conn| issue_setup_token_if_needed(conn).scope_boxed())
    };
    let token = issue().await.unwrap().unwrap();
    let body = |name: &str| json!({"setup_token": token, "username": name, "password": PASSWORD});
    let first = t.post("/api/v1/setup", None, body("root")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.json);
    assert_eq!(first.json["role"], "admin");
    let second = t.post("/api/v1/setup", None, body("intruder")).await;
    assert_eq!(
        (second.status, second.code()),
        (StatusCode::FORBIDDEN, "invalid_setup_token")
    );
    assert!(issue().await.unwrap().is_none());
}

#[tokio::test]
async fn errors_speak_french_when_asked() {
    let t = TestApp::new().await;
    let request = Request::builder()
        .uri("/api/v1/account/me")
        .header(header::ACCEPT_LANGUAGE, "fr-FR,fr;q=0.9")
        .body(axum::body::Body::empty())
        .unwrap();
    let fr = t.send(request).await;
    assert_eq!(
        fr.json["error"]["message"],
        "Authentification requise\u{a0}: envoyez un jeton valide."
    );
    let en = t.get("/api/v1/account/me", None).await;
    assert_eq!(
        en.json["error"]["message"],
        "Authentication required: send a valid bearer token."
    );
    assert_eq!(en.code(), fr.code());
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let t = TestApp::new().await;
    let missing = t.get("/api/v1/nothing-here", None).await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::NOT_FOUND, "route_not_found")
    );
    let wrong_method = t
        .request(Method::DELETE, "/api/v1/account/login", None, None)
        .await;
    assert_eq!(
        (wrong_method.status, wrong_method.code()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let t = TestApp::new().await;
    let reply = t.get("/healthz", None).await;
    let id = reply.headers["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 16);
    let request = Request::builder()
        .uri("/healthz")
        .header("x-request-id", "from-the-proxy")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(
        t.send(request).await.headers["x-request-id"],
        "from-the-proxy"
    );
}

/// Mail-sending requests are braked per address named (known or not: the same answer) and per
/// client, across the forgotten-password, verification and address-change endpoints.
#[tokio::test]
async fn mail_requests_are_limited_per_address_and_per_client_alike_for_unknown_addresses() {
    let t = TestApp::with(|s| {
        s.limits.mail_requests_per_address = 2;
        s.limits.mail_requests_per_ip = 6;
    })
    .await;
    let reply = t
        .post(
            "/api/v1/account/register",
            None,
            json!({"username": "marie", "password": PASSWORD, "email": "marie@example.org"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    let ask = async |path: &str, email: &str| t.post(path, None, json!({ "email": email })).await;
    for email in ["marie@example.org", "nobody@example.org"] {
        assert_eq!(
            ask("/api/v1/account/password/forgot", email).await.status,
            StatusCode::ACCEPTED
        );
        assert_eq!(
            ask("/api/v1/account/email/resend", email).await.status,
            StatusCode::ACCEPTED
        );
    }
    // The third request naming an address: refused alike, known or not, whatever the case.
    let known = ask("/api/v1/account/password/forgot", "Marie@Example.org").await;
    let unknown = ask("/api/v1/account/password/forgot", "nobody@example.org").await;
    assert_eq!(known.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(known.code(), "rate_limited");
    assert_eq!((known.status, &known.json), (unknown.status, &unknown.json));
    assert!(known.headers.contains_key(header::RETRY_AFTER));
    // Other addresses from the same client: counted too, refused past six requests.
    assert_eq!(
        ask("/api/v1/account/password/forgot", "a@example.org")
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS,
        "the client made 6 requests already"
    );
    // An address change names the new address and is braked the same way.
    let t = TestApp::with(|s| {
        s.email.enabled = true;
        s.limits.mail_requests_per_address = 1;
    })
    .await;
    let session = t.member("paul").await;
    let change = async || {
        t.post(
            "/api/v1/account/email/change",
            Some(&session),
            json!({"new_email": "paul@example.org", "password": PASSWORD}),
        )
        .await
    };
    assert_eq!(change().await.status, StatusCode::ACCEPTED);
    let again = change().await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(again.code(), "rate_limited");
}
