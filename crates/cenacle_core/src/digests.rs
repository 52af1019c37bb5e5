//! Daily and weekly digests: at `email.digest_hour` of each member's local time (weekly ones
//! on Mondays), a member who set some notification kind to `email_daily`/`email_weekly` gets
//! those notifications gathered since the last digest, with the new answers in their groups,
//! the unanswered questions matching their tags and the top ideas of the period. Run by the
//! server's periodic task with its clock (tests pass their own).
//!
//! Local time is in the member's time zone (an IANA name, or the instance's
//! `email.default_time_zone`), read with PostgreSQL's tz database rather than a bundled one:
//! the server already carries it, and the database it runs on is the one that knows which
//! names exist. So a local 08:00 stays 08:00 through summer time.
//!
//! Each member's period is claimed under a row lock before anything is queued, in the caller's
//! transaction: a second run in the same period, at once or on another server, sends nothing.
//! A member seen for the first time starts from the current period (no digest yet: nothing
//! tells when their last one would have been). Empty digests are not sent.

use crate::{
    mail::{enqueue_mail_about, link_base, MailTopic},
    notification_mails::{notice_link, notice_text},
    notifications, Caller, Conn, Context, CoreError,
};
use cenacle_db::{
    accounts as account_store,
    digests::{self as store, Claim, DigestPost},
    notifications as notification_store,
};
use cenacle_domain::{
    digest::{
        digest_mail, latest_local_slot, offered_time_zone, valid_time_zone_name, Cadence,
        DigestContent,
    },
    notification_mail::what_happened,
    notifications::{Delivery, Kind},
    Language, ValidationError,
};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Members handled per query page.
const PAGE: i64 = 200;
/// At most this many lines per section.
const SECTION: i64 = 10;

/// Sends every digest due at `now`; how many were queued.
pub async fn send_due_digests(
    conn: &mut Conn,
    ctx: &Context,
    now: DateTime<Utc>,
) -> Result<usize, CoreError> {
    let settings = &ctx.settings.email;
    let forgotten = store::forgotten_time_zones(conn).await?;
    if !forgotten.is_empty() {
        tracing::warn!(
            zones = ?forgotten,
            "members' time zones PostgreSQL no longer knows: their digests go by email.default_time_zone"
        );
    }
    let mut sent = 0;
    for cadence in Cadence::ALL {
        let mut after = 0;
        loop {
            let page = store::subscribers(
                conn,
                cadence.delivery(),
                after,
                PAGE,
                now,
                &settings.default_time_zone,
                &forgotten,
            )
            .await?;
            let Some(last) = page.last() else { break };
            after = last.person_id;
            for member in page {
                // On the member's wall clock; the claim makes the slot an instant in their
                // zone, with that day's offset.
                let slot = latest_local_slot(member.local_now, settings.digest_hour, cadence);
                let claim = store::claim(
                    conn,
                    member.person_id,
                    cadence.as_str(),
                    slot,
                    &member.time_zone,
                )
                .await?;
                if let Claim::Owed { since } = claim {
                    if send_one(conn, ctx, member.person_id, cadence, since).await? {
                        sent += 1;
                    }
                }
            }
        }
    }
    Ok(sent)
}

/// [`send_due_digests`] now: what the server's periodic task runs.
pub async fn send_digests_now(conn: &mut Conn, ctx: &Context) -> Result<usize, CoreError> {
    send_due_digests(conn, ctx, Utc::now()).await
}

async fn send_one(
    conn: &mut Conn,
    ctx: &Context,
    person: i64,
    cadence: Cadence,
    since: DateTime<Utc>,
) -> Result<bool, CoreError> {
    let Some(account) = account_store::find_by_id(conn, person).await? else {
        return Ok(false);
    };
    let notices =
        notification_store::claim_for_digest(conn, person, cadence.as_str(), SECTION * 5).await?;
    let ids: Vec<i64> = notices.iter().map(|n| n.id).collect();
    notification_store::clear_mail_due(conn, &ids).await?;
    let new_answers = store::new_answers(conn, person, since, SECTION).await?;
    let unanswered = store::unanswered(conn, person, since, SECTION).await?;
    let top_ideas = store::top_ideas(conn, person, since, SECTION).await?;
    // The notices it shows: a notification with nothing to say (of content taken down since,
    // or of a kind unknown) shows none, and is not told of.
    let shown: Vec<_> = notices
        .iter()
        .filter_map(|n| Some((n, notice_text(n)?)))
        .collect();
    let base = link_base(ctx);
    let post_link = |p: &DigestPost| format!("{base}/posts/{}", p.id);
    let write = |language: Language| DigestContent {
        notifications: shown
            .iter()
            .map(|(n, text)| (what_happened(language, text), notice_link(ctx, n)))
            .collect(),
        new_answers: new_answers
            .iter()
            .map(|p| (new_answers_line(language, &p.title, p.n), post_link(p)))
            .collect(),
        unanswered: unanswered
            .iter()
            .map(|p| (p.title.clone(), post_link(p)))
            .collect(),
        top_ideas: top_ideas
            .iter()
            .map(|p| (likes_line(language, &p.title, p.n), post_link(p)))
            .collect(),
    };
    let content = write(account.language);
    if content.is_empty() {
        return Ok(false);
    }
    let instance = &ctx.settings.server.instance_name;
    // Its cadence named, and what it quotes: an admin's retry of it parked asks whether the
    // member still gets digests of this cadence, whether this one is still this period's,
    // whether every post of its sections may still be in a digest of theirs, and whether
    // every notification its notices tell of still shows them what it showed, as a parked
    // notification mail is asked (a private group left, a post removed by a moderator since
    // the news: its title, or a contest's, must not be mailed days later).
    let posts = section_posts([&new_answers, &unanswered, &top_ideas]);
    let told: Vec<i64> = shown.iter().map(|(n, _)| n.id).collect();
    let topic = MailTopic::Digest {
        cadence,
        posts: &posts,
        notifications: &told,
    };
    enqueue_mail_about(conn, ctx, person, topic, |language| {
        let content = if language == account.language {
            content
        } else {
            write(language)
        };
        digest_mail(language, instance, &account.username, cadence, &content)
    })
    .await
}

/// The posts whose titles the `sections` of a digest show, each once. (What its notices
/// show, the titles of posts and contests, is asked through their notifications.)
fn section_posts(sections: [&[DigestPost]; 3]) -> Vec<i64> {
    let mut posts: Vec<i64> = sections
        .iter()
        .flat_map(|section| section.iter().map(|p| p.id))
        .collect();
    posts.sort_unstable();
    posts.dedup();
    posts
}

/// "“Title”: 2 new answers", with the plural of the language (French counts 0 and 1 as
/// singular) and its typography (non-breaking spaces inside guillemets and before the colon).
fn new_answers_line(language: Language, title: &str, n: i64) -> String {
    match language {
        Language::Fr if n > 1 => format!("«\u{a0}{title}\u{a0}»\u{a0}: {n} nouvelles réponses"),
        Language::Fr => format!("«\u{a0}{title}\u{a0}»\u{a0}: {n} nouvelle réponse"),
        Language::En if n == 1 => format!("“{title}”: 1 new answer"),
        Language::En => format!("“{title}”: {n} new answers"),
    }
}

/// "“Idea” (3 likes)"; French's « j’aime » does not take the plural.
fn likes_line(language: Language, title: &str, n: i64) -> String {
    match language {
        Language::Fr => format!("«\u{a0}{title}\u{a0}» ({n}\u{a0}j’aime)"),
        Language::En if n == 1 => format!("“{title}” (1 like)"),
        Language::En => format!("“{title}” ({n} likes)"),
    }
}

/// What the account page and the API show of a member's notification settings: each kind's
/// delivery, and the time zone their digests go by (None: the instance's default).
#[derive(Debug, Clone)]
pub struct NotificationSettings {
    pub preferences: Vec<(Kind, Delivery)>,
    pub time_zone: Option<String>,
}

/// The caller's notification settings.
pub async fn settings(conn: &mut Conn, caller: &Caller) -> Result<NotificationSettings, CoreError> {
    Ok(NotificationSettings {
        preferences: notifications::preferences(conn, caller).await?,
        time_zone: store::time_zone(conn, caller.person_id).await?,
    })
}

/// Saves the caller's notification settings, from the API and the account page alike: the
/// kinds' deliveries given (the others unchanged) and, when `time_zone` is given, their time
/// zone (`Some(None)`: back to the instance's default). A zone must be one PostgreSQL knows,
/// spelled as it does (`unknown_time_zone` otherwise); nothing is stored unless all is valid
/// (the caller's transaction is rolled back on a refusal). Returns the settings saved.
pub async fn save_settings(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    changes: &[(String, String)],
    time_zone: Option<Option<&str>>,
) -> Result<NotificationSettings, CoreError> {
    if let Some(zone) = time_zone {
        if let Some(name) = zone {
            if !time_zone_known(conn, ctx, name).await? {
                return Err(ValidationError {
                    field: "time_zone",
                    code: "unknown_time_zone",
                }
                .into());
            }
        }
        store::set_time_zone(conn, caller.person_id, zone).await?;
    }
    notifications::set_preferences(conn, caller, changes).await?;
    settings(conn, caller).await
}

/// Every zone name PostgreSQL's tz database has, sorted, read from `pg_timezone_names` the
/// first time they are needed (when the server starts, by [`check_default_time_zone`]) and
/// then kept in the context for the life of the process: a read costs about 40 ms, which
/// the account page and each save of the preferences paid. What this costs: a zone a tzdata
/// upgrade adds while the server runs (PostgreSQL built on the system's tzdata sees it at
/// once) can be chosen only after the server's next start. tzdata keeps a renamed zone's old
/// name as an alias, so a kept name does not go stale; should one disappear all the same,
/// the digest run still asks PostgreSQL ([`store::forgotten_time_zones`]) before naming one
/// in a query. An empty read is an error, not a list to keep: a server whose PostgreSQL
/// answered no zone at all would otherwise refuse every member's zone until its restart.
async fn known_time_zones(conn: &mut Conn, ctx: &Context) -> Result<Arc<Vec<String>>, CoreError> {
    let names = ctx
        .time_zones
        .get_or_try_init(|| async {
            let mut names = store::time_zone_names(conn).await?;
            if names.is_empty() {
                return Err(CoreError::Internal(
                    "pg_timezone_names listed no time zone".into(),
                ));
            }
            // Rust's order, whatever the query's: the lookups below search it.
            names.sort_unstable();
            Ok::<_, CoreError>(Arc::new(names))
        })
        .await?;
    Ok(Arc::clone(names))
}

/// Whether `name` is a zone a member or the instance may choose: of a zone name's shape,
/// and known to PostgreSQL's tz database under exactly that spelling (its spelling, not
/// `AT TIME ZONE`'s case-blind reading, so the stored name is the canonical one).
async fn time_zone_known(conn: &mut Conn, ctx: &Context, name: &str) -> Result<bool, CoreError> {
    if !valid_time_zone_name(name) {
        return Ok(false);
    }
    let names = known_time_zones(conn, ctx).await?;
    Ok(names.binary_search_by(|n| n.as_str().cmp(name)).is_ok())
}

/// The zones the account page offers, sorted: the geographic `Area/City` names and `UTC`
/// (see [`offered_time_zone`]), and `current` (a member's carried-over `Etc/GMT-1`, or a
/// refused name kept as typed) wherever it is not among them.
pub async fn time_zone_choices(
    conn: &mut Conn,
    ctx: &Context,
    current: Option<&str>,
) -> Result<Vec<String>, CoreError> {
    let mut names: Vec<String> = known_time_zones(conn, ctx)
        .await?
        .iter()
        .filter(|n| offered_time_zone(n))
        .cloned()
        .collect();
    if let Some(current) = current.filter(|c| !names.iter().any(|n| n == c)) {
        names.push(current.to_owned());
        names.sort();
    }
    Ok(names)
}

/// Refuses an `email.default_time_zone` PostgreSQL does not know, naming the key: run when the
/// server starts (the configuration is read before a database is reached), so that a typo
/// stops it rather than every member's digest failing later.
pub async fn check_default_time_zone(conn: &mut Conn, ctx: &Context) -> Result<(), String> {
    let name = &ctx.settings.email.default_time_zone;
    match time_zone_known(conn, ctx, name).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!(
            "email.default_time_zone: PostgreSQL knows no time zone named `{name}` \
             (a name such as \"Europe/Paris\" or \"UTC\"; `SELECT name FROM pg_timezone_names` lists them)"
        )),
        Err(e) => Err(format!("email.default_time_zone: could not check `{name}`: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_lines_say_one_or_many_in_each_language() {
        assert_eq!(new_answers_line(Language::En, "T", 1), "“T”: 1 new answer");
        assert_eq!(new_answers_line(Language::En, "T", 2), "“T”: 2 new answers");
        assert_eq!(
            new_answers_line(Language::Fr, "T", 1),
            "«\u{a0}T\u{a0}»\u{a0}: 1 nouvelle réponse"
        );
        assert_eq!(
            new_answers_line(Language::Fr, "T", 3),
            "«\u{a0}T\u{a0}»\u{a0}: 3 nouvelles réponses"
        );
        assert_eq!(likes_line(Language::En, "I", 1), "“I” (1 like)");
        assert_eq!(likes_line(Language::En, "I", 4), "“I” (4 likes)");
        assert_eq!(
            likes_line(Language::Fr, "I", 4),
            "«\u{a0}I\u{a0}» (4\u{a0}j’aime)"
        );
    }
}
