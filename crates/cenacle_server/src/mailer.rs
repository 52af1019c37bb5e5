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
//! (`MAIL FROM`, `RCPT TO` the sender domain's postmaster, then `RSET`, no mail sent). If it
//! plainly refuses our sender (553 "sender address rejected: not owned by user"), every mail
//! would meet that refusal: the batch goes back uncounted and sending pauses as above, with an
//! error naming `email.from`. A probe that gets no answer or a 4xx parks nothing: the mail is
//! tried again (`cenacle_domain::mail::refusal_after_sender_probe` holds the rules).
//!
//! A mail is sent twice only if this process dies between the server's acceptance and the row's
//! removal (or the database stays unreachable for the whole lease, or until a shutdown), or if
//! the session runs out of `email.timeout_seconds` after the server took the data (a server
//! slow to answer the data or the `QUIT` that lettre waits for within the session): its
//! Message-ID is the same both times, so a receiver can tell.

use anyhow::Context as _;
use cenacle_config::{EmailSettings, SmtpTls};
use cenacle_core::{mail, notification_mails, Context, ScopedFutureExt};
use cenacle_domain::mail::{
    refusal_after_sender_probe, sender_probe_needed, sending_pause, smtp_refusal, SenderProbe,
    SmtpRefusal,
};
use lettre::{
    message::{header::HeaderName, header::HeaderValue, Mailbox, MultiPart},
    transport::smtp::{
        authentication::{Credentials, DEFAULT_MECHANISMS},
        client::{AsyncSmtpConnection, Tls, TlsParameters},
        commands::{Mail, Rcpt, Rset},
        extension::ClientId,
    },
    Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use std::{fmt::Display, future::Future, sync::Arc, time::Duration};
use tokio::{
    sync::{watch, Notify},
    time::Instant,
};

/// Mails claimed at once, sent one after the other on this worker: a batch's lease covers
/// them all (a crashed worker's batch waits that long before another worker takes it).
const BATCH: i64 = 8;
/// The longest an idle worker sleeps without a NOTIFY.
const MAX_IDLE: Duration = Duration::from_secs(30);
/// Between two tries at recording a sent mail (or handing mails back), while the database is
/// unreachable.
const RECORD_RETRY: Duration = Duration::from_millis(500);
/// While such tries keep failing, the shortest time between two warnings: the first failure
/// is logged at once, the next ones only now and then, with their count, so that a database
/// down for minutes does not fill the log.
const RECORD_WARN_EVERY: Duration = Duration::from_secs(10);

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
        // A refused mail costs up to three sessions (the send, the session test, the sender
        // probe; each bounded by `email.timeout_seconds`): room for four, and 10 s more.
        let lease_seconds = (settings.timeout_seconds as f64 * 4.0 + 10.0) * BATCH as f64;
        Ok(Mailer {
            ctx,
            database_url,
            transport,
            from,
            lease_seconds,
        })
    }

    /// Runs until `shutdown` turns true (the mail being sent is finished first: its session,
    /// and after a failure the session test and sender probe, each within
    /// `email.timeout_seconds`; the rest of its batch goes back to the queue, uncounted).
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
                // A stop asked for mid-batch sends nothing more: the rest goes back to the
                // queue, uncounted and due at once (the next start sends it). Sent now, with
                // the database perhaps going down too, a mail whose sending could not be
                // recorded would be sent again after the restart.
                if *shutdown.borrow() {
                    let rest = &claimed[index..];
                    self.hand_back(rest, Halt::ShuttingDown, "", Duration::ZERO, &shutdown)
                        .await;
                    break;
                }
                match self.send(queued, &shutdown).await {
                    Sent::Accepted | Sent::Failed => pauses_in_a_row = 0,
                    Sent::HandBack(halt, error) => {
                        let wait = sending_pause(
                            pauses_in_a_row,
                            self.ctx.settings.email.retry_first_delay_seconds,
                        );
                        pauses_in_a_row += 1;
                        self.hand_back(&claimed[index..], halt, &error, wait, &shutdown)
                            .await;
                        pause = Some(wait);
                        break;
                    }
                }
            }
            if *shutdown.borrow() {
                break;
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

    /// Sends `queued` and records how it went; `shutdown` cuts short the recording's tries.
    async fn send(&self, queued: &mail::ClaimedMail, shutdown: &watch::Receiver<bool>) -> Sent {
        let outcome = match self.message(queued) {
            // An address the server could never take: parked at once.
            Err(err) => Err((
                format!("cannot build the message: {err}"),
                SmtpRefusal::ParkMail,
            )),
            // lettre's own timeout bounds the connection only: a server that stalls later
            // (after `DATA`, say) would hold the send, the batch's lease and a shutdown for
            // ever. The whole session gets `email.timeout_seconds`; one that runs out is
            // judged as a session without a reply (the mail may have arrived: it may be sent
            // again, as SMTP allows).
            Ok(message) => {
                let sent = tokio::time::timeout(self.session_time(), self.transport.send(message));
                match sent.await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(err)) => Err(self.judge_refusal(&err).await),
                    Err(_) => {
                        let secs = self.session_time().as_secs();
                        let error = format!(
                            "the SMTP server did not finish the session within {secs} s \
                             (email.timeout_seconds)"
                        );
                        Err((error, smtp_refusal(None, self.session_works().await)))
                    }
                }
            }
        };
        match outcome {
            Ok(()) => {
                self.record_sent(queued, shutdown).await;
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

    /// What a refused or failed send means (`SmtpRefusal`), and the error the admin reads: a
    /// fresh session tells a session problem from the mail's, and before a mail is parked for
    /// a 5xx, the sender probe tells a refusal of our sender from one of the mail.
    async fn judge_refusal(&self, err: &lettre::transport::smtp::Error) -> (String, SmtpRefusal) {
        // Connect, TLS, login and NOOP again: does the session work at all?
        let session_works = self.session_works().await;
        let code = err.status().map(u16::from);
        let refusal = smtp_refusal(code, session_works);
        if !sender_probe_needed(refusal) {
            return (err.to_string(), refusal);
        }
        // Before the mail is blamed: is it our sender the server refuses?
        let mail_reply = err.to_string();
        let probe = self.sender_probe().await;
        match (
            refusal_after_sender_probe(refusal, &probe, &mail_reply),
            probe,
        ) {
            // The error the admin reads is the probe's: what the server says of our sender,
            // or of our login.
            (
                found @ (SmtpRefusal::SenderRefused | SmtpRefusal::PauseSending),
                SenderProbe::FromRefused { text, .. } | SenderProbe::PostmasterRefused { text, .. },
            ) => (text, found),
            (refusal, _) => (mail_reply, refusal),
        }
    }

    /// How long one session with the SMTP server may take, whole (`email.timeout_seconds`).
    fn session_time(&self) -> Duration {
        Duration::from_secs(self.ctx.settings.email.timeout_seconds)
    }

    /// Whether a fresh session (connect, TLS, login, NOOP) works, within one session's time.
    async fn session_works(&self) -> bool {
        let tested = tokio::time::timeout(self.session_time(), self.transport.test_connection());
        matches!(tested.await, Ok(Ok(true)))
    }

    /// Asks the SMTP server, on a session of its own opened as the transport opens its own
    /// (TLS, login: [`session_setup`]), whether it takes `email.from` as sender: `MAIL FROM`,
    /// `RCPT TO` the sender domain's postmaster, then `RSET` and `QUIT`, no mail sent. What it
    /// heard is judged by `refusal_after_sender_probe`.
    async fn sender_probe(&self) -> SenderProbe {
        let settings = &self.ctx.settings.email;
        let timeout = self.session_time();
        let probe = async {
            let hello = ClientId::default();
            let (tls, credentials) = session_setup(settings)?;
            let wrapper = match &tls {
                Tls::Wrapper(parameters) => Some(parameters.clone()),
                Tls::None | Tls::Opportunistic(_) | Tls::Required(_) => None,
            };
            let mut conn = AsyncSmtpConnection::connect_tokio1(
                (settings.host.as_str(), settings.port),
                Some(timeout),
                &hello,
                wrapper,
                None,
            )
            .await?;
            // (`session_setup` never makes an opportunistic TLS: required or none.)
            if let Tls::Required(parameters) = tls {
                conn.starttls(parameters, &hello).await?;
            }
            if let Some(credentials) = credentials {
                conn.auth(DEFAULT_MECHANISMS, &credentials).await?;
            }
            // Many servers judge the sender only at the first recipient (Postfix delays its
            // sender checks to `RCPT TO` by default): ask for the sender domain's postmaster,
            // an address every domain must take (RFC 5321, 4.5.1), though a relay may still
            // refuse it for reasons of its own (judged then by what it says).
            let postmaster = Address::new("postmaster", self.from.email.domain())?;
            let from = conn
                .command(Mail::new(Some(self.from.email.clone()), vec![]))
                .await;
            let reply = match from {
                Ok(_) => (true, conn.command(Rcpt::new(postmaster, vec![])).await),
                refused => (false, refused),
            };
            let _ = conn.command(Rset).await;
            let _ = conn.quit().await;
            Ok::<_, anyhow::Error>(reply)
        };
        let failed = |error: &dyn Display| {
            tracing::warn!(%error, "asking the SMTP server whether it takes `email.from` failed");
            SenderProbe::NoAnswer
        };
        match tokio::time::timeout(timeout, probe).await {
            Ok(Ok((_, Ok(_)))) => SenderProbe::Accepted,
            Ok(Ok((at_postmaster, Err(refusal)))) => match refusal.status() {
                Some(code) => {
                    let (code, text) = (u16::from(code), refusal.to_string());
                    match at_postmaster {
                        true => SenderProbe::PostmasterRefused { code, text },
                        false => SenderProbe::FromRefused { code, text },
                    }
                }
                None => failed(&refusal),
            },
            Ok(Err(err)) => failed(&err),
            Err(_) => failed(&"timed out"),
        }
    }

    /// The first of `mails` could not be sent for a fault of the instance's, or the worker is
    /// stopping (`halt`): they all go back to the queue, uncounted, and the worker waits `wait`
    /// (the caller's). Logged once for the batch: as an error for a fault (mail stops until the
    /// server comes back or an admin mends the settings), as information for a stop.
    async fn hand_back(
        &self,
        mails: &[mail::ClaimedMail],
        halt: Halt,
        error: &str,
        wait: Duration,
        shutdown: &watch::Receiver<bool>,
    ) {
        let error = match halt {
            Halt::ShuttingDown => {
                tracing::info!(
                    mail = mails[0].id,
                    mails = mails.len(),
                    "stopping: mails not sent yet go back to the queue"
                );
                // Not an error: the mail's last one, if any, stays what the admin reads.
                None
            }
            Halt::NoSession => {
                tracing::error!(
                    mail = mails[0].id,
                    %error,
                    pause_seconds = wait.as_secs_f64(),
                    "no working session with the SMTP server (unreachable, or refusing TLS or \
                     this instance's login): check `email.host`, `email.port`, `email.tls`, \
                     `email.username` and `email.password`; mails stay queued, sending paused"
                );
                Some(format!("not sent, no working SMTP session: {error}"))
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
                Some(format!(
                    "not sent, the SMTP server refuses `email.from` ({from}) as sender: {error}"
                ))
            }
        };
        // Tried until it works: a lease left to run out would count each mail an attempt for
        // a failure that was not its own (and hold it back that long). A try after the lease
        // ended is harmless: a mail another worker claimed since is not under this lease, and
        // the release leaves it alone.
        let error = error.as_deref();
        self.until_lease_ends(
            shutdown,
            mails[0].id,
            "handing mails back",
            "they go back when their lease expires, an attempt counted each",
            || {
                self.ctx
                    .transaction(move |conn| mail::release_mails(conn, mails, error).scope_boxed())
            },
        )
        .await;
    }

    /// The server took the mail: it leaves the queue. Tried until it works (see
    /// [`Self::until_lease_ends`]); after the lease another worker could send it again.
    async fn record_sent(&self, queued: &mail::ClaimedMail, shutdown: &watch::Receiver<bool>) {
        let id = queued.id;
        let recorded = self
            .until_lease_ends(
                shutdown,
                id,
                "recording a sent mail",
                "it may be sent again",
                || {
                    self.ctx
                        .transaction(move |conn| mail::mail_sent(conn, id).scope_boxed())
                },
            )
            .await;
        if recorded {
            tracing::info!(mail = id, kind = %queued.kind, "mail sent");
        }
    }

    /// Runs `op` (what `what` names, for the mails from `mail` on) until it works, while the
    /// database refuses it: at most a lease's length, for after that the mails are no longer
    /// this worker's, and not past a shutdown, which would otherwise wait that long (minutes)
    /// for a database that may never come back. Once `shutdown` turns true, one last try is
    /// made at once; if it fails too, the work is dropped, with an error saying what follows
    /// (`given_up`), as at the lease's end. Returns whether `op` worked.
    async fn until_lease_ends<Op, Fut, E>(
        &self,
        shutdown: &watch::Receiver<bool>,
        mail: i64,
        what: &str,
        given_up: &str,
        mut op: Op,
    ) -> bool
    where
        Op: FnMut() -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: Display,
    {
        // A clone of its own, to wait on: `run` still sees the change on its receiver.
        let mut shutdown = shutdown.clone();
        let deadline = Instant::now() + Duration::from_secs_f64(self.lease_seconds);
        let mut failures: u32 = 0;
        let mut warned_at: Option<Instant> = None;
        let mut last_try = false;
        loop {
            let err = match op().await {
                Ok(()) => return true,
                Err(err) => err,
            };
            failures += 1;
            let now = Instant::now();
            if last_try || now >= deadline {
                tracing::error!(
                    mail,
                    error = %err,
                    failures,
                    shutting_down = last_try,
                    "{what} failed; {given_up}"
                );
                return false;
            }
            if warned_at.is_none_or(|at| now - at >= RECORD_WARN_EVERY) {
                tracing::warn!(mail, error = %err, failures, "{what} failed; trying again");
                warned_at = Some(now);
            }
            tokio::select! {
                _ = tokio::time::sleep(RECORD_RETRY) => {}
                _ = shutdown_signalled(&mut shutdown) => last_try = true,
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
    /// Not a fault: the worker is stopping before their turn.
    ShuttingDown,
    /// No session with the server: unreachable, or refusing TLS or the login.
    NoSession,
    /// The server refuses `email.from` as sender.
    SenderRefused,
}

/// Returns once `shutdown` is true (at once if it already is). If its sender is gone, no
/// shutdown can come any more: it never returns, so that it cannot end a wait early.
async fn shutdown_signalled(shutdown: &mut watch::Receiver<bool>) {
    if shutdown.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn transport(settings: &EmailSettings) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let (tls, credentials) = session_setup(settings)?;
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
        .port(settings.port)
        .timeout(Some(Duration::from_secs(settings.timeout_seconds)))
        .tls(tls);
    if let Some(credentials) = credentials {
        builder = builder.credentials(credentials);
    }
    Ok(builder.build())
}

/// How a session with the SMTP server is secured and logged into, the transport's and the
/// sender probe's alike: TLS from the start, `STARTTLS` required or none (`email.tls`, the
/// certificate checked against `email.host`), and the login, if `email.username` is set.
fn session_setup(settings: &EmailSettings) -> anyhow::Result<(Tls, Option<Credentials>)> {
    let host = settings.host.as_str();
    let parameters = || {
        TlsParameters::new(host.to_owned())
            .map_err(|err| anyhow::anyhow!("configuration key `email.host`: `{host}`: {err}"))
    };
    let tls = match settings.tls {
        SmtpTls::None => Tls::None,
        SmtpTls::Starttls => Tls::Required(parameters()?),
        SmtpTls::Tls => Tls::Wrapper(parameters()?),
    };
    let credentials = (!settings.username.is_empty())
        .then(|| Credentials::new(settings.username.clone(), settings.password.0.clone()));
    Ok((tls, credentials))
}
