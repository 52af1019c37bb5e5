//! Mails: their kinds (which ones a member may refuse) and the FR/EN templates of the account
//! mails, rendered as plain text and HTML.

use crate::{html::escape_html, Language};
use chrono::{DateTime, Utc};

/// What a mail is about. Transactional kinds (the account's own safety) cannot be refused;
/// the others carry a one-click unsubscribe link for their kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    VerifyEmail,
    PasswordReset,
    ConfirmNewEmail,
    EmailChanged,
    /// Notifications of activity (replies, mentions…).
    Notifications,
    /// Daily or weekly summaries.
    Digest,
    /// The welcome and onboarding messages.
    Onboarding,
}

impl MailKind {
    pub const ALL: [MailKind; 7] = [
        MailKind::VerifyEmail,
        MailKind::PasswordReset,
        MailKind::ConfirmNewEmail,
        MailKind::EmailChanged,
        MailKind::Notifications,
        MailKind::Digest,
        MailKind::Onboarding,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::VerifyEmail => "verify_email",
            MailKind::PasswordReset => "password_reset",
            MailKind::ConfirmNewEmail => "confirm_new_email",
            MailKind::EmailChanged => "email_changed",
            MailKind::Notifications => "notifications",
            MailKind::Digest => "digest",
            MailKind::Onboarding => "onboarding",
        }
    }

    pub fn parse(text: &str) -> Option<MailKind> {
        MailKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Sent whatever the member's preferences: they protect the account itself.
    pub fn is_transactional(self) -> bool {
        matches!(
            self,
            MailKind::VerifyEmail
                | MailKind::PasswordReset
                | MailKind::ConfirmNewEmail
                | MailKind::EmailChanged
        )
    }
}

/// A mail ready to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct MailContent {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl MailContent {
    /// A mail of a greeting, paragraphs and an optional call to action (label, URL), as text
    /// and as HTML (everything escaped).
    pub fn compose(
        subject: String,
        greeting: &str,
        paragraphs: &[String],
        action: Option<(&str, &str)>,
        footer: &str,
    ) -> MailContent {
        let mut text = format!("{greeting}\n\n");
        let mut html = format!(
            "<!DOCTYPE html>\n<html><body>\n<p>{}</p>\n",
            escape_html(greeting)
        );
        for p in paragraphs {
            text.push_str(p);
            text.push_str("\n\n");
            html.push_str(&format!("<p>{}</p>\n", escape_html(p)));
        }
        if let Some((label, url)) = action {
            text.push_str(&format!("{label}:\n{url}\n\n"));
            html.push_str(&format!(
                "<p><a href=\"{}\">{}</a></p>\n",
                escape_html(url),
                escape_html(label)
            ));
        }
        text.push_str(&format!("-- \n{footer}\n"));
        html.push_str(&format!(
            "<hr>\n<p><small>{}</small></p>\n</body></html>\n",
            escape_html(footer)
        ));
        MailContent {
            subject,
            text,
            html,
        }
    }
}

fn when(at: DateTime<Utc>, language: Language) -> String {
    match language {
        Language::Fr => at.format("%d/%m/%Y à %H:%M UTC").to_string(),
        Language::En => at.format("%Y-%m-%d at %H:%M UTC").to_string(),
    }
}

fn footer(instance: &str, language: Language) -> String {
    match language {
        Language::Fr => format!("{instance} — ce message concerne votre compte."),
        Language::En => format!("{instance} — this message is about your account."),
    }
}

pub(crate) fn greeting(username: &str, language: Language) -> String {
    match language {
        Language::Fr => format!("Bonjour {username},"),
        Language::En => format!("Hello {username},"),
    }
}

/// "Confirm your address": sent on registration (and on request).
pub fn verify_email(
    language: Language,
    instance: &str,
    username: &str,
    link: &str,
    expires: DateTime<Utc>,
) -> MailContent {
    let (subject, body, label) = match language {
        Language::Fr => (
            format!("Confirmez votre adresse sur {instance}"),
            vec![
                "Pour confirmer que cette adresse est bien la vôtre, ouvrez le lien ci-dessous."
                    .to_owned(),
                format!("Ce lien est valable jusqu'au {}.", when(expires, language)),
                "Si vous n'avez pas créé de compte, ignorez ce message.".to_owned(),
            ],
            "Confirmer mon adresse",
        ),
        Language::En => (
            format!("Confirm your address on {instance}"),
            vec![
                "To confirm that this address is yours, open the link below.".to_owned(),
                format!("This link works until {}.", when(expires, language)),
                "If you did not create an account, ignore this message.".to_owned(),
            ],
            "Confirm my address",
        ),
    };
    MailContent::compose(
        subject,
        &greeting(username, language),
        &body,
        Some((label, link)),
        &footer(instance, language),
    )
}

pub fn password_reset(
    language: Language,
    instance: &str,
    username: &str,
    link: &str,
    expires: DateTime<Utc>,
) -> MailContent {
    let (subject, body, label) = match language {
        Language::Fr => (
            format!("Réinitialiser votre mot de passe sur {instance}"),
            vec![
                "Quelqu'un (sans doute vous) a demandé à réinitialiser le mot de passe de ce compte."
                    .to_owned(),
                format!(
                    "Le lien ci-dessous ne sert qu'une fois et expire le {}.",
                    when(expires, language)
                ),
                "Si ce n'était pas vous, ignorez ce message : votre mot de passe ne change pas."
                    .to_owned(),
            ],
            "Choisir un nouveau mot de passe",
        ),
        Language::En => (
            format!("Reset your password on {instance}"),
            vec![
                "Someone (probably you) asked to reset this account's password.".to_owned(),
                format!(
                    "The link below works once and expires on {}.",
                    when(expires, language)
                ),
                "If it was not you, ignore this message: your password stays as it is.".to_owned(),
            ],
            "Choose a new password",
        ),
    };
    MailContent::compose(
        subject,
        &greeting(username, language),
        &body,
        Some((label, link)),
        &footer(instance, language),
    )
}

/// Sent to the new address of an address change.
pub fn confirm_new_email(
    language: Language,
    instance: &str,
    username: &str,
    link: &str,
    expires: DateTime<Utc>,
) -> MailContent {
    let (subject, body, label) = match language {
        Language::Fr => (
            format!("Confirmez votre nouvelle adresse sur {instance}"),
            vec![
                "Vous avez demandé à utiliser cette adresse pour votre compte. Elle remplacera l'ancienne une fois confirmée."
                    .to_owned(),
                format!("Ce lien est valable jusqu'au {}.", when(expires, language)),
            ],
            "Confirmer la nouvelle adresse",
        ),
        Language::En => (
            format!("Confirm your new address on {instance}"),
            vec![
                "You asked to use this address for your account. It replaces the old one once confirmed."
                    .to_owned(),
                format!("This link works until {}.", when(expires, language)),
            ],
            "Confirm the new address",
        ),
    };
    MailContent::compose(
        subject,
        &greeting(username, language),
        &body,
        Some((label, link)),
        &footer(instance, language),
    )
}

/// Sent to the old address when an address change is asked for.
pub fn email_change_requested(
    language: Language,
    instance: &str,
    username: &str,
    new_address: &str,
    reset_link: &str,
) -> MailContent {
    let (subject, body, label) = match language {
        Language::Fr => (
            format!("Changement d'adresse demandé sur {instance}"),
            vec![
                format!("Une demande de changement de l'adresse de votre compte vers {new_address} a été faite. Elle prendra effet quand la nouvelle adresse sera confirmée."),
                "Si ce n'était pas vous, changez votre mot de passe tout de suite.".to_owned(),
            ],
            "Changer mon mot de passe",
        ),
        Language::En => (
            format!("Address change requested on {instance}"),
            vec![
                format!("Someone asked to change your account's address to {new_address}. It takes effect once the new address is confirmed."),
                "If it was not you, change your password at once.".to_owned(),
            ],
            "Change my password",
        ),
    };
    MailContent::compose(
        subject,
        &greeting(username, language),
        &body,
        Some((label, reset_link)),
        &footer(instance, language),
    )
}

/// Where a token is past its use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    Usable,
    Used,
    Expired,
}

/// A single-use token's state at `now`: spent first (spent tokens stay spent), then expired.
pub fn token_state(
    used_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> TokenState {
    if used_at.is_some() {
        TokenState::Used
    } else if expires_at <= now {
        TokenState::Expired
    } else {
        TokenState::Usable
    }
}

/// What the mail worker does after the SMTP server did not take a mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpRefusal {
    /// The refusal is about the mail itself (its address, its content): parked, kept for an
    /// admin, never tried again.
    ParkMail,
    /// A passing trouble with this mail (a full mailbox for now, a greylisting): the mail is
    /// tried again later, the attempt counted toward `email.max_attempts`.
    RetryMail,
    /// The instance cannot hold a session with its SMTP server (unreachable, TLS failing, its
    /// login refused), so every mail would meet the same failure: the mail stays queued
    /// without the attempt counted, and the worker stops sending for a while.
    PauseSending,
    /// The server refuses the instance's own sender address (`email.from`): every mail would
    /// meet the same refusal, so it is treated as [`SmtpRefusal::PauseSending`] (nothing
    /// parked or counted), with an error that names `email.from` as the setting to mend.
    SenderRefused,
}

/// How to treat a mail the SMTP server did not take, by the server's reply code (`None`: no
/// reply at all, as when the server cannot be reached or TLS fails) and by whether a fresh
/// session (connect, TLS, login, NOOP) works right after.
///
/// The code alone cannot tell: a login refusal (535) is a 5xx like a mailbox's refusal, a
/// 504 may answer our session's command or one mail's odd address. Blaming the mail for a
/// session problem would park every queued mail at its first tries (a wrong `email.password`
/// would lose them all); blaming the session for one mail's problem would hold that mail, and
/// those behind it, forever. So a mail is blamed only when the session works — except for
/// 530 "authentication required": a session without `email.username` works up to NOOP, yet
/// the server takes no mail without a login.
pub fn smtp_refusal(reply_code: Option<u16>, session_works: bool) -> SmtpRefusal {
    match reply_code {
        _ if !session_works => SmtpRefusal::PauseSending,
        Some(530) => SmtpRefusal::PauseSending,
        Some(500..=599) => SmtpRefusal::ParkMail,
        _ => SmtpRefusal::RetryMail,
    }
}

/// Whether a refusal calls for asking the server, on a session of its own, whether it takes
/// the instance's sender before the mail is blamed: only a mail about to be parked. A server
/// refusing our sender answers `MAIL FROM` or, more often, the first `RCPT TO` (Postfix delays
/// its sender checks to it) with a 5xx (553 "sender address rejected: not owned by user")
/// while the session works, and nothing in the reply's code tells it from a refusal of the
/// mail's recipient or content. A server refusing the sender only after `DATA` (Microsoft
/// 365's "SendAsDenied", a relay checking the From's SPF or DMARC alignment) takes the probe's
/// `MAIL FROM` and `RCPT TO`: such a refusal is told apart by its words
/// ([`refuses_sending_as_our_sender`]) or by its repetition ([`DataRefusals`]).
pub fn sender_probe_needed(refusal: SmtpRefusal) -> bool {
    refusal == SmtpRefusal::ParkMail
}

/// Words with which a server refuses the instance's login the use of its sender address
/// (lowercase): Microsoft 365's "554 5.2.252 SendAsDenied; … not allowed to send as …" after
/// the data, its "550 5.7.60 … does not have permissions to send as this sender".
const SEND_AS_REFUSALS: [&str; 4] = [
    "sendasdenied",
    "not allowed to send as",
    "permission to send as",
    "permissions to send as",
];

/// Whether a mail's refusal (its reply text) says that the server does not let the instance
/// send as its sender address: then every mail meets it, whatever its recipient or content
/// (all carry the same sender, in the envelope and in `From`), and the refusal is the
/// sender's at its first mail. Only these words count, not "sender" alone: "the recipient
/// has blocked the sender" or "sender's message looks like spam" are about one recipient or
/// one mail, and blaming our sender for them would hold the whole queue behind one of them.
pub fn refuses_sending_as_our_sender(reply: &str) -> bool {
    let reply = reply.to_ascii_lowercase();
    SEND_AS_REFUSALS.iter().any(|words| reply.contains(words))
}

/// How many mails to different recipients, refused one after the other after their data with
/// the same reply, make that reply the sender's (see [`DataRefusals`]). Up to one less are
/// parked before it is noticed (and are put back then, by the worker that parked them); more
/// would lose more mails to a wrong setting, fewer would make two members' bad mails pause
/// the queue until another mail goes through.
pub const SAME_DATA_REFUSALS_FOR_SENDER: usize = 3;

/// A server's reply with what changes from mail to mail masked, for telling whether mails met
/// "the same" refusal: the code, then the reply's words, lowercase, where each word holding a
/// digit or an `@` (addresses, queue ids, host names, diagnostic data, a timestamp) becomes
/// `#` (one `#` for a run of them). An enhanced status code (RFC 3463, `5.2.252`) is kept: it
/// is the refusal's reason, not a detail of the mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyPattern(String);

impl ReplyPattern {
    pub fn of(code: u16, reply: &str) -> ReplyPattern {
        let mut pattern = code.to_string();
        let mut masking = false;
        for word in reply.split_whitespace() {
            let kept = match enhanced_status(word) {
                Some(status) => Some(status),
                None if word.contains(|c: char| c.is_ascii_digit() || c == '@') => None,
                None => Some(word),
            };
            match kept {
                Some(word) => {
                    pattern.push(' ');
                    pattern.push_str(&word.to_lowercase());
                }
                None if !masking => pattern.push_str(" #"),
                None => {}
            }
            masking = kept.is_none();
        }
        ReplyPattern(pattern)
    }
}

/// The enhanced status code `word` is (RFC 3463: class 2, 4 or 5, then subject and detail, as
/// `5.7.1`), punctuation around it aside.
fn enhanced_status(word: &str) -> Option<&str> {
    let status = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let mut parts = status.split('.');
    let class = parts.next()?;
    let numbers = [parts.next()?, parts.next()?];
    let numeric =
        |part: &str| (1..=3).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit());
    (matches!(class, "2" | "4" | "5")
        && numbers.iter().all(|part| numeric(part))
        && parts.next().is_none())
    .then_some(status)
}

/// Whether a refusal is plainly about its recipient: it names the recipient's address, or its
/// enhanced status code is one of the recipient's (RFC 3463: X.1.x, the addresses, but X.1.7
/// and X.1.8, the sender's; X.2.1 to X.2.4, the mailbox disabled, full, the mail too large for
/// it, a list failing). Such refusals are the recipient's however many follow: three mistyped
/// addresses in a row (a wave of bogus sign-ups) must not hold the queue.
fn about_its_recipient(reply: &str, recipient: &str) -> bool {
    if reply
        .to_ascii_lowercase()
        .contains(&recipient.to_ascii_lowercase())
    {
        return true;
    }
    let Some(status) = reply.split_whitespace().find_map(enhanced_status) else {
        return false;
    };
    let mut parts = status.split('.').skip(1);
    match (parts.next(), parts.next()) {
        (Some("1"), Some(detail)) => !matches!(detail, "7" | "8"),
        (Some("2"), Some(detail)) => matches!(detail, "1" | "2" | "3" | "4"),
        _ => false,
    }
}

/// The mail worker's memory of the mails refused after their data, to tell a server that
/// refuses our sender only there (Microsoft 365's "SendAsDenied" after the data, a relay
/// checking the From's SPF or DMARC alignment: the sender probe's `MAIL FROM` and `RCPT TO`
/// are taken) from one bad mail. Each such refusal, on its own, is the mail's (parked), but
/// when the same reply ([`ReplyPattern`]) refuses [`SAME_DATA_REFUSALS_FOR_SENDER`] mails to
/// different recipients in a row, it is the sender's: the last one is judged
/// [`SmtpRefusal::SenderRefused`], and the mails parked for that reply (`M`: what the worker
/// needs to put them back) are handed back to be queued again. From then on the same reply is
/// the sender's at its first mail, until a mail goes through.
///
/// "In a row": a mail the server takes, or one refused after its data otherwise, ends the run
/// (a refusal about its recipient too, see `about_its_recipient`); mails refused before
/// their data (the sender probe judges those) or tried again later leave it as it is. The
/// same recipient's mails count once: one member's mailbox refusing everything is theirs.
///
/// A judgement by repetition is a guess, so it must meet a mail it did not rest on: the mails
/// it held back ([`DataRefusals::held`]) are claimed after any other due mail, and a mail
/// taken disproves it for them — they are parked at their next refusal, uncounted toward any
/// run, while other mails meeting the same reply may start a run of their own (a relay that
/// takes mail to some domains and refuses our sender for others). Without that, three mails
/// refused for their content (one spammy digest) would be retried first after each pause,
/// judged the sender's again, and hold every other mail behind them for ever. (Each other
/// mail meeting the same reply while it stands is held too, one per pause: a digest refused
/// to many members pauses sending once per member before a mail of another kind is tried.)
#[derive(Debug)]
pub struct DataRefusals<M> {
    /// The reply of the run, if any.
    reply: Option<ReplyPattern>,
    /// Whether the run already was judged the sender's.
    judged_senders: bool,
    /// The mails parked for `reply`: their recipients (lowercase), ids, and what the worker
    /// needs to put them back.
    parked: Vec<(String, i64, M)>,
    /// The mails (ids) a judgement of the sender's rests on: tried last.
    held: Vec<i64>,
    /// Mails a judgement of the sender's rested on, disproven by a mail taken (the latest).
    disproven: Vec<i64>,
}

/// How many mails of disproven judgements a worker remembers (a few runs' worth).
const DISPROVEN_KEPT: usize = 64;

impl<M> Default for DataRefusals<M> {
    fn default() -> Self {
        DataRefusals {
            reply: None,
            judged_senders: false,
            parked: Vec::new(),
            held: Vec::new(),
            disproven: Vec::new(),
        }
    }
}

impl<M> DataRefusals<M> {
    /// A mail went through: the sender is taken, the run ends (what it parked stays parked),
    /// and the mails a judgement of the sender's rested on are its no more.
    pub fn accepted(&mut self) {
        let held = std::mem::take(&mut self.held);
        self.new_run(None);
        self.disproven.extend(held);
        let excess = self.disproven.len().saturating_sub(DISPROVEN_KEPT);
        self.disproven.drain(..excess);
    }

    /// The mails (ids) held back by a judgement of the sender's: to be claimed after any other
    /// due mail.
    pub fn held(&self) -> &[i64] {
        &self.held
    }

    /// A new run (of `reply`, or none): only what was disproven is kept.
    fn new_run(&mut self, reply: Option<ReplyPattern>) {
        let disproven = std::mem::take(&mut self.disproven);
        *self = DataRefusals {
            reply,
            disproven,
            ..DataRefusals::default()
        };
    }

    /// The refusal of the mail `mail_id` to `recipient` the server refused after its data with
    /// `code` and `reply`, judged `refusal` so far (only [`SmtpRefusal::ParkMail`] is judged
    /// again). Turned into [`SmtpRefusal::SenderRefused`], it comes with the mails parked for
    /// the same reply, to put back in the queue. Call [`DataRefusals::record_parked`] once a
    /// mail judged [`SmtpRefusal::ParkMail`] here is parked.
    pub fn judge(
        &mut self,
        refusal: SmtpRefusal,
        (code, reply): (u16, &str),
        recipient: &str,
        mail_id: i64,
    ) -> (SmtpRefusal, Vec<M>) {
        // A mail a disproven judgement rested on is the mail's: parked, the run left alone.
        if refusal != SmtpRefusal::ParkMail || self.disproven.contains(&mail_id) {
            return (refusal, Vec::new());
        }
        // A refusal about its recipient starts no run: nothing is counted for it.
        let pattern =
            (!about_its_recipient(reply, recipient)).then(|| ReplyPattern::of(code, reply));
        if pattern.is_none() || self.reply != pattern {
            self.new_run(pattern);
            return (refusal, Vec::new());
        }
        if !self.judged_senders {
            let recipient = recipient.to_ascii_lowercase();
            let mut recipients: Vec<&str> =
                self.parked.iter().map(|(to, ..)| to.as_str()).collect();
            recipients.push(&recipient);
            recipients.sort_unstable();
            recipients.dedup();
            if recipients.len() < SAME_DATA_REFUSALS_FOR_SENDER {
                return (refusal, Vec::new());
            }
            self.judged_senders = true;
        }
        let parked = std::mem::take(&mut self.parked);
        for id in std::iter::once(mail_id).chain(parked.iter().map(|(_, id, _)| *id)) {
            if !self.held.contains(&id) {
                self.held.push(id);
            }
        }
        (
            SmtpRefusal::SenderRefused,
            parked.into_iter().map(|(.., mail)| mail).collect(),
        )
    }

    /// The mail `mail_id` to `recipient`, just judged [`SmtpRefusal::ParkMail`] by
    /// [`DataRefusals::judge`], was parked, as `mail`.
    pub fn record_parked(&mut self, recipient: &str, mail_id: i64, mail: M) {
        if self.reply.is_some() {
            self.parked
                .push((recipient.to_ascii_lowercase(), mail_id, mail));
        }
    }
}

/// What the sender probe heard, on a fresh session: `MAIL FROM:<email.from>`, then (if taken)
/// `RCPT TO:<postmaster@its domain>`. Replies are the server's code and its whole error text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderProbe {
    /// Both taken.
    Accepted,
    /// `MAIL FROM` refused.
    FromRefused { code: u16, text: String },
    /// `RCPT TO` the postmaster refused (Postfix, by default, judges the sender only there).
    PostmasterRefused { code: u16, text: String },
    /// No reply: it could not connect or log in, or ran out of time.
    NoAnswer,
}

/// The refusal once the sender probe is done (`mail_reply`: the error text of the mail's own
/// refusal). Only a mail about to be parked is judged again:
/// - a 5xx to `MAIL FROM` (530 aside) is the configuration's fault: the sender is refused;
/// - a 5xx to the postmaster counts as the sender's only when it is plainly about the sender
///   (it says "sender", or is word for word the mail's own refusal, which then did not depend
///   on the recipient). A server may refuse the postmaster for reasons of its own (relaying
///   to a domain it does not serve, a domain without MX): blaming the sender then would hold
///   the whole queue behind one mistyped address, so the mail is parked as before;
/// - 530 (a login required) is the session's fault;
/// - a 4xx, or no answer, proves nothing: the mail is tried again (an attempt counted) rather
///   than parked on a guess;
/// - a sender taken leaves the mail blamed: its recipient or its content was refused.
pub fn refusal_after_sender_probe(
    refusal: SmtpRefusal,
    probe: &SenderProbe,
    mail_reply: &str,
) -> SmtpRefusal {
    if refusal != SmtpRefusal::ParkMail {
        return refusal;
    }
    let (code, about_sender) = match probe {
        SenderProbe::Accepted => return refusal,
        SenderProbe::NoAnswer => return SmtpRefusal::RetryMail,
        SenderProbe::FromRefused { code, .. } => (*code, true),
        SenderProbe::PostmasterRefused { code, text } => (
            *code,
            text == mail_reply || text.to_ascii_lowercase().contains("sender"),
        ),
    };
    match code {
        530 => SmtpRefusal::PauseSending,
        400..=499 => SmtpRefusal::RetryMail,
        500..=599 if about_sender => SmtpRefusal::SenderRefused,
        _ => refusal,
    }
}

/// The longest the mail worker pauses after a session refusal.
const MAX_SENDING_PAUSE_SECS: f64 = 15.0 * 60.0;

/// How long the mail worker stops sending after its `pauses_before + 1`th session failure in
/// a row: `first_delay_secs`, doubling, at most a quarter of an hour (a provider back up or a
/// rotated password working again is noticed soon; a mended setting at the next start).
pub fn sending_pause(pauses_before: u32, first_delay_secs: f64) -> std::time::Duration {
    let secs = first_delay_secs * 2f64.powi(pauses_before.min(30) as i32);
    std::time::Duration::from_secs_f64(secs.min(MAX_SENDING_PAUSE_SECS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_session_that_does_not_work_pauses_sending_whatever_the_mail_met() {
        for code in [
            None,
            Some(421),
            Some(454),
            Some(504),
            Some(530),
            Some(535),
            Some(554),
        ] {
            assert_eq!(
                smtp_refusal(code, false),
                SmtpRefusal::PauseSending,
                "{code:?}"
            );
        }
    }

    #[test]
    fn a_login_required_pauses_sending_even_when_a_session_without_one_works() {
        assert_eq!(smtp_refusal(Some(530), true), SmtpRefusal::PauseSending);
    }

    #[test]
    fn with_a_working_session_a_permanent_refusal_parks_the_mail_and_others_retry_it() {
        for code in [500, 501, 504, 535, 550, 552, 553, 554] {
            assert_eq!(
                smtp_refusal(Some(code), true),
                SmtpRefusal::ParkMail,
                "{code}"
            );
        }
        for code in [Some(421), Some(450), Some(451), Some(452), None] {
            assert_eq!(smtp_refusal(code, true), SmtpRefusal::RetryMail, "{code:?}");
        }
    }

    #[test]
    fn only_a_mail_about_to_be_parked_probes_the_sender() {
        assert!(sender_probe_needed(SmtpRefusal::ParkMail));
        for refusal in [
            SmtpRefusal::RetryMail,
            SmtpRefusal::PauseSending,
            SmtpRefusal::SenderRefused,
        ] {
            assert!(!sender_probe_needed(refusal), "{refusal:?}");
        }
    }

    fn from_refused(code: u16) -> SenderProbe {
        SenderProbe::FromRefused {
            code,
            text: format!("permanent error ({code}): no"),
        }
    }

    fn postmaster_refused(code: u16, text: &str) -> SenderProbe {
        SenderProbe::PostmasterRefused {
            code,
            text: text.to_owned(),
        }
    }

    const MAILS_OWN: &str = "permanent error (550): 5.1.1 <ivy@refused.example>: no such user";

    /// Each case: its name, the refusal the mail met, what the probe heard, the mail's own
    /// reply text, and the refusal once judged.
    #[test]
    fn the_sender_probe_blames_the_sender_only_when_it_shows_the_sender_refused() {
        use SmtpRefusal::{ParkMail, PauseSending, RetryMail, SenderRefused};
        // Postfix's login mismatch, at the postmaster's RCPT TO.
        let mismatch = "permanent error (553): 5.7.1 <club@late.example>: Sender address \
                        rejected: not owned by user";
        let policy = "permanent error (554): 5.7.1 Service unavailable";
        let relay = "permanent error (554): 5.7.1 <postmaster@example.org>: Relay access denied";
        let cases = [
            // A refused sender is the configuration's fault, not the mail's.
            (
                "MAIL FROM refused 500",
                ParkMail,
                from_refused(500),
                MAILS_OWN,
                SenderRefused,
            ),
            (
                "MAIL FROM refused 501",
                ParkMail,
                from_refused(501),
                MAILS_OWN,
                SenderRefused,
            ),
            (
                "MAIL FROM refused 550",
                ParkMail,
                from_refused(550),
                MAILS_OWN,
                SenderRefused,
            ),
            (
                "MAIL FROM refused 553",
                ParkMail,
                from_refused(553),
                MAILS_OWN,
                SenderRefused,
            ),
            (
                "MAIL FROM refused 554",
                ParkMail,
                from_refused(554),
                MAILS_OWN,
                SenderRefused,
            ),
            (
                "postmaster refused: sender mismatch, mail refused otherwise",
                ParkMail,
                postmaster_refused(553, mismatch),
                MAILS_OWN,
                SenderRefused,
            ),
            (
                "postmaster refused: sender mismatch, mail refused alike",
                ParkMail,
                postmaster_refused(553, mismatch),
                mismatch,
                SenderRefused,
            ),
            // Word for word the mail's own refusal: it did not depend on the recipient.
            (
                "postmaster refused word for word as the mail",
                ParkMail,
                postmaster_refused(554, policy),
                policy,
                SenderRefused,
            ),
            // One mistyped address must not hold the whole queue: a server that refuses the
            // postmaster for reasons of its own (here: relaying) leaves the mail parked.
            (
                "postmaster refused for other reasons",
                ParkMail,
                postmaster_refused(554, relay),
                MAILS_OWN,
                ParkMail,
            ),
            // A login required by the probe is the session's fault.
            (
                "MAIL FROM refused 530",
                ParkMail,
                from_refused(530),
                MAILS_OWN,
                PauseSending,
            ),
            (
                "postmaster refused 530",
                ParkMail,
                postmaster_refused(530, "5.7.0 Authentication required"),
                MAILS_OWN,
                PauseSending,
            ),
            // Unanswered or deferred: the mail is tried again instead of parked.
            (
                "no answer",
                ParkMail,
                SenderProbe::NoAnswer,
                MAILS_OWN,
                RetryMail,
            ),
            (
                "MAIL FROM deferred 421",
                ParkMail,
                from_refused(421),
                MAILS_OWN,
                RetryMail,
            ),
            (
                "postmaster deferred 450",
                ParkMail,
                postmaster_refused(450, "4.1.8 Sender address rejected: try later"),
                MAILS_OWN,
                RetryMail,
            ),
            (
                "MAIL FROM deferred 451",
                ParkMail,
                from_refused(451),
                MAILS_OWN,
                RetryMail,
            ),
            // An accepted sender leaves the mail blamed.
            (
                "accepted",
                ParkMail,
                SenderProbe::Accepted,
                MAILS_OWN,
                ParkMail,
            ),
            // Only a parking is ever changed.
            (
                "a retry stays",
                RetryMail,
                from_refused(553),
                MAILS_OWN,
                RetryMail,
            ),
            (
                "a pause stays",
                PauseSending,
                from_refused(553),
                MAILS_OWN,
                PauseSending,
            ),
        ];
        for (case, refusal, probe, mail_reply, expected) in cases {
            assert_eq!(
                refusal_after_sender_probe(refusal, &probe, mail_reply),
                expected,
                "{case}"
            );
        }
    }

    /// Microsoft 365's refusal after the data of a mail sent as an address the login may not
    /// use, as lettre words it; its diagnostic data and host names change from mail to mail.
    fn send_as_denied(diagnostic: &str, host: &str) -> String {
        format!(
            "permanent error (554): 5.2.252 SendAsDenied; club@example.org not allowed to send \
             as noreply@example.org; STOREDRV.Submission.Exception:SendAsDeniedException; \
             Failed to process message due to a permanent exception with message \
             [BeginDiagnosticData]Cannot submit message. {diagnostic} \
             [EndDiagnosticData] [Hostname={host}]"
        )
    }

    #[test]
    fn a_reply_pattern_masks_what_changes_from_mail_to_mail_but_keeps_the_reason() {
        let one = send_as_denied(
            "0.35250:0A00C184, 1.36674:0A000000, 1.61250:00000000",
            "DB8PR04MB6825.eurprd04.prod.outlook.com",
        );
        let other = send_as_denied(
            "0.35250:0A00C185, 1.36674:0A000000",
            "AM0PR10MB2980.EURPRD10.PROD.OUTLOOK.COM",
        );
        assert_eq!(ReplyPattern::of(554, &one), ReplyPattern::of(554, &other));
        // Queue ids and addresses.
        let dmarc = |id: &str, to: &str| {
            format!(
                "permanent error (550): 5.7.26 Unauthenticated email from example.org is not \
                 accepted due to domain's DMARC policy ({to}) {id} - gsmtp"
            )
        };
        assert_eq!(
            ReplyPattern::of(550, &dmarc("a1b2c3.45", "<ann@mail.example>")),
            ReplyPattern::of(550, &dmarc("9f8e7d.12", "<bob@other.example>")),
        );
        // Another code, another enhanced status code or other words: another reply.
        assert_ne!(ReplyPattern::of(550, &one), ReplyPattern::of(554, &one));
        assert_ne!(
            ReplyPattern::of(550, "permanent error (550): 5.7.1 Message refused"),
            ReplyPattern::of(550, "permanent error (550): 5.7.23 Message refused"),
        );
        assert_ne!(
            ReplyPattern::of(554, "permanent error (554): 5.7.1 Spam detected"),
            ReplyPattern::of(554, "permanent error (554): 5.7.1 Virus detected"),
        );
        assert_eq!(
            ReplyPattern::of(554, "5.7.1  Spam \t detected, id 12 34"),
            ReplyPattern::of(554, "5.7.1 spam detected, id 99"),
        );
    }

    #[test]
    fn only_a_refusal_to_send_as_our_sender_is_the_senders_by_its_words() {
        for reply in [
            send_as_denied(
                "0.35250:0A00C184",
                "DB8PR04MB6825.eurprd04.prod.outlook.com",
            ),
            "permanent error (550): 5.7.60 SMTP; Client does not have permissions to send as \
             this sender"
                .to_owned(),
        ] {
            assert!(refuses_sending_as_our_sender(&reply), "{reply}");
        }
        for reply in [
            "permanent error (550): 5.7.1 The recipient has blocked the sender",
            "permanent error (554): 5.7.1 Message from this sender looks like spam",
            "permanent error (550): 5.1.1 <ivy@refused.example>: No such mailbox here",
            "permanent error (554): 5.6.0 Message content rejected, sent as attachment",
        ] {
            assert!(!refuses_sending_as_our_sender(reply), "{reply}");
        }
    }

    const DMARC: &str = "permanent error (550): 5.7.26 Unauthenticated email from example.org \
                         is not accepted due to domain's DMARC policy";

    /// The refusals after their data, in order: (recipient, reply with a queue id of its own).
    /// Each one the rule leaves to park is parked (as the mail's recipient); returns what each
    /// was judged and the mails handed back with it.
    fn judge_run(
        refusals: &mut DataRefusals<String>,
        mails: &[(&str, &str)],
    ) -> Vec<(SmtpRefusal, Vec<String>)> {
        judge_run_from(refusals, 0, mails)
    }

    /// As [`judge_run`], the mails' ids counted from `first_id`.
    fn judge_run_from(
        refusals: &mut DataRefusals<String>,
        first_id: usize,
        mails: &[(&str, &str)],
    ) -> Vec<(SmtpRefusal, Vec<String>)> {
        mails
            .iter()
            .enumerate()
            .map(|(index, (to, reply))| {
                let index = first_id + index;
                let reply = with_queue_id(reply, index);
                let id = index as i64;
                let judged = refusals.judge(SmtpRefusal::ParkMail, (550, &reply), to, id);
                if judged.0 == SmtpRefusal::ParkMail {
                    refusals.record_parked(to, id, format!("{index}:{to}"));
                }
                judged
            })
            .collect()
    }

    /// `reply` as a server words it for its `n`th mail: ending with a queue id of its own.
    fn with_queue_id(reply: &str, n: usize) -> String {
        format!("{reply} {n}a{n}f - queue")
    }

    fn parked() -> (SmtpRefusal, Vec<String>) {
        (SmtpRefusal::ParkMail, Vec::new())
    }

    #[test]
    fn the_same_reply_after_the_data_to_three_recipients_in_a_row_is_the_senders() {
        let mut refusals = DataRefusals::default();
        let run = judge_run(
            &mut refusals,
            &[
                ("ann@a.example", DMARC),
                ("Bob@b.example", DMARC),
                ("cy@c.example", DMARC),
            ],
        );
        assert_eq!(run[..2], [parked(), parked()]);
        // The third is not parked, and the two parked go back to the queue.
        assert_eq!(
            run[2],
            (
                SmtpRefusal::SenderRefused,
                vec!["0:ann@a.example".to_owned(), "1:Bob@b.example".to_owned()]
            )
        );
        // From then on the reply is the sender's at its first mail (nothing parked before).
        let again = refusals.judge(
            SmtpRefusal::ParkMail,
            (550, &with_queue_id(DMARC, 7)),
            "dan@d.example",
            7,
        );
        assert_eq!(again, (SmtpRefusal::SenderRefused, Vec::new()));
        // The mails it rests on are tried after any other (each once).
        assert_eq!(refusals.held(), [2, 0, 1, 7]);
        // Until a mail goes through, which disproves it for them: nothing is held back any
        // more, and they are parked at their next refusal, counted toward no run.
        refusals.accepted();
        assert!(refusals.held().is_empty());
        assert_eq!(
            judge_run(&mut refusals, &[("ann@a.example", DMARC)]),
            [parked()]
        );
        for (id, to) in [(1, "Bob@b.example"), (2, "cy@c.example")] {
            let again = refusals.judge(SmtpRefusal::ParkMail, (550, DMARC), to, id);
            assert_eq!(again, parked());
        }
        // Other mails meeting the same reply may still show it is the sender's (a relay that
        // takes mail to some domains only).
        let run = judge_run_from(
            &mut refusals,
            10,
            &[
                ("dan@d.example", DMARC),
                ("eve@e.example", DMARC),
                ("fay@f.example", DMARC),
            ],
        );
        assert_eq!(run[2].0, SmtpRefusal::SenderRefused, "{run:?}");
    }

    #[test]
    fn a_recipients_mails_count_once_and_all_of_the_run_go_back() {
        let mut refusals = DataRefusals::default();
        let run = judge_run(
            &mut refusals,
            &[
                ("ann@a.example", DMARC),
                ("ANN@a.example", DMARC),
                ("ann@a.example", DMARC),
                ("bob@b.example", DMARC),
                ("cy@c.example", DMARC),
            ],
        );
        assert_eq!(run[..4], [parked(), parked(), parked(), parked()]);
        assert_eq!(run[4].0, SmtpRefusal::SenderRefused);
        assert_eq!(run[4].1.len(), 4, "{:?}", run[4].1);
    }

    #[test]
    fn a_mail_taken_or_refused_otherwise_between_them_ends_the_run() {
        let spam = "permanent error (554): 5.7.1 Message rejected as spam";
        let mut refusals = DataRefusals::default();
        judge_run(
            &mut refusals,
            &[("ann@a.example", DMARC), ("bob@b.example", DMARC)],
        );
        refusals.accepted();
        assert_eq!(
            judge_run(&mut refusals, &[("cy@c.example", DMARC)]),
            [parked()]
        );

        let mut refusals = DataRefusals::default();
        let run = judge_run(
            &mut refusals,
            &[
                ("ann@a.example", DMARC),
                ("bob@b.example", DMARC),
                ("cy@c.example", spam),
                ("dan@d.example", DMARC),
                ("eve@e.example", DMARC),
            ],
        );
        assert!(run.iter().all(|judged| *judged == parked()), "{run:?}");
    }

    #[test]
    fn a_mail_tried_again_or_not_parked_leaves_the_run_as_it_is() {
        let mut refusals = DataRefusals::default();
        judge_run(&mut refusals, &[("ann@a.example", DMARC)]);
        // Refused before the data, or deferred: not judged here, nothing changes.
        let deferred = refusals.judge(
            SmtpRefusal::RetryMail,
            (550, &with_queue_id(DMARC, 8)),
            "bob@b.example",
            8,
        );
        assert_eq!(deferred, (SmtpRefusal::RetryMail, Vec::new()));
        // Judged to park, but its parking not recorded (its lease ran out): not counted.
        let unrecorded = refusals.judge(
            SmtpRefusal::ParkMail,
            (550, &with_queue_id(DMARC, 9)),
            "cy@c.example",
            9,
        );
        assert_eq!(unrecorded, parked());
        let run = judge_run(
            &mut refusals,
            &[("dan@d.example", DMARC), ("eve@e.example", DMARC)],
        );
        assert_eq!(run[0], parked());
        assert_eq!(
            run[1],
            (
                SmtpRefusal::SenderRefused,
                vec!["0:ann@a.example".to_owned(), "0:dan@d.example".to_owned()]
            )
        );
    }

    #[test]
    fn refusals_about_their_recipients_are_never_the_senders() {
        for reply in [
            // Named (the masked replies would be the same).
            "permanent error (550): <{to}>: recipient rejected",
            // Unnamed, but the enhanced status code is the recipient's.
            "permanent error (550): 5.1.1 User unknown",
            "permanent error (550): 5.1.10 RESOLVER.ADR.RecipientNotFound; not found",
            "permanent error (552): 5.2.2 Mailbox full",
        ] {
            let mut refusals = DataRefusals::default();
            let mails: Vec<(String, String)> = [
                "ann@a.example",
                "bob@b.example",
                "cy@c.example",
                "dan@d.example",
            ]
            .iter()
            .map(|to| ((*to).to_owned(), reply.replace("{to}", to)))
            .collect();
            let mails: Vec<(&str, &str)> = mails
                .iter()
                .map(|(to, r)| (to.as_str(), r.as_str()))
                .collect();
            let run = judge_run(&mut refusals, &mails);
            assert!(
                run.iter().all(|judged| *judged == parked()),
                "{reply}: {run:?}"
            );
        }
        // The sender's own address statuses (X.1.7, X.1.8) do count.
        let mut refusals = DataRefusals::default();
        let bad_sender = "permanent error (553): 5.1.8 Sender domain does not resolve";
        let run = judge_run(
            &mut refusals,
            &[
                ("ann@a.example", bad_sender),
                ("bob@b.example", bad_sender),
                ("cy@c.example", bad_sender),
            ],
        );
        assert_eq!(run[2].0, SmtpRefusal::SenderRefused);
    }

    #[test]
    fn sending_pauses_double_up_to_a_quarter_of_an_hour() {
        assert_eq!(sending_pause(0, 60.0).as_secs(), 60);
        assert_eq!(sending_pause(1, 60.0).as_secs(), 120);
        assert_eq!(sending_pause(40, 60.0).as_secs(), 900);
    }

    #[test]
    fn kinds_round_trip_and_only_account_mails_are_transactional() {
        for kind in MailKind::ALL {
            assert_eq!(MailKind::parse(kind.as_str()), Some(kind));
        }
        assert!(MailKind::PasswordReset.is_transactional());
        assert!(!MailKind::Notifications.is_transactional());
        assert_eq!(MailKind::parse("nope"), None);
    }

    #[test]
    fn templates_escape_html_and_differ_by_language() {
        let at = Utc::now();
        let en = verify_email(Language::En, "<b>x</b>", "ann", "https://e/x?a=1&b=2", at);
        let fr = verify_email(Language::Fr, "<b>x</b>", "ann", "https://e/x?a=1&b=2", at);
        assert_ne!(en.subject, fr.subject);
        assert!(en.html.contains("href=\"https://e/x?a=1&amp;b=2\""));
        assert!(!en.html.contains("<b>x</b>"));
        assert!(en.text.contains("https://e/x?a=1&b=2"));
        assert!(fr.text.contains("Bonjour ann"));
    }

    #[test]
    fn a_token_is_used_before_it_is_expired() {
        let now = Utc::now();
        let later = now + Duration::minutes(5);
        assert_eq!(token_state(None, later, now), TokenState::Usable);
        assert_eq!(token_state(None, now, now), TokenState::Expired);
        assert_eq!(token_state(Some(now), later, now), TokenState::Used);
        assert_eq!(
            token_state(Some(now), now - Duration::seconds(1), now),
            TokenState::Used
        );
    }
}
