//! A private group is sealed: every GET route of the OpenAPI document, filled with the private
//! group's identifiers, answers 404 (or 401 before login) or shows nothing of it to anonymous
//! callers and signed-in non-members, while its members see it all; its files are served to
//! members only and never kept by shared caches; its ActivityPub documents are fetched only by
//! a signed GET from an instance whose follow of the group was approved.

mod common;

use axum::{
    body::Body,
    http::{header, HeaderMap, Method, Request, StatusCode},
};
use cenacle_core::ScopedFutureExt;
use cenacle_domain::Role;
use common::TestApp;
use serde_json::{json, Value};
use std::{collections::BTreeMap, time::SystemTime};

/// What only the private group's members may see. None of it may reach anyone else.
const TITLE: &str = "Trésor zqxwvault sous le chêne";
const BODY: &str = "Le code du coffre est 7431-ZETA";
const COMMENT: &str = "Réponse confidentielle QX9KAPPA";
const EDITED_TITLE: &str = "Trésor zqxwvault déplacé";
const CONTEST: &str = "Concours du caveau VLT42";
const FILE_MARK: &[u8] = b"PIXELSECRET88";
/// Members of the private group only: their membership is the group's business.
const MEMBERS: [&str; 2] = ["sentinelle", "gardienne"];
/// A word of the title, for search.
const WORD: &str = "zqxwvault";

const BASE: &str = "http://localhost:8700";

struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Raw {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn contains(&self, needle: &[u8]) -> bool {
        !needle.is_empty() && self.body.windows(needle.len()).any(|w| w == needle)
    }
}

async fn raw(t: &TestApp, request: Request<Body>) -> Raw {
    let response = tower::ServiceExt::oneshot(t.app.clone(), request)
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Raw {
        status,
        headers,
        body,
    }
}

async fn get(t: &TestApp, path: &str, token: Option<&str>) -> Raw {
    let mut builder = Request::get(path);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    raw(t, builder.body(Body::empty()).unwrap()).await
}

fn png_with_mark() -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    bytes.extend_from_slice(FILE_MARK);
    bytes.resize(256, 0);
    bytes
}

/// The private group `vault` with everything a group can hold, made through the API.
struct Vault {
    t: TestApp,
    _data: tempfile::TempDir,
    /// A member (not a moderator).
    member: String,
    /// Signed in, not a member.
    outsider: String,
    post_id: i64,
    comment_id: i64,
    contest_id: i64,
    reward_id: i64,
    auction_id: i64,
    file: String,
}

fn created(reply: &common::Reply) {
    assert!(reply.status.is_success(), "{} {}", reply.status, reply.json);
}

/// Uploads a PNG as `token`'s: its id and its public URL.
async fn upload(t: &TestApp, token: &str) -> (i64, String) {
    let upload = t
        .send(
            Request::post("/api/v1/media")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "image/png")
                .body(Body::from(png_with_mark()))
                .unwrap(),
        )
        .await;
    created(&upload);
    (
        upload.json["id"].as_i64().unwrap(),
        upload.json["url"].as_str().unwrap().to_owned(),
    )
}

fn file_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap()
}

async fn vault() -> Vault {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_owned();
    let t = TestApp::with(move |s| s.server.data_dir = dir).await;
    let root = t.with_role("root", Role::Admin).await;
    let sentinelle = t.member(MEMBERS[0]).await;
    let gardienne = t.member(MEMBERS[1]).await;
    let outsider = t.member("curieux").await;
    created(
        &t.post(
            "/api/v1/groups",
            Some(&root),
            json!({"name": "vault", "title": "Le Caveau", "description": "Un cercle fermé : demandez à entrer.", "visibility": "private"}),
        )
        .await,
    );
    for (name, token) in [(MEMBERS[0], &sentinelle), (MEMBERS[1], &gardienne)] {
        created(
            &t.post(
                "/api/v1/groups/vault/invitations",
                Some(&root),
                json!({"handle": name}),
            )
            .await,
        );
        let joined = t
            .request(Method::POST, "/api/v1/groups/vault/join", Some(token), None)
            .await;
        assert_eq!(joined.json["status"], "member", "{}", joined.json);
    }
    // A question with a file, an answer, a like (reputation earned in the group), an edit
    // (history), a bounty and a contest over the group.
    let (upload_id, url) = upload(&t, &sentinelle).await;
    let file = file_name(&url).to_owned();
    let post = t
        .post(
            "/api/v1/groups/vault/posts",
            Some(&sentinelle),
            json!({"kind": "question", "title": TITLE, "body": BODY, "attachments": [upload_id]}),
        )
        .await;
    created(&post);
    let post_id = post.json["post"]["id"].as_i64().unwrap();
    let comment = t
        .post(
            &format!("/api/v1/posts/{post_id}/comments"),
            Some(&gardienne),
            json!({"body": COMMENT}),
        )
        .await;
    created(&comment);
    let comment_id = comment.json["id"].as_i64().unwrap();
    created(
        &t.request(
            Method::PUT,
            &format!("/api/v1/posts/{post_id}/vote"),
            Some(&gardienne),
            Some(json!({"vote": "like"})),
        )
        .await,
    );
    created(
        &t.request(
            Method::PATCH,
            &format!("/api/v1/posts/{post_id}"),
            Some(&sentinelle),
            Some(json!({"title": EDITED_TITLE})),
        )
        .await,
    );
    created(
        &t.post(
            "/api/v1/admin/points",
            Some(&root),
            json!({"handle": "root", "delta": 100, "reason": "réserve"}),
        )
        .await,
    );
    created(
        &t.post(
            &format!("/api/v1/posts/{post_id}/bounty"),
            Some(&root),
            json!({"amount": 20}),
        )
        .await,
    );
    let now = chrono::Utc::now();
    let contest = t
        .post(
            "/api/v1/contests",
            Some(&root),
            json!({"title": CONTEST, "starts_at": now - chrono::Duration::hours(1),
                   "ends_at": now + chrono::Duration::days(1), "groups": ["vault"]}),
        )
        .await;
    created(&contest);
    // A reward and an auction of the instance's shop: nothing of any group, but their routes
    // are swept too (with identifiers that exist).
    let reward = t
        .post(
            "/api/v1/shop/rewards",
            Some(&root),
            json!({"name_en": "Mug", "name_fr": "Tasse", "kind": "physical", "price": 10}),
        )
        .await;
    created(&reward);
    let reward_id = reward.json["id"].as_i64().unwrap();
    let auction = t
        .post(
            "/api/v1/auctions",
            Some(&root),
            json!({"reward_id": reward_id, "ends_at": now + chrono::Duration::days(1),
                   "starting_price": 10, "min_increment": 1}),
        )
        .await;
    created(&auction);
    Vault {
        reward_id,
        auction_id: auction.json["id"].as_i64().unwrap(),
        _data: data,
        member: gardienne,
        outsider,
        post_id,
        comment_id,
        contest_id: contest.json["id"].as_i64().unwrap(),
        file,
        t,
    }
}

impl Vault {
    /// The value of a path parameter, by the collection it follows (`/posts/{id}` is a post,
    /// `/contests/{id}` a contest). A parameter not listed here fails the sweep: a new route
    /// must say which of the private group's identifiers it takes.
    fn path_value(&self, collection: &str, param: &str) -> Option<String> {
        Some(match (collection, param) {
            ("groups", "name") => "vault".into(),
            ("posts", "id") => self.post_id.to_string(),
            ("comments", "id") => self.comment_id.to_string(),
            ("contests", "id") => self.contest_id.to_string(),
            ("rewards", "id") => self.reward_id.to_string(),
            ("auctions", "id") => self.auction_id.to_string(),
            // Triggered e-mail rules are the instance's (community managers only); no rule
            // exists here, so the dry run answers the refusal or 404, never the group.
            ("rules", "id") => "1".into(),
            // Community managers' CSV reports (refused to others for want of the permission).
            ("reports", "kind") => "points".into(),
            ("media", "file") => self.file.clone(),
            // A person's public profile: the member's, to show it says nothing of the group.
            ("people", "handle") => MEMBERS[0].into(),
            // A member's statistics (community managers only).
            ("members", "handle") => MEMBERS[0].into(),
            // Courses and certificates are the instance's, not a group's (a restricted
            // course's discussion group is an ordinary private group, swept as such); none
            // exists here, so these answer 404.
            ("courses", "id") => "1".into(),
            // A quiz's questions with their answers: trainers only (none exists here).
            ("quizzes", "id") => "1".into(),
            ("certificates", "code") => "0123456789abcdef01234567".into(),
            _ => return None,
        })
    }

    /// The value of a query parameter: those that scope by group name the private group,
    /// search words find its post. Optional parameters that only sort, filter or page are left
    /// out; any other parameter fails the sweep, so that a new one must say whether it points
    /// at a group's content.
    fn query_value(&self, param: &str) -> Result<Option<String>, ()> {
        const NEUTRAL: [&str; 17] = [
            "limit",
            "cursor",
            "sort",
            "kind",
            "status",
            "period",
            "from",
            "to",
            "unanswered",
            "scope",
            "tag",
            "answered",
            "at",
            // The champions dashboard's windows (days ahead, months back).
            "within_days",
            "months",
            // The insights' recent window (days at the end of the period).
            "recent_days",
            // The notifications' unread filter (the caller's own list).
            "unread",
        ];
        Ok(Some(match param {
            "group" => "vault".into(),
            "q" => WORD.into(),
            p if NEUTRAL.contains(&p) => return Ok(None),
            _ => return Err(()),
        }))
    }
}

/// The group's card (name, title, description, how to ask to join): the one thing about a
/// private group that everyone may read.
const CARD: &str = "/api/v1/groups/{name}";

/// A GET route of the OpenAPI document, filled with the private group's identifiers.
struct Call {
    template: String,
    path: String,
    /// Names the private group or something in it (path or query): a non-member must get 404.
    scoped: bool,
    /// Names a person: their name may show, nothing else.
    names_person: bool,
}

/// Collections whose identifiers name nothing of any group (the instance's shop, its triggered
/// e-mail rules): their routes are swept for leaks, but everyone may reach them.
const INSTANCE_WIDE: [&str; 7] = [
    "rewards",
    "auctions",
    "reports",
    "rules",
    "courses",
    "certificates",
    "quizzes",
];

fn calls(v: &Vault, doc: &Value) -> Vec<Call> {
    let mut calls = Vec::new();
    let mut unknown = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        let Some(op) = item.get("get") else { continue };
        let params: Vec<&Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(
                op.get("parameters")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten(),
            )
            .collect();
        let (mut scoped, mut names_person) = (false, false);
        let mut path = String::new();
        let mut previous = "";
        for segment in template.split('/').skip(1) {
            path.push('/');
            match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(param) => match v.path_value(previous, param) {
                    Some(value) => {
                        path.push_str(&value);
                        if previous == "people" {
                            names_person = true;
                        } else if !INSTANCE_WIDE.contains(&previous) {
                            scoped = true;
                        }
                    }
                    None => unknown.push(format!("{template}: path parameter `{param}`")),
                },
                None => path.push_str(segment),
            }
            previous = segment;
        }
        let mut query = Vec::new();
        for p in params.iter().filter(|p| p["in"] == "query") {
            let name = p["name"].as_str().unwrap();
            match v.query_value(name) {
                Ok(Some(value)) => {
                    scoped |= name == "group";
                    query.push(format!("{name}={value}"));
                }
                Ok(None) if p["required"] == true => {
                    unknown.push(format!("{template}: required query parameter `{name}`"))
                }
                Ok(None) => {}
                Err(()) => unknown.push(format!("{template}: query parameter `{name}`")),
            }
        }
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        calls.push(Call {
            template: template.clone(),
            path,
            scoped,
            names_person,
        });
    }
    assert!(
        unknown.is_empty(),
        "the sweep does not know how to fill: {unknown:#?} (add them to Vault::path_value / query_value)"
    );
    calls
}

/// Which of the private group's secrets a response shows.
fn secrets_in(reply: &Raw, call: &Call) -> Vec<String> {
    let mut found: Vec<String> = [TITLE, EDITED_TITLE, BODY, COMMENT, CONTEST]
        .iter()
        .filter(|s| reply.contains(s.as_bytes()))
        .map(|s| s.to_string())
        .collect();
    if reply.contains(FILE_MARK) {
        found.push("the file's bytes".into());
    }
    if !call.names_person {
        found.extend(
            MEMBERS
                .iter()
                .filter(|m| reply.contains(m.as_bytes()))
                .map(|m| format!("member {m}")),
        );
    }
    found
}

#[tokio::test]
async fn every_get_route_keeps_a_private_group_sealed_from_non_members() {
    let v = vault().await;
    let t = &v.t;
    let doc = t.get("/api/v1/openapi.json", None).await.json;
    let calls = calls(&v, &doc);
    assert!(
        calls.len() >= 20,
        "the document lists the GET routes: {}",
        calls.len()
    );
    let mut leaks = BTreeMap::new();
    let mut seen_by_member: Vec<String> = Vec::new();
    for call in &calls {
        let member = get(t, &call.path, Some(&v.member)).await;
        for (who, token) in [
            ("anonymous", None),
            ("non-member", Some(v.outsider.as_str())),
        ] {
            let reply = get(t, &call.path, token).await;
            let secrets = secrets_in(&reply, call);
            // A route refused for want of an instance permission (community insights) is
            // refused before any group is looked up: it says nothing of the group either.
            let needs_permission = reply.status == StatusCode::FORBIDDEN
                && reply.json()["error"]["details"]["permission"].is_string();
            let status_ok = !call.scoped
                || call.template == CARD
                || reply.status == StatusCode::NOT_FOUND
                || needs_permission
                || (token.is_none() && reply.status == StatusCode::UNAUTHORIZED);
            if !secrets.is_empty() || !status_ok {
                leaks.insert(
                    format!("{who} GET {}", call.path),
                    format!("{} showing {secrets:?}", reply.status),
                );
            }
            // The identifiers are right: what is hidden from others is there for members.
            if call.scoped && reply.status == StatusCode::NOT_FOUND {
                assert!(
                    member.status != StatusCode::NOT_FOUND
                        && member.status != StatusCode::UNAUTHORIZED,
                    "{} is {} for a member too: the sweep filled it wrongly",
                    call.path,
                    member.status
                );
            }
        }
        seen_by_member.extend(secrets_in(&member, call));
        if call.template == "/media/{file}" {
            let cache = member.headers[header::CACHE_CONTROL].to_str().unwrap();
            if !(cache.contains("private") || cache.contains("no-store")) {
                leaks.insert(
                    format!("member GET {}", call.path),
                    format!("kept by shared caches: Cache-Control {cache}"),
                );
            }
        }
    }
    assert!(leaks.is_empty(), "private content leaks: {leaks:#?}");
    // The member's view of the same routes shows every secret: the sweep proves something.
    for secret in [
        EDITED_TITLE.to_owned(),
        BODY.into(),
        COMMENT.into(),
        CONTEST.into(),
        TITLE.into(),
        "the file's bytes".into(),
        format!("member {}", MEMBERS[0]),
        format!("member {}", MEMBERS[1]),
    ] {
        assert!(
            seen_by_member.contains(&secret),
            "members should see {secret} through some GET route"
        );
    }
}

#[tokio::test]
async fn the_card_stays_visible_and_lists_never_show_the_private_group() {
    let v = vault().await;
    let t = &v.t;
    // The card: name, title, description, and how to ask to join.
    for token in [None, Some(v.outsider.as_str())] {
        let card = t.get("/api/v1/groups/vault", token).await;
        assert_eq!(card.status, StatusCode::OK);
        assert_eq!(card.json["title"], "Le Caveau");
        assert_eq!(card.json["visibility"], "private");
        assert!(card.json["description"]
            .as_str()
            .unwrap()
            .contains("demandez"));
        // Not how many are inside.
        assert_eq!(card.json["followers"], Value::Null, "{}", card.json);
    }
    let inside = t.get("/api/v1/groups/vault", Some(&v.member)).await;
    assert!(inside.json["followers"].is_number(), "{}", inside.json);
    // Search and feeds leave it out for non-members, whatever they ask.
    for token in [None, Some(v.outsider.as_str())] {
        for path in [
            format!("/api/v1/search?q={WORD}"),
            "/api/v1/feed".to_owned(),
            "/api/v1/feed?sort=top".to_owned(),
            "/api/v1/feed?sort=hot".to_owned(),
            "/api/v1/feed?sort=active".to_owned(),
        ] {
            let reply = get(t, &path, token).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}");
            assert!(
                !reply.text().contains(WORD),
                "{path} shows the private post: {}",
                reply.text()
            );
        }
    }
    let home = get(t, "/api/v1/feed?scope=home", Some(&v.outsider)).await;
    assert!(!home.text().contains(WORD));
    // Members find it.
    let found = get(t, &format!("/api/v1/search?q={WORD}"), Some(&v.member)).await;
    assert!(found.text().contains(WORD), "{}", found.text());
    let home = get(t, "/api/v1/feed?scope=home", Some(&v.member)).await;
    assert!(home.text().contains(WORD), "{}", home.text());
}

#[tokio::test]
async fn private_files_are_for_members_and_never_kept_by_shared_caches() {
    let v = vault().await;
    let t = &v.t;
    let path = format!("/media/{}", v.file);
    for token in [None, Some(v.outsider.as_str())] {
        let refused = get(t, &path, token).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);
        assert!(!refused.contains(FILE_MARK));
    }
    let served = get(t, &path, Some(&v.member)).await;
    assert_eq!(served.status, StatusCode::OK);
    assert!(served.contains(FILE_MARK));
    let cache = served.headers[header::CACHE_CONTROL].to_str().unwrap();
    assert!(
        cache.contains("private") && cache.contains("no-store"),
        "{cache}"
    );
    assert_eq!(served.headers[header::VARY], "Authorization");
    // A file attached to nothing yet is not kept by shared caches either: it may become a
    // private post's; once on a public group's post, it is public and cacheable.
    let (upload_id, url) = upload(t, &v.outsider).await;
    let public_name = file_name(&url);
    let cache_of = |reply: &Raw| {
        reply.headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .to_owned()
    };
    let loose = get(t, &format!("/media/{public_name}"), None).await;
    assert_eq!(loose.status, StatusCode::OK);
    assert_eq!(cache_of(&loose), "private, no-store");
    let root = t.with_role("gerante", Role::Admin).await;
    created(
        &t.post(
            "/api/v1/groups",
            Some(&root),
            json!({"name": "place", "title": "La Place"}),
        )
        .await,
    );
    let joined = t
        .request(
            Method::POST,
            "/api/v1/groups/place/join",
            Some(&v.outsider),
            None,
        )
        .await;
    assert_eq!(joined.json["status"], "member", "{}", joined.json);
    created(
        &t.post(
            "/api/v1/groups/place/posts",
            Some(&v.outsider),
            json!({"kind": "question", "title": "Une photo", "body": "La voici.", "attachments": [upload_id]}),
        )
        .await,
    );
    let public = get(t, &format!("/media/{public_name}"), None).await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(
        cache_of(&public).starts_with("public"),
        "{}",
        cache_of(&public)
    );
}

/// An image pasted into a private group's text (Markdown, not an attachment) is the group's:
/// it was readable by anyone holding its URL (a former member, a forwarded link).
#[tokio::test]
async fn files_written_into_private_text_are_for_members_only() {
    let v = vault().await;
    let t = &v.t;
    let (_, in_reply) = upload(t, &v.member).await;
    let (_, in_edit) = upload(t, &v.member).await;
    let reply = t
        .post(
            &format!("/api/v1/posts/{}/comments", v.post_id),
            Some(&v.member),
            json!({"body": format!("Le schéma : ![schéma]({in_reply})")}),
        )
        .await;
    created(&reply);
    created(
        &t.request(
            Method::PATCH,
            &format!("/api/v1/comments/{}", v.comment_id),
            Some(&v.member),
            Some(json!({"body": format!("{COMMENT}\n\n![photo]({in_edit})")})),
        )
        .await,
    );
    // Someone else's file pasted into the group stays theirs: a member of a private group
    // cannot take a file away from the readers it was shared with.
    let (_, elsewhere) = upload(t, &v.outsider).await;
    created(
        &t.post(
            &format!("/api/v1/posts/{}/comments", v.post_id),
            Some(&v.member),
            json!({"body": format!("Vu ailleurs : ![photo]({elsewhere})")}),
        )
        .await,
    );
    let still = get(t, &format!("/media/{}", file_name(&elsewhere)), None).await;
    assert_eq!(still.status, StatusCode::OK);
    for url in [&in_reply, &in_edit] {
        let path = format!("/media/{}", file_name(url));
        for token in [None, Some(v.outsider.as_str())] {
            let refused = get(t, &path, token).await;
            assert_eq!(refused.status, StatusCode::NOT_FOUND, "{path} {token:?}");
            assert!(!refused.contains(FILE_MARK));
        }
        let served = get(t, &path, Some(&v.member)).await;
        assert_eq!(served.status, StatusCode::OK, "{path}");
        assert!(served.contains(FILE_MARK));
        let cache = served.headers[header::CACHE_CONTROL].to_str().unwrap();
        assert!(cache.contains("no-store"), "{cache}");
    }
}

// ---- the federation side ----

const AP: &str = "application/activity+json";

/// A person of another instance whose key we hold: it signs fetches from its instance.
struct RemoteSigner {
    actor_id: String,
    key: cenacle_apub::signatures::SigningKey,
}

async fn remote_signer(t: &TestApp, host: &str, name: &str) -> RemoteSigner {
    let (actor_id, private) = t.remote_person(host, name).await;
    RemoteSigner {
        key: cenacle_apub::signatures::SigningKey::from_pem(&actor_id, &private).unwrap(),
        actor_id,
    }
}

async fn fetch(t: &TestApp, path: &str, signer: Option<&RemoteSigner>) -> Raw {
    let mut builder = Request::get(path)
        .header(header::ACCEPT, AP)
        .header(header::HOST, "localhost:8700");
    if let Some(signer) = signer {
        let url = url::Url::parse(&format!("{BASE}{path}")).unwrap();
        for (name, value) in cenacle_apub::signatures::sign_request(
            &signer.key,
            "GET",
            &url,
            None,
            SystemTime::now(),
        )
        .unwrap()
        {
            builder = builder.header(name, value);
        }
    }
    raw(t, builder.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn a_private_groups_documents_are_fetched_only_by_approved_followers_instances() {
    let v = vault().await;
    let t = &v.t;
    let stranger = remote_signer(t, "elsewhere.test", "espion").await;
    let friend = remote_signer(t, "friend.test", "amie").await;
    // amie's follow of the group was approved by its moderators.
    let group_id = format!("{BASE}/g/vault");
    let (follower, target) = (friend.actor_id.clone(), group_id.clone());
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
                    "https://friend.test/follow/1",
                )
                .await?;
                cenacle_core::federation::follow_accepted(
                    conn,
                    &target,
                    cenacle_core::federation::AcceptedFollow::Follower(&follower),
                )
                .await
            }
            .scope_boxed()
        })
        .await
        .unwrap();

    let documents = [
        format!("/p/{}", v.post_id),
        format!("/c/{}", v.comment_id),
        "/g/vault/outbox".to_owned(),
        "/g/vault/followers".to_owned(),
        "/g/vault/moderators".to_owned(),
        "/g/vault/featured".to_owned(),
    ];
    // The federation routes are not in the OpenAPI document: read them from the router's
    // source, so that a new group, post or comment document cannot be forgotten here.
    let router_source = include_str!("../../cenacle_apub/src/routes.rs");
    let templates: Vec<&str> = router_source
        .split(".route(\"")
        .skip(1)
        .filter_map(|rest| rest.split_once("\", "))
        .filter(|(_, handler)| handler.starts_with("get("))
        .map(|(template, _)| template)
        .filter(|t| t.starts_with("/g/{name}/") || t.starts_with("/p/") || t.starts_with("/c/"))
        .collect();
    assert!(templates.len() >= documents.len(), "{templates:?}");
    for template in templates {
        let path = template
            .replace("{name}", "vault")
            .replace("/p/{id}", &format!("/p/{}", v.post_id))
            .replace("/c/{id}", &format!("/c/{}", v.comment_id));
        assert!(
            documents.contains(&path),
            "the federation route {template} is not checked for a private group"
        );
    }
    for path in &documents {
        for (who, signer) in [
            ("unsigned", None),
            ("a stranger's instance", Some(&stranger)),
        ] {
            let reply = fetch(t, path, signer).await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{who} fetched {path}: {}",
                reply.text()
            );
        }
        let approved = fetch(t, path, Some(&friend)).await;
        assert_eq!(
            approved.status,
            StatusCode::OK,
            "an approved follower's instance fetches {path}: {}",
            approved.text()
        );
    }
    // As a page in a browser too.
    let page = get(t, &format!("/p/{}", v.post_id), None).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.contains(EDITED_TITLE.as_bytes()));
    // What the approved instance reads is the content, addressed to the group only.
    let post = fetch(t, &format!("/p/{}", v.post_id), Some(&friend))
        .await
        .json();
    assert_eq!(post["name"], EDITED_TITLE);
    assert!(!post.to_string().contains("#Public"));
    let comment = fetch(t, &format!("/c/{}", v.comment_id), Some(&friend)).await;
    assert!(comment.contains(COMMENT.as_bytes()));
    // The file of the post too, for that instance only.
    let file = format!("/media/{}", v.file);
    assert_eq!(
        fetch(t, &file, Some(&stranger)).await.status,
        StatusCode::NOT_FOUND
    );
    let served = fetch(t, &file, Some(&friend)).await;
    assert_eq!(served.status, StatusCode::OK);
    assert!(served.contains(FILE_MARK));
    // The group's actor (its card) stays public: followers need it to ask to join.
    let actor = fetch(t, "/g/vault", None).await;
    assert_eq!(actor.status, StatusCode::OK);
    assert_eq!(actor.json()["manuallyApprovesFollowers"], true);
    for secret in [TITLE, EDITED_TITLE, BODY, COMMENT, MEMBERS[0], MEMBERS[1]] {
        assert!(!actor.contains(secret.as_bytes()), "{secret}");
    }
}

/// A non-member who names a private group's comment — to edit, delete, like, remove, restore
/// or report it — is answered exactly as for a comment that does not exist: before, the answer
/// said "post" or "group" (the comment was found, its post unreadable), telling them which
/// comment ids exist there.
#[tokio::test]
async fn a_private_groups_comment_answers_an_outsider_as_a_missing_one() {
    let v = vault().await;
    let t = &v.t;
    let missing = v.comment_id + 1_000_000;
    let answer = async |id: i64, method: Method, path: &str, body: Option<Value>| {
        let path = path.replace("{id}", &id.to_string());
        let r = t.request(method, &path, Some(&v.outsider), body).await;
        (r.status, r.json)
    };
    for (method, path, body) in [
        (
            Method::PATCH,
            "/api/v1/comments/{id}",
            Some(json!({"body": "Vu"})),
        ),
        (Method::DELETE, "/api/v1/comments/{id}", None),
        (
            Method::PUT,
            "/api/v1/comments/{id}/vote",
            Some(json!({"vote": "like"})),
        ),
        (
            Method::POST,
            "/api/v1/comments/{id}/removal",
            Some(json!({"reason": "Vu"})),
        ),
        (Method::DELETE, "/api/v1/comments/{id}/removal", None),
    ] {
        let sealed = answer(v.comment_id, method.clone(), path, body.clone()).await;
        let absent = answer(missing, method, path, body).await;
        assert_eq!(sealed.0, StatusCode::NOT_FOUND, "{path}: {}", sealed.1);
        assert_eq!(
            sealed, absent,
            "{path}: a private comment told from a missing one"
        );
    }
    let report = async |id: i64| {
        let r = t
            .post(
                "/api/v1/reports",
                Some(&v.outsider),
                json!({"comment_id": id, "reason": "spam"}),
            )
            .await;
        (r.status, r.json)
    };
    let (sealed, absent) = (report(v.comment_id).await, report(missing).await);
    assert_eq!(sealed.0, StatusCode::NOT_FOUND, "{}", sealed.1);
    assert_eq!(
        sealed, absent,
        "a report told a private comment from a missing one"
    );
}
