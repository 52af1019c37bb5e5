//! Welcome and onboarding through the real router and database: the welcome a community
//! manager writes greets a newcomer (panel until dismissed, a welcome post naming them in the
//! welcome group only if they agreed), the journey pays each step once, and a rule's template
//! with an unknown variable is refused naming it.

mod common;

use axum::http::{Method, StatusCode};
use cenacle_domain::{RegistrationMode, Role};
use common::{
    engagement::{setup, setup_with},
    TestApp,
};
use diesel::{sql_types::Text, QueryableByName};
use diesel_async::RunQueryDsl;
use serde_json::json;

#[tokio::test]
async fn a_newcomer_is_welcomed_and_named_in_the_welcome_group_only_if_they_agree() {
    let (t, admin) = setup().await;
    let set = set_up_welcome(&t).await;
    assert_eq!(set["manager"]["username"], "camille");
    // Only admins and community managers edit it; the introducer must be one of them.
    let member = t.member("someone").await;
    let refused = t
        .request(
            Method::PUT,
            "/api/v1/admin/onboarding/welcome",
            Some(&member),
            Some(json!({"manager": "someone"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let not_cm = t
        .request(
            Method::PUT,
            "/api/v1/admin/onboarding/welcome",
            Some(&admin),
            Some(json!({"manager": "someone"})),
        )
        .await;
    assert_eq!(not_cm.status, StatusCode::UNPROCESSABLE_ENTITY);

    let agreed = t
        .post(
            "/api/v1/account/register",
            None,
            json!({"username": "newbie", "password": common::PASSWORD, "language": "en", "welcome_post": true}),
        )
        .await;
    assert_eq!(agreed.status, StatusCode::CREATED, "{}", agreed.json);
    let quiet = t.member("discreet").await;
    let posts = t.get("/api/v1/groups/open/posts", None).await;
    let titles: Vec<String> = posts.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(titles.iter().any(|t| t.contains("@newbie")), "{titles:?}");
    assert!(
        !titles.iter().any(|t| t.contains("@discreet")),
        "{titles:?}"
    );

    let newbie = t.token("newbie").await;
    let mine = t.get("/api/v1/onboarding", Some(&newbie)).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.json);
    assert_eq!(mine.json["welcome"]["message_en"], "Welcome among us!");
    assert_eq!(mine.json["welcome"]["manager"]["username"], "camille");
    let dismissed = t
        .post(
            "/api/v1/onboarding/welcome/dismiss",
            Some(&quiet),
            json!({}),
        )
        .await;
    assert_eq!(dismissed.status, StatusCode::NO_CONTENT);
    let after = t.get("/api/v1/onboarding", Some(&quiet)).await;
    assert!(after.json["welcome"].is_null(), "{}", after.json);
    // Accounts made without signing up (the command line's) see none.
    let before = t.get("/api/v1/onboarding", Some(&admin)).await;
    assert!(before.json["welcome"].is_null());
}

/// The ledger rows that paid `kind`'s journey step to `token`'s member.
async fn step_payments(t: &TestApp, token: &str, kind: &str) -> Vec<i64> {
    let mine = t.get("/api/v1/account/points?limit=100", Some(token)).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.json);
    mine.json["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["reason"] == format!("onboarding: {kind}"))
        .map(|row| row["delta"].as_i64().unwrap())
        .collect()
}

async fn step(t: &TestApp, token: &str, kind: &str) -> serde_json::Value {
    let mine = t.get("/api/v1/onboarding", Some(token)).await;
    mine.json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == kind)
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn a_journey_step_pays_its_points_once() {
    let (t, _admin) = setup().await;
    let newbie = t.member("newbie").await;
    let post_idea = step(&t, &newbie, "post_idea").await;
    assert_eq!(post_idea["done"], false);
    let reward = post_idea["points"].as_i64().unwrap();
    assert!(reward > 0);
    let idea = t
        .post(
            "/api/v1/groups/open/posts",
            Some(&newbie),
            json!({"kind": "idea", "title": "Une idée"}),
        )
        .await;
    assert_eq!(idea.status, StatusCode::CREATED, "{}", idea.json);
    // Paid by the post itself: a member who never opens their journey is paid too.
    assert_eq!(step_payments(&t, &newbie, "post_idea").await, vec![reward]);
    // Reading the journey, deleting the idea and posting another pay nothing more.
    for _ in 0..2 {
        assert_eq!(step(&t, &newbie, "post_idea").await["done"], true);
    }
    let id = idea.json["post"]["id"].as_i64().unwrap();
    let gone = t
        .request(
            Method::DELETE,
            &format!("/api/v1/posts/{id}"),
            Some(&newbie),
            None,
        )
        .await;
    assert!(gone.status.is_success(), "{}", gone.json);
    let again = t
        .post(
            "/api/v1/groups/open/posts",
            Some(&newbie),
            json!({"kind": "idea", "title": "Une autre idée"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.json);
    assert_eq!(step(&t, &newbie, "post_idea").await["done"], true);
    assert_eq!(step_payments(&t, &newbie, "post_idea").await, vec![reward]);
}

#[tokio::test]
async fn an_idea_held_for_approval_finishes_its_step_only_when_approved() {
    let (t, admin) = setup().await;
    let held = t
        .request(
            Method::PUT,
            "/api/v1/groups/open/approval",
            Some(&admin),
            Some(json!({"enabled": true, "first_posts": 1})),
        )
        .await;
    assert_eq!(held.status, StatusCode::OK, "{}", held.json);
    let newbie = t.member("newbie").await;
    let idea = t
        .post(
            "/api/v1/groups/open/posts",
            Some(&newbie),
            json!({"kind": "idea", "title": "Une idée en attente"}),
        )
        .await;
    assert_eq!(idea.status, StatusCode::CREATED, "{}", idea.json);
    assert_eq!(idea.json["post"]["approval"], "pending", "{}", idea.json);
    // Waiting: not done, unpaid — even when the journey is read.
    assert_eq!(step(&t, &newbie, "post_idea").await["done"], false);
    assert!(step_payments(&t, &newbie, "post_idea").await.is_empty());
    let id = idea.json["post"]["id"].as_i64().unwrap();
    let approved = t
        .request(
            Method::POST,
            &format!("/api/v1/posts/{id}/approve"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.json);
    // Approved: paid by the approval, before the journey is read.
    assert_eq!(step_payments(&t, &newbie, "post_idea").await.len(), 1);
    assert_eq!(step(&t, &newbie, "post_idea").await["done"], true);
}

#[tokio::test]
async fn the_like_step_pays_at_the_third_like_and_the_profile_step_when_complete() {
    let (t, _admin) = setup().await;
    let author = t.member("author").await;
    let newbie = t.member("newbie").await;
    let mut ids = Vec::new();
    for title in ["Un", "Deux", "Trois"] {
        let post = t
            .post(
                "/api/v1/groups/open/posts",
                Some(&author),
                json!({"kind": "note", "title": title}),
            )
            .await;
        assert_eq!(post.status, StatusCode::CREATED, "{}", post.json);
        ids.push(post.json["post"]["id"].as_i64().unwrap());
    }
    let like = |id: i64| {
        let t = &t;
        let newbie = &newbie;
        async move {
            let r = t
                .request(
                    Method::PUT,
                    &format!("/api/v1/posts/{id}/vote"),
                    Some(newbie),
                    Some(json!({"vote": "like"})),
                )
                .await;
            assert!(r.status.is_success(), "{}", r.json);
        }
    };
    like(ids[0]).await;
    like(ids[1]).await;
    // Read before the step is done (reading a finished step would pay it too).
    let reward = step(&t, &newbie, "like_contributions").await["points"]
        .as_i64()
        .unwrap();
    assert!(step_payments(&t, &newbie, "like_contributions")
        .await
        .is_empty());
    like(ids[2]).await;
    assert_eq!(
        step_payments(&t, &newbie, "like_contributions").await,
        vec![reward]
    );

    // Half a profile pays nothing; the whole one pays once.
    let profile = |body: serde_json::Value| {
        let t = &t;
        let newbie = &newbie;
        async move {
            let r = t
                .request(
                    Method::PATCH,
                    "/api/v1/account/me",
                    Some(newbie),
                    Some(body),
                )
                .await;
            assert!(r.status.is_success(), "{}", r.json);
        }
    };
    profile(json!({"display_name": "Nina"})).await;
    assert!(step_payments(&t, &newbie, "complete_profile")
        .await
        .is_empty());
    profile(json!({
        "display_name": "Nina",
        "bio": "Barista",
        "avatar_url": "https://example.org/nina.png"
    }))
    .await;
    profile(json!({"bio": "Barista, Lyon"})).await;
    assert_eq!(
        step_payments(&t, &newbie, "complete_profile").await.len(),
        1
    );
}

/// Several actions finishing one step at once (joins of eight groups, with journey reads that
/// settle steps too, all in flight together) pay the step once, and the balance stays the
/// sum of its ledger. Each payer locks the member's points row, then takes the step's ledger
/// key; a payer that checked "unpaid" before another committed must not pay a second time.
#[tokio::test]
async fn actions_racing_to_finish_one_step_pay_it_once() {
    let (t, admin) = setup().await;
    let newbie = t.member("newbie").await;
    // Not done before the race (else nothing would race to pay it).
    let join_group = step(&t, &newbie, "join_group").await;
    assert_eq!(join_group["done"], false, "{join_group}");
    assert!(step_payments(&t, &newbie, "join_group").await.is_empty());
    let reward = join_group["points"].as_i64().unwrap();
    assert!(reward > 0);
    let names: Vec<String> = (0..8).map(|i| format!("club{i}")).collect();
    for name in &names {
        let made = t
            .post(
                "/api/v1/groups",
                Some(&admin),
                json!({"name": name, "title": name}),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
    }
    let joins = names.iter().map(|name| {
        let (t, newbie) = (&t, &newbie);
        async move {
            let joined = t
                .post(
                    &format!("/api/v1/groups/{name}/join"),
                    Some(newbie),
                    json!({}),
                )
                .await;
            assert!(joined.status.is_success(), "{}", joined.json);
        }
    });
    let reads = (0..4).map(|_| {
        let (t, newbie) = (&t, &newbie);
        async move {
            let read = t.get("/api/v1/onboarding", Some(newbie)).await;
            assert_eq!(read.status, StatusCode::OK, "{}", read.json);
        }
    });
    futures::future::join(
        futures::future::join_all(joins),
        futures::future::join_all(reads),
    )
    .await;

    assert_eq!(step_payments(&t, &newbie, "join_group").await, vec![reward]);
    let mine = t
        .get("/api/v1/account/points?limit=100", Some(&newbie))
        .await;
    let ledger: i64 = mine.json["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["delta"].as_i64().unwrap())
        .sum();
    assert_eq!(
        mine.json["balance"].as_i64().unwrap(),
        ledger,
        "{}",
        mine.json
    );
}

#[tokio::test]
async fn a_rule_template_with_an_unknown_variable_is_refused_naming_it() {
    let (t, _admin) = setup().await;
    let cm = t.with_role("camille", Role::CommunityManager).await;
    let rule = json!({
        "trigger": "no_contribution_after_signup",
        "delay_days": 3,
        "stop_condition": "has_contributed",
        "subject_fr": "Bonjour {{name}}",
        "body_fr": "Déjà {{days}} jours",
        "subject_en": "Hello {{name}}",
        "body_en": "Your {{karma}} awaits",
    });
    let refused = t
        .post("/api/v1/admin/onboarding/rules", Some(&cm), rule.clone())
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.code(), "unknown_template_variable");
    assert_eq!(refused.json["error"]["details"]["variable"], "karma");
    assert_eq!(refused.json["error"]["details"]["field"], "body_en");
    let mut fixed = rule;
    fixed["body_en"] = json!("{{days}} days already: {{link}}");
    let created = t
        .post("/api/v1/admin/onboarding/rules", Some(&cm), fixed)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let id = created.json["id"].as_i64().unwrap();
    let preview = t
        .get(
            &format!("/api/v1/admin/onboarding/rules/{id}/dry-run"),
            Some(&cm),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.json);
    // Everyone signed up just now: three days have not passed.
    assert_eq!(preview.json.as_array().unwrap().len(), 0);
}

/// The community manager's welcome, introduced by camille, greeting newcomers who agree in the
/// `open` group. Returns the welcome as saved.
async fn set_up_welcome(t: &TestApp) -> serde_json::Value {
    let cm = t.with_role("camille", Role::CommunityManager).await;
    let set = t
        .request(
            Method::PUT,
            "/api/v1/admin/onboarding/welcome",
            Some(&cm),
            Some(json!({
                "message_fr": "Bienvenue parmi nous !",
                "message_en": "Welcome among us!",
                "manager": "camille",
                "group": "open",
                "post_in_group": true
            })),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.json);
    set.json
}

/// How many welcome mails were queued to `address`.
async fn welcome_mails(t: &TestApp, address: &str) -> i64 {
    t.count_with(
        "SELECT count(*) AS n FROM mail_queue WHERE kind = 'onboarding' AND to_address = $1",
        &[address],
    )
    .await
}

/// The token of the last mail of `kind` queued to `address` (its link's `token=` value).
async fn mailed_token(t: &TestApp, kind: &str, address: &str) -> String {
    #[derive(QueryableByName)]
    struct Body {
        #[diesel(sql_type = Text)]
        text_body: String,
    }
    let mut conn = t.db.pool.get().await.unwrap();
    let mail: Body = diesel::sql_query(
        "SELECT text_body FROM mail_queue WHERE kind = $1 AND to_address = $2 \
         ORDER BY id DESC LIMIT 1",
    )
    .bind::<Text, _>(kind)
    .bind::<Text, _>(address)
    .get_result(&mut conn)
    .await
    .unwrap();
    let start = mail.text_body.find("token=").expect("a link with a token") + "token=".len();
    mail.text_body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

/// Titles of the `open` group's posts.
async fn open_titles(t: &TestApp) -> Vec<String> {
    let posts = t.get("/api/v1/groups/open/posts", None).await;
    posts.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The welcome mail goes only to verified addresses: a newcomer who signs up with an address
/// not verified yet gets it when they verify it — once, however often the address is verified
/// again (a password reset verifies it too).
#[tokio::test]
async fn a_newcomer_gets_the_welcome_mail_when_their_address_is_verified() {
    let (t, _admin) = setup_with(|s| s.email.enabled = true).await;
    set_up_welcome(&t).await;
    let address = "newbie@example.org";
    let signed_up = t
        .post(
            "/api/v1/account/register",
            None,
            json!({"username": "newbie", "password": common::PASSWORD, "language": "en", "email": address}),
        )
        .await;
    assert_eq!(signed_up.status, StatusCode::CREATED, "{}", signed_up.json);
    assert_eq!(
        welcome_mails(&t, address).await,
        0,
        "the address is not verified yet"
    );

    let token = mailed_token(&t, "verify_email", address).await;
    let verified = t
        .post(
            "/api/v1/account/email/verify",
            None,
            json!({"token": token}),
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.json);
    assert_eq!(
        welcome_mails(&t, address).await,
        1,
        "owed since the sign-up"
    );

    let forgot = t
        .post(
            "/api/v1/account/password/forgot",
            None,
            json!({"email": address}),
        )
        .await;
    assert!(forgot.status.is_success(), "{}", forgot.json);
    let token = mailed_token(&t, "password_reset", address).await;
    let reset = t
        .post(
            "/api/v1/account/password/reset",
            None,
            json!({"token": token, "password": "another long passphrase 42"}),
        )
        .await;
    assert!(reset.status.is_success(), "{}", reset.json);
    assert_eq!(welcome_mails(&t, address).await, 1, "welcomed once");

    // Suspended before verifying: not welcomed to a community they may not enter.
    let other = "suspended@example.org";
    let signed_up = t
        .post(
            "/api/v1/account/register",
            None,
            json!({"username": "suspended", "password": common::PASSWORD, "email": other}),
        )
        .await;
    assert_eq!(signed_up.status, StatusCode::CREATED, "{}", signed_up.json);
    let mut conn = t.db.pool.get().await.unwrap();
    diesel::sql_query(
        "UPDATE local_user SET status = 'suspended' \
         WHERE person_id = (SELECT id FROM person WHERE username = 'suspended')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);
    let token = mailed_token(&t, "verify_email", other).await;
    t.post(
        "/api/v1/account/email/verify",
        None,
        json!({"token": token}),
    )
    .await;
    assert_eq!(welcome_mails(&t, other).await, 0);
}

/// A registration waiting for approval is greeted when an admin lets it in — its panel, its
/// welcome mail (its address verified meanwhile) and the welcome post it agreed to — and not
/// before.
#[tokio::test]
async fn an_approved_registration_is_welcomed_when_let_in() {
    let (t, admin) = setup_with(|s| {
        s.email.enabled = true;
        s.accounts.registration_mode = RegistrationMode::ApprovalRequired;
    })
    .await;
    set_up_welcome(&t).await;
    let address = "waiting@example.org";
    let signed_up = t
        .post(
            "/api/v1/account/register",
            None,
            json!({"username": "waiting", "password": common::PASSWORD, "language": "en",
                   "email": address, "reason": "I use your kettles", "welcome_post": true}),
        )
        .await;
    assert_eq!(signed_up.status, StatusCode::CREATED, "{}", signed_up.json);
    let token = mailed_token(&t, "verify_email", address).await;
    let verified = t
        .post(
            "/api/v1/account/email/verify",
            None,
            json!({"token": token}),
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.json);
    assert_eq!(welcome_mails(&t, address).await, 0, "not let in yet");
    assert!(!open_titles(&t).await.iter().any(|t| t.contains("@waiting")));

    let approved = t
        .post(
            "/api/v1/admin/accounts/waiting/approve",
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.json);
    assert_eq!(welcome_mails(&t, address).await, 1);
    let titles = open_titles(&t).await;
    assert!(titles.iter().any(|t| t.contains("@waiting")), "{titles:?}");
    let waiting = t.token("waiting").await;
    let mine = t.get("/api/v1/onboarding", Some(&waiting)).await;
    assert_eq!(
        mine.json["welcome"]["message_en"], "Welcome among us!",
        "{}",
        mine.json
    );
}
