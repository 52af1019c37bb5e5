//! Reports and bans in the shapes Lemmy 1.0 and Mastodon send (fixtures in
//! api_tests/fixtures/): a `Flag` lands in the group's moderation queue, a `Block` from a
//! moderator the group lists bans (and removes the person's content), `Undo{Block}` lifts it;
//! a Block from anyone else, or ending in the past, is acknowledged and changes nothing. The
//! Flag, Resolve and Block we send read back through the same parsers.

use cenacle_api_tests::{
    database::{self, lit},
    eventually,
    fake_server::{FakeActor, FakeServer},
    Hosts, Instance,
};
use cenacle_apub::activities::InboxActivity;
use chrono::{Duration as Span, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(60);

fn enc(s: &str) -> String {
    s.replace('@', "%40")
        .replace(':', "%3A")
        .replace('/', "%2F")
}

/// A fixture with its placeholders filled in.
fn fixture(name: &str, vars: &[(&str, &str)]) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    let mut text = std::fs::read_to_string(path).unwrap();
    for (key, value) in vars {
        text = text.replace(&format!("{{{{{key}}}}}"), value);
    }
    serde_json::from_str(&text).unwrap()
}

async fn count(alpha: &Instance, query: &str) -> i64 {
    let mut conn = database::connect(alpha).await;
    database::number(&mut conn, query).await
}

async fn queue(alpha: &Instance, token: &str) -> Vec<Value> {
    let (status, page) = alpha.get("/api/v1/groups/rust/reports", Some(token)).await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().cloned().unwrap_or_default()
}

/// What Lemmy 1.0 requires of a report, as its `Report` type reads it (LemmyNet/lemmy
/// `crates/apub/activities/src/protocol/community/report.rs`): an actor, exactly one `to`
/// (one value or a one-element array), an `object` id or array of ids, a reason.
fn lemmy_reads_report(flag: &Value) -> Result<(), String> {
    let to = match &flag["to"] {
        Value::String(_) => 1,
        Value::Array(items) if items.iter().all(Value::is_string) => items.len(),
        _ => 0,
    };
    let object_ok = flag["object"].is_string()
        || flag["object"]
            .as_array()
            .is_some_and(|o| !o.is_empty() && o.iter().all(Value::is_string));
    let checks = [
        (flag["type"] == "Flag", "type Flag"),
        (flag["id"].is_string(), "an id"),
        (flag["actor"].is_string(), "an actor"),
        (to == 1, "exactly one `to`"),
        (object_ok, "an object id or ids"),
        (
            flag["summary"].is_string() || flag["content"].is_string(),
            "a reason",
        ),
    ];
    match checks.iter().find(|(ok, _)| !ok) {
        Some((_, what)) => Err(format!("Lemmy needs {what}: {flag}")),
        None => Ok(()),
    }
}

/// What Lemmy requires of the actor of an activity it reads as a person's
/// (`crates/apub/objects/src/protocol/person.rs`): a `Person`, `Service` or `Organization`
/// (an `Application` does not parse), with a name, inbox, outbox and full public key.
fn lemmy_reads_person(actor: &Value) -> Result<(), String> {
    let kind_ok =
        ["Person", "Service", "Organization"].contains(&actor["type"].as_str().unwrap_or(""));
    let key = &actor["publicKey"];
    let checks = [
        (kind_ok, "type Person, Service or Organization"),
        (
            actor["preferredUsername"].is_string(),
            "a preferredUsername",
        ),
        (actor["inbox"].is_string(), "an inbox"),
        (actor["outbox"].is_string(), "an outbox"),
        (
            key["id"].is_string() && key["owner"] == actor["id"] && key["publicKeyPem"].is_string(),
            "a public key {id, owner, publicKeyPem}",
        ),
    ];
    match checks.iter().find(|(ok, _)| !ok) {
        Some((_, what)) => Err(format!("Lemmy needs {what}: {actor}")),
        None => Ok(()),
    }
}

/// Our activities must read as the kind we mean.
fn reads_as(activity: &Value, kind: &str) -> InboxActivity {
    let parsed: InboxActivity = serde_json::from_value(activity.clone())
        .unwrap_or_else(|e| panic!("our {kind} does not parse: {e}\n{activity}"));
    let ok = matches!(
        (&parsed, kind),
        (InboxActivity::Flag(_), "Flag")
            | (InboxActivity::Resolve(_), "Resolve")
            | (InboxActivity::Block(_), "Block")
            | (InboxActivity::Undo(_), "Undo")
    );
    assert!(ok, "our {kind} reads as {parsed:?}");
    parsed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lemmy_and_mastodon_flags_and_blocks_are_applied_and_ours_read_back() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    hosts.add("lemmy");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let lemmy = FakeServer::start(&hosts, "lemmy").await;
    let people = lemmy
        .add_people(&["modo", "ann", "spammer", "mastodon.internal"])
        .await;
    let (modo, ann, spammer, instance_actor) = (&people[0], &people[1], &people[2], &people[3]);
    // Mastodon reports as its instance actor, an Application.
    lemmy.patch_document(instance_actor, json!({"type": "Application"}));
    let base = lemmy.url("");
    let admin = alpha.admin().await;
    let (status, group) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "rust", "title": "Rust"}),
        )
        .await;
    assert_eq!(status, 201, "{group}");
    let group_id = group["ap_id"].as_str().unwrap().to_owned();
    let inbox = alpha.url("/g/rust/inbox");
    let send = |actor, activity: Value| {
        let (lemmy, inbox) = (&lemmy, inbox.clone());
        async move { lemmy.send(actor, &inbox, &activity).await.unwrap().status }
    };

    // modo follows the group (so lemmy.test receives its relays) and is made a moderator.
    assert_eq!(send(modo, lemmy.follow(modo, &group_id)).await, 202);
    let modo_handle = format!("modo@{}", lemmy.host);
    let (status, body) = alpha
        .call(
            Method::PUT,
            &format!("/api/v1/groups/rust/members/{}", enc(&modo_handle)),
            Some(&admin),
            Some(json!({"role": "moderator"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");

    // spammer posts.
    let page = lemmy.page(spammer, "/post/1", &group_id, "Achetez maintenant");
    lemmy.publish(&page);
    assert_eq!(send(spammer, lemmy.create(spammer, &page)).await, 202);
    let page_id = page["id"].as_str().unwrap().to_owned();

    // A Lemmy user's Flag, and Mastodon's (its instance actor, object = [account, status]).
    let vars = |actor: &str| {
        vec![
            ("actor", actor.to_owned()),
            ("base", base.clone()),
            ("group", group_id.clone()),
            ("object", page_id.clone()),
            ("person", spammer.id.clone()),
        ]
    };
    let fill = |name: &str, v: Vec<(&'static str, String)>| {
        let pairs: Vec<(&str, &str)> = v.iter().map(|(k, s)| (*k, s.as_str())).collect();
        fixture(name, &pairs)
    };
    let lemmy_flag = fill("lemmy_flag.json", vars(&ann.id));
    assert_eq!(send(ann, lemmy_flag.clone()).await, 202);
    let mastodon_flag = fill("mastodon_flag.json", vars(&instance_actor.id));
    assert_eq!(send(instance_actor, mastodon_flag).await, 202);
    // A second copy of a Flag adds nothing.
    assert_eq!(send(ann, lemmy_flag.clone()).await, 202);
    let reports = queue(&alpha, &admin).await;
    assert_eq!(reports.len(), 2, "{reports:?}");
    let from_ann = reports
        .iter()
        .find(|r| r["reporter"] == format!("ann@{}", lemmy.host))
        .expect("the Lemmy report");
    assert_eq!(from_ann["text"], "report this post");
    assert_eq!(from_ann["reason"], "other");
    assert_eq!(from_ann["object_ap_id"], page_id.as_str());
    assert_eq!(from_ann["person"], format!("spammer@{}", lemmy.host));
    let from_mastodon = reports
        .iter()
        .find(|r| r["text"] == "Spam, et encore du spam")
        .expect("the Mastodon report");
    assert_eq!(from_mastodon["reporter_instance"], lemmy.host.as_str());
    assert_eq!(from_mastodon["target_kind"], "post");

    // Bans: a Block from someone who does not moderate the group, and one ending in the
    // past, are acknowledged and change nothing.
    let future = (Utc::now() + Span::days(1)).to_rfc3339();
    let past = (Utc::now() - Span::days(1)).to_rfc3339();
    let block = |actor: &str, end: &str, n: &str| {
        let mut v = vars(actor);
        v.push(("end", end.to_owned()));
        v.push(("n", n.to_owned()));
        v
    };
    let bans = "SELECT count(*) FROM group_ban WHERE lifted_at IS NULL";
    let removed = format!(
        "SELECT count(*) FROM post WHERE ap_id = {} AND removed_at IS NOT NULL",
        lit(&page_id)
    );
    let forged = fill("lemmy_block_user.json", block(&ann.id, &future, "1"));
    assert_eq!(send(ann, forged).await, 202);
    let expired = fill("lemmy_block_user.json", block(&modo.id, &past, "2"));
    assert_eq!(send(modo, expired).await, 202);
    assert_eq!(
        count(&alpha, bans).await,
        0,
        "refused Blocks change nothing"
    );
    assert_eq!(count(&alpha, &removed).await, 0);

    // The moderator's Block bans spammer, removes their post, and is relayed.
    let ban = fill("lemmy_block_user.json", block(&modo.id, &future, "3"));
    assert_eq!(send(modo, ban.clone()).await, 202);
    assert_eq!(count(&alpha, bans).await, 1);
    assert_eq!(
        count(&alpha, &removed).await,
        1,
        "removeData removes their post"
    );
    let relayed = eventually("the Block relayed", DEADLINE, || async {
        lemmy
            .received_where(|a| a["type"] == "Announce" && a["object"]["id"] == ban["id"])
            .pop()
    })
    .await;
    assert_eq!(relayed["actor"], group_id.as_str());
    reads_as(&relayed["object"], "Block");

    // spammer's next post is acknowledged and not stored.
    let next = lemmy.page(spammer, "/post/2", &group_id, "Encore");
    lemmy.publish(&next);
    assert_eq!(send(spammer, lemmy.create(spammer, &next)).await, 202);
    let stored = |id: &Value| {
        format!(
            "SELECT count(*) FROM post WHERE ap_id = {}",
            lit(id.as_str().unwrap())
        )
    };
    assert_eq!(count(&alpha, &stored(&next["id"])).await, 0);
    assert!(
        alpha
            .metric("cenacle_inbox_ignored_total{reason=\"banned_from_group\"}")
            .await
            >= 1.0
    );

    // Undo{Block} lifts it: the next post is stored.
    let undo = fill("lemmy_undo_block_user.json", block(&modo.id, &future, "3"));
    assert_eq!(send(modo, undo).await, 202);
    assert_eq!(count(&alpha, bans).await, 0);
    let third = lemmy.page(spammer, "/post/3", &group_id, "Pardon");
    lemmy.publish(&third);
    assert_eq!(send(spammer, lemmy.create(spammer, &third)).await, 202);
    assert_eq!(count(&alpha, &stored(&third["id"])).await, 1);

    // Our Flag: a member reports the post; it leaves for the author's server, in the name of
    // our reporting actor (the member did not share theirs), shaped as Lemmy reads it.
    let lucie = alpha.member("lucie").await;
    lemmy.check_signers_as_gotosocial();
    let (_, posts) = alpha.get("/api/v1/groups/rust/posts?limit=100", None).await;
    let third_here = posts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["ap_id"] == third["id"])
        .expect("the third post")["id"]
        .as_i64()
        .unwrap();
    let (status, filed) = alpha
        .post(
            "/api/v1/reports",
            Some(&lucie),
            json!({"post_id": third_here, "reason": "spam", "text": "de la pub"}),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    let flag = eventually("our Flag", DEADLINE, || async {
        lemmy.received_where(|a| a["type"] == "Flag").pop()
    })
    .await;
    reads_as(&flag, "Flag");
    // Sent by our reporting actor, which Lemmy reads as a person (never our Application
    // instance actor, which it refuses), whose key verifies the signature and whose
    // WebFinger leads back to it (checked by the fake server, as GoToSocial and Mastodon do).
    let reporter = alpha.url("/reporter");
    assert_eq!(flag["actor"], reporter.as_str());
    lemmy_reads_report(&flag).unwrap();
    let (status, document) = alpha.get("/reporter", None).await;
    assert_eq!(status, 200, "{document}");
    lemmy_reads_person(&document).unwrap();
    assert_eq!(document["id"], reporter.as_str());
    assert_eq!(document["publicKey"]["id"], format!("{reporter}#main-key"));
    // Our instance actor would not do (what the Flag was sent as before).
    let (_, instance_actor) = alpha.get("/actor", None).await;
    assert!(lemmy_reads_person(&instance_actor).is_err());
    let (status, _) = alpha.get("/reporter/outbox", None).await;
    assert_eq!(status, 200);
    let checks = lemmy.signer_checks();
    assert!(
        checks
            .iter()
            .any(|c| c.signer == reporter && c.request.starts_with("POST") && c.outcome.is_ok()),
        "{checks:?}"
    );
    assert_eq!(
        flag["to"],
        json!([group_id]),
        "Lemmy reads exactly one `to`"
    );
    assert_eq!(flag["object"], json!([spammer.id, third["id"]]));
    assert_eq!(flag["summary"], "spam: de la pub");
    assert_eq!(flag["content"], "spam: de la pub");
    assert!(!flag.to_string().contains("lucie"), "{flag}");

    // A report about the person alone goes to their instance: `object` = [the account]
    // (Mastodon's shape), `to` = their instance (Lemmy's site actor, its root URL).
    let (status, filed) = alpha
        .post(
            "/api/v1/reports",
            Some(&lucie),
            json!({"person": format!("spammer@{}", lemmy.host), "reason": "spam", "text": "un robot"}),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    let about_person = eventually("our Flag about spammer", DEADLINE, || async {
        lemmy
            .received_where(|a| a["type"] == "Flag" && a["object"] == json!([spammer.id]))
            .pop()
    })
    .await;
    reads_as(&about_person, "Flag");
    assert_eq!(about_person["actor"], reporter.as_str());
    assert_eq!(
        about_person["to"],
        json!([format!("{}/", base.trim_end_matches('/'))])
    );
    assert!(about_person.get("audience").is_none(), "{about_person}");
    lemmy_reads_report(&about_person).unwrap();

    // Our resolution of ann's report goes back to her server as Lemmy's Resolve{Flag}.
    let ann_report = from_ann["id"].as_i64().unwrap();
    let (status, closed) = alpha
        .post(
            &format!("/api/v1/reports/{ann_report}/resolve"),
            Some(&admin),
            json!({"note": "Banni une journée"}),
        )
        .await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["status"], "resolved");
    let resolve = eventually("our Resolve", DEADLINE, || async {
        lemmy.received_where(|a| a["type"] == "Resolve").pop()
    })
    .await;
    reads_as(&resolve, "Resolve");
    assert_eq!(resolve["object"]["id"], lemmy_flag["id"]);
    assert_eq!(resolve["object"]["actor"], ann.id.as_str());
    assert_eq!(resolve["to"], json!([group_id]));
    assert_eq!(resolve["summary"], "Banni une journée");

    // Bad input: an unknown reason, a ban that would end in the past, a closed report.
    let (status, body) = alpha
        .post(
            "/api/v1/reports",
            Some(&lucie),
            json!({"post_id": third_here, "reason": "boring"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("unknown_report_reason"))
    );
    let (status, body) = alpha
        .call(
            Method::PUT,
            &format!(
                "/api/v1/groups/rust/bans/{}",
                enc(&format!("spammer@{}", lemmy.host))
            ),
            Some(&admin),
            Some(json!({"expires_at": past})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("moderation_expiry_in_past"))
    );
    let (status, body) = alpha
        .post(
            &format!("/api/v1/reports/{ann_report}/dismiss"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("report_closed"))
    );

    // Our own Block and Undo{Block} read back too.
    let spammer_handle = format!("spammer@{}", lemmy.host);
    let (status, body) = alpha
        .call(
            Method::PUT,
            &format!("/api/v1/groups/rust/bans/{}", enc(&spammer_handle)),
            Some(&admin),
            Some(json!({"reason": "récidive", "expires_at": future})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = alpha
        .call(
            Method::DELETE,
            &format!("/api/v1/groups/rust/bans/{}", enc(&spammer_handle)),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let ours = eventually("our Block and its Undo", DEADLINE, || async {
        let sent = lemmy.received_where(|a| {
            a["type"] == "Announce"
                && a["object"]["actor"] == alpha.url("/u/admin")
                && ["Block", "Undo"].contains(&a["object"]["type"].as_str().unwrap_or(""))
        });
        (sent.len() >= 2).then_some(sent)
    })
    .await;
    for announce in ours {
        let inner = &announce["object"];
        let kind = inner["type"].as_str().unwrap();
        reads_as(inner, kind);
        let block = if kind == "Block" {
            inner
        } else {
            &inner["object"]
        };
        assert_eq!(block["target"], group_id.as_str());
        assert_eq!(block["object"], spammer.id.as_str());
        assert_eq!(block["summary"], "récidive");
        assert!(block["endTime"].is_string() && block["expires"].is_string());
        assert!(
            inner["to"].is_array() && inner["cc"].is_array(),
            "Lemmy needs both"
        );
    }
}

/// Lemmy resolves a report with a `Resolve` whose Flag is a new one (`Report::new` in its
/// `resolve_report.rs`: a new id, the reporter it knows, the post alone, `to` = the group):
/// our open report by that reporter about that post in that group is closed — by a moderator
/// the group lists, not by anyone else on its server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lemmys_resolve_with_its_own_flag_id_closes_our_report() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    hosts.add("lemmy");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let lemmy = FakeServer::start(&hosts, "lemmy").await;
    let group = lemmy.add_group("main").await;
    let people = lemmy.add_people(&["modo", "spammer", "stranger"]).await;
    let (modo, spammer, stranger) = (&people[0], &people[1], &people[2]);
    lemmy.set_moderators(&group, &[modo]);
    let lucie = alpha.member("lucie").await;
    let inbox = alpha.url("/inbox");
    let send = |actor, activity: Value| {
        let (lemmy, inbox) = (&lemmy, inbox.clone());
        async move { lemmy.send(actor, &inbox, &activity).await.unwrap().status }
    };

    // lucie follows the Lemmy group, which accepts.
    let (status, found) = alpha
        .get(
            &format!("/api/v1/resolve?q={}", enc(&group.id)),
            Some(&lucie),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let (status, body) = alpha
        .post("/api/v1/follows", Some(&lucie), json!({"target": group.id}))
        .await;
    assert_eq!(status, 202, "{body}");
    let follow = eventually("alpha's Follow", DEADLINE, || async {
        lemmy
            .received_where(|a| a["type"] == "Follow" && a["object"] == group.id.as_str())
            .pop()
    })
    .await;
    assert_eq!(send(&group, lemmy.accept(&group, &follow)).await, 202);

    // spammer posts there; lucie reports it (our reporting actor sends the Flag).
    let page = lemmy.page(spammer, "/post/1", &group.id, "Achetez");
    lemmy.publish(&page);
    let announce = lemmy.announce(&group, &lemmy.create(spammer, &page));
    assert_eq!(send(&group, announce).await, 202);
    let page_id = page["id"].as_str().unwrap().to_owned();
    let post_here = {
        let mut conn = database::connect(&alpha).await;
        database::number(
            &mut conn,
            &format!("SELECT id FROM post WHERE ap_id = {}", lit(&page_id)),
        )
        .await
    };
    let (status, filed) = alpha
        .post(
            "/api/v1/reports",
            Some(&lucie),
            json!({"post_id": post_here, "reason": "spam", "text": "de la pub"}),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    let ours = eventually("our Flag", DEADLINE, || async {
        lemmy.received_where(|a| a["type"] == "Flag").pop()
    })
    .await;
    let reporter = alpha.url("/reporter");
    assert_eq!(ours["actor"], reporter.as_str());
    let open = "SELECT count(*) FROM report WHERE status = 'open'";
    let resolved = "SELECT count(*) FROM report WHERE status = 'resolved'";
    assert_eq!(count(&alpha, open).await, 1);

    let resolve = |actor: &str, n: &str| {
        fixture(
            "lemmy_resolve_report.json",
            &[
                ("actor", actor),
                ("base", &lemmy.url("")),
                ("group", &group.id),
                ("reporter", &reporter),
                ("object", &page_id),
                ("n", n),
            ],
        )
    };
    // Someone the group does not list: acknowledged, nothing closed.
    let forged = resolve(&stranger.id, "1");
    assert_ne!(forged["object"]["id"], ours["id"]);
    assert_eq!(send(stranger, forged).await, 202);
    assert_eq!(count(&alpha, resolved).await, 0);
    // Its moderator, with Lemmy's new Flag: lucie's report is resolved.
    let by_modo = resolve(&modo.id, "2");
    reads_as(&by_modo, "Resolve");
    assert_eq!(send(modo, by_modo).await, 202);
    assert_eq!(count(&alpha, resolved).await, 1, "{}", alpha.log());
    assert_eq!(count(&alpha, open).await, 0);
}

/// `server` sends `activity` signed by `actor` to alpha's shared inbox: acknowledged.
async fn deliver(alpha: &Instance, server: &FakeServer, actor: &FakeActor, activity: Value) {
    let answer = server
        .send(actor, &alpha.url("/inbox"), &activity)
        .await
        .unwrap();
    assert_eq!(answer.status, 202, "{}", answer.body);
}

/// A `Resolve` of the Flag `flag` (embedded) by `actor`, addressed to `group`.
fn resolve_of(server: &FakeServer, actor: &FakeActor, group: &FakeActor, flag: &Value) -> Value {
    json!({
        "@context": ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"],
        "type": "Resolve",
        "id": server.new_id("resolve"),
        "actor": actor.id,
        "to": [group.id],
        "audience": group.id,
        "object": flag,
    })
}

/// A forged resolution changes nothing, is acknowledged (202: peers do not retry) and its
/// reason logged: announced by a group that does not hold the report (another group of the
/// same server, whose moderator it is; or a group on a third server), or sent directly by
/// someone on a third server — for a report filed here about a Lemmy group's post and for one
/// that group forwarded to us (our member lucie is its listed moderator). Only the group's own
/// Announce of its moderator's Resolve closes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_resolutions_of_reports_change_nothing() {
    let mut hosts = Hosts::default();
    for name in ["alpha", "lemmy", "evil"] {
        hosts.add(name);
    }
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let lemmy = FakeServer::start(&hosts, "lemmy").await;
    let evil = FakeServer::start(&hosts, "evil").await;
    let groups = lemmy.add_groups(&["main", "other"]).await;
    let (main, other) = (&groups[0], &groups[1]);
    let people = lemmy.add_people(&["modo", "spammer", "ann"]).await;
    let (modo, spammer, ann) = (&people[0], &people[1], &people[2]);
    // modo moderates both of lemmy's groups.
    lemmy.set_moderators(main, &[modo]);
    lemmy.set_moderators(other, &[modo]);
    let fake = evil.add_group("fake").await;
    let mallory = evil.add_person("mallory").await;
    evil.set_moderators(&fake, &[&mallory]);
    let lucie = alpha.member("lucie").await;
    lemmy.accept_follow_of(&alpha, &lucie, main).await;
    lemmy.accept_follow_of(&alpha, &lucie, other).await;
    evil.accept_follow_of(&alpha, &lucie, &fake).await;

    // main names lucie (who follows it) its moderator; spammer posts there.
    let mut add = fixture(
        "lemmy_add_mod.json",
        &[
            ("actor", &modo.id),
            ("base", &lemmy.url("")),
            ("group", &main.id),
            ("person", &alpha.url("/u/lucie")),
        ],
    );
    add["id"] = json!(lemmy.new_id("add"));
    deliver(&alpha, &lemmy, main, lemmy.announce(main, &add)).await;
    let lucie_moderates = format!(
        "SELECT count(*) FROM group_membership m JOIN person p ON p.id = m.person_id \
           JOIN community_group g ON g.id = m.group_id \
         WHERE p.local AND p.username = 'lucie' AND m.role = 'moderator' AND g.ap_id = {}",
        lit(&main.id)
    );
    eventually("lucie named moderator of main", DEADLINE, || async {
        (count(&alpha, &lucie_moderates).await == 1).then_some(())
    })
    .await;
    let page = lemmy.page(spammer, "/post/1", &main.id, "Achetez");
    lemmy.publish(&page);
    deliver(
        &alpha,
        &lemmy,
        main,
        lemmy.announce(main, &lemmy.create(spammer, &page)),
    )
    .await;
    let page_id = page["id"].as_str().unwrap().to_owned();
    let post_here = eventually("the post here", DEADLINE, || async {
        let id = count(
            &alpha,
            &format!(
                "SELECT COALESCE(max(id), 0) FROM post WHERE ap_id = {}",
                lit(&page_id)
            ),
        )
        .await;
        (id > 0).then_some(id)
    })
    .await;

    // Two reports: lucie's, filed here (sent to lemmy as our Flag), and ann's, filed on
    // lemmy and forwarded by main to lucie's instance.
    let (status, filed) = alpha
        .post(
            "/api/v1/reports",
            Some(&lucie),
            json!({"post_id": post_here, "reason": "spam", "text": "de la pub"}),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    let ours = eventually("our Flag", DEADLINE, || async {
        lemmy.received_where(|a| a["type"] == "Flag").pop()
    })
    .await;
    let anns = fixture(
        "lemmy_flag.json",
        &[
            ("actor", &ann.id),
            ("base", &lemmy.url("")),
            ("group", &main.id),
            ("object", &page_id),
        ],
    );
    deliver(&alpha, &lemmy, main, lemmy.announce(main, &anns)).await;
    let open = "SELECT count(*) FROM report WHERE status = 'open'";
    eventually("both reports here", DEADLINE, || async {
        (count(&alpha, open).await == 2).then_some(())
    })
    .await;
    let (status, elsewhere) = alpha
        .get("/api/v1/reports/moderated-elsewhere", Some(&lucie))
        .await;
    assert_eq!(status, 200, "{elsewhere}");
    assert!(
        elsewhere["items"].as_array().is_some_and(|items| items
            .iter()
            .any(|r| r["reporter"] == format!("ann@{}", lemmy.host))),
        "ann's report in lucie's queue: {elsewhere}"
    );

    let ignored = |reason: &str| format!("cenacle_inbox_ignored_total{{reason=\"{reason}\"}}");
    let not_the_groups = alpha.metric(&ignored("not_the_groups_report")).await;
    let not_ours = alpha.metric(&ignored("not_our_report")).await;
    let may_not = alpha.metric(&ignored("resolver_may_not_resolve")).await;
    for flag in [&ours, &anns] {
        // Another group of lemmy's (modo moderates it too) announces modo's Resolve.
        let resolve = resolve_of(&lemmy, modo, other, flag);
        deliver(&alpha, &lemmy, other, lemmy.announce(other, &resolve)).await;
        // A group on a third server announces its moderator's.
        let resolve = resolve_of(&evil, &mallory, &fake, flag);
        deliver(&alpha, &evil, &fake, evil.announce(&fake, &resolve)).await;
        // Someone on a third server sends one directly.
        let resolve = resolve_of(&evil, &mallory, main, flag);
        deliver(&alpha, &evil, &mallory, resolve).await;
    }
    // Each refusal counted with its reason: lucie's report (filed here) is not the other
    // groups' (nor the stranger's) to close; ann's (received from lemmy) is not a third
    // server's, and not another group's even on lemmy.
    let refusals = [
        ("not_the_groups_report", not_the_groups, 3.0),
        ("not_our_report", not_ours, 2.0),
        ("resolver_may_not_resolve", may_not, 1.0),
    ];
    for (reason, before, more) in refusals {
        eventually(reason, DEADLINE, || async {
            (alpha.metric(&ignored(reason)).await - before == more).then_some(())
        })
        .await;
    }
    assert_eq!(count(&alpha, open).await, 2, "{}", alpha.log());

    // main's own Announce of its moderator's Resolve closes both.
    for flag in [&ours, &anns] {
        let resolve = resolve_of(&lemmy, modo, main, flag);
        deliver(&alpha, &lemmy, main, lemmy.announce(main, &resolve)).await;
    }
    eventually("both resolved by main's moderator", DEADLINE, || async {
        (count(&alpha, open).await == 0).then_some(())
    })
    .await;
}

/// A person of Lemmy banned from our group: their Follow of it is acknowledged and not
/// accepted (nothing recorded), and their Flag of a post in it is acknowledged and not filed.
#[tokio::test]
async fn a_remote_person_banned_from_our_group_neither_follows_nor_reports_in_it() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    hosts.add("lemmy");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let lemmy = FakeServer::start(&hosts, "lemmy").await;
    let people = lemmy.add_people(&["ann", "bob"]).await;
    let (ann, bob) = (&people[0], &people[1]);
    let admin = alpha.admin().await;
    let (status, group) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "rust", "title": "Rust"}),
        )
        .await;
    assert_eq!(status, 201, "{group}");
    let group_id = group["ap_id"].as_str().unwrap().to_owned();
    let inbox = alpha.url("/g/rust/inbox");
    let send = |actor, activity: Value| {
        let (lemmy, inbox) = (&lemmy, inbox.clone());
        async move { lemmy.send(actor, &inbox, &activity).await.unwrap().status }
    };
    let follows = format!(
        "SELECT count(*) FROM follow WHERE target_ap_id = {} AND follower_ap_id = {}",
        lit(&group_id),
        lit(&ann.id)
    );
    let ignored = || alpha.metric("cenacle_inbox_ignored_total{reason=\"banned_from_group\"}");

    // ann and bob post (so ann is known here, and there is something to report).
    let page = lemmy.page(bob, "/post/1", &group_id, "Bonjour");
    lemmy.publish(&page);
    assert_eq!(send(bob, lemmy.create(bob, &page)).await, 202);
    let hers = lemmy.page(ann, "/post/2", &group_id, "Salut");
    lemmy.publish(&hers);
    assert_eq!(send(ann, lemmy.create(ann, &hers)).await, 202);

    let (status, body) = alpha
        .call(
            Method::PUT,
            &format!(
                "/api/v1/groups/rust/bans/{}",
                enc(&format!("ann@{}", lemmy.host))
            ),
            Some(&admin),
            Some(json!({"reason": "spam"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let before = ignored().await;
    assert_eq!(send(ann, lemmy.follow(ann, &group_id)).await, 202);
    assert_eq!(
        count(&alpha, &follows).await,
        0,
        "a banned person's Follow was recorded"
    );
    let flag = fixture(
        "lemmy_flag.json",
        &[
            ("actor", &ann.id),
            ("base", &lemmy.url("")),
            ("group", &group_id),
            ("object", page["id"].as_str().unwrap()),
        ],
    );
    assert_eq!(send(ann, flag).await, 202);
    assert_eq!(
        count(&alpha, "SELECT count(*) FROM report").await,
        0,
        "a banned person's Flag was filed"
    );
    assert_eq!(ignored().await, before + 2.0);
}

/// Whether `activity` is our group's `Announce` of a `kind` (`Block`, `Undo`) about `person`.
fn announces_ban_of(activity: &Value, kind: &str, person: &str) -> bool {
    let inner = &activity["object"];
    let block = if kind == "Undo" {
        &inner["object"]
    } else {
        inner
    };
    activity["type"] == "Announce"
        && inner["type"] == kind
        && block["type"] == "Block"
        && block["object"] == person
}

/// A person of Lemmy following our group, banned from it: the ban takes their follow (as
/// Lemmy's ban unsubscribes), so the group's next post is announced to the servers of its
/// other followers and not to theirs. Their server, which followed the group through them
/// alone, is still told of the ban, and of its lifting, by the group's Announce sent to its
/// inbox. Before, the follow stayed and their server went on receiving the group's posts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_follower_banned_from_our_group_is_unsubscribed_and_told_of_the_ban() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    hosts.add("lemmy");
    hosts.add("witness");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let lemmy = FakeServer::start(&hosts, "lemmy").await;
    let witness = FakeServer::start(&hosts, "witness").await;
    let ann = lemmy.add_person("ann").await;
    let carl = witness.add_person("carl").await;
    let admin = alpha.admin().await;
    let group_id = alpha.create_group(&admin, "rust", "Rust").await;
    let inbox = alpha.url("/g/rust/inbox");
    for (server, person) in [(&lemmy, &ann), (&witness, &carl)] {
        let follow = server.follow(person, &group_id);
        let answer = server.send(person, &inbox, &follow).await.unwrap();
        assert_eq!(answer.status, 202, "{answer:?}");
        eventually("the group's Accept", DEADLINE, || async {
            (!server
                .received_where(|a| a["type"] == "Accept" && a["object"]["id"] == follow["id"])
                .is_empty())
            .then_some(())
        })
        .await;
    }
    let follows = format!(
        "SELECT count(*) FROM follow WHERE target_ap_id = {} AND follower_ap_id = {}",
        lit(&group_id),
        lit(&ann.id)
    );
    assert_eq!(count(&alpha, &follows).await, 1);

    let ban = format!(
        "/api/v1/groups/rust/bans/{}",
        enc(&format!("ann@{}", lemmy.host))
    );
    let (status, body) = alpha
        .call(
            Method::PUT,
            &ban,
            Some(&admin),
            Some(json!({"reason": "spam"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        count(&alpha, &follows).await,
        0,
        "the ban left the banned person's follow"
    );
    eventually(
        "the group's Announce of the ban at lemmy",
        DEADLINE,
        || async {
            (!lemmy
                .received_where(|a| announces_ban_of(a, "Block", &ann.id))
                .is_empty())
            .then_some(())
        },
    )
    .await;

    // The group's next post reaches the witness, and not lemmy: nothing delivered there,
    // nothing queued for it (read first: a delivery leaves the queue once received).
    let post = alpha
        .create_post(&admin, "rust", "question", "Quel éditeur\u{a0}?")
        .await
        .ap_id;
    let announces_post = |a: &Value| a["type"] == "Announce" && a["object"]["object"]["id"] == post;
    eventually("the group's post at the witness", DEADLINE, || async {
        (!witness.received_where(announces_post).is_empty()).then_some(())
    })
    .await;
    let queued_to_lemmy = format!(
        "SELECT count(*) FROM delivery d JOIN outgoing_activity a ON a.id = d.activity_id \
         WHERE d.inbox_url LIKE {} AND a.body LIKE {}",
        lit(&format!("{}%", lemmy.url("/"))),
        lit(&format!("%{post}%"))
    );
    assert_eq!(count(&alpha, &queued_to_lemmy).await, 0, "queued to lemmy");
    assert!(
        lemmy.received_where(announces_post).is_empty(),
        "the banned person's server still receives the group's posts"
    );

    // Lifted: lemmy is told as well, though nobody there follows the group any more.
    let (status, _) = alpha.call(Method::DELETE, &ban, Some(&admin), None).await;
    assert_eq!(status, 204);
    eventually(
        "the group's Announce of the lifting at lemmy",
        DEADLINE,
        || async {
            (!lemmy
                .received_where(|a| announces_ban_of(a, "Undo", &ann.id))
                .is_empty())
            .then_some(())
        },
    )
    .await;
}

/// The same through the inbox: a moderator of our group on another server (modo, on
/// witness) bans dora, who follows the group from a third server, with Lemmy's `Block`. The
/// ban takes dora's follow, and the group's relay of the Block, which went to its followers'
/// servers only, reaches dora's server too, and so does the relay of the `Undo` that lifts
/// it. Before, only the follow (now dropped) carried the relay there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_moderators_ban_of_a_follower_of_our_group_is_relayed_to_the_followers_server() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    hosts.add("witness");
    hosts.add("third");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let witness = FakeServer::start(&hosts, "witness").await;
    let third = FakeServer::start(&hosts, "third").await;
    let modo = witness.add_person("modo").await;
    let dora = third.add_person("dora").await;
    let admin = alpha.admin().await;
    let group_id = alpha.create_group(&admin, "rust", "Rust").await;
    let inbox = alpha.url("/g/rust/inbox");
    for (server, person) in [(&witness, &modo), (&third, &dora)] {
        let answer = server
            .send(person, &inbox, &server.follow(person, &group_id))
            .await
            .unwrap();
        assert_eq!(answer.status, 202, "{answer:?}");
    }
    let (status, body) = alpha
        .call(
            Method::PUT,
            &format!(
                "/api/v1/groups/rust/members/{}",
                enc(&format!("modo@{}", witness.host))
            ),
            Some(&admin),
            Some(json!({"role": "moderator"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let follows = format!(
        "SELECT count(*) FROM follow WHERE target_ap_id = {} AND follower_ap_id = {}",
        lit(&group_id),
        lit(&dora.id)
    );
    assert_eq!(count(&alpha, &follows).await, 1);

    let future = (Utc::now() + Span::days(1)).to_rfc3339();
    let base = witness.url("");
    let vars = [
        ("actor", modo.id.as_str()),
        ("base", base.as_str()),
        ("group", group_id.as_str()),
        ("person", dora.id.as_str()),
        ("end", future.as_str()),
        ("n", "1"),
    ];
    let relayed_to_third = |id: &Value| {
        let (third, id) = (&third, id.clone());
        async move {
            eventually("the group's relay at dora's server", DEADLINE, || async {
                third
                    .received_where(|a| a["type"] == "Announce" && a["object"]["id"] == id)
                    .pop()
            })
            .await
        }
    };
    let ban = fixture("lemmy_block_user.json", &vars);
    let answer = witness.send(&modo, &inbox, &ban).await.unwrap();
    assert_eq!(answer.status, 202, "{answer:?}");
    assert_eq!(
        count(
            &alpha,
            "SELECT count(*) FROM group_ban WHERE lifted_at IS NULL"
        )
        .await,
        1
    );
    assert_eq!(
        count(&alpha, &follows).await,
        0,
        "the ban left the banned person's follow"
    );
    let relayed = relayed_to_third(&ban["id"]).await;
    assert_eq!(relayed["actor"], group_id.as_str());

    let undo = fixture("lemmy_undo_block_user.json", &vars);
    let answer = witness.send(&modo, &inbox, &undo).await.unwrap();
    assert_eq!(answer.status, 202, "{answer:?}");
    relayed_to_third(&undo["id"]).await;
}
