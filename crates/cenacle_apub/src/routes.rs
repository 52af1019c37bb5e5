//! What other servers fetch from us: actors and their collections (content-negotiated), the
//! inboxes, WebFinger, host-meta and NodeInfo. Documented in docs/federation.md.

use crate::{
    context::with_context,
    inbox::post_inbox,
    objects::{
        group::{local_group, ApubGroup},
        instance::InstanceActor,
        person::{local_person, ApubPerson},
        InlineCollection,
    },
    signed_fetch::{self, FetchProof, VerifiedSigner},
    ApubError, FedRequest, Federation,
};
use activitypub_federation::{traits::Object, FEDERATION_CONTENT_TYPE};
use axum::{
    extract::{Path, Query, Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use cenacle_core::{
    access, actors, federation, groups,
    identity::{self, urls},
    published,
};
use cenacle_domain::{html::escape_html, INSTANCE_ACTOR_NAME, REPORTING_ACTOR_NAME};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use url::Url;

pub fn router(fed: Federation) -> Router {
    let authorized = Router::new()
        .route("/u/{name}", get(person))
        .route("/u/{name}/outbox", get(person_outbox))
        .route("/u/{name}/followers", get(person_followers))
        .route("/u/{name}/following", get(person_following))
        .route("/g/{name}", get(group))
        .route("/g/{name}/outbox", get(group_outbox))
        .route("/g/{name}/followers", get(group_followers))
        .route("/g/{name}/moderators", get(group_moderators))
        .route("/g/{name}/featured", get(group_featured))
        .route("/p/{id}", get(post_object))
        .route("/c/{id}", get(comment_object))
        .route_layer(middleware::from_fn_with_state(
            fed.clone(),
            require_signed_fetch,
        ));
    Router::new()
        .merge(authorized)
        .route("/actor", get(instance_actor))
        .route("/actor/outbox", get(own_actor_outbox))
        .route("/reporter", get(reporting_actor))
        .route("/reporter/outbox", get(own_actor_outbox))
        .route("/inbox", post(post_inbox))
        .route("/actor/inbox", post(post_inbox))
        .route("/u/{name}/inbox", post(post_inbox))
        .route("/g/{name}/inbox", post(post_inbox))
        .route("/.well-known/webfinger", get(webfinger))
        .route("/.well-known/host-meta", get(host_meta))
        .route("/.well-known/nodeinfo", get(nodeinfo_links))
        .route("/nodeinfo/2.1", get(nodeinfo))
        .with_state(fed)
}

/// An ActivityPub document answered as `application/activity+json`.
pub struct ApJson(pub Value);

impl IntoResponse for ApJson {
    fn into_response(self) -> Response {
        let mut response = Json(self.0).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(FEDERATION_CONTENT_TYPE),
        );
        response
            .headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Accept"));
        response
    }
}

/// Whether the client asked for ActivityPub JSON rather than a page.
fn wants_activity_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            accept.contains("application/activity+json") || accept.contains("application/ld+json")
        })
}

fn document<T: Serialize>(inner: T) -> Result<ApJson, ApubError> {
    serde_json::to_value(with_context(inner))
        .map(ApJson)
        .map_err(|e| ApubError::Internal(e.to_string()))
}

/// The same URL for people and machines: JSON for ActivityPub clients, a small page otherwise.
fn negotiate(headers: &HeaderMap, json: ApJson, title: &str, summary: &str) -> Response {
    if wants_activity_json(headers) {
        return json.into_response();
    }
    let page = format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{0}</title></head>\
         <body><h1>{0}</h1><p>{1}</p><p lang=\"en\">Follow from your fediverse account. / \
         <span lang=\"fr\">Suivez depuis votre compte du fédivers.</span></p></body></html>",
        escape_html(title),
        escape_html(summary)
    );
    let mut response = Html(page).into_response();
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    response
}

async fn person(
    State(fed): State<Federation>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApubError> {
    let data = fed.data();
    let person = local_person(&data, &name).await?;
    let title = person
        .row
        .display_name
        .clone()
        .unwrap_or_else(|| person.row.username.clone());
    let summary = person.row.bio.clone().unwrap_or_default();
    let json = document(person.into_json(&data).await?)?;
    Ok(negotiate(&headers, json, &title, &summary))
}

async fn group(
    State(fed): State<Federation>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApubError> {
    let data = fed.data();
    let group = local_group(&data, &name).await?;
    let (title, summary) = (group.row.title.clone(), group.row.description.clone());
    let json = document(group.into_json(&data).await?)?;
    Ok(negotiate(&headers, json, &title, &summary))
}

async fn instance_actor(State(fed): State<Federation>) -> ApJson {
    let data = fed.data();
    let actor = InstanceActor::new(&data);
    let mut value = actor.json(&data);
    value["@context"] = crate::context::context();
    ApJson(value)
}

async fn reporting_actor(State(fed): State<Federation>) -> ApJson {
    let data = fed.data();
    let mut value = crate::objects::instance::reporting_actor_json(&data);
    value["@context"] = crate::context::context();
    ApJson(value)
}

/// The outboxes of the instance's own actors: Lemmy requires an `outbox` on every actor; they
/// publish nothing.
async fn own_actor_outbox(
    State(fed): State<Federation>,
    uri: axum::http::Uri,
) -> Result<ApJson, ApubError> {
    empty_outbox(&fed.data(), uri.path())
}

/// An `OrderedCollection` served with all its items inline.
fn ordered_collection(
    data: &FedRequest,
    path: &str,
    items: Vec<Value>,
) -> Result<ApJson, ApubError> {
    document(InlineCollection {
        kind: "OrderedCollection",
        id: collection_url(data, path),
        total_items: items.len() as i64,
        ordered_items: Some(items),
        items: None,
    })
}

/// A `Collection` that publishes only its size (followers, following).
/// This instance's host (`host` or `host:port`), as in the handles of its members.
fn our_host(data: &FedRequest) -> String {
    cenacle_core::identity::local_host(&data.ctx.settings)
}

fn counted_collection(data: &FedRequest, path: &str, total: i64) -> Result<ApJson, ApubError> {
    document(InlineCollection::<Value> {
        kind: "Collection",
        id: collection_url(data, path),
        total_items: total,
        ordered_items: None,
        items: None,
    })
}

fn collection_url(data: &FedRequest, path: &str) -> Url {
    Url::parse(&format!("{}{path}", data.base())).expect("valid url")
}

/// Empty outboxes for now: posts arrive with the groups-and-contributions work. Served inline
/// with `totalItems`, which is what Lemmy reads on first contact.
fn empty_outbox(data: &FedRequest, path: &str) -> Result<ApJson, ApubError> {
    ordered_collection(data, path, vec![])
}

async fn person_outbox(
    State(fed): State<Federation>,
    Path(name): Path<String>,
) -> Result<ApJson, ApubError> {
    let data = fed.data();
    local_person(&data, &name).await?;
    empty_outbox(&data, &format!("/u/{name}/outbox"))
}

/// A local group whose collections `proof`'s fetcher may read: anyone for public groups, only
/// an approved follower's instance for private ones (404 otherwise, as for a missing group).
async fn readable_group(
    fed: &Federation,
    data: &FedRequest,
    proof: &FetchProof,
    name: &str,
) -> Result<ApubGroup, ApubError> {
    let group = local_group(data, name).await?;
    let row = &group.row;
    proof
        .read(fed, |reader| async move {
            let mut conn = data.db.conn().await?;
            Ok(access::may_read(&mut conn, row, reader)
                .await?
                .then_some(()))
        })
        .await?;
    Ok(group)
}

async fn group_outbox(
    State(fed): State<Federation>,
    Path(name): Path<String>,
    proof: FetchProof,
) -> Result<ApJson, ApubError> {
    let data = fed.data();
    readable_group(&fed, &data, &proof, &name).await?;
    empty_outbox(&data, &format!("/g/{name}/outbox"))
}

async fn group_featured(
    State(fed): State<Federation>,
    Path(name): Path<String>,
    proof: FetchProof,
) -> Result<ApJson, ApubError> {
    let data = fed.data();
    let group = readable_group(&fed, &data, &proof, &name).await?;
    let mut conn = data.db.conn().await?;
    let mut pages = Vec::new();
    for post in published::featured(&mut conn, &group.row).await? {
        pages.push(
            serde_json::to_value(
                crate::objects::content::page(&mut conn, &our_host(&data), &post).await?,
            )
            .unwrap_or_default(),
        );
    }
    ordered_collection(&data, &format!("/g/{name}/featured"), pages)
}

/// A post as its `Page`. A private group's posts are served only to its approved followers'
/// instances, by signed fetch; deleted ones are gone.
async fn post_object(
    State(fed): State<Federation>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    proof: FetchProof,
) -> Result<Response, ApubError> {
    let data = &fed.data();
    let (post, page) = proof
        .read(&fed, |reader| async move {
            let mut conn = data.db.conn().await?;
            let Some((post, _)) = published::published_post(&mut conn, id, reader).await? else {
                return Ok(None);
            };
            let page = crate::objects::content::page(&mut conn, &our_host(data), &post).await?;
            Ok(Some((post, page)))
        })
        .await?;
    Ok(negotiate(
        &headers,
        document(page)?,
        &post.title,
        &post.body,
    ))
}

/// A comment or answer as its `Note`.
async fn comment_object(
    State(fed): State<Federation>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    proof: FetchProof,
) -> Result<Response, ApubError> {
    let data = &fed.data();
    let (comment, post, note) = proof
        .read(&fed, |reader| async move {
            let mut conn = data.db.conn().await?;
            let Some((comment, post, _)) =
                published::published_comment(&mut conn, id, reader).await?
            else {
                return Ok(None);
            };
            let note = crate::objects::content::note(&mut conn, &our_host(data), &comment).await?;
            Ok(Some((comment, post, note)))
        })
        .await?;
    Ok(negotiate(
        &headers,
        document(note)?,
        &post.title,
        &comment.body,
    ))
}

/// Followers as a `Collection` with its count (Lemmy parses only the count; member lists are
/// not published).
async fn followers_of(data: &FedRequest, actor_id: &Url, path: &str) -> Result<ApJson, ApubError> {
    let mut conn = data.db.conn().await?;
    let total = federation::count_followers(&mut conn, actor_id.as_str()).await?;
    counted_collection(data, path, total)
}

async fn person_followers(
    State(fed): State<Federation>,
    Path(name): Path<String>,
) -> Result<ApJson, ApubError> {
    let data = fed.data();
    let person: ApubPerson = local_person(&data, &name).await?;
    followers_of(&data, person.id(), &format!("/u/{name}/followers")).await
}

async fn person_following(
    State(fed): State<Federation>,
    Path(name): Path<String>,
) -> Result<ApJson, ApubError> {
    let data = fed.data();
    let person = local_person(&data, &name).await?;
    let mut conn = data.db.conn().await?;
    let total = federation::count_following(&mut conn, person.id().as_str()).await?;
    counted_collection(&data, &format!("/u/{name}/following"), total)
}

async fn group_followers(
    State(fed): State<Federation>,
    Path(name): Path<String>,
    proof: FetchProof,
) -> Result<ApJson, ApubError> {
    let data = fed.data();
    let group = readable_group(&fed, &data, &proof, &name).await?;
    followers_of(&data, group.id(), &format!("/g/{name}/followers")).await
}

/// The moderators collection (`attributedTo` of the group): its owners and moderators, local
/// or remote (Lemmy accepts moderation from the people listed here).
async fn group_moderators(
    State(fed): State<Federation>,
    Path(name): Path<String>,
    proof: FetchProof,
) -> Result<ApJson, ApubError> {
    let data = fed.data();
    let group = readable_group(&fed, &data, &proof, &name).await?;
    let mut conn = data.db.conn().await?;
    let moderators: Vec<Value> = groups::moderator_ids(&mut conn, &group.row)
        .await?
        .into_iter()
        .map(Value::String)
        .collect();
    ordered_collection(&data, &format!("/g/{name}/moderators"), moderators)
}

/// Authorized-fetch mode: actor documents and collections need a signed GET (the instance
/// actor, WebFinger and NodeInfo stay open so that others can verify us and find us).
async fn require_signed_fetch(
    State(fed): State<Federation>,
    request: Request,
    next: Next,
) -> Response {
    if !fed.config.ctx.settings.federation.authorized_fetch {
        return next.run(request).await;
    }
    // People in browsers get the page; only ActivityPub JSON is protected.
    if !wants_activity_json(request.headers()) {
        return next.run(request).await;
    }
    let (method, path_and_query, headers) = (
        request.method().as_str().to_owned(),
        request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into()),
        request.headers().clone(),
    );
    match signed_fetch::verify_signed_get(&fed, &method, &path_and_query, &headers).await {
        Ok(signer) => {
            // Kept for the handlers that serve a private group's content to its approved
            // followers' instances: verified once.
            let mut request = request;
            request.extensions_mut().insert(VerifiedSigner(signer));
            next.run(request).await
        }
        Err(err) => {
            tracing::warn!(path = %request.uri().path(), error = %err, "unsigned or badly signed fetch refused");
            err.into_response()
        }
    }
}

// ---- discovery ----

#[derive(Deserialize)]
struct WebfingerQuery {
    resource: String,
}

/// `acct:name@host` (or an actor URL) → every local actor of that name: the instance actor,
/// a person, a group. Each round-trips (its `self` link is its exact id, whose
/// `preferredUsername` is the name asked for): Mastodon checks that of every actor it meets,
/// GoToSocial that of every signer, our instance actor included. Mastodon and GoToSocial take
/// the first `self` link, so the instance actor comes first. People and groups share one name
/// space (a database trigger refuses the clash), so a name finds one of them; rows from before
/// that rule would list the Group last (INTEROP.md).
async fn webfinger(
    State(fed): State<Federation>,
    Query(query): Query<WebfingerQuery>,
) -> Result<Response, ApubError> {
    let data = fed.data();
    let base = data.base();
    let local_host = identity::local_host(&data.ctx.settings);
    let name = match query.resource.strip_prefix("acct:") {
        Some(acct) => {
            let (name, host) = acct.rsplit_once('@').ok_or(ApubError::NotFound)?;
            if !host.eq_ignore_ascii_case(&local_host) {
                return Err(ApubError::NotFound);
            }
            // Our names are lower-case; other servers ask as their members write them.
            name.trim_start_matches(['!', '@']).to_ascii_lowercase()
        }
        None if query.resource == urls::instance_actor(&base) => INSTANCE_ACTOR_NAME.to_owned(),
        None if query.resource == urls::reporting_actor(&base) => REPORTING_ACTOR_NAME.to_owned(),
        None => query
            .resource
            .strip_prefix(&format!("{base}/u/"))
            .or_else(|| query.resource.strip_prefix(&format!("{base}/g/")))
            .ok_or(ApubError::NotFound)?
            .to_owned(),
    };
    let self_link = |id: &str, kind: &str| {
        json!({"rel": "self", "type": FEDERATION_CONTENT_TYPE, "href": id,
            "properties": {"https://www.w3.org/ns/activitystreams#type": kind}})
    };
    let profile_page = |id: &str| json!({"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": id});
    let mut links = Vec::new();
    if name == INSTANCE_ACTOR_NAME {
        links.push(self_link(&urls::instance_actor(&base), "Application"));
    }
    if name == REPORTING_ACTOR_NAME {
        links.push(self_link(&urls::reporting_actor(&base), "Service"));
    }
    let reserved = name == INSTANCE_ACTOR_NAME || name == REPORTING_ACTOR_NAME;
    let mut conn = data.db.conn().await?;
    // The instance actor's name is reserved; a person or group that took it before it was
    // would shadow it for GoToSocial, so it is never answered for them.
    if !reserved
        && actors::local_person_by_name(&mut conn, &name)
            .await?
            .is_some()
    {
        let id = urls::person(&base, &name);
        links.push(profile_page(&id));
        links.push(self_link(&id, "Person"));
    }
    if !reserved
        && actors::local_group_by_name(&mut conn, &name)
            .await?
            .is_some_and(|g| !g.local_only)
    {
        let id = urls::group(&base, &name);
        links.push(profile_page(&id));
        links.push(self_link(&id, "Group"));
    }
    if links.is_empty() {
        return Err(ApubError::NotFound);
    }
    let body = json!({
        "subject": format!("acct:{name}@{local_host}"),
        "aliases": links.iter().filter(|l| l["rel"] == "self").map(|l| l["href"].clone()).collect::<Vec<_>>(),
        "links": links,
    });
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jrd+json"),
    );
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    Ok(response)
}

async fn host_meta(State(fed): State<Federation>) -> Response {
    let base = fed.data().base();
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  \
         <Link rel=\"lrdd\" template=\"{base}/.well-known/webfinger?resource={{uri}}\"/>\n</XRD>\n"
    );
    (
        [(header::CONTENT_TYPE, "application/xrd+xml; charset=utf-8")],
        xml,
    )
        .into_response()
}

async fn nodeinfo_links(State(fed): State<Federation>) -> Json<Value> {
    let base = fed.data().base();
    Json(json!({
        "links": [
            {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": format!("{base}/nodeinfo/2.1")},
            {"rel": "https://www.w3.org/ns/activitystreams#Application", "href": urls::instance_actor(&base)}
        ]
    }))
}

async fn nodeinfo(State(fed): State<Federation>) -> Result<Response, ApubError> {
    let data = fed.data();
    let settings = &data.ctx.settings;
    let mut conn = data.db.conn().await?;
    let (users, groups, posts) = actors::usage(&mut conn).await?;
    let body = json!({
        "version": "2.1",
        // No repository or homepage until the project has a public one: strict parsers
        // (Fedify) refuse a NodeInfo whose URLs are not URLs.
        "software": {"name": "cenacle", "version": env!("CARGO_PKG_VERSION")},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": settings.accounts.registration_mode == cenacle_domain::RegistrationMode::Open,
        "usage": {"users": {"total": users}, "localPosts": posts},
        "metadata": {
            "nodeName": settings.server.instance_name,
            "registrationMode": settings.accounts.registration_mode.as_str(),
            "localGroups": groups,
            "languages": ["fr", "en"],
        }
    });
    let mut response = (StatusCode::OK, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"",
        ),
    );
    Ok(response)
}
