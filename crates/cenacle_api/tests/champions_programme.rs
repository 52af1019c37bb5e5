//! The champions programme as a lifecycle (issue "Champions", items 4–6): nomination,
//! invitation, charter, active champion, objectives, renewal, exit — every step in the audit
//! trail; champion tools only for active champions who accepted the current charter, in
//! their groups; the private champions group never federated.

mod common;

use axum::{
    body::Body,
    http::{header, Method, Request, StatusCode},
};
use cenacle_core::ScopedFutureExt;
use cenacle_domain::Role;
use common::{
    engagement::{journey_pays_nothing, points},
    Reply, TestApp,
};
use serde_json::{json, Value};

const BASE: &str = "http://localhost:8700";
/// What is said in the champions group: it must never leave the instance.
const SECRET: &str = "Roadmap confidentielle CHAMPQX77";

fn ok(reply: &Reply) {
    assert!(reply.status.is_success(), "{} {}", reply.status, reply.json);
}

fn refused(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.json);
    assert_eq!(reply.code(), code, "{}", reply.json);
    assert!(
        !reply.json["error"]["message"]
            .as_str()
            .unwrap_or("")
            .is_empty(),
        "a message comes with {code}"
    );
}

struct Programme {
    t: TestApp,
    /// A community manager.
    cm: String,
    alice: String,
    bob: String,
    carol: String,
}

impl Programme {
    async fn new() -> Self {
        let t = TestApp::new().await;
        let cm = t.with_role("manon", Role::CommunityManager).await;
        let alice = t.member("alice").await;
        let bob = t.member("bob").await;
        let carol = t.member("carol").await;
        for name in ["rust", "python"] {
            ok(&t
                .post(
                    "/api/v1/groups",
                    Some(&cm),
                    json!({"name": name, "title": name, "description": "Entraide", "visibility": "public"}),
                )
                .await);
        }
        let p = Programme {
            t,
            cm,
            alice,
            bob,
            carol,
        };
        p.publish_charter("Help kindly, v1.").await;
        p
    }

    async fn publish_charter(&self, text: &str) -> i64 {
        let reply = self
            .t
            .post(
                "/api/v1/champions/charter",
                Some(&self.cm),
                json!({"text_en": text, "text_fr": format!("FR {text}"), "reason": "update"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
        reply.json["version"].as_i64().unwrap()
    }

    async fn current_version(&self) -> i64 {
        let reply = self
            .t
            .get("/api/v1/champions/charter", Some(&self.bob))
            .await;
        ok(&reply);
        reply.json["version"].as_i64().unwrap()
    }

    async fn nominate(&self, person: &str, groups: &[&str]) -> Reply {
        self.t
            .post(
                "/api/v1/champions/nominations",
                Some(&self.cm),
                json!({"person": person, "groups": groups, "title": "Champion", "reason": "from the shortlist"}),
            )
            .await
    }

    async fn me(&self, token: &str) -> Value {
        let reply = self.t.get("/api/v1/champions/me", Some(token)).await;
        ok(&reply);
        reply.json
    }

    /// Nominated for `groups`, invitation accepted, current charter accepted.
    async fn champion(&self, name: &str, token: &str, groups: &[&str]) {
        ok(&self.nominate(name, groups).await);
        ok(&self
            .t
            .post(
                "/api/v1/champions/me/invitation",
                Some(token),
                json!({"accept": true}),
            )
            .await);
        let version = self.current_version().await;
        let reply = self
            .t
            .post(
                "/api/v1/champions/me/charter",
                Some(token),
                json!({"version": version}),
            )
            .await;
        ok(&reply);
        assert_eq!(reply.json["status"], "active", "{}", reply.json);
    }

    async fn post_in(&self, token: &str, group: &str, kind: &str, title: &str) -> i64 {
        let reply = self
            .t
            .post(
                &format!("/api/v1/groups/{group}/posts"),
                Some(token),
                json!({"kind": kind, "title": title, "body": format!("{title}, body")}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
        reply.json["post"]["id"].as_i64().unwrap()
    }

    async fn answer(&self, token: &str, post: i64, body: &str) -> i64 {
        let reply = self
            .t
            .post(
                &format!("/api/v1/posts/{post}/comments"),
                Some(token),
                json!({"body": body}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
        reply.json["id"].as_i64().unwrap()
    }

    async fn audit(&self, name: &str) -> Vec<Value> {
        let reply = self
            .t
            .get(
                &format!("/api/v1/champions/people/{name}/audit"),
                Some(&self.cm),
            )
            .await;
        ok(&reply);
        reply.json.as_array().unwrap().clone()
    }

    async fn badges(&self, name: &str) -> Vec<String> {
        let reply = self.t.get(&format!("/api/v1/people/{name}"), None).await;
        ok(&reply);
        reply.json["badges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["slug"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn tool(&self, token: &str, post: i64, tool: &str, body: Value) -> Reply {
        self.t
            .post(
                &format!("/api/v1/champions/tools/posts/{post}/{tool}"),
                Some(token),
                body,
            )
            .await
    }
}

#[tokio::test]
async fn a_member_cannot_become_champion_without_accepting_the_current_charter() {
    let p = Programme::new().await;
    let t = &p.t;
    ok(&p.nominate("alice", &["rust"]).await);
    let me = p.me(&p.alice).await;
    assert_eq!(me["champion"]["status"], "invited");
    assert_eq!(me["charter"]["version"], 1);
    assert_eq!(me["charter"]["text_fr"], "FR Help kindly, v1.");
    // The charter comes after the invitation is accepted.
    refused(
        &t.post(
            "/api/v1/champions/me/charter",
            Some(&p.alice),
            json!({"version": 1}),
        )
        .await,
        StatusCode::CONFLICT,
        "champion_no_invitation",
    );
    ok(&t
        .post(
            "/api/v1/champions/me/invitation",
            Some(&p.alice),
            json!({"accept": true}),
        )
        .await);
    // Invitation accepted, charter not: not a champion.
    assert_eq!(
        p.me(&p.alice).await["champion"]["status"],
        "pending_charter"
    );
    assert!(p.badges("alice").await.is_empty());
    assert_eq!(
        t.get("/api/v1/groups/champions/posts", Some(&p.alice))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    refused(
        &t.get("/api/v1/champions/tools/questions", Some(&p.alice))
            .await,
        StatusCode::FORBIDDEN,
        "champion_tools_not_a_champion",
    );
    // A new version is published meanwhile: accepting the one read before is refused, and
    // nothing changes.
    let v2 = p.publish_charter("Help kindly, v2.").await;
    assert_eq!(v2, 2);
    let trail_before = p.audit("alice").await.len();
    refused(
        &t.post(
            "/api/v1/champions/me/charter",
            Some(&p.alice),
            json!({"version": 1}),
        )
        .await,
        StatusCode::CONFLICT,
        "champion_charter_outdated",
    );
    let me = p.me(&p.alice).await;
    assert_eq!(me["champion"]["status"], "pending_charter");
    assert_eq!(me["champion"]["charter_version"], Value::Null);
    assert_eq!(p.audit("alice").await.len(), trail_before);
    assert!(p.badges("alice").await.is_empty());
    // The current one makes her a champion: status, badge worn as title, the group.
    let reply = t
        .post(
            "/api/v1/champions/me/charter",
            Some(&p.alice),
            json!({"version": 2}),
        )
        .await;
    ok(&reply);
    assert_eq!(reply.json["status"], "active");
    assert_eq!(reply.json["charter_version"], 2);
    assert!(reply.json["charter_accepted_at"].is_string());
    assert!(reply.json["renewal_due"].is_string());
    assert_eq!(p.badges("alice").await, ["superuser"]);
    let person = t.get("/api/v1/people/alice", None).await;
    assert_eq!(person.json["title"]["slug"], "superuser");
    ok(&t
        .get("/api/v1/groups/champions/posts", Some(&p.alice))
        .await);
}

#[tokio::test]
async fn a_new_charter_version_suspends_champion_tools_until_accepted() {
    let p = Programme::new().await;
    let t = &p.t;
    p.champion("alice", &p.alice, &["rust"]).await;
    let question = p
        .post_in(&p.bob, "rust", "question", "Borrow checker?")
        .await;
    let answer = p.answer(&p.carol, question, "Use a reference.").await;
    let accepted = p
        .tool(&p.alice, question, "accept", json!({"comment_id": answer}))
        .await;
    ok(&accepted);
    assert_eq!(accepted.json["accepted_comment_id"], answer);

    p.publish_charter("Help kindly, v2.").await;
    let me = p.me(&p.alice).await;
    assert_eq!(me["champion"]["status"], "active", "still a champion");
    assert_eq!(me["champion"]["tools_suspended"], true);
    for (tool, body) in [
        ("pin", json!({"pinned": true})),
        ("accept", json!({"comment_id": null})),
    ] {
        refused(
            &p.tool(&p.alice, question, tool, body).await,
            StatusCode::FORBIDDEN,
            "champion_tools_charter_not_accepted",
        );
    }
    refused(
        &t.get("/api/v1/champions/tools/questions", Some(&p.alice))
            .await,
        StatusCode::FORBIDDEN,
        "champion_tools_charter_not_accepted",
    );
    let post = t.get(&format!("/api/v1/posts/{question}"), None).await;
    assert_eq!(post.json["post"]["pinned"], false, "nothing changed");

    ok(&t
        .post(
            "/api/v1/champions/me/charter",
            Some(&p.alice),
            json!({"version": 2}),
        )
        .await);
    assert_eq!(p.me(&p.alice).await["champion"]["tools_suspended"], false);
    let pinned = p
        .tool(&p.alice, question, "pin", json!({"pinned": true}))
        .await;
    ok(&pinned);
    assert_eq!(pinned.json["pinned"], true);
}

#[tokio::test]
async fn exit_removes_the_private_group_at_once_and_keeps_the_champions_posts() {
    let p = Programme::new().await;
    let t = &p.t;
    p.champion("alice", &p.alice, &["rust"]).await;
    let private = p.post_in(&p.alice, "champions", "note", SECRET).await;
    let public = p
        .post_in(&p.alice, "rust", "note", "Tips for lifetimes")
        .await;
    ok(&t
        .get(&format!("/api/v1/posts/{private}"), Some(&p.alice))
        .await);

    // A removal needs a reason: refused without one, nothing changed.
    refused(
        &t.post(
            "/api/v1/champions/people/alice/remove",
            Some(&p.cm),
            json!({"reason": "  "}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "champion_reason_required",
    );
    assert_eq!(p.me(&p.alice).await["champion"]["status"], "active");
    // Members cannot remove anyone.
    assert_eq!(
        t.post(
            "/api/v1/champions/people/alice/remove",
            Some(&p.bob),
            json!({"reason": "x"}),
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    let removed = t
        .post(
            "/api/v1/champions/people/alice/remove",
            Some(&p.cm),
            json!({"reason": "Plus assez disponible"}),
        )
        .await;
    ok(&removed);
    // Immediately: the private group's posts are 404 for her, as for any outsider.
    for path in [
        format!("/api/v1/posts/{private}"),
        "/api/v1/groups/champions/posts".to_owned(),
    ] {
        let reply = t.get(&path, Some(&p.alice)).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            reply.json
        );
        assert!(!reply.json.to_string().contains(SECRET));
    }
    // Her status, badge, title and tools are gone; the reason is shown to her.
    let me = p.me(&p.alice).await;
    assert_eq!(me["champion"]["status"], "exited");
    assert_eq!(me["champion"]["exit_reason"], "Plus assez disponible");
    assert!(me["champion"]["groups"].as_array().unwrap().is_empty());
    assert!(p.badges("alice").await.is_empty());
    assert_eq!(
        t.get("/api/v1/people/alice", None).await.json["title"],
        Value::Null
    );
    refused(
        &p.tool(&p.alice, public, "pin", json!({"pinned": true}))
            .await,
        StatusCode::FORBIDDEN,
        "champion_tools_not_a_champion",
    );
    // What she wrote stays: in the champions group (for its members) and in public.
    let kept = t
        .get(&format!("/api/v1/posts/{private}"), Some(&p.cm))
        .await;
    ok(&kept);
    assert!(kept.json.to_string().contains(SECRET));
    ok(&t.get(&format!("/api/v1/posts/{public}"), None).await);
    // She was told, as Bob is when his term lapses at its review.
    assert_eq!(latest_champion_step(t, &p.alice).await, "removed");
    p.champion("bob", &p.bob, &["rust"]).await;
    ok(&t
        .post(
            "/api/v1/champions/people/bob/lapse",
            Some(&p.cm),
            json!({"reason": "Une année bien remplie"}),
        )
        .await);
    assert_eq!(latest_champion_step(t, &p.bob).await, "lapsed");
    // And she can be nominated again later.
    ok(&p.nominate("alice", &["rust"]).await);
}

/// The latest step of the programme the member was told of.
async fn latest_champion_step(t: &TestApp, token: &str) -> String {
    let steps = t.notifications_of_kind(token, "champion").await;
    let step = steps.first().and_then(|n| n["detail"].as_str());
    step.unwrap_or("none").to_owned()
}

#[tokio::test]
async fn every_step_of_the_lifecycle_is_in_the_audit_trail() {
    let p = Programme::new().await;
    let t = &p.t;
    p.champion("alice", &p.alice, &["rust"]).await;
    ok(&t
        .request(
            Method::PUT,
            "/api/v1/champions/people/alice/objectives",
            Some(&p.cm),
            Some(json!({"metric": "answers_per_month", "target": 10, "reason": "pace"})),
        )
        .await);
    p.publish_charter("Help kindly, v2.").await;
    ok(&t
        .post(
            "/api/v1/champions/me/charter",
            Some(&p.alice),
            json!({"version": 2}),
        )
        .await);
    ok(&t
        .post(
            "/api/v1/champions/people/alice/renew",
            Some(&p.cm),
            json!({"reason": "great year"}),
        )
        .await);
    ok(&t
        .post(
            "/api/v1/champions/me/exit",
            Some(&p.alice),
            json!({"reason": "new job"}),
        )
        .await);
    // Bob declines his invitation.
    ok(&p.nominate("bob", &[]).await);
    ok(&t
        .post(
            "/api/v1/champions/me/invitation",
            Some(&p.bob),
            json!({"accept": false, "reason": "no time"}),
        )
        .await);

    let trail = p.audit("alice").await;
    let steps: Vec<(&str, &str)> = trail
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("nominated", "manon"),
            ("invited", "manon"),
            ("invitation_accepted", "alice"),
            ("charter_accepted", "alice"),
            ("activated", "alice"),
            ("objective_set", "manon"),
            ("charter_published", "manon"),
            ("charter_accepted", "alice"),
            ("renewed", "manon"),
            ("exited_voluntarily", "alice"),
        ]
    );
    // When, why and what.
    for entry in &trail {
        assert!(entry["at"].is_string(), "{entry}");
    }
    let find = |action: &str| {
        trail
            .iter()
            .find(|e| e["action"] == action)
            .unwrap()
            .clone()
    };
    assert_eq!(find("nominated")["reason"], "from the shortlist");
    assert!(find("nominated")["detail"]
        .as_str()
        .unwrap()
        .contains("rust"));
    assert!(find("charter_accepted")["detail"]
        .as_str()
        .unwrap()
        .contains("version 1"));
    assert_eq!(find("objective_set")["detail"], "answers_per_month >= 10");
    assert_eq!(find("renewed")["reason"], "great year");
    assert_eq!(find("exited_voluntarily")["reason"], "new job");
    let bob: Vec<String> = p
        .audit("bob")
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(bob, ["nominated", "invited", "invitation_declined"]);

    // The steps a manager took for them are told to them, oldest last; their own are not.
    let told = |token: String| {
        let t = &p.t;
        async move {
            t.notifications_of_kind(&token, "champion")
                .await
                .iter()
                .map(|n| {
                    assert_eq!(n["actor"], "manon", "{n}");
                    n["detail"].as_str().unwrap().to_owned()
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        told(p.alice.clone()).await,
        ["renewed", "charter_published", "invited"]
    );
    assert_eq!(told(p.bob.clone()).await, ["invited"]);
}

#[tokio::test]
async fn champion_tools_are_refused_to_non_champions_and_outside_their_groups() {
    let p = Programme::new().await;
    let t = &p.t;
    p.champion("alice", &p.alice, &["rust"]).await;
    let in_rust = p.post_in(&p.bob, "rust", "question", "Traits?").await;
    let rust_answer = p.answer(&p.carol, in_rust, "Like interfaces.").await;
    let in_python = p.post_in(&p.bob, "python", "question", "GIL?").await;
    let py_answer = p.answer(&p.carol, in_python, "A lock.").await;

    // Not a champion: every tool refused.
    for (post, tool, body) in [
        (in_rust, "accept", json!({"comment_id": rust_answer})),
        (in_rust, "pin", json!({"pinned": true})),
        (in_rust, "move", json!({"group": "python"})),
    ] {
        refused(
            &p.tool(&p.carol, post, tool, body).await,
            StatusCode::FORBIDDEN,
            "champion_tools_not_a_champion",
        );
    }
    refused(
        &t.get("/api/v1/champions/tools/questions", Some(&p.carol))
            .await,
        StatusCode::FORBIDDEN,
        "champion_tools_not_a_champion",
    );
    // A champion outside her groups: refused too, there and as a destination.
    for (post, tool, body) in [
        (in_python, "accept", json!({"comment_id": py_answer})),
        (in_python, "pin", json!({"pinned": true})),
        (in_rust, "move", json!({"group": "python"})),
    ] {
        refused(
            &p.tool(&p.alice, post, tool, body).await,
            StatusCode::FORBIDDEN,
            "champion_tools_not_their_group",
        );
    }
    // Nothing changed.
    for post in [in_rust, in_python] {
        let reply = t.get(&format!("/api/v1/posts/{post}"), None).await;
        assert_eq!(reply.json["post"]["pinned"], false);
        assert_eq!(reply.json["post"]["accepted_answer_id"], Value::Null);
    }
    assert_eq!(
        t.get(&format!("/api/v1/posts/{in_rust}"), None).await.json["post"]["group"],
        "rust"
    );
    // In her group, they work; new questions first lists her groups' unanswered ones only.
    let questions = t
        .get("/api/v1/champions/tools/questions", Some(&p.alice))
        .await;
    ok(&questions);
    let ids: Vec<i64> = questions
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [in_rust]);
    ok(&p
        .tool(&p.alice, in_rust, "pin", json!({"pinned": true}))
        .await);
    ok(&p
        .tool(
            &p.alice,
            in_rust,
            "accept",
            json!({"comment_id": rust_answer}),
        )
        .await);
    assert!(t
        .get("/api/v1/champions/tools/questions", Some(&p.alice))
        .await
        .json
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn bad_input_is_refused_with_clear_codes_and_changes_nothing() {
    let p = Programme::new().await;
    let t = &p.t;
    // A suspended account.
    let dave = t.member("dave").await;
    let _ = dave;
    t.ctx
        .transaction(|conn| {
            async move {
                let person = cenacle_core::people::person_by_handle(conn, &t.ctx, "dave").await?;
                cenacle_db::accounts::set_status(
                    conn,
                    person.id,
                    cenacle_domain::AccountStatus::Suspended,
                )
                .await?;
                Ok::<_, cenacle_core::CoreError>(())
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    refused(
        &p.nominate("dave", &["rust"]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "champion_person_suspended",
    );
    // A remote account.
    remote_person(t, "friend.test", "amie").await;
    refused(
        &p.nominate("amie@friend.test", &["rust"]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "champion_person_remote",
    );
    let dashboard = t.get("/api/v1/champions", Some(&p.cm)).await;
    ok(&dashboard);
    assert!(
        dashboard.json.as_array().unwrap().is_empty(),
        "{}",
        dashboard.json
    );
    // Negative objective targets.
    p.champion("alice", &p.alice, &["rust"]).await;
    let trail = p.audit("alice").await.len();
    refused(
        &t.request(
            Method::PUT,
            "/api/v1/champions/people/alice/objectives",
            Some(&p.cm),
            Some(json!({"metric": "answers_per_month", "target": -3})),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "champion_objective_negative",
    );
    assert_eq!(p.audit("alice").await.len(), trail);
    let listed = t.get("/api/v1/champions", Some(&p.cm)).await;
    assert!(listed.json[0]["objectives"].as_array().unwrap().is_empty());
    // An outdated charter version (tested at length above): 409.
    p.publish_charter("v2").await;
    refused(
        &t.post(
            "/api/v1/champions/me/charter",
            Some(&p.alice),
            json!({"version": 1}),
        )
        .await,
        StatusCode::CONFLICT,
        "champion_charter_outdated",
    );
    assert_eq!(p.me(&p.alice).await["champion"]["charter_version"], 1);
    // Members do not run the programme.
    assert_eq!(
        p.t.post(
            "/api/v1/champions/nominations",
            Some(&p.bob),
            json!({"person": "carol"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_dashboard_lists_objectives_renewals_priority_and_the_share_of_solutions() {
    let p = Programme::new().await;
    let t = &p.t;
    p.champion("alice", &p.alice, &["rust"]).await;
    ok(&t
        .request(
            Method::PUT,
            "/api/v1/champions/people/alice/objectives",
            Some(&p.cm),
            Some(json!({"metric": "answers_per_month", "target": 2})),
        )
        .await);
    // Two questions answered: one by the champion, one by carol; both accepted.
    let q1 = p.post_in(&p.bob, "rust", "question", "Q1").await;
    let a1 = p.answer(&p.alice, q1, "Champion's answer").await;
    let q2 = p.post_in(&p.bob, "rust", "question", "Q2").await;
    let a2 = p.answer(&p.carol, q2, "Carol's answer").await;
    for (q, a) in [(q1, a1), (q2, a2)] {
        ok(&t
            .request(
                Method::PUT,
                &format!("/api/v1/posts/{q}/accepted-answer"),
                Some(&p.bob),
                Some(json!({"comment_id": a})),
            )
            .await);
    }
    let listed = t.get("/api/v1/champions?status=active", Some(&p.cm)).await;
    ok(&listed);
    let alice = &listed.json[0];
    assert_eq!(alice["username"], "alice");
    assert_eq!(alice["groups"][0]["name"], "rust");
    assert!(alice["renewal_due"].is_string());
    assert_eq!(alice["objectives"][0]["progress"], 1);
    assert_eq!(alice["objectives"][0]["met"], false);

    let share = t
        .get("/api/v1/champions/solutions-share?months=1", Some(&p.cm))
        .await;
    ok(&share);
    assert_eq!(share.json[0]["accepted"], 2, "{}", share.json);
    assert_eq!(share.json[0]["by_champions"], 1);
    assert_eq!(share.json[0]["share_percent"], 50.0);

    // Renewal due list: within a year and a day she is due, within a month not.
    let due = |days: u32| format!("/api/v1/champions/renewals?within_days={days}");
    assert!(t
        .get(&due(30), Some(&p.cm))
        .await
        .json
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        t.get(&due(370), Some(&p.cm)).await.json[0]["username"],
        "alice"
    );

    // Priority: notices to champions; champions' questions in the managers' queue.
    ok(&t
        .post(
            "/api/v1/champions/notices",
            Some(&p.cm),
            json!({"body": "Nouvelle version en avant-première"}),
        )
        .await);
    let notices = t.get("/api/v1/champions/notices", Some(&p.alice)).await;
    ok(&notices);
    assert_eq!(
        notices.json[0]["body"],
        "Nouvelle version en avant-première"
    );
    refused(
        &t.get("/api/v1/champions/notices", Some(&p.bob)).await,
        StatusCode::FORBIDDEN,
        "champion_tools_not_a_champion",
    );
    let asked = p
        .post_in(&p.alice, "python", "question", "Async GIL?")
        .await;
    p.post_in(&p.bob, "python", "question", "Not a champion's")
        .await;
    let queue = t.get("/api/v1/champions/priority-queue", Some(&p.cm)).await;
    ok(&queue);
    let ids: Vec<i64> = queue
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [asked]);
}

// ---- federation ----

const AP: &str = "application/activity+json";

async fn remote_person(t: &TestApp, host: &str, name: &str) -> String {
    t.remote_person(host, name).await.0
}

/// `follower` follows `target` (ours); Err when we refuse it.
async fn follow(
    t: &TestApp,
    follower: &str,
    target: &str,
) -> Result<cenacle_core::federation::FollowAnswer, cenacle_core::CoreError> {
    let (follower, target) = (follower.to_owned(), target.to_owned());
    t.ctx
        .transaction(|conn| {
            async move {
                let person = cenacle_core::actors::person_by_ap_id(conn, &follower)
                    .await?
                    .unwrap();
                cenacle_core::federation::receive_follow(
                    conn,
                    &person,
                    &target,
                    &format!("{follower}/follow/{}", target.len()),
                )
                .await
            }
            .scope_boxed()
        })
        .await
}

async fn fetch(t: &TestApp, path: &str) -> (StatusCode, String) {
    let request = Request::get(path)
        .header(header::ACCEPT, AP)
        .header(header::HOST, "localhost:8700")
        .body(Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(t.app.clone(), request)
        .await
        .unwrap();
    let status = response.status();
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Everything queued for delivery to `host`: the activities a follower instance receives.
async fn received_by(t: &TestApp, host: &str) -> Vec<String> {
    use diesel::{sql_types::Text, QueryableByName};
    use diesel_async::RunQueryDsl;
    #[derive(QueryableByName)]
    struct Body {
        #[diesel(sql_type = Text)]
        body: String,
    }
    let mut conn = t.ctx.conn().await.unwrap();
    let rows: Vec<Body> = diesel::sql_query(
        "SELECT a.body FROM delivery d JOIN outgoing_activity a ON a.id = d.activity_id \
         WHERE d.host = $1 ORDER BY a.id",
    )
    .bind::<Text, _>(host)
    .load(&mut *conn)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.body).collect()
}

/// Outbox events (waiting to become activities) about a group, its posts or comments.
async fn outbox_events_in(t: &TestApp, group: &str) -> i64 {
    t.count_with(
        "SELECT count(*) AS n FROM outbox_event e JOIN community_group g ON g.name = $1 \
         WHERE (e.kind LIKE 'group%' AND e.subject_id = g.id) \
            OR (e.kind LIKE 'post%' AND e.subject_id IN (SELECT id FROM post WHERE group_id = g.id)) \
            OR (e.kind LIKE 'comment%' AND e.subject_id IN (SELECT c.id FROM comment c \
                JOIN post p ON p.id = c.post_id WHERE p.group_id = g.id))",
        &[group],
    )
    .await
}

#[tokio::test]
async fn the_champions_group_never_appears_in_federation_output() {
    let p = Programme::new().await;
    let t = &p.t;
    p.champion("alice", &p.alice, &["rust"]).await;
    let friend = remote_person(t, "friend.test", "amie").await;
    // The follower instance follows alice and the rust group; the champions group refuses it
    // as if it did not exist.
    follow(t, &friend, &format!("{BASE}/u/alice"))
        .await
        .unwrap();
    follow(t, &friend, &format!("{BASE}/g/rust")).await.unwrap();
    assert!(matches!(
        follow(t, &friend, &format!("{BASE}/g/champions")).await,
        Err(cenacle_core::CoreError::NotFound(_))
    ));

    // Everything that can happen in a group happens in the champions group: posts, answers,
    // votes, an edit, a settings change; and alice posts in rust (what must go out).
    let private = p.post_in(&p.alice, "champions", "question", SECRET).await;
    let answer = p.answer(&p.cm, private, &format!("{SECRET} answer")).await;
    for (path, body) in [
        (
            format!("/api/v1/posts/{private}/vote"),
            json!({"vote": "like"}),
        ),
        (
            format!("/api/v1/comments/{answer}/vote"),
            json!({"vote": "like"}),
        ),
    ] {
        ok(&t
            .request(Method::PUT, &path, Some(&p.alice), Some(body))
            .await);
    }
    ok(&t
        .request(
            Method::PATCH,
            &format!("/api/v1/posts/{private}"),
            Some(&p.alice),
            Some(json!({"title": format!("{SECRET} edited")})),
        )
        .await);
    ok(&t
        .request(
            Method::PATCH,
            "/api/v1/groups/champions",
            Some(&p.cm),
            Some(json!({"description": format!("{SECRET} group")})),
        )
        .await);
    let public = p
        .post_in(&p.alice, "rust", "note", "Public lifetimes tips")
        .await;

    // Nothing of the champions group even enters the outbox (the public post does).
    assert_eq!(outbox_events_in(t, "champions").await, 0);
    assert!(outbox_events_in(t, "rust").await >= 1);
    // The outbox turned into deliveries, as the delivery loop does.
    let fed = cenacle_apub::Federation::start(t.ctx.clone())
        .await
        .unwrap();
    cenacle_apub::outgoing::from_event::process_outbox(&fed.data(), 1000)
        .await
        .unwrap();
    let received = received_by(t, "friend.test").await;
    assert!(
        received.iter().any(|b| b.contains("Public lifetimes tips")),
        "the follower receives alice's public post: {received:?}"
    );
    for body in &received {
        assert!(!body.contains(SECRET), "leaked: {body}");
        assert!(
            !body.contains(&format!("{BASE}/g/champions")),
            "leaked: {body}"
        );
        assert!(!body.contains(&format!("/p/{private}\"")), "leaked: {body}");
    }
    let _ = public;

    // Nothing served either: no actor, no WebFinger, no collections, no post.
    for path in [
        "/g/champions".to_owned(),
        "/g/champions/outbox".to_owned(),
        "/g/champions/followers".to_owned(),
        "/g/champions/moderators".to_owned(),
        "/g/champions/featured".to_owned(),
        format!("/p/{private}"),
        format!("/c/{answer}"),
        "/.well-known/webfinger?resource=acct:champions@localhost:8700".to_owned(),
    ] {
        let (status, body) = fetch(t, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(!body.contains(SECRET));
    }

    // alice's Person actor says she champions rust since when, never the champions group.
    let (status, actor) = fetch(t, "/u/alice").await;
    assert_eq!(status, StatusCode::OK, "{actor}");
    let actor: Value = serde_json::from_str(&actor).unwrap();
    assert_eq!(
        actor["champion"][0]["championOf"],
        format!("{BASE}/g/rust"),
        "{actor}"
    );
    assert!(actor["champion"][0]["championSince"].is_string());
    assert_eq!(actor["champion"].as_array().unwrap().len(), 1);
    let context = actor["@context"].to_string();
    assert!(context.contains("cenacle:champion"), "{context}");
    // Our people's profile shows it too.
    let profile = t.get("/api/v1/people/alice", None).await;
    assert_eq!(
        profile.json["champion_of"][0]["group"],
        format!("{BASE}/g/rust")
    );

    // Another Cénacle instance's person arrives with `cenacle:champion`: stored and shown,
    // beside a malformed entry (another server's idea of the term), which is ignored.
    let mut remote = actor.clone();
    remote["id"] = json!("https://other.test/u/zoe");
    remote["preferredUsername"] = json!("zoe");
    remote["inbox"] = json!("https://other.test/u/zoe/inbox");
    remote["publicKey"]["id"] = json!("https://other.test/u/zoe#main-key");
    remote["publicKey"]["owner"] = json!("https://other.test/u/zoe");
    remote["champion"] = json!([
        {"championOf": "https://other.test/g/jardin", "championSince": "2026-03-01T00:00:00Z"},
        {"championOf": 42},
        // Another host's group: other.test cannot say who champions there; dropped.
        {"championOf": "https://elsewhere.test/g/rust", "championSince": "2026-03-01T00:00:00Z"}
    ]);
    for key in ["outbox", "followers", "following", "url", "endpoints"] {
        remote.as_object_mut().unwrap().remove(key);
    }
    let json: cenacle_apub::objects::person::PersonJson = serde_json::from_value(remote).unwrap();
    <cenacle_apub::objects::person::ApubPerson as activitypub_federation::traits::Object>::from_json(
        json,
        &fed.data(),
    )
    .await
    .unwrap();
    let zoe = t.get("/api/v1/people/zoe@other.test", None).await;
    ok(&zoe);
    assert_eq!(
        zoe.json["champion_of"],
        json!([{"group": "https://other.test/g/jardin", "since": "2026-03-01T00:00:00Z"}])
    );
    // Bob is no champion: no such term on his actor.
    let (_, bob) = fetch(t, "/u/bob").await;
    let bob: Value = serde_json::from_str(&bob).unwrap();
    assert!(bob.get("champion").is_none(), "{bob}");
}

async fn put(t: &TestApp, path: &str, token: &str, body: Value) -> Reply {
    t.request(Method::PUT, path, Some(token), Some(body)).await
}

#[tokio::test]
async fn the_champions_group_is_entered_and_left_only_through_the_programme() {
    let p = Programme::new().await;
    let t = &p.t;
    p.champion("alice", &p.alice, &["rust"]).await;
    // The manager who published the first charter does not own it: no human owner.
    let members = t.get("/api/v1/groups/champions/members", Some(&p.cm)).await;
    ok(&members);
    assert!(
        !members.json.to_string().contains("manon"),
        "{}",
        members.json
    );
    // A member outside the programme cannot join, nor ask to.
    refused(
        &t.post("/api/v1/groups/champions/join", Some(&p.bob), json!({}))
            .await,
        StatusCode::FORBIDDEN,
        "group_programme_only",
    );
    // A manager cannot invite anyone in, nor hand out roles there.
    refused(
        &t.post(
            "/api/v1/groups/champions/invitations",
            Some(&p.cm),
            json!({"handle": "bob"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "group_programme_only",
    );
    refused(
        &put(
            t,
            "/api/v1/groups/champions/members/bob",
            &p.cm,
            json!({"role": "owner"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "group_programme_only",
    );
    // The champion does not leave it by hand either: the programme's exit does that.
    refused(
        &t.post("/api/v1/groups/champions/leave", Some(&p.alice), json!({}))
            .await,
        StatusCode::FORBIDDEN,
        "group_programme_only",
    );
    // An exited champion cannot come back in by the ordinary door.
    ok(&t
        .post(
            "/api/v1/champions/me/exit",
            Some(&p.alice),
            json!({"reason": "time"}),
        )
        .await);
    refused(
        &t.post("/api/v1/groups/champions/join", Some(&p.alice), json!({}))
            .await,
        StatusCode::FORBIDDEN,
        "group_programme_only",
    );
    assert_eq!(
        t.get("/api/v1/groups/champions/posts", Some(&p.alice))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.get("/api/v1/groups/champions/posts", Some(&p.bob))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_move_never_takes_a_private_post_public_and_new_questions_stay_readable() {
    let p = Programme::new().await;
    let t = &p.t;
    ok(&t
        .post(
            "/api/v1/groups",
            Some(&p.cm),
            json!({"name": "staff", "title": "staff", "description": "Privé", "visibility": "private"}),
        )
        .await);
    let secret = p.post_in(&p.cm, "staff", "question", SECRET).await;
    p.champion("alice", &p.alice, &["rust", "python", "staff"])
        .await;
    // She champions staff but is not a member: its questions are not hers to see.
    let questions = t
        .get("/api/v1/champions/tools/questions", Some(&p.alice))
        .await;
    ok(&questions);
    assert!(
        !questions.json.to_string().contains(SECRET),
        "{}",
        questions.json
    );
    // A member now: a private post still cannot be moved into a public group.
    ok(&t
        .post(
            "/api/v1/groups/staff/invitations",
            Some(&p.cm),
            json!({"handle": "alice"}),
        )
        .await);
    ok(&t
        .post("/api/v1/groups/staff/join", Some(&p.alice), json!({}))
        .await);
    refused(
        &p.tool(&p.alice, secret, "move", json!({"group": "rust"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "champion_move_visibility",
    );
    assert_eq!(
        t.get(&format!("/api/v1/posts/{secret}"), None).await.status,
        StatusCode::NOT_FOUND
    );
    // Between two public groups she champions, it moves, and the reputation it earned moves
    // with it on the groups' boards.
    let public = p.post_in(&p.bob, "rust", "question", "Async traits?").await;
    let answer = p.answer(&p.carol, public, "Since 1.75.").await;
    ok(&put(
        t,
        &format!("/api/v1/posts/{public}/accepted-answer"),
        &p.bob,
        json!({"comment_id": answer}),
    )
    .await);
    let board = |group: &'static str| async move {
        let reply = t
            .get(&format!("/api/v1/leaderboard?group={group}"), None)
            .await;
        ok(&reply);
        reply.json.to_string()
    };
    assert!(board("rust").await.contains("carol"));
    assert!(!board("python").await.contains("carol"));
    let moved = p
        .tool(&p.alice, public, "move", json!({"group": "python"}))
        .await;
    ok(&moved);
    assert_eq!(
        t.get(&format!("/api/v1/posts/{public}"), None).await.json["post"]["group"],
        "python"
    );
    assert!(
        !board("rust").await.contains("carol"),
        "{}",
        board("rust").await
    );
    assert!(board("python").await.contains("carol"));
}

#[tokio::test]
async fn a_double_nomination_counts_once() {
    let p = Programme::new().await;
    let (a, b) = tokio::join!(
        p.nominate("alice", &["rust"]),
        p.nominate("alice", &["rust"])
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::CREATED, StatusCode::CONFLICT],
        "{} {}",
        a.json,
        b.json
    );
    let nominated = p
        .audit("alice")
        .await
        .iter()
        .filter(|e| e["action"] == "nominated")
        .count();
    assert_eq!(nominated, 1);
}

#[tokio::test]
async fn accepting_the_same_charter_twice_changes_nothing() {
    let p = Programme::new().await;
    let t = &p.t;
    p.champion("alice", &p.alice, &["rust"]).await;
    let before = p.me(&p.alice).await["champion"].clone();
    let version = p.current_version().await;
    ok(&t
        .post(
            "/api/v1/champions/me/charter",
            Some(&p.alice),
            json!({"version": version}),
        )
        .await);
    let after = p.me(&p.alice).await["champion"].clone();
    assert_eq!(before, after);
    let accepted = p
        .audit("alice")
        .await
        .iter()
        .filter(|e| e["action"] == "charter_accepted")
        .count();
    assert_eq!(accepted, 1);
}

#[tokio::test]
async fn the_accept_tool_pays_no_acceptor_and_refuses_ones_own_answer() {
    let p = Programme::new().await;
    let t = &p.t;
    p.champion("alice", &p.alice, &["rust"]).await;
    let question = p.post_in(&p.bob, "rust", "question", "Pinning?").await;
    let own = p.answer(&p.alice, question, "Use Pin::new.").await;
    let carols = p.answer(&p.carol, question, "Box::pin.").await;
    refused(
        &p.tool(&p.alice, question, "accept", json!({"comment_id": own}))
            .await,
        StatusCode::FORBIDDEN,
        "champion_own_answer",
    );
    let reputation = |body: Value| body["reputation"].as_i64().unwrap();
    let before = reputation(t.get("/api/v1/people/alice", None).await.json);
    ok(&p
        .tool(&p.alice, question, "accept", json!({"comment_id": carols}))
        .await);
    let after = reputation(t.get("/api/v1/people/alice", None).await.json);
    assert_eq!(before, after, "the champion earned the asker's reward");
}

#[tokio::test]
async fn the_champion_badge_is_the_programmes_alone() {
    let p = Programme::new().await;
    let t = &p.t;
    refused(
        &t.post(
            "/api/v1/admin/badges/award",
            Some(&p.cm),
            json!({"handle": "bob", "badge": "superuser", "reason": "nice"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "badge_programme_only",
    );
    assert!(p.badges("bob").await.is_empty());
    p.champion("alice", &p.alice, &["rust"]).await;
    refused(
        &t.post(
            "/api/v1/admin/badges/revoke",
            Some(&p.cm),
            json!({"handle": "alice", "badge": "superuser", "reason": "oops"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "badge_programme_only",
    );
    assert_eq!(p.badges("alice").await, ["superuser"]);
}

#[tokio::test]
async fn while_a_new_charter_waits_notices_are_held_too() {
    let p = Programme::new().await;
    let t = &p.t;
    p.champion("alice", &p.alice, &["rust"]).await;
    ok(&t
        .post(
            "/api/v1/champions/notices",
            Some(&p.cm),
            json!({"body": "Meetup on Friday"}),
        )
        .await);
    ok(&t.get("/api/v1/champions/notices", Some(&p.alice)).await);
    p.publish_charter("Help kindly, v2.").await;
    refused(
        &t.get("/api/v1/champions/notices", Some(&p.alice)).await,
        StatusCode::FORBIDDEN,
        "champion_tools_charter_not_accepted",
    );
}

#[tokio::test]
async fn unapproved_and_unknown_remote_people_are_not_nominated() {
    let p = Programme::new().await;
    {
        use diesel_async::RunQueryDsl;
        let mut conn = p.t.ctx.conn().await.unwrap();
        diesel::sql_query(
            "UPDATE local_user SET status = 'pending_approval' \
             WHERE person_id = (SELECT id FROM person WHERE username = 'carol')",
        )
        .execute(&mut *conn)
        .await
        .unwrap();
    }
    refused(
        &p.nominate("carol", &["rust"]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "champion_person_pending",
    );
    refused(
        &p.nominate("nobody@unknown.example", &["rust"]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "champion_person_remote",
    );
    assert!(p.audit("carol").await.is_empty());
}

#[tokio::test]
async fn a_members_group_named_champions_is_not_taken_over() {
    let t = TestApp::new().await;
    let cm = t.with_role("manon", Role::CommunityManager).await;
    ok(&t
        .post(
            "/api/v1/groups",
            Some(&cm),
            json!({"name": "champions", "title": "Sports", "description": "Nos champions de foot", "visibility": "public"}),
        )
        .await);
    refused(
        &t.post(
            "/api/v1/champions/charter",
            Some(&cm),
            json!({"text_en": "v1", "text_fr": "v1"}),
        )
        .await,
        StatusCode::CONFLICT,
        "champion_group_name_taken",
    );
    assert_eq!(
        t.get("/api/v1/champions/charter", Some(&cm)).await.status,
        StatusCode::NOT_FOUND
    );
}

/// A move writes the post in the new group in its author's name: refused (409
/// `author_banned`) while the author is banned from that group or from the instance, and
/// nothing moves; a champion banned from a group has no tools there (403 `banned_from_group`),
/// neither to move a post into it or out of it nor to pin one in it, and its questions are not
/// listed among theirs.
#[tokio::test]
async fn a_post_is_not_moved_into_a_group_its_author_or_the_champion_is_banned_from() {
    let p = Programme::new().await;
    let t = &p.t;
    p.champion("alice", &p.alice, &["rust", "python"]).await;
    let post = p.post_in(&p.bob, "rust", "question", "Lifetimes?").await;
    let group_of = || async move {
        t.get(&format!("/api/v1/posts/{post}"), None).await.json["post"]["group"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let cm = p.cm.as_str();
    let group_ban = |group: &'static str, person: &'static str, method: Method| {
        let path = format!("/api/v1/groups/{group}/bans/{person}");
        let body = (method == Method::PUT).then(|| json!({"reason": "spam"}));
        async move {
            let reply = t.request(method, &path, Some(cm), body).await;
            ok(&reply);
        }
    };

    // bob is banned from python: his post stays in rust.
    group_ban("python", "bob", Method::PUT).await;
    refused(
        &p.tool(&p.alice, post, "move", json!({"group": "python"}))
            .await,
        StatusCode::CONFLICT,
        "author_banned",
    );
    assert_eq!(group_of().await, "rust");
    // Lifted: it moves, and back.
    group_ban("python", "bob", Method::DELETE).await;
    ok(&p
        .tool(&p.alice, post, "move", json!({"group": "python"}))
        .await);
    assert_eq!(group_of().await, "python");
    ok(&p
        .tool(&p.alice, post, "move", json!({"group": "rust"}))
        .await);
    assert_eq!(group_of().await, "rust");

    // bob is banned from the instance (his post left up): it moves nowhere either.
    let reply = t
        .post(
            "/api/v1/admin/bans",
            Some(&p.cm),
            json!({"person": "bob", "reason": "spam"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    refused(
        &p.tool(&p.alice, post, "move", json!({"group": "python"}))
            .await,
        StatusCode::CONFLICT,
        "author_banned",
    );
    assert_eq!(group_of().await, "rust");
    let reply = t
        .request(
            Method::DELETE,
            "/api/v1/admin/bans?person=bob",
            Some(&p.cm),
            None,
        )
        .await;
    assert!(reply.status.is_success(), "{}", reply.json);

    // alice herself is banned from python: no move into it, no pin in it.
    let in_python = p
        .post_in(&p.carol, "python", "question", "Decorators?")
        .await;
    group_ban("python", "alice", Method::PUT).await;
    refused(
        &p.tool(&p.alice, post, "move", json!({"group": "python"}))
            .await,
        StatusCode::FORBIDDEN,
        "banned_from_group",
    );
    assert_eq!(group_of().await, "rust");
    refused(
        &p.tool(&p.alice, in_python, "pin", json!({"pinned": true}))
            .await,
        StatusCode::FORBIDDEN,
        "banned_from_group",
    );
    // Her tools in rust are hers still.
    ok(&p.tool(&p.alice, post, "pin", json!({"pinned": true})).await);
    // Her questions are rust's, not python's; lifted, python's are hers again.
    let questions = || async {
        let reply = t
            .get("/api/v1/champions/tools/questions", Some(&p.alice))
            .await;
        ok(&reply);
        let ids = reply.json.as_array().unwrap().iter();
        ids.map(|q| q["id"].as_i64().unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(questions().await, [post]);
    group_ban("python", "alice", Method::DELETE).await;
    assert_eq!(questions().await, [in_python, post]);

    // Banned from rust, the group the post is in, she moves nothing out of it either.
    group_ban("rust", "alice", Method::PUT).await;
    refused(
        &p.tool(&p.alice, post, "move", json!({"group": "python"}))
            .await,
        StatusCode::FORBIDDEN,
        "banned_from_group",
    );
    assert_eq!(group_of().await, "rust");
    // No move reached the audit trail but the two that happened.
    let moves = p
        .audit("alice")
        .await
        .iter()
        .filter(|e| e["action"] == "tool_move")
        .count();
    assert_eq!(moves, 2);
}

/// A move takes a post's comments along, but not those of people banned from the destination
/// with removal of their content: removed with the move, with their ban's reason, and what
/// they earned taken back, as the ban did for what they wrote there. A ban without removal
/// leaves its person's comment up. A post a moderator removed is not moved (403, action
/// `post_removed`, as for a reply to it).
#[tokio::test]
async fn a_move_removes_the_comments_of_people_banned_from_the_destination_with_removal() {
    let p = Programme::new().await;
    let t = &p.t;
    // The onboarding journey's points (a first answer's) stay, whatever becomes of it.
    journey_pays_nothing(t).await;
    p.champion("alice", &p.alice, &["rust", "python"]).await;
    let dave = t.member("dave").await;
    let post = p.post_in(&p.bob, "rust", "question", "Borrowck?").await;
    let carol_before = points(t, &p.carol).await;
    let by_carol = p.answer(&p.carol, post, "Read the book.").await;
    let carol_paid = points(t, &p.carol).await;
    let by_dave = p.answer(&dave, post, "Ask the compiler.").await;
    for (person, body) in [
        ("carol", json!({"reason": "spam", "remove_data": true})),
        ("dave", json!({"reason": "rude"})),
    ] {
        let path = format!("/api/v1/groups/python/bans/{person}");
        ok(&t.request(Method::PUT, &path, Some(&p.cm), Some(body)).await);
    }

    ok(&p
        .tool(&p.alice, post, "move", json!({"group": "python"}))
        .await);
    let seen = t.get(&format!("/api/v1/posts/{post}"), Some(&p.cm)).await;
    ok(&seen);
    assert_eq!(seen.json["post"]["group"], "python");
    let removal = |id: i64| {
        let comments = seen.json["comments"].as_array().unwrap();
        let comment = comments.iter().find(|c| c["id"] == id).unwrap();
        comment["removal"]["reason"].clone()
    };
    assert_eq!(removal(by_carol), "spam", "{}", seen.json);
    assert_eq!(removal(by_dave), Value::Null, "{}", seen.json);
    assert!(carol_paid > carol_before, "an answer earns points");
    assert_eq!(
        points(t, &p.carol).await,
        carol_before,
        "what carol's comment earned ({carol_before} to {carol_paid}) is not taken back"
    );
    let public = t.get(&format!("/api/v1/posts/{post}"), None).await;
    let shown: Vec<_> = public.json["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(shown, [by_dave]);

    // Alice's own post, removed by a moderator: it stays where it is.
    let hers = p.post_in(&p.alice, "rust", "question", "Pinning?").await;
    ok(&t
        .post(
            &format!("/api/v1/posts/{hers}/removal"),
            Some(&p.cm),
            json!({"reason": "Doublon"}),
        )
        .await);
    let reply = p
        .tool(&p.alice, hers, "move", json!({"group": "python"}))
        .await;
    refused(&reply, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(reply.json["error"]["details"]["action"], "post_removed");
    let seen = t.get(&format!("/api/v1/posts/{hers}"), Some(&p.cm)).await;
    assert_eq!(seen.json["post"]["group"], "rust");
}
