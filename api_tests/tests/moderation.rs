//! Moderators across federated groups: a moderator on one instance acting on another
//! instance's group, Lemmy-shaped moderation activities, and forged ones.

use cenacle_api_tests::{activity_json, eventually, fake_server::FakeServer, Hosts, Instance};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(40);

fn enc(s: &str) -> String {
    s.replace('!', "%21")
        .replace('@', "%40")
        .replace(':', "%3A")
        .replace('/', "%2F")
}

/// The local id of the post `ap_id` on `instance`, once it shows in the group's list.
async fn local_id(instance: &Instance, token: &str, group: &str, ap_id: &str) -> i64 {
    eventually(
        &format!("{}: the post {ap_id}", instance.name),
        DEADLINE,
        || async {
            let (_, page) = instance
                .get(
                    &format!("/api/v1/groups/{}/posts?limit=100", enc(group)),
                    Some(token),
                )
                .await;
            page["items"]
                .as_array()?
                .iter()
                .find(|p| p["ap_id"] == ap_id)?["id"]
                .as_i64()
        },
    )
    .await
}

/// The post as `token` (None: anyone) sees it on `instance`: (status, post).
async fn post_as(instance: &Instance, token: Option<&str>, id: i64) -> (u16, Value) {
    let (status, detail) = instance.get(&format!("/api/v1/posts/{id}"), token).await;
    (status, detail["post"].clone())
}

/// Waits until `check` holds for the post as `token` sees it on `instance`.
async fn wait_post(
    instance: &Instance,
    token: Option<&str>,
    id: i64,
    what: &str,
    check: impl Fn(u16, &Value) -> bool,
) {
    eventually(&format!("{}: {what}", instance.name), DEADLINE, || async {
        let (status, post) = post_as(instance, token, id).await;
        check(status, &post).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderator_on_beta_removes_restores_and_locks_gammas_post_in_alphas_group_everywhere() {
    let mut hosts = Hosts::default();
    for name in ["alpha", "beta", "gamma"] {
        hosts.add(name);
    }
    let (mut alpha, mut beta, mut gamma) = (
        Instance::new("alpha", &hosts),
        Instance::new("beta", &hosts),
        Instance::new("gamma", &hosts),
    );
    alpha.start();
    beta.start();
    gamma.start();
    let admin = alpha.admin().await;
    alpha.create_group(&admin, "entraide", "Entraide").await;
    let handle = format!("entraide@{}", alpha.host);
    let marie = beta.member("marie").await;
    let pierre = gamma.member("pierre").await;
    let paul = gamma.member("paul").await;
    beta.follow_group(&marie, &format!("!{handle}"), DEADLINE)
        .await;
    gamma
        .follow_group(&pierre, &format!("!{handle}"), DEADLINE)
        .await;

    // alpha's owner names marie (on beta) moderator: announced as Add to the moderators
    // collection, which beta and gamma keep.
    let marie_handle = format!("marie@{}", beta.host);
    let (status, _) = alpha
        .get(
            &format!("/api/v1/resolve?q={}", enc(&format!("@{marie_handle}"))),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = alpha
        .call(
            Method::PUT,
            &format!("/api/v1/groups/entraide/members/{}", enc(&marie_handle)),
            Some(&admin),
            Some(json!({"role": "moderator"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let moderators = activity_json(&alpha.http, &alpha.url("/g/entraide/moderators")).await;
    let marie_id = format!("{}/u/marie", beta.host);
    assert!(
        moderators["orderedItems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m.as_str().is_some_and(|m| m.ends_with(&marie_id))),
        "{moderators}"
    );

    // pierre, on gamma, posts in alpha's group.
    let (status, asked) = gamma
        .post(
            &format!("/api/v1/groups/{}/posts", enc(&handle)),
            Some(&pierre),
            json!({"kind": "question", "title": "Vendez mes chaussures", "body": "Pas cher"}),
        )
        .await;
    assert_eq!(status, 201, "{asked}");
    let ap_id = asked["post"]["ap_id"].as_str().unwrap().to_owned();
    let on_gamma = asked["post"]["id"].as_i64().unwrap();
    let on_alpha = local_id(&alpha, &admin, "entraide", &ap_id).await;
    let on_beta = local_id(&beta, &marie, &handle, &ap_id).await;

    // marie, on beta, removes it: beta sends the removal to alpha's group, which applies it
    // and relays it; gamma (the author's instance) and beta show it removed, with the reason.
    let reason = "Hors sujet : petites annonces interdites";
    let (status, body) = beta
        .post(
            &format!("/api/v1/posts/{on_beta}/removal"),
            Some(&marie),
            json!({"reason": reason}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let removed = |status: u16, post: &Value| status == 200 && post["removal"]["reason"] == reason;
    wait_post(&alpha, Some(&admin), on_alpha, "removed", removed).await;
    wait_post(&gamma, Some(&pierre), on_gamma, "removed", removed).await;
    wait_post(&beta, Some(&marie), on_beta, "removed", removed).await;
    // Everyone else no longer sees it.
    assert_eq!(post_as(&alpha, None, on_alpha).await.0, 404);
    assert_eq!(post_as(&gamma, Some(&paul), on_gamma).await.0, 404);
    assert_eq!(post_as(&beta, None, on_beta).await.0, 404);
    let served = alpha
        .http
        .get(&ap_id)
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(served, 404, "gamma no longer serves its removed post");

    // A restore brings it back everywhere.
    let (status, body) = beta
        .call(
            Method::DELETE,
            &format!("/api/v1/posts/{on_beta}/removal"),
            Some(&marie),
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let back = |status: u16, post: &Value| status == 200 && post.get("removal").is_none();
    wait_post(&alpha, None, on_alpha, "restored", back).await;
    wait_post(&gamma, Some(&paul), on_gamma, "restored", back).await;
    wait_post(&beta, None, on_beta, "restored", back).await;

    // A lock stops new comments on all three.
    let (status, body) = beta
        .call(
            Method::PUT,
            &format!("/api/v1/posts/{on_beta}/moderation"),
            Some(&marie),
            Some(json!({"locked": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let locked = |status: u16, post: &Value| status == 200 && post["locked"] == true;
    wait_post(&alpha, None, on_alpha, "locked", locked).await;
    wait_post(&gamma, None, on_gamma, "locked", locked).await;
    wait_post(&beta, None, on_beta, "locked", locked).await;
    for (instance, token, id) in [
        (&alpha, &admin, on_alpha),
        (&beta, &marie, on_beta),
        (&gamma, &paul, on_gamma),
    ] {
        let (status, body) = instance
            .post(
                &format!("/api/v1/posts/{id}/comments"),
                Some(token),
                json!({"body": "Et pourtant…"}),
            )
            .await;
        assert_eq!(status, 403, "{}: {body}", instance.name);
        // Refused because the post is locked, not for any other reason.
        assert_eq!(
            (
                body["error"]["code"].as_str(),
                body["error"]["details"]["action"].as_str()
            ),
            (Some("forbidden"), Some("post_locked")),
            "{}: {body}",
            instance.name
        );
    }

    // A moderator of nothing here (paul on gamma) cannot remove it: a clear code.
    let (status, body) = gamma
        .post(
            &format!("/api/v1/posts/{on_gamma}/removal"),
            Some(&paul),
            json!({"reason": "non"}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "not_a_moderator_of_group");

    // alpha's moderation log shows who did what, to what, why and when.
    let (status, log) = alpha
        .get("/api/v1/groups/entraide/moderation-log", None)
        .await;
    assert_eq!(status, 200, "{log}");
    let entries = log["items"].as_array().expect("a page of entries");
    let pierre_handle = format!("pierre@{}", gamma.host);
    for action in ["add_moderator", "remove_post", "restore_post", "lock_post"] {
        let matching: Vec<&Value> = entries.iter().filter(|e| e["action"] == action).collect();
        assert_eq!(matching.len(), 1, "{action} exactly once in {log}");
        let entry = matching[0];
        assert!(entry["created_at"].is_string(), "{entry}");
        if action == "add_moderator" {
            // alpha's own admin named marie, of beta.
            assert_eq!(entry["moderator"], "admin", "{entry}");
            assert_eq!(entry["target_person"], marie_handle.as_str(), "{entry}");
        } else {
            // marie, of beta, acted on pierre's (of gamma) post.
            assert_eq!(entry["target_post_id"], on_alpha, "{entry}");
            assert_eq!(entry["moderator"], marie_handle.as_str(), "{entry}");
            assert_eq!(entry["target_person"], pierre_handle.as_str(), "{entry}");
        }
    }
    let removal = entries
        .iter()
        .find(|e| e["action"] == "remove_post")
        .unwrap();
    assert_eq!(removal["reason"], reason);
}

/// A fixture of `api_tests/fixtures/` with its placeholders filled in.
fn lemmy_fixture(name: &str, actor: &str, group: &str, post: &str, person: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    let base = actor.split("/u/").next().unwrap();
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("{{actor}}", actor)
        .replace("{{base}}", base)
        .replace("{{group}}", group)
        .replace("{{post}}", post)
        .replace("{{person}}", person);
    serde_json::from_str(&text).unwrap()
}

/// `name@host:port` of a fake server's person.
fn handle_of(id: &str) -> String {
    let rest = id.split_once("://").unwrap().1;
    let (host, path) = rest.split_once('/').unwrap();
    format!("{}@{host}", path.rsplit('/').next().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lemmy_shaped_moderation_is_applied_and_forged_removals_change_nothing() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    hosts.add("lemmy");
    let mut alpha = Instance::new("alpha", &hosts);
    let lemmy = FakeServer::start(&hosts, "lemmy").await;
    alpha.start();
    let admin = alpha.admin().await;
    let group = alpha.create_group(&admin, "rust", "Rust").await;
    alpha.create_group(&admin, "golang", "Go").await;
    let people = lemmy
        .add_people(&["moddy", "author", "stranger", "gomod"])
        .await;
    let (moddy, author, stranger, gomod) = (&people[0], &people[1], &people[2], &people[3]);
    let inbox = alpha.url("/g/rust/inbox");

    // A Lemmy author posts in our group; moddy is named moderator of it, gomod of another.
    let page = lemmy.page(author, "/post/1", &group, "Vends vélo");
    let answer = lemmy
        .send(author, &inbox, &lemmy.create(author, &page))
        .await
        .unwrap();
    assert_eq!(answer.status, 202, "{}", answer.body);
    let post_ap_id = page["id"].as_str().unwrap().to_owned();
    let post_id = local_id(&alpha, &admin, "rust", &post_ap_id).await;
    // Named by handle, or by actor URL.
    for (person, group_name, name) in [
        (moddy, "rust", handle_of(&moddy.id)),
        (gomod, "golang", gomod.id.clone()),
    ] {
        let (status, body) = alpha
            .get(
                &format!("/api/v1/resolve?q={}", enc(&person.id)),
                Some(&admin),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = alpha
            .call(
                Method::PUT,
                &format!("/api/v1/groups/{group_name}/members/{}", enc(&name)),
                Some(&admin),
                Some(json!({"role": "moderator"})),
            )
            .await;
        assert_eq!(status, 204, "{body}");
    }
    let fixture = |name: &str, actor: &str, person: &str| {
        lemmy_fixture(name, actor, &group, &post_ap_id, person)
    };
    let visible = || async { post_as(&alpha, None, post_id).await.0 == 200 };

    // Forged removals and locks: by a stranger, and by a moderator of another group.
    // Acknowledged (peers do not retry), ignored for that reason (counted once each), nothing
    // changed: the post neither removed nor locked, even as its moderators see it, and
    // nothing in the group's log.
    let not_a_moderator = "cenacle_inbox_ignored_total{reason=\"not_a_moderator_of_group\"}";
    let unchanged = || async {
        let (status, post) = post_as(&alpha, Some(&admin), post_id).await;
        assert_eq!(status, 200, "{post}");
        assert!(post.get("removal").is_none(), "{post}");
        assert_eq!(post["locked"], false, "{post}");
        let (status, log) = alpha.get("/api/v1/groups/rust/moderation-log", None).await;
        assert_eq!(status, 200, "{log}");
        let acted: Vec<&Value> = log["items"]
            .as_array()
            .expect("a page of entries")
            .iter()
            .filter(|e| e["action"] != "add_moderator")
            .collect();
        assert!(acted.is_empty(), "{acted:?}");
    };
    for (kind, fixture_name) in [
        ("delete", "lemmy_remove_page.json"),
        ("lock", "lemmy_lock_page.json"),
    ] {
        let before = alpha.metric(not_a_moderator).await;
        let forgers = [stranger, gomod];
        for forger in forgers {
            let mut forged = fixture(fixture_name, &forger.id, "");
            forged["id"] = json!(lemmy.new_id(kind));
            let answer = lemmy.send(forger, &inbox, &forged).await.unwrap();
            assert_eq!(answer.status, 202, "{}: {}", forger.name, answer.body);
            assert!(visible().await, "{}'s {kind} hid it", forger.name);
        }
        assert_eq!(
            alpha.metric(not_a_moderator).await - before,
            forgers.len() as f64,
            "each forged {kind} ignored as not a moderator's"
        );
        unchanged().await;
    }
    assert!(alpha.log().contains("not_a_moderator_of_group"));

    // Lemmy 1.0's removal by a listed moderator, and its Undo.
    let removal = fixture("lemmy_remove_page.json", &moddy.id, "");
    let answer = lemmy.send(moddy, &inbox, &removal).await.unwrap();
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert!(!visible().await, "removed");
    let (status, seen) = post_as(&alpha, Some(&admin), post_id).await;
    assert_eq!(
        (status, &seen["removal"]["reason"]),
        (200, &json!("bad comment"))
    );
    let undo = fixture("lemmy_undo_remove_page.json", &moddy.id, "");
    assert_eq!(lemmy.send(moddy, &inbox, &undo).await.unwrap().status, 202);
    assert!(visible().await, "restored");

    // Lock: a comment from the inbox is acknowledged and refused.
    let lock = fixture("lemmy_lock_page.json", &moddy.id, "");
    assert_eq!(lemmy.send(moddy, &inbox, &lock).await.unwrap().status, 202);
    assert_eq!(post_as(&alpha, None, post_id).await.1["locked"], true);
    let note = lemmy.note(
        author,
        "/comment/1",
        &post_ap_id,
        &group,
        "Toujours dispo ?",
    );
    let answer = lemmy
        .send(author, &inbox, &lemmy.create(author, &note))
        .await
        .unwrap();
    assert_eq!(answer.status, 202, "{}", answer.body);
    let (_, detail) = alpha.get(&format!("/api/v1/posts/{post_id}"), None).await;
    assert_eq!(detail["comments"], json!([]), "no comment on a locked post");
    let unlock = fixture("lemmy_undo_lock_page.json", &moddy.id, "");
    assert_eq!(
        lemmy.send(moddy, &inbox, &unlock).await.unwrap().status,
        202
    );
    assert_eq!(post_as(&alpha, None, post_id).await.1["locked"], false);

    // Unlocked, the comment is taken; a removal of it hides it from all but moderators.
    let answer = lemmy
        .send(author, &inbox, &lemmy.create(author, &note))
        .await
        .unwrap();
    assert_eq!(answer.status, 202, "{}", answer.body);
    let comments = |token: Option<String>| {
        let alpha = &alpha;
        async move {
            alpha
                .get(&format!("/api/v1/posts/{post_id}"), token.as_deref())
                .await
                .1["comments"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        }
    };
    assert_eq!(comments(None).await.len(), 1);
    let mut removal = lemmy_fixture(
        "lemmy_remove_page.json",
        &moddy.id,
        &group,
        note["id"].as_str().unwrap(),
        "",
    );
    removal["id"] = json!(lemmy.new_id("delete"));
    assert_eq!(
        lemmy.send(moddy, &inbox, &removal).await.unwrap().status,
        202
    );
    assert_eq!(comments(None).await.len(), 0, "removed");
    let seen = comments(Some(admin.clone())).await;
    assert_eq!(seen[0]["removal"]["reason"], "bad comment", "{seen:?}");

    // Pins.
    let pin = fixture("lemmy_add_featured_post.json", &moddy.id, "");
    assert_eq!(lemmy.send(moddy, &inbox, &pin).await.unwrap().status, 202);
    assert_eq!(post_as(&alpha, None, post_id).await.1["pinned"], true);
    let unpin = fixture("lemmy_remove_featured_post.json", &moddy.id, "");
    assert_eq!(lemmy.send(moddy, &inbox, &unpin).await.unwrap().status, 202);
    assert_eq!(post_as(&alpha, None, post_id).await.1["pinned"], false);

    // The moderator list: moddy adds the stranger, then removes them.
    let listed = || async {
        let list: Value = alpha
            .http
            .get(alpha.url("/g/rust/moderators"))
            .header("Accept", "application/activity+json")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        list["orderedItems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == stranger.id.as_str())
    };
    let add = fixture("lemmy_add_mod.json", &moddy.id, &stranger.id);
    assert_eq!(lemmy.send(moddy, &inbox, &add).await.unwrap().status, 202);
    assert!(listed().await, "added");
    let remove = fixture("lemmy_remove_mod.json", &moddy.id, &stranger.id);
    assert_eq!(
        lemmy.send(moddy, &inbox, &remove).await.unwrap().status,
        202
    );
    assert!(!listed().await, "removed");

    // What we send passes the parsers that read Lemmy's: the group's relays to a follower.
    let follower = lemmy.add_person("follower").await;
    let follow = lemmy.follow(&follower, &group);
    assert_eq!(
        lemmy.send(&follower, &inbox, &follow).await.unwrap().status,
        202
    );
    eventually("the Accept", DEADLINE, || async {
        (!lemmy.received_where(|a| a["type"] == "Accept").is_empty()).then_some(())
    })
    .await;
    let (status, body) = alpha
        .post(
            &format!("/api/v1/posts/{post_id}/removal"),
            Some(&admin),
            json!({"reason": "Spam"}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = alpha
        .call(
            Method::DELETE,
            &format!("/api/v1/posts/{post_id}/removal"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 204);
    for (locked, pinned) in [(true, true), (false, false)] {
        let (status, _) = alpha
            .call(
                Method::PUT,
                &format!("/api/v1/posts/{post_id}/moderation"),
                Some(&admin),
                Some(json!({"locked": locked, "pinned": pinned})),
            )
            .await;
        assert_eq!(status, 200);
    }
    // Each relayed activity as Lemmy 1.0 reads it: `to` and `cc`, a removal's object by id
    // with its reason as `summary`, Undos embedding what they undo.
    let relayed = |inner_type: &'static str, undone: Option<&'static str>| {
        let lemmy = &lemmy;
        async move {
            eventually(
                &format!("the relay of a {inner_type}"),
                DEADLINE,
                || async {
                    lemmy
                        .received_where(|a| {
                            a["type"] == "Announce"
                                && a["object"]["type"] == inner_type
                                && undone.is_none_or(|u| a["object"]["object"]["type"] == u)
                        })
                        .pop()
                        .map(|a| a["object"].clone())
                },
            )
            .await
        }
    };
    let delete = relayed("Delete", None).await;
    assert_eq!(delete["summary"], "Spam");
    assert_eq!(
        delete["object"],
        post_ap_id.as_str(),
        "an id, never the object"
    );
    let undo_delete = relayed("Undo", Some("Delete")).await;
    assert_eq!(undo_delete["object"]["summary"], "Spam");
    let lock = relayed("Lock", None).await;
    assert_eq!(lock["object"], post_ap_id.as_str());
    let undo_lock = relayed("Undo", Some("Lock")).await;
    assert_eq!(undo_lock["object"]["object"], post_ap_id.as_str());
    let pin = relayed("Add", None).await;
    assert_eq!(pin["target"], format!("{group}/featured"));
    let unpin = relayed("Remove", None).await;
    assert_eq!(unpin["target"], format!("{group}/featured"));
    assert_eq!(unpin["object"], post_ap_id.as_str());
    // Each parses as the activity it is, as our inbox would read it from another server.
    use cenacle_apub::activities::{undo::Undone, AddOrRemove, InboxActivity};
    let parse = |inner: &Value| -> InboxActivity {
        assert!(inner["to"].is_array() && inner["cc"].is_array(), "{inner}");
        serde_json::from_value(inner.clone()).unwrap_or_else(|e| panic!("{e}: {inner}"))
    };
    assert!(
        matches!(parse(&delete), InboxActivity::Delete(_)),
        "{delete}"
    );
    assert!(
        matches!(parse(&undo_delete), InboxActivity::Undo(u) if matches!(u.object, Undone::Delete(_))),
        "{undo_delete}"
    );
    assert!(matches!(parse(&lock), InboxActivity::Lock(_)), "{lock}");
    assert!(
        matches!(parse(&undo_lock), InboxActivity::Undo(u) if matches!(u.object, Undone::Lock(_))),
        "{undo_lock}"
    );
    assert!(
        matches!(parse(&pin), InboxActivity::Collection(c) if matches!(c.kind, AddOrRemove::Add)),
        "{pin}"
    );
    assert!(
        matches!(parse(&unpin), InboxActivity::Collection(c) if matches!(c.kind, AddOrRemove::Remove)),
        "{unpin}"
    );
}

/// Whether the local member `username` is listed among the moderators of the group `group` on
/// `instance`, read from its database.
async fn moderates_here(instance: &Instance, username: &str, group: &str) -> bool {
    use diesel::sql_types::BigInt;
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    let mut conn = AsyncPgConnection::establish(&instance.database_url())
        .await
        .unwrap();
    let query = format!(
        "(SELECT count(*) FROM group_membership m JOIN person p ON p.id = m.person_id \
          JOIN community_group g ON g.id = m.group_id \
          WHERE p.local AND p.username = '{username}' AND g.ap_id = '{group}' \
            AND m.role IN ('moderator', 'owner'))"
    );
    diesel::select(diesel::dsl::sql::<BigInt>(&query))
        .get_result::<i64>(&mut conn)
        .await
        .unwrap()
        > 0
}

/// A group on another server names its moderators; it cannot name one of our members who
/// never joined it (their follow is their consent): the Add, signed and relayed by the group
/// itself, is acknowledged (202, peers do not retry), ignored with its reason logged. A member
/// who follows the group is named as the group says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_elsewhere_cannot_make_our_members_its_moderators_by_its_word_alone() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    hosts.add("lemmy");
    let mut alpha = Instance::new("alpha", &hosts);
    let lemmy = FakeServer::start(&hosts, "lemmy").await;
    alpha.start();
    // marie exists, and never follows the group.
    let _marie = alpha.member("marie").await;
    let paul = alpha.member("paul").await;
    let group = lemmy.add_group("ailleurs").await;
    let boss = lemmy.add_person("boss").await;
    lemmy.set_moderators(&group, &[&boss]);

    // paul follows the group (resolve, follow, the group's Accept); marie never does.
    let (status, found) = alpha
        .get(
            &format!("/api/v1/resolve?q={}", enc(&group.id)),
            Some(&paul),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let (status, body) = alpha
        .post("/api/v1/follows", Some(&paul), json!({"target": group.id}))
        .await;
    assert_eq!(status, 202, "{body}");
    let follow = eventually("paul's Follow", DEADLINE, || async {
        lemmy
            .received_where(|a| a["type"] == "Follow" && a["object"] == group.id.as_str())
            .pop()
    })
    .await;
    let answer = lemmy
        .send(&group, &alpha.url("/inbox"), &lemmy.accept(&group, &follow))
        .await
        .unwrap();
    assert_eq!(answer.status, 202, "{}", answer.body);
    eventually("the follow accepted", DEADLINE, || async {
        let (_, follows) = alpha.get("/api/v1/follows", Some(&paul)).await;
        follows
            .as_array()?
            .iter()
            .any(|f| f["target"] == group.id.as_str() && f["state"] == "accepted")
            .then_some(())
    })
    .await;

    for name in ["marie", "paul"] {
        let mut add = lemmy_fixture(
            "lemmy_add_mod.json",
            &boss.id,
            &group.id,
            "",
            &alpha.url(&format!("/u/{name}")),
        );
        add["id"] = json!(lemmy.new_id("add"));
        let announce = lemmy.announce(&group, &add);
        let answer = lemmy
            .send(&group, &alpha.url("/inbox"), &announce)
            .await
            .unwrap();
        assert_eq!(answer.status, 202, "{name}: {}", answer.body);
    }
    eventually("paul named moderator", DEADLINE, || async {
        moderates_here(&alpha, "paul", &group.id)
            .await
            .then_some(())
    })
    .await;
    assert!(
        !moderates_here(&alpha, "marie", &group.id).await,
        "marie was made a moderator of a group she never joined"
    );
    assert!(
        alpha.log().contains("local_moderator_not_following_group"),
        "the refusal's reason is logged"
    );
}
