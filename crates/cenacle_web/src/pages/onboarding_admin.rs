//! The welcome and onboarding journey, for community managers: the welcome message and who
//! introduces it, the journey's steps and their points, and the triggered e-mails with a dry
//! run of who a rule would mail now — the same use cases as `/api/v1/admin/onboarding/…`.
//! A refused form comes back as typed, the refusal under the field at fault.

use super::signed_in;
use crate::{
    i18n::Words,
    render::{field_refusal, page, see_other, Chrome, FieldRefusal, PageError},
    session::Visitor,
};
use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use cenacle_api::AppState;
use cenacle_core::{
    accounts::Session,
    journey::{self, Step, StepInput},
    triggered_mail::{self, Rule, RuleInput},
    welcome::{self, WelcomeInput},
    CoreError, ScopedFutureExt,
};
use cenacle_domain::{
    onboarding::{RuleTrigger, StepKind, StopCondition},
    Permission, ValidationError,
};
use serde::Deserialize;

const HERE: &str = "/admin/onboarding";

/// The variables a triggered e-mail's templates may use (checked when saved).
const VARIABLES: &str = "{{name}} {{instance}} {{days}} {{link}}";

/// A choice of a `<select>`: its value and its words.
pub struct Choice {
    value: &'static str,
    label: String,
}

#[derive(Default, Deserialize)]
pub struct WelcomeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    message_fr: String,
    #[serde(default)]
    message_en: String,
    #[serde(default)]
    manager: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    post_in_group: Option<String>,
}

/// A step as shown in its form (numbers as typed, so a refused one comes back unchanged).
#[derive(Default, Deserialize)]
pub struct StepForm {
    #[serde(default)]
    csrf: String,
    /// Empty for a new step.
    #[serde(default)]
    id: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    points: String,
    #[serde(default)]
    position: String,
    /// `save` or `delete` (the button pressed).
    #[serde(default)]
    action: String,
    #[serde(skip)]
    refusal: FieldRefusal,
    /// What the step asks, in words (its form's name).
    #[serde(skip)]
    label: String,
}

#[derive(Default, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    trigger: String,
    #[serde(default)]
    delay_days: String,
    #[serde(default)]
    stop_condition: String,
    #[serde(default)]
    subject_fr: String,
    #[serde(default)]
    body_fr: String,
    #[serde(default)]
    subject_en: String,
    #[serde(default)]
    body_en: String,
    #[serde(default)]
    enabled: Option<String>,
    #[serde(default)]
    action: String,
    #[serde(skip)]
    refusal: FieldRefusal,
}

/// A form's element ids' part: the row's id, or `new` for the form that adds one.
fn form_key(id: &str) -> &str {
    if id.is_empty() {
        "new"
    } else {
        id
    }
}

impl StepForm {
    fn key(&self) -> &str {
        form_key(&self.id)
    }
}

impl RuleForm {
    fn key(&self) -> &str {
        form_key(&self.id)
    }
}

/// Who a rule would mail now, and the subject each would read.
pub struct Preview {
    rule_id: String,
    mails: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "admin_onboarding.html")]
struct OnboardingPage {
    c: Chrome,
    welcome: WelcomeForm,
    welcome_refusal: FieldRefusal,
    steps: Vec<StepForm>,
    new_step: StepForm,
    rules: Vec<RuleForm>,
    new_rule: RuleForm,
    preview: Option<Preview>,
    kinds: Vec<Choice>,
    triggers: Vec<Choice>,
    stops: Vec<Choice>,
    variables: &'static str,
}

impl OnboardingPage {
    /// The steps' forms, then the new step's.
    fn step_forms(&self) -> impl Iterator<Item = &StepForm> {
        self.steps.iter().chain(std::iter::once(&self.new_step))
    }

    fn rule_forms(&self) -> impl Iterator<Item = &RuleForm> {
        self.rules.iter().chain(std::iter::once(&self.new_rule))
    }
}

/// The form refused, as typed, to put back in its place on the page.
enum Typed {
    Nothing,
    Welcome(WelcomeForm, FieldRefusal),
    Step(StepForm),
    Rule(RuleForm),
}

#[derive(Deserialize)]
pub struct PageQuery {
    /// A rule to dry-run.
    preview: Option<i64>,
}

fn step_form(s: Step) -> StepForm {
    StepForm {
        id: s.id.to_string(),
        kind: s.kind,
        target: s.target.to_string(),
        points: s.points.to_string(),
        position: s.position.to_string(),
        ..StepForm::default()
    }
}

fn rule_form(r: Rule) -> RuleForm {
    RuleForm {
        id: r.id.to_string(),
        trigger: r.trigger,
        delay_days: r.delay_days.to_string(),
        stop_condition: r.stop_condition,
        subject_fr: r.subject_fr,
        body_fr: r.body_fr,
        subject_en: r.subject_en,
        body_en: r.body_en,
        enabled: r.enabled.then(|| "on".to_owned()),
        ..RuleForm::default()
    }
}

fn choices<T: Copy>(
    all: &[T],
    value: fn(T) -> &'static str,
    t: Words,
    prefix: &str,
) -> Vec<Choice> {
    all.iter()
        .map(|&item| {
            let value = value(item);
            Choice {
                value,
                label: t.t(&format!("{prefix}-{}", value.replace('_', "-"))),
            }
        })
        .collect()
}

/// The signed-in community manager (or admin), or the answer to give instead.
fn manager(v: &Visitor) -> Result<&Session, Box<Response>> {
    if let Err(to_sign_in) = signed_in(v, HERE) {
        return Err(Box::new(to_sign_in.into_response()));
    }
    match v.session.as_ref() {
        Some(s) if s.account.role.allows(Permission::ManageOnboarding) => Ok(s),
        _ => Err(Box::new(
            PageError::from_core(CoreError::Forbidden(Permission::ManageOnboarding), v)
                .into_response(),
        )),
    }
}

async fn onboarding_page(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    typed: Typed,
    preview: Option<i64>,
) -> Response {
    let session = match manager(v) {
        Ok(session) => session,
        Err(refused) => return *refused,
    };
    let ctx = &state.ctx;
    let read = ctx
        .transaction(|conn| {
            async move {
                let welcome = welcome::welcome(conn).await?;
                let steps = journey::list_steps(conn, session).await?;
                let rules = triggered_mail::list_rules(conn, session).await?;
                let planned = match preview {
                    Some(id) => {
                        let now = chrono::Utc::now();
                        match triggered_mail::dry_run(conn, ctx, session, id, now).await {
                            Ok(mails) => Some((id, mails)),
                            // A rule deleted meanwhile (an old link): the page without it.
                            Err(CoreError::NotFound(_)) => None,
                            Err(e) => return Err(e),
                        }
                    }
                    None => None,
                };
                Ok::<_, CoreError>((welcome, steps, rules, planned))
            }
            .scope_boxed()
        })
        .await;
    let (current, steps, rules, planned) = match read {
        Ok(read) => read,
        Err(e) => return PageError::from_core(e, v).into_response(),
    };
    let t = v.words;
    let mut page_data = OnboardingPage {
        c: Chrome::of(v, HERE),
        welcome: WelcomeForm {
            message_fr: current.message_fr,
            message_en: current.message_en,
            manager: current.manager.map(|m| m.username).unwrap_or_default(),
            group: current.group.unwrap_or_default(),
            post_in_group: current.post_in_group.then(|| "on".to_owned()),
            ..WelcomeForm::default()
        },
        welcome_refusal: FieldRefusal::default(),
        steps: steps.into_iter().map(step_form).collect(),
        new_step: StepForm {
            target: "1".into(),
            points: "5".into(),
            ..StepForm::default()
        },
        rules: rules.into_iter().map(rule_form).collect(),
        new_rule: RuleForm {
            delay_days: "3".into(),
            ..RuleForm::default()
        },
        preview: planned.map(|(id, mails)| Preview {
            rule_id: id.to_string(),
            mails: mails
                .into_iter()
                .map(|m| (m.username, m.content.subject))
                .collect(),
        }),
        kinds: choices(&StepKind::ALL, StepKind::as_str, t, "step"),
        triggers: choices(&RuleTrigger::ALL, RuleTrigger::as_str, t, "trigger"),
        stops: choices(&StopCondition::ALL, StopCondition::as_str, t, "stop"),
        variables: VARIABLES,
    };
    // The refused form takes the place of the one it was (or of the new one's).
    match typed {
        Typed::Nothing => {}
        Typed::Welcome(form, refusal) => {
            page_data.welcome = form;
            page_data.welcome_refusal = refusal;
        }
        // A row deleted meanwhile comes back as a new one (its refusal says it is gone).
        Typed::Step(form) => match page_data.steps.iter_mut().find(|s| s.id == form.id) {
            Some(slot) => *slot = form,
            None => {
                page_data.new_step = StepForm {
                    id: String::new(),
                    ..form
                }
            }
        },
        Typed::Rule(form) => match page_data.rules.iter_mut().find(|r| r.id == form.id) {
            Some(slot) => *slot = form,
            None => {
                page_data.new_rule = RuleForm {
                    id: String::new(),
                    ..form
                }
            }
        },
    }
    for step in &mut page_data.steps {
        step.label = t.t(&format!("step-{}", step.kind.replace('_', "-")));
    }
    page(v, status, &page_data)
}

pub async fn show(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<PageQuery>,
) -> Response {
    onboarding_page(&state, &v, StatusCode::OK, Typed::Nothing, q.preview).await
}

/// The signed-in manager of a form whose CSRF token matches, or the answer to give instead.
fn acting_manager<'v>(v: &'v Visitor, csrf: &str) -> Result<&'v Session, Box<Response>> {
    if let Err(refused) = super::acting(v, HERE, csrf) {
        return Err(Box::new(refused.into_response()));
    }
    manager(v)
}

/// A number typed in `field`, or the refusal naming it.
fn number<N: std::str::FromStr>(text: &str, field: &'static str) -> Result<N, CoreError> {
    text.trim().parse().map_err(|_| {
        CoreError::Validation(ValidationError {
            field,
            code: "invalid",
        })
    })
}

/// What a row's form asks: the steps and the triggered e-mails share one shape (a hidden id,
/// empty to add a row; a "delete" button beside "save").
enum RowEdit<I> {
    Create(I),
    Update(i64, I),
    Delete(i64),
}

impl<I> RowEdit<I> {
    /// Reads the form's id and action; the input is read only when the row is kept, so that a
    /// half-typed row can still be deleted. A broken hidden id is the whole form's refusal (no
    /// field of the form shows it).
    fn of(
        id: &str,
        action: &str,
        input: impl FnOnce() -> Result<I, CoreError>,
    ) -> Result<Self, CoreError> {
        let id = match id.trim() {
            "" => None,
            id => Some(number(id, "")?),
        };
        Ok(match (id, action) {
            (Some(id), "delete") => RowEdit::Delete(id),
            (Some(id), _) => RowEdit::Update(id, input()?),
            (None, _) => RowEdit::Create(input()?),
        })
    }
}

/// After a form: back to the page (at `anchor`), or the page with the form as typed and the
/// refusal under its field.
async fn answer(
    state: &AppState,
    v: &Visitor,
    result: Result<(), CoreError>,
    anchor: &str,
    typed: impl FnOnce(FieldRefusal) -> Typed,
) -> Response {
    match result {
        Ok(()) => see_other(&format!("{HERE}#{anchor}"), vec![]),
        Err(e) => match field_refusal(e, v) {
            Ok(refusal) => {
                let status = refusal.status;
                onboarding_page(state, v, status, typed(refusal), None).await
            }
            Err(page) => *page,
        },
    }
}

pub async fn save_welcome(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<WelcomeForm>,
) -> Response {
    let session = match acting_manager(&v, &form.csrf) {
        Ok(session) => session,
        Err(refused) => return *refused,
    };
    let input = WelcomeInput {
        message_fr: form.message_fr.clone(),
        message_en: form.message_en.clone(),
        manager: Some(form.manager.clone()),
        group: Some(form.group.clone()),
        post_in_group: form.post_in_group.is_some(),
    };
    let saved = state
        .ctx
        .transaction(|conn| {
            let input = &input;
            async move { welcome::set_welcome(conn, session, input).await.map(drop) }.scope_boxed()
        })
        .await;
    answer(&state, &v, saved, "welcome-title", |refusal| {
        Typed::Welcome(form, refusal)
    })
    .await
}

/// Adds a step (no id), saves one, or deletes one.
pub async fn save_step(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<StepForm>,
) -> Response {
    let session = match acting_manager(&v, &form.csrf) {
        Ok(session) => session,
        Err(refused) => return *refused,
    };
    let edit = RowEdit::of(&form.id, &form.action, || {
        Ok(StepInput {
            kind: form.kind.clone(),
            target: number(&form.target, "target")?,
            points: number(&form.points, "points")?,
            position: match form.position.trim() {
                "" => 0,
                p => number(p, "position")?,
            },
        })
    });
    let done = state
        .ctx
        .transaction(|conn| {
            async move {
                match edit? {
                    RowEdit::Delete(id) => journey::delete_step(conn, session, id).await,
                    RowEdit::Update(id, input) => journey::update_step(conn, session, id, &input)
                        .await
                        .map(drop),
                    RowEdit::Create(input) => {
                        journey::create_step(conn, session, &input).await.map(drop)
                    }
                }
            }
            .scope_boxed()
        })
        .await;
    answer(&state, &v, done, "steps-title", |refusal| {
        Typed::Step(StepForm { refusal, ..form })
    })
    .await
}

/// Adds a triggered e-mail (no id), saves one, or deletes one.
pub async fn save_rule(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<RuleForm>,
) -> Response {
    let session = match acting_manager(&v, &form.csrf) {
        Ok(session) => session,
        Err(refused) => return *refused,
    };
    let edit = RowEdit::of(&form.id, &form.action, || {
        Ok(RuleInput {
            trigger: form.trigger.clone(),
            delay_days: number(&form.delay_days, "delay_days")?,
            stop_condition: form.stop_condition.clone(),
            subject_fr: form.subject_fr.clone(),
            body_fr: form.body_fr.clone(),
            subject_en: form.subject_en.clone(),
            body_en: form.body_en.clone(),
            enabled: form.enabled.is_some(),
        })
    });
    let done = state
        .ctx
        .transaction(|conn| {
            async move {
                match edit? {
                    RowEdit::Delete(id) => triggered_mail::delete_rule(conn, session, id).await,
                    RowEdit::Update(id, input) => {
                        triggered_mail::update_rule(conn, session, id, &input)
                            .await
                            .map(drop)
                    }
                    RowEdit::Create(input) => triggered_mail::create_rule(conn, session, &input)
                        .await
                        .map(drop),
                }
            }
            .scope_boxed()
        })
        .await;
    answer(&state, &v, done, "rules-title", |refusal| {
        Typed::Rule(RuleForm { refusal, ..form })
    })
    .await
}
