//! Group settings, groups on demand (proposals and backers), join requests and invitations.

use crate::{
    actors::Group,
    schema::{
        community_group, group_invitation, group_join_request, group_membership, group_proposal,
        group_proposal_backer, person,
    },
    DbError,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A change to a group's settings; `None` keeps a value.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = community_group)]
pub struct GroupChange {
    pub title: Option<String>,
    pub description: Option<String>,
    pub rules: Option<String>,
    pub tags: Option<Vec<String>>,
    pub avatar_url: Option<String>,
    pub banner_url: Option<String>,
    pub dislikes_enabled: Option<bool>,
    pub archived_at: Option<Option<DateTime<Utc>>>,
}

pub async fn update_group(
    conn: &mut AsyncPgConnection,
    id: i64,
    change: &GroupChange,
) -> Result<Group, DbError> {
    Ok(diesel::update(community_group::table.find(id))
        .set((change, community_group::updated_at.eq(diesel::dsl::now)))
        .returning(Group::as_returning())
        .get_result(conn)
        .await?)
}

/// Members and their roles, owners and moderators first.
pub async fn members(
    conn: &mut AsyncPgConnection,
    group_id: i64,
) -> Result<Vec<(i64, String, Option<String>, String)>, DbError> {
    Ok(group_membership::table
        .inner_join(person::table)
        .filter(group_membership::group_id.eq(group_id))
        .order((
            group_membership::role.desc(),
            group_membership::created_at.asc(),
        ))
        .select((
            person::id,
            person::username,
            person::instance_host,
            group_membership::role,
        ))
        .load(conn)
        .await?)
}

/// ActivityPub ids of a group's owners and moderators.
pub async fn moderator_ids(
    conn: &mut AsyncPgConnection,
    group_id: i64,
) -> Result<Vec<String>, DbError> {
    let ids: Vec<Option<String>> = group_membership::table
        .inner_join(person::table)
        .filter(group_membership::group_id.eq(group_id))
        .filter(group_membership::role.eq_any(["owner", "moderator"]))
        .order(group_membership::created_at.asc())
        .select(person::ap_id)
        .load(conn)
        .await?;
    Ok(ids.into_iter().flatten().collect())
}

/// Where to reach a group's moderators on other servers: one inbox per moderator (their
/// instance's shared inbox when it has one), none of ours.
pub async fn remote_moderator_inboxes(
    conn: &mut AsyncPgConnection,
    group_id: i64,
) -> Result<Vec<String>, DbError> {
    let rows: Vec<(Option<String>, Option<String>)> = group_membership::table
        .inner_join(person::table)
        .filter(group_membership::group_id.eq(group_id))
        .filter(group_membership::role.eq_any(["owner", "moderator"]))
        .filter(person::local.eq(false))
        .select((person::shared_inbox_url, person::inbox_url))
        .load(conn)
        .await?;
    let mut inboxes: Vec<String> = rows.into_iter().filter_map(|(s, i)| s.or(i)).collect();
    inboxes.sort();
    inboxes.dedup();
    Ok(inboxes)
}

/// Whether one of our own members moderates the group (owner or moderator).
pub async fn has_local_moderator(
    conn: &mut AsyncPgConnection,
    group_id: i64,
) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        group_membership::table
            .inner_join(person::table)
            .filter(group_membership::group_id.eq(group_id))
            .filter(group_membership::role.eq_any(["owner", "moderator"]))
            .filter(person::local.eq(true)),
    ))
    .get_result(conn)
    .await?)
}

// ---- proposals ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = group_proposal)]
pub struct Proposal {
    pub id: i64,
    pub name: String,
    pub title: String,
    pub purpose: String,
    pub proposer_id: i64,
    pub status: String,
    pub group_id: Option<i64>,
    pub decided_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

pub async fn insert_proposal(
    conn: &mut AsyncPgConnection,
    name: &str,
    title: &str,
    purpose: &str,
    proposer_id: i64,
) -> Result<Proposal, DbError> {
    Ok(diesel::insert_into(group_proposal::table)
        .values((
            group_proposal::name.eq(name),
            group_proposal::title.eq(title),
            group_proposal::purpose.eq(purpose),
            group_proposal::proposer_id.eq(proposer_id),
        ))
        .returning(Proposal::as_returning())
        .get_result(conn)
        .await?)
}

/// The proposal, locked for the rest of the transaction (backing and deciding serialise on it,
/// so the threshold creates the group exactly once).
pub async fn proposal_for_update(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> Result<Option<Proposal>, DbError> {
    Ok(group_proposal::table
        .find(id)
        .select(Proposal::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?)
}

pub async fn proposal(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<Proposal>, DbError> {
    Ok(group_proposal::table
        .find(id)
        .select(Proposal::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Open proposals first, most backed first.
pub async fn proposals(conn: &mut AsyncPgConnection) -> Result<Vec<(Proposal, i64)>, DbError> {
    let rows: Vec<Proposal> = group_proposal::table
        .order((
            group_proposal::status.eq("open").desc(),
            group_proposal::id.desc(),
        ))
        .select(Proposal::as_select())
        .limit(200)
        .load(conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for p in rows {
        let n = backer_count(conn, p.id).await?;
        out.push((p, n));
    }
    Ok(out)
}

/// Adds a backer (idempotent); returns the number of backers.
pub async fn back(
    conn: &mut AsyncPgConnection,
    proposal_id: i64,
    person_id: i64,
) -> Result<i64, DbError> {
    diesel::insert_into(group_proposal_backer::table)
        .values((
            group_proposal_backer::proposal_id.eq(proposal_id),
            group_proposal_backer::person_id.eq(person_id),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    backer_count(conn, proposal_id).await
}

pub async fn backer_count(conn: &mut AsyncPgConnection, proposal_id: i64) -> Result<i64, DbError> {
    Ok(group_proposal_backer::table
        .filter(group_proposal_backer::proposal_id.eq(proposal_id))
        .count()
        .get_result(conn)
        .await?)
}

pub async fn backers(conn: &mut AsyncPgConnection, proposal_id: i64) -> Result<Vec<i64>, DbError> {
    Ok(group_proposal_backer::table
        .filter(group_proposal_backer::proposal_id.eq(proposal_id))
        .select(group_proposal_backer::person_id)
        .load(conn)
        .await?)
}

pub async fn close_proposal(
    conn: &mut AsyncPgConnection,
    id: i64,
    status: &str,
    group_id: Option<i64>,
    decided_by: Option<i64>,
) -> Result<Proposal, DbError> {
    Ok(diesel::update(group_proposal::table.find(id))
        .set((
            group_proposal::status.eq(status),
            group_proposal::group_id.eq(group_id),
            group_proposal::decided_by.eq(decided_by),
            group_proposal::decided_at.eq(diesel::dsl::now),
        ))
        .returning(Proposal::as_returning())
        .get_result(conn)
        .await?)
}

// ---- join requests and invitations ----

pub async fn request_to_join(
    conn: &mut AsyncPgConnection,
    group_id: i64,
    person_id: i64,
    message: Option<&str>,
) -> Result<(), DbError> {
    diesel::insert_into(group_join_request::table)
        .values((
            group_join_request::group_id.eq(group_id),
            group_join_request::person_id.eq(person_id),
            group_join_request::message.eq(message),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

/// Pending requests: (person id, username, host, message).
pub async fn join_requests(
    conn: &mut AsyncPgConnection,
    group_id: i64,
) -> Result<Vec<(i64, String, Option<String>, Option<String>)>, DbError> {
    Ok(group_join_request::table
        .inner_join(person::table)
        .filter(group_join_request::group_id.eq(group_id))
        .order(group_join_request::created_at.asc())
        .select((
            person::id,
            person::username,
            person::instance_host,
            group_join_request::message,
        ))
        .load(conn)
        .await?)
}

/// Removes a request; false when there was none.
pub async fn take_join_request(
    conn: &mut AsyncPgConnection,
    group_id: i64,
    person_id: i64,
) -> Result<bool, DbError> {
    Ok(
        diesel::delete(group_join_request::table.find((group_id, person_id)))
            .execute(conn)
            .await?
            == 1,
    )
}

pub async fn invite(
    conn: &mut AsyncPgConnection,
    group_id: i64,
    person_id: i64,
    invited_by: Option<i64>,
) -> Result<(), DbError> {
    diesel::insert_into(group_invitation::table)
        .values((
            group_invitation::group_id.eq(group_id),
            group_invitation::person_id.eq(person_id),
            group_invitation::invited_by.eq(invited_by),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

/// Uses an invitation; false when there was none.
pub async fn take_invitation(
    conn: &mut AsyncPgConnection,
    group_id: i64,
    person_id: i64,
) -> Result<bool, DbError> {
    Ok(
        diesel::delete(group_invitation::table.find((group_id, person_id)))
            .execute(conn)
            .await?
            == 1,
    )
}

/// Groups the person is invited to: (group id, name, title).
pub async fn invitations_of(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<Vec<(i64, String, String)>, DbError> {
    Ok(group_invitation::table
        .inner_join(community_group::table)
        .filter(group_invitation::person_id.eq(person_id))
        .select((
            community_group::id,
            community_group::name,
            community_group::title,
        ))
        .load(conn)
        .await?)
}
