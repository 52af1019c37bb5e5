//! Groups: the minimal set federation needs (create, read, edit). The groups issue extends it.

use crate::{accounts::Session, admin::require, identity, Context, CoreError};
use cenacle_db::{
    actors::{self, Group, NewLocalGroup},
    content, federation,
};
use cenacle_domain::{content::Visibility, validate_group_name, validate_group_text, Permission};
use diesel_async::AsyncConnection;

/// Outbox event kinds: what the federation side must announce.
pub const EVENT_GROUP_UPDATED: &str = "group_updated";

pub async fn create_group(
    ctx: &Context,
    session: &Session,
    name: &str,
    title: &str,
    description: &str,
    visibility: Visibility,
) -> Result<Group, CoreError> {
    require(session, Permission::ManageGroups)?;
    validate_group_name(name)?;
    validate_group_text(Some(title), Some(description))?;
    let identity = identity::group_identity(&ctx.settings, name).await?;
    let followers_url = format!("{}/followers", identity.ap_id);
    let new = NewLocalGroup {
        name,
        title: title.trim(),
        description,
        identity: &identity,
        followers_url: &followers_url,
        instance_host: &identity::local_host(&ctx.settings),
        created_by: session.account.person_id,
        visibility: visibility_str(visibility),
    };
    let mut conn = ctx.conn().await?;
    // The creator owns the group from the start.
    conn.transaction::<_, CoreError, _>(async |conn| {
        let group = actors::insert_local_group(conn, &new).await?;
        content::set_membership(conn, group.id, session.account.person_id, "owner").await?;
        Ok(group)
    })
    .await
}

fn visibility_str(v: Visibility) -> &'static str {
    match v {
        Visibility::Public => "public",
        Visibility::Restricted => "restricted",
        Visibility::Private => "private",
    }
}

pub async fn local_group(ctx: &Context, name: &str) -> Result<Group, CoreError> {
    let mut conn = ctx.conn().await?;
    actors::local_group_by_name(&mut conn, name)
        .await?
        .ok_or(CoreError::NotFound("group"))
}

/// The group a member posts in: a local one by name, or a remote one this instance knows
/// (resolved or followed) by `name@host`.
pub async fn group_by_name_or_handle(ctx: &Context, name: &str) -> Result<Group, CoreError> {
    match name.trim_start_matches('!').split_once('@') {
        Some((name, host)) if !host.eq_ignore_ascii_case(&identity::local_host(&ctx.settings)) => {
            let mut conn = ctx.conn().await?;
            actors::remote_group_by_handle(&mut conn, name, &host.to_ascii_lowercase())
                .await?
                .ok_or(CoreError::NotFound("group"))
        }
        Some((name, _)) => local_group(ctx, name).await,
        None => local_group(ctx, name).await,
    }
}

/// Edits a local group's title or description; followers learn of it through an `Update`
/// that the outbox event (same transaction) turns into deliveries.
pub async fn update_group(
    ctx: &Context,
    session: &Session,
    name: &str,
    title: Option<&str>,
    description: Option<&str>,
) -> Result<Group, CoreError> {
    require(session, Permission::ManageGroups)?;
    validate_group_text(title, description)?;
    let group = local_group(ctx, name).await?;
    let title = title.map(str::trim);
    let mut conn = ctx.conn().await?;
    conn.transaction::<_, CoreError, _>(async |conn| {
        let updated = actors::update_group_text(conn, group.id, title, description)
            .await?
            .ok_or(CoreError::NotFound("group"))?;
        federation::insert_outbox_event(conn, EVENT_GROUP_UPDATED, group.id).await?;
        Ok(updated)
    })
    .await
}
