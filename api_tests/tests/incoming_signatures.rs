//! The signatures other servers send, black-box: a real `cenacle serve` (alpha) receives
//! Likes signed in each shape Mastodon, Lemmy (the federation library), GoToSocial and others
//! use, and hand-made bad ones. What we accept is listed in docs/federation.md.
//!
//! - Accepted: `rsa-sha256` or `hs2019` (or no `algorithm`: hs2019), with an RSA key, over
//!   `(request-target)`, `host`, `date` or `(created)`, and on a POST `digest`, in any order
//!   and with more headers; `Digest` with `SHA-256` or `SHA-512`, named in any case.
//! - Refused with 401 and a JSON reason, nothing stored: any of those left unsigned,
//!   `(created)` under `rsa-sha256` (Mastodon's rule), another algorithm, a digest we cannot
//!   check, an unreadable `Signature`, a key that is not the actor's.
//! - Signed fetches (authorized fetch) need `(request-target)`, `host` and `date` or
//!   `(created)` signed too.

use cenacle_api_tests::{
    database::{self, lit},
    fake_server::{FakeServer, SignatureShape},
    Hosts, Instance,
};
use serde_json::Value;

const POST_SHAPE: [&str; 4] = ["(request-target)", "host", "date", "digest"];

/// alpha (with authorized fetch on), a group and a post; returns alpha and the post's id.
async fn alpha_with_post(hosts: &Hosts) -> (Instance, String) {
    let mut alpha = Instance::new("alpha", hosts);
    alpha.set_env("CENACLE_FEDERATION__AUTHORIZED_FETCH", "true");
    alpha.start();
    let admin = alpha.admin().await;
    alpha.create_group(&admin, "jardin", "Jardinage").await;
    let post = alpha
        .create_post(&admin, "jardin", "question", "Quand tailler ?")
        .await;
    (alpha, post.ap_id)
}

fn shape(
    algorithm: Option<&'static str>,
    headers: &[&'static str],
    digest: &'static str,
) -> SignatureShape {
    SignatureShape {
        algorithm,
        headers: headers.to_vec(),
        digest,
    }
}

/// Signed headers as sent: (name, value) in order.
type SentHeaders = Vec<(&'static str, String)>;

/// One case: how the Like is signed (or spoilt), and whether it must be applied.
struct Case {
    name: &'static str,
    shape: SignatureShape,
    /// Changes the signed headers after signing (an unreadable signature, …).
    spoil: Option<fn(&mut SentHeaders)>,
    /// Signed by another person of the same server than the Like's actor.
    other_signer: bool,
    accepted: bool,
}

fn case(name: &'static str, shape: SignatureShape, accepted: bool) -> Case {
    Case {
        name,
        shape,
        spoil: None,
        other_signer: false,
        accepted,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_as_other_servers_send_them_are_accepted_and_weak_or_bad_ones_refused() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    hosts.add("peer");
    let (alpha, post) = alpha_with_post(&hosts).await;
    let peer = FakeServer::start(&hosts, "peer").await;
    let rsa = Some("rsa-sha256");
    let hs2019 = Some("hs2019");
    let cases =
        vec![
        case("rsa-sha256 as we and Mastodon sign", SignatureShape::default(), true),
        case("Digest: sha-256= in lower case", shape(rsa, &POST_SHAPE, "sha-256"), true),
        case("Digest: SHA-512=", shape(rsa, &POST_SHAPE, "SHA-512"), true),
        case("hs2019 with an RSA key", shape(hs2019, &POST_SHAPE, "SHA-256"), true),
        case(
            "hs2019 with (created) and (expires) instead of Date, as the federation library signs",
            shape(
                hs2019,
                &["(request-target)", "(created)", "(expires)", "host", "digest"],
                "SHA-256",
            ),
            true,
        ),
        case("no algorithm parameter (hs2019)", shape(None, &POST_SHAPE, "SHA-256"), true),
        case(
            "another order, content-type signed too",
            shape(
                rsa,
                &["host", "date", "digest", "content-type", "(request-target)"],
                "SHA-256",
            ),
            true,
        ),
        case(
            "host not signed",
            shape(rsa, &["(request-target)", "date", "digest"], "SHA-256"),
            false,
        ),
        case(
            "(request-target) not signed",
            shape(rsa, &["host", "date", "digest"], "SHA-256"),
            false,
        ),
        case(
            "digest not signed",
            shape(rsa, &["(request-target)", "host", "date"], "SHA-256"),
            false,
        ),
        case(
            "neither Date nor (created) signed",
            shape(rsa, &["(request-target)", "host", "digest"], "SHA-256"),
            false,
        ),
        case(
            "(created) under rsa-sha256",
            shape(
                rsa,
                &["(request-target)", "(created)", "host", "digest"],
                "SHA-256",
            ),
            false,
        ),
        case(
            "an algorithm we do not accept",
            shape(Some("ed25519"), &POST_SHAPE, "SHA-256"),
            false,
        ),
        case("a digest in MD5 only", shape(rsa, &POST_SHAPE, "MD5"), false),
        Case {
            name: "an unreadable Signature header",
            spoil: Some(|headers| {
                for (name, value) in headers.iter_mut() {
                    if *name == "Signature" {
                        *value = "this is not a signature".into();
                    }
                }
            }),
            ..case("", SignatureShape::default(), false)
        },
        Case {
            name: "a signature that is not base64",
            spoil: Some(|headers| {
                for (name, value) in headers.iter_mut() {
                    if *name == "Signature" {
                        let start = value.find("signature=\"").unwrap() + "signature=\"".len();
                        value.replace_range(start..value.len() - 1, "%%% not base64 %%%");
                    }
                }
            }),
            ..case("", SignatureShape::default(), false)
        },
        Case {
            name: "signed with another actor's key",
            other_signer: true,
            ..case("", SignatureShape::default(), false)
        },
    ];
    let names: Vec<String> = (0..cases.len()).map(|i| format!("voter{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let voters = peer.add_people(&names).await;
    let impostor = peer.add_person("impostor").await;
    let mut conn = database::connect(&alpha).await;
    let mut failures = Vec::new();
    for (case, voter) in cases.iter().zip(&voters) {
        let like = peer.like(voter, &post, None);
        let signer = if case.other_signer { &impostor } else { voter };
        let mut signed = peer.sign_shaped(signer, &alpha.url("/inbox"), &like, &case.shape);
        if let Some(spoil) = case.spoil {
            spoil(&mut signed.headers);
        }
        let answer = peer.send_signed(&signed).await.unwrap();
        let like_id = lit(like["id"].as_str().unwrap());
        let recorded = database::number(
            &mut conn,
            &format!("SELECT count(*) FROM received_activity WHERE ap_id = {like_id}"),
        )
        .await;
        let votes = database::number(
            &mut conn,
            &format!("SELECT count(*) FROM vote WHERE activity_id = {like_id}"),
        )
        .await;
        let body: Value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
        let ok = if case.accepted {
            answer.status == 202 && recorded == 1 && votes == 1
        } else {
            answer.status == 401
                && body["error"]["code"] == "invalid_signature"
                && body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.len() > 10)
                && recorded == 0
                && votes == 0
        };
        println!(
            "{} {}: {} {} (recorded {recorded}, votes {votes})",
            if ok { "ok:    " } else { "FAILED:" },
            case.name,
            answer.status,
            answer.body
        );
        if !ok {
            failures.push(format!(
                "{}: want {}; got {} {:?}, recorded {recorded}, votes {votes}",
                case.name,
                if case.accepted {
                    "202 and the vote"
                } else {
                    "401 with a reason and nothing stored"
                },
                answer.status,
                answer.body
            ));
        }
    }

    // Signed fetches of a group (authorized fetch is on).
    let reader = &voters[0];
    let group_url = alpha.url("/g/jardin");
    let fetches = [
        (
            "a GET signed as we sign",
            shape(rsa, &["(request-target)", "host", "date"], "SHA-256"),
            200,
        ),
        (
            "a GET signed with hs2019 and (created)",
            shape(
                hs2019,
                &["(request-target)", "(created)", "host"],
                "SHA-256",
            ),
            200,
        ),
        (
            "a GET signing only its date",
            shape(rsa, &["date"], "SHA-256"),
            401,
        ),
        (
            "a GET without (request-target)",
            shape(rsa, &["host", "date"], "SHA-256"),
            401,
        ),
        (
            "a GET without host",
            shape(rsa, &["(request-target)", "date"], "SHA-256"),
            401,
        ),
        (
            "a GET with another algorithm",
            shape(
                Some("rsa-sha512"),
                &["(request-target)", "host", "date"],
                "SHA-256",
            ),
            401,
        ),
    ];
    for (name, shape, want) in fetches {
        let status = peer.get_signed(reader, &group_url, &shape).await;
        let ok = status == want;
        println!(
            "{} {name}: {status}",
            if ok { "ok:    " } else { "FAILED:" }
        );
        if !ok {
            failures.push(format!("{name}: want {want}, got {status}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n- {}",
        failures.len(),
        failures.join("\n- ")
    );
}
