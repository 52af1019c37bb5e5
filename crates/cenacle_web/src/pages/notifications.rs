//! The signed-in member's notifications (newest first, marked read one by one or all at once)
//! and the account page where they choose, kind by kind, how to hear of them.

use super::{acting, signed_in, CsrfOnly};
use crate::{
    i18n::Words,
    render::{after_action, field_refusal, page, see_other, Chrome, FieldRefusal, PageError},
    session::Visitor,
};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use cenacle_api::AppState;
use cenacle_core::{
    digests,
    notifications::{self as cases, Notification},
    ScopedFutureExt,
};
use cenacle_domain::{
    engagement::rank_reached_name,
    notifications::{Delivery, Kind},
};
use serde::Deserialize;
use std::collections::HashMap;

/// One line of the list, its words already in the visitor's language.
pub struct Line {
    id: i64,
    unread: bool,
    /// Who acted (a link to them), empty for the instance.
    actor: String,
    /// Who acted, unnamed: "a moderator" where the instance hides moderators' names (else
    /// the sentence would start with its verb); empty otherwise.
    unnamed_actor: String,
    /// What happened, after the actor's name.
    what: String,
    /// Where to go: the post (and answer), the group, the person's profile; empty when
    /// nothing to show.
    href: String,
    /// The post's title, the group's name, the badge or the person's name.
    object: String,
    when: String,
}

fn line(t: Words, n: Notification) -> Line {
    let kind: Option<Kind> = n.kind.parse().ok();
    let detail = n.detail.as_deref().unwrap_or("");
    let what = match kind {
        Some(Kind::Like) => t.count("notif-like", n.actor_count.max(1)),
        Some(Kind::IdeaStatus) => format!(
            "{} ({})",
            t.t("notif-idea-status"),
            t.t(&format!("status-{detail}"))
        ),
        Some(Kind::JoinRequest) => t.t(&format!("notif-join-{detail}")),
        Some(Kind::Moderation) if n.person.is_some() => {
            t.t(&format!("notif-moderation-person-{detail}"))
        }
        Some(Kind::Moderation) => t.t(&format!("notif-moderation-{detail}")),
        // The points paid; awarded by its sponsor (named), or won when it ran out.
        Some(Kind::BountyWon) => {
            let points = detail.parse().unwrap_or(0);
            match n.actor {
                Some(_) => t.count("notif-bounty-awarded", points),
                None => t.count("notif-bounty-won", points),
            }
        }
        Some(Kind::Champion) => t.t(&format!("notif-champion-{}", detail.replace('_', "-"))),
        // The place: the member's own result, whoever closed the contest.
        Some(Kind::ContestResult) => t.count("notif-contest-result", detail.parse().unwrap_or(0)),
        Some(k) => t.t(&format!("notif-{}", k.as_str().replace('_', "-"))),
        None => n.kind.clone(),
    };
    let contest = n.contest_id.zip(n.contest_title.clone());
    let (href, object) = match (n.post_id, &n.post_title, &n.badge, &n.group_name, &n.person) {
        _ if kind == Some(Kind::Champion) => {
            ("/champions/me".to_owned(), t.t("notif-champion-programme"))
        }
        // The rank, in the reader's language (both names are kept: see `rank_reached_detail`).
        _ if kind == Some(Kind::RankReached) => {
            (String::new(), rank_reached_name(detail, t.0).to_owned())
        }
        (None, ..) if contest.is_some() => {
            let (id, title) = contest.unwrap_or_default();
            (format!("/contests/{id}"), title)
        }
        // An idea's status has words of its own: "changed the status of" takes an idea (and,
        // in French, "de" cannot stand before "une").
        (Some(_), None, ..) if kind == Some(Kind::IdeaStatus) => {
            (String::new(), t.t("notif-hidden-idea"))
        }
        (Some(_), None, ..) => (String::new(), t.t("notif-hidden-post")),
        // Taken down since it was told (deleted, or removed by a moderator): its title is
        // often what was taken down, so neither quoted nor linked. After the hidden post
        // above: a private group one left tells nothing of its removals.
        (Some(_), Some(_), ..) if n.taken_down_since && kind == Some(Kind::IdeaStatus) => {
            (String::new(), t.t("notif-taken-down-idea"))
        }
        (Some(_), Some(_), ..) if n.taken_down_since => {
            (String::new(), t.t("notif-taken-down-post"))
        }
        (Some(post), Some(title), ..) => {
            let anchor = n
                .comment_id
                .map(|c| format!("#answer-{c}"))
                .unwrap_or_default();
            (format!("/posts/{post}{anchor}"), title.clone())
        }
        (None, _, Some(badge), ..) => (String::new(), badge.clone()),
        (None, _, None, Some(group), _) => (format!("/groups/{group}"), group.clone()),
        (None, _, None, None, Some(person)) => (
            format!("/people/{person}"),
            n.person_display_name
                .clone()
                .unwrap_or_else(|| person.clone()),
        ),
        _ => (String::new(), String::new()),
    };
    let unnamed_actor = match (kind, &n.actor) {
        (Some(Kind::Moderation), None) => t.t("notif-a-moderator"),
        _ => String::new(),
    };
    // A contest's result is the member's own: not told as the closing manager's act.
    let actor = match kind {
        Some(Kind::ContestResult) => None,
        _ => n.actor,
    };
    Line {
        id: n.id,
        unread: n.read_at.is_none(),
        actor: actor.unwrap_or_default(),
        unnamed_actor,
        what,
        href,
        object,
        when: t.date(&n.updated_at),
    }
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    c: Chrome,
    lines: Vec<Line>,
    unread_only: bool,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    unread: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<ListQuery>,
) -> Response {
    let here = "/notifications";
    let caller = match signed_in(&v, here) {
        Ok(c) => c,
        Err(redirect) => return redirect.into_response(),
    };
    let unread_only = q.unread.is_some();
    let read = async {
        let mut conn = state.ctx.conn().await?;
        cases::list(&mut conn, &state.ctx, &caller, unread_only, None, 100).await
    }
    .await;
    let rows = match read {
        Ok(rows) => rows,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    page(
        &v,
        StatusCode::OK,
        &NotificationsPage {
            c: Chrome::of(&v, here),
            lines: rows.into_iter().map(|n| line(v.words, n)).collect(),
            unread_only,
        },
    )
}

pub async fn mark_read(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let here = "/notifications";
    let caller = match acting(&v, here, &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let caller = &caller;
    let done = state
        .ctx
        .transaction(|conn| cases::mark_read(conn, caller, id).scope_boxed())
        .await;
    after_action(done, &v, here)
}

pub async fn mark_all_read(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let here = "/notifications";
    let caller = match acting(&v, here, &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let caller = &caller;
    let done = state
        .ctx
        .transaction(|conn| cases::mark_all_read(conn, caller).scope_boxed())
        .await;
    after_action(done.map(|_| ()), &v, here)
}

/// One kind's choice on the account page.
pub struct Choice {
    /// The form field: the kind's name.
    kind: &'static str,
    label: String,
    /// (value, label, selected).
    options: Vec<(&'static str, String, bool)>,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    c: Chrome,
    choices: Vec<Choice>,
    saved: bool,
    /// Whether the instance's default is chosen (no zone of the member's own).
    default_zone: bool,
    /// The default option's words, naming the instance's zone.
    default_label: String,
    /// Every zone offered: (name, label, selected).
    zones: Vec<(String, String, bool)>,
    /// Why the form was refused, under the field at fault.
    refusal: FieldRefusal,
}

/// The form field of the time zone, as the API names it (a refusal names it too).
const ZONE_FIELD: &str = "time_zone";

#[derive(Deserialize, Default)]
pub struct AccountQuery {
    #[serde(default)]
    saved: Option<String>,
}

/// A refused form as the member sent it: its deliveries by kind and, if the form had the
/// field, its zone (`Some(None)`: the instance's default).
struct Typed {
    changes: Vec<(String, String)>,
    zone: Option<Option<String>>,
    refusal: FieldRefusal,
}

pub async fn account(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<AccountQuery>,
) -> Response {
    account_page(&state, &v, StatusCode::OK, q.saved.is_some(), None).await
}

/// The account page: the saved settings, or a refused form as typed with its refusal.
async fn account_page(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    saved: bool,
    typed: Option<Typed>,
) -> Response {
    let here = "/account/notifications";
    let caller = match signed_in(v, here) {
        Ok(c) => c,
        Err(redirect) => return redirect.into_response(),
    };
    let typed_zone = typed.as_ref().and_then(|t| t.zone.clone());
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let settings = digests::settings(&mut conn, &caller).await?;
        let zone = typed_zone.unwrap_or_else(|| settings.time_zone.clone());
        let zones = digests::time_zone_choices(&mut conn, &state.ctx, zone.as_deref()).await?;
        Ok::<_, cenacle_core::CoreError>((settings.preferences, zone, zones))
    }
    .await;
    let (prefs, zone, zones) = match read {
        Ok(p) => p,
        Err(e) => return PageError::from_core(e, v).into_response(),
    };
    let (changes, refusal) = match typed {
        Some(t) => (t.changes, t.refusal),
        None => (vec![], FieldRefusal::default()),
    };
    let t = v.words;
    let choices = prefs
        .into_iter()
        .map(|(kind, saved)| {
            // A refused form keeps what was chosen, where it names a delivery.
            let chosen = changes
                .iter()
                .find(|(k, _)| k == kind.as_str())
                .and_then(|(_, d)| d.parse::<Delivery>().ok())
                .unwrap_or(saved);
            Choice {
                kind: kind.as_str(),
                label: t.t(&format!("kind-{}", kind.as_str().replace('_', "-"))),
                options: Delivery::ALL
                    .into_iter()
                    .map(|d| {
                        let label = t.t(&format!("delivery-{}", d.as_str().replace('_', "-")));
                        (d.as_str(), label, d == chosen)
                    })
                    .collect(),
            }
        })
        .collect();
    let zones = zones
        .into_iter()
        .map(|name| {
            let selected = zone.as_deref() == Some(name.as_str());
            (name.clone(), name.replace('_', " "), selected)
        })
        .collect();
    page(
        v,
        status,
        &AccountPage {
            c: Chrome::of(v, here),
            choices,
            saved,
            default_zone: zone.is_none(),
            default_label: t.about(
                "time-zone-default",
                &state.ctx.settings.email.default_time_zone,
            ),
            zones,
            refusal,
        },
    )
}

/// The preferences form: the CSRF token, one field per kind (its name → a delivery) and the
/// time zone ("": the instance's default). Saved by the same use case as the API's; a
/// refusal brings the form back as typed, the reason under its field.
pub async fn save_preferences(
    State(state): State<AppState>,
    v: Visitor,
    Form(mut form): Form<HashMap<String, String>>,
) -> Response {
    let here = "/account/notifications";
    let csrf = form.remove("csrf").unwrap_or_default();
    let caller = match acting(&v, here, &csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    // Left out: unchanged (a form without the field); "": the instance's default.
    let zone: Option<Option<String>> = form
        .remove(ZONE_FIELD)
        .map(|z| Some(z.trim().to_owned()).filter(|z| !z.is_empty()));
    let changes: Vec<(String, String)> = form.into_iter().collect();
    let (ctx, caller, changes) = (&state.ctx, &caller, &changes);
    let zone_ref = zone.as_ref().map(|z| z.as_deref());
    let saved = ctx
        .transaction(|conn| {
            digests::save_settings(conn, ctx, caller, changes, zone_ref).scope_boxed()
        })
        .await;
    match saved {
        Ok(_) => see_other("/account/notifications?saved=1", vec![]),
        Err(e) => match field_refusal(e, &v) {
            Ok(refusal) => {
                let typed = Typed {
                    changes: changes.clone(),
                    zone,
                    refusal,
                };
                let status = typed.refusal.status;
                account_page(&state, &v, status, false, Some(typed)).await
            }
            Err(page) => *page,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cenacle_domain::Language;

    /// A report about a person, dismissed by a moderator the instance does not name.
    fn person_report_dismissed() -> Notification {
        let at = chrono::Utc::now();
        Notification {
            id: 1,
            recipient_id: 2,
            kind: "moderation".into(),
            actor: None,
            actor_count: 0,
            post_id: None,
            post_title: None,
            comment_id: None,
            group_name: None,
            badge: None,
            person: Some("paul@other.example".into()),
            person_display_name: Some("Paul Vendeur".into()),
            contest_id: None,
            contest_title: None,
            detail: Some("dismissed".into()),
            taken_down_since: false,
            created_at: at,
            updated_at: at,
            read_at: None,
        }
    }

    /// A notification of `kind` by `actor` with `detail`, about nothing yet.
    fn of_kind(kind: &str, actor: Option<&str>, detail: Option<&str>) -> Notification {
        Notification {
            kind: kind.into(),
            actor: actor.map(Into::into),
            actor_count: 1,
            person: None,
            person_display_name: None,
            detail: detail.map(Into::into),
            ..person_report_dismissed()
        }
    }

    /// The line names the person reported and links their profile; the moderator, hidden,
    /// is "a moderator" (the sentence keeps its subject), in both languages.
    #[test]
    fn a_person_reports_outcome_names_the_person_and_no_moderator() {
        let en = line(Words(Language::En), person_report_dismissed());
        assert_eq!(
            (en.unnamed_actor.as_str(), en.what.as_str()),
            ("A moderator", "dismissed your report about")
        );
        assert_eq!(
            (en.href.as_str(), en.object.as_str()),
            ("/people/paul@other.example", "Paul Vendeur")
        );
        assert!(en.actor.is_empty());
        let fr = line(Words(Language::Fr), person_report_dismissed());
        assert_eq!(
            (fr.unnamed_actor.as_str(), fr.what.as_str()),
            ("La modération", "a classé votre signalement concernant")
        );
    }

    /// A contest's result is the member's own place, linked to the contest, not the act of
    /// the manager who closed it.
    #[test]
    fn a_contest_result_tells_the_place_and_links_the_contest() {
        let result = || Notification {
            contest_id: Some(7),
            contest_title: Some("Concours de novembre".into()),
            ..of_kind("contest_result", Some("claire"), Some("2"))
        };
        let en = line(Words(Language::En), result());
        assert!(en.actor.is_empty());
        assert_eq!(en.what, "You placed #2 in the contest");
        assert_eq!(
            (en.href.as_str(), en.object.as_str()),
            ("/contests/7", "Concours de novembre")
        );
        let fr = line(Words(Language::Fr), result());
        assert_eq!(fr.what, "Vous finissez à la place n°\u{a0}2 du concours");
    }

    /// A bounty won says how many points, awarded by its sponsor (named) or won at its end.
    #[test]
    fn a_bounty_won_says_the_points_and_who_awarded_it() {
        let won = |actor: Option<&str>| Notification {
            post_id: Some(3),
            post_title: Some("Which grinder?".into()),
            comment_id: Some(9),
            ..of_kind("bounty_won", actor, Some("200"))
        };
        let awarded = line(Words(Language::En), won(Some("claire")));
        assert_eq!(
            (awarded.actor.as_str(), awarded.what.as_str()),
            ("claire", "awarded you their bounty (200 points) on")
        );
        assert_eq!(awarded.href, "/posts/3#answer-9");
        let ran_out = line(Words(Language::En), won(None));
        assert_eq!(ran_out.what, "Your answer won the bounty (200 points) on");
    }

    #[test]
    fn a_champion_step_links_the_programme_page() {
        let step = of_kind("champion", Some("manon"), Some("charter_published"));
        let en = line(Words(Language::En), step.clone());
        assert_eq!(
            (en.what.as_str(), en.href.as_str(), en.object.as_str()),
            (
                "published a new charter (accept it to keep your tools) of",
                "/champions/me",
                "the champions programme"
            )
        );
        let fr = line(Words(Language::Fr), step);
        assert_eq!(fr.object, "le programme des champions");
    }

    #[test]
    fn a_rank_reached_is_named_in_the_readers_language() {
        let rank = Notification {
            kind: "rank_reached".into(),
            actor: None,
            actor_count: 0,
            person: None,
            person_display_name: None,
            detail: Some("Regular\nHabitué".into()),
            ..person_report_dismissed()
        };
        let en = line(Words(Language::En), rank.clone());
        assert_eq!(
            (en.actor.as_str(), en.what.as_str(), en.object.as_str()),
            ("", "You reached the rank", "Regular")
        );
        let fr = line(Words(Language::Fr), rank);
        assert_eq!(
            (fr.what.as_str(), fr.object.as_str()),
            ("Vous avez atteint le rang", "Habitué")
        );
    }

    #[test]
    fn a_mention_names_who_wrote_it_and_links_the_text() {
        let mention = || Notification {
            post_id: Some(3),
            post_title: Some("Which grinder?".into()),
            comment_id: Some(9),
            ..of_kind("mention", Some("ana"), None)
        };
        let en = line(Words(Language::En), mention());
        assert_eq!(
            (en.actor.as_str(), en.what.as_str()),
            ("ana", "mentioned you in")
        );
        assert_eq!(en.href, "/posts/3#answer-9");
        assert_eq!(
            line(Words(Language::Fr), mention()).what,
            "vous a mentionné dans"
        );
    }

    /// The page with these notifications, in `language`, as a signed-in member sees it (its
    /// white space collapsed: the template's line breaks are not what is checked).
    fn page_of(language: Language, notifications: Vec<Notification>) -> String {
        let t = Words(language);
        let page = NotificationsPage {
            c: Chrome {
                t,
                csrf: "token".into(),
                user: Some("marie".into()),
                admin: false,
                onboarding: false,
                instance: "Cénacle".into(),
                other_lang: "fr",
                here: "/notifications".into(),
                unread: 0,
            },
            lines: notifications.into_iter().map(|n| line(t, n)).collect(),
            unread_only: false,
        };
        let html = page.render().unwrap();
        html.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// A reply told before its post (or the reply itself) was deleted or removed: its title
    /// may be what a moderator took down, so the page says it is gone instead, in either
    /// language, and links nowhere. The notice of a removal, written with it, is not taken
    /// down since (`taken_down_since!`): it keeps its title and its link.
    #[test]
    fn a_post_taken_down_since_is_neither_quoted_nor_linked() {
        let about_post = |kind, actor, taken_down_since| Notification {
            post_id: Some(3),
            post_title: Some("Le mot de passe du wifi".into()),
            comment_id: Some(9),
            taken_down_since,
            ..of_kind(kind, Some(actor), None)
        };
        let reply = about_post("reply", "ana", true);
        let removal = Notification {
            id: 2,
            detail: Some("removed".into()),
            ..about_post("moderation", "claire", false)
        };
        let en = page_of(Language::En, vec![reply.clone(), removal]);
        assert!(
            en.contains("</a> replied to a post or reply since removed <small>"),
            "{en}"
        );
        assert_eq!(en.matches("Le mot de passe du wifi").count(), 1, "{en}");
        assert_eq!(en.matches("href=\"/posts/3").count(), 1, "{en}");
        let notice = en.split("id=\"notification-2\"").nth(1).unwrap();
        assert!(
            notice.contains("<a href=\"/posts/3#answer-9\">Le mot de passe du wifi</a>"),
            "{notice}"
        );
        let fr = page_of(Language::Fr, vec![reply.clone()]);
        assert!(
            fr.contains("</a> a répondu à une publication ou une réponse retirée depuis <small>"),
            "{fr}"
        );
        assert!(
            !fr.contains("Le mot de passe du wifi") && !fr.contains("/posts/3"),
            "{fr}"
        );
        // Its private group left since, the post is hidden, whatever became of it: a group
        // one left tells nothing of its removals.
        let left = Notification {
            post_title: None,
            ..reply
        };
        assert_eq!(
            line(Words(Language::En), left).object,
            "a post you can no longer see"
        );
        // An idea's status has its own words: French "de" takes no "une" after it.
        let idea = Notification {
            detail: Some("planned".into()),
            comment_id: None,
            ..about_post("idea_status", "claire", true)
        };
        let hidden_idea = Notification {
            post_title: None,
            taken_down_since: false,
            ..idea.clone()
        };
        for (language, notification, object) in [
            (Language::Fr, idea.clone(), "l’idée, retirée depuis"),
            (Language::En, idea, "an idea since removed"),
            (
                Language::Fr,
                hidden_idea.clone(),
                "l’idée que vous ne pouvez plus voir",
            ),
            (Language::En, hidden_idea, "an idea you can no longer see"),
        ] {
            let said = line(Words(language), notification);
            assert_eq!((said.object.as_str(), said.href.as_str()), (object, ""));
        }
    }
}
