//! A member's profile: reputation, rank, title and badges; their reward points for themselves;
//! for people of other Cénacle instances, their reputation at home beside ours.

use crate::{
    render::{page, Chrome, PageError},
    session::Visitor,
};
use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use cenacle_api::AppState;
use cenacle_core::{identity, people, points, CoreError};

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    c: Chrome,
    name: String,
    handle: String,
    bio: Option<String>,
    title: Option<String>,
    reputation: String,
    rank: String,
    accepted: String,
    likes: String,
    /// Only on one's own profile: points are a member's own business.
    points: Option<String>,
    home: Option<String>,
    badges: Vec<(String, String)>,
    /// Someone else's profile, seen signed in: the way to report them.
    report_person: Option<i64>,
}

pub async fn show(
    State(state): State<AppState>,
    v: Visitor,
    Path(handle): Path<String>,
) -> Response {
    let me = v.caller();
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let person = people::person_by_handle(&mut conn, &state.ctx, &handle).await?;
        let own = me.is_some_and(|c| c.person_id == person.id);
        let balance = if own {
            Some(points::balance(&mut conn, person.id).await?)
        } else {
            None
        };
        let profile = people::profile(&mut conn, &state.ctx, person).await?;
        Ok::<_, CoreError>((profile, balance, me.is_some() && !own))
    }
    .await;
    let (profile, balance, may_report) = match read {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    let t = v.words;
    let person = profile.person;
    let report_person = may_report.then_some(person.id);
    let host = person
        .handle_host()
        .map(str::to_owned)
        .unwrap_or_else(|| identity::local_host(&state.ctx.settings));
    let badge = |b: cenacle_core::model::Badge| {
        t.pick((b.name_fr, b.description_fr), (b.name_en, b.description_en))
    };
    page(
        &v,
        StatusCode::OK,
        &PersonPage {
            c: Chrome::of(&v, &format!("/people/{handle}")),
            name: person
                .display_name
                .clone()
                .unwrap_or_else(|| person.username.clone()),
            handle: format!("@{}@{host}", person.username),
            bio: person.bio.clone().filter(|b| !b.trim().is_empty()),
            title: profile.title.map(|b| badge(b).0),
            reputation: t.number(profile.reputation),
            rank: profile
                .rank
                .map(|r| t.pick(r.name_fr, r.name_en))
                .unwrap_or_default(),
            accepted: t.number(profile.contributions.accepted_answers),
            likes: t.number(profile.contributions.likes_received),
            points: balance.map(|p| t.number(p)),
            home: profile.home_reputation.map(|r| t.number(r)),
            badges: profile.badges.into_iter().map(badge).collect(),
            report_person,
        },
    )
}
