//! People of other servers a member names (`@name@host`) whom this instance has not met yet:
//! looked up with WebFinger while publishing, before the text is stored, as Mastodon does.
//! A `Page` or `Note` tags, and a public group's text reaches, only people stored here
//! (`published::mentioned_people`), so without this a first mention would reach no one.
//!
//! Looking someone up tells their server that someone here named them: never for a private
//! group's text, which tags no one (see `objects::content::tag_mentioned`).
//!
//! The lookups run before the use case that stores the text (a fetch must not hold a pooled
//! connection), so before it checks that the member may publish there: any signed-in member
//! can make this server ask others. [`MentionLookups`](crate::mention_lookups::MentionLookups)
//! bounds what that costs, instance-wide: a few lookups at once, none waiting longer than its
//! text, texts naming the same person at the same time share one lookup, and a name its
//! server could not give (unknown, down, refused) is not asked for again for ten minutes; a
//! lookup our own database failed is.
//!
//! Someone stored under a split-domain handle (`alice@example.org`, actor at
//! `social.example.org`: `person.handle_host`) is named by it on the word two servers gave at
//! one time. Once that is
//! [`HANDLE_HOST_BELIEVED_FOR`](crate::webfinger_lookup::HANDLE_HOST_BELIEVED_FOR) old, a text
//! naming the handle looks it up again, as it would a stranger's, and waits for it the same
//! way: what the servers now say decides whom the text tags (`webfinger_lookup` dates the
//! handle anew, moves it to another actor, or takes it back). A server that could not be
//! asked leaves the person tagged as before, and is not asked again for ten minutes.

use crate::mention_lookups::Lookup;
use crate::webfinger_lookup::{find_by_handle, handle_host_due, LookupFailure};
use crate::{http_client::REQUEST_TIMEOUT, objects::person::ApubPerson, Federation};
use activitypub_federation::traits::Object;
use cenacle_core::{
    access, groups, identity,
    model::{Group, PersonActor},
    people, published, Context, CoreError,
};
use cenacle_domain::{
    content::Visibility,
    mentions::{mentioned_handles, BareNames},
};
use chrono::{DateTime, Utc};
use std::time::Instant;

/// Where a member's text is published: what tells whether its group is private.
#[derive(Clone, Copy)]
pub enum WrittenIn<'a> {
    /// A group already read.
    Group(&'a Group),
    /// A group by name, or by `name@host` for one elsewhere, as a member posts in it.
    GroupNamed(&'a str),
    /// A comment or an answer on this post, or an edit of the post.
    Post(i64),
    /// An edit of this comment.
    Comment(i64),
}

/// Meets the people of other servers that `texts` (a text's parts, as its `Page` or `Note`
/// reads them: a post's title, then its body) name and this instance has not stored (or
/// stored under a handle host due for a re-check), so that the text about to be stored tags
/// them. Written here: a bare `@name` is one of our members.
///
/// Call it before the transaction that stores the text: it fetches, and a fetch must not hold
/// a pooled connection. It never fails: someone who cannot be found (unknown, a group, a host
/// refused, down or too slow) is left out, logged, and the text is published all the same.
/// Those looked up are looked up together; it waits for them one fetch timeout at most (one
/// still looking then finishes on its own and is tagged next time). A text that names no one
/// elsewhere costs nothing: no query, no fetch.
pub async fn meet_mentioned(fed: &Federation, texts: &[&str], written_in: WrittenIn<'_>) {
    let data = fed.data();
    let our_host = identity::local_host(&data.ctx.settings);
    let elsewhere: Vec<String> = mentioned_handles(&texts.join("\n"), &our_host, BareNames::Ours)
        .into_iter()
        .filter_map(|h| Some(format!("{}@{}", h.name, h.host?)))
        .collect();
    if elsewhere.is_empty() {
        return;
    }
    let strangers = match strangers(&data.ctx, elsewhere, written_in).await {
        Ok(strangers) => strangers,
        Err(e) => {
            tracing::warn!(error = %e, "people named in a text not looked up");
            return;
        }
    };
    if strangers.is_empty() {
        return;
    }
    // Each in a task of its own: one the deadline leaves behind is not cut off in the middle
    // of storing the person (a transaction), and a lookup that panics fails alone.
    let lookups = strangers
        .into_iter()
        .map(|handle| tokio::spawn(meet(fed.clone(), handle)));
    match tokio::time::timeout(REQUEST_TIMEOUT, futures::future::join_all(lookups)).await {
        Ok(done) => {
            for e in done.into_iter().filter_map(Result::err) {
                tracing::info!(error = %e, "the lookup of a person named in a text failed");
            }
        }
        Err(_) => tracing::info!("people named in a text still looked up: published without them"),
    }
}

/// Of `handles` (`name@host`), those of people not stored here, and of people stored under
/// that handle's host whose confirmation is due; none for a text that will tag no one. Read
/// with one connection, given back before anything is fetched.
async fn strangers(
    ctx: &Context,
    handles: Vec<String>,
    written_in: WrittenIn<'_>,
) -> Result<Vec<String>, CoreError> {
    let mut conn = ctx.conn().await?;
    let mut strangers = Vec::new();
    let now = Utc::now();
    for handle in handles {
        match people::person_by_handle(&mut conn, ctx, &handle).await {
            Ok(person) if confirmation_due(&person, &handle, now) => strangers.push(handle),
            Ok(_) => {}
            Err(CoreError::NotFound(_)) => strangers.push(handle),
            Err(e) => return Err(e),
        }
    }
    // Read only when someone is to be looked up: most mentions name people met already.
    if strangers.is_empty() || !tags_people(&mut conn, ctx, written_in).await? {
        return Ok(Vec::new());
    }
    Ok(strangers)
}

/// Whether the text's group tags the people it names: not a private one. A group or post not
/// found tags no one (the text will not be published there).
async fn tags_people(
    conn: &mut cenacle_core::Conn,
    ctx: &Context,
    written_in: WrittenIn<'_>,
) -> Result<bool, CoreError> {
    let group = match written_in {
        WrittenIn::Group(group) => return Ok(access::visibility(group) != Visibility::Private),
        WrittenIn::GroupNamed(name) => {
            match groups::group_by_name_or_handle(conn, ctx, name).await {
                Err(CoreError::NotFound(_)) => None,
                found => Some(found?),
            }
        }
        WrittenIn::Post(id) => group_of_post(conn, id).await?,
        WrittenIn::Comment(id) => match published::comment_by_id(conn, id).await? {
            Some(comment) => group_of_post(conn, comment.post_id).await?,
            None => None,
        },
    };
    Ok(group.is_some_and(|g| access::visibility(&g) != Visibility::Private))
}

async fn group_of_post(
    conn: &mut cenacle_core::Conn,
    post_id: i64,
) -> Result<Option<Group>, CoreError> {
    // A post waiting for approval is not found: it is published, and tags, later.
    match published::post_by_id(conn, post_id).await? {
        Some(post) => cenacle_core::actors::group_by_id(conn, post.group_id).await,
        None => Ok(None),
    }
}

/// Whether `handle` (`name@host`) names `person` as texts name them (their actor's host, or
/// the host their handle was confirmed at).
fn named_by(person: &ApubPerson, handle: &str) -> bool {
    handle
        .rsplit_once('@')
        .is_some_and(|(name, host)| crate::webfinger_lookup::named_by(&person.row, name, host))
}

/// Whether `person`, found by `handle` (`name@host`), is named by it only through a handle
/// host whose confirmation is due: `host` is not their actor's.
fn confirmation_due(person: &PersonActor, handle: &str, now: DateTime<Utc>) -> bool {
    let host = handle
        .rsplit_once('@')
        .map(|(_, host)| host.to_ascii_lowercase());
    host.is_some() && person.instance_host != host && handle_host_due(person, now)
}

/// Whether `handle` names someone stored and not due for a re-check: another text's lookup
/// met them after this text read who it names. A failure to read says no (the lookup runs).
async fn met_meanwhile(ctx: &Context, handle: &str) -> bool {
    let Ok(mut conn) = ctx.conn().await else {
        return false;
    };
    people::person_by_handle(&mut conn, ctx, handle)
        .await
        .is_ok_and(|person| !confirmation_due(&person, handle, Utc::now()))
}

/// Looks `handle` (`name@host`) up with WebFinger and stores the person it names (through
/// [`ApubPerson`]'s `from_json`); a group or anything else found is left out.
async fn meet(fed: Federation, handle: String) {
    let data = fed.data();
    let lookups = &data.mention_lookups;
    if lookups.recently_not_found(&handle, Instant::now()) {
        tracing::debug!(%handle, "a person named in a text was not found lately: not asked again (tagged only if met before)");
        return;
    }
    // Another text naming them is looking them up: this one waits for that lookup (its text
    // is tagged with whoever it stores) rather than ask their server again; if that one got
    // no turn, this one tries for one.
    let leading = loop {
        match lookups.lead_or_join(&handle) {
            Lookup::Leads(leading) => break leading,
            Lookup::Joins(joined) => {
                tracing::debug!(%handle, "a person named in a text is being looked up already: waiting for that lookup");
                if joined.ended().await {
                    return;
                }
            }
        }
    };
    // No longer than the text waits for its lookups: one that gives up is not remembered (it
    // was not asked), and one text's name is asked for again by the next.
    let Some(_turn) = lookups.turn(REQUEST_TIMEOUT).await else {
        tracing::info!(%handle, "a person named in a text not looked up: too many lookups");
        return;
    };
    leading.asks();
    // Again: a lookup of the same name may have failed, or stored them, while this one waited
    // its turn (or just before it led).
    if lookups.recently_not_found(&handle, Instant::now())
        || met_meanwhile(&data.ctx, &handle).await
    {
        return;
    }
    match find_by_handle::<ApubPerson>(&handle, Some("Person"), &data).await {
        // Found under the handle host stored, which could not be confirmed again (the other
        // server down or too slow): tagged as before, and not asked again at each text.
        Ok(person)
            if named_by(&person, &handle) && confirmation_due(&person.row, &handle, Utc::now()) =>
        {
            lookups.remember_not_found(&handle, Instant::now());
            tracing::info!(%handle, id = %person.id(), "a handle's host not confirmed again: tagged as before")
        }
        Ok(person) if named_by(&person, &handle) => {
            tracing::debug!(%handle, id = %person.id(), "met a person named in a text")
        }
        // Their server points at an actor of another host that does not confirm the handle
        // (and whoever held it here no longer does): known as what they are, not under this
        // name, which each text would look up again.
        Ok(person) => {
            lookups.remember_not_found(&handle, Instant::now());
            tracing::info!(%handle, id = %person.id(), "a handle names someone known by another: not tagged")
        }
        // Our own failure says nothing about the name: the next text asks again.
        Err(LookupFailure::Ours(e)) => {
            tracing::warn!(%handle, error = %e, "a person named in a text not looked up: not tagged")
        }
        Err(LookupFailure::Peer(e)) => {
            lookups.remember_not_found(&handle, Instant::now());
            tracing::info!(%handle, error = %e, "a person named in a text not found: tagged only if met before")
        }
    }
}
