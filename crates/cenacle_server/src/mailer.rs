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
//! A server may take our sender at `MAIL FROM` and refuse it only after the mail's data
//! (Microsoft 365's "554 5.2.252 SendAsDenied", a relay checking the From's SPF or DMARC
//! alignment): the probe cannot see it. A reply that says the login may not send as our
//! sender is the sender's at once; any other refusal of the data is the mail's (parked) until
//! the same reply refused the data of mails to three different recipients in a row
//! (`cenacle_domain::mail::DataRefusals`). Then it is the sender's, as above, and the mails
//! this worker parked for it go back to the queue, their attempt not counted, in the
//! transaction that hands the batch back: a wrong `email.from` parks two mails (per worker)
//! for a moment, rather than the whole queue one mail after another. The judgement is a
//! guess, so the mails it rests on are claimed after any other due mail: a mail taken
//! disproves it, and they are parked then (three mails refused for the same content must not
//! hold the rest).
//! It lives in the worker's memory: a restart between the first parked mail and the third
//! leaves the first ones parked.
//!
//! The worker holds each session itself (lettre's connection, not its transport), for one
//! line matters: the end of the mail's data. Before it, the server has nothing: the session is
//! bounded by `email.timeout_seconds` and a server that stalls there costs the mail an attempt,
//! to be sent again. After it, the server may have taken the mail: its reply is waited for
//! `email.data_reply_timeout_seconds` (RFC 5321's 10 minutes by default), and once it says
//! yes the mail leaves the queue at once, the `QUIT` not waited for. A claimed batch's lease
//! covers two mails at their worst (every wait run out): before each mail, the worker checks
//! that the lease still covers one, and hands the rest back otherwise, so that no mail is sent
//! after its lease ended (when another worker may have claimed it).
//!
//! A mail is sent twice only if this process dies between the server's acceptance and the row's
//! removal (or the database stays unreachable until the lease ends, or until a shutdown), or if
//! the server does not answer the end of its data in time (or before a stop), or drops the
//! connection instead: its Message-ID is the same both times, so a receiver can tell.

use anyhow::Context as _;
use cenacle_config::{EmailSettings, SmtpTls};
use cenacle_core::{mail, notification_mails, Context, ScopedFutureExt};
use cenacle_domain::mail::{
    refusal_after_sender_probe, refuses_sending_as_our_sender, sender_probe_needed, sending_pause,
    smtp_refusal, DataRefusals, SenderProbe, SmtpRefusal, SAME_DATA_REFUSALS_FOR_SENDER,
};
use lettre::{
    address::Envelope,
    message::{header::HeaderName, header::HeaderValue, Mailbox, MultiPart},
    transport::smtp::{
        authentication::{Credentials, DEFAULT_MECHANISMS},
        client::{AsyncSmtpConnection, Tls, TlsParameters},
        commands::{Data, Mail, Rcpt, Rset},
        extension::{ClientId, Extension, MailBodyParameter, MailParameter},
    },
    Address, Message,
};
use std::{
    fmt::Display,
    future::Future,
    sync::{Arc, OnceLock},
    time::Duration,
};
use tokio::{
    sync::{watch, Notify},
    time::Instant,
};

/// Mails claimed at once, sent one after the other on this worker, under one lease (which
/// covers two mails at their worst: the rest goes back if it could end during a mail).
const BATCH: i64 = 8;
/// The longest an idle worker sleeps without a NOTIFY.
const MAX_IDLE: Duration = Duration::from_secs(30);
/// Between two tries at recording a mail sent or failed (or handing mails back), while the
/// database is unreachable.
const RECORD_RETRY: Duration = Duration::from_millis(500);
/// While such tries keep failing, the shortest time between two warnings: the first failure
/// is logged at once, the next ones only now and then, with their count, so that a database
/// down for minutes does not fill the log.
const RECORD_WARN_EVERY: Duration = Duration::from_secs(10);
/// The most a session's `QUIT` (or the sender probe's `RSET`) is given once its answers are
/// in, on a task of its own.
const QUIT_GRACE: Duration = Duration::from_secs(2);

pub struct Mailer {
    ctx: Context,
    database_url: String,
    /// How every session is secured and logged into (`email.tls`, `email.username`).
    tls: Tls,
    credentials: Option<Credentials>,
    from: Mailbox,
    /// How long a claimed mail stays this worker's: two mails at their worst.
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
        let (tls, credentials) = session_setup(&settings)?;
        // Not all of a batch's worst: the lease is checked before each mail (`run`), and a
        // crashed worker's mails wait for it to end before another worker sends them.
        let lease_seconds = 2.0 * one_mail_at_worst(&settings).as_secs_f64();
        Ok(Mailer {
            ctx,
            database_url,
            tls,
            credentials,
            from,
            lease_seconds,
        })
    }

    /// Runs until `shutdown` turns true (the mail being sent is finished first: its session,
    /// and after a failure the session test and sender probe, each within
    /// `email.timeout_seconds`, or the reply to its data, which a stop waits for one such time
    /// more; the rest of its batch goes back to the queue, uncounted).
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let wake = Arc::new(Notify::new());
        let listener = tokio::spawn(mail::wake_on_new_mails(
            self.database_url.clone(),
            wake.clone(),
        ));
        tracing::info!("mail worker started");
        // Pauses since a session last worked.
        let mut pauses_in_a_row = 0;
        // The mails refused after their data, which may turn out to be our sender's refusal.
        let mut data_refusals = DataRefusals::default();
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
            // Measured from before the claim: the lease, set by the database, ends later.
            let lease_ends = Instant::now() + Duration::from_secs_f64(self.lease_seconds);
            let claimed = self
                .ctx
                .transaction(|conn| {
                    // The mails a judgement of our sender rests on go last: another mail taken
                    // disproves it (see `DataRefusals`), where they would meet it again first.
                    let held = data_refusals.held();
                    mail::claim_mails(conn, BATCH, self.lease_seconds, held).scope_boxed()
                })
                .await
                .unwrap_or_else(|err| {
                    tracing::error!(error = %err, "claiming mails failed");
                    Vec::new()
                });
            let mut full = claimed.len() as i64 == BATCH || notices as i64 == BATCH;
            let mut pause = None;
            for (index, queued) in claimed.iter().enumerate() {
                // A stop asked for mid-batch sends nothing more: the rest goes back to the
                // queue, uncounted and due at once (the next start sends it). Sent now, with
                // the database perhaps going down too, a mail whose sending could not be
                // recorded would be sent again after the restart.
                let rest = &claimed[index..];
                if *shutdown.borrow() {
                    self.hand_back(
                        rest,
                        HandBack::stop(Halt::ShuttingDown),
                        Duration::ZERO,
                        &shutdown,
                        lease_ends,
                    )
                    .await;
                    break;
                }
                // A mail sent after its lease ended may be sent by another worker too: the rest
                // goes back, due at once, and is claimed again under a new lease.
                if Instant::now() + one_mail_at_worst(&self.ctx.settings.email) > lease_ends {
                    self.hand_back(
                        rest,
                        HandBack::stop(Halt::LeaseEnding),
                        Duration::ZERO,
                        &shutdown,
                        lease_ends,
                    )
                    .await;
                    full = true;
                    break;
                }
                match self
                    .send(queued, &mut data_refusals, &shutdown, lease_ends)
                    .await
                {
                    Sent::Accepted | Sent::Failed => pauses_in_a_row = 0,
                    Sent::HandBack(hand_back) => {
                        let wait = sending_pause(
                            pauses_in_a_row,
                            self.ctx.settings.email.retry_first_delay_seconds,
                        );
                        pauses_in_a_row += 1;
                        self.hand_back(rest, hand_back, wait, &shutdown, lease_ends)
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

    /// Sends `queued` and records how it went (`data_refusals`: the mails refused after their
    /// data so far); `shutdown` cuts short the recording's tries and the wait for the data's
    /// reply.
    async fn send(
        &self,
        queued: &mail::ClaimedMail,
        data_refusals: &mut DataRefusals<mail::ParkedMail>,
        shutdown: &watch::Receiver<bool>,
        lease_ends: Instant,
    ) -> Sent {
        let outcome = match self.message(queued) {
            // An address the server could never take: parked at once.
            Err(err) => Err(Judged::plain(
                format!("cannot build the message: {err}"),
                SmtpRefusal::ParkMail,
            )),
            Ok(message) => match self.deliver(&message, shutdown).await {
                Delivered::Accepted => Ok(()),
                Delivered::Refused(refusal) => {
                    Err(self.judge_refusal(refusal, queued, data_refusals).await)
                }
                Delivered::TimedOut => {
                    let secs = self.session_time().as_secs();
                    let error = format!(
                        "the SMTP server did not take the mail's data within {secs} s \
                         (email.timeout_seconds)"
                    );
                    let refusal = smtp_refusal(None, self.session_works().await);
                    Err(Judged::plain(error, refusal))
                }
                Delivered::Unanswered { stopping } => {
                    let secs = self.ctx.settings.email.data_reply_timeout_seconds;
                    let waited = match stopping {
                        false => format!("within {secs} s (email.data_reply_timeout_seconds)"),
                        true => "before this instance stopped".to_owned(),
                    };
                    let error = format!(
                        "the SMTP server did not answer the mail's data {waited}: it may have \
                         the mail, which is sent again with the same Message-ID"
                    );
                    let refusal = smtp_refusal(None, self.session_works().await);
                    Err(Judged::plain(error, refusal))
                }
            },
        };
        let judged = match outcome {
            Ok(()) => {
                data_refusals.accepted();
                self.record_sent(queued, shutdown, lease_ends).await;
                return Sent::Accepted;
            }
            Err(judged) => judged,
        };
        let Judged {
            refusal,
            error,
            refused_data,
            unpark,
        } = judged;
        match refusal {
            SmtpRefusal::PauseSending => Sent::HandBack(HandBack {
                halt: Halt::NoSession,
                error,
                unpark,
            }),
            SmtpRefusal::SenderRefused => Sent::HandBack(HandBack {
                halt: Halt::SenderRefused,
                error,
                unpark,
            }),
            SmtpRefusal::ParkMail | SmtpRefusal::RetryMail => {
                let permanent = refusal == SmtpRefusal::ParkMail;
                let ctx = &self.ctx;
                // Tried until it works, as a sent mail's record is: a failure left to the
                // lease's end would be retried then, not after its backoff, nor parked.
                let recorded = self
                    .until_lease_ends(
                        shutdown,
                        lease_ends,
                        queued.id,
                        "recording a mail failure",
                        "it is tried again when its lease expires",
                        || {
                            let error = &error;
                            ctx.transaction(move |conn| {
                                mail::mail_failed(conn, ctx, queued, error, permanent).scope_boxed()
                            })
                        },
                    )
                    .await;
                match recorded {
                    Some(mail::FailureRecorded::Retried { at }) => {
                        tracing::warn!(mail = queued.id, kind = %queued.kind, attempts = queued.attempts, %error, retry_at = %at, "mail not sent; will retry")
                    }
                    Some(mail::FailureRecorded::Parked(parked)) => {
                        tracing::error!(mail = queued.id, kind = %queued.kind, attempts = queued.attempts, %error, "mail not sent; parked");
                        if refused_data {
                            data_refusals.record_parked(&queued.to_address, queued.id, parked);
                        }
                    }
                    Some(mail::FailureRecorded::LeaseLost) => {
                        tracing::warn!(mail = queued.id, kind = %queued.kind, %error, "mail not sent; its lease ran out before the failure was recorded, so it stays another worker's to send")
                    }
                    None => {}
                }
                Sent::Failed
            }
        }
    }

    /// What a refused or failed send of `queued` means, and the error the admin
    /// reads: a fresh session tells a session problem from the mail's; before a mail is
    /// parked for a 5xx, the reply's words and the sender probe tell a refusal of our sender
    /// from one of the mail, and a refusal of its data is weighed with those before it
    /// (`data_refusals`).
    async fn judge_refusal(
        &self,
        refusal: SessionFailure,
        queued: &mail::ClaimedMail,
        data_refusals: &mut DataRefusals<mail::ParkedMail>,
    ) -> Judged {
        // Connect, TLS, login and NOOP again: does the session work at all?
        let session_works = self.session_works().await;
        let SessionFailure {
            code,
            text: mail_reply,
            after_data,
        } = refusal;
        let refusal = smtp_refusal(code, session_works);
        if !sender_probe_needed(refusal) {
            return Judged::plain(mail_reply, refusal);
        }
        // The server says it: every mail, all from the same sender, would meet this refusal.
        if refuses_sending_as_our_sender(&mail_reply) {
            return Judged::plain(mail_reply, SmtpRefusal::SenderRefused);
        }
        // Before the mail is blamed: is it our sender the server refuses?
        let probe = self.sender_probe().await;
        let refusal = match (
            refusal_after_sender_probe(refusal, &probe, &mail_reply),
            probe,
        ) {
            // The error the admin reads is the probe's: what the server says of our sender,
            // or of our login.
            (
                found @ (SmtpRefusal::SenderRefused | SmtpRefusal::PauseSending),
                SenderProbe::FromRefused { text, .. } | SenderProbe::PostmasterRefused { text, .. },
            ) => return Judged::plain(text, found),
            (refusal, _) => refusal,
        };
        let (Some(code), true) = (code, after_data) else {
            return Judged::plain(mail_reply, refusal);
        };
        // The probe's sender taken, its data refused: the mail's, unless the same refusal
        // met mails to other recipients just before.
        let recipient = &queued.to_address;
        let (refusal, unpark) =
            data_refusals.judge(refusal, (code, &mail_reply), recipient, queued.id);
        let error = match refusal {
            SmtpRefusal::SenderRefused => format!(
                "{mail_reply} (the same refusal after the data of \
                 {SAME_DATA_REFUSALS_FOR_SENDER} mails to different recipients in a row)"
            ),
            _ => mail_reply,
        };
        Judged {
            refusal,
            error,
            // Only a mail the run judged the mail's counts toward it once parked (one tried
            // again, parked at its last attempt, was not judged by it).
            refused_data: refusal == SmtpRefusal::ParkMail,
            unpark,
        }
    }

    /// How long a session with the SMTP server may take, up to the end of a mail's data
    /// (`email.timeout_seconds`).
    fn session_time(&self) -> Duration {
        Duration::from_secs(self.ctx.settings.email.timeout_seconds)
    }

    /// Opens a session: connects, secures it and logs in as `email.tls` and `email.username`
    /// say (lettre's connection timeout bounds the connection only: callers bound the rest).
    async fn open_session(&self) -> Result<AsyncSmtpConnection, lettre::transport::smtp::Error> {
        let settings = &self.ctx.settings.email;
        let hello = ClientId::default();
        let wrapper = match &self.tls {
            Tls::Wrapper(parameters) => Some(parameters.clone()),
            Tls::None | Tls::Opportunistic(_) | Tls::Required(_) => None,
        };
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            (settings.host.as_str(), settings.port),
            Some(self.session_time()),
            &hello,
            wrapper,
            None,
        )
        .await?;
        // (`session_setup` never makes an opportunistic TLS: required or none.)
        if let Tls::Required(parameters) = &self.tls {
            conn.starttls(parameters.clone(), &hello).await?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        Ok(conn)
    }

    /// Hands `message` to the SMTP server on a session of its own. Up to the end of its data
    /// the session gets `email.timeout_seconds`; from then on the server may have the mail,
    /// and its reply gets `email.data_reply_timeout_seconds` from the data's end (a stop cuts
    /// that wait to one session time). Once the server took the mail, its `QUIT` is left to a
    /// task of its own: a server slow to answer it must not make the mail count as unsent.
    async fn deliver(&self, message: &Message, shutdown: &watch::Receiver<bool>) -> Delivered {
        let envelope = message.envelope();
        let data = message.formatted();
        let data_ended = OnceLock::new();
        let exchange = async {
            let mut conn = self.open_session().await?;
            let parameters = mail_parameters(&conn, envelope, &data)?;
            conn.command(Mail::new(envelope.from().cloned(), parameters))
                .await?;
            for to in envelope.to() {
                conn.command(Rcpt::new(to.clone(), vec![])).await?;
            }
            conn.command(Data).await?;
            let data = DataThenEnd {
                data: Some(&data),
                ended_at: &data_ended,
            };
            conn.message_iter(data).await?;
            Ok::<_, SessionFailure>(conn)
        };
        let mut exchange = std::pin::pin!(exchange);
        let ended = match tokio::time::timeout(self.session_time(), exchange.as_mut()).await {
            Ok(ended) => ended,
            Err(_) => {
                let Some(&ended_at) = data_ended.get() else {
                    return Delivered::TimedOut;
                };
                let reply_time =
                    Duration::from_secs(self.ctx.settings.email.data_reply_timeout_seconds);
                let mut stop = shutdown.clone();
                let stop_waits = async {
                    shutdown_signalled(&mut stop).await;
                    tokio::time::sleep(self.session_time()).await;
                };
                tokio::select! {
                    ended = tokio::time::timeout_at(ended_at + reply_time, exchange.as_mut()) => {
                        match ended {
                            Ok(ended) => ended,
                            Err(_) => return Delivered::Unanswered { stopping: false },
                        }
                    }
                    _ = stop_waits => return Delivered::Unanswered { stopping: true },
                }
            }
        };
        match ended {
            Ok(conn) => {
                self.quit_in_background(conn);
                Delivered::Accepted
            }
            Err(failure) => Delivered::Refused(SessionFailure {
                after_data: data_ended.get().is_some(),
                ..failure
            }),
        }
    }

    /// Ends a session whose answers are in: `QUIT` on a task of its own, given a short grace
    /// (a server slow to answer it must not hold what was heard, nor keep connections open
    /// while mails go on).
    fn quit_in_background(&self, mut conn: AsyncSmtpConnection) {
        let grace = self.session_time().min(QUIT_GRACE);
        tokio::spawn(async move {
            let _ = tokio::time::timeout(grace, conn.quit()).await;
        });
    }

    /// Whether a fresh session (connect, TLS, login, NOOP) works, within one session's time.
    async fn session_works(&self) -> bool {
        let test = async {
            let mut conn = self.open_session().await.ok()?;
            let works = conn.test_connected().await;
            self.quit_in_background(conn);
            Some(works)
        };
        matches!(
            tokio::time::timeout(self.session_time(), test).await,
            Ok(Some(true))
        )
    }

    /// Asks the SMTP server, on a session of its own, whether it takes `email.from` as
    /// sender: `MAIL FROM`, `RCPT TO` the sender domain's postmaster, then `RSET` and `QUIT`,
    /// no mail sent. What it heard is judged by `refusal_after_sender_probe`.
    async fn sender_probe(&self) -> SenderProbe {
        let timeout = self.session_time();
        let probe = async {
            let mut conn = self.open_session().await?;
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
            // What was heard is the answer: `RSET` and `QUIT` are not waited for.
            tokio::spawn(async move {
                let _ = tokio::time::timeout(QUIT_GRACE, conn.command(Rset)).await;
                let _ = tokio::time::timeout(QUIT_GRACE, conn.quit()).await;
            });
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
    /// (the caller's). So do the mails this worker parked for what turned out to be the same
    /// fault (`unpark`), in the same transaction. Logged once for the batch: as an error for a
    /// fault (mail stops until the server comes back or an admin mends the settings), as
    /// information for a stop.
    async fn hand_back(
        &self,
        mails: &[mail::ClaimedMail],
        HandBack {
            halt,
            error,
            unpark,
        }: HandBack,
        wait: Duration,
        shutdown: &watch::Receiver<bool>,
        lease_ends: Instant,
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
            Halt::LeaseEnding => {
                tracing::info!(
                    mail = mails[0].id,
                    mails = mails.len(),
                    "the batch's lease would end during the next mail: mails not sent yet go \
                     back to the queue, to be claimed again"
                );
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
        let (error, unpark) = (error.as_deref(), unpark.as_slice());
        let unparked = self
            .until_lease_ends(
                shutdown,
                lease_ends,
                mails[0].id,
                "handing mails back",
                "they go back when their lease expires, an attempt counted each (and the \
                 mails parked for the same refusal stay parked)",
                || {
                    self.ctx.transaction(move |conn| {
                        async move {
                            mail::release_mails(conn, mails, error).await?;
                            mail::unpark_mails(conn, unpark, error).await
                        }
                        .scope_boxed()
                    })
                },
            )
            .await;
        if let Some(unparked @ 1..) = unparked {
            tracing::warn!(
                mails = unparked,
                ids = ?unpark.iter().map(|parked| parked.id).collect::<Vec<_>>(),
                "mails parked for the same refusal go back to the queue, their attempt not \
                 counted"
            );
        }
    }

    /// The server took the mail: it leaves the queue. Tried until it works (see
    /// [`Self::until_lease_ends`]); after the lease another worker could send it again.
    async fn record_sent(
        &self,
        queued: &mail::ClaimedMail,
        shutdown: &watch::Receiver<bool>,
        lease_ends: Instant,
    ) {
        let id = queued.id;
        let recorded = self
            .until_lease_ends(
                shutdown,
                lease_ends,
                id,
                "recording a sent mail",
                "it may be sent again",
                || {
                    self.ctx
                        .transaction(move |conn| mail::mail_sent(conn, id).scope_boxed())
                },
            )
            .await;
        if recorded.is_some() {
            tracing::info!(mail = id, kind = %queued.kind, "mail sent");
        }
    }

    /// Runs `op` (what `what` names, for the mails from `mail` on) until it works, while the
    /// database refuses it: not past the batch's lease (`lease_ends`), for after that the mails
    /// are no longer this worker's, and not past a shutdown, which would otherwise wait that long (minutes)
    /// for a database that may never come back. Once `shutdown` turns true, one last try is
    /// made at once; if it fails too, the work is dropped, with an error saying what follows
    /// (`given_up`), as at the lease's end. Returns what `op` gave, if it worked.
    async fn until_lease_ends<Op, Fut, T, E>(
        &self,
        shutdown: &watch::Receiver<bool>,
        lease_ends: Instant,
        mail: i64,
        what: &str,
        given_up: &str,
        mut op: Op,
    ) -> Option<T>
    where
        Op: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: Display,
    {
        // A clone of its own, to wait on: `run` still sees the change on its receiver.
        let mut shutdown = shutdown.clone();
        let mut failures: u32 = 0;
        let mut warned_at: Option<Instant> = None;
        let mut last_try = false;
        loop {
            let err = match op().await {
                Ok(done) => return Some(done),
                Err(err) => err,
            };
            failures += 1;
            let now = Instant::now();
            if last_try || now >= lease_ends {
                tracing::error!(
                    mail,
                    error = %err,
                    failures,
                    shutting_down = last_try,
                    "{what} failed; {given_up}"
                );
                return None;
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
    /// Handed back, for a fault of the instance's; the worker pauses.
    HandBack(HandBack),
}

/// Why the worker hands the rest of its batch back.
struct HandBack {
    halt: Halt,
    /// The error met (none for a stop).
    error: String,
    /// The mails this worker parked for what turned out to be the same fault: back to the
    /// queue too.
    unpark: Vec<mail::ParkedMail>,
}

impl HandBack {
    /// Not a fault: nothing met, nothing to unpark.
    fn stop(halt: Halt) -> HandBack {
        HandBack {
            halt,
            error: String::new(),
            unpark: Vec::new(),
        }
    }
}

/// What a mail's failure was judged to be.
struct Judged {
    refusal: SmtpRefusal,
    /// What the admin reads.
    error: String,
    /// Whether the server refused the mail's data: its parking then counts toward a refusal of
    /// our sender there (`DataRefusals`).
    refused_data: bool,
    /// Mails parked for the same refusal, now judged our sender's: back to the queue.
    unpark: Vec<mail::ParkedMail>,
}

impl Judged {
    /// A failure that is not a refusal of the mail's data.
    fn plain(error: String, refusal: SmtpRefusal) -> Judged {
        Judged {
            refusal,
            error,
            refused_data: false,
            unpark: Vec::new(),
        }
    }
}

/// Why the worker stops sending for a while.
#[derive(Clone, Copy)]
enum Halt {
    /// Not a fault: the worker is stopping before their turn.
    ShuttingDown,
    /// Not a fault: the batch's lease could end while the next mail is sent.
    LeaseEnding,
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

/// What one session did with a mail.
enum Delivered {
    /// The server took it.
    Accepted,
    /// The server refused it, or the session failed (before or after the data).
    Refused(SessionFailure),
    /// The session ran out of `email.timeout_seconds` before the whole mail was sent: the
    /// server does not have it.
    TimedOut,
    /// All of it was sent, and no reply came (within `email.data_reply_timeout_seconds`, or
    /// before a stop): the server may have it.
    Unanswered { stopping: bool },
}

/// A session's failure: the server's reply code, if it sent one, what to tell the admin, and
/// whether it came after the mail's data was all sent (the reply to its end).
struct SessionFailure {
    code: Option<u16>,
    text: String,
    after_data: bool,
}

impl From<lettre::transport::smtp::Error> for SessionFailure {
    fn from(err: lettre::transport::smtp::Error) -> Self {
        SessionFailure {
            code: err.status().map(u16::from),
            text: err.to_string(),
            after_data: false,
        }
    }
}

/// The mail's data for lettre's `message_iter`, which sends the data's end (`.`) once this
/// runs dry (after the data was written): `ended_at` is set then, when the server may start
/// to have the mail.
struct DataThenEnd<'a> {
    data: Option<&'a [u8]>,
    ended_at: &'a OnceLock<Instant>,
}

impl<'a> Iterator for DataThenEnd<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let part = self.data.take();
        if part.is_none() {
            let _ = self.ended_at.set(Instant::now());
        }
        part
    }
}

/// The `MAIL FROM` parameters a mail needs, as lettre's own send asks for them: SMTPUTF8 for
/// addresses beyond ASCII and 8BITMIME for such data, refused if the server lacks them.
fn mail_parameters(
    conn: &AsyncSmtpConnection,
    envelope: &Envelope,
    data: &[u8],
) -> Result<Vec<MailParameter>, SessionFailure> {
    let lacks = |what: &str| SessionFailure {
        code: None,
        text: format!("the SMTP server does not support {what}, which this mail needs"),
        after_data: false,
    };
    let server = conn.server_info();
    let mut parameters = Vec::new();
    let mut addresses = envelope.from().into_iter().chain(envelope.to());
    if addresses.any(|address| !AsRef::<str>::as_ref(address).is_ascii()) {
        if !server.supports_feature(Extension::SmtpUtfEight) {
            return Err(lacks("SMTPUTF8 (addresses beyond ASCII)"));
        }
        parameters.push(MailParameter::SmtpUtfEight);
    }
    if !data.is_ascii() {
        if !server.supports_feature(Extension::EightBitMime) {
            return Err(lacks("8BITMIME (text beyond ASCII)"));
        }
        parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    Ok(parameters)
}

/// The longest one mail can hold the worker: its session up to the data's end, the wait for
/// the reply, after a failure the session test and the sender probe, and 10 s to record it.
fn one_mail_at_worst(settings: &EmailSettings) -> Duration {
    Duration::from_secs(settings.timeout_seconds * 3 + settings.data_reply_timeout_seconds + 10)
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
