//! The inboxes: the shared `/inbox` and each actor's own. All take the same path.
//!
//! Checks, cheapest first, so that junk costs little and nothing is half-applied:
//! body size → `Signature` readable, with `(request-target)`, `host`, `date` (or `(created)`)
//! and `digest` signed → date within an hour → `Digest` matches the body → well-formed
//! envelope (`type`, `id`, `actor`) → key owner is the actor → actor and instance not
//! blocked → the actor's key (stored, or fetched; refetched once if it fails: key rotation)
//! verifies the signature → the id is on the actor's server → the activity parses → its own
//! origin checks and the fetches of what it needs → a place among the inbox's transactions
//! (bounded wait, else 503) → one transaction with the record of its id.
//!
//! Answers: 202 applied, seen before, or refused by our community rules (nothing applied);
//! 400 malformed; 401 signature problems; 403 blocked or forged; 500 our own fault; 503 with
//! `Retry-After` when overloaded (peers retry).

use crate::{
    activities::InboxActivity,
    error::RETRY_AFTER_SECS,
    http_client::host_of,
    objects::ApubActor,
    outgoing,
    signatures::{self, digest_matches, key_owner, parse_signature, SignatureParams},
    ApubError, FedRequest, Federation,
};
use activitypub_federation::{fetch::object_id::ObjectId, traits::Actor};
use axum::{
    body::to_bytes,
    extract::{Request, State},
    http::{header, request::Parts, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use cenacle_core::{
    actors, approval, federation,
    inbound::Outcome,
    instance_moderation::{self, KeptOut, SenderBlocked},
    CoreError, ScopedFutureExt,
};
use cenacle_domain::origin::check_object_on_actor_host;
use prometheus::{IntCounter, IntCounterVec, Opts};
use std::{sync::LazyLock, time::SystemTime};
use url::Url;

/// Peers sign with a one-hour validity (APF) and Mastodon allows about as much.
const MAX_DATE_SKEW_SECS: u64 = 3600;

fn counter_vec(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let counter = IntCounterVec::new(Opts::new(name, help), labels).expect("metric");
    let _ = prometheus::register(Box::new(counter.clone()));
    counter
}

static OUTCOMES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter_vec(
        "cenacle_inbox_activities_total",
        "Activities received, by type and outcome",
        &["type", "outcome"],
    )
});
static IGNORED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter_vec(
        "cenacle_inbox_ignored_total",
        "Activities acknowledged (202) with nothing applied, by reason",
        &["reason"],
    )
});
static REFUSED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter_vec(
        "cenacle_inbox_refused_total",
        "Activities refused as forged by the origin rules (403), by rule",
        &["rule"],
    )
});
static DUPLICATES: LazyLock<IntCounter> = LazyLock::new(|| {
    let counter = IntCounter::new(
        "cenacle_inbox_duplicates_total",
        "Activities received again (same id), acknowledged and ignored",
    )
    .expect("metric");
    let _ = prometheus::register(Box::new(counter.clone()));
    counter
});

/// What became of a received activity.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Received {
    Applied,
    /// Seen before (same id): acknowledged, nothing done.
    Duplicate,
    /// Acknowledged, nothing to do or refused by our community rules: why.
    Ignored(&'static str),
    /// The sender's instance (its host) was found blocked in the transaction.
    Blocked(String),
}

/// What we answer to one POST.
enum Answer {
    Applied,
    Duplicate,
    Ignored(&'static str),
    Forged(&'static str),
    Overloaded,
    Refused(StatusCode, String),
}

impl Answer {
    fn status(&self) -> StatusCode {
        match self {
            Answer::Applied | Answer::Duplicate | Answer::Ignored(_) => StatusCode::ACCEPTED,
            Answer::Forged(_) => StatusCode::FORBIDDEN,
            Answer::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            Answer::Refused(status, _) => *status,
        }
    }

    /// How a failure is answered. Refusals by our community rules (not allowed, not found,
    /// a conflict) are not errors: the peer did nothing wrong, and retrying cannot help.
    fn from_error(err: ApubError) -> Answer {
        match err {
            ApubError::Core(core) => match core {
                CoreError::Forged(rule) => Answer::Forged(rule.rule()),
                CoreError::NotAllowed(reason) | CoreError::Conflict(reason) => {
                    Answer::Ignored(reason)
                }
                CoreError::NotFound(_) => Answer::Ignored("not_found"),
                CoreError::ModerationRefused(refusal) => Answer::Ignored(refusal.code()),
                CoreError::Moderation(refusal) => Answer::Ignored(refusal.code()),
                CoreError::Forbidden(_) => Answer::Ignored("forbidden"),
                CoreError::InsufficientReputation(_) => Answer::Ignored("insufficient_reputation"),
                CoreError::Validation(v) => Answer::Refused(
                    StatusCode::BAD_REQUEST,
                    format!("invalid {}: {}", v.field, v.code),
                ),
                // Busy, or rolled back for a concurrent transaction (a deadlock PostgreSQL
                // broke): nothing recorded, the peer sends it again — not our fault to report.
                e if e.is_overloaded() || e.is_transient_conflict() => Answer::Overloaded,
                e => Answer::Refused(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            },
            ApubError::NotFound => Answer::Ignored("not_found"),
            // What the activity needs (a parent, a ban's target, an announced person) is on
            // a blocked instance, and was not fetched: our rule, not the sender's fault.
            ApubError::Federation(e) if crate::http_client::refused_as_blocked(&e) => {
                Answer::Ignored("blocked_instance")
            }
            // A fetch made for the activity failed: unusable as sent, unless the other
            // server is only slow or down, which is worth a retry.
            ApubError::Federation(e) if is_transient(&e) => Answer::Overloaded,
            ApubError::Federation(e) => Answer::Refused(StatusCode::BAD_REQUEST, e.to_string()),
            other => Answer::Refused(other.status(), other.to_string()),
        }
    }
}

pub async fn post_inbox(State(fed): State<Federation>, request: Request) -> Response {
    let limit = fed.config.ctx.settings.limits.max_body_bytes;
    let (parts, body) = request.into_parts();
    let (kind, answer) = match to_bytes(body, limit).await {
        Ok(bytes) => receive(&fed, &parts, &bytes).await,
        Err(_) => (
            "unknown".to_owned(),
            Answer::Refused(StatusCode::PAYLOAD_TOO_LARGE, "body over the limit".into()),
        ),
    };
    respond(&kind, answer)
}

fn respond(kind: &str, answer: Answer) -> Response {
    let status = answer.status();
    let outcome = match &answer {
        Answer::Applied => "accepted",
        Answer::Duplicate => {
            DUPLICATES.inc();
            tracing::info!(kind, "duplicate activity acknowledged and ignored");
            "duplicate"
        }
        Answer::Ignored(reason) => {
            IGNORED.with_label_values(&[reason]).inc();
            tracing::info!(kind, reason, "activity acknowledged, nothing applied");
            "ignored"
        }
        Answer::Forged(rule) => {
            REFUSED.with_label_values(&[rule]).inc();
            tracing::warn!(kind, rule, "forged activity refused");
            status.as_str()
        }
        Answer::Overloaded => {
            tracing::warn!(
                kind,
                "inbox overloaded, or a fetch failed on the way; asked the peer to retry"
            );
            status.as_str()
        }
        Answer::Refused(status, reason) => {
            if status.is_server_error() {
                tracing::error!(%status, kind, reason, "inbox failed to apply an activity");
            } else {
                tracing::warn!(%status, kind, reason, "inbox refused an activity");
            }
            status.as_str()
        }
    };
    OUTCOMES.with_label_values(&[kind, outcome]).inc();
    let mut response = match refusal_body(&answer) {
        Some(body) => (status, Json(body)).into_response(),
        None => status.into_response(),
    };
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    }
    response
}

/// Why a request was refused, for the sender's logs: `{"error": {"code", "message"}}` as the
/// API answers (in English: machines read it). Our own faults say no more than that.
fn refusal_body(answer: &Answer) -> Option<serde_json::Value> {
    let (code, message) = match answer {
        Answer::Applied | Answer::Duplicate | Answer::Ignored(_) => return None,
        Answer::Forged(rule) => ("forged", format!("refused by the origin rule {rule}")),
        Answer::Overloaded => ("overloaded", "busy: retry later".to_owned()),
        Answer::Refused(status, reason) => match *status {
            StatusCode::BAD_REQUEST => ("malformed_activity", reason.clone()),
            StatusCode::UNAUTHORIZED => ("invalid_signature", reason.clone()),
            StatusCode::FORBIDDEN => ("forbidden", reason.clone()),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", reason.clone()),
            s if s.is_server_error() => ("internal_error", "internal error".to_owned()),
            _ => ("refused", reason.clone()),
        },
    };
    Some(serde_json::json!({"error": {"code": code, "message": message}}))
}

/// A fetch that failed on the way (connection refused or reset, timeout): the other server
/// may answer later, so the sender is asked to retry rather than told it was wrong.
fn is_transient(e: &activitypub_federation::error::Error) -> bool {
    use activitypub_federation::error::Error as F;
    // An address we may not reach stays so: the sender is wrong, retrying cannot help.
    if crate::http_client::is_refused_address(e) {
        return false;
    }
    match e {
        F::Reqwest(_) | F::ReqwestMiddleware(_) | F::IoError(_) => true,
        F::UrlVerificationError(why) => *why == crate::http_client::BUSY_VERIFYING,
        _ => false,
    }
}

/// The `type` label of the inbox metrics: the types we know, else "other" (the label comes
/// from what anyone may send, so its values must stay few).
fn metric_label(kind: &str) -> &str {
    const KNOWN: [&str; 16] = [
        "Follow", "Accept", "Reject", "Undo", "Create", "Update", "Delete", "Like", "Dislike",
        "Announce", "Flag", "Resolve", "Block", "Lock", "Add", "Remove",
    ];
    KNOWN
        .iter()
        .find(|k| **k == kind)
        .copied()
        .unwrap_or("other")
}

/// Minimal shape every activity must have, read before anything is fetched.
#[derive(serde::Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    id: Url,
    #[serde(deserialize_with = "crate::vocabulary::deserialize_id")]
    actor: Url,
}

fn unauthorized(why: &str) -> Answer {
    Answer::Refused(StatusCode::UNAUTHORIZED, why.to_owned())
}

async fn receive(fed: &Federation, parts: &Parts, body: &[u8]) -> (String, Answer) {
    let mut kind = "unknown".to_owned();
    let answer = match check_and_apply(fed, parts, body, &mut kind).await {
        Ok(Received::Applied) => Answer::Applied,
        Ok(Received::Duplicate) => Answer::Duplicate,
        Ok(Received::Ignored(reason)) => Answer::Ignored(reason),
        // As the check before the fetches answers: the same block, read later.
        Ok(Received::Blocked(host)) => {
            Answer::Refused(StatusCode::FORBIDDEN, format!("instance {host} blocked"))
        }
        Err(answer) => answer,
    };
    (kind, answer)
}

async fn check_and_apply(
    fed: &Federation,
    parts: &Parts,
    body: &[u8],
    kind: &mut String,
) -> Result<Received, Answer> {
    let headers = &parts.headers;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let params = header("signature")
        .and_then(parse_signature)
        .ok_or_else(|| unauthorized("no readable Signature header"))?;
    signatures::check_strength(&params, "POST").map_err(|why| unauthorized(&why))?;
    if !params.is_fresh(header("date"), SystemTime::now(), MAX_DATE_SKEW_SECS) {
        return Err(unauthorized(
            "Date or (created) missing, unsigned, or more than an hour away",
        ));
    }
    if !header("digest").is_some_and(|d| digest_matches(d, body)) {
        return Err(unauthorized(
            "Digest missing or not matching the body (SHA-256 or SHA-512 accepted)",
        ));
    }
    let raw: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Answer::Refused(StatusCode::BAD_REQUEST, format!("not JSON: {e}")))?;
    let envelope: Envelope = serde_json::from_value(raw.clone())
        .map_err(|e| Answer::Refused(StatusCode::BAD_REQUEST, format!("not an activity: {e}")))?;
    *kind = metric_label(&envelope.kind).to_owned();
    if key_owner(&params.key_id) != envelope.actor.as_str() {
        return Err(unauthorized("signed with a key that is not the actor's"));
    }
    let ctx = &fed.config.ctx;
    let settings = &ctx.settings;
    if settings
        .federation
        .blocked_actors
        .iter()
        .any(|a| a == envelope.actor.as_str())
    {
        return Err(Answer::Refused(
            StatusCode::FORBIDDEN,
            "actor blocked".into(),
        ));
    }
    let host = host_of(&envelope.actor);
    if crate::http_client::is_blocked(&fed.config.db, &host)
        .await
        .map_err(Answer::from_error)?
    {
        return Err(Answer::Refused(
            StatusCode::FORBIDDEN,
            format!("instance {host} blocked"),
        ));
    }

    let data = fed.data();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let actor = verified_signer(&data, &envelope.actor, &params, parts, path).await?;
    // A person signed it: the host their confirmed handle names is read in the transaction
    // below (the one their fetched actor carries may predate a confirmation that it names a
    // blocked instance, committed meanwhile).
    let signer_person = actor.is_left();
    // Signed by its actor: now its claims are the actor's, and a false one is forged.
    check_object_on_actor_host(envelope.id.as_str(), envelope.actor.as_str())
        .map_err(|rule| Answer::Forged(rule.rule()))?;
    let activity: InboxActivity = serde_json::from_value(raw.clone())
        .map_err(|e| Answer::Refused(StatusCode::BAD_REQUEST, format!("malformed {kind}: {e}")))?;
    // Checks and fetches (HTTP with no connection held; short reads, each within the
    // federation's share of the pool).
    let prepared = activity
        .prepare(&data, actor)
        .await
        .map_err(Answer::from_error)?;
    // One transaction, within the federation's share of the pool (a bounded wait, else
    // 503): the record of the id, the effect, and the relay of a group of ours commit
    // together or not at all.
    let data = &data;
    let (id, actor_id, raw) = (&envelope.id, &envelope.actor, &raw);
    // Whose activity a group's Announce carries: a person banned here is filtered there too.
    let announced_actor = announced_actor(&envelope.kind, raw);
    let announced_actor = &announced_actor;
    let host = host.as_str();
    let received = data
        .db
        .transaction(|conn| {
            async move {
                // The signer's host again, read here: the check before the fetches used a
                // verdict this process may have read seconds ago, so a block committed since
                // would let this activity in, whatever its kind. First, so that a blocked
                // host is answered alike however old that verdict was. And the people of a
                // blocked instance include those its handles name, their actor served from
                // elsewhere (Mastodon's `LOCAL_DOMAIN` / `WEB_DOMAIN`). Then the bans of the
                // signer and of the person a group's Announce carries.
                let ctx = &data.ctx;
                let signer = signer_person.then_some(actor_id.as_str());
                let kept_out = instance_moderation::activity_kept_out(
                    conn,
                    ctx,
                    host,
                    actor_id.as_str(),
                    signer,
                    announced_actor.as_deref(),
                )
                .await?;
                match kept_out {
                    None => {}
                    Some(KeptOut::Sender(SenderBlocked::ActorHost(host))) => {
                        tracing::info!(actor = %actor_id, %host, "activity of an instance found blocked in its transaction");
                        return Ok(Received::Blocked(host));
                    }
                    Some(KeptOut::Sender(SenderBlocked::HandleHost(host))) => {
                        tracing::info!(actor = %actor_id, %host, "activity of a person whose handle names a blocked instance");
                        return Ok(Received::Ignored("blocked_instance"));
                    }
                    Some(KeptOut::SenderBanned(ban)) => {
                        tracing::info!(actor = %actor_id, reason = %ban.reason, "activity of a person banned from this instance");
                        return Ok(Received::Ignored("banned_from_instance"));
                    }
                    Some(KeptOut::AnnouncedBlocked(host)) => {
                        tracing::info!(actor = %announced_actor.as_deref().unwrap_or_default(), group = %actor_id, %host, "announced activity of a person of a blocked instance");
                        return Ok(Received::Ignored("blocked_instance"));
                    }
                    Some(KeptOut::AnnouncedBanned(ban)) => {
                        tracing::info!(actor = %announced_actor.as_deref().unwrap_or_default(), group = %actor_id, reason = %ban.reason, "announced activity of a person banned from this instance");
                        return Ok(Received::Ignored("banned_from_instance"));
                    }
                }
                if !federation::record_received(conn, id.as_str(), actor_id.as_str()).await? {
                    return Ok(Received::Duplicate);
                }
                Ok(match prepared.apply(conn, data).await? {
                    Outcome::AppliedInOurGroup {
                        group,
                        new_post,
                        also_inbox,
                    } => {
                        outgoing::relay_reaching(conn, data, &group, raw.clone(), also_inbox.as_deref())
                            .await?;
                        if let Some(post) = new_post {
                            outgoing::announce_page(conn, data, &group, &post).await?;
                        }
                        Received::Applied
                    }
                    Outcome::HeldForApproval { post_id } => {
                        approval::keep_held_activity(conn, post_id, &raw.to_string()).await?;
                        Received::Applied
                    }
                    Outcome::Applied => Received::Applied,
                    Outcome::Ignored(why) => Received::Ignored(why),
                })
            }
            .scope_boxed()
        })
        .await
        .map_err(|e| Answer::from_error(e.into()))?;
    // A host found blocked is not one we keep count of.
    if !matches!(received, Received::Blocked(_)) {
        crate::http_client::note_alive(&data.db, host).await;
    }
    Ok(received)
}

/// The actor, once its key verifies the signature: from our store, or fetched. A failure
/// refetches the actor once (it may have rotated its key) before refusing.
async fn verified_signer(
    data: &FedRequest,
    actor_id: &Url,
    params: &SignatureParams,
    parts: &Parts,
    path: &str,
) -> Result<ApubActor, Answer> {
    let local_host = cenacle_core::identity::local_host(&data.ctx.settings);
    let header = |name: &str| signatures::signed_header(&parts.headers, &local_host, name);
    let method = parts.method.as_str();
    let fetch = async |data: &FedRequest| -> Result<ApubActor, Answer> {
        use activitypub_federation::error::Error as F;
        ObjectId::<ApubActor>::from(actor_id.clone())
            .dereference(data)
            .await
            .map_err(|e| match e {
                ApubError::Core(core) if core.is_overloaded() => Answer::Overloaded,
                ApubError::Federation(e) if is_transient(&e) => Answer::Overloaded,
                ApubError::Federation(F::UrlVerificationError(why))
                    if why == crate::http_client::FAILED_VERIFYING =>
                {
                    Answer::Refused(StatusCode::INTERNAL_SERVER_ERROR, why.to_owned())
                }
                // Fetched, and refused by our rules: not a signature problem.
                e @ ApubError::RefusedActor(_) => Answer::Refused(e.status(), e.to_string()),
                // Its instance blocked since the check before: refused as that check does.
                ApubError::Federation(e) if crate::http_client::refused_as_blocked(&e) => {
                    Answer::Refused(StatusCode::FORBIDDEN, "instance blocked".to_owned())
                }
                e => unauthorized(&format!("the signer cannot be fetched: {e}")),
            })
    };
    let actor = fetch(data).await?;
    if signatures::verify(params, method, path, header, actor.public_key_pem()).is_ok() {
        return Ok(actor);
    }
    tracing::info!(actor = %actor_id, "signature failed; refetching the actor's key");
    if let Ok(mut conn) = data.db.conn().await {
        let _ = actors::mark_stale(&mut conn, actor_id.as_str()).await;
    }
    let actor = fetch(&data.reset_request_count()).await?;
    signatures::verify(params, method, path, header, actor.public_key_pem())
        .map_err(|e| unauthorized(&e))?;
    Ok(actor)
}

/// The actor of the activity an `Announce` carries, read as a URL, as the announced activity
/// is applied and people are stored (host in lower case, no default port): the raw text could
/// name them otherwise and miss their ban. None for another kind, or no readable actor.
fn announced_actor(kind: &str, raw: &serde_json::Value) -> Option<String> {
    if kind != "Announce" {
        return None;
    }
    let id = match &raw["object"]["actor"] {
        serde_json::Value::String(id) => Some(id.as_str()),
        actor => actor["id"].as_str(),
    }?;
    Url::parse(id).ok().map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hostile group writing a banned person's id otherwise (host in capitals, the default
    /// port) still names the person stored here, whose ban is then read.
    #[test]
    fn an_announced_actor_is_read_as_the_url_people_are_stored_under() {
        let raw = serde_json::json!({"object": {"actor": "https://OTHER.example:443/u/bob"}});
        assert_eq!(
            announced_actor("Announce", &raw).as_deref(),
            Some("https://other.example/u/bob")
        );
        let embedded =
            serde_json::json!({"object": {"actor": {"id": "https://other.example/u/bob"}}});
        assert_eq!(
            announced_actor("Announce", &embedded).as_deref(),
            Some("https://other.example/u/bob")
        );
        assert_eq!(announced_actor("Like", &raw), None);
    }

    fn status_of(err: CoreError) -> StatusCode {
        Answer::from_error(ApubError::Core(err)).status()
    }

    /// A transaction PostgreSQL rolled back for a concurrent one — a deadlock it broke (two
    /// moderators banning each other through the inbox: `block_races` in cenacle_core makes
    /// one and checks it is read as such), or a serialization failure — is answered 503 with
    /// `Retry-After`: nothing was recorded, and the same activity sent again may well go
    /// through. Another database failure stays ours to report: 500.
    #[test]
    fn a_transaction_broken_by_a_concurrent_one_asks_the_peer_to_send_again() {
        use cenacle_core::model::DbError;
        use diesel::result::{DatabaseErrorKind, Error};
        let failed = |kind, message: &str| {
            let info = Box::new(message.to_owned());
            CoreError::Database(DbError::Query(Error::DatabaseError(kind, info)))
        };
        // PostgreSQL's words (every pooled connection speaks English); the driver reports a
        // deadlock (40P01) with no kind of its own.
        let broken = [
            failed(DatabaseErrorKind::Unknown, "deadlock detected"),
            failed(
                DatabaseErrorKind::SerializationFailure,
                "could not serialize access due to concurrent update",
            ),
        ];
        for err in broken {
            let why = err.to_string();
            let response = respond("Block", Answer::from_error(ApubError::Core(err)));
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{why}");
            let retry_after = response.headers().get(header::RETRY_AFTER);
            assert_eq!(
                retry_after.and_then(|v| v.to_str().ok()),
                Some(RETRY_AFTER_SECS.to_string().as_str()),
                "{why}"
            );
        }
        assert_eq!(
            status_of(failed(DatabaseErrorKind::UniqueViolation, "duplicate key")),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn metric_labels_stay_few() {
        assert_eq!(metric_label("Like"), "Like");
        assert_eq!(metric_label("Resolve"), "Resolve", "a report's resolution");
        assert_eq!(metric_label("<script>1</script>"), "other");
    }
    use cenacle_domain::{origin::Forgery, ValidationError};

    #[test]
    fn refusals_by_our_rules_are_acknowledged_and_forgeries_are_refused() {
        assert_eq!(
            status_of(CoreError::NotAllowed("dislikes_disabled")),
            StatusCode::ACCEPTED
        );
        assert_eq!(status_of(CoreError::NotFound("post")), StatusCode::ACCEPTED);
        assert_eq!(
            status_of(CoreError::Forged(Forgery::NotTheOrigin)),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status_of(CoreError::Validation(ValidationError {
                field: "body",
                code: "too_long"
            })),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status_of(CoreError::Database(
                cenacle_core::model::DbError::PoolTimeout
            )),
            StatusCode::SERVICE_UNAVAILABLE
        );
        // A block of the sender's instance being written past the verdict's bounded wait:
        // nothing recorded, the peer sends it again (`Retry-After`, set for every 503).
        assert_eq!(
            status_of(CoreError::Database(cenacle_core::model::DbError::LockBusy)),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            status_of(CoreError::Internal("boom".into())),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
