//! A text that mentions someone on another server tags them and is sent to their inbox, so
//! that their server tells them (Mastodon notifies only of what it receives, from a `Mention`
//! tag naming its member), whether or not they follow the group; a private group's text tags
//! no one, lest a member's server tell a non-member, and goes to no one outside it (issue 16).
//! When the text goes (deleted, removed), so does their server's copy.

use cenacle_api_tests::{
    activity_json,
    database::{self, lit},
    eventually,
    peer::{FakePeer, Signing, WebFingerPointer},
    Hosts, Instance,
};
use cenacle_apub::webfinger_lookup::HANDLE_MISSES_PERSIST_AFTER;
use diesel_async::AsyncPgConnection;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_of_someone_elsewhere_tags_them_and_reaches_their_inbox() {
    let (hosts, alpha, admin, peer, handle) = a_private_groups_member_elsewhere().await;
    let body = format!("{handle}, une idée ?");
    let (_, hidden) = post(&alpha, &admin, "secret", "Entre nous", &body).await;
    let (_, public) = post(&alpha, &admin, "rust", "Pour tous", &body).await;

    let create = received(&peer, "Create", &public).await;
    let object = &create["object"];
    let mention = object["tag"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "Mention" && t["href"] == peer.actor_id.as_str())
        .cloned();
    assert_eq!(
        mention.map(|m| m["name"].clone()),
        Some(Value::String(handle.clone())),
        "{object}"
    );
    let cc: Vec<&str> = object["cc"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(cc.contains(&peer.actor_id.as_str()), "{object}");
    // The Page served to anyone who fetches it says the same.
    let page = activity_json(&hosts.client(), &public).await;
    assert!(page["tag"].to_string().contains(&peer.actor_id), "{page}");

    // The private group's post reaches its member's server through the group only, and
    // tags no one: that server would tell whomever it names there, member or not.
    let announced = only_announced(&alpha, &peer, "Create", &hidden).await;
    let page = &announced["object"]["object"];
    assert!(!page.to_string().contains(&peer.actor_id), "{page}");
}

/// An edit that names someone elsewhere for the first time is sent to their inbox: their
/// server has not seen the text (Mastodon and Lemmy take the `Update` of a text they lack as
/// its creation) and would not tell them otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_that_names_someone_elsewhere_reaches_their_inbox() {
    let (_hosts, alpha, admin, peer, handle) = a_private_groups_member_elsewhere().await;
    let named = format!("Une idée, {handle} ?");
    let (id, ap_id) = post(&alpha, &admin, "rust", "Pour tous", "Une idée ?").await;
    edit_post(&alpha, &admin, id, &named).await;

    let update = received(&peer, "Update", &ap_id).await;
    let tags = update["object"]["tag"].to_string();
    assert!(tags.contains(&peer.actor_id), "{update}");
    assert!(
        !peer
            .received()
            .iter()
            .any(|a| a["type"] == "Create" && a["object"]["id"] == ap_id.as_str()),
        "the text before the edit named no one there"
    );

    // In the private group, the edit reaches its member's server through the group only.
    let (id, hidden) = post(&alpha, &admin, "secret", "Entre nous", "Une idée ?").await;
    edit_post(&alpha, &admin, id, &named).await;
    only_announced(&alpha, &peer, "Update", &hidden).await;
}

/// A text that reached someone elsewhere because it named them leaves their server when it
/// goes: its author's `Delete` of a comment and of a post, and a moderator's removal (a
/// `Delete` with a `summary`, which Lemmy applies) and its restore, reach their inbox too,
/// signed by whoever acted — not only the group's followers. The stored text decides who:
/// the `Delete` carries only the text's id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_or_removed_text_leaves_the_servers_of_the_people_it_names() {
    let mut hosts = hosts();
    let (peer, handle) = stranger(&mut hosts, "masto").await;
    let (alpha, admin) = alpha_with_groups(&hosts, &[("rust", "public")]).await;
    let marie = alpha.member("marie").await;
    let (status, body) = alpha
        .post("/api/v1/groups/rust/join", Some(&marie), json!({}))
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
    let client = hosts.client();
    let text = format!("{handle}, une idée ?");

    let (post_id, post_ap_id) = post(&alpha, &marie, "rust", "Pour tous", &text).await;
    received(&peer, "Create", &post_ap_id).await;
    let (comment_id, comment_ap_id) =
        comment(&alpha, &marie, post_id, &format!("{handle} saura")).await;
    received(&peer, "Create", &comment_ap_id).await;

    // The author deletes the comment, then the post.
    for (path, ap_id) in [
        (format!("/api/v1/comments/{comment_id}"), &comment_ap_id),
        (format!("/api/v1/posts/{post_id}"), &post_ap_id),
    ] {
        let (status, body) = alpha.call(Method::DELETE, &path, Some(&marie), None).await;
        assert_eq!(status, 204, "{path}: {body}");
        let delete = received(&peer, "Delete", ap_id).await;
        assert!(delete.get("summary").is_none(), "{delete}");
        signed_by_its_actor(&client, &peer, &delete).await;
    }

    // A moderator removes another, then restores it.
    let (removed_id, removed) = post(&alpha, &marie, "rust", "Hors sujet", &text).await;
    received(&peer, "Create", &removed).await;
    let removal = format!("/api/v1/posts/{removed_id}/removal");
    let (status, body) = alpha
        .post(&removal, Some(&admin), json!({"reason": "Hors sujet"}))
        .await;
    assert_eq!(status, 204, "{body}");
    let delete = received(&peer, "Delete", &removed).await;
    assert_eq!(delete["summary"], "Hors sujet", "{delete}");
    assert_eq!(delete["actor"], alpha.url("/u/admin"), "{delete}");
    signed_by_its_actor(&client, &peer, &delete).await;
    let (status, _) = alpha
        .call(Method::DELETE, &removal, Some(&admin), None)
        .await;
    assert_eq!(status, 204);
    let undo = received_where(&peer, "the Undo of the removal", |a| {
        a["type"] == "Undo"
            && a["object"]["type"] == "Delete"
            && a["object"]["object"] == removed.as_str()
    })
    .await;
    signed_by_its_actor(&client, &peer, &undo).await;
}

/// A private group's text that names someone elsewhere went to no one outside the group, and
/// neither does its `Delete`: the stored text names them, but telling their server that the
/// text went would tell it the text existed. The same name in a public group's text, deleted
/// too, does bring them its `Delete` (the control: the person is known and reachable).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_groups_delete_is_not_sent_to_the_people_its_text_names() {
    let mut hosts = hosts();
    let (peer, handle) = stranger(&mut hosts, "masto").await;
    let (alpha, admin) = alpha_with_groups(&hosts, PUBLIC_AND_PRIVATE).await;
    let text = format!("{handle}, une idée ?");
    // A private group's text looks no one up: the public group's makes them known first.
    let (public_id, public) = post(&alpha, &admin, "rust", "Pour tous", &text).await;
    received_tagging(&peer, "Create", &public).await;
    let mut db = database::connect(&alpha).await;
    assert_eq!(stored(&mut db, &peer.actor_id).await, 1, "known now");

    let (hidden_id, hidden) = post(&alpha, &admin, "secret", "Entre nous", &text).await;
    for id in [hidden_id, public_id] {
        let path = format!("/api/v1/posts/{id}");
        let (status, body) = alpha.call(Method::DELETE, &path, Some(&admin), None).await;
        assert_eq!(status, 204, "{path}: {body}");
    }
    let delete = received(&peer, "Delete", &public).await;
    assert_eq!(delete["actor"], alpha.url("/u/admin"), "{delete}");

    // The public Delete arriving does not prove the private one never will: deliveries to one
    // server run up to `federation.delivery_per_host` (8) at once, outbox events are taken in
    // batches that may be retried one by one, and a failed delivery comes back later. So the
    // test waits instead for all that the private post caused to be done: its outbox events
    // taken (the transaction that takes an event queues its deliveries: gone from
    // `outbox_event` means queued in `delivery`), and nothing left queued for the peer's
    // server (a delivery leaves the queue once the peer answered — the fake peer records it
    // first — or after days parked: a retried or parked one keeps the wait going, and the
    // test fails on the deadline rather than pass). One statement: one snapshot.
    let inbox_prefix = peer.actor_id.trim_end_matches("/actor");
    let settled = format!(
        "SELECT (SELECT count(*) FROM outbox_event \
                 WHERE subject_id = {hidden_id} AND kind IN ('post_created', 'post_deleted')) \
              + (SELECT count(*) FROM delivery WHERE starts_with(inbox_url, {}))",
        lit(inbox_prefix)
    );
    eventually(
        "the private post's events taken and the peer's deliveries done",
        Duration::from_secs(30),
        || async {
            let mut db = database::connect(&alpha).await;
            (database::number(&mut db, &settled).await == 0).then_some(())
        },
    )
    .await;
    let about_hidden: Vec<(Value, Value)> = peer
        .received()
        .into_iter()
        .filter(|a| a.to_string().contains(&format!("\"{hidden}\"")))
        .map(|a| (a["type"].clone(), a["id"].clone()))
        .collect();
    assert!(
        about_hidden.is_empty(),
        "the private post reached {}: {about_hidden:?}",
        peer.actor_id
    );
}

// Issue 16, continued: someone this instance has never met, named in what a member writes
// here, is looked up with WebFinger before the text is stored, so that it tags and reaches
// them — except in a private group, whose text tags no one and looks no one up.

/// Each way a member writes through the API — a post, its edit, a comment, its edit — names
/// someone alpha has never met (they follow nothing here): alpha finds them by WebFinger,
/// stores them, and what it sends tags them and reaches their inbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_never_met_named_through_the_api_is_found_tagged_and_reached() {
    let mut hosts = hosts();
    let (in_post, post_handle) = stranger(&mut hosts, "masto").await;
    let (in_post_edit, post_edit_handle) = stranger(&mut hosts, "lemmy").await;
    let (in_comment, comment_handle) = stranger(&mut hosts, "piefed").await;
    let (in_comment_edit, comment_edit_handle) = stranger(&mut hosts, "misskey").await;
    let (alpha, admin) = alpha_with_groups(&hosts, &[("rust", "public")]).await;
    let mut db = database::connect(&alpha).await;
    let peers = [&in_post, &in_post_edit, &in_comment, &in_comment_edit];
    for peer in peers {
        assert_eq!(stored(&mut db, &peer.actor_id).await, 0, "never met");
    }

    let text = format!("{post_handle}, une idée ?");
    let (post_id, post_ap_id) = post(&alpha, &admin, "rust", "Pour tous", &text).await;
    received_tagging(&in_post, "Create", &post_ap_id).await;

    let text = format!("{post_handle}, {post_edit_handle} : une idée ?");
    edit_post(&alpha, &admin, post_id, &text).await;
    received_tagging(&in_post_edit, "Update", &post_ap_id).await;

    let text = format!("{comment_handle} saura");
    let (comment_id, comment_ap_id) = comment(&alpha, &admin, post_id, &text).await;
    received_tagging(&in_comment, "Create", &comment_ap_id).await;

    let text = format!("{comment_handle} ou {comment_edit_handle} sauront");
    edit_comment(&alpha, &admin, comment_id, &text).await;
    received_tagging(&in_comment_edit, "Update", &comment_ap_id).await;

    // Each found once, and kept: a second mention looks no one up.
    for peer in peers {
        assert_eq!(
            stored(&mut db, &peer.actor_id).await,
            1,
            "{} stored",
            peer.actor_id
        );
        assert_eq!(peer.webfinger_queries(), 1, "{}", peer.actor_id);
    }
}

/// The composer and the answer form of the web pages, in a real browser: a member names
/// someone alpha has never met, and what alpha sends tags and reaches them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_never_met_named_in_the_web_composer_or_an_answer_is_found_and_reached() {
    let mut hosts = hosts();
    let (in_question, question_handle) = stranger(&mut hosts, "masto").await;
    let (in_answer, answer_handle) = stranger(&mut hosts, "lemmy").await;
    let (alpha, _admin) = alpha_with_groups(&hosts, &[("support", "public")]).await;

    let b = cenacle_api_tests::browser::Browser::start("en").await;
    b.sign_up(&alpha, "alice").await;
    b.goto(&alpha.url("/groups/support")).await;
    b.click("form[action='/groups/support/join'] button").await;
    b.click("a[href='/groups/support/ask']").await;
    b.fill("#title", "Who knows the router?").await;
    b.fill("#body", &format!("{question_handle} may know."))
        .await;
    b.click("button[value=publish]").await;
    let question = b
        .wait_path("the question's page", |p| p.starts_with("/posts/"))
        .await;
    let question_ap_id = alpha.url(&question.replace("/posts/", "/p/"));
    received_tagging(&in_question, "Create", &question_ap_id).await;

    b.fill("#answer-body", &format!("Or {answer_handle}."))
        .await;
    b.click("form[action$='/answers'] button").await;
    b.wait_count(".answers > li", 1).await;
    let create = received_where(&in_answer, "the answer's Create", |a| {
        a["type"] == "Create" && a["object"]["type"] == "Note"
    })
    .await;
    assert!(tags(&create["object"], &in_answer.actor_id), "{create}");
    b.close().await;
}

/// A text naming someone on a server that refuses connections and someone unknown on a
/// server that answers is published all the same (the lookups fail, the member does not),
/// and still tags and reaches the one who could be found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_cannot_be_found_does_not_keep_a_text_from_being_published() {
    let mut hosts = hosts();
    // Nothing listens there: every connection is refused.
    let silent_port = hosts.add("ghost");
    let (peer, handle) = stranger(&mut hosts, "masto").await;
    let (alpha, admin) = alpha_with_groups(&hosts, &[("rust", "public")]).await;
    let unknown = handle.replace("@mallory@", "@nobody@");
    let text = format!("@casper@ghost.test:{silent_port}, {unknown} et {handle} : une idée ?");
    let (_, ap_id) = post(&alpha, &admin, "rust", "Pour tous", &text).await;
    let create = received(&peer, "Create", &ap_id).await;
    let mentioned: Vec<&Value> = create["object"]["tag"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] == "Mention")
        .map(|t| &t["href"])
        .collect();
    assert_eq!(
        mentioned,
        [&Value::String(peer.actor_id.clone())],
        "{create}"
    );
    assert_eq!(peer.webfinger_queries(), 2, "mallory and nobody asked for");
    let mut db = database::connect(&alpha).await;
    let people_elsewhere =
        database::number(&mut db, "SELECT count(*) FROM person WHERE NOT local").await;
    assert_eq!(people_elsewhere, 1, "only mallory stored");
}

/// Someone whose server spells their name with capitals (`Mallory`, as Mastodon keeps
/// `Gargron`) is named in any case (`@mallory@…`, `@MALLORY@…`): their server answers the
/// query for `acct:mallory@…` with its own spelling, and they are found, tagged and reached
/// all the same. The federation library's lookup asserted that the answer's spelling was the
/// one asked: it crashed, and no one was tagged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_whose_name_has_capitals_is_found_tagged_and_reached() {
    let mut hosts = hosts();
    let port = hosts.add("masto");
    let peer = FakePeer::start_as("masto.test", port, "Mallory").await;
    let (alpha, admin) = alpha_with_groups(&hosts, &[("rust", "public")]).await;
    let text = format!("@MALLORY@Masto.test:{port} ?");
    let (_, ap_id) = post(&alpha, &admin, "rust", "Une idée ?", &text).await;
    received_tagging(&peer, "Create", &ap_id).await;
    assert_eq!(peer.webfinger_queries(), 1);
    let mut db = database::connect(&alpha).await;
    assert_eq!(stored(&mut db, &peer.actor_id).await, 1);
}

/// A name that could not be found is not asked for again at each text: a member posting it
/// over and over (any member can: the lookup comes before the check that they may publish)
/// made this server ask the other server each time. Someone who can be found still is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_not_found_is_not_asked_for_again_at_each_text() {
    let mut hosts = hosts();
    let (peer, handle) = stranger(&mut hosts, "masto").await;
    let (alpha, admin) = alpha_with_groups(&hosts, &[("rust", "public")]).await;
    let unknown = handle.replace("@mallory@", "@nobody@");
    for n in 0..3 {
        let text = format!("{unknown} ? ({n})");
        post(&alpha, &admin, "rust", "Une idée ?", &text).await;
    }
    assert_eq!(peer.webfinger_queries(), 1, "nobody asked for once");

    let (_, found) = post(&alpha, &admin, "rust", "Une idée ?", &format!("{handle} ?")).await;
    assert_eq!(peer.webfinger_queries(), 2, "mallory asked for");
    received_tagging(&peer, "Create", &found).await;
}

/// Two texts naming the same stranger at the same time share one lookup: the second waits for
/// the first's (held at their server's WebFinger meanwhile) and is tagged with whom it found.
/// Each text started its own, so a burst of texts naming one person (or one handle due for a
/// re-check) asked their server once per text, up to eight at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn texts_naming_the_same_stranger_at_once_share_one_lookup() {
    let mut hosts = hosts();
    let (peer, handle) = stranger(&mut hosts, "masto").await;
    let (alpha, admin) = alpha_with_groups(&hosts, &[("rust", "public")]).await;
    // Both waits, one after the other, well within the 10 s a lookup (and its text) waits for
    // the held answer: past that, the lookup would fail and the test with it, far from here.
    let wait = Duration::from_secs(4);

    let (first_text, second_text) = (format!("{handle} ?"), format!("{handle} !"));
    let held = peer.hold_webfinger().await;
    let first = post(&alpha, &admin, "rust", "Une idée ?", &first_text);
    let second = async {
        eventually("the first text's lookup to ask", wait, || async {
            (peer.webfinger_queries() == 1).then_some(())
        })
        .await;
        let second = post(&alpha, &admin, "rust", "Une autre ?", &second_text);
        let answer_when_second_waits = async {
            eventually(
                "the second text to wait for the first's lookup",
                wait,
                || async {
                    assert_eq!(peer.webfinger_queries(), 1, "the second text asked again");
                    alpha
                        .log()
                        .contains("is being looked up already")
                        .then_some(())
                },
            )
            .await;
            drop(held);
        };
        tokio::join!(second, answer_when_second_waits).0
    };
    let ((_, first), (_, second)) = tokio::join!(first, second);

    assert_eq!(peer.webfinger_queries(), 1, "mallory asked for once");
    received_tagging(&peer, "Create", &first).await;
    received_tagging(&peer, "Create", &second).await;
    let mut db = database::connect(&alpha).await;
    assert_eq!(stored(&mut db, &peer.actor_id).await, 1);
}

/// A private group's text naming someone alpha has never met looks no one up — the query
/// alone would tell their server that someone named them — and stores no one; the same name
/// in a public group's text is looked up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_groups_text_looks_no_one_up() {
    let mut hosts = hosts();
    let (peer, handle) = stranger(&mut hosts, "masto").await;
    let (alpha, admin) = alpha_with_groups(&hosts, PUBLIC_AND_PRIVATE).await;
    let text = format!("{handle} ?");
    let (hidden, _) = post(&alpha, &admin, "secret", "Une idée ?", &text).await;
    comment(&alpha, &admin, hidden, &format!("{handle} saura")).await;
    // The lookups are over when the text is stored: nothing is looking now.
    assert_eq!(
        peer.webfinger_queries(),
        0,
        "nothing asked for the private group"
    );
    let mut db = database::connect(&alpha).await;
    assert_eq!(stored(&mut db, &peer.actor_id).await, 0, "no one stored");

    let (_, public) = post(&alpha, &admin, "rust", "Une idée ?", &text).await;
    assert_eq!(
        peer.webfinger_queries(),
        1,
        "looked up for the public group"
    );
    assert_eq!(stored(&mut db, &peer.actor_id).await, 1);
    received_tagging(&peer, "Create", &public).await;
}

/// Someone whose handle names another host than their actor's (Mastodon's `LOCAL_DOMAIN` /
/// `WEB_DOMAIN`: `@alice@masto.test`, actor at `social.masto.test`) is tagged under that
/// handle, and not looked up again at each text, once both servers confirm it; a third
/// server pointing its own handle at the same actor is not believed. Before, they were stored
/// under their actor's host only: texts naming `@alice@masto.test` were sent tagging
/// `@alice@social.masto.test`, and each looked them up again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_whose_handle_names_another_host_is_tagged_under_it_once_both_hosts_agree() {
    let mut hosts = hosts();
    let (peer, handle_host) = split_domain_peer(&mut hosts).await;
    let handle_port = port_of(&handle_host);
    let liar_port = hosts.add("liar");
    let handles = WebFingerPointer::start("masto.test", handle_port, "alice", &peer.actor_id).await;
    let liar = WebFingerPointer::start("liar.test", liar_port, "alice", &peer.actor_id).await;
    let (alpha, admin) = alpha_with_groups(&hosts, &[("rust", "public")]).await;
    let handle = format!("@alice@{handle_host}");

    for n in 0..2 {
        let text = format!("{handle} ? ({n})");
        let (_, ap_id) = post(&alpha, &admin, "rust", "Une idée ?", &text).await;
        let create = received(&peer, "Create", &ap_id).await;
        let mention = create["object"]["tag"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "Mention" && t["href"] == peer.actor_id.as_str())
            .cloned();
        assert_eq!(
            mention.map(|m| m["name"].clone()),
            Some(json!(handle)),
            "tagged under the handle written: {create}"
        );
    }
    assert_eq!(
        (handles.queries(), peer.webfinger_queries()),
        (1, 1),
        "asked once at the handle's host, confirmed once at the actor's"
    );
    let (status, profile) = alpha
        .get(&format!("/api/v1/people/alice@{handle_host}"), Some(&admin))
        .await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["handle"], json!(format!("alice@{handle_host}")));

    // Another server says its `alice` is the same actor; the actor's server says otherwise.
    let lie = format!("@alice@liar.test:{liar_port}");
    for n in 0..2 {
        post(
            &alpha,
            &admin,
            "rust",
            "Une idée ?",
            &format!("{lie} ? ({n})"),
        )
        .await;
    }
    assert_eq!(
        liar.queries(),
        1,
        "a handle naming someone else not asked again"
    );
    assert_eq!(peer.webfinger_queries(), 2, "the actor's host asked once");
    let mut db = database::connect(&alpha).await;
    let named_by = named_by_handle_host(&mut db, &peer.actor_id, &handle_host).await;
    assert_eq!(named_by, 1, "still named by the handle both servers gave");

    // Resolved through the API (asked again, and confirmed again), shown by that handle.
    let (status, resolved) = resolve(&alpha, &admin, &handle).await;
    assert_eq!(status, 200, "{resolved}");
    assert!(
        resolved
            .to_string()
            .contains(&format!("\"alice@{handle_host}\"")),
        "{resolved}"
    );
}

/// The same person where the handle's host sends WebFinger on to the actor's host (a 301, as
/// Mastodon's documentation asks of a `LOCAL_DOMAIN`): the redirect is followed (the
/// actor's host answers for the handle), then the actor's host is asked by its own name for
/// the account, and names the handle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_whose_host_redirects_webfinger_to_the_actors_host_is_tagged_under_it() {
    let mut hosts = hosts();
    let (peer, handle_host) = split_domain_peer(&mut hosts).await;
    let handle_port = port_of(&handle_host);
    let web = peer.actor_id.trim_end_matches("/actor").to_owned();
    let redirects = WebFingerPointer::start_redirecting(handle_port, &web).await;
    let (alpha, admin) = alpha_with_groups(&hosts, &[("rust", "public")]).await;
    let handle = format!("@alice@{handle_host}");

    let (_, ap_id) = post(&alpha, &admin, "rust", "Une idée ?", &format!("{handle} ?")).await;
    let create = received(&peer, "Create", &ap_id).await;
    assert!(tags(&create["object"], &peer.actor_id), "{create}");
    assert_eq!((redirects.queries(), peer.webfinger_queries()), (1, 2));
    let mut db = database::connect(&alpha).await;
    let named_by = named_by_handle_host(&mut db, &peer.actor_id, &handle_host).await;
    assert_eq!(named_by, 1, "named by the handle's host");
}

/// Named by their actor's host (`@alice@social.masto.test`), whose WebFinger answers with
/// the handle it gives them (`alice@masto.test`): that host is asked, links the handle to the
/// same actor, and texts naming either handle tag them. An impostor whose WebFinger claims
/// the same handle for its own actor is not believed (the handle's host links the real one):
/// it stays `alice@impostor.test`, and the real one keeps the handle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naming_someone_by_their_actors_host_finds_the_handle_both_hosts_give_them() {
    let mut hosts = hosts();
    let (peer, handle_host) = split_domain_peer(&mut hosts).await;
    let handle_port = port_of(&handle_host);
    let web_port = port_of(&peer.actor_id.replace("/actor", ""));
    let impostor_port = hosts.add("impostor");
    let impostor =
        FakePeer::start_split("impostor.test", impostor_port, "alice", &handle_host).await;
    let handles = WebFingerPointer::start("masto.test", handle_port, "alice", &peer.actor_id).await;
    let (alpha, admin) = alpha_with_groups(&hosts, &[("rust", "public")]).await;
    let mut db = database::connect(&alpha).await;

    let by_actors_host = format!("@alice@social.masto.test:{web_port}");
    let (_, first) = post(
        &alpha,
        &admin,
        "rust",
        "Une idée ?",
        &format!("{by_actors_host} ?"),
    )
    .await;
    received_tagging(&peer, "Create", &first).await;
    assert_eq!(
        (peer.webfinger_queries(), handles.queries()),
        (1, 1),
        "asked, then confirmed"
    );
    assert_eq!(
        named_by_handle_host(&mut db, &peer.actor_id, &handle_host).await,
        1
    );

    let (_, second) = post(
        &alpha,
        &admin,
        "rust",
        "Une idée ?",
        &format!("@alice@{handle_host} ?"),
    )
    .await;
    received_tagging(&peer, "Create", &second).await;
    assert_eq!(
        (peer.webfinger_queries(), handles.queries()),
        (1, 1),
        "known: not asked again"
    );

    let by_impostor = format!("@alice@impostor.test:{impostor_port}");
    let (_, third) = post(
        &alpha,
        &admin,
        "rust",
        "Une idée ?",
        &format!("{by_impostor} ?"),
    )
    .await;
    received_tagging(&impostor, "Create", &third).await;
    assert_eq!(
        handles.queries(),
        2,
        "the handle's host asked about the impostor"
    );
    assert_eq!(
        named_by_handle_host(&mut db, &impostor.actor_id, &handle_host).await,
        0
    );
    assert_eq!(
        named_by_handle_host(&mut db, &peer.actor_id, &handle_host).await,
        1
    );
}

/// A confirmed handle host is believed for a while, then asked again: a text naming
/// `@alice@masto.test` soon after her confirmation asks no one; once that confirmation is
/// over a week old, the next text looks the handle up again. The handle's host now gives
/// `alice` to another actor, whose server confirms it: the text tags the new actor, not the
/// old one, and the handle moves. Later still the handle's host says its `alice` is gone (a
/// 410): the handle goes at once, and the next text tags no one. Before, a handle host once
/// confirmed was believed for ever, and texts kept tagging and reaching the old actor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_host_confirmed_long_ago_is_asked_again_and_follows_the_handle() {
    let mut hosts = hosts();
    let (peer, handle_host) = split_domain_peer(&mut hosts).await;
    let handle_port = port_of(&handle_host);
    let successor_port = hosts.add("new.masto");
    let successor =
        FakePeer::start_split("new.masto.test", successor_port, "alice", &handle_host).await;
    let handles = WebFingerPointer::start("masto.test", handle_port, "alice", &peer.actor_id).await;
    let (alpha, admin) = alpha_with_groups(&hosts, &[("rust", "public")]).await;
    let mut db = database::connect(&alpha).await;
    let text = format!("@alice@{handle_host} ?");

    for n in 0..2 {
        let (_, ap_id) = post(&alpha, &admin, "rust", &format!("Une idée ({n})"), &text).await;
        received_tagging(&peer, "Create", &ap_id).await;
    }
    assert_eq!(
        (handles.queries(), peer.webfinger_queries()),
        (1, 1),
        "confirmed once; not due, not asked again"
    );

    confirmed_long_ago(&mut db, &peer.actor_id).await;
    let handles = restart_handles_host(handles, handle_port, "alice", &successor.actor_id).await;
    let (_, moved) = post(&alpha, &admin, "rust", "Une idée ?", &text).await;
    received_tagging(&successor, "Create", &moved).await;
    assert_eq!(
        (handles.queries(), successor.webfinger_queries()),
        (1, 1),
        "asked again, confirmed by the new actor's server"
    );
    let page = activity_json(&hosts.client(), &moved).await;
    assert!(!tags(&page, &peer.actor_id), "the old actor tagged: {page}");
    assert_eq!(
        named_by_handle_host(&mut db, &peer.actor_id, &handle_host).await,
        0
    );
    assert_eq!(
        named_by_handle_host(&mut db, &successor.actor_id, &handle_host).await,
        1
    );

    confirmed_long_ago(&mut db, &successor.actor_id).await;
    let handles = handles_answering(handles, handle_port, 410).await;
    let (_, gone) = post(&alpha, &admin, "rust", "Une idée ?", &text).await;
    assert_eq!(handles.queries(), 1, "asked again");
    let page = activity_json(&hosts.client(), &gone).await;
    assert!(!tags(&page, &successor.actor_id), "{page}");
    assert_eq!(
        named_by_handle_host(&mut db, &successor.actor_id, &handle_host).await,
        0,
        "the handle goes when its host says the account is gone"
    );
}

/// A confirmed handle host due for a re-check whose server cannot be asked (down) is kept:
/// the text tags and reaches the person as before, the old date stays, no miss is recorded
/// (a server down says nothing of the account), and the handle is not asked for again at the
/// next text (the failure is remembered ten minutes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_host_whose_server_cannot_be_asked_again_is_kept() {
    let SplitHandle {
        hosts: _hosts,
        peer,
        handle_host,
        handle_port,
        handles,
        alpha,
        admin,
        mut db,
        ..
    } = split_handle().await;
    let text = format!("@alice@{handle_host} ?");
    let (_, first) = post(&alpha, &admin, "rust", "Une idée ?", &text).await;
    received_tagging(&peer, "Create", &first).await;

    confirmed_long_ago(&mut db, &peer.actor_id).await;
    stop_handles_host(handles, handle_port).await;
    let (_, unasked) = post(&alpha, &admin, "rust", "Une idée ?", &text).await;
    received_tagging(&peer, "Create", &unasked).await;
    assert_eq!(
        confirmed_over_a_week_ago(&mut db, &peer.actor_id, &handle_host).await,
        1,
        "kept, not renewed"
    );
    assert_eq!(
        held(&mut db, &peer.actor_id, &handle_host).await,
        (1, 0),
        "down: no miss recorded"
    );

    // Up again, and giving the handle to no one: not asked before the failure is forgotten.
    let handles = WebFingerPointer::start("masto.test", handle_port, "bob", &peer.actor_id).await;
    let (_, again) = post(&alpha, &admin, "rust", "Une idée ?", &text).await;
    received_tagging(&peer, "Create", &again).await;
    assert_eq!(handles.queries(), 0, "not asked again at each text");
}

/// A handle's host answering 503 (overloaded, in maintenance) says nothing of the account
/// either: the handle is kept, and no miss is recorded, however long it lasts. Only a 404
/// is a miss.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_host_answering_503_keeps_the_handle_and_records_no_miss() {
    let SplitHandle {
        hosts: _hosts,
        peer,
        handle_host,
        handle_port,
        handles,
        alpha,
        admin,
        mut db,
        handle,
        ..
    } = split_handle().await;
    let text = format!("{handle} ?");
    let (_, first) = post(&alpha, &admin, "rust", "Une idée ?", &text).await;
    received_tagging(&peer, "Create", &first).await;

    confirmed_long_ago(&mut db, &peer.actor_id).await;
    let handles = handles_answering(handles, handle_port, 503).await;
    let (_, unavailable) = post(&alpha, &admin, "rust", "Une idée ?", &text).await;
    assert_eq!(handles.queries(), 1, "asked again");
    received_tagging(&peer, "Create", &unavailable).await;
    assert_ne!(resolve(&alpha, &admin, &handle).await.0, 200);
    assert_eq!(handles.queries(), 2);
    assert_eq!(
        held(&mut db, &peer.actor_id, &handle_host).await,
        (1, 0),
        "kept, no miss recorded"
    );
}

/// A 404 from the actor's own server, asked to confirm the handle its handle's host still
/// links to the actor, is a miss too: the handle is kept and the miss recorded; the text that
/// next names them asks again (a miss makes the handle due); a 404 from it an hour after the
/// first takes the handle. Before, this 404 took the handle at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_from_the_actors_server_is_a_miss_of_the_handle() {
    let SplitHandle {
        hosts: _hosts,
        peer,
        handle_host,
        handles,
        alpha,
        admin,
        mut db,
        handle,
        ..
    } = split_handle().await;
    let text = format!("{handle} ?");
    let (_, first) = post(&alpha, &admin, "rust", "Une idée ?", &text).await;
    received_tagging(&peer, "Create", &first).await;
    assert_eq!((handles.queries(), peer.webfinger_queries()), (1, 1));

    // Not due: the handle's host still links the actor, which its own server now denies.
    peer.answer_webfinger_with(404);
    let (status, resolved) = resolve(&alpha, &admin, &handle).await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!((handles.queries(), peer.webfinger_queries()), (2, 2));
    assert_eq!(
        held(&mut db, &peer.actor_id, &handle_host).await,
        (1, 1),
        "one 404: kept, a miss recorded"
    );

    // The miss makes the handle due: the next text naming it asks both servers again (another
    // miss, too soon after the first to take the handle), and still tags them.
    let (_, missed) = post(&alpha, &admin, "rust", "Une idée ?", &text).await;
    assert_eq!(
        (handles.queries(), peer.webfinger_queries()),
        (3, 3),
        "asked again"
    );
    received_tagging(&peer, "Create", &missed).await;
    assert_eq!(held(&mut db, &peer.actor_id, &handle_host).await, (1, 1));

    missed_long_ago(&mut db, &peer.actor_id).await;
    assert_eq!(resolve(&alpha, &admin, &handle).await.0, 200);
    assert_eq!(peer.webfinger_queries(), 4);
    assert_eq!(
        held(&mut db, &peer.actor_id, &handle_host).await,
        (0, 0),
        "the 404s persisted: the handle goes"
    );
}

/// A 404 from the handle's host (a proxy misconfigured during a deploy, a restart behind a
/// load balancer) is a miss: the handle is kept, and the text naming it tags and reaches the
/// person as before. The handle's host answering again confirms the handle and forgets the
/// miss, even an old one: the next 404 is a first miss again. Only a 404 at least
/// `HANDLE_MISSES_PERSIST_AFTER` after the first recorded, nothing confirmed between, takes
/// the handle (then the next text tags no one). Before, the first 404 took the handle, and
/// every later text naming it stopped reaching the person.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_host_goes_only_when_its_404s_persist() {
    let SplitHandle {
        hosts,
        peer,
        handle_host,
        handle_port,
        handles,
        alpha,
        admin,
        mut db,
        handle,
        ..
    } = split_handle().await;
    let text = format!("{handle} ?");
    let (_, first) = post(&alpha, &admin, "rust", "Une idée ?", &text).await;
    received_tagging(&peer, "Create", &first).await;

    // Due for a re-check, a text's lookup gets a 404.
    confirmed_long_ago(&mut db, &peer.actor_id).await;
    let handles = handles_answering(handles, handle_port, 404).await;
    let (_, missed) = post(&alpha, &admin, "rust", "Une idée ?", &text).await;
    assert_eq!(handles.queries(), 1, "asked again");
    assert_eq!(
        held(&mut db, &peer.actor_id, &handle_host).await,
        (1, 1),
        "one 404: kept, a miss recorded"
    );
    received_tagging(&peer, "Create", &missed).await;

    let handles = restart_handles_host(handles, handle_port, "alice", &peer.actor_id).await;
    assert_eq!(resolve(&alpha, &admin, &handle).await.0, 200);
    assert_eq!(
        held(&mut db, &peer.actor_id, &handle_host).await,
        (1, 0),
        "confirmed: the miss forgotten"
    );

    // Not due, a 404 long ago, then an answer: the miss forgotten all the same.
    let handles = handles_answering(handles, handle_port, 404).await;
    assert_eq!(resolve(&alpha, &admin, &handle).await.0, 404);
    assert_eq!(held(&mut db, &peer.actor_id, &handle_host).await, (1, 1));
    missed_long_ago(&mut db, &peer.actor_id).await;
    let handles = restart_handles_host(handles, handle_port, "alice", &peer.actor_id).await;
    assert_eq!(resolve(&alpha, &admin, &handle).await.0, 200);
    assert_eq!(
        (
            handles.queries(),
            held(&mut db, &peer.actor_id, &handle_host).await
        ),
        (1, (1, 0))
    );

    let handles = handles_answering(handles, handle_port, 404).await;
    for again in ["a first miss again", "missed again too soon"] {
        assert_eq!(resolve(&alpha, &admin, &handle).await.0, 404);
        assert_eq!(
            held(&mut db, &peer.actor_id, &handle_host).await,
            (1, 1),
            "{again}: kept"
        );
    }
    missed_long_ago(&mut db, &peer.actor_id).await;
    assert_eq!(resolve(&alpha, &admin, &handle).await.0, 404);
    assert_eq!(handles.queries(), 3);
    assert_eq!(
        held(&mut db, &peer.actor_id, &handle_host).await,
        (0, 0),
        "the 404s persisted: the handle goes"
    );
    let (_, after) = post(&alpha, &admin, "rust", "Une idée ?", &text).await;
    let page = activity_json(&hosts.client(), &after).await;
    assert!(!tags(&page, &peer.actor_id), "{page}");
}

/// A half answer refutes a miss (issue 16): the handle's host, whose 404 was recorded as a
/// miss, links the handle to the actor again while the actor's own server cannot be asked
/// (503). The miss is forgotten (the server that gave the 404 answers for the account: it was
/// a passing fault), the confirmation's date kept (nothing was confirmed both ways), and a
/// 404 later is a first miss again. Before, the miss stayed through the answer, and that later
/// 404 took the handle as if the 404s had persisted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_hosts_answer_forgets_its_miss_even_when_the_actors_server_is_down() {
    let SplitHandle {
        hosts: _hosts,
        peer,
        handle_host,
        handle_port,
        handles,
        alpha,
        admin,
        mut db,
        handle,
        ..
    } = split_handle().await;
    assert_eq!(resolve(&alpha, &admin, &handle).await.0, 200);
    assert_eq!(held(&mut db, &peer.actor_id, &handle_host).await, (1, 0));

    let handles = handles_answering(handles, handle_port, 404).await;
    assert_eq!(resolve(&alpha, &admin, &handle).await.0, 404);
    assert_eq!(
        held(&mut db, &peer.actor_id, &handle_host).await,
        (1, 1),
        "one 404: kept, a miss recorded"
    );
    // The miss is old enough that the next 404 would take the handle, and the confirmation
    // old enough to tell whether it is renewed.
    missed_long_ago(&mut db, &peer.actor_id).await;
    confirmed_long_ago(&mut db, &peer.actor_id).await;

    peer.answer_webfinger_with(503);
    let asked_before = peer.webfinger_queries();
    let handles = restart_handles_host(handles, handle_port, "alice", &peer.actor_id).await;
    let (status, resolved) = resolve(&alpha, &admin, &handle).await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(handles.queries(), 1, "the handle's host answered");
    assert!(
        peer.webfinger_queries() > asked_before,
        "the actor's server was asked, and could not answer"
    );
    assert_eq!(
        held(&mut db, &peer.actor_id, &handle_host).await,
        (1, 0),
        "the handle's host answers for it again: the miss forgotten"
    );
    assert_eq!(
        confirmed_over_a_week_ago(&mut db, &peer.actor_id, &handle_host).await,
        1,
        "not confirmed both ways: the date is not renewed"
    );

    let _handles = handles_answering(handles, handle_port, 404).await;
    assert_eq!(resolve(&alpha, &admin, &handle).await.0, 404);
    assert_eq!(
        held(&mut db, &peer.actor_id, &handle_host).await,
        (1, 1),
        "a first miss again: the handle kept"
    );
}

/// The other half: a miss the actor's own server gave (its 404, asked to confirm the handle)
/// is not refuted by the handle's host alone. The handle's host still links the actor while
/// the actor's server answers 503: the miss stands, and that server's next 404, long enough
/// after the first, takes the handle. (A first version of the half answer forgot any miss,
/// and a server alternating 404 and 503 kept a handle it denied for good.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_miss_the_actors_server_gave_stands_through_a_half_answer() {
    let SplitHandle {
        hosts: _hosts,
        peer,
        handle_host,
        handles: _handles,
        alpha,
        admin,
        mut db,
        handle,
        ..
    } = split_handle().await;
    assert_eq!(resolve(&alpha, &admin, &handle).await.0, 200);
    assert_eq!(held(&mut db, &peer.actor_id, &handle_host).await, (1, 0));

    peer.answer_webfinger_with(404);
    assert_eq!(resolve(&alpha, &admin, &handle).await.0, 200);
    assert_eq!(
        held(&mut db, &peer.actor_id, &handle_host).await,
        (1, 1),
        "the actor's server's 404: a miss"
    );
    missed_long_ago(&mut db, &peer.actor_id).await;

    peer.answer_webfinger_with(503);
    let asked_before = peer.webfinger_queries();
    assert_eq!(resolve(&alpha, &admin, &handle).await.0, 200);
    assert!(
        peer.webfinger_queries() > asked_before,
        "the actor's server asked"
    );
    assert_eq!(
        held(&mut db, &peer.actor_id, &handle_host).await,
        (1, 1),
        "the handle's host alone does not refute the actor's server's 404"
    );

    peer.answer_webfinger_with(404);
    assert_eq!(resolve(&alpha, &admin, &handle).await.0, 200);
    assert_eq!(
        held(&mut db, &peer.actor_id, &handle_host).await,
        (0, 0),
        "the actor's server's 404s persisted: the handle goes"
    );
}

// ---- helpers ----

/// A public group `rust` and a private group `secret`.
const PUBLIC_AND_PRIVATE: &[(&str, &str)] = &[("rust", "public"), ("secret", "private")];

/// The tests' hosts, `alpha.test` among them.
fn hosts() -> Hosts {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    hosts
}

/// `alpha` started, with its admin's token and groups (`(name, visibility)`) made by them.
async fn alpha_with_groups(hosts: &Hosts, groups: &[(&str, &str)]) -> (Instance, String) {
    let mut alpha = Instance::new("alpha", hosts);
    alpha.start();
    let admin = alpha.admin().await;
    for (name, visibility) in groups {
        let (status, body) = alpha
            .post(
                "/api/v1/groups",
                Some(&admin),
                json!({"name": name, "title": name, "visibility": visibility}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    (alpha, admin)
}

/// A fake server `<name>.test` of the tests' hosts, and how its member is named.
async fn stranger(hosts: &mut Hosts, name: &str) -> (FakePeer, String) {
    let port = hosts.add(name);
    let peer = FakePeer::start(&format!("{name}.test"), port).await;
    (peer, format!("@mallory@{name}.test:{port}"))
}

/// `alpha` with a public group `rust` and a private group `secret`, its admin's token, and a
/// member of a server elsewhere (`masto.test`, with how they are named) whom alpha has met:
/// they joined `secret` (a follow its moderators approve) and follow no public group.
async fn a_private_groups_member_elsewhere() -> (Hosts, Instance, String, FakePeer, String) {
    let mut hosts = hosts();
    let (peer, handle) = stranger(&mut hosts, "masto").await;
    let (alpha, admin) = alpha_with_groups(&hosts, PUBLIC_AND_PRIVATE).await;
    let secret_id = alpha.url("/g/secret");
    assert_eq!(
        peer.post(
            &hosts.client(),
            &alpha.url("/g/secret/inbox"),
            &peer.follow(&secret_id),
            Signing::Valid
        )
        .await,
        202
    );
    // Its approval, as the group's moderators would give it: the follow accepted.
    let mut db = database::connect(&alpha).await;
    let accepted = diesel_async::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE follow SET state = 'accepted' WHERE target_ap_id = {}",
            lit(&secret_id)
        )),
        &mut db,
    )
    .await
    .unwrap();
    assert_eq!(accepted, 1);
    (hosts, alpha, admin, peer, handle)
}

/// A question by `token` in `group`: its id and ActivityPub id.
async fn post(
    alpha: &Instance,
    token: &str,
    group: &str,
    title: &str,
    body: &str,
) -> (i64, String) {
    let (status, answer) = alpha
        .post(
            &format!("/api/v1/groups/{group}/posts"),
            Some(token),
            json!({"kind": "question", "title": title, "body": body}),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let post = &answer["post"];
    (
        post["id"].as_i64().unwrap(),
        post["ap_id"].as_str().unwrap().to_owned(),
    )
}

/// A comment by `token` on the post `post_id`: its id and ActivityPub id.
async fn comment(alpha: &Instance, token: &str, post_id: i64, body: &str) -> (i64, String) {
    let (status, answer) = alpha
        .post(
            &format!("/api/v1/posts/{post_id}/comments"),
            Some(token),
            json!({ "body": body }),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    (
        answer["id"].as_i64().unwrap(),
        answer["ap_id"].as_str().unwrap().to_owned(),
    )
}

async fn edit_post(alpha: &Instance, token: &str, id: i64, body: &str) {
    edit(alpha, token, &format!("/api/v1/posts/{id}"), body).await;
}

async fn edit_comment(alpha: &Instance, token: &str, id: i64, body: &str) {
    edit(alpha, token, &format!("/api/v1/comments/{id}"), body).await;
}

/// Its author's new `body` of the post or comment at `path`.
async fn edit(alpha: &Instance, token: &str, path: &str, body: &str) {
    let (status, answer) = alpha
        .patch(path, Some(token), json!({ "body": body }))
        .await;
    assert_eq!(status, 200, "{path}: {answer}");
}

/// What the handle tests stand on: `alice` of a split-domain server ([`split_domain_peer`]),
/// the handles' host started and pointing at her actor, and `alpha` with its admin, a public
/// group `rust` and a database connection.
struct SplitHandle {
    hosts: Hosts,
    peer: FakePeer,
    /// `masto.test:<port>`.
    handle_host: String,
    handle_port: u16,
    /// The handles' host (kept while the test runs: dropping it stops it).
    handles: WebFingerPointer,
    alpha: Instance,
    admin: String,
    db: AsyncPgConnection,
    /// `@alice@masto.test:<port>`.
    handle: String,
}

/// [`SplitHandle`], started.
async fn split_handle() -> SplitHandle {
    let mut hosts = hosts();
    let (peer, handle_host) = split_domain_peer(&mut hosts).await;
    let handle_port = port_of(&handle_host);
    let handles = WebFingerPointer::start("masto.test", handle_port, "alice", &peer.actor_id).await;
    let (alpha, admin) = alpha_with_groups(&hosts, &[("rust", "public")]).await;
    let db = database::connect(&alpha).await;
    let handle = format!("@alice@{handle_host}");
    SplitHandle {
        hosts,
        peer,
        handle_host,
        handle_port,
        handles,
        alpha,
        admin,
        db,
        handle,
    }
}

/// A member `alice` of a server whose handles name another host (Mastodon's split domain):
/// her actor at `social.masto.test`, and the handles' host, `masto.test:<port>` (no server
/// there yet: the test starts the one it needs).
async fn split_domain_peer(hosts: &mut Hosts) -> (FakePeer, String) {
    let handle_host = format!("masto.test:{}", hosts.add("masto"));
    let web_port = hosts.add("social.masto");
    let peer = FakePeer::start_split("social.masto.test", web_port, "alice", &handle_host).await;
    (peer, handle_host)
}

/// The port of `host:port` (or of a URL ending so).
fn port_of(host: &str) -> u16 {
    host.rsplit_once(':').unwrap().1.parse().unwrap()
}

/// Whether `alpha` names the person with this actor id by `handle_host` (0 or 1).
async fn named_by_handle_host(
    db: &mut AsyncPgConnection,
    actor_id: &str,
    handle_host: &str,
) -> i64 {
    let query = format!(
        "SELECT count(*) FROM person WHERE ap_id = {} AND handle_host = {}",
        lit(actor_id),
        lit(handle_host)
    );
    database::number(db, &query).await
}

/// Dates the confirmation of the handle host of the person with this actor id eight days
/// back: due for a re-check.
async fn confirmed_long_ago(db: &mut AsyncPgConnection, actor_id: &str) {
    let statement = format!(
        "UPDATE person SET handle_host_confirmed_at = now() - interval '8 days' \
         WHERE ap_id = {} AND handle_host IS NOT NULL",
        lit(actor_id)
    );
    database::execute(db, &statement).await;
}

/// Whether `alpha` names the person with this actor id by `handle_host` on a confirmation
/// more than a week old (0 or 1): one [`confirmed_long_ago`] dated, not renewed since.
async fn confirmed_over_a_week_ago(
    db: &mut AsyncPgConnection,
    actor_id: &str,
    handle_host: &str,
) -> i64 {
    let query = format!(
        "SELECT count(*) FROM person WHERE ap_id = {} AND handle_host = {} \
         AND handle_host_confirmed_at < now() - interval '7 days'",
        lit(actor_id),
        lit(handle_host)
    );
    database::number(db, &query).await
}

/// Stops the handle's host `handles`, once its port is free again (its connections closed).
async fn stop_handles_host(handles: WebFingerPointer, port: u16) {
    drop(handles);
    eventually(
        "the handle's host stopped",
        Duration::from_secs(10),
        || async {
            std::net::TcpListener::bind(("127.0.0.1", port))
                .ok()
                .map(drop)
        },
    )
    .await;
}

/// The handle's host `handles` started again on its port, its `username` now the actor
/// `actor_id`.
async fn restart_handles_host(
    handles: WebFingerPointer,
    port: u16,
    username: &str,
    actor_id: &str,
) -> WebFingerPointer {
    stop_handles_host(handles, port).await;
    WebFingerPointer::start("masto.test", port, username, actor_id).await
}

/// The handle's host `handles` started again on its port, answering every WebFinger query
/// with `status` (404, 410).
async fn handles_answering(handles: WebFingerPointer, port: u16, status: u16) -> WebFingerPointer {
    stop_handles_host(handles, port).await;
    WebFingerPointer::start_answering(port, status).await
}

/// Whether the person with this actor id has a miss of their handle recorded (0 or 1).
async fn miss_recorded(db: &mut AsyncPgConnection, actor_id: &str) -> i64 {
    let query = format!(
        "SELECT count(*) FROM person WHERE ap_id = {} AND handle_host_missed_at IS NOT NULL",
        lit(actor_id)
    );
    database::number(db, &query).await
}

/// Whether the person with this actor id is named by `handle_host`, and whether a miss of
/// that handle is recorded (0 or 1 each).
async fn held(db: &mut AsyncPgConnection, actor_id: &str, handle_host: &str) -> (i64, i64) {
    let named = named_by_handle_host(db, actor_id, handle_host).await;
    (named, miss_recorded(db, actor_id).await)
}

/// Dates the recorded miss of the handle of the person with this actor id back by
/// `HANDLE_MISSES_PERSIST_AFTER`: the next 404 takes the handle.
async fn missed_long_ago(db: &mut AsyncPgConnection, actor_id: &str) {
    let statement = format!(
        "UPDATE person SET handle_host_missed_at = now() - interval '{} seconds' \
         WHERE ap_id = {} AND handle_host_missed_at IS NOT NULL",
        HANDLE_MISSES_PERSIST_AFTER.num_seconds(),
        lit(actor_id)
    );
    database::execute(db, &statement).await;
    assert_eq!(miss_recorded(db, actor_id).await, 1, "a miss back-dated");
}

/// `handle` resolved through the API (a WebFinger lookup, whatever is stored): its status
/// and body.
async fn resolve(alpha: &Instance, token: &str, handle: &str) -> (u16, Value) {
    let query = handle.replace('@', "%40").replace(':', "%3A");
    alpha
        .get(&format!("/api/v1/resolve?q={query}"), Some(token))
        .await
}

/// How many people with this actor id `alpha` stores (0 or 1).
async fn stored(db: &mut AsyncPgConnection, actor_id: &str) -> i64 {
    database::number(
        db,
        &format!(
            "SELECT count(*) FROM person WHERE ap_id = {}",
            lit(actor_id)
        ),
    )
    .await
}

/// The first activity `peer` received that `matches`, once it has (`what` names it).
async fn received_where(peer: &FakePeer, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
    eventually(
        &format!("{what} at {}", peer.actor_id),
        Duration::from_secs(30),
        || async { peer.received().into_iter().find(|a| matches(a)) },
    )
    .await
}

/// The activity of type `kind` about `object_id` (embedded, or only its id as in a
/// `Delete`) that `peer` received, once it has.
async fn received(peer: &FakePeer, kind: &str, object_id: &str) -> Value {
    received_where(peer, &format!("the {kind} of {object_id}"), |a| {
        a["type"] == kind && (a["object"]["id"] == object_id || a["object"] == object_id)
    })
    .await
}

/// A group's `Announce` of the activity of type `kind` about `object_id` that `peer`
/// received, once it has; alpha sent that activity to no one but through the group.
async fn only_announced(alpha: &Instance, peer: &FakePeer, kind: &str, object_id: &str) -> Value {
    let announce = received_where(
        peer,
        &format!("the Announce of the {kind} of {object_id}"),
        |a| {
            a["type"] == "Announce"
                && a["object"]["type"] == kind
                && a["object"]["object"]["id"] == object_id
        },
    )
    .await;
    let mut db = database::connect(alpha).await;
    let direct = database::number(
        &mut db,
        &format!(
            "SELECT count(*) FROM outgoing_activity WHERE body::jsonb ->> 'type' = {} \
             AND body::jsonb -> 'object' ->> 'id' = {}",
            lit(kind),
            lit(object_id)
        ),
    )
    .await;
    assert_eq!(
        direct, 0,
        "no {kind} of {object_id} sent to anyone directly"
    );
    announce
}

/// Asserts that `activity` came to `peer` signed by its `actor`, with the key that actor
/// serves.
async fn signed_by_its_actor(client: &reqwest::Client, peer: &FakePeer, activity: &Value) {
    let actor = activity["actor"].as_str().unwrap();
    let document = activity_json(client, actor).await;
    let key = document["publicKey"]["publicKeyPem"].as_str().unwrap();
    let id = activity["id"].as_str().unwrap();
    if let Err(why) = peer.check_signature(id, actor, key) {
        panic!("{id} at {}: {why}", peer.actor_id);
    }
}

/// Waits for the `kind` of `object_id` at `peer`, and asserts that it tags `peer`'s member.
async fn received_tagging(peer: &FakePeer, kind: &str, object_id: &str) {
    let activity = received(peer, kind, object_id).await;
    assert!(tags(&activity["object"], &peer.actor_id), "{activity}");
}

/// Whether `object` has a `Mention` tag of `actor_id`.
fn tags(object: &Value, actor_id: &str) -> bool {
    object["tag"].as_array().is_some_and(|t| {
        t.iter()
            .any(|t| t["type"] == "Mention" && t["href"] == actor_id)
    })
}
