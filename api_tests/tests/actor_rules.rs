//! Actor and WebFinger rules as Mastodon and GoToSocial apply them, black-box: a real
//! `cenacle serve` (alpha) against fake peers.
//!
//! - A GoToSocial-like peer (it WebFingers the signer of every signed request it receives,
//!   our instance actor included, and answers 500 when that does not lead back to the same
//!   actor) follows a group of ours, gets the Accept and receives the group's posts.
//! - A remote actor whose `inbox`, `sharedInbox`, `outbox`, `followers` or `featured` is not on
//!   its own host is refused (403, not stored), and nothing is ever sent there.

use cenacle_api_tests::{
    database::{self, lit},
    eventually,
    fake_server::FakeServer,
    peer::FakePeer,
    Hosts, Instance,
};
use serde_json::{json, Value};
use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DEADLINE: Duration = Duration::from_secs(30);

/// Starts alpha with a public group `name`; returns alpha, the admin's token, the group's id.
async fn alpha_with_group(hosts: &Hosts, name: &str) -> (Instance, String, String) {
    let mut alpha = Instance::new("alpha", hosts);
    alpha.start();
    let admin = alpha.admin().await;
    let id = alpha.create_group(&admin, name, "Jardinage").await;
    (alpha, admin, id)
}

/// Whether `activity` is the group's relay of `post` (the Announce of its Create, or the
/// Announce of the Page that Mastodon needs).
fn announces(activity: &Value, post: &str) -> bool {
    activity["type"] == "Announce"
        && (activity["object"]["object"]["id"] == post
            || activity["object"]["object"] == post
            || activity["object"]["id"] == post
            || activity["object"] == post)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gotosocial_peer_that_webfingers_every_signer_follows_a_group_and_receives_its_posts() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    hosts.add("gts");
    let (alpha, admin, group) = alpha_with_group(&hosts, "jardin").await;
    let gts = FakeServer::start(&hosts, "gts").await;
    gts.check_signers_as_gotosocial();
    let ann = gts.add_person("ann").await;

    // alpha fetches ann (a fetch signed by its instance actor, which gts WebFingers), then its
    // group's Accept comes signed by the group (WebFingered too).
    let follow = gts.follow(&ann, &group);
    let answer = gts
        .send(&ann, &alpha.url("/g/jardin/inbox"), &follow)
        .await
        .unwrap();
    assert_eq!(
        answer.status,
        202,
        "Follow: {answer:?}\nsigner checks by gts: {:#?}",
        gts.signer_checks()
    );
    eventually("the group's Accept", DEADLINE, || async {
        (!gts
            .received_where(|a| a["type"] == "Accept" && a["object"]["id"] == follow["id"])
            .is_empty())
        .then_some(())
    })
    .await;

    let post = alpha
        .create_post(&admin, "jardin", "question", "Quand tailler les rosiers ?")
        .await
        .ap_id;
    eventually("the group's post at gts", DEADLINE, || async {
        (!gts.received_where(|a| announces(a, &post)).is_empty()).then_some(())
    })
    .await;

    let checks = gts.signer_checks();
    let refused: Vec<_> = checks.iter().filter(|c| c.outcome.is_err()).collect();
    assert!(refused.is_empty(), "gts refused signers: {refused:#?}");
    let instance_actor = alpha.url("/actor");
    for signer in [&instance_actor, &group] {
        assert!(
            checks.iter().any(|c| &c.signer == signer),
            "gts never checked {signer}: {checks:#?}"
        );
    }
}

/// A listener standing for a machine of the operator's network: it counts the connections it
/// accepts and answers each as an inbox would.
struct Trap {
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Trap {
    async fn start(port: u16) -> Trap {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| panic!("bind the trap on {port}: {e}"));
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ =
                        tokio::time::timeout(Duration::from_secs(1), socket.read(&mut buf)).await;
                    let _ = socket
                        .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await;
                });
            }
        });
        Trap { connections, task }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Trap {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actor_whose_endpoints_are_not_on_its_host_is_refused_and_nothing_goes_there() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    hosts.add("evil");
    // Another name that resolves to loopback, where the trap listens.
    let trap_port = hosts.add("intranet");
    let trap = Trap::start(trap_port).await;
    let (alpha, _admin, group) = alpha_with_group(&hosts, "jardin").await;
    let evil = FakeServer::start(&hosts, "evil").await;
    let ip_literal = format!("http://127.0.0.1:{trap_port}");
    let other_host = format!("http://intranet.test:{trap_port}");
    let cases: Vec<(&str, Value)> = vec![
        (
            "an inbox on an IP literal",
            json!({"inbox": format!("{ip_literal}/inbox")}),
        ),
        (
            "an inbox on another host",
            json!({"inbox": format!("{other_host}/inbox")}),
        ),
        (
            "a sharedInbox on an IP literal",
            json!({"endpoints": {"sharedInbox": format!("{ip_literal}/inbox")}}),
        ),
        (
            "a sharedInbox on another host",
            json!({"endpoints": {"sharedInbox": format!("{other_host}/inbox")}}),
        ),
        (
            "an outbox on another host",
            json!({"outbox": format!("{other_host}/outbox")}),
        ),
        (
            "followers on another host",
            json!({"followers": format!("{other_host}/followers")}),
        ),
        (
            "featured on another host",
            json!({"featured": format!("{other_host}/featured")}),
        ),
    ];
    let names: Vec<String> = (0..cases.len()).map(|i| format!("forger{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let forgers = evil.add_people(&names).await;
    let mut conn = database::connect(&alpha).await;
    let mut failures = Vec::new();
    for ((case, patch), forger) in cases.iter().zip(&forgers) {
        evil.patch_document(forger, patch.clone());
        let follow = evil.follow(forger, &group);
        let answer = evil
            .send(forger, &alpha.url("/g/jardin/inbox"), &follow)
            .await
            .unwrap();
        let stored_person = database::number(
            &mut conn,
            &format!(
                "SELECT count(*) FROM person WHERE ap_id = {}",
                lit(&forger.id)
            ),
        )
        .await;
        let recorded = database::number(
            &mut conn,
            &format!(
                "SELECT count(*) FROM received_activity WHERE ap_id = {}",
                lit(follow["id"].as_str().unwrap())
            ),
        )
        .await;
        let reason: Value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
        let explained = reason["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("is not on the host of"));
        let ok = answer.status == 403 && explained && stored_person == 0 && recorded == 0;
        println!(
            "{} {case}: {} {}",
            if ok { "ok:    " } else { "FAILED:" },
            answer.status,
            answer.body
        );
        if !ok {
            failures.push(format!(
                "{case}: want 403 explained, nothing stored; got {} {:?}, person rows {stored_person}, received rows {recorded}",
                answer.status, answer.body
            ));
        }
    }

    // An honest follower of the same server is accepted: by the time its Accept arrives, the
    // queue has had every chance to send something to the trap.
    let honest = evil.add_person("honest").await;
    let follow = evil.follow(&honest, &group);
    let answer = evil
        .send(&honest, &alpha.url("/g/jardin/inbox"), &follow)
        .await
        .unwrap();
    assert_eq!(answer.status, 202, "{answer:?}");
    eventually("the honest follower's Accept", DEADLINE, || async {
        (!evil
            .received_where(|a| a["type"] == "Accept" && a["object"]["id"] == follow["id"])
            .is_empty())
        .then_some(())
    })
    .await;
    let (_, card) = alpha.get("/api/v1/groups/jardin", None).await;
    if card["followers"] != 1 {
        failures.push(format!(
            "followers: want 1 (the honest one), got {}",
            card["followers"]
        ));
    }
    if trap.connections() != 0 {
        failures.push(format!(
            "{} connection(s) reached the trap (an inbox on an IP literal or another host)",
            trap.connections()
        ));
    }
    let log = alpha.log();
    if !log
        .lines()
        .any(|l| l.contains("inbox refused an activity") && l.contains("forger0"))
    {
        failures.push("no log line says why forger0's Follow was refused".into());
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n- {}",
        failures.len(),
        failures.join("\n- ")
    );
}

/// A handle elsewhere is looked up by WebFinger's rules, through the API: someone the other
/// server does not know is "not found" (a 404, not "remote unavailable": its 404 page is an
/// answer), someone it knows is found, and a handle that would name the host another way (a
/// trailing dot: another name to the blocklist) is refused before anything is asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_elsewhere_is_found_not_found_or_refused_by_webfingers_rules() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let port = hosts.add("masto");
    let peer = FakePeer::start("masto.test", port).await;
    let (alpha, admin, _) = alpha_with_group(&hosts, "jardin").await;
    let resolve = |handle: String| {
        let (alpha, admin) = (&alpha, &admin);
        async move {
            let query = handle.replace('@', "%40").replace(':', "%3A");
            alpha
                .get(&format!("/api/v1/resolve?q={query}"), Some(admin))
                .await
        }
    };

    let (status, body) = resolve(format!("@nobody@masto.test:{port}")).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("not_found")),
        "{body}"
    );
    assert_eq!(peer.webfinger_queries(), 1);

    let (status, body) = resolve(format!("@mallory@masto.test:{port}")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.to_string().contains(&peer.actor_id), "{body}");
    assert_eq!(peer.webfinger_queries(), 2);

    let (status, body) = resolve(format!("@mallory@masto.test.:{port}")).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("invalid_query")),
        "{body}"
    );
    assert_eq!(peer.webfinger_queries(), 2, "nothing asked");
}
