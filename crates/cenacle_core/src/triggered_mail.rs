//! Triggered e-mails of the onboarding journey: rules community managers edit ("no
//! contribution 3 days after sign-up", "first answer accepted", "inactive for 30 days"), each
//! with a delay, a stop condition and FR/EN templates; the periodic run that mails each member
//! once per rule; and the dry run that lists who would receive what, through the very query
//! the run uses.

use crate::{
    accounts::Session,
    caller::require,
    mail::{enqueue_mail_about, link_base, MailTopic},
    Conn, Context, CoreError,
};
use cenacle_db::onboarding::{self as store, RuleRecipient, RuleRow, RuleValues};
use cenacle_domain::{
    mail::MailContent,
    onboarding::{validate_template, RuleTrigger, StopCondition, MAX_DELAY_DAYS},
    Language, Permission, ValidationError,
};
use chrono::{DateTime, Utc};

pub use cenacle_db::onboarding::RuleRow as Rule;

/// A rule as a community manager writes it.
#[derive(Debug, Clone)]
pub struct RuleInput {
    pub trigger: String,
    pub delay_days: i32,
    pub stop_condition: String,
    pub subject_fr: String,
    pub body_fr: String,
    pub subject_en: String,
    pub body_en: String,
    pub enabled: bool,
}

/// Checks a rule before it is saved: known trigger and stop condition, a sane delay, and
/// templates that are not empty and use only the known variables (the unknown one is named).
fn check(input: &RuleInput) -> Result<RuleValues<'_>, CoreError> {
    let invalid = |field, code| CoreError::Validation(ValidationError { field, code });
    let trigger =
        RuleTrigger::parse(&input.trigger).ok_or(invalid("trigger", "unknown_trigger"))?;
    let stop = StopCondition::parse(&input.stop_condition)
        .ok_or(invalid("stop_condition", "unknown_stop_condition"))?;
    if !(0..=MAX_DELAY_DAYS).contains(&input.delay_days) {
        return Err(invalid("delay_days", "out_of_range"));
    }
    for (field, text) in [
        ("subject_fr", &input.subject_fr),
        ("body_fr", &input.body_fr),
        ("subject_en", &input.subject_en),
        ("body_en", &input.body_en),
    ] {
        if text.trim().is_empty() {
            return Err(invalid(field, "empty"));
        }
        validate_template(text).map_err(|error| CoreError::Template { field, error })?;
    }
    Ok(RuleValues {
        trigger: trigger.as_str(),
        delay_days: input.delay_days,
        stop_condition: stop.as_str(),
        subject_fr: input.subject_fr.trim(),
        body_fr: input.body_fr.trim(),
        subject_en: input.subject_en.trim(),
        body_en: input.body_en.trim(),
        enabled: input.enabled,
    })
}

pub async fn list_rules(conn: &mut Conn, session: &Session) -> Result<Vec<Rule>, CoreError> {
    require(session, Permission::ManageOnboarding)?;
    Ok(store::rules(conn).await?)
}

pub async fn create_rule(
    conn: &mut Conn,
    session: &Session,
    input: &RuleInput,
) -> Result<Rule, CoreError> {
    require(session, Permission::ManageOnboarding)?;
    let values = check(input)?;
    Ok(store::insert_rule(conn, &values).await?)
}

pub async fn update_rule(
    conn: &mut Conn,
    session: &Session,
    id: i64,
    input: &RuleInput,
) -> Result<Rule, CoreError> {
    require(session, Permission::ManageOnboarding)?;
    let values = check(input)?;
    store::update_rule(conn, id, &values)
        .await?
        .ok_or(CoreError::NotFound("onboarding_rule"))
}

pub async fn delete_rule(conn: &mut Conn, session: &Session, id: i64) -> Result<(), CoreError> {
    require(session, Permission::ManageOnboarding)?;
    if store::delete_rule(conn, id).await? {
        Ok(())
    } else {
        Err(CoreError::NotFound("onboarding_rule"))
    }
}

/// A mail a rule sends (or, in a dry run, would send) to one member.
#[derive(Debug, Clone)]
pub struct PlannedMail {
    pub person_id: i64,
    pub username: String,
    pub language: Language,
    pub content: MailContent,
}

/// Who rule `id` would mail at `now`, and what: the run's own query, nothing queued. The rule
/// need not be enabled (a manager previews before enabling).
pub async fn dry_run(
    conn: &mut Conn,
    ctx: &Context,
    session: &Session,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<PlannedMail>, CoreError> {
    require(session, Permission::ManageOnboarding)?;
    let rule = store::rule(conn, id)
        .await?
        .ok_or(CoreError::NotFound("onboarding_rule"))?;
    planned(conn, ctx, &rule, now).await
}

async fn planned(
    conn: &mut Conn,
    ctx: &Context,
    rule: &RuleRow,
    now: DateTime<Utc>,
) -> Result<Vec<PlannedMail>, CoreError> {
    // Mail off: nobody would receive anything (and nobody is marked as reached).
    if !ctx.settings.email.enabled {
        return Ok(vec![]);
    }
    Ok(store::rule_recipients(conn, rule.id, now)
        .await?
        .into_iter()
        .map(|r| {
            let language = Language::parse(&r.language).unwrap_or_default();
            PlannedMail {
                content: render(ctx, rule, &r, language, now),
                person_id: r.person_id,
                username: r.username,
                language,
            }
        })
        .collect())
}

fn render(
    ctx: &Context,
    rule: &RuleRow,
    recipient: &RuleRecipient,
    language: Language,
    now: DateTime<Utc>,
) -> MailContent {
    use cenacle_domain::onboarding::render_template;
    let name = recipient
        .display_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| recipient.username.clone());
    let days = (now - recipient.since).num_days().max(0).to_string();
    let link = format!("{}/", link_base(ctx));
    let instance = &ctx.settings.server.instance_name;
    let values = [
        ("name", name.as_str()),
        ("instance", instance.as_str()),
        ("days", days.as_str()),
        ("link", link.as_str()),
    ];
    let (subject, body) = match language {
        Language::Fr => (&rule.subject_fr, &rule.body_fr),
        Language::En => (&rule.subject_en, &rule.body_en),
    };
    let body = render_template(body, &values);
    let paragraphs: Vec<String> = body
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let (greeting, action, footer) = match language {
        Language::Fr => (
            format!("Bonjour {name},"),
            "Ouvrir",
            format!("{instance} — votre parcours de bienvenue."),
        ),
        Language::En => (
            format!("Hello {name},"),
            "Open",
            format!("{instance} — your welcome journey."),
        ),
    };
    MailContent::compose(
        render_template(subject, &values),
        &greeting,
        &paragraphs,
        Some((action, &link)),
        &footer,
    )
}

/// Evaluates every enabled rule at `now` (the caller's clock: tests inject theirs) and queues
/// each mail due, once per member per rule: the `onboarding_rule_sent` row written here makes
/// a second run (or a concurrent worker) skip them. Returns how many members were reached.
pub async fn run_rules(
    conn: &mut Conn,
    ctx: &Context,
    now: DateTime<Utc>,
) -> Result<usize, CoreError> {
    let mut reached = 0;
    for id in store::enabled_rule_ids(conn).await? {
        let Some(rule) = store::rule(conn, id).await? else {
            continue;
        };
        for mail in planned(conn, ctx, &rule, now).await? {
            if !store::mark_rule_sent(conn, rule.id, mail.person_id, now).await? {
                continue;
            }
            let content = mail.content;
            // Its rule named: an admin's retry of it parked asks whether the rule is still
            // enabled and whether its stop condition spares the member now.
            let topic = MailTopic::OnboardingRule(rule.id);
            enqueue_mail_about(conn, ctx, mail.person_id, topic, |_| content).await?;
            reached += 1;
        }
    }
    Ok(reached)
}
