//! Queueing an activity for delivery, in the caller's transaction: it leaves if and only if
//! the change that caused it commits.

use crate::{context::with_context, FedData};
use cenacle_core::{federation, Conn, CoreError};
use serde::Serialize;
use url::Url;

/// Queues `activity`, signed by the local actor `signer`, to each inbox (deduplicated; our
/// own inboxes skipped). Returns the deliveries queued.
pub async fn send<T: Serialize>(
    conn: &mut Conn,
    data: &FedData,
    activity_id: &Url,
    signer: &Url,
    activity: &T,
    inboxes: impl IntoIterator<Item = String>,
) -> Result<usize, CoreError> {
    let body = serde_json::to_string(&with_context(activity))
        .map_err(|e| CoreError::Internal(e.to_string()))?;
    federation::queue_activity(
        conn,
        &data.ctx,
        activity_id.as_str(),
        signer.as_str(),
        &body,
        inboxes,
    )
    .await
}
