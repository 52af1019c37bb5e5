//! Queuing mails (in the caller's transaction), the workers' side of the queue, and the
//! signed one-click unsubscribe links.
//!
//! Mails are rendered when queued and handed to the SMTP server by a worker (`cenacle serve`
//! or `cenacle deliver`, see cenacle_server's `mailer`), with the delivery queue's rules:
//! leases, retries with backoff, parked after `email.max_attempts`.

use crate::{mail_rules::KindRules, secrets::new_secret, Conn, Context, CoreError};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use cenacle_db::{accounts as account_store, mail as store};
use cenacle_domain::{
    delivery::retry_delay,
    digest::Cadence,
    html::escape_html,
    mail::{MailContent, MailKind},
    notifications::Kind,
    AccountStatus, Language,
};
use chrono::{DateTime, Utc};
use openssl::{hash::MessageDigest, pkey::PKey, sign::Signer};

pub use cenacle_db::mail::{ClaimedMail, FailureRecorded, ParkedMail};

/// What a mail is about, where that may stop it being wanted before it is sent: the
/// notification of a notification mail (mailed at once as the member set its kind), the
/// cadence of a digest and what it quotes, the onboarding rule of a triggered mail. Stored
/// with the mail (`mail_queue.topic`, `notification_id`, `onboarding_rule_id`,
/// `quoted_post_ids`, `quoted_notification_ids`) so that a retry of it asks again what
/// decided it, an admin's of it parked (`admin::retry_parked_mails`) as a worker's after a
/// failed attempt ([`claim_mails`]): a notification mail or a digest cannot be queued without
/// it (see [`enqueue_mail`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailTopic<'a> {
    /// The member's preference for `kind` is asked again, and whether the notification still
    /// shows them what it is about (taken down since, or in a private group they left).
    Notification { kind: Kind, notification_id: i64 },
    /// Whether the member still gets digests of this cadence is asked again, whether the
    /// digest is younger than the cadence's period, whether each post its sections quote
    /// (`posts`) may still be in a digest of theirs, and whether each notification its
    /// notices tell of (`notifications`) still shows them what it showed, as a notification
    /// mail's is asked.
    Digest {
        cadence: Cadence,
        posts: &'a [i64],
        notifications: &'a [i64],
    },
    /// Whether the rule (`onboarding_rule.id`) is still enabled, and its stop condition, are
    /// asked again.
    OnboardingRule(i64),
}

impl MailTopic<'_> {
    /// The kind of mail it is.
    pub fn kind(self) -> MailKind {
        match self {
            MailTopic::Notification { .. } => MailKind::Notifications,
            MailTopic::Digest { .. } => MailKind::Digest,
            MailTopic::OnboardingRule(_) => MailKind::Onboarding,
        }
    }

    /// The stored word (`mail_queue.topic`): the notification kind's name, the cadence's;
    /// none for a triggered mail (its rule is named by id).
    pub fn word(self) -> Option<&'static str> {
        match self {
            MailTopic::Notification { kind, .. } => Some(kind.as_str()),
            MailTopic::Digest { cadence, .. } => Some(cadence.as_str()),
            MailTopic::OnboardingRule(_) => None,
        }
    }
}

/// Refuses a kind whose mails carry a [`MailTopic`] (notifications, digests) on a path that
/// has none: queued without it, the mail's preference could not be asked again on retry, and
/// a mail its member no longer wants would be sent weeks later. (Onboarding mails may go
/// without: the welcome is no rule's.)
fn without_topic(kind: MailKind) -> Result<(), CoreError> {
    if matches!(kind, MailKind::Notifications | MailKind::Digest) {
        return Err(CoreError::Internal(format!(
            "a mail of kind {} is queued with its topic (enqueue_mail_about)",
            kind.as_str()
        )));
    }
    Ok(())
}

/// Queues a mail of `kind` to the local account `person_id`, in the caller's transaction
/// (it is sent only if that commits). `compose` writes it in the member's language. Returns
/// whether a mail was queued: not when mail is off, the account has no address, or (for kinds
/// one may refuse) the member refused this kind, has not verified their address or is not an
/// active member (suspended, waiting for approval).
///
/// Kinds one may refuse get a `List-Unsubscribe` header and an unsubscribe link at the end.
/// A notification mail or a digest is refused here (an internal error): those are queued by
/// [`enqueue_mail_about`], with what decided them.
pub async fn enqueue_mail(
    conn: &mut Conn,
    ctx: &Context,
    person_id: i64,
    kind: MailKind,
    compose: impl FnOnce(Language) -> MailContent,
) -> Result<bool, CoreError> {
    without_topic(kind)?;
    enqueue(conn, ctx, person_id, kind, None, compose).await
}

/// [`enqueue_mail`] of a mail that a preference of the member, a notification or an
/// onboarding rule decided (a notification mail, a digest, a triggered mail), naming what it
/// is about, so that a retry of it asks again what decided it (`admin::retry_parked_mails`,
/// [`claim_mails`]).
pub async fn enqueue_mail_about(
    conn: &mut Conn,
    ctx: &Context,
    person_id: i64,
    topic: MailTopic<'_>,
    compose: impl FnOnce(Language) -> MailContent,
) -> Result<bool, CoreError> {
    let kind = topic.kind();
    enqueue(conn, ctx, person_id, kind, Some(topic), compose).await
}

async fn enqueue(
    conn: &mut Conn,
    ctx: &Context,
    person_id: i64,
    kind: MailKind,
    topic: Option<MailTopic<'_>>,
    compose: impl FnOnce(Language) -> MailContent,
) -> Result<bool, CoreError> {
    if !ctx.settings.email.enabled {
        return Ok(false);
    }
    let Some(account) = account_store::find_by_id(conn, person_id).await? else {
        return Ok(false);
    };
    let Some(address) = account.email.clone() else {
        return Ok(false);
    };
    // Only active members get the mails one may refuse: a suspended account is not told
    // about the community it may not enter, nor a registration not let in yet.
    if !kind.is_transactional()
        && (account.status != AccountStatus::Active
            || account.email_verified_at.is_none()
            || store::opted_out(conn, person_id, kind.as_str()).await?)
    {
        return Ok(false);
    }
    let content = compose(account.language);
    queue_to_about(
        conn,
        ctx,
        Some(person_id),
        &address,
        kind,
        content,
        account.language,
        topic,
    )
    .await?;
    Ok(true)
}

/// Queues a mail to `address` (which may not be the account's yet: a new address being
/// confirmed). Not a notification mail nor a digest (see [`enqueue_mail`]).
pub(crate) async fn queue_to(
    conn: &mut Conn,
    ctx: &Context,
    person_id: Option<i64>,
    address: &str,
    kind: MailKind,
    content: MailContent,
    language: Language,
) -> Result<(), CoreError> {
    without_topic(kind)?;
    queue_to_about(conn, ctx, person_id, address, kind, content, language, None).await
}

#[allow(clippy::too_many_arguments)]
async fn queue_to_about(
    conn: &mut Conn,
    ctx: &Context,
    person_id: Option<i64>,
    address: &str,
    kind: MailKind,
    mut content: MailContent,
    language: Language,
    topic: Option<MailTopic<'_>>,
) -> Result<(), CoreError> {
    if !ctx.settings.email.enabled {
        return Ok(());
    }
    let base = link_base(ctx);
    let mut unsubscribe_url = None;
    if let (Some(person_id), false) = (person_id, kind.is_transactional()) {
        let query = unsubscribe_query(conn, person_id, kind).await?;
        let page = format!("{base}/unsubscribe?{query}");
        let label = match language {
            Language::Fr => "Ne plus recevoir ce type de message",
            Language::En => "Stop receiving this kind of message",
        };
        content.text.push_str(&format!("{label}: {page}\n"));
        content.html = content.html.replace(
            "</body></html>",
            &format!(
                "<p><small><a href=\"{}\">{}</a></small></p>\n</body></html>",
                escape_html(&page),
                escape_html(label)
            ),
        );
        unsubscribe_url = Some(format!("{base}/api/v1/email/unsubscribe?{query}"));
    }
    let host = ctx
        .settings
        .server
        .public_url
        .host_str()
        .unwrap_or("localhost")
        .to_owned();
    let message_id = format!("<{}@{host}>", new_secret("mail."));
    store::insert_mail(
        conn,
        &store::NewMail {
            person_id,
            kind: kind.as_str(),
            to_address: address,
            subject: &content.subject,
            text_body: &content.text,
            html_body: &content.html,
            unsubscribe_url: unsubscribe_url.as_deref(),
            message_id: &message_id,
            topic: topic.and_then(MailTopic::word),
            notification_id: match topic {
                Some(MailTopic::Notification {
                    notification_id, ..
                }) => Some(notification_id),
                _ => None,
            },
            onboarding_rule_id: match topic {
                Some(MailTopic::OnboardingRule(rule)) => Some(rule),
                _ => None,
            },
            quoted_post_ids: match topic {
                Some(MailTopic::Digest { posts, .. }) => Some(posts),
                _ => None,
            },
            quoted_notification_ids: match topic {
                Some(MailTopic::Digest { notifications, .. }) => Some(notifications),
                _ => None,
            },
        },
    )
    .await?;
    Ok(())
}

/// Where links in mails point, without a trailing slash.
pub fn link_base(ctx: &Context) -> String {
    ctx.settings
        .email
        .link_base(&ctx.settings.server.public_url)
}

/// `p=…&k=…&s=…`: who, which kind, and the signature of both.
async fn unsubscribe_query(
    conn: &mut Conn,
    person_id: i64,
    kind: MailKind,
) -> Result<String, CoreError> {
    let signature = sign(&secret(conn).await?, person_id, kind.as_str())?;
    Ok(format!("p={person_id}&k={}&s={signature}", kind.as_str()))
}

async fn secret(conn: &mut Conn) -> Result<Vec<u8>, CoreError> {
    store::instance_secret(conn, "unsubscribe")
        .await?
        .ok_or_else(|| CoreError::Internal("the unsubscribe secret is missing".into()))
}

fn sign(secret: &[u8], person_id: i64, kind: &str) -> Result<String, CoreError> {
    let internal = |e: openssl::error::ErrorStack| CoreError::Internal(e.to_string());
    let key = PKey::hmac(secret).map_err(internal)?;
    let mut signer = Signer::new(MessageDigest::sha256(), &key).map_err(internal)?;
    signer
        .update(format!("unsubscribe:{person_id}:{kind}").as_bytes())
        .map_err(internal)?;
    Ok(URL_SAFE_NO_PAD.encode(signer.sign_to_vec().map_err(internal)?))
}

/// Follows a one-click unsubscribe link: the member stops receiving mails of `kind`. A link
/// whose signature does not match (or names a kind one cannot refuse) changes nothing.
pub async fn unsubscribe(
    conn: &mut Conn,
    person_id: i64,
    kind: &str,
    signature: &str,
) -> Result<MailKind, CoreError> {
    let kind = MailKind::parse(kind)
        .filter(|k| !k.is_transactional())
        .ok_or(CoreError::BadUnsubscribeLink)?;
    let expected = sign(&secret(conn).await?, person_id, kind.as_str())?;
    let matches = expected.len() == signature.len()
        && openssl::memcmp::eq(expected.as_bytes(), signature.as_bytes());
    if !matches || !store::opt_out(conn, person_id, kind.as_str()).await? {
        return Err(CoreError::BadUnsubscribeLink);
    }
    Ok(kind)
}

/// The kinds of mail the member refused.
pub async fn opted_out_kinds(conn: &mut Conn, person_id: i64) -> Result<Vec<MailKind>, CoreError> {
    Ok(store::opt_outs(conn, person_id)
        .await?
        .iter()
        .filter_map(|k| MailKind::parse(k))
        .collect())
}

/// Sets whether the member receives mails of `kind` (transactional kinds cannot be refused).
pub async fn set_mail_preference(
    conn: &mut Conn,
    person_id: i64,
    kind: MailKind,
    receive: bool,
) -> Result<(), CoreError> {
    if kind.is_transactional() {
        return Err(CoreError::Conflict("mail_kind_required"));
    }
    if receive {
        store::opt_in(conn, person_id, kind.as_str()).await?;
    } else {
        store::opt_out(conn, person_id, kind.as_str()).await?;
    }
    Ok(())
}

// ---- the workers' side ----

/// Leases up to `limit` due mails for `lease_seconds`, `tried_last` after any other (run in a
/// transaction of its own). A mail tried before is leased only while still wanted, by the
/// rules an admin's retry of a parked mail asks (`mail_rules`): one no longer wanted is
/// deleted instead, logged by id and kind, never its address (see [`store::claim_mails`]).
pub async fn claim_mails(
    conn: &mut Conn,
    limit: i64,
    lease_seconds: f64,
    tried_last: &[i64],
) -> Result<Vec<ClaimedMail>, CoreError> {
    let rules = KindRules::new();
    let claim =
        store::claim_mails(conn, limit, lease_seconds, tried_last, &rules.for_store()).await?;
    for dropped in &claim.dropped {
        tracing::info!(
            mail = dropped.id,
            kind = %dropped.kind,
            "a mail tried again is no longer wanted: deleted"
        );
    }
    Ok(claim.mails)
}

/// The SMTP server accepted the mail.
pub async fn mail_sent(conn: &mut Conn, id: i64) -> Result<(), CoreError> {
    Ok(store::mail_sent(conn, id).await?)
}

/// Records a failed attempt. `permanent`: the server refused the mail itself for good (see
/// `cenacle_domain::mail::smtp_refusal`), so it is parked at once; so is a mail at its
/// `email.max_attempts`th attempt.
pub async fn mail_failed(
    conn: &mut Conn,
    ctx: &Context,
    mail: &ClaimedMail,
    error: &str,
    permanent: bool,
) -> Result<FailureRecorded, CoreError> {
    let settings = &ctx.settings.email;
    let attempts = mail.attempts.max(0) as u32;
    let retry_at = (!permanent && attempts < settings.max_attempts)
        .then(|| {
            retry_delay(
                attempts,
                settings.retry_first_delay_seconds,
                rand::random::<f64>(),
            )
        })
        .flatten()
        .map(|delay| Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default());
    Ok(store::mail_failed(conn, mail.id, mail.locked_until, retry_at, error).await?)
}

/// The instance could not hold a session with its SMTP server, or its worker is stopping: the
/// claimed mails go back to the queue with their claim's attempt not counted, `error` saying
/// why they wait (`None`: their last error stays).
pub async fn release_mails(
    conn: &mut Conn,
    mails: &[ClaimedMail],
    error: Option<&str>,
) -> Result<(), CoreError> {
    let leases: Vec<_> = mails.iter().map(|m| (m.id, m.locked_until)).collect();
    Ok(store::release_mails(conn, &leases, error).await?)
}

/// Mails this worker parked go back to the queue, the attempt that parked them not counted,
/// `error` saying why (`None`: their last error stays; see `cenacle_db::mail::unpark_mails`):
/// their refusal turned out to be the instance's sender's, not theirs. Returns how many went
/// back. Run in the transaction that hands the rest of the batch back, so that both or
/// neither happen.
pub async fn unpark_mails(
    conn: &mut Conn,
    parked: &[ParkedMail],
    error: Option<&str>,
) -> Result<usize, CoreError> {
    if parked.is_empty() {
        return Ok(0);
    }
    Ok(store::unpark_mails(conn, parked, error).await?)
}

/// When the next queued mail falls due, if any.
pub async fn next_mail_due(conn: &mut Conn) -> Result<Option<DateTime<Utc>>, CoreError> {
    Ok(store::next_mail_due(conn).await?)
}

/// Rings `wake` whenever mails are queued (a LISTEN on its own connection); runs until
/// aborted.
pub async fn wake_on_new_mails(database_url: String, wake: std::sync::Arc<tokio::sync::Notify>) {
    store::listen_for_mails(database_url, wake).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_depend_on_the_secret_the_member_and_the_kind() {
        let a = sign(b"secret", 1, "digest").unwrap();
        assert_eq!(a, sign(b"secret", 1, "digest").unwrap());
        assert_ne!(a, sign(b"other", 1, "digest").unwrap());
        assert_ne!(a, sign(b"secret", 2, "digest").unwrap());
        assert_ne!(a, sign(b"secret", 1, "notifications").unwrap());
    }

    #[test]
    fn the_kinds_a_topic_names_are_refused_without_one() {
        let reply = MailTopic::Notification {
            kind: Kind::Reply,
            notification_id: 1,
        };
        let weekly = MailTopic::Digest {
            cadence: Cadence::Weekly,
            posts: &[1],
            notifications: &[],
        };
        for topic in [reply, weekly] {
            assert!(without_topic(topic.kind()).is_err(), "{topic:?}");
        }
        assert_eq!(reply.word(), Some("reply"));
        assert_eq!(weekly.word(), Some("weekly"));
        assert_eq!(MailTopic::OnboardingRule(7).word(), None);
        assert_eq!(MailTopic::OnboardingRule(7).kind(), MailKind::Onboarding);
        for kind in [MailKind::Onboarding, MailKind::PasswordReset] {
            assert!(without_topic(kind).is_ok(), "{kind:?}");
        }
    }
}
