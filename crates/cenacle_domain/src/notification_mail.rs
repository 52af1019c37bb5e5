//! The FR/EN text of notification mails: one line saying what happened (shared by the mail
//! sent at once and the digests), and the mail around it.

use crate::{
    engagement::rank_reached_name,
    mail::{greeting, MailContent},
    notifications::Kind,
    Language,
};

/// What a notification says, as far as its text needs.
#[derive(Debug, Clone, Copy)]
pub struct NoticeText<'a> {
    pub kind: Kind,
    /// Who acted (`name` or `name@host`); None: the instance.
    pub actor: Option<&'a str>,
    /// How many people acted (grouped likes).
    pub actor_count: i64,
    /// The post's title, None when the recipient may not read it (or there is none).
    pub title: Option<&'a str>,
    pub group: Option<&'a str>,
    pub badge: Option<&'a str>,
    /// The person it is about (a report about them), by name.
    pub person: Option<&'a str>,
    /// The contest whose result it tells, by title.
    pub contest: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// One sentence saying what happened.
pub fn what_happened(language: Language, n: &NoticeText<'_>) -> String {
    let fr = language == Language::Fr;
    let actor = n.actor.unwrap_or(if fr { "Quelqu'un" } else { "Someone" });
    let about = |fr_none: &str, en_none: &str| match (n.title, fr) {
        (Some(t), true) => format!("« {t} »"),
        (Some(t), false) => format!("“{t}”"),
        (None, true) => fr_none.to_owned(),
        (None, false) => en_none.to_owned(),
    };
    let detail = n.detail.unwrap_or("");
    if let (Kind::Moderation, Some(person)) = (n.kind, n.person) {
        return person_report_outcome(fr, person, detail);
    }
    match (n.kind, fr) {
        (Kind::Reply, true) => format!("{actor} a répondu à {}.", about("votre message", "")),
        (Kind::Reply, false) => format!("{actor} replied to {}.", about("", "your post")),
        (Kind::AnswerAccepted, true) => format!(
            "{actor} a accepté votre réponse à {}.",
            about("une question", "")
        ),
        (Kind::AnswerAccepted, false) => {
            format!(
                "{actor} accepted your answer to {}.",
                about("", "a question")
            )
        }
        (Kind::Like, true) if n.actor_count > 1 => format!(
            "{} personnes ont aimé votre contribution à {}.",
            n.actor_count,
            about("une discussion", "")
        ),
        (Kind::Like, false) if n.actor_count > 1 => format!(
            "{} people liked your contribution to {}.",
            n.actor_count,
            about("", "a discussion")
        ),
        (Kind::Like, true) => format!(
            "{actor} a aimé votre contribution à {}.",
            about("une discussion", "")
        ),
        (Kind::Like, false) => format!(
            "{actor} liked your contribution to {}.",
            about("", "a discussion")
        ),
        (Kind::IdeaStatus, true) => format!(
            "L'idée {} a maintenant le statut « {detail} ».",
            about("que vous suivez", "")
        ),
        (Kind::IdeaStatus, false) => {
            format!("The idea {} is now “{detail}”.", about("", "you follow"))
        }
        (Kind::BadgeAwarded, true) => {
            format!("Vous avez reçu le badge « {} ».", n.badge.unwrap_or("?"))
        }
        (Kind::BadgeAwarded, false) => {
            format!("You were awarded the badge “{}”.", n.badge.unwrap_or("?"))
        }
        (Kind::JoinRequest, true) => format!(
            "Votre demande pour rejoindre le groupe {} a été {}.",
            n.group.unwrap_or("?"),
            if detail == "approved" {
                "acceptée"
            } else {
                "refusée"
            }
        ),
        (Kind::JoinRequest, false) => format!(
            "Your request to join the group {} was {}.",
            n.group.unwrap_or("?"),
            if detail == "approved" {
                "approved"
            } else {
                "declined"
            }
        ),
        (Kind::Moderation, true) => format!(
            "Décision de la modération sur {} : {}.",
            about("votre contribution", ""),
            match detail {
                "removed" => "retiré",
                "restored" => "rétabli",
                "resolved" => "signalement traité",
                "dismissed" => "signalement classé",
                other => other,
            }
        ),
        (Kind::Moderation, false) => format!(
            "A moderator's decision on {}: {detail}.",
            about("", "your contribution")
        ),
        // The detail: the points paid (none to a member of another instance).
        (Kind::BountyWon, true) => format!(
            "Votre réponse à {} a remporté la prime{}.",
            about("une question", ""),
            points_won(fr, detail)
        ),
        (Kind::BountyWon, false) => format!(
            "Your answer to {} won the bounty{}.",
            about("", "a question"),
            points_won(fr, detail)
        ),
        // The detail: the place.
        (Kind::ContestResult, true) => match n.contest {
            Some(title) => format!("Vous finissez à la place n° {detail} du concours « {title} »."),
            None => format!("Vous finissez à la place n° {detail} d’un concours."),
        },
        (Kind::ContestResult, false) => match n.contest {
            Some(title) => format!("You placed #{detail} in the contest “{title}”."),
            None => format!("You placed #{detail} in a contest."),
        },
        (Kind::Mention, true) => format!(
            "{actor} vous a mentionné dans {}.",
            about("une discussion", "")
        ),
        (Kind::Mention, false) => {
            format!("{actor} mentioned you in {}.", about("", "a discussion"))
        }
        // The detail: the step (see `cenacle_core::champions`).
        (Kind::Champion, true) => match detail {
            "invited" => format!("{actor} vous invite à rejoindre le programme des champions."),
            "charter_published" => format!(
                "{actor} a publié une nouvelle charte des champions : acceptez-la pour garder vos outils."
            ),
            "renewed" => format!("{actor} a renouvelé votre mandat de champion."),
            "lapsed" => format!("{actor} n’a pas renouvelé votre mandat de champion."),
            _ => format!("{actor} a mis fin à votre mandat de champion."),
        },
        (Kind::Champion, false) => match detail {
            "invited" => format!("{actor} invited you to join the champions programme."),
            "charter_published" => format!(
                "{actor} published a new champions' charter: accept it to keep your tools."
            ),
            "renewed" => format!("{actor} renewed your term as a champion."),
            "lapsed" => format!("{actor} did not renew your term as a champion."),
            _ => format!("{actor} ended your term as a champion."),
        },
        // The detail: both names of the rank (see `engagement::rank_reached_detail`).
        (Kind::RankReached, true) => format!(
            "Vous avez atteint le rang « {} ». Merci pour vos contributions !",
            rank_reached_name(detail, language)
        ),
        (Kind::RankReached, false) => format!(
            "You reached the rank “{}”. Thank you for your contributions!",
            rank_reached_name(detail, language)
        ),
        (Kind::AcceptReminder, true) => format!(
            "Votre question {} a des réponses : acceptez celle qui vous a aidé.",
            about("", "")
        ),
        (Kind::AcceptReminder, false) => format!(
            "Your question {} has answers: accept the one that helped you.",
            about("", "")
        ),
    }
}

/// ", 50 points" when `points` (a detail) is a positive number, nothing otherwise.
fn points_won(fr: bool, points: &str) -> String {
    match points.parse::<i64>() {
        Ok(n) if n > 0 && fr => format!(" : {n} points"),
        Ok(n) if n > 0 => format!(": {n} points"),
        _ => String::new(),
    }
}

/// The outcome of a report about `person`: nothing of the reporter's was judged, their report
/// was (`detail`: resolved or dismissed).
fn person_report_outcome(fr: bool, person: &str, detail: &str) -> String {
    let dismissed = detail == "dismissed";
    match (fr, dismissed) {
        (true, true) => {
            format!("Votre signalement concernant {person} a été classé par la modération.")
        }
        (true, false) => {
            format!("Votre signalement concernant {person} a été traité par la modération.")
        }
        (false, true) => format!("A moderator dismissed your report about {person}."),
        (false, false) => format!("A moderator acted on your report about {person}."),
    }
}

fn footer(instance: &str, language: Language) -> String {
    match language {
        Language::Fr => {
            format!("{instance} — vous recevez ce message selon vos préférences de notification.")
        }
        Language::En => {
            format!("{instance} — you receive this message by your notification preferences.")
        }
    }
}

/// The mail sent at once for one notification; `link` opens what it is about (or the
/// notifications page).
pub fn notification_mail(
    language: Language,
    instance: &str,
    username: &str,
    notice: &NoticeText<'_>,
    link: &str,
) -> MailContent {
    let line = what_happened(language, notice);
    let label = match language {
        Language::Fr => "Voir sur le site",
        Language::En => "See it on the site",
    };
    MailContent::compose(
        format!("[{instance}] {}", shorten(&line, 140)),
        &greeting(username, language),
        &[line],
        Some((label, link)),
        &footer(instance, language),
    )
}

/// At most `max` characters, an ellipsis marking a cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply() -> NoticeText<'static> {
        NoticeText {
            kind: Kind::Reply,
            actor: Some("bob"),
            actor_count: 1,
            title: Some("How to <brew>?"),
            group: Some("coffee"),
            badge: None,
            person: None,
            contest: None,
            detail: None,
        }
    }

    /// Every kind's French sentence, with and without a title, keeps its punctuation on the
    /// line (see `crate::typography`).
    #[test]
    fn every_french_sentence_is_well_spaced() {
        for kind in Kind::ALL {
            for title in [Some("Café"), None] {
                let text = what_happened(
                    Language::Fr,
                    &NoticeText {
                        kind,
                        title,
                        badge: Some("Pilier"),
                        detail: Some("done"),
                        ..reply()
                    },
                );
                assert!(
                    crate::typography::french_spacing_faults(&text).is_empty(),
                    "{kind:?}: {text:?}"
                );
            }
        }
    }

    #[test]
    fn a_reply_says_who_and_to_what_in_both_languages() {
        assert_eq!(
            what_happened(Language::En, &reply()),
            "bob replied to “How to <brew>?”."
        );
        assert_eq!(
            what_happened(Language::Fr, &reply()),
            "bob a répondu à « How to <brew>? »."
        );
        let hidden = NoticeText {
            title: None,
            ..reply()
        };
        assert_eq!(
            what_happened(Language::En, &hidden),
            "bob replied to your post."
        );
    }

    #[test]
    fn a_reports_outcome_names_the_person_reported() {
        let about = |detail| NoticeText {
            kind: Kind::Moderation,
            title: None,
            person: Some("Paul Vendeur"),
            detail: Some(detail),
            ..reply()
        };
        assert_eq!(
            what_happened(Language::En, &about("resolved")),
            "A moderator acted on your report about Paul Vendeur."
        );
        assert_eq!(
            what_happened(Language::Fr, &about("dismissed")),
            "Votre signalement concernant Paul Vendeur a été classé par la modération."
        );
        assert!(crate::typography::french_spacing_faults(&what_happened(
            Language::Fr,
            &about("resolved")
        ))
        .is_empty());
    }

    #[test]
    fn a_rank_reached_is_named_in_the_readers_language() {
        let rank = NoticeText {
            kind: Kind::RankReached,
            actor: None,
            title: None,
            detail: Some("Regular\nHabitué"),
            ..reply()
        };
        assert_eq!(
            what_happened(Language::En, &rank),
            "You reached the rank “Regular”. Thank you for your contributions!"
        );
        let fr = what_happened(Language::Fr, &rank);
        assert!(fr.contains("«\u{a0}Habitué\u{a0}»"), "{fr}");
        assert!(crate::typography::french_spacing_faults(&fr).is_empty());
    }

    #[test]
    fn grouped_likes_are_counted_in_one_line() {
        let likes = NoticeText {
            kind: Kind::Like,
            actor_count: 3,
            ..reply()
        };
        assert!(what_happened(Language::En, &likes).starts_with("3 people liked"));
    }

    #[test]
    fn the_mail_links_and_escapes() {
        let mail = notification_mail(
            Language::En,
            "Cénacle",
            "alice",
            &reply(),
            "https://x/posts/1",
        );
        assert!(mail.subject.starts_with("[Cénacle] bob replied"));
        assert!(mail.text.contains("https://x/posts/1"));
        assert!(mail.html.contains("&lt;brew&gt;"));
        assert!(!mail.html.contains("<brew>"));
    }

    #[test]
    fn long_subjects_are_cut() {
        let long = "x".repeat(300);
        assert_eq!(shorten(&long, 10).chars().count(), 10);
    }
}
