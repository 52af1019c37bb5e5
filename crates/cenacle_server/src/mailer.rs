//! The mail worker: hands queued mails to the SMTP server (lettre), with the delivery queue's
//! rules. Rows are claimed under a lease (`FOR UPDATE SKIP LOCKED`: any number of workers, in
//! `cenacle serve` and `cenacle deliver` processes, share the queue), retried with backoff
//! when the server does not take them, parked after `email.max_attempts` or a permanent
//! refusal of the mail itself, and leave the queue once the server accepted them. An idle
//! worker sleeps until a NOTIFY (a mail queued) or the next retry.
//!
//! A mail is blamed for a failure only if a fresh session works right after it: when the
//! instance cannot hold a session at all (server unreachable, TLS failing, a wrong
//! `email.password`), every mail would meet the same failure, so the worker hands its batch
//! back with no attempt counted and pauses (doubling) instead of parking the queue.
//!
//! Nor is a mail blamed for a refusal of the instance's own sender: before a mail refused with
//! a 5xx is parked, a session of its own asks the server whether it takes `email.from`
//! (`MAIL FROM`, then `RSET`, no mail sent). If it does not (553 "sender address rejected",
//! 554 "relay access denied"), every mail would meet that refusal: the batch goes back
//! uncounted and sending pauses as above, with an error naming `email.from`.
//!
//! A mail is sent twice only if this process dies between the server's acceptance and the row's
//! removal (or the database stays unreachable for the whole lease): its Message-ID is the same
//! both times, so a receiver can tell.

use anyhow::Context as _;
use cenacle_config::{EmailSettings, SmtpTls};
use cenacle_core::{mail, notification_mails, Context, ScopedFutureExt};
use cenacle_domain::mail::{
    refusal_after_sender_probe, sender_probe_needed, sending_pause, smtp_refusal, SmtpRefusal,
};
use lettre::{
    message::{header::HeaderName, header::HeaderValue, Mailbox, MultiPart},
    transport::smtp::{
        authentication::{Credentials, DEFAULT_MECHANISMS},
        client::{AsyncSmtpConnection, TlsParameters},
        commands::{Mail, Rset},
        extension::ClientId,
    },
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use std::{sync::Arc, time::Duration};
use tokio::sync::{watch, Notify};

/// Mails claimed at once, sent one after the other on this worker: a batch's lease covers
/// them all (a crashed worker's batch waits that long before another worker takes it).
const BATCH: i64 = 8;
/// The longest an idle worker sleeps without a NOTIFY.
const MAX_IDLE: Duration = Duration::from_secs(30);
/// Between two tries at recording a sent mail (or handing mails back), while the database is
/// unreachable.
const RECORD_RETRY: Duration = Duration::from_millis(500);

pub struct Mailer {
    ctx: Context,
    database_url: String,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// How long a claimed mail stays this worker's: a batch's sends with their timeouts.
    lease_seconds: f64,
}

impl Mailer {
    /// The worker for `email`'s server; a setting lettre refuses stops the program, naming its
    /// key.
    pub fn new(ctx: Context, database_url: String) -> anyhow::Result<Mailer> {
        let settings = ctx.settings.email.clone();
        let from: Mailbox = settings.from.parse().with_context(|| {
            format!(
                "configuration key `email.from`: `{}` is not an address",
                settings.from
            )
        })?;
        let transport = transport(&settings)?;
        let lease_seconds = (settings.timeout_seconds as f64 * 3.0 + 10.0) * BATCH as f64;
        Ok(Mailer {
            ctx,
            database_url,
            transport,
            from,
            lease_seconds,
        })
    }

    /// Runs until `shutdown` turns true (the mail being sent is finished first).
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let wake = Arc::new(Notify::new());
        let listener = tokio::spawn(mail::wake_on_new_mails(
            self.database_url.clone(),
            wake.clone(),
        ));
        tracing::info!("mail worker started");
        // Pauses since a session last worked.
        let mut pauses_in_a_row = 0;
        while !*shutdown.borrow() {
            // Notifications to mail at once become queued mails first (their NOTIFY wakes
            // this loop too), then go out with the rest.
            let notices = self
                .ctx
                .transaction(|conn| {
                    notification_mails::mail_immediate_notifications(conn, &self.ctx, BATCH)
                        .scope_boxed()
                })
                .await
                .unwrap_or_else(|err| {
                    tracing::error!(error = %err, "mailing notifications failed");
                    0
                });
            let claimed = self
                .ctx
                .transaction(|conn| {
                    mail::claim_mails(conn, BATCH, self.lease_seconds).scope_boxed()
                })
                .await
                .unwrap_or_else(|err| {
                    tracing::error!(error = %err, "claiming mails failed");
                    Vec::new()
                });
            let full = claimed.len() as i64 == BATCH || notices as i64 == BATCH;
            let mut pause = None;
            for (index, queued) in claimed.iter().enumerate() {
                match self.send(queued).await {
                    Sent::Accepted | Sent::Failed => pauses_in_a_row = 0,
                    Sent::HandBack(halt, error) => {
                        let wait = sending_pause(
                            pauses_in_a_row,
                            self.ctx.settings.email.retry_first_delay_seconds,
                        );
                        pauses_in_a_row += 1;
                        self.hand_back(&claimed[index..], halt, &error, wait).await;
                        pause = Some(wait);
                        break;
                    }
                }
            }
            if let Some(wait) = pause {
                // New mails (a NOTIFY) would meet the same failure: only the pause's end or
                // a shutdown wakes the worker. The pause is this worker's alone: the mails
                // stay due, so a restart with mended settings sends them at once.
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            if full {
                continue;
            }
            let sleep = self.time_until_next_due().await;
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(sleep) => {}
                _ = shutdown.changed() => {}
            }
        }
        listener.abort();
        tracing::info!("mail worker stopped");
    }

    async fn time_until_next_due(&self) -> Duration {
        let next = async {
            let mut conn = self.ctx.conn().await.ok()?;
            mail::next_mail_due(&mut conn).await.ok()?
        }
        .await;
        match next {
            Some(at) => (at - chrono::Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(MAX_IDLE),
            None => MAX_IDLE,
        }
    }

    async fn send(&self, queued: &mail::ClaimedMail) -> Sent {
        let outcome = match self.message(queued) {
            // An address the server could never take: parked at once.
            Err(err) => Err((
                format!("cannot build the message: {err}"),
                SmtpRefusal::ParkMail,
            )),
            Ok(message) => match self.transport.send(message).await {
                Ok(_) => Ok(()),
                Err(err) => {
                    // Connect, TLS, login and NOOP again: does the session work at all?
                    let session_works = matches!(self.transport.test_connection().await, Ok(true));
                    let code = err.status().map(u16::from);
                    let refusal = smtp_refusal(code, session_works);
                    if sender_probe_needed(refusal) {
                        // Before the mail is blamed: is it our sender the server refuses?
                        let probe = self.sender_refusal().await;
                        let reply = probe.as_ref().map(|(code, _)| *code);
                        match (refusal_after_sender_probe(refusal, reply), probe) {
                            (SmtpRefusal::SenderRefused, Some((_, reply))) => {
                                Err((reply, SmtpRefusal::SenderRefused))
                            }
                            (refusal, _) => Err((err.to_string(), refusal)),
                        }
                    } else {
                        Err((err.to_string(), refusal))
                    }
                }
            },
        };
        match outcome {
            Ok(()) => {
                self.record_sent(queued).await;
                Sent::Accepted
            }
            Err((error, SmtpRefusal::PauseSending)) => Sent::HandBack(Halt::NoSession, error),
            Err((error, SmtpRefusal::SenderRefused)) => Sent::HandBack(Halt::SenderRefused, error),
            Err((error, refusal)) => {
                let permanent = refusal == SmtpRefusal::ParkMail;
                let ctx = &self.ctx;
                let recorded = ctx
                    .transaction(|conn| {
                        mail::mail_failed(conn, ctx, queued, &error, permanent).scope_boxed()
                    })
                    .await;
                match recorded {
                    Ok(Some(at)) => {
                        tracing::warn!(mail = queued.id, kind = %queued.kind, attempts = queued.attempts, %error, retry_at = %at, "mail not sent; will retry")
                    }
                    Ok(None) => {
                        tracing::error!(mail = queued.id, kind = %queued.kind, attempts = queued.attempts, %error, "mail not sent; parked")
                    }
                    Err(err) => {
                        tracing::error!(mail = queued.id, error = %err, "recording a mail failure failed; its lease will expire")
                    }
                }
                Sent::Failed
            }
        }
    }

    /// Asks the SMTP server, on a session of its own opened as the transport opens its own
    /// (TLS, login), whether it takes `email.from` as sender: `MAIL FROM`, then `RSET` and
    /// `QUIT`, no mail sent. Returns its refusal (reply code, error) if it refused; `None` if
    /// it took the sender or the probe got no answer (it could not connect or log in, or ran
    /// past `email.timeout_seconds`).
    async fn sender_refusal(&self) -> Option<(u16, String)> {
        type SmtpResult<T> = Result<T, lettre::transport::smtp::Error>;
        let settings = &self.ctx.settings.email;
        let timeout = Duration::from_secs(settings.timeout_seconds);
        let probe = async {
            let hello = ClientId::default();
            let tls = || TlsParameters::new(settings.host.clone());
            let wrapper = match settings.tls {
                SmtpTls::Tls => Some(tls()?),
                SmtpTls::None | SmtpTls::Starttls => None,
            };
            let mut conn = AsyncSmtpConnection::connect_tokio1(
                (settings.host.as_str(), settings.port),
                Some(timeout),
                &hello,
                wrapper,
                None,
            )
            .await?;
            if settings.tls == SmtpTls::Starttls {
                conn.starttls(tls()?, &hello).await?;
            }
            if !settings.username.is_empty() {
                let credentials =
                    Credentials::new(settings.username.clone(), settings.password.0.clone());
                conn.auth(DEFAULT_MECHANISMS, &credentials).await?;
            }
            let reply = conn
                .command(Mail::new(Some(self.from.email.clone()), vec![]))
                .await;
            let _ = conn.command(Rset).await;
            let _ = conn.quit().await;
            SmtpResult::Ok(reply)
        };
        match tokio::time::timeout(timeout, probe).await {
            Ok(Ok(Ok(_))) => None,
            Ok(Ok(Err(refusal))) => refusal
                .status()
                .map(|code| (u16::from(code), refusal.to_string())),
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "asking the SMTP server whether it takes `email.from` failed");
                None
            }
            Err(_) => {
                tracing::warn!("asking the SMTP server whether it takes `email.from` timed out");
                None
            }
        }
    }

    /// The first of `mails` could not be sent for a fault of the instance's (`halt`): they all
    /// go back to the queue, and the worker waits `wait`. Logged once for the batch, as an
    /// error: mail stops until the server comes back or an admin mends the settings.
    async fn hand_back(
        &self,
        mails: &[mail::ClaimedMail],
        halt: Halt,
        error: &str,
        wait: Duration,
    ) {
        let error = match halt {
            Halt::NoSession => {
                tracing::error!(
                    mail = mails[0].id,
                    %error,
                    pause_seconds = wait.as_secs_f64(),
                    "no working session with the SMTP server (unreachable, or refusing TLS or \
                     this instance's login): check `email.host`, `email.port`, `email.tls`, \
                     `email.username` and `email.password`; mails stay queued, sending paused"
                );
                format!("not sent, no working SMTP session: {error}")
            }
            Halt::SenderRefused => {
                let from = &self.from.email;
                tracing::error!(
                    mail = mails[0].id,
                    %error,
                    pause_seconds = wait.as_secs_f64(),
                    "the SMTP server refuses `email.from` ({from}) as sender: set `email.from` \
                     to an address the server lets this instance (`email.username`) send from; \
                     mails stay queued, sending paused"
                );
                format!(
                    "not sent, the SMTP server refuses `email.from` ({from}) as sender: {error}"
                )
            }
        };
        // Tried until it works or a lease's length has passed: a lease left to run out would
        // count each mail an attempt for a failure that was not its own (and hold it back
        // that long). A try after the lease ended is harmless: a mail another worker claimed
        // since is not under this lease, and the release leaves it alone.
        let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(self.lease_seconds);
        loop {
            match self
                .ctx
                .transaction(|conn| mail::release_mails(conn, mails, &error).scope_boxed())
                .await
            {
                Ok(()) => return,
                Err(err) if tokio::time::Instant::now() < deadline => {
                    tracing::warn!(mail = mails[0].id, error = %err, "handing mails back failed; trying again");
                    tokio::time::sleep(RECORD_RETRY).await;
                }
                Err(err) => {
                    // Their lease ran out: they are claimed again, one attempt counted each.
                    tracing::error!(mail = mails[0].id, error = %err, "handing mails back failed; their lease expired");
                    return;
                }
            }
        }
    }

    /// The server took the mail: it leaves the queue. Tried until it works or the lease
    /// ends (after which another worker could send it again).
    async fn record_sent(&self, queued: &mail::ClaimedMail) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(self.lease_seconds);
        loop {
            let id = queued.id;
            match self
                .ctx
                .transaction(|conn| mail::mail_sent(conn, id).scope_boxed())
                .await
            {
                Ok(()) => {
                    tracing::info!(mail = id, kind = %queued.kind, "mail sent");
                    return;
                }
                Err(err) if tokio::time::Instant::now() < deadline => {
                    tracing::warn!(mail = id, error = %err, "recording a sent mail failed; trying again");
                    tokio::time::sleep(RECORD_RETRY).await;
                }
                Err(err) => {
                    tracing::error!(mail = id, error = %err, "recording a sent mail failed; it may be sent again");
                    return;
                }
            }
        }
    }

    fn message(&self, queued: &mail::ClaimedMail) -> anyhow::Result<Message> {
        let to: Mailbox = queued.to_address.parse()?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(queued.subject.clone())
            .message_id(Some(queued.message_id.clone()));
        if let Some(url) = &queued.unsubscribe_url {
            // RFC 2369 and RFC 8058: mail clients offer a button that POSTs to the URL.
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{url}>"),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_owned(),
                ));
        }
        Ok(builder.multipart(MultiPart::alternative_plain_html(
            queued.text_body.clone(),
            queued.html_body.clone(),
        ))?)
    }
}

/// How one mail's send went, for the worker's loop.
enum Sent {
    Accepted,
    /// Recorded: retried later or parked.
    Failed,
    /// Handed back, for a fault of the instance's (the error met); the worker pauses.
    HandBack(Halt, String),
}

/// Why the worker stops sending for a while.
#[derive(Clone, Copy)]
enum Halt {
    /// No session with the server: unreachable, or refusing TLS or the login.
    NoSession,
    /// The server refuses `email.from` as sender.
    SenderRefused,
}

fn transport(settings: &EmailSettings) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    type Smtp = AsyncSmtpTransport<Tokio1Executor>;
    let host = settings.host.as_str();
    let bad_host = |err| anyhow::anyhow!("configuration key `email.host`: `{host}`: {err}");
    let mut builder = match settings.tls {
        SmtpTls::None => Smtp::builder_dangerous(host),
        SmtpTls::Starttls => Smtp::starttls_relay(host).map_err(bad_host)?,
        SmtpTls::Tls => Smtp::relay(host).map_err(bad_host)?,
    }
    .port(settings.port)
    .timeout(Some(Duration::from_secs(settings.timeout_seconds)));
    if !settings.username.is_empty() {
        builder = builder.credentials(Credentials::new(
            settings.username.clone(),
            settings.password.0.clone(),
        ));
    }
    Ok(builder.build())
}
