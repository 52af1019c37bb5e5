//! Queueing activities for delivery. Callers pass the connection of their transaction, so the
//! activity is queued if and only if the change that caused it commits.

use crate::{context::with_context, http_client::host_of, ApubError, FedData};
use activitypub_federation::config::Data;
use cenacle_db::federation;
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use url::Url;

/// Queues `activity`, signed by the local actor `signer`, to each inbox (deduplicated; our own
/// inboxes skipped). Returns the deliveries queued.
pub async fn enqueue<T: Serialize>(
    conn: &mut AsyncPgConnection,
    data: &Data<FedData>,
    activity_id: &Url,
    signer: &Url,
    activity: &T,
    inboxes: Vec<Url>,
) -> Result<usize, ApubError> {
    let body = serde_json::to_string(&with_context(activity))
        .map_err(|e| ApubError::Internal(e.to_string()))?;
    let mut targets: Vec<(String, String)> = inboxes
        .into_iter()
        .filter(|inbox| !data.is_local(inbox))
        .map(|inbox| (inbox.to_string(), host_of(&inbox)))
        .collect();
    targets.sort();
    targets.dedup();
    if targets.is_empty() {
        return Ok(0);
    }
    Ok(
        federation::enqueue_activity(conn, activity_id.as_str(), signer.as_str(), &body, &targets)
            .await?,
    )
}
