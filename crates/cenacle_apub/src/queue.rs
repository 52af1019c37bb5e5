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

/// A group of ours `Announce`s `activity` to the given inboxes only (not to its followers):
/// reports and their resolutions, for its moderators' instances, as Lemmy forwards them.
/// Built as JSON here: the `Announce` type lives with the activities that read announces,
/// which call this.
pub async fn announce_to(
    conn: &mut Conn,
    data: &FedData,
    group: &cenacle_core::model::Group,
    activity: &impl Serialize,
    inboxes: Vec<String>,
) -> Result<(), CoreError> {
    if inboxes.is_empty() {
        return Ok(());
    }
    let (to, cc) = crate::objects::content::audience_of(group);
    let group_url = Url::parse(&group.ap_id).map_err(|e| CoreError::Internal(e.to_string()))?;
    let id = crate::vocabulary::new_activity_id(data, "announce");
    let announce = serde_json::json!({
        "type": "Announce",
        "id": id,
        "actor": group_url,
        "object": activity,
        "to": to,
        "cc": cc,
    });
    send(conn, data, &id, &group_url, &announce, inboxes).await?;
    Ok(())
}
