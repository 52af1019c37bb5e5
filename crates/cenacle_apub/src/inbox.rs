//! The inboxes: the shared `/inbox` and each actor's own. All take the same path.
//!
//! Order of checks, cheapest first, so that junk costs us little and is never half-applied:
//! body size → `Signature` present → `Date` within an hour → `Digest` matches the body →
//! well-formed JSON with `id` and `actor` → key owner is the actor → actor and instance not
//! blocked →
//! signature verified against the actor's key (fetched and cached; refetched once if it fails,
//! for key rotation) → id not seen before → applied, in one transaction with the id's record.
//! Answers: 202 accepted, 400 malformed, 401 signature problems, 403 blocked.

use crate::{
    activities::{content::RAW_ACTIVITY, InboxActivity},
    http_client::{host_of, is_blocked},
    objects::ApubActor,
    signatures::{digest_header, key_owner, parse_signature},
    ApubError, FedRequest, Federation,
};
use activitypub_federation::axum::inbox::{receive_activity, ActivityData};
use axum::{
    body::{to_bytes, Body},
    extract::{FromRequest, Request, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use cenacle_db::{actors, federation};
use prometheus::{IntCounterVec, Opts};
use std::{
    sync::{Arc, LazyLock},
    time::SystemTime,
};
use url::Url;

/// Peers sign with a one-hour validity (APF) and Mastodon allows about as much.
const MAX_DATE_SKEW_SECS: u64 = 3600;

static INBOX_OUTCOMES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    let counter = IntCounterVec::new(
        Opts::new(
            "cenacle_inbox_activities_total",
            "Activities received, by type and outcome",
        ),
        &["type", "outcome"],
    )
    .expect("metric");
    let _ = prometheus::register(Box::new(counter.clone()));
    counter
});

pub async fn post_inbox(State(fed): State<Federation>, request: Request) -> Response {
    let limit = fed.config.ctx.settings.limits.max_body_bytes;
    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return reject(
                StatusCode::PAYLOAD_TOO_LARGE,
                "unknown",
                "body over the limit",
                None,
            )
        }
    };
    match receive(&fed, &parts, bytes.to_vec()).await {
        Ok(kind) => {
            INBOX_OUTCOMES.with_label_values(&[&kind, "accepted"]).inc();
            StatusCode::ACCEPTED.into_response()
        }
        Err((kind, err)) => reject(err.status(), &kind, &err.to_string(), Some(err)),
    }
}

fn reject(status: StatusCode, kind: &str, reason: &str, err: Option<ApubError>) -> Response {
    INBOX_OUTCOMES
        .with_label_values(&[kind, status.as_str()])
        .inc();
    tracing::warn!(%status, kind, reason, "inbox refused an activity");
    match err {
        Some(err) => err.into_response(),
        None => status.into_response(),
    }
}

/// Minimal shape every activity must have, read before anything is fetched.
#[derive(serde::Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    id: Url,
    #[serde(deserialize_with = "crate::activities::deserialize_id")]
    actor: Url,
}

async fn receive(
    fed: &Federation,
    parts: &axum::http::request::Parts,
    body: Vec<u8>,
) -> Result<String, (String, ApubError)> {
    let unauthorized =
        |kind: &str, why: &str| (kind.to_owned(), ApubError::Unauthorized(why.to_owned()));
    let headers = &parts.headers;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());

    let signature =
        header("signature").ok_or_else(|| unauthorized("unknown", "no Signature header"))?;
    let params = parse_signature(signature)
        .ok_or_else(|| unauthorized("unknown", "unreadable Signature header"))?;
    if !params.is_fresh(header("date"), SystemTime::now(), MAX_DATE_SKEW_SECS) {
        return Err(unauthorized(
            "unknown",
            "Date or (created) missing, or more than an hour away",
        ));
    }
    if !params.headers.iter().any(|h| h == "digest") {
        return Err(unauthorized("unknown", "Digest is not signed"));
    }
    let digest_ok = header("digest")
        .is_some_and(|d| d.split(',').any(|part| part.trim() == digest_header(&body)));
    if !digest_ok {
        return Err(unauthorized("unknown", "Digest does not match the body"));
    }
    let envelope: Envelope = serde_json::from_slice(&body).map_err(|e| {
        (
            "unknown".to_owned(),
            ApubError::Malformed(format!("not an activity: {e}")),
        )
    })?;
    let kind = envelope.kind.clone();
    if key_owner(&params.key_id) != envelope.actor.as_str() {
        return Err(unauthorized(
            &kind,
            "signed with a key that is not the actor's",
        ));
    }
    let host = host_of(&envelope.actor);
    let blocked_actors = &fed.config.ctx.settings.federation.blocked_actors;
    if blocked_actors.iter().any(|a| a == envelope.actor.as_str()) {
        return Err((
            kind,
            ApubError::Blocked(format!("actor {} is blocked", envelope.actor)),
        ));
    }
    match is_blocked(&fed.config.ctx, &host).await {
        Ok(true) => {
            return Err((
                kind,
                ApubError::Blocked(format!("instance {host} is blocked")),
            ))
        }
        Ok(false) => {}
        Err(e) => return Err((kind, e)),
    }

    let data = fed.data();
    // Kept as received, for a group of ours to Announce it unchanged.
    let raw = Arc::new(serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_default());
    let verify_and_apply = async |data: FedRequest| {
        let activity = activity_data(parts, &body).await;
        RAW_ACTIVITY
            .scope(
                raw.clone(),
                receive_activity::<InboxActivity, ApubActor, _>(activity, &data),
            )
            .await
    };
    let result = match verify_and_apply(data.clone()).await {
        Err(ApubError::Federation(
            activitypub_federation::error::Error::ActivitySignatureInvalid,
        )) => {
            // The actor may have rotated its key: fetch it again, once.
            tracing::info!(actor = %envelope.actor, "signature failed; refetching the actor's key");
            if let Ok(mut conn) = data.ctx.conn().await {
                let _ = actors::mark_actor_stale(&mut conn, envelope.actor.as_str()).await;
            }
            verify_and_apply(data.reset_request_count()).await
        }
        other => other,
    };
    result.map_err(|e| (kind.clone(), e))?;
    if let Ok(mut conn) = data.ctx.conn().await {
        // It talks to us, so it is alive: deliveries to it resume if it was marked dead.
        let _ = federation::record_instance_alive(&mut conn, &host).await;
    }
    tracing::info!(kind = %kind, id = %envelope.id, actor = %envelope.actor, "activity accepted");
    Ok(kind)
}

async fn activity_data(parts: &axum::http::request::Parts, body: &[u8]) -> ActivityData {
    let mut request = Request::builder()
        .method(parts.method.clone())
        .uri(parts.uri.clone());
    *request.headers_mut().expect("builder") = parts.headers.clone();
    let request = request
        .body(Body::from(body.to_vec()))
        .expect("valid request");
    ActivityData::from_request(request, &())
        .await
        .expect("a buffered body is readable")
}
