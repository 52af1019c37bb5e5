//! Contests in the browser: the running and past contests, a contest's live board (its frozen
//! winners once closed), and for community managers opening one and closing it with prizes.

use super::{
    acting_session,
    leaderboard::{board_line, BoardLine},
    shop::{field, form_time},
};
use crate::{
    render::{field_refusal, page, see_other, Chrome, FieldRefusal, PageError},
    session::Visitor,
};
use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use cenacle_api::AppState;
use cenacle_core::{accounts::Session, badges, contests, people, CoreError, ScopedFutureExt};
use cenacle_domain::{
    champions::CHAMPION_BADGE, engagement::ReputationCause, Permission, ValidationError,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// Contests a list shows.
const LISTED: i64 = 50;

pub struct ContestLine {
    id: i64,
    title: String,
    period: String,
    closed: bool,
}

/// Whether the visitor runs contests (opens and closes them).
fn runs_contests(v: &Visitor) -> bool {
    v.may(Permission::ManageGroups)
}

/// A reputation cause a contest may count, as its box on the form and its name on the page.
pub struct CauseBox {
    value: &'static str,
    label: String,
    checked: bool,
}

/// Every cause, ticked when `chosen` names it.
fn cause_boxes(v: &Visitor, chosen: &[String]) -> Vec<CauseBox> {
    ReputationCause::ALL
        .iter()
        .map(|c| CauseBox {
            value: c.as_str(),
            label: v.words.t(&format!("cause-{}", c.as_str())),
            checked: chosen.iter().any(|x| x == c.as_str()),
        })
        .collect()
}

fn period(v: &Visitor, from: &DateTime<Utc>, to: &DateTime<Utc>) -> String {
    format!("{} → {}", v.words.date(from), v.words.date(to))
}

/// What a community manager typed to open a contest, kept when it is refused.
#[derive(Default)]
pub struct OpenForm {
    csrf: String,
    title: String,
    starts_at: String,
    ends_at: String,
    /// Group names, separated by commas or spaces (blank: every group).
    groups: String,
    /// The reputation causes ticked (none: every cause).
    causes: Vec<String>,
}

impl OpenForm {
    /// The form's fields as sent: one `causes` per ticked box, so read as pairs (a struct
    /// would keep only one of them).
    fn from_fields(fields: Vec<(String, String)>) -> OpenForm {
        let mut form = OpenForm::default();
        for (name, value) in fields {
            match name.as_str() {
                "csrf" => form.csrf = value,
                "title" => form.title = value,
                "starts_at" => form.starts_at = value,
                "ends_at" => form.ends_at = value,
                "groups" => form.groups = value,
                "causes" => form.causes.push(value),
                _ => {}
            }
        }
        form
    }
}

#[derive(Template)]
#[template(path = "contests.html")]
struct ContestsPage {
    c: Chrome,
    contests: Vec<ContestLine>,
    manager: bool,
    causes: Vec<CauseBox>,
    form: OpenForm,
    refusal: FieldRefusal,
}

async fn contests_page(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    form: OpenForm,
    refusal: FieldRefusal,
) -> Response {
    let caller = v.caller();
    let read = async {
        let mut conn = state.ctx.conn().await?;
        contests::recent_contests(&mut conn, caller.as_ref(), LISTED).await
    }
    .await;
    let found = match read {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, v).into_response(),
    };
    page(
        v,
        status,
        &ContestsPage {
            c: Chrome::of(v, "/contests"),
            contests: found
                .iter()
                .map(|c| ContestLine {
                    id: c.id,
                    title: c.title.clone(),
                    period: period(v, &c.starts_at, &c.ends_at),
                    closed: c.closed_at.is_some(),
                })
                .collect(),
            manager: runs_contests(v),
            causes: cause_boxes(v, &form.causes),
            form,
            refusal,
        },
    )
}

pub async fn list(State(state): State<AppState>, v: Visitor) -> Response {
    contests_page(
        &state,
        &v,
        StatusCode::OK,
        OpenForm::default(),
        FieldRefusal::default(),
    )
    .await
}

/// The signed-in manager behind a form (contests need the group managers' right).
fn manager<'a>(v: &'a Visitor, here: &str, csrf: &str) -> Result<&'a Session, Box<Response>> {
    let session = acting_session(v, here, csrf).map_err(|r| Box::new(r.into_response()))?;
    if !session.account.role.allows(Permission::ManageGroups) {
        return Err(Box::new(
            PageError::from_core(CoreError::NotAllowed("manage_groups"), v).into_response(),
        ));
    }
    Ok(session)
}

/// A community manager opens a contest over a period and some groups.
pub async fn open(
    State(state): State<AppState>,
    v: Visitor,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let form = OpenForm::from_fields(fields);
    let session = match manager(&v, "/contests", &form.csrf) {
        Ok(s) => s,
        Err(refused) => return *refused,
    };
    let times = field("starts_at", &form.starts_at, form_time).and_then(|starts| {
        let ends = field("ends_at", &form.ends_at, form_time)?;
        Ok((starts.unwrap_or_else(Utc::now), ends))
    });
    let groups: Vec<String> = form
        .groups
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect();
    let opened = match times {
        Ok((starts_at, Some(ends_at))) => {
            let (title, groups, causes) = (&form.title, &groups, &form.causes);
            state
                .ctx
                .transaction(|conn| {
                    contests::create_contest(
                        conn, session, title, starts_at, ends_at, groups, causes,
                    )
                    .scope_boxed()
                })
                .await
        }
        Ok((_, None)) => Err(ValidationError {
            field: "ends_at",
            code: "empty",
        }
        .into()),
        Err(e) => Err(e),
    };
    match opened {
        Ok(contest) => see_other(&format!("/contests/{}", contest.id), vec![]),
        // A name in the groups field that is none of ours: said under that field.
        Err(CoreError::NotFound("group")) => {
            let refusal = FieldRefusal {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                field: "groups".into(),
                why: v.words.invalid("unknown_group"),
            };
            contests_page(&state, &v, refusal.status, form, refusal).await
        }
        Err(e) => match field_refusal(e, &v) {
            Ok(refusal) => contests_page(&state, &v, refusal.status, form, refusal).await,
            Err(page) => *page,
        },
    }
}

#[derive(Template)]
#[template(path = "contest.html")]
struct ContestPage {
    c: Chrome,
    id: i64,
    title: String,
    period: String,
    closed: bool,
    lines: Vec<BoardLine>,
    /// The reputation causes it counts, by name (empty: every cause).
    counted: Vec<String>,
    manager: bool,
    /// The badges a manager may give the winners (slug, name): every one but the
    /// champions programme's.
    badges: Vec<(String, String)>,
    /// The close form as typed.
    form: CloseForm,
    refusal: FieldRefusal,
}

async fn contest_page(
    state: &AppState,
    v: &Visitor,
    id: i64,
    status: StatusCode,
    form: CloseForm,
    refusal: FieldRefusal,
) -> Response {
    let caller = v.caller();
    let manager = runs_contests(v);
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let (contest, board) = contests::contest(&mut conn, caller.as_ref(), id).await?;
        let ids: Vec<i64> = board.iter().map(|r| r.person_id).collect();
        let authors = people::authors(&mut conn, &ids).await?;
        let badges = match manager && contest.closed_at.is_none() {
            true => badges::catalogue(&mut conn).await?,
            false => Vec::new(),
        };
        Ok::<_, CoreError>((contest, board, authors, badges))
    }
    .await;
    let (contest, board, authors, badges) = match read {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, v).into_response(),
    };
    let viewer = caller.as_ref().map(|c| c.person_id);
    page(
        v,
        status,
        &ContestPage {
            c: Chrome::of(v, &format!("/contests/{id}")),
            id,
            title: contest.title.clone(),
            period: period(v, &contest.starts_at, &contest.ends_at),
            closed: contest.closed_at.is_some(),
            lines: board
                .iter()
                .map(|row| board_line(row, &authors, viewer, v.words))
                .collect(),
            counted: cause_boxes(v, &contest.causes)
                .into_iter()
                .filter(|c| c.checked)
                .map(|c| c.label)
                .collect(),
            manager,
            badges: badges
                .into_iter()
                .filter(|b| b.slug != CHAMPION_BADGE)
                .map(|b| {
                    let name = v.words.pick(b.name_fr, b.name_en);
                    (b.slug, name)
                })
                .collect(),
            form,
            refusal,
        },
    )
}

/// A contest's board: live while it runs, its winners once closed.
pub async fn show(State(state): State<AppState>, v: Visitor, Path(id): Path<i64>) -> Response {
    let blank = CloseForm::default();
    contest_page(
        &state,
        &v,
        id,
        StatusCode::OK,
        blank,
        FieldRefusal::default(),
    )
    .await
}

/// Ranks a close form offers a prize for (the API takes more).
const PRIZE_RANKS: usize = 5;

#[derive(Default, Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    csrf: String,
    /// Points for ranks 1 to 5, one number field each (blank: no prize for that rank).
    #[serde(default)]
    prize_1: String,
    #[serde(default)]
    prize_2: String,
    #[serde(default)]
    prize_3: String,
    #[serde(default)]
    prize_4: String,
    #[serde(default)]
    prize_5: String,
    /// A badge's slug for every winner (blank: none).
    #[serde(default)]
    badge: String,
}

impl CloseForm {
    fn fields(&self) -> [&str; PRIZE_RANKS] {
        [
            &self.prize_1,
            &self.prize_2,
            &self.prize_3,
            &self.prize_4,
            &self.prize_5,
        ]
    }

    /// The prizes of ranks 1, 2, 3… up to the last one filled (a blank before it: 0).
    fn prizes(&self) -> Result<Vec<i64>, CoreError> {
        let fields = self.fields();
        let filled = fields
            .iter()
            .rposition(|f| !f.trim().is_empty())
            .map_or(0, |last| last + 1);
        fields[..filled]
            .iter()
            .map(|f| Ok(field("prizes", f, |t| t.parse::<i64>().ok())?.unwrap_or(0)))
            .collect()
    }

    /// The prize fields, rank 1 first, as typed (shown again after a refusal).
    fn typed(&self) -> Vec<String> {
        self.fields().iter().map(|f| f.to_string()).collect()
    }

    fn badge(&self) -> Option<&str> {
        Some(self.badge.trim()).filter(|b| !b.is_empty())
    }
}

/// A community manager closes a contest: its top frozen as the winners, prizes paid.
pub async fn close(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<CloseForm>,
) -> Response {
    let here = format!("/contests/{id}");
    let session = match manager(&v, &here, &form.csrf) {
        Ok(s) => s,
        Err(refused) => return *refused,
    };
    let closed = match form.prizes() {
        Ok(prizes) => {
            let (prizes, badge) = (&prizes, form.badge());
            state
                .ctx
                .transaction(|conn| {
                    contests::close_contest(conn, session, id, prizes, badge).scope_boxed()
                })
                .await
        }
        Err(e) => Err(e),
    };
    match closed {
        Ok(_) => see_other(&here, vec![]),
        Err(e) => match field_refusal(e, &v) {
            Ok(refusal) => contest_page(&state, &v, id, refusal.status, form, refusal).await,
            Err(page) => *page,
        },
    }
}
