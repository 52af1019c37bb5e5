//! Mails: their kinds (which ones a member may refuse) and the FR/EN templates of the account
//! mails, rendered as plain text and HTML.

use crate::Language;
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

pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

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
