//! The moderation log: every moderation action recorded in the transaction that takes it,
//! and read back, public, per group and instance-wide.
//!
//! Whoever takes an action (the API, the inbox applying a remote moderator's activity, an
//! admin) calls [`record`] on the caller's connection, so the action and its log entry
//! commit together. The log is public (a community sees how it is moderated): reasons are
//! shown; moderators' names unless `moderation.show_moderator_names` is off; a private
//! group's log only to those who may read the group.

use crate::{
    access::{require_readable, Reader},
    groups, Conn, Context, CoreError,
};
pub use cenacle_db::moderation_log::LoggedAction;
use cenacle_db::moderation_log::{self as store, NewModerationAction};
use cenacle_domain::moderation::{check_reason, ModAction};
use chrono::{DateTime, Utc};

/// One action to log. Leave out what it does not concern (`..Default::default()`).
#[derive(Debug, Clone, Default)]
pub struct NewModAction {
    /// The group it was taken in; `None` for an instance-wide action.
    pub group_id: Option<i64>,
    /// Who took it (local or remote person); `None` when the instance did (an expiry).
    pub moderator_id: Option<i64>,
    pub action: Option<ModAction>,
    pub target_person_id: Option<i64>,
    pub target_post_id: Option<i64>,
    pub target_comment_id: Option<i64>,
    /// An instance's host, for actions on a whole instance.
    pub target_instance: Option<String>,
    pub reason: String,
    pub expires_at: Option<DateTime<Utc>>,
    /// The activity that carried it (ours or a peer's): the same activity is logged once.
    pub ap_id: Option<String>,
}

impl NewModAction {
    pub fn new(action: ModAction) -> Self {
        Self {
            action: Some(action),
            ..Default::default()
        }
    }
}

/// Appends `entry` to the log in the caller's transaction. Returns its id, or `None` when
/// the activity that carried it was already logged (a replay or a second relay).
pub async fn record(conn: &mut Conn, entry: NewModAction) -> Result<Option<i64>, CoreError> {
    let action = entry
        .action
        .ok_or_else(|| CoreError::Internal("a moderation log entry without an action".into()))?;
    let reason = check_reason(&entry.reason)?;
    Ok(store::insert(
        conn,
        &NewModerationAction {
            group_id: entry.group_id,
            moderator_id: entry.moderator_id,
            action: action.as_str().to_owned(),
            target_person_id: entry.target_person_id,
            target_post_id: entry.target_post_id,
            target_comment_id: entry.target_comment_id,
            target_instance: entry.target_instance,
            reason,
            expires_at: entry.expires_at,
            ap_id: entry.ap_id,
        },
    )
    .await?)
}

/// A group's log (local group by name, or a remote one we know by `name@host`), for anyone
/// who may read the group: entries before `before` (an entry id; `None`: from the newest),
/// newest first, at most `limit`.
pub async fn group_log(
    conn: &mut Conn,
    ctx: &Context,
    reader: Reader<'_>,
    group: &str,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<LoggedAction>, CoreError> {
    let group = groups::group_by_name_or_handle(conn, ctx, group).await?;
    require_readable(conn, &group, reader, "group").await?;
    let entries = store::for_group(conn, group.id, before, limit).await?;
    Ok(shown(ctx, entries))
}

/// The instance-wide log (bans from the instance, blocked, limited and allowed instances), as
/// [`group_log`] pages it.
pub async fn instance_log(
    conn: &mut Conn,
    ctx: &Context,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<LoggedAction>, CoreError> {
    let entries = store::for_instance(conn, before, limit).await?;
    Ok(shown(ctx, entries))
}

/// The entries as the public may see them: without moderators' names when the instance
/// hides them (some moderators are harassed for what they remove).
fn shown(ctx: &Context, mut entries: Vec<LoggedAction>) -> Vec<LoggedAction> {
    if !ctx.settings.moderation.show_moderator_names {
        for entry in &mut entries {
            entry.moderator = None;
        }
    }
    entries
}
